#include "cpu_decode_rows.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "nmscope/cpu_decoder.hpp"
#include "nmscope/decode_measurement.hpp"
#include "nmscope/units.hpp"

namespace nmscope::cli {

namespace {

CpuDecoder build(const CpuDecodeRequest& request, const CpuDecodeVariant& variant) {
  return request.model ? CpuDecoder::from_model(*request.model, variant)
                       : CpuDecoder::synthetic(request.shape, variant, request.seed);
}

void print(const CpuDecodeRun& run, double speedup, bool json) {
  // The whole model, everything counted: linear layers, head, embedding table, norm gains.
  const double ratio = double(run.fp16_model_bytes) / double(run.model_bytes);
  if (json) {
    std::cout << nlohmann::json{{"engine", run.engine},
                                {"batch", run.batch},
                                {"context", run.context},
                                {"status", "ok"},
                                {"ms_per_token", run.step.median_us / 1000},
                                {"p10_ms", run.step.p10_us / 1000},
                                {"p90_ms", run.step.p90_us / 1000},
                                {"tokens_per_s", run.tokens_per_second},
                                {"speedup", speedup},
                                {"linear_weight_bytes", run.linear_bytes},
                                {"fp16_linear_weight_bytes", run.fp16_linear_bytes},
                                {"weight_bytes", run.model_bytes},
                                {"fp16_weight_bytes", run.fp16_model_bytes},
                                {"storage_ratio", ratio},
                                {"relative_error", run.relative_error},
                                {"top1_agreement", run.top1_agreement},
                                {"reference", run.reference},
                                {"step_bytes", run.bytes_read},
                                {"achieved_gb_per_s", run.bandwidth_gbs},
                                {"isa", run.isa}}
                     .dump()
              << std::endl;
    return;
  }
  char speedup_text[32] = "-";
  if (speedup > 0) std::snprintf(speedup_text, sizeof speedup_text, "%.2fx", speedup);
  std::printf("%-24s %5lld %7lld %9.3f %10.2f %8s %10s %6.2fx %9s %9.2e %6.1f%% %6s %7.1f\n", run.engine.c_str(),
              (long long)run.batch, (long long)run.context, run.step.median_us / 1000, run.tokens_per_second,
              speedup_text, format_bytes(std::uint64_t(run.model_bytes)).c_str(), ratio, "-", run.relative_error,
              100.0 * run.top1_agreement, "-", run.bandwidth_gbs);
  std::printf("  %s kernels; reads %s per step; checked against %s\n", run.isa.c_str(),
              format_bytes(std::uint64_t(run.bytes_read)).c_str(), run.reference.c_str());
  std::fflush(stdout);
}

}  // namespace

int run_cpu_decode_rows(const CpuDecodeRequest& request) {
  std::vector<CpuDecodeVariant> variants = {CpuDecodeVariant::parse(kCpuDecodeBaseline)};
  for (const std::string& engine : request.engines)
    if (engine != kCpuDecodeBaseline) variants.push_back(CpuDecodeVariant::parse(engine));
  TimingOptions timing;
  timing.warmup = 1;
  timing.min_repetitions = 3;
  timing.max_repetitions = 50;
  timing.target_seconds = request.timing_seconds;
  int rows = 0;
  std::map<int64_t, double> baseline_tokens_per_second;
  for (const CpuDecodeVariant& variant : variants) {
    // One variant's weights at a time (a 7B baseline holds fp32 layers); its reference only while it is checked.
    CpuDecoder decoder = build(request, variant);
    for (const int64_t batch : request.batches) {
      CpuDecodeRun run;
      if (variant.packed) {
        CpuDecoder reference = decoder.dequantized();
        run = time_cpu_decode(decoder, &reference, batch, request.context, timing, request.seed);
      } else {
        run = time_cpu_decode(decoder, nullptr, batch, request.context, timing, request.seed);
        baseline_tokens_per_second[batch] = run.tokens_per_second;
      }
      const auto baseline = baseline_tokens_per_second.find(batch);
      print(run, baseline != baseline_tokens_per_second.end() ? run.tokens_per_second / baseline->second : 0,
            request.json);
      if (request.store)
        request.store->insert(decode_measurement(run, request.model_name, request.model == nullptr, request.study_id));
      ++rows;
    }
  }
  return rows;
}

}  // namespace nmscope::cli
