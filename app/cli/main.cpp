// nmscope-cli: the studies of the desktop app without a window.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/results_store.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

void print_error(const std::string& message) { std::cerr << "nmscope-cli: " << message << std::endl; }

void warn_if_damaged(const ResultsStore& store) {
  if (const std::string problem = store.integrity_problem(); !problem.empty())
    print_error("warning: " + store.path() + " fails SQLite's integrity check (" + problem +
                "); new rows go into it, but check it (sqlite3 FILE 'PRAGMA integrity_check') or use another --db");
}

}  // namespace nmscope::cli

int main(int argc, char** argv) {
  using namespace nmscope::cli;
  // Studies allocate and free megabyte temporaries (row slices, packed buffers, Eigen products) thousands of times;
  // left to glibc's defaults each went back to the kernel and came back as fresh pages, and zeroing those pages took
  // ~18% of a model study's time (perf). Served from the heap and kept there, they are reused instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"nmscope-cli: design-space exploration of N:M structured-sparse, low-bit-quantized matmul"};
  app.set_version_flag("--version", nmscope::build_description());
  app.require_subcommand(1);
  const std::vector<Command> commands = {
      add_inspect_command(app), add_run_command(app),    add_export_command(app),    add_bench_command(app),
      add_verify_command(app),  add_synth_command(app),  add_forward_command(app),   add_model_eval_command(app),
      add_model_command(app),   add_decode_command(app), add_reproduce_command(app), add_sweep_command(app),
      add_merge_command(app),   add_slurm_command(app),  add_engines_command(app)};

  // A first word that is no command would get CLI11's "A subcommand is required": name it and the commands instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* command : app.get_subcommands({})) {
      known += (known.empty() ? "" : ", ") + command->get_name();
      found = found || command->get_name() == argv[1];
    }
    if (!found) {
      print_error(std::string("'") + argv[1] + "' is not a command (" + known + ")");
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version arrive as parse "errors" with status 0; CLI11 prints those itself.
    if (error.get_exit_code() == 0) return app.exit(error);
    // CLI11's own failure message adds a second line ("Run with --help ..."); the contract is one line.
    print_error(error.what());
    return 2;
  }
  try {
    for (const auto& command : commands)
      if (command.parser->parsed()) return command.action();
  } catch (const nmscope::SettingError& error) {
    // A setting core cannot use is bad usage: said as the flag that set it.
    print_error(std::string(nmscope::cli::flag_of(error.setting())) + ": " + error.reason());
    return 2;
  } catch (const nmscope::cli::UsageError& error) {
    print_error(error.what());
    return 2;
  } catch (const nmscope::Error& error) {
    print_error(error.what());  // a file, a tensor, a model: a failed run
    return 1;
  } catch (const std::exception& error) {
    print_error(error.what());
    return 1;
  }
  return 2;
}
