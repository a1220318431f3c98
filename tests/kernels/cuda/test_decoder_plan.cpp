// The decoder step's host side, in every CI run (no GPU): the LLaMA-7B shape, the engine names decode accepts, the
// memory bill that refuses a request too large before anything is built, and the compressed weights handed to the
// GPU (their tiles decode to exactly the reference path's W_hat).
#include <QtTest>
#include <cmath>

#include "decoder_reference.hpp"
#include "nmscope/error.hpp"
#include "nmscope/gpu_decode.hpp"

using namespace nmscope;
namespace gpu = kernels::cuda;

class TestDecoderPlan final : public QObject {
  Q_OBJECT

 private slots:
  void llama_7b_shape() {
    const gpu::DecoderShape shape = decoder_preset("llama-7b");
    QCOMPARE(shape.hidden, int64_t(4096));
    QCOMPARE(shape.intermediate, int64_t(11008));
    QCOMPARE(shape.blocks, int64_t(32));
    QCOMPARE(shape.heads * shape.head_dim, shape.hidden);
    QCOMPARE(shape.vocab, int64_t(32000));
    QCOMPARE(shape.qkv_rows(), int64_t(3 * 4096));
    QVERIFY(shape.unsupported_reason().empty());
    QVERIFY(gpu::DecoderShape::tiny().unsupported_reason().empty());
    gpu::DecoderShape odd = shape;
    odd.kv_heads = 5;
    QVERIFY(!odd.unsupported_reason().empty());
    QVERIFY_THROWS_EXCEPTION(Error, decoder_preset("gpt-9"));
  }

  void engine_names() {
    QVERIFY(DecodeVariant::parse("gpu/cublas-fp16-dense").kind == gpu::LinearKind::CublasFp16);
    QVERIFY(DecodeVariant::parse("gpu/cusparselt-fp16-2:4").kind == gpu::LinearKind::CusparseltFp16);
    const DecodeVariant int4 = DecodeVariant::parse("gpu/int4-2:4");
    QVERIFY(int4.kind == gpu::LinearKind::Packed && int4.bits == 4 && int4.pattern == (NMPattern{2, 4}));
    QVERIFY(DecodeVariant::parse("gpu/int8-dense").pattern.is_dense());
    QCOMPARE(DecodeVariant::parse("gpu/int2-1:8").pattern.group_size, 8);
    for (const char* bad : {"gpu/int5-2:4", "gpu/fp8-2:4", "cpu/int4-2:4", "gpu/int4-9:4", "gpu/int4"})
      QVERIFY_THROWS_EXCEPTION(Error, DecodeVariant::parse(bad));
  }

  // 64 sequences of 65536 tokens: 64 x 65537 x 32 blocks x 2 x 4096 x 2 bytes of cache, ~2.2 TB.
  void memory_bill() {
    const gpu::DecoderShape shape = gpu::DecoderShape::llama_7b();
    const std::vector<int64_t> fp16(gpu::kLinearRoles, 0);
    const int64_t small = gpu::decoder_required_bytes(shape, fp16, {1, 512});
    const int64_t huge = gpu::decoder_required_bytes(shape, fp16, {64, 65536});
    QVERIFY(huge > int64_t(2) * 1000 * 1000 * 1000 * 1000);
    QVERIFY(small < int64_t(2) * 1000 * 1000 * 1000);  // embeddings, a 0.27 GB cache, activations, workspaces
  }

  void compressed_weights_decode_to_the_reference() {
    const gpu::DecoderShape shape = gpu::DecoderShape::tiny();
    gpu::DecoderWeights reference;
    const gpu::DecoderWeights weights =
        build_decoder_weights(shape, DecodeVariant::parse("gpu/int4-dense"), 7, &reference);
    QCOMPARE(int(weights.linears.size()), gpu::kLinearRoles);
    for (int role = 0; role < gpu::kLinearRoles; ++role) {
      const gpu::LinearWeights& packed = weights.linears[size_t(role)];
      const gpu::LinearWeights& dense = reference.linears[size_t(role)];
      QVERIFY(packed.kind == gpu::LinearKind::Packed && dense.kind == gpu::LinearKind::CublasFp16);
      QCOMPARE(packed.layout.padded_cols, packed.cols);  // the step's activations need whole chunks
      const std::vector<float> decoded = gpu::gpu_layout_to_dense(packed.layout);
      QVERIFY(decoded == dense.dense);
    }
    // The CPU double step on those weights: finite logits of the right count.
    const std::vector<double> logits = test::decoder_step_reference(reference, 2, 40);
    QCOMPARE(int64_t(logits.size()), 2 * shape.vocab);
    for (double value : logits) QVERIFY(std::isfinite(value));
  }
};

QTEST_GUILESS_MAIN(TestDecoderPlan)
#include "test_decoder_plan.moc"
