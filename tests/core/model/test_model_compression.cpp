// Compressing a whole model: every linear layer packed, storage counted from the packed buffers, and wanda calibrated
// from the model's own forward pass with each layer seeing the already-compressed layers before it.
#include <QtTest/QtTest>

#include "model_test_support.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/model_compression.hpp"

using namespace nmscope;
using model_test::expect_error;
using model_test::fixture;

namespace {

ModelCompressionSettings two_four_int4(ModelCriterion criterion) {
  ModelCompressionSettings settings;
  settings.pattern = NMPattern::parse("2:4");
  settings.quant.bits = 4;
  settings.quant.group = 32;
  settings.criterion = criterion;
  return settings;
}

}  // namespace

class TestModelCompression : public QObject {
  Q_OBJECT

 private slots:
  void magnitude_packs_every_linear_layer() {
    const auto model = Model::open(fixture("tiny_llama"));
    const auto settings = two_four_int4(ModelCriterion::Magnitude);
    const CompressedModel compressed = compress_model(*model, settings, nullptr);
    QCOMPARE(compressed.layers().size(), model->linear_layers().size());
    int64_t expected_bytes = 0;
    for (const ModelTensor* layer : model->linear_layers()) {
      const auto& packed = compressed.layers().at(layer->info.name).packed;
      expected_bytes += packed_storage_bytes(layer->info.rows(), layer->info.cols(), settings.pattern, settings.quant);
      const MatrixF weights = dequantize(packed);
      for (Eigen::Index row = 0; row < weights.rows(); ++row)
        for (Eigen::Index group = 0; group < weights.cols() / 4; ++group)
          QVERIFY((weights.row(row).segment(group * 4, 4).array() != 0.0f).count() <= 2);
    }
    QCOMPARE(compressed.storage_bytes(), expected_bytes);
    QVERIFY(compressed.layers().count("lm_head.weight") == 0);  // the head is excluded

    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    const MatrixF dense = run_forward(*model, tokens);
    const MatrixF sparse = run_forward(*model, tokens, compressed.hooks());
    const double error = model_test::relative_error(sparse, dense);
    QVERIFY2(error > 1e-3 && error < 2.0, QByteArray::number(error));
  }

  void fp16_dense_stays_close_to_fp32() {
    const auto model = Model::open(fixture("tiny_llama"));
    ModelCompressionSettings settings;
    settings.quant.bits = 16;
    const CompressedModel compressed = compress_model(*model, settings, nullptr);
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    const double error =
        model_test::relative_error(run_forward(*model, tokens, compressed.hooks()), run_forward(*model, tokens));
    QVERIFY2(error > 0 && error < 1e-2, QByteArray::number(error));
  }

  void wanda_needs_calibration() {
    const auto model = Model::open(fixture("tiny_llama"));
    expect_error([&] { compress_model(*model, two_four_int4(ModelCriterion::Wanda), nullptr); },
                 "calibration tokens: wanda + rtn needs calibration token ids");
  }

  void wanda_calibrates_each_layer_on_compressed_predecessors() {
    const auto model = Model::open(fixture("tiny_llama"));
    const auto settings = two_four_int4(ModelCriterion::Wanda);
    const TokenIds calibration = builtin_token_ids(model->config().vocab, 4, 16);
    const CompressedModel compressed = compress_model(*model, settings, &calibration);
    QCOMPARE(compressed.layers().size(), std::size_t{14});

    // Recompute block 1's q projection by hand: its inputs come from a forward through the compressed block 0.
    const ModelTensor& target = model->at(1, "self_attn.q_proj.weight");
    MatrixF captured;
    ForwardHooks hooks = compressed.hooks();
    hooks.on_linear_input = [&](const ModelTensor& layer, const MatrixF& inputs) {
      if (&layer == &target) captured = inputs;
    };
    run_forward(*model, calibration, hooks);
    QCOMPARE(captured.rows(), Eigen::Index{64});
    const MatrixF weights = model->load(target);
    const VectorF norms = activation_column_norms(captured);
    const PackedMatrix expected =
        compress(weights, select_nm(weights, settings.pattern, PruningCriterion::Wanda, &norms), settings.quant);
    const PackedMatrix& actual = compressed.layers().at(target.info.name).packed;
    QVERIFY(actual.metadata == expected.metadata);
    QVERIFY(actual.values == expected.values);
    // And wanda's masks are not magnitude's: the activations changed the choice somewhere.
    const CompressedModel magnitude = compress_model(*model, two_four_int4(ModelCriterion::Magnitude), nullptr);
    QVERIFY(magnitude.layers().at(target.info.name).packed.metadata != actual.metadata);
  }
};

QTEST_GUILESS_MAIN(TestModelCompression)
#include "test_model_compression.moc"
