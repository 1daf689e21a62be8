// Clock: the service's only source of time, so tests can use a fake one.
#ifndef LAKEHOSE_SERVICE_PLATFORM_CLOCK_H_
#define LAKEHOSE_SERVICE_PLATFORM_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace lakehose {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall clock). Thread-safe.
  virtual int64_t NowMillis() const = 0;
};

// The system's wall clock.
class RealClock : public Clock {
 public:
  int64_t NowMillis() const override;
  static RealClock* Get();  // a process-wide instance; never destroyed
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 0) : now_ms_(now_ms) {}
  int64_t NowMillis() const override { return now_ms_.load(); }
  void SetMillis(int64_t ms) { now_ms_.store(ms); }
  void AdvanceMillis(int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_PLATFORM_CLOCK_H_
