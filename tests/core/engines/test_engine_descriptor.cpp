// Engines described, not spelled: every variant's descriptor agrees with its name's family, each family's baselines
// are the ones its traits name, each (pattern, width) has exactly one packed variant per family, and supports()
// follows the descriptor with the variant's name in its reason.
#include <QtTest/QtTest>
#include <algorithm>

#include "nmscope/engine_registry.hpp"

using namespace nmscope;

namespace {

// Every N:M with M <= 8, and a few wider ones.
std::vector<NMPattern> patterns_to_try() {
  std::vector<NMPattern> patterns = {NMPattern::dense(), {3, 16}, {8, 16}, {4, 32}};
  for (int group = 2; group <= 8; ++group)
    for (int kept = 1; kept <= group; ++kept) patterns.push_back({kept, group});
  return patterns;
}

}  // namespace

class TestEngineDescriptor final : public QObject {
  Q_OBJECT

 private slots:
  void descriptors_agree_with_names_and_family_traits() {
    const EngineRegistry& registry = EngineRegistry::global();
    std::vector<std::string> names;
    for (const auto& engine : registry.engines()) {
      const EngineDescriptor& described = engine->descriptor();
      QVERIFY2(!described.kernel.empty() && !described.device.empty(), described.name.c_str());
      QCOMPARE(engine_family(described.name), std::optional<EngineFamily>(described.family));
      const EngineFamilyTraits& traits = family_traits(described.family);
      const auto& further = traits.further_baselines;
      const bool named_baseline = described.name == traits.dense_baseline ||
                                  std::find(further.begin(), further.end(), described.name) != further.end();
      QCOMPARE(described.is_baseline, named_baseline);
      if (!described.is_baseline) QCOMPARE(described.baseline(), dense_baseline_engine(described.name));
      QVERIFY2(std::find(names.begin(), names.end(), described.name) == names.end(), described.name.c_str());
      names.push_back(described.name);
    }
  }

  // cpu/int4-nm and gpu/int4-nm differ only by their families' fast paths: within a family every configuration a
  // packed kernel can take has exactly one variant.
  void each_configuration_has_one_packed_variant_per_family() {
    const EngineRegistry& registry = EngineRegistry::global();
    for (EngineFamily family : {EngineFamily::Cpu, EngineFamily::Gpu}) {
      for (int bits : {2, 3, 4, 8}) {
        QuantConfig quant;
        quant.bits = bits;
        quant.group = 128;
        for (const NMPattern& pattern : patterns_to_try()) {
          std::vector<std::string> takers;
          for (const auto& engine : registry.engines())
            if (engine->descriptor().family == family && !engine->descriptor().is_baseline &&
                engine->supports(pattern, quant, nullptr))
              takers.push_back(engine->name());
          const std::string what =
              family_traits(family).name + " " + pattern.to_string() + " int" + std::to_string(bits);
          QVERIFY2(takers.size() == 1, (what + ": " + std::to_string(takers.size()) + " variants").c_str());
          QVERIFY2(takers.front().rfind(family_traits(family).name + "/int" + std::to_string(bits) + "-", 0) == 0,
                   (what + " -> " + takers.front()).c_str());
        }
      }
    }
  }

  void refusals_name_the_variant_and_the_reason() {
    const EngineRegistry& registry = EngineRegistry::global();
    QuantConfig int8;
    int8.bits = 8;
    std::string reason;
    QVERIFY(!registry.find("cpu/int4-2:4")->supports({2, 4}, int8, &reason));
    QCOMPARE(reason, std::string("cpu/int4-2:4: does not run int8 weights"));
    QuantConfig int4;
    QVERIFY(!registry.find("cpu/int4-2:4")->supports({1, 4}, int4, &reason));
    QCOMPARE(reason, std::string("cpu/int4-2:4: runs 2:4 only, not 1:4"));
    QVERIFY(!registry.find("cpu/int4-nm")->supports({2, 4}, int4, &reason));
    QCOMPARE(reason, std::string("cpu/int4-nm: 2:4 has its own variant"));
    QuantConfig asymmetric = int4;
    asymmetric.symmetric = false;
    QVERIFY(!registry.find("gpu/int4-2:4")->supports({2, 4}, asymmetric, &reason));
    QCOMPARE(reason, std::string("gpu/int4-2:4: symmetric quantization only"));
    QVERIFY(registry.find("cpu/int4-2:4")->supports({2, 4}, asymmetric, nullptr));
    // N:N keeps every weight: the GPU runs it on its dense tiles, the CPU as a format of its own.
    QVERIFY(registry.find("gpu/int4-dense")->supports({4, 4}, int4, nullptr));
    QVERIFY(registry.find("cpu/int4-nm")->supports({4, 4}, int4, nullptr));
    // A limit checked by arithmetic: a scale group that does not cover whole K tiles.
    QuantConfig group48 = int4;
    group48.group = 48;
    QVERIFY(!registry.find("gpu/int4-2:4")->supports({2, 4}, group48, &reason));
    QVERIFY2(reason.find("not a multiple of 32") != std::string::npos, reason.c_str());
    QVERIFY(!registry.find("fpga/systolic-16x16")->supports({2, 4}, QuantConfig::fp16(), &reason));
    QCOMPARE(reason, std::string("fpga/systolic-16x16: does not run fp16 weights"));
  }

  void listings_say_what_a_variant_runs() {
    const EngineRegistry& registry = EngineRegistry::global();
    QCOMPARE(registry.find("cpu/int4-nm")->descriptor().describe_support(),
             std::string("int4; any N:M but dense, 2:4, 1:4, 4:8, 2:8"));
    QCOMPARE(registry.find("gpu/int8-2:4")->descriptor().describe_support(),
             std::string("int8; 2:4; symmetric; scale groups of whole K tiles (16 columns; 32 on the 2:4 path)"));
    QCOMPARE(registry.find("cpu/eigen-fp32-dense")->descriptor().describe_support(), std::string("any width; any N:M"));
  }
};

QTEST_GUILESS_MAIN(TestEngineDescriptor)
#include "test_engine_descriptor.moc"
