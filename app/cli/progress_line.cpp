#include "progress_line.hpp"

#include <unistd.h>

#include <cstdio>

namespace nmscope::cli {

namespace {

// Wide enough for the counts, the times and a layer's name; a longer line would wrap and stop redrawing in place.
constexpr int kLineWidth = 110;

}  // namespace

ProgressLine::ProgressLine(bool quiet)
    : shown_(!quiet && isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()), last_draw_() {}

ProgressLine::~ProgressLine() { clear(); }

std::string ProgressLine::clock(double seconds) {
  const long long whole = seconds < 0 ? 0 : static_cast<long long>(seconds + 0.5);
  char text[32];
  if (whole >= 3600)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", whole / 3600, whole / 60 % 60, whole % 60);
  else
    std::snprintf(text, sizeof text, "%lld:%02lld", whole / 60, whole % 60);
  return text;
}

void ProgressLine::update(int64_t done, int64_t total, const std::string& current) {
  if (!shown_) return;
  const auto now = std::chrono::steady_clock::now();
  // At most ten redraws a second: a terminal drawing every job of a fast study would slow it down.
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done < total) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line =
      total > 0 ? "[" + std::to_string(done) + "/" + std::to_string(total) + "] " : "[" + std::to_string(done) + "] ";
  line += clock(elapsed) + " elapsed";
  if (total > 0 && done > 0 && done < total)
    line += ", ~" + clock(elapsed * double(total - done) / double(done)) + " left";
  line += "  " + current;
  if (int(line.size()) > kLineWidth) line = line.substr(0, kLineWidth - 3) + "...";
  std::fprintf(stderr, "\r%-*s", kLineWidth, line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

std::function<void(const StudyProgress&)> ProgressLine::study_callback() {
  return [this](const StudyProgress& progress) {
    if (progress.current.empty())
      clear();  // the study's last call: done
    else
      update(progress.done, progress.total, progress.current);
  };
}

void ProgressLine::clear() {
  if (!shown_ || !drawn_) return;
  std::fprintf(stderr, "\r%-*s\r", kLineWidth, "");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace nmscope::cli
