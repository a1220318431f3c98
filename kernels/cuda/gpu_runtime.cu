// Device discovery, timing, buffers and the dispatch of nmscope's tensor-core kernels (nm_gemm_tc.cuh).
// Every entry point turns CUDA failures into a result with the reason; nothing here aborts the process.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <sstream>

#include "gpu_runtime_internal.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"
#include "nm_gemm_wgmma.cuh"
#include "packed_gemm.hpp"

namespace nmscope::kernels::cuda {

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw GpuFailure(std::string(what) + ": " + cudaGetErrorString(status));
}

const DeviceStatus& device_status() {
  static const DeviceStatus status = [] {
    DeviceStatus found;
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    // Without a GPU the runtime answers "driver version is insufficient" (there is no driver at all) or "no
    // CUDA-capable device": both mean what a user needs to hear plainly.
    if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver || (error == cudaSuccess && count == 0)) {
      found.reason = std::string("no NVIDIA GPU / driver found (CUDA: ") +
                     (error == cudaSuccess ? "no device" : cudaGetErrorString(error)) + ")";
      cudaGetLastError();
      return found;
    }
    if (error != cudaSuccess) {
      found.reason = std::string("no usable CUDA device: ") + cudaGetErrorString(error);
      cudaGetLastError();
      return found;
    }
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, 0) != cudaSuccess) {
      found.reason = "cannot read the properties of CUDA device 0";
      return found;
    }
    found.name = properties.name;
    found.sm_count = properties.multiProcessorCount;
    found.compute_capability = properties.major * 10 + properties.minor;
    found.l2_bytes = properties.l2CacheSize;
    if (found.compute_capability < 80) {
      found.reason = found.name + " (sm_" + std::to_string(found.compute_capability) +
                     ") has no mma.sp: nmscope's GPU kernels need sm_80 or newer (built for sm_90a)";
      return found;
    }
    found.available = true;
    return found;
  }();
  return status;
}

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
  if (bytes > 0) check_cuda(cudaMalloc(&pointer_, bytes), "cudaMalloc");
}
DeviceBuffer::~DeviceBuffer() {
  if (pointer_) cudaFree(pointer_);
}

int rotation_copies_for(int64_t bytes_per_copy) {
  // Twice the L2 plus one copy: a replayed sequence never finds the copy it reads still resident.
  const int64_t l2 = std::max<int64_t>(device_status().l2_bytes, 50 << 20);
  const int64_t copies = (2 * l2 + bytes_per_copy - 1) / std::max<int64_t>(bytes_per_copy, 1) + 1;
  return int(std::clamp<int64_t>(copies, 2, 64));
}

TimingResult time_launches(const std::function<void(cudaStream_t, int)>& launch, int copies, const GpuTimingSpec& spec,
                           bool use_graph) {
  Stream stream;
  cudaGraphExec_t graph = nullptr;
  if (use_graph) {
    cudaGraph_t captured = nullptr;
    bool capture_ok = cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeThreadLocal) == cudaSuccess;
    if (capture_ok) {
      try {
        for (int copy = 0; copy < copies; ++copy) launch(stream.get(), copy);
      } catch (...) {
        cudaStreamEndCapture(stream.get(), &captured);
        if (captured) cudaGraphDestroy(captured);
        cudaGetLastError();
        throw;
      }
      capture_ok = cudaStreamEndCapture(stream.get(), &captured) == cudaSuccess && captured;
      if (capture_ok) capture_ok = cudaGraphInstantiate(&graph, captured, 0) == cudaSuccess;
      if (captured) cudaGraphDestroy(captured);
    }
    if (!capture_ok) {
      graph = nullptr;
      cudaGetLastError();  // a library that cannot be captured is timed by plain launches
    }
  }
  auto replay = [&] {
    if (graph)
      check_cuda(cudaGraphLaunch(graph, stream.get()), "cudaGraphLaunch");
    else
      for (int copy = 0; copy < copies; ++copy) launch(stream.get(), copy);
  };
  Event start, stop;
  TimingResult result;
  result.graph = graph != nullptr;
  try {
    for (int index = 0; index < spec.warmup; ++index) replay();
    check_cuda(cudaStreamSynchronize(stream.get()), "warm-up");
    check_cuda(cudaEventRecord(start.get(), stream.get()), "cudaEventRecord");
    replay();
    check_cuda(cudaEventRecord(stop.get(), stream.get()), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
    float first_ms = 0;
    check_cuda(cudaEventElapsedTime(&first_ms, start.get(), stop.get()), "cudaEventElapsedTime");
    const int repetitions = std::clamp(int(spec.target_seconds * 1e3 / std::max(first_ms, 1e-3f)), spec.min_repetitions,
                                       spec.max_repetitions);
    std::vector<double> per_call_us;
    for (int index = 0; index < repetitions; ++index) {
      check_cuda(cudaEventRecord(start.get(), stream.get()), "cudaEventRecord");
      replay();
      check_cuda(cudaEventRecord(stop.get(), stream.get()), "cudaEventRecord");
      check_cuda(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
      float ms = 0;
      check_cuda(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
      per_call_us.push_back(double(ms) * 1e3 / copies);
    }
    std::sort(per_call_us.begin(), per_call_us.end());
    auto at = [&](double q) { return per_call_us[size_t(q * double(per_call_us.size() - 1) + 0.5)]; };
    result.median_us = at(0.5);
    result.p10_us = at(0.1);
    result.p90_us = at(0.9);
    result.repetitions = repetitions;
  } catch (...) {
    if (graph) cudaGraphExecDestroy(graph);
    throw;
  }
  if (graph) cudaGraphExecDestroy(graph);
  return result;
}

std::vector<__half> to_half_padded(const float* source, int64_t rows, int64_t cols, int64_t padded_rows,
                                   int64_t padded_cols) {
  std::vector<__half> result(size_t(padded_rows * padded_cols), __float2half(0.0f));
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t col = 0; col < cols; ++col)
      result[size_t(row * padded_cols + col)] = __float2half_rn(source[row * cols + col]);
  return result;
}

double measure_device_bandwidth_gb_per_s() {
  try {
    if (!device_status().available) return 0;
    const size_t bytes = size_t(1) << 30;
    DeviceBuffer source(bytes), target(bytes);
    check_cuda(cudaMemset(source.get(), 1, bytes), "cudaMemset");
    Stream stream;
    Event start, stop;
    float best_ms = 1e30f;
    for (int trial = 0; trial < 6; ++trial) {
      check_cuda(cudaEventRecord(start.get(), stream.get()), "cudaEventRecord");
      check_cuda(cudaMemcpyAsync(target.get(), source.get(), bytes, cudaMemcpyDeviceToDevice, stream.get()), "copy");
      check_cuda(cudaEventRecord(stop.get(), stream.get()), "cudaEventRecord");
      check_cuda(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
      float ms = 0;
      check_cuda(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
      if (trial > 0) best_ms = std::min(best_ms, ms);  // the first copy warms up
    }
    return 2.0 * double(bytes) / (double(best_ms) * 1e6);
  } catch (const std::exception&) {
    cudaGetLastError();
    return 0;
  }
}

namespace {

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// One kernel configuration: the template and how it tiles the problem.
struct Launcher {
  void (*kernel)(TcParams) = nullptr;
  int threads = 0, shared_bytes = 0, cta_rows = 0, cta_batch = 0;
  bool direct = false;  // nm_gemm_direct: one m16 tile per CTA, no split-K across CTAs
  std::string name;
};

// Raises the kernel's dynamic shared-memory limit to what the launcher needs; a configuration past the card's
// 227 KB per block is refused (candidates_for leaves it out).
Launcher& allow_shared_memory(Launcher& launcher) {
  if (launcher.shared_bytes > 227 * 1024)
    throw GpuFailure(launcher.name + " needs " + std::to_string(launcher.shared_bytes) + " bytes of shared memory");
  check_cuda(cudaFuncSetAttribute(launcher.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, launcher.shared_bytes),
             "cudaFuncSetAttribute");
  return launcher;
}

template <int kCodeBits, bool kSparse, int kMt, int kNt, int kWm, int kWn, int kStages, int kMinBlocks = 1>
Launcher tiled_launcher(int tile_bytes) {
  using C = TcConfig<kCodeBits, kSparse, kMt, kNt, kWm, kWn, kStages>;
  Launcher launcher;
  launcher.kernel = nm_gemm_tc<kCodeBits, kSparse, kMt, kNt, kWm, kWn, kStages, kMinBlocks>;
  launcher.threads = C::kThreads;
  launcher.shared_bytes = C::shared_bytes(tile_bytes);
  launcher.cta_rows = C::kCtaRows;
  launcher.cta_batch = C::kCtaBatch;
  std::ostringstream text;
  text << "tiled " << C::kCtaRows << "x" << C::kCtaBatch << " cta, " << kMt * 16 << "x" << kNt * 8 << " warp, "
       << kStages << " stages" << (kMinBlocks > 1 ? ", " + std::to_string(kMinBlocks) + " CTAs per SM" : "");
  launcher.name = text.str();
  return allow_shared_memory(launcher);
}

template <int kCodeBits, bool kSparse, int kNt, int kWarpsAlongK = 0, bool kStagedX = false>
Launcher direct_launcher() {
  using C = DirectConfig<kCodeBits, kSparse, kNt, kWarpsAlongK, kStagedX>;
  Launcher launcher;
  launcher.kernel = nm_gemm_direct<kCodeBits, kSparse, kNt, kWarpsAlongK, kStagedX>;
  launcher.threads = 32 * C::kWarps;
  launcher.shared_bytes = C::kSharedBytes;
  launcher.cta_rows = 16;
  launcher.cta_batch = 8 * kNt;
  launcher.direct = true;
  launcher.name = "direct 16x" + std::to_string(8 * kNt) + " cta, " + std::to_string(C::kWarps) + " warps along K" +
                  (C::kStageX ? ", x via shared memory" : "");
  return allow_shared_memory(launcher);
}

template <int kCodeBits, bool kSparse, int kWarpgroups, int kBlocks, int kN, int kStages>
Launcher wgmma_launcher() {
  using C = WgmmaConfig<kCodeBits, kSparse, kWarpgroups, kBlocks, kN, kStages>;
  Launcher launcher;
  launcher.kernel = nm_gemm_wgmma<kCodeBits, kSparse, kWarpgroups, kBlocks, kN, kStages>;
  launcher.threads = C::kThreads;
  launcher.shared_bytes = C::kSharedBytes;
  launcher.cta_rows = C::kCtaRows;
  launcher.cta_batch = kN;
  std::ostringstream text;
  text << "wgmma " << C::kCtaRows << "x" << kN << " cta, " << kWarpgroups << " warpgroups x " << kBlocks
       << " 64-row slices, " << kStages << " stages";
  launcher.name = text.str();
  return allow_shared_memory(launcher);
}

// The configurations worth timing at this batch; run_packed times each briefly and keeps the fastest, as cuBLASLt's
// heuristic candidates are timed for the baseline. Up to 32 columns the direct kernel streams each tile once,
// straight to registers; the tiled kernel shares x through shared memory, amortizing each dequantized fragment over
// 32-64 columns and each x fragment over 1, 2 or 4 m-tiles. A configuration whose stages do not fit in shared
// memory is left out.
template <int kCodeBits, bool kSparse>
std::vector<Launcher> candidates_for(int64_t batch, int tile_bytes) {
  std::vector<Launcher> list;
  auto add = [&](auto factory) {
    try {
      list.push_back(factory());
    } catch (const GpuFailure&) {
    }
  };
  // Batch 16 and 32 exactly (issue 21): a 32-column tile at batch 16 pads half its x columns, doubling ldmatrix and
  // mma (the 64-column tile, three quarters, is no longer tried there); warps of 2 or 4 m-tiles share each x fragment
  // over them (Sparse-Marlin's ratio is 4). Every tiled CTA is 128 rows: the layout pads rows to 128.
  auto tiled_16 = [&] { return tiled_launcher<kCodeBits, kSparse, 1, 2, 8, 1, 4>(tile_bytes); };
  auto tiled_16_pairs = [&] { return tiled_launcher<kCodeBits, kSparse, 2, 2, 4, 1, 4>(tile_bytes); };
  auto tiled_16_quads = [&] { return tiled_launcher<kCodeBits, kSparse, 4, 2, 2, 1, 4>(tile_bytes); };
  auto tiled_32_pairs = [&] { return tiled_launcher<kCodeBits, kSparse, 2, 4, 4, 1, 4>(tile_bytes); };
  auto tiled_32 = [&] { return tiled_launcher<kCodeBits, kSparse, 1, 4, 8, 1, 4>(tile_bytes); };
  auto tiled_64 = [&] { return tiled_launcher<kCodeBits, kSparse, 1, 8, 8, 1, 4>(tile_bytes); };
  auto tiled_128 = [&] { return tiled_launcher<kCodeBits, kSparse, 2, 8, 4, 2, 3>(tile_bytes); };
  auto tiled_256 = [&] { return tiled_launcher<kCodeBits, kSparse, 4, 8, 2, 4, 2>(tile_bytes); };
  // The 128x128 tile with registers capped and two stages, so two CTAs share an SM.
  auto tiled_128_pair = [&] { return tiled_launcher<kCodeBits, kSparse, 2, 8, 4, 2, 2, 2>(tile_bytes); };
  // Warpgroup kernels (nm_gemm_wgmma.cuh) from 64 columns on: 128 or 256 rows of W by 64-256 columns of x.
  auto wgmma_64 = [] { return wgmma_launcher<kCodeBits, kSparse, 2, 2, 64, 4>(); };
  auto wgmma_128 = [] { return wgmma_launcher<kCodeBits, kSparse, 2, 1, 128, 4>(); };
  auto wgmma_256_tall = [] { return wgmma_launcher<kCodeBits, kSparse, 2, 2, 128, 4>(); };
  auto wgmma_256 = [] { return wgmma_launcher<kCodeBits, kSparse, 2, 1, 256, 3>(); };
  if (batch > 32) {
    add(wgmma_64);
    add(wgmma_128);
    if (batch > 128) {
      add(wgmma_256_tall);
      add(wgmma_256);
    }
  }
  if (batch <= 8) {
    add([] { return direct_launcher<kCodeBits, kSparse, 1>(); });
    add([] { return direct_launcher<kCodeBits, kSparse, 1, 4>(); });
    add([] { return direct_launcher<kCodeBits, kSparse, 1, 16>(); });
    add([] { return direct_launcher<kCodeBits, kSparse, 1, 8, true>(); });
  } else if (batch <= 16) {
    add([] { return direct_launcher<kCodeBits, kSparse, 2>(); });
    add(tiled_16);
    add(tiled_16_pairs);
    add(tiled_16_quads);
    add(tiled_32);
  } else if (batch <= 32) {
    add([] { return direct_launcher<kCodeBits, kSparse, 4>(); });
    add(tiled_32);
    add(tiled_32_pairs);
    add(tiled_64);
  } else if (batch <= 64) {
    add(tiled_32);
    add(tiled_64);
    add(tiled_128);
  } else if (batch <= 256) {
    add(tiled_64);
    add(tiled_128);
    add(tiled_128_pair);
  } else {
    add(tiled_128);
    add(tiled_128_pair);
    add(tiled_256);
  }
  if (list.empty()) add(tiled_32);
  return list;
}

std::vector<Launcher> candidate_launchers(const GpuWeightLayout& layout, int64_t batch) {
  const bool sparse = layout.path == TensorCorePath::Sparse24;
  const int tile_bytes = int(layout.tile_bytes);
  switch (layout.code_bits) {
    case 2:
      return sparse ? candidates_for<2, true>(batch, tile_bytes) : candidates_for<2, false>(batch, tile_bytes);
    case 4:
      return sparse ? candidates_for<4, true>(batch, tile_bytes) : candidates_for<4, false>(batch, tile_bytes);
    default:
      return sparse ? candidates_for<8, true>(batch, tile_bytes) : candidates_for<8, false>(batch, tile_bytes);
  }
}

uint32_t zero_half2_bits(int zero_code) {
  const __half biased = __float2half(1024.0f + float(zero_code));
  uint16_t bits;
  std::memcpy(&bits, &biased, 2);
  return uint32_t(bits) | (uint32_t(bits) << 16);
}

}  // namespace

std::vector<PackedGemmPlan> packed_gemm_plans(const GpuWeightLayout& layout, int64_t batch, const __half* x,
                                              int64_t x_ld, float* y) {
  const DeviceStatus& device = device_status();
  if (!device.available) throw GpuFailure(device.reason);
  if (batch <= 0) throw GpuFailure("empty batch");
  if (x_ld < layout.padded_cols) throw GpuFailure("x rows shorter than the layout's padded columns");
  const size_t y_bytes = size_t(batch * layout.rows) * sizeof(float);
  // A plan: a configuration and how many CTAs split K (each then adds into y with atomics, after a zeroing).
  auto plan_for = [&](const Launcher& launcher, int64_t splits) {
    const int64_t row_tiles = (layout.padded_rows + launcher.cta_rows - 1) / launcher.cta_rows;
    const int64_t batch_tiles = (batch + launcher.cta_batch - 1) / launcher.cta_batch;
    splits = std::clamp<int64_t>(splits, 1, std::max<int64_t>(1, layout.chunks / 4));  // >= 4 chunks a split
    const int64_t chunks_per_split = (layout.chunks + splits - 1) / splits;
    splits = (layout.chunks + chunks_per_split - 1) / chunks_per_split;
    PackedGemmPlan plan;
    plan.kernel = launcher.kernel;
    plan.threads = launcher.threads;
    plan.shared_bytes = launcher.shared_bytes;
    plan.grid = dim3{unsigned(row_tiles), unsigned(batch_tiles), unsigned(splits)};
    plan.y_bytes = y_bytes;
    plan.direct = launcher.direct;
    plan.name = launcher.name;
    TcParams& params = plan.params;
    params.tiles = nullptr;
    params.x = x;
    params.y = y;
    params.chunks = layout.chunks;
    params.tile_bytes = int(layout.tile_bytes);
    params.metadata_bytes = layout.metadata_bytes;
    params.scale_slots = layout.scale_slots;
    params.x_ld = x_ld;
    params.rows = int(layout.rows);
    params.batch = int(batch);
    params.chunks_per_split = int(chunks_per_split);
    params.zero_half2 = zero_half2_bits(layout.zero_code);
    params.accumulate = splits > 1;
    params.stream_weights = batch_tiles == 1;
    return plan;
  };
  // Tiled kernel: splits from none to about two CTAs per SM (more CTAs hide latency; more splits cost atomics
  // on y). The direct kernel splits K among the warps of a CTA instead.
  std::vector<PackedGemmPlan> candidates;
  for (const Launcher& launcher : candidate_launchers(layout, batch)) {
    std::vector<int64_t> split_options = {1};
    if (!launcher.direct) {
      const int64_t row_ctas = (layout.padded_rows + launcher.cta_rows - 1) / launcher.cta_rows;
      const int64_t ctas = row_ctas * ((batch + launcher.cta_batch - 1) / launcher.cta_batch);
      const int64_t fill = (int64_t(device.sm_count) * 2 + ctas - 1) / ctas;
      for (int64_t splits = 2; splits < fill; splits *= 2) split_options.push_back(splits);
      if (fill > 1) split_options.push_back(fill);
    }
    for (int64_t splits : split_options) candidates.push_back(plan_for(launcher, splits));
  }
  return candidates;
}

void launch_packed_gemm(const PackedGemmPlan& plan, const uint8_t* tiles, cudaStream_t stream, bool overlap_launch) {
  TcParams params = plan.params;
  params.tiles = tiles;
  if (params.accumulate) {
    check_cuda(cudaMemsetAsync(params.y, 0, plan.y_bytes, stream), "cudaMemsetAsync");
    overlap_launch = false;
  }
  cudaLaunchConfig_t config{};
  config.gridDim = plan.grid;
  config.blockDim = dim3(unsigned(plan.threads));
  config.dynamicSmemBytes = size_t(plan.shared_bytes);
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attribute;
  config.numAttrs = overlap_launch ? 1 : 0;
  check_cuda(cudaLaunchKernelEx(&config, plan.kernel, params), "kernel launch");
}

size_t fastest_packed_gemm_plan(const std::vector<PackedGemmPlan>& plans, const std::vector<const uint8_t*>& copies) {
  if (plans.empty()) throw GpuFailure("no candidate plan");
  if (plans.size() == 1) return 0;
  GpuTimingSpec quick;
  quick.warmup = 1;
  quick.min_repetitions = 3;
  quick.max_repetitions = 10;
  quick.target_seconds = 0.02;
  double best = 1e30;
  size_t chosen = 0;
  for (size_t index = 0; index < plans.size(); ++index) {
    const TimingResult trial = time_launches(
        [&](cudaStream_t stream, int copy) { launch_packed_gemm(plans[index], copies[size_t(copy)], stream); },
        int(copies.size()), quick, true);
    if (trial.median_us < best) best = trial.median_us, chosen = index;
  }
  return chosen;
}

std::string describe_packed_gemm(const GpuWeightLayout& layout, const PackedGemmPlan& plan) {
  std::ostringstream text;
  text << (layout.path == TensorCorePath::Sparse24 ? "mma.sp m16n8k32" : "mma.sync m16n8k16") << ", "
       << layout.code_bits << "-bit codes, " << plan.name << ", grid " << plan.grid.x << "x" << plan.grid.y << "x"
       << plan.grid.z << (plan.params.accumulate ? " (split-K)" : "");
  return text.str();
}

GpuRun run_packed(const GpuWeightLayout& layout, const float* x, int64_t batch, const GpuTimingSpec& timing) {
  GpuRun run;
  try {
    const DeviceStatus& device = device_status();
    if (!device.available) throw GpuFailure(device.reason);
    if (batch <= 0) throw GpuFailure("empty batch");
    const int64_t tile_bytes = int64_t(layout.tiles.size());
    const int64_t copy_bytes = round_up(tile_bytes, 256);
    run.weight_bytes = layout.storage_bytes();
    run.copies = rotation_copies_for(run.weight_bytes);
    DeviceBuffer weights(size_t(copy_bytes * run.copies));
    std::vector<const uint8_t*> copies;
    for (int copy = 0; copy < run.copies; ++copy) {
      check_cuda(cudaMemcpy(weights.as<uint8_t>() + copy * copy_bytes, layout.tiles.data(), size_t(tile_bytes),
                            cudaMemcpyHostToDevice),
                 "upload tiles");
      copies.push_back(weights.as<uint8_t>() + copy * copy_bytes);
    }
    const int64_t batch_pad = round_up(batch, 128);
    const std::vector<__half> x_half = to_half_padded(x, batch, layout.cols, batch_pad, layout.padded_cols);
    DeviceBuffer x_device(x_half.size() * sizeof(__half));
    check_cuda(cudaMemcpy(x_device.get(), x_half.data(), x_half.size() * sizeof(__half), cudaMemcpyHostToDevice),
               "upload x");
    const size_t y_bytes = size_t(batch * layout.rows) * sizeof(float);
    DeviceBuffer y(y_bytes);

    const std::vector<PackedGemmPlan> candidates =
        packed_gemm_plans(layout, batch, x_device.as<__half>(), layout.padded_cols, y.as<float>());
    run.plans = int(candidates.size());
    if (timing.plan >= run.plans) throw GpuFailure("no candidate plan " + std::to_string(timing.plan));
    const PackedGemmPlan& chosen =
        candidates[timing.plan >= 0 ? size_t(timing.plan) : fastest_packed_gemm_plan(candidates, copies)];
    auto launch = [&](cudaStream_t stream, int copy) { launch_packed_gemm(chosen, copies[size_t(copy)], stream); };

    // The checked call: y poisoned with NaN first, so an element no CTA writes shows up as an error.
    check_cuda(cudaMemset(y.get(), 0xff, y_bytes), "poison y");
    {
      Stream stream;
      launch(stream.get(), 0);
      check_cuda(cudaStreamSynchronize(stream.get()), "kernel");
    }
    run.output.resize(size_t(batch * layout.rows));
    check_cuda(cudaMemcpy(run.output.data(), y.get(), y_bytes, cudaMemcpyDeviceToHost), "download y");

    const TimingResult timed = time_launches(launch, run.copies, timing, true);
    run.median_us = timed.median_us;
    run.p10_us = timed.p10_us;
    run.p90_us = timed.p90_us;
    run.repetitions = timed.repetitions;
    std::ostringstream config;
    config << describe_packed_gemm(layout, chosen) << (timed.graph ? ", CUDA graph" : "") << "; fastest of "
           << candidates.size() << " configurations";
    run.config = config.str();
    run.ok = true;
  } catch (const std::exception& error) {
    run.ok = false;
    run.error = error.what();
    cudaGetLastError();
  }
  return run;
}

}  // namespace nmscope::kernels::cuda
