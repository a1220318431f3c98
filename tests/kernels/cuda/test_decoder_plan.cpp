// The decoder step's host side, in every CI run (no GPU): the LLaMA-7B shape, the engine names decode accepts, the
// memory bill that refuses a request too large before anything is built, and the compressed weights handed to the
// GPU (their tiles decode to exactly the reference path's W_hat).
#include <QtTest>
#include <cmath>

#include "decode/gpu/gpu_tiles.hpp"
#include "decoder_reference.hpp"
#include "nmscope/cpu_decoder.hpp"
#include "nmscope/embedding_table.hpp"
#include "nmscope/error.hpp"
#include "nmscope/gpu_decode.hpp"
#include "nmscope/half.hpp"
#include "nmscope/model.hpp"
#include "nmscope/model_rollup.hpp"
#include "nmscope/packed_matrix.hpp"

using namespace nmscope;
namespace gpu = kernels::cuda;

class TestDecoderPlan final : public QObject {
  Q_OBJECT

 private slots:
  void llama_7b_shape() {
    const DecoderShape shape = decoder_preset("llama-7b");
    QCOMPARE(shape.hidden, int64_t(4096));
    QCOMPARE(shape.intermediate, int64_t(11008));
    QCOMPARE(shape.blocks, int64_t(32));
    QCOMPARE(shape.heads * shape.head_dim, shape.hidden);
    QCOMPARE(shape.vocab, int64_t(32000));
    QCOMPARE(shape.qkv_rows(), int64_t(3 * 4096));
    QVERIFY(shape.unsupported_reason().empty());
    QVERIFY(DecoderShape::tiny().unsupported_reason().empty());
    DecoderShape odd = shape;
    odd.kv_heads = 5;
    QVERIFY(!odd.unsupported_reason().empty());
    QVERIFY_THROWS_EXCEPTION(Error, decoder_preset("gpt-9"));
  }

  void engine_names() {
    QVERIFY(DecodeVariant::parse("gpu/cublas-fp16-dense").kind == LinearKind::CublasFp16);
    QVERIFY(DecodeVariant::parse("gpu/cusparselt-fp16-2:4").kind == LinearKind::CusparseltFp16);
    const DecodeVariant int4 = DecodeVariant::parse("gpu/int4-2:4");
    QVERIFY(int4.kind == LinearKind::Packed && int4.bits == 4 && int4.pattern == (NMPattern{2, 4}));
    QVERIFY(DecodeVariant::parse("gpu/int8-dense").pattern.is_dense());
    QCOMPARE(DecodeVariant::parse("gpu/int2-1:8").pattern.group_size, 8);
    for (const char* bad : {"gpu/int5-2:4", "gpu/fp8-2:4", "cpu/int4-2:4", "gpu/int4-9:4", "gpu/int4"})
      QVERIFY_THROWS_EXCEPTION(Error, DecodeVariant::parse(bad));
  }

  // 64 sequences of 65536 tokens: 64 x 65537 x 32 blocks x 2 x 4096 x 2 bytes of cache, ~2.2 TB.
  void memory_bill() {
    const DecoderShape shape = nmscope::decoder_preset("llama-7b");
    const std::vector<int64_t> fp16(kLinearRoles, 0);
    const int64_t small = decoder_required_bytes(shape, fp16, {1, 512});
    const int64_t huge = decoder_required_bytes(shape, fp16, {64, 65536});
    QVERIFY(huge > int64_t(2) * 1000 * 1000 * 1000 * 1000);
    QVERIFY(small < int64_t(2) * 1000 * 1000 * 1000);  // embeddings, a 0.27 GB cache, activations, workspaces

    // An int8 KV cache: head_dim codes and one fp32 scale per row against 2 bytes per value, in the bill too.
    QCOMPARE(kv_cache_row_bytes(KvCache::Fp16, 128), int64_t(256));
    QCOMPARE(kv_cache_row_bytes(KvCache::Int8, 128), int64_t(132));
    const int64_t fp16_cache = decoder_required_bytes(shape, fp16, {16, 4096, KvCache::Fp16});
    const int64_t int8_cache = decoder_required_bytes(shape, fp16, {16, 4096, KvCache::Int8});
    const int64_t rows = 2 * shape.blocks * 16 * shape.kv_heads * 4097;
    QCOMPARE(fp16_cache - int8_cache, rows * (256 - 132));
    QCOMPARE(parse_kv_cache("int8"), KvCache::Int8);
    QCOMPARE(std::string(kv_cache_name(parse_kv_cache("fp16"))), std::string("fp16"));
    try {
      parse_kv_cache("int4");
      QFAIL("int4 accepted as a KV cache");
    } catch (const SettingError& error) {
      QCOMPARE(error.setting(), Setting::KvCache);
      QVERIFY(std::string(error.what()).find("fp16 or int8") != std::string::npos);
    }
  }

  void compressed_weights_decode_to_the_reference() {
    const DecoderShape shape = DecoderShape::tiny();
    DecoderWeights reference;
    const DecoderWeights weights = build_decoder_weights(shape, DecodeVariant::parse("gpu/int4-dense"), 7, &reference);
    QCOMPARE(int(weights.linears.size()), kLinearRoles);
    for (int role = 0; role < kLinearRoles; ++role) {
      const LinearWeights& packed = weights.linears[size_t(role)];
      const LinearWeights& dense = reference.linears[size_t(role)];
      QVERIFY(packed.kind == LinearKind::Packed && dense.kind == LinearKind::CublasFp16);
      QCOMPARE(packed.tiles->layout.padded_cols, packed.cols);  // the step's activations need whole chunks
      const std::vector<float> decoded = gpu::gpu_layout_to_dense(packed.tiles->layout);
      QVERIFY(decoded == dense.dense);
    }
    // The embedding table: 4-bit codes + group-128 fp16 scales (docs/packed-format.md, "Token-embedding tables"),
    // 1024 rows of 128 code bytes and 2 scales; the reference path reads exactly the values they decode to.
    const EmbeddingWeights& table = weights.embedding;
    QVERIFY(table.quantized && !reference.embedding.quantized);
    QCOMPARE(table.storage_bytes(shape), int64_t{1024 * (128 + 2 * 2)});
    QCOMPARE(table.storage_bytes(shape), embedding_storage_bytes(shape.vocab, shape.hidden, true));
    QCOMPARE(reference.embedding.storage_bytes(shape), 2 * shape.vocab * shape.hidden);
    QCOMPARE(int64_t(reference.embedding.dense.size()), shape.vocab * shape.hidden);
    for (int64_t row = 0; row < shape.vocab; ++row)
      for (int64_t col = 0; col < shape.hidden; ++col) {
        const int code = (table.codes[size_t(row * shape.hidden / 2 + col / 2)] >> (4 * (col & 1))) & 0xF;
        const float scale = half_bits_to_float(table.scales[size_t(row * 2 + col / 128)]);
        if (reference.embedding.dense[size_t(row * shape.hidden + col)] != float(code - 8) * scale)
          QFAIL(qPrintable(QString("embedding row %1 column %2 decodes differently").arg(row).arg(col)));
      }
    // The fp16 baselines keep the synthetic fp16 table (filled on the device).
    const DecoderWeights fp16 = build_decoder_weights(shape, DecodeVariant::parse("gpu/cublas-fp16-dense"), 7);
    QVERIFY(!fp16.embedding.quantized && fp16.embedding.dense.empty());
    // The CPU double step on those weights: finite logits of the right count.
    const std::vector<double> logits = test::decoder_step_reference(reference, 2, 40);
    QCOMPARE(int64_t(logits.size()), 2 * shape.vocab);
    for (double value : logits) QVERIFY(std::isfinite(value));
  }

  // Issue 9's storage target: the LLaMA-7B 2:4 + INT4 model, everything counted (the linear layers at 3.125 bits
  // per weight, exactly their GPU tiles' bytes; the head likewise; the 4-bit embedding table; fp16 norm gains),
  // at least 5x smaller than fp16.
  void llama_7b_whole_model_is_5x_smaller_than_fp16() {
    const DecoderShape shape = nmscope::decoder_preset("llama-7b");
    const ModelConfig config = decoder_model_config(shape);
    QuantConfig quant;
    quant.bits = 4;
    quant.group = 128;
    const NMPattern pattern{2, 4};
    const int64_t h = shape.hidden, i = shape.intermediate;
    const int64_t block_weights = 4 * h * h + 3 * h * i;
    const int64_t linear =
        shape.blocks * (4 * packed_storage_bytes(h, h, pattern, quant) +
                        2 * packed_storage_bytes(i, h, pattern, quant) + packed_storage_bytes(h, i, pattern, quant));
    QCOMPARE(linear, shape.blocks * block_weights * 3125 / 8000);  // 3.125 bits per weight
    const WholeModelStorage beside = whole_model_storage(config, pattern, quant);
    QCOMPARE(beside.head_bytes, int64_t{32000} * 4096 * 3125 / 8000);
    QCOMPARE(beside.embedding_bytes, int64_t{32000} * (2048 + 2 * 32));
    QCOMPARE(beside.norm_bytes, int64_t{65} * 4096 * 2);
    const int64_t total = linear + beside.head_bytes + beside.embedding_bytes + beside.norm_bytes;
    const int64_t fp16 = 2 * shape.blocks * block_weights + beside.fp16_bytes;
    QCOMPARE(total, int64_t{2649006080});
    QCOMPARE(fp16, int64_t{13476831232});
    const DecoderModelBytes counted = decoder_model_bytes(config, pattern, quant);  // what reproduce reports
    QCOMPARE(counted.bytes, total);
    QCOMPARE(counted.fp16_bytes, fp16);
    const double ratio = double(fp16) / double(total);
    qInfo("LLaMA-7B 2:4 + INT4, everything counted: %lld B against %lld B fp16, %.3fx", (long long)total,
          (long long)fp16, ratio);
    QVERIFY(ratio >= 5.0);
  }

  // A model directory's real weights for the GPU step, loaded as the CPU decoder loads them: every block its own
  // fused q/k/v (qwen2's biases beside them), the sliding window, RoPE scaling, and the same compressed weights and
  // embedding table the CPU decoder's int4-dense reference decodes (dense tiles: the 2:4 tiles need the GPU's
  // metadata probe).
  void model_weights_for_the_gpu_step() {
    for (const std::string name : {"tiny_llama", "tiny_qwen2", "tiny_mistral", "tiny_llama3_rope"}) {
      const auto model = Model::open(std::string(NMSCOPE_MODEL_FIXTURES) + "/" + name);
      const ModelConfig& config = model->config();
      DecoderWeights reference;
      const DecoderWeights weights =
          build_model_decoder_weights(*model, DecodeVariant::parse("gpu/int4-dense"), &reference);
      QVERIFY2(weights.shape.unsupported_reason().empty(), weights.shape.unsupported_reason().c_str());
      QCOMPARE(weights.shape.sliding_window, config.sliding_window);
      QCOMPARE(int64_t(weights.block_linears.size()), 4 * config.blocks);
      QCOMPARE(int64_t(weights.norm_gains.size()), (2 * config.blocks + 1) * config.hidden);
      QCOMPARE(int64_t(weights.rope_inverse_frequencies.size()), config.head_dim / 2);
      QCOMPARE(weights.qkv_bias.empty(), name != "tiny_qwen2");
      for (int64_t block = 0; block < config.blocks; ++block)
        for (int role = 0; role < 4; ++role) {
          const LinearWeights& packed = weights.linear(LinearRole(role), block);
          QVERIFY(gpu::gpu_layout_to_dense(packed.tiles->layout) == reference.linear(LinearRole(role), block).dense);
        }
      QCOMPARE(weights.linear(LinearRole::Qkv, 0).rows, (config.heads + 2 * config.kv_heads) * config.head_dim);
      const CpuDecoder cpu = CpuDecoder::from_model(*model, CpuDecodeVariant::parse("cpu/int4-dense"));
      const MatrixF table = cpu.embeddings().decoded();
      QVERIFY(std::vector<float>(table.data(), table.data() + table.size()) == reference.embedding.dense);
      QCOMPARE(weights.embedding.storage_bytes(weights.shape), cpu.embeddings().storage_bytes());
    }
  }
};

QTEST_GUILESS_MAIN(TestDecoderPlan)
#include "test_decoder_plan.moc"
