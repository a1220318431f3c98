// nmscope-cli decode: a LLaMA-architecture decoder step with every linear layer on each named variant, beside the
// family's dense baseline in the same run: gpu/ variants on the GPU (beside gpu/cublas-fp16-dense), cpu/ variants on
// the CPU decoder (beside cpu/eigen-fp32-dense, cpu_decode_rows.hpp), synthetic weights of a preset or a model
// directory's real weights (both steps). Per engine and batch: ms per step (one token per sequence),
// tokens/s, speedup, the model's bytes and their ratio to fp16, the logits' error against the baseline path over the
// same compressed weights, and the kernel trace (launch gaps, achieved bandwidth).
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "cpu_decode_rows.hpp"
#include "nmscope/cpu_decoder.hpp"
#include "nmscope/decode_measurement.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/error.hpp"
#include "nmscope/gpu_decode.hpp"
#include "nmscope/gpu_device.hpp"
#include "nmscope/memory_bandwidth.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/text_list.hpp"
#include "nmscope/units.hpp"
#include "study_options.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct DecodeOptions {
  std::string preset = "llama-7b";
  std::string model;  // real weights (both steps)
  std::string engines = "gpu/int4-2:4";
  std::string batches = "1";
  int64_t context = 512;
  uint64_t seed = 1;
  double timing_seconds = 0.5;
  bool no_trace = false;
  bool json = false;
  std::string database;  // the rows also go here when set
  std::string cpu_activations = "fp32";
  std::string kv_cache = "fp16";  // gpu/ variants other than the baseline
};

// Where the rows are stored (--db), with the study id they share.
struct DecodeStore {
  ResultsStore* store = nullptr;
  std::string study_id;
};

// The shared --batch parser (study_options.hpp), widened for the decode APIs.
std::vector<int64_t> decode_batches(const std::string& list) {
  const std::vector<int> batches = parse_batches(list);
  return {batches.begin(), batches.end()};
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  for (const std::string& item : comma_items(list))
    if (!item.empty()) items.push_back(item);
  return items;
}

nlohmann::json row_json(const DecodeRow& row) {
  const DecodeRun& run = row.run;
  nlohmann::json json = {
      {"engine", row.engine}, {"batch", row.batch}, {"context", row.context}, {"status", row.status}};
  if (row.status != "ok") {
    json["note"] = row.note;
    if (run.required_bytes > 0) json["required_bytes"] = run.required_bytes;
    return json;
  }
  json["ms_per_token"] = run.step_ms;
  json["p10_ms"] = run.p10_ms;
  json["p90_ms"] = run.p90_ms;
  json["tokens_per_s"] = run.tokens_per_s;
  json["speedup"] = row.speedup;
  json["weight_bytes"] = run.weight_bytes;
  json["linear_weight_bytes"] = run.linear_bytes;
  json["fp16_weight_bytes"] = row.fp16_weight_bytes;
  json["storage_ratio"] = row.storage_ratio;
  json["max_relative_error"] = row.max_relative_error;
  json["relative_error"] = row.relative_error;
  json["top1_agreement"] = row.top1_agreement;
  json["reference"] = row.reference;
  json["kv_cache"] = kv_cache_name(run.kv_cache);
  json["kv_bytes_read"] = run.kv_bytes_read;
  json["step_bytes"] = run.step_bytes;
  json["achieved_gb_per_s"] = run.achieved_gb_per_s;
  if (run.trace_error.empty()) {
    json["kernels"] = run.kernels;
    json["kernel_sum_ms"] = run.kernel_sum_ms;
    json["kernel_busy_ms"] = run.kernel_busy_ms;
    json["kernel_span_ms"] = run.kernel_span_ms;
    json["launch_gap_fraction"] = run.launch_gap_fraction;
    json["linear_kernel_ms"] = run.linear_kernel_ms;
    json["attention_kernel_ms"] = run.attention_kernel_ms;
    json["other_kernel_ms"] = run.other_kernel_ms;
  } else {
    json["trace_note"] = run.trace_error;
  }
  json["config"] = run.config;
  return json;
}

void print_row(const DecodeRow& row) {
  const DecodeRun& run = row.run;
  if (row.status != "ok") {
    std::printf("%-24s %5lld %7lld  %s: %s\n", row.engine.c_str(), (long long)row.batch, (long long)row.context,
                row.status.c_str(), row.note.c_str());
    return;
  }
  char gaps[32] = "n/a";
  if (run.trace_error.empty()) std::snprintf(gaps, sizeof gaps, "%.1f%%", 100.0 * run.launch_gap_fraction);
  char speedup[32] = "-";
  if (row.speedup > 0) std::snprintf(speedup, sizeof speedup, "%.2fx", row.speedup);
  std::printf("%-24s %5lld %7lld %9.3f %10.1f %8s %10s %6.2fx %9.2e %9.2e %6.1f%% %6s %7.0f\n", row.engine.c_str(),
              (long long)row.batch, (long long)row.context, run.step_ms, run.tokens_per_s, speedup,
              format_bytes(std::uint64_t(run.weight_bytes)).c_str(), row.storage_ratio, row.max_relative_error,
              row.relative_error, 100.0 * row.top1_agreement, gaps, run.achieved_gb_per_s);
  if (run.trace_error.empty())
    std::printf(
        "  kernels %d: sum %.3f ms, busy %.3f ms of a %.3f ms span (linear %.3f, attention %.3f, other %.3f)"
        "; reads %.2f GB (KV cache %.2f GB)\n",
        run.kernels, run.kernel_sum_ms, run.kernel_busy_ms, run.kernel_span_ms, run.linear_kernel_ms,
        run.attention_kernel_ms, run.other_kernel_ms, double(run.step_bytes) / 1e9, double(run.kv_bytes_read) / 1e9);
  else
    std::printf("  kernel trace unavailable: %s; reads %.2f GB (KV cache %.2f GB)\n", run.trace_error.c_str(),
                double(run.step_bytes) / 1e9, double(run.kv_bytes_read) / 1e9);
  std::printf("  %s\n", run.config.c_str());
  std::fflush(stdout);
}

void print_header() {
  // One step gives each sequence of the batch its next token: ms/step is each sequence's per-token latency.
  std::printf("%-24s %5s %7s %9s %10s %8s %10s %7s %9s %9s %7s %6s %7s\n", "engine", "batch", "context", "ms/step",
              "tokens/s", "speedup", "weights", "vs fp16", "max rel", "rel err", "top-1", "gaps", "GB/s");
  std::fflush(stdout);
}

int decode_gpu(const DecodeOptions& options, const Model* model, const std::vector<std::string>& engines,
               const DecodeStore& stored) {
  DecodeStudyOptions study;
  study.model = model;
  study.shape = model ? decoder_shape_of(model->config(), options.model) : decoder_preset(options.preset);
  study.engines = engines;
  for (const std::string& engine : study.engines) DecodeVariant::parse(engine);
  study.batches = decode_batches(options.batches);
  study.context = options.context;
  study.seed = options.seed;
  study.timing_seconds = options.timing_seconds;
  study.kernel_trace = !options.no_trace;
  study.kv_cache = parse_kv_cache(options.kv_cache);

  const GpuDevice& device = gpu_device();
  if (!options.json) {
    std::printf(
        "decode %s (hidden %lld, intermediate %lld, %lld blocks, %lld heads / %lld kv heads, vocab %lld), "
        "context %lld, on %s\n",
        study.shape.name.c_str(), (long long)study.shape.hidden, (long long)study.shape.intermediate,
        (long long)study.shape.blocks, (long long)study.shape.heads, (long long)study.shape.kv_heads,
        (long long)study.shape.vocab, (long long)study.context, device.available ? device.name.c_str() : "no GPU");
    if (device.available) {
      const double bandwidth = measure_gpu_bandwidth_gb_per_s();
      std::printf("device-to-device copy: %.0f GB/s (read + write)\n", bandwidth);
    }
    print_header();
  }
  int ok_rows = 0;
  std::string first_problem;
  run_decode_study(study, [&](const DecodeRow& row) {
    if (row.status == "ok")
      ++ok_rows;
    else if (first_problem.empty())
      first_problem = row.engine + " " + row.status + ": " + row.note;
    if (stored.store && row.status == "ok")
      stored.store->insert(
          decode_measurement(row, model ? options.model : options.preset, model == nullptr, stored.study_id));
    if (options.json)
      std::cout << row_json(row).dump() << std::endl;
    else
      print_row(row);
  });
  if (ok_rows == 0)
    print_error(device.available ? "decode failed: " + first_problem : "decode unavailable: " + device.reason);
  return ok_rows;
}

int decode_cpu(const DecodeOptions& options, const Model* model, const std::vector<std::string>& engines,
               const DecodeStore& stored) {
  CpuDecodeRequest request;
  if (model) {
    request.model = model;
    request.shape = model->config();
  } else {
    request.shape = decoder_model_config(decoder_preset(options.preset));
  }
  request.engines = engines;
  request.batches = decode_batches(options.batches);
  request.context = options.context;
  request.seed = options.seed;
  request.timing_seconds = options.timing_seconds;
  request.json = options.json;
  request.store = stored.store;
  request.study_id = stored.study_id;
  request.model_name = model ? options.model : options.preset;
  request.activations = parse_decode_activations(options.cpu_activations);
  // Before the header: a step that cannot fit is a usage line, not a table that stops.
  check_cpu_decode_memory(request);
  if (!options.json) {
    std::printf("decode %s on the CPU (hidden %lld, intermediate %lld, %lld blocks, %lld heads / %lld kv heads, "
                "vocab %lld), context %lld\n",
                model ? options.model.c_str() : options.preset.c_str(), (long long)request.shape.hidden,
                (long long)request.shape.intermediate, (long long)request.shape.blocks,
                (long long)request.shape.heads, (long long)request.shape.kv_heads, (long long)request.shape.vocab,
                (long long)request.context);
    print_header();
  }
  return run_cpu_decode_rows(request);
}

int decode(const DecodeOptions& options) {
  std::vector<std::string> gpu_engines, cpu_engines;
  for (const std::string& engine : split_list(options.engines)) {
    if (is_engine_of(EngineFamily::Gpu, engine))
      gpu_engines.push_back(engine);
    else if (is_engine_of(EngineFamily::Cpu, engine))
      cpu_engines.push_back(engine);
    else
      throw UsageError("--engines", "'" + engine + "' is neither a gpu/ nor a cpu/ decode variant");
  }
  if (gpu_engines.empty() && cpu_engines.empty()) throw UsageError("--engines", "no engine given");
  // Usage before any work: a batch or context of 0 is refused here (exit 2), not after the header.
  if (options.context < 1)
    throw UsageError("--context", std::to_string(options.context) + " is not a positive number of tokens");
  decode_batches(options.batches);
  // Validate every name before anything is measured.
  for (const std::string& engine : gpu_engines) DecodeVariant::parse(engine);
  for (const std::string& engine : cpu_engines) CpuDecodeVariant::parse(engine);
  // A model directory's real weights serve both steps (one loader, core's Model).
  std::unique_ptr<Model> model;
  if (!options.model.empty()) model = Model::open(options.model);
  std::unique_ptr<ResultsStore> store;
  DecodeStore stored;
  if (!options.database.empty()) {
    store = std::make_unique<ResultsStore>(options.database);
    warn_if_damaged(*store);
    stored = {store.get(), new_study_id()};
  }
  int rows = 0;
  if (!gpu_engines.empty()) rows += decode_gpu(options, model.get(), gpu_engines, stored);
  if (!cpu_engines.empty()) rows += decode_cpu(options, model.get(), cpu_engines, stored);
  if (store && !options.json)
    std::printf("%d decode rows stored in %s (study %s)\n", rows, options.database.c_str(), stored.study_id.c_str());
  return rows > 0 ? 0 : 1;
}

}  // namespace

Command add_decode_command(CLI::App& app) {
  auto options = std::make_shared<DecodeOptions>();
  CLI::App* command = app.add_subcommand(
      "decode", "time a LLaMA-architecture decoder step on the GPU or CPU, every linear layer on each variant");
  command->add_option("--preset", options->preset, "decoder shape: a model preset (llama-7b, llama-2-13b, llama-3-8b, mistral-7b, qwen2-7b) or tiny")->capture_default_str();
  command->add_option("--model", options->model,
                      "a model's real weights: a model directory or a llama.cpp model.gguf (llama, mistral, qwen2; "
                      "gpu/ and cpu/ engines)");
  command
      ->add_option("--engines", options->engines,
                   "comma-separated: gpu/int4-2:4, gpu/int4-dense, gpu/int{2,3,4,8}-N:M, gpu/cusparselt-fp16-2:4 "
                   "(gpu/cublas-fp16-dense, the baseline, is always run); cpu/int{2,3,4,8}-dense|N:M "
                   "(beside cpu/eigen-fp32-dense)")
      ->capture_default_str();
  command->add_option("--batch", options->batches, "comma-separated batch sizes (sequences per step)")
      ->capture_default_str();
  command->add_option("--context", options->context, "tokens already in the KV cache")->capture_default_str();
  command->add_option("--seed", options->seed, "synthetic weights, cache and tokens")->capture_default_str();
  command->add_option("--timing-seconds", options->timing_seconds, "time spent replaying each step")
      ->capture_default_str();
  command->add_flag("--no-trace", options->no_trace, "skip the per-kernel trace (CUPTI)");
  command
      ->add_option("--cpu-activations", options->cpu_activations,
                   "what cpu/ packed variants multiply with: fp32 (dense and 2:4 / 4:8 formats: the reference's "
                   "logits; other formats fall back to bf16x2), bf16x2 (a high + low bf16 pair, AVX-512 BF16: the "
                   "reference's logits), bf16 (about 1 % off), or int8 per 128 columns (the VNNI kernels: percents "
                   "off on real models)")
      ->check(CLI::IsMember({"fp32", "bf16x2", "bf16", "int8"}))
      ->capture_default_str();
  command
      ->add_option("--kv-cache", options->kv_cache,
                   "the KV cache of gpu/ variants other than the baseline: fp16, or int8 (one scale per cached row: "
                   "half the bytes the attention reads; the logits error includes it)")
      ->check(CLI::IsMember({"fp16", "int8"}))
      ->capture_default_str();
  command->add_flag("--json", options->json, "one JSON object per line");
  command->add_option("--db", options->database,
                      "also store the rows in this results database (the app's Decode view: --view decode)");
  return {command, [options] { return decode(*options); }};
}

}  // namespace nmscope::cli
