// A model directory as a model: roles of every tensor for the modelled families, the shape check against config.json,
// unsupported architectures listed with a note, and the bad directories of issue 8 refused with one clear error.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>

#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"

using namespace nmscope;
using model_test::expect_error;
using model_test::fixture;

class TestModel : public QObject {
  Q_OBJECT

 private slots:
  void llama_roles_from_a_sharded_directory() {
    const auto model = Model::open(fixture("tiny_llama"));
    const ModelConfig& config = model->config();
    QCOMPARE(config.family, ModelFamily::Decoder);
    QCOMPARE(config.blocks, int64_t{2});
    QCOMPARE(config.kv_heads, int64_t{2});
    QCOMPARE(config.head_dim, int64_t{16});
    QCOMPARE(config.rope_theta, 10000.0);  // from transformers 5's rope_parameters
    const auto layers = model->linear_layers();
    QCOMPARE(layers.size(), std::size_t{14});
    const std::vector<std::string> block_order = {"attn.q",   "attn.k", "attn.v",  "attn.o",
                                                  "mlp.gate", "mlp.up", "mlp.down"};
    for (std::size_t index = 0; index < layers.size(); ++index) {
      QCOMPARE(layers[index]->block, int64_t(index / 7));
      QCOMPARE(role_name(layers[index]->role), block_order[index % 7]);
    }
    QCOMPARE(model->at(-1, "lm_head.weight").role, LayerRole::Head);
    QCOMPARE(model->at(-1, "model.embed_tokens.weight").role, LayerRole::Embedding);
    QVERIFY(!model->at(-1, "lm_head.weight").is_linear());  // listed, excluded from compression by default
    QCOMPARE(model->at(1, "input_layernorm.weight").role, LayerRole::Norm);
  }

  void qwen2_biases_and_tied_head() {
    const auto model = Model::open(fixture("tiny_qwen2"));
    QVERIFY(model->config().tie_word_embeddings);
    QCOMPARE(model->config().kv_heads, int64_t{1});
    QCOMPARE(model->at(0, "self_attn.q_proj.bias").role, LayerRole::Bias);
    QVERIFY(model->find(-1, "lm_head.weight") == nullptr);
  }

  void directory_without_config_is_refused() {
    QTemporaryDir dir;
    const std::string model = model_test::copy_model(dir, "tiny_qwen2");
    std::filesystem::remove(model + "/config.json");
    expect_error([&] { Model::open(model); }, "config.json: missing");
  }

  void tensors_that_do_not_match_the_config_are_refused() {
    QTemporaryDir dir;
    const std::string model = model_test::copy_model(dir, "tiny_qwen2");
    auto config = model_test::read_config(model);
    config["intermediate_size"] = 128;
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "does not match");
  }

  void missing_block_tensor_is_refused() {
    QTemporaryDir dir;
    const std::string model = model_test::copy_model(dir, "tiny_qwen2");
    auto config = model_test::read_config(model);
    config["num_hidden_layers"] = 3;  // the file holds two blocks
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "lacks model.layers.2.");
  }

  void bad_config_fields_are_refused() {
    QTemporaryDir dir;
    const std::string model = model_test::copy_model(dir, "tiny_qwen2");
    auto config = model_test::read_config(model);
    config["num_attention_heads"] = 0;
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "'num_attention_heads' must be an integer");
    config["num_attention_heads"] = 4;
    config["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 10000.0}};
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "rope_type 'yarn' is not modelled");
    // transformers 4.x writes rope_scaling at the top level, older configs with "type" instead of "rope_type".
    config.erase("rope_parameters");
    config["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
    model_test::write_config(model, config);
    QCOMPARE(Model::open(model)->config().rope_scaling.factor, 4.0);
    config["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "rope_type 'dynamic' is not modelled");
    config["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "lacks 'original_max_position_embeddings'");
    config["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 0.5}};
    model_test::write_config(model, config);
    expect_error([&] { Model::open(model); }, "'factor' >= 1");
    config.erase("rope_scaling");
    std::ofstream(model + "/config.json", std::ios::trunc) << "{not json";
    expect_error([&] { Model::open(model); }, "not valid JSON");
  }

  void unsupported_architecture_is_listed_with_a_note() {
    QTemporaryDir dir;
    const std::string model = model_test::copy_model(dir, "tiny_qwen2");
    auto config = model_test::read_config(model);
    config["model_type"] = "gpt2";
    model_test::write_config(model, config);
    const auto opened = Model::open(model);
    QCOMPARE(opened->config().family, ModelFamily::Unsupported);
    QVERIFY(opened->note().find("'gpt2' is not modelled") != std::string::npos);
    QCOMPARE(opened->tensors().size(), std::size_t{26});
    for (const auto& tensor : opened->tensors()) {
      QCOMPARE(tensor.role, LayerRole::Other);
      QVERIFY(!tensor.info.note.empty());
    }
    QVERIFY(opened->linear_layers().empty());
    const TokenIds tokens{1, 2, {1, 2}};
    expect_error([&] { run_forward(*opened, tokens); }, "is not modelled");
  }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
