// Clock: where the service reads the wall clock. Every timestamp that reaches data or
// decisions (arrival times, object keys and their sequence numbers, WAL and dead-letter
// timestamps, batching ages, retry schedules, SigV4 signing time, log lines) comes from a
// Clock, so that tests can pass a fake one (testing/fake_clock.h). Waiting is different:
// a deadline for a condition variable or for gRPC's shutdown is absolute system time
// (absl::Now) or monotonic time, because a fake clock cannot wake a sleeping thread.
#ifndef LAKEHOSE_SERVICE_PLATFORM_CLOCK_H_
#define LAKEHOSE_SERVICE_PLATFORM_CLOCK_H_

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

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_PLATFORM_CLOCK_H_
