#include "core/delivery/destination_breaker.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

// Time is a plain number the test moves; jitter comes from a fixed value or a sequence.
class DestinationBreakerTest : public ::testing::Test {
 protected:
  DestinationBreakerOptions Options(int threshold = 3) {
    DestinationBreakerOptions o;
    o.failure_threshold = threshold;
    o.probe_backoff = {.base_delay_ms = 1000, .max_delay_ms = 16000};
    o.probe_jitter = 0.5;
    o.min_down_ms = 0;  // the count alone (the time floor has its own tests)
    return o;
  }
  // u = 0: no jitter taken off, every delay is its ceiling.
  DestinationBreaker Make(int threshold = 3, double u = 0.0) {
    return DestinationBreaker(Options(threshold), [u] { return u; });
  }
  // Sends one request at now_ms and reports `outcome`; returns the admission.
  static BreakerAdmission Send(DestinationBreaker& b, S3Outcome outcome, int64_t now_ms) {
    const BreakerAdmission a = b.Admit(now_ms);
    if (a != BreakerAdmission::kWait) b.Record(a, outcome, now_ms);
    return a;
  }
  // Opens `b` at now_ms by `threshold` consecutive 503s.
  static void OpenAt(DestinationBreaker& b, int threshold, int64_t now_ms) {
    for (int i = 0; i < threshold; ++i) Send(b, S3Outcome::kThrottled, now_ms);
    ASSERT_EQ(b.state(), BreakerState::kOpen);
  }
  // Threshold 3, opened at 0, its first probe granted at 1000 (u = 0: no jitter).
  DestinationBreaker Probing() {
    DestinationBreaker b = Make(3);
    OpenAt(b, 3, 0);
    EXPECT_EQ(b.Admit(1000), BreakerAdmission::kProbe);
    return b;
  }
};

TEST_F(DestinationBreakerTest, OptionsDefaultsValidateAndBadValuesDoNot) {
  EXPECT_TRUE(DestinationBreakerOptions{}.Validate().ok());
  EXPECT_TRUE(Options().Validate().ok());
  DestinationBreakerOptions o;
  o.failure_threshold = 0;
  EXPECT_EQ(o.Validate().code(), absl::StatusCode::kInvalidArgument);
  o = {};
  o.min_down_ms = -1;
  EXPECT_FALSE(o.Validate().ok());
  o = {};
  o.probe_backoff.base_delay_ms = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = {};
  o.probe_backoff = {.base_delay_ms = 5000, .max_delay_ms = 1000};
  EXPECT_FALSE(o.Validate().ok());
  o = {};
  o.probe_backoff.max_delay_ms = int64_t{2} * 3600 * 1000;
  EXPECT_FALSE(o.Validate().ok());
  o = {};
  o.probe_jitter = 1.0;
  EXPECT_FALSE(o.Validate().ok());
  o.probe_jitter = -0.1;
  EXPECT_FALSE(o.Validate().ok());
}

TEST_F(DestinationBreakerTest, SignalsFollowTheS3Classification) {
  EXPECT_EQ(BreakerSignalOf(S3Outcome::kOk), BreakerSignal::kHealthy);
  EXPECT_EQ(BreakerSignalOf(S3Outcome::kPreconditionFailed), BreakerSignal::kHealthy);
  EXPECT_EQ(BreakerSignalOf(S3Outcome::kThrottled), BreakerSignal::kDown);
  EXPECT_EQ(BreakerSignalOf(S3Outcome::kServerError), BreakerSignal::kDown);
  EXPECT_EQ(BreakerSignalOf(S3Outcome::kNetworkError), BreakerSignal::kDown);
  EXPECT_EQ(BreakerSignalOf(S3Outcome::kClientError), BreakerSignal::kNeutral);
  EXPECT_EQ(BreakerStateName(BreakerState::kClosed), "closed");
  EXPECT_EQ(BreakerStateName(BreakerState::kOpen), "open");
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
}

TEST_F(DestinationBreakerTest, OpensAfterTheThresholdOfConsecutiveDownSignals) {
  DestinationBreaker b = Make(3);
  EXPECT_EQ(Send(b, S3Outcome::kThrottled, 0), BreakerAdmission::kGo);
  EXPECT_EQ(Send(b, S3Outcome::kServerError, 1), BreakerAdmission::kGo);
  EXPECT_EQ(b.consecutive_down(), 2);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(Send(b, S3Outcome::kNetworkError, 2), BreakerAdmission::kGo);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.counts().opened, 1);
  EXPECT_EQ(b.next_probe_ms(), 2 + 1000);  // u = 0: the first ceiling
  EXPECT_EQ(b.Admit(3), BreakerAdmission::kWait);
  EXPECT_EQ(b.Admit(1001), BreakerAdmission::kWait);
  EXPECT_EQ(b.counts().waits, 2);
}

TEST_F(DestinationBreakerTest, ASuccessResetsTheCount) {
  DestinationBreaker b = Make(3);
  for (int round = 0; round < 10; ++round) {
    Send(b, S3Outcome::kThrottled, round);
    Send(b, S3Outcome::kThrottled, round);
    Send(b, S3Outcome::kPreconditionFailed, round);  // 412: the destination answered
    EXPECT_EQ(b.consecutive_down(), 0);
  }
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.counts().opened, 0);
}

TEST_F(DestinationBreakerTest, ClientErrorsNeverOpenIt) {
  DestinationBreaker b = Make(3);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(Send(b, S3Outcome::kClientError, i), BreakerAdmission::kGo) << i;
  }
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.consecutive_down(), 0);
  // Nor do they reset the count: 403s between 503s do not hide an outage.
  Send(b, S3Outcome::kServerError, 1000);
  Send(b, S3Outcome::kClientError, 1001);
  Send(b, S3Outcome::kServerError, 1002);
  Send(b, S3Outcome::kClientError, 1003);
  EXPECT_EQ(b.consecutive_down(), 2);
  Send(b, S3Outcome::kServerError, 1004);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

TEST_F(DestinationBreakerTest, OnlyOneProbeAtATime) {
  DestinationBreaker b = Probing();
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  // However long the probe takes, nobody else goes.
  for (int64_t t = 1000; t < 200000; t += 997) {
    ASSERT_EQ(b.Admit(t), BreakerAdmission::kWait) << t;
  }
  EXPECT_EQ(b.counts().probes, 1);
  // Requests admitted before it opened that answer now do not decide anything.
  b.Record(BreakerAdmission::kGo, S3Outcome::kOk, 200000);
  b.Record(BreakerAdmission::kGo, S3Outcome::kThrottled, 200000);
  b.Record(BreakerAdmission::kWait, S3Outcome::kOk, 200000);
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  b.Record(BreakerAdmission::kProbe, S3Outcome::kOk, 200001);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  // A second report of the same probe changes nothing.
  b.Record(BreakerAdmission::kProbe, S3Outcome::kThrottled, 200002);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.consecutive_down(), 0);
}

TEST_F(DestinationBreakerTest, ProbeBackoffGrowsAndCaps) {
  DestinationBreaker b = Make(3);  // u = 0: delays are the ceilings
  OpenAt(b, 3, 0);
  std::vector<int64_t> delays;
  int64_t now = 0;
  for (int i = 0; i < 8; ++i) {
    const int64_t before = b.next_probe_ms();
    delays.push_back(before - now);
    now = before;
    ASSERT_EQ(b.Admit(now - 1), BreakerAdmission::kWait);  // not a millisecond early
    ASSERT_EQ(b.Admit(now), BreakerAdmission::kProbe);
    b.Record(BreakerAdmission::kProbe, S3Outcome::kServerError, now);
    ASSERT_EQ(b.state(), BreakerState::kOpen);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 16000, 16000, 16000}));
  EXPECT_EQ(b.failed_probes(), 8);
  EXPECT_EQ(b.counts().probes_failed, 8);
}

TEST_F(DestinationBreakerTest, JitteredDelaysStayInTheirBandAndNeverShrink) {
  // A deterministic sequence over [0, 1) standing in for the random source.
  std::vector<double> us = {0.99, 0.0, 0.5, 0.999, 0.25, 0.75, 0.01, 0.9, 0.3, 0.6};
  size_t next = 0;
  DestinationBreaker b(Options(1), [&] { return us[next++ % us.size()]; });
  Send(b, S3Outcome::kNetworkError, 0);
  int64_t now = 0;
  int64_t previous = 0;
  for (int i = 0; i < 10; ++i) {
    const int64_t delay = b.next_probe_ms() - now;
    const int64_t ceiling = std::min<int64_t>(16000, int64_t{1000} << i);
    EXPECT_LE(delay, ceiling) << i;
    EXPECT_GE(delay, ceiling / 2) << i;  // jitter 0.5 takes at most half off
    EXPECT_GE(delay, previous / 2) << i;
    if (ceiling < 16000) {
      EXPECT_GE(delay, previous) << i;  // still growing
    }
    previous = delay;
    now = b.next_probe_ms();
    ASSERT_EQ(b.Admit(now), BreakerAdmission::kProbe);
    b.Record(BreakerAdmission::kProbe, S3Outcome::kThrottled, now);
  }
  // The first delay drew 0.99: 1000 - floor(0.5 * 0.99 * 1000) = 505.
  DestinationBreaker c(Options(1), [] { return 0.99; });
  Send(c, S3Outcome::kThrottled, 0);
  EXPECT_EQ(c.next_probe_ms(), 505);
}

TEST_F(DestinationBreakerTest, BadRandomValuesAreClamped) {
  for (double u : {-5.0, 7.0, std::nan("")}) {
    DestinationBreaker b(Options(1), [u] { return u; });
    Send(b, S3Outcome::kThrottled, 0);
    EXPECT_GE(b.next_probe_ms(), 500) << u;
    EXPECT_LE(b.next_probe_ms(), 1000) << u;
  }
}

TEST_F(DestinationBreakerTest, ASuccessfulProbeClosesIt) {
  DestinationBreaker b = Probing();
  b.Record(BreakerAdmission::kProbe, S3Outcome::kOk, 1200);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.counts().closed, 1);
  EXPECT_EQ(b.failed_probes(), 0);
  EXPECT_EQ(b.Admit(1201), BreakerAdmission::kGo);
  // It takes the full threshold again to re-open, and the backoff starts over.
  Send(b, S3Outcome::kThrottled, 1300);
  Send(b, S3Outcome::kThrottled, 1300);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Send(b, S3Outcome::kThrottled, 1300);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.next_probe_ms(), 2300);
  EXPECT_EQ(b.counts().opened, 2);
}

TEST_F(DestinationBreakerTest, AFailedProbeReopensWithALongerWait) {
  DestinationBreaker b = Probing();
  b.Record(BreakerAdmission::kProbe, S3Outcome::kNetworkError, 1500);  // after a timeout
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.failed_probes(), 1);
  EXPECT_EQ(b.next_probe_ms(), 1500 + 2000);  // counted from the answer, ceiling doubled
  EXPECT_EQ(b.Admit(3499), BreakerAdmission::kWait);
  EXPECT_EQ(b.Admit(3500), BreakerAdmission::kProbe);
}

TEST_F(DestinationBreakerTest, AProbeAnsweredWithAClientErrorFreesTheSlotWithoutAVerdict) {
  DestinationBreaker b = Probing();
  b.Record(BreakerAdmission::kProbe, S3Outcome::kClientError, 1100);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(b.failed_probes(), 0);  // the backoff did not grow
  EXPECT_EQ(b.counts().probes_inconclusive, 1);
  EXPECT_EQ(b.Admit(1100), BreakerAdmission::kProbe);  // the next caller probes at once
  b.Record(BreakerAdmission::kProbe, S3Outcome::kOk, 1150);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST_F(DestinationBreakerTest, TimeInOutage) {
  DestinationBreaker b = Make(3);
  EXPECT_EQ(b.OutageMs(5000), 0);
  OpenAt(b, 3, 10000);
  EXPECT_EQ(b.OutageMs(10000), 0);
  EXPECT_EQ(b.OutageMs(12500), 2500);
  EXPECT_EQ(b.OutageMs(9000), 0);  // a clock that stepped back
  ASSERT_EQ(b.Admit(11000), BreakerAdmission::kProbe);
  EXPECT_EQ(b.OutageMs(11500), 1500);  // half-open is still an outage
  b.Record(BreakerAdmission::kProbe, S3Outcome::kServerError, 11500);
  ASSERT_EQ(b.Admit(13500), BreakerAdmission::kProbe);
  b.Record(BreakerAdmission::kProbe, S3Outcome::kOk, 14000);
  EXPECT_EQ(b.OutageMs(14000), 0);
  EXPECT_EQ(b.TotalOutageMs(20000), 4000);
  // A second outage adds to the total while it lasts and after it ends.
  OpenAt(b, 3, 30000);
  EXPECT_EQ(b.TotalOutageMs(30600), 4600);
  ASSERT_EQ(b.Admit(31000), BreakerAdmission::kProbe);
  b.Record(BreakerAdmission::kProbe, S3Outcome::kOk, 31000);
  EXPECT_EQ(b.TotalOutageMs(99999), 5000);
  EXPECT_EQ(b.counts().opened, 2);
  EXPECT_EQ(b.counts().closed, 2);
  EXPECT_EQ(b.counts().probes, 3);
  EXPECT_EQ(b.counts().probes_failed, 1);
}

TEST_F(DestinationBreakerTest, TimeFloorKeepsABurstOfFailuresFromOpeningIt) {
  DestinationBreakerOptions o = Options(5);
  o.min_down_ms = 5000;
  DestinationBreaker b(o, [] { return 0.0; });
  // Ten failures in 100 ms (four threads hitting transient faults together): still closed.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(Send(b, S3Outcome::kServerError, i * 10), BreakerAdmission::kGo);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  // One success ends the run; the next failures start a new one.
  Send(b, S3Outcome::kOk, 200);
  Send(b, S3Outcome::kNetworkError, 300);
  for (int i = 0; i < 10; ++i) Send(b, S3Outcome::kThrottled, 4000 + i);
  EXPECT_EQ(b.state(), BreakerState::kClosed) << "the run began at 300 ms: 4.3 s old";
  Send(b, S3Outcome::kThrottled, 5299);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Send(b, S3Outcome::kThrottled, 5300);
  EXPECT_EQ(b.state(), BreakerState::kOpen) << "5 s of failures and at least 5 of them";
  EXPECT_EQ(b.counts().opened, 1);
}

TEST_F(DestinationBreakerTest, TimeFloorStillNeedsTheCount) {
  DestinationBreakerOptions o = Options(5);
  o.min_down_ms = 5000;
  DestinationBreaker b(o, [] { return 0.0; });
  // Three failures 4 s apart (a quiet destination): old enough, but not enough of them.
  Send(b, S3Outcome::kServerError, 0);
  Send(b, S3Outcome::kServerError, 4000);
  Send(b, S3Outcome::kServerError, 8000);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Send(b, S3Outcome::kServerError, 8001);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Send(b, S3Outcome::kServerError, 8002);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  // A client error in the run neither resets nor counts.
  DestinationBreaker c(o, [] { return 0.0; });
  for (int i = 0; i < 4; ++i) Send(c, S3Outcome::kThrottled, i * 2000);
  Send(c, S3Outcome::kClientError, 8000);
  EXPECT_EQ(c.state(), BreakerState::kClosed);
  Send(c, S3Outcome::kThrottled, 8001);
  EXPECT_EQ(c.state(), BreakerState::kOpen);
}

// server.destination_breaker: the defaults are the breaker's, and the extremes the config
// parser accepts pass Validate (so Server::Start never refuses a parsed config).
TEST(DestinationBreakerOptionsFromTest, DefaultsMatchAndParsedExtremesValidate) {
  const DestinationBreakerOptions d = DestinationBreakerOptionsFrom(DestinationBreakerConfig{});
  const DestinationBreakerOptions want;
  EXPECT_EQ(d.failure_threshold, want.failure_threshold);
  EXPECT_EQ(d.min_down_ms, want.min_down_ms);
  EXPECT_EQ(d.probe_backoff.base_delay_ms, want.probe_backoff.base_delay_ms);
  EXPECT_EQ(d.probe_backoff.max_delay_ms, want.probe_backoff.max_delay_ms);
  EXPECT_EQ(d.probe_jitter, want.probe_jitter);
  EXPECT_TRUE(d.Validate().ok());

  const DestinationBreakerOptions low = DestinationBreakerOptionsFrom(
      {.failure_threshold = 1, .min_down_s = 0, .probe_base_ms = 1, .probe_max_s = 0.001});
  EXPECT_TRUE(low.Validate().ok()) << low.Validate();
  EXPECT_EQ(low.probe_backoff.max_delay_ms, 1);
  const DestinationBreakerOptions high = DestinationBreakerOptionsFrom({.failure_threshold = 1000,
                                                                        .min_down_s = 3600,
                                                                        .probe_base_ms = 3600000,
                                                                        .probe_max_s = 3600});
  EXPECT_TRUE(high.Validate().ok()) << high.Validate();
  EXPECT_EQ(high.min_down_ms, 3600000);
  // Past the parser's ranges, Validate refuses (the ranges are the same on both sides).
  EXPECT_FALSE(DestinationBreakerOptionsFrom({.failure_threshold = 1001}).Validate().ok());
  EXPECT_FALSE(DestinationBreakerOptionsFrom({.min_down_s = 3600.001}).Validate().ok());
  EXPECT_FALSE(DestinationBreakerOptionsFrom({.probe_max_s = 3600.001}).Validate().ok());
}

// The refusal's marker survives a copy, carries when to come back if known, and is not
// mistaken for in another status.
TEST(DestinationDownErrorTest, MarkerAndRetryAfter) {
  const absl::Status plain = DestinationDownError("destination b is down");
  EXPECT_TRUE(IsDestinationDown(plain));
  EXPECT_EQ(plain.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(plain.message(), "destination b is down");
  EXPECT_EQ(DestinationDownRetryAfterMs(plain), -1);
  const absl::Status timed = DestinationDownError("down", 750);
  const absl::Status copy = timed;
  EXPECT_TRUE(IsDestinationDown(copy));
  EXPECT_EQ(DestinationDownRetryAfterMs(copy), 750);
  EXPECT_EQ(DestinationDownRetryAfterMs(DestinationDownError("down", 0)), 0);
  EXPECT_EQ(DestinationDownRetryAfterMs(DestinationDownError("down", -5)), -1);
  // A 503 from the destination itself is no refusal.
  const absl::Status answered = absl::UnavailableError("HTTP 503 SlowDown");
  EXPECT_FALSE(IsDestinationDown(answered));
  EXPECT_EQ(DestinationDownRetryAfterMs(answered), -1);
  EXPECT_EQ(DestinationDownRetryAfterMs(absl::OkStatus()), -1);
}

TEST_F(DestinationBreakerTest, AQuietGapLongerThanTheFloorStartsANewRun) {
  DestinationBreakerOptions o = Options(5);
  o.min_down_ms = 5000;
  DestinationBreaker b(o, [] { return 0.0; });
  // One isolated 503, then an hour of nothing, then a burst of 4: a new run of 4, 0 s old.
  Send(b, S3Outcome::kThrottled, 0);
  for (int i = 0; i < 4; ++i) Send(b, S3Outcome::kServerError, 3600000 + i);
  EXPECT_EQ(b.state(), BreakerState::kClosed) << "an hour-old failure made the burst look long";
  EXPECT_EQ(b.consecutive_down(), 4);
  // Failures every 4 s (each gap within the floor) keep one run: it opens at 5 s old.
  for (int i = 1; i <= 2; ++i) Send(b, S3Outcome::kServerError, 3600000 + i * 4000);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

}  // namespace
}  // namespace lakehose
