// nmscope-cli forward --model DIR --tokens IDS.npy --out OUT.npy [compression options]: the model's output on the
// given token ids (decoders: logits of the last position; encoders: pooled, normalized embeddings), dense fp32 or
// with every linear layer pruned and quantized. A summary line (and its throughput) goes to stdout.
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "model_compression_options.hpp"
#include "nmscope/error.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/writers.hpp"

namespace nmscope::cli {

namespace {

struct ForwardOptions {
  std::string model;
  std::string tokens;
  std::string out;
  ModelCompressionOptions compression;
};

int forward(const ForwardOptions& options) {
  const auto model = Model::open(options.model);
  if (!model->note().empty()) throw Error(options.model, model->note());
  const TokenIds tokens = read_token_ids(options.tokens);
  check_token_ids(tokens, *model, options.tokens);

  const auto start = std::chrono::steady_clock::now();
  std::optional<CompressedModel> compressed;
  if (options.compression.requested()) {
    const ModelCompressionSettings settings = options.compression.settings();
    const TokenIds calibration = options.compression.calibration_tokens(*model);
    compressed = compress_model(*model, settings, &calibration);
  }
  const auto forward_start = std::chrono::steady_clock::now();
  const MatrixF output = run_forward(*model, tokens, compressed ? compressed->hooks() : ForwardHooks{},
                                     ForwardOutput::Final, options.tokens);
  const auto end = std::chrono::steady_clock::now();
  write_npy(options.out, tensor_from_matrix("output", output, DType::F32));

  const double forward_seconds = std::chrono::duration<double>(end - forward_start).count();
  const double total_tokens = double(tokens.sequences * tokens.tokens);
  std::printf("%s: %s %s, %lld x %lld tokens -> %s [%lld, %lld]; forward %.3f s (%.0f tokens/s)", options.model.c_str(),
              model->config().model_type.c_str(), family_name(model->config().family).c_str(),
              static_cast<long long>(tokens.sequences), static_cast<long long>(tokens.tokens), options.out.c_str(),
              static_cast<long long>(output.rows()), static_cast<long long>(output.cols()), forward_seconds,
              total_tokens / forward_seconds);
  if (compressed) {
    std::printf("; compressed %zu layers to %.2f bits/weight in %.3f s", compressed->layers().size(),
                8.0 * double(compressed->storage_bytes()) / double(compressed->weight_count()),
                std::chrono::duration<double>(forward_start - start).count());
  }
  std::printf("\n");
  return 0;
}

}  // namespace

Command add_forward_command(CLI::App& app) {
  auto options = std::make_shared<ForwardOptions>();
  CLI::App* command = app.add_subcommand(
      "forward", "Run a model directory on token ids: last-position logits (decoders) or pooled embeddings (encoders)");
  command->add_option("--model", options->model, "Hugging Face model directory (config.json + safetensors)")
      ->required();
  command->add_option("--tokens", options->tokens, "Token ids .npy, int32/int64 [sequences, tokens]")->required();
  command->add_option("--out", options->out, "Output .npy (float32)")->required();
  options->compression.add_to(*command);
  return {command, [options] { return forward(*options); }};
}

}  // namespace nmscope::cli
