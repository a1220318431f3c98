#pragma once
// The subcommands of nmscope-cli. Each registers its options on the CLI11 app; its action returns the exit status:
// 0 success, 1 a file or measurement failed (one line on stderr names it), 2 bad usage.
#include <CLI/CLI.hpp>
#include <functional>

namespace nmscope {
class ResultsStore;
}

namespace nmscope::cli {

struct Command {
  CLI::App* parser;
  std::function<int()> action;
};

Command add_inspect_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_verify_command(CLI::App& app);
Command add_synth_command(CLI::App& app);
Command add_forward_command(CLI::App& app);
Command add_model_eval_command(CLI::App& app);
Command add_model_command(CLI::App& app);
Command add_reproduce_command(CLI::App& app);
Command add_decode_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
Command add_slurm_command(CLI::App& app);
Command add_engines_command(CLI::App& app);

// Prints "nmscope-cli: <message>" on stderr: the one-line error every command uses.
void print_error(const std::string& message);
// Before a verb writes into a database: a file that fails SQLite's quick_check is named in a warning (the rows are
// still written: the user decides), since new rows in a damaged file may be lost with it.
void warn_if_damaged(const ResultsStore& store);

}  // namespace nmscope::cli
