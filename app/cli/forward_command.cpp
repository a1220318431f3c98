// nmscope-cli forward --model DIR (--tokens IDS.npy | --text FILE) --out OUT.npy [compression options]: the model's
// output on the given token ids or lines of text (decoders: logits of the last position; encoders: pooled, normalized
// embeddings), dense fp32 or with every linear layer pruned and quantized. A summary line (and its throughput) goes to
// stdout.
#include <chrono>
#include <cstdio>
#include <fstream>

#include "commands.hpp"
#include "model_compression_options.hpp"
#include "nmscope/error.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/tokenizer.hpp"
#include "nmscope/writers.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct ForwardOptions {
  std::string model;
  std::string tokens;
  std::string text;
  std::string out;
  ModelCompressionOptions compression;
};

// One sequence per non-empty line of a text file, tokenized with the model's tokenizer.json as Hugging Face
// `tokenizers` does: its truncation cuts a long line (MiniLM: 128 ids), its padding is left out (an attention mask
// would hide it: the outputs are the same). Lines differ in length, so each runs as its own forward pass. A line still
// longer than the model's positions (a tokenizer.json without truncation) is cut to them, with a note on stderr,
// rather than failing the whole file.
std::vector<TokenIds> text_sequences(const std::string& path, const Model& model) {
  std::ifstream stream(path);
  if (!stream) throw Error(path, "cannot be opened");
  const auto tokenizer = Tokenizer::open(model.directory());
  std::vector<TokenIds> sequences;
  std::string line;
  int64_t line_number = 0;
  while (std::getline(stream, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    TokenIds ids;
    ids.ids = tokenizer->encode_as_configured(line).unpadded();
    const int64_t positions = model.config().max_positions;
    if (positions > 0 && int64_t(ids.ids.size()) > positions) {
      print_error(path + " line " + std::to_string(line_number) + ": " + std::to_string(ids.ids.size()) +
                  " tokens, cut to the model's " + std::to_string(positions) + " positions");
      ids.ids.resize(size_t(positions));
    }
    ids.sequences = 1;
    ids.tokens = int64_t(ids.ids.size());
    check_token_ids(ids, model, path + " line " + std::to_string(line_number));
    sequences.push_back(std::move(ids));
  }
  if (sequences.empty()) throw Error(path, "holds no text");
  return sequences;
}

int forward(const ForwardOptions& options) {
  options.compression.check_usage();
  const auto model = Model::open(options.model);
  if (!model->note().empty()) throw Error(options.model, model->note());
  std::vector<TokenIds> batches;
  if (!options.text.empty()) {
    batches = text_sequences(options.text, *model);
  } else {
    batches.push_back(read_token_ids(options.tokens));
    check_token_ids(batches.front(), *model, options.tokens);
  }

  const auto start = std::chrono::steady_clock::now();
  std::optional<CompressedModel> compressed;
  if (options.compression.requested()) {
    const ModelCompressionSettings settings = options.compression.settings();
    const TokenIds calibration = options.compression.calibration_tokens(*model);
    compressed = compress_model(*model, settings, &calibration);
  }
  const auto forward_start = std::chrono::steady_clock::now();
  MatrixF output;
  int64_t total_tokens = 0;
  for (const TokenIds& tokens : batches) {
    const MatrixF part = run_forward(*model, tokens, compressed ? compressed->hooks() : ForwardHooks{},
                                     ForwardOutput::Final, options.tokens);
    output.conservativeResize(output.rows() + part.rows(), part.cols());
    output.bottomRows(part.rows()) = part;
    total_tokens += tokens.sequences * tokens.tokens;
  }
  const auto end = std::chrono::steady_clock::now();
  write_npy(options.out, tensor_from_matrix("output", output, DType::F32));

  const double forward_seconds = std::chrono::duration<double>(end - forward_start).count();
  std::printf("%s: %s %s, %lld sequences, %lld tokens -> %s [%lld, %lld]; forward %.3f s (%.0f tokens/s)",
              options.model.c_str(), model->config().model_type.c_str(), family_name(model->config().family).c_str(),
              static_cast<long long>(output.rows()), static_cast<long long>(total_tokens), options.out.c_str(),
              static_cast<long long>(output.rows()), static_cast<long long>(output.cols()), forward_seconds,
              double(total_tokens) / forward_seconds);
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
  CLI::App* command = app.add_subcommand("forward",
                                         "Run a model (directory or .gguf) on token ids or text: last-position logits "
                                         "(decoders) or pooled embeddings (encoders)");
  command
      ->add_option("--model", options->model,
                   "A Hugging Face model directory (config.json + safetensors) or a llama.cpp model.gguf")
      ->required();
  auto* tokens = command->add_option("--tokens", options->tokens, "Token ids .npy, int32/int64 [sequences, tokens]");
  auto* text = command->add_option(
      "--text", options->text,
      "Text file, one sequence per line, tokenized with the model's tokenizer (tokenizer.json, or the GGUF's own)");
  tokens->excludes(text);
  command->callback([tokens, text] {
    if (tokens->count() + text->count() == 0) throw CLI::RequiredError("--tokens or --text");
  });
  command->add_option("--out", options->out, "Output .npy (float32)")->required();
  options->compression.add_to(*command);
  return {command, [options] { return forward(*options); }};
}

}  // namespace nmscope::cli
