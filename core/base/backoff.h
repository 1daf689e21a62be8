// Backoff: capped exponential backoff with full jitter, as the AWS Architecture Blog's
// "Exponential Backoff And Jitter" describes and aws-c-io / ClickHouse's S3 client use.
//
//   BackoffPolicy policy{.base_delay_ms = 100, .max_delay_ms = 20000};
//   for (int attempt = 0; ...; ++attempt) {
//     ... try, fail ...
//     sleep(BackoffDelayMs(policy, attempt, uniform01()));
//   }
//
// The wait after the failure of try number `attempt` (0-based) is drawn uniformly from
// [0, min(max_delay_ms, base_delay_ms * 2^attempt)]. Full jitter spreads competing
// writers that were throttled together, which is what S3's 503 SlowDown asks for.
//
// Pure: the random value is passed in (core/ draws no randomness, reads no clock).
// Thread-safe (no state).
#ifndef LAKEHOSE_CORE_BASE_BACKOFF_H_
#define LAKEHOSE_CORE_BASE_BACKOFF_H_

#include <cstdint>

namespace lakehose {

struct BackoffPolicy {
  // The first ceiling; doubles with every attempt. Default 100 ms.
  int64_t base_delay_ms = 100;
  // The ceiling never grows past this. Default 20 s.
  int64_t max_delay_ms = 20000;
};

// min(max_delay_ms, base_delay_ms * 2^attempt), without overflow for any attempt.
// Negative inputs count as 0.
int64_t BackoffCeilingMs(const BackoffPolicy& policy, int attempt);

// Full jitter: `uniform01` (in [0, 1); values outside are clamped) scaled onto
// [0, BackoffCeilingMs(policy, attempt)].
int64_t BackoffDelayMs(const BackoffPolicy& policy, int attempt, double uniform01);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_BACKOFF_H_
