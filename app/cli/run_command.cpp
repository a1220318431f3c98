// nmscope-cli run: prune, quantize, pack and measure a cross product of configurations; every measurement is
// stored in the results database as it is made and printed (as JSON Lines with --json).
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "interrupt_scope.hpp"
#include "measurement_json.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/units.hpp"
#include "progress_line.hpp"
#include "study_options.hpp"
#include "synthetic_notes.hpp"

namespace nmscope::cli {

namespace {

struct RunOptions {
  std::vector<std::string> weights;
  std::vector<std::string> tensors;
  StudyOptions study;
  std::string database;
  bool json = false;
  bool resume = false;
  bool quiet = false;
  int threads = 0;
};

StudySpec make_spec(const RunOptions& options) {
  StudySpec spec = make_study_spec(options.study);
  spec.sources = options.weights;
  spec.tensors = options.tensors;
  spec.skip_stored = options.resume;
  return spec;
}

std::string format_row(const Measurement& m) {
  char line[512];
  // A cycle-counted engine's time is cycles at its clock; an engine that could not run shows its status instead.
  const std::string time = m.time_us ? format_microseconds(*m.time_us) : (m.status == "ok" ? "-" : m.status);
  std::snprintf(line, sizeof line, "%-40.40s %-6s %4s %-11s %-22s %5s %11s %6.2fx %9.3e %9.3e %7.2f %12s",
                m.tensor.c_str(), m.pattern.to_string().c_str(), m.quant.bits_name().c_str(),
                m.quant.granularity_name().c_str(), m.engine.c_str(),
                m.batch > 0 ? std::to_string(m.batch).c_str() : "-",
                format_bytes(std::uint64_t(std::max<std::int64_t>(0, m.storage_bytes))).c_str(), m.compression_vs_fp16,
                m.weight_rel_err, m.output_rel_err, m.sqnr_db, time.c_str());
  return line;
}

// What a row's figures rest on, when the table alone would hide it: a flagged fp16 overflow, or FPGA cycles from the
// analytic model because the array is not among the Verilated shapes (--array 5x7).
std::string row_remarks(const Measurement& m) {
  std::string remarks;
  if (m.status == "overflow") remarks += "\n    overflow: " + m.note;
  const auto details = nlohmann::json::parse(m.details_json, nullptr, false);
  if (details.is_object() && details.value("cycles_source", std::string()) == "model")
    remarks +=
        "\n    cycles from the analytic model, not the RTL: " + details.value("why_not_simulated", std::string("?"));
  return remarks;
}

int run(const RunOptions& options) {
  const StudySpec spec = make_spec(options);
  spec.validate();
  std::unique_ptr<tbb::global_control> thread_limit;
  if (options.threads > 0)
    thread_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, options.threads);
  ResultsStore store(options.database.empty() ? ResultsStore::default_path() : options.database);
  warn_if_damaged(store);

  ProgressLine progress(options.quiet || options.json);
  if (!options.json) {
    std::printf("%-40s %-6s %4s %-11s %-22s %5s %11s %7s %9s %9s %7s %12s\n", "tensor", "N:M", "bits", "granularity",
                "engine", "batch", "storage", "vs_fp16", "w_relerr", "y_relerr", "sqnr_dB", "time");
  }
  StudyObserver observer;
  observer.measured = [&](const Measurement& m) {
    progress.clear();
    if (options.json)
      std::cout << measurement_to_json(m).dump() << std::endl;
    else
      std::cout << format_row(m) << row_remarks(m) << std::endl;
  };
  observer.skipped = [&](const Error& error) {
    progress.clear();
    print_error(error.what());
  };
  observer.progress = progress.study_callback();

  StudySummary summary;
  {
    const InterruptScope interrupt;
    summary = run_study(spec, &store, observer, interrupt.flag());
  }
  if (summary.cancelled) {
    print_error("cancelled; " + std::to_string(summary.measurements) + " measurements stored in " + store.path());
    return kInterruptedExit;
  }
  // JSON Lines rows name their synth: source themselves; stderr stays for what went wrong.
  if (!options.json && summary.measurements > 0) print_synthetic_notes(options.weights);
  if (!options.json) {
    std::cerr << summary.measurements << " measurements stored in " << store.path() << " (study " << summary.study_id << ")";
    if (options.resume) std::cerr << "; " << summary.already_stored << " were already stored";
    std::cerr << "\n";
  }
  // Doing nothing is not success. What was skipped has said why in a line of its own; a run with nothing to say
  // gets this one.
  if (summary.measurements == 0 && summary.already_stored == 0) {
    if (summary.skipped == 0 && summary.not_measured == 0)
      print_error("nothing was measured: no tensor and configuration to run");
    return 1;
  }
  return summary.skipped > 0 ? 1 : 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Prune, quantize and measure a cross product of configurations");
  command->add_option("--weights", options->weights, "A .npy, .safetensors, .gguf, model directory or synth:SHAPE (repeatable)")
      ->required();
  command->add_option("--tensor", options->tensors, "Tensor name (repeatable; default every 2-D tensor)");
  add_study_options(*command, options->study);
  command->add_option("--db", options->database, "Results database (default: " + ResultsStore::default_path() + ")");
  command->add_flag("--json", options->json, "One JSON object per measurement per line on stdout");
  command->add_flag("--quiet", options->quiet, "No progress line on stderr (it is shown only on a terminal)");
  command->add_flag("--resume", options->resume,
                    "Measure only what the database does not hold yet (same source, content, configuration, engine "
                    "and batch with status ok or unavailable); failed measurements are retried");
  command->add_option("--threads", options->threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  return {command, [options] { return run(*options); }};
}

}  // namespace nmscope::cli
