#pragma once
// Runs one study at a time on a background thread through core's study runner (per-matrix studies) or core's model
// study (whole models, dense vs compressed). The GUI thread only starts it, observes its signals and may cancel it;
// the event loop never waits for it.
#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <atomic>
#include <memory>

#include "nmscope/measurement.hpp"
#include "nmscope/model_study.hpp"
#include "nmscope/reproduction.hpp"
#include "nmscope/study.hpp"

namespace nmscope {
class ResultsStore;
}

Q_DECLARE_METATYPE(nmscope::Measurement)
Q_DECLARE_METATYPE(nmscope::ModelEvaluationRecord)

namespace nmscope::gui {

class StudyWorker final : public QObject {
  Q_OBJECT

 public:
  explicit StudyWorker(QObject* parent = nullptr);
  ~StudyWorker() override;  // cancels and waits for a study still running

  // Starts the study; false when one is already running.
  bool start(const StudySpec& spec, std::shared_ptr<ResultsStore> store);
  // Starts a whole-model study (run_model_study): each configuration, with its per-layer rows, is stored in one
  // transaction and announced by model_evaluated() (the per-layer rows are in the database when finished() fires);
  // false when a study is already running.
  bool start_model_study(const ModelStudySpec& spec, std::shared_ptr<ResultsStore> store);
  // Starts `nmscope-cli reproduce hsieh2025`'s measurements (reproduction.hpp); reproduced() carries the result.
  bool start_reproduction(ReproductionOptions options, std::shared_ptr<ResultsStore> store);
  // Asks the study to stop at its next safe point (between measurements, or inside a timing loop).
  void cancel();
  bool is_running() const { return running_; }

 signals:
  // Fires before each job and at the end; eta_seconds < 0 while unknown.
  void progress(qint64 done, qint64 total, const QString& current, double eta_seconds);
  // Fires after each measurement has been stored.
  void measured(const nmscope::Measurement& measurement);
  // Fires after each configuration of a model study has been stored (its per-layer rows come through measured()).
  void model_evaluated(const nmscope::ModelEvaluationRecord& record);
  // A reproduction has measured every figure: the table as text and as Markdown.
  void reproduced(const QString& table, const QString& markdown);
  // One line of progress of a long step (a reproduction's decoder runs), for the log.
  void log_line(const QString& line);
  // Fires for each source, tensor or job that was skipped, with the one-line reason.
  void skipped(const QString& message);
  // Fires once when the study has ended (also when cancelled, or when it failed to start: see failed()).
  void finished(bool cancelled, qint64 measurements, qint64 skipped);
  // Fires when the spec or the activations file was refused; finished() follows.
  void failed(const QString& message);

 private:
  std::atomic<bool> cancel_{false};
  bool running_ = false;
  QFutureWatcher<void> watcher_;
  QElapsedTimer clock_;
  template <typename Body>
  bool launch(Body body);

  StudySummary summary_;  // written by the study thread, read after it finished
  QString failure_;
};

}  // namespace nmscope::gui
