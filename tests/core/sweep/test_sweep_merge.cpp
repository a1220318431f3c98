// Shards of a small synthetic sweep measured through run_sweep_shard and merged through merge_databases: the merge
// of four shards holds exactly the unsharded sweep's keys, once each; merging again adds nothing; a shard resumes;
// provenance (spec hash, Slurm ids) travels; duplicates, conflicts, a truncated shard, a newer schema and shards of
// another spec are reported or refused as the contract says.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "../store/store_test_support.hpp"
#include "nmscope/error.hpp"
#include "nmscope/merge.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/sweep.hpp"
#include "sweep_test_support.hpp"

using nmscope::Error;
using nmscope::ResultsStore;
using sweep_test::RawDatabase;

namespace {

struct Sweep {
  nmscope::SweepSpec spec;
  nmscope::SweepPlan plan;
  explicit Sweep(const std::string& json) : spec(nmscope::parse_sweep_spec(json, "sweep.json")) {
    plan = nmscope::plan_sweep(spec, nmscope::list_sweep_tensors(spec));
  }
  nmscope::SweepShardSummary run(int index, int count, const std::string& db) const {
    ResultsStore store(db);
    return nmscope::run_sweep_shard(spec, plan, {index, count}, store, {});
  }
};

}  // namespace

class TestSweepMerge : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::vector<std::string> shards_;
  std::string unsharded_;

  std::string path(const QString& name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    const Sweep sweep(sweep_test::small_spec());
    QCOMPARE(int(sweep.plan.points.size()), sweep_test::kSmallSpecPoints);
    qputenv("SLURM_JOB_ID", "4242");
    qputenv("SLURM_ARRAY_TASK_ID", "1");
    int64_t points = 0;
    for (int shard = 0; shard < 4; ++shard) {
      shards_.push_back(path(QString("shard-%1.db").arg(shard)));
      const auto summary = sweep.run(shard, 4, shards_.back());
      QCOMPARE(summary.skipped, int64_t{0});
      QCOMPARE(summary.measurements, summary.points);
      points += summary.points;
    }
    qunsetenv("SLURM_JOB_ID");
    qunsetenv("SLURM_ARRAY_TASK_ID");
    QCOMPARE(points, int64_t{sweep_test::kSmallSpecPoints});
    unsharded_ = path("unsharded.db");
    QCOMPARE(sweep.run(0, 1, unsharded_).measurements, int64_t{sweep_test::kSmallSpecPoints});
  }

  void shardRecordsSpecAndSlurmProvenance() {
    const auto records = ResultsStore(shards_[1]).sweep_shards();
    QCOMPARE(records.size(), std::size_t{1});
    QCOMPARE(records[0].spec_hash, Sweep(sweep_test::small_spec()).spec.hash);
    QCOMPARE(records[0].shard_index, 1);
    QCOMPARE(records[0].shard_count, 4);
    QCOMPARE(records[0].slurm_job_id, std::string("4242"));
    QCOMPARE(records[0].slurm_array_task_id, std::string("1"));
    QCOMPARE(ResultsStore(shards_[1]).by_study(records[0].study_id).size(), std::size_t(records[0].points));
  }

  void shardResumesWhatItHolds() {
    const std::string copy = path("resumed.db");
    QVERIFY(QFile::copy(QString::fromStdString(shards_[2]), QString::fromStdString(copy)));
    const auto summary = Sweep(sweep_test::small_spec()).run(2, 4, copy);
    QCOMPARE(summary.measurements, int64_t{0});
    QCOMPARE(summary.already_stored, summary.points);
  }

  void mergedShardsEqualTheUnshardedSweep() {
    const std::string merged = path("merged.db");
    const auto report = nmscope::merge_databases(merged, shards_);
    QCOMPARE(report.added(), int64_t{sweep_test::kSmallSpecPoints});
    QCOMPARE(report.duplicates(), int64_t{0});
    QCOMPARE(report.conflicts(), int64_t{0});
    QVERIFY(report.broken().empty());
    const auto merged_keys = RawDatabase(merged).keys();
    QCOMPARE(merged_keys, RawDatabase(unsharded_).keys());
    QCOMPARE(std::set<std::string>(merged_keys.begin(), merged_keys.end()).size(), merged_keys.size());
    QCOMPARE(ResultsStore(merged).sweep_shards().size(), std::size_t{4});

    // Again: nothing new, every row a duplicate.
    const auto again = nmscope::merge_databases(merged, shards_);
    QCOMPARE(again.added(), int64_t{0});
    QCOMPARE(again.duplicates(), int64_t{sweep_test::kSmallSpecPoints});
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM measurements"), sweep_test::kSmallSpecPoints);
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM sweep_shards"), 4);
  }

  void mergingIntoAnExistingOutputAddsOnlyWhatIsMissing() {
    const std::string merged = path("partial.db");
    QCOMPARE(nmscope::merge_databases(merged, {shards_[0], shards_[1]}).added(),
             RawDatabase(shards_[0]).integer("SELECT count(*) FROM measurements") +
                 RawDatabase(shards_[1]).integer("SELECT count(*) FROM measurements"));
    const auto report = nmscope::merge_databases(merged, shards_);
    QCOMPARE(report.inputs[0].added + report.inputs[1].added, int64_t{0});
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM measurements"), sweep_test::kSmallSpecPoints);
  }

  void runDescriptionsNeverConflictAndAConflictNamesItsField() {
    // One FPGA result measured twice: the simulation ran at another speed (a property of the host's load), the
    // cycles and the array's figures are the same. A duplicate. A third run whose utilization differs conflicts, and
    // the conflict line names the field and both values.
    auto fpga_row = [](double simulated_per_second, double utilization) {
      nmscope::Measurement m = store_test::sample_measurement(1, "fpga-study");
      m.engine = "fpga/systolic-8x8";
      m.host = "vm | Some CPU | 2 cores";
      m.details_json = nlohmann::json{
          {"utilization", utilization},
          {"simulated_cycles_per_second", simulated_per_second},
          {"simulation_seconds", 4321 / simulated_per_second},
          {"cycles_source",
           "rtl"}}.dump();
      return m;
    };
    const std::string first = path("fpga-a.db"), second = path("fpga-b.db"), third = path("fpga-c.db");
    ResultsStore(first).insert(fpga_row(1.1e6, 0.5));
    ResultsStore(second).insert(fpga_row(0.4e6, 0.5));
    ResultsStore(third).insert(fpga_row(0.9e6, 0.75));
    nmscope::MergeOptions force;
    force.force = true;  // not written by a sweep
    const auto report = nmscope::merge_databases(path("fpga-merged.db"), {first, second, third}, force);
    QCOMPARE(report.added(), int64_t{1});
    QCOMPARE(report.duplicates(), int64_t{1});
    QCOMPARE(report.conflicts(), int64_t{1});
    QVERIFY2(report.conflict_examples[0].description.find("details_json.utilization 0.5 vs 0.75") != std::string::npos,
             report.conflict_examples[0].description.c_str());
  }

  void differentFiguresAreConflictsAndTheMergedRowStays() {
    // The unsharded run timed the CPU rows again: same keys, other times. The FPGA rows are cycle counts from the
    // same model, so they come back as duplicates.
    const std::string merged = path("conflicts.db");
    nmscope::merge_databases(merged, shards_);
    const auto report = nmscope::merge_databases(merged, {unsharded_});
    QCOMPARE(report.added(), int64_t{0});
    QVERIFY2(report.conflicts() > 0, "the CPU times differ between runs");
    QCOMPARE(report.conflicts() + report.duplicates(), int64_t{sweep_test::kSmallSpecPoints});
    QVERIFY(!report.conflict_examples.empty());
    QVERIFY(report.conflict_examples[0].description.find("cpu/eigen-fp32-dense") != std::string::npos);
    // The line names the figure that differs and both values.
    QVERIFY2(report.conflict_examples[0].description.find(": time_us ") != std::string::npos,
             report.conflict_examples[0].description.c_str());
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM measurements"), sweep_test::kSmallSpecPoints);
  }

  void truncatedShardIsNamedAndTheRestMerged() {
    const std::string broken = path("truncated.db");
    QVERIFY(QFile::copy(QString::fromStdString(shards_[3]), QString::fromStdString(broken)));
    QFile file(QString::fromStdString(broken));
    QVERIFY(file.resize(file.size() / 2));
    const std::string merged = path("without-3.db");
    const auto report = nmscope::merge_databases(merged, {shards_[0], shards_[1], shards_[2], broken});
    QCOMPARE(report.broken(), std::vector<std::string>{broken});
    QCOMPARE(report.inputs[3].added, int64_t{0});
    QCOMPARE(report.added(),
             sweep_test::kSmallSpecPoints - RawDatabase(shards_[3]).integer("SELECT count(*) FROM measurements"));
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM pragma_quick_check WHERE quick_check = 'ok'"), 1);
  }

  void newerSchemaIsRefusedBeforeAnythingIsWritten() {
    const std::string newer = path("newer.db");
    QVERIFY(QFile::copy(QString::fromStdString(shards_[0]), QString::fromStdString(newer)));
    RawDatabase(newer).exec("PRAGMA user_version = " + std::to_string(ResultsStore::kSchemaVersion + 1));
    const std::string merged = path("never.db");
    try {
      nmscope::merge_databases(merged, {shards_[1], newer});
      QFAIL("merged a newer schema");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), newer);
      QVERIFY2(error.reason().find("newer nmscope") != std::string::npos, error.what());
    }
    QVERIFY(!QFile::exists(QString::fromStdString(merged)));
  }

  void shardsOfAnotherSpecAreRefusedUnlessForced() {
    const std::string other = path("other-spec.db");
    QVERIFY(Sweep(sweep_test::small_spec("4")).run(0, 8, other).measurements > 0);
    const std::string merged = path("mixed.db");
    try {
      nmscope::merge_databases(merged, {shards_[0], other});
      QFAIL("merged shards of two specs");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), other);
      QVERIFY2(error.reason().find("another sweep spec") != std::string::npos, error.what());
    }
    QVERIFY(!QFile::exists(QString::fromStdString(merged)));
    // The output already holds one spec: a shard of another is refused too.
    nmscope::merge_databases(merged, {shards_[0]});
    QVERIFY_THROWS_EXCEPTION(Error, nmscope::merge_databases(merged, {other}));
    nmscope::MergeOptions force;
    force.force = true;
    QVERIFY(nmscope::merge_databases(merged, {other}, force).added() > 0);
  }

  void modelTablesMergeLikeMeasurements() {
    auto evaluation = [](const std::string& pattern, double perplexity) {
      nmscope::ModelEvaluationRecord record;
      record.study_id = "study-" + pattern;
      record.model = "models/tiny";
      record.model_type = "llama";
      record.family = "decoder";
      record.pattern = nmscope::NMPattern::parse(pattern);
      record.quant = nmscope::QuantConfig{4, nmscope::Granularity::Group, 128, true};
      record.criterion = "magnitude";
      record.quantizer = "rtn";
      record.evaluation = "eval.npy";
      record.eval_sequences = 2;
      record.eval_tokens = 16;
      record.storage_bytes = 1000;
      record.weight_count = 4000;
      record.bits_per_weight = 2;
      record.perplexity = perplexity;
      record.seconds = 1.5;
      record.host = "node1 | Some CPU | 8 cores";
      record.build = "test";
      return record;
    };
    auto rollup = [](const std::string& role, double speedup) {
      nmscope::ModelRollupRow row;
      row.study_id = "rollup-study";
      row.model = "llama-7b";
      row.source = "synth:llama-7b";
      row.pattern = nmscope::NMPattern{2, 4};
      row.quant = nmscope::QuantConfig{4, nmscope::Granularity::Group, 128, true};
      row.criterion = "magnitude";
      row.engine = "cpu/int4-2:4";
      row.batch = 1;
      row.role = role;
      row.layers = 7;
      row.speedup = speedup;
      row.baseline = "cpu/eigen-fp32-dense";
      return row;
    };
    const std::string first = path("model-a.db"), second = path("model-b.db"), merged = path("model-merged.db");
    {
      ResultsStore store(first);
      store.insert_model_evaluation(evaluation("2:4", 12.5), {});
      store.insert_model_evaluation(evaluation("1:4", 30.0), {});
      store.insert_model_rollup({rollup("all", 1.7), rollup("attn.q", 1.5)});
    }
    {
      ResultsStore store(second);
      auto again = evaluation("1:4", 30.0);  // another run, same figures: a duplicate (its wall time is no figure)
      again.study_id = "other-study";
      again.seconds = 9.0;
      again.host = "node2 | Some CPU | 8 cores";
      store.insert_model_evaluation(again, {});
      store.insert_model_evaluation(evaluation("2:4", 13.0), {});  // other perplexity: a conflict
      store.insert_model_evaluation(evaluation("4:8", 9.0), {});   // new
      auto elsewhere = evaluation("2:4", 11.0);                     // another kind of machine: its own row
      elsewhere.host = "gpu7 | Other CPU | 64 cores";
      store.insert_model_evaluation(elsewhere, {});
      store.insert_model_rollup({rollup("all", 1.7), rollup("mlp.up", 1.9)});
    }
    nmscope::MergeOptions force;
    force.force = true;  // no sweep_shards in these: not written by a sweep
    const auto report = nmscope::merge_databases(merged, {first, second}, force);
    QCOMPARE(report.model_evaluations().added, int64_t{4});
    QCOMPARE(report.model_evaluations().duplicates, int64_t{1});
    QCOMPARE(report.model_evaluations().conflicts, int64_t{1});
    QCOMPARE(report.model_rollups().added, int64_t{3});
    QCOMPARE(report.model_rollups().duplicates, int64_t{1});
    QCOMPARE(report.model_rollups().conflicts, int64_t{0});
    QCOMPARE(report.all_conflicts(), int64_t{1});
    QVERIFY(!report.conflict_examples.empty());
    QVERIFY2(report.conflict_examples[0].description.find("model_evaluations:") == 0,
             report.conflict_examples[0].description.c_str());
    QVERIFY(report.conflict_examples[0].description.find("2:4") != std::string::npos);
    // The row merged first stays.
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM model_evaluations WHERE pattern = '2:4' AND "
                                         "perplexity = 12.5"),
             1);

    // Again: nothing new.
    const auto again = nmscope::merge_databases(merged, {first, second}, force);
    QCOMPARE(again.model_evaluations().added, int64_t{0});
    QCOMPARE(again.model_evaluations().duplicates, int64_t{5});
    QCOMPARE(again.model_rollups().added, int64_t{0});
    QCOMPARE(again.model_rollups().duplicates, int64_t{4});
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM model_evaluations"), 4);
    QCOMPARE(RawDatabase(merged).integer("SELECT count(*) FROM model_rollups"), 3);
    const auto stored = ResultsStore(merged).model_rollups();
    QCOMPARE(stored.size(), std::size_t{3});
    QCOMPARE(stored[0].speedup, 1.7);
    QCOMPARE(stored[0].study_id, std::string("rollup-study"));
  }

  void hostClassDropsTheHostName() {
    QCOMPARE(nmscope::host_class("node17 | AMD EPYC 9654 | 96 cores"), std::string("AMD EPYC 9654 | 96 cores"));
    QCOMPARE(nmscope::host_class("plain"), std::string("plain"));
  }
};

QTEST_GUILESS_MAIN(TestSweepMerge)
#include "test_sweep_merge.moc"
