// A one-line progress bar on standard error, drawn only when standard error is a terminal:
// "label [#####.....] done/total events  N events/s  ETA s". At most five redraws a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace shebao::cli {

class ProgressBar {
 public:
  // enabled: the caller's wish (e.g. not --quiet); the bar also needs a terminal.
  ProgressBar(std::string label, bool enabled);
  // Ends the line if anything was drawn.
  ~ProgressBar();
  void Update(uint64_t done, uint64_t total);
  double seconds() const;

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace shebao::cli
