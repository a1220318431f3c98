#pragma once
// Shared set-up of the window tests: settings and the default results database live in the test's own temporary
// directory, never the user's.
#include <QCoreApplication>
#include <QTemporaryDir>

namespace gui_test {

inline void isolate_settings(const QTemporaryDir& home) {
  qputenv("XDG_CONFIG_HOME", home.filePath("config").toUtf8());
  qputenv("XDG_DATA_HOME", home.filePath("data").toUtf8());
  QCoreApplication::setOrganizationName("nmscope-test");
  QCoreApplication::setApplicationName("nmscope-test");
}

}  // namespace gui_test
