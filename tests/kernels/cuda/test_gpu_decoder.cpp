// The decoder step (gpu_decoder.hpp) on the tiny shape (hidden 256, 2 blocks, 4 query heads over 2
// key/value heads): every linear-layer variant's logits against the baseline path over the same compressed weights,
// the baseline path against a CPU double-precision step written independently of the CUDA kernels (RoPE, GQA over
// the KV cache, SwiGLU), and a request too large for the GPU. Skips where there is no GPU (CI).
#include <QtTest>
#include <cmath>

#include "decode/gpu/gpu_tiles.hpp"
#include "decoder_reference.hpp"
#include "nmscope/gpu_decode.hpp"
#include "nmscope/kernels/cuda/gpu_runtime.hpp"

using namespace nmscope;
namespace gpu = kernels::cuda;

namespace {

// fp16 activations between the layers (both paths), fp16 linear outputs for cuSPARSELt, different summation orders.
constexpr double kVariantLimit = 1e-2;
constexpr double kCpuLimit = 1e-2;

double relative_error(const std::vector<float>& got, const std::vector<double>& expected) {
  double error = 0, norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    error += (double(got[i]) - expected[i]) * (double(got[i]) - expected[i]);
    norm += expected[i] * expected[i];
  }
  return std::sqrt(error / norm);
}

std::vector<double> widen(const std::vector<float>& values) { return {values.begin(), values.end()}; }

DecodeTiming quick_timing() {
  DecodeTiming timing;
  timing.warmup = 1;
  timing.min_repetitions = 2;
  timing.max_repetitions = 3;
  timing.target_seconds = 0.01;
  return timing;
}

}  // namespace

#define SKIP_WITHOUT_GPU()                                                                        \
  do {                                                                                            \
    const auto& status = gpu::device_status();                                                    \
    if (!status.available) QSKIP(qPrintable("no GPU: " + QString::fromStdString(status.reason))); \
  } while (false)

class TestGpuDecoder final : public QObject {
  Q_OBJECT

 private slots:
  void every_variant_matches_its_reference_path_data() {
    QTest::addColumn<QString>("engine");
    for (const char* engine : {"gpu/cublas-fp16-dense", "gpu/cusparselt-fp16-2:4", "gpu/int4-dense", "gpu/int4-2:4",
                               "gpu/int8-2:4", "gpu/int2-2:4", "gpu/int4-4:8", "gpu/int4-1:4", "gpu/int8-dense"})
      QTest::newRow(engine) << QString(engine);
  }
  void every_variant_matches_its_reference_path() {
    SKIP_WITHOUT_GPU();
    QFETCH(QString, engine);
    const DecodeVariant variant = DecodeVariant::parse(engine.toStdString());
    if (variant.kind == LinearKind::CusparseltFp16 && !gpu::cusparselt_status().available)
      QSKIP(qPrintable(QString::fromStdString(gpu::cusparselt_status().reason)));
    const DecoderShape shape = DecoderShape::tiny();
    DecoderWeights reference;
    const DecoderWeights weights = build_decoder_weights(shape, variant, 3, &reference);
    // Batches through the direct (1, 5) and tiled (40) kernels; contexts of one and of several attention splits.
    const std::vector<DecodeCase> cases = {{1, 100}, {5, 37}, {40, 300}};
    const auto runs = run_decoder(weights, cases, quick_timing());
    const auto expected = run_decoder(reference, cases, quick_timing());
    for (size_t index = 0; index < cases.size(); ++index) {
      QVERIFY2(runs[index].ok, runs[index].error.c_str());
      QVERIFY2(expected[index].ok, expected[index].error.c_str());
      const double error = relative_error(runs[index].logits, widen(expected[index].logits));
      qInfo("%s batch %lld context %lld: relative error %.2e vs cuBLAS over W_hat; %s", qPrintable(engine),
            (long long)cases[index].batch, (long long)cases[index].context, error, runs[index].config.c_str());
      QVERIFY2(error < kVariantLimit, qPrintable(QString("relative error %1").arg(error)));
      QVERIFY(runs[index].step_ms > 0 && runs[index].weight_bytes > 0);
    }
  }

  void baseline_path_matches_the_cpu_double_step() {
    SKIP_WITHOUT_GPU();
    const DecoderShape shape = DecoderShape::tiny();
    DecoderWeights reference;
    const DecoderWeights weights = build_decoder_weights(shape, DecodeVariant::parse("gpu/int4-2:4"), 5, &reference);
    for (const DecodeCase one : {DecodeCase{1, 64}, DecodeCase{3, 129}}) {
      const std::vector<double> cpu = test::decoder_step_reference(reference, one.batch, one.context);
      const auto baseline = run_decoder(reference, {one}, quick_timing());
      const auto packed = run_decoder(weights, {one}, quick_timing());
      QVERIFY2(baseline[0].ok, baseline[0].error.c_str());
      QVERIFY2(packed[0].ok, packed[0].error.c_str());
      const double baseline_error = relative_error(baseline[0].logits, cpu);
      const double packed_error = relative_error(packed[0].logits, cpu);
      qInfo("batch %lld context %lld: cuBLAS path %.2e, int4-2:4 %.2e against the CPU double step",
            (long long)one.batch, (long long)one.context, baseline_error, packed_error);
      QVERIFY2(baseline_error < kCpuLimit, qPrintable(QString("baseline %1").arg(baseline_error)));
      QVERIFY2(packed_error < kCpuLimit, qPrintable(QString("int4-2:4 %1").arg(packed_error)));
    }
  }

  // The int4 model stores its embedding table as 4-bit codes + group-128 scales (docs/packed-format.md,
  // "Token-embedding tables"); the cuBLAS reference path reads the same table decoded (fp16), and both count every
  // byte they hold.
  void int4_path_reads_the_same_dequantized_embedding_and_counts_every_byte() {
    SKIP_WITHOUT_GPU();
    const DecoderShape shape = DecoderShape::tiny();
    DecoderWeights reference;
    const DecoderWeights weights = build_decoder_weights(shape, DecodeVariant::parse("gpu/int4-2:4"), 11, &reference);
    QVERIFY(weights.embedding.quantized && !reference.embedding.quantized && !reference.embedding.dense.empty());
    const std::vector<DecodeCase> cases = {{2, 50}};
    const auto runs = run_decoder(weights, cases, quick_timing());
    const auto expected = run_decoder(reference, cases, quick_timing());
    QVERIFY2(runs[0].ok, runs[0].error.c_str());
    QVERIFY2(expected[0].ok, expected[0].error.c_str());
    const double error = relative_error(runs[0].logits, widen(expected[0].logits));
    QVERIFY2(error < kVariantLimit, qPrintable(QString("relative error %1").arg(error)));
    int64_t linear = 0;
    for (int role = 0; role < kLinearRoles; ++role)
      linear += weights.linears[size_t(role)].tiles->layout.storage_bytes() *
                (role == int(LinearRole::Head) ? 1 : shape.blocks);
    const int64_t gains = (2 * shape.blocks + 1) * shape.hidden * 2;
    QCOMPARE(runs[0].linear_bytes, linear);
    QCOMPARE(runs[0].weight_bytes, linear + shape.vocab * (shape.hidden / 2 + 2 * 2) + gains);
    QCOMPARE(expected[0].weight_bytes, expected[0].linear_bytes + shape.vocab * shape.hidden * 2 + gains);
    qInfo("int4-2:4 %lld B (embedding %lld B) against the reference path's %lld B; relative error %.2e",
          (long long)runs[0].weight_bytes, (long long)weights.embedding.storage_bytes(shape),
          (long long)expected[0].weight_bytes, error);
  }

  // The int8 KV cache (docs/gpu-kernels.md, "int8 KV cache"): the same synthetic contents quantized per row, the new
  // token quantized as appended. Its logits stay within 5e-2 of the fp16 cache's (int8 rows carry about 0.4 % per
  // value; attention averages it), on the packed path and the cuBLAS one, at one and several attention splits; the
  // step reads (head_dim + 4) / (2 head_dim) of the fp16 cache's bytes.
  void int8_kv_cache_stays_close_to_the_fp16_cache() {
    SKIP_WITHOUT_GPU();
    const DecoderShape shape = DecoderShape::tiny();
    DecoderWeights reference;
    const DecoderWeights weights = build_decoder_weights(shape, DecodeVariant::parse("gpu/int4-2:4"), 13, &reference);
    for (const DecoderWeights* path : std::initializer_list<const DecoderWeights*>{&weights, &reference}) {
      const std::vector<DecodeCase> fp16 = {{1, 100}, {5, 37}, {40, 300}};
      std::vector<DecodeCase> int8 = fp16;
      for (DecodeCase& one : int8) one.kv_cache = KvCache::Int8;
      const auto exact = run_decoder(*path, fp16, quick_timing());
      const auto quantized = run_decoder(*path, int8, quick_timing());
      for (size_t index = 0; index < fp16.size(); ++index) {
        QVERIFY2(exact[index].ok, exact[index].error.c_str());
        QVERIFY2(quantized[index].ok, quantized[index].error.c_str());
        QVERIFY(quantized[index].kv_cache == KvCache::Int8);
        const double error = relative_error(quantized[index].logits, widen(exact[index].logits));
        qInfo("%s batch %lld context %lld: int8 KV cache %.2e from the fp16 cache's logits; %s",
              path == &weights ? "int4-2:4" : "cuBLAS", (long long)fp16[index].batch, (long long)fp16[index].context,
              error, quantized[index].config.c_str());
        QVERIFY2(error > 0 && error < 5e-2, qPrintable(QString("relative error %1").arg(error)));
        QCOMPARE(quantized[index].kv_bytes_read * 2 * shape.head_dim,
                 exact[index].kv_bytes_read * (shape.head_dim + 4));
      }
    }
  }

  // A sliding window (mistral) on the synthetic step: the new token attends over the last 50 positions only.
  void sliding_window_matches_the_cpu_double_step() {
    SKIP_WITHOUT_GPU();
    DecoderWeights reference;
    build_decoder_weights(DecoderShape::tiny(), DecodeVariant::parse("gpu/int4-dense"), 13, &reference);
    reference.shape.sliding_window = 50;
    const DecodeCase one{3, 129};
    const std::vector<double> cpu = test::decoder_step_reference(reference, one.batch, one.context);
    const auto run = run_decoder(reference, {one}, quick_timing());
    QVERIFY2(run[0].ok, run[0].error.c_str());
    const double error = relative_error(run[0].logits, cpu);
    qInfo("window 50 at context 129: %.2e against the CPU double step", error);
    QVERIFY2(error < kCpuLimit, qPrintable(QString("relative error %1").arg(error)));
  }

  void too_large_a_request_runs_nothing() {
    SKIP_WITHOUT_GPU();
    DecodeStudyOptions options;
    options.shape = nmscope::decoder_preset("llama-7b");
    options.engines = {"gpu/int4-2:4"};
    options.batches = {64};
    options.context = 65536;  // 64 x 65537 tokens x 512 KiB of KV cache: ~2.2 TB
    const std::vector<DecodeRow> rows = run_decode_study(options);
    QCOMPARE(int(rows.size()), 2);
    for (const DecodeRow& row : rows) {
      QCOMPARE(QString::fromStdString(row.status), QString("failed"));
      QVERIFY2(
          row.note.find("GB of GPU memory") != std::string::npos && row.note.find("nothing run") != std::string::npos,
          row.note.c_str());
    }
  }
};

QTEST_GUILESS_MAIN(TestGpuDecoder)
#include "test_gpu_decoder.moc"
