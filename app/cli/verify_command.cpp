// nmscope-cli verify: random whole-GEMM configurations through an engine's real hardware path, checked against
// the reference; non-zero exit on any mismatch. For the FPGA engine every output must be bit-exact against the C++
// reference of the RTL and every RTL cycle count must equal the analytic model's; the GPU engine's checks live in
// verify_gpu.cpp.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/verify.hpp"
#include "usage_error.hpp"
#include "verify_gpu.hpp"

namespace nmscope::cli {

namespace {

struct VerifyOptions {
  std::string engine;
  int configs = 20;
  uint64_t seed = 1;
};

int verify_fpga(const VerifyOptions& options) {
  if (!fpga::rtl_model_available()) {
    print_error("fpga: this build has no RTL model (Verilator was not found at configure time)");
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::vector<fpga::VerifyCase> cases = fpga::random_verify_cases(options.configs, options.seed);
  int failures = 0;
  int64_t cycles = 0;
  double simulation_seconds = 0;
  std::printf("%-5s %-78s %12s %12s %9s %s\n", "#", "configuration", "rtl_cycles", "model_cycles", "outputs", "result");
  for (size_t i = 0; i < cases.size(); ++i) {
    const fpga::VerifyOutcome outcome = fpga::run_verify_case(cases[i]);
    cycles += outcome.rtl_cycles;
    simulation_seconds += outcome.simulation_seconds;
    std::string result = "ok";
    if (!outcome.error.empty()) result = "ERROR: " + outcome.error;
    else if (outcome.mismatches) result = "MISMATCH: " + std::to_string(outcome.mismatches) + " outputs differ";
    else if (outcome.rtl_cycles != outcome.model_cycles) result = "CYCLES DIFFER";
    else if (outcome.rtl_weight_bytes != outcome.model_weight_bytes)
      result = "PORT BYTES DIFFER";
    if (!outcome.passed()) ++failures;
    std::printf("%-5zu %-78.78s %12lld %12lld %9lld %s\n", i + 1, cases[i].describe().c_str(),
                static_cast<long long>(outcome.rtl_cycles), static_cast<long long>(outcome.model_cycles),
                static_cast<long long>(outcome.outputs), result.c_str());
    std::fflush(stdout);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\n%zu configurations, %d failed; %lld RTL cycles simulated in %.1f s (%.2f M cycles/s), %.1f s in all\n",
              cases.size(), failures, static_cast<long long>(cycles), simulation_seconds,
              cycles / std::max(simulation_seconds, 1e-9) / 1e6, seconds);
  if (failures)
    print_error("fpga: " + std::to_string(failures) + " of " + std::to_string(cases.size()) +
                " configurations failed (bit-exact output, equal cycle counts and equal bytes through the memory "
                "port are required)");
  return failures ? 1 : 0;
}

int verify(const VerifyOptions& options) {
  if (options.configs < 1 || options.configs > 100000) throw UsageError("--configs", "must be in 1..100000");
  if (options.engine == "fpga") return verify_fpga(options);
  if (options.engine == "gpu") return verify_gpu(options.configs, options.seed, std::cout);
  throw UsageError("--engine", "'" + options.engine + "' has no verify path (known: fpga, gpu)");
}

}  // namespace

Command add_verify_command(CLI::App& app) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* command = app.add_subcommand("verify", "Check an engine's hardware path on random configurations");
  command->add_option("--engine", options->engine, "Engine family: fpga or gpu")->required();
  command->add_option("--configs", options->configs, "How many random configurations")->capture_default_str();
  command->add_option("--seed", options->seed, "Seed of the configurations")->capture_default_str();
  return {command, [options] { return verify(*options); }};
}

}  // namespace nmscope::cli
