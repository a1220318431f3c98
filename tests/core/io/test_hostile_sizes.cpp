// Untrusted files: a header that declares a 4 GB JSON header, a 1 TB tensor, 2^40 elements or a billion metadata
// entries is refused with a message before anything of that size is allocated or read. Each refusal is checked for
// its message, its time and the process's peak RSS (getrusage), so a reader that reserves by a declared count fails.
#include <sys/resource.h>
#include <unistd.h>

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "io_test_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"

using namespace nmscope;

namespace {

constexpr uint64_t kOneTerabyte = uint64_t{1} << 40;
constexpr long kRssAllowanceKb = 32 * 1024;  // far below any declared size here; covers the test's own allocations
constexpr qint64 kTimeAllowanceMs = 1000;

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

struct Bytes {
  io_test::Bytes data;
  template <typename Int>
  Bytes& integer(Int value) {
    const std::size_t at = data.size();
    data.resize(at + sizeof(Int));
    io_test::put_le(data, at, value);
    return *this;
  }
  Bytes& text(const std::string& chars) {
    // resize + memcpy rather than insert: GCC 12 reports a false -Wstringop-overflow for insert into an empty vector.
    const std::size_t at = data.size();
    data.resize(at + chars.size());
    if (!chars.empty()) std::memcpy(data.data() + at, chars.data(), chars.size());
    return *this;
  }
  Bytes& gguf_string(const std::string& chars) { return integer<uint64_t>(chars.size()).text(chars); }
};

Bytes safetensors_with_header(const std::string& header) {
  Bytes file;
  file.integer<uint64_t>(header.size()).text(header);
  return file;
}

Bytes npy_with_header(std::string header) {
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  Bytes file;
  file.text("\x93NUMPY").integer<uint8_t>(1).integer<uint8_t>(0).integer<uint16_t>(header.size()).text(header);
  return file;
}

Bytes gguf_header(uint64_t tensors, uint64_t metadata_entries) {
  Bytes file;
  file.text("GGUF").integer<uint32_t>(3).integer<uint64_t>(tensors).integer<uint64_t>(metadata_entries);
  return file;
}

}  // namespace

class TestHostileSizes : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

  std::string write(const std::string& name, const Bytes& file) {
    const std::string path = dir_.filePath(QString::fromStdString(name)).toStdString();
    io_test::write_file(path, file.data);
    return path;
  }

  // Runs a refusal that must name the file and one of `keywords`, within the time and RSS allowances.
  void expect_cheap_refusal(const std::function<void()>& action, const std::string& path,
                            const std::vector<std::string>& keywords, const char* file, int line) {
    const long rss_before = peak_rss_kb();
    QElapsedTimer timer;
    timer.start();
    io_test::expect_error(action, path, keywords, file, line);
    if (QTest::currentTestFailed()) return;
    const qint64 elapsed = timer.elapsed();
    const long grown = peak_rss_kb() - rss_before;
    if (elapsed >= kTimeAllowanceMs)
      QTest::qFail(("refusal took " + std::to_string(elapsed) + " ms").c_str(), file, line);
    else if (grown >= kRssAllowanceKb)
      QTest::qFail(("peak RSS grew by " + std::to_string(grown) + " KB during the refusal").c_str(), file, line);
  }

#define EXPECT_CHEAP_REFUSAL(action, path, ...)                                     \
  do {                                                                              \
    expect_cheap_refusal([&] { action; }, path, {__VA_ARGS__}, __FILE__, __LINE__); \
    if (QTest::currentTestFailed()) return;                                         \
  } while (false)

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void safetensors_header_of_4_gb() {
    Bytes file;
    file.integer<uint64_t>(uint64_t{4} << 30).text("{}");
    const std::string path = write("header_4gb.safetensors", file);
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "beyond the file");
  }

  // The file really is larger than the header limit (sparse: no disk, no pages), so only the limit can refuse it.
  void safetensors_header_over_the_limit_in_a_large_sparse_file() {
    Bytes file;
    file.integer<uint64_t>(uint64_t{200} << 20).text("{");
    const std::string path = write("header_200mb.safetensors", file);
    QCOMPARE(::truncate(path.c_str(), off_t{256} << 20), 0);
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "exceeds the 100 MB limit");
  }

  void safetensors_tensor_of_1_tb() {
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[1048576,262144],"data_offsets":[0,)" + std::to_string(kOneTerabyte) + "]}}";
    const std::string path = write("tensor_1tb.safetensors", safetensors_with_header(header));
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "outside the data section");
  }

  void npy_of_2_pow_40_elements() {
    const std::string path =
        write("elements_2_40.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                                                   std::to_string(kOneTerabyte) + ",), }"));
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "truncated");
    // The activations / token-id path decodes the whole array: it must refuse before allocating the matrix.
    EXPECT_CHEAP_REFUSAL(read_npy_matrix(path), path, "truncated");
  }

  void npy_matrix_of_1_tb() {
    const std::string path = write(
        "matrix_1tb.npy", npy_with_header("{'descr': '<i8', 'fortran_order': True, 'shape': (131072, 1048576), }"));
    EXPECT_CHEAP_REFUSAL(read_npy_matrix(path), path, "truncated");
  }

  void npy_header_of_4_gb() {
    Bytes file;
    file.text("\x93NUMPY").integer<uint8_t>(2).integer<uint8_t>(0).integer<uint32_t>(0xffffffffu).text("{}");
    const std::string path = write("header_4gb.npy", file);
    EXPECT_CHEAP_REFUSAL(read_npy_matrix(path), path, "truncated");
  }

  void gguf_billion_metadata_entries() {
    Bytes file = gguf_header(0, 1'000'000'000);
    file.gguf_string("general.name").integer<uint32_t>(8).gguf_string("x");
    const std::string path = write("kv_1e9.gguf", file);
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "metadata entries");
  }

  void gguf_billion_tensors() {
    const std::string path = write("tensors_1e9.gguf", gguf_header(1'000'000'000, 0));
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "tensors");
  }

  void gguf_metadata_array_of_a_billion_strings() {
    Bytes file = gguf_header(0, 1);
    file.gguf_string("tokenizer.ggml.tokens")
        .integer<uint32_t>(9)
        .integer<uint32_t>(8)
        .integer<uint64_t>(1'000'000'000);
    const std::string path = write("array_1e9.gguf", file);
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "metadata array");
  }

  void gguf_tensor_of_1_tb() {
    Bytes file = gguf_header(1, 0);
    file.gguf_string("w").integer<uint32_t>(2).integer<uint64_t>(262144).integer<uint64_t>(1048576);
    file.integer<uint32_t>(0).integer<uint64_t>(0);  // F32 at offset 0
    file.data.resize((file.data.size() + 31) / 32 * 32 + 64, '\0');
    const std::string path = write("tensor_1tb.gguf", file);
    EXPECT_CHEAP_REFUSAL(open_weight_source(path), path, "outside the data section");
  }
};

QTEST_GUILESS_MAIN(TestHostileSizes)
#include "test_hostile_sizes.moc"
