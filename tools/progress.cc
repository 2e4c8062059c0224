#include "tools/progress.h"

#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

namespace shebao::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::cerr << "\n";
}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200) && done != total) return;
  last_draw_ = now;
  drawn_ = true;
  const double secs = seconds();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  const double eta = rate > 0 && total > done ? static_cast<double>(total - done) / rate : 0;
  constexpr uint64_t kWidth = 30;
  const uint64_t filled = total ? std::min(kWidth, kWidth * done / total) : kWidth;
  std::cerr << fmt::format("\r{} [{}{}] {}/{} events  {:.0f} events/s  ETA {:.0f} s   ", label_,
                           std::string(filled, '#'), std::string(kWidth - filled, '.'), done,
                           total, rate, eta);
}

}  // namespace shebao::cli
