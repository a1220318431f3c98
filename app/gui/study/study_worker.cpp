// TBB first: Qt's `emit` keyword macro would rewrite a TBB member of that name.
#include <tbb/task_arena.h>
#include <tbb/task_scheduler_observer.h>

#include "study/study_worker.hpp"

#include <QtConcurrent/QtConcurrentRun>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"

namespace nmscope::gui {

namespace {

// Study threads run at a lower priority than the GUI thread, so on a machine with few cores the event loop is
// scheduled first and never stalls while every core measures. Linux applies nice values per thread.
void lower_this_thread_priority() {
  constexpr int kStudyNice = 10;
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kStudyNice);
}

class LowPriorityWorkers final : public tbb::task_scheduler_observer {
 public:
  LowPriorityWorkers() { observe(true); }
  ~LowPriorityWorkers() override { observe(false); }
  void on_scheduler_entry(bool) override { lower_this_thread_priority(); }
};

}  // namespace

StudyWorker::StudyWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<nmscope::Measurement>();
  qRegisterMetaType<nmscope::ModelEvaluationRecord>();
  // The end is announced from the GUI thread, after the study thread is done, so a slot may start the next study.
  connect(&watcher_, &QFutureWatcher<void>::finished, this, [this] {
    running_ = false;
    if (!failure_.isEmpty()) emit failed(failure_);
    emit finished(summary_.cancelled, summary_.measurements, summary_.skipped);
  });
}

StudyWorker::~StudyWorker() {
  cancel();
  watcher_.waitForFinished();
}

template <typename Body>
bool StudyWorker::launch(Body body) {
  if (running_) return false;
  running_ = true;
  cancel_ = false;
  summary_ = {};
  failure_.clear();
  clock_.start();
  // Signals emitted from the study thread reach receivers in the GUI thread as queued calls.
  watcher_.setFuture(QtConcurrent::run([this, body] {
    lower_this_thread_priority();
    static LowPriorityWorkers low_priority_workers;
    try {
      body();
    } catch (const Cancelled&) {
      summary_.cancelled = true;
    } catch (const std::exception& error) {
      failure_ = QString::fromUtf8(error.what());
    }
  }));
  return true;
}

bool StudyWorker::start(const StudySpec& spec, std::shared_ptr<ResultsStore> store) {
  return launch([this, spec, store] {
    StudyObserver observer;
    observer.measured = [this](const Measurement& row) { emit measured(row); };
    observer.skipped = [this](const Error& error) { emit skipped(QString::fromStdString(error.what())); };
    observer.progress = [this](const StudyProgress& step) {
      const double elapsed = clock_.elapsed() / 1000.0;
      const double eta = step.done > 0 ? elapsed / double(step.done) * double(step.total - step.done) : -1.0;
      emit progress(step.done, step.total, QString::fromStdString(step.current), eta);
    };
    summary_ = run_study(spec, store.get(), observer, &cancel_);
  });
}

bool StudyWorker::start_model_study(const ModelStudySpec& spec, std::shared_ptr<ResultsStore> store) {
  return launch([this, spec, store] {
    // The dense fp16 point, then every (pattern, bits, criterion, quantizer): as run_model_study orders them.
    const qint64 total = 1 + qint64(spec.patterns.size() * spec.bits.size() * spec.criteria.size() *
                                    spec.quantizers.size());
    qint64 done = 0;
    emit progress(0, total, QString("dense reference of %1").arg(QString::fromStdString(spec.model)), -1.0);
    run_model_study(
        spec, store.get(),
        [&](const ModelEvaluationRecord& record) {
          ++done;
          ++summary_.measurements;
          emit model_evaluated(record);
          const double elapsed = clock_.elapsed() / 1000.0;
          emit progress(done, total,
                        QString("%1 %2 %3")
                            .arg(QString::fromStdString(record.pattern.to_string()))
                            .arg(QString::fromStdString(record.quant.bits_name()))
                            .arg(QString::fromStdString(record.criterion)),
                        elapsed / double(done) * double(total - done));
        },
        &cancel_);
  });
}

bool StudyWorker::start_reproduction(ReproductionOptions options, std::shared_ptr<ResultsStore> store) {
  options.cancel = &cancel_;
  options.progress = [this](const std::string& line) { emit log_line(QString::fromStdString(line)); };
  return launch([this, options, store] {
    const Reproduction result = reproduce_hsieh2025(options, store.get());
    summary_.measurements = int64_t(result.cells.size());
    emit reproduced(QString::fromStdString(reproduction_table(result)),
                    QString::fromStdString(reproduction_markdown(result, "nmscope: Study > Reproduce hsieh2025")));
  });
}

void StudyWorker::cancel() { cancel_ = true; }

}  // namespace nmscope::gui
