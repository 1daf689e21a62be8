#include "core/backfill/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace lakehose::backfill {

ReadRateLimiter::ReadRateLimiter(double units_per_second, double burst_units)
    : rate_per_ms_(
          units_per_second > 0 && std::isfinite(units_per_second) ? units_per_second / 1000.0 : 0),
      burst_(burst_units >= 1 && std::isfinite(burst_units) ? burst_units : 1),
      tokens_(burst_) {}

void ReadRateLimiter::Refill(int64_t now_ms) {
  if (!started_) {
    started_ = true;
    last_ms_ = now_ms;
    return;
  }
  if (now_ms <= last_ms_) return;
  tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
  last_ms_ = now_ms;
}

int64_t ReadRateLimiter::DelayMs(int64_t now_ms, double expected_units) {
  if (unlimited()) return 0;
  Refill(now_ms);
  const double want = std::isnan(expected_units) ? 0 : std::clamp(expected_units, 0.0, burst_);
  if (tokens_ >= want) return 0;
  const double ms = std::ceil((want - tokens_) / rate_per_ms_);
  return static_cast<int64_t>(std::clamp(ms, 1.0, static_cast<double>(kMaxDelayMs)));
}

void ReadRateLimiter::Charge(int64_t now_ms, double consumed_units) {
  if (unlimited() || !(consumed_units > 0)) return;
  Refill(now_ms);
  // Bounded so that a nonsense answer (1e300 units) cannot make the bucket -inf.
  tokens_ -= std::min(consumed_units, 1e12);
}

double ReadRateLimiter::Available(int64_t now_ms) {
  Refill(now_ms);
  return tokens_;
}

}  // namespace lakehose::backfill
