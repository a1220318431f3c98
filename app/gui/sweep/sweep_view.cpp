#include "sweep/sweep_view.hpp"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QElapsedTimer>
#include <QGridLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QLogValueAxis>
#include <QPushButton>
#include <QScatterSeries>
#include <QSignalBlocker>
#include <QSlider>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "nmscope/engine_registry.hpp"
#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/packed_matrix.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

namespace {

QSlider* make_slider(int maximum) {
  auto* slider = new QSlider(Qt::Horizontal);
  slider->setRange(0, maximum);
  slider->setPageStep(1);
  slider->setTickPosition(QSlider::TicksBelow);
  slider->setTickInterval(1);
  return slider;
}

QString bits_name(int bits) { return bits == 16 ? "fp16" : "int" + QString::number(bits); }

}  // namespace

SweepView::SweepView(ResultsModel* model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      patterns_{NMPattern::dense(), {4, 8}, {2, 4}, {1, 4}, {2, 8}, {1, 8}},
      bit_widths_{16, 8, 4, 3, 2},
      sparsity_(make_slider(5)),
      bits_(make_slider(4)),
      array_size_(make_slider(4)),
      memory_(new QComboBox),
      sparsity_label_(new QLabel),
      bits_label_(new QLabel),
      array_label_(new QLabel),
      figures_(new QLabel),
      measure_(new QPushButton("Measure this point")),
      chart_(new QChart),
      chart_view_(new QChartView(chart_)),
      storage_series_(new QLineSeries),
      current_storage_(new QScatterSeries),
      error_series_(new QScatterSeries),
      current_error_(new QScatterSeries),
      pattern_axis_(new QCategoryAxis),
      storage_axis_(new QValueAxis),
      error_axis_(new QLogValueAxis),
      cycles_series_(new QLineSeries),
      current_cycles_(new QScatterSeries),
      cycles_axis_(new QValueAxis) {
  bits_->setValue(2);        // int4
  array_size_->setValue(2);  // 16x16
  array_size_->setToolTip("Systolic array size (rows x cols) of the FPGA cycle model");
  for (const fpga::MemorySystem& memory : fpga::memory_presets())
    memory_->addItem(QString::fromStdString(memory.to_string()), QString::fromStdString(memory.name));
  memory_->setCurrentIndex(0);
  memory_->setToolTip("Memory the array's weights stream from (docs/fpga-memory.md): its stalls count in the cycles");
  // Short legend names, so the six entries fit one row beside each other: the axes say the units, the chart's
  // title says where each figure comes from.
  cycles_series_->setName("FPGA cycles");
  current_cycles_->setName("cycles here");
  current_cycles_->setMarkerSize(12);
  cycles_axis_->setTitleText("FPGA cycles, % of dense");
  cycles_axis_->setLabelFormat("%.0f");

  storage_series_->setName("storage");
  current_storage_->setName("storage here");
  current_storage_->setMarkerSize(14);
  error_series_->setName("weight error");
  error_series_->setMarkerSize(9);
  current_error_->setName("error here");
  current_error_->setMarkerSize(14);
  for (QAbstractSeries* series : std::initializer_list<QAbstractSeries*>{storage_series_, current_storage_, error_series_,
                                                                        current_error_, cycles_series_, current_cycles_})
    chart_->addSeries(series);
  pattern_axis_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  label_pattern_axis();
  pattern_axis_->setTitleText("N:M pattern (densest first)");
  storage_axis_->setTitleText("bits per weight");
  error_axis_->setTitleText("weight relative error");
  error_axis_->setLabelFormat("%.0e");
  chart_->addAxis(pattern_axis_, Qt::AlignBottom);
  chart_->addAxis(storage_axis_, Qt::AlignLeft);
  chart_->addAxis(error_axis_, Qt::AlignRight);
  chart_->addAxis(cycles_axis_, Qt::AlignRight);
  for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(cycles_series_), static_cast<QAbstractSeries*>(current_cycles_)}) {
    series->attachAxis(pattern_axis_);
    series->attachAxis(cycles_axis_);
  }
  for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(storage_series_), static_cast<QAbstractSeries*>(current_storage_)}) {
    series->attachAxis(pattern_axis_);
    series->attachAxis(storage_axis_);
  }
  for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(error_series_), static_cast<QAbstractSeries*>(current_error_)}) {
    series->attachAxis(pattern_axis_);
    series->attachAxis(error_axis_);
  }
  chart_->legend()->setAlignment(Qt::AlignBottom);
  chart_->legend()->setShowToolTips(true);
  chart_->setTitle(QString("Storage (analytic), weight error (stored measurements) and FPGA cycles (analytic model, "
                           "batch %1) per N:M pattern")
                       .arg(kFpgaBatch));
  chart_view_->setRenderHint(QPainter::Antialiasing);
  figures_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  figures_->setWordWrap(true);

  auto* layout = new QGridLayout(this);
  // The slider steps through patterns, not sparsities: 4:8 and 2:4 are both 50 % sparse and are told apart.
  layout->addWidget(new QLabel("N:M pattern"), 0, 0);
  layout->addWidget(sparsity_, 0, 1);
  layout->addWidget(sparsity_label_, 0, 2);
  layout->addWidget(new QLabel("Bit width"), 1, 0);
  layout->addWidget(bits_, 1, 1);
  layout->addWidget(bits_label_, 1, 2);
  layout->addWidget(new QLabel("Array size"), 2, 0);
  layout->addWidget(array_size_, 2, 1);
  layout->addWidget(array_label_, 2, 2);
  layout->addWidget(new QLabel("Memory"), 3, 0);
  layout->addWidget(memory_, 3, 1);
  layout->addWidget(figures_, 4, 0, 1, 2);
  layout->addWidget(measure_, 4, 2);
  layout->addWidget(chart_view_, 5, 0, 1, 3);
  layout->setColumnStretch(1, 1);
  layout->setRowStretch(5, 1);

  connect(sparsity_, &QSlider::valueChanged, this, &SweepView::update_view);
  connect(bits_, &QSlider::valueChanged, this, &SweepView::update_view);
  connect(array_size_, &QSlider::valueChanged, this, &SweepView::update_view);
  connect(memory_, &QComboBox::currentIndexChanged, this, &SweepView::update_view);
  connect(measure_, &QPushButton::clicked, this, [this] {
    emit measure_requested(QString::fromStdString(current_pattern().to_string()), current_bits());
  });
  connect(model_, &QAbstractItemModel::modelReset, this, [this] {
    add_stored_patterns();
    update_view();
  });
  // Rows arrive one by one while a study runs: only the new ones are looked at for patterns.
  connect(model_, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int first, int last) {
    add_stored_patterns(first, last);
    update_view();
  });
  add_stored_patterns();
  update_view();
}

void SweepView::label_pattern_axis() {
  for (const QString& label : pattern_axis_->categoriesLabels()) pattern_axis_->remove(label);
  pattern_axis_->setStartValue(-0.5);
  pattern_axis_->setRange(-0.5, double(patterns_.size()) - 0.5);
  for (size_t index = 0; index < patterns_.size(); ++index)
    pattern_axis_->append(QString::fromStdString(patterns_[index].to_string()), double(index));
}

void SweepView::add_patterns(const std::vector<NMPattern>& patterns) {
  std::vector<NMPattern> merged = patterns_;
  // Densest first: a new pattern goes after every one that keeps at least as much, so the slider's own steps
  // keep their places.
  for (const NMPattern& pattern : patterns) {
    if (std::find(merged.begin(), merged.end(), pattern) != merged.end()) continue;
    const auto sparser = std::find_if(merged.begin(), merged.end(),
                                      [&](const NMPattern& held) { return held.density() < pattern.density(); });
    merged.insert(sparser, pattern);
  }
  if (merged.size() == patterns_.size()) return;
  const NMPattern current = current_pattern();
  patterns_ = std::move(merged);
  label_pattern_axis();
  const QSignalBlocker blocker(sparsity_);
  sparsity_->setMaximum(int(patterns_.size()) - 1);
  sparsity_->setValue(int(std::find(patterns_.begin(), patterns_.end(), current) - patterns_.begin()));
  update_view();
}

void SweepView::add_stored_patterns(int first, int last) {
  std::vector<NMPattern> stored;
  std::set<NMPattern> seen(patterns_.begin(), patterns_.end());
  const std::vector<Measurement>& rows = model_->measurements();
  if (last < 0) last = int(rows.size()) - 1;
  for (int index = std::max(0, first); index <= last && index < int(rows.size()); ++index) {
    const Measurement& row = rows[size_t(index)];
    // A pattern this build cannot run (a newer or damaged database) has no place on the slider.
    if (row.pattern.is_valid() && seen.insert(row.pattern).second) stored.push_back(row.pattern);
  }
  add_patterns(stored);
}

void SweepView::set_layers(const std::vector<SweepLayer>& layers) {
  layers_ = layers;
  update_view();
}

void SweepView::set_quantization(const QuantConfig& quant) {
  quant_ = quant;
  update_view();
}

void SweepView::set_pattern_index(int index) { sparsity_->setValue(index); }
void SweepView::set_bits_index(int index) { bits_->setValue(index); }
void SweepView::set_array_index(int index) { array_size_->setValue(index); }
int SweepView::current_array_dim() const { return 4 << array_size_->value(); }

void SweepView::set_memory(const QString& memory) {
  const fpga::MemorySystem parsed = fpga::parse_memory_system(memory.trimmed().toStdString());
  int index = memory_->findData(QString::fromStdString(parsed.name));
  if (index < 0) {
    memory_->addItem(QString::fromStdString(parsed.to_string()), QString::fromStdString(parsed.name));
    index = memory_->count() - 1;
  }
  memory_->setCurrentIndex(index);
}

fpga::MemorySystem SweepView::current_memory() const {
  return fpga::parse_memory_system(memory_->currentData().toString().toStdString());
}
NMPattern SweepView::current_pattern() const { return patterns_[size_t(sparsity_->value())]; }
QString SweepView::pattern_text() const { return sparsity_label_->text(); }
int SweepView::current_bits() const { return bit_widths_[size_t(bits_->value())]; }

void SweepView::update_view() {
  QElapsedTimer timer;
  timer.start();
  QuantConfig quant = quant_;
  quant.bits = current_bits();
  const NMPattern current = current_pattern();
  sparsity_label_->setText(QString("%1 · %2% sparse")
                               .arg(QString::fromStdString(current.to_string()))
                               .arg(100.0 * (1.0 - current.density()), 0, 'g', 3));
  bits_label_->setText(bits_name(quant.bits));
  const fpga::ArraySize array{current_array_dim(), current_array_dim()};
  array_label_->setText(QString::fromStdString(array.to_string()));

  // Stored weight errors per (pattern, bits, granularity) of the chosen layers (all layers when none are chosen).
  std::map<NMPattern, std::pair<double, int>> stored;  // pattern -> (sum of errors, count), one per tensor+config
  std::set<std::tuple<NMPattern, std::string, std::string>> seen;
  const std::string granularity = quant.granularity_name();
  for (const Measurement& row : model_->measurements()) {
    if (row.quant.canonical() != quant.canonical()) continue;
    bool wanted = layers_.empty();
    for (const auto& layer : layers_) wanted |= layer.name == row.tensor;
    if (!wanted) continue;
    // engine rows of one config repeat the same accuracy figures
    if (!seen.emplace(row.pattern, row.tensor, row.source_hash).second) continue;
    auto& [sum, count] = stored[row.pattern];
    sum += row.weight_rel_err;
    ++count;
  }

  storage_series_->clear();
  error_series_->clear();
  current_storage_->clear();
  current_error_->clear();
  double max_bits_per_weight = 1;
  double min_error = 1e-3, max_error = 1;
  int64_t weights = 0;
  for (const auto& layer : layers_) weights += layer.rows * layer.cols;
  for (size_t index = 0; index < patterns_.size(); ++index) {
    int64_t bytes = 0;
    for (const auto& layer : layers_) bytes += packed_storage_bytes(layer.rows, layer.cols, patterns_[index], quant);
    const double bits_per_weight = weights > 0 ? 8.0 * double(bytes) / double(weights) : 0.0;
    storage_series_->append(double(index), bits_per_weight);
    max_bits_per_weight = std::max(max_bits_per_weight, bits_per_weight);
    if (auto found = stored.find(patterns_[index]); found != stored.end()) {
      const double error = found->second.first / found->second.second;
      if (error > 0) {
        error_series_->append(double(index), error);
        min_error = std::min(min_error, error);
        max_error = std::max(max_error, error);
      }
    }
    if (patterns_[index] == current) {
      current_storage_bytes_ = bytes;
      current_storage_->append(double(index), bits_per_weight);
    }
  }
  // FPGA cycles per pattern from the analytic model, relative to dense on the same array; the RTL confirms the model
  // (tests/rtl, nmscope-cli verify --engine fpga).
  cycles_series_->clear();
  current_cycles_->clear();
  current_fpga_cycles_ = 0;
  std::vector<int64_t> cycles_by_pattern(patterns_.size(), 0);
  std::vector<int64_t> stalls_by_pattern(patterns_.size(), 0);
  const fpga::MemorySystem memory = current_memory();
  const fpga::MemoryTiming timing = fpga::memory_timing(memory, fpga::kDefaultClockMhz);
  // The title names the memory the cycles were modelled with, so an exported image says it too.
  chart_->setTitle(QString("Storage (analytic), weight error (stored measurements) and FPGA cycles (analytic model, "
                           "batch %1, %2) per N:M pattern")
                       .arg(kFpgaBatch)
                       .arg(QString::fromStdString(memory.name)));
  for (size_t index = 0; index < patterns_.size() && !quant.is_fp16(); ++index) {
    for (const auto& layer : layers_) {
      fpga::GemmShape shape;
      shape.out_channels = layer.rows;
      shape.in_features = layer.cols;
      shape.n = patterns_[index].kept_per_group;
      shape.m = patterns_[index].group_size;
      shape.quant_group = quant.granularity == Granularity::Group ? quant.group : 0;
      shape.bits = quant.bits;
      shape.asymmetric = !quant.symmetric;
      shape.tokens = kFpgaBatch;
      if (!fpga::unsupported_reason(shape, array).empty()) continue;
      const fpga::CycleEstimate estimate = fpga::model_cycles(shape, array, 256, timing);
      cycles_by_pattern[index] += estimate.cycles;
      stalls_by_pattern[index] += estimate.stall_cycles;
    }
  }
  const int64_t dense_cycles = cycles_by_pattern.empty() ? 0 : cycles_by_pattern[0];
  for (size_t index = 0; index < patterns_.size() && dense_cycles > 0; ++index) {
    const double percent = 100.0 * double(cycles_by_pattern[index]) / double(dense_cycles);
    cycles_series_->append(double(index), percent);
    if (patterns_[index] == current) current_cycles_->append(double(index), percent);
  }
  current_fpga_cycles_ = cycles_by_pattern[size_t(sparsity_->value())];
  current_fpga_stall_cycles_ = stalls_by_pattern[size_t(sparsity_->value())];
  cycles_axis_->setRange(0, 110);

  storage_axis_->setRange(0, std::ceil(max_bits_per_weight * 1.1));
  storage_axis_->applyNiceNumbers();
  error_axis_->setRange(std::pow(10.0, std::floor(std::log10(min_error))), std::pow(10.0, std::ceil(std::log10(max_error))));

  const auto found = stored.find(current);
  current_stored_error_ = found != stored.end() ? found->second.first / found->second.second : -1.0;
  if (current_stored_error_ > 0) current_error_->append(double(sparsity_->value()), current_stored_error_);

  QString text;
  if (layers_.empty()) {
    text = "Select tensors in the Sources pane to see their storage here.";
  } else {
    const double ratio = current_storage_bytes_ > 0 ? 2.0 * double(weights) / double(current_storage_bytes_) : 0;
    text = QString("<b>%1 %2 %3</b>: %4 bytes for %5 layer(s), %6 bits per weight, %7x smaller than fp16.")
               .arg(QString::fromStdString(current.to_string()), bits_name(quant.bits),
                    QString::fromStdString(quant.is_fp16() ? "" : quant.granularity_name()))
               .arg(QLocale().toString(qlonglong(current_storage_bytes_)))
               .arg(layers_.size())
               .arg(weights > 0 ? 8.0 * double(current_storage_bytes_) / double(weights) : 0, 0, 'f', 3)
               .arg(ratio, 0, 'f', 2);
    text += current_stored_error_ >= 0
                ? QString(" Stored weight error: %1 (mean over %2 layer(s)).").arg(current_stored_error_, 0, 'e', 3).arg(found->second.second)
                : QString(" Not measured yet: press Measure.");
  }
  if (!layers_.empty()) {
    if (quant.is_fp16()) {
      text += QString(" FPGA: the array multiplies integer weights; choose 2-8 bits.");
    } else if (current_fpga_cycles_ > 0) {
      const double clock_mhz = fpga::kDefaultClockMhz;
      text += QString(
                  " FPGA %1 (model, batch %2, %7): %3 cycles (%8 waiting for the memory), %4 µs at %5 MHz, %6% "
                  "of the dense cycles.")
                  .arg(QString::fromStdString(array.to_string()))
                  .arg(kFpgaBatch)
                  .arg(QLocale().toString(qlonglong(current_fpga_cycles_)))
                  .arg(double(current_fpga_cycles_) / clock_mhz, 0, 'f', 1)
                  .arg(clock_mhz, 0, 'f', 0)
                  .arg(dense_cycles > 0 ? 100.0 * double(current_fpga_cycles_) / double(dense_cycles) : 0, 0, 'f', 1)
                  .arg(QString::fromStdString(memory.name))
                  .arg(QLocale().toString(qlonglong(current_fpga_stall_cycles_)));
    }
  }
  figures_->setText(text);
  last_update_ms_ = double(timer.nsecsElapsed()) / 1e6;
}

}  // namespace nmscope::gui
