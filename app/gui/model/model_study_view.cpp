#include "model/model_study_view.hpp"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "charts/chart_view.hpp"
#include "charts/measurement_groups.hpp"
#include "masks/mask_colors.hpp"
#include "nmscope/error.hpp"
#include "nmscope/synthetic.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

const QStringList kRoles = {"attn.q", "attn.k", "attn.v", "attn.o", "mlp.gate", "mlp.up", "mlp.down"};

ConfigLabel config_of(const NMPattern& pattern, int bits, const std::string& criterion) {
  const QuantConfig quant{bits, Granularity::Group, 0, true};
  ConfigLabel label{pattern, bits, QString::fromStdString(pattern.to_string() + " " + quant.bits_name())};
  if (!criterion.empty() && criterion != "magnitude" && !pattern.is_dense())
    label.text += " " + QString::fromStdString(criterion);
  return label;
}

ConfigLabel config_of(const ModelRollupRow& row) { return config_of(row.pattern, row.quant.bits, row.criterion); }

QString timing_of(const std::string& engine, int batch) {
  return QString::fromStdString(engine) + QString(" b%1").arg(batch);
}

QStringList sorted_configs(const std::set<ConfigLabel>& configs) {
  QStringList sorted;
  for (const ConfigLabel& config : configs) sorted.append(config.text);
  return sorted;
}

double layer_value(const Measurement& row, ModelStudyView::LayerFigure figure) {
  switch (figure) {
    case ModelStudyView::LayerFigure::WeightError:
      return row.weight_rel_err;
    case ModelStudyView::LayerFigure::OutputError:
      return row.output_rel_err;
    case ModelStudyView::LayerFigure::Sqnr:
      return row.sqnr_db;
    case ModelStudyView::LayerFigure::BitsPerWeight:
      return row.rows * row.cols > 0 ? 8.0 * double(row.storage_bytes) / double(row.rows * row.cols) : NAN;
    case ModelStudyView::LayerFigure::TimeUs:
      return row.time_us ? *row.time_us : NAN;
  }
  return NAN;
}

}  // namespace

ModelStudyView::ModelStudyView(ResultsModel* model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      study_choice_(new QComboBox(this)),
      config_choice_(new QComboBox(this)),
      figure_choice_(new QComboBox(this)),
      timing_choice_(new QComboBox(this)),
      table_(new QTableWidget(this)),
      storage_view_(new ChartView(this)),
      time_view_(new ChartView(this)),
      batch_view_(new ChartView(this)),
      note_(new QLabel(this)) {
  study_choice_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  study_choice_->setMinimumContentsLength(30);
  study_choice_->setToolTip("Model studies in the database (nmscope-cli model), newest first");
  figure_choice_->addItem("weight_rel_err", int(LayerFigure::WeightError));
  figure_choice_->addItem("output_rel_err", int(LayerFigure::OutputError));
  figure_choice_->addItem("SQNR (dB)", int(LayerFigure::Sqnr));
  figure_choice_->addItem("bits per weight", int(LayerFigure::BitsPerWeight));
  figure_choice_->addItem("time (µs)", int(LayerFigure::TimeUs));
  timing_choice_->setToolTip("Engine and batch of the time bars and of the table's time figure");
  auto* controls = new QHBoxLayout;
  for (auto [label, widget] : std::initializer_list<std::pair<const char*, QWidget*>>{
           {"Study", study_choice_}, {"Layers of", config_choice_}, {"figure", figure_choice_}, {"Time of", timing_choice_}}) {
    controls->addWidget(new QLabel(label, this));
    controls->addWidget(widget);
  }
  controls->addStretch(1);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  note_->setWordWrap(true);
  note_->setForegroundRole(QPalette::PlaceholderText);

  auto* charts = new QSplitter(Qt::Vertical, this);
  charts->addWidget(storage_view_);
  charts->addWidget(time_view_);
  charts->addWidget(batch_view_);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(table_);
  split->addWidget(charts);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(split, 1);
  layout->addWidget(note_);

  connect(study_choice_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(config_choice_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(timing_choice_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(figure_choice_, &QComboBox::currentIndexChanged, this, [this] {
    figure_ = LayerFigure(figure_choice_->currentData().toInt());
    rebuild();
  });
  connect(model_, &QAbstractItemModel::modelReset, this, [this] {
    refill_studies();
    rebuild();
  });
  batch_view_->set_log_x(true, 2);
  refill_studies();
  rebuild();
}

bool ModelStudyView::set_study(const QString& study_id) {
  const int index = study_choice_->findData(study_id);
  if (index < 0) return false;
  study_choice_->setCurrentIndex(index);
  return true;
}

QString ModelStudyView::current_study() const { return study_choice_->currentData().toString(); }

void ModelStudyView::set_layer_figure(LayerFigure figure) {
  figure_choice_->setCurrentIndex(figure_choice_->findData(int(figure)));
}

QString ModelStudyView::note() const { return note_->text(); }

void ModelStudyView::refill_studies() {
  const QSignalBlocker blocker(study_choice_);
  const QString chosen = current_study();
  study_choice_->clear();
  std::set<std::string> seen;
  const auto& rollups = model_->model_rollups();
  for (auto row = rollups.rbegin(); row != rollups.rend(); ++row)
    if (seen.insert(row->study_id).second)
      study_choice_->addItem(QString::fromStdString(row->model + "  ·  " + row->study_id),
                             QString::fromStdString(row->study_id));
  const int index = study_choice_->findData(chosen);
  study_choice_->setCurrentIndex(index >= 0 ? index : 0);
}

void ModelStudyView::rebuild() {
  std::vector<const ModelRollupRow*> rows;
  for (const ModelRollupRow& row : model_->model_rollups())
    if (QString::fromStdString(row.study_id) == current_study()) rows.push_back(&row);
  // The choosers follow the study; the user's choices are kept where they still exist.
  std::set<ConfigLabel> configs;
  std::set<std::pair<std::string, int>> timings;
  for (const ModelRollupRow* row : rows) {
    configs.insert(config_of(*row));
    if (!std::isnan(row->time_per_token_us)) timings.insert({row->engine, row->batch});
  }
  const auto refill = [](QComboBox* box, const QStringList& items) {
    const QSignalBlocker blocker(box);
    const QString chosen = box->currentText();
    box->clear();
    box->addItems(items);
    box->setCurrentIndex(std::max(0, int(items.indexOf(chosen))));
  };
  refill(config_choice_, sorted_configs(configs));
  QStringList timing_items;
  for (const auto& [engine, batch] : timings) timing_items << timing_of(engine, batch);
  refill(timing_choice_, timing_items);

  fill_layer_table(rows);
  fill_bars(rows);
  fill_batch_lines(rows);
  QString note = rows.empty() ? "No model study in this database: run `nmscope-cli model --preset llama-7b ...` or "
                                "`nmscope-cli model --model DIR ...`."
                              : QString("%1 · shapes timed: %2 for %3 layers · baselines: %4")
                                    .arg(QString::fromStdString(rows.front()->model))
                                    .arg(rows.front()->shapes_timed)
                                    .arg(rows.front()->layers)
                                    .arg(QString::fromStdString(rows.front()->baseline.empty() ? "—" : rows.front()->baseline));
  // The batch chart's lines: colour = configuration (its legend), dash = engine (said here, where it has room).
  if (!rows.empty() && !batch_dashes_.isEmpty()) note += "\nPer-token time against batch size: " + batch_dashes_;
  // A preset study's figures come from synthetic weights: say so, and what they follow.
  if (!rows.empty())
    if (const std::string synthetic = synthetic_weights_note(rows.front()->source); !synthetic.empty())
      note += "\n" + QString::fromStdString(synthetic);
  note_->setText(note);
}

void ModelStudyView::fill_layer_table(const std::vector<const ModelRollupRow*>& rows) {
  table_->clear();
  table_->setColumnCount(int(kRoles.size()));
  table_->setHorizontalHeaderLabels(kRoles);
  table_->setRowCount(0);
  if (rows.empty()) return;
  const QString config = config_choice_->currentText();
  const QString timing = timing_choice_->currentText();
  // Per-layer rows of the study: role and block are in their details. One value per (block, role): the row of the
  // chosen engine and batch for time, else the first row of the layer (every engine row repeats its accuracy).
  std::map<std::pair<int64_t, int>, double> cells;
  int64_t blocks = 0;
  for (const Measurement& row : model_->measurements()) {
    if (QString::fromStdString(row.study_id) != current_study()) continue;
    if (config_of(row.pattern, row.quant.bits, row.criterion).text != config) continue;
    if (figure_ == LayerFigure::TimeUs && timing_of(row.engine, row.batch) != timing) continue;
    const auto details = nlohmann::json::parse(row.details_json, nullptr, false);
    if (!details.is_object() || !details.contains("role") || !details.contains("block")) continue;
    const int role = int(kRoles.indexOf(QString::fromStdString(details["role"].get<std::string>())));
    const int64_t block = details["block"].get<int64_t>();
    if (role < 0 || block < 0) continue;
    blocks = std::max(blocks, block + 1);
    cells.emplace(std::pair{block, role}, layer_value(row, figure_));
  }
  table_->setRowCount(int(blocks));
  double low = INFINITY, high = -INFINITY;
  for (const auto& [cell, value] : cells)
    if (std::isfinite(value)) low = std::min(low, value), high = std::max(high, value);
  for (int64_t block = 0; block < blocks; ++block)
    table_->setVerticalHeaderItem(int(block), new QTableWidgetItem(QString("block %1").arg(block)));
  for (const auto& [cell, value] : cells) {
    auto* item = new QTableWidgetItem(std::isfinite(value) ? QString::number(value, 'g', 4) : QString("—"));
    if (std::isfinite(value) && high > low) {
      // Shaded on one range for the whole table: the layers that lose the most stand out.
      const QColor shade = QColor::fromRgb(viridis((value - low) / (high - low)));
      item->setBackground(shade);
      item->setForeground(shade.lightnessF() > 0.5 ? Qt::black : Qt::white);
    }
    table_->setItem(int(cell.first), cell.second, item);
  }
}

void ModelStudyView::fill_bars(const std::vector<const ModelRollupRow*>& rows) {
  storage_view_->clear();
  time_view_->clear();
  storage_bars_ = nullptr;
  time_bars_ = nullptr;
  std::set<ConfigLabel> config_set;
  for (const ModelRollupRow* row : rows) config_set.insert(config_of(*row));
  const QStringList configs = sorted_configs(config_set);
  const QString timing = timing_choice_->currentText();
  // Per (role, config): storage from any engine's row (the same bytes), time from the chosen engine and batch.
  std::map<std::pair<QString, QString>, double> storage_bytes, time_us;
  for (const ModelRollupRow* row : rows) {
    if (row->role == "all" || row->role == kWholeModelRole) continue;  // sums, not a role of their own
    const QString role = QString::fromStdString(row->role), config = config_of(*row).text;
    storage_bytes[{role, config}] = double(row->storage_bytes);
    if (timing_of(row->engine, row->batch) == timing && !std::isnan(row->time_per_token_us))
      time_us[{role, config}] = row->time_per_token_us;
  }
  // Horizontal stacks: the configuration names sit beside their bars, each one whole and readable however many
  // there are (under vertical bars Qt drops labels that would collide). The first configuration is on top.
  QStringList bottom_up = configs;
  std::reverse(bottom_up.begin(), bottom_up.end());
  const auto build = [&](ChartView* view, const std::map<std::pair<QString, QString>, double>& values,
                         const QString& title, const std::vector<AxisUnit>& units) {
    double tallest = 0;
    for (const QString& config : configs) {
      double stack = 0;
      for (const QString& role : kRoles)
        if (const auto found = values.find({role, config}); found != values.end()) stack += found->second;
      tallest = std::max(tallest, stack);
    }
    // The largest unit in which the tallest stack is at least 1 (1.2 GiB, not 1229 MiB).
    AxisUnit unit = units.front();
    for (const AxisUnit& candidate : units)
      if (tallest >= candidate.size) unit = candidate;
    auto* series = new QHorizontalStackedBarSeries;
    for (int index = 0; index < kRoles.size(); ++index) {
      auto* set = new QBarSet(kRoles[index]);
      set->setColor(ChartView::palette_color(index));
      for (const QString& config : bottom_up) {
        const auto found = values.find({kRoles[index], config});
        *set << (found == values.end() ? 0.0 : found->second / unit.size);
      }
      series->append(set);
    }
    view->chart()->addSeries(series);
    auto* axis = new QBarCategoryAxis;
    axis->append(bottom_up.isEmpty() ? QStringList{" "} : bottom_up);
    axis->setTruncateLabels(false);  // the configuration names tell the bars apart: never elided to "d…"
    view->chart()->addAxis(axis, Qt::AlignLeft);
    series->attachAxis(axis);
    // The axis must hold the stacks, not the longest single part.
    auto* value_axis = static_cast<QValueAxis*>(view->add_value_axis(Qt::AlignBottom, unit.name, {series}));
    if (tallest > 0) {
      value_axis->setRange(0, tallest / unit.size * 1.05);
      value_axis->applyNiceNumbers();
    }
    view->chart()->setTitle(title);
    view->show_message(values.empty() ? "nothing measured" : QString());
    view->finish_rebuild();
    return series;
  };
  storage_bars_ = build(storage_view_, storage_bytes, "Weight storage per configuration, by role",
                        {{"bytes", 1}, {"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024}});
  time_bars_ = build(time_view_, time_us, "Per-token time of the linear layers, by role (" + timing + ")",
                     {{"ns per token", 1e-3}, {"µs per token", 1}, {"ms per token", 1e3}, {"s per token", 1e6}});
}

void ModelStudyView::fill_batch_lines(const std::vector<const ModelRollupRow*>& rows) {
  batch_view_->clear();
  per_token_lines_.clear();
  // One line per (configuration, engine): the colour is the configuration, the dash pattern the engine, so the
  // legend lists configurations once instead of repeating the engine's long name per line.
  std::map<std::pair<ConfigLabel, QString>, std::vector<std::pair<int, double>>> lines;  // by configuration, engine
  for (const ModelRollupRow* row : rows)
    if (row->role == "all" && !std::isnan(row->time_per_token_us) && row->batch > 0)
      lines[{config_of(*row), QString::fromStdString(row->engine)}].push_back({row->batch, row->time_per_token_us});
  std::vector<std::pair<ConfigLabel, QString>> keys;
  for (const auto& [key, unused] : lines) keys.push_back(key);
  std::set<QString> engines;
  for (const auto& key : keys) engines.insert(key.second);
  batch_styles_.clear();
  // One unit for the axis, the largest in which the slowest point is at least 1 ("90 ms", not "90000 µs").
  double slowest = 0;
  for (const auto& [key, points] : lines)
    for (const auto& [batch, time] : points) slowest = std::max(slowest, time);
  AxisUnit time_unit{"µs per token", 1};
  for (const AxisUnit& unit : {AxisUnit{"ms per token", 1e3}, AxisUnit{"s per token", 1e6}})
    if (slowest >= unit.size) time_unit = unit;
  QList<QAbstractSeries*> series;
  for (const auto& key : keys) {
    auto& points = lines[key];
    std::sort(points.begin(), points.end());
    auto* line = new QLineSeries;
    line->setPointsVisible(true);
    for (const auto& [batch, time] : points) line->append(batch, time / time_unit.size);
    batch_view_->chart()->addSeries(line);
    batch_styles_.apply(line, key.first.text, engines.size() > 1 ? key.second : QString());
    per_token_lines_.append(line);
    series.append(line);
  }
  batch_view_->add_value_axis(Qt::AlignBottom, "batch size", series);
  batch_view_->add_value_axis(Qt::AlignLeft, time_unit.name, series);
  QString title = "Per-token time of all linear layers against batch size";
  if (engines.size() == 1) title += " (" + *engines.begin() + ")";
  batch_view_->chart()->setTitle(title);
  batch_dashes_ = batch_styles_.dash_legend("engine");
  batch_view_->show_message(lines.empty() ? "no engine timed in this study (--engines none)" : QString());
  batch_view_->finish_rebuild();
  batch_styles_.group_legend(batch_view_->chart());
}

}  // namespace nmscope::gui
