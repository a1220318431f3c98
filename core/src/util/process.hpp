#pragma once
// Running a program and collecting what it prints: the Slurm commands (sbatch, squeue, sacct) are the only interface
// Slurm offers a client, and core may not use QProcess. No shell is involved, so arguments need no quoting.
#include <string>
#include <vector>

namespace nmscope {

struct ProcessResult {
  bool started = false;  // false: the program is not on PATH (or cannot be executed); `error` says which
  int exit_code = -1;    // -1 when it did not exit normally (killed by a signal)
  std::string out;
  std::string err;
  std::string error;
};

// Runs argv[0] (looked up on PATH) with the rest as arguments, stdin from /dev/null, in `working_directory` (empty:
// this process's), and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& working_directory = {});

// Whether `program` is an executable file on PATH (or a path to one).
bool program_on_path(const std::string& program);

}  // namespace nmscope
