// sweep.json parsing (every key, and every bad spec named by its key and value), the plan's points and costs, and the
// shards: deterministic, balanced within 1.5x of the mean, refused when there are more shards than points.
#include <QtTest>
#include <numeric>
#include <random>

#include "nmscope/error.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/sweep_plan.hpp"
#include "nmscope/sweep_spec.hpp"

using nmscope::Error;
using nmscope::SweepSpec;

namespace {

constexpr const char* kFullSpec = R"({
  "sources": ["synth:64x128:seed=1"],
  "presets": ["llama-7b-block"],
  "tensors": "proj",
  "patterns": ["dense", "2:4", "1:4"],
  "bits": [8, 4],
  "granularity": "group",
  "group": 64,
  "symmetric": true,
  "criteria": ["magnitude"],
  "engines": ["cpu/eigen-fp32-dense", "fpga"],
  "batches": [1, 8],
  "arrays": ["16x16", "8x8"],
  "fpga_clock_mhz": 300,
  "fpga_memory": "lpddr4",
  "timing_seconds": 0.01
})";

void expect_refused(const std::string& json, const QString& needle) {
  try {
    nmscope::parse_sweep_spec(json, "bad.json");
    QFAIL(qPrintable("accepted: " + QString::fromStdString(json)));
  } catch (const Error& error) {
    QCOMPARE(QString::fromStdString(error.subject()), QString("bad.json"));
    QVERIFY2(QString::fromStdString(error.reason()).contains(needle), error.what());
  }
}

}  // namespace

class TestSweepPlan : public QObject {
  Q_OBJECT

 private slots:
  void studyBecomesASpecThatPlansTheSamePoints() {
    nmscope::StudySpec study;
    study.sources = {"synth:32x64+48x64:seed=3"};
    study.tensors = {"w1_48x64"};
    study.patterns = nmscope::NMPattern::parse_list("dense,2:4");
    study.bits = {8, 4};
    study.group = 32;
    study.engines = "cpu/eigen-fp32-dense,fpga/systolic-8x8";
    study.engine_options.fpga_arrays = {nmscope::fpga::parse_array_size("8x8")};
    study.batches = {1, 2};
    study.timing.target_seconds = 0.01;
    const std::string text = nmscope::sweep_spec_json(study);
    const nmscope::SweepSpec spec = nmscope::parse_sweep_spec(text, "from study");
    QCOMPARE(spec.sources, study.sources);
    QCOMPARE(spec.bits, study.bits);
    QCOMPARE(spec.group, 32);
    QCOMPARE(spec.engine_list(), study.engines);
    QCOMPARE(spec.timing_seconds, 0.01);
    const auto tensors = nmscope::list_sweep_tensors(spec);
    QCOMPARE(tensors.size(), std::size_t{1});
    QCOMPARE(tensors[0].name, std::string("w1_48x64"));
    // One tensor of the two: half of small_spec's 32 points.
    QCOMPARE(nmscope::plan_sweep(spec, tensors).points.size(), std::size_t{16});
    // Regex characters in names are taken literally.
    study.tensors = {"a.b(c)"};
    QVERIFY(nmscope::sweep_spec_json(study).find(R"(^(a\\.b\\(c\\))$)") != std::string::npos);
    study.sources.clear();
    QVERIFY_THROWS_EXCEPTION(nmscope::Error, nmscope::sweep_spec_json(study));
  }

  void parsesEveryKey() {
    const SweepSpec spec = nmscope::parse_sweep_spec(kFullSpec, "full.json");
    QCOMPARE(spec.sources.size(), std::size_t{2});
    QCOMPARE(spec.sources[1], std::string("synth:llama-7b-block"));
    QCOMPARE(spec.patterns.size(), std::size_t{3});
    QCOMPARE(spec.bits, (std::vector<int>{8, 4}));
    QCOMPARE(spec.group, 64);
    QCOMPARE(spec.engine_options.fpga_arrays.size(), std::size_t{2});
    QCOMPARE(spec.engine_options.fpga_clock_mhz, 300.0);
    QCOMPARE(spec.engine_options.fpga_memory.name, std::string("lpddr4"));
    QCOMPARE(spec.batches, (std::vector<int>{1, 8}));
    QVERIFY(!spec.hash.empty());
  }

  void hashIgnoresLayoutButNotContent() {
    const SweepSpec a = nmscope::parse_sweep_spec(R"({"sources": ["synth:8x16"], "bits": [4]})", "a");
    const SweepSpec b = nmscope::parse_sweep_spec("{\n  \"bits\":[4],\n\"sources\" : [\"synth:8x16\"]}", "b");
    const SweepSpec c = nmscope::parse_sweep_spec(R"({"sources": ["synth:8x16"], "bits": [8]})", "c");
    QCOMPARE(a.hash, b.hash);
    QVERIFY(a.hash != c.hash);
  }

  void refusesBadSpecs_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("needle");
    QTest::newRow("not json") << "{"
                              << "not valid JSON";
    QTest::newRow("not an object") << "[1]"
                                   << "JSON object";
    QTest::newRow("unknown key") << R"({"sources": ["synth:8x16"], "paterns": ["2:4"]})"
                                 << "\"paterns\": unknown key";
    QTest::newRow("no sources") << R"({"bits": [4]})"
                                << "needs \"sources\" or \"presets\"";
    QTest::newRow("empty list") << R"({"sources": []})"
                                << "\"sources\": must not be empty";
    QTest::newRow("sources not strings") << R"({"sources": [1]})"
                                         << "\"sources\": must be a list of strings";
    QTest::newRow("unknown pattern") << R"({"sources": ["synth:8x16"], "patterns": ["5:4"]})"
                                     << "\"patterns\": '5:4'";
    QTest::newRow("pattern typo") << R"({"sources": ["synth:8x16"], "patterns": ["2/4"]})"
                                  << "'2/4'";
    QTest::newRow("unknown bits") << R"({"sources": ["synth:8x16"], "bits": [12]})"
                                  << "\"bits\": 12 is not supported";
    QTest::newRow("bits not numbers") << R"({"sources": ["synth:8x16"], "bits": ["4"]})"
                                      << "\"bits\": must be a list of whole numbers";
    QTest::newRow("unknown engine") << R"({"sources": ["synth:8x16"], "engines": ["tpu"]})"
                                    << "\"engines\": unknown engine 'tpu'";
    QTest::newRow("unknown criterion") << R"({"sources": ["synth:8x16"], "criteria": ["random"]})"
                                       << "\"criteria\": 'random'";
    QTest::newRow("wanda without activations") << R"({"sources": ["synth:8x16"], "criteria": ["wanda"]})"
                                               << "wanda needs";
    QTest::newRow("bad granularity") << R"({"sources": ["synth:8x16"], "granularity": "row"})"
                                     << "'row' is not group";
    QTest::newRow("bad group") << R"({"sources": ["synth:8x16"], "group": 0})"
                               << "\"group\": group size must be positive";
    QTest::newRow("bad symmetric") << R"({"sources": ["synth:8x16"], "symmetric": "yes"})"
                                   << "\"symmetric\": must be true or false";
    QTest::newRow("bad batch") << R"({"sources": ["synth:8x16"], "batches": [0]})"
                               << "\"batches\": batch size 0";
    QTest::newRow("bad array") << R"({"sources": ["synth:8x16"], "arrays": ["16by16"]})"
                               << "\"arrays\": '16by16'";
    QTest::newRow("bad clock") << R"({"sources": ["synth:8x16"], "fpga_clock_mhz": -1})"
                               << "\"fpga_clock_mhz\"";
    QTest::newRow("bad memory") << R"({"sources": ["synth:8x16"], "fpga_memory": "ddr9"})"
                                << "\"fpga_memory\": 'ddr9' is neither";
    QTest::newRow("bad timing") << R"({"sources": ["synth:8x16"], "timing_seconds": 0})"
                                << "\"timing_seconds\": must be in";
    QTest::newRow("bad regex") << "{\"sources\": [\"synth:8x16\"], \"tensors\": \"([\"}"
                               << "\"tensors\": '([' is not a regular expression";
    QTest::newRow("repeated pattern") << R"({"sources": ["synth:8x16"], "patterns": ["2:4", "2:4"]})"
                                      << "\"patterns\": lists an entry twice";
  }

  void refusesBadSpecs() {
    QFETCH(QString, json);
    QFETCH(QString, needle);
    expect_refused(json.toStdString(), needle);
  }

  void missingFileIsNamed() {
    try {
      nmscope::read_sweep_spec("/nonexistent/sweep.json");
      QFAIL("read a missing file");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), std::string("/nonexistent/sweep.json"));
    }
  }

  void planHoldsTheCrossProductInAFixedOrder() {
    const SweepSpec spec = nmscope::parse_sweep_spec(kFullSpec, "full.json");
    const auto tensors = nmscope::list_sweep_tensors(spec);
    // "proj" matches q/k/v/o/gate/up/down_proj of the preset block, not the synth:64x128 matrix.
    QCOMPARE(tensors.size(), std::size_t{7});
    const nmscope::SweepPlan plan = nmscope::plan_sweep(spec, tensors);
    QCOMPARE(plan.engines,
             (std::vector<std::string>{"cpu/eigen-fp32-dense", "fpga/systolic-16x16", "fpga/systolic-8x8"}));
    // Every engine measures every (pattern, 8 or 4 bits) here: 7 tensors x 3 patterns x 2 bits x 3 engines x 2 batches.
    QCOMPARE(plan.points.size(), std::size_t{7 * 3 * 2 * 3 * 2});
    QCOMPARE(plan.costs.size(), plan.points.size());
    QCOMPARE(plan.points[1].batch, int16_t{1});
    QCOMPARE(plan.points[2].engine, int16_t{1});
    for (int64_t cost : plan.costs) QVERIFY(cost > 0);
    const nmscope::SweepPlan again = nmscope::plan_sweep(spec, nmscope::list_sweep_tensors(spec));
    QCOMPARE(again.costs, plan.costs);
  }

  void unsupportedConfigurationsAreNoPoints() {
    // The FPGA array multiplies integers only: fp16 yields no FPGA point, as a study stores no row for it.
    const SweepSpec spec = nmscope::parse_sweep_spec(
        R"({"sources": ["synth:32x64"], "bits": [16, 4], "engines": ["fpga/systolic-16x16"]})", "s");
    const auto plan = nmscope::plan_sweep(spec, nmscope::list_sweep_tensors(spec));
    QCOMPARE(plan.points.size(), std::size_t{1});
    QCOMPARE(plan.points[0].bits, int16_t{1});
  }

  void noMatchingTensorIsRefused() {
    const SweepSpec spec = nmscope::parse_sweep_spec(R"({"sources": ["synth:8x16"], "tensors": "^nothing$"})", "s");
    QVERIFY_THROWS_EXCEPTION(Error, nmscope::list_sweep_tensors(spec));
  }

  void parsesShards() {
    QCOMPARE(nmscope::parse_shard("3/4").index, 3);
    QCOMPARE(nmscope::parse_shard("3/4").count, 4);
    for (const char* bad : {"4/4", "-1/4", "1/0", "1", "a/b", "1/4x", ""}) {
      try {
        nmscope::parse_shard(bad);
        QFAIL(bad);
      } catch (const Error& error) {
        QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::Shard);
      }
    }
  }

  void shardsAreDeterministicAndCoverEveryPointOnce() {
    std::mt19937_64 random(7);
    std::vector<int64_t> costs(10000);
    for (auto& cost : costs) cost = 1 + int64_t(random() % 1000000);
    const auto a = nmscope::assign_shards(costs, 37);
    const auto b = nmscope::assign_shards(costs, 37);
    QCOMPARE(a.shard_of, b.shard_of);
    QCOMPARE(std::accumulate(a.points_per_shard.begin(), a.points_per_shard.end(), int64_t{0}), int64_t(costs.size()));
    QCOMPARE(std::accumulate(a.cost_per_shard.begin(), a.cost_per_shard.end(), int64_t{0}),
             std::accumulate(costs.begin(), costs.end(), int64_t{0}));
    QVERIFY2(a.imbalance() < 1.5, qPrintable(QString::number(a.imbalance())));
  }

  void realisticSweepIsBalanced() {
    const SweepSpec spec = nmscope::parse_sweep_spec(R"({
      "presets": ["llama-7b-block"], "patterns": ["dense", "2:4", "1:4", "4:8"], "bits": [8, 4, 2],
      "engines": ["cpu/eigen-fp32-dense", "fpga"], "batches": [1, 16, 64]})",
                                                     "s");
    const auto plan = nmscope::plan_sweep(spec, nmscope::list_sweep_tensors(spec));
    for (int shards : {2, 4, 16, 64}) {
      const auto assignment = nmscope::assign_shards(plan.costs, shards);
      QVERIFY2(assignment.imbalance() <= 1.5,
               qPrintable(QString("%1 shards: %2").arg(shards).arg(assignment.imbalance())));
    }
  }

  void moreShardsThanPointsIsRefused() {
    const std::vector<int64_t> costs{5, 3, 1};
    QCOMPARE(nmscope::assign_shards(costs, 3).points_per_shard, (std::vector<int64_t>{1, 1, 1}));
    try {
      nmscope::assign_shards(costs, 4);
      QFAIL("4 shards of 3 points");
    } catch (const Error& error) {
      QCOMPARE(dynamic_cast<const nmscope::SettingError&>(error).setting(), nmscope::Setting::Shard);
      QVERIFY2(error.reason().find("more shards than the sweep has points (3)") != std::string::npos, error.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestSweepPlan)
#include "test_sweep_plan.moc"
