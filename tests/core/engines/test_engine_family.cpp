// The family traits every front end asks instead of matching name prefixes: each registered engine belongs to a
// family whose baseline is registered too, and rows of engines this build lacks are still placed in their family.
#include <QtTest/QtTest>
#include <map>

#include "nmscope/engine_family.hpp"
#include "nmscope/engine_registry.hpp"

using namespace nmscope;

class TestEngineFamily final : public QObject {
  Q_OBJECT

 private slots:
  void every_registered_engine_has_a_family_and_a_registered_baseline() {
    const EngineRegistry& registry = EngineRegistry::global();
    QVERIFY(registry.engines().size() > 10);
    for (const auto& engine : registry.engines()) {
      const auto family = engine_family(engine->name());
      QVERIFY2(family.has_value(), engine->name().c_str());
      QCOMPARE(family_traits(*family).name, engine->family());
      const std::string baseline = dense_baseline_engine(engine->name());
      QVERIFY2(registry.find(baseline) != nullptr, baseline.c_str());
      for (const std::string& further : further_baselines_of(engine->name()))
        QVERIFY2(registry.find(further) != nullptr, further.c_str());
    }
  }

  void baselines_follow_the_family() {
    QCOMPARE(dense_baseline_engine("cpu/int4-2:4"), std::string("cpu/eigen-fp32-dense"));
    QCOMPARE(dense_baseline_engine("gpu/int8-2:4"), std::string("gpu/cublas-fp16-dense"));
    // An array is compared with itself running the dense configuration, counted in cycles.
    QCOMPARE(dense_baseline_engine("fpga/systolic-8x8"), std::string("fpga/systolic-8x8"));
    QVERIFY(baseline_is_dense_configuration("fpga/systolic-8x8"));
    QVERIFY(family_counts_cycles("fpga/systolic-64x4"));
    QVERIFY(!baseline_is_dense_configuration("cpu/int4-2:4"));
    QVERIFY(!family_counts_cycles("gpu/int4-2:4"));
    QCOMPARE(further_baselines_of("gpu/int4-2:4"), std::vector<std::string>{"gpu/cusparselt-fp16-2:4"});
    QCOMPARE(further_baselines_of("cpu/int4-2:4"), std::vector<std::string>{"cpu/onednn-bf16-dense"});
    // The dense candidates for the strongest baseline: cuSPARSELt (2:4) is not one; the FPGA has its own dense runs.
    QCOMPARE(dense_baselines_of("cpu/int4-2:4"),
             (std::vector<std::string>{"cpu/eigen-fp32-dense", "cpu/onednn-bf16-dense"}));
    QCOMPARE(dense_baselines_of("gpu/int4-2:4"), std::vector<std::string>{"gpu/cublas-fp16-dense"});
    QVERIFY(dense_baselines_of("fpga/systolic-16x16").empty());
    for (const auto& traits : all_family_traits())
      for (const std::string& alternative : traits.dense_alternatives)
        QVERIFY2(std::find(traits.further_baselines.begin(), traits.further_baselines.end(), alternative) !=
                     traits.further_baselines.end(),
                 "a dense alternative is timed beside the baseline");
  }

  void the_strongest_dense_baseline_is_the_fastest_measured() {
    const std::map<std::string, double> times = {{"cpu/eigen-fp32-dense", 2500}, {"cpu/onednn-bf16-dense", 2000}};
    const auto time_of = [&](const std::string& engine) -> std::optional<double> {
      const auto found = times.find(engine);
      return found == times.end() ? std::nullopt : std::optional<double>(found->second);
    };
    const auto strongest = strongest_dense_baseline("cpu/int4-2:4", time_of);
    QVERIFY(strongest);
    QCOMPARE(strongest->engine, std::string("cpu/onednn-bf16-dense"));
    QCOMPARE(strongest->time_us, 2000.0);
    // Only Eigen measured: Eigen, named; nothing measured: none.
    const auto only_eigen = strongest_dense_baseline("cpu/int4-2:4", [](const std::string& engine) {
      return engine == "cpu/eigen-fp32-dense" ? std::optional<double>(2500) : std::nullopt;
    });
    QCOMPARE(only_eigen->engine, std::string("cpu/eigen-fp32-dense"));
    QVERIFY(!strongest_dense_baseline("cpu/int4-2:4", [](const std::string&) { return std::optional<double>(); }));
    QVERIFY(!strongest_dense_baseline("fpga/systolic-16x16", time_of));
    QCOMPARE(family_traits(EngineFamily::Gpu).compute_bound_batch, 64);
    QCOMPARE(family_traits(EngineFamily::Cpu).compute_bound_batch, 16);
  }

  // The one reader of packed variant names (the CPU and GPU decoders used a regex and a substr of their own).
  void packed_variant_names_spell_family_width_and_pattern() {
    const auto two_four = packed_variant_name("gpu/int4-2:4");
    QVERIFY(two_four.has_value());
    QCOMPARE(int(two_four->family), int(EngineFamily::Gpu));
    QCOMPARE(two_four->bits, 4);
    QVERIFY(two_four->pattern == (NMPattern{2, 4}));
    const auto dense = packed_variant_name("cpu/int8-dense");
    QVERIFY(dense && dense->family == EngineFamily::Cpu && dense->bits == 8 && dense->pattern.is_dense());
    QVERIFY(packed_variant_name("cpu/int3-3:4").has_value());   // the decoders take any N:M by name
    QVERIFY(!packed_variant_name("cpu/int4-nm").has_value());   // the general variant names no pattern
    QVERIFY(!packed_variant_name("cpu/int5-2:4").has_value());  // no packed kernel of that width
    QVERIFY(!packed_variant_name("cpu/eigen-fp32-dense").has_value());
    QVERIFY(!packed_variant_name("gpu/int4-2:x").has_value());
  }

  void names_outside_the_families_have_none() {
    QVERIFY(!engine_family("none").has_value());
    QVERIFY(!engine_family("tpu/int4-2:4").has_value());
    QVERIFY(!engine_family("cpu").has_value());  // a family name alone is not a variant
    QVERIFY(!is_engine_of(EngineFamily::Cpu, "cpux/int4"));
    QCOMPARE(dense_baseline_engine("tpu/int4-2:4"), std::string("tpu/int4-2:4"));
    QVERIFY(!baseline_is_dense_configuration("tpu/int4-2:4"));
  }
};

QTEST_APPLESS_MAIN(TestEngineFamily)
#include "test_engine_family.moc"
