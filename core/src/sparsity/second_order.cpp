// SparseGPT / GPTQ for one layer. Rows are independent once H^-1 is known (each row's mask, scales and updates depend
// only on that row and on H), so rows are split across TBB tasks and each task runs the column loop of the papers:
// blocks of columns, inside a block an OBS update per column, after a block one GEMM that carries the block's
// errors to the columns on its right ("lazy batch" updates).
#include "nmscope/second_order.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <numeric>

#include "nmscope/error.hpp"
#include "quant/quant_grid.hpp"

namespace nmscope {

namespace {

constexpr int kDampingAttempts = 5;  // damping x10 each time before giving up
constexpr int64_t kRowsPerTask = 16;
constexpr int64_t kBlockColumns = 128;

// The kept columns of every row, as an NMSelection: real columns ascending, then tail padding only when the tail group
// has fewer real columns than N (as select_nm does).
NMSelection selection_from_mask(const std::vector<uint8_t>& kept, int64_t rows, int64_t cols,
                                const NMPattern& pattern) {
  NMSelection selection;
  selection.rows = rows;
  selection.cols = cols;
  selection.pattern = pattern;
  selection.groups_per_row = (cols + pattern.group_size - 1) / pattern.group_size;
  if (pattern.keeps_everything()) return selection;
  selection.kept_positions.reserve(size_t(rows * selection.slots_per_row()));
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t group = 0; group < selection.groups_per_row; ++group) {
      const int64_t first = group * pattern.group_size;
      int written = 0;
      for (int position = 0; position < pattern.group_size && first + position < cols; ++position) {
        if (kept[size_t(row * cols + first + position)]) {
          selection.kept_positions.push_back(uint8_t(position));
          ++written;
        }
      }
      for (int padding = int(std::min<int64_t>(pattern.group_size, cols - first)); written < pattern.kept_per_group;
           ++padding, ++written)
        selection.kept_positions.push_back(uint8_t(padding));
    }
  }
  return selection;
}

struct Plan {
  bool joint = false;      // quantize inside the loop
  int64_t scale_span = 0;  // columns under one scale (group g, or K per channel)
  int64_t block = 0;       // columns per lazy-update block
};

Plan make_plan(const SecondOrderSettings& settings, int64_t cols, std::string& note) {
  Plan plan;
  const QuantConfig& quant = settings.quant;
  const int64_t group_size = settings.pattern.group_size;
  plan.joint = settings.quantize_in_loop && !quant.is_fp16();
  if (plan.joint && quant.granularity == Granularity::Tensor) {
    plan.joint = false;
    note = "per-tensor scales couple every row; quantized to nearest after the updates";
  }
  if (plan.joint) plan.scale_span = quant.granularity == Granularity::Group ? quant.group : cols;
  if (plan.joint && plan.scale_span % group_size != 0 && plan.scale_span != cols) {
    plan.joint = false;
    note = "quantization group " + std::to_string(quant.group) +
           " is not a multiple of M = " + std::to_string(group_size) + "; quantized to nearest after the updates";
  }
  // A joint block is one scale group, so a group's scale is chosen from weights that already carry every update.
  plan.block = plan.joint ? plan.scale_span : std::max<int64_t>(group_size, kBlockColumns / group_size * group_size);
  return plan;
}

// The column loop for rows [first_row, first_row + count): updates `weights` in place to the final (pruned, and when
// joint, quantized) values, fills `kept` and, when joint, `scale_weights` with the values each scale was chosen from.
class RowCompressor {
 public:
  RowCompressor(const SecondOrderSettings& settings, const Plan& plan, const MatrixD& upper)
      : settings_(settings), plan_(plan), upper_(upper), cols_(upper.rows()) {}

  void run(MatrixD& rows, uint8_t* kept, float* scale_weights) const {
    const int64_t count = rows.rows();
    std::vector<uint8_t> decided(size_t(count * cols_), settings_.choose_mask ? 0 : 1);
    std::vector<ScaleAndZero> scales(static_cast<size_t>(count));
    for (int64_t block_start = 0; block_start < cols_; block_start += plan_.block) {
      const int64_t block_end = std::min(cols_, block_start + plan_.block), width = block_end - block_start;
      MatrixD errors(count, width);
      for (int64_t col = block_start; col < block_end; ++col) {
        for (int64_t row = 0; row < count; ++row) {
          uint8_t* row_kept = kept + row * cols_;
          if (settings_.choose_mask) {
            // Masks are chosen when their group is reached (SparseGPT); with joint quantization, for the whole scale
            // group at its start, because the scale is chosen from the kept weights.
            const bool scale_start = plan_.joint && (col - block_start) == 0;
            const int64_t until = scale_start ? block_end : col + 1;
            for (int64_t start = col; start < until; start += settings_.pattern.group_size)
              if (start % settings_.pattern.group_size == 0 && !decided[size_t(row * cols_ + start)])
                choose_group(rows, row, start, row_kept, decided.data() + row * cols_);
          }
          if (plan_.joint && col == block_start)
            scales[size_t(row)] = choose_row_scale(rows, row, col, block_end, row_kept, scale_weights + row * cols_);
          const double weight = rows(row, col);
          double target = 0.0;
          if (row_kept[col]) {
            target =
                plan_.joint
                    ? double(dequantize_code(quantize_code(float(weight), scales[size_t(row)], settings_.quant.bits),
                                             scales[size_t(row)]))
                    : weight;
          }
          const double error = (weight - target) / upper_(col, col);
          rows(row, col) = target;
          errors(row, col - block_start) = error;
          if (col + 1 < block_end)
            rows.row(row).segment(col + 1, block_end - col - 1) -=
                error * upper_.row(col).segment(col + 1, block_end - col - 1);
        }
      }
      if (block_end < cols_)
        rows.rightCols(cols_ - block_end).noalias() -=
            errors * upper_.block(block_start, block_end, width, cols_ - block_end);
    }
  }

 private:
  // Keeps the N of the group's real columns with the largest w^2 / U_jj^2; ties keep the lower index.
  void choose_group(const MatrixD& rows, int64_t row, int64_t start, uint8_t* row_kept, uint8_t* row_decided) const {
    const int64_t end = std::min(cols_, start + settings_.pattern.group_size);
    std::vector<int64_t> order(size_t(end - start));
    std::iota(order.begin(), order.end(), start);
    auto score = [&](int64_t col) {
      const double weight = rows(row, col), diagonal = upper_(col, col);
      return weight * weight / (diagonal * diagonal);
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score(a) > score(b); });
    for (size_t rank = 0; rank < order.size(); ++rank) {
      row_kept[order[rank]] = rank < size_t(settings_.pattern.kept_per_group);
      row_decided[order[rank]] = 1;
    }
  }

  ScaleAndZero choose_row_scale(const MatrixD& rows, int64_t row, int64_t start, int64_t end, const uint8_t* row_kept,
                                float* row_scale_weights) const {
    KeptRange range;
    for (int64_t col = start; col < end; ++col) {
      row_scale_weights[col] = float(rows(row, col));
      if (row_kept[col]) range.add(row_scale_weights[col]);
    }
    return choose_scale(range, settings_.quant);
  }

  const SecondOrderSettings& settings_;
  const Plan& plan_;
  const MatrixD& upper_;
  int64_t cols_;
};

}  // namespace

// SparseGPT's reference inverts H and factors the inverse (about 3n^3 flops). Here, with J the
// order-reversing permutation, the Cholesky factor L of J H J gives H = V V^T with V = J L J upper triangular, so
// H^-1 = (V^-1)^T V^-1 and U = V^-1 = J L^-1 J, the same unique factor (positive diagonal) for one factorization and
// one triangular inverse (about 4n^3/3): what makes the 11008-column Hessians of a 7B model's down projections
// affordable.
MatrixD inverse_hessian_factor(const MatrixD& hessian, double damping) {
  const Eigen::Index size = hessian.rows();
  const double mean_diagonal = hessian.diagonal().mean();
  if (!std::isfinite(mean_diagonal) || mean_diagonal < 0) return {};
  double lambda = damping * (mean_diagonal > 0 ? mean_diagonal : 1.0);
  const MatrixD reversed = hessian.reverse();  // J H J: rows and columns in reverse order
  for (int attempt = 0; attempt < kDampingAttempts; ++attempt, lambda *= 10) {
    MatrixD damped = reversed;
    damped.diagonal().array() += lambda;
    const Eigen::LLT<MatrixD> factor(damped);
    if (factor.info() != Eigen::Success) continue;
    MatrixD lower_inverse = MatrixD::Identity(size, size);
    factor.matrixL().solveInPlace(lower_inverse);
    MatrixD upper = lower_inverse.reverse();  // J L^-1 J
    upper.triangularView<Eigen::StrictlyLower>().setZero();
    if (upper.allFinite() && (upper.diagonal().array() > 0).all()) return upper;
  }
  return {};
}

MatrixD input_hessian(const MatrixF& inputs) {
  MatrixF product = MatrixF::Zero(inputs.cols(), inputs.cols());
  product.selfadjointView<Eigen::Lower>().rankUpdate(inputs.transpose());
  product.triangularView<Eigen::StrictlyUpper>() = product.transpose();
  return product.cast<double>();
}

SecondOrderResult second_order_compress(const MatrixF& weights, const MatrixD& hessian,
                                        const SecondOrderSettings& settings) {
  settings.quant.validate();
  const int64_t rows = weights.rows(), cols = weights.cols();
  if (hessian.rows() != cols || hessian.cols() != cols)
    throw Error("hessian", "is " + std::to_string(hessian.rows()) + "x" + std::to_string(hessian.cols()) +
                               " but the weights have K = " + std::to_string(cols));
  if (!settings.choose_mask && !settings.fixed_mask)
    throw Error("second_order_compress", "a fixed mask is needed when masks are not chosen");
  SecondOrderResult result;
  // Inputs that are always zero carry no information: SparseGPT gives them a unit diagonal and zero weights.
  MatrixD damped_source = hessian;
  MatrixF working_weights = weights;
  for (int64_t col = 0; col < cols; ++col) {
    if (damped_source(col, col) == 0.0) {
      damped_source(col, col) = 1.0;
      working_weights.col(col).setZero();
    }
  }
  const MatrixD upper = inverse_hessian_factor(damped_source, settings.damping);
  if (upper.size() == 0) {
    const NMSelection selection =
        settings.fixed_mask ? *settings.fixed_mask : select_nm(weights, settings.pattern, PruningCriterion::Magnitude);
    result.packed = compress(weights, selection, settings.quant);
    result.note = std::string("Hessian is singular even after damping; fell back to ") +
                  (settings.fixed_mask ? "the given mask" : "magnitude masks") + " and round-to-nearest";
    return result;
  }

  const Plan plan = make_plan(settings, cols, result.note);
  std::vector<uint8_t> kept(size_t(rows * cols), 1);
  if (!settings.choose_mask && !settings.pattern.keeps_everything()) {
    std::fill(kept.begin(), kept.end(), 0);
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t slot = 0; slot < settings.fixed_mask->slots_per_row(); ++slot)
        if (const int64_t col = settings.fixed_mask->column(row, slot); col < cols) kept[size_t(row * cols + col)] = 1;
  }
  const bool choose = settings.choose_mask && !settings.pattern.keeps_everything();
  SecondOrderSettings effective = settings;
  effective.choose_mask = choose;
  MatrixF final_weights(rows, cols), scale_weights = MatrixF::Zero(rows, cols);
  const RowCompressor compressor(effective, plan, upper);
  // simple_partitioner: fixed row blocks, so the block GEMMs round the same way on every run.
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, rows, kRowsPerTask),
      [&](const auto& range) {
        MatrixD block = working_weights.middleRows(range.begin(), int64_t(range.size())).template cast<double>();
        compressor.run(block, kept.data() + range.begin() * cols, scale_weights.row(range.begin()).data());
        final_weights.middleRows(range.begin(), int64_t(range.size())) = block.template cast<float>();
      },
      tbb::simple_partitioner());
  const NMSelection selection = selection_from_mask(kept, rows, cols, settings.pattern);
  result.packed = compress(final_weights, selection, settings.quant, plan.joint ? &scale_weights : nullptr);
  return result;
}

}  // namespace nmscope
