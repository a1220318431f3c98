#include "decoder_reference.hpp"

#include <cmath>

#include "nmscope/kernels/cuda/decoder_synthetic.hpp"

namespace nmscope::test {

namespace {

namespace synthetic = kernels::cuda::synthetic;
using kernels::cuda::LinearRole;

double to_fp16(double value) { return double(static_cast<float>(static_cast<_Float16>(float(value)))); }

// y = W x with W [rows, cols] row-major.
std::vector<double> product(const kernels::cuda::LinearWeights& w, const std::vector<double>& x) {
  std::vector<double> y(size_t(w.rows), 0.0);
  for (int64_t r = 0; r < w.rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < w.cols; ++c) sum += double(w.dense[size_t(r * w.cols + c)]) * x[size_t(c)];
    y[size_t(r)] = sum;
  }
  return y;
}

std::vector<double> rms_norm(const std::vector<double>& h, uint64_t seed, int64_t norm, double epsilon) {
  double squares = 0;
  for (double v : h) squares += v * v;
  const double inverse = 1.0 / std::sqrt(squares / double(h.size()) + epsilon);
  std::vector<double> x(h.size());
  for (size_t i = 0; i < h.size(); ++i) x[i] = h[i] * inverse * to_fp16(synthetic::norm_gain(seed, uint64_t(norm), i));
  return x;
}

// Rotate-half RoPE of one head vector in place.
void rotate(double* v, int64_t head_dim, int64_t position, double theta) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double angle = double(position) * std::pow(theta, -2.0 * double(i) / double(head_dim));
    const double a = v[i], b = v[i + half];
    v[i] = a * std::cos(angle) - b * std::sin(angle);
    v[i + half] = b * std::cos(angle) + a * std::sin(angle);
  }
}

}  // namespace

std::vector<double> decoder_step_reference(const kernels::cuda::DecoderWeights& weights, int64_t batch,
                                           int64_t context) {
  const auto& s = weights.shape;
  const uint64_t seed = weights.seed;
  const auto& linear = [&](LinearRole role) -> const kernels::cuda::LinearWeights& {
    return weights.linears[size_t(role)];
  };
  const int64_t capacity = context + 1, d = s.head_dim, group = s.heads / s.kv_heads;
  std::vector<double> logits;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t token = synthetic::token(seed, b, s.vocab);
    std::vector<double> h(size_t(s.hidden));
    for (int64_t i = 0; i < s.hidden; ++i)
      h[size_t(i)] = to_fp16(synthetic::embedding(seed, uint64_t(token * s.hidden + i)));
    for (int64_t block = 0; block < s.blocks; ++block) {
      const std::vector<double> qkv = product(linear(LinearRole::Qkv), rms_norm(h, seed, 2 * block, s.norm_epsilon));
      std::vector<double> q(qkv.begin(), qkv.begin() + s.heads * d);
      std::vector<double> k_new(qkv.begin() + s.heads * d, qkv.begin() + (s.heads + s.kv_heads) * d);
      std::vector<double> v_new(qkv.begin() + (s.heads + s.kv_heads) * d, qkv.end());
      for (int64_t head = 0; head < s.heads; ++head) rotate(&q[size_t(head * d)], d, context, s.rope_theta);
      for (int64_t head = 0; head < s.kv_heads; ++head) rotate(&k_new[size_t(head * d)], d, context, s.rope_theta);
      std::vector<double> attention(size_t(s.hidden));
      for (int64_t head = 0; head < s.heads; ++head) {
        const int64_t kv_head = head / group;
        auto cached = [&](bool value, int64_t t, int64_t e) {
          if (t == context) return to_fp16((value ? v_new : k_new)[size_t(kv_head * d + e)]);
          const uint64_t index = uint64_t((((block * batch + b) * s.kv_heads + kv_head) * capacity + t) * d + e);
          return to_fp16(value ? synthetic::cached_value(seed, index) : synthetic::cached_key(seed, index));
        };
        std::vector<double> scores(size_t(context + 1));
        double maximum = -1e300;
        for (int64_t t = 0; t <= context; ++t) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += q[size_t(head * d + e)] * cached(false, t, e);
          scores[size_t(t)] = dot / std::sqrt(double(d));
          maximum = std::max(maximum, scores[size_t(t)]);
        }
        double total = 0;
        for (double& score : scores) total += (score = std::exp(score - maximum));
        for (int64_t e = 0; e < d; ++e) {
          double sum = 0;
          for (int64_t t = 0; t <= context; ++t) sum += scores[size_t(t)] * cached(true, t, e);
          attention[size_t(head * d + e)] = sum / total;
        }
      }
      const std::vector<double> out = product(linear(LinearRole::Output), attention);
      for (int64_t i = 0; i < s.hidden; ++i) h[size_t(i)] += out[size_t(i)];
      const std::vector<double> gate_up =
          product(linear(LinearRole::GateUp), rms_norm(h, seed, 2 * block + 1, s.norm_epsilon));
      std::vector<double> act(size_t(s.intermediate));
      for (int64_t i = 0; i < s.intermediate; ++i) {
        const double gate = gate_up[size_t(i)], up = gate_up[size_t(s.intermediate + i)];
        act[size_t(i)] = gate / (1.0 + std::exp(-gate)) * up;
      }
      const std::vector<double> down = product(linear(LinearRole::Down), act);
      for (int64_t i = 0; i < s.hidden; ++i) h[size_t(i)] += down[size_t(i)];
    }
    const std::vector<double> row = product(linear(LinearRole::Head), rms_norm(h, seed, 2 * s.blocks, s.norm_epsilon));
    logits.insert(logits.end(), row.begin(), row.end());
  }
  return logits;
}

}  // namespace nmscope::test
