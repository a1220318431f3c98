#include "decoder_reference.hpp"

#include <algorithm>
#include <cmath>

#include "nmscope/kernels/cuda/decoder_synthetic.hpp"

namespace nmscope::test {

namespace {

namespace synthetic = kernels::cuda::synthetic;
using nmscope::LinearRole;

double to_fp16(double value) { return double(static_cast<float>(static_cast<_Float16>(float(value)))); }

// y = W x with W [rows, cols] row-major.
std::vector<double> product(const LinearWeights& w, const std::vector<double>& x) {
  std::vector<double> y(size_t(w.rows), 0.0);
  for (int64_t r = 0; r < w.rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < w.cols; ++c) sum += double(w.dense[size_t(r * w.cols + c)]) * x[size_t(c)];
    y[size_t(r)] = sum;
  }
  return y;
}

// The weights' gains when given, else the synthetic ones; fp16 as the GPU holds them.
std::vector<double> rms_norm(const std::vector<double>& h, const DecoderWeights& weights, int64_t norm,
                             double epsilon) {
  double squares = 0;
  for (double v : h) squares += v * v;
  const double inverse = 1.0 / std::sqrt(squares / double(h.size()) + epsilon);
  std::vector<double> x(h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    const double gain = weights.norm_gains.empty() ? synthetic::norm_gain(weights.seed, uint64_t(norm), i)
                                                   : weights.norm_gains[size_t(norm) * h.size() + i];
    x[i] = h[i] * inverse * to_fp16(gain);
  }
  return x;
}

// Rotate-half RoPE of one head vector in place (the weights' inverse frequencies when given, else theta's).
void rotate(double* v, int64_t head_dim, int64_t position, double theta, const std::vector<float>& inverse) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double frequency =
        inverse.empty() ? std::pow(theta, -2.0 * double(i) / double(head_dim)) : double(inverse[size_t(i)]);
    const double angle = double(position) * frequency;
    const double a = v[i], b = v[i + half];
    v[i] = a * std::cos(angle) - b * std::sin(angle);
    v[i + half] = b * std::cos(angle) + a * std::sin(angle);
  }
}

}  // namespace

std::vector<double> decoder_step_reference(const DecoderWeights& weights, int64_t batch, int64_t context) {
  const auto& s = weights.shape;
  const uint64_t seed = weights.seed;
  int64_t block = 0;
  const auto& linear = [&](LinearRole role) -> const LinearWeights& { return weights.linear(role, block); };
  const int64_t first = s.sliding_window > 0 ? std::max<int64_t>(0, context + 1 - s.sliding_window) : 0;
  const int64_t capacity = context + 1, d = s.head_dim, group = s.heads / s.kv_heads;
  std::vector<double> logits;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t token = synthetic::token(seed, b, s.vocab);
    std::vector<double> h(size_t(s.hidden));
    for (int64_t i = 0; i < s.hidden; ++i) {
      const size_t at = size_t(token * s.hidden + i);
      h[size_t(i)] =
          to_fp16(weights.embedding.dense.empty() ? synthetic::embedding(seed, at) : weights.embedding.dense[at]);
    }
    for (block = 0; block < s.blocks; ++block) {
      std::vector<double> qkv = product(linear(LinearRole::Qkv), rms_norm(h, weights, 2 * block, s.norm_epsilon));
      if (!weights.qkv_bias.empty())
        for (size_t r = 0; r < qkv.size(); ++r) qkv[r] += weights.qkv_bias[size_t(block) * qkv.size() + r];
      std::vector<double> q(qkv.begin(), qkv.begin() + s.heads * d);
      std::vector<double> k_new(qkv.begin() + s.heads * d, qkv.begin() + (s.heads + s.kv_heads) * d);
      std::vector<double> v_new(qkv.begin() + (s.heads + s.kv_heads) * d, qkv.end());
      const std::vector<float>& inverse = weights.rope_inverse_frequencies;
      for (int64_t head = 0; head < s.heads; ++head) rotate(&q[size_t(head * d)], d, context, s.rope_theta, inverse);
      for (int64_t head = 0; head < s.kv_heads; ++head)
        rotate(&k_new[size_t(head * d)], d, context, s.rope_theta, inverse);
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
        for (int64_t t = first; t <= context; ++t) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += q[size_t(head * d + e)] * cached(false, t, e);
          scores[size_t(t)] = dot / std::sqrt(double(d));
          maximum = std::max(maximum, scores[size_t(t)]);
        }
        double total = 0;
        for (int64_t t = first; t <= context; ++t) total += (scores[size_t(t)] = std::exp(scores[size_t(t)] - maximum));
        for (int64_t e = 0; e < d; ++e) {
          double sum = 0;
          for (int64_t t = first; t <= context; ++t) sum += scores[size_t(t)] * cached(true, t, e);
          attention[size_t(head * d + e)] = sum / total;
        }
      }
      const std::vector<double> out = product(linear(LinearRole::Output), attention);
      for (int64_t i = 0; i < s.hidden; ++i) h[size_t(i)] += out[size_t(i)];
      const std::vector<double> gate_up =
          product(linear(LinearRole::GateUp), rms_norm(h, weights, 2 * block + 1, s.norm_epsilon));
      std::vector<double> act(size_t(s.intermediate));
      for (int64_t i = 0; i < s.intermediate; ++i) {
        const double gate = gate_up[size_t(i)], up = gate_up[size_t(s.intermediate + i)];
        act[size_t(i)] = gate / (1.0 + std::exp(-gate)) * up;
      }
      const std::vector<double> down = product(linear(LinearRole::Down), act);
      for (int64_t i = 0; i < s.hidden; ++i) h[size_t(i)] += down[size_t(i)];
    }
    const std::vector<double> row =
        product(linear(LinearRole::Head), rms_norm(h, weights, 2 * s.blocks, s.norm_epsilon));
    logits.insert(logits.end(), row.begin(), row.end());
  }
  return logits;
}

}  // namespace nmscope::test
