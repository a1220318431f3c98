// Writers and decode: exact round trips for every dtype the writers produce, fp16/bf16 rounding at the edges,
// decode of every stored type (endianness, Fortran order), the content hash, and the 4096x11008 decode speed.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>

#include "io_test_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/writers.hpp"

using namespace nmscope;

namespace {

TensorToWrite fixture_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape) {
  TensorToWrite tensor{name, dtype, shape, {}};
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  for (int64_t i = 0; i < count; ++i) tensor.values.push_back(static_cast<float>(io_test::fixture_value(i)));
  return tensor;
}

// One value through one writer and back through the reader: what the file really stores.
float through_writer(float value, DType dtype, const std::string& path) {
  write_safetensors(path, {TensorToWrite{"x", dtype, {1, 1}, {value}}});
  return open_weight_source(path)->load_matrix("x")(0, 0);
}

RawTensor raw_over(const std::vector<uint8_t>& bytes, DType dtype, std::vector<int64_t> shape) {
  RawTensor raw;
  raw.info.name = "raw";
  raw.info.dtype = dtype;
  raw.info.shape = std::move(shape);
  raw.info.is_matrix = true;
  raw.bytes = std::as_bytes(std::span(bytes));
  return raw;
}

bool same_bits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }

}  // namespace

class TestDecodeWriters : public QObject {
  Q_OBJECT

 private slots:
  void dtype_table() {
    QCOMPARE(dtype_size(DType::BF16), std::size_t{2});
    QCOMPARE(dtype_size(DType::F8_E5M2), std::size_t{1});
    QCOMPARE(dtype_size(DType::U64), std::size_t{8});
    QCOMPARE(dtype_size(DType::Unsupported), std::size_t{0});
    QCOMPARE(std::string(dtype_name(DType::Bool)), std::string("BOOL"));
    QCOMPARE(std::string(dtype_name(DType::F8_E4M3)), std::string("F8_E4M3"));
    QVERIFY(dtype_is_float(DType::BF16));
    QVERIFY(!dtype_is_float(DType::I8));
  }

  void round_trip_every_writer_and_dtype_data() {
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("dtype");
    for (const char* format : {"npy", "safetensors", "gguf"}) {
      for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
        if (std::string(format) == "npy" && dtype == DType::BF16) continue;  // numpy has no bf16; refused below
        QTest::newRow((std::string(format) + "/" + std::string(dtype_name(dtype))).c_str())
            << QString(format) << static_cast<int>(dtype);
      }
    }
  }

  void round_trip_every_writer_and_dtype() {
    QFETCH(QString, format);
    QFETCH(int, dtype);
    const auto type = static_cast<DType>(dtype);
    QTemporaryDir dir;
    // Odd sizes and a folded 3-D shape; at most 128 elements so every fixture value is exact even in bf16.
    for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{1, 1}, {3, 5}, {7, 13}, {2, 3, 5}}) {
      const std::string path = dir.filePath("t." + format).toStdString();
      const TensorToWrite tensor = fixture_tensor("weight", type, shape);
      if (format == "npy")
        write_npy(path, tensor);
      else if (format == "safetensors")
        write_safetensors(path, {tensor});
      else
        write_gguf(path, {tensor});
      QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));

      auto source = open_weight_source(path);
      QCOMPARE(source->tensors().size(), std::size_t{1});
      const TensorInfo& info = source->tensors()[0];
      QCOMPARE(info.shape, shape);
      QCOMPARE(info.dtype, type);
      QVERIFY(info.is_matrix);
      const MatrixF matrix = source->load_matrix(info.name);
      QCOMPARE(matrix.rows(), shape.size() == 3 ? shape[0] * shape[1] : shape[0]);
      for (int64_t i = 0; i < matrix.size(); ++i)
        QCOMPARE(matrix.data()[i], static_cast<float>(io_test::fixture_value(i)));
    }
  }

  void round_trip_arbitrary_values_exact_in_f32_and_f64() {
    QTemporaryDir dir;
    std::mt19937 random(7);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    MatrixF original(9, 31);
    for (int64_t i = 0; i < original.size(); ++i) original.data()[i] = normal(random);
    original(0, 0) = -0.0f;
    original(0, 1) = std::numeric_limits<float>::denorm_min();
    original(0, 2) = std::numeric_limits<float>::max();
    for (DType dtype : {DType::F32, DType::F64}) {
      const std::string path = dir.filePath("r.safetensors").toStdString();
      write_safetensors(path, {tensor_from_matrix("w", original, dtype)});
      const MatrixF loaded = open_weight_source(path)->load_matrix("w");
      for (int64_t i = 0; i < original.size(); ++i) QVERIFY(same_bits(loaded.data()[i], original.data()[i]));
    }
  }

  void several_tensors_and_vectors_in_one_file() {
    QTemporaryDir dir;
    const std::vector<TensorToWrite> tensors = {fixture_tensor("a", DType::F16, {5, 3}),
                                                fixture_tensor("bias", DType::F32, {17}),
                                                fixture_tensor("b", DType::BF16, {4, 7})};
    for (const char* extension : {".safetensors", ".gguf"}) {
      const std::string path = dir.filePath(QString("m") + extension).toStdString();
      if (std::string(extension) == ".gguf")
        write_gguf(path, tensors);
      else
        write_safetensors(path, tensors);
      auto source = open_weight_source(path);
      QCOMPARE(source->tensors().size(), std::size_t{3});
      const TensorInfo* bias = source->find("bias");
      QVERIFY(bias != nullptr);
      QVERIFY(!bias->is_matrix);
      QCOMPARE(bias->note, std::string("vector (1-D): not pruned"));
      QCOMPARE(source->load_matrix("b")(3, 6), static_cast<float>(io_test::fixture_value(27)));
      QCOMPARE(source->load_matrix("a")(4, 2), static_cast<float>(io_test::fixture_value(14)));
    }
  }

  void npy_writer_refuses_bf16() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("x.npy").toStdString();
    EXPECT_ERROR(write_npy(path, fixture_tensor("x", DType::BF16, {2, 2})), path, "BF16");
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
  }

  void writer_refuses_shape_value_mismatch() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("x.safetensors").toStdString();
    TensorToWrite tensor = fixture_tensor("x", DType::F32, {2, 2});
    tensor.shape = {3, 2};
    EXPECT_ERROR(write_safetensors(path, {tensor}), path, "shape");
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
  }

  void fp16_rounding_edges() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("h.safetensors").toStdString();
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<std::pair<float, float>> cases = {
        {65504.0f, 65504.0f},   // largest finite
        {65519.99f, 65504.0f},  // below the midpoint to infinity
        {65520.0f, inf},        // the midpoint: ties to even, which is infinity
        {1e10f, inf},
        {-1e10f, -inf},
        {-inf, -inf},
        {1.0f + 0x1p-11f, 1.0f},                // tie between 1 and 1+2^-10 -> even (1)
        {1.0f + 3 * 0x1p-11f, 1.0f + 0x1p-9f},  // tie -> even (1 + 2^-9)
        {1.0f + 0x1p-11f + 0x1p-20f, 1.0f + 0x1p-10f},
        {0x1p-24f, 0x1p-24f},  // smallest subnormal
        {0x1p-25f, 0.0f},      // tie with zero -> even (zero)
        {-0x1p-25f, -0.0f},
        {1.5f * 0x1p-25f, 0x1p-24f},
        {3 * 0x1p-25f, 0x1p-23f},         // tie between 1 and 2 subnormal units -> 2
        {0x1p-14f - 0x1p-25f, 0x1p-14f},  // tie between largest subnormal and smallest normal -> normal
        {1023 * 0x1p-24f, 1023 * 0x1p-24f},
        {std::numeric_limits<float>::denorm_min(), 0.0f},
    };
    for (const auto& [input, expected] : cases) {
      const float stored = through_writer(input, DType::F16, path);
      QVERIFY2(same_bits(stored, expected),
               qPrintable(QString("%1 -> %2, expected %3").arg(input, 0, 'g', 10).arg(stored).arg(expected)));
    }
    QVERIFY(std::isnan(through_writer(std::numeric_limits<float>::quiet_NaN(), DType::F16, path)));
  }

  void every_fp16_value_round_trips() {
    // All 65536 bit patterns: decoded through the table, written back through the writer, decoded again, bit-exact.
    QTemporaryDir dir;
    std::vector<uint8_t> bits(65536 * 2);
    for (uint32_t pattern = 0; pattern < 65536; ++pattern) {
      bits[2 * pattern] = static_cast<uint8_t>(pattern & 0xff);
      bits[2 * pattern + 1] = static_cast<uint8_t>(pattern >> 8);
    }
    const MatrixF decoded = decode_matrix(raw_over(bits, DType::F16, {256, 256}));
    QCOMPARE(decoded(0x3c, 0), 1.0f);  // 0x3c00: row = high byte
    QCOMPARE(decoded(0, 1), 0x1p-24f);
    const std::string path = dir.filePath("all.safetensors").toStdString();
    write_safetensors(path, {tensor_from_matrix("all", decoded, DType::F16)});
    auto file = MappedFile::open(path);
    const auto raw = read_safetensors(file);
    for (uint32_t pattern = 0; pattern < 65536; ++pattern) {
      const uint16_t stored = static_cast<uint16_t>(std::to_integer<uint16_t>(raw[0].bytes[2 * pattern]) |
                                                    (std::to_integer<uint16_t>(raw[0].bytes[2 * pattern + 1]) << 8));
      const bool is_nan = (pattern & 0x7c00) == 0x7c00 && (pattern & 0x3ff) != 0;
      if (is_nan)
        QVERIFY((stored & 0x7c00) == 0x7c00 && (stored & 0x3ff) != 0);
      else if (stored != pattern)
        QFAIL(qPrintable(QString("fp16 0x%1 came back as 0x%2").arg(pattern, 0, 16).arg(stored, 0, 16)));
    }
  }

  void bf16_rounding_edges() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("b.safetensors").toStdString();
    QCOMPARE(through_writer(1.0f + 0x1p-8f, DType::BF16, path), 1.0f);
    QCOMPARE(through_writer(1.0f + 3 * 0x1p-8f, DType::BF16, path), 1.0f + 0x1p-6f);
    QCOMPARE(through_writer(-2.5f, DType::BF16, path), -2.5f);
    QCOMPARE(through_writer(std::numeric_limits<float>::max(), DType::BF16, path),
             std::numeric_limits<float>::infinity());
    QVERIFY(std::isnan(through_writer(std::numeric_limits<float>::quiet_NaN(), DType::BF16, path)));
  }

  void decode_integer_bool_and_fp8_types() {
    const std::vector<uint8_t> signed_bytes = {0x80, 0xff, 0x00, 0x7f};
    QCOMPARE(decode_matrix(raw_over(signed_bytes, DType::I8, {2, 2})), (MatrixF(2, 2) << -128, -1, 0, 127).finished());
    QCOMPARE(decode_matrix(raw_over(signed_bytes, DType::U8, {2, 2})), (MatrixF(2, 2) << 128, 255, 0, 127).finished());
    QCOMPARE(decode_matrix(raw_over(signed_bytes, DType::Bool, {1, 4})), (MatrixF(1, 4) << 1, 1, 0, 1).finished());
    QCOMPARE(decode_matrix(raw_over(signed_bytes, DType::I16, {1, 2})), (MatrixF(1, 2) << -128, 32512).finished());
    QCOMPARE(decode_matrix(raw_over(signed_bytes, DType::U16, {1, 2})), (MatrixF(1, 2) << 65408, 32512).finished());
    QCOMPARE(decode_matrix(raw_over(signed_bytes, DType::I32, {1, 1}))(0, 0), static_cast<float>(0x7f00ff80));
    const std::vector<uint8_t> minus_two = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    QCOMPARE(decode_matrix(raw_over(minus_two, DType::I64, {1, 1}))(0, 0), -2.0f);
    QCOMPARE(decode_matrix(raw_over(minus_two, DType::U64, {1, 1}))(0, 0), 18446744073709551614.0f);

    const std::vector<uint8_t> e4m3 = {0x38, 0x7e, 0x01, 0xb8, 0x7f, 0x08};
    const MatrixF a = decode_matrix(raw_over(e4m3, DType::F8_E4M3, {1, 6}));
    QCOMPARE(a(0, 0), 1.0f);
    QCOMPARE(a(0, 1), 448.0f);   // largest finite e4m3fn
    QCOMPARE(a(0, 2), 0x1p-9f);  // smallest subnormal
    QCOMPARE(a(0, 3), -1.0f);
    QVERIFY(std::isnan(a(0, 4)));
    QCOMPARE(a(0, 5), 0x1p-6f);  // smallest normal
    const std::vector<uint8_t> e5m2 = {0x3c, 0x7b, 0x01, 0x7c, 0xfc, 0x7d};
    const MatrixF b = decode_matrix(raw_over(e5m2, DType::F8_E5M2, {1, 6}));
    QCOMPARE(b(0, 0), 1.0f);
    QCOMPARE(b(0, 1), 57344.0f);
    QCOMPARE(b(0, 2), 0x1p-16f);
    QCOMPARE(b(0, 3), std::numeric_limits<float>::infinity());
    QCOMPARE(b(0, 4), -std::numeric_limits<float>::infinity());
    QVERIFY(std::isnan(b(0, 5)));
  }

  void decode_big_endian_and_fortran_order() {
    // 1.0f big endian = 3f 80 00 00; fp16 -2 big endian = c0 00; bf16 0.5 big endian = 3f 00.
    const std::vector<uint8_t> one_be = {0x3f, 0x80, 0x00, 0x00};
    RawTensor f32 = raw_over(one_be, DType::F32, {1, 1});
    f32.big_endian = true;
    QCOMPARE(decode_matrix(f32)(0, 0), 1.0f);
    const std::vector<uint8_t> half_be = {0xc0, 0x00, 0x3f, 0x00};
    RawTensor f16 = raw_over(half_be, DType::F16, {1, 1});
    f16.bytes = f16.bytes.first(2);
    f16.big_endian = true;
    QCOMPARE(decode_matrix(f16)(0, 0), -2.0f);
    RawTensor bf16 = raw_over(half_be, DType::BF16, {1, 2});
    bf16.big_endian = true;
    QCOMPARE(decode_matrix(bf16), (MatrixF(1, 2) << -2.0f, 0.5f).finished());

    // Fortran [2, 3]: bytes hold column by column.
    const std::vector<uint8_t> column_major = {1, 4, 2, 5, 3, 6};
    RawTensor fortran = raw_over(column_major, DType::U8, {2, 3});
    fortran.column_major = true;
    QCOMPARE(decode_matrix(fortran), (MatrixF(2, 3) << 1, 2, 3, 4, 5, 6).finished());
    // Fortran [2, 2, 3]: element (i, j, k) at i + 2 j + 4 k; folded row = 2 i + j.
    std::vector<uint8_t> cube(12);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        for (int k = 0; k < 3; ++k) cube[i + 2 * j + 4 * k] = static_cast<uint8_t>(100 * i + 10 * j + k);
    RawTensor folded = raw_over(cube, DType::U8, {2, 2, 3});
    folded.column_major = true;
    const MatrixF decoded = decode_matrix(folded);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        for (int k = 0; k < 3; ++k) QCOMPARE(decoded(2 * i + j, k), static_cast<float>(100 * i + 10 * j + k));
  }

  void decode_refuses_unsupported_and_wrong_sizes() {
    const std::vector<uint8_t> bytes(18);
    RawTensor quantized = raw_over(bytes, DType::Unsupported, {1, 32});
    quantized.info.name = "blk.0.attn_q.weight";
    quantized.info.note = "quantized GGUF type Q4_0 is listed, not decoded";
    EXPECT_ERROR(decode_matrix(quantized), "blk.0.attn_q.weight", "Q4_0");
    EXPECT_ERROR(decode_matrix(raw_over(bytes, DType::F32, {2, 3})), "raw", "does not match");
  }

  void hash_is_deterministic_and_sensitive() {
    std::vector<uint8_t> bytes(3 * (1 << 20) + 13);  // spans several parallel chunks plus a ragged tail
    std::mt19937 random(1);
    for (auto& byte : bytes) byte = static_cast<uint8_t>(random());
    const auto view = std::as_bytes(std::span(bytes));
    const uint64_t hash = hash_bytes(view);
    QCOMPARE(hash_bytes(view), hash);
    for (std::size_t position : {std::size_t{0}, std::size_t{1} << 20, bytes.size() - 1}) {
      bytes[position] ^= 1;
      QVERIFY(hash_bytes(view) != hash);
      bytes[position] ^= 1;
    }
    QVERIFY(hash_bytes(view.first(7)) != hash_bytes(view.first(8)));  // length matters, even in the tail
    QVERIFY(hash_bytes(view.first(0)) != hash_bytes(view.first(1)));
    const std::string hex = hash_to_hex(0x00ab'cdef'0123'4567ull);
    QCOMPARE(hex, std::string("00abcdef01234567"));
    QCOMPARE(hash_to_hex(hash).size(), std::size_t{16});
  }

  void f16_decode_speed_4096x11008() {
    std::vector<uint8_t> bytes(std::size_t{4096} * 11008 * 2);
    for (std::size_t i = 0; i < bytes.size(); i += 2) bytes[i + 1] = static_cast<uint8_t>(0x3c + (i >> 12) % 4);
    const RawTensor tensor = raw_over(bytes, DType::F16, {4096, 11008});
    decode_matrix(tensor);  // warm-up: page faults of the output, the table, the thread pool
    double best_ms = 1e9;
    for (int repeat = 0; repeat < 3; ++repeat) {
      const auto start = std::chrono::steady_clock::now();
      const MatrixF matrix = decode_matrix(tensor);
      best_ms = std::min(best_ms,
                         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      QCOMPARE(matrix(0, 0), 1.0f);
    }
    qInfo("decode F16 4096x11008: %.1f ms (best of 3)", best_ms);
    // Loose bound so a shared or sanitized machine passes; the target on 2 idle cores is well under 100 ms.
    QVERIFY2(best_ms < 2000.0, qPrintable(QString::number(best_ms)));
  }
};

QTEST_APPLESS_MAIN(TestDecodeWriters)
#include "test_decode_writers.moc"
