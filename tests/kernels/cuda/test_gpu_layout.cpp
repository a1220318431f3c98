// The GPU re-layout (docs/gpu-kernels.md) decodes back to exactly core's dequantize() for every pattern, bit width,
// granularity and shape with tails; the sparse tiles keep two distinct, ascending positions per group of four; the
// N:M patterns that embed in 2:4 are the ones the sparse path accepts. Host-only: no GPU needed.
#include <QtTest>
#include <random>

#include "nmscope/kernels/cuda/gpu_layout.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/pruning.hpp"
#include "quant/kernel_view.hpp"

using namespace nmscope;
using namespace nmscope::kernels::cuda;

namespace {

MatrixF random_matrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal;
  MatrixF matrix(rows, cols);
  for (int64_t index = 0; index < matrix.size(); ++index) matrix.data()[index] = normal(engine);
  return matrix;
}

}  // namespace

class TestGpuLayout final : public QObject {
  Q_OBJECT

 private slots:
  void decodes_to_dequantize_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("group");  // 0: per channel, -1: per tensor
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("order");
    const char* patterns[] = {"dense", "2:4", "1:4", "2:8", "1:8", "1:2", "1:3", "4:8", "3:4", "2:6"};
    int index = 0;
    for (const char* pattern : patterns)
      for (int bits : {2, 3, 4, 5, 8})
        for (int group : {64, 128, 0, -1}) {
          const int rows = index % 2 ? 37 : 144;
          const int cols = index % 3 == 0 ? 256 : (index % 3 == 1 ? 300 : 77);
          const int order = index % 2;
          ++index;
          QTest::newRow(qPrintable(QString("%1 int%2 g%3 %4x%5").arg(pattern).arg(bits).arg(group).arg(rows).arg(cols)))
              << QString(pattern) << bits << group << rows << cols << order;
        }
  }
  void decodes_to_dequantize() {
    QFETCH(QString, pattern);
    QFETCH(int, bits);
    QFETCH(int, group);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, order);
    const NMPattern nm = NMPattern::parse(pattern.toStdString());
    QuantConfig quant;
    quant.bits = bits;
    quant.granularity = group > 0 ? Granularity::Group : group == 0 ? Granularity::Channel : Granularity::Tensor;
    if (group > 0) quant.group = group;
    const MatrixF weights = random_matrix(rows, cols, unsigned(rows * 131 + cols + bits));
    const PackedMatrix packed = compress(weights, select_nm(weights, nm, PruningCriterion::Magnitude), quant);
    const MatrixF expected = dequantize(packed);
    const auto view = kernel_view(packed);
    for (TensorCorePath path : {TensorCorePath::Dense, TensorCorePath::Sparse24}) {
      if (path == TensorCorePath::Sparse24 && !embeds_in_2_4(nm.kept_per_group, nm.group_size)) {
        QVERIFY(!gpu_layout_unsupported(view, path).empty());
        continue;
      }
      QCOMPARE(QString::fromStdString(gpu_layout_unsupported(view, path)), QString());
      const GpuWeightLayout layout = make_gpu_layout(view, path, MetadataOrder(order));
      QCOMPARE(layout.padded_rows % kRowAlign, int64_t(0));
      QCOMPARE(layout.padded_cols % layout.chunk_k, int64_t(0));
      QCOMPARE(int64_t(layout.tiles.size()), layout.m_tiles() * layout.chunks * layout.tile_bytes);
      const std::vector<float> decoded = gpu_layout_to_dense(layout);
      for (int64_t row = 0; row < rows; ++row)
        for (int64_t col = 0; col < cols; ++col)
          if (decoded[size_t(row * cols + col)] != expected(row, col))
            QFAIL(qPrintable(QString("row %1 col %2: %3 != %4 (%5)")
                                 .arg(row)
                                 .arg(col)
                                 .arg(decoded[size_t(row * cols + col)])
                                 .arg(expected(row, col))
                                 .arg(path == TensorCorePath::Dense ? "dense" : "sparse")));
      if (path == TensorCorePath::Sparse24) {
        // Every metadata nibble names two distinct positions, ascending (mma.sp::ordered_metadata).
        for (int64_t tile = 0; tile < layout.m_tiles() * layout.chunks; ++tile)
          for (int unit = 0; unit < layout.units_per_chunk; ++unit)
            for (int word = 0; word < 16; ++word) {
              uint32_t bits_of_word;
              std::memcpy(&bits_of_word,
                          layout.tiles.data() + tile * layout.tile_bytes + metadata_offset(layout, word, unit), 4);
              for (int nibble = 0; nibble < 8; ++nibble) {
                const uint32_t first = (bits_of_word >> (4 * nibble)) & 3u,
                               second = (bits_of_word >> (4 * nibble + 2)) & 3u;
                QVERIFY(first < second);
              }
            }
        // A 2:4 tile stores 2 of every 4 columns at code_bits, plus 2 metadata bits per kept slot.
        QCOMPARE(layout.tile_bytes, int64_t(512 + 64 * layout.units_per_chunk + 32 * layout.scale_slots));
      }
    }
  }

  void metadata_orders_differ_and_cover_every_position() {
    uint8_t positions[16][8][2];
    for (int r = 0; r < 16; ++r)
      for (int q = 0; q < 8; ++q) positions[r][q][0] = uint8_t((r + q) % 3), positions[r][q][1] = 3;
    uint32_t by_half[16], by_lane[16];
    pack_metadata_words(positions, MetadataOrder::RowPairsByHalf, by_half);
    pack_metadata_words(positions, MetadataOrder::RowPerLane, by_lane);
    QVERIFY(std::memcmp(by_half, by_lane, sizeof(by_half)) != 0);
    // Word 2g + j of RowPairsByHalf: row g in bits 0-15 (groups 4j..4j+3), row g + 8 in bits 16-31.
    QCOMPARE(by_half[0] & 0xfu, uint32_t(positions[0][0][0] | (positions[0][0][1] << 2)));
    QCOMPARE((by_half[1] >> 16) & 0xfu, uint32_t(positions[8][4][0] | (positions[8][4][1] << 2)));
    // RowPerLane: word 2g + j is row g + 8j, groups 0..7.
    QCOMPARE((by_lane[1] >> 28) & 0xfu, uint32_t(positions[8][7][0] | (positions[8][7][1] << 2)));
  }

  void patterns_that_embed_in_2_4() {
    QVERIFY(embeds_in_2_4(2, 4));
    QVERIFY(embeds_in_2_4(1, 4));
    QVERIFY(embeds_in_2_4(2, 8));
    QVERIFY(embeds_in_2_4(1, 8));
    QVERIFY(embeds_in_2_4(1, 2));
    QVERIFY(embeds_in_2_4(1, 3));
    QVERIFY(embeds_in_2_4(2, 16));
    QVERIFY(!embeds_in_2_4(4, 8));
    QVERIFY(!embeds_in_2_4(3, 4));
    QVERIFY(!embeds_in_2_4(2, 6));  // columns 4..7 can hold two of group 0..5 and two of 6..11
    QVERIFY(!embeds_in_2_4(1, 1));  // dense
    QVERIFY(!embeds_in_2_4(3, 8));
  }

  void unsupported_configurations_say_why() {
    QuantConfig quant;
    quant.bits = 4;
    quant.group = 48;
    const MatrixF weights = random_matrix(16, 96, 7);
    const PackedMatrix packed = compress(weights, select_nm(weights, {2, 4}, PruningCriterion::Magnitude), quant);
    QVERIFY(
        QString::fromStdString(gpu_layout_unsupported(kernel_view(packed), TensorCorePath::Sparse24)).contains("48"));
    quant.group = 128;
    quant.symmetric = false;
    const PackedMatrix asymmetric = compress(weights, select_nm(weights, {2, 4}, PruningCriterion::Magnitude), quant);
    QVERIFY(QString::fromStdString(gpu_layout_unsupported(kernel_view(asymmetric), TensorCorePath::Dense))
                .contains("symmetric"));
  }
};

QTEST_GUILESS_MAIN(TestGpuLayout)
#include "test_gpu_layout.moc"
