// open_weight_source: choosing the reader by path, the errors for paths it cannot use, load_matrix / tensor_hash on
// what it opened, and MappedFile's own refusals.
#include <sys/stat.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>

#include "io_test_support.hpp"
#include "nmscope/mapped_file.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/writers.hpp"

using namespace nmscope;
using io_test::fixture;

class TestWeightSource : public QObject {
  Q_OBJECT

 private slots:
  void picks_the_reader_by_path() {
    QCOMPARE(open_weight_source(fixture("v1_f4.npy"))->tensors()[0].name, std::string("v1_f4"));  // the stem
    QCOMPARE(open_weight_source(fixture("model.safetensors"))->tensors().size(), std::size_t{7});
    QCOMPARE(open_weight_source(fixture("model.gguf"))->tensors().size(), std::size_t{5});
    QCOMPARE(open_weight_source(fixture("hf_plain"))->tensors().size(), std::size_t{2});
    QCOMPARE(open_weight_source(fixture("v1_f4.npy"))->location(), fixture("v1_f4.npy"));
  }

  void path_that_does_not_exist() {
    const std::string path = fixture("no/such/file.safetensors");
    EXPECT_ERROR(open_weight_source(path), path, "no such file or directory");
    EXPECT_ERROR(MappedFile::open(path), path, "no such file");
    EXPECT_ERROR(read_npy_matrix(path), path, "no such file");
  }

  void unknown_extension() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("weights.bin").toStdString();
    io_test::write_file(path, std::string("12345678"));
    EXPECT_ERROR(open_weight_source(path), path, "unknown format (expected .npy, .safetensors, .gguf");
  }

  void wrong_content_for_the_extension() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("really_npy.gguf").toStdString();
    std::filesystem::copy(fixture("v1_f4.npy"), path);
    EXPECT_ERROR(open_weight_source(path), path, "magic");
  }

  void mapped_file_refusals() {
    QTemporaryDir dir;
    const std::string directory = dir.path().toStdString();
    EXPECT_ERROR(MappedFile::open(directory), directory, "is a directory");
    const std::string empty = dir.filePath("empty.npy").toStdString();
    io_test::write_file(empty, io_test::Bytes{});
    QCOMPARE(MappedFile::open(empty)->size(), std::size_t{0});
    EXPECT_ERROR(open_weight_source(empty), empty, "magic");
    const std::string fifo = dir.filePath("pipe.npy").toStdString();
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_ERROR(MappedFile::open(fifo), fifo, "not a regular file");
    if (::geteuid() == 0) QSKIP("root reads files without permission: cannot test 'permission denied'");
    const std::string locked = dir.filePath("locked.npy").toStdString();
    std::filesystem::copy(fixture("v1_f4.npy"), locked);
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    EXPECT_ERROR(open_weight_source(locked), locked, "permission denied");
  }

  void load_matrix_errors_name_the_tensor() {
    auto source = open_weight_source(fixture("model.safetensors"));
    EXPECT_ERROR(source->load_matrix("nope"), "nope", "no such tensor in " + fixture("model.safetensors"));
    EXPECT_ERROR(source->tensor_hash("nope"), "nope", "no such tensor");
    EXPECT_ERROR(source->load_matrix("vector"), "vector", "vector (1-D): not pruned");
    QVERIFY(source->find("nope") == nullptr);
  }

  void load_rows_decodes_only_the_range() {
    // Row-major safetensors (f16, and a cube folded to [6, 4]) take the byte-range path; Fortran-order .npy the
    // whole-decode fallback. Both must equal the slice of the whole tensor, and a range outside is refused.
    const auto safetensors = open_weight_source(fixture("model.safetensors"));
    for (const std::string name : {"f16", "cube", "f32"}) {
      const MatrixF whole = safetensors->load_tensor(name);
      QVERIFY(safetensors->load_rows(name, 1, 2) == whole.middleRows(1, 2));
      QVERIFY(safetensors->load_rows(name, whole.rows() - 1, 1) == whole.bottomRows(1));
    }
    const auto fortran = open_weight_source(fixture("fortran_f4.npy"));
    QVERIFY(fortran->load_rows("fortran_f4", 2, 3) == fortran->load_matrix("fortran_f4").middleRows(2, 3));
    EXPECT_ERROR(safetensors->load_rows("f32", 4, 2), "f32", "rows [4, 6) are outside its 5 rows");
    EXPECT_ERROR(safetensors->load_rows("f32", -1, 1), "f32", "outside its 5 rows");
    EXPECT_ERROR(fortran->load_rows("fortran_f4", 0, 6), "fortran_f4", "outside its 5 rows");
  }

  void hash_follows_the_stored_bytes() {
    QTemporaryDir dir;
    const TensorToWrite a{"w", DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6}};
    TensorToWrite b = a;
    b.values[5] = 7;
    write_npy(dir.filePath("w.npy").toStdString(), a);
    write_safetensors(dir.filePath("a.safetensors").toStdString(), {a});
    write_safetensors(dir.filePath("b.safetensors").toStdString(), {b});
    const std::string npy_hash = open_weight_source(dir.filePath("w.npy").toStdString())->tensor_hash("w");
    QCOMPARE(open_weight_source(dir.filePath("a.safetensors").toStdString())->tensor_hash("w"), npy_hash);
    QVERIFY(open_weight_source(dir.filePath("b.safetensors").toStdString())->tensor_hash("w") != npy_hash);
    QCOMPARE(npy_hash.size(), std::size_t{16});
    QVERIFY(npy_hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  }

  void source_outlives_nothing_it_needs() {
    // Tensors keep their map alive: load after the file is deleted (the map stays valid on POSIX).
    QTemporaryDir dir;
    const std::string path = dir.filePath("gone.safetensors").toStdString();
    write_safetensors(path, {TensorToWrite{"w", DType::F16, {1, 2}, {0.5f, -1.5f}}});
    auto source = open_weight_source(path);
    std::filesystem::remove(path);
    QCOMPARE(source->load_matrix("w")(0, 1), -1.5f);
  }
};

QTEST_APPLESS_MAIN(TestWeightSource)
#include "test_weight_source.moc"
