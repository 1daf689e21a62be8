#include "service/platform/clock.h"

#include <chrono>

namespace lakehose {

int64_t RealClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RealClock* RealClock::Get() {
  static RealClock* clock = new RealClock;
  return clock;
}

}  // namespace lakehose
