// The synthetic generator of synthetic.hpp. LLM-like weights follow what real checkpoints measure
// (scripts/weight_statistics.py; docs/ACCURACY.md "Synthetic LLM-like weights"): a normal bulk whose rows and columns
// have a mild log-normal spread of scale (excess kurtosis ~1-2, max/RMS of a group of 128 ~3, as MiniLM-L6 and
// SmolLM2-135M show per role), and, in the MLP down projection only, one input channel in a thousand 4-5x larger (the
// few large "super weight" channels of LLaMA-family down projections, Yu et al. 2024; MiniLM's measure 4.5x at 0.1%).
// The older generator, with 0.5% of columns 8-30x larger in every layer, is kept as dist=outlier-channels: it models
// weights into which activation outliers were migrated (SmoothQuant, Xiao et al. 2023), not checkpoints as trained.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <charconv>
#include <cmath>
#include <map>

#include "model/synthetic_values.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/synthetic.hpp"
#include "util/portable_random.hpp"

namespace nmscope {

namespace {

constexpr const char* kPrefix = "synth:";
constexpr double kWeightStd = 0.02;  // the usual init scale of LLM linear layers

// dist=llm: log-normal spread of row and column scale. sigma_r^2 + sigma_c^2 = ln(1.5) / 4 gives an excess kurtosis of
// 3 exp(4 (sigma_r^2 + sigma_c^2)) - 3 = 1.5, the middle of the 0.5-2.3 measured per role.
constexpr double kRowScaleSigma = 0.225;
constexpr double kColumnScaleSigma = 0.225;
constexpr double kDownOutlierShare = 0.001;
constexpr double kDownOutlierGainLow = 4.0, kDownOutlierGainHigh = 5.0;
// dist=outlier-channels: activation outliers migrated into the weights' input channels.
constexpr double kMigratedOutlierShare = 0.005;

enum class Distribution { Normal, Laplace, LlmLike, OutlierChannels };

// The MLP down projection by the names checkpoints use (model.layers.N.mlp.down_proj, blk.N.ffn_down).
bool is_down_projection(const std::string& name) {
  return name.find("down_proj") != std::string::npos || name.find("ffn_down") != std::string::npos;
}

struct SyntheticTensor {
  std::string name;
  int64_t rows;
  int64_t cols;
};

const std::map<std::string, std::vector<SyntheticTensor>>& presets() {
  static const std::map<std::string, std::vector<SyntheticTensor>> table = {
      {"llama-7b-block",
       {{"model.layers.0.self_attn.q_proj.weight", 4096, 4096},
        {"model.layers.0.self_attn.k_proj.weight", 4096, 4096},
        {"model.layers.0.self_attn.v_proj.weight", 4096, 4096},
        {"model.layers.0.self_attn.o_proj.weight", 4096, 4096},
        {"model.layers.0.mlp.gate_proj.weight", 11008, 4096},
        {"model.layers.0.mlp.up_proj.weight", 11008, 4096},
        {"model.layers.0.mlp.down_proj.weight", 4096, 11008}}},
      {"tiny-block",
       {{"block.attn.q_proj.weight", 64, 96},
        {"block.mlp.up_proj.weight", 160, 96},
        {"block.mlp.down_proj.weight", 96, 160}}},
  };
  return table;
}

int64_t parse_dimension(const std::string& text, const std::string& spec) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0 || value > (int64_t{1} << 20))
    throw Error(spec, "'" + text + "' is not a dimension between 1 and 1048576");
  return value;
}

class SyntheticSource final : public WeightSource {
 public:
  explicit SyntheticSource(const std::string& spec) : spec_(spec) { parse(); }

  const std::string& location() const override { return spec_; }
  const std::vector<TensorInfo>& tensors() const override { return infos_; }

  MatrixF load_matrix(const std::string& name) const override {
    return load_rows(name, 0, tensors_[index_of(name)].rows);
  }

  // Rows are independent streams, so any range is generated alone: a model study streams a layer in row slices.
  MatrixF load_rows(const std::string& name, int64_t first, int64_t count) const override {
    const size_t index = index_of(name);
    const SyntheticTensor& tensor = tensors_[index];
    if (first < 0 || count < 0 || first + count > tensor.rows)
      throw Error(name, "rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") are outside its " +
                            std::to_string(tensor.rows) + " rows");
    MatrixF weights(count, tensor.cols);
    const uint64_t tensor_seed = stream_seed(seed_, 1000 + index);
    const std::vector<float> column_gain = column_gains(tensor, tensor_seed);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, count, 16), [&](const auto& range) {
      for (int64_t local = range.begin(); local != range.end(); ++local) {
        const uint64_t row_seed = stream_seed(tensor_seed, uint64_t(first + local));
        float* out = weights.data() + local * tensor.cols;
        if (distribution_ == Distribution::Laplace)
          synthetic::fill_laplace(out, tensor.cols, row_seed);
        else
          synthetic::fill_normal(out, tensor.cols, row_seed);
        float row_scale = float(kWeightStd);
        if (distribution_ == Distribution::LlmLike)
          row_scale = float(kWeightStd * std::exp(kRowScaleSigma * double(synthetic::normal_at(row_seed, 0))));
        else if (distribution_ == Distribution::OutlierChannels)
          row_scale = float(kWeightStd * std::exp(0.2 * double(synthetic::normal_at(row_seed, 0))));
        for (int64_t col = 0; col < tensor.cols; ++col) out[col] = out[col] * row_scale * column_gain[size_t(col)];
      }
    });
    return weights;
  }

  std::string tensor_hash(const std::string& name) const override {
    const size_t index = index_of(name);
    // "v2": the float generator of synthetic_values.cpp; rows stored from the libm one (v1) are not the same layer.
    // "v3": dist=llm fitted to real weights (the v2 llm generator is dist=outlier-channels now).
    const std::string identity = (distribution_ == Distribution::LlmLike ? "v3|" : "v2|") + distribution_name_ + "|" +
                                 std::to_string(seed_) + "|" + name + "|" + std::to_string(tensors_[index].rows) + "x" +
                                 std::to_string(tensors_[index].cols);
    return hash_to_hex(hash_bytes(std::as_bytes(std::span(identity.data(), identity.size()))));
  }

 private:
  // Per input channel: 1 for normal and laplace; the log-normal spread and the down projection's few large channels
  // for llm; 0.5% of channels 8-30x for outlier-channels. One stream per tensor, so any row range sees the same gains.
  std::vector<float> column_gains(const SyntheticTensor& tensor, uint64_t tensor_seed) const {
    std::vector<float> gains(size_t(tensor.cols), 1.0f);
    PortableRandom random(stream_seed(tensor_seed, ~uint64_t{0}));
    if (distribution_ == Distribution::OutlierChannels) {
      for (auto& gain : gains)
        if (random.uniform() < kMigratedOutlierShare) gain = float(8.0 + 22.0 * random.uniform());
    } else if (distribution_ == Distribution::LlmLike) {
      const bool down = is_down_projection(tensor.name);
      for (int64_t col = 0; col < tensor.cols; ++col) {
        double gain = std::exp(kColumnScaleSigma * double(synthetic::normal_at(tensor_seed ^ 0xC01u, uint64_t(col))));
        if (down && random.uniform() < kDownOutlierShare)
          gain = kDownOutlierGainLow + (kDownOutlierGainHigh - kDownOutlierGainLow) * random.uniform();
        gains[size_t(col)] = float(gain);
      }
    }
    return gains;
  }

  size_t index_of(const std::string& name) const {
    for (size_t index = 0; index < tensors_.size(); ++index)
      if (tensors_[index].name == name) return index;
    throw Error(name, "no such tensor in " + spec_);
  }

  void parse() {
    std::vector<std::string> fields;
    std::string rest = spec_.substr(std::string(kPrefix).size());
    for (size_t start = 0;;) {
      const size_t colon = rest.find(':', start);
      fields.push_back(rest.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (fields.empty() || fields[0].empty())
      throw Error(spec_,
                  "expected synth:SHAPE[+SHAPE...][:dist=normal|laplace|llm|outlier-channels][:seed=N], e.g. "
                  "synth:4096x4096");
    // A model preset brings its own distribution and seed; fields given in the spec override them.
    const ModelPreset* model_preset = find_model_preset(fields[0]);
    if (model_preset) {
      set_distribution(model_preset->distribution);
      seed_ = model_preset->seed;
    }
    for (size_t index = 1; index < fields.size(); ++index) {
      const std::string& field = fields[index];
      if (field.rfind("dist=", 0) == 0) {
        set_distribution(field.substr(5));
      } else if (field.rfind("seed=", 0) == 0) {
        const std::string text = field.substr(5);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed_);
        if (ec != std::errc() || end != text.data() + text.size())
          throw Error(spec_, "seed '" + text + "' is not a number");
      } else {
        throw Error(spec_, "unknown field '" + field + "' (dist=..., seed=...)");
      }
    }
    if (auto preset = presets().find(fields[0]); preset != presets().end()) {
      tensors_ = preset->second;
    } else if (model_preset) {
      for (const PresetLayer& layer : preset_linear_layers(*model_preset))
        tensors_.push_back({layer.name, layer.rows, layer.cols});
    } else {
      for (size_t start = 0;;) {
        const size_t plus = fields[0].find('+', start);
        const std::string shape = fields[0].substr(start, plus == std::string::npos ? std::string::npos : plus - start);
        const size_t cross = shape.find('x');
        if (cross == std::string::npos) {
          std::string known;
          for (const auto& [name, unused] : presets()) known += (known.empty() ? "" : ", ") + name;
          known += ", " + model_preset_names();
          throw Error(spec_, "'" + shape + "' is neither ROWSxCOLS nor a preset (" + known + ")");
        }
        const int64_t rows = parse_dimension(shape.substr(0, cross), spec_);
        const int64_t cols = parse_dimension(shape.substr(cross + 1), spec_);
        tensors_.push_back({"w" + std::to_string(tensors_.size()) + "_" + shape, rows, cols});
        if (plus == std::string::npos) break;
        start = plus + 1;
      }
    }
    for (const auto& tensor : tensors_) {
      TensorInfo info;
      info.name = tensor.name;
      info.dtype = DType::F32;
      info.stored_type = "synthetic " + distribution_name_;
      info.shape = {tensor.rows, tensor.cols};
      info.is_matrix = true;
      infos_.push_back(std::move(info));
    }
  }

  void set_distribution(const std::string& name) {
    distribution_name_ = name;
    if (name == "normal")
      distribution_ = Distribution::Normal;
    else if (name == "laplace")
      distribution_ = Distribution::Laplace;
    else if (name == "llm")
      distribution_ = Distribution::LlmLike;
    else if (name == "outlier-channels")
      distribution_ = Distribution::OutlierChannels;
    else
      throw Error(spec_, "unknown distribution '" + name + "' (normal, laplace, llm, outlier-channels)");
  }

  std::string spec_;
  Distribution distribution_ = Distribution::LlmLike;
  std::string distribution_name_ = "llm";
  uint64_t seed_ = 1;
  std::vector<SyntheticTensor> tensors_;
  std::vector<TensorInfo> infos_;
};

}  // namespace

std::string synthetic_weights_note(const std::string& location) {
  if (!is_synthetic_spec(location)) return {};
  std::string distribution;
  try {
    distribution =
        open_synthetic_source(location)->tensors().front().stored_type.substr(std::string("synthetic ").size());
  } catch (const Error&) {
    return location + ": synthetic weights";
  }
  std::string follows;
  if (distribution == "llm")
    follows =
        "LLM-like: per-role error statistics of MiniLM-L6 and SmolLM2-135M (INT8, INT4-g128 and 2:4 errors "
        "within 20% of theirs; docs/ACCURACY.md)";
  else if (distribution == "outlier-channels")
    follows = "0.5% of input channels 8-30x larger, as after migrating activation outliers into the weights";
  else if (distribution == "normal")
    follows = "N(0, 0.02^2)";
  else
    follows = "Laplace, standard deviation 0.02";
  return location + ": synthetic weights (dist=" + distribution + ", " + follows +
         "); a model file or directory gives real figures";
}

std::unique_ptr<WeightSource> open_weight_source(const std::string& location) {
  return is_synthetic_spec(location) ? open_synthetic_source(location) : open_weight_file(location);
}

std::unique_ptr<WeightSource> open_synthetic_source(const std::string& spec) {
  return std::make_unique<SyntheticSource>(spec);
}

}  // namespace nmscope
