#include "core/base/backoff.h"

#include <algorithm>
#include <cmath>

namespace lakehose {

int64_t BackoffCeilingMs(const BackoffPolicy& policy, int attempt) {
  const int64_t cap = std::max<int64_t>(0, policy.max_delay_ms);
  int64_t ceiling = std::max<int64_t>(0, policy.base_delay_ms);
  if (ceiling == 0) return 0;
  for (int i = 0; i < attempt && ceiling < cap; ++i) {
    if (ceiling > cap / 2) return cap;  // the next doubling passes the cap (and could overflow)
    ceiling *= 2;
  }
  return std::min(ceiling, cap);
}

int64_t BackoffDelayMs(const BackoffPolicy& policy, int attempt, double uniform01) {
  const int64_t ceiling = BackoffCeilingMs(policy, attempt);
  if (!(uniform01 > 0)) return 0;  // also catches NaN
  if (uniform01 >= 1) return ceiling;
  // Scaling by (ceiling + 1) and flooring makes every value in [0, ceiling] reachable.
  const double scaled = std::floor(uniform01 * (static_cast<double>(ceiling) + 1.0));
  if (scaled >= static_cast<double>(ceiling)) return ceiling;  // no out-of-range cast
  return static_cast<int64_t>(scaled);
}

}  // namespace lakehose
