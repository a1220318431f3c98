#include "charts/model_chart.hpp"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include "charts/chart_view.hpp"
#include "results/results_model.hpp"

namespace nmscope::gui {

ModelChart::ModelChart(ResultsModel* model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      view_(new ChartView(this)),
      controls_(new QHBoxLayout),
      note_(new QLabel(this)),
      rebuild_timer_(new QTimer(this)) {
  auto* reset = new QPushButton(tr("Reset zoom"), this);
  reset->setToolTip(
      tr("Wheel zooms, left drag zooms to a box, right or middle drag pans; double-click or Home resets"));
  auto* save_button = new QPushButton(tr("Save image…"), this);
  connect(reset, &QPushButton::clicked, view_, &ChartView::reset_zoom);
  connect(save_button, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save chart"), {}, tr("PNG image (*.png);;SVG image (*.svg)"));
    QString error;
    if (!path.isEmpty() && !save(path, &error)) QMessageBox::warning(this, tr("Save chart"), error);
  });
  controls_->addStretch(1);
  controls_->addWidget(reset);
  controls_->addWidget(save_button);
  note_->setWordWrap(true);
  note_->setStyleSheet("color: #666");
  note_->hide();
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls_);
  layout->addWidget(view_, 1);
  layout->addWidget(note_);

  rebuild_timer_->setSingleShot(true);
  rebuild_timer_->setInterval(0);
  connect(rebuild_timer_, &QTimer::timeout, this, [this] { rebuild(); });
  connect(model_, &QAbstractItemModel::modelReset, this, [this] {
    // Row numbers of the old contents mean nothing in the new ones.
    rows_.clear();
    rebuild_timer_->stop();
    rebuild();
  });
  connect(model_, &QAbstractItemModel::rowsInserted, this, &ModelChart::schedule_rebuild);
  connect(model_, &QAbstractItemModel::rowsRemoved, this, &ModelChart::schedule_rebuild);
  connect(model_, &QAbstractItemModel::dataChanged, this, &ModelChart::schedule_rebuild);
}

void ModelChart::set_rows(const QList<int>& model_rows) {
  rows_ = model_rows;
  rebuild_timer_->stop();
  rebuild();
}

QString ModelChart::note() const { return note_->text(); }

void ModelChart::set_note(const QString& text) {
  note_->setText(text);
  note_->setVisible(!text.isEmpty());
}

bool ModelChart::save(const QString& path, QString* error) { return view_->save(path, error); }

void ModelChart::render_to(QPainter& painter, const QRectF& target) { view_->render_to(painter, target); }

void ModelChart::schedule_rebuild() { rebuild_timer_->start(); }

}  // namespace nmscope::gui
