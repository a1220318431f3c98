// The decoder step (gpu_decoder.hpp): the model's weights uploaded once (each block its own device copy), then per case
// a KV cache, the linear layers' plans, one CUDA graph of the whole step, its timing and a kernel trace. Host code on
// the CUDA runtime only (the kernels are launched through decoder_launch.hpp, packed_gemm_launch.hpp and the
// libraries' wrappers, nmscope::cuda_device): core's decode library, built when CUDA is
// (decoder_step.nocuda.cpp otherwise).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "decode/gpu/gpu_tiles.hpp"
#include "nmscope/gpu_decoder.hpp"
#include "nmscope/kernels/cuda/decoder_launch.hpp"
#include "nmscope/kernels/cuda/decoder_synthetic.hpp"
#include "nmscope/kernels/cuda/device_objects.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"
#include "nmscope/kernels/cuda/kernel_trace.hpp"
#include "nmscope/kernels/cuda/library_gemm.hpp"
#include "nmscope/kernels/cuda/packed_gemm_launch.hpp"

namespace nmscope {

// The kernels, their launchers and the device objects this step is built on.
using namespace kernels::cuda;

namespace {

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }
double gigabytes(int64_t bytes) { return double(bytes) / 1e9; }

// One role's weights on the device: `copies` (one per block; one for the head) at `stride` bytes apart. For
// cuSPARSELt with one shared matrix this is one fp16 staging copy; the compressed copies are made per case (their
// plan depends on it). Dense weights are padded with zero columns to `ld`, the row stride of their input
// activations (the packed tiles carry their own padding to whole chunks).
struct RoleOnDevice {
  LinearKind kind = LinearKind::CublasFp16;
  int64_t rows = 0, cols = 0, ld = 0;
  int copies = 1;
  bool distinct = false;  // each block has its own weights (a model's), not copies of one matrix
  size_t stride = 0;
  int64_t bytes_per_copy = 0;  // what one call reads
  std::unique_ptr<DeviceBuffer> storage;
  GpuWeightLayout geometry;  // packed: the layout without its tiles
  const uint8_t* copy(int index) const { return storage->as<uint8_t>() + size_t(index) * stride; }
};

RoleOnDevice upload_role(const DecoderWeights& weights, LinearRole which, int copies, int64_t ld) {
  const LinearWeights& first = weights.linear(which, 0);
  RoleOnDevice role;
  role.kind = first.kind;
  role.rows = first.rows;
  role.cols = first.cols;
  role.ld = ld;
  role.distinct = !weights.block_linears.empty() && which != LinearRole::Head;
  role.copies = first.kind == LinearKind::CusparseltFp16 && !role.distinct ? 1 : copies;
  const int sources = role.distinct ? role.copies : 1;
  for (int index = 0; index < sources; ++index) {
    const LinearWeights& weights_of_copy = weights.linear(which, index);
    const uint8_t* host = nullptr;
    size_t host_bytes = 0;
    std::vector<__half> half_weights;
    if (weights_of_copy.kind != role.kind || weights_of_copy.rows != role.rows || weights_of_copy.cols != role.cols)
      throw GpuFailure(std::string("the blocks' ") + linear_role_name(which) + " weights differ in kind or shape");
    if (role.kind == LinearKind::Packed) {
      if (index == 0) {
        role.geometry = weights_of_copy.tiles->layout;
        role.geometry.tiles.clear();
        role.geometry.tiles.shrink_to_fit();
      }
      host = weights_of_copy.tiles->layout.tiles.data();
      host_bytes = weights_of_copy.tiles->layout.tiles.size();
    } else {
      if (int64_t(weights_of_copy.dense.size()) != role.rows * role.cols)
        throw GpuFailure("dense weights of the wrong size");
      half_weights = to_half_padded(weights_of_copy.dense.data(), role.rows, role.cols, role.rows, ld);
      host = reinterpret_cast<const uint8_t*>(half_weights.data());
      host_bytes = half_weights.size() * sizeof(__half);
    }
    if (index == 0) {
      role.bytes_per_copy = int64_t(host_bytes);
      role.stride = size_t(round_up(int64_t(host_bytes), 256));
      role.storage = std::make_unique<DeviceBuffer>(role.stride * size_t(role.copies));
    } else if (int64_t(host_bytes) != role.bytes_per_copy) {
      throw GpuFailure(std::string("the blocks' ") + linear_role_name(which) + " weights differ in size");
    }
    check_cuda(
        cudaMemcpy(role.storage->as<uint8_t>() + size_t(index) * role.stride, host, host_bytes, cudaMemcpyHostToDevice),
        "upload weights");
  }
  for (int index = sources; index < role.copies; ++index)
    check_cuda(cudaMemcpy(role.storage->as<uint8_t>() + size_t(index) * role.stride, role.storage->get(),
                          size_t(role.bytes_per_copy), cudaMemcpyDeviceToDevice),
               "copy weights to every block");
  return role;
}

// A role's linear layer prepared for one case: inputs, outputs and the plan or algorithm.
struct PreparedLinear {
  const RoleOnDevice* role = nullptr;
  const __half* x = nullptr;
  void* y = nullptr;
  std::unique_ptr<PackedGemm> packed;
  std::unique_ptr<CublasLtGemm> cublas;
  std::unique_ptr<CusparseLtGemm> cusparselt;
  std::unique_ptr<DeviceBuffer> compressed;  // cuSPARSELt: one compressed copy per block
  size_t compressed_stride = 0;
  int64_t bytes_per_copy = 0;
  std::string description;

  void launch(int block, cudaStream_t stream, bool overlap_launch) const {
    switch (role->kind) {
      case LinearKind::Packed:
        packed->launch(role->copy(block), stream, overlap_launch);
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
      if (role.geometry.padded_cols > role.ld)
        throw GpuFailure("a packed layer's chunks (" + std::to_string(role.geometry.padded_cols) +
                         " columns) are wider than its input rows (" + std::to_string(role.ld) + ")");
      linear.packed = std::make_unique<PackedGemm>(role.geometry, batch, x, role.ld, static_cast<float*>(y));
      std::vector<const uint8_t*> copies;
      for (int index = 0; index < role.copies; ++index) copies.push_back(role.copy(index));
      linear.packed->choose_fastest(copies);
      linear.bytes_per_copy = role.bytes_per_copy;
      linear.description = linear.packed->describe();
      break;
    }
    case LinearKind::CublasFp16: {
      linear.cublas = std::make_unique<CublasLtGemm>(role.rows, role.ld, batch, workspace, workspace_bytes);
      std::vector<const __half*> copies;
      for (int index = 0; index < role.copies; ++index)
        copies.push_back(reinterpret_cast<const __half*>(role.copy(index)));
      linear.cublas->choose_fastest(copies, x, static_cast<float*>(y));
      linear.bytes_per_copy = role.bytes_per_copy;
      linear.description = linear.cublas->describe();
      break;
    }
    case LinearKind::CusparseltFp16: {
      linear.cusparselt = std::make_unique<CusparseLtGemm>(role.rows, role.ld, batch);
      const size_t bytes = linear.cusparselt->compressed_bytes();
      linear.compressed_stride = size_t(round_up(int64_t(bytes), 256));
      linear.bytes_per_copy = int64_t(bytes);  // compress_copies() then fills one copy per block
      break;
    }
  }
}

// cuSPARSELt's compressed copies, one per block (or one for the head): each block's own weights compressed, or
// one compressed matrix copied.
void compress_copies(PreparedLinear& linear, int copies) {
  linear.compressed = std::make_unique<DeviceBuffer>(linear.compressed_stride * size_t(copies));
  Stream stream;
  const int compressions = linear.role->distinct ? copies : 1;
  for (int index = 0; index < compressions; ++index)
    linear.cusparselt->compress(reinterpret_cast<const __half*>(linear.role->copy(index)),
                                linear.compressed->as<uint8_t>() + size_t(index) * linear.compressed_stride,
                                stream.get());
  check_cuda(cudaStreamSynchronize(stream.get()), "cuSPARSELt compress");
  for (int index = compressions; index < copies; ++index)
    check_cuda(cudaMemcpy(linear.compressed->as<uint8_t>() + size_t(index) * linear.compressed_stride,
                          linear.compressed->get(), size_t(linear.bytes_per_copy), cudaMemcpyDeviceToDevice),
               "copy compressed weights to every block");
  linear.cusparselt->search(linear.compressed->get(), linear.x, static_cast<__half*>(linear.y));
  linear.description = linear.cusparselt->describe();
}

struct Activations {
  std::unique_ptr<DeviceBuffer> h, x, qkv, q, attention, output, gate_up, act, down, logits, partial_output,
      partial_stats, arrivals, keys, values, logits_float, tokens;
  // An int8 KV cache instead of keys / values: codes and one scale per row.
  std::unique_ptr<DeviceBuffer> key_codes, value_codes, key_scales, value_scales;
};

// The model's tensors other than the linear layers, on the device.
struct ModelTensors {
  std::unique_ptr<DeviceBuffer> table, codes, scales;  // the embedding: fp16 table, or codes + scales
  std::unique_ptr<DeviceBuffer> gains;                 // fp16 [2 blocks + 1][hidden]
  std::unique_ptr<DeviceBuffer> qkv_bias;              // fp32 [blocks][qkv_rows], or none
  std::unique_ptr<DeviceBuffer> inverse_frequencies;   // fp32 [head_dim / 2]
};

struct StepPlan {
  const DecoderShape* shape = nullptr;
  int64_t batch = 0, context = 0, capacity = 0;
  int64_t x_ld = 0, act_ld = 0;  // row strides of the linear layers' inputs (hidden / intermediate padded to 256)
  int64_t first_position = 0;    // the sliding window's first position (0 without one)
  int splits = 1, split_tokens = 0;
  bool overlap_launch = true;
  KvCache kv_cache = KvCache::Fp16;
  const ModelTensors* tensors = nullptr;
  Activations* buffers = nullptr;
  PreparedLinear* linears = nullptr;  // [kLinearRoles]
};

// The attention's split of the context at `context` (the step attends over context + 1 tokens, or the last
// sliding_window of them): about two CTAs per SM over (splits x heads x batch), each split at least 32 tokens.
void plan_attention(StepPlan& plan) {
  const DecoderShape& s = *plan.shape;
  const int64_t tokens = plan.context + 1;
  plan.first_position = s.sliding_window > 0 ? std::max<int64_t>(0, tokens - s.sliding_window) : 0;
  const int64_t attended = tokens - plan.first_position;
  const int64_t wanted =
      std::max<int64_t>(1, (2 * device_status().sm_count + plan.batch * s.heads - 1) / (plan.batch * s.heads));
  plan.split_tokens =
      int(std::clamp<int64_t>(round_up((attended + wanted - 1) / wanted, 32), 32, decoder::kMaxSplitTokens));
  plan.splits = int((attended + plan.split_tokens - 1) / plan.split_tokens);
}

template <typename In>
void launch_attention(const StepPlan& plan, int block, cudaStream_t stream, bool pdl) {
  const DecoderShape& s = *plan.shape;
  Activations& a = *plan.buffers;
  const int64_t key_rows = plan.batch * s.kv_heads * plan.capacity;  // cache rows per block
  const int64_t key_block = key_rows * s.head_dim;                   // values per block
  decoder::AttentionArgs<In> args;
  args.qkv = static_cast<const In*>(a.qkv->get());
  args.qkv_ld = s.qkv_rows();
  args.qkv_bias = plan.tensors->qkv_bias ? plan.tensors->qkv_bias->as<float>() + block * s.qkv_rows() : nullptr;
  if (plan.kv_cache == KvCache::Int8) {
    args.key_codes = a.key_codes->as<int8_t>() + block * key_block;
    args.value_codes = a.value_codes->as<int8_t>() + block * key_block;
    args.key_scales = a.key_scales->as<float>() + block * key_rows;
    args.value_scales = a.value_scales->as<float>() + block * key_rows;
  } else {
    args.key_cache = a.keys->as<__half>() + block * key_block;
    args.value_cache = a.values->as<__half>() + block * key_block;
  }
  args.partial_output = a.partial_output->as<float>();
  args.partial_stats = a.partial_stats->as<float2>();
  args.arrivals = a.arrivals->as<unsigned>();
  args.out = a.attention->as<__half>();
  args.out_ld = plan.x_ld;
  args.heads = s.heads;
  args.kv_heads = s.kv_heads;
  args.head_dim = s.head_dim;
  args.capacity = plan.capacity;
  args.position = plan.context;
  args.first_position = plan.first_position;
  args.batch = plan.batch;
  args.splits = plan.splits;
  args.split_tokens = plan.split_tokens;
  args.scale = 1.0f / std::sqrt(float(s.head_dim));
  args.inverse_frequencies = plan.tensors->inverse_frequencies->as<float>();
  decoder::launch_attention(stream, pdl, args);
}

// One decode step on `stream` (captured into the graph). In: the type the linear layers write.
template <typename In>
void enqueue_step(const StepPlan& plan, cudaStream_t stream) {
  const DecoderShape& s = *plan.shape;
  Activations& a = *plan.buffers;
  const ModelTensors& m = *plan.tensors;
  const bool pdl = plan.overlap_launch;
  const float epsilon = float(s.norm_epsilon);
  const __half* gains = m.gains->as<__half>();
  decoder::launch_embed_norm(stream, m.table ? m.table->as<__half>() : nullptr,
                             m.codes ? m.codes->as<uint8_t>() : nullptr, m.scales ? m.scales->as<__half>() : nullptr,
                             a.tokens->as<int64_t>(), gains, a.h->as<float>(), a.x->as<__half>(), plan.x_ld, plan.batch,
                             s.hidden, epsilon);
  for (int block = 0; block < int(s.blocks); ++block) {
    plan.linears[int(LinearRole::Qkv)].launch(block, stream, pdl);
    launch_attention<In>(plan, block, stream, pdl);
    plan.linears[int(LinearRole::Output)].launch(block, stream, pdl);
    decoder::launch_residual_norm(stream, pdl, static_cast<const In*>(a.output->get()), s.hidden, a.h->as<float>(),
                                  gains + (2 * block + 1) * s.hidden, a.x->as<__half>(), plan.x_ld, plan.batch,
                                  s.hidden, epsilon);
    plan.linears[int(LinearRole::GateUp)].launch(block, stream, pdl);
    decoder::launch_swiglu(stream, pdl, static_cast<const In*>(a.gate_up->get()), a.act->as<__half>(), plan.act_ld,
                           plan.batch, s.intermediate);
    plan.linears[int(LinearRole::Down)].launch(block, stream, pdl);
    const int64_t next_norm = block + 1 < s.blocks ? 2 * (block + 1) : 2 * s.blocks;  // final norm after the last
    decoder::launch_residual_norm(stream, pdl, static_cast<const In*>(a.down->get()), s.hidden, a.h->as<float>(),
                                  gains + next_norm * s.hidden, a.x->as<__half>(), plan.x_ld, plan.batch, s.hidden,
                                  epsilon);
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

int64_t padded_width(int64_t width) { return round_up(width, 256); }

// The model on the device: its linear roles (every block a copy, or each its own) and its other tensors.
struct DeviceModel {
  std::vector<RoleOnDevice> roles;
  ModelTensors tensors;
};

std::unique_ptr<DeviceBuffer> upload(const void* host, size_t bytes, const char* what) {
  auto buffer = std::make_unique<DeviceBuffer>(bytes);
  check_cuda(cudaMemcpy(buffer->get(), host, bytes, cudaMemcpyHostToDevice), what);
  return buffer;
}

std::unique_ptr<DeviceBuffer> upload_half(const std::vector<float>& values, const char* what) {
  std::vector<__half> halves(values.size());
  for (size_t i = 0; i < values.size(); ++i) halves[i] = __float2half_rn(values[i]);
  return upload(halves.data(), halves.size() * sizeof(__half), what);
}

void upload_model(const DecoderWeights& weights, DeviceModel& model) {
  const DecoderShape& s = weights.shape;
  const int64_t x_ld = padded_width(s.hidden), act_ld = padded_width(s.intermediate);
  for (int role = 0; role < kLinearRoles; ++role)
    model.roles.push_back(upload_role(weights, LinearRole(role), role == int(LinearRole::Head) ? 1 : int(s.blocks),
                                      role == int(LinearRole::Down) ? act_ld : x_ld));
  ModelTensors& m = model.tensors;
  const EmbeddingWeights& embedding = weights.embedding;
  if (embedding.quantized) {
    const int64_t groups = (s.hidden + 127) / 128;
    if (int64_t(embedding.codes.size()) != s.vocab * s.hidden / 2 ||
        int64_t(embedding.scales.size()) != s.vocab * groups)
      throw GpuFailure("the quantized embedding table's codes or scales are of the wrong size");
    m.codes = upload(embedding.codes.data(), embedding.codes.size(), "upload the embedding codes");
    m.scales = upload(embedding.scales.data(), embedding.scales.size() * 2, "upload the embedding scales");
  } else if (!embedding.dense.empty()) {
    if (int64_t(embedding.dense.size()) != s.vocab * s.hidden) throw GpuFailure("embedding table of the wrong size");
    m.table = upload_half(embedding.dense, "upload the embedding table");
  } else {
    m.table = std::make_unique<DeviceBuffer>(size_t(s.vocab * s.hidden) * 2);
    decoder::fill_embedding(m.table->as<__half>(), s.vocab * s.hidden, weights.seed);
  }
  const int64_t norms = 2 * s.blocks + 1;
  if (!weights.norm_gains.empty()) {
    if (int64_t(weights.norm_gains.size()) != norms * s.hidden) throw GpuFailure("norm gains of the wrong size");
    m.gains = upload_half(weights.norm_gains, "upload the norm gains");
  } else {
    m.gains = std::make_unique<DeviceBuffer>(size_t(norms * s.hidden) * 2);
    decoder::fill_gains(m.gains->as<__half>(), norms, s.hidden, weights.seed);
  }
  check_cuda(cudaGetLastError(), "fill embeddings and norm gains");
  if (!weights.qkv_bias.empty()) {
    if (int64_t(weights.qkv_bias.size()) != s.blocks * s.qkv_rows()) throw GpuFailure("q/k/v biases of the wrong size");
    m.qkv_bias = upload(weights.qkv_bias.data(), weights.qkv_bias.size() * 4, "upload the q/k/v biases");
  }
  std::vector<float> inverse = weights.rope_inverse_frequencies;
  if (inverse.empty())
    for (int64_t i = 0; i < s.head_dim / 2; ++i)
      inverse.push_back(float(std::pow(s.rope_theta, -2.0 * double(i) / double(s.head_dim))));
  if (int64_t(inverse.size()) != s.head_dim / 2) throw GpuFailure("RoPE frequencies of the wrong size");
  m.inverse_frequencies = upload(inverse.data(), inverse.size() * 4, "upload the RoPE frequencies");
  check_cuda(cudaDeviceSynchronize(), "upload the model");
}

// One (batch, KV cache capacity) on a model: activations, the cache, the linear layers' plans. Not movable: the
// plan points into it.
struct CaseState {
  Activations a;
  StepPlan plan;
  PreparedLinear linears[kLinearRoles];
  bool half_outputs = false;
  int64_t linear_bytes = 0;
  std::string config;  // the plan or algorithm of each role
  CaseState() = default;
  CaseState(const CaseState&) = delete;
  CaseState& operator=(const CaseState&) = delete;
};

// `max_context`: the largest context a step of this case runs at (the partial buffers of the attention's splits
// are sized for every context up to it).
void prepare_case(const DecoderWeights& weights, const DeviceModel& model, DeviceBuffer& workspace, int64_t batch,
                  int64_t capacity, int64_t max_context, KvCache kv_cache, CaseState& state) {
  const DecoderShape& s = weights.shape;
  const int64_t batch_pad = round_up(batch, 128);
  const std::vector<RoleOnDevice>& roles = model.roles;
  state.half_outputs = roles[0].kind == LinearKind::CusparseltFp16;
  const size_t out_bytes = state.half_outputs ? 2 : 4;
  Activations& a = state.a;
  auto buffer = [](size_t bytes) {
    auto made = std::make_unique<DeviceBuffer>(bytes);
    check_cuda(cudaMemset(made->get(), 0, bytes), "cudaMemset");  // padding rows and columns read as 0
    return made;
  };
  StepPlan& plan = state.plan;
  plan.shape = &s;
  plan.batch = batch;
  plan.capacity = capacity;
  plan.x_ld = padded_width(s.hidden);
  plan.act_ld = padded_width(s.intermediate);
  plan.tensors = &model.tensors;
  plan.buffers = &a;
  plan.kv_cache = kv_cache;
  a.h = buffer(size_t(batch * s.hidden) * 4);
  a.x = buffer(size_t(batch_pad * plan.x_ld) * 2);
  a.qkv = buffer(size_t(batch_pad * s.qkv_rows()) * out_bytes);
  a.attention = buffer(size_t(batch_pad * plan.x_ld) * 2);
  a.output = buffer(size_t(batch_pad * s.hidden) * out_bytes);
  a.gate_up = buffer(size_t(batch_pad * 2 * s.intermediate) * out_bytes);
  a.act = buffer(size_t(batch_pad * plan.act_ld) * 2);
  a.down = buffer(size_t(batch_pad * s.hidden) * out_bytes);
  a.logits = buffer(size_t(batch_pad * s.vocab) * out_bytes);
  a.logits_float = buffer(size_t(batch * s.vocab) * 4);
  a.tokens = buffer(size_t(batch) * 8);
  int max_splits = 1;
  for (int64_t context = 0; context <= max_context; ++context) {
    plan.context = context;
    plan_attention(plan);
    max_splits = std::max(max_splits, plan.splits);
  }
  a.partial_output = buffer(size_t(batch * s.heads * max_splits * s.head_dim) * 4);
  a.partial_stats = buffer(size_t(batch * s.heads * max_splits) * 8);
  a.arrivals = buffer(size_t(batch * s.heads) * 4);
  const int64_t cache_rows = s.blocks * batch * s.kv_heads * capacity;
  if (kv_cache == KvCache::Int8) {
    a.key_codes = std::make_unique<DeviceBuffer>(size_t(cache_rows * s.head_dim));
    a.value_codes = std::make_unique<DeviceBuffer>(size_t(cache_rows * s.head_dim));
    a.key_scales = std::make_unique<DeviceBuffer>(size_t(cache_rows) * 4);
    a.value_scales = std::make_unique<DeviceBuffer>(size_t(cache_rows) * 4);
  } else {
    a.keys = std::make_unique<DeviceBuffer>(size_t(cache_rows * s.head_dim) * 2);
    a.values = std::make_unique<DeviceBuffer>(size_t(cache_rows * s.head_dim) * 2);
  }

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
  for (const auto& wire : wiring) {
    const int index = int(wire.role);
    PreparedLinear& linear = state.linears[index];
    prepare_linear(linear, roles[size_t(index)], batch, static_cast<const __half*>(wire.x->get()), wire.y->get(),
                   workspace.get(), workspace.bytes());
    const int copies = wire.role == LinearRole::Head ? 1 : int(s.blocks);
    if (roles[size_t(index)].kind == LinearKind::CusparseltFp16) compress_copies(linear, copies);
    state.linear_bytes += linear.bytes_per_copy * copies;
    config << (index ? "; " : "") << linear_role_name(wire.role) << ": " << linear.description;
  }
  plan.linears = state.linears;
  state.config = config.str();
  check_cuda(cudaDeviceSynchronize(), "prepare the step");
}

void run_case(const DecoderWeights& weights, const DeviceModel& model, DeviceBuffer& workspace,
              const DecodeTiming& timing, DecodeRun& run) {
  const DecoderShape& s = weights.shape;
  const int64_t batch = run.batch;
  CaseState state;
  prepare_case(weights, model, workspace, batch, run.context + 1, run.context, run.kv_cache, state);
  Activations& a = state.a;
  StepPlan& plan = state.plan;
  const bool half_outputs = state.half_outputs;
  plan.context = run.context;
  plan_attention(plan);
  const int64_t cache_rows = s.blocks * batch * s.kv_heads * plan.capacity;
  if (run.kv_cache == KvCache::Int8)
    decoder::fill_int8_cache(a.key_codes->as<int8_t>(), a.value_codes->as<int8_t>(), a.key_scales->as<float>(),
                             a.value_scales->as<float>(), cache_rows, int(s.head_dim), weights.seed);
  else
    decoder::fill_cache(a.keys->as<__half>(), a.values->as<__half>(), cache_rows * s.head_dim, weights.seed);
  check_cuda(cudaGetLastError(), "fill the KV cache");
  std::vector<int64_t> tokens;
  for (int64_t b = 0; b < batch; ++b) tokens.push_back(synthetic::token(weights.seed, b, s.vocab));
  check_cuda(cudaMemcpy(a.tokens->get(), tokens.data(), tokens.size() * 8, cudaMemcpyHostToDevice), "upload tokens");
  check_cuda(cudaDeviceSynchronize(), "fill the KV cache");
  std::ostringstream config;
  config << state.config;
  const int64_t linear_bytes = state.linear_bytes;
  const int64_t gain_bytes = (2 * s.blocks + 1) * s.hidden * 2;

  run.linear_bytes = linear_bytes;
  run.weight_bytes = linear_bytes + weights.embedding.storage_bytes(s) + gain_bytes;
  run.kv_bytes_read = 2 * s.blocks * batch * s.kv_heads * (run.context + 1 - plan.first_position) *
                      kv_cache_row_bytes(run.kv_cache, s.head_dim);
  run.step_bytes = linear_bytes + batch * weights.embedding.row_bytes(s) + gain_bytes + run.kv_bytes_read;

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
  config << "; attention " << plan.splits << " split(s) of " << plan.split_tokens << " tokens over an "
         << kv_cache_name(run.kv_cache) << " KV cache; one CUDA graph"
         << (plan.overlap_launch ? " with programmatic dependent launch" : " (plain launches: " + reason + ")");
  run.config = config.str();

  // The checked step: logits poisoned with NaN first, so a value no kernel wrote shows.
  check_cuda(cudaMemsetAsync(a.logits->get(), 0xff, a.logits->bytes(), stream.get()), "poison logits");
  check_cuda(cudaGraphLaunch(graph.exec, stream.get()), "cudaGraphLaunch");
  if (half_outputs)
    decoder::gather_logits(stream.get(), a.logits->as<__half>(), s.vocab, a.logits_float->as<float>(), batch, s.vocab);
  else
    decoder::gather_logits(stream.get(), a.logits->as<float>(), s.vocab, a.logits_float->as<float>(), batch, s.vocab);
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
    runs[index].kv_cache = cases[index].kv_cache;
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
    for (int role = 0; role < kLinearRoles; ++role) {
      const LinearWeights& linear = weights.linear(LinearRole(role), 0);
      bytes_per_block.push_back(linear.kind == LinearKind::Packed ? linear.tiles->layout.storage_bytes()
                                                                  : linear.rows * linear.cols * 2);
    }
    size_t free_bytes = 0, total_bytes = 0;
    check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    bool any_fits = false;
    for (DecodeRun& run : runs) {
      run.required_bytes = decoder_required_bytes(s, bytes_per_block, {run.batch, run.context, run.kv_cache});
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

    DeviceModel model;
    upload_model(weights, model);
    const size_t workspace_bytes = 32u << 20;
    DeviceBuffer workspace(workspace_bytes);
    for (DecodeRun& run : runs) {
      if (!run.error.empty()) continue;
      try {
        run_case(weights, model, workspace, timing, run);
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

TokenDecodeRun decode_tokens(const DecoderWeights& weights, int64_t batch, const std::vector<int64_t>& tokens) {
  TokenDecodeRun result;
  const DecoderShape& s = weights.shape;
  if (const std::string reason = s.unsupported_reason(); !reason.empty()) {
    result.error = s.name + ": " + reason;
    return result;
  }
  if (weights.linears.size() != size_t(kLinearRoles)) {
    result.error = "weights for every linear role are needed";
    return result;
  }
  if (batch < 1 || tokens.empty() || int64_t(tokens.size()) % batch != 0) {
    result.error = "the tokens must be [positions][batch] with at least one position";
    return result;
  }
  for (const int64_t token : tokens)
    if (token < 0 || token >= s.vocab) {
      result.error = "token id " + std::to_string(token) + " is outside the vocabulary of " + std::to_string(s.vocab);
      return result;
    }
  const DeviceStatus& device = device_status();
  if (!device.available) {
    result.error = device.reason;
    return result;
  }
  const int64_t positions = int64_t(tokens.size()) / batch;
  try {
    DeviceModel model;
    upload_model(weights, model);
    DeviceBuffer workspace(32u << 20);
    CaseState state;
    prepare_case(weights, model, workspace, batch, positions, positions - 1, KvCache::Fp16, state);
    StepPlan& plan = state.plan;
    Activations& a = state.a;
    plan.overlap_launch = false;  // one step at a time, plain launches: nothing to overlap with
    Stream stream;
    std::vector<float> logits(size_t(positions * batch * s.vocab));
    for (int64_t position = 0; position < positions; ++position) {
      check_cuda(cudaMemcpyAsync(a.tokens->get(), tokens.data() + position * batch, size_t(batch) * 8,
                                 cudaMemcpyHostToDevice, stream.get()),
                 "upload tokens");
      plan.context = position;
      plan_attention(plan);
      check_cuda(cudaMemsetAsync(a.logits->get(), 0xff, a.logits->bytes(), stream.get()), "poison logits");
      if (state.half_outputs) {
        enqueue_step<__half>(plan, stream.get());
        decoder::gather_logits(stream.get(), a.logits->as<__half>(), s.vocab, a.logits_float->as<float>(), batch,
                               s.vocab);
      } else {
        enqueue_step<float>(plan, stream.get());
        decoder::gather_logits(stream.get(), a.logits->as<float>(), s.vocab, a.logits_float->as<float>(), batch,
                               s.vocab);
      }
      check_cuda(cudaGetLastError(), "decode step");
      float* out = logits.data() + position * batch * s.vocab;
      check_cuda(cudaMemcpyAsync(out, a.logits_float->get(), size_t(batch * s.vocab) * 4, cudaMemcpyDeviceToHost,
                                 stream.get()),
                 "download logits");
      check_cuda(cudaStreamSynchronize(stream.get()), "decode step");
      const auto bad = std::count_if(out, out + batch * s.vocab, [](float v) { return !std::isfinite(v); });
      if (bad > 0)
        throw GpuFailure("the step at position " + std::to_string(position) + " left " + std::to_string(bad) +
                         " logits non-finite");
    }
    result.logits = std::move(logits);
    result.config = state.config;
    result.ok = true;
  } catch (const std::exception& error) {
    result.error = error.what();
    cudaGetLastError();
    cudaDeviceSynchronize();
  }
  return result;
}

}  // namespace nmscope
