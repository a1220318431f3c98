// The Masks panel over synthetic sources: layer and pattern choice fill both masks off the GUI thread, the heat map
// zooms, pans and resets (linked between the two criteria, one colour range), tooltips name single weights and give a
// block's kept density and |w| share as core computes it, the row strip has a point per row in view, bad patterns and
// failing layers are reported without a crash, and rendering a 4096x11008 layer stays interactive.
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QToolTip>
#include <QWheelEvent>
#include <QtTest>
#include <cmath>
#include <random>

#include "masks/keep_pattern_histogram_view.hpp"
#include "masks/mask_heatmap.hpp"
#include "masks/mask_view.hpp"
#include "masks/row_sparsity_plot.hpp"
#include "nmscope/error.hpp"
#include "nmscope/model.hpp"
#include "nmscope/model_compression.hpp"
#include "nmscope/model_study.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/second_order.hpp"
#include "nmscope/token_ids.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/weight_source.hpp"

using namespace nmscope;
using namespace nmscope::gui;

namespace {

constexpr int kAnalysisTimeoutMs = 120000;  // the 4096x11008 layer on a busy two-core CI machine

std::shared_ptr<const MatrixF> random_activations(int64_t tokens, int64_t cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal;
  auto activations = std::make_shared<MatrixF>(tokens, cols);
  for (int64_t index = 0; index < activations->size(); ++index) activations->data()[index] = normal(engine);
  // A few loud input channels, as real activations have: wanda then departs from magnitude.
  for (int64_t col = 0; col < cols; col += 7) activations->col(col) *= 20.0f;
  return activations;
}

void wheel(QWidget* widget, const QPoint& position, int delta) {
  QWheelEvent event(QPointF(position), QPointF(widget->mapToGlobal(position)), QPoint(), QPoint(0, delta), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(widget, &event);
}

void drag(QWidget* widget, const QPoint& from, const QPoint& to) {
  QTest::mousePress(widget, Qt::LeftButton, {}, from);
  QMouseEvent move(QEvent::MouseMove, QPointF(to), QPointF(widget->mapToGlobal(to)), Qt::NoButton, Qt::LeftButton,
                   Qt::NoModifier);
  QApplication::sendEvent(widget, &move);
  QTest::mouseRelease(widget, Qt::LeftButton, {}, to);
}

// A source whose only layer cannot be loaded, as a truncated file would behave.
class BrokenSource final : public WeightSource {
 public:
  BrokenSource() {
    TensorInfo info;
    info.name = "broken.weight";
    info.dtype = DType::F32;
    info.shape = {8, 16};
    info.is_matrix = true;
    tensors_.push_back(info);
  }
  const std::string& location() const override { return location_; }
  const std::vector<TensorInfo>& tensors() const override { return tensors_; }
  MatrixF load_matrix(const std::string& name) const override {
    throw Error(name, "the file ends 512 bytes before the tensor's data");
  }
  std::string tensor_hash(const std::string&) const override { return "0"; }

 private:
  std::string location_ = "broken.safetensors";
  std::vector<TensorInfo> tensors_;
};

struct HeatmapFixture {
  std::shared_ptr<const MatrixF> weights;
  std::shared_ptr<const NMSelection> selection;
};

HeatmapFixture heatmap_fixture(const std::string& spec, NMPattern pattern) {
  const auto source = open_weight_source(spec);
  auto weights = std::make_shared<const MatrixF>(source->load_matrix(source->tensors().front().name));
  auto selection = std::make_shared<const NMSelection>(select_nm(*weights, pattern, PruningCriterion::Magnitude));
  return {weights, selection};
}

}  // namespace

class TestMaskView final : public QObject {
  Q_OBJECT

 private slots:
  void choosing_layer_and_pattern_fills_both_selections() {
    MaskView view;
    view.resize(1000, 700);
    view.show();
    view.set_activations(random_activations(16, 96, 4));
    view.set_source(open_weight_source("synth:64x96+48x200:seed=1"));
    QCOMPARE(view.layer_chooser()->count(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QCOMPARE(view.current_layer(), QString("w0_64x96"));
    QVERIFY(view.error_text().isEmpty());
    QVERIFY(view.magnitude_selection());
    QVERIFY(view.compared_selection());
    QCOMPARE(view.magnitude_selection()->rows, int64_t(64));
    QCOMPARE(view.magnitude_selection()->cols, int64_t(96));
    QCOMPARE(view.magnitude_selection()->pattern, (NMPattern{2, 4}));
    QCOMPARE(view.compared_selection()->pattern, (NMPattern{2, 4}));
    QVERIFY(view.agreement().has_value());
    QVERIFY(*view.agreement() > 0.0 && *view.agreement() < 1.0);  // loud channels change what wanda keeps
    QVERIFY(view.magnitude_heatmap()->has_mask());
    QVERIFY(view.compared_heatmap()->has_mask());
    const MatrixF weights = open_weight_source("synth:64x96+48x200:seed=1")->load_matrix("w0_64x96");
    QCOMPARE(view.row_plot()->magnitude_shares().abs,
             row_kept_magnitude_share(weights, *view.magnitude_selection(), false));
    QCOMPARE(view.row_plot()->magnitude_shares().squared,
             row_kept_magnitude_share(weights, *view.magnitude_selection(), true));
    QCOMPARE(view.row_plot()->compared_shares().abs, row_kept_magnitude_share(weights, *view.compared_selection(), false));
    QCOMPARE(view.histogram_view()->categories(), (QStringList{"1100", "1010", "0110", "1001", "0101", "0011"}));
    QCOMPARE(view.histogram_view()->bar_set_count(), 2);

    QSignalSpy shown(&view, &MaskView::analysis_shown);
    view.set_pattern_text("4:8");
    QVERIFY(view.is_busy());
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QCOMPARE(shown.count(), 1);
    QCOMPARE(view.magnitude_selection()->pattern, (NMPattern{4, 8}));
    QCOMPARE(view.compared_selection()->pattern, (NMPattern{4, 8}));
    QCOMPARE(view.histogram_view()->categories().size(), KeepPatternHistogramView::kMaxBars);  // of C(8,4) = 70

    // Another layer: its K differs from the activations', so the wanda side explains itself.
    QVERIFY(view.select_layer("w1_48x200"));
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QCOMPARE(view.current_layer(), QString("w1_48x200"));
    QCOMPARE(view.magnitude_selection()->rows, int64_t(48));
    QCOMPARE(view.magnitude_selection()->pattern, (NMPattern{4, 8}));
    QVERIFY(!view.compared_selection());
    QVERIFY(view.compared_note().contains("K = 96"));
    QVERIFY(view.compared_heatmap()->placeholder_text().contains("K = 200"));
    QVERIFY(!view.agreement().has_value());
  }

  void requests_while_busy_end_with_the_newest() {
    MaskView view;
    view.set_source(open_weight_source("synth:64x96+48x200:seed=1"));
    view.set_pattern_text("1:4");
    view.select_layer("w1_48x200");
    view.set_pattern_text("2:8");
    QVERIFY(view.is_busy());
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QCOMPARE(view.magnitude_selection()->rows, int64_t(48));
    QCOMPARE(view.magnitude_selection()->pattern, (NMPattern{2, 8}));
  }

  void sparsegpt_side_from_an_activations_file_is_cores_second_order_mask() {
    MaskView view;
    view.resize(1000, 700);
    view.show();
    const auto activations = random_activations(64, 96, 9);
    view.set_activations(activations);
    view.set_source(open_weight_source("synth:64x96:seed=3"));
    QVERIFY(!view.uses_model_calibration());
    view.set_compared_criterion(ComparedCriterion::SparseGPT);
    view.set_bits(3);
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QVERIFY2(view.compared_selection(), qPrintable(view.compared_note()));

    SecondOrderSettings settings;
    settings.pattern = NMPattern{2, 4};
    settings.quant = view.quantization();
    QCOMPARE(settings.quant.bits, 3);
    const MatrixF weights = open_weight_source("synth:64x96:seed=3")->load_matrix("w0_64x96");
    const NMSelection expected = unpack_selection(second_order_compress(weights, input_hessian(*activations), settings).packed);
    QCOMPARE(view.compared_selection()->kept_positions, expected.kept_positions);
    QVERIFY(view.compared_source().contains("activations file"));
    QVERIFY(view.row_plot()->compared_shares().abs.size() == 64);
    QVERIFY(view.histogram_view()->bar_set_count() == 2);
    // Second order differs from magnitude where the loud channels are.
    QVERIFY(view.agreement() && *view.agreement() < 1.0);
  }

  void model_directory_shows_the_masks_the_whole_model_compression_chose() {
    const std::string directory = NMSCOPE_MODEL_FIXTURES "/tiny_llama";
    MaskView view;
    view.resize(1000, 700);
    view.show();
    view.set_source(open_weight_source(directory));
    QVERIFY(view.uses_model_calibration());
    const auto model = Model::open(directory);
    const std::string layer = model->linear_layers().back()->info.name;  // the last block's down projection
    QVERIFY(view.select_layer(QString::fromStdString(layer)));
    for (const ComparedCriterion criterion : {ComparedCriterion::SparseGPT, ComparedCriterion::Wanda}) {
      view.set_compared_criterion(criterion);
      QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
      QVERIFY2(view.compared_selection(), qPrintable(view.compared_note() + view.error_text()));
      QVERIFY(view.compared_source().contains("built-in calibration"));

      // Exactly what model-eval compresses with: the whole model, layer by layer, on the built-in calibration set.
      ModelCompressionSettings settings;
      settings.pattern = NMPattern{2, 4};
      settings.quant = view.quantization();
      settings.criterion = criterion == ComparedCriterion::Wanda ? ModelCriterion::Wanda : ModelCriterion::SparseGPT;
      const TokenIds calibration = builtin_calibration(*model);
      const CompressedModel compressed = compress_model(*model, settings, &calibration);
      const NMSelection expected = unpack_selection(compressed.layers().at(layer).packed);
      QCOMPARE(view.compared_selection()->kept_positions, expected.kept_positions);
    }
    // Embeddings are listed but not compressed: the right side says why instead of inventing a mask.
    bool found_non_linear = false;
    for (const ModelTensor& tensor : model->tensors())
      if (!tensor.is_linear() && tensor.info.is_matrix) {
        QVERIFY(view.select_layer(QString::fromStdString(tensor.info.name)));
        found_non_linear = true;
        break;
      }
    QVERIFY(found_non_linear);
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QVERIFY(view.error_text().isEmpty());
    QVERIFY(view.magnitude_selection());
    QVERIFY(!view.compared_selection());
    QVERIFY2(view.compared_note().contains("not a compressed linear layer"), qPrintable(view.compared_note()));
  }

  void wanda_side_is_empty_without_activations_and_filled_with_them() {
    MaskView view;
    view.set_source(open_weight_source("synth:64x96:seed=1"));
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QVERIFY(view.magnitude_selection());
    QVERIFY(!view.compared_selection());
    QVERIFY(!view.compared_heatmap()->has_mask());
    QVERIFY(view.compared_heatmap()->placeholder_text().contains("activations"));
    QCOMPARE(view.histogram_view()->bar_set_count(), 1);

    view.set_activations(random_activations(8, 96, 2));
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QVERIFY(view.compared_selection());
    QVERIFY(view.compared_heatmap()->has_mask());
    QVERIFY(view.compared_note().isEmpty());
    QCOMPARE(view.histogram_view()->bar_set_count(), 2);

    view.set_activations(nullptr);
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QVERIFY(!view.compared_selection());
  }

  void bad_pattern_shows_an_error_and_keeps_the_masks() {
    MaskView view;
    view.set_source(open_weight_source("synth:64x96:seed=1"));
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QSignalSpy failed(&view, &MaskView::failed);
    for (const QString& text : {"5:4", "abc", "2:33", "0:4", ""}) {
      view.set_pattern_text(text);
      QVERIFY2(!view.error_text().isEmpty(), qPrintable(text));
      QVERIFY(!view.is_busy());
      QCOMPARE(view.magnitude_selection()->pattern, (NMPattern{2, 4}));
    }
    view.set_pattern_text("5:4");
    QVERIFY(view.error_text().contains("N must not exceed M"));
    QCOMPARE(failed.count(), 0);  // a typing slip is shown beside the chooser, not in a dialog

    view.set_pattern_text(" 1:8 ");
    QVERIFY(view.error_text().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QCOMPARE(view.magnitude_selection()->pattern, (NMPattern{1, 8}));
    QCOMPARE(view.current_pattern(), (NMPattern{1, 8}));
  }

  void a_layer_that_fails_to_load_is_reported() {
    MaskView view;
    QSignalSpy failed(&view, &MaskView::failed);
    view.set_source(std::make_shared<BrokenSource>());
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    QCOMPARE(failed.count(), 1);
    const QString message = failed.front().front().toString();
    QVERIFY(message.contains("broken.weight") && message.contains("512 bytes"));
    QCOMPARE(view.error_text(), message);
    QVERIFY(!view.magnitude_selection());
    QVERIFY(!view.magnitude_heatmap()->has_mask());

    view.set_source(nullptr);
    QCOMPARE(view.layer_chooser()->count(), 0);
    QVERIFY(view.error_text().isEmpty());
  }

  void heatmap_zooms_pans_and_resets() {
    const HeatmapFixture fixture = heatmap_fixture("synth:256x512:seed=3", NMPattern{2, 4});
    MaskHeatmap map;
    map.resize(600, 400);
    map.show();
    map.set_mask(fixture.weights, fixture.selection);
    const QRectF whole(0, 0, 512, 256);
    QCOMPARE(map.viewport(), whole);
    QVERIFY(!map.shows_single_weights());
    QSignalSpy changed(&map, &MaskHeatmap::viewport_changed);

    const QPoint centre = map.map_area().center();
    wheel(&map, centre, 120);
    QCOMPARE(changed.count(), 1);
    const QRectF zoomed = map.viewport();
    QVERIFY(zoomed.width() < whole.width() && zoomed.height() < whole.height());
    QVERIFY(std::abs(zoomed.width() - 512 / 1.25) < 1e-6);

    wheel(&map, centre, -120);  // out again, about the same point
    QVERIFY(map.viewport().width() > zoomed.width());
    for (int step = 0; step < 5; ++step) wheel(&map, centre, -120);
    QCOMPARE(map.viewport(), whole);  // never beyond the whole layer

    for (int step = 0; step < 6; ++step) wheel(&map, map.map_area().topLeft() + QPoint(1, 1), 120);
    const QRectF corner = map.viewport();
    QVERIFY(corner.left() < 1 && corner.top() < 1);  // zoomed about the top left corner
    drag(&map, centre, centre - QPoint(100, 50));    // pulls the layer up and left: the view moves right and down
    QVERIFY(map.viewport().left() > corner.left());
    QVERIFY(map.viewport().top() > corner.top());
    QCOMPARE(map.viewport().size(), corner.size());

    QTest::mouseDClick(&map, Qt::LeftButton, {}, centre);
    QCOMPARE(map.viewport(), whole);
  }

  void linked_heatmaps_follow_each_other() {
    MaskView view;
    view.resize(1200, 800);
    view.show();
    view.set_activations(random_activations(8, 96, 2));
    view.set_source(open_weight_source("synth:64x96:seed=1"));
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    MaskHeatmap* left = view.magnitude_heatmap();
    MaskHeatmap* right = view.compared_heatmap();
    wheel(left, left->map_area().center(), 240);
    QVERIFY(left->viewport().width() < 96);
    QCOMPARE(right->viewport(), left->viewport());
    QCOMPARE(view.row_plot()->first_row(), left->viewport().top());
    drag(right, right->map_area().center(), right->map_area().center() + QPoint(40, 40));
    QCOMPARE(left->viewport(), right->viewport());
    QTest::mouseDClick(right, Qt::LeftButton, {}, right->map_area().center());
    QCOMPARE(left->viewport(), QRectF(0, 0, 96, 64));
  }

  void tooltips_name_a_weight_when_zoomed_in_and_a_block_when_out() {
    const HeatmapFixture fixture = heatmap_fixture("synth:256x512:seed=3", NMPattern{2, 4});
    MaskHeatmap map;
    map.resize(300, 200);
    map.show();
    map.set_mask(fixture.weights, fixture.selection);
    const QPoint centre = map.map_area().center();
    // Blocks hold whole groups, so zoomed out every 2:4 block keeps exactly half; their |w| share is core's.
    const QString block_text = map.tooltip_at(centre);
    QVERIFY2(block_text.contains("kept density 0.500"), qPrintable(block_text));
    const QRegularExpressionMatch block =
        QRegularExpression(R"(rows (\d+)–(\d+), columns (\d+)–(\d+).*\nkept \|w\| share (\S+))",
                           QRegularExpression::DotMatchesEverythingOption)
            .match(block_text);
    QVERIFY2(block.hasMatch(), qPrintable(block_text));
    const int64_t first_row = block.captured(1).toLongLong(), last_row = block.captured(2).toLongLong();
    const int64_t first_col = block.captured(3).toLongLong(), last_col = block.captured(4).toLongLong();
    QVERIFY(last_row >= first_row && last_col > first_col);
    const DensityGrid alone = kept_magnitude_share(*fixture.weights, *fixture.selection, first_row,
                                                   last_row - first_row + 1, first_col, last_col - first_col + 1, 1, 1);
    QCOMPARE(block.captured(5), QString::number(double(alone.at(0, 0)), 'f', 4));
    QVERIFY(alone.at(0, 0) > 0.5f && alone.at(0, 0) < 1.0f);
    QVERIFY(map.tooltip_at(QPoint(map.width() - 2, 5)).isEmpty());  // the legend

    for (int step = 0; step < 60; ++step) wheel(&map, centre, 120);
    QVERIFY(map.shows_single_weights());
    const QString text = map.tooltip_at(centre);
    const QRegularExpressionMatch match =
        QRegularExpression(R"(row (\d+), column (\d+)\nweight (\S+) — (kept|pruned)\n2:4 group (\d+))").match(text);
    QVERIFY2(match.hasMatch(), qPrintable(text));
    const int64_t row = match.captured(1).toLongLong(), col = match.captured(2).toLongLong();
    QCOMPARE(match.captured(3), QString::number(double((*fixture.weights)(row, col)), 'g', 5));
    QCOMPARE(match.captured(5).toLongLong(), col / 4);
    const bool kept = kept_mask(*fixture.selection, row, 1, col, 1).front() != 0;
    QCOMPARE(match.captured(4), QString(kept ? "kept" : "pruned"));

    QHelpEvent help(QEvent::ToolTip, centre, map.mapToGlobal(centre));
    QApplication::sendEvent(&map, &help);
    QCOMPARE(QToolTip::text(), text);
  }

  void both_maps_share_one_colour_range_and_the_strip_follows_the_rows() {
    MaskView view;
    view.resize(1200, 800);
    view.show();
    // Loud input channels make wanda keep small weights beside them: it keeps less |w| than magnitude.
    view.set_activations(random_activations(16, 1024, 5));
    view.set_source(open_weight_source("synth:512x1024:dist=llm:seed=2"));
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    MaskHeatmap* magnitude = view.magnitude_heatmap();
    MaskHeatmap* wanda = view.compared_heatmap();
    QVERIFY(!magnitude->shows_single_weights());
    const auto range = magnitude->colour_range();
    QCOMPARE(wanda->colour_range(), range);
    QVERIFY(range.first < range.second && range.second <= 1.0f);

    // What the shared range is for: wanda keeps less |w| than magnitude on the same colours.
    const auto whole_layer_share = [](const MaskHeatmap* map, const NMSelection& selection, const MatrixF& weights) {
      const QRectF viewport = map->viewport();
      const DensityGrid grid = kept_magnitude_share(weights, selection, 0, int64_t(viewport.height()), 0,
                                                    int64_t(viewport.width()), 1, 1);
      return grid.at(0, 0);
    };
    const MatrixF weights = open_weight_source("synth:512x1024:dist=llm:seed=2")->load_matrix("w0_512x1024");
    const float magnitude_share = whole_layer_share(magnitude, *view.magnitude_selection(), weights);
    const float wanda_share = whole_layer_share(wanda, *view.compared_selection(), weights);
    QVERIFY(wanda_share < magnitude_share);  // over the whole layer, magnitude keeps the most |w| by construction
    magnitude->repaint();
    wanda->repaint();
    QCOMPARE(wanda->colour_range(), magnitude->colour_range());

    // Zoomed in the range follows the blocks in view, still shared.
    wheel(magnitude, magnitude->map_area().center(), 120);
    QVERIFY(!magnitude->shows_single_weights());
    QCOMPARE(wanda->colour_range(), magnitude->colour_range());

    // The row strip has one point per row in view, per series.
    RowSparsityPlot* strip = view.row_plot();
    const QRectF viewport = magnitude->viewport();
    const int64_t rows_in_view = int64_t(std::ceil(viewport.bottom())) - int64_t(std::floor(viewport.top()));
    QCOMPARE(strip->row_points(strip->magnitude_shares().abs).size(), rows_in_view);
    QCOMPARE(strip->row_points(strip->compared_shares().squared).size(), rows_in_view);
    QTest::mouseDClick(magnitude, Qt::LeftButton, {}, magnitude->map_area().center());
    QCOMPARE(strip->row_points(strip->magnitude_shares().abs).size(), 512);
    const auto [left, right] = strip->share_axis();
    QCOMPARE(right, 1.0);
    for (const double share : strip->compared_shares().abs) QVERIFY(share >= left);
  }

  void a_whole_4096x11008_layer_renders_and_pans_quickly() {
    MaskView view;
    view.resize(1400, 900);
    view.show();
    QElapsedTimer analysis;
    analysis.start();
    view.set_source(open_weight_source("synth:4096x11008:seed=1"));
    QVERIFY(view.is_busy());  // set_source returned at once: the layer loads on the thread pool
    QTRY_VERIFY_WITH_TIMEOUT(!view.is_busy(), kAnalysisTimeoutMs);
    qInfo("load + select_nm + statistics of 4096x11008 in the background: %lld ms", analysis.elapsed());
    QVERIFY(view.error_text().isEmpty());

    MaskHeatmap* map = view.magnitude_heatmap();
    QVERIFY(!map->shows_single_weights());
    wheel(map, map->map_area().center(), 120);
    QTest::mouseDClick(map, Qt::LeftButton, {}, map->map_area().center());  // whole layer, cache invalid
    QElapsedTimer timer;
    timer.start();
    map->repaint();
    const double whole_ms = double(timer.nsecsElapsed()) / 1e6;
    qInfo("whole layer into %dx%d px: render %.1f ms, repaint %.1f ms", map->map_area().width(),
          map->map_area().height(), map->last_render_ms(), whole_ms);
    QVERIFY(whole_ms < 500);

    for (int step = 0; step < 3; ++step) wheel(map, map->map_area().center(), 120);
    map->repaint();
    drag(map, map->map_area().center(), map->map_area().center() + QPoint(25, 15));
    timer.restart();
    map->repaint();
    const double pan_ms = double(timer.nsecsElapsed()) / 1e6;
    qInfo("pan step at %.0fx%.0f weights in view: render %.1f ms, repaint %.1f ms", map->viewport().width(),
          map->viewport().height(), map->last_render_ms(), pan_ms);
    QVERIFY(pan_ms < 500);

    for (int step = 0; step < 40; ++step) wheel(map, map->map_area().center(), 120);
    QVERIFY(map->shows_single_weights());
    drag(map, map->map_area().center(), map->map_area().center() + QPoint(25, 15));
    timer.restart();
    map->repaint();
    qInfo("pan step over single weights: repaint %.1f ms", double(timer.nsecsElapsed()) / 1e6);
  }
};

QTEST_MAIN(TestMaskView)
#include "test_mask_view.moc"
