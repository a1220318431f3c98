// Hugging Face model directories: a sharded model with an index and a plain one without, and the ways a directory
// can lie or escape: missing shards, "../", absolute paths, tensors not where the index says; and the Hugging Face
// cache's layout, whose snapshot files are symlinks into its blobs/ folder.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io_test_support.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/synthetic.hpp"
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

  void symlinks_in_the_directory_are_followed_wherever_they_point() {
    // The user (or the Hugging Face cache) put the link in the folder: it is followed, as the name is inside.
    QTemporaryDir dir;
    const std::string model = copy_sharded(dir);
    const std::string outside = dir.filePath("elsewhere.safetensors").toStdString();
    fs::copy(model + "/model-00001-of-00002.safetensors", outside);
    fs::remove(model + "/model-00001-of-00002.safetensors");
    fs::create_symlink(outside, model + "/model-00001-of-00002.safetensors");
    const auto shards = hf_shard_files(model);
    QCOMPARE(shards.size(), std::size_t{2});
    QVERIFY(!open_weight_source(model)->tensors().empty());
    // A symlinked directory component is followed the same way.
    fs::create_directory(dir.filePath("shards").toStdString());
    fs::rename(model + "/model-00002-of-00002.safetensors", dir.filePath("shards/two.safetensors").toStdString());
    fs::create_directory_symlink(dir.filePath("shards").toStdString(), model + "/sub");
    const io_test::Bytes index_text = io_test::read_file(model + "/model.safetensors.index.json");
    nlohmann::json index = nlohmann::json::parse(index_text.begin(), index_text.end());
    for (auto& [tensor, shard] : index["weight_map"].items())
      if (shard == "model-00002-of-00002.safetensors") shard = "sub/two.safetensors";
    io_test::write_file(model + "/model.safetensors.index.json", index.dump());
    const auto relinked = hf_shard_files(model);
    QVERIFY(std::find(relinked.begin(), relinked.end(), fs::canonical(model).string() + "/sub/two.safetensors") !=
            relinked.end());
    // A dangling link is a missing shard, named as such.
    fs::remove(outside);
    EXPECT_ERROR(hf_shard_files(model), model, "missing");
  }

  void huggingface_cache_snapshot_opens_like_the_model() {
    // models--org--name/snapshots/<rev>/ holds links into ../../blobs/, as the Hub client writes it.
    QTemporaryDir dir;
    const std::string model = fixture("hf_sharded");
    const fs::path cache = fs::path(dir.path().toStdString()) / "models--nmscope--tiny";
    const fs::path snapshot = cache / "snapshots" / "0123456789abcdef";
    fs::create_directories(cache / "blobs");
    fs::create_directories(snapshot);
    int blob = 0;
    for (const auto& entry : fs::directory_iterator(model)) {
      const std::string hash = "blob" + std::to_string(blob++);
      fs::copy(entry.path(), cache / "blobs" / hash);
      fs::create_symlink(fs::path("../..") / "blobs" / hash, snapshot / entry.path().filename());
    }
    const auto original = open_weight_source(model);
    const auto cached = open_weight_source(snapshot.string());
    QCOMPARE(cached->tensors().size(), original->tensors().size());
    for (const auto& info : original->tensors()) {
      QVERIFY(cached->find(info.name));
      QCOMPARE(cached->tensor_hash(info.name), original->tensor_hash(info.name));
      if (info.is_matrix) QVERIFY(cached->load_matrix(info.name) == original->load_matrix(info.name));
    }
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
