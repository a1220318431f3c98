#pragma once
// Study > Run on cluster…: the current study (the Study pane and the selected tensors) as a sweep, cut into shards
// and run as a Slurm job array with a merge job after it. The user picks shards, partition, GPUs, time limit and
// the directory on the shared filesystem; "Write scripts" only writes the sbatch scripts, "Submit" sends them. The
// dialog then follows the shards (squeue / sacct and the shard databases, every few seconds) and merges the results
// into the open database when the merge job has ended, or at once with "Merge now". The Slurm work is core's
// (slurm_sweep.hpp, slurm_status.hpp), run by ClusterJob off the GUI thread.
#include <QDialog>
#include <QPointer>
#include <QString>

#include "nmscope/slurm_status.hpp"

class QCheckBox;
class QLabel;
class QLineEdit;
class QMessageBox;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace nmscope::gui {

class ClusterJob;

class ClusterRunDialog final : public QDialog {
  Q_OBJECT

 public:
  // `spec_json`: the study as sweep.json (sweep_spec_json); `database`: the open results database, where the
  // results are merged.
  ClusterRunDialog(const QString& spec_json, const QString& database, QWidget* parent = nullptr);

  // The buttons, callable directly (tests, automation). False when refused: an error dialog says why.
  bool write_scripts();
  bool submit();
  bool merge_now();
  // Asks for the status now (it is also asked every poll interval once a sweep is submitted).
  void refresh();

  void set_shards(int shards);
  void set_partition(const QString& partition);
  void set_gpus_per_shard(int gpus);
  void set_time_limit(const QString& time_limit);
  void set_directory(const QString& directory);
  void set_setup(const QString& setup_line);
  // The nmscope-cli the jobs run (default: the one beside this executable, or on PATH).
  void set_cli_path(const QString& path);
  void set_poll_interval_ms(int milliseconds);

  QString spec_json() const { return spec_json_; }
  QTableWidget* shard_table() const { return table_; }
  QString status_text() const;
  // The error dialog currently shown, or null.
  QMessageBox* error_dialog() const { return error_dialog_; }
  ClusterJob* job() const { return job_; }

 signals:
  // A status answer has been shown in the table.
  void status_shown();
  // Results were merged into the open database (the window reloads its results).
  void merged(qint64 added, qint64 duplicates, qint64 conflicts);

 private:
  bool start_submission(bool dry_run);
  void show_status(const SlurmSweep& sweep, const SlurmSweepStatus& status);
  void show_error(const QString& message);
  void update_buttons();
  QString directory() const;

  QString spec_json_;
  QString database_;
  QString cli_path_;
  ClusterJob* job_;
  QLabel* summary_;
  QSpinBox* shards_;
  QLineEdit* partition_;
  QSpinBox* gpus_;
  QLineEdit* time_limit_;
  QLineEdit* directory_;
  QLineEdit* setup_;
  QCheckBox* auto_merge_;
  QTableWidget* table_;
  QProgressBar* progress_;
  QLabel* status_;
  QPushButton* write_button_;
  QPushButton* submit_button_;
  QPushButton* merge_button_;
  QTimer* poll_;
  QPointer<QMessageBox> error_dialog_;
  bool gpu_engines_ = false;
  bool following_ = false;    // a submitted sweep is being polled
  QString merged_after_job_;  // the merge job whose end has been merged already
};

}  // namespace nmscope::gui
