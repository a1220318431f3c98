#include "cluster/cluster_run_dialog.hpp"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

#include "cluster/cluster_job.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/sweep_plan.hpp"
#include "nmscope/sweep_spec.hpp"

namespace nmscope::gui {

namespace {

constexpr int kDefaultPollMs = 5000;

// The nmscope-cli that the jobs run: installed beside nmscope, or in the build tree's app/cli, or on PATH.
QString find_cli() {
  const QDir here(QCoreApplication::applicationDirPath());
  for (const QString& candidate : {here.filePath("nmscope-cli"), here.filePath("../cli/nmscope-cli")})
    if (QFileInfo(candidate).isExecutable()) return QFileInfo(candidate).canonicalFilePath();
  return QStandardPaths::findExecutable("nmscope-cli");
}

QWidget* row_of(std::initializer_list<QWidget*> widgets, QWidget* parent) {
  auto* row = new QWidget(parent);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  for (QWidget* widget : widgets) layout->addWidget(widget, widget == *widgets.begin() ? 1 : 0);
  return row;
}

}  // namespace

ClusterRunDialog::ClusterRunDialog(const QString& spec_json, const QString& database, QWidget* parent)
    : QDialog(parent),
      spec_json_(spec_json),
      database_(database),
      cli_path_(find_cli()),
      job_(new ClusterJob(this)),
      summary_(new QLabel(this)),
      shards_(new QSpinBox(this)),
      partition_(new QLineEdit(this)),
      gpus_(new QSpinBox(this)),
      time_limit_(new QLineEdit(this)),
      directory_(new QLineEdit(this)),
      setup_(new QLineEdit(this)),
      auto_merge_(new QCheckBox("Merge into the open database when the merge job has ended", this)),
      table_(new QTableWidget(0, 5, this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      write_button_(new QPushButton("Write scripts", this)),
      submit_button_(new QPushButton("Submit", this)),
      merge_button_(new QPushButton("Merge now", this)),
      poll_(new QTimer(this)) {
  setWindowTitle("Run on cluster");
  setObjectName("ClusterRunDialog");
  write_button_->setObjectName("writeScripts");
  submit_button_->setObjectName("submit");
  merge_button_->setObjectName("mergeNow");

  // What the study is as a sweep: the plan is the same one every array task computes.
  int64_t points = 0;
  try {
    const SweepSpec spec = parse_sweep_spec(spec_json.toStdString(), "the study");
    const SweepPlan plan = plan_sweep(spec, list_sweep_tensors(spec));
    points = int64_t(plan.points.size());
    gpu_engines_ = std::any_of(plan.engines.begin(), plan.engines.end(),
                               [](const std::string& engine) { return is_engine_of(EngineFamily::Gpu, engine); });
    summary_->setText(QString("The current study as a sweep: %1 points (%2 tensors × configurations × engines × "
                              "batches) on %3.")
                          .arg(points)
                          .arg(plan.tensors.size())
                          .arg(QString::fromStdString(spec.engine_list())));
  } catch (const std::exception& error) {
    summary_->setText("The study cannot run as a sweep: " + QString::fromUtf8(error.what()));
  }
  summary_->setWordWrap(true);

  shards_->setRange(1, 100000);
  shards_->setValue(int(std::clamp<int64_t>(points / 8, 1, 64)));
  shards_->setToolTip("One Slurm array task per shard; shards are balanced by estimated cost");
  partition_->setPlaceholderText("the cluster's default partition");
  gpus_->setRange(0, 64);
  gpus_->setValue(gpu_engines_ ? 1 : 0);
  gpus_->setEnabled(gpu_engines_);
  gpus_->setToolTip(gpu_engines_ ? "--gres=gpu:G for each shard" : "The study has no GPU engine: no GPU is requested");
  time_limit_->setPlaceholderText("the partition's default (e.g. 02:00:00)");
  directory_->setText(QDir::current().filePath("nmscope-slurm"));
  directory_->setToolTip("On a filesystem every node sees: the scripts, shard databases and logs go here");
  setup_->setPlaceholderText("e.g. module load cuda/13.0");
  auto_merge_->setChecked(true);
  auto* browse = new QPushButton("…", this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString chosen = QFileDialog::getExistingDirectory(this, "Sweep directory (shared filesystem)", directory());
    if (!chosen.isEmpty()) directory_->setText(chosen);
  });
  connect(directory_, &QLineEdit::editingFinished, this, [this] {
    // A directory that already holds a submitted sweep is followed at once.
    if (QFileInfo::exists(directory() + "/slurm.json")) refresh();
  });

  table_->setHorizontalHeaderLabels({"shard", "job", "state", "rows", "database"});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setMinimumHeight(160);
  progress_->setFormat("%v of %m rows");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  status_->setWordWrap(true);
  status_->setText("Nothing written yet.");

  auto* form = new QFormLayout;
  form->addRow(summary_);
  form->addRow("Shards", shards_);
  form->addRow("Partition", partition_);
  form->addRow("GPUs per shard", gpus_);
  form->addRow("Time limit", time_limit_);
  form->addRow("Directory", row_of({directory_, browse}, this));
  form->addRow("Setup line", setup_);
  form->addRow(auto_merge_);

  auto* buttons = new QDialogButtonBox(this);
  buttons->addButton(write_button_, QDialogButtonBox::ActionRole);
  buttons->addButton(submit_button_, QDialogButtonBox::ActionRole);
  buttons->addButton(merge_button_, QDialogButtonBox::ActionRole);
  buttons->addButton(QDialogButtonBox::Close);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(write_button_, &QPushButton::clicked, this, &ClusterRunDialog::write_scripts);
  connect(submit_button_, &QPushButton::clicked, this, &ClusterRunDialog::submit);
  connect(merge_button_, &QPushButton::clicked, this, &ClusterRunDialog::merge_now);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(table_, 1);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(buttons);

  poll_->setInterval(kDefaultPollMs);
  connect(poll_, &QTimer::timeout, this, [this] {
    if (!job_->busy()) refresh();
  });
  connect(job_, &ClusterJob::submitted, this, [this](const SlurmSweep& sweep, bool dry_run) {
    if (dry_run) {
      status_->setText(QString("Scripts written to %1 (shards.sbatch, merge.sbatch); nothing submitted.")
                           .arg(QString::fromStdString(sweep.directory)));
    } else {
      const SlurmSubmission& submission = sweep.submissions.back();
      status_->setText(QString("Submitted: array job %1 (%2 shards), merge job %3.")
                           .arg(QString::fromStdString(submission.array_job_id))
                           .arg(sweep.shard_count)
                           .arg(QString::fromStdString(submission.merge_job_id)));
      following_ = true;
      poll_->start();
    }
    update_buttons();
    QTimer::singleShot(0, this, &ClusterRunDialog::refresh);
  });
  connect(job_, &ClusterJob::status_updated, this, &ClusterRunDialog::show_status);
  connect(job_, &ClusterJob::merged, this,
          [this](qint64 added, qint64 duplicates, qint64 conflicts, const QStringList& broken) {
            QString text = QString("Merged into %1: %2 added, %3 already there, %4 conflicts.")
                               .arg(database_)
                               .arg(added)
                               .arg(duplicates)
                               .arg(conflicts);
            if (!broken.isEmpty()) text += " Not merged (resubmit): " + broken.join("; ");
            status_->setText(text);
            update_buttons();
            emit merged(added, duplicates, conflicts);
          });
  connect(job_, &ClusterJob::failed, this, [this](const QString& message) {
    update_buttons();
    // A poll that fails (squeue briefly unreachable) is shown, not popped up every few seconds.
    if (poll_->isActive() && message.contains("squeue")) {
      status_->setText(message);
      return;
    }
    show_error(message);
  });
  resize(720, 620);
}

QString ClusterRunDialog::directory() const { return directory_->text().trimmed(); }

QString ClusterRunDialog::status_text() const { return status_->text(); }

void ClusterRunDialog::set_shards(int shards) { shards_->setValue(shards); }
void ClusterRunDialog::set_partition(const QString& partition) { partition_->setText(partition); }
void ClusterRunDialog::set_gpus_per_shard(int gpus) { gpus_->setValue(gpus); }
void ClusterRunDialog::set_time_limit(const QString& time_limit) { time_limit_->setText(time_limit); }
void ClusterRunDialog::set_directory(const QString& directory) { directory_->setText(directory); }
void ClusterRunDialog::set_setup(const QString& setup_line) { setup_->setText(setup_line); }
void ClusterRunDialog::set_cli_path(const QString& path) { cli_path_ = path; }
void ClusterRunDialog::set_poll_interval_ms(int milliseconds) { poll_->setInterval(milliseconds); }

void ClusterRunDialog::show_error(const QString& message) {
  if (error_dialog_) error_dialog_->close();
  error_dialog_ = new QMessageBox(QMessageBox::Warning, "Run on cluster", message, QMessageBox::Ok, this);
  error_dialog_->setAttribute(Qt::WA_DeleteOnClose);
  error_dialog_->open();
}

void ClusterRunDialog::update_buttons() {
  const bool idle = !job_->busy();
  write_button_->setEnabled(idle && !following_);
  submit_button_->setEnabled(idle && !following_);
  merge_button_->setEnabled(idle);
}

bool ClusterRunDialog::write_scripts() { return start_submission(true); }
bool ClusterRunDialog::submit() { return start_submission(false); }

bool ClusterRunDialog::start_submission(bool dry_run) {
  if (job_->busy()) return false;
  if (directory().isEmpty()) {
    show_error("Directory: choose a directory on the shared filesystem for the scripts and shard databases");
    return false;
  }
  if (cli_path_.isEmpty()) {
    show_error("nmscope-cli: not found beside nmscope or on PATH; the jobs need it");
    return false;
  }
  SlurmSubmitOptions options;
  options.shards = shards_->value();
  options.partition = partition_->text().trimmed().toStdString();
  options.gpus_per_shard = gpu_engines_ ? gpus_->value() : 0;
  options.time_limit = time_limit_->text().trimmed().toStdString();
  options.directory = directory().toStdString();
  options.cli_path = cli_path_.toStdString();
  if (!setup_->text().trimmed().isEmpty()) options.setup = {setup_->text().trimmed().toStdString()};
  options.dry_run = dry_run;
  if (!job_->submit(options, spec_json_)) return false;
  status_->setText(dry_run ? "Writing the scripts…" : "Submitting…");
  update_buttons();
  return true;
}

bool ClusterRunDialog::merge_now() {
  if (job_->busy()) return false;
  if (directory().isEmpty()) {
    show_error("Directory: choose the sweep's directory first");
    return false;
  }
  if (!job_->merge(directory(), database_)) return false;
  status_->setText("Merging the shard databases into " + database_ + "…");
  update_buttons();
  return true;
}

void ClusterRunDialog::refresh() {
  if (directory().isEmpty() || !QFileInfo::exists(directory() + "/slurm.json")) return;
  if (job_->refresh(directory())) update_buttons();
}

void ClusterRunDialog::show_status(const SlurmSweep& sweep, const SlurmSweepStatus& status) {
  table_->setRowCount(int(status.shards.size()));
  for (const SlurmShardStatus& shard : status.shards) {
    const QStringList cells = {QString::number(shard.shard), QString::fromStdString(shard.job),
                               QString::fromStdString(shard.state),
                               QString("%1 / %2").arg(shard.database.present).arg(shard.database.planned),
                               QString::fromStdString(shard.database.describe())};
    for (int column = 0; column < cells.size(); ++column)
      table_->setItem(shard.shard, column, new QTableWidgetItem(cells[column]));
  }
  table_->resizeColumnsToContents();
  progress_->setRange(0, int(std::max<int64_t>(1, status.planned())));
  progress_->setValue(int(status.present()));
  const std::vector<int> missing = status.missing_shards();
  QString text;
  if (!status.merge_job.empty())
    text = QString("Merge job %1: %2. ")
               .arg(QString::fromStdString(status.merge_job), QString::fromStdString(status.merge_state));
  if (!missing.empty() && status.merge_ended())
    text += QString("Shards %1 miss rows: nmscope-cli slurm resubmit --dir %2")
                .arg(QString::fromStdString(slurm_array_range(missing)), QString::fromStdString(sweep.directory));
  for (const std::string& note : status.notes) text += "\n" + QString::fromStdString(note);
  if (!text.isEmpty()) status_->setText(text.trimmed());
  update_buttons();
  emit status_shown();

  // The merge job has ended: its shards are all done (or given up); bring the results home once.
  if (status.merge_ended()) {
    poll_->stop();
    following_ = false;
    update_buttons();
    const QString merge_job = QString::fromStdString(status.merge_job);
    if (auto_merge_->isChecked() && merge_job != merged_after_job_) {
      merged_after_job_ = merge_job;
      merge_now();
    }
  } else if (!status.merge_job.empty() && !poll_->isActive()) {
    following_ = true;
    poll_->start();
    update_buttons();
  }
}

}  // namespace nmscope::gui
