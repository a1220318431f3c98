#pragma once
// The desktop application's command line: the options it takes and the automation steps they ask for. Apart from
// main() so that tests parse exactly what a user types.
#include <QCommandLineParser>
#include <optional>

#include "main_window.hpp"

namespace nmscope::gui {

// Declares every option (help and version included) on `parser`.
void add_command_line_options(QCommandLineParser& parser);

// The steps the parsed options ask for, or nullopt when they ask for none (the window opens as the user left it).
// Any one option that acts (--load, --run, an export, --screenshot, --view, --quit, ...) asks for steps.
std::optional<AutomationSteps> automation_steps(const QCommandLineParser& parser);

}  // namespace nmscope::gui
