// The packed format of docs/packed-format.md: dequantize(compress(W)) equals, bit for bit, an independent scalar
// reference of "prune, then quantize with the conventions of docs/conventions.md"; the byte layout and the storage
// count follow the spec.
#include <QtTest>
#include <cmath>
#include <random>

#include "nmscope/error.hpp"
#include "nmscope/half.hpp"
#include "nmscope/kernels/bit_string.hpp"
#include "nmscope/packed_matrix.hpp"

using namespace nmscope;

namespace {

MatrixF llm_like_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(engine);
  for (int64_t col = 3; col < cols; col += 17) matrix.col(col) *= 25.0f;  // outlier input channels
  return matrix;
}

// Scalar reference, written from the conventions only: mask, then per-scale range of kept weights, fp16 scale,
// codes, and w = (code - z) * scale. It shares nothing with the packer but the fp16 conversion.
MatrixF reference_quantized(const MatrixF& weights, const NMSelection& selection, const QuantConfig& quant) {
  const int64_t rows = weights.rows(), cols = weights.cols();
  MatrixF pruned = MatrixF::Zero(rows, cols);
  std::vector<std::vector<bool>> kept(size_t(rows), std::vector<bool>(size_t(cols), false));
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t slot = 0; slot < selection.slots_per_row(); ++slot) {
      const int64_t col = selection.column(row, slot);
      if (col < cols) {
        kept[size_t(row)][size_t(col)] = true;
        pruned(row, col) = weights(row, col);
      }
    }
  if (quant.bits == 16) {
    for (int64_t index = 0; index < pruned.size(); ++index)
      pruned.data()[index] = half_bits_to_float(float_to_half_bits(pruned.data()[index]));
    return pruned;
  }
  const int64_t group = quant.granularity == Granularity::Group ? quant.group : cols;
  auto quantize_block = [&](const std::vector<std::pair<int64_t, int64_t>>& members) {
    float lo = 0, hi = 0;
    for (auto [row, col] : members) {
      lo = std::min(lo, pruned(row, col));
      hi = std::max(hi, pruned(row, col));
    }
    const int levels = (1 << quant.bits) - 1;
    const double real_scale = quant.symmetric ? std::max(double(hi), -double(lo)) / ((1 << (quant.bits - 1)) - 1)
                                              : (double(hi) - double(lo)) / levels;
    const float scale = half_bits_to_float(float_to_half_bits(float(real_scale)));
    const int zero = quant.symmetric ? (1 << (quant.bits - 1))
                                     : (scale > 0 ? int(std::clamp(std::round(-double(lo) / scale), 0.0, double(levels))) : 0);
    for (auto [row, col] : members) {
      double code = scale > 0 ? std::round(double(pruned(row, col)) / scale) + zero : zero;
      code = std::clamp(code, 0.0, double(levels));
      pruned(row, col) = float(int(code) - zero) * scale;
    }
  };
  if (quant.granularity == Granularity::Tensor) {
    std::vector<std::pair<int64_t, int64_t>> members;
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t col = 0; col < cols; ++col)
        if (kept[size_t(row)][size_t(col)]) members.push_back({row, col});
    quantize_block(members);
    return pruned;
  }
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t first = 0; first < cols; first += group) {
      std::vector<std::pair<int64_t, int64_t>> members;
      for (int64_t col = first; col < std::min(cols, first + group); ++col)
        if (kept[size_t(row)][size_t(col)]) members.push_back({row, col});
      quantize_block(members);
    }
  return pruned;
}

bool bit_equal(const MatrixF& a, const MatrixF& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), size_t(a.size()) * sizeof(float)) == 0;
}

}  // namespace

class TestPackedMatrix final : public QObject {
  Q_OBJECT

 private slots:
  void round_trip_equals_the_scalar_reference_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("granularity");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("cols");
    const char* patterns[] = {"dense", "2:4", "1:4", "4:8", "2:8", "1:8", "3:7", "8:16"};
    const int widths[] = {2, 3, 4, 5, 8, 16};
    int case_index = 0;
    for (const char* pattern : patterns)
      for (int bits : widths)
        for (int granularity = 0; granularity < 3; ++granularity)
          for (bool symmetric : {true, false}) {
            const int cols = 61 + (case_index++ % 5) * 17;  // tails for every M
            const int group = granularity == 2 ? (case_index % 2 ? 32 : 20) : 0;  // 20: groups not aligned to M
            QTest::newRow(qPrintable(QString("%1 b%2 g%3/%4 %5 K%6").arg(pattern).arg(bits).arg(granularity).arg(group)
                                         .arg(symmetric ? "sym" : "asym").arg(cols)))
                << pattern << bits << granularity << group << symmetric << cols;
          }
  }
  void round_trip_equals_the_scalar_reference() {
    QFETCH(QString, pattern);
    QFETCH(int, bits);
    QFETCH(int, granularity);
    QFETCH(int, group);
    QFETCH(bool, symmetric);
    QFETCH(int, cols);
    const MatrixF weights = llm_like_matrix(13, cols, unsigned(bits * 31 + cols));
    const NMSelection selection = select_nm(weights, NMPattern::parse(pattern.toStdString()), PruningCriterion::Magnitude);
    QuantConfig quant;
    quant.bits = bits;
    quant.granularity = granularity == 0 ? Granularity::Tensor : granularity == 1 ? Granularity::Channel : Granularity::Group;
    quant.group = group > 0 ? group : 128;
    quant.symmetric = symmetric;
    const PackedMatrix packed = compress(weights, selection, quant);
    QCOMPARE(packed_storage_bytes(weights.rows(), weights.cols(), selection.pattern, quant), packed.storage_bytes());
    const MatrixF decoded = dequantize(packed);
    QVERIFY(bit_equal(decoded, reference_quantized(weights, selection, quant)));
    // Pruned weights are exactly zero and the metadata gives back the selection.
    const NMSelection unpacked = unpack_selection(packed);
    QCOMPARE(unpacked.kept_positions, selection.kept_positions);
    int64_t nonzero = 0;
    for (int64_t index = 0; index < decoded.size(); ++index) nonzero += decoded.data()[index] != 0.0f;
    QVERIFY(double(nonzero) <= selection.kept_fraction() * double(decoded.size()) + 0.5);
  }

  void storage_is_counted_from_the_buffers_per_the_spec() {
    const MatrixF weights = llm_like_matrix(10, 130, 3);
    QuantConfig quant;  // int4, g128, symmetric
    const PackedMatrix packed = compress(weights, select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude), quant);
    const int64_t slot_count = ((130 + 3) / 4) * 2;  // 33 groups, 66 slot_count
    QCOMPARE(packed.slots_per_row, slot_count);
    QCOMPARE(packed.value_row_bytes, (slot_count * 4 + 7) / 8);
    QCOMPARE(packed.metadata_row_bytes, (slot_count * 2 + 7) / 8);
    QCOMPARE(packed.scales_per_row, int64_t(2));
    QCOMPARE(packed.storage_bytes(), 10 * 33 + 10 * 17 + 10 * 2 * 2);
    QCOMPARE(packed.compression_vs_fp16(), 2.0 * 10 * 130 / double(packed.storage_bytes()));

    quant.symmetric = false;
    quant.granularity = Granularity::Channel;
    const PackedMatrix asym = compress(weights, select_nm(weights, NMPattern{1, 8}, PruningCriterion::Magnitude), quant);
    QCOMPARE(asym.storage_bytes(), int64_t(10 * ((17 * 4 + 7) / 8) + 10 * ((17 * 3 + 7) / 8) + 10 * 2 + 10));

    QuantConfig fp16;
    fp16.bits = 16;
    const PackedMatrix dense = compress(weights, select_nm(weights, NMPattern::dense(), PruningCriterion::Magnitude), fp16);
    QCOMPARE(dense.storage_bytes(), int64_t(10 * 130 * 2));
    QCOMPARE(dense.compression_vs_fp16(), 1.0);
  }

  void int4_two_four_bytes_follow_the_spec() {
    // One row, K = 8: groups {0.1, -0.7, 0.3, 0.05} and {0, 0, 0.7, -0.35}; per-tensor symmetric int4.
    MatrixF weights(1, 8);
    weights << 0.1f, -0.7f, 0.3f, 0.05f, 0.0f, 0.0f, 0.7f, -0.35f;
    QuantConfig quant;
    quant.granularity = Granularity::Tensor;
    const PackedMatrix packed = compress(weights, select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude), quant);
    // kept: positions 1, 2 in group 0; 2, 3 in group 1 -> metadata 2-bit LSB-first: 01 10 10 11 -> 0b11101001
    QCOMPARE(packed.metadata.size(), size_t(1));
    QCOMPARE(int(packed.metadata[0]), 0b11'10'10'01);
    const float scale = half_bits_to_float(packed.scales[0]);
    QCOMPARE(packed.scales[0], float_to_half_bits(0.7f / 7.0f));
    // codes = round(w / s) + 8, low nibble first
    auto code = [&](float w) { return int(std::round(double(w) / scale)) + 8; };
    QCOMPARE(int(packed.values[0]), code(-0.7f) | (code(0.3f) << 4));
    QCOMPARE(int(packed.values[1]), code(0.7f) | (code(-0.35f) << 4));
  }

  void asymmetric_zero_is_exact_and_padding_decodes_to_zero() {
    MatrixF weights(2, 6);  // K = 6 with 1:4: the tail group has 2 real columns
    weights << 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f,
               -0.1f, -0.2f, 3.0f, 0.0f, 0.0f, 0.0f;
    QuantConfig quant;
    quant.symmetric = false;
    quant.bits = 3;
    quant.granularity = Granularity::Channel;
    const NMSelection selection = select_nm(weights, NMPattern{1, 4}, PruningCriterion::Magnitude);
    const MatrixF decoded = dequantize(compress(weights, selection, quant));
    QCOMPARE(decoded(1, 4), 0.0f);  // a kept zero stays exactly zero (the range includes 0)
    QCOMPARE(decoded(1, 0), 0.0f);  // pruned
    QVERIFY(std::fabs(decoded(1, 2) - 3.0f) < 0.25f);
  }

  void bit_strings_are_lsb_first_for_every_width() {
    for (int bits = 1; bits <= 16; ++bits) {
      std::vector<uint8_t> row(64, 0);
      const int slot_count = int(row.size() * 8 / bits);
      for (int slot = 0; slot < slot_count; ++slot) write_bits(row.data(), slot, bits, uint32_t(slot * 2654435761u));
      for (int slot = 0; slot < slot_count; ++slot)
        QCOMPARE(read_bits(row.data(), slot, bits), uint32_t(slot * 2654435761u) & ((1u << bits) - 1));
      // bit t of the string is bit t % 8 of byte t / 8
      for (int slot = 0; slot < slot_count; ++slot) {
        const uint32_t value = read_bits(row.data(), slot, bits);
        for (int bit = 0; bit < bits; ++bit) {
          const int t = slot * bits + bit;
          QCOMPARE(int((row[size_t(t / 8)] >> (t % 8)) & 1), int((value >> bit) & 1));
        }
      }
    }
  }

  void all_zero_groups_get_zero_scale_and_decode_to_zero() {
    MatrixF weights = MatrixF::Zero(3, 40);
    weights(1, 5) = 1.0f;
    QuantConfig quant;
    quant.group = 16;
    const PackedMatrix packed = compress(weights, select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude), quant);
    QCOMPARE(packed.scales[0], uint16_t(0));
    const MatrixF decoded = dequantize(packed);
    const float scale = half_bits_to_float(packed.scales[size_t(1 * packed.scales_per_row + 0)]);
    QCOMPARE(decoded(1, 5), 7.0f * scale);  // 1.0 is 7 steps of the fp16-rounded scale 1/7
    QCOMPARE(decoded.cwiseAbs().sum(), decoded(1, 5));
  }

  void rejects_invalid_configs() {
    const MatrixF weights = llm_like_matrix(2, 8, 1);
    const NMSelection selection = select_nm(weights, NMPattern{2, 4}, PruningCriterion::Magnitude);
    QuantConfig quant;
    quant.bits = 9;
    QVERIFY_THROWS_EXCEPTION(Error, compress(weights, selection, quant));
    quant.bits = 4;
    quant.group = 0;
    QVERIFY_THROWS_EXCEPTION(Error, compress(weights, selection, quant));
    quant.group = 128;
    QVERIFY_THROWS_EXCEPTION(Error, compress(llm_like_matrix(3, 8, 1), selection, quant));
  }
};

QTEST_APPLESS_MAIN(TestPackedMatrix)
#include "test_packed_matrix.moc"
