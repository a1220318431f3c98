#pragma once
// Helpers shared by the io tests: fixture paths, byte-level file surgery, the error check every hostile input uses,
// and the mutation loop that asserts a damaged file is refused with nmscope::Error and nothing else.
#include <QtTest/QtTest>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "nmscope/error.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/weight_source.hpp"

namespace io_test {

using Bytes = std::vector<char>;

inline std::string fixture(const std::string& name) { return std::string(NMSCOPE_FIXTURE_DIR) + "/" + name; }

inline Bytes read_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(stream), {});
}

inline void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void write_file(const std::string& path, const std::string& text) {
  write_file(path, Bytes(text.begin(), text.end()));
}

inline std::size_t find(const Bytes& bytes, const std::string& needle, std::size_t from = 0) {
  auto found =
      std::search(bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end(), needle.begin(), needle.end());
  return found == bytes.end() ? std::string::npos : static_cast<std::size_t>(found - bytes.begin());
}

template <typename Int>
void put_le(Bytes& bytes, std::size_t offset, Int value) {
  for (std::size_t i = 0; i < sizeof(Int); ++i)
    bytes[offset + i] = static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff);
}

template <typename Int>
Int get_le(const Bytes& bytes, std::size_t offset) {
  uint64_t value = 0;
  for (std::size_t i = 0; i < sizeof(Int); ++i)
    value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
  return static_cast<Int>(value);
}

// The fixtures' value rule (tests/fixtures/make_fixtures.py): element i (C order) is i * 0.25 - 3.
inline double fixture_value(int64_t index) { return static_cast<double>(index) * 0.25 - 3.0; }

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs `action`, which must throw nmscope::Error whose message names `subject` and contains one of `keywords`.
inline void expect_error(const std::function<void()>& action, const std::string& subject,
                         const std::vector<std::string>& keywords, const char* file, int line) {
  try {
    action();
  } catch (const nmscope::Error& error) {
    const std::string message = error.what();
    bool has_keyword = false;
    for (const auto& keyword : keywords) has_keyword = has_keyword || contains(message, keyword);
    if (!contains(message, subject) || !has_keyword) {
      QTest::qFail(("message '" + message + "' should name '" + subject + "' and give the reason").c_str(), file, line);
    }
    return;
  }
  QTest::qFail("no nmscope::Error was thrown", file, line);
}

#define EXPECT_ERROR(action, subject, ...)                                              \
  do {                                                                                  \
    io_test::expect_error([&] { action; }, subject, {__VA_ARGS__}, __FILE__, __LINE__); \
    if (QTest::currentTestFailed()) return;                                             \
  } while (false)

// Opens a location and loads every matrix and hash: what a user's first action does with a file.
inline void open_and_load_everything(const std::string& location) {
  auto source = nmscope::open_weight_source(location);
  for (const auto& info : source->tensors()) {
    source->tensor_hash(info.name);
    if (info.is_matrix) {
      const auto matrix = source->load_matrix(info.name);
      if (matrix.rows() != info.rows() || matrix.cols() != info.cols()) throw std::logic_error("decoded shape differs");
    }
  }
}

// Deterministic damage to a good file: byte flips (mostly in the header, where the sizes live), overwrites with
// 0xff runs (huge lengths), truncations. Each damaged file must open fine or be refused with nmscope::Error.
inline void mutation_loop(const std::string& good_path, const std::string& scratch_path, int iterations,
                          std::size_t header_bytes) {
  const Bytes good = read_file(good_path);
  QVERIFY(!good.empty());
  std::mt19937_64 random(0x5eed1234u);
  int refused = 0;
  for (int iteration = 0; iteration < iterations; ++iteration) {
    Bytes damaged = good;
    auto position = [&](bool header) {
      const std::size_t limit = header ? std::min(header_bytes, damaged.size()) : damaged.size();
      return static_cast<std::size_t>(random() % limit);
    };
    switch (random() % 4) {
      case 0:
      case 1:
        for (int flips = 1 + static_cast<int>(random() % 4); flips > 0; --flips) {
          damaged[position(random() % 4 != 0)] ^= static_cast<char>(1 << (random() % 8));
        }
        break;
      case 2: {
        const std::size_t start = position(true);
        for (std::size_t i = start; i < std::min(damaged.size(), start + 1 + random() % 8); ++i) damaged[i] = '\xff';
        break;
      }
      case 3: damaged.resize(position(false)); break;
    }
    write_file(scratch_path, damaged);
    try {
      open_and_load_everything(scratch_path);
    } catch (const nmscope::Error&) {
      ++refused;
    } catch (const std::exception& other) {
      QFAIL(("iteration " + std::to_string(iteration) + ": not an nmscope::Error: " + other.what()).c_str());
    }
  }
  QVERIFY2(refused > iterations / 4, "the mutations should break the file most of the time");
}

}  // namespace io_test
