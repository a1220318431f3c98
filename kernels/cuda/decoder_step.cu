// The decoder step (decoder.hpp): the model's weights uploaded once (each block its own device copy), then per case
// a KV cache, the linear layers' plans, one CUDA graph of the whole step, its timing and a kernel trace.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "decoder_kernels.cuh"
#include "gpu_runtime_internal.hpp"
#include "kernel_trace.hpp"
#include "library_gemm.hpp"
#include "nmscope/kernels/cuda/decoder.hpp"
#include "packed_gemm.hpp"

namespace nmscope::kernels::cuda {

namespace {

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }
double gigabytes(int64_t bytes) { return double(bytes) / 1e9; }

// One role's weights on the device: `copies` (one per block; one for the head) at `stride` bytes apart. For
// cuSPARSELt this is one fp16 staging copy; the compressed copies are made per case (their plan depends on it).
struct RoleOnDevice {
  LinearKind kind = LinearKind::CublasFp16;
  int64_t rows = 0, cols = 0;
  int copies = 1;
  size_t stride = 0;
  int64_t bytes_per_copy = 0;  // what one call reads
  std::unique_ptr<DeviceBuffer> storage;
  GpuWeightLayout geometry;  // packed: the layout without its tiles
  const uint8_t* copy(int index) const { return storage->as<uint8_t>() + size_t(index) * stride; }
};

RoleOnDevice upload_role(const LinearWeights& weights, int copies) {
  RoleOnDevice role;
  role.kind = weights.kind;
  role.rows = weights.rows;
  role.cols = weights.cols;
  role.copies = weights.kind == LinearKind::CusparseltFp16 ? 1 : copies;
  const uint8_t* host = nullptr;
  size_t host_bytes = 0;
  std::vector<__half> half_weights;
  if (weights.kind == LinearKind::Packed) {
    role.geometry = weights.layout;
    role.geometry.tiles.clear();
    role.geometry.tiles.shrink_to_fit();
    host = weights.layout.tiles.data();
    host_bytes = weights.layout.tiles.size();
  } else {
    if (int64_t(weights.dense.size()) != weights.rows * weights.cols)
      throw GpuFailure("dense weights of the wrong size");
    half_weights = to_half_padded(weights.dense.data(), weights.rows, weights.cols, weights.rows, weights.cols);
    host = reinterpret_cast<const uint8_t*>(half_weights.data());
    host_bytes = half_weights.size() * sizeof(__half);
  }
  role.bytes_per_copy = int64_t(host_bytes);
  role.stride = size_t(round_up(int64_t(host_bytes), 256));
  role.storage = std::make_unique<DeviceBuffer>(role.stride * size_t(role.copies));
  check_cuda(cudaMemcpy(role.storage->get(), host, host_bytes, cudaMemcpyHostToDevice), "upload weights");
  for (int index = 1; index < role.copies; ++index)
    check_cuda(cudaMemcpy(role.storage->as<uint8_t>() + size_t(index) * role.stride, role.storage->get(), host_bytes,
                          cudaMemcpyDeviceToDevice),
               "copy weights to every block");
  return role;
}

// A role's linear layer prepared for one case: inputs, outputs and the plan or algorithm.
struct PreparedLinear {
  const RoleOnDevice* role = nullptr;
  const __half* x = nullptr;
  void* y = nullptr;
  PackedGemmPlan packed;
  std::unique_ptr<CublasLtGemm> cublas;
  std::unique_ptr<CusparseLtGemm> cusparselt;
  std::unique_ptr<DeviceBuffer> compressed;  // cuSPARSELt: one compressed copy per block
  size_t compressed_stride = 0;
  int64_t bytes_per_copy = 0;
  std::string description;

  void launch(int block, cudaStream_t stream, bool overlap_launch) const {
    switch (role->kind) {
      case LinearKind::Packed:
        launch_packed_gemm(packed, role->copy(block), stream, overlap_launch);
        break;
      case LinearKind::CublasFp16:
        cublas->launch(reinterpret_cast<const __half*>(role->copy(block)), x, static_cast<float*>(y), stream);
        break;
      case LinearKind::CusparseltFp16:
        cusparselt->launch(compressed->as<uint8_t>() + size_t(block) * compressed_stride, x, static_cast<__half*>(y),
                           stream);
        break;
    }
  }
};

void prepare_linear(PreparedLinear& linear, const RoleOnDevice& role, int64_t batch, const __half* x, void* y,
                    void* workspace, size_t workspace_bytes) {
  linear.role = &role;
  linear.x = x;
  linear.y = y;
  switch (role.kind) {
    case LinearKind::Packed: {
      if (role.geometry.padded_cols != role.cols)
        throw GpuFailure("a packed layer's columns must fill whole chunks (" + std::to_string(role.cols) + " columns)");
      const std::vector<PackedGemmPlan> plans =
          packed_gemm_plans(role.geometry, batch, x, role.cols, static_cast<float*>(y));
      std::vector<const uint8_t*> copies;
      for (int index = 0; index < role.copies; ++index) copies.push_back(role.copy(index));
      linear.packed = plans[fastest_packed_gemm_plan(plans, copies)];
      linear.bytes_per_copy = role.bytes_per_copy;
      linear.description = describe_packed_gemm(role.geometry, linear.packed);
      break;
    }
    case LinearKind::CublasFp16: {
      linear.cublas = std::make_unique<CublasLtGemm>(role.rows, role.cols, batch, workspace, workspace_bytes);
      std::vector<const __half*> copies;
      for (int index = 0; index < role.copies; ++index)
        copies.push_back(reinterpret_cast<const __half*>(role.copy(index)));
      linear.cublas->choose_fastest(copies, x, static_cast<float*>(y));
      linear.bytes_per_copy = role.bytes_per_copy;
      linear.description = linear.cublas->describe();
      break;
    }
    case LinearKind::CusparseltFp16: {
      linear.cusparselt = std::make_unique<CusparseLtGemm>(role.rows, role.cols, batch);
      const size_t bytes = linear.cusparselt->compressed_bytes();
      linear.compressed_stride = size_t(round_up(int64_t(bytes), 256));
      linear.bytes_per_copy = int64_t(bytes);  // compress_copies() then fills one copy per block
      break;
    }
  }
}

// cuSPARSELt's compressed copies, one per block (or one for the head).
void compress_copies(PreparedLinear& linear, int copies) {
  linear.compressed = std::make_unique<DeviceBuffer>(linear.compressed_stride * size_t(copies));
  Stream stream;
  linear.cusparselt->compress(reinterpret_cast<const __half*>(linear.role->copy(0)), linear.compressed->get(),
                              stream.get());
  check_cuda(cudaStreamSynchronize(stream.get()), "cuSPARSELt compress");
  for (int index = 1; index < copies; ++index)
    check_cuda(cudaMemcpy(linear.compressed->as<uint8_t>() + size_t(index) * linear.compressed_stride,
                          linear.compressed->get(), size_t(linear.bytes_per_copy), cudaMemcpyDeviceToDevice),
               "copy compressed weights to every block");
  linear.cusparselt->search(linear.compressed->get(), linear.x, static_cast<__half*>(linear.y));
  linear.description = linear.cusparselt->describe();
}

template <typename... Expected, typename... Actual>
void launch_kernel(bool overlap_launch, dim3 grid, dim3 block, cudaStream_t stream, void (*kernel)(Expected...),
                   Actual&&... arguments) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attribute;
  config.numAttrs = overlap_launch ? 1 : 0;
  check_cuda(cudaLaunchKernelEx(&config, kernel, std::forward<Actual>(arguments)...), "decoder kernel launch");
}

struct Activations {
  std::unique_ptr<DeviceBuffer> h, x, qkv, q, attention, output, gate_up, act, down, logits, partial_output,
      partial_stats, arrivals, keys, values, logits_float;
};

struct StepPlan {
  const DecoderShape* shape = nullptr;
  int64_t batch = 0, context = 0, capacity = 0;
  int splits = 1, split_tokens = 0;
  uint64_t seed = 1;
  bool overlap_launch = true;
  const __half* embedding = nullptr;
  const __half* gains = nullptr;
  Activations* buffers = nullptr;
  PreparedLinear* linears = nullptr;  // [kLinearRoles]
};

// One decode step on `stream` (captured into the graph). In: the type the linear layers write.
template <typename In>
void enqueue_step(const StepPlan& plan, cudaStream_t stream) {
  const DecoderShape& s = *plan.shape;
  Activations& a = *plan.buffers;
  const bool pdl = plan.overlap_launch;
  const float epsilon = float(s.norm_epsilon);
  const int64_t key_block = plan.batch * s.kv_heads * plan.capacity * s.head_dim;  // halves per block
  launch_kernel(false, dim3(unsigned(plan.batch)), dim3(decoder::kNormThreads), stream, decoder::embed_norm_kernel,
                plan.embedding, plan.gains, a.h->as<float>(), a.x->as<__half>(), s.hidden, s.vocab, plan.seed, epsilon);
  const float scale = 1.0f / std::sqrt(float(s.head_dim));
  for (int block = 0; block < int(s.blocks); ++block) {
    plan.linears[int(LinearRole::Qkv)].launch(block, stream, pdl);
    const dim3 attention_grid(unsigned(plan.splits), unsigned(s.heads), unsigned(plan.batch));
    auto* attention = s.head_dim == 64 ? decoder::attention_kernel<64, In> : decoder::attention_kernel<128, In>;
    launch_kernel(pdl, attention_grid, dim3(decoder::kAttentionThreads), stream, attention,
                  static_cast<const In*>(a.qkv->get()), s.qkv_rows(), a.keys->as<__half>() + block * key_block,
                  a.values->as<__half>() + block * key_block, a.partial_output->as<float>(),
                  a.partial_stats->as<float2>(), a.arrivals->as<unsigned>(), a.attention->as<__half>(), s.heads,
                  s.kv_heads, plan.capacity, plan.context, plan.split_tokens, scale, float(s.rope_theta));
    plan.linears[int(LinearRole::Output)].launch(block, stream, pdl);
    launch_kernel(pdl, dim3(unsigned(plan.batch)), dim3(decoder::kNormThreads), stream,
                  decoder::residual_norm_kernel<In>, static_cast<const In*>(a.output->get()), s.hidden,
                  a.h->as<float>(), plan.gains + (2 * block + 1) * s.hidden, a.x->as<__half>(), s.hidden, epsilon);
    plan.linears[int(LinearRole::GateUp)].launch(block, stream, pdl);
    const int64_t elements = plan.batch * s.intermediate;
    launch_kernel(pdl, dim3(unsigned(std::min<int64_t>((elements + 255) / 256, 1024))), dim3(256), stream,
                  decoder::swiglu_kernel<In>, static_cast<const In*>(a.gate_up->get()), a.act->as<__half>(), plan.batch,
                  s.intermediate);
    plan.linears[int(LinearRole::Down)].launch(block, stream, pdl);
    const int64_t next_norm = block + 1 < s.blocks ? 2 * (block + 1) : 2 * s.blocks;  // final norm after the last
    launch_kernel(pdl, dim3(unsigned(plan.batch)), dim3(decoder::kNormThreads), stream,
                  decoder::residual_norm_kernel<In>, static_cast<const In*>(a.down->get()), s.hidden, a.h->as<float>(),
                  plan.gains + next_norm * s.hidden, a.x->as<__half>(), s.hidden, epsilon);
  }
  plan.linears[int(LinearRole::Head)].launch(0, stream, pdl);
}

struct Graph {
  cudaGraphExec_t exec = nullptr;
  ~Graph() {
    if (exec) cudaGraphExecDestroy(exec);
  }
};

// Captures the step; false (and the reason) when the capture or the instantiation fails.
bool capture_step(const StepPlan& plan, bool half_outputs, cudaStream_t stream, Graph& graph, std::string& reason) {
  cudaGraph_t captured = nullptr;
  check_cuda(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  try {
    if (half_outputs)
      enqueue_step<__half>(plan, stream);
    else
      enqueue_step<float>(plan, stream);
  } catch (const std::exception& error) {
    cudaStreamEndCapture(stream, &captured);
    if (captured) cudaGraphDestroy(captured);
    cudaGetLastError();
    reason = error.what();
    return false;
  }
  cudaError_t status = cudaStreamEndCapture(stream, &captured);
  if (status == cudaSuccess && captured) status = cudaGraphInstantiate(&graph.exec, captured, 0);
  if (captured) cudaGraphDestroy(captured);
  if (status != cudaSuccess || !graph.exec) {
    reason = std::string("graph capture: ") + cudaGetErrorString(status);
    graph.exec = nullptr;
    cudaGetLastError();
    return false;
  }
  return true;
}

bool is_linear_kernel(const std::string& name) {
  for (const char* own : {"embed_norm", "residual_norm", "swiglu", "attention_kernel"})
    if (name.find(own) != std::string::npos) return false;
  return true;
}

// The trace's figures: kernels summed, the union of their intervals, the span, and the union split by kind
// (each instant goes to the kernel that started last among those running: with overlapped launches a kernel
// waiting for its predecessor does not count twice).
void summarize_trace(const KernelTrace& trace, DecodeRun& run) {
  if (!trace.ok) {
    run.trace_error = trace.error;
    return;
  }
  uint64_t covered_until = 0, busy = 0, sum = 0;
  double linear = 0, attention = 0, other = 0;
  const uint64_t first = trace.kernels.front().start_ns;
  uint64_t last = first;
  for (const KernelRecord& kernel : trace.kernels) {
    sum += kernel.end_ns - kernel.start_ns;
    last = std::max(last, kernel.end_ns);
    const uint64_t from = std::max(kernel.start_ns, covered_until);
    if (kernel.end_ns > from) {
      const double exclusive = double(kernel.end_ns - from);
      busy += kernel.end_ns - from;
      if (kernel.name.find("attention_kernel") != std::string::npos)
        attention += exclusive;
      else if (is_linear_kernel(kernel.name))
        linear += exclusive;
      else
        other += exclusive;
    }
    covered_until = std::max(covered_until, kernel.end_ns);
  }
  run.kernels = int(trace.kernels.size());
  run.kernel_sum_ms = double(sum) * 1e-6;
  run.kernel_busy_ms = double(busy) * 1e-6;
  run.kernel_span_ms = double(last - first) * 1e-6;
  run.linear_kernel_ms = linear * 1e-6;
  run.attention_kernel_ms = attention * 1e-6;
  run.other_kernel_ms = other * 1e-6;
  run.launch_gap_fraction = run.kernel_span_ms > 0 ? 1.0 - run.kernel_busy_ms / run.kernel_span_ms : 0;
}

void run_case(const DecoderWeights& weights, const std::vector<RoleOnDevice>& roles, const __half* embedding,
              const __half* gains, DeviceBuffer& workspace, const DecodeTiming& timing, DecodeRun& run) {
  const DecoderShape& s = weights.shape;
  const int64_t batch = run.batch, batch_pad = round_up(batch, 128);
  const bool half_outputs = roles[0].kind == LinearKind::CusparseltFp16;
  const size_t out_bytes = half_outputs ? 2 : 4;
  Activations a;
  auto buffer = [](size_t bytes) {
    auto made = std::make_unique<DeviceBuffer>(bytes);
    check_cuda(cudaMemset(made->get(), 0, bytes), "cudaMemset");  // padding rows read by the linear layers are 0
    return made;
  };
  a.h = buffer(size_t(batch * s.hidden) * 4);
  a.x = buffer(size_t(batch_pad * s.hidden) * 2);
  a.qkv = buffer(size_t(batch_pad * s.qkv_rows()) * out_bytes);
  a.q = buffer(size_t(batch * s.heads * s.head_dim) * 4);
  a.attention = buffer(size_t(batch_pad * s.hidden) * 2);
  a.output = buffer(size_t(batch_pad * s.hidden) * out_bytes);
  a.gate_up = buffer(size_t(batch_pad * 2 * s.intermediate) * out_bytes);
  a.act = buffer(size_t(batch_pad * s.intermediate) * 2);
  a.down = buffer(size_t(batch_pad * s.hidden) * out_bytes);
  a.logits = buffer(size_t(batch_pad * s.vocab) * out_bytes);
  a.logits_float = buffer(size_t(batch * s.vocab) * 4);

  StepPlan plan;
  plan.shape = &s;
  plan.batch = batch;
  plan.context = run.context;
  plan.capacity = run.context + 1;
  plan.seed = weights.seed;
  plan.embedding = embedding;
  plan.gains = gains;
  plan.buffers = &a;
  // Splits of the context: about two CTAs per SM over (splits x heads x batch), each split at least 32 tokens.
  const int64_t tokens = run.context + 1;
  const int64_t wanted = std::max<int64_t>(1, (2 * device_status().sm_count + batch * s.heads - 1) / (batch * s.heads));
  plan.split_tokens =
      int(std::clamp<int64_t>(round_up((tokens + wanted - 1) / wanted, 32), 32, decoder::kMaxSplitTokens));
  plan.splits = int((tokens + plan.split_tokens - 1) / plan.split_tokens);
  a.partial_output = buffer(size_t(batch * s.heads * plan.splits * s.head_dim) * 4);
  a.partial_stats = buffer(size_t(batch * s.heads * plan.splits) * 8);
  a.arrivals = buffer(size_t(batch * s.heads) * 4);
  const int64_t cache_halves = s.blocks * batch * s.kv_heads * plan.capacity * s.head_dim;
  a.keys = std::make_unique<DeviceBuffer>(size_t(cache_halves) * 2);
  a.values = std::make_unique<DeviceBuffer>(size_t(cache_halves) * 2);
  decoder::fill_cache_kernel<<<1024, 256>>>(a.keys->as<__half>(), a.values->as<__half>(), cache_halves, weights.seed);
  check_cuda(cudaGetLastError(), "fill the KV cache");
  check_cuda(cudaDeviceSynchronize(), "fill the KV cache");

  PreparedLinear linears[kLinearRoles];
  const struct {
    LinearRole role;
    const DeviceBuffer* x;
    const DeviceBuffer* y;
  } wiring[kLinearRoles] = {{LinearRole::Qkv, a.x.get(), a.qkv.get()},
                            {LinearRole::Output, a.attention.get(), a.output.get()},
                            {LinearRole::GateUp, a.x.get(), a.gate_up.get()},
                            {LinearRole::Down, a.act.get(), a.down.get()},
                            {LinearRole::Head, a.x.get(), a.logits.get()}};
  std::ostringstream config;
  int64_t linear_bytes = 0;
  for (const auto& wire : wiring) {
    const int index = int(wire.role);
    PreparedLinear& linear = linears[index];
    prepare_linear(linear, roles[size_t(index)], batch, static_cast<const __half*>(wire.x->get()), wire.y->get(),
                   workspace.get(), workspace.bytes());
    const int copies = wire.role == LinearRole::Head ? 1 : int(s.blocks);
    if (roles[size_t(index)].kind == LinearKind::CusparseltFp16) compress_copies(linear, copies);
    linear_bytes += linear.bytes_per_copy * copies;
    config << (index ? "; " : "") << linear_role_name(wire.role) << ": " << linear.description;
  }
  plan.linears = linears;
  check_cuda(cudaDeviceSynchronize(), "prepare the step");

  run.linear_bytes = linear_bytes;
  run.weight_bytes = linear_bytes + s.vocab * s.hidden * 2 + (2 * s.blocks + 1) * s.hidden * 2;
  run.kv_bytes_read = 2 * s.blocks * batch * s.kv_heads * tokens * s.head_dim * 2;
  run.step_bytes = linear_bytes + batch * s.hidden * 2 + (2 * s.blocks + 1) * s.hidden * 2 + run.kv_bytes_read;

  Stream stream;
  Graph graph;
  std::string reason;
  // NMSCOPE_DECODE_PLAIN_LAUNCH=1 captures plain launches: the same step without programmatic dependent launch, to
  // measure what the overlap is worth.
  const char* plain = std::getenv("NMSCOPE_DECODE_PLAIN_LAUNCH");
  plan.overlap_launch = !(plain && std::string(plain) == "1");
  if (!plan.overlap_launch) reason = "NMSCOPE_DECODE_PLAIN_LAUNCH=1";
  if (!capture_step(plan, half_outputs, stream.get(), graph, reason)) {
    plan.overlap_launch = false;  // without programmatic dependent launch
    std::string second;
    if (!capture_step(plan, half_outputs, stream.get(), graph, second)) throw GpuFailure(second);
  }
  config << "; attention " << plan.splits << " split(s) of " << plan.split_tokens << " tokens; one CUDA graph"
         << (plan.overlap_launch ? " with programmatic dependent launch" : " (plain launches: " + reason + ")");
  run.config = config.str();

  // The checked step: logits poisoned with NaN first, so a value no kernel wrote shows.
  check_cuda(cudaMemsetAsync(a.logits->get(), 0xff, a.logits->bytes(), stream.get()), "poison logits");
  check_cuda(cudaGraphLaunch(graph.exec, stream.get()), "cudaGraphLaunch");
  if (half_outputs)
    decoder::gather_logits_kernel<__half>
        <<<256, 256, 0, stream.get()>>>(a.logits->as<__half>(), s.vocab, a.logits_float->as<float>(), batch, s.vocab);
  else
    decoder::gather_logits_kernel<float>
        <<<256, 256, 0, stream.get()>>>(a.logits->as<float>(), s.vocab, a.logits_float->as<float>(), batch, s.vocab);
  check_cuda(cudaGetLastError(), "gather logits");
  check_cuda(cudaStreamSynchronize(stream.get()), "decode step");
  std::vector<float> logits(size_t(batch * s.vocab));
  check_cuda(cudaMemcpy(logits.data(), a.logits_float->get(), logits.size() * 4, cudaMemcpyDeviceToHost),
             "download logits");
  const auto bad = std::count_if(logits.begin(), logits.end(), [](float v) { return !std::isfinite(v); });
  if (bad > 0)
    throw GpuFailure("the step left " + std::to_string(bad) + " of " + std::to_string(logits.size()) +
                     " logits non-finite");
  if (timing.keep_logits) run.logits = std::move(logits);

  // Timing: events around each replay; the step rewrites the same cache slot, so replays are identical.
  Event start, stop;
  for (int index = 0; index < timing.warmup; ++index)
    check_cuda(cudaGraphLaunch(graph.exec, stream.get()), "cudaGraphLaunch");
  check_cuda(cudaStreamSynchronize(stream.get()), "warm-up");
  auto timed_replay = [&] {
    check_cuda(cudaEventRecord(start.get(), stream.get()), "cudaEventRecord");
    check_cuda(cudaGraphLaunch(graph.exec, stream.get()), "cudaGraphLaunch");
    check_cuda(cudaEventRecord(stop.get(), stream.get()), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
    float ms = 0;
    check_cuda(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
    return double(ms);
  };
  const double first_ms = timed_replay();
  const int repetitions = std::clamp(int(timing.target_seconds * 1e3 / std::max(first_ms, 1e-3)),
                                     timing.min_repetitions, timing.max_repetitions);
  std::vector<double> times;
  for (int index = 0; index < repetitions; ++index) times.push_back(timed_replay());
  std::sort(times.begin(), times.end());
  auto at = [&](double q) { return times[size_t(q * double(times.size() - 1) + 0.5)]; };
  run.step_ms = at(0.5);
  run.p10_ms = at(0.1);
  run.p90_ms = at(0.9);
  run.repetitions = repetitions;
  run.tokens_per_s = double(batch) * 1e3 / run.step_ms;
  run.achieved_gb_per_s = double(run.step_bytes) / (run.step_ms * 1e6);

  if (timing.kernel_trace) {
    // Three traced replays; the one of median span is reported.
    std::vector<DecodeRun> traced(3);
    for (auto& one : traced)
      summarize_trace(trace_kernels([&] {
                        check_cuda(cudaGraphLaunch(graph.exec, stream.get()), "cudaGraphLaunch");
                        check_cuda(cudaStreamSynchronize(stream.get()), "traced step");
                      }),
                      one);
    std::sort(traced.begin(), traced.end(),
              [](const DecodeRun& a, const DecodeRun& b) { return a.kernel_span_ms < b.kernel_span_ms; });
    const DecodeRun& median = traced[1];
    run.trace_error = median.trace_error;
    run.kernels = median.kernels;
    run.kernel_sum_ms = median.kernel_sum_ms;
    run.kernel_busy_ms = median.kernel_busy_ms;
    run.kernel_span_ms = median.kernel_span_ms;
    run.linear_kernel_ms = median.linear_kernel_ms;
    run.attention_kernel_ms = median.attention_kernel_ms;
    run.other_kernel_ms = median.other_kernel_ms;
    run.launch_gap_fraction = median.launch_gap_fraction;
  }
  run.ok = true;
}

}  // namespace

int64_t gpu_free_bytes() {
  if (!device_status().available) return 0;
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return int64_t(free_bytes);
}

std::vector<DecodeRun> run_decoder(const DecoderWeights& weights, const std::vector<DecodeCase>& cases,
                                   const DecodeTiming& timing) {
  std::vector<DecodeRun> runs(cases.size());
  for (size_t index = 0; index < cases.size(); ++index) {
    runs[index].batch = cases[index].batch;
    runs[index].context = cases[index].context;
  }
  auto fail_all = [&](const std::string& reason) {
    for (DecodeRun& run : runs)
      if (run.error.empty()) run.error = reason;
    return runs;
  };
  const DecoderShape& s = weights.shape;
  if (const std::string reason = s.unsupported_reason(); !reason.empty()) return fail_all(s.name + ": " + reason);
  if (weights.linears.size() != size_t(kLinearRoles)) return fail_all("weights for every linear role are needed");
  const DeviceStatus& device = device_status();
  if (!device.available) return fail_all(device.reason);
  try {
    std::vector<int64_t> bytes_per_block;
    for (const LinearWeights& linear : weights.linears)
      bytes_per_block.push_back(linear.kind == LinearKind::Packed ? linear.layout.storage_bytes()
                                                                  : linear.rows * linear.cols * 2);
    size_t free_bytes = 0, total_bytes = 0;
    check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    bool any_fits = false;
    for (DecodeRun& run : runs) {
      run.required_bytes = decoder_required_bytes(s, bytes_per_block, {run.batch, run.context});
      if (run.batch < 1 || run.context < 1) {
        run.error = "batch and context must be at least 1";
      } else if (run.required_bytes > int64_t(free_bytes)) {
        std::ostringstream text;
        text.precision(1);
        text << std::fixed << "needs " << gigabytes(run.required_bytes) << " GB of GPU memory, the GPU has "
             << gigabytes(int64_t(free_bytes)) << " GB free: nothing run";
        run.error = text.str();
      } else {
        any_fits = true;
      }
    }
    if (!any_fits) return runs;

    std::vector<RoleOnDevice> roles;
    for (int role = 0; role < kLinearRoles; ++role)
      roles.push_back(upload_role(weights.linears[size_t(role)], role == int(LinearRole::Head) ? 1 : int(s.blocks)));
    DeviceBuffer embedding(size_t(s.vocab * s.hidden) * 2);
    DeviceBuffer gains(size_t((2 * s.blocks + 1) * s.hidden) * 2);
    decoder::fill_embedding_kernel<<<1024, 256>>>(embedding.as<__half>(), s.vocab * s.hidden, weights.seed);
    decoder::fill_gains_kernel<<<256, 256>>>(gains.as<__half>(), 2 * s.blocks + 1, s.hidden, weights.seed);
    check_cuda(cudaGetLastError(), "fill embeddings and norm gains");
    const size_t workspace_bytes = 32u << 20;
    DeviceBuffer workspace(workspace_bytes);
    for (DecodeRun& run : runs) {
      if (!run.error.empty()) continue;
      try {
        run_case(weights, roles, embedding.as<__half>(), gains.as<__half>(), workspace, timing, run);
      } catch (const std::exception& error) {
        run.ok = false;
        run.error = error.what();
        cudaGetLastError();
        cudaDeviceSynchronize();
      }
    }
  } catch (const std::exception& error) {
    cudaGetLastError();
    return fail_all(error.what());
  }
  return runs;
}

}  // namespace nmscope::kernels::cuda
