// llama.cpp's tensor names (its convert_hf_to_gguf.py / gguf-py's tensor_mapping.py) mapped back to transformers'.
// Names outside the tables (a classifier head, llama.cpp-only tensors) keep the file's names and are listed as such.
#include "io/gguf_model_source.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <unordered_map>

#include "io/tensor_rows.hpp"
#include "nmscope/error.hpp"

namespace nmscope::io {

namespace {

// Inside blk.N.: llama.cpp's name -> transformers' name inside model.layers.N. (llama, qwen2).
const std::map<std::string, std::string>& decoder_block_names() {
  static const std::map<std::string, std::string> names = {
      {"attn_norm.weight", "input_layernorm.weight"},    {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.weight", "self_attn.k_proj.weight"},      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.weight", "self_attn.v_proj.weight"},      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"}, {"attn_output.bias", "self_attn.o_proj.bias"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},       {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  return names;
}

const std::map<std::string, std::string>& decoder_global_names() {
  static const std::map<std::string, std::string> names = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"},
  };
  return names;
}

// BERT (BertModel as sentence-transformers saves it, without the "bert." root; llama.cpp drops the pooler).
const std::map<std::string, std::string>& encoder_block_names() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> table;
    const std::pair<const char*, const char*> parts[] = {
        {"attn_q", "attention.self.query"},
        {"attn_k", "attention.self.key"},
        {"attn_v", "attention.self.value"},
        {"attn_output", "attention.output.dense"},
        {"attn_output_norm", "attention.output.LayerNorm"},
        {"ffn_up", "intermediate.dense"},
        {"ffn_down", "output.dense"},
        {"layer_output_norm", "output.LayerNorm"},
    };
    for (const auto& [gguf, hf] : parts)
      for (const char* suffix : {".weight", ".bias"})
        table.emplace(gguf + std::string(suffix), hf + std::string(suffix));
    return table;
  }();
  return names;
}

const std::map<std::string, std::string>& encoder_global_names() {
  static const std::map<std::string, std::string> names = {
      {"token_embd.weight", "embeddings.word_embeddings.weight"},
      {"token_types.weight", "embeddings.token_type_embeddings.weight"},
      {"position_embd.weight", "embeddings.position_embeddings.weight"},
      {"token_embd_norm.weight", "embeddings.LayerNorm.weight"},
      {"token_embd_norm.bias", "embeddings.LayerNorm.bias"},
  };
  return names;
}

struct ArchitectureNames {
  std::string block_prefix;  // transformers' prefix of block N's tensors, before N
  const std::map<std::string, std::string>* block;
  const std::map<std::string, std::string>* global;
};

ArchitectureNames architecture_names(const std::string& architecture) {
  if (architecture == "bert") return {"encoder.layer.", &encoder_block_names(), &encoder_global_names()};
  return {"model.layers.", &decoder_block_names(), &decoder_global_names()};
}

struct Renamed {
  std::string name;
  int64_t rotary_heads = 0;  // > 0: the rows come in llama.cpp's rotary order, in this many heads
};

// blk.N.rest -> <block prefix>N.<mapped rest>; nullopt for a name outside the mapping.
std::optional<Renamed> rename(const std::string& name, const ArchitectureNames& names, bool permuted, int64_t heads,
                              int64_t kv_heads) {
  if (const auto found = names.global->find(name); found != names.global->end()) return Renamed{found->second};
  constexpr std::string_view kBlock = "blk.";
  if (name.rfind(kBlock, 0) != 0) return std::nullopt;
  const std::size_t dot = name.find('.', kBlock.size());
  if (dot == std::string::npos) return std::nullopt;
  int64_t block = 0;
  const auto [end, failure] = std::from_chars(name.data() + kBlock.size(), name.data() + dot, block);
  if (failure != std::errc() || end != name.data() + dot) return std::nullopt;
  const std::string rest = name.substr(dot + 1);
  const auto found = names.block->find(rest);
  if (found == names.block->end()) return std::nullopt;
  Renamed renamed{names.block_prefix + std::to_string(block) + "." + found->second};
  if (permuted && rest.rfind("attn_q.", 0) == 0) renamed.rotary_heads = heads;
  if (permuted && rest.rfind("attn_k.", 0) == 0) renamed.rotary_heads = kv_heads;
  return renamed;
}

// llama.cpp's permute(w, n_head): row h*d + 2j + i of the file is row h*d + i*d/2 + j of the checkpoint (d = rows per
// head, i in {0, 1}, j < d/2). A vector (a bias) is permuted the same way along its elements.
MatrixF unpermute_rotary(const MatrixF& stored, int64_t heads, const std::string& name) {
  const bool vector = stored.rows() == 1;
  const int64_t length = vector ? stored.cols() : stored.rows();
  if (heads <= 0 || length % (2 * heads) != 0)
    throw Error(name, "cannot undo llama.cpp's rotary row order: " + std::to_string(length) + " rows are not " +
                          std::to_string(heads) + " heads of an even size");
  const int64_t per_head = length / heads, half = per_head / 2;
  MatrixF out(stored.rows(), stored.cols());
  for (int64_t head = 0; head < heads; ++head)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t i = 0; i < 2; ++i) {
        const int64_t from = head * per_head + 2 * j + i, to = head * per_head + i * half + j;
        if (vector)
          out(0, to) = stored(0, from);
        else
          out.row(to) = stored.row(from);
      }
  return out;
}

class GgufModelSource final : public WeightSource {
 public:
  GgufModelSource(std::string location, const GgufMetadata& metadata, std::vector<RawTensor> tensors)
      : location_(std::move(location)) {
    const bool mapped = gguf_is_mapped_model(metadata);
    const std::string architecture = mapped ? metadata.text("general.architecture") : "";
    // Only LlamaModel's converter permutes Q and K (qwen2 keeps transformers' order, like its rope).
    const bool permuted = architecture == "llama";
    const ArchitectureNames names = architecture_names(architecture);
    int64_t heads = 0, kv_heads = 0;
    if (mapped) {
      heads = metadata.integer(architecture + ".attention.head_count");
      kv_heads = metadata.optional_integer(architecture + ".attention.head_count_kv").value_or(heads);
    }
    for (auto& raw : tensors) {
      Entry entry{std::move(raw)};
      if (mapped) {
        if (auto renamed = rename(entry.raw.info.name, names, permuted, heads, kv_heads)) {
          const std::string file_name = entry.raw.info.name;
          entry.raw.info.name = renamed->name;
          entry.rotary_heads = renamed->rotary_heads;
          const std::string origin = file_name + " in the GGUF file" +
                                     (entry.rotary_heads ? ", rows back in Hugging Face's rotary order" : "");
          entry.raw.info.note = entry.raw.info.note.empty() ? origin : entry.raw.info.note + "; " + origin;
        }
      }
      if (!by_name_.emplace(entry.raw.info.name, entries_.size()).second)
        throw Error(location_, "tensor '" + entry.raw.info.name + "' appears twice");
      infos_.push_back(entry.raw.info);
      entries_.push_back(std::move(entry));
    }
  }

  const std::string& location() const override { return location_; }
  const std::vector<TensorInfo>& tensors() const override { return infos_; }

  MatrixF load_matrix(const std::string& name) const override {
    const Entry& found = entry(name);
    if (!found.raw.info.is_matrix)
      throw Error(name, found.raw.info.note.empty() ? "not a matrix" : found.raw.info.note);
    return load_tensor(name);
  }

  MatrixF load_tensor(const std::string& name) const override {
    const Entry& found = entry(name);
    MatrixF stored = decode_matrix(found.raw);
    return found.rotary_heads ? unpermute_rotary(stored, found.rotary_heads, name) : stored;
  }

  // Rows of an un-permuted tensor are contiguous in the file: decode only them (the embedding table is gathered so).
  MatrixF load_rows(const std::string& name, int64_t first, int64_t count) const override {
    const Entry& found = entry(name);
    if (!found.rotary_heads)
      if (auto part = contiguous_rows(found.raw, first, count)) return decode_matrix(*part);
    return WeightSource::load_rows(name, first, count);
  }

  std::string tensor_hash(const std::string& name) const override {
    return hash_to_hex(hash_bytes(entry(name).raw.bytes));
  }

 private:
  struct Entry {
    RawTensor raw;
    int64_t rotary_heads = 0;
  };

  const Entry& entry(const std::string& name) const {
    const auto found = by_name_.find(name);
    if (found == by_name_.end()) throw Error(name, "no such tensor in " + location_);
    return entries_[found->second];
  }

  std::string location_;
  std::vector<Entry> entries_;
  std::vector<TensorInfo> infos_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

}  // namespace

bool gguf_architecture_is_mapped(const std::string& architecture) {
  return architecture == "llama" || architecture == "qwen2" || architecture == "bert";
}

bool gguf_is_mapped_model(const GgufMetadata& metadata) {
  const auto architecture = metadata.optional_text("general.architecture");
  return architecture && gguf_architecture_is_mapped(*architecture) &&
         metadata.contains(*architecture + ".block_count") &&
         metadata.optional_integer(*architecture + ".attention.head_count").has_value();
}

std::unique_ptr<WeightSource> make_gguf_source(const std::string& location, const GgufMetadata& metadata,
                                               std::vector<RawTensor> tensors) {
  return std::make_unique<GgufModelSource>(location, metadata, std::move(tensors));
}

}  // namespace nmscope::io
