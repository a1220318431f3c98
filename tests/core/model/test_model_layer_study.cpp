// Model studies over every linear layer (nmscope-cli model): the embedded shape presets, the shape dedup of timing,
// the rollup's arithmetic against the per-layer rows, the database rows, the JSON output, and bad input.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_process.hpp"
#include "model_test_support.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model.hpp"
#include "nmscope/model_layer_study.hpp"
#include "nmscope/model_preset.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/synthetic.hpp"

using namespace nmscope;
using nmscope::test::run_cli;

namespace {

ModelLayerStudySpec tiny_llama_spec(const std::string& engines) {
  ModelLayerStudySpec spec;
  spec.model = model_test::fixture("tiny_llama");
  spec.study.patterns = {NMPattern::parse("2:4")};
  spec.study.bits = {4};
  spec.study.group = 16;
  spec.study.engines = engines;
  spec.study.batches = {1, 4};
  spec.study.timing.target_seconds = 0.005;
  return spec;
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(b)); }

}  // namespace

class TestModelLayerStudy final : public QObject {
  Q_OBJECT

 private slots:
  void presets_carry_the_real_shapes() {
    QCOMPARE(model_preset_names(), std::string("llama-2-13b, llama-3-8b, llama-7b, mistral-7b, qwen2-7b"));
    const ModelPreset* llama = find_model_preset("llama-7b");
    QVERIFY(llama != nullptr);
    QCOMPARE(llama->config.hidden, int64_t{4096});
    QCOMPARE(llama->config.intermediate, int64_t{11008});
    QCOMPARE(llama->config.blocks, int64_t{32});
    QCOMPARE(llama->config.vocab, int64_t{32000});
    const std::vector<PresetLayer> layers = preset_linear_layers(*llama);
    QCOMPARE(layers.size(), std::size_t{224});
    QCOMPARE(layers[6].name, std::string("model.layers.0.mlp.down_proj.weight"));
    QCOMPARE(layers[6].rows, int64_t{4096});
    QCOMPARE(layers[6].cols, int64_t{11008});
    // Grouped-query attention: k/v are kv_heads * head_dim wide.
    const ModelPreset* qwen = find_model_preset("qwen2-7b");
    QVERIFY(qwen != nullptr);
    QCOMPARE(qwen->config.kv_heads, int64_t{4});
    const std::vector<PresetLayer> qwen_layers = preset_linear_layers(*qwen);
    QCOMPARE(qwen_layers.size(), std::size_t{7 * 28});
    QCOMPARE(qwen_layers[1].rows, int64_t{512});
    QCOMPARE(find_model_preset("llama-3-8b")->config.kv_heads, int64_t{8});
    QCOMPARE(find_model_preset("llama-2-13b")->config.hidden, int64_t{5120});
    QCOMPARE(find_model_preset("mistral-7b")->config.intermediate, int64_t{14336});
  }

  void a_preset_is_a_model_with_roles_and_synthetic_weights() {
    const auto model = Model::preset("llama-7b");
    const auto layers = model->linear_layers();
    QCOMPARE(layers.size(), std::size_t{224});
    QCOMPARE(layers[0]->role, LayerRole::Query);
    QCOMPARE(layers[223]->role, LayerRole::Down);
    QCOMPARE(layers[223]->block, int64_t{31});
    QCOMPARE(model->directory(), std::string("synth:llama-7b"));
    // The same generator as every synth: spec (outlier channels, fixed seed): same bits from the spec itself.
    const auto source = open_weight_source("synth:llama-7b");
    const MatrixF rows = source->load_rows("model.layers.3.self_attn.k_proj.weight", 0, 2);
    const MatrixF again = model->load_rows(*layers[3 * 7 + 1], 0, 2);
    QVERIFY(rows == again);
    QVERIFY_THROWS_EXCEPTION(Error, Model::preset("llama-999b"));
  }

  void each_shape_is_timed_once() {
    const ModelLayerPlan plan = plan_model_layer_study(tiny_llama_spec("cpu/int4-2:4"));
    QCOMPARE(plan.layers.size(), std::size_t{14});
    // The dense baselines of the cpu family are added when missing (the rollup quotes the stronger).
    QVERIFY(plan.study.engines.find("cpu/eigen-fp32-dense") != std::string::npos);
    QVERIFY(plan.study.engines.find("cpu/onednn-bf16-dense") != std::string::npos);
    const ModelLayerStudyResult result = run_model_layer_study(plan, nullptr, {});
    std::set<std::pair<int64_t, int64_t>> shapes;
    for (const auto& layer : result.layers) shapes.insert({layer.rows, layer.cols});
    QCOMPARE(result.summary.shapes_timed, int64_t(shapes.size()));
    QCOMPARE(result.distinct_shapes, int64_t(shapes.size()));
    // 14 layers x 3 engines x 2 batches rows; one timing per (shape, engine, batch), the rest reused.
    QCOMPARE(result.rows.size(), std::size_t{14 * 3 * 2});
    QCOMPARE(result.summary.timings_reused, int64_t(result.rows.size() - shapes.size() * 3 * 2));
    int64_t timed_rows = 0;
    for (const Measurement& row : result.rows) {
      const auto details = nlohmann::json::parse(row.details_json);
      QVERIFY(details.contains("role"));
      QVERIFY(details.contains("block"));
      if (!details.contains("timed_on")) ++timed_rows;
      else QVERIFY(row.note.find("timed on") != std::string::npos);
      QVERIFY(row.time_us.has_value());
    }
    QCOMPARE(timed_rows, int64_t(shapes.size() * 3 * 2));
  }

  // Layers without an engine job are measured in row slices (the runner's streamed path); the first layer of each
  // shape with an engine goes through the whole-matrix path. Both must give the same figures to the bit.
  void streamed_and_whole_matrix_figures_agree() {
    const ModelLayerStudyResult streamed = run_model_layer_study(plan_model_layer_study(tiny_llama_spec("none")), nullptr, {});
    const ModelLayerStudyResult mixed =
        run_model_layer_study(plan_model_layer_study(tiny_llama_spec("cpu/eigen-fp32-dense")), nullptr, {});
    std::map<std::string, const Measurement*> by_tensor;
    for (const Measurement& row : streamed.rows) by_tensor[row.tensor] = &row;
    QCOMPARE(by_tensor.size(), std::size_t{14});
    int whole = 0;
    for (const Measurement& row : mixed.rows) {
      const Measurement& other = *by_tensor.at(row.tensor);
      QCOMPARE(row.weight_rel_err, other.weight_rel_err);
      QCOMPARE(row.output_rel_err, other.output_rel_err);
      QCOMPARE(row.storage_bytes, other.storage_bytes);
      QCOMPARE(row.source_hash, other.source_hash);
      if (row.details_json.find("timed_on") == std::string::npos) ++whole;
    }
    QVERIFY(whole > 0);
  }

  void rollup_adds_up_the_layer_rows() {
    const ModelLayerStudyResult result = run_model_layer_study(plan_model_layer_study(tiny_llama_spec("cpu/int4-2:4")), nullptr, {});
    std::map<std::string, std::string> role_of;
    for (const auto& layer : result.layers) role_of[layer.tensor] = layer.role;
    int checked = 0;
    int whole_rows = 0;
    for (const ModelRollupRow& rollup : result.rollup) {
      if (rollup.role == kWholeModelRole) {
        // The whole model beside the linear layers, to the byte (tiny_llama: vocab 256, hidden 64, 2 blocks): the
        // head packed like them, 2:4 + int4 with group-16 scales (256 rows of 16 value, 8 metadata and 4 x 2 scale
        // bytes), the embedding table (256 rows of 32 code bytes and one fp16 scale per 128 columns:
        // docs/packed-format.md, "Token-embedding tables"), 5 fp16 norm gains of 64.
        const ModelRollupRow* all = nullptr;
        for (const ModelRollupRow& other : result.rollup)
          if (other.role == "all" && other.engine == rollup.engine && other.batch == rollup.batch &&
              other.pattern == rollup.pattern && other.quant.bits == rollup.quant.bits)
            all = &other;
        QVERIFY(all != nullptr);
        QCOMPARE(rollup.storage_bytes, all->storage_bytes + 256 * 32 + 256 * 34 + 5 * 64 * 2);
        QCOMPARE(rollup.fp16_bytes, all->fp16_bytes + 2 * 2 * 256 * 64 + 5 * 64 * 2);
        QCOMPARE(rollup.layers, all->layers + 1);
        QVERIFY(std::isnan(rollup.time_per_token_us));
        ++whole_rows;
        continue;
      }
      int64_t layers = 0, storage = 0, weights = 0;
      double time = 0, weight_err = 0, max_output_err = 0;
      for (const Measurement& row : result.rows) {
        if (row.engine != rollup.engine || row.batch != rollup.batch) continue;
        if (rollup.role != "all" && role_of.at(row.tensor) != rollup.role) continue;
        ++layers;
        storage += row.storage_bytes;
        weights += row.rows * row.cols;
        time += *row.time_us;
        weight_err += row.weight_rel_err;
        max_output_err = std::max(max_output_err, row.output_rel_err);
      }
      QCOMPARE(rollup.layers, layers);
      QCOMPARE(rollup.storage_bytes, storage);
      QCOMPARE(rollup.fp16_bytes, 2 * weights);
      QVERIFY(close(rollup.compression_vs_fp16, double(2 * weights) / double(storage)));
      QVERIFY(close(rollup.time_us, time));
      QVERIFY(close(rollup.time_per_token_us, time / rollup.batch));
      QVERIFY(close(rollup.mean_weight_rel_err, weight_err / double(layers)));
      QCOMPARE(rollup.max_output_rel_err, max_output_err);
      // The speedup divides the strongest dense baseline's rollup of the same role and batch (the faster of Eigen
      // and oneDNN, named) by this one.
      const ModelRollupRow* strongest = nullptr;
      for (const ModelRollupRow& base : result.rollup)
        if ((base.engine == "cpu/eigen-fp32-dense" || base.engine == "cpu/onednn-bf16-dense") &&
            base.batch == rollup.batch && base.role == rollup.role &&
            (!strongest || base.time_per_token_us < strongest->time_per_token_us))
          strongest = &base;
      QVERIFY(strongest);
      QCOMPARE(rollup.baseline, strongest->engine);
      QVERIFY(close(rollup.speedup, strongest->time_per_token_us / rollup.time_per_token_us));
      ++checked;
    }
    // (all + 7 roles) x 3 engines x 2 batches
    QCOMPARE(checked, 8 * 3 * 2);
    QCOMPARE(whole_rows, 3 * 2);
  }

  void rows_and_rollup_land_in_the_database() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    ResultsStore store(path);
    ModelLayerStudySpec spec = tiny_llama_spec("none");
    spec.layers = "mlp";
    const ModelLayerStudyResult result = run_model_layer_study(plan_model_layer_study(spec), &store, {});
    QCOMPARE(result.layers.size(), std::size_t{6});
    QCOMPARE(store.by_study(result.study_id).size(), std::size_t{6});
    const auto rollup = store.model_rollups(result.study_id);
    QCOMPARE(rollup.size(), std::size_t{4});  // all, mlp.gate, mlp.up, mlp.down
    QCOMPARE(rollup[0].role, std::string("all"));
    QCOMPARE(rollup[0].engine, std::string("none"));
    QCOMPARE(rollup[0].storage_bytes, result.rollup[0].storage_bytes);
    QVERIFY(std::isnan(rollup[0].time_per_token_us));
    QCOMPARE(rollup[0].model, model_test::fixture("tiny_llama"));
  }

  void cli_prints_the_rollup_as_json() {
    QTemporaryDir dir;
    const QString db = dir.filePath("cli.db");
    // One LLaMA-7B layer on the FPGA array: its baseline is the dense configuration of the same array.
    const auto result = run_cli({"model", "--preset", "llama-7b", "--layers", "layers\\.0\\.self_attn\\.q", "--pattern",
                                 "dense,2:4", "--bits", "4", "--engines", "fpga/systolic-16x16", "--batch", "2", "--db", db,
                                 "--json"});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    const auto json = nlohmann::json::parse(result.out.toStdString());
    QCOMPARE(json["layers"].get<int>(), 1);
    QCOMPARE(json["shapes_timed"].get<int64_t>(), json["distinct_shapes"].get<int64_t>());
    bool sparse_speedup = false;
    for (const auto& row : json["rollup"]) {
      if (row["role"] != "all") continue;
      QCOMPARE(row["baseline"].get<std::string>(), std::string("fpga/systolic-16x16 dense"));
      if (row["pattern"] == "2:4") {
        sparse_speedup = true;
        QVERIFY(row["speedup"].get<double>() > 1.0);  // the array skips the pruned half
      }
    }
    QVERIFY(sparse_speedup);
    QCOMPARE(json["layer_rows"].size(), std::size_t{2});
    QCOMPARE(nmscope::ResultsStore(db.toStdString()).model_rollups(json["study_id"]).size(), json["rollup"].size());
  }

  void an_interrupted_study_resumed_rolls_up_every_layer() {
    // A first run stored the 2:4 rows only (as an interrupted one would have); --resume with dense,2:4 measures the
    // dense rows alone and rolls up both configurations over both layers (it rolled up nothing before).
    QTemporaryDir dir;
    const QString db = dir.filePath("resume.db");
    const QStringList base = {"model",  "--preset", "llama-7b",  "--layers", "layers\\.[01]\\.self_attn\\.q",
                              "--bits", "4",        "--engines", "none",     "--db",
                              db,       "--json"};
    const auto first = run_cli(base + QStringList{"--pattern", "2:4"});
    QVERIFY2(first.exit_code == 0, qPrintable(first.describe()));
    const auto resumed = run_cli(base + QStringList{"--pattern", "dense,2:4", "--resume"});
    QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.describe()));
    const auto json = nlohmann::json::parse(resumed.out.toStdString());
    QCOMPARE(json["layer_rows"].size(), std::size_t{2});  // measured now: the dense rows of the two layers
    std::set<std::string> rolled;
    for (const auto& row : json["rollup"])
      if (row["role"] == "all") {
        rolled.insert(row["pattern"].get<std::string>());
        QCOMPARE(row["layers"].get<int64_t>(), int64_t{2});
      }
    QCOMPARE(rolled, (std::set<std::string>{"dense", "2:4"}));
  }

  void cli_table_says_how_many_shapes_were_timed() {
    QTemporaryDir dir;
    const auto result = run_cli({"model", "--preset", "llama-7b", "--layers", "layers\\.(0|1)\\.self_attn\\.[qk]",
                                 "--engines", "cpu/eigen-fp32-dense", "--batch", "1", "--timing-seconds", "0.01",
                                 "--db", dir.filePath("t.db")});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.out.contains("1 shapes timed for 4 layers"), qPrintable(result.out));
    QVERIFY(result.out.contains("by layer role"));
  }

  void bad_input_is_one_line_and_leaves_the_database_alone_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("subject");
    QTest::addColumn<int>("exit_code");
    QTest::newRow("unknown preset") << QStringList{"--preset", "llama-999b"} << "llama-2-13b, llama-3-8b, llama-7b" << 2;
    QTest::newRow("invalid regex") << QStringList{"--preset", "llama-7b", "--layers", "(["} << "--layers" << 2;
    QTest::newRow("regex matches nothing") << QStringList{"--preset", "llama-7b", "--layers", "lm_head"}
                                           << "matches none of the 224" << 2;
    QTest::newRow("neither model nor preset") << QStringList{"--engines", "none"} << "--model" << 2;
  }
  void bad_input_is_one_line_and_leaves_the_database_alone() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, subject);
    QFETCH(int, exit_code);
    QTemporaryDir dir;
    const QString db = dir.filePath("untouched.db");
    const auto result = run_cli(QStringList{"model", "--db", db} + arguments);
    QCOMPARE(result.exit_code, exit_code);
    QCOMPARE(result.err_lines().size(), 1);
    QVERIFY2(result.err.contains(subject), qPrintable(result.err));
    QVERIFY(!QFile::exists(db));
  }

  void a_directory_whose_config_does_not_match_its_tensors_is_refused() {
    QTemporaryDir dir;
    const std::string model = model_test::copy_model(dir, "tiny_llama");
    nlohmann::json config = model_test::read_config(model);
    config["intermediate_size"] = config["intermediate_size"].get<int>() + 8;
    model_test::write_config(model, config);
    const QString db = dir.filePath("untouched.db");
    const auto result = run_cli({"model", "--model", QString::fromStdString(model), "--db", db});
    QCOMPARE(result.exit_code, 1);
    QCOMPARE(result.err_lines().size(), 1);
    QVERIFY2(result.err.contains("does not match"), qPrintable(result.err));
    QVERIFY(!QFile::exists(db));
  }
};

QTEST_APPLESS_MAIN(TestModelLayerStudy)
#include "test_model_layer_study.moc"
