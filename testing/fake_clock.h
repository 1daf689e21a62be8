// FakeClock: a Clock (service/platform/clock.h) that only moves when a test tells it to.
// Thread-safe.
#ifndef LAKEHOSE_TESTING_FAKE_CLOCK_H_
#define LAKEHOSE_TESTING_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "service/platform/clock.h"

namespace lakehose {

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

#endif  // LAKEHOSE_TESTING_FAKE_CLOCK_H_
