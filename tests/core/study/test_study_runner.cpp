// The study runner through run_study with a real ResultsStore: what is stored equals what was observed, progress
// counts to the total, cancellation stops at a safe point without a partial row, an unusable source is skipped
// and counted, and StudySpec::validate names the option at fault.
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <optional>
#include <set>
#include <thread>

#include "../store/store_test_support.hpp"
#include "nmscope/error.hpp"
#include "nmscope/interleaved_speedup.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/study_settings.hpp"

using nmscope::Error;
using nmscope::Measurement;
using nmscope::NMPattern;
using nmscope::ResultsStore;
using nmscope::StudyObserver;
using nmscope::StudyProgress;
using nmscope::StudySpec;
using nmscope::StudySummary;

namespace {

// Everything the observer saw.
struct Observed {
  std::vector<Measurement> measured;
  std::vector<Error> skipped;
  std::vector<StudyProgress> progress;

  StudyObserver observer() {
    StudyObserver o;
    o.measured = [this](const Measurement& m) { measured.push_back(m); };
    o.skipped = [this](const Error& e) { skipped.push_back(e); };
    o.progress = [this](const StudyProgress& p) { progress.push_back(p); };
    return o;
  }
};

StudySpec accuracy_spec(const std::string& source) {
  StudySpec spec;
  spec.sources = {source};
  spec.patterns = {NMPattern::dense(), NMPattern{2, 4}};
  spec.bits = {8, 4};
  spec.engines = "none";
  return spec;
}

StudySpec timed_spec(const std::string& source) {
  StudySpec spec;
  spec.sources = {source};
  spec.patterns = {NMPattern{2, 4}, NMPattern{1, 4}};
  spec.bits = {4};
  spec.engines = "cpu";
  spec.batches = {1, 2};
  spec.timing.target_seconds = 0.005;
  spec.timing.min_repetitions = 3;
  return spec;
}

std::string configuration_key(const Measurement& m) {
  return m.tensor + "|" + m.pattern.to_string() + "|" + std::to_string(m.quant.bits) + "|" + m.engine + "|" +
         std::to_string(m.batch);
}

// A stored row must be whole: every field a finished measurement sets is set.
QString incomplete_fields(const Measurement& m, bool timed) {
  QString missing;
  if (m.study_id.empty()) missing += "study_id ";
  if (m.source_hash.empty()) missing += "source_hash ";
  if (m.rows <= 0 || m.cols <= 0) missing += "shape ";
  if (m.storage_bytes <= 0) missing += "storage_bytes ";
  if (!(m.compression_vs_fp16 > 0)) missing += "compression_vs_fp16 ";
  if (!(m.weight_rel_err > 0)) missing += "weight_rel_err ";
  if (m.engine.empty()) missing += "engine ";
  if (m.status != "ok") missing += "status ";
  if (timed && (!m.time_us || !(*m.time_us > 0))) missing += "time_us ";
  if (timed && !m.engine_rel_err) missing += "engine_rel_err ";
  return missing;
}

}  // namespace

class TestStudyRunner final : public QObject {
  Q_OBJECT

 private slots:
  void storesWhatItObserves() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("study.db").toStdString());
    Observed observed;
    const StudySpec spec = accuracy_spec("synth:tiny-block");
    const StudySummary summary = nmscope::run_study(spec, &store, observed.observer());

    const int64_t expected = 3 * 2 * 2;  // tensors x patterns x bits
    QVERIFY(!summary.cancelled);
    QCOMPARE(summary.skipped, 0);
    QCOMPARE(summary.measurements, expected);
    QCOMPARE(int64_t(observed.measured.size()), expected);
    QVERIFY(observed.skipped.empty());
    QCOMPARE(store.count(), expected);

    const std::vector<Measurement> rows = store.all();
    std::set<std::string> keys;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Measurement& seen = observed.measured[i];
      QCOMPARE(rows[i].study_id, summary.study_id);
      QCOMPARE(configuration_key(rows[i]), configuration_key(seen));
      QCOMPARE(rows[i].storage_bytes, seen.storage_bytes);
      QCOMPARE(rows[i].weight_rel_err, seen.weight_rel_err);
      QCOMPARE(rows[i].output_rel_err, seen.output_rel_err);
      QCOMPARE(rows[i].engine, std::string("none"));
      QVERIFY(!rows[i].time_us);
      keys.insert(configuration_key(rows[i]));
    }
    QCOMPARE(int64_t(keys.size()), expected);  // the cross product, each combination once
    QCOMPARE(int64_t(store.by_study(summary.study_id).size()), expected);
  }

  // A variant and its family's baseline of the same configuration and batch are timed in alternating rounds: the
  // variant's row keeps the per-round speedup and its spread; the baseline's row, and a variant timed without its
  // baseline, keep none.
  void variantsAreTimedRoundByRoundWithTheirBaseline() {
    Observed observed;
    StudySpec spec = timed_spec("synth:64x256");
    spec.engines = "cpu/eigen-fp32-dense,cpu/int4-2:4";
    spec.patterns = {NMPattern{2, 4}};
    spec.batches = {1};
    nmscope::run_study(spec, nullptr, observed.observer());
    QCOMPARE(int(observed.measured.size()), 2);
    for (const Measurement& row : observed.measured) {
      QCOMPARE(row.status, std::string("ok"));
      const auto ratio = nmscope::interleaved_speedup(row, "cpu/eigen-fp32-dense");
      QCOMPARE(ratio.has_value(), row.engine == "cpu/int4-2:4");
      if (!ratio) continue;
      QVERIFY(ratio->rounds >= spec.timing.min_repetitions);
      QVERIFY(ratio->p10 > 0 && ratio->p10 <= ratio->median && ratio->median <= ratio->p90);
      QCOMPARE(row.time_p10_us.has_value(), true);
      QVERIFY(!nmscope::interleaved_speedup(row, "gpu/cublas-fp16-dense"));  // only against the one it was timed with
    }
    Observed alone;
    spec.engines = "cpu/int4-2:4";
    nmscope::run_study(spec, nullptr, alone.observer());
    QCOMPARE(int(alone.measured.size()), 1);
    QVERIFY(!nmscope::interleaved_speedup(alone.measured[0], "cpu/eigen-fp32-dense"));
  }

  void progressReachesTotal() {
    Observed observed;
    const StudySpec spec = timed_spec("synth:16x32+8x24");
    const StudySummary summary = nmscope::run_study(spec, nullptr, observed.observer());
    // tensors x patterns x bits x (3 engines: the Eigen and oneDNN baselines and the one cpu/int4-N:M variant for the
    // pattern) x 2 batches; the other cpu/ variants are built for other configurations and add no rows.
    const int64_t expected = 2 * 2 * 1 * 3 * 2;
    QCOMPARE(summary.measurements, expected);
    QVERIFY(!observed.progress.empty());
    int64_t previous = 0;
    for (const auto& progress : observed.progress) {
      QCOMPARE(progress.total, expected);
      QVERIFY(progress.done >= previous && progress.done <= progress.total);
      previous = progress.done;
    }
    QCOMPARE(observed.progress.back().done, expected);
    QVERIFY(observed.progress.back().current.empty());
    for (const auto& m : observed.measured) QVERIFY2(incomplete_fields(m, true).isEmpty(), qPrintable(incomplete_fields(m, true)));
  }

  void cancelFromMeasuredKeepsWholeRows() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("cancel.db").toStdString();
    ResultsStore store(path);
    std::atomic<bool> cancel{false};
    Observed observed;
    StudyObserver observer = observed.observer();
    observer.measured = [&](const Measurement& m) {
      observed.measured.push_back(m);
      cancel.store(true);
    };
    const StudySpec spec = timed_spec("synth:tiny-block");
    const StudySummary summary = nmscope::run_study(spec, &store, observer, &cancel);

    QVERIFY(summary.cancelled);
    QCOMPARE(summary.measurements, 1);
    QCOMPARE(observed.measured.size(), size_t(1));
    QCOMPARE(store.count(), 1);
    const std::vector<Measurement> rows = store.all();
    QCOMPARE(configuration_key(rows[0]), configuration_key(observed.measured[0]));
    QVERIFY2(incomplete_fields(rows[0], true).isEmpty(), qPrintable(incomplete_fields(rows[0], true)));
    QVERIFY(!rows[0].created_at.empty());
    QVERIFY(observed.progress.back().done < observed.progress.back().total);

    store_test::RawDatabase raw(path);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 1LL);
  }

  void cancelFromProgressStopsBeforeTheNextJob() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("cancel-progress.db").toStdString());
    std::atomic<bool> cancel{false};
    Observed observed;
    StudyObserver observer = observed.observer();
    // Progress fires before each job: once one job is done, ask to stop. The job being announced may still run
    // (the runner checks the flag at its safe points), but no row may be half-written and the rest must not run.
    observer.progress = [&](const StudyProgress& progress) {
      observed.progress.push_back(progress);
      if (progress.done >= 1) cancel.store(true);
    };
    const StudySpec spec = accuracy_spec("synth:tiny-block");
    const StudySummary summary = nmscope::run_study(spec, &store, observer, &cancel);

    QVERIFY(summary.cancelled);
    QCOMPARE(summary.measurements, int64_t(observed.measured.size()));
    QCOMPARE(store.count(), int64_t(observed.measured.size()));
    QVERIFY(store.count() >= 1 && store.count() <= 2);
    for (const auto& row : store.all()) QVERIFY2(incomplete_fields(row, false).isEmpty(), qPrintable(incomplete_fields(row, false)));
  }

  void cancelledBeforeStartMeasuresNothing() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("cancel-early.db").toStdString());
    const std::atomic<bool> cancel{true};
    Observed observed;
    const StudySummary summary = nmscope::run_study(accuracy_spec("synth:16x32"), &store, observed.observer(), &cancel);
    QVERIFY(summary.cancelled);
    QCOMPARE(summary.measurements, 0);
    QCOMPARE(store.count(), 0);
  }

  void unavailableSourceIsSkippedAndCounted() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("skip.db").toStdString());
    const std::string missing = dir.filePath("absent.safetensors").toStdString();
    StudySpec spec = accuracy_spec("synth:16x32");
    spec.sources.push_back(missing);
    Observed observed;
    const StudySummary summary = nmscope::run_study(spec, &store, observed.observer());

    QVERIFY(!summary.cancelled);
    QCOMPARE(summary.skipped, 1);
    QCOMPARE(observed.skipped.size(), size_t(1));
    QCOMPARE(observed.skipped[0].subject(), missing);
    QCOMPARE(summary.measurements, 2 * 2);
    QCOMPARE(store.count(), 2 * 2);
    for (const auto& row : store.all()) QCOMPARE(row.source, std::string("synth:16x32"));
    QCOMPARE(observed.progress.back().done, observed.progress.back().total);
    QCOMPARE(observed.progress.back().total, 4);
  }

  void missingTensorIsSkippedOthersMeasured() {
    StudySpec spec = accuracy_spec("synth:tiny-block");
    spec.tensors = {"block.mlp.up_proj.weight", "block.mlp.nowhere.weight"};
    Observed observed;
    const StudySummary summary = nmscope::run_study(spec, nullptr, observed.observer());
    QCOMPARE(summary.skipped, 1);
    QCOMPARE(observed.skipped[0].subject(), std::string("block.mlp.nowhere.weight"));
    QCOMPARE(summary.measurements, 4);
    for (const auto& m : observed.measured) QCOMPARE(m.tensor, std::string("block.mlp.up_proj.weight"));
  }

  void studyOnAWorkerThreadWhileTheCallerReadsAndCancels() {
    // The desktop app's pattern (also run under ThreadSanitizer): the study stores rows from another thread while the
    // calling thread reads the same store, then cancels through the flag.
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("worker.db").toStdString());
    std::atomic<bool> cancel{false};
    std::atomic<int64_t> measured{0};
    StudyObserver observer;
    observer.measured = [&](const Measurement&) { ++measured; };
    StudySpec spec = accuracy_spec("synth:tiny-block");
    spec.bits = {8, 6, 5, 4, 3};  // 3 tensors x 2 patterns x 5 bits = 30 jobs
    StudySummary summary;
    std::atomic<bool> done{false};
    std::thread worker([&] {
      summary = nmscope::run_study(spec, &store, observer, &cancel);
      done = true;
    });
    QElapsedTimer clock;
    clock.start();
    while (measured.load() < 5 && !done.load() && clock.elapsed() < 60000) {
      QVERIFY(store.count() >= 0);
      QVERIFY(store.all().size() <= 30);
    }
    cancel = true;
    worker.join();
    QVERIFY(summary.cancelled || summary.measurements == 30);
    QVERIFY(summary.measurements >= 5);
    QCOMPARE(store.count(), summary.measurements);
    QCOMPARE(measured.load(), summary.measurements);
  }

  // ---- resume (StudySpec::skip_stored) -------------------------------------------------------------------------

  void resumeMeasuresOnlyWhatIsMissing() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("resume.db").toStdString());
    StudySpec half = accuracy_spec("synth:tiny-block");
    half.patterns = {NMPattern{2, 4}};
    QCOMPARE(nmscope::run_study(half, &store, {}).measurements, 3 * 1 * 2);

    StudySpec full = accuracy_spec("synth:tiny-block");
    full.skip_stored = true;
    Observed observed;
    const StudySummary summary = nmscope::run_study(full, &store, observed.observer());
    QCOMPARE(summary.already_stored, 6);
    QCOMPARE(summary.measurements, 6);
    for (const auto& m : observed.measured) QCOMPARE(m.pattern.to_string(), std::string("dense"));
    QCOMPARE(observed.progress.back().done, 12);
    QCOMPARE(observed.progress.back().total, 12);

    std::set<nmscope::MeasurementKey> keys;
    for (const auto& row : store.all()) keys.insert(nmscope::MeasurementKey::of(row));
    QCOMPARE(store.count(), 12);
    QCOMPARE(keys.size(), size_t(12));  // the cross product, each key once
    QVERIFY(store.stored_keys() == keys);
    QCOMPARE(store.stored_keys("block.mlp.up_proj.weight").size(), size_t(4));

    // Everything stored: nothing is pruned, packed or measured; progress names no configuration.
    Observed again;
    const StudySummary nothing = nmscope::run_study(full, &store, again.observer());
    QCOMPARE(nothing.measurements, 0);
    QCOMPARE(nothing.already_stored, 12);
    for (const auto& progress : again.progress)
      QVERIFY2(progress.current.empty() || QString::fromStdString(progress.current).endsWith("loading"),
               progress.current.c_str());
    QCOMPARE(again.progress.back().done, 12);

    // Without skip_stored a study measures everything again.
    full.skip_stored = false;
    QCOMPARE(nmscope::run_study(full, &store, {}).measurements, 12);
    QCOMPARE(store.count(), 24);
  }

  void resumeSkipsEachEngineAndBatchJob() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("resume-timed.db").toStdString());
    StudySpec first = timed_spec("synth:16x32");
    first.batches = {1};
    // 2 patterns x (the Eigen and oneDNN baselines + the one cpu/int4 variant for the pattern) x 1 batch
    QCOMPARE(nmscope::run_study(first, &store, {}).measurements, 6);

    StudySpec both = timed_spec("synth:16x32");
    both.skip_stored = true;
    Observed observed;
    const StudySummary summary = nmscope::run_study(both, &store, observed.observer());
    QCOMPARE(summary.already_stored, 6);
    QCOMPARE(summary.measurements, 6);
    for (const auto& m : observed.measured) QCOMPARE(m.batch, 2);
    QCOMPARE(store.count(), 12);
    QCOMPARE(store.stored_keys().size(), size_t(12));
  }

  void resumeRetriesFailedRowsButNotUnavailableOnes() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("resume-status.db").toStdString();
    ResultsStore store(path);
    StudySpec spec = accuracy_spec("synth:16x32");
    spec.patterns = {NMPattern{2, 4}};
    spec.bits = {4};
    QCOMPARE(nmscope::run_study(spec, &store, {}).measurements, 1);
    store_test::RawDatabase raw(path);
    raw.exec("UPDATE measurements SET status = 'failed'");
    QVERIFY(store.stored_keys().empty());

    spec.skip_stored = true;
    StudySummary summary = nmscope::run_study(spec, &store, {});
    QCOMPARE(summary.measurements, 1);
    QCOMPARE(summary.already_stored, 0);

    raw.exec("UPDATE measurements SET status = 'unavailable'");
    summary = nmscope::run_study(spec, &store, {});
    QCOMPARE(summary.measurements, 0);
    QCOMPARE(summary.already_stored, 1);

    // Other content under the same tensor name (another seed) is another measurement.
    spec.sources = {"synth:16x32:seed=2"};
    QCOMPARE(nmscope::run_study(spec, &store, {}).measurements, 1);
  }

  void storeFailureStopsTheStudyAndNamesTheDatabase() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("failing.db").toStdString();
    ResultsStore store(path);
    {
      // A trigger stands in for a full disk: the fourth insert fails inside the store's transaction.
      store_test::RawDatabase raw(path);
      raw.exec("CREATE TRIGGER refuse BEFORE INSERT ON measurements WHEN (SELECT count(*) FROM measurements) >= 3 "
               "BEGIN SELECT RAISE(ABORT, 'simulated: database or disk is full'); END;");
    }
    Observed observed;
    try {
      nmscope::run_study(accuracy_spec("synth:tiny-block"), &store, observed.observer());
      QFAIL("a store that refuses rows must stop the study");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), path);
      QVERIFY2(QString::fromStdString(error.reason()).contains("simulated: database or disk is full"), error.what());
    }
    QCOMPARE(observed.measured.size(), size_t(3));  // reported only once stored
    QVERIFY(observed.skipped.empty());              // not one skipped job per remaining configuration
    QCOMPARE(store.count(), 3);
  }

  void validateNamesTheOption_data() {
    using nmscope::Setting;
    QTest::addColumn<int>("which");
    QTest::addColumn<int>("setting");
    QTest::newRow("no sources") << 0 << int(Setting::Weights);
    QTest::newRow("no patterns") << 1 << int(Setting::Pattern);
    QTest::newRow("no bits") << 2 << int(Setting::Bits);
    QTest::newRow("bits 9") << 3 << int(Setting::Bits);
    QTest::newRow("bits 1") << 4 << int(Setting::Bits);
    QTest::newRow("group 0") << 5 << int(Setting::Group);
    QTest::newRow("no batches") << 6 << int(Setting::Batch);
    QTest::newRow("batch 0") << 7 << int(Setting::Batch);
    QTest::newRow("wanda without activations") << 8 << int(Setting::Criterion);
    QTest::newRow("unknown engine") << 9 << int(Setting::Engines);
  }

  // Core names the setting in the domain; the front ends say it their way (the CLI's flag, the GUI's field).
  void validateNamesTheOption() {
    QFETCH(int, which);
    QFETCH(int, setting);
    StudySpec spec = accuracy_spec("synth:16x32");
    switch (which) {
      case 0: spec.sources.clear(); break;
      case 1: spec.patterns.clear(); break;
      case 2: spec.bits.clear(); break;
      case 3: spec.bits = {4, 9}; break;
      case 4: spec.bits = {1}; break;
      case 5: spec.group = 0; break;
      case 6: spec.batches.clear(); spec.engines = "cpu"; break;
      case 7: spec.batches = {1, 0}; spec.engines = "cpu"; break;
      case 8: spec.criterion = nmscope::PruningCriterion::Wanda; break;
      case 9: spec.engines = "cpu,abacus"; break;
    }
    std::optional<nmscope::Setting> named;
    QString subject;
    try {
      spec.validate();
    } catch (const nmscope::SettingError& error) {
      named = error.setting();
      subject = QString::fromStdString(error.subject());
    }
    QVERIFY2(named.has_value(), "validate must throw a SettingError");
    QCOMPARE(int(*named), setting);
    QCOMPARE(subject, QString(nmscope::setting_name(*named)));
    QVERIFY(!subject.startsWith("--"));

    // run_study refuses it the same way, before anything is stored.
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("invalid.db").toStdString());
    Observed observed;
    QVERIFY_THROWS_EXCEPTION(Error, nmscope::run_study(spec, &store, observed.observer()));
    QCOMPARE(store.count(), 0);
    QVERIFY(observed.measured.empty() && observed.progress.empty());
  }

  // The settings as the CLI and the app give them become a spec in one place (core's make_study_spec).
  void settingsBecomeASpecInOnePlace() {
    nmscope::StudySettings settings;
    settings.patterns = "dense, 2:4";
    settings.bits = "8,4";
    settings.batches = "1, 16,1";
    settings.engines = "none";
    const StudySpec spec = nmscope::make_study_spec(settings);
    QCOMPARE(int(spec.patterns.size()), 2);
    QCOMPARE(spec.bits, (std::vector<int>{8, 4}));
    QCOMPARE(spec.batches, (std::vector<int>{1, 16}));  // trimmed, each once
    QCOMPARE(spec.engines, std::string("none"));
    auto setting_of = [](const nmscope::StudySettings& bad) {
      try {
        nmscope::make_study_spec(bad);
      } catch (const nmscope::SettingError& error) {
        return int(error.setting());
      }
      return -1;
    };
    nmscope::StudySettings bad = settings;
    bad.batches = "1,x";
    QCOMPARE(setting_of(bad), int(nmscope::Setting::Batch));
    bad = settings;
    bad.timing_seconds = 0;
    QCOMPARE(setting_of(bad), int(nmscope::Setting::TimingBudget));
    bad = settings;
    bad.criterion = "obs";
    QCOMPARE(setting_of(bad), int(nmscope::Setting::Criterion));
  }

  void validateAcceptsAGoodSpec() {
    StudySpec spec = timed_spec("synth:16x32");
    spec.criterion = nmscope::PruningCriterion::Wanda;
    spec.activations_path = "/some/activations.npy";  // read when the study runs, not when it is validated
    spec.validate();
    StudySpec none = accuracy_spec("synth:16x32");
    none.validate();
  }
};

QTEST_APPLESS_MAIN(TestStudyRunner)
#include "test_study_runner.moc"
