// nmscope-cli reproduce hsieh2025: the seed study's four figures measured on every engine of this build, beside the
// paper's (core/include/nmscope/reproduction.hpp); rows into the results database, the table on stdout, and with
// --report a Markdown page with the command, machine and date (docs/REPRODUCTION.md is one).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/reproduction.hpp"
#include "nmscope/results_store.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct ReproduceOptions {
  std::string study;
  std::string engines = "cpu,gpu,fpga";
  int64_t context = 512;
  int64_t latency_batch = 1;
  int64_t throughput_batch = 16;
  double timing_seconds = 0.3;
  std::string database;
  std::string report;
  bool json = false;
  std::string command_line;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::string item;
  for (const char c : list + ",") {
    if (c != ',') {
      item += c;
    } else if (!item.empty()) {
      items.push_back(item);
      item.clear();
    }
  }
  return items;
}

int reproduce(const ReproduceOptions& options) {
  if (options.study != "hsieh2025")
    throw Error("reproduce", "unknown study '" + options.study + "' (known: hsieh2025)");
  ReproductionOptions reproduction;
  reproduction.families = split(options.engines);
  reproduction.context = options.context;
  reproduction.latency_batch = options.latency_batch;
  reproduction.throughput_batch = options.throughput_batch;
  reproduction.timing_seconds = options.timing_seconds;
  // Usage, before any work (exit 2).
  if (options.context < 1)
    throw UsageError("--context", std::to_string(options.context) + " is not a positive number of tokens");
  if (options.latency_batch < 1)
    throw UsageError("--latency-batch", std::to_string(options.latency_batch) + " is not a positive batch");
  if (options.throughput_batch < 1)
    throw UsageError("--throughput-batch", std::to_string(options.throughput_batch) + " is not a positive batch");
  if (reproduction.families.empty()) throw UsageError("--engines", "names no engine family (cpu, gpu, fpga)");
  for (const std::string& family : reproduction.families)
    if (family != "cpu" && family != "gpu" && family != "fpga")
      throw UsageError("--engines", "'" + family + "' is not an engine family (cpu, gpu, fpga)");
  if (!options.json) reproduction.progress = [](const std::string& line) { std::cerr << "… " << line << std::endl; };
  ResultsStore store(options.database.empty() ? ResultsStore::default_path() : options.database);
  warn_if_damaged(store);
  const Reproduction result = reproduce_hsieh2025(reproduction, &store);
  if (options.json) {
    for (const ReproductionCell& cell : result.cells) {
      double paper = 0;
      for (const PaperFigure& figure : hsieh2025_figures())
        if (figure.key == cell.figure) paper = figure.paper;
      nlohmann::json row = {{"figure", cell.figure}, {"family", cell.family}, {"engine", cell.engine},
                            {"baseline", cell.baseline}, {"paper", paper}, {"study_id", result.study_id}};
      if (std::isnan(cell.ours)) {
        row["ours"] = nullptr;
        row["note"] = cell.note;
      } else {
        row["ours"] = cell.ours;
        row["how"] = cell.how;
      }
      std::cout << row.dump() << std::endl;
    }
  } else {
    std::cout << reproduction_table(result);
  }
  if (!options.report.empty()) {
    std::ofstream report(options.report, std::ios::trunc);
    report << reproduction_markdown(result, options.command_line);
    if (!report) throw Error(options.report, "cannot write the report");
  }
  for (const ReproductionCell& cell : result.cells)
    if (!std::isnan(cell.ours)) return 0;
  print_error("reproduce: no figure could be measured on " + options.engines);
  return 1;
}

}  // namespace

Command add_reproduce_command(CLI::App& app) {
  auto options = std::make_shared<ReproduceOptions>();
  CLI::App* command =
      app.add_subcommand("reproduce", "Measure a published study's figures on every engine, beside the paper's");
  command->add_option("study", options->study, "the study: hsieh2025")->required()->check(CLI::IsMember({"hsieh2025"}));
  command->add_option("--engines", options->engines, "engine families: cpu, gpu, fpga")->capture_default_str();
  command->add_option("--context", options->context, "decode: tokens in the KV cache")->capture_default_str();
  command->add_option("--latency-batch", options->latency_batch, "decode batch of the end-to-end latency figure")
      ->capture_default_str();
  command->add_option("--throughput-batch", options->throughput_batch, "decode batch of the per-token figure")
      ->capture_default_str();
  command->add_option("--timing-seconds", options->timing_seconds, "time budget per timed variant")
      ->capture_default_str();
  command->add_option("--db", options->database, "Results database (default: " + ResultsStore::default_path() + ")");
  command->add_option("--report", options->report, "also write the table as Markdown with the command and machine");
  command->add_flag("--json", options->json, "one JSON object per figure and engine on stdout");
  command->final_callback([options, command] {
    options->command_line = "nmscope-cli reproduce " + options->study;
    for (const std::string& name : {"--engines", "--context", "--latency-batch", "--throughput-batch"})
      if (command->count(name) > 0) options->command_line += " " + name + " " + command->get_option(name)->as<std::string>();
  });
  return {command, [options] { return reproduce(*options); }};
}

}  // namespace nmscope::cli
