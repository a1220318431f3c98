#include "study/study_panel.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

#include "nmscope/engine_family.hpp"
#include "nmscope/engine_registry.hpp"
#include "nmscope/error.hpp"
#include "nmscope/study_settings.hpp"
#include "nmscope/weight_source.hpp"

namespace nmscope::gui {

namespace {

const QStringList kPresetPatterns = {"dense", "2:4", "1:4", "4:8", "2:8", "1:8"};
const QList<int> kPresetBits = {2, 3, 4, 8, 16};

QStringList split(const QString& list) {
  QStringList items;
  for (const QString& item : list.split(',', Qt::SkipEmptyParts)) items << item.trimmed();
  return items;
}

}  // namespace

StudyPanel::StudyPanel(QWidget* parent)
    : QWidget(parent),
      custom_patterns_(new QLineEdit),
      granularity_(new QComboBox),
      group_size_(new QSpinBox),
      symmetry_(new QComboBox),
      criterion_(new QComboBox),
      activations_(new QLineEdit),
      engines_(new QListWidget),
      batches_(new QLineEdit("1")),
      timing_seconds_(new QDoubleSpinBox),
      fpga_arrays_(new QLineEdit("16x16,32x32")),
      fpga_clock_(new QDoubleSpinBox),
      fpga_memory_(new QComboBox) {
  auto* layout = new QVBoxLayout(this);

  auto* patterns = new QGroupBox("N:M patterns");
  auto* pattern_grid = new QGridLayout(patterns);
  for (int index = 0; index < kPresetPatterns.size(); ++index) {
    auto* box = new QCheckBox(kPresetPatterns[index]);
    box->setChecked(kPresetPatterns[index] == "dense" || kPresetPatterns[index] == "2:4");
    pattern_boxes_[kPresetPatterns[index]] = box;
    pattern_grid->addWidget(box, index / 3, index % 3);
    connect(box, &QCheckBox::toggled, this, &StudyPanel::changed);
  }
  custom_patterns_->setPlaceholderText("custom, e.g. 3:8, 5:16");
  custom_patterns_->setToolTip("Any N:M with 1 <= N <= M <= 32, comma-separated");
  pattern_grid->addWidget(custom_patterns_, 2, 0, 1, 3);
  connect(custom_patterns_, &QLineEdit::textChanged, this, &StudyPanel::changed);
  layout->addWidget(patterns);

  auto* quant = new QGroupBox("Quantization");
  auto* quant_form = new QFormLayout(quant);
  auto* bits_row = bits_row_ = new QHBoxLayout;
  for (int bits : kPresetBits) {
    auto* box = new QCheckBox(bits == 16 ? "fp16" : QString::number(bits));
    box->setChecked(bits == 4 || bits == 16);
    bit_boxes_[bits] = box;
    bits_row->addWidget(box);
    connect(box, &QCheckBox::toggled, this, &StudyPanel::changed);
  }
  quant_form->addRow("bits", bits_row);
  granularity_->addItems({"per group", "per channel", "per tensor"});
  group_size_->setRange(1, 1 << 20);
  group_size_->setValue(128);
  auto* granularity_row = new QHBoxLayout;
  granularity_row->addWidget(granularity_);
  granularity_row->addWidget(group_size_);
  connect(granularity_, &QComboBox::currentIndexChanged, this, [this](int index) {
    group_size_->setEnabled(index == 0);
    emit changed();
  });
  quant_form->addRow("scales", granularity_row);
  symmetry_->addItems({"symmetric", "asymmetric"});
  connect(symmetry_, &QComboBox::currentIndexChanged, this, &StudyPanel::changed);
  connect(group_size_, &QSpinBox::valueChanged, this, &StudyPanel::changed);
  quant_form->addRow("grid", symmetry_);
  layout->addWidget(quant);

  auto* pruning = new QGroupBox("Pruning");
  auto* pruning_form = new QFormLayout(pruning);
  criterion_->addItems({"magnitude", "wanda"});
  criterion_->setToolTip("wanda scores |W_ij| * ||X_j||_2 and needs calibration activations [tokens, K]");
  pruning_form->addRow("criterion", criterion_);
  auto* activations_row = new QHBoxLayout;
  activations_->setPlaceholderText("activations .npy [tokens, K] (optional)");
  auto* browse = new QPushButton("…");
  browse->setToolTip("Choose an activations file");
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Calibration activations", {}, "NumPy arrays (*.npy)");
    if (!path.isEmpty()) set_activations(path);
  });
  connect(activations_, &QLineEdit::editingFinished, this, [this] { emit activations_changed(activations_->text().trimmed()); });
  activations_row->addWidget(activations_);
  activations_row->addWidget(browse);
  pruning_form->addRow("activations", activations_row);
  layout->addWidget(pruning);

  auto* engines = new QGroupBox("Engines");
  auto* engine_form = new QFormLayout(engines);
  bool has_fpga = false;
  for (const auto& engine : EngineRegistry::global().engines()) {
    auto* item = new QListWidgetItem(QString::fromStdString(engine->name()), engines_);
    const Availability availability = engine->availability();
    item->setFlags(Qt::ItemIsUserCheckable | (availability.available ? Qt::ItemIsEnabled : Qt::NoItemFlags));
    const EngineDescriptor& described = engine->descriptor();
    item->setCheckState(availability.available && described.family == EngineFamily::Cpu ? Qt::Checked : Qt::Unchecked);
    // What the variant is, from its descriptor: kernel, device, what it takes, what it is quoted against.
    QString tip =
        QString("%1\n%2 on the %3\nruns %4")
            .arg(QString::fromStdString(described.name), QString::fromStdString(described.kernel),
                 QString::fromStdString(described.device), QString::fromStdString(described.describe_support()));
    tip += described.is_baseline ? QString("\nbaseline: other variants are quoted against it")
                                 : "\nspeedup against " + QString::fromStdString(described.baseline()) +
                                       (baseline_is_dense_configuration(described.name) ? " dense" : "");
    if (!availability.available) tip += "\nunavailable: " + QString::fromStdString(availability.reason);
    item->setToolTip(tip);
    has_fpga |= described.family == EngineFamily::Fpga;
  }
  engines_->setMaximumHeight(110);
  connect(engines_, &QListWidget::itemChanged, this, &StudyPanel::changed);
  engine_form->addRow(engines_);
  batches_->setToolTip("Batch sizes (tokens per matmul), comma-separated");
  engine_form->addRow("batch sizes", batches_);
  timing_seconds_->setRange(0.01, 60);
  timing_seconds_->setValue(0.3);
  timing_seconds_->setSuffix(" s");
  timing_seconds_->setToolTip("Time budget per timed measurement (median of the repetitions)");
  engine_form->addRow("timing budget", timing_seconds_);
  fpga_clock_->setRange(1, 2000);
  fpga_clock_->setValue(250);
  fpga_clock_->setSuffix(" MHz");
  for (const fpga::MemorySystem& memory : fpga::memory_presets())
    fpga_memory_->addItem(QString::fromStdString(memory.name));
  fpga_memory_->setEditable(true);
  fpga_memory_->setCurrentText(QString::fromStdString(fpga::default_memory_system().name));
  fpga_memory_->setToolTip(
      "Memory behind the array's port: a preset, or a sustained bandwidth in GB/s "
      "(docs/fpga-memory.md); its stalls are part of the cycle count");
  for (QWidget* fpga_field :
       {static_cast<QWidget*>(fpga_arrays_), static_cast<QWidget*>(fpga_clock_), static_cast<QWidget*>(fpga_memory_)}) {
    fpga_field->setEnabled(has_fpga);
    if (!has_fpga) fpga_field->setToolTip("no fpga/ engine in this build");
  }
  fpga_arrays_->setToolTip("Systolic array sizes ROWSxCOLS the checked fpga/ engines run on, e.g. 16x16,32x32");
  engine_form->addRow("FPGA arrays", fpga_arrays_);
  engine_form->addRow("FPGA clock", fpga_clock_);
  engine_form->addRow("FPGA memory", fpga_memory_);
  layout->addWidget(engines);
  layout->addStretch();
}

StudySpec StudyPanel::spec(const std::vector<SelectedTensor>& tensors) const {
  if (tensors.empty()) throw Error("tensors", "select at least one tensor in the Sources pane");
  if (patterns_text().isEmpty()) throw SettingError(Setting::Pattern, "choose at least one N:M pattern");
  if (bits_text().isEmpty()) throw SettingError(Setting::Bits, "choose at least one bit width");
  StudySettings settings;
  settings.patterns = patterns_text().toStdString();
  settings.bits = bits_text().toStdString();
  const QuantConfig quant = quantization();
  settings.granularity = quant.granularity;
  settings.group = quant.group;
  settings.symmetric = quant.symmetric;
  settings.criterion = criterion_->currentText().toStdString();
  settings.activations = activations_->text().trimmed().toStdString();
  // Checked fpga/ variants stand for the family: the sizes that run are the ones under "FPGA arrays".
  QStringList engines;
  bool fpga_checked = false;
  for (const QString& name : engines_text().split(',', Qt::SkipEmptyParts)) {
    if (is_engine_of(EngineFamily::Fpga, name.toStdString()))
      fpga_checked = true;
    else engines << name;
  }
  if (fpga_checked) engines << "fpga";
  settings.engines = engines.isEmpty() ? "none" : engines.join(',').toStdString();
  settings.arrays = fpga_arrays_->text().trimmed().toStdString();
  settings.fpga_clock_mhz = fpga_clock_->value();
  settings.fpga_memory = fpga_memory_->currentText().trimmed().toStdString();
  settings.batches = batches_->text().trimmed().toStdString();
  settings.timing_seconds = timing_seconds_->value();
  // The settings become a spec where the CLI's do (core's make_study_spec); the pane adds what it selected.
  StudySpec spec = make_study_spec(settings);
  for (const auto& tensor : tensors) {
    if (std::find(spec.sources.begin(), spec.sources.end(), tensor.source->location()) == spec.sources.end())
      spec.sources.push_back(tensor.source->location());
    spec.tensors.push_back(tensor.name);
  }
  spec.validate();
  return spec;
}

QuantConfig StudyPanel::quantization() const {
  QuantConfig quant;
  quant.granularity = granularity_->currentIndex() == 0   ? Granularity::Group
                      : granularity_->currentIndex() == 1 ? Granularity::Channel
                                                          : Granularity::Tensor;
  quant.group = group_size_->value();
  quant.symmetric = symmetry_->currentIndex() == 0;
  return quant;
}

QString StudyPanel::patterns_text() const {
  QStringList patterns;
  for (const QString& name : kPresetPatterns)
    if (pattern_boxes_.at(name)->isChecked()) patterns << name;
  patterns << split(custom_patterns_->text());
  return patterns.join(',');
}

QString StudyPanel::bits_text() const {
  QStringList bits;
  for (auto it = bit_boxes_.rbegin(); it != bit_boxes_.rend(); ++it)
    if (it->second->isChecked()) bits << QString::number(it->first);
  return bits.join(',');
}

QString StudyPanel::engines_text() const {
  QStringList names;
  for (int row = 0; row < engines_->count(); ++row)
    if (engines_->item(row)->checkState() == Qt::Checked) names << engines_->item(row)->text();
  return names.join(',');
}

void StudyPanel::set_patterns(const QString& comma_separated) {
  QStringList custom;
  for (auto& [name, box] : pattern_boxes_) box->setChecked(false);
  for (const QString& item : split(comma_separated)) {
    const QString canonical = QString::fromStdString(NMPattern::parse(item.toStdString()).to_string());
    if (pattern_boxes_.count(canonical)) pattern_boxes_[canonical]->setChecked(true);
    else custom << canonical;
  }
  custom_patterns_->setText(custom.join(", "));
}

void StudyPanel::set_bits(const QString& comma_separated) {
  const std::vector<int> bits = QuantConfig::parse_bits_list(comma_separated.toStdString());
  for (auto& [width, box] : bit_boxes_) box->setChecked(std::find(bits.begin(), bits.end(), width) != bits.end());
  for (int width : bits)
    if (!bit_boxes_.count(width)) {
      // 5, 6, 7 bits have no preset box: add one rather than silently dropping the choice.
      auto* box = new QCheckBox(QString::number(width));
      box->setChecked(true);
      bit_boxes_[width] = box;
      connect(box, &QCheckBox::toggled, this, &StudyPanel::changed);
      bits_row_->addWidget(box);
    }
}

void StudyPanel::set_engines(const QString& comma_separated) {
  const auto selected = EngineRegistry::global().select(comma_separated.toStdString());
  for (int row = 0; row < engines_->count(); ++row) {
    QListWidgetItem* item = engines_->item(row);
    bool checked = false;
    for (const Engine* engine : selected) checked |= QString::fromStdString(engine->name()) == item->text();
    item->setCheckState(checked && (item->flags() & Qt::ItemIsEnabled) ? Qt::Checked : Qt::Unchecked);
  }
}

void StudyPanel::set_batches(const QString& comma_separated) { batches_->setText(comma_separated); }

void StudyPanel::set_activations(const QString& path) {
  activations_->setText(path);
  if (!path.isEmpty()) criterion_->setCurrentText("wanda");
  emit activations_changed(path);
}

void StudyPanel::save(QSettings& settings) const {
  settings.setValue("study/patterns", patterns_text());
  settings.setValue("study/bits", bits_text());
  settings.setValue("study/engines", engines_text());
  settings.setValue("study/batches", batches_->text());
  settings.setValue("study/granularity", granularity_->currentIndex());
  settings.setValue("study/group", group_size_->value());
  settings.setValue("study/symmetric", symmetry_->currentIndex() == 0);
  settings.setValue("study/criterion", criterion_->currentText());
  settings.setValue("study/timing_seconds", timing_seconds_->value());
  settings.setValue("study/fpga_arrays", fpga_arrays_->text());
  settings.setValue("study/fpga_clock_mhz", fpga_clock_->value());
  settings.setValue("study/fpga_memory", fpga_memory_->currentText());
}

void StudyPanel::set_fpga_arrays(const QString& comma_separated) {
  fpga::parse_array_sizes(
      comma_separated.trimmed().toStdString());  // throws SettingError(ArraySize, ...) when malformed
  fpga_arrays_->setText(comma_separated.trimmed());
}

QString StudyPanel::fpga_arrays_text() const { return fpga_arrays_->text().trimmed(); }

void StudyPanel::set_fpga_memory_text(const QString& text) { fpga_memory_->setCurrentText(text); }

void StudyPanel::restore(const QSettings& settings) {
  // A setting written by another version may no longer parse: keep the defaults for that field.
  auto attempt = [](auto&& apply) {
    try {
      apply();
    } catch (const Error&) {
    }
  };
  if (settings.contains("study/patterns")) attempt([&] { set_patterns(settings.value("study/patterns").toString()); });
  if (settings.contains("study/bits")) attempt([&] { set_bits(settings.value("study/bits").toString()); });
  if (settings.contains("study/engines")) {
    const QString engines = settings.value("study/engines").toString();
    attempt([&] { set_engines(engines.isEmpty() ? "none" : engines); });
  }
  if (settings.contains("study/batches")) set_batches(settings.value("study/batches").toString());
  granularity_->setCurrentIndex(settings.value("study/granularity", 0).toInt());
  group_size_->setValue(settings.value("study/group", 128).toInt());
  symmetry_->setCurrentIndex(settings.value("study/symmetric", true).toBool() ? 0 : 1);
  criterion_->setCurrentText(settings.value("study/criterion", "magnitude").toString());
  timing_seconds_->setValue(settings.value("study/timing_seconds", 0.3).toDouble());
  if (settings.contains("study/fpga_arrays"))
    attempt([&] { set_fpga_arrays(settings.value("study/fpga_arrays").toString()); });
  fpga_clock_->setValue(settings.value("study/fpga_clock_mhz", fpga::kDefaultClockMhz).toDouble());
  if (settings.contains("study/fpga_memory"))
    attempt([&] {
      const QString memory = settings.value("study/fpga_memory").toString();
      fpga::parse_memory_system(memory.trimmed().toStdString());
      fpga_memory_->setCurrentText(memory);
    });
}

}  // namespace nmscope::gui
