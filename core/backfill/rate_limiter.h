// ReadRateLimiter: a token bucket of read capacity units, so that a parallel Scan reads a
// table no faster than the capacity the user grants it (`--max-rcu`), leaving the rest to
// the table's own traffic.
//
//   ReadRateLimiter limiter(/*units_per_second=*/100, /*burst_units=*/100);
//   // each request (under the caller's lock):
//   while (int64_t wait = limiter.DelayMs(clock.NowMillis(), expected)) sleep(wait);
//   ... Scan ...
//   limiter.Charge(clock.NowMillis(), page.consumed_capacity_units);
//
// What a Scan page costs is known only from its answer (ConsumedCapacity), so a request
// waits for the bucket to hold what it is expected to cost (at most `burst_units`), and its
// real cost is charged afterwards. The bucket may go negative then: the next request waits
// until the debt is repaid, so over time the rate holds even though one page (up to 128
// units for 1 MB read eventually consistent) may cost more than the burst.
//
// The bucket starts full. Time that goes backwards adds nothing. Pure: time comes in as
// arguments. Thread-compatible: callers sharing one limiter lock around it.
#ifndef LAKEHOSE_CORE_BACKFILL_RATE_LIMITER_H_
#define LAKEHOSE_CORE_BACKFILL_RATE_LIMITER_H_

#include <cstdint>

namespace lakehose::backfill {

class ReadRateLimiter {
 public:
  // `units_per_second` <= 0 (or not a number): unlimited (DelayMs is always 0).
  // `burst_units` below 1 counts as 1 (a request always fits an idle bucket).
  ReadRateLimiter(double units_per_second, double burst_units);

  bool unlimited() const { return rate_per_ms_ <= 0; }

  // How long to wait from `now_ms` before sending a request expected to cost
  // `expected_units` (negative or NaN count as 0, more than the burst as the burst). 0:
  // send now. Never more than kMaxDelayMs: call again after waiting.
  int64_t DelayMs(int64_t now_ms, double expected_units);

  // Takes what a request cost (its answer's ConsumedCapacity) from the bucket, which may go
  // negative. Negative or NaN amounts are ignored.
  void Charge(int64_t now_ms, double consumed_units);

  // The units in the bucket at `now_ms` (negative while in debt); for tests and progress.
  double Available(int64_t now_ms);

  // The longest single wait DelayMs asks for (a huge charge is waited off in steps, so a
  // caller re-reads the clock and sees shutdown between them).
  static constexpr int64_t kMaxDelayMs = 60 * 1000;

 private:
  void Refill(int64_t now_ms);

  double rate_per_ms_;
  double burst_;
  double tokens_;
  int64_t last_ms_ = 0;
  bool started_ = false;
};

}  // namespace lakehose::backfill

#endif  // LAKEHOSE_CORE_BACKFILL_RATE_LIMITER_H_
