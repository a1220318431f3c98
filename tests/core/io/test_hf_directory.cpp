// Hugging Face model directories: a sharded model with an index and a plain one without, and the ways a directory
// can lie or escape: missing shards, "../", absolute paths, symlinks out, tensors not where the index says.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io_test_support.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/writers.hpp"

using namespace nmscope;
using io_test::fixture;
namespace fs = std::filesystem;

namespace {

// A copy of the sharded fixture whose index the test may then rewrite.
std::string copy_sharded(const QTemporaryDir& dir) {
  const fs::path target = fs::path(dir.path().toStdString()) / "model";
  fs::copy(fixture("hf_sharded"), target, fs::copy_options::recursive);
  return target.string();
}

void write_index(const std::string& model, const nlohmann::json& weight_map) {
  io_test::write_file(model + "/model.safetensors.index.json", nlohmann::json{{"weight_map", weight_map}}.dump());
}

}  // namespace

class TestHfDirectory : public QObject {
  Q_OBJECT

 private slots:
  void sharded_with_index() {
    const auto shards = hf_shard_files(fixture("hf_sharded"));
    QCOMPARE(shards.size(), std::size_t{2});  // four tensors, two shards: deduplicated, index order
    QVERIFY(io_test::contains(shards[0], "model-00001-of-00002.safetensors"));
    QVERIFY(io_test::contains(shards[1], "model-00002-of-00002.safetensors"));
    auto source = open_weight_source(fixture("hf_sharded"));
    QCOMPARE(source->tensors().size(), std::size_t{4});
    const MatrixF k = source->load_matrix("layers.0.k");
    const MatrixF q1 = source->load_matrix("layers.1.q");
    QCOMPARE(k.rows(), int64_t{4});
    QCOMPARE(q1.rows(), int64_t{6});
    QCOMPARE(q1(5, 7), static_cast<float>(io_test::fixture_value(47)));
    QCOMPARE(k(3, 7), static_cast<float>(io_test::fixture_value(31)));
    QVERIFY(!source->find("norm")->is_matrix);
  }

  void plain_directory_sorted_by_name() {
    const auto shards = hf_shard_files(fixture("hf_plain"));
    QCOMPARE(shards.size(), std::size_t{2});
    QVERIFY(io_test::contains(shards[0], "a.safetensors"));
    QVERIFY(io_test::contains(shards[1], "b.safetensors"));
    auto source = open_weight_source(fixture("hf_plain"));
    QCOMPARE(source->load_matrix("b.weight")(2, 3), static_cast<float>(io_test::fixture_value(11)));
  }

  void directory_without_safetensors() {
    QTemporaryDir dir;
    io_test::write_file(dir.filePath("README.md").toStdString(), std::string("nothing here"));
    const std::string path = dir.path().toStdString();
    EXPECT_ERROR(hf_shard_files(path), path, "no .safetensors files");
    EXPECT_ERROR(open_weight_source(path), path, "no .safetensors files");
  }

  void index_names_a_missing_shard() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    fs::remove(model + "/model-00002-of-00002.safetensors");
    EXPECT_ERROR(open_weight_source(model), "model.safetensors.index.json", "model-00002-of-00002.safetensors");
    EXPECT_ERROR(hf_shard_files(model), model, "missing");
  }

  void index_is_not_json_or_has_no_weight_map() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    io_test::write_file(model + "/model.safetensors.index.json", std::string("{\"weight_map\": "));
    EXPECT_ERROR(hf_shard_files(model), "model.safetensors.index.json", "JSON");
    io_test::write_file(model + "/model.safetensors.index.json", std::string("{\"metadata\": {}}"));
    EXPECT_ERROR(hf_shard_files(model), "model.safetensors.index.json", "weight_map");
  }

  void shard_path_with_dot_dot() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    fs::copy(model + "/model-00001-of-00002.safetensors", dir.filePath("outside.safetensors").toStdString());
    write_index(model, {{"layers.0.q", "../outside.safetensors"}});
    EXPECT_ERROR(hf_shard_files(model), model, "'..'");
    write_index(model, {{"layers.0.q", "sub/../../outside.safetensors"}});
    EXPECT_ERROR(open_weight_source(model), model, "'..'");
  }

  void absolute_shard_path() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    write_index(model, {{"layers.0.q", model + "/model-00001-of-00002.safetensors"}});
    EXPECT_ERROR(hf_shard_files(model), model, "absolute");
  }

  void symlink_out_of_the_directory() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    const std::string outside = dir.filePath("secret.safetensors").toStdString();
    fs::copy(model + "/model-00001-of-00002.safetensors", outside);
    fs::create_symlink(outside, model + "/evil.safetensors");
    write_index(model, {{"layers.0.q", "evil.safetensors"}});
    EXPECT_ERROR(hf_shard_files(model), model, "outside the model directory");
    // Without an index the globbed shards are checked the same way.
    fs::remove(model + "/model.safetensors.index.json");
    EXPECT_ERROR(open_weight_source(model), model, "outside the model directory");
    // A symlinked directory component that leaves the directory is caught too.
    fs::remove(model + "/evil.safetensors");
    fs::create_directory(dir.filePath("elsewhere").toStdString());
    fs::create_directory_symlink(dir.filePath("elsewhere").toStdString(), model + "/sub");
    write_index(model, {{"layers.0.q", "sub/x.safetensors"}});
    EXPECT_ERROR(hf_shard_files(model), model, "outside the model directory");
  }

  void symlink_inside_the_directory_is_fine() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    fs::create_symlink("model-00001-of-00002.safetensors", model + "/alias.safetensors");
    write_index(model, {{"layers.0.q", "alias.safetensors"}});
    QCOMPARE(hf_shard_files(model).size(), std::size_t{1});
  }

  void index_maps_a_tensor_to_the_wrong_shard() {
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    write_index(model, {{"layers.0.q", "model-00002-of-00002.safetensors"},
                        {"layers.1.q", "model-00002-of-00002.safetensors"}});
    EXPECT_ERROR(open_weight_source(model), "model.safetensors.index.json", "layers.0.q");
  }

  void duplicate_tensor_across_shards() {
    QTemporaryDir dir;
    const TensorToWrite tensor{"w", DType::F32, {1, 2}, {1.0f, 2.0f}};
    write_safetensors(dir.filePath("a.safetensors").toStdString(), {tensor});
    write_safetensors(dir.filePath("b.safetensors").toStdString(), {tensor});
    EXPECT_ERROR(open_weight_source(dir.path().toStdString()), dir.path().toStdString(), "appears twice");
  }
};

QTEST_APPLESS_MAIN(TestHfDirectory)
#include "test_hf_directory.moc"
