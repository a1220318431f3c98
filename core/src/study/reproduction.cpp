// `reproduce hsieh2025` (reproduction.hpp): the layer figures through the study runner, the decode figures through
// the decoder steps, every value measured in this run.
#include "nmscope/reproduction.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nmscope/cpu_decoder.hpp"
#include "nmscope/decode_measurement.hpp"
#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/fpga_decode_step.hpp"
#include "nmscope/gpu_decode.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/model_rollup.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/units.hpp"

namespace nmscope {

namespace {

constexpr int64_t kLayer = 4096;
const char* const kLayerSource = "synth:4096x4096:dist=llm:seed=2025";
const char* const kFpgaArray = "fpga/systolic-32x32";

std::string format_ratio(double value) {
  if (std::isnan(value)) return "—";
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", value);
  return text;
}

std::string format_double(double value, const char* format) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// LLaMA-7B as the paper ran it: the shape preset (resources/models/llama-7b.json).
ModelConfig llama_7b_shape() { return find_model_preset("llama-7b")->config; }

int64_t weight_bytes_of(const Measurement& row) {
  const auto details = nlohmann::json::parse(row.details_json, nullptr, false);
  if (details.is_object() && details.contains("weight_bytes") && details["weight_bytes"].is_number_integer())
    return details["weight_bytes"].get<int64_t>();
  return row.storage_bytes;
}

struct LayerRun {
  std::map<std::string, Measurement> rows;  // by engine and pattern ("engine|pattern")
  std::vector<std::string> skipped;         // the runner's one-line reasons
  std::string study_id;
};

LayerRun run_layer(const std::vector<std::string>& engines, const std::vector<NMPattern>& patterns,
                   const ReproductionOptions& options, ResultsStore* store, const std::string& study_id) {
  StudySpec spec;
  spec.sources = {kLayerSource};
  spec.patterns = patterns;
  spec.bits = {4};
  spec.engines.clear();
  for (const std::string& engine : engines) spec.engines += (spec.engines.empty() ? "" : ",") + engine;
  spec.batches = {1};
  spec.timing.target_seconds = options.timing_seconds;
  spec.engine_options.fpga_arrays = fpga::parse_array_sizes("32x32");
  LayerRun run;
  StudyObserver observer;
  observer.measured = [&](const Measurement& row) { run.rows[row.engine + "|" + row.pattern.to_string()] = row; };
  observer.skipped = [&](const Error& error) { run.skipped.push_back(error.what()); };
  const StudySummary summary = run_study(spec, store, observer, options.cancel);
  if (summary.cancelled) throw Cancelled();
  run.study_id = summary.study_id;
  (void)study_id;
  return run;
}

std::string why_missing(const LayerRun& run, const std::string& engine) {
  for (const std::string& reason : run.skipped)
    if (reason.find(engine) != std::string::npos) return reason;
  const auto& registry = EngineRegistry::global();
  for (const auto& candidate : registry.engines())
    if (candidate->name() == engine && !candidate->availability().available)
      return engine + " unavailable: " + candidate->availability().reason;
  return engine + " was not measured";
}

// Storage and matmul of one family from the layer rows: `engine` against `baseline` (same run, batch 1).
void layer_cells(const std::string& family, const std::string& engine, const std::string& baseline,
                 const std::string& baseline_pattern, const LayerRun& run, std::vector<ReproductionCell>& cells) {
  ReproductionCell storage{"storage", family, engine, "fp16 weights"};
  ReproductionCell matmul{"matmul", family, engine, baseline};
  const auto row = run.rows.find(engine + "|2:4");
  const auto base = run.rows.find(baseline + "|" + baseline_pattern);
  if (row == run.rows.end() || row->second.status != "ok") {
    storage.note = matmul.note = row == run.rows.end() ? why_missing(run, engine) : row->second.note;
  } else {
    const int64_t bytes = weight_bytes_of(row->second);
    storage.ours = double(2 * kLayer * kLayer) / double(bytes);
    // Beside the paper's layer figure, the whole LLaMA-7B model as the decode steps store it (head, 4-bit embedding
    // table and norms included), counted from the shape.
    QuantConfig quant;
    quant.bits = 4;
    quant.group = 128;
    const DecoderModelBytes model = decoder_model_bytes(llama_7b_shape(), NMPattern{2, 4}, quant);
    storage.how = std::to_string(bytes) + " B vs " + std::to_string(2 * kLayer * kLayer) +
                  " B fp16; whole LLaMA-7B model, everything counted: " +
                  format_ratio(double(model.fp16_bytes) / double(model.bytes)) + " (" + std::to_string(model.bytes) +
                  " B)";
    const bool cycles = family == "fpga";
    if (base == run.rows.end() || base->second.status != "ok") {
      matmul.note = base == run.rows.end() ? why_missing(run, baseline) : base->second.note;
    } else if (cycles && row->second.cycles && base->second.cycles) {
      matmul.ours = double(*base->second.cycles) / double(*row->second.cycles);
      matmul.how = std::to_string(*row->second.cycles) + " vs " + std::to_string(*base->second.cycles) +
                   " cycles (dense INT4 on the same array)";
    } else if (!cycles && row->second.time_us && base->second.time_us) {
      matmul.ours = *base->second.time_us / *row->second.time_us;
      matmul.how = format_double(*row->second.time_us, "%.1f") + " vs " +
                   format_double(*base->second.time_us, "%.1f") + " µs, batch 1, error " +
                   format_double(row->second.engine_rel_err.value_or(NAN), "%.2g");
    } else {
      matmul.note = "no time in the rows";
    }
  }
  cells.push_back(storage);
  cells.push_back(matmul);
}

// End-to-end latency (batch `latency_batch`) and per-token throughput (batch `throughput_batch`) of the LLaMA-7B
// decode step on the CPU: cpu/int4-2:4 against cpu/eigen-fp32-dense, same shape, cache and tokens.
void cpu_decode_cells(const ReproductionOptions& options, ResultsStore* store, const std::string& study_id,
                      std::vector<ReproductionCell>& cells) {
  const ModelConfig shape = llama_7b_shape();
  TimingOptions timing;
  timing.warmup = 1;
  timing.min_repetitions = 3;
  timing.max_repetitions = 20;
  timing.target_seconds = options.timing_seconds;
  const auto report = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  // The peak: the packed decoder, its fp32 reference and the fp32 baseline, with two KV caches alive at a time
  // (21.4 GB at batch 16, context 512). Refused before any weight is made when it would not fit.
  const int64_t largest = std::max(options.latency_batch, options.throughput_batch);
  const CpuDecodeMemory one = estimate_cpu_decode_memory(shape, true, 8, largest, options.context);
  const int64_t needed = one.total() + one.fp32_weights;
  if (const int64_t available = available_memory_bytes(); available > 0 && needed > available - (int64_t{512} << 20))
    throw SettingError(largest == options.throughput_batch ? Setting::ThroughputBatch : Setting::LatencyBatch,
                       "the CPU decode step of LLaMA-7B at batch " + std::to_string(largest) + ", context " +
                           std::to_string(options.context) + " needs about " + format_bytes(uint64_t(needed)) + ", " +
                           format_bytes(uint64_t(available)) +
                           " are available: use a smaller batch or --context, or leave cpu out of --engines");
  report("cpu: LLaMA-7B decoder, synthetic weights, cpu/int4-2:4 and cpu/eigen-fp32-dense");
  CpuDecoder packed = CpuDecoder::synthetic(shape, CpuDecodeVariant::parse("cpu/int4-2:4"), options.seed);
  CpuDecoder dense = CpuDecoder::synthetic(shape, CpuDecodeVariant::parse(kCpuDecodeBaseline), options.seed);
  std::map<int64_t, std::pair<CpuDecodeRun, CpuDecodeRun>> runs;
  for (const int64_t batch : {options.latency_batch, options.throughput_batch}) {
    if (runs.count(batch)) continue;
    report("cpu: decode step, batch " + std::to_string(batch) + ", context " + std::to_string(options.context));
    // The compressed step's logits are checked against its own weights dequantized: built and dropped here, so
    // only one fp32 copy of the model is alive at a time beside the baseline's.
    CpuDecodeRun compressed;
    {
      CpuDecoder reference = packed.dequantized();
      compressed = time_cpu_decode(packed, &reference, batch, options.context, timing, options.seed, options.cancel);
    }
    const CpuDecodeRun baseline =
        time_cpu_decode(dense, nullptr, batch, options.context, timing, options.seed, options.cancel);
    if (store) {
      store->insert(decode_measurement(compressed, "llama-7b", true, study_id));
      store->insert(decode_measurement(baseline, "llama-7b", true, study_id));
    }
    runs[batch] = {compressed, baseline};
  }
  const auto cell = [&](const std::string& figure, int64_t batch, bool throughput) {
    const auto& [compressed, baseline] = runs.at(batch);
    ReproductionCell result{figure, "cpu", "cpu/int4-2:4", kCpuDecodeBaseline};
    result.ours = throughput ? compressed.tokens_per_second / baseline.tokens_per_second
                             : baseline.step.median_us / compressed.step.median_us;
    result.how = throughput ? format_double(compressed.tokens_per_second, "%.2f") + " vs " +
                                  format_double(baseline.tokens_per_second, "%.2f") + " tokens/s, batch " +
                                  std::to_string(batch)
                            : format_double(compressed.step.median_us / 1000, "%.1f") + " vs " +
                                  format_double(baseline.step.median_us / 1000, "%.1f") + " ms/step, batch " +
                                  std::to_string(batch);
    result.how += ", logits error " + format_double(compressed.relative_error, "%.2g");
    return result;
  };
  cells.push_back(cell("end_to_end", options.latency_batch, false));
  cells.push_back(cell("per_token", options.throughput_batch, true));
}

// The same two figures on the modelled FPGA array (fpga_decode_step.hpp): LLaMA-7B's linear layers through the 32x32
// array's cycle model with its memory (one DDR4-2400 channel at 250 MHz), attention on the host; 2:4 + INT4 against
// a dense fp16 design on the same schedule and bandwidth, dense INT8 quoted beside it.
void fpga_decode_cells(const ReproductionOptions& options, std::vector<ReproductionCell>& cells) {
  const ModelConfig shape = llama_7b_shape();
  const fpga::ArraySize array{32, 32};
  const fpga::MemorySystem memory = fpga::default_memory_system();
  FpgaDecodeDesign ours;
  ours.pattern = NMPattern{2, 4};
  FpgaDecodeDesign fp16;
  fp16.fp16 = true;
  FpgaDecodeDesign int8;
  int8.bits = 8;
  if (options.progress)
    options.progress("fpga: LLaMA-7B decode step on the modelled 32x32 array, " + memory.to_string());
  const auto cell = [&](const std::string& figure, int64_t batch, bool throughput) {
    const FpgaDecodeStep a =
        fpga_decode_step(shape, ours, batch, options.context, array, fpga::kDefaultClockMhz, memory);
    const FpgaDecodeStep b =
        fpga_decode_step(shape, fp16, batch, options.context, array, fpga::kDefaultClockMhz, memory);
    const FpgaDecodeStep c =
        fpga_decode_step(shape, int8, batch, options.context, array, fpga::kDefaultClockMhz, memory);
    ReproductionCell result{figure, "fpga", std::string(kFpgaArray) + " (model)", "dense fp16 design (model)"};
    result.ours = throughput ? a.tokens_per_second / b.tokens_per_second : b.step_us / a.step_us;
    result.how = throughput ? format_double(a.tokens_per_second, "%.2f") + " vs " +
                                  format_double(b.tokens_per_second, "%.2f") + " tokens/s"
                            : format_double(a.step_us / 1000, "%.1f") + " vs " +
                                  format_double(b.step_us / 1000, "%.1f") + " ms/step";
    result.how += ", batch " + std::to_string(batch) + ", context " + std::to_string(options.context) + "; " +
                  (a.memory_bound ? "memory" : "compute") + "-bound (fp16: " + (b.memory_bound ? "memory" : "compute") +
                  "-bound); vs dense INT8 " + format_ratio(c.step_us / a.step_us) + "; attention on the host " +
                  format_double(a.host_us / 1000, "%.1f") + " ms; " + memory.to_string() + ", 250 MHz, cycle model";
    return result;
  };
  cells.push_back(cell("end_to_end", options.latency_batch, false));
  cells.push_back(cell("per_token", options.throughput_batch, true));
}

// The same two figures on the GPU decoder step (gpu_decoder.hpp): gpu/int4-2:4 beside gpu/cublas-fp16-dense,
// LLaMA-7B, synthetic weights, one CUDA graph per step.
void gpu_decode_cells(const ReproductionOptions& options, ResultsStore* store, const std::string& study_id,
                      std::vector<ReproductionCell>& cells) {
  DecodeStudyOptions study;
  study.shape = decoder_preset("llama-7b");
  study.engines = {"gpu/int4-2:4"};
  study.batches = {options.latency_batch};
  if (options.throughput_batch != options.latency_batch) study.batches.push_back(options.throughput_batch);
  study.context = options.context;
  study.seed = options.seed;
  study.timing_seconds = options.timing_seconds;
  study.kernel_trace = false;
  if (options.progress) options.progress("gpu: LLaMA-7B decode step, gpu/int4-2:4 and gpu/cublas-fp16-dense");
  std::map<std::pair<std::string, int64_t>, DecodeRow> rows;
  for (const DecodeRow& row : run_decode_study(study)) {
    rows[{row.engine, row.batch}] = row;
    if (store && row.status == "ok") store->insert(decode_measurement(row, "llama-7b", true, study_id));
  }
  const auto cell = [&](const std::string& figure, int64_t batch, bool throughput) {
    ReproductionCell result{figure, "gpu", "gpu/int4-2:4", kDecodeBaseline};
    const auto ours = rows.find({"gpu/int4-2:4", batch});
    const auto base = rows.find({kDecodeBaseline, batch});
    if (ours == rows.end() || ours->second.status != "ok") {
      result.note = ours == rows.end() ? "not measured" : ours->second.status + ": " + ours->second.note;
    } else if (base == rows.end() || base->second.status != "ok") {
      result.note = base == rows.end() ? "baseline not measured" : base->second.status + ": " + base->second.note;
    } else {
      const auto& run = ours->second.run;
      const auto& baseline = base->second.run;
      result.ours = throughput ? run.tokens_per_s / baseline.tokens_per_s : baseline.step_ms / run.step_ms;
      result.how = throughput ? format_double(run.tokens_per_s, "%.0f") + " vs " +
                                    format_double(baseline.tokens_per_s, "%.0f") + " tokens/s, batch " +
                                    std::to_string(batch)
                              : format_double(run.step_ms, "%.3f") + " vs " + format_double(baseline.step_ms, "%.3f") +
                                    " ms/step, batch " + std::to_string(batch);
      result.how += ", logits error " + format_double(ours->second.relative_error, "%.2g") + " (" +
                    format_double(ours->second.storage_ratio, "%.2f") + "x smaller model)";
    }
    return result;
  };
  cells.push_back(cell("end_to_end", options.latency_batch, false));
  cells.push_back(cell("per_token", options.throughput_batch, true));
}

bool wants(const ReproductionOptions& options, const std::string& family) {
  return std::find(options.families.begin(), options.families.end(), family) != options.families.end();
}

}  // namespace

const std::vector<PaperFigure>& hsieh2025_figures() {
  static const std::vector<PaperFigure> figures = {
      {"storage", "weight storage vs fp16 (4096x4096, 2:4 + INT4)", 4.0},
      {"matmul", "matmul speedup vs dense (4096x4096)", 1.71},
      {"end_to_end", "end-to-end latency vs dense", 1.29},
      {"per_token", "per-token throughput vs dense (LLaMA-7B)", 1.36},
  };
  return figures;
}

Reproduction reproduce_hsieh2025(const ReproductionOptions& options, ResultsStore* store) {
  for (const std::string& family : options.families)
    if (family != "cpu" && family != "gpu" && family != "fpga")
      throw SettingError(Setting::Engines, "'" + family + "' is not an engine family (cpu, gpu, fpga)");
  const auto report = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  Reproduction result;
  std::vector<std::string> engines;
  if (wants(options, "cpu")) engines.insert(engines.end(), {"cpu/int4-2:4", "cpu/eigen-fp32-dense"});
  if (wants(options, "gpu")) engines.insert(engines.end(), {"gpu/int4-2:4", "gpu/cublas-fp16-dense"});
  LayerRun layer;
  if (!engines.empty()) {
    report("4096x4096 layer, 2:4 + INT4, batch 1: " + std::to_string(engines.size()) + " engines");
    layer = run_layer(engines, {NMPattern{2, 4}}, options, store, {});
    result.study_id = layer.study_id;
  }
  if (wants(options, "cpu")) layer_cells("cpu", "cpu/int4-2:4", "cpu/eigen-fp32-dense", "2:4", layer, result.cells);
  if (wants(options, "gpu")) layer_cells("gpu", "gpu/int4-2:4", "gpu/cublas-fp16-dense", "2:4", layer, result.cells);
  if (wants(options, "fpga")) {
    report("4096x4096 layer on the 32x32 FPGA array: 2:4 + INT4 and dense INT4");
    const LayerRun fpga = run_layer({"fpga"}, {NMPattern{2, 4}, NMPattern::dense()}, options, store, {});
    if (result.study_id.empty()) result.study_id = fpga.study_id;
    layer_cells("fpga", kFpgaArray, kFpgaArray, "dense", fpga, result.cells);
  }
  if (result.study_id.empty()) result.study_id = "reproduction";
  if (wants(options, "cpu")) cpu_decode_cells(options, store, result.study_id, result.cells);
  if (wants(options, "gpu")) gpu_decode_cells(options, store, result.study_id, result.cells);
  if (wants(options, "fpga")) fpga_decode_cells(options, result.cells);
  return result;
}

std::string reproduction_table(const Reproduction& reproduction) {
  std::ostringstream text;
  text << "Hsieh et al. 2025 (2:4 + INT4) reproduced: ratios against each engine's dense baseline, measured in this "
          "run\n";
  text << "Weights: " << synthetic_weights_note(kLayerSource)
       << " (the LLaMA-7B decoder steps use the same generator)\n";
  for (const PaperFigure& figure : hsieh2025_figures()) {
    text << "\n" << figure.label << ": paper " << format_ratio(figure.paper) << "\n";
    for (const ReproductionCell& cell : reproduction.cells) {
      if (cell.figure != figure.key) continue;
      text << "  " << cell.family << "  " << cell.engine << "  ";
      if (std::isnan(cell.ours)) {
        text << "— (" << cell.note << ")\n";
      } else {
        text << format_ratio(cell.ours) << "  (" << format_ratio(cell.ours / figure.paper) << " the paper's; "
             << cell.how << "; vs " << cell.baseline << ")\n";
      }
    }
  }
  return text.str();
}

std::string reproduction_markdown(const Reproduction& reproduction, const std::string& command) {
  std::ostringstream text;
  text << "| figure | paper | engine | ours | ours / paper | measured | baseline |\n|---|---|---|---|---|---|---|\n";
  for (const PaperFigure& figure : hsieh2025_figures())
    for (const ReproductionCell& cell : reproduction.cells) {
      if (cell.figure != figure.key) continue;
      text << "| " << figure.label << " | " << format_ratio(figure.paper) << " | " << cell.engine << " | "
           << format_ratio(cell.ours) << " | " << (std::isnan(cell.ours) ? "—" : format_ratio(cell.ours / figure.paper))
           << " | " << (std::isnan(cell.ours) ? cell.note : cell.how) << " | " << cell.baseline << " |\n";
    }
  text << "\nWeights: " << synthetic_weights_note(kLayerSource)
       << " (the LLaMA-7B decoder steps use the same generator)  \nCommand: `" << command
       << "`  \nMachine: " << host_description() << "  \nBuild: " << build_description()
       << "  \nStudy id in the results database: " << reproduction.study_id << "\n";
  return text.str();
}

}  // namespace nmscope
