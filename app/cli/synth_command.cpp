// nmscope-cli synth: Yosys resource estimates (LUT, FF, DSP, BRAM) of FPGA array configurations, cached per
// configuration so the engine and the GUI can show them beside cycle counts.
#include <cstdio>

#include "commands.hpp"
#include "interrupt_scope.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/resource_estimate.hpp"

namespace nmscope::cli {

namespace {

struct SynthOptions {
  std::string arrays = "16x16";
};

int synth(const SynthOptions& options) {
  const std::vector<fpga::ArraySize> arrays = fpga::parse_array_sizes(options.arrays);
  std::printf("%-8s %10s %10s %6s %6s %9s %9s  %s\n", "array", "LUT", "FF", "DSP", "BRAM", "LUTRAM", "seconds", "flow");
  // Ctrl-C reaches yosys too (the terminal's whole process group): it stops, and so does the command, saying which
  // arrays were done (their estimates are cached) instead of dying mid-line.
  const InterruptScope interrupt;
  int done = 0;
  for (const fpga::ArraySize& array : arrays) {
    const bool cached = fpga::cached_resource_estimate(array).has_value();
    if (!cached) std::fprintf(stderr, "synthesizing %s with yosys...\n", array.to_string().c_str());
    fpga::ResourceEstimate estimate;
    try {
      if (interrupt.interrupted()) throw Cancelled();
      estimate = fpga::estimate_resources(array);
    } catch (const std::exception&) {
      if (!interrupt.interrupted()) throw;
      print_error("cancelled; " + std::to_string(done) + " of " + std::to_string(arrays.size()) +
                  " arrays synthesized");
      return kInterruptedExit;
    }
    ++done;
    std::printf("%-8s %10lld %10lld %6lld %6lld %9lld %9.1f  %s%s\n", array.to_string().c_str(),
                static_cast<long long>(estimate.luts), static_cast<long long>(estimate.flip_flops),
                static_cast<long long>(estimate.dsps), static_cast<long long>(estimate.block_rams),
                static_cast<long long>(estimate.lut_rams), estimate.synthesis_seconds, estimate.flow.c_str(),
                cached ? " (cached)" : "");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

Command add_synth_command(CLI::App& app) {
  auto options = std::make_shared<SynthOptions>();
  CLI::App* command = app.add_subcommand("synth", "Yosys resource estimates of FPGA array configurations (cached)");
  command->add_option("--array", options->arrays, "Array sizes ROWSxCOLS, comma-separated")->capture_default_str();
  return {command, [options] { return synth(*options); }};
}

}  // namespace nmscope::cli
