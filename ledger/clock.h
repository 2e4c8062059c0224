// The ledger never reads the wall clock directly: a Clock is injected, so that tests and
// replays are exact.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shebao::ledger {

// Thread-safe: NowMicros() may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // UTC microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A process-wide instance; never destroyed.
  static SystemClock* Default() {
    static SystemClock* clock = new SystemClock();
    return clock;
  }
};

// A clock that only moves when told to. Each call to NowMicros() advances it by step_us.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_us, int64_t step_us = 1) : now_us_(start_us), step_us_(step_us) {}
  int64_t NowMicros() override { return now_us_.fetch_add(step_us_); }
  void Set(int64_t now_us) { now_us_.store(now_us); }

 private:
  std::atomic<int64_t> now_us_;
  const int64_t step_us_;
};

}  // namespace shebao::ledger
