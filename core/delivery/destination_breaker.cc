#include "core/delivery/destination_breaker.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "core/base/strings.h"

namespace lakehose {
namespace {

constexpr int kMaxFailureThreshold = 1000;
// An hour between probes is already longer than anyone wants to wait for a healed bucket.
constexpr int64_t kMaxProbeDelayMs = int64_t{3600} * 1000;

DestinationBreakerOptions Clamped(DestinationBreakerOptions o) {
  o.failure_threshold = std::clamp(o.failure_threshold, 1, kMaxFailureThreshold);
  o.probe_backoff.max_delay_ms =
      std::clamp<int64_t>(o.probe_backoff.max_delay_ms, 1, kMaxProbeDelayMs);
  o.probe_backoff.base_delay_ms =
      std::clamp<int64_t>(o.probe_backoff.base_delay_ms, 1, o.probe_backoff.max_delay_ms);
  o.min_down_ms = std::clamp<int64_t>(o.min_down_ms, 0, kMaxProbeDelayMs);
  if (!(o.probe_jitter >= 0)) o.probe_jitter = 0;  // also NaN
  if (o.probe_jitter >= 1) o.probe_jitter = 0.999;
  return o;
}

constexpr char kDestinationDownPayload[] = "type.lakehose.dev/destination-down";

}  // namespace

// The payload: "circuit open", then " retry_after_ms=N" when known.
constexpr std::string_view kRetryAfterField = " retry_after_ms=";

absl::Status DestinationDownError(std::string_view message, int64_t retry_after_ms) {
  absl::Status s = absl::UnavailableError(std::string(message));
  std::string payload = "circuit open";
  if (retry_after_ms >= 0) payload += StrCat(kRetryAfterField, retry_after_ms);
  s.SetPayload(kDestinationDownPayload, absl::Cord(payload));
  return s;
}

bool IsDestinationDown(const absl::Status& status) {
  return absl::IsUnavailable(status) && status.GetPayload(kDestinationDownPayload).has_value();
}

int64_t DestinationDownRetryAfterMs(const absl::Status& status) {
  if (!absl::IsUnavailable(status)) return -1;
  const auto payload = status.GetPayload(kDestinationDownPayload);
  if (!payload.has_value()) return -1;
  const std::string text(*payload);
  const size_t at = text.find(kRetryAfterField);
  if (at == std::string::npos) return -1;
  const char* const begin = text.data() + at + kRetryAfterField.size();
  const char* const end = text.data() + text.size();
  int64_t ms = -1;
  const auto [ptr, ec] = std::from_chars(begin, end, ms);
  if (ec != std::errc() || ptr != end || ms < 0) return -1;
  return ms;
}

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

BreakerSignal BreakerSignalOf(S3Outcome outcome) {
  switch (outcome) {
    case S3Outcome::kOk:
    case S3Outcome::kPreconditionFailed:
      return BreakerSignal::kHealthy;
    case S3Outcome::kThrottled:
    case S3Outcome::kServerError:
    case S3Outcome::kNetworkError:
      return BreakerSignal::kDown;
    case S3Outcome::kClientError:
      return BreakerSignal::kNeutral;
  }
  return BreakerSignal::kNeutral;
}

absl::Status DestinationBreakerOptions::Validate() const {
  if (failure_threshold < 1 || failure_threshold > kMaxFailureThreshold) {
    return absl::InvalidArgumentError("breaker: failure_threshold must be in [1, 1000]");
  }
  if (min_down_ms < 0 || min_down_ms > kMaxProbeDelayMs) {
    return absl::InvalidArgumentError("breaker: min_down_ms must be in [0, 1 h]");
  }
  if (probe_backoff.max_delay_ms < 1 || probe_backoff.max_delay_ms > kMaxProbeDelayMs) {
    return absl::InvalidArgumentError("breaker: probe max delay must be in [1 ms, 1 h]");
  }
  if (probe_backoff.base_delay_ms < 1 || probe_backoff.base_delay_ms > probe_backoff.max_delay_ms) {
    return absl::InvalidArgumentError("breaker: probe base delay must be in [1 ms, max delay]");
  }
  if (!(probe_jitter >= 0 && probe_jitter < 1)) {
    return absl::InvalidArgumentError("breaker: probe_jitter must be in [0, 1)");
  }
  return absl::OkStatus();
}

DestinationBreakerOptions DestinationBreakerOptionsFrom(const DestinationBreakerConfig& config) {
  DestinationBreakerOptions o;
  o.failure_threshold = config.failure_threshold;
  o.min_down_ms = std::llround(config.min_down_s * 1000);
  o.probe_backoff.base_delay_ms = config.probe_base_ms;
  o.probe_backoff.max_delay_ms = std::llround(config.probe_max_s * 1000);
  return o;
}

DestinationBreaker::DestinationBreaker(const DestinationBreakerOptions& options,
                                       Uniform01 uniform01)
    : options_(Clamped(options)), uniform01_(std::move(uniform01)) {}

BreakerAdmission DestinationBreaker::Admit(int64_t now_ms) {
  switch (state_) {
    case BreakerState::kClosed:
      return BreakerAdmission::kGo;
    case BreakerState::kOpen:
      if (now_ms >= next_probe_ms_) {
        state_ = BreakerState::kHalfOpen;
        counts_.probes += 1;
        return BreakerAdmission::kProbe;
      }
      break;
    case BreakerState::kHalfOpen:
      break;
  }
  counts_.waits += 1;
  return BreakerAdmission::kWait;
}

void DestinationBreaker::Record(BreakerAdmission admitted, S3Outcome outcome, int64_t now_ms) {
  const BreakerSignal signal = BreakerSignalOf(outcome);
  if (admitted == BreakerAdmission::kGo) {
    if (state_ != BreakerState::kClosed) return;  // in flight when it opened: the probe decides
    if (signal == BreakerSignal::kHealthy) {
      consecutive_down_ = 0;
    } else if (signal == BreakerSignal::kDown) {
      // A run is failures with nothing in between: a quiet stretch longer than the floor
      // (no answer at all, idle traffic) starts a new one, so one old 503 followed an
      // hour later by a burst does not make the burst "5 s of failures". (With no floor,
      // min_down_ms 0, the count alone decides, gaps included.)
      if (options_.min_down_ms > 0 && consecutive_down_ > 0 &&
          now_ms - last_down_ms_ > options_.min_down_ms)
        consecutive_down_ = 0;
      if (consecutive_down_++ == 0) first_down_ms_ = now_ms;
      last_down_ms_ = now_ms;
      if (consecutive_down_ >= options_.failure_threshold &&
          now_ms - first_down_ms_ >= options_.min_down_ms)
        Open(now_ms);
    }
    return;
  }
  if (admitted != BreakerAdmission::kProbe || state_ != BreakerState::kHalfOpen) return;
  switch (signal) {
    case BreakerSignal::kHealthy:
      Close(now_ms);
      break;
    case BreakerSignal::kDown:
      counts_.probes_failed += 1;
      failed_probes_ += 1;
      state_ = BreakerState::kOpen;
      ScheduleProbe(now_ms);
      break;
    case BreakerSignal::kNeutral:  // no verdict: free the slot, the next caller probes
      counts_.probes_inconclusive += 1;
      state_ = BreakerState::kOpen;
      next_probe_ms_ = now_ms;
      break;
  }
}

int64_t DestinationBreaker::OutageMs(int64_t now_ms) const {
  if (state_ == BreakerState::kClosed) return 0;
  return std::max<int64_t>(0, now_ms - opened_ms_);
}

int64_t DestinationBreaker::TotalOutageMs(int64_t now_ms) const {
  return past_outages_ms_ + OutageMs(now_ms);
}

void DestinationBreaker::Open(int64_t now_ms) {
  state_ = BreakerState::kOpen;
  counts_.opened += 1;
  opened_ms_ = now_ms;
  failed_probes_ = 0;
  consecutive_down_ = 0;
  ScheduleProbe(now_ms);
}

void DestinationBreaker::ScheduleProbe(int64_t now_ms) {
  const int64_t ceiling = BackoffCeilingMs(options_.probe_backoff, failed_probes_);
  double u = uniform01_ ? uniform01_() : 0.0;
  if (!(u > 0)) u = 0;  // also NaN
  if (u > 1) u = 1;
  // ceiling <= 1 h, so the product is exact enough and cannot overflow.
  const auto off =
      static_cast<int64_t>(std::floor(options_.probe_jitter * u * static_cast<double>(ceiling)));
  next_probe_ms_ = now_ms + std::max<int64_t>(1, ceiling - off);
}

void DestinationBreaker::Close(int64_t now_ms) {
  past_outages_ms_ += OutageMs(now_ms);
  state_ = BreakerState::kClosed;
  counts_.closed += 1;
  failed_probes_ = 0;
  consecutive_down_ = 0;
}

}  // namespace lakehose
