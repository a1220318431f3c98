// nmscope-cli verify: an engine's kernels against nmscope's references on random configurations; non-zero exit on
// any mismatch. Each engine's checks live in their own file (verify_gpu.cpp, ...).
#include <iostream>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "verify_gpu.hpp"

namespace nmscope::cli {

namespace {
struct VerifyOptions {
  std::string engine;
  int configs = 40;
  uint64_t seed = 1;
};
}  // namespace

Command add_verify_command(CLI::App& app) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* command =
      app.add_subcommand("verify", "Check an engine's kernels against the references on random configurations");
  command->add_option("--engine", options->engine, "Engine family to verify (gpu)")->required();
  command->add_option("--configs", options->configs, "Random configurations to check")->capture_default_str();
  command->add_option("--seed", options->seed, "Seed of the random configurations")->capture_default_str();
  return {command, [options]() -> int {
            if (options->configs <= 0) throw Error("--configs", "must be at least 1");
            if (options->engine == "gpu") return verify_gpu(options->configs, options->seed, std::cout);
            throw Error("--engine", "'" + options->engine + "' has no verification here (known: gpu)");
          }};
}

}  // namespace nmscope::cli
