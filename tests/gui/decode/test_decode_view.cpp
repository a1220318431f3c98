// The Decode view (app/gui/decode) over a database that the real CLI filled: `nmscope-cli decode --preset tiny` on the
// CPU decoder with two packed variants beside both dense baselines (Eigen fp32, oneDNN bf16), three batch sizes. The
// view must show exactly the stored figures: one table row per stored row, its time, tokens/s, speedup against the
// stronger baseline at the same batch (named),
// weight bytes, ratio to fp16 and logits error; one line per engine in each chart with a point per batch; the preset
// and the context in its heading. Also the window's --view decode through the real executable, and an empty database.
#include <QAbstractAxis>
#include <QChart>
#include <QLineSeries>
#include <QProcess>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "charts/chart_view.hpp"
#include "cli_process.hpp"
#include "decode/decode_view.hpp"
#include "nmscope/decode_measurement.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/units.hpp"
#include "results/results_model.hpp"

using nmscope::gui::DecodeView;
using nmscope::gui::ResultsModel;

namespace {

QString cell(QTableWidget* table, int row, int column) {
  const QTableWidgetItem* item = table->item(row, column);
  return item ? item->text() : QString();
}

}  // namespace

class TestDecodeView final : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    database_ = dir_.filePath("decode.db");
    const auto result = nmscope::test::run_cli(
        {"decode", "--preset", "tiny", "--engines", "cpu/int4-2:4,cpu/int8-dense,cpu/onednn-bf16-dense", "--batch",
         "1,4,16", "--context", "24", "--timing-seconds", "0.02", "--db", database_});
    QVERIFY2(result.exit_code == 0, qPrintable(result.describe()));
    QVERIFY2(result.out.contains("12 decode rows stored in"), qPrintable(result.describe()));
  }

  void shows_exactly_the_stored_figures() {
    ResultsModel model;
    model.set_store(std::make_shared<nmscope::ResultsStore>(database_.toStdString()));
    QCOMPARE(model.measurements().size(), std::size_t{12});
    DecodeView view(&model);
    view.resize(1400, 900);
    QCOMPARE(view.current_study(), QString::fromStdString(model.measurements().front().study_id));
    QVERIFY(view.heading().contains("tiny"));
    QVERIFY(view.heading().contains("context 24"));

    // Tokens/s of each (engine, batch) as stored, for the speedups.
    std::map<std::pair<std::string, int>, double> tokens;
    for (const auto& row : model.measurements()) tokens[{row.engine, row.batch}] = nmscope::decode_figures(row)->tokens_per_s;

    QTableWidget* table = view.table();
    QCOMPARE(table->rowCount(), 12);
    // A step gives each sequence one token: the time column is the step's, and says so.
    QCOMPARE(table->horizontalHeaderItem(DecodeView::MsPerStep)->text(), QString("ms per step"));
    QVERIFY(table->horizontalHeaderItem(DecodeView::MsPerStep)->toolTip().contains("per-token latency"));
    QCOMPARE(table->horizontalHeaderItem(DecodeView::Weights)->text(), QString("weights"));
    QCOMPARE(cell(table, 0, DecodeView::Engine), QString("cpu/eigen-fp32-dense"));  // the baselines first
    QCOMPARE(cell(table, 3, DecodeView::Engine), QString("cpu/onednn-bf16-dense"));
    int matched = 0;
    for (int line = 0; line < table->rowCount(); ++line) {
      const std::string engine = cell(table, line, DecodeView::Engine).toStdString();
      const int batch = cell(table, line, DecodeView::Batch).toInt();
      const nmscope::Measurement* stored = nullptr;
      for (const auto& row : model.measurements())
        if (row.engine == engine && row.batch == batch) stored = &row;
      QVERIFY2(stored, engine.c_str());
      const auto figures = *nmscope::decode_figures(*stored);
      QCOMPARE(cell(table, line, DecodeView::Context), QString("24"));
      QCOMPARE(cell(table, line, DecodeView::MsPerStep), QString::number(*stored->time_us / 1000, 'f', 3));
      QCOMPARE(cell(table, line, DecodeView::TokensPerS), QString::number(figures.tokens_per_s, 'f', 1));
      QCOMPARE(cell(table, line, DecodeView::Weights),
               QString::fromStdString(nmscope::format_bytes(std::uint64_t(stored->storage_bytes))));
      QCOMPARE(cell(table, line, DecodeView::VsFp16), QString("%1x").arg(stored->compression_vs_fp16, 0, 'f', 2));
      QCOMPARE(cell(table, line, DecodeView::Kernels), QString("—"));  // the CPU step has no kernel trace
      if (engine == "cpu/eigen-fp32-dense") {
        QCOMPARE(cell(table, line, DecodeView::Speedup), QString("baseline"));
        QCOMPARE(cell(table, line, DecodeView::LogitsError), QString("—"));
      } else if (engine == "cpu/onednn-bf16-dense") {  // a baseline too, whose bf16 logits are checked
        QCOMPARE(cell(table, line, DecodeView::Speedup), QString("baseline"));
        QCOMPARE(cell(table, line, DecodeView::LogitsError), QString::number(*stored->engine_rel_err, 'e', 2));
      } else {
        const double eigen = tokens.at({"cpu/eigen-fp32-dense", batch});
        const double onednn = tokens.at({"cpu/onednn-bf16-dense", batch});
        const QString stronger = onednn > eigen ? "onednn-bf16-dense" : "eigen-fp32-dense";
        const double speedup = figures.tokens_per_s / std::max(eigen, onednn);
        QCOMPARE(cell(table, line, DecodeView::Speedup), QString("%1x vs %2").arg(speedup, 0, 'f', 2).arg(stronger));
        QCOMPARE(cell(table, line, DecodeView::LogitsError), QString::number(*stored->engine_rel_err, 'e', 2));
        QVERIFY(*stored->engine_rel_err > 0 && *stored->engine_rel_err < 0.1);  // a compressed model, checked
        QCOMPARE(cell(table, line, DecodeView::Top1), QString("%1%").arg(100.0 * figures.top1_agreement, 0, 'f', 1));
      }
      ++matched;
    }
    QCOMPARE(matched, 12);

    // One line per engine in each chart, a point per batch at the stored value.
    QCOMPARE(view.ms_lines().size(), 4);
    QCOMPARE(view.tokens_lines().size(), 4);
    for (int index = 0; index < 4; ++index) {
      QLineSeries* ms = view.ms_lines()[index];
      QLineSeries* per_second = view.tokens_lines()[index];
      QCOMPARE(ms->count(), 3);
      QCOMPARE(per_second->name(), ms->name());
      for (int point = 0; point < 3; ++point) {
        const int batch = int(ms->at(point).x());
        QCOMPARE(batch, std::vector<int>({1, 4, 16})[size_t(point)]);
        const std::string engine = ms->name().toStdString();
        for (const auto& row : model.measurements())
          if (row.engine == engine && row.batch == batch) {
            QCOMPARE(ms->at(point).y(), *row.time_us / 1000);
            QCOMPARE(per_second->at(point).y(), tokens.at({engine, batch}));
          }
      }
    }
    QCOMPARE(view.ms_lines()[0]->name(), QString("cpu/eigen-fp32-dense"));
    QVERIFY(view.ms_view()->log_x());
    const auto left_axes = view.ms_view()->chart()->axes(Qt::Vertical);
    QCOMPARE(left_axes.size(), 1);
    QCOMPARE(left_axes[0]->titleText(), QString("ms per step"));
    QVERIFY(view.ms_view()->chart()->title().contains("per-token latency"));

    // A database without decode rows says how to make some.
    model.set_store(nullptr);
    QCOMPARE(view.table()->rowCount(), 0);
    QVERIFY(view.note().contains("No decode run"));
    QVERIFY(view.ms_lines().isEmpty());
  }

  // GPU rows carry the kernel-time breakdown of a step; rows that reproduce hsieh2025 stored before the model and
  // context were in the details name them in source and tensor (LLaMA-7B, "decode-step ctx512").
  void gpu_rows_show_their_kernel_breakdown_and_older_rows_their_context() {
    ResultsModel model;
    DecodeView view(&model);
    auto gpu_row = [](const std::string& engine, int batch, double ms, bool legacy) {
      nmscope::Measurement row;
      row.study_id = "gpu-run";
      row.source = "synth:llama-7b decode step";
      row.tensor = "decode-step ctx512";
      row.engine = engine;
      row.batch = batch;
      row.status = "ok";
      row.time_us = ms * 1000;
      row.storage_bytes = engine == "gpu/cublas-fp16-dense" ? 13'000'000'000 : 2'600'000'000;
      row.compression_vs_fp16 = engine == "gpu/cublas-fp16-dense" ? 1.0 : 5.0;
      row.engine_rel_err = engine == "gpu/cublas-fp16-dense" ? 0.0 : 2.5e-3;
      nlohmann::json details = {{"decode_step", true},
                                {"tokens_per_s", batch * 1000.0 / ms},
                                {"reference", engine == "gpu/cublas-fp16-dense" ? "" : "gpu/cublas-fp16-dense"},
                                {"top1_agreement", 1.0}};
      if (!legacy) {
        details["model"] = "llama-7b";
        details["context"] = 512;
        details["linear_kernel_ms"] = 1.25;
        details["attention_kernel_ms"] = 0.125;
        details["other_kernel_ms"] = 0.07;
        details["launch_gap_fraction"] = 0.02;
      }
      row.details_json = details.dump();
      return row;
    };
    model.append(gpu_row("gpu/cublas-fp16-dense", 1, 10.0, false));
    model.append(gpu_row("gpu/int4-2:4", 1, 4.0, false));
    model.append(gpu_row("gpu/int4-2:4", 16, 5.0, true));
    QVERIFY(view.set_study("gpu-run"));
    QVERIFY(view.heading().contains("llama-7b"));
    QVERIFY(view.heading().contains("context 512"));
    QTableWidget* table = view.table();
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(cell(table, 0, DecodeView::Engine), QString("gpu/cublas-fp16-dense"));
    QCOMPARE(cell(table, 0, DecodeView::Speedup), QString("baseline"));
    QCOMPARE(cell(table, 1, DecodeView::Speedup), QString("2.50x vs cublas-fp16-dense"));  // 250 / 100 tokens/s
    QCOMPARE(cell(table, 1, DecodeView::LogitsError), QString("2.50e-03"));
    QCOMPARE(cell(table, 1, DecodeView::Kernels), QString("linear 1.250 · attention 0.125 · other 0.070 ms · gaps 2.0%"));
    QCOMPARE(cell(table, 2, DecodeView::Context), QString("512"));
    QCOMPARE(cell(table, 2, DecodeView::Speedup), QString("—"));  // no baseline at batch 16
    QCOMPARE(cell(table, 2, DecodeView::Kernels), QString("—"));
  }

  // The real window, as a user automates it: --view decode opens the tab and the screenshot shows it.
  void window_opens_the_view_by_name() {
    QProcess gui;
    gui.setProgram(QStringLiteral(NMSCOPE_GUI_PATH));
    const QString shot = dir_.filePath("decode.png");
    gui.setArguments({"--db", database_, "--view", "decode", "--screenshot", shot, "--quit"});
    gui.start();
    QVERIFY(gui.waitForFinished(120000));
    QCOMPARE(gui.exitCode(), 0);
    QImage image(shot);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 600);

    QProcess wrong;
    wrong.setProgram(QStringLiteral(NMSCOPE_GUI_PATH));
    wrong.setArguments({"--db", database_, "--view", "decoder", "--quit"});
    wrong.start();
    QVERIFY(wrong.waitForFinished(120000));
    QVERIFY(wrong.exitCode() != 0);
    QVERIFY(QString::fromUtf8(wrong.readAllStandardError()).contains("decode"));
  }

 private:
  QTemporaryDir dir_;
  QString database_;
};

QTEST_MAIN(TestDecodeView)
#include "test_decode_view.moc"
