// The CPU kernels against their scalar references on random shapes with tails, for every pattern, bit width,
// granularity and symmetry, on every instruction set this machine has.
//
// Named tolerances (relative Frobenius error of y):
//  - kExactDecode: the scalar reference against core's dequantized matrix times x in double: both decode the same
//    way, so only the final fp32 rounding differs.
//  - kSameActivations: a SIMD kernel against nm_gemm_reference_quantized (same int8 activations, same chunk sums,
//    exact in int32): only the fp32 scaling and summation order differ.
//  - kInt8Activations: a SIMD kernel against the fp32-activation reference: int8 activations per 128 columns cost
//    about 0.5 % on N(0,1) inputs; 3 % bounds it for every family here.
//  - kBf16Activations: the bf16 kernel against the fp32-activation reference: bf16 rounds each activation by at most
//    2^-9 of itself, about 0.2 % of y on N(0,1) inputs; 1 % bounds it.
//  - kBf16PairActivations: the same with a bf16 pair (high + low, 2^-17 of each activation): fp32 summation is
//    what is left; 1e-4 bounds it.
//  - kFp32Activations: the fp32 kernel against the dequantized product in double: each product s_w * w * x rounded
//    once and fp32 sums over up to 1000 columns (about 1e-6); 1e-5 bounds it.
//  - kSameBf16Activations: the AMX bf16 kernel against nm_gemm_reference_bf16 (same bf16 activations, exact weights,
//    double): the tile unit's products are exact, its fp32 sums over 128 columns and the fp32 scaling are what
//    differ (about 1e-6); 1e-5 bounds it.
#include <QtTest>
#include <random>

#include "nmscope/kernels/nm_gemm.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/packed_matrix.hpp"
#include "quant/kernel_view.hpp"

using namespace nmscope;
using namespace nmscope::kernels;

namespace {

constexpr double kExactDecode = 1e-6;
constexpr double kSameActivations = 2e-6;
constexpr double kInt8Activations = 3e-2;
constexpr double kBf16Activations = 1e-2;
constexpr double kBf16PairActivations = 1e-4;
constexpr double kFp32Activations = 1e-5;
constexpr double kSameBf16Activations = 1e-5;

MatrixF random_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal;
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(engine);
  return matrix;
}

double relative(const MatrixF& approx, const MatrixF& exact) {
  const double norm = exact.cast<double>().norm();
  return (approx.cast<double>() - exact.cast<double>()).norm() / (norm > 0 ? norm : 1.0);
}

}  // namespace

class TestNMGemm final : public QObject {
  Q_OBJECT

 private slots:
  void kernels_match_their_references_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("group");  // 0: per channel, -1: per tensor
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("batch");
    const char* patterns[] = {"dense", "2:4", "1:4", "4:8", "2:8", "1:8", "3:4", "3:7", "1:16", "8:32"};
    int index = 0;
    for (const char* pattern : patterns)
      for (int bits : {2, 3, 4, 8})
        for (int group : {128, 256, 0, -1, 64})
          for (bool symmetric : {true, false}) {
            const int cols = (index % 3 == 0) ? 256 : (index % 3 == 1 ? 300 : 1000);  // tails past 128 and M
            const int batches[] = {1, 3, 5, 7, 8, 17};                                // 8 and up: the row-block path
            const int batch = batches[index % 6];
            ++index;
            QTest::newRow(qPrintable(QString("%1 b%2 g%3 %4 K%5 B%6").arg(pattern).arg(bits).arg(group)
                                         .arg(symmetric ? "sym" : "asym").arg(cols).arg(batch)))
                << pattern << bits << group << symmetric << cols << batch;
          }
  }

  void kernels_match_their_references() {
    QFETCH(QString, pattern);
    QFETCH(int, bits);
    QFETCH(int, group);
    QFETCH(bool, symmetric);
    QFETCH(int, cols);
    QFETCH(int, batch);
    const int rows = 13;
    const MatrixF weights = random_matrix(rows, cols, unsigned(bits * 7 + cols));
    const MatrixF x = random_matrix(batch, cols, 99);
    QuantConfig quant;
    quant.bits = bits;
    quant.symmetric = symmetric;
    quant.granularity = group > 0 ? Granularity::Group : (group == 0 ? Granularity::Channel : Granularity::Tensor);
    quant.group = group > 0 ? group : 128;
    const PackedMatrix packed =
        compress(weights, select_nm(weights, NMPattern::parse(pattern.toStdString()), PruningCriterion::Magnitude), quant);
    const PackedWeightsView view = kernel_view(packed);

    // The reference equals the dequantized product.
    MatrixF reference(batch, rows);
    nm_gemm_reference(view, x.data(), batch, 0, rows, reference.data());
    const MatrixD exact = reference_product(x, dequantize(packed));
    QVERIFY2(relative_error(exact, reference) < kExactDecode, "reference differs from the dequantized product");

    QuantizedActivations quantized;
    quantize_activations(x.data(), batch, cols, quantized);
    MatrixF same_activations(batch, rows);
    nm_gemm_reference_quantized(view, quantized, 0, rows, same_activations.data());
    QVERIFY(relative(same_activations, reference) < kInt8Activations);

    for (Isa isa : {Isa::Avx512Vnni, Isa::Avx2}) {
      if (!simd_supports(isa, view)) continue;
      MatrixF simd = MatrixF::Constant(batch, rows, NAN);
      // Two row ranges: kernels must write exactly their rows.
      nm_gemm_simd(isa, view, quantized, 0, 5, simd.data());
      nm_gemm_simd(isa, view, quantized, 5, rows, simd.data());
      QVERIFY2(simd.allFinite(), qPrintable(QString::fromStdString(isa_name(isa)) + " left rows unwritten"));
      const double against_same = relative(simd, same_activations);
      QVERIFY2(against_same < kSameActivations,
               qPrintable(QString("%1: %2 against the same-activation reference").arg(QString::fromStdString(isa_name(isa))).arg(against_same)));
      QVERIFY(relative(simd, reference) < kInt8Activations);
    }

    if (bf16_kernel_supports(view)) {
      Bf16Activations rounded;
      round_activations_to_bf16(x.data(), batch, cols, rounded);
      MatrixF same_rounding(batch, rows);
      nm_gemm_reference_bf16(view, rounded, 0, rows, same_rounding.data());
      MatrixF bf16 = MatrixF::Constant(batch, rows, NAN);
      nm_gemm_bf16(view, rounded, 0, 6, bf16.data());
      nm_gemm_bf16(view, rounded, 6, rows, bf16.data());
      QVERIFY2(bf16.allFinite(), "the bf16 kernel left rows unwritten");
      const double against_same = relative(bf16, same_rounding);
      QVERIFY2(against_same < kSameActivations,
               qPrintable(QString("bf16: %1 against the same-activation reference").arg(against_same)));
      QVERIFY(relative(bf16, reference) < kBf16Activations);

      // A bf16 pair (high + low): 16 significant bits of every activation.
      Bf16Activations pair;
      round_activations_to_bf16(x.data(), batch, cols, pair, true);
      MatrixF same_pair(batch, rows);
      nm_gemm_reference_bf16(view, pair, 0, rows, same_pair.data());
      MatrixF paired = MatrixF::Constant(batch, rows, NAN);
      nm_gemm_bf16(view, pair, 0, 6, paired.data());
      nm_gemm_bf16(view, pair, 6, rows, paired.data());
      QVERIFY(relative(paired, same_pair) < kSameActivations);
      QVERIFY2(relative(paired, reference) < kBf16PairActivations, QByteArray::number(relative(paired, reference)));
    }

    // The fp32 kernels: AVX-512 (dense, 2:4, 4:8) and AVX2 (gathers, every format the AVX2 int8 kernel takes).
    for (Isa isa : {Isa::Avx512Vnni, Isa::Avx2}) {
      const bool runs =
          isa == Isa::Avx512Vnni ? fp32_kernel_isa(view) == Isa::Avx512Vnni : simd_supports(Isa::Avx2, view);
      if (!runs) continue;
      Fp32Activations padded;
      pad_activations(x.data(), batch, cols, padded);
      MatrixF fp32 = MatrixF::Constant(batch, rows, NAN);
      // 0-9: a block of 8 rows (from kRowBlockBatch tokens on) and one row; 9-13: single rows.
      nm_gemm_fp32(view, padded, 0, 9, fp32.data(), isa);
      nm_gemm_fp32(view, padded, 9, rows, fp32.data(), isa);
      QVERIFY2(fp32.allFinite(), "the fp32 kernel left rows unwritten");
      const double error = relative_error(exact, fp32);
      QVERIFY2(error < kFp32Activations, qPrintable(QString("%1-fp32: %2").arg(isa_name(isa).c_str()).arg(error)));
    }
    // The entry point asked for fp32: from kAmxBatch tokens the bf16 pair on AMX tiles where the CPU has them, else the
    // AVX-512 fp32 kernel, else the bf16 pair, else the AVX2 fp32 kernel, else the reference; never int8. It says which
    // ran.
    NmGemmScratch scratch;
    MatrixF entry = MatrixF::Constant(batch, rows, NAN);
    const NmGemmPath path = nm_gemm(view, x.data(), batch, entry.data(), 2, scratch, ActivationPrecision::Fp32);
    const Isa fp32_isa = fp32_kernel_isa(view);
    if (batch >= kAmxBatch && amx_bf16_kernel_supports(view)) {
      QCOMPARE(path.kernel(), std::string("amx-bf16"));
      QCOMPARE(path.activations, ActivationPrecision::Bf16Pair);
    } else if (fp32_isa == Isa::Avx512Vnni) {
      QCOMPARE(path.kernel(), std::string("avx512-fp32"));
    } else if (bf16_kernel_supports(view)) {
      QCOMPARE(path.activations, ActivationPrecision::Bf16Pair);
    } else {
      QCOMPARE(path.activation_text(), std::string("fp32"));
      QCOMPARE(path.kernel(), fp32_isa == Isa::Avx2 ? std::string("avx2-fp32") : std::string("reference"));
    }
    QVERIFY2(relative_error(exact, entry) < kBf16PairActivations, QByteArray::number(relative_error(exact, entry)));
  }

  // bf16 activations are rounded to nearest, ties to even, as the hardware rounds; the path names what ran.
  void bf16_activations_round_to_nearest_even() {
    const float values[] = {
        1.0f, 1.00390625f /* tie: 1 + 2^-8 -> 1 */, 1.01171875f /* tie: 1 + 3 * 2^-8 -> up */, -2.5f, 0.0f, 3.14159f};
    Bf16Activations rounded;
    round_activations_to_bf16(values, 1, 6, rounded);
    QCOMPARE(rounded.padded_cols, int64_t(128));
    QCOMPARE(bf16_bits_to_float(rounded.values[0]), 1.0f);
    QCOMPARE(bf16_bits_to_float(rounded.values[1]), 1.0f);
    QCOMPARE(bf16_bits_to_float(rounded.values[2]), 1.015625f);
    QCOMPARE(bf16_bits_to_float(rounded.values[3]), -2.5f);
    QCOMPARE(bf16_bits_to_float(rounded.values[5]), 3.140625f);
    QCOMPARE(int(rounded.values[100]), 0);  // padding

    const MatrixF weights = random_matrix(8, 256, 3);
    QuantConfig quant;
    quant.bits = 4;
    const PackedMatrix packed =
        compress(weights, select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude), quant);
    const NmGemmPath int8 = nm_gemm_path(kernel_view(packed), ActivationPrecision::Int8);
    QVERIFY(int8.activations == ActivationPrecision::Int8);
    if (int8.isa == Isa::Avx512Vnni) {  // the batch picks the tiling, and the path says which
      QVERIFY(int8.tiling(kRowBlockBatch - 1).find("tiles of up to 8 tokens") != std::string::npos);
      QVERIFY(int8.tiling(kRowBlockBatch).find("blocks of 4 rows") != std::string::npos);
    }
    const NmGemmPath bf16 = nm_gemm_path(kernel_view(packed), ActivationPrecision::Bf16);
    if (bf16_kernel_supports(kernel_view(packed))) {
      QCOMPARE(bf16.kernel(), std::string("avx512-bf16"));
      QCOMPARE(bf16.activation_text(), std::string("bf16"));
    } else {
      QVERIFY(bf16.activations == ActivationPrecision::Int8);  // falls back, and says so
    }
  }

  // The entry point climbs down the ladder per format: 3:4 (96 slots per 128-column chunk, more than AVX-512's 64)
  // runs on AVX2 rather than falling to the scalar reference; 3:7 (7 does not divide 128) runs on the reference.
  // Its output is the chosen kernel's, bit for bit, whatever the thread count.
  void entry_point_takes_the_widest_kernel_that_runs_the_format() {
    const MatrixF weights = random_matrix(37, 384, 5);
    const MatrixF x = random_matrix(3, 384, 6);
    for (const char* pattern : {"2:4", "3:4", "3:7", "dense"}) {
      QuantConfig quant;
      quant.bits = 4;
      const PackedMatrix packed =
          compress(weights, select_nm(weights, NMPattern::parse(pattern), PruningCriterion::Magnitude), quant);
      const PackedWeightsView view = kernel_view(packed);
      const Isa isa = isa_for(view);
      const std::string name = std::string(pattern) + " -> " + isa_name(isa);
      if (std::string(pattern) == "3:4" && isa_available(Isa::Avx2)) QVERIFY2(isa == Isa::Avx2, name.c_str());
      if (std::string(pattern) == "3:7") QVERIFY2(isa == Isa::Reference, name.c_str());
      if (std::string(pattern) == "2:4" && isa_available(Isa::Avx512Vnni))
        QVERIFY2(isa == Isa::Avx512Vnni, name.c_str());
      MatrixF expected(3, 37);
      if (isa == Isa::Reference) {
        nm_gemm_reference(view, x.data(), 3, 0, 37, expected.data());
      } else {
        QuantizedActivations quantized;
        quantize_activations(x.data(), 3, 384, quantized);
        nm_gemm_simd(isa, view, quantized, 0, 37, expected.data());
      }
      NmGemmScratch scratch;
      for (int threads : {1, 2, 7}) {
        MatrixF y = MatrixF::Constant(3, 37, NAN);
        QCOMPARE(nm_gemm(view, x.data(), 3, y.data(), threads, scratch), isa);
        QVERIFY2(y == expected, name.c_str());
      }
    }
  }

  // column_of is the one slot-to-column decode: the columns it names are exactly the nonzeros of the dequantized row.
  void column_of_names_the_kept_columns() {
    const MatrixF weights = random_matrix(5, 70, 8);  // 70: a tail group of 2 columns padded to 4
    for (const char* pattern : {"2:4", "1:4", "2:8", "dense"}) {
      QuantConfig quant;
      quant.bits = 8;
      const PackedMatrix packed =
          compress(weights, select_nm(weights, NMPattern::parse(pattern), PruningCriterion::Magnitude), quant);
      const PackedWeightsView view = kernel_view(packed);
      const MatrixF dense = dequantize(packed);
      for (int64_t row = 0; row < view.rows; ++row) {
        std::vector<bool> named(size_t(view.cols), false);
        for (int64_t slot = 0; slot < view.slots_per_row; ++slot) {
          const int64_t column = view.column_of(row, slot);
          QVERIFY(view.position_of(row, slot) < view.group_size);
          if (column < view.cols) named[size_t(column)] = true;
        }
        for (int64_t column = 0; column < view.cols; ++column)
          if (dense(row, column) != 0) QVERIFY2(named[size_t(column)], pattern);
      }
    }
  }

  void fast_paths_cover_the_common_formats() {
    // What the engines promise: 2:4, 1:4, 4:8, 2:8 and dense at 2/3/4/8 bits with g128 run on the SIMD kernel.
    if (!isa_available(Isa::Avx512Vnni) && !isa_available(Isa::Avx2)) QSKIP("no SIMD kernel on this CPU");
    const Isa isa = best_isa();
    const MatrixF weights = random_matrix(4, 256, 1);
    for (const char* pattern : {"dense", "2:4", "1:4", "4:8", "2:8"})
      for (int bits : {2, 3, 4, 8}) {
        QuantConfig quant;
        quant.bits = bits;
        const PackedMatrix packed =
            compress(weights, select_nm(weights, NMPattern::parse(pattern), PruningCriterion::Magnitude), quant);
        QVERIFY2(simd_supports(isa, kernel_view(packed)), pattern);
      }
  }

  void activation_quantization_is_per_128_columns() {
    MatrixF x = MatrixF::Zero(2, 200);
    x(0, 3) = 2.0f;
    x(0, 150) = -0.5f;
    QuantizedActivations quantized;
    quantize_activations(x.data(), 2, 200, quantized);
    QCOMPARE(quantized.padded_cols, int64_t(256));
    QCOMPARE(quantized.scales[0], 2.0f / 127.0f);
    QCOMPARE(quantized.scales[1], 0.5f / 127.0f);
    QCOMPARE(quantized.scales[2], 0.0f);  // an all-zero block
    QCOMPARE(int(quantized.values[3]), 127 + 128);
    QCOMPARE(int(quantized.values[150]), -127 + 128);
    QCOMPARE(int(quantized.values[210]), 128);  // padding encodes 0
    QCOMPARE(quantized.row_stride, int64_t(256 + 64));
    QCOMPARE(int(quantized.values[size_t(quantized.row_stride + 3)]), 128);  // token 1 is all zeros

    // Whichever implementation runs (AVX-512 where present), every byte and scale is the formula's: s = absmax / 127,
    // q = nearbyint(x * (1 / s)) clamped to +-127, on random rows with a tail block and an exact tie.
    MatrixF random = random_matrix(5, 300, 21);
    random(2, 8) = 127.0f;  // block 0 of token 2: scale 1, so
    random(2, 7) = 2.5f;    // an exact tie (to even: 2)
    QuantizedActivations fast;
    quantize_activations(random.data(), 5, 300, fast);
    for (int64_t token = 0; token < 5; ++token)
      for (int64_t block = 0; block < 3; ++block) {
        const int64_t last = std::min<int64_t>(300, (block + 1) * 128);
        float absmax = 0;
        for (int64_t col = block * 128; col < last; ++col) absmax = std::max(absmax, std::fabs(random(token, col)));
        const float scale = absmax / 127.0f;
        QCOMPARE(fast.scales[size_t(token * 3 + block)], scale);
        for (int64_t col = block * 128; col < last; ++col) {
          const int expected =
              int(std::clamp(std::nearbyint(random(token, col) * (1.0f / scale)), -127.0f, 127.0f)) + 128;
          QCOMPARE(int(fast.values[size_t(token * fast.row_stride + col)]), expected);
        }
      }
  }

  // The AMX kernel against the same-activation reference, on every format the VNNI decoder takes: 37 rows (two blocks
  // of 16, five rows left to the VNNI kernel), tails past 128 columns, 8 / 12 / 16 / 17 / 40 tokens (partial tiles at
  // the int8 thresholds, one tile, a padded second, three). Its tile products run emulated on every AVX-512 VNNI + VBMI
  // CPU, and on the tiles where the CPU has AMX-INT8 (the emulation is TDPBSSD's definition, so both must agree with
  // the reference).
  void amx_kernel_matches_the_same_activation_reference_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("symmetric");
    int index = 0;
    for (const char* pattern : {"dense", "2:4", "1:4", "4:8", "2:8", "1:8", "8:32"})
      for (int bits : {2, 4, 8})
        for (int group : {128, 256, 0}) {
          const bool symmetric = bits == 8 || index % 2 == 0;  // 8-bit codes with a zero point leave int8
          ++index;
          QTest::newRow(
              qPrintable(QString("%1 b%2 g%3 %4").arg(pattern).arg(bits).arg(group).arg(symmetric ? "sym" : "asym")))
              << pattern << bits << group << symmetric;
        }
  }

  void amx_kernel_matches_the_same_activation_reference() {
    QFETCH(QString, pattern);
    QFETCH(int, bits);
    QFETCH(int, group);
    QFETCH(bool, symmetric);
    if (!isa_available(Isa::Avx512Vnni)) QSKIP("the AMX kernel decodes with AVX-512 VNNI + VBMI, which this CPU lacks");
    const int rows = 37;
    const int cols = 1000;
    const MatrixF weights = random_matrix(rows, cols, unsigned(bits * 11 + group));
    QuantConfig quant;
    quant.bits = bits;
    quant.symmetric = symmetric;
    quant.granularity = group > 0 ? Granularity::Group : Granularity::Channel;
    quant.group = group > 0 ? group : 128;
    const PackedMatrix packed = compress(
        weights, select_nm(weights, NMPattern::parse(pattern.toStdString()), PruningCriterion::Magnitude), quant);
    const PackedWeightsView view = kernel_view(packed);
    QVERIFY(simd_supports(Isa::Avx512Vnni, view));
    for (int batch : {8, 12, 16, 17, 40}) {
      const MatrixF x = random_matrix(batch, cols, unsigned(batch));
      QuantizedActivations quantized;
      quantize_activations(x.data(), batch, cols, quantized);
      TokenTiles tiles;
      arrange_token_tiles(quantized, tiles);
      QCOMPARE(tiles.token_tiles, int64_t((batch + 15) / 16));
      MatrixF expected(batch, rows);
      nm_gemm_reference_quantized(view, quantized, 0, rows, expected.data());
      for (bool emulated : {true, false}) {
        if (!emulated && !amx_kernel_supports(view)) continue;
        MatrixF y = MatrixF::Constant(batch, rows, NAN);
        nm_gemm_amx(view, quantized, tiles, 0, 21, y.data(), emulated);  // a block of 16, then 5 rows on VNNI
        nm_gemm_amx(view, quantized, tiles, 21, rows, y.data(), emulated);
        QVERIFY2(y.allFinite(), "rows left unwritten");
        const double error = relative(y, expected);
        QVERIFY2(
            error < kSameActivations,
            qPrintable(QString("%1 tiles, batch %2: %3").arg(emulated ? "emulated" : "AMX").arg(batch).arg(error)));
      }
      // The entry point takes the tiles from amx_int8_batch tokens on where the CPU has them, and says so.
      const NmGemmPath path = nm_gemm_path(view, ActivationPrecision::Int8, batch);
      const bool tiles_pay = amx_kernel_supports(view) && batch >= amx_int8_batch(view);
      QCOMPARE(path.kernel(), std::string(tiles_pay ? "amx-int8" : "avx512-vnni-vbmi"));

      // bf16 tiles, with bf16 activations and with a pair, against the bf16 reference over the same activations.
      if (bf16_kernel_supports(view)) {
        for (bool pair : {false, true}) {
          Bf16Activations rounded;
          round_activations_to_bf16(x.data(), batch, cols, rounded, pair);
          Bf16TokenTiles bf16_tiles;
          arrange_bf16_token_tiles(rounded, bf16_tiles);
          MatrixF bf16_expected(batch, rows);
          nm_gemm_reference_bf16(view, rounded, 0, rows, bf16_expected.data());
          for (bool emulated : {true, false}) {
            if (!emulated && !amx_bf16_kernel_supports(view)) continue;
            MatrixF y = MatrixF::Constant(batch, rows, NAN);
            nm_gemm_amx_bf16(view, rounded, bf16_tiles, 0, 21, y.data(), emulated);  // 16 rows on tiles, 5 on AVX-512
            nm_gemm_amx_bf16(view, rounded, bf16_tiles, 21, rows, y.data(), emulated);
            QVERIFY2(y.allFinite(), "rows left unwritten");
            const double error = relative(y, bf16_expected);
            QVERIFY2(error < kSameBf16Activations, qPrintable(QString("%1 bf16 tiles%2, batch %3: %4")
                                                                  .arg(emulated ? "emulated" : "AMX")
                                                                  .arg(pair ? " (pair)" : "")
                                                                  .arg(batch)
                                                                  .arg(error)));
          }
        }
        // fp32 asked for takes the bf16 pair on the tiles where the CPU has them; the entry point's product is the
        // reference's to the pair's precision.
        const NmGemmPath fp32 = nm_gemm_path(view, ActivationPrecision::Fp32, batch);
        if (batch >= kAmxBatch && amx_bf16_kernel_supports(view)) {
          QCOMPARE(fp32.kernel(), std::string("amx-bf16"));
          QVERIFY(fp32.activations == ActivationPrecision::Bf16Pair);
          QVERIFY(fp32.tiling(batch).find("bf16 tiles") != std::string::npos);
          QVERIFY(!tiles_pay || path.tiling(batch).find("int8 tiles") != std::string::npos);
          MatrixF exact(batch, rows);
          nm_gemm_reference(view, x.data(), batch, 0, rows, exact.data());
          NmGemmScratch fp32_scratch;
          MatrixF y = MatrixF::Constant(batch, rows, NAN);
          QVERIFY(nm_gemm(view, x.data(), batch, y.data(), 2, fp32_scratch, ActivationPrecision::Fp32).amx);
          QVERIFY(relative(y, exact) < kBf16PairActivations);
        }
      }
      NmGemmScratch scratch;
      MatrixF y = MatrixF::Constant(batch, rows, NAN);
      nm_gemm(view, x.data(), batch, y.data(), 2, scratch);
      QVERIFY(relative(y, expected) < kSameActivations);
    }
    QVERIFY(!nm_gemm_path(view, ActivationPrecision::Int8, amx_int8_batch(view) - 1).amx);
    QVERIFY(!nm_gemm_path(view, ActivationPrecision::Fp32, kAmxBatch - 1).amx);
  }
};

QTEST_APPLESS_MAIN(TestNMGemm)
#include "test_nm_gemm.moc"
