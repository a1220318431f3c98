// nmscope: the desktop application.
#include <QApplication>

#include "main_window.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("nmscope");
  QApplication::setOrganizationName("nmscope");
  nmscope::gui::MainWindow window;
  window.show();
  return QApplication::exec();
}
