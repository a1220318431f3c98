// nmscope-cli export --db FILE --csv OUT.csv
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"

namespace nmscope::cli {

namespace {

struct ExportOptions {
  std::string database;
  std::string csv;
};

int export_csv(const ExportOptions& options) {
  // Exporting must not create an empty database where the user mistyped the path.
  if (!std::filesystem::exists(options.database)) throw Error(options.database, "no such results database");
  ResultsStore store(options.database);
  store.export_csv(options.csv);
  std::cerr << "wrote " << store.count() << " measurements to " << options.csv << "\n";
  return 0;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* command = app.add_subcommand("export", "Export a results database to CSV");
  command->add_option("--db", options->database, "Results database")->required();
  command->add_option("--csv", options->csv, "CSV file to write (RFC 4180, one row per measurement)")->required();
  return {command, [options] { return export_csv(*options); }};
}

}  // namespace nmscope::cli
