#include "nmscope/decode_measurement.hpp"

#include <nlohmann/json.hpp>

#include "nmscope/cpu_decoder.hpp"
#include "nmscope/gpu_decode.hpp"
#include "nmscope/host_info.hpp"

namespace nmscope {

namespace {

// The fields every decode row shares: the tensor names the step, the configuration is the variant's.
Measurement step_row(const std::string& engine, const NMPattern& pattern, int bits, int64_t batch, int64_t context,
                     const std::string& model, bool synthetic, const std::string& study_id) {
  Measurement row;
  row.study_id = study_id;
  row.source = (synthetic ? "synth:" + model : model) + " decode step";
  row.source_hash = "decode-" + model;
  row.tensor = "decode-step ctx" + std::to_string(context);
  row.pattern = pattern;
  // the decoders quantize in groups of 128 (core/src/decode)
  row.quant = bits >= 16 ? QuantConfig::fp16() : QuantConfig{bits, Granularity::Group, 128, true};
  row.criterion = "magnitude";
  row.engine = engine;
  row.batch = int(batch);
  row.status = "ok";
  row.host = host_description();
  row.build = build_description();
  return row;
}

}  // namespace

Measurement decode_measurement(const CpuDecodeRun& run, const std::string& model, bool synthetic,
                               const std::string& study_id) {
  const CpuDecodeVariant variant = CpuDecodeVariant::parse(run.engine);
  Measurement row = step_row(run.engine, variant.pattern, variant.packed ? variant.bits : 16, run.batch, run.context,
                             model, synthetic, study_id);
  // The whole model, everything counted (linear layers, head, embedding table, norms), as the GPU rows count it.
  row.storage_bytes = run.model_bytes;
  row.compression_vs_fp16 = double(run.fp16_model_bytes) / double(run.model_bytes);
  row.time_us = run.step.median_us;
  row.time_p10_us = run.step.p10_us;
  row.time_p90_us = run.step.p90_us;
  row.engine_rel_err = run.relative_error;
  row.details_json = nlohmann::json{{"decode_step", true},
                                    {"model", model},
                                    {"context", run.context},
                                    {"tokens_per_s", run.tokens_per_second},
                                    {"bytes_read", run.bytes_read},
                                    {"bandwidth_gbs", run.bandwidth_gbs},
                                    {"top1_agreement", run.top1_agreement},
                                    {"reference", run.reference},
                                    {"isa", run.isa}}
                         .dump();
  return row;
}

Measurement decode_measurement(const DecodeRow& decoded, const std::string& model, bool synthetic,
                               const std::string& study_id) {
  const DecodeVariant variant = DecodeVariant::parse(decoded.engine);
  Measurement row = step_row(decoded.engine, variant.pattern, variant.bits, decoded.batch, decoded.context, model,
                             synthetic, study_id);
  row.storage_bytes = decoded.run.weight_bytes;
  row.compression_vs_fp16 = decoded.storage_ratio;
  row.time_us = decoded.run.step_ms * 1000;
  row.time_p10_us = decoded.run.p10_ms * 1000;
  row.time_p90_us = decoded.run.p90_ms * 1000;
  row.engine_rel_err = decoded.relative_error;
  nlohmann::json details = {{"decode_step", true},
                            {"model", model},
                            {"context", decoded.context},
                            {"tokens_per_s", decoded.run.tokens_per_s},
                            {"bytes_read", decoded.run.step_bytes},
                            {"bandwidth_gbs", decoded.run.achieved_gb_per_s},
                            {"top1_agreement", decoded.top1_agreement},
                            {"reference", decoded.reference}};
  if (decoded.run.trace_error.empty() && decoded.run.kernels > 0) {
    details["linear_kernel_ms"] = decoded.run.linear_kernel_ms;
    details["attention_kernel_ms"] = decoded.run.attention_kernel_ms;
    details["other_kernel_ms"] = decoded.run.other_kernel_ms;
    details["launch_gap_fraction"] = decoded.run.launch_gap_fraction;
  }
  row.details_json = details.dump();
  return row;
}

std::optional<DecodeFigures> decode_figures(const Measurement& row) {
  const nlohmann::json details = nlohmann::json::parse(row.details_json, nullptr, false);
  if (!details.is_object() || !details.value("decode_step", false) || !row.time_us || *row.time_us <= 0)
    return std::nullopt;
  const auto number = [&](const char* key) -> std::optional<double> {
    const auto found = details.find(key);
    if (found == details.end() || !found->is_number()) return std::nullopt;
    return found->get<double>();
  };
  DecodeFigures figures;
  // Rows stored before the model and context were in the details (reproduce, LLaMA-7B) name them in source and tensor.
  figures.model = details.contains("model") && details["model"].is_string() ? details["model"].get<std::string>()
                                                                              : std::string("llama-7b");
  if (const auto context = number("context")) {
    figures.context = int64_t(*context);
  } else if (const auto at = row.tensor.rfind("ctx"); at != std::string::npos) {
    figures.context = std::atoll(row.tensor.c_str() + at + 3);
  }
  figures.ms_per_token = *row.time_us / 1000;
  figures.tokens_per_s = number("tokens_per_s").value_or(row.batch > 0 ? row.batch * 1e6 / *row.time_us : 0);
  figures.reference = details.value("reference", std::string());
  if (!figures.reference.empty() && row.engine_rel_err) figures.relative_error = *row.engine_rel_err;
  if (!figures.reference.empty()) figures.top1_agreement = number("top1_agreement").value_or(-1);
  figures.linear_kernel_ms = number("linear_kernel_ms");
  figures.attention_kernel_ms = number("attention_kernel_ms");
  figures.other_kernel_ms = number("other_kernel_ms");
  figures.launch_gap_fraction = number("launch_gap_fraction");
  return figures;
}

}  // namespace nmscope
