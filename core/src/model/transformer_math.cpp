// Shared transformer math. Each function is parallel over independent rows, (sequence, head) pairs or output-feature
// blocks, so the result does not depend on the thread count: no reduction is split across tasks.
#include "model/transformer_math.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <limits>

namespace nmscope::transformer {

namespace {

constexpr Eigen::Index kFeatureBlock = 64;
constexpr Eigen::Index kRowBlock = 16;

template <typename RowFunction>
void for_each_row(Eigen::Index rows, RowFunction&& function) {
  tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, rows, kRowBlock), [&](const auto& range) {
    for (Eigen::Index row = range.begin(); row < range.end(); ++row) function(row);
  });
}

}  // namespace

MatrixF linear(const MatrixF& x, const MatrixF& weights, const VectorF* bias) {
  MatrixF y(x.rows(), weights.rows());
  // simple_partitioner: the blocks are the same on every run whatever the load, and Eigen's GEMM rounds a block the
  // same way each time, so the output is bit-reproducible (the auto partitioner merges blocks as threads are free).
  tbb::parallel_for(
      tbb::blocked_range<Eigen::Index>(0, weights.rows(), kFeatureBlock),
      [&](const auto& range) {
        const Eigen::Index count = Eigen::Index(range.size());
        y.middleCols(range.begin(), count).noalias() = x * weights.middleRows(range.begin(), count).transpose();
        if (bias) y.middleCols(range.begin(), count).rowwise() += bias->segment(range.begin(), count).transpose();
      },
      tbb::simple_partitioner());
  return y;
}

void rms_norm(MatrixF& x, const VectorF& weight, double eps) {
  for_each_row(x.rows(), [&](Eigen::Index row) {
    auto values = x.row(row);
    const double mean_square = values.cast<double>().squaredNorm() / double(values.size());
    const float inverse = static_cast<float>(1.0 / std::sqrt(mean_square + eps));
    values = (values * inverse).cwiseProduct(weight.transpose());
  });
}

void layer_norm(MatrixF& x, const VectorF& weight, const VectorF& bias, double eps) {
  for_each_row(x.rows(), [&](Eigen::Index row) {
    auto values = x.row(row);
    const auto wide = values.cast<double>();
    const double mean = wide.mean();
    const double variance = (wide.array() - mean).square().mean();
    const double inverse = 1.0 / std::sqrt(variance + eps);
    values = (((wide.array() - mean) * inverse).cast<float>() * weight.transpose().array() + bias.transpose().array())
                 .matrix();
  });
}

void silu_times(MatrixF& gate, const MatrixF& up) {
  for_each_row(gate.rows(), [&](Eigen::Index row) {
    auto values = gate.row(row).array();
    values = values / (1.0f + (-values).exp()) * up.row(row).array();
  });
}

void gelu(MatrixF& x, bool tanh_approximation) {
  for_each_row(x.rows(), [&](Eigen::Index row) {
    for (float& value : x.row(row)) {
      if (tanh_approximation) {
        const float inner = 0.7978845608028654f * (value + 0.044715f * value * value * value);
        value = 0.5f * value * (1.0f + std::tanh(inner));
      } else {
        value = 0.5f * value * (1.0f + std::erf(value * 0.7071067811865476f));
      }
    }
  });
}

VectorF rope_inverse_frequencies(int64_t head_dim, double theta, const RopeScaling& scaling) {
  const int64_t half = head_dim / 2;
  // HF computes the inverse frequencies in fp32 and the angles as fp32 products; doing the same keeps long sequences
  // on the reference's rounding.
  VectorF inverse_frequency(half);
  for (int64_t i = 0; i < half; ++i)
    inverse_frequency[i] = 1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / float(head_dim));
  const float factor = static_cast<float>(scaling.factor);
  if (scaling.type == "linear") {
    inverse_frequency /= factor;
  } else if (scaling.type == "llama3") {
    // Wavelengths longer than the original context are slowed by the factor, shorter than original /
    // high_freq_factor are kept, and the band between is blended linearly in (original context / wavelength).
    const float original = static_cast<float>(scaling.original_max_positions);
    const float low = static_cast<float>(scaling.low_freq_factor), high = static_cast<float>(scaling.high_freq_factor);
    const float low_freq_wavelength = original / low, high_freq_wavelength = original / high;
    for (int64_t i = 0; i < half; ++i) {
      const float frequency = inverse_frequency[i];
      const float wavelength = 2.0f * static_cast<float>(M_PI) / frequency;
      if (wavelength > low_freq_wavelength) {
        inverse_frequency[i] = frequency / factor;
      } else if (!(wavelength < high_freq_wavelength)) {
        const float smooth = (original / wavelength - low) / (high - low);
        inverse_frequency[i] = (1.0f - smooth) * frequency / factor + smooth * frequency;
      }
    }
  }
  return inverse_frequency;
}

namespace {

void rotate_row(float* row, float position, int64_t heads, int64_t head_dim, const VectorF& inverse_frequency) {
  const int64_t half = head_dim / 2;
  for (int64_t head = 0; head < heads; ++head) {
    float* values = row + head * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float angle = position * inverse_frequency[i];
      const float cosine = std::cos(angle), sine = std::sin(angle);
      const float first = values[i], second = values[i + half];
      values[i] = first * cosine - second * sine;
      values[i + half] = second * cosine + first * sine;
    }
  }
}

}  // namespace

void apply_rope(MatrixF& x, int64_t tokens, int64_t heads, int64_t head_dim, const VectorF& inverse_frequency) {
  for_each_row(x.rows(), [&](Eigen::Index row) {
    rotate_row(x.row(row).data(), static_cast<float>(row % tokens), heads, head_dim, inverse_frequency);
  });
}

void apply_rope_at(MatrixF& x, int64_t position, int64_t heads, int64_t head_dim, const VectorF& inverse_frequency) {
  for_each_row(x.rows(), [&](Eigen::Index row) {
    rotate_row(x.row(row).data(), static_cast<float>(position), heads, head_dim, inverse_frequency);
  });
}

MatrixF attention(const MatrixF& q, const MatrixF& k, const MatrixF& v, const AttentionShape& shape) {
  const int64_t length = shape.tokens, head_dim = shape.head_dim;
  const int64_t group = shape.heads / shape.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  MatrixF context(q.rows(), shape.heads * head_dim);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, shape.sequences * shape.heads), [&](const auto& range) {
    MatrixF scores(length, length);
    for (int64_t task = range.begin(); task < range.end(); ++task) {
      const int64_t sequence = task / shape.heads, head = task % shape.heads, kv_head = head / group;
      const int64_t first_row = sequence * length;
      const auto queries = q.block(first_row, head * head_dim, length, head_dim);
      const auto keys = k.block(first_row, kv_head * head_dim, length, head_dim);
      const auto values = v.block(first_row, kv_head * head_dim, length, head_dim);
      scores.noalias() = (queries * keys.transpose()) * scale;
      for (int64_t row = 0; row < length; ++row) {
        auto scores_row = scores.row(row).array();
        if (shape.causal) {
          for (int64_t column = row + 1; column < length; ++column) scores_row[column] = -INFINITY;
          if (shape.sliding_window > 0)
            for (int64_t column = 0; column <= row - shape.sliding_window; ++column) scores_row[column] = -INFINITY;
        }
        const float maximum = scores_row.maxCoeff();
        scores_row = (scores_row - maximum).exp();
        scores_row /= scores_row.sum();
      }
      context.block(first_row, head * head_dim, length, head_dim).noalias() = scores * values;
    }
  });
  return context;
}

}  // namespace nmscope::transformer
