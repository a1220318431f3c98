#include "nmscope/sweep_spec.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "nmscope/error.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope {

namespace {

using nlohmann::json;

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "sources",  "presets", "tensors", "patterns", "bits",           "granularity", "group",          "symmetric",
      "criteria", "engines", "batches", "arrays",   "fpga_clock_mhz", "fpga_memory", "timing_seconds", "activations"};
  return keys;
}

// Errors from the shared parsers name a setting ("N:M patterns"); in a spec the key is what the user wrote.
class SpecReader {
 public:
  SpecReader(const json& document, const std::string& subject) : document_(document), subject_(subject) {}

  [[noreturn]] void fail(const std::string& key, const std::string& reason) const {
    throw Error(subject_, key.empty() ? reason : "\"" + key + "\": " + reason);
  }

  template <class Parse>
  auto rethrow_as(const std::string& key, Parse&& parse) const {
    try {
      return parse();
    } catch (const Error& error) {
      fail(key, error.reason());
    }
  }

  bool has(const char* key) const { return document_.contains(key); }

  std::vector<std::string> strings(const char* key) const {
    const json& value = document_.at(key);
    if (!value.is_array()) fail(key, "must be a list of strings");
    std::vector<std::string> items;
    for (const json& item : value) {
      if (!item.is_string()) fail(key, "must be a list of strings, found " + item.dump());
      items.push_back(item.get<std::string>());
    }
    if (items.empty()) fail(key, "must not be empty");
    return items;
  }

  std::vector<int> integers(const char* key) const {
    const json& value = document_.at(key);
    if (!value.is_array()) fail(key, "must be a list of whole numbers");
    std::vector<int> items;
    for (const json& item : value) {
      if (!item.is_number_integer() || item.get<int64_t>() < INT32_MIN || item.get<int64_t>() > INT32_MAX)
        fail(key, "must be a list of whole numbers, found " + item.dump());
      items.push_back(item.get<int>());
    }
    if (items.empty()) fail(key, "must not be empty");
    return items;
  }

  std::string text(const char* key) const {
    const json& value = document_.at(key);
    if (!value.is_string()) fail(key, "must be a string");
    return value.get<std::string>();
  }

  double number(const char* key) const {
    const json& value = document_.at(key);
    if (!value.is_number()) fail(key, "must be a number");
    return value.get<double>();
  }

  bool boolean(const char* key) const {
    const json& value = document_.at(key);
    if (!value.is_boolean()) fail(key, "must be true or false");
    return value.get<bool>();
  }

 private:
  const json& document_;
  const std::string& subject_;
};

template <class T>
void refuse_repeats(const SpecReader& reader, const char* key, const std::vector<T>& items) {
  // A repeated entry would make two points with one measurement key; the second could never be told apart.
  for (std::size_t i = 0; i < items.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (items[i] == items[j]) reader.fail(key, "lists an entry twice");
}

}  // namespace

std::string SweepSpec::engine_list() const {
  std::string list;
  for (const auto& engine : engines) list += (list.empty() ? "" : ",") + engine;
  return list;
}

QuantConfig SweepSpec::quant_config(int width) const {
  QuantConfig quant;
  quant.bits = width;
  quant.granularity = granularity;
  quant.group = group;
  quant.symmetric = symmetric;
  return quant;
}

SweepSpec parse_sweep_spec(const std::string& json_text, const std::string& subject) {
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::parse_error& error) {
    throw Error(subject, std::string("not valid JSON: ") + error.what());
  }
  if (!document.is_object()) throw Error(subject, "a sweep spec is a JSON object");
  const SpecReader reader(document, subject);
  for (const auto& [key, value] : document.items())
    if (!known_keys().count(key)) reader.fail(key, "unknown key");

  SweepSpec spec;
  if (reader.has("sources")) spec.sources = reader.strings("sources");
  if (reader.has("presets"))
    for (const auto& preset : reader.strings("presets")) spec.sources.push_back("synth:" + preset);
  if (spec.sources.empty()) reader.fail("", "needs \"sources\" or \"presets\"");
  refuse_repeats(reader, "sources", spec.sources);

  if (reader.has("tensors")) {
    spec.tensor_regex = reader.text("tensors");
    try {
      std::regex check(spec.tensor_regex);
    } catch (const std::regex_error& error) {
      reader.fail("tensors", "'" + spec.tensor_regex + "' is not a regular expression: " + error.what());
    }
  }
  if (reader.has("patterns")) {
    spec.patterns.clear();
    for (const auto& text : reader.strings("patterns"))
      spec.patterns.push_back(reader.rethrow_as("patterns", [&] { return NMPattern::parse(text); }));
    refuse_repeats(reader, "patterns", spec.patterns);
  }
  if (reader.has("granularity")) {
    const std::string granularity = reader.text("granularity");
    if (granularity == "group")
      spec.granularity = Granularity::Group;
    else if (granularity == "channel")
      spec.granularity = Granularity::Channel;
    else if (granularity == "tensor")
      spec.granularity = Granularity::Tensor;
    else
      reader.fail("granularity", "'" + granularity + "' is not group, channel or tensor");
  }
  if (reader.has("group")) {
    if (!document.at("group").is_number_integer()) reader.fail("group", "must be a whole number");
    const int64_t group = document.at("group").get<int64_t>();
    if (group <= 0 || group > INT32_MAX)
      reader.fail("group", "group size must be positive (got " + std::to_string(group) + ")");
    spec.group = int(group);
  }
  if (reader.has("symmetric")) spec.symmetric = reader.boolean("symmetric");
  if (reader.has("bits")) spec.bits = reader.integers("bits");
  for (int width : spec.bits)
    reader.rethrow_as("bits", [&] {
      spec.quant_config(width).validate();
      return 0;
    });
  refuse_repeats(reader, "bits", spec.bits);

  if (reader.has("criteria")) {
    spec.criteria.clear();
    for (const auto& name : reader.strings("criteria"))
      spec.criteria.push_back(reader.rethrow_as("criteria", [&] { return parse_criterion(name); }));
    refuse_repeats(reader, "criteria", spec.criteria);
  }
  if (reader.has("activations")) spec.activations_path = reader.text("activations");
  for (auto criterion : spec.criteria)
    if (criterion == PruningCriterion::Wanda && spec.activations_path.empty())
      reader.fail("criteria", "wanda needs calibration activations: add \"activations\": \"FILE.npy\" ([tokens, K])");

  if (reader.has("arrays")) {
    spec.engine_options.fpga_arrays.clear();
    for (const auto& text : reader.strings("arrays"))
      spec.engine_options.fpga_arrays.push_back(
          reader.rethrow_as("arrays", [&] { return fpga::parse_array_size(text); }));
    refuse_repeats(reader, "arrays", spec.engine_options.fpga_arrays);
  }
  if (reader.has("fpga_clock_mhz")) spec.engine_options.fpga_clock_mhz = reader.number("fpga_clock_mhz");
  if (reader.has("fpga_memory"))
    spec.engine_options.fpga_memory =
        reader.rethrow_as("fpga_memory", [&] { return fpga::parse_memory_system(reader.text("fpga_memory")); });
  reader.rethrow_as("fpga_clock_mhz", [&] {
    spec.engine_options.validate();
    return 0;
  });

  if (reader.has("engines")) spec.engines = reader.strings("engines");
  refuse_repeats(reader, "engines", spec.engines);
  reader.rethrow_as("engines",
                    [&] { return EngineRegistry::with_options(spec.engine_options).select(spec.engine_list()); });

  if (reader.has("batches")) spec.batches = reader.integers("batches");
  for (int batch : spec.batches)
    if (batch <= 0 || batch > 65536)
      reader.fail("batches", "batch size " + std::to_string(batch) + " is not in 1..65536");
  refuse_repeats(reader, "batches", spec.batches);

  if (reader.has("timing_seconds")) spec.timing_seconds = reader.number("timing_seconds");
  if (!(spec.timing_seconds > 0 && spec.timing_seconds <= 60)) reader.fail("timing_seconds", "must be in (0, 60]");

  const std::string canonical = document.dump();  // nlohmann's objects keep their keys sorted
  spec.hash = hash_to_hex(hash_bytes(std::as_bytes(std::span(canonical.data(), canonical.size()))));
  return spec;
}

std::string sweep_spec_json(const StudySpec& study) {
  if (study.sources.empty()) throw Error("sweep spec", "the study has no source");
  json spec;
  spec["sources"] = study.sources;
  if (!study.tensors.empty()) {
    // Exact names: every regex metacharacter escaped, the alternation anchored at both ends.
    std::string alternation;
    for (const std::string& name : study.tensors) {
      std::string escaped;
      for (char c : name) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) escaped += '\\';
        escaped += c;
      }
      alternation += (alternation.empty() ? "" : "|") + escaped;
    }
    spec["tensors"] = "^(" + alternation + ")$";
  }
  json patterns = json::array();
  for (const NMPattern& pattern : study.patterns) patterns.push_back(pattern.to_string());
  spec["patterns"] = patterns;
  spec["bits"] = study.bits;
  spec["granularity"] = study.granularity == Granularity::Group     ? "group"
                        : study.granularity == Granularity::Channel ? "channel"
                                                                    : "tensor";
  spec["group"] = study.group;
  spec["symmetric"] = study.symmetric;
  spec["criteria"] = {criterion_name(study.criterion)};
  json engines = json::array();
  std::size_t start = 0;
  while (start <= study.engines.size()) {
    const std::size_t comma = std::min(study.engines.find(',', start), study.engines.size());
    if (comma > start) engines.push_back(study.engines.substr(start, comma - start));
    start = comma + 1;
  }
  spec["engines"] = engines;
  spec["batches"] = study.batches;
  json arrays = json::array();
  for (const auto& array : study.engine_options.fpga_arrays) arrays.push_back(array.to_string());
  if (!arrays.empty()) spec["arrays"] = arrays;
  spec["fpga_clock_mhz"] = study.engine_options.fpga_clock_mhz;
  spec["fpga_memory"] = study.engine_options.fpga_memory.name;
  spec["timing_seconds"] = study.timing.target_seconds;
  if (!study.activations_path.empty()) spec["activations"] = study.activations_path;
  return spec.dump(2) + "\n";
}

SweepSpec read_sweep_spec(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path, "cannot open the sweep spec");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw Error(path, "cannot read the sweep spec");
  return parse_sweep_spec(text.str(), path);
}

}  // namespace nmscope
