#pragma once
// tokenizer.json "post_processor", for one sequence: the special token ids put before and after it. TemplateProcessing
// ("single"), BertProcessing and RobertaProcessing (cls ... sep), ByteLevel (offsets only, no ids) and Sequence of
// them; other types are refused with an Error naming the type.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nmscope::tokenizer {

struct SpecialTokenFrame {
  std::vector<int64_t> before;
  std::vector<int64_t> after;
};

// `id_of` resolves a token name to its id (-1 when unknown) for templates that name tokens without ids.
SpecialTokenFrame read_post_processor(const nlohmann::json& post_processor, const std::string& path,
                                      const std::function<int64_t(const std::string&)>& id_of);

}  // namespace nmscope::tokenizer
