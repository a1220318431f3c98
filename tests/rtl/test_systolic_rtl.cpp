// The Verilated N:M systolic array (rtl/) against the C++ bit-exact reference and the analytic cycle model:
// every output bit-identical, every cycle count equal. Skips when this build has no Verilator.
#include <QtTest>
#include <algorithm>
#include <stdexcept>
#include <string>

#include "engines/fpga/systolic_data.hpp"
#include "nmscope/fpga/verify.hpp"
#include "nmscope/rtl/accel_layout.hpp"

using namespace nmscope;
using namespace nmscope::fpga;

namespace {
GemmShape gemm_shape_of(const VerifyCase& config) {
  GemmShape shape;
  shape.out_channels = config.out_channels;
  shape.in_features = config.in_features;
  shape.n = config.pattern.kept_per_group;
  shape.m = config.pattern.group_size;
  shape.quant_group = config.quant.group;
  shape.bits = config.quant.bits;
  shape.asymmetric = !config.quant.symmetric;
  shape.tokens = config.tokens;
  return shape;
}
}  // namespace

class TestSystolicRtl : public QObject {
  Q_OBJECT

 private:
  static void expect_pass(const VerifyCase& config) {
    const VerifyOutcome outcome = run_verify_case(config);
    const QByteArray what = QByteArray::fromStdString(config.describe());
    QVERIFY2(outcome.error.empty(), (what + ": " + QByteArray::fromStdString(outcome.error)).constData());
    QVERIFY2(outcome.mismatches == 0,
             (what + ": " + QByteArray::number(qlonglong(outcome.mismatches)) + " of " +
              QByteArray::number(qlonglong(outcome.outputs)) + " outputs differ").constData());
    QVERIFY2(outcome.rtl_cycles == outcome.model_cycles,
             (what + ": RTL " + QByteArray::number(qlonglong(outcome.rtl_cycles)) + " cycles, model " +
              QByteArray::number(qlonglong(outcome.model_cycles)))
                 .constData());
    QVERIFY2(outcome.rtl_weight_bytes == outcome.model_weight_bytes && outcome.rtl_weight_bytes > 0,
             (what + ": " + QByteArray::number(qlonglong(outcome.rtl_weight_bytes)) +
              " bytes through the port, model " + QByteArray::number(qlonglong(outcome.model_weight_bytes)))
                 .constData());
  }

 private slots:
  void initTestCase() {
    if (rtl::simulated_shapes().empty()) QSKIP("built without Verilator: no RTL model to check");
  }

  // The patterns of the study we start from, on every simulated shape, with tails in all three dimensions.
  void named_patterns_on_every_shape_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("bits");
    for (const auto& [n, m, bits] : std::vector<std::tuple<int, int, int>>{
             {1, 1, 8}, {1, 1, 4}, {2, 4, 4}, {2, 4, 2}, {1, 4, 4}, {4, 8, 4}, {2, 8, 8}, {1, 8, 4}, {3, 8, 3}})
      QTest::addRow("%d:%d int%d", n, m, bits) << n << m << bits;
  }
  void named_patterns_on_every_shape() {
    QFETCH(int, n);
    QFETCH(int, m);
    QFETCH(int, bits);
    for (const rtl::ArrayShape shape : rtl::simulated_shapes()) {
      VerifyCase config;
      config.array = {shape.rows, shape.cols};
      config.pattern = {n, m};
      config.quant.bits = bits;
      config.quant.group = 64;
      config.out_channels = 2 * shape.cols + 3;
      config.in_features = 200;
      config.tokens = 5;
      config.seed = uint64_t(shape.rows * 100 + n * 10 + m);
      expect_pass(config);
    }
  }

  // A memory slower than the array needs stretches the windows: the RTL waits for each fold's stream, and the
  // model counts the same stalls, latency included; a fast one leaves the array's own schedule.
  void slow_memory_stalls_the_array() {
    const rtl::ArrayShape shape = rtl::simulated_shapes().back();
    for (const double bytes_per_cycle : {1.5, 6.0, 64.0}) {
      VerifyCase config;
      config.array = {shape.rows, shape.cols};
      config.pattern = {2, 4};
      config.quant.bits = 4;
      config.quant.group = 32;
      config.out_channels = 2 * shape.cols;
      config.in_features = 96;
      config.tokens = 2;
      config.memory.latency_cycles = 40;
      config.memory.bytes_per_cycle_q16 = int64_t(bytes_per_cycle * double(rtl::kBandwidthOne));
      config.seed = 11;
      expect_pass(config);
      GemmShape gemm{config.out_channels, config.in_features, 2, 4, 32, 4, false, config.tokens};
      const CycleEstimate estimate = model_cycles(gemm, config.array, 256, config.memory);
      // The latency overlaps the first window's own length, at most max(rows, cols) + 1 cycles.
      QVERIFY(estimate.stall_cycles >= config.memory.latency_cycles - std::max(shape.rows, shape.cols) - 1);
      if (bytes_per_cycle < 2) {
        QVERIFY2(estimate.memory_bound && estimate.stall_cycles > estimate.compute_cycles / 2,
                 QByteArray::number(qlonglong(estimate.stall_cycles)).constData());
      }
    }
  }

  // Two scale groups per fold (1:8 at g128 fills 16 of 32 rows per group): each column keeps the two sums apart and
  // dequantizes both, bit-exact, with asymmetric zero points per group and a row whose last fold holds one group.
  void two_scale_groups_per_fold() {
    for (const rtl::ArrayShape shape : rtl::simulated_shapes()) {
      if (shape.rows < 16) continue;
      for (const bool symmetric : {true, false}) {
        VerifyCase config;
        config.array = {shape.rows, shape.cols};
        config.pattern = {1, 8};
        config.quant.bits = 4;
        config.quant.symmetric = symmetric;
        config.quant.group = shape.rows == 32 ? 128 : 64;  // shape.rows / 2 slots per group
        config.out_channels = shape.cols + 3;
        config.in_features = 3 * config.quant.group + 40;  // three full groups and a partial one: 2 + 2 per row
        config.tokens = 9;
        config.seed = symmetric ? 21 : 22;
        const FoldPlan plan = plan_folds(gemm_shape_of(config), config.array);
        QCOMPARE(plan.lane_slots, int64_t(shape.rows / 2));
        expect_pass(config);
      }
    }
  }

  // More tokens than one bank holds: the tail tile first, then full tiles, accumulators drained per tile.
  void token_tiles_and_asymmetric_scales() {
    VerifyCase config;
    const rtl::ArrayShape shape = rtl::simulated_shapes().front();
    config.array = {shape.rows, shape.cols};
    config.pattern = {2, 4};
    config.quant.bits = 4;
    config.quant.symmetric = false;
    config.quant.granularity = Granularity::Channel;
    config.out_channels = 19;
    config.in_features = 77;
    config.tokens = 45;
    config.token_depth = 16;
    config.seed = 7;
    expect_pass(config);
  }

  // With more columns than 2 T + rows + 1, the run ends with its last window, not with the last drain.
  void wide_arrays_with_few_tokens() {
    int checked = 0;
    for (const rtl::ArrayShape shape : rtl::simulated_shapes()) {
      if (shape.cols <= shape.rows) continue;
      for (int tokens = 1; tokens <= 6; ++tokens) {
        VerifyCase config;
        config.array = {shape.rows, shape.cols};
        config.pattern = {2, 4};
        config.quant.group = 64;
        config.out_channels = 20;
        config.in_features = 100;
        config.tokens = tokens;
        config.seed = uint64_t(tokens);
        expect_pass(config);
        ++checked;
      }
    }
    if (checked == 0) QSKIP("no simulated shape has more columns than rows");
  }

  // A token whose scale would be subnormal is zero for the array and for the reference alike.
  void tiny_activations_flush_to_zero() {
    VerifyCase config;
    const rtl::ArrayShape shape = rtl::simulated_shapes().front();
    config.array = {shape.rows, shape.cols};
    config.pattern = {2, 4};
    config.out_channels = 6;
    config.in_features = 40;
    config.tokens = 3;
    config.activation_scale = 1e-37f;
    expect_pass(config);
  }

  // A failed RTL assertion (Verilated with --assert) ends the run with an error naming it, not with a crash or a
  // silent pass: here nm_accel's check of the run-time registers, started with N > M.
  void failed_assertion_is_an_error() {
    struct Zeros final : rtl::FoldStreams {
      explicit Zeros(rtl::ArrayShape shape) : shape(shape) {}
      int tokens_of(int64_t) const override { return 1; }
      std::vector<uint8_t> weight_stream(int64_t) const override {
        return std::vector<uint8_t>(size_t(rtl::accel_pkg::kPortBytes), 0);
      }
      void activation_word(int64_t, int, int8_t* vectors, float* scale) const override {
        std::fill_n(vectors, shape.rows * rtl::accel_pkg::kMaxM, 0);
        *scale = 1;
      }
      rtl::ArrayShape shape;
    };
    struct Discard final : rtl::OutputSink {
      void output(int64_t, int64_t, const float*) override {}
    };
    const rtl::ArrayShape shape = rtl::simulated_shapes().front();
    rtl::RunRegisters registers;
    registers.n = 3;
    registers.m = 2;
    registers.tokens = registers.tile_tokens = registers.first_tile_tokens = 1;
    registers.channel_tiles = registers.k_folds = registers.chunk_folds = 1;
    Zeros streams(shape);
    Discard sink;
    std::string error;
    try {
      rtl::simulate(shape, registers, streams, sink);
    } catch (const std::runtime_error& failure) {
      error = failure.what();
    }
    QVERIFY2(error.find("assertion failed") != std::string::npos, ("got: '" + error + "'").c_str());
  }

  void random_configurations() {
    for (const VerifyCase& config : random_verify_cases(12, 20261127)) expect_pass(config);
  }
};

QTEST_GUILESS_MAIN(TestSystolicRtl)
#include "test_systolic_rtl.moc"
