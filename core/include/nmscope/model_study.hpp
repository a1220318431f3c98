#pragma once
// One row of a model study in the results database: a whole model compressed with one configuration and scored
// against its dense self (model_evaluation.hpp). The per-layer rows of the same configuration go to the measurements
// table under the same study_id, written in the same transaction, so a study is never stored half.
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nmscope/model_compression.hpp"
#include "nmscope/model_records.hpp"

namespace nmscope {

class ResultsStore;

struct ModelStudySpec {
  std::string model;        // model directory or llama.cpp .gguf
  std::string evaluation;   // token ids .npy, or a text file when evaluation_is_text
  std::string calibration;  // token ids .npy (or text when calibration_is_text); empty: the built-in set
  bool evaluation_is_text = false;
  bool calibration_is_text = false;
  int64_t window = 128;     // tokens per window of a text file
  int64_t max_windows = 0;  // at most this many windows from the start of a text file; 0 = all
  std::vector<NMPattern> patterns = {NMPattern::parse("2:4")};
  std::vector<int> bits = {4};
  QuantConfig quant;  // granularity, group, symmetry; bits come from `bits`
  std::vector<ModelCriterion> criteria = {ModelCriterion::Magnitude};
  std::vector<Quantizer> quantizers = {Quantizer::RoundToNearest};
  bool skip_stored = false;  // resume: leave out the configurations the store holds already
};

inline constexpr int64_t kBuiltinCalibrationSequences = 16;
inline constexpr int64_t kBuiltinCalibrationTokens = 64;

// How many configurations run_model_study scores for `spec`: the dense point, then every (pattern, bits, criterion,
// quantizer) but GPTQ at fp16 when round-to-nearest is asked for too (the same point).
int64_t model_study_configuration_count(const ModelStudySpec& spec);

// The built-in calibration set for a model: kBuiltinCalibrationSequences x kBuiltinCalibrationTokens (clipped to the
// model's positions) ids from a fixed seed.
TokenIds builtin_calibration(const Model& model);

// Scores the dense fp16 point and then every (pattern, bits, criterion, quantizer) against the dense fp32 model.
// Each configuration is stored (when `store` is given) in one transaction with its per-layer rows, then reported to
// `on_row`. Returns the study id. Throws Error before anything is stored when the model, the token files or the
// options are bad.
// With spec.skip_stored, the configurations the store already holds (same model, configuration, calibration and
// evaluation files, by canonical path) are left out and counted in `already_stored`.
std::string run_model_study(const ModelStudySpec& spec, ResultsStore* store,
                            const std::function<void(const ModelEvaluationRecord&)>& on_row,
                            const std::atomic<bool>* cancel = nullptr, int64_t* already_stored = nullptr);

}  // namespace nmscope
