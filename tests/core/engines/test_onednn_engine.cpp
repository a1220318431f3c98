// cpu/onednn-bf16-dense, the CPU's second dense baseline: available wherever oneDNN has a bf16 matmul, its products
// agree with the double reference to bf16's rounding on shapes with odd sizes and several batches, and its rows say
// which OpenMP wait policy it ran under (CTest sets PASSIVE: Qt loads OpenMP at start). That nmscope-cli loads OpenMP
// only with the module, after asking for PASSIVE, is test_cli's benchRunsTheOneDnnBaselineWithPassiveOpenMp.

#include <QtTest>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "nmscope/engine_registry.hpp"
#include "nmscope/study.hpp"

using namespace nmscope;

class TestOneDnnEngine : public QObject {
  Q_OBJECT

 private slots:
  void registered_as_a_baseline_and_available() {
    const EngineRegistry registry = EngineRegistry::with_options({});
    const Engine* engine = registry.find("cpu/onednn-bf16-dense");
    QVERIFY(engine);
    QVERIFY(engine->descriptor().is_baseline);
    const Availability availability = engine->availability();
    // Only a CPU without oneDNN's bf16 kernels may refuse it; a module that does not load is a broken build.
    if (!availability.available && QString::fromStdString(availability.reason).contains("no bf16 matmul"))
      QSKIP(availability.reason.c_str());
    QVERIFY2(availability.available, availability.reason.c_str());
    QCOMPARE(QString(std::getenv("OMP_WAIT_POLICY")).toUpper(), QString("PASSIVE"));
  }

  void products_agree_with_the_reference_to_bf16_rounding() {
    StudySpec spec;
    spec.sources = {"synth:37x300+64x256"};
    spec.patterns = {NMPattern{2, 4}};
    spec.bits = {4};
    spec.engines = "cpu/onednn-bf16-dense";
    spec.batches = {1, 5};
    spec.timing.target_seconds = 0.002;
    spec.timing.min_repetitions = 3;
    std::vector<Measurement> rows;
    StudyObserver observer;
    observer.measured = [&](const Measurement& m) { rows.push_back(m); };
    run_study(spec, nullptr, observer);
    QCOMPARE(int(rows.size()), 4);
    for (const Measurement& row : rows) {
      QVERIFY2(row.status == "ok", row.note.c_str());
      QVERIFY(row.engine_rel_err.has_value());
      // bf16 keeps 8 significant bits: the error is that of rounding every weight and activation, no more, and
      // never zero (which would mean the fp32 weights were used).
      QVERIFY2(*row.engine_rel_err > 1e-4 && *row.engine_rel_err < 1e-2,
               qPrintable(QString::number(*row.engine_rel_err)));
      const nlohmann::json details = nlohmann::json::parse(row.details_json);
      QVERIFY2(!details["implementation"].get<std::string>().empty(), row.details_json.c_str());
      QCOMPARE(details["omp_wait_policy"].get<std::string>(), std::string("PASSIVE"));
      QVERIFY(details["threads"].get<int>() >= 1);
    }
  }
};

QTEST_GUILESS_MAIN(TestOneDnnEngine)
#include "test_onednn_engine.moc"
