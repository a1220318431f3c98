#pragma once
// The Sweep pane: sliders over the N:M pattern (densest first, its sparsity beside it), bit width and array size. Each
// step redraws from the analytic storage model (core's packed_storage_bytes), the analytic FPGA cycle model (core's
// fpga::model_cycles, equal to the RTL's count) and the measurements already stored, so it follows the sliders live;
// "Measure" asks for the current point to be run on the real engines.
#include <QWidget>
#include <vector>

#include "nmscope/fpga/systolic_array.hpp"
#include "nmscope/nm_pattern.hpp"
#include "nmscope/quant_config.hpp"

class QLabel;
class QComboBox;
class QSlider;
class QPushButton;

class QChart;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QCategoryAxis;
class QValueAxis;
class QLogValueAxis;

namespace nmscope::gui {

class ResultsModel;

struct SweepLayer {
  std::string name;
  int64_t rows = 0;
  int64_t cols = 0;
};

class SweepView final : public QWidget {
  Q_OBJECT

 public:
  explicit SweepView(ResultsModel* model, QWidget* parent = nullptr);

  void set_layers(const std::vector<SweepLayer>& layers);
  // Puts these patterns on the pattern slider too (the study's own and any stored ones), densest first; the slider
  // always holds dense, 4:8, 2:4, 1:4, 2:8 and 1:8.
  void add_patterns(const std::vector<NMPattern>& patterns);
  // What the label beside the pattern slider says ("2:4 · 50% sparse").
  QString pattern_text() const;
  // Granularity, group and symmetry of the swept configurations (bits come from the slider).
  void set_quantization(const QuantConfig& quant);

  // Slider positions, for automation and tests.
  void set_pattern_index(int index);
  void set_bits_index(int index);
  void set_array_index(int index);  // 0..4: 4x4 .. 64x64
  // The memory the FPGA model streams the weights from: a preset of fpga::memory_presets() or GB/s; throws
  // SettingError(FpgaMemory) when it is neither.
  void set_memory(const QString& memory);
  fpga::MemorySystem current_memory() const;
  NMPattern current_pattern() const;
  int current_bits() const;
  const std::vector<NMPattern>& patterns() const { return patterns_; }
  // What the last redraw computed, for tests: total packed bytes of the layers at the current point, and the mean
  // stored weight error there (negative when nothing is stored for it).
  int64_t current_storage_bytes() const { return current_storage_bytes_; }
  double current_stored_error() const { return current_stored_error_; }
  // The FPGA model at the current point, summed over the layers (0 when no layer is chosen or none fits the array).
  int64_t current_fpga_cycles() const { return current_fpga_cycles_; }
  int64_t current_fpga_stall_cycles() const { return current_fpga_stall_cycles_; }
  int current_array_dim() const;
  // Batch the FPGA model is evaluated at.
  static constexpr int kFpgaBatch = 16;
  double last_update_ms() const { return last_update_ms_; }

 signals:
  // Fires when the user presses Measure: run this point on the selected tensors and engines.
  void measure_requested(const QString& pattern, int bits);

 private:
  void update_view();
  // The patterns of stored rows first..last (all rows by default) join the slider.
  void add_stored_patterns(int first = 0, int last = -1);
  void label_pattern_axis();

  ResultsModel* model_;
  std::vector<SweepLayer> layers_;
  QuantConfig quant_;
  std::vector<NMPattern> patterns_;
  std::vector<int> bit_widths_;
  QSlider* sparsity_;
  QSlider* bits_;
  QSlider* array_size_;
  QComboBox* memory_;
  QLabel* sparsity_label_;
  QLabel* bits_label_;
  QLabel* array_label_;
  QLabel* figures_;
  QPushButton* measure_;
  QChart* chart_;
  QChartView* chart_view_;
  QLineSeries* storage_series_;
  QScatterSeries* current_storage_;
  QScatterSeries* error_series_;
  QScatterSeries* current_error_;
  QCategoryAxis* pattern_axis_;
  QValueAxis* storage_axis_;
  QLogValueAxis* error_axis_;
  QLineSeries* cycles_series_;
  QScatterSeries* current_cycles_;
  QValueAxis* cycles_axis_;
  int64_t current_fpga_cycles_ = 0;
  int64_t current_fpga_stall_cycles_ = 0;
  int64_t current_storage_bytes_ = 0;
  double current_stored_error_ = -1;
  double last_update_ms_ = 0;
};

}  // namespace nmscope::gui
