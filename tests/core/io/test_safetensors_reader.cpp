// .safetensors reader: files from the safetensors package (every dtype it writes, plus BF16), and hostile headers:
// lengths beyond the file, non-JSON, offsets out of range or overlapping, unknown dtypes, truncations; a mutation loop.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include "io_test_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"

using namespace nmscope;
using io_test::fixture;

namespace {

// A safetensors file from a header object and a data section, as a hostile writer would make one.
io_test::Bytes make_file(const nlohmann::json& header, std::size_t data_bytes) {
  const std::string text = header.dump();
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  file += text;
  file.append(data_bytes, '\x01');
  return io_test::Bytes(file.begin(), file.end());
}

nlohmann::json entry(const std::string& dtype, std::vector<int64_t> shape, uint64_t begin, uint64_t end) {
  return {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, end}}};
}

}  // namespace

class TestSafetensorsReader : public QObject {
  Q_OBJECT

 private slots:
  void real_writer_every_dtype() {
    auto source = open_weight_source(fixture("model.safetensors"));
    QCOMPARE(source->tensors().size(), std::size_t{7});  // __metadata__ is not a tensor
    const std::vector<std::pair<std::string, DType>> floats = {
        {"f32", DType::F32}, {"f16", DType::F16}, {"f64", DType::F64}};
    for (const auto& [name, dtype] : floats) {
      QCOMPARE(source->find(name)->dtype, dtype);
      const MatrixF matrix = source->load_matrix(name);
      for (int64_t i = 0; i < matrix.size(); ++i)
        QCOMPARE(matrix.data()[i], static_cast<float>(io_test::fixture_value(i)));
    }
    QCOMPARE(source->find("f16")->stored_type, std::string("F16"));
    QCOMPARE(source->find("f16")->shape, (std::vector<int64_t>{4, 9}));
    const MatrixF i8 = source->load_matrix("i8"), u8 = source->load_matrix("u8");
    for (int64_t i = 0; i < 24; ++i) {
      QCOMPARE(i8.data()[i], static_cast<float>(i % 200 - 100));
      QCOMPARE(u8.data()[i], static_cast<float>(i % 256));
    }
    const MatrixF cube = source->load_matrix("cube");
    QCOMPARE(cube.rows(), int64_t{6});
    QCOMPARE(cube(5, 3), static_cast<float>(io_test::fixture_value(23)));
    QVERIFY(!source->find("vector")->is_matrix);
    EXPECT_ERROR(source->load_matrix("vector"), "vector", "not pruned");
  }

  void bf16() {
    auto source = open_weight_source(fixture("bf16.safetensors"));
    QCOMPARE(source->find("bf16")->dtype, DType::BF16);
    const MatrixF matrix = source->load_matrix("bf16");
    QCOMPARE(matrix.rows(), int64_t{8});
    for (int64_t i = 0; i < matrix.size(); ++i)
      QCOMPARE(matrix.data()[i], static_cast<float>(io_test::fixture_value(i)));
  }

  void spans_point_into_the_map() {
    auto file = MappedFile::open(fixture("model.safetensors"));
    for (const auto& tensor : read_safetensors(file)) {
      QVERIFY(tensor.bytes.data() >= file->bytes().data());
      QVERIFY(tensor.bytes.data() + tensor.bytes.size() <= file->bytes().data() + file->size());
      QVERIFY(tensor.file == file);
    }
  }

  void empty_tensor_is_listed() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("e.safetensors").toStdString();
    io_test::write_file(path, make_file({{"empty", entry("F32", {0, 4}, 0, 0)}, {"w", entry("F32", {1, 1}, 0, 4)}}, 4));
    auto source = open_weight_source(path);
    QVERIFY(!source->find("empty")->is_matrix);
    QCOMPARE(source->find("empty")->note, std::string("empty"));
  }

  void header_length_beyond_the_file() {
    QTemporaryDir dir;
    auto bytes = io_test::read_file(fixture("model.safetensors"));
    const std::string path = dir.filePath("long.safetensors").toStdString();
    io_test::put_le<uint64_t>(bytes, 0, bytes.size());
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "beyond the file");
    io_test::put_le<uint64_t>(bytes, 0, ~uint64_t{0});
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "beyond the file");
  }

  void header_is_not_json() {
    QTemporaryDir dir;
    auto bytes = io_test::read_file(fixture("model.safetensors"));
    const std::string path = dir.filePath("x.safetensors").toStdString();
    bytes[8] = 'x';
    io_test::write_file(path, bytes);
    EXPECT_ERROR(open_weight_source(path), path, "JSON");
    io_test::write_file(path, make_file(nlohmann::json::array({1, 2}), 0));
    EXPECT_ERROR(open_weight_source(path), path, "JSON object");
  }

  void data_offsets_out_of_range() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("range.safetensors").toStdString();
    io_test::write_file(path, make_file({{"w", entry("F32", {2, 2}, 8, 24)}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "outside the data section", "'w'");
    io_test::write_file(path, make_file({{"w", entry("F32", {2, 2}, 16, 0)}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "outside the data section");
    io_test::write_file(path, make_file({{"w", entry("F32", {2, 2}, 0, 12)}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "need 16");
    io_test::write_file(path,
                        make_file({{"w", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {-4, 12}}}}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "non-negative");
  }

  void overlapping_tensors() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("overlap.safetensors").toStdString();
    io_test::write_file(path, make_file({{"a", entry("F32", {2, 2}, 0, 16)}, {"b", entry("F32", {2, 2}, 12, 28)}}, 28));
    EXPECT_ERROR(open_weight_source(path), path, "overlap");
    io_test::write_file(path, make_file({{"a", entry("F32", {2, 2}, 0, 16)}, {"b", entry("F16", {2, 4}, 0, 16)}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "overlap");
  }

  void unknown_dtype_and_bad_shapes() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("dtype.safetensors").toStdString();
    io_test::write_file(path, make_file({{"layer.w", entry("F7", {2, 2}, 0, 16)}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "unknown dtype 'F7'");
    EXPECT_ERROR(open_weight_source(path), path, "layer.w");
    io_test::write_file(path, make_file({{"w", entry("F32", {4611686018427387904, 4}, 0, 16)}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "overflow");
    io_test::write_file(path,
                        make_file({{"w", {{"dtype", "F32"}, {"shape", {2.5, 2}}, {"data_offsets", {0, 16}}}}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "non-negative integers");
    io_test::write_file(path, make_file({{"w", {{"dtype", "F32"}, {"data_offsets", {0, 16}}}}}, 16));
    EXPECT_ERROR(open_weight_source(path), path, "shape");
  }

  void truncated_at_several_points() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("model.safetensors"));
    const std::string path = dir.filePath("cut.safetensors").toStdString();
    const std::size_t header_end = 8 + io_test::get_le<uint64_t>(good, 0);
    for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{40}, header_end - 1,
                            header_end + 3, (header_end + good.size()) / 2, good.size() - 1}) {
      io_test::write_file(path, io_test::Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
      EXPECT_ERROR(open_weight_source(path), path, "truncated");
    }
  }

  void mutations_are_refused_or_read() {
    QTemporaryDir dir;
    const std::size_t header_end = 8 + io_test::get_le<uint64_t>(io_test::read_file(fixture("model.safetensors")), 0);
    io_test::mutation_loop(fixture("model.safetensors"), dir.filePath("m.safetensors").toStdString(), 500, header_end);
  }
};

QTEST_APPLESS_MAIN(TestSafetensorsReader)
#include "test_safetensors_reader.moc"
