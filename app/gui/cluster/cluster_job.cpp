#include "cluster/cluster_job.hpp"

#include <QFile>
#include <QtConcurrent/QtConcurrentRun>
#include <filesystem>

#include "nmscope/error.hpp"
#include "nmscope/merge.hpp"

namespace nmscope::gui {

ClusterJob::ClusterJob(QObject* parent) : QObject(parent) {
  qRegisterMetaType<nmscope::SlurmSweep>();
  qRegisterMetaType<nmscope::SlurmSweepStatus>();
  connect(&watcher_, &QFutureWatcher<std::function<void()>>::finished, this, [this] {
    const std::function<void()> deliver = watcher_.result();
    if (deliver) deliver();
  });
}

ClusterJob::~ClusterJob() { watcher_.waitForFinished(); }

bool ClusterJob::run(std::function<std::function<void()>()> work) {
  if (busy()) return false;
  watcher_.setFuture(QtConcurrent::run([this, work = std::move(work)]() -> std::function<void()> {
    try {
      return work();
    } catch (const std::exception& error) {
      const QString message = QString::fromUtf8(error.what());
      return [this, message] { emit failed(message); };
    }
  }));
  return true;
}

bool ClusterJob::submit(SlurmSubmitOptions options, const QString& spec_json) {
  if (!spec_dir_.isValid()) {
    emit failed("Run on cluster: cannot create a temporary directory for the sweep spec");
    return false;
  }
  // The spec goes to a file of our own first: submit copies it into the sweep directory only once it is accepted,
  // so a refused submission cannot overwrite the spec of a sweep already there.
  const QString spec_path = spec_dir_.filePath("sweep.json");
  QFile file(spec_path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(spec_json.toUtf8()) < 0) {
    emit failed(spec_path + ": cannot write the sweep spec");
    return false;
  }
  file.close();
  options.spec_path = spec_path.toStdString();
  return run([this, options] {
    const SlurmSweep sweep = submit_slurm_sweep(options).sweep;
    return std::function<void()>([this, sweep, dry = options.dry_run] { emit submitted(sweep, dry); });
  });
}

bool ClusterJob::refresh(const QString& directory) {
  return run([this, directory = directory.toStdString()] {
    const SlurmSweep sweep = read_slurm_sweep(directory);
    const SlurmSweepStatus status = slurm_sweep_status(sweep);
    return std::function<void()>([this, sweep, status] { emit status_updated(sweep, status); });
  });
}

bool ClusterJob::merge(const QString& directory, const QString& database) {
  return run([this, directory = directory.toStdString(), database = database.toStdString()] {
    const SlurmSweep sweep = read_slurm_sweep(directory);
    std::vector<std::string> shards;
    for (int shard = 0; shard < sweep.shard_count; ++shard)
      if (std::filesystem::exists(sweep.shard_database(shard))) shards.push_back(sweep.shard_database(shard));
    if (shards.empty()) throw Error(directory, "no shard database yet: nothing to merge");
    MergeOptions options;
    options.force = true;
    const MergeReport report = merge_databases(database, shards, options);
    QStringList broken;
    for (const auto& input : report.inputs)
      if (!input.broken.empty()) broken << QString::fromStdString(input.path + ": " + input.broken);
    const qint64 added = report.added(), duplicates = report.duplicates(), conflicts = report.all_conflicts();
    return std::function<void()>(
        [this, added, duplicates, conflicts, broken] { emit merged(added, duplicates, conflicts, broken); });
  });
}

}  // namespace nmscope::gui
