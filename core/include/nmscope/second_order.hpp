#pragma once
// Second-order compression of one linear layer: SparseGPT (Frantar & Alistarh, 2023) chooses N:M masks from the
// optimal-brain-surgeon score w^2 / [H^-1]_jj^2 and updates the remaining weights to absorb each pruned or rounded
// weight's error; GPTQ (Frantar et al., 2022) is the same machinery with the mask fixed, quantizing column by column.
// H = X^T X over the layer's calibration inputs X [tokens, K], damped by a fraction of its mean diagonal.
#include <string>

#include "nmscope/matrix.hpp"
#include "nmscope/packed_matrix.hpp"

namespace nmscope {

struct SecondOrderSettings {
  NMPattern pattern = NMPattern::dense();
  QuantConfig quant;
  // SparseGPT: masks chosen per group of M from the OBS scores as the updates go. Otherwise `fixed_mask` (from a
  // magnitude or wanda selection) is kept and only the updates run.
  bool choose_mask = true;
  const NMSelection* fixed_mask = nullptr;
  // GPTQ-style joint quantization: each kept weight is rounded on its group's grid inside the loop and its rounding
  // error is propagated too. Otherwise the updated weights are rounded to nearest afterwards (compress()).
  bool quantize_in_loop = true;
  double damping = 0.01;  // added to the diagonal, as a fraction of mean(diag H)
};

struct SecondOrderResult {
  PackedMatrix packed;
  // Non-empty when the method could not run as asked, saying what was done instead (a Hessian singular even after
  // damping falls back to magnitude / the fixed mask and round-to-nearest; per-tensor scales or groups that are not a
  // multiple of M quantize after the updates).
  std::string note;
};

// H = X^T X of calibration inputs X [tokens, K], accumulated in fp32 GEMM and returned in double.
MatrixD input_hessian(const MatrixF& inputs);
// The upper Cholesky factor U of (H + lambda I)^-1 = U^T U that the column loop runs on, lambda = damping x mean(diag
// H) raised tenfold up to four times until H factors; an empty matrix when it never does.
MatrixD inverse_hessian_factor(const MatrixD& hessian, double damping);
// `weights` [N_out, K] and `hessian` [K, K]. Never returns NaN weights: a failed factorization takes the fallback.
SecondOrderResult second_order_compress(const MatrixF& weights, const MatrixD& hessian,
                                        const SecondOrderSettings& settings);

}  // namespace nmscope
