// .npy reader: numpy's own files in every header version, byte order and memory order; hostile headers and
// truncations; a mutation loop.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "io_test_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"

using namespace nmscope;
using io_test::fixture;

namespace {

// Checks a decoded fixture against the value rule, given the array's C-order shape.
void check_fixture_values(const MatrixF& matrix, int64_t rows, int64_t cols) {
  QCOMPARE(matrix.rows(), rows);
  QCOMPARE(matrix.cols(), cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) QCOMPARE(matrix(r, c), static_cast<float>(io_test::fixture_value(r * cols + c)));
}

// Replaces text inside a v1.0 header and rewrites the header length field to match (the reader does not insist on
// numpy's 64-byte padding, so neither does the edit).
io_test::Bytes edit_header(const io_test::Bytes& good, const std::string& from, const std::string& to) {
  const uint16_t length = io_test::get_le<uint16_t>(good, 8);
  std::string header(good.begin() + 10, good.begin() + 10 + length);
  const auto at = header.find(from);
  if (at == std::string::npos) throw std::logic_error("fixture header lacks " + from);
  header.replace(at, from.size(), to);
  std::string file(good.begin(), good.begin() + 10);
  file[8] = static_cast<char>(header.size() & 0xff);
  file[9] = static_cast<char>(header.size() >> 8);
  file += header;
  file.append(good.begin() + 10 + length, good.end());
  return io_test::Bytes(file.begin(), file.end());
}

}  // namespace

class TestNpyReader : public QObject {
  Q_OBJECT

 private slots:
  void header_versions_1_2_3() {
    check_fixture_values(read_npy_matrix(fixture("v1_f4.npy")), 5, 7);
    check_fixture_values(read_npy_matrix(fixture("v2_f8.npy")), 6, 3);
    check_fixture_values(read_npy_matrix(fixture("v3_f2.npy")), 4, 9);
    const auto raw = read_npy(MappedFile::open(fixture("v3_f2.npy")), "w");
    QCOMPARE(raw[0].info.stored_type, std::string("<f2"));
    QCOMPARE(raw[0].info.dtype, DType::F16);
    QCOMPARE(raw[0].info.name, std::string("w"));
  }

  void big_endian() {
    check_fixture_values(read_npy_matrix(fixture("be_f4.npy")), 3, 5);
    check_fixture_values(read_npy_matrix(fixture("be_f2.npy")), 3, 5);
    const MatrixF ints = read_npy_matrix(fixture("be_i4.npy"));
    for (int64_t i = 0; i < ints.size(); ++i) QCOMPARE(ints.data()[i], static_cast<float>(i % 200 - 100));
  }

  void fortran_order() {
    check_fixture_values(read_npy_matrix(fixture("fortran_f4.npy")), 5, 7);
    check_fixture_values(read_npy_matrix(fixture("be_f8_fortran.npy")), 4, 6);
    check_fixture_values(read_npy_matrix(fixture("fortran_cube_f4.npy")), 6, 4);
    QVERIFY(read_npy(MappedFile::open(fixture("fortran_f4.npy")), "w")[0].column_major);
  }

  void vector_cube_scalar_and_integer_types() {
    check_fixture_values(read_npy_matrix(fixture("vector_f4.npy")), 1, 11);
    check_fixture_values(read_npy_matrix(fixture("cube_f4.npy")), 6, 4);
    const auto cube = read_npy(MappedFile::open(fixture("cube_f4.npy")), "cube")[0].info;
    QVERIFY(cube.is_matrix);
    QCOMPARE(cube.note, std::string("folded [2, 3, 4] to [2*3, 4]"));
    const auto vector = read_npy(MappedFile::open(fixture("vector_f4.npy")), "v")[0].info;
    QVERIFY(!vector.is_matrix);
    QCOMPARE(vector.note, std::string("vector (1-D): not pruned"));
    const auto scalar = read_npy(MappedFile::open(fixture("scalar_f4.npy")), "s")[0].info;
    QVERIFY(!scalar.is_matrix);
    QCOMPARE(scalar.note, std::string("scalar"));
    QCOMPARE(read_npy_matrix(fixture("scalar_f4.npy"))(0, 0), -3.0f);

    const MatrixF i1 = read_npy_matrix(fixture("i1.npy")), u1 = read_npy_matrix(fixture("u1.npy"));
    const MatrixF b1 = read_npy_matrix(fixture("b1.npy"));
    for (int64_t i = 0; i < 12; ++i) {
      QCOMPARE(i1.data()[i], static_cast<float>(i % 200 - 100));
      QCOMPARE(u1.data()[i], static_cast<float>(i % 256));
      QCOMPARE(b1.data()[i], i % 3 == 0 ? 1.0f : 0.0f);
    }
  }

  void refuses_object_complex_structured() {
    EXPECT_ERROR(read_npy_matrix(fixture("object.npy")), fixture("object.npy"), "object");
    EXPECT_ERROR(read_npy_matrix(fixture("complex.npy")), fixture("complex.npy"), "complex");
    EXPECT_ERROR(read_npy_matrix(fixture("structured.npy")), fixture("structured.npy"), "structured");
  }

  void header_parsing_is_tolerant_of_python_syntax() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("v1_f4.npy"));
    const std::string path = dir.filePath("w.npy").toStdString();
    const auto length = io_test::get_le<uint16_t>(good, 8);
    const std::string original(good.begin() + 10, good.begin() + 10 + length);
    // Keys reordered, double quotes, extra whitespace, no trailing comma.
    io_test::write_file(
        path, edit_header(good, original, "{ \"shape\" : ( 5 ,7 ,) ,'fortran_order':False,\n 'descr':'<f4'}\n"));
    check_fixture_values(read_npy_matrix(path), 5, 7);
  }

  void header_lies_about_shape_or_dtype() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("v1_f4.npy"));
    const std::string path = dir.filePath("lie.npy").toStdString();
    io_test::write_file(path, edit_header(good, "(5, 7)", "(5, 8)"));
    EXPECT_ERROR(read_npy_matrix(path), path, "truncated: header declares 160 bytes of data, file has 140");
    io_test::write_file(path, edit_header(good, "(5, 7)", "(5, 6)"));
    EXPECT_ERROR(read_npy_matrix(path), path, "does not match");
    io_test::write_file(path, edit_header(good, "<f4", "<f8"));
    EXPECT_ERROR(read_npy_matrix(path), path, "truncated");
    io_test::write_file(path, edit_header(good, "<f4", "<f2"));
    EXPECT_ERROR(read_npy_matrix(path), path, "does not match");
    io_test::write_file(path, edit_header(good, "(5, 7)", "(4611686018427387904, 4)"));
    EXPECT_ERROR(read_npy_matrix(path), path, "overflow");
    io_test::write_file(path, edit_header(good, "(5, 7)", "(99999999999999999999999, 1)"));
    EXPECT_ERROR(read_npy_matrix(path), path, "too large");
    io_test::write_file(path, edit_header(good, "(5, 7)", "(5, -7)"));
    EXPECT_ERROR(read_npy_matrix(path), path, "non-negative");
    io_test::write_file(path, edit_header(good, "'<f4'", "'<q9'"));
    EXPECT_ERROR(read_npy_matrix(path), path, "dtype");
    io_test::write_file(path, edit_header(good, "False", "Maybe"));
    EXPECT_ERROR(read_npy_matrix(path), path, "fortran_order");
    io_test::write_file(path, edit_header(good, "'descr'", "'colour'"));
    EXPECT_ERROR(read_npy_matrix(path), path, "colour");
    io_test::write_file(path, edit_header(good, "'<f4'", "'<f4"));
    EXPECT_ERROR(read_npy_matrix(path), path, "bad .npy header");
  }

  void bad_magic_version_and_header_length() {
    QTemporaryDir dir;
    const auto good = io_test::read_file(fixture("v1_f4.npy"));
    const std::string path = dir.filePath("bad.npy").toStdString();
    auto bytes = good;
    bytes[1] = 'X';
    io_test::write_file(path, bytes);
    EXPECT_ERROR(read_npy_matrix(path), path, "magic");
    bytes = good;
    bytes[6] = 4;
    io_test::write_file(path, bytes);
    EXPECT_ERROR(read_npy_matrix(path), path, "version 4.0");
    bytes = good;
    io_test::put_le<uint16_t>(bytes, 8, 0xffff);
    io_test::write_file(path, bytes);
    EXPECT_ERROR(read_npy_matrix(path), path, "truncated");
    bytes = io_test::read_file(fixture("v2_f8.npy"));
    io_test::put_le<uint32_t>(bytes, 8, 0xfffffff0u);
    io_test::write_file(path, bytes);
    EXPECT_ERROR(read_npy_matrix(path), path, "truncated");
    io_test::write_file(path, io_test::Bytes{});
    EXPECT_ERROR(read_npy_matrix(path), path, "magic");
  }

  void truncated_at_several_points() {
    QTemporaryDir dir;
    for (const char* name : {"v1_f4.npy", "v2_f8.npy", "v3_f2.npy"}) {
      const auto good = io_test::read_file(fixture(name));
      const std::string path = dir.filePath(name).toStdString();
      for (std::size_t cut : {std::size_t{3}, std::size_t{9}, std::size_t{11}, std::size_t{40}, std::size_t{127},
                              std::size_t{128}, good.size() / 2 + 64, good.size() - 1}) {
        io_test::write_file(path, io_test::Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
        EXPECT_ERROR(read_npy_matrix(path), path, "truncated");
      }
    }
  }

  void mutations_are_refused_or_read() {
    QTemporaryDir dir;
    io_test::mutation_loop(fixture("v1_f4.npy"), dir.filePath("m.npy").toStdString(), 400, 128);
    io_test::mutation_loop(fixture("be_f8_fortran.npy"), dir.filePath("m.npy").toStdString(), 200, 128);
  }
};

QTEST_APPLESS_MAIN(TestNpyReader)
#include "test_npy_reader.moc"
