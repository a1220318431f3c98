// .gguf reader: files from gguf-py's GGUFWriter (F32, F16, a vector, every block type nmscope decodes against gguf-py's
// dequantize, an IQ4_NL tensor that is listed, not decoded),
// and hostile headers: bad magic/version, counts and lengths far beyond the file, data outside the file,
// misalignment, deep nesting; truncations; a mutation loop.
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <bit>

#include "io_test_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"

using namespace nmscope;
using io_test::fixture;

namespace {

// Builds small GGUF headers by hand for the cases no real writer produces.
struct GgufBuilder {
  io_test::Bytes bytes;
  template <typename Int>
  GgufBuilder& integer(Int value) {
    const std::size_t at = bytes.size();
    bytes.resize(at + sizeof(Int));
    io_test::put_le(bytes, at, value);
    return *this;
  }
  GgufBuilder& string(const std::string& text) {
    integer<uint64_t>(text.size());
    bytes.insert(bytes.end(), text.begin(), text.end());
    return *this;
  }
  static GgufBuilder header(uint64_t tensors, uint64_t kvs) {
    GgufBuilder builder;
    builder.bytes = {'G', 'G', 'U', 'F'};
    builder.integer<uint32_t>(3).integer<uint64_t>(tensors).integer<uint64_t>(kvs);
    return builder;
  }
};

// Offset of the u64 "offset" field in the tensor info of `name` (n_dims dimensions).
std::size_t tensor_offset_field(const io_test::Bytes& bytes, const std::string& name, int n_dims) {
  const std::size_t at = io_test::find(bytes, name);
  return at + name.size() + 4 + 8 * static_cast<std::size_t>(n_dims) + 4;
}

}  // namespace

class TestGgufReader : public QObject {
  Q_OBJECT

 private slots:
  void real_writer_tensors() {
    auto source = open_weight_source(fixture("model.gguf"));
    QCOMPARE(source->tensors().size(), std::size_t{5});
    const TensorInfo* f32 = source->find("w_f32");
    QVERIFY(f32 != nullptr);
    QCOMPARE(f32->shape, (std::vector<int64_t>{6, 64}));  // ggml ne = [64, 6], reversed to PyTorch order
    QCOMPARE(f32->stored_type, std::string("F32"));
    for (const char* name : {"w_f32", "w_f16"}) {
      const MatrixF matrix = source->load_matrix(name);
      for (int64_t i = 0; i < matrix.size(); ++i)
        QCOMPARE(matrix.data()[i], static_cast<float>(io_test::fixture_value(i)));
    }
    QCOMPARE(source->load_matrix("w_f16").rows(), int64_t{4});
    QVERIFY(!source->find("vector")->is_matrix);
  }

  void unsupported_block_type_is_listed_not_decoded() {
    auto source = open_weight_source(fixture("model.gguf"));
    QCOMPARE(source->tensors().size(), std::size_t{5});
    const TensorInfo* iq4 = source->find("w_iq4_nl");
    QVERIFY(iq4 != nullptr);
    QCOMPARE(iq4->dtype, DType::Unsupported);
    QCOMPARE(iq4->stored_type, std::string("IQ4_NL"));
    QCOMPARE(iq4->shape, (std::vector<int64_t>{2, 64}));
    QVERIFY(!iq4->is_matrix);
    QCOMPARE(iq4->note, std::string("quantized GGUF type IQ4_NL is listed, not decoded"));
    EXPECT_ERROR(source->load_matrix("w_iq4_nl"), "w_iq4_nl", "not decoded");
    QCOMPARE(source->tensor_hash("w_iq4_nl").size(), std::size_t{16});
  }

  // Every block type nmscope decodes, bit for bit against gguf-py's dequantize of the same blocks (fixtures: the
  // 32-element types quantized by gguf-py, the K-quants random blocks with finite scales).
  void block_types_decode_as_gguf_py_does() {
    auto source = open_weight_source(fixture("quantized.gguf"));
    const std::vector<std::pair<std::string, DType>> types = {
        {"Q4_0", DType::Q4_0}, {"Q4_1", DType::Q4_1}, {"Q5_0", DType::Q5_0}, {"Q5_1", DType::Q5_1},
        {"Q8_0", DType::Q8_0}, {"Q2_K", DType::Q2_K}, {"Q3_K", DType::Q3_K}, {"Q4_K", DType::Q4_K},
        {"Q5_K", DType::Q5_K}, {"Q6_K", DType::Q6_K}};
    for (const auto& [name, dtype] : types) {
      const std::string tensor = "w_" + name;
      const TensorInfo* info = source->find(tensor);
      QVERIFY2(info != nullptr, tensor.c_str());
      QCOMPARE(info->dtype, dtype);
      QCOMPARE(info->stored_type, name);
      QVERIFY(info->is_matrix);
      QCOMPARE(info->note, "stored quantized as " + name + ": decoded values, not the original weights");
      const MatrixF expected = read_npy_matrix(fixture("quantized_" + name + ".npy"));
      const MatrixF decoded = source->load_matrix(tensor);
      QCOMPARE(decoded.rows(), expected.rows());
      QCOMPARE(decoded.cols(), expected.cols());
      int64_t differing = 0;
      for (int64_t i = 0; i < decoded.size(); ++i)
        differing += std::bit_cast<uint32_t>(decoded.data()[i]) != std::bit_cast<uint32_t>(expected.data()[i]);
      QVERIFY2(differing == 0, (tensor + ": " + std::to_string(differing) + " values differ from gguf-py").c_str());
      // A row range decodes only its own blocks, to the same values.
      const MatrixF rows = source->load_rows(tensor, 1, 2);
      QVERIFY(rows == expected.middleRows(1, 2));
    }
  }

  void block_tensor_with_wrong_byte_count_is_refused() {
    auto raw = read_gguf(MappedFile::open(fixture("quantized.gguf")));
    for (auto& tensor : raw) {
      if (tensor.info.name != "w_Q4_K") continue;
      tensor.bytes = tensor.bytes.first(tensor.bytes.size() - 1);
      EXPECT_ERROR(decode_matrix(tensor), "w_Q4_K", "does not match its shape");
    }
  }

  void version_2_is_read() {
    QTemporaryDir dir;
    auto bytes = io_test::read_file(fixture("model.gguf"));
    io_test::put_le<uint32_t>(bytes, 4, 2);
    const std::string path = dir.filePath("v2.gguf").toStdString();
    io_test::write_file(path, bytes);
    QCOMPARE(open_weight_source(path)->load_matrix("w_f32")(5, 63),
             static_cast<float>(io_test::fixture_value(6 * 64 - 1)));
  }

  void bad_magic_and_version() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("model.gguf"));
    const std::string path = dir.filePath("bad.gguf").toStdString();
    auto bytes = good;
    bytes[0] = 'X';
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "magic");
    for (uint32_t version : {0u, 1u, 4u, 0x03000000u}) {
      bytes = good;
      io_test::put_le<uint32_t>(bytes, 4, version);
      io_test::write_file(path, bytes);
      EXPECT_ERROR(open_weight_source(path), path,
                   version == 0x03000000u ? "big-endian" : "unsupported GGUF version " + std::to_string(version));
    }
  }

  void huge_counts_are_refused_fast() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("model.gguf"));
    const std::string path = dir.filePath("huge.gguf").toStdString();
    QElapsedTimer timer;
    timer.start();
    auto bytes = good;
    io_test::put_le<uint64_t>(bytes, 16, uint64_t{1} << 40);  // KV count
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "metadata entries");
    bytes = good;
    io_test::put_le<uint64_t>(bytes, 8, uint64_t{1} << 40);  // tensor count
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "tensors");
    bytes = good;
    io_test::put_le<uint64_t>(bytes, 24, uint64_t{1} << 50);  // length of the first metadata key
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "truncated");
    bytes = good;
    const std::size_t strings = io_test::find(bytes, "fixture.strings") + 15;  // then u32 ARRAY, u32 STRING, u64 count
    QCOMPARE(io_test::get_le<uint32_t>(bytes, strings), 9u);
    io_test::put_le<uint64_t>(bytes, strings + 8, uint64_t{1} << 60);
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "metadata array");
    bytes = good;
    const std::size_t numbers = io_test::find(bytes, "fixture.numbers") + 15;
    io_test::put_le<uint64_t>(bytes, numbers + 8, uint64_t{1} << 62);  // fixed-size elements: count * size overflows
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "metadata array");
    QVERIFY2(timer.elapsed() < 1000, "refusals must not scale with the declared counts");
  }

  void tensor_data_outside_the_file_or_misaligned() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("model.gguf"));
    const std::string path = dir.filePath("off.gguf").toStdString();
    const std::size_t q8_offset = tensor_offset_field(good, "w_q8_0", 2);
    const std::size_t f32_offset = tensor_offset_field(good, "w_f32", 2);
    auto bytes = good;
    io_test::put_le<uint64_t>(bytes, q8_offset, uint64_t{1} << 20);
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "outside the data section");
    bytes = good;
    io_test::put_le<uint64_t>(bytes, f32_offset, ~uint64_t{31});  // aligned, and offset + size overflows
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "outside the data section");
    bytes = good;
    io_test::put_le<uint64_t>(bytes, f32_offset, 33);
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "alignment");
    bytes = good;
    io_test::put_le<uint32_t>(bytes, io_test::find(bytes, "w_f32") + 5, 5);  // n_dims
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "dimensions");
  }

  void handmade_headers() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("hand.gguf").toStdString();
    // Arrays nested 20 deep.
    GgufBuilder nested = GgufBuilder::header(0, 1);
    nested.string("deep").integer<uint32_t>(9);
    for (int depth = 0; depth < 20; ++depth) nested.integer<uint32_t>(9).integer<uint64_t>(1);
    nested.integer<uint32_t>(4).integer<uint64_t>(1).integer<uint32_t>(7);
    io_test::write_file(path, nested.bytes);
    EXPECT_ERROR(open_weight_source(path), path, "nested deeper");
    // Unknown value type.
    GgufBuilder unknown = GgufBuilder::header(0, 1);
    unknown.string("k").integer<uint32_t>(77).integer<uint64_t>(0);
    io_test::write_file(path, unknown.bytes);
    EXPECT_ERROR(open_weight_source(path), path, "unknown metadata value type 77");
    // Alignment that is not a power of two.
    GgufBuilder aligned = GgufBuilder::header(0, 1);
    aligned.string("general.alignment").integer<uint32_t>(4).integer<uint32_t>(48);
    io_test::write_file(path, aligned.bytes);
    EXPECT_ERROR(open_weight_source(path), path, "power of two");
    // A quantized tensor whose row is not a whole number of blocks.
    GgufBuilder ragged = GgufBuilder::header(1, 0);
    ragged.string("q")
        .integer<uint32_t>(2)
        .integer<uint64_t>(40)
        .integer<uint64_t>(2)
        .integer<uint32_t>(12)
        .integer<uint64_t>(0);
    ragged.bytes.resize(1024);
    io_test::write_file(path, ragged.bytes);
    EXPECT_ERROR(open_weight_source(path), path, "block size 256");
    // An unknown type id is listed with its number.
    GgufBuilder mystery = GgufBuilder::header(1, 0);
    mystery.string("m").integer<uint32_t>(1).integer<uint64_t>(8).integer<uint32_t>(999).integer<uint64_t>(0);
    mystery.bytes.resize(64);
    io_test::write_file(path, mystery.bytes);
    auto source = open_weight_source(path);
    QCOMPARE(source->find("m")->stored_type, std::string("ggml type 999"));
    QVERIFY(!source->find("m")->is_matrix);
  }

  void truncated_at_several_points() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("model.gguf"));
    const std::string path = dir.filePath("cut.gguf").toStdString();
    const std::size_t infos = io_test::find(good, "w_f32");
    // gguf-py pads after the last tensor too: cut inside the last tensor's bytes, not in the padding.
    auto file = MappedFile::open(fixture("model.gguf"));
    std::size_t data_end = 0;
    for (const auto& tensor : read_gguf(file)) {
      data_end = std::max(data_end,
                          static_cast<std::size_t>(tensor.bytes.data() + tensor.bytes.size() - file->bytes().data()));
    }
    for (std::size_t cut : {std::size_t{2}, std::size_t{4}, std::size_t{10}, std::size_t{23}, std::size_t{30}, infos,
                            infos + 20, good.size() / 2, data_end - 1}) {
      io_test::write_file(path, io_test::Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
      EXPECT_ERROR(open_weight_source(path), path, "truncated");
    }
  }

  void mutations_are_refused_or_read() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("model.gguf"));
    io_test::mutation_loop(fixture("model.gguf"), dir.filePath("m.gguf").toStdString(), 500,
                           io_test::find(good, "w_q8_0") + 40);
    // Damaged block types decode to finite or non-finite values, never past their bytes.
    const auto quantized = io_test::read_file(fixture("quantized.gguf"));
    io_test::mutation_loop(fixture("quantized.gguf"), dir.filePath("q.gguf").toStdString(), 300,
                           io_test::find(quantized, "w_Q6_K") + 40);
  }
};

QTEST_APPLESS_MAIN(TestGgufReader)
#include "test_gguf_reader.moc"
