// Submitting a sweep to Slurm and keeping its state file: the scripts come from slurm_script.cpp, the calls to
// sbatch from util/process.
#include "nmscope/slurm_sweep.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "nmscope/engine_family.hpp"
#include "nmscope/error.hpp"
#include "nmscope/sweep_plan.hpp"
#include "nmscope/sweep_progress.hpp"
#include "nmscope/sweep_spec.hpp"
#include "util/process.hpp"

namespace nmscope {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kStateFile = "slurm.json";
constexpr int kStateVersion = 1;

std::string now_utc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void write_text(const fs::path& path, const std::string& text, bool executable = false) {
  // Written beside the target and renamed: a reader (status, a task starting) never sees half a file.
  const fs::path partial = path.string() + ".partial-" + std::to_string(getpid());
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error(path.string(), "cannot write (disk full or no permission?)");
  }
  if (executable)
    fs::permissions(partial, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
  std::error_code error;
  fs::rename(partial, path, error);
  if (error) throw Error(path.string(), "cannot write: " + error.message());
}

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open " + what);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json to_json(const SlurmSubmission& submission) {
  return {{"shards", submission.shards},
          {"array_job_id", submission.array_job_id},
          {"merge_job_id", submission.merge_job_id},
          {"array_script", submission.array_script},
          {"merge_script", submission.merge_script},
          {"submitted_at", submission.submitted_at}};
}

json to_json(const SlurmSweep& sweep) {
  json submissions = json::array();
  for (const auto& submission : sweep.submissions) submissions.push_back(to_json(submission));
  return {{"version", kStateVersion},
          {"directory", sweep.directory},
          {"spec", sweep.spec_path},
          {"spec_hash", sweep.spec_hash},
          {"shards", sweep.shard_count},
          {"points", sweep.points},
          {"gpu_engines", sweep.gpu_engines},
          {"partition", sweep.partition},
          {"gpus_per_shard", sweep.gpus_per_shard},
          {"time", sweep.time_limit},
          {"cli", sweep.cli_path},
          {"working_directory", sweep.working_directory},
          {"setup", sweep.setup},
          {"submissions", submissions}};
}

void save(const SlurmSweep& sweep) { write_text(sweep.state_path(), to_json(sweep).dump(2) + "\n"); }

void check_time_limit(const std::string& time_limit) {
  // sbatch's forms: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]].
  static const std::regex form(R"(^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+(:\d{1,2}(:\d{1,2})?)?)$)");
  if (!time_limit.empty() && !std::regex_match(time_limit, form))
    throw SettingError(Setting::TimeLimit,
                       "'" + time_limit + "' is not a Slurm time limit (MM, HH:MM:SS or D-HH:MM:SS)");
}

void check_partition(const std::string& partition) {
  static const std::regex name(R"(^[A-Za-z0-9_.,-]+$)");
  if (!partition.empty() && !std::regex_match(partition, name))
    throw SettingError(Setting::Partition,
                       "'" + partition + "' is not a partition name (letters, digits, _ . - and commas)");
}

std::string cli_of_this_process() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) throw Error("nmscope-cli", "cannot tell where this executable is: " + error.message());
  return self.string();
}

// sbatch --parsable prints "JOBID" or "JOBID;CLUSTER".
std::string submit(const SlurmSweep& sweep, const std::string& script, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(script);
  const ProcessResult result = run_process(argv, sweep.directory);
  if (!result.started)
    throw Error("sbatch",
                (program_on_path("sbatch") ? result.error.substr(result.error.find(": ") + 2) : "not found on PATH") +
                    ", so nothing was submitted (Slurm's client commands are needed; the scripts are in " +
                    sweep.directory + ")");
  std::string id = result.out.substr(0, result.out.find_first_of(";\n"));
  id.erase(std::remove_if(id.begin(), id.end(), [](unsigned char c) { return std::isspace(c); }), id.end());
  if (result.exit_code != 0 || id.empty() ||
      !std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); })) {
    std::string reason = result.err.empty() ? result.out : result.err;
    reason = reason.substr(0, reason.find('\n'));
    throw Error("sbatch",
                "refused " + script + ": " + (reason.empty() ? "exit " + std::to_string(result.exit_code) : reason));
  }
  return id;
}

// Writes the scripts of one submission and, unless dry, submits them and records the ids in the state file.
bool is_shard_database(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.rfind("shard-", 0) == 0 && path.extension() == ".db";
}

// What a sweep folder holds from an earlier submission ("a submitted sweep (2 submissions, 4 shards)", "3 shard
// databases"); "" when nothing (an empty folder, or one with only a dry run's scripts).
std::string earlier_submission(const std::string& directory) {
  if (fs::exists(directory + "/" + kStateFile)) {
    const SlurmSweep earlier = read_slurm_sweep(directory);
    if (!earlier.submissions.empty())
      return "a submitted sweep (" + std::to_string(earlier.submissions.size()) + " submission" +
             (earlier.submissions.size() == 1 ? "" : "s") + ", " + std::to_string(earlier.shard_count) + " shards)";
  }
  int shard_databases = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error))
    if (is_shard_database(entry.path())) ++shard_databases;
  return shard_databases == 0 ? std::string() : std::to_string(shard_databases) + " shard database(s)";
}

// --force: the earlier submission's state, scripts, logs and databases go to DIR/previous-<UTC time>/, so nothing
// of it is lost and nothing of it is merged into the new sweep.
void move_aside(const std::string& directory) {
  std::string stamp = now_utc();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  const fs::path aside = fs::path(directory) / ("previous-" + stamp);
  std::error_code error;
  fs::create_directories(aside, error);
  if (error) throw Error(aside.string(), "cannot create: " + error.message());
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    // The databases with their -wal / -shm / moved-aside companions.
    const bool database =
        (name.rfind("shard-", 0) == 0 || name.rfind("all.db", 0) == 0) && name.find(".db") != std::string::npos;
    const bool earlier = name == kStateFile || name == "logs" || name == "sweep.json" ||
                         entry.path().extension() == ".sbatch" || database;
    if (!earlier) continue;
    fs::rename(entry.path(), aside / name, error);
    if (error) throw Error(entry.path().string(), "cannot move aside: " + error.message());
  }
}

SlurmSubmission submit_shards(SlurmSweep& sweep, const std::vector<int>& shards, bool dry_run) {
  SlurmSubmission submission;
  submission.shards = shards;
  const std::size_t number = sweep.submissions.size();
  submission.array_script =
      sweep.directory + "/" +
      (number == 0 ? std::string("shards.sbatch") : "shards-resubmit-" + std::to_string(number) + ".sbatch");
  submission.merge_script = sweep.directory + "/merge.sbatch";
  fs::create_directories(sweep.directory + "/logs");
  write_text(submission.array_script, slurm_array_script(sweep, shards), true);
  write_text(submission.merge_script, slurm_merge_script(sweep), true);
  if (dry_run) return submission;
  submission.array_job_id = submit(sweep, submission.array_script, {});
  submission.submitted_at = now_utc();
  // Recorded at once: if the merge submission fails, status still finds the array.
  sweep.submissions.push_back(submission);
  save(sweep);
  submission.merge_job_id =
      submit(sweep, submission.merge_script, {"--dependency=afterany:" + submission.array_job_id});
  sweep.submissions.back() = submission;
  save(sweep);
  return submission;
}

}  // namespace

std::string SlurmSweep::shard_database(int shard) const {
  return directory + "/shard-" + std::to_string(shard) + ".db";
}
std::string SlurmSweep::merged_database() const { return directory + "/all.db"; }
std::string SlurmSweep::state_path() const { return directory + "/" + kStateFile; }

const SlurmSubmission* SlurmSweep::submission_of(int shard) const {
  for (auto submission = submissions.rbegin(); submission != submissions.rend(); ++submission)
    if (std::find(submission->shards.begin(), submission->shards.end(), shard) != submission->shards.end())
      return &*submission;
  return nullptr;
}

SlurmSubmitted submit_slurm_sweep(const SlurmSubmitOptions& options) {
  if (options.shards < 1) throw SettingError(Setting::Shards, "N must be at least 1");
  if (options.directory.empty())
    throw SettingError(Setting::Directory, "give a directory for the scripts and shard databases");
  check_time_limit(options.time_limit);
  check_partition(options.partition);
  if (options.gpus_per_shard < -1 || options.gpus_per_shard > 64)
    throw SettingError(Setting::GpusPerShard, std::to_string(options.gpus_per_shard) + " is not in 0..64");
  SweepSpec spec;
  const SweepPlan plan = plan_sweep_file(options.spec_path, spec);
  if (std::size_t(options.shards) > plan.points.size())
    throw SettingError(Setting::Shards, std::to_string(options.shards) + " is more shards than the sweep has points (" +
                                            std::to_string(plan.points.size()) + ")");

  SlurmSweep sweep;
  std::error_code error;
  fs::create_directories(options.directory, error);
  if (error) throw Error(options.directory, "cannot create the sweep directory: " + error.message());
  sweep.directory = fs::absolute(options.directory).lexically_normal().string();
  if (sweep.directory.size() > 1 && sweep.directory.back() == '/') sweep.directory.pop_back();
  // A folder that already holds a submission (or shard databases) is another sweep's, or this one's in flight: a
  // new submission there would overwrite its scripts and state, and the new merge job would merge the old shard
  // databases too. Refused, naming it; --force moves what is there aside first.
  if (const std::string held = earlier_submission(sweep.directory); !held.empty()) {
    if (!options.force)
      throw Error(sweep.directory, "holds " + held +
                                       "; submit into another --dir, follow it with 'slurm status' or 'slurm "
                                       "resubmit', or add --force to move it aside");
    move_aside(sweep.directory);
  }
  sweep.spec_path = sweep.directory + "/sweep.json";
  sweep.spec_hash = spec.hash;
  sweep.shard_count = options.shards;
  sweep.points = int64_t(plan.points.size());
  sweep.gpu_engines = std::any_of(plan.engines.begin(), plan.engines.end(),
                                  [](const std::string& engine) { return is_engine_of(EngineFamily::Gpu, engine); });
  sweep.gpus_per_shard = sweep.gpu_engines ? (options.gpus_per_shard < 0 ? 1 : options.gpus_per_shard) : 0;
  sweep.partition = options.partition;
  sweep.time_limit = options.time_limit;
  sweep.cli_path = options.cli_path.empty() ? cli_of_this_process() : fs::absolute(options.cli_path).string();
  sweep.working_directory = fs::current_path().string();
  sweep.setup = options.setup;
  // The tasks read a copy that stays as submitted: an edit of the original cannot split one sweep into two specs.
  if (!fs::equivalent(options.spec_path, sweep.spec_path, error))
    write_text(sweep.spec_path, read_text(options.spec_path, "the sweep spec"));
  save(sweep);

  std::vector<int> shards(options.shards);
  for (int i = 0; i < options.shards; ++i) shards[i] = i;
  SlurmSubmission submission = submit_shards(sweep, shards, options.dry_run);
  return {std::move(sweep), std::move(submission)};
}

SlurmSweep read_slurm_sweep(const std::string& directory) {
  const std::string path = (fs::path(directory) / kStateFile).string();
  if (!fs::exists(path))
    throw Error(path, "no Slurm sweep here (nmscope-cli slurm submit --dir " + directory + " writes it)");
  SlurmSweep sweep;
  try {
    const json state = json::parse(read_text(path, "the Slurm sweep state"));
    if (state.value("version", 0) > kStateVersion) throw Error(path, "written by a newer nmscope");
    sweep.directory = state.at("directory").get<std::string>();
    sweep.spec_path = state.at("spec").get<std::string>();
    sweep.spec_hash = state.at("spec_hash").get<std::string>();
    sweep.shard_count = state.at("shards").get<int>();
    sweep.points = state.at("points").get<int64_t>();
    sweep.gpu_engines = state.at("gpu_engines").get<bool>();
    sweep.partition = state.at("partition").get<std::string>();
    sweep.gpus_per_shard = state.at("gpus_per_shard").get<int>();
    sweep.time_limit = state.at("time").get<std::string>();
    sweep.cli_path = state.at("cli").get<std::string>();
    sweep.working_directory = state.at("working_directory").get<std::string>();
    sweep.setup = state.at("setup").get<std::vector<std::string>>();
    for (const json& entry : state.at("submissions")) {
      SlurmSubmission submission;
      submission.shards = entry.at("shards").get<std::vector<int>>();
      submission.array_job_id = entry.at("array_job_id").get<std::string>();
      submission.merge_job_id = entry.at("merge_job_id").get<std::string>();
      submission.array_script = entry.at("array_script").get<std::string>();
      submission.merge_script = entry.at("merge_script").get<std::string>();
      submission.submitted_at = entry.at("submitted_at").get<std::string>();
      sweep.submissions.push_back(std::move(submission));
    }
  } catch (const json::exception& error) {
    throw Error(path, std::string("not a valid Slurm sweep state: ") + error.what());
  }
  if (sweep.shard_count < 1) throw Error(path, "not a valid Slurm sweep state: shards < 1");
  return sweep;
}

SlurmSubmission resubmit_slurm_shards(SlurmSweep& sweep, const std::vector<int>& shards) {
  if (shards.empty()) throw Error("resubmit", "no shard to resubmit");
  for (int shard : shards)
    if (shard < 0 || shard >= sweep.shard_count)
      throw Error("resubmit",
                  "shard " + std::to_string(shard) + " is not in 0.." + std::to_string(sweep.shard_count - 1));
  const SweepSpec spec = read_sweep_spec(sweep.spec_path);
  if (spec.hash != sweep.spec_hash)
    throw Error(sweep.spec_path, "changed since the sweep was submitted (its hash differs); submit it as a new sweep");
  const SweepPlan plan = plan_sweep(spec, list_sweep_tensors(spec));
  const ShardAssignment assignment = assign_shards(plan.costs, sweep.shard_count);
  for (int shard : shards) {
    const std::string database = sweep.shard_database(shard);
    if (inspect_shard_database(spec, plan, assignment, shard, database).broken.empty()) continue;
    // A broken database cannot be resumed: the task starts afresh, and the old file stays for a post-mortem.
    int attempt = 1;
    while (fs::exists(database + ".broken-" + std::to_string(attempt))) ++attempt;
    const std::string aside = database + ".broken-" + std::to_string(attempt);
    fs::rename(database, aside);
    for (const char* suffix : {"-wal", "-shm"}) {
      std::error_code ignored;
      if (fs::exists(database + suffix)) fs::rename(database + suffix, aside + suffix, ignored);
    }
  }
  return submit_shards(sweep, shards, false);
}

}  // namespace nmscope
