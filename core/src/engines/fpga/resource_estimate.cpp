// Yosys resource estimates, cached per array configuration (see resource_estimate.hpp). Yosys synthesizes each
// distinct module once and `stat` multiplies by the instance count, so a 32x32 array costs little more than a 4x4.
#include "nmscope/fpga/resource_estimate.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nmscope/error.hpp"

namespace nmscope::fpga {

namespace {

namespace fs = std::filesystem;

// rtl/CMakeLists.txt's source list, in elaboration order (set by core/CMakeLists.txt).
constexpr const char* kRtlSources = NMSCOPE_RTL_SOURCES;

std::vector<std::string> rtl_sources() {
  std::vector<std::string> files;
  std::stringstream list(kRtlSources);
  for (std::string file; std::getline(list, file, '|');)
    if (!file.empty()) files.push_back(file);
  return files;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot be read (the RTL sources must stay where this build found them)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

uint64_t fnv1a(const std::string& text, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string synthesis_script(ArraySize array, const std::string& stat_path) {
  std::string script = "read_verilog -sv";  // options (-I) may follow the files: Yosys reads them first
  for (const std::string& file : rtl_sources()) {
    const fs::path path(file);
    if (path.extension() == ".sv") script += " " + file;
    else script += " -I" + path.parent_path().string();
  }
  script += "\nhierarchy -top nm_accel -chparam Rows " + std::to_string(array.rows) + " -chparam Cols " +
            std::to_string(array.cols) + "\nsynth_xilinx -top nm_accel\ntee -q -o " + stat_path + " stat\n";
  return script;
}

fs::path cache_file(ArraySize array) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path root = xdg && *xdg ? fs::path(xdg) : fs::path(home && *home ? home : "/tmp") / ".cache";
  uint64_t hash = fnv1a(synthesis_script(array, "STAT"));
  for (const std::string& file : rtl_sources()) hash = fnv1a(read_file(file), hash);
  std::ostringstream name;
  name << array.to_string() << "-" << std::hex << hash << ".json";
  return root / "nmscope" / "yosys" / name.str();
}

ResourceEstimate from_json(const nlohmann::json& json) {
  ResourceEstimate estimate;
  estimate.luts = json.at("luts");
  estimate.flip_flops = json.at("flip_flops");
  estimate.dsps = json.at("dsps");
  estimate.block_rams = json.at("block_rams");
  estimate.lut_rams = json.at("lut_rams");
  estimate.flow = json.at("flow");
  estimate.synthesis_seconds = json.at("synthesis_seconds");
  return estimate;
}

}  // namespace

std::string ResourceEstimate::to_json() const {
  return nlohmann::json{{"luts", luts},           {"flip_flops", flip_flops}, {"dsps", dsps},
                        {"block_rams", block_rams}, {"lut_rams", lut_rams},   {"flow", flow},
                        {"synthesis_seconds", synthesis_seconds}}
      .dump();
}

ResourceEstimate parse_yosys_stat(const std::string& report) {
  // The totals follow the last "=== design hierarchy ===" (or the only module's section): "  CELLTYPE  COUNT".
  const size_t hierarchy = report.rfind("=== design hierarchy ===");
  std::istringstream lines(report.substr(hierarchy == std::string::npos ? 0 : hierarchy));
  std::map<std::string, int64_t> cells;
  bool in_cells = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "Number") {
      in_cells = line.find("Number of cells") != std::string::npos;
      continue;
    }
    int64_t count = 0;
    if (in_cells && !first.empty() && (words >> count)) cells[first] += count;
  }
  if (cells.empty()) throw Error("yosys", "its stat report lists no cells");
  ResourceEstimate estimate;
  for (const auto& [cell, count] : cells) {
    if (cell.rfind("LUT", 0) == 0) estimate.luts += count;
    else if (cell.rfind("FD", 0) == 0) estimate.flip_flops += count;
    else if (cell.rfind("DSP48", 0) == 0) estimate.dsps += count;
    else if (cell == "RAM32M" || cell == "RAM64M" || cell == "RAM128X1D" || cell == "RAM256X1S") estimate.lut_rams += 4 * count;
    else if (cell.rfind("RAM32X1", 0) == 0 || cell.rfind("RAM64X1", 0) == 0) estimate.lut_rams += 2 * count;
    else if (cell.rfind("SRL", 0) == 0) estimate.lut_rams += count;
  }
  const int64_t ramb36 = cells.count("RAMB36E1") ? cells["RAMB36E1"] : 0;
  const int64_t ramb18 = cells.count("RAMB18E1") ? cells["RAMB18E1"] : 0;
  estimate.block_rams = ramb36 + (ramb18 + 1) / 2;
  return estimate;
}

std::optional<ResourceEstimate> cached_resource_estimate(ArraySize array) {
  try {
    std::ifstream in(cache_file(array));
    if (!in) return std::nullopt;
    return from_json(nlohmann::json::parse(in));
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable or stale entry: as if never synthesized
  }
}

ResourceEstimate estimate_resources(ArraySize array) {
  if (auto cached = cached_resource_estimate(array)) return *cached;
  const fs::path target = cache_file(array);
  char work_template[] = "/tmp/nmscope-yosys-XXXXXX";
  if (!mkdtemp(work_template)) throw Error("yosys", "cannot create a temporary directory");
  const fs::path work(work_template);
  const fs::path script_path = work / "estimate.ys";
  const fs::path stat_path = work / "stat.txt";
  const fs::path log_path = work / "yosys.log";
  {
    std::ofstream script(script_path);
    script << synthesis_script(array, stat_path.string());
  }
  const auto started = std::chrono::steady_clock::now();
  std::fflush(nullptr);  // or the child's freopen would flush the parent's buffered output a second time
  const pid_t child = fork();
  if (child < 0) throw Error("yosys", "cannot start a process");
  if (child == 0) {
    const std::string log = log_path.string();
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    (void)out;
    dup2(STDOUT_FILENO, STDERR_FILENO);
    execlp("yosys", "yosys", "-q", "-s", script_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const bool missing = WIFEXITED(status) && WEXITSTATUS(status) == 127;
    std::string tail;
    std::ifstream log(log_path);
    for (std::string line; std::getline(log, line);) tail = line;
    fs::remove_all(work);
    throw Error("yosys", missing ? "not found on PATH (Debian package yosys)" : "synthesis failed: " + tail);
  }
  ResourceEstimate estimate = parse_yosys_stat(read_file(stat_path.string()));
  fs::remove_all(work);
  estimate.flow = "yosys synth_xilinx (7-series), nm_accel Rows=" + std::to_string(array.rows) +
                  " Cols=" + std::to_string(array.cols);
  estimate.synthesis_seconds = seconds;
  // Publish atomically: concurrent estimators of one configuration write the same bytes.
  fs::create_directories(target.parent_path());
  const fs::path partial = target.string() + ".partial-" + std::to_string(getpid());
  {
    std::ofstream out(partial);
    out << estimate.to_json();
  }
  fs::rename(partial, target);
  return estimate;
}

}  // namespace nmscope::fpga
