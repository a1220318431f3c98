// The decode step on the modelled FPGA array (issue 22): its parts add up, the memory decides when the byte saving
// of 2:4 + INT4 becomes speed, and the host's attention is the KV cache read at the memory's bandwidth.
#include <QtTest>

#include "nmscope/fpga_decode_step.hpp"
#include "nmscope/model_preset.hpp"

using namespace nmscope;

class TestFpgaDecodeStep final : public QObject {
  Q_OBJECT

 private slots:
  void parts_add_up_and_the_memory_decides() {
    const ModelConfig shape = find_model_preset("llama-7b")->config;
    const fpga::ArraySize array{32, 32};
    FpgaDecodeDesign sparse;
    sparse.pattern = NMPattern{2, 4};
    FpgaDecodeDesign int8;
    int8.bits = 8;
    FpgaDecodeDesign fp16;
    fp16.fp16 = true;
    QCOMPARE(QString::fromStdString(sparse.label()), QString("2:4 + INT4"));
    QCOMPARE(QString::fromStdString(fp16.label()), QString("dense fp16"));

    const fpga::MemorySystem ddr4 = fpga::parse_memory_system("ddr4-2400");
    const FpgaDecodeStep a = fpga_decode_step(shape, sparse, 16, 512, array, 250, ddr4);
    QCOMPARE(a.step_us, a.linear_us + a.host_us);
    QCOMPARE(a.linear_us, double(a.linear_cycles) / 250);
    QCOMPARE(a.tokens_per_second, 16 * 1e6 / a.step_us);
    // fp16 K and V of 32 blocks, 4096 wide, 512 positions, 16 sequences: 2.1 GB at 19.2 GB/s.
    QCOMPARE(a.kv_cache_bytes, int64_t(16) * 32 * 512 * 2 * 4096 * 2);
    QVERIFY(std::abs(a.host_us - double(a.kv_cache_bytes) / 19.2e3) < 1e-6 * a.host_us);
    // 2:4 + INT4 streams about 3.1 bits per weight of LLaMA-7B's 6.7 G linear weights.
    QVERIFY2(a.weight_bytes > int64_t(2.4e9) && a.weight_bytes < int64_t(2.8e9),
             QByteArray::number(qlonglong(a.weight_bytes)));

    // At DDR4 bandwidth the array's own schedule binds (2x fewer folds); on a 2 GB/s memory the bytes do.
    const FpgaDecodeStep fast_sparse = fpga_decode_step(shape, sparse, 1, 512, array, 250, ddr4);
    const FpgaDecodeStep fast_int8 = fpga_decode_step(shape, int8, 1, 512, array, 250, ddr4);
    QVERIFY(!fast_sparse.memory_bound);
    QVERIFY(std::abs(double(fast_int8.linear_cycles) / double(fast_sparse.linear_cycles) - 2.0) < 0.02);
    const fpga::MemorySystem slow = fpga::parse_memory_system("2");
    const FpgaDecodeStep slow_sparse = fpga_decode_step(shape, sparse, 1, 512, array, 250, slow);
    const FpgaDecodeStep slow_int8 = fpga_decode_step(shape, int8, 1, 512, array, 250, slow);
    QVERIFY(slow_sparse.memory_bound && slow_int8.memory_bound);
    const double bytes = double(slow_int8.weight_bytes) / double(slow_sparse.weight_bytes);
    const double cycles = double(slow_int8.linear_cycles) / double(slow_sparse.linear_cycles);
    QVERIFY2(cycles > 0.95 * bytes, QByteArray::number(cycles) + " vs " + QByteArray::number(bytes));
  }
};

QTEST_GUILESS_MAIN(TestFpgaDecodeStep)
#include "test_fpga_decode_step.moc"
