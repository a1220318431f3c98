#include "decode/decode_view.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "charts/chart_view.hpp"
#include "nmscope/decode_measurement.hpp"
#include "nmscope/engine_family.hpp"
#include "nmscope/model_rollup.hpp"
#include "nmscope/units.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

struct DecodeEntry {
  const Measurement* row;
  DecodeFigures figures;
};

// A dense baseline of its family (Eigen and oneDNN on the CPU, cuBLAS on the GPU): listed first, quoted against.
bool is_baseline(const std::string& engine) {
  const auto baselines = dense_baselines_of(engine);
  return std::find(baselines.begin(), baselines.end(), engine) != baselines.end();
}
// The family's reference step itself (Eigen fp32, cuBLAS fp16): the one row whose logits are not checked.
bool is_reference(const std::string& engine) { return dense_baseline_engine(engine) == engine; }

// "cpu/onednn-bf16-dense" -> "onednn-bf16-dense"
QString without_family(const std::string& engine) {
  return QString::fromStdString(engine.substr(engine.find('/') + 1));
}

// Baselines first, then by engine, context and batch: the table reads as the CLI prints it.
bool entry_before(const DecodeEntry& a, const DecodeEntry& b) {
  return std::tuple(!is_baseline(a.row->engine), a.row->engine, a.figures.context, a.row->batch) <
         std::tuple(!is_baseline(b.row->engine), b.row->engine, b.figures.context, b.row->batch);
}

QString or_dash(bool known, const QString& text) { return known ? text : QString("—"); }

QString kernel_breakdown(const DecodeFigures& figures) {
  if (!figures.linear_kernel_ms) return "—";
  QString text = QString("linear %1 · attention %2 · other %3 ms")
                     .arg(*figures.linear_kernel_ms, 0, 'f', 3)
                     .arg(figures.attention_kernel_ms.value_or(0), 0, 'f', 3)
                     .arg(figures.other_kernel_ms.value_or(0), 0, 'f', 3);
  if (figures.launch_gap_fraction && *figures.launch_gap_fraction >= 0)
    text += QString(" · gaps %1%").arg(100.0 * *figures.launch_gap_fraction, 0, 'f', 1);
  return text;
}

}  // namespace

DecodeView::DecodeView(ResultsModel* model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      study_choice_(new QComboBox(this)),
      heading_(new QLabel(this)),
      table_(new QTableWidget(this)),
      ms_view_(new ChartView(this)),
      tokens_view_(new ChartView(this)),
      note_(new QLabel(this)) {
  study_choice_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  study_choice_->setMinimumContentsLength(30);
  study_choice_->setToolTip("Decode runs in the database (nmscope-cli decode --db, reproduce hsieh2025), newest first");
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Run", this));
  controls->addWidget(study_choice_);
  controls->addWidget(heading_, 1);
  QFont bold = heading_->font();
  bold.setBold(true);
  heading_->setFont(bold);

  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  note_->setWordWrap(true);
  note_->setForegroundRole(QPalette::PlaceholderText);

  auto* charts = new QSplitter(Qt::Horizontal, this);
  charts->addWidget(ms_view_);
  charts->addWidget(tokens_view_);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(charts);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(split, 1);
  layout->addWidget(note_);

  connect(study_choice_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(model_, &QAbstractItemModel::modelReset, this, [this] {
    refill_studies();
    rebuild();
  });
  // Rows a running study appends: only decode rows change this view.
  connect(model_, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int first, int last) {
    const auto& rows = model_->measurements();
    for (int index = std::max(first, 0); index <= last && index < int(rows.size()); ++index)
      if (decode_figures(rows[size_t(index)])) {
        refill_studies();
        rebuild();
        return;
      }
  });
  // Batch sizes are powers of two or near them: a log2 axis spaces them evenly.
  ms_view_->set_log_x(true, 2);
  tokens_view_->set_log_x(true, 2);
  refill_studies();
  rebuild();
}

bool DecodeView::set_study(const QString& study_id) {
  const int index = study_choice_->findData(study_id);
  if (index < 0) return false;
  study_choice_->setCurrentIndex(index);
  return true;
}

QString DecodeView::current_study() const { return study_choice_->currentData().toString(); }

QString DecodeView::heading() const { return heading_->text(); }

QString DecodeView::note() const { return note_->text(); }

void DecodeView::refill_studies() {
  const QSignalBlocker blocker(study_choice_);
  const QString chosen = current_study();
  study_choice_->clear();
  // Newest first: the rows are in insertion order, so the last row of a study marks when it ran.
  std::vector<std::pair<std::string, std::string>> studies;  // (study id, model)
  std::set<std::string> seen;
  const auto& rows = model_->measurements();
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
    if (seen.count(row->study_id)) continue;
    if (const auto figures = decode_figures(*row)) {
      seen.insert(row->study_id);
      studies.push_back({row->study_id, figures->model});
    }
  }
  for (const auto& [study, model] : studies)
    study_choice_->addItem(QString::fromStdString(model + "  ·  " + study), QString::fromStdString(study));
  const int index = study_choice_->findData(chosen);
  study_choice_->setCurrentIndex(index >= 0 ? index : 0);
}

void DecodeView::rebuild() {
  std::vector<DecodeEntry> entries;
  for (const Measurement& row : model_->measurements())
    if (QString::fromStdString(row.study_id) == current_study())
      if (auto figures = decode_figures(row)) entries.push_back({&row, *figures});
  std::sort(entries.begin(), entries.end(), entry_before);

  std::set<int64_t> contexts;
  std::set<std::string> models;
  std::map<std::tuple<std::string, int, int64_t>, double> tokens_per_s;  // (engine, batch, context)
  for (const DecodeEntry& entry : entries) {
    contexts.insert(entry.figures.context);
    models.insert(entry.figures.model);
    tokens_per_s[{entry.row->engine, entry.row->batch, entry.figures.context}] = entry.figures.tokens_per_s;
  }

  // The table: one row per (engine, batch, context).
  table_->clear();
  table_->setColumnCount(ColumnCount);
  table_->setHorizontalHeaderLabels({"engine", "batch", "context", "ms per step", "tokens / s", "speedup", "weights",
                                     "vs fp16", "logits error", "top-1", "kernel time of a step"});
  // One step gives every sequence of the batch its next token: the step time is what each sequence waits per token
  // (its latency), and the batch's tokens per second is its throughput.
  table_->horizontalHeaderItem(MsPerStep)->setToolTip(
      "Time of one decode step of the whole batch: each sequence's per-token latency");
  table_->horizontalHeaderItem(TokensPerS)
      ->setToolTip("Tokens generated per second by the whole batch (batch / step time)");
  table_->setRowCount(int(entries.size()));
  for (int line = 0; line < int(entries.size()); ++line) {
    const Measurement& row = *entries[size_t(line)].row;
    const DecodeFigures& figures = entries[size_t(line)].figures;
    // Against the strongest dense baseline stepped at the same batch and context (the library a user would run
    // instead), named: a time per step is 1 / tokens per second at the same batch.
    QString speedup = "baseline";
    if (!is_baseline(row.engine)) {
      const auto strongest =
          strongest_dense_baseline(row.engine, [&](const std::string& baseline) -> std::optional<double> {
            const auto found = tokens_per_s.find({baseline, row.batch, figures.context});
            if (found == tokens_per_s.end() || found->second <= 0) return std::nullopt;
            return 1.0 / found->second;
          });
      speedup = or_dash(bool(strongest), strongest ? QString("%1x vs %2")
                                                         .arg(figures.tokens_per_s * strongest->time_us, 0, 'f', 2)
                                                         .arg(without_family(strongest->engine))
                                                   : QString());
    }
    const bool checked = !is_reference(row.engine) && figures.relative_error >= 0;
    const QStringList cells = {
        QString::fromStdString(row.engine),
        QString::number(row.batch),
        QString::number(figures.context),
        QString::number(figures.ms_per_token, 'f', 3),
        QString::number(figures.tokens_per_s, 'f', 1),
        speedup,
        QString::fromStdString(format_bytes(std::uint64_t(std::max<int64_t>(0, row.storage_bytes)))),
        or_dash(row.compression_vs_fp16 > 0, QString("%1x").arg(row.compression_vs_fp16, 0, 'f', 2)),
        or_dash(checked, QString::number(figures.relative_error, 'e', 2)),
        or_dash(checked && figures.top1_agreement >= 0, QString("%1%").arg(100.0 * figures.top1_agreement, 0, 'f', 1)),
        kernel_breakdown(figures)};
    for (int column = 0; column < ColumnCount; ++column) {
      auto* item = new QTableWidgetItem(cells[column]);
      if (column != Engine && column != Kernels) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      if (column == LogitsError && checked)
        item->setToolTip("against " + QString::fromStdString(figures.reference));
      table_->setItem(line, column, item);
    }
  }
  table_->resizeColumnsToContents();
  table_->horizontalHeader()->setStretchLastSection(true);

  // The charts: one line per engine (and context, when the run has several), batch on a log2 axis.
  ms_view_->clear();
  tokens_view_->clear();
  ms_lines_.clear();
  tokens_lines_.clear();
  std::map<std::pair<bool, std::string>, std::vector<const DecodeEntry*>> lines;  // baselines first
  for (const DecodeEntry& entry : entries) {
    std::string name = entry.row->engine;
    if (contexts.size() > 1) name += " · ctx " + std::to_string(entry.figures.context);
    lines[{!is_baseline(entry.row->engine), name}].push_back(&entry);
  }
  QList<QAbstractSeries*> ms_series, tokens_series;
  int colour = 0;
  for (const auto& [key, points] : lines) {
    auto* ms = new QLineSeries;
    auto* tokens = new QLineSeries;
    for (QLineSeries* line : {ms, tokens}) {
      line->setName(QString::fromStdString(key.second));
      line->setPointsVisible(true);
      line->setColor(ChartView::palette_color(colour));
    }
    ++colour;
    for (const DecodeEntry* entry : points) {  // sorted by batch within an engine and context
      ms->append(entry->row->batch, entry->figures.ms_per_token);
      tokens->append(entry->row->batch, entry->figures.tokens_per_s);
    }
    ms_view_->chart()->addSeries(ms);
    tokens_view_->chart()->addSeries(tokens);
    ms_lines_.append(ms);
    tokens_lines_.append(tokens);
    ms_series.append(ms);
    tokens_series.append(tokens);
  }
  ms_view_->add_value_axis(Qt::AlignBottom, "batch size (sequences per step)", ms_series);
  ms_view_->add_value_axis(Qt::AlignLeft, "ms per step", ms_series);
  tokens_view_->add_value_axis(Qt::AlignBottom, "batch size (sequences per step)", tokens_series);
  tokens_view_->add_value_axis(Qt::AlignLeft, "tokens / s", tokens_series);
  // A step gives each sequence of the batch one token: its time is each sequence's per-token latency.
  ms_view_->chart()->setTitle("Decode step time (each sequence's per-token latency) against batch size");
  tokens_view_->chart()->setTitle("Throughput against batch size");
  const QString empty = entries.empty() ? "no decode rows" : QString();
  ms_view_->show_message(empty);
  tokens_view_->show_message(empty);
  ms_view_->finish_rebuild();
  tokens_view_->finish_rebuild();

  QStringList model_names, context_texts;
  for (const auto& model : models) model_names << QString::fromStdString(model);
  for (int64_t context : contexts) context_texts << QString::number(context);
  heading_->setText(entries.empty() ? QString()
                                    : QString("%1 · context %2 tokens").arg(model_names.join(", "), context_texts.join(", ")));
  note_->setText(
      entries.empty()
          ? "No decode run in this database: run `nmscope-cli decode --preset tiny --engines cpu/int4-2:4 "
            "--batch 1,4,16 --db FILE` (or gpu/ variants on a GPU), or `nmscope-cli reproduce hsieh2025`."
          : QString("%1 rows · speedup: tokens/s over the strongest dense baseline stepped at the same batch "
                    "and context, named · logits error: against the reference path over the same weights · "
                    "%2")
                .arg(entries.size())
                .arg(QString::fromStdString(entries.front().row->host)));
}

}  // namespace nmscope::gui
