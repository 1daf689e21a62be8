// LogThrottle: turns an event that repeats (a refusal retried every tick) into a summary
// line at most once per period, without losing the count. The caller logs the first
// occurrence (of an entry, a buffer, a streak) in full itself and counts the repeats
// here; Count says when a summary is due and how many it covers.
//
//   if (first) Log(..., "x.failed", {...});
//   else if (const int64_t n = throttle.Count(now_ms)) Log(..., "x.failures", {{"count", n}});
//
// Pure: time is passed in. Not thread-safe: the caller's lock guards it.
#ifndef LAKEHOSE_CORE_BASE_LOG_THROTTLE_H_
#define LAKEHOSE_CORE_BASE_LOG_THROTTLE_H_

#include <cstdint>

namespace lakehose {

class LogThrottle {
 public:
  explicit LogThrottle(int64_t period_ms) : period_ms_(period_ms) {}

  // Counts one occurrence at `now_ms`. Returns the number to report now (every occurrence
  // counted since the last report, this one included) once `period_ms` has passed since
  // the period began (the first occurrence after a report or a Take), else 0.
  int64_t Count(int64_t now_ms) {
    if (pending_ == 0) since_ms_ = now_ms;
    ++pending_;
    if (now_ms - since_ms_ < period_ms_) return 0;
    const int64_t n = pending_;
    pending_ = 0;
    return n;
  }

  // The occurrences counted and not reported yet (for a closing line when the streak
  // ends); starts over.
  int64_t Take() {
    const int64_t n = pending_;
    pending_ = 0;
    return n;
  }

 private:
  const int64_t period_ms_;
  int64_t since_ms_ = 0;
  int64_t pending_ = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_LOG_THROTTLE_H_
