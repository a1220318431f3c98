// The charts over the results model: the pure rules they plot by (Pareto front, speedup against the same study's
// baseline, FPGA figures), that each chart shows exactly the measurements of the model and selection, and the
// interactions and exports every chart shares through ChartView.
#include <QAbstractAxis>
#include <QAbstractBarSeries>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QFile>
#include <QHorizontalStackedBarSeries>
#include <QImage>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QScatterSeries>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QWheelEvent>
#include <QtTest>
#include <cmath>
#include <memory>

#include "charts/chart_view.hpp"
#include "charts/cycles_chart.hpp"
#include "charts/fpga_figures.hpp"
#include "charts/layer_error_chart.hpp"
#include "charts/measurement_groups.hpp"
#include "charts/model_accuracy_chart.hpp"
#include "charts/pareto_chart.hpp"
#include "charts/pareto_front.hpp"
#include "charts/roofline_chart.hpp"
#include "charts/speedup_chart.hpp"
#include "charts/speedup_table.hpp"
#include "model/model_study_view.hpp"
#include "nmscope/interleaved_speedup.hpp"
#include "nmscope/model_layer_study.hpp"
#include "nmscope/results_store.hpp"
#include "results/results_model.hpp"

using nmscope::Measurement;
using nmscope::ResultsStore;
using namespace nmscope::gui;

namespace {

Measurement row_for(const std::string& tensor, int kept, int group, int bits, const std::string& engine = "none",
                    int batch = 0) {
  Measurement m;
  m.study_id = "study-1";
  m.source = "synth:test";
  m.source_hash = "hash-" + tensor;
  m.tensor = tensor;
  m.rows = 256;
  m.cols = 512;
  m.pattern = {kept, group};
  m.quant =
      bits == 16 ? nmscope::QuantConfig::fp16() : nmscope::QuantConfig{bits, nmscope::Granularity::Group, 128, true};
  m.criterion = "magnitude";
  m.engine = engine;
  m.batch = batch;
  const double kept_fraction = double(kept) / group;
  m.storage_bytes = int64_t(m.rows * m.cols * kept_fraction * bits / 8) + (group == 1 ? 0 : m.rows * m.cols / 16);
  m.compression_vs_fp16 = double(m.rows * m.cols * 2) / double(m.storage_bytes);
  m.weight_rel_err = (1 - kept_fraction) * 0.6 + std::pow(2.0, -bits) + 1e-4;
  m.output_rel_err = m.weight_rel_err * 0.8;
  m.details_json = "{}";
  return m;
}

Measurement timed(Measurement m, double time_us, const std::string& study = "study-1") {
  m.time_us = time_us;
  m.study_id = study;
  return m;
}

Measurement fpga_row(const std::string& config_tensor, int array_rows, int array_cols, int64_t cycles,
                     double utilization, int bits = 4) {
  Measurement m = row_for(config_tensor, 2, 4, bits,
                          "fpga/systolic-" + std::to_string(array_rows) + "x" + std::to_string(array_cols), 1);
  m.cycles = cycles;
  m.details_json = "{\"utilization\": " + std::to_string(utilization) + ", \"bram\": 12}";
  return m;
}

QPair<double, double> range_of(QAbstractAxis* axis) {
  if (auto* value = qobject_cast<QValueAxis*>(axis)) return {value->min(), value->max()};
  if (auto* log = qobject_cast<QLogValueAxis*>(axis)) return {log->min(), log->max()};
  return {0, 0};
}

QAbstractAxis* axis_at(ChartView* view, Qt::Alignment side) {
  for (QAbstractAxis* axis : view->chart()->axes())
    if (axis->alignment() == side) return axis;
  return nullptr;
}

// The study's grid: 3 tensors x {dense, 2:4, 1:4, 4:8} x {16, 8, 4} bits, each timed by the CPU baseline at two
// batches — two engine rows per configuration that repeat its accuracy figures.
void fill_study(ResultsStore& store) {
  for (const std::string tensor : {"layers.0.q_proj", "layers.0.down_proj", "layers.1.q_proj"})
    for (auto [kept, group] : {std::pair{1, 1}, {2, 4}, {1, 4}, {4, 8}})
      for (int bits : {16, 8, 4})
        for (int batch : {1, 16})
          store.insert(timed(row_for(tensor, kept, group, bits, "cpu/eigen-fp32-dense", batch), 100.0 * batch));
}

nmscope::ModelEvaluationRecord evaluation(const std::string& study, const std::string& model, const std::string& family,
                                          const std::string& pattern, int bits, const std::string& criterion,
                                          double value) {
  nmscope::ModelEvaluationRecord record;
  record.study_id = study;
  record.model = model;
  record.model_type = family == "encoder" ? "bert" : "llama";
  record.family = family;
  record.pattern = nmscope::NMPattern::parse(pattern);
  record.quant =
      bits == 16 ? nmscope::QuantConfig::fp16() : nmscope::QuantConfig{bits, nmscope::Granularity::Group, 128, true};
  record.criterion = criterion;
  record.quantizer = criterion == "none" ? "none" : "rtn";
  record.evaluation = "eval.npy";
  record.eval_sequences = 4;
  record.eval_tokens = 16;
  record.weight_count = 1000;
  record.bits_per_weight = bits == 16 ? 16.0 : (pattern == "2:4" ? 0.5 : 1.0) * bits + (pattern == "2:4" ? 1.125 : 0.125);
  record.storage_bytes = int64_t(record.bits_per_weight * 1000 / 8);
  if (family == "encoder") {
    record.mean_cosine = value;
  } else {
    record.dense_perplexity = 10.0;
    record.perplexity = value;
    record.mean_kl = value / 100;
    record.top1_agreement = 1 - value / 100;
  }
  return record;
}

}  // namespace

class TestCharts final : public QObject {
  Q_OBJECT

 private slots:
  void chartsFollowTheWidgetPalette() {
    ResultsModel model;
    ParetoChart chart(&model, nullptr);
    QPalette dark;
    dark.setColor(QPalette::Base, QColor(30, 30, 34));
    dark.setColor(QPalette::Text, QColor(230, 230, 230));
    dark.setColor(QPalette::Window, QColor(40, 40, 44));
    chart.view()->setPalette(dark);
    QCOMPARE(chart.view()->chart()->backgroundBrush().color(), QColor(30, 30, 34));
    QCOMPARE(chart.view()->chart()->titleBrush().color(), QColor(230, 230, 230));
    for (QAbstractAxis* axis : chart.view()->chart()->axes()) QCOMPARE(axis->labelsBrush().color(), QColor(230, 230, 230));
  }

  void paretoFrontKeepsOnlyUndominatedPoints() {
    const std::vector<ParetoPoint> points = {
        {4, 0.10},   // 0: on the front
        {2, 0.30},   // 1: on the front
        {3, 0.35},   // 2: dominated by 1 (cheaper and better)
        {8, 0.01},   // 3: on the front
        {4, 0.20},   // 4: same cost as 0, worse error
        {8, 0.01},   // 5: exact copy of 3: only the first is kept
        {6, 0.10},   // 6: same error as 0, more cost: dominated
        {NAN, 0.0},  // 7: no coordinate, ignored
        {1, NAN},    // 8: ignored
    };
    const std::vector<int> front = pareto_front(points);
    QCOMPARE(front, (std::vector<int>{1, 0, 3}));
    QVERIFY(pareto_front({}).empty());
    QCOMPARE(pareto_front({{5, 0.5}}), std::vector<int>{0});
  }

  void distinctRowsPreferTheEngineNoneRow() {
    std::vector<Measurement> rows = {row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), row_for("t", 2, 4, 4, "none"),
                                     row_for("t", 2, 4, 8, "cpu/eigen-fp32-dense", 1),
                                     row_for("t", 2, 4, 8, "cpu/eigen-fp32-dense", 16)};
    QCOMPARE(distinct_accuracy_rows(rows, effective_rows(rows, {})), (std::vector<int>{1, 2}));
    QCOMPARE(effective_rows(rows, {3, 9, -1, 0}), (std::vector<int>{3, 0}));
    QCOMPARE(config_label(rows[0]), QString("2:4 int4"));
    QCOMPARE(config_label(row_for("t", 1, 1, 16)), QString("dense fp16"));
    // A decode-step row (no matrix, its weight error stored as 0) is no accuracy point: on the Pareto chart's log
    // axis a 0 would take its whole series, and the front, off the plot.
    Measurement step = timed(row_for("decode-step ctx24", 2, 4, 4, "cpu/int4-2:4", 1), 500);
    step.rows = step.cols = 0;
    step.weight_rel_err = step.output_rel_err = 0;
    rows.push_back(step);
    QCOMPARE(distinct_accuracy_rows(rows, effective_rows(rows, {})), (std::vector<int>{1, 2}));
    ResultsModel model;
    for (const Measurement& row : rows) model.append(row);
    ParetoChart pareto(&model);
    QCOMPARE(pareto.point_count(), 2);
  }

  void paretoChartPlotsOnePointPerConfiguration() {
    QTemporaryDir dir;
    auto store = std::make_shared<ResultsStore>(dir.filePath("results.db").toStdString());
    fill_study(*store);
    ResultsModel model;
    model.set_store(store);
    QCOMPARE(model.rowCount(), 72);
    ParetoChart chart(&model);
    QCOMPARE(chart.point_count(), 36);  // 72 rows, two engine rows per (tensor, configuration)
    QCOMPARE(chart.group_series().size(), 4);
    QCOMPARE(chart.group_series().front()->name(), QString("dense"));
    QVERIFY(chart.front_series() && chart.front_series()->count() > 0);
    // Synthetic sources say so under the chart and in its title (so an exported image says it too).
    QVERIFY(chart.note().contains("synth:test: synthetic weights"));
    QVERIFY(chart.view()->chart()->title().contains("synthetic weights"));
    // The front: no plotted point has both less storage and less error than a front point.
    for (const QPointF& on_front : chart.front_series()->points())
      for (const QScatterSeries* group : chart.group_series())
        for (const QPointF& point : group->points()) QVERIFY(!(point.x() < on_front.x() && point.y() < on_front.y()));

    chart.set_rows({0, 1, 2, 3});  // two configurations, each with its two batches
    QCOMPARE(chart.point_count(), 2);
    chart.set_rows({});
    QCOMPARE(chart.point_count(), 36);

    chart.set_grouping(ParetoChart::Grouping::ByBits);
    QCOMPARE(chart.group_series().size(), 3);
    QCOMPARE(chart.group_series().front()->name(), QString("fp16"));
    QCOMPARE(chart.point_count(), 36);
    chart.set_storage_axis(ParetoChart::StorageAxis::CompressionVsFp16);
    const Measurement& first = model.measurement(chart.rows_of_group(0).front());
    QCOMPARE(chart.group_series()[0]->at(0), QPointF(first.compression_vs_fp16, first.weight_rel_err));
    chart.set_error_metric(ErrorMetric::OutputRelErr);
    QCOMPARE(chart.group_series()[0]->at(0).y(), first.output_rel_err);
  }

  void chartsFollowTheModel() {
    QTemporaryDir dir;
    auto store = std::make_shared<ResultsStore>(dir.filePath("results.db").toStdString());
    store->insert(row_for("a", 2, 4, 4));
    ResultsModel model;
    model.set_store(store);
    ParetoChart pareto(&model);
    LayerErrorChart layers(&model);
    QCOMPARE(pareto.point_count(), 1);
    // A burst of rows from a running study is drawn once, after the burst.
    model.append(row_for("b", 2, 4, 4));
    model.append(row_for("b", 2, 4, 4, "cpu/eigen-fp32-dense", 1));  // same configuration: no new point
    model.append(row_for("c", 1, 4, 8));
    QCOMPARE(pareto.point_count(), 1);
    QTRY_COMPARE(pareto.point_count(), 3);
    QCOMPARE(layers.point_count(), 3);
    // A reset (another database, or a reload) drops the selection, whose row numbers no longer mean anything.
    pareto.set_rows({0});
    QCOMPARE(pareto.point_count(), 1);
    store->insert(row_for("d", 4, 8, 4));
    model.reload();
    QCOMPARE(pareto.point_count(), 2);
    QVERIFY(pareto.rows().isEmpty());
    model.set_store(nullptr);
    QCOMPARE(pareto.point_count(), 0);
    QCOMPARE(pareto.view()->message(), QString("no measurements in the selection"));
  }

  // A variant timed round by round with its baseline shows that ratio (not the ratio of two medians measured at
  // different moments) with its p10-p90 spread, as a whisker over its bar and in its read-out.
  void speedupTimedRoundByRoundShowsItsSpread() {
    std::vector<Measurement> rows = {
        timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100),
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1), 20),   // medians say 5x...
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 16), 30),  // timed alone: no spread
        timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 16), 60),
    };
    rows[1].details_json =
        nmscope::with_interleaved_speedup("{}", "cpu/eigen-fp32-dense", nmscope::RatioStats{4.2, 3.9, 4.6, 80});
    const SpeedupTable table = speedup_table(rows, effective_rows(rows, {}));
    QCOMPARE(int(table.speedups.size()), 4);
    QCOMPARE(table.speedups[1].speedup, 4.2);  // ...the rounds say 4.2x
    QCOMPARE(table.speedups[1].speedup_p10, 3.9);
    QCOMPARE(table.speedups[1].speedup_p90, 4.6);
    QCOMPARE(table.speedups[1].rounds, 80);
    QCOMPARE(table.speedups[2].speedup, 2.0);
    QCOMPARE(table.speedups[2].rounds, 0);

    ResultsModel model;
    for (const Measurement& row : rows) model.append(row);
    SpeedupChart chart(&model);
    QCOMPARE(chart.speedup("cpu/int4-2:4", "2:4 int4, b1"), 4.2);
    const auto [low, high] = chart.spread("cpu/int4-2:4", "2:4 int4, b1");
    QVERIFY(qFuzzyCompare(low, 3.9) && qFuzzyCompare(high, 4.6));
    QVERIFY(std::isnan(chart.spread("cpu/int4-2:4", "2:4 int4, b16").first));
    QCOMPARE(chart.whisker_count(), 1);
    // The whisker is a line from p10 to p90, and no legend entry of its own.
    int whiskers = 0;
    for (QAbstractSeries* series : chart.view()->chart()->series())
      if (auto* line = qobject_cast<QLineSeries*>(series)) {
        ++whiskers;
        double left = 1e9, right = 0;
        for (const QPointF& point : line->points())
          left = std::min(left, point.x()), right = std::max(right, point.x());
        QVERIFY(qFuzzyCompare(left, 3.9) && qFuzzyCompare(right, 4.6));
        for (QLegendMarker* marker : chart.view()->chart()->legend()->markers(line)) QVERIFY(!marker->isVisible());
      }
    QCOMPARE(whiskers, 1);
  }

  // A CPU variant is quoted against the strongest dense baseline measured beside it, named: oneDNN where it was
  // faster than Eigen for that layer and batch, Eigen where it was not (or where oneDNN was not run).
  void speedupIsAgainstTheStrongestDenseBaseline() {
    std::vector<Measurement> rows = {
        timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100),
        timed(row_for("t", 2, 4, 4, "cpu/onednn-bf16-dense", 1), 80),
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1), 20),
        timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 16), 300),
        timed(row_for("t", 2, 4, 4, "cpu/onednn-bf16-dense", 16), 450),
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 16), 100),
    };
    const SpeedupTable table = speedup_table(rows, effective_rows(rows, {}));
    std::map<std::pair<std::string, int>, const Speedup*> bar;
    for (const Speedup& speedup : table.speedups) bar[{speedup.engine, rows[size_t(speedup.row)].batch}] = &speedup;
    QCOMPARE(bar.at({"cpu/int4-2:4", 1})->baseline, std::string("cpu/onednn-bf16-dense"));
    QCOMPARE(bar.at({"cpu/int4-2:4", 1})->speedup, 4.0);
    QCOMPARE(bar.at({"cpu/int4-2:4", 16})->baseline, std::string("cpu/eigen-fp32-dense"));
    QCOMPARE(bar.at({"cpu/int4-2:4", 16})->speedup, 3.0);
    QCOMPARE(bar.at({"cpu/eigen-fp32-dense", 1})->speedup, 0.8);  // the weaker baseline shows what it loses
  }

  void speedupIsAgainstTheSameStudysBaseline() {
    std::vector<Measurement> rows = {
        timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100),
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1), 25),
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 16), 30),                      // no baseline at batch 16
        timed(row_for("t", 2, 4, 4, "gpu/int4-2:4", 1), 5),                        // no gpu baseline at all
        timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 16), 400, "study-2"),  // another study's baseline
        timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 16), 50, "study-2"),
        timed(row_for("u", 2, 4, 4, "cpu/int4-2:4", 1), 10),  // another tensor: no baseline
    };
    rows.push_back(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1));  // not timed: not a bar
    rows.back().status = "unavailable";
    const SpeedupTable table = speedup_table(rows, effective_rows(rows, {}));
    QCOMPARE(int(table.speedups.size()), 4);
    QCOMPARE(table.speedups[0].engine, std::string("cpu/eigen-fp32-dense"));
    QCOMPARE(table.speedups[0].speedup, 1.0);
    QCOMPARE(table.speedups[1].speedup, 4.0);
    QCOMPARE(table.speedups[1].baseline, std::string("cpu/eigen-fp32-dense"));
    QCOMPARE(table.speedups[1].baseline_row, 0);
    QCOMPARE(table.speedups[2].row, 4);  // study-2's baseline against itself
    QCOMPARE(table.speedups[3].row, 5);
    QCOMPARE(table.speedups[3].speedup, 8.0);  // against study-2's baseline (400 us), not study-1's
    QCOMPARE(table.no_baseline, (std::vector<std::string>{"cpu/int4-2:4", "gpu/int4-2:4"}));
    // The baseline is found even when the selection holds only the variant.
    const SpeedupTable selected = speedup_table(rows, {1});
    QCOMPARE(int(selected.speedups.size()), 1);
    QCOMPARE(selected.speedups[0].speedup, 4.0);
    QCOMPARE(baseline_engine_for("gpu/int4-2:4"), std::string("gpu/cublas-fp16-dense"));
    // An array is compared with its own dense run: cycles on one array say nothing of time on another engine.
    QCOMPARE(baseline_engine_for("fpga/systolic-16x16"), std::string("fpga/systolic-16x16"));
    QCOMPARE(
        table.left_out,
        (std::vector<LeftOut>{{"cpu/int4-2:4", "no cpu/eigen-fp32-dense measured in the same study, tensor and batch"},
                              {"gpu/int4-2:4", "no gpu/cublas-fp16-dense measured in the same study, tensor and batch"},
                              {"cpu/int4-2:4", "unavailable"}}));
  }

  void resultsTableSaysWhyARowWasNotMeasured() {
    ResultsModel model;
    Measurement row = row_for("t", 2, 4, 4, "gpu/int4-2:4", 1);
    row.status = "unavailable";
    row.note = "no NVIDIA GPU / driver found";
    model.append(row);
    const int status = ResultsModel::column_of("status");
    QCOMPARE(model.data(model.index(0, status), Qt::DisplayRole).toString(), QString("unavailable"));
    QCOMPARE(model.data(model.index(0, status), Qt::ToolTipRole).toString(),
             QString("unavailable: no NVIDIA GPU / driver found"));
    // Times and sizes read in their unit; the tooltip keeps the raw figure.
    Measurement timed_row = timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1), 7877.155);
    model.append(timed_row);
    const int time = ResultsModel::column_of("time_us");
    QCOMPARE(model.data(model.index(1, time), Qt::DisplayRole).toString(), QString("7.877 ms"));
    QVERIFY(model.data(model.index(1, time), Qt::ToolTipRole).toString().contains("7877.15"));
  }

  void fpgaSpeedupIsAgainstTheSameArraysDenseRun() {
    std::vector<Measurement> rows = {fpga_row("t", 16, 16, 10000, 0.5), fpga_row("t", 16, 16, 4000, 0.9),
                                     fpga_row("t", 32, 32, 3000, 0.4), fpga_row("t", 8, 8, 9000, 0.9, 8)};
    rows[0].pattern = nmscope::NMPattern::dense();  // the 16x16 array's dense int4 run
    const SpeedupTable table = speedup_table(rows, effective_rows(rows, {}));
    QCOMPARE(int(table.speedups.size()), 2);
    QCOMPARE(table.speedups[0].speedup, 1.0);  // the dense run against itself
    QCOMPARE(table.speedups[1].row, 1);
    QCOMPARE(table.speedups[1].baseline_row, 0);
    QCOMPARE(table.speedups[1].baseline, std::string("fpga/systolic-16x16 dense"));
    QCOMPARE(table.speedups[1].cycles, int64_t(4000));
    QCOMPARE(table.speedups[1].speedup, 2.5);
    // 32x32 has no dense run in the study, 8x8 none at 8 bits: no bar, and the reason says what to add.
    QCOMPARE(table.no_baseline, (std::vector<std::string>{"fpga/systolic-32x32", "fpga/systolic-8x8"}));
    QCOMPARE(table.left_out[0].reason,
             std::string("no dense int4 run on the same array in the study (add the dense pattern)"));
    QCOMPARE(table.left_out[1].reason,
             std::string("no dense int8 run on the same array in the study (add the dense pattern)"));

    ResultsModel model;
    for (const Measurement& row : rows) model.append(row);
    SpeedupChart chart(&model);
    QCOMPARE(chart.speedup("fpga/systolic-16x16", "2:4 int4, b1"), 2.5);
    QVERIFY(chart.baselines().contains("fpga/systolic-16x16 dense"));
    QVERIFY(axis_at(chart.view(), Qt::AlignBottom)->titleText().contains("each FPGA array's dense run"));
    QVERIFY2(chart.note().contains("No bar for fpga/systolic-32x32 — no dense int4 run on the same array"),
             qPrintable(chart.note()));
  }

  void speedupChartSaysWhyABarIsMissingOrBelowOne() {
    ResultsModel model;
    model.append(timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100));
    model.append(timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1), 200));  // 256x512: a small layer
    Measurement big_baseline = timed(row_for("w", 2, 4, 4, "cpu/eigen-fp32-dense", 64), 1000);
    Measurement big_variant = timed(row_for("w", 2, 4, 4, "cpu/int4-2:4", 64), 1250);
    for (Measurement* big : {&big_baseline, &big_variant}) big->rows = big->cols = 4096;
    model.append(big_baseline);
    model.append(big_variant);
    // Fourteen GPU variants that could not run, for one reason: one line, not fourteen.
    for (int variant = 0; variant < 14; ++variant) {
      Measurement gpu = row_for("t", 2, 4, 4, "gpu/variant-" + std::to_string(variant), 1);
      gpu.status = "unavailable";
      gpu.note = "no NVIDIA GPU / driver found";
      model.append(gpu);
    }
    SpeedupChart chart(&model);
    QCOMPARE(chart.speedup("cpu/int4-2:4", "2:4 int4, b1"), 0.5);
    QVERIFY(chart.slower_because("cpu/int4-2:4", "2:4 int4, b1").startsWith("small layer (under 512x512 weights)"));
    QVERIFY(chart.slower_because("cpu/int4-2:4", "2:4 int4, b64").startsWith("batch 64: compute-bound"));
    QVERIFY(chart.slower_because("cpu/eigen-fp32-dense", "2:4 int4, b1").isEmpty());
    const QStringList lines = chart.note().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY2(lines[0].startsWith("No bar for 14 variants (gpu/variant-0, ") &&
                 lines[0].endsWith("— unavailable: no NVIDIA GPU / driver found"),
             qPrintable(lines[0]));
    QVERIFY(lines[1].startsWith("Below 1x: cpu/int4-2:4 at 2:4 int4, b64 — batch 64"));
    QVERIFY(lines[2].startsWith("Below 1x: cpu/int4-2:4 at 2:4 int4, b1 — small layer"));
    QVERIFY(chart.view()->chart()->title().contains("no NVIDIA GPU / driver found"));
  }

  void speedupChartShowsTheBaselineAndWhatIsLeftOut() {
    ResultsModel model;
    SpeedupChart chart(&model);
    QCOMPARE(chart.bar_count(), 0);
    QVERIFY(!chart.view()->message().isEmpty());
    model.append(timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100));
    model.append(timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 16), 800));
    model.append(timed(row_for("u", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 50));
    QTRY_COMPARE(chart.bar_count(), 2);
    // Only the baseline measured today: its own 1.0x bars, and the chart says what they are relative to.
    QCOMPARE(chart.engines(), QStringList{"cpu/eigen-fp32-dense"});
    QCOMPARE(chart.categories(), (QStringList{"2:4 int4, b1", "2:4 int4, b16"}));
    QCOMPARE(chart.speedup("cpu/eigen-fp32-dense", "2:4 int4, b1"), 1.0);
    QVERIFY(chart.view()->chart()->title().contains("cpu/eigen-fp32-dense"));
    QVERIFY(axis_at(chart.view(), Qt::AlignBottom)->titleText().contains("speedup vs cpu/eigen-fp32-dense"));
    QVERIFY(chart.note().isEmpty());

    // Variants appear as they land; the bar is the geometric mean over tensors (4x and 1x: 2x).
    model.append(timed(row_for("t", 2, 4, 4, "cpu/int4-2:4", 1), 25));
    model.append(timed(row_for("u", 2, 4, 4, "cpu/int4-2:4", 1), 50));
    model.append(timed(row_for("t", 2, 4, 4, "gpu/int4-2:4", 1), 5));
    QTRY_COMPARE(chart.bar_count(), 3);
    QCOMPARE(chart.engines(), (QStringList{"cpu/eigen-fp32-dense", "cpu/int4-2:4"}));
    QCOMPARE(chart.speedup("cpu/int4-2:4", "2:4 int4, b1"), 2.0);
    QVERIFY(std::isnan(chart.speedup("cpu/int4-2:4", "2:4 int4, b16")));
    QVERIFY(chart.note().contains("gpu/int4-2:4"));
    chart.set_rows({3});
    QCOMPARE(chart.bar_count(), 1);
    QCOMPARE(chart.speedup("cpu/int4-2:4", "2:4 int4, b1"), 4.0);
  }

  void fpgaFiguresComeFromTheNameAndDetails() {
    const auto array = systolic_array_of("fpga/systolic-16x32");
    QVERIFY(array);
    QCOMPARE(array->rows, 16);
    QCOMPARE(array->cols, 32);
    QCOMPARE(array->processing_elements(), 512);
    QVERIFY(!systolic_array_of("fpga/systolic-16"));
    QVERIFY(!systolic_array_of("cpu/eigen-fp32-dense"));
    QVERIFY(!systolic_array_of("fpga/systolic-0x4"));
    QCOMPARE(*utilization_percent(R"({"utilization": 0.75})"), 75.0);
    QCOMPARE(*utilization_percent(R"({"utilization": 62.5})"), 62.5);
    QVERIFY(!utilization_percent("{}"));
    QVERIFY(!utilization_percent(R"({"utilization": "high"})"));
    QVERIFY(!utilization_percent("not json"));
  }

  // The roofline (issue 22): each FPGA row at MACs per port byte and per cycle, under its design point's roofs.
  void rooflinePlacesFpgaRowsUnderTheirRoofs() {
    ResultsModel model;
    RooflineChart chart(&model);
    QVERIFY(chart.point_series().isEmpty());
    QCOMPARE(chart.view()->message(), QString("no FPGA measurements in the selection"));
    model.append(fpga_row("t", 32, 32, 4000, 0.55));  // from before the memory port: no roofline details
    QTRY_COMPARE(chart.view()->message(), QString("the FPGA rows predate the memory port: rerun them for a roofline"));
    Measurement slow = fpga_row("t", 32, 32, 80000, 0.1);
    slow.details_json = R"({"useful_macs": 800000, "weight_bytes_moved": 400000, "port_bytes": 64, "clock_mhz": 250,
                            "memory_gbps": 2, "memory": "2", "bound": "memory", "stall_cycles": 60000})";
    Measurement fast = fpga_row("t", 32, 32, 2000, 0.9);
    fast.details_json = R"({"useful_macs": 1600000, "weight_bytes_moved": 4000, "port_bytes": 64, "clock_mhz": 250,
                            "memory_gbps": 19.2, "memory": "ddr4-2400", "bound": "compute", "stall_cycles": 0})";
    model.append(slow);
    model.append(fast);
    QTRY_COMPARE(chart.point_series().size(), 1);
    QVERIFY(chart.view()->message().isEmpty());
    // x = MACs per byte, y = MACs per cycle.
    QCOMPARE(chart.point_series()[0]->points(), (QList<QPointF>{{2, 10}, {400, 800}}));
    // Two design points, two roofs: 2 GB/s at 250 MHz is 8 bytes per cycle; DDR4-2400 is capped by the 64-byte port.
    QCOMPARE(chart.roof_series().size(), 2);
    QStringList names;
    for (const QLineSeries* roof : chart.roof_series()) names << roof->name();
    QVERIFY2(names.contains("roof: 32x32, 2") && names.contains("roof: 32x32, ddr4-2400"), qPrintable(names.join("|")));
    for (const QLineSeries* roof : chart.roof_series()) {
      const double slope = roof->name().endsWith("ddr4-2400") ? 64 : 8;
      QCOMPARE(roof->at(0).y(), std::min(1024.0, slope * roof->at(0).x()));  // sloped below the ridge
      QCOMPARE(roof->points().last().y(), 1024.0);                           // flat at rows x cols above it
    }
    QCOMPARE(axis_at(chart.view(), Qt::AlignLeft)->titleText(), QString("achieved MACs per cycle"));
  }

  void cyclesChartPlotsFpgaRowsOnly() {
    ResultsModel model;
    CyclesChart chart(&model);
    QCOMPARE(chart.point_count(), 0);
    QCOMPARE(chart.view()->message(), QString("no FPGA measurements in the selection"));
    QVERIFY(!axis_at(chart.view(), Qt::AlignLeft)->isVisible());  // no made-up ranges around nothing
    model.append(timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100));
    model.append(fpga_row("t", 32, 32, 4000, 0.55));
    model.append(fpga_row("t", 16, 32, 9000, 0.8));
    model.append(fpga_row("t", 16, 16, 16000, 0.9));
    model.append(fpga_row("t", 16, 16, 30000, 0.5, 8));
    QTRY_COMPARE(chart.point_count(), 4);
    QVERIFY(chart.view()->message().isEmpty());
    QVERIFY(axis_at(chart.view(), Qt::AlignLeft)->isVisible());
    QCOMPARE(chart.cycles_series().size(), 2);
    QCOMPARE(chart.cycles_series()[0]->name(), QString("2:4 int8"));  // widest bits first
    const QLineSeries* int4 = chart.cycles_series()[1];
    QCOMPARE(int4->name(), QString("2:4 int4"));
    // Ordered by array size: 16x16, 16x32, 32x32.
    QCOMPARE(int4->points(), (QList<QPointF>{{256, 16000}, {512, 9000}, {1024, 4000}}));
    // One metric per plot: cycles and utilization never share an axis.
    QVERIFY(chart.utilization_series().isEmpty());
    QCOMPARE(axis_at(chart.view(), Qt::AlignLeft)->titleText(), QString("cycles"));
    QVERIFY(!axis_at(chart.view(), Qt::AlignRight));
    chart.set_metric(CyclesChart::Metric::Utilization);
    QVERIFY(chart.cycles_series().isEmpty());
    QCOMPARE(chart.utilization_series()[1]->at(1), QPointF(512, 80));
    QCOMPARE(axis_at(chart.view(), Qt::AlignLeft)->titleText(), QString("PE utilization (%)"));
    QCOMPARE(range_of(axis_at(chart.view(), Qt::AlignLeft)), (QPair<double, double>{0, 100}));
    chart.set_metric(CyclesChart::Metric::Cycles);
    chart.set_rows({0});
    QCOMPARE(chart.point_count(), 0);
    QCOMPARE(chart.view()->message(), QString("no FPGA measurements in the selection"));
  }

  void cyclesChartOfManyLayersKeepsOneLegendEntryPerConfiguration() {
    ResultsModel model;
    // 4 layers x 2 configurations x 3 arrays: 8 lines. Colours tell configurations, dashes layers.
    const std::vector<std::string> layers = {"model.layers.0.self_attn.q_proj.weight",
                                             "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
                                             "model.layers.1.self_attn.q_proj.weight"};
    for (const std::string& layer : layers)
      for (int bits : {8, 4})
        for (int dim : {8, 16, 32}) model.append(fpga_row(layer, dim, dim, 100000 / dim, 0.5, bits));
    CyclesChart chart(&model);
    chart.resize(1000, 700);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    QCOMPARE(chart.cycles_series().size(), 8);
    QSet<QRgb> colours;
    QSet<int> dashes;
    for (const QLineSeries* series : chart.cycles_series()) {
      colours.insert(series->pen().color().rgb());
      dashes.insert(int(series->pen().style()));
    }
    QCOMPARE(colours.size(), 2);
    QCOMPARE(dashes.size(), 4);
    // Lines are named by what tells them apart, not by the shared "model." prefix and ".weight" suffix.
    QCOMPARE(chart.cycles_series()[0]->name(), QString("2:4 int8 · layers.0.mlp.down_proj"));
    QStringList legend;
    for (QLegendMarker* marker : chart.view()->chart()->legend()->markers())
      if (marker->isVisible()) legend.append(marker->label());
    QCOMPARE(legend, (QStringList{"2:4 int8", "2:4 int4"}));
    // A click on a configuration's entry hides all its lines, and the entry stays to be clicked back on.
    QLegendMarker* int8_entry = chart.view()->chart()->legend()->markers(chart.cycles_series()[0]).front();
    emit int8_entry->clicked();
    for (int index = 0; index < 4; ++index) QVERIFY(!chart.cycles_series()[index]->isVisible());
    for (int index = 4; index < 8; ++index) QVERIFY(chart.cycles_series()[index]->isVisible());
    QTRY_VERIFY(int8_entry->isVisible());
    QVERIFY(!chart.view()->chart()->legend()->markers(chart.cycles_series()[1]).front()->isVisible());
    emit int8_entry->clicked();
    for (QLineSeries* series : chart.cycles_series()) QVERIFY(series->isVisible());
    QVERIFY2(chart.note().startsWith("line style per layer: solid = layers.0.mlp.down_proj, dashed = "),
             qPrintable(chart.note()));
    QVERIFY(chart.note().contains("layers.1.self_attn.q_proj"));
  }

  void cyclesChartPlotsOneBatchAtATimeByDefault() {
    ResultsModel model;
    for (int batch : {16, 1})
      for (int dim : {8, 16}) {
        Measurement m = fpga_row("t", dim, dim, 1000 * batch / dim, 0.5);
        m.batch = batch;
        model.append(m);
      }
    CyclesChart chart(&model);
    QCOMPARE(chart.batch(), 1);  // the smallest
    QCOMPARE(chart.cycles_series().size(), 1);
    QCOMPARE(chart.point_count(), 2);
    QVERIFY(chart.view()->chart()->title().startsWith("FPGA cycles vs array size (batch 1)"));
    chart.set_batch(0);  // every batch: a dash pattern per batch, said in the note
    QCOMPARE(chart.cycles_series().size(), 2);
    QCOMPARE(chart.point_count(), 4);
    QVERIFY2(chart.note().startsWith("line style per batch: solid = b1, dashed = b16"), qPrintable(chart.note()));
    chart.set_batch(16);
    QCOMPARE(chart.cycles_series().front()->points(), (QList<QPointF>{{64, 2000}, {256, 1000}}));
  }

  void distinguishingNamesDropSharedParts() {
    const auto names =
        distinguishing_names({"model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight"});
    QCOMPARE(names.value("model.layers.0.mlp.up_proj.weight"), QString("up_proj"));
    QCOMPARE(names.value("model.layers.0.mlp.down_proj.weight"), QString("down_proj"));
    // A block number keeps the word before it: "layers.1.mlp", not "1.mlp".
    const auto blocks = distinguishing_names({"model.layers.0.mlp.weight", "model.layers.1.mlp.weight"});
    QCOMPARE(blocks.value("model.layers.1.mlp.weight"), QString("layers.1"));
    QCOMPARE(distinguishing_names({"w"}).value("w"), QString("w"));
    const auto nested = distinguishing_names({"a.b", "a.b.c"});
    QVERIFY(nested.value("a.b") != nested.value("a.b.c"));
  }

  void layerErrorChartFollowsModelOrder() {
    ResultsModel model;
    for (const std::string tensor : {"model.layers.1.q.weight", "model.layers.0.q.weight", "model.layers.10.q.weight"})
      for (int bits : {8, 4}) model.append(row_for(tensor, 2, 4, bits));
    model.append(row_for("model.layers.0.q.weight", 2, 4, 4, "cpu/eigen-fp32-dense", 1));
    LayerErrorChart chart(&model);
    QCOMPARE(chart.tensors(),
             (QStringList{"model.layers.1.q.weight", "model.layers.0.q.weight", "model.layers.10.q.weight"}));
    QCOMPARE(chart.point_count(), 6);
    QCOMPARE(chart.config_series().size(), 2);
    QCOMPARE(chart.config_series()[0]->name(), QString("2:4 int8"));
    QCOMPARE(chart.config_series()[1]->at(1), QPointF(1, model.measurement(3).weight_rel_err));
    chart.set_error_metric(ErrorMetric::OutputRelErr);
    QCOMPARE(chart.config_series()[1]->at(1).y(), model.measurement(3).output_rel_err);
    QVERIFY(qobject_cast<QLogValueAxis*>(axis_at(chart.view(), Qt::AlignLeft)));
    chart.set_log_y(false);
    QVERIFY(qobject_cast<QValueAxis*>(axis_at(chart.view(), Qt::AlignLeft)));
    QCOMPARE(chart.config_series()[0]->attachedAxes().size(), 2);
  }

  void modelAccuracyChartPlotsOneLinePerCriterionAndTheDensePoint() {
    QTemporaryDir dir;
    auto store = std::make_shared<ResultsStore>(dir.filePath("results.db").toStdString());
    const auto insert = [&](const nmscope::ModelEvaluationRecord& record) {
      Measurement layer = row_for("encoder.layer.0.q", 2, 4, record.quant.bits);
      layer.study_id = record.study_id;
      store->insert_model_evaluation(record, {layer});
    };
    insert(evaluation("enc-1", "minilm", "encoder", "dense", 16, "none", 1.0));
    for (const auto& [criterion, base] : {std::pair{"magnitude", 0.5}, {"sparsegpt", 0.85}}) {
      insert(evaluation("enc-1", "minilm", "encoder", "2:4", 4, criterion, base));
      insert(evaluation("enc-1", "minilm", "encoder", "dense", 4, criterion, base + 0.1));
      insert(evaluation("enc-1", "minilm", "encoder", "2:4", 8, criterion, base + 0.05));
    }
    // A second study of another model, a decoder: its own metrics, not mixed into the encoder's chart.
    insert(evaluation("dec-1", "tiny-llama", "decoder", "dense", 16, "none", 10.1));
    insert(evaluation("dec-1", "tiny-llama", "decoder", "2:4", 4, "wanda", 14.0));
    ResultsModel model;
    model.set_store(store);
    ModelAccuracyChart chart(&model);
    // The newest model comes first.
    QCOMPARE(chart.current_model(), QString("tiny-llama"));
    QCOMPARE(chart.metric(), ModelAccuracyChart::Metric::Perplexity);
    QCOMPARE(chart.criterion_series().size(), 1);
    QCOMPARE(chart.criterion_series().front()->at(0), QPointF(3.125, 14.0));
    chart.set_metric(ModelAccuracyChart::Metric::Top1);
    QCOMPARE(chart.criterion_series().front()->at(0).y(), 1 - 0.14);

    QVERIFY(chart.set_model("minilm"));
    QCOMPARE(chart.metric(), ModelAccuracyChart::Metric::Cosine);  // an encoder has only the cosine
    const auto lines = chart.criterion_series();
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines[0]->name(), QString("magnitude + rtn"));
    QCOMPARE(lines[1]->name(), QString("sparsegpt + rtn"));
    // Points in storage order: 2:4 int4 (3.125 bits), dense int4 (4.125), 2:4 int8 (5.125).
    QCOMPARE(lines[1]->count(), 3);
    QCOMPARE(lines[1]->at(0), QPointF(3.125, 0.85));
    QCOMPARE(lines[1]->at(1), QPointF(4.125, 0.95));
    QCOMPARE(lines[1]->at(2).x(), 5.125);
    QVERIFY(chart.dense_series());
    QCOMPARE(chart.dense_series()->count(), 1);
    QCOMPARE(chart.dense_series()->at(0), QPointF(16.0, 1.0));

    // A later study of the same configuration replaces the earlier point; selecting a study's rows narrows to it.
    insert(evaluation("enc-2", "minilm", "encoder", "2:4", 4, "sparsegpt", 0.9));
    model.reload();
    QVERIFY(chart.set_model("minilm"));
    QCOMPARE(chart.criterion_series()[1]->at(0), QPointF(3.125, 0.9));
    int enc2_row = -1;
    for (int row = 0; row < model.rowCount(); ++row)
      if (model.measurement(row).study_id == "enc-2") enc2_row = row;
    QVERIFY(enc2_row >= 0);
    chart.set_rows({enc2_row});
    QCOMPARE(chart.criterion_series().size(), 1);
    QCOMPARE(chart.criterion_series().front()->count(), 1);
    QVERIFY(!chart.dense_series());

    // A running model study appends evaluations without a reset.
    chart.set_rows({});
    model.append_model_evaluation(evaluation("enc-3", "minilm", "encoder", "2:4", 4, "wanda", 0.7));
    QCOMPARE(chart.criterion_series().size(), 3);

    model.set_store(nullptr);
    QVERIFY(chart.view()->message().contains("no model evaluations"));
  }

  void modelStudyViewShowsLayersStorageAndTime() {
    QTemporaryDir dir;
    auto store = std::make_shared<ResultsStore>(dir.filePath("results.db").toStdString());
    nmscope::ModelLayerStudySpec spec;
    spec.preset = "llama-7b";
    spec.layers = "layers\\.[01]\\.self_attn\\.(q|k)_proj";  // 4 layers of one shape, 2 blocks
    spec.study.patterns = {nmscope::NMPattern::dense(), nmscope::NMPattern{2, 4}};
    spec.study.bits = {4};
    spec.study.engines = "cpu/int4-2:4";
    spec.study.batches = {1, 4};
    spec.study.timing.target_seconds = 0.01;
    spec.study.timing.min_repetitions = 2;
    const auto result = nmscope::run_model_layer_study(nmscope::plan_model_layer_study(spec), store.get(), {});
    ResultsModel model;
    model.set_store(store);
    ModelStudyView view(&model);
    view.resize(1400, 900);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QCOMPARE(view.current_study(), QString::fromStdString(result.study_id));
    // The layer table: blocks x roles, the chosen figure of each layer (weight_rel_err of the first configuration).
    QTableWidget* table = view.layer_table();
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->horizontalHeaderItem(0)->text(), QString("attn.q"));
    QVERIFY(table->item(0, 0) && table->item(1, 1));
    QVERIFY(!table->item(0, 2));  // v was not in the study
    for (const auto& row : result.rows)
      if (row.tensor == "model.layers.1.self_attn.k_proj.weight" && row.pattern.is_dense())
        QCOMPARE(table->item(1, 1)->text(), QString::number(row.weight_rel_err, 'g', 4));
    // Storage bars: one set per role, one category per configuration, each value the role's rollup in the unit
    // the axis names (MiB for these megabytes).
    QHorizontalStackedBarSeries* storage = view.storage_bars();
    QVERIFY(storage);
    QCOMPARE(storage->count(), 7);
    double q_bytes = 0;
    for (const auto& row : result.rollup)
      if (row.role == "attn.q" && row.pattern == nmscope::NMPattern{2, 4}) q_bytes = double(row.storage_bytes);
    // Per-token time against batch: one line per (engine, configuration) with a time, two batches each.
    QVERIFY(view.per_token_lines().size() >= 2);
    for (QLineSeries* line : view.per_token_lines()) QCOMPARE(line->count(), 2);
    // The configuration names under the bars are whole, never elided to "d…".
    QBarCategoryAxis* categories = nullptr;
    for (QAbstractAxis* axis : storage->attachedAxes())
      if (auto* category_axis = qobject_cast<QBarCategoryAxis*>(axis)) categories = category_axis;
    QVERIFY(categories);
    QVERIFY(!categories->truncateLabels());
    // Horizontal bars listed bottom-up: the first configuration is drawn on top.
    QCOMPARE(categories->categories(), (QStringList{"2:4 int4", "dense int4"}));
    QCOMPARE(storage->barSets()[0]->at(0), q_bytes / (1024.0 * 1024.0));
    QAbstractAxis* storage_axis = nullptr;
    for (QAbstractAxis* axis : storage->attachedAxes())
      if (qobject_cast<QValueAxis*>(axis)) storage_axis = axis;
    QVERIFY(storage_axis);
    QCOMPARE(storage_axis->titleText(), QString("MiB"));
    // The batch chart's legend names each configuration once (its colour); engines are dash patterns, named in the
    // title, instead of a long engine name repeated per line.
    QChart* batch_chart = view.per_token_lines().front()->chart();
    QStringList legend;
    for (QLegendMarker* marker : batch_chart->legend()->markers())
      if (marker->isVisible()) legend.append(marker->label());
    QCOMPARE(legend, (QStringList{"dense int4", "2:4 int4"}));
    QVERIFY2(batch_chart->title().contains("cpu/int4-2:4") || view.note().contains("dashed = "),
             qPrintable(batch_chart->title() + " / " + view.note()));
    QVERIFY(view.note().contains("llama-7b"));
    model.set_store(nullptr);
    QVERIFY(view.note().contains("No model study"));
  }

  void zoomPanAndResetChangeTheRanges() {
    ResultsModel model;
    for (int bits : {16, 8, 4})
      for (auto [kept, group] : {std::pair{1, 1}, {2, 4}, {1, 4}}) model.append(row_for("t", kept, group, bits));
    ParetoChart chart(&model);
    chart.resize(900, 600);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    ChartView* view = chart.view();
    QAbstractAxis* x_axis = axis_at(view, Qt::AlignBottom);
    QAbstractAxis* y_axis = axis_at(view, Qt::AlignLeft);
    QVERIFY(qobject_cast<QLogValueAxis*>(y_axis));
    const auto home_x = range_of(x_axis);
    const auto home_y = range_of(y_axis);

    view->zoom_by(0.5);
    auto zoomed = range_of(x_axis);
    QVERIFY(zoomed.second - zoomed.first < 0.6 * (home_x.second - home_x.first));
    QVERIFY(range_of(y_axis).second / range_of(y_axis).first < home_y.second / home_y.first);
    view->zoom_by(2.0);
    QVERIFY(qAbs((range_of(x_axis).second - range_of(x_axis).first) - (home_x.second - home_x.first)) < 1e-6);

    // The wheel zooms around the cursor: a point under it stays put.
    const QPointF cursor =
        view->mapFromScene(view->chart()->mapToScene(view->chart()->plotArea().topLeft() + QPointF(100, 80)));
    const QPointF value_before =
        view->chart()->mapToValue(view->chart()->mapFromScene(view->mapToScene(cursor.toPoint())));
    QWheelEvent wheel(cursor, view->mapToGlobal(cursor), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(view->viewport(), &wheel);
    zoomed = range_of(x_axis);
    QVERIFY(zoomed.second - zoomed.first < home_x.second - home_x.first);
    const QPointF value_after =
        view->chart()->mapToValue(view->chart()->mapFromScene(view->mapToScene(cursor.toPoint())));
    QVERIFY(qAbs(value_after.x() - value_before.x()) < 0.02 * (home_x.second - home_x.first));

    QTest::keyClick(view, Qt::Key_Right);
    QVERIFY(range_of(x_axis).first > zoomed.first);
    QTest::keyClick(view, Qt::Key_Home);
    QCOMPARE(range_of(x_axis), home_x);
    QCOMPARE(range_of(y_axis), home_y);

    view->zoom_by(0.5);
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, Qt::NoModifier, cursor.toPoint());
    QCOMPARE(range_of(x_axis), home_x);

    // Right drag pans and does not zoom out (QChartView's default for a right click).
    QTest::mousePress(view->viewport(), Qt::RightButton, Qt::NoModifier, cursor.toPoint());
    QMouseEvent move(QEvent::MouseMove, cursor + QPointF(60, 0), view->viewport()->mapToGlobal(cursor + QPointF(60, 0)),
                     Qt::NoButton, Qt::RightButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &move);
    QTest::mouseRelease(view->viewport(), Qt::RightButton, Qt::NoModifier, (cursor + QPointF(60, 0)).toPoint());
    const auto panned = range_of(x_axis);
    QVERIFY(panned.first < home_x.first);
    QVERIFY(qAbs((panned.second - panned.first) - (home_x.second - home_x.first)) < 1e-6);
    view->reset_zoom();
    QCOMPARE(range_of(x_axis), home_x);
  }

  void legendClickTogglesItsSeries() {
    ResultsModel model;
    model.append(row_for("t", 2, 4, 4));
    model.append(row_for("t", 1, 4, 4));
    ParetoChart chart(&model);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    const QList<QLegendMarker*> markers = chart.view()->chart()->legend()->markers(chart.group_series()[0]);
    QCOMPARE(markers.size(), 1);
    emit markers[0]->clicked();
    QVERIFY(!chart.group_series()[0]->isVisible());
    QTRY_VERIFY(markers[0]->isVisible());  // still there to be clicked back on
    QVERIFY(markers[0]->labelBrush().color().alphaF() < 0.5);
    emit markers[0]->clicked();
    QVERIFY(chart.group_series()[0]->isVisible());
    QCOMPARE(markers[0]->labelBrush().color().alphaF(), 1.0);

    model.append(timed(row_for("t", 2, 4, 4, "cpu/eigen-fp32-dense", 1), 100));
    SpeedupChart speedup(&model);
    const QList<QLegendMarker*> bar_markers = speedup.view()->chart()->legend()->markers();
    QCOMPARE(bar_markers.size(), 1);
    emit bar_markers[0]->clicked();
    QBarSet* set = speedup.view()->chart()->series().isEmpty()
                       ? nullptr
                       : qobject_cast<QAbstractBarSeries*>(speedup.view()->chart()->series()[0])->barSets()[0];
    QVERIFY(set);
    QCOMPARE(set->color().alpha(), 0);
    emit bar_markers[0]->clicked();
    QVERIFY(set->color().alpha() > 0);
  }

  void saveWritesPngAndSvgAndFailsCleanly() {
    ResultsModel model;
    for (int bits : {16, 8, 4}) model.append(row_for("t", 2, 4, bits));
    ParetoChart chart(&model);
    QTemporaryDir dir;
    QString error;
    const QString png = dir.filePath("pareto.png");
    QVERIFY2(chart.save(png, &error), qPrintable(error));
    const QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 2 * 960);  // exported at least at 2x pixel density
    QVERIFY(QFileInfo(png).size() > 1000);

    const QString svg = dir.filePath("pareto.svg");
    QVERIFY2(chart.save(svg, &error), qPrintable(error));
    QFile file(svg);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray text = file.readAll();
    QVERIFY(text.startsWith("<?xml") || text.contains("<svg"));
    QVERIFY(text.contains("</svg>"));

    error.clear();
    QVERIFY(!chart.save(dir.filePath("missing/sub/pareto.png"), &error));
    QVERIFY(error.contains("does not exist"));
    QVERIFY(!QFileInfo::exists(dir.filePath("missing")));
    error.clear();
    QVERIFY(!chart.save(dir.filePath("pareto.bmpx"), &error));
    QVERIFY(!error.isEmpty());

    // render_to draws into any painter's rectangle (the PDF report's page).
    QImage page(400, 300, QImage::Format_ARGB32);
    page.fill(Qt::white);
    {
      QPainter painter(&page);
      chart.render_to(painter, QRectF(50, 50, 300, 200));
    }
    QCOMPARE(page.pixel(10, 10), QColor(Qt::white).rgb());
    bool drawn = false;
    for (int y = 50; y < 250 && !drawn; y += 3)
      for (int x = 50; x < 350 && !drawn; x += 3) drawn = page.pixel(x, y) != QColor(Qt::white).rgb();
    QVERIFY(drawn);
  }
};

QTEST_MAIN(TestCharts)
#include "test_charts.moc"
