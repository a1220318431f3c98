#include <string>
#include <vector>

#include "nmscope/results_store.hpp"
#include "nmscope/measurement_fields.hpp"

namespace nmscope {

// The row id is deliberately not a column here: Measurement has no id field, and the CSV and the CLI's JSON keep
// rows in id order instead.
const std::vector<std::string>& measurement_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> names;
    const Measurement prototype;
    for_each_field(prototype, [&](const char* name, const auto&) { names.emplace_back(name); });
    return names;
  }();
  return columns;
}

}  // namespace nmscope
