#pragma once
// The Slurm side of Study > Run on cluster…: core's slurm_sweep / slurm_status / merge calls (sbatch, squeue,
// sacct and SQLite work that can take seconds) run one at a time on a background thread; the GUI thread starts
// them and observes the signals, so the event loop never waits on the cluster.
#include <QFutureWatcher>
#include <QObject>
#include <QStringList>
#include <QTemporaryDir>
#include <functional>

#include "nmscope/slurm_status.hpp"
#include "nmscope/slurm_sweep.hpp"

Q_DECLARE_METATYPE(nmscope::SlurmSweep)
Q_DECLARE_METATYPE(nmscope::SlurmSweepStatus)

namespace nmscope::gui {

class ClusterJob final : public QObject {
  Q_OBJECT

 public:
  explicit ClusterJob(QObject* parent = nullptr);
  ~ClusterJob() override;  // waits for the call in flight

  bool busy() const { return watcher_.isRunning(); }

  // Writes `spec_json` as the sweep's spec, then the scripts, and submits them unless options.dry_run. submitted()
  // or failed() follows. False (nothing started) while another call runs.
  bool submit(SlurmSubmitOptions options, const QString& spec_json);
  // Reads the state file of `directory` and asks Slurm where each shard stands; status_updated() or failed().
  bool refresh(const QString& directory);
  // Merges every shard database of `directory` into `database` (the open results database, which holds other
  // studies: the one-spec check is for shard sets, so it is not applied); merged() or failed().
  bool merge(const QString& directory, const QString& database);

 signals:
  // The scripts are written (and, unless a dry run, submitted: the ids are in the sweep's last submission).
  void submitted(const nmscope::SlurmSweep& sweep, bool dry_run);
  // A status query has answered.
  void status_updated(const nmscope::SlurmSweep& sweep, const nmscope::SlurmSweepStatus& status);
  // A merge into the open database has committed. `broken`: shard databases left out, one line each.
  void merged(qint64 added, qint64 duplicates, qint64 conflicts, const QStringList& broken);
  // A call was refused or failed: one line naming the thing and the reason.
  void failed(const QString& message);

 private:
  // Runs `work` in the background; what it returns is then run on the GUI thread (it emits the signals).
  bool run(std::function<std::function<void()>()> work);

  QFutureWatcher<std::function<void()>> watcher_;
  QTemporaryDir spec_dir_;
};

}  // namespace nmscope::gui
