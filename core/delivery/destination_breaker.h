// DestinationBreaker: whether one destination (a bucket) is down, as a circuit breaker fed
// by the S3 outcome classification (core/s3/s3_outcome.h). It decides which uploads may
// talk to the destination; the caller decides what to do with those that may not (the
// plan in docs/ARCHITECTURE.md, "Destination health and one retry policy": they go to
// the dead-letter queue instead of waiting in memory).
//
// States:
//  - closed: every request goes (kGo). Each answered request is reported; it opens once
//    there have been `failure_threshold` CONSECUTIVE down-signals (throttled, server
//    error, network error) AND the first of them is at least `min_down_ms` old. A success
//    resets the count, and so does a gap of more than `min_down_ms` (when it is not 0)
//    between two down-signals (the run is failures close together, not failures ever).
//  - open: nothing goes (kWait) until the next probe time; then exactly one caller gets
//    kProbe and the breaker is half-open.
//  - half_open: one probe is in flight; everyone else waits. The probe's success closes
//    the breaker; its down-signal re-opens it with the next, longer probe delay; a client
//    error (no verdict) re-opens it with the probe due at once, so the next caller probes.
// Probe delays: the ceiling is core/base/backoff.h's BackoffCeilingMs(probe_backoff, n)
// for the n-th failed probe of this outage (n = 0 when it opens), and the delay is drawn
// from [ceiling * (1 - probe_jitter), ceiling] ("equal jitter"): unlike the full jitter of
// per-request retries it never falls to zero, so the wait between two probes grows
// with every failure until the cap, and replicas that opened together spread out.
//
// Outcomes: kOk and kPreconditionFailed (412: the destination answered a conditional
// write correctly) are healthy; kThrottled, kServerError and kNetworkError are
// down-signals; kClientError is neutral: a 4xx is about the request or the configuration
// (403, 404 NoSuchBucket, 400), not about whether the destination is reachable, so it
// neither opens the breaker, nor resets the count, nor closes it.
// Why consecutive failures rather than a failure ratio in a window: an outage (every
// request fails) trips it within `failure_threshold` requests whatever the traffic,
// with no window length or minimum volume to tune, and it is deterministic to test;
// a partly failing destination (S3 throttling one prefix) interleaves successes and
// stays closed, which is right: its failures are the per-object retries' business.
// Why a time floor as well: with several upload threads sharing a destination, a burst
// of transient faults (a connection reset, a 500, a 503 SlowDown, in a row across
// threads) reaches any small count in milliseconds, and opening then would send objects
// to the dead-letter queue that the per-request retries would have stored a second
// later. That is what the fault matrix's multipart run (about 18% of requests failing
// at random, scripted runs of 2-3 failures, 4 upload threads) did with the count alone:
// the breaker opened and Flush failed; at 30% random 503s, 5 in a row is expected once
// per ~590 requests (0.7 x 0.3^5). A stretch of 5 s without a success needs hundreds of
// failures in a row there. A real outage answers every request
// with a failure, so it still opens within min_down_ms plus one request.
//
// Reports of requests admitted while closed (kGo) that arrive after the breaker opened
// (requests in flight at the time) are ignored: only the probe decides. Every kProbe
// admission must be followed by exactly one Record(kProbe, ...): until then no other probe
// is granted (the S3 client's request timeout bounds how long that takes).
//
// Pure: time comes in as `now_ms` (milliseconds; a clock that steps back delays the next
// probe by as much, and OutageMs never goes below 0) and jitter from the caller's
// `uniform01`. Not thread-safe: the caller guards it (one breaker per destination, shared
// by every pipeline that writes there, behind a mutex of its own: it is consulted before
// every S3 request, so it must not wait on the engine's).
//
//   DestinationBreaker breaker(DestinationBreakerOptions{}, [&] { return dist(rng); });
//   const BreakerAdmission admission = breaker.Admit(clock.NowMillis());
//   if (admission == BreakerAdmission::kWait) {
//     ... do not send: hand the object to the dead-letter queue ...
//   } else {
//     const S3Outcome outcome = ...one request...;
//     breaker.Record(admission, outcome, clock.NowMillis());
//   }
//   metrics.destination_state.Set(static_cast<int>(breaker.state()));
//   metrics.outage_seconds.Set(breaker.OutageMs(now_ms) / 1000.0);
#ifndef LAKEHOSE_CORE_DELIVERY_DESTINATION_BREAKER_H_
#define LAKEHOSE_CORE_DELIVERY_DESTINATION_BREAKER_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "core/base/backoff.h"
#include "core/config/config.h"
#include "core/s3/s3_outcome.h"

namespace lakehose {

// The answer of a store that sent nothing because its destination's breaker said wait:
// UNAVAILABLE carrying a marker, so that callers far from the breaker can tell "the
// destination is down" from "this object's retries ran out". The delivery engine hands
// such an object to the dead-letter queue at once; the DLQ retry worker records no
// attempt for it and leaves the destination's other entries for later.
// `retry_after_ms`: how long until the breaker's next probe may go, when known (open);
// -1 when not (half-open: a probe in flight decides any moment).
absl::Status DestinationDownError(std::string_view message, int64_t retry_after_ms = -1);
bool IsDestinationDown(const absl::Status& status);
// The retry_after_ms the error was made with; -1 if it had none, or if `status` is not
// a DestinationDownError. The DLQ retry worker tries the destination again no sooner: a
// store before then would be refused, after reading and encoding the whole object.
int64_t DestinationDownRetryAfterMs(const absl::Status& status);

enum class BreakerState { kClosed, kOpen, kHalfOpen };
// "closed", "open", "half_open" (the future metric label).
std::string_view BreakerStateName(BreakerState state);

// What an outcome says about the destination (see the header comment).
enum class BreakerSignal { kHealthy, kDown, kNeutral };
BreakerSignal BreakerSignalOf(S3Outcome outcome);

// Admit's answer: send normally, send as the one probe, or do not send.
enum class BreakerAdmission { kGo, kProbe, kWait };

struct DestinationBreakerOptions {
  // Consecutive down-signals that open a closed breaker. Default 5: with the S3 client's
  // per-request retries counted one by one, a dead destination opens it within seconds,
  // while an isolated 503 SlowDown among successes never does. In [1, 1000].
  int failure_threshold = 5;
  // ...and the first of those down-signals is at least this old (no success since).
  // Default 5 s; in [0, 1 h]. 0: the count alone decides.
  int64_t min_down_ms = 5000;
  // Ceiling of the wait before the first probe (1 s), doubling per failed probe up to
  // 60 s. base in [1 ms, max]; max at most 1 hour.
  BackoffPolicy probe_backoff{.base_delay_ms = 1000, .max_delay_ms = 60000};
  // The fraction of the ceiling the jitter may take off. Default 0.5; in [0, 1).
  double probe_jitter = 0.5;

  // INVALID_ARGUMENT naming the first field out of range.
  absl::Status Validate() const;
};

// The options of server.destination_breaker (seconds become milliseconds, rounded;
// probe_jitter keeps its default). A config that ParseConfig accepted passes Validate().
DestinationBreakerOptions DestinationBreakerOptionsFrom(const DestinationBreakerConfig& config);

// Transitions and refusals since construction, for the metrics.
struct BreakerCounts {
  int64_t opened = 0;               // closed -> open
  int64_t probes = 0;               // open -> half_open (a probe granted)
  int64_t probes_failed = 0;        // half_open -> open on a down-signal
  int64_t probes_inconclusive = 0;  // half_open -> open on a client error
  int64_t closed = 0;               // half_open -> closed
  int64_t waits = 0;                // Admit answered kWait
};

class DestinationBreaker {
 public:
  // Called when a probe delay is drawn; values outside [0, 1] are clamped, NaN counts as 0.
  using Uniform01 = std::function<double()>;

  // `options` must pass Validate() (out-of-range fields are clamped into range otherwise).
  // Starts closed.
  DestinationBreaker(const DestinationBreakerOptions& options, Uniform01 uniform01);

  // Whether a request may go at `now_ms`: kGo when closed; when open, kProbe once the
  // probe time has come (the breaker is then half-open), else kWait.
  BreakerAdmission Admit(int64_t now_ms);

  // Reports how a request admitted as `admitted` ended. kWait (nothing was sent) and
  // reports that no longer match the state (see the header comment) are ignored.
  void Record(BreakerAdmission admitted, S3Outcome outcome, int64_t now_ms);

  BreakerState state() const { return state_; }
  // When the next probe may go (meaningful while open).
  int64_t next_probe_ms() const { return next_probe_ms_; }
  // Down-signals in a row while closed.
  int consecutive_down() const { return consecutive_down_; }
  // Failed probes of the current outage (0 when closed).
  int failed_probes() const { return failed_probes_; }
  // How long the current outage has lasted at `now_ms` (0 when closed).
  int64_t OutageMs(int64_t now_ms) const;
  // All outages so far, the current one included (a counter for the metrics).
  int64_t TotalOutageMs(int64_t now_ms) const;
  const BreakerCounts& counts() const { return counts_; }

 private:
  void Open(int64_t now_ms);           // closed -> open
  void ScheduleProbe(int64_t now_ms);  // next_probe_ms_ from failed_probes_
  void Close(int64_t now_ms);

  DestinationBreakerOptions options_;
  Uniform01 uniform01_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_down_ = 0;
  int64_t first_down_ms_ = 0;  // when the current run of down-signals began
  int64_t last_down_ms_ = 0;   // the run's latest down-signal
  int failed_probes_ = 0;
  int64_t opened_ms_ = 0;
  int64_t next_probe_ms_ = 0;
  int64_t past_outages_ms_ = 0;
  BreakerCounts counts_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_DELIVERY_DESTINATION_BREAKER_H_
