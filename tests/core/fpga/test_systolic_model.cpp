// The FPGA engine's software side without the RTL: array sizes, fold plans, token tiles, the analytic cycle
// model's properties (the RTL equality itself is tests/rtl), the engine's refusals, and Yosys report parsing.
#include <QtTest>
#include <cmath>

#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/fpga/resource_estimate.hpp"
#include "nmscope/fpga/systolic_array.hpp"

using namespace nmscope;
using namespace nmscope::fpga;

namespace {
GemmShape gemm(int64_t out, int64_t k, int n, int m, int group, int64_t tokens) {
  GemmShape shape;
  shape.out_channels = out;
  shape.in_features = k;
  shape.n = n;
  shape.m = m;
  shape.quant_group = group;
  shape.tokens = tokens;
  return shape;
}
}  // namespace

class TestSystolicModel : public QObject {
  Q_OBJECT

 private slots:
  void array_sizes_parse_and_refuse_bad_ones() {
    QCOMPARE(parse_array_size("16x32"), (ArraySize{16, 32}));
    QCOMPARE(parse_array_sizes("16x16,32x32,16x16").size(), size_t(2));
    for (const char* bad : {"16", "x16", "3x16", "16x65", "16x16x2", "axb", ""}) {
      try {
        parse_array_size(bad);
        QFAIL(bad);
      } catch (const Error& error) {
        QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::ArraySize);
      }
    }
  }

  void folds_stay_inside_one_scale_group() {
    // K = 300, 2:4 -> 75 groups, 150 slots; group 64 -> 32 slots per scale; 16 rows -> 16 slots per fold.
    const FoldPlan plan = plan_folds(gemm(40, 300, 2, 4, 64, 1), {16, 8});
    QCOMPARE(plan.slots_per_row, int64_t(150));
    QCOMPARE(plan.chunk_slots, int64_t(32));
    QCOMPARE(plan.rows_per_fold, int64_t(16));
    QCOMPARE(plan.channel_tiles, int64_t(5));
    int64_t covered = 0;
    for (const auto& fold : plan.folds) {
      QCOMPARE(fold.slot_begin / plan.chunk_slots, (fold.slot_end - 1) / plan.chunk_slots);
      QVERIFY(fold.slot_end - fold.slot_begin <= plan.rows_per_fold);
      QCOMPARE(fold.slot_begin, covered);
      covered = fold.slot_end;
    }
    QCOMPARE(covered, plan.slots_per_row);
    // 3:8 on 16 rows: a fold holds whole groups only, 15 slots.
    QCOMPARE(plan_folds(gemm(8, 64, 3, 8, 0, 1), {16, 16}).rows_per_fold, int64_t(15));
  }

  void token_tiles_put_the_tail_first() {
    const TokenTiling tiling = token_tiling(45, 16);
    QCOMPARE(tiling.tile_tokens, 16);
    QCOMPARE(tiling.first_tile_tokens, 13);
    QCOMPARE(tiling.tiles, int64_t(3));
    QCOMPARE(token_tiling(7, 256).tile_tokens, 7);
    QCOMPARE(token_tiling(512, 256).first_tile_tokens, 256);
  }

  // Compute-bound (batch >= array cols): N:M takes N/M of the dense cycles (per-channel scales, so a fold is never
  // cut short by a scale group); with K and N_out 8x the array the array stays busy.
  void sparse_cycles_scale_with_density() {
    const ArraySize array{32, 32};
    const int64_t dense = model_cycles(gemm(1024, 1024, 1, 1, 0, 64), array, 256).cycles;
    for (const auto& [n, m] : std::vector<std::pair<int, int>>{{2, 4}, {1, 4}, {4, 8}, {1, 8}}) {
      const CycleEstimate sparse = model_cycles(gemm(1024, 1024, n, m, 0, 64), array, 256);
      QVERIFY2(double(sparse.cycles) <= 1.1 * n / m * double(dense), qPrintable(QString("%1:%2").arg(n).arg(m)));
    }
    const CycleEstimate estimate = model_cycles(gemm(256, 256, 1, 1, 0, 256), array, 256);
    QVERIFY(estimate.utilization >= 0.85 && estimate.utilization <= 1.0);
    QCOMPARE(estimate.useful_macs, int64_t(256) * 256 * 256);
  }

  void more_tokens_per_bank_means_fewer_cycles_per_token() {
    const GemmShape shape = gemm(128, 512, 2, 4, 128, 512);
    QVERIFY(model_cycles(shape, {16, 16}, 256).cycles < model_cycles(shape, {16, 16}, 16).cycles);
  }

  // Presets and typed bandwidths; anything else names the setting and why.
  void memory_systems_parse_and_refuse_bad_ones() {
    QCOMPARE(parse_memory_system("ddr4-2400").gigabytes_per_second, 19.2);
    QCOMPARE(parse_memory_system("12.5").gigabytes_per_second, 12.5);
    QCOMPARE(default_memory_system().name, std::string("ddr4-2400"));
    for (const char* bad : {"ddr5", "", "0", "-3", "12GB", "nan", "1e9"}) {
      try {
        parse_memory_system(bad);
        QFAIL(bad);
      } catch (const Error& error) {
        QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::FpgaMemory);
      }
    }
    // 19.2 GB/s at 250 MHz: 76.8 bytes per cycle; 73 ns: 19 cycles (rounded up).
    const MemoryTiming timing = memory_timing(parse_memory_system("ddr4-2400"), 250);
    QCOMPARE(timing.latency_cycles, int64_t(19));
    QCOMPARE(timing.bytes_per_cycle_q16, int64_t(std::llround(76.8 * 65536)));
    QCOMPARE(memory_timing(parse_memory_system("unlimited"), 250).bytes_per_cycle_q16, int64_t(0));
  }

  // What travels through the port is the packed fold stream: INT4 half of INT8, 2:4 + INT4 about a fifth of fp16
  // (16 bits per weight), and a slow memory makes a batch-1 layer memory-bound, its stalls counted.
  void the_port_moves_packed_bytes_and_can_bind() {
    const ArraySize array{32, 32};
    GemmShape dense8 = gemm(4096, 4096, 1, 1, 128, 1);
    dense8.bits = 8;
    GemmShape dense4 = dense8;
    dense4.bits = 4;
    GemmShape sparse4 = gemm(4096, 4096, 2, 4, 128, 1);
    sparse4.bits = 4;
    const MemoryTiming unlimited;
    const CycleEstimate e8 = model_cycles(dense8, array, 256, unlimited);
    const CycleEstimate e4 = model_cycles(dense4, array, 256, unlimited);
    const CycleEstimate s4 = model_cycles(sparse4, array, 256, unlimited);
    QVERIFY(std::abs(double(e4.weight_bytes) / double(e8.weight_bytes) - 0.5) < 0.02);
    const double fp16_bytes = 4096.0 * 4096.0 * 2;
    QVERIFY2(double(s4.weight_bytes) / fp16_bytes < 0.21, QByteArray::number(double(s4.weight_bytes) / fp16_bytes));
    QCOMPARE(e8.cycles, e8.compute_cycles);
    QVERIFY(!e8.memory_bound);

    MemoryTiming slow;
    slow.bytes_per_cycle_q16 = 8 * 65536;  // 2 GB/s at 250 MHz
    slow.latency_cycles = 25;
    const CycleEstimate slow8 = model_cycles(dense8, array, 256, slow);
    const CycleEstimate slow4 = model_cycles(sparse4, array, 256, slow);
    QVERIFY(slow8.memory_bound && slow4.memory_bound);
    QCOMPARE(slow8.stall_cycles, slow8.cycles - slow8.compute_cycles);
    // Memory-bound, the cycle ratio follows the byte ratio.
    const double cycle_ratio = double(slow8.cycles) / double(slow4.cycles);
    const double byte_ratio = double(slow8.weight_bytes) / double(slow4.weight_bytes);
    QVERIFY2(cycle_ratio > 0.9 * byte_ratio, QByteArray::number(cycle_ratio) + " vs " + QByteArray::number(byte_ratio));
  }

  // 1:8 at g128 on 32 rows: 16 slots per scale group, two groups per fold, so the array runs full (issue 22's
  // target: <= 0.1375 of dense cycles at batch >= 64).
  void two_scale_groups_fill_the_rows() {
    const ArraySize array{32, 32};
    GemmShape sparse = gemm(4096, 4096, 1, 8, 128, 64);
    sparse.bits = 4;
    GemmShape dense = gemm(4096, 4096, 1, 1, 128, 64);
    dense.bits = 4;
    const FoldPlan plan = plan_folds(sparse, array);
    QCOMPARE(plan.group_slots, int64_t(16));
    QCOMPARE(plan.lane_slots, int64_t(16));
    QCOMPARE(plan.rows_per_fold, int64_t(32));
    QCOMPARE(plan_folds(dense, array).lane_slots, int64_t(0));  // 128 slots per group: one group spans folds
    const double ratio =
        double(model_cycles(sparse, array, 256).cycles) / double(model_cycles(dense, array, 256).cycles);
    QVERIFY2(ratio <= 0.1375, QByteArray::number(ratio));
    QVERIFY(model_cycles(sparse, array, 256).utilization > 0.95);
  }

  void unsupported_configurations_say_why() {
    QVERIFY(unsupported_reason(gemm(8, 64, 2, 4, 128, 1), {16, 16}).empty());
    QVERIFY(!unsupported_reason(gemm(8, 64, 1, 16, 0, 1), {16, 16}).empty());   // M > 8
    QVERIFY(!unsupported_reason(gemm(8, 64, 2, 3, 128, 1), {16, 16}).empty());  // group not a multiple of M
    QVERIFY(!unsupported_reason(gemm(8, 64, 5, 8, 0, 1), {4, 4}).empty());      // N > rows
  }

  void engines_register_per_array_and_refuse_fp16() {
    EngineOptions options;
    options.fpga_arrays = {{8, 8}, {16, 32}};
    options.fpga_clock_mhz = 300;
    const EngineRegistry registry = EngineRegistry::with_options(options);
    QVERIFY(registry.find("fpga/systolic-8x8"));
    QVERIFY(registry.find("fpga/systolic-16x32"));
    QCOMPARE(registry.select("fpga").size(), size_t(2));
    QuantConfig fp16;
    fp16.bits = 16;
    std::string reason;
    QVERIFY(!registry.find("fpga/systolic-8x8")->supports({2, 4}, fp16, &reason));
    QVERIFY(!reason.empty());
    options.fpga_clock_mhz = 0;
    QVERIFY_THROWS_EXCEPTION(Error, EngineRegistry::with_options(options));
  }

  void yosys_stat_report_is_summed_by_resource() {
    const std::string report =
        "=== nm_pe ===\n   Number of cells: 3\n     LUT2 1\n\n=== design hierarchy ===\n\n   nm_accel   1\n"
        "   Number of wires: 10\n   Number of cells: 40\n     CARRY4 3\n     DSP48E1 32\n     FDRE 100\n"
        "     FDCE 4\n     LUT2 10\n     LUT6 5\n     RAM64M 2\n     RAMB36E1 4\n     RAMB18E1 3\n     SRL16E 6\n";
    const ResourceEstimate estimate = parse_yosys_stat(report);
    QCOMPARE(estimate.luts, int64_t(15));
    QCOMPARE(estimate.flip_flops, int64_t(104));
    QCOMPARE(estimate.dsps, int64_t(32));
    QCOMPARE(estimate.block_rams, int64_t(6));
    QCOMPARE(estimate.lut_rams, int64_t(14));
    QVERIFY_THROWS_EXCEPTION(Error, parse_yosys_stat("no cells here"));
  }
};

QTEST_GUILESS_MAIN(TestSystolicModel)
#include "test_systolic_model.moc"
