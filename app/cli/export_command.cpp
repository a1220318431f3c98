// nmscope-cli export --db FILE --csv OUT.csv|- [--table measurements|model_evaluations|model_rollups|decode|all]
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "usage_error.hpp"

namespace nmscope::cli {

namespace {

struct ExportOptions {
  std::string database;
  std::string csv;
  std::string table = "measurements";
};

// --table all writes one file per table beside the name given: out.csv -> out.measurements.csv, ...
std::string path_for(const std::string& csv, const std::string& table) {
  const std::filesystem::path path(csv);
  return (path.parent_path() / (path.stem().string() + "." + table + path.extension().string())).string();
}

int export_csv(const ExportOptions& options) {
  const auto& tables = ResultsStore::exportable_tables();
  if (options.table != "all" && std::find(tables.begin(), tables.end(), options.table) == tables.end())
    throw UsageError("--table",
                     "'" + options.table +
                         "' is not a table to export (measurements, model_evaluations, model_rollups, decode, all)");
  if (options.table == "all" && options.csv == "-")
    throw UsageError("--csv", "'-' (stdout) takes one table; --table all writes one file per table");
  // Exporting must not create an empty database where the user mistyped the path.
  if (!std::filesystem::exists(options.database)) throw Error(options.database, "no such results database");
  ResultsStore store(options.database);
  const std::vector<std::string> chosen = options.table == "all" ? tables : std::vector<std::string>{options.table};
  for (const std::string& table : chosen) {
    const std::string path = options.table == "all" ? path_for(options.csv, table) : options.csv;
    const int64_t rows = store.export_table_csv(table, path);
    std::cerr << "wrote " << rows << " " << table << " rows to " << (path == "-" ? "stdout" : path) << "\n";
  }
  return 0;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* command = app.add_subcommand("export", "Export a results database to CSV");
  command->add_option("--db", options->database, "Results database")->required();
  command->add_option("--csv", options->csv, "CSV file to write (RFC 4180, a header row); - for stdout")->required();
  command
      ->add_option("--table", options->table,
                   "measurements, model_evaluations, model_rollups, decode (decode-step rows), or all (one file each)")
      ->capture_default_str();
  return {command, [options] { return export_csv(*options); }};
}

}  // namespace nmscope::cli
