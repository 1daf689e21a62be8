#include "service/dlq/dead_letter_retrier.h"

#include <random>

#include "core/base/backoff.h"
#include "core/base/strings.h"
#include "service/platform/log.h"

namespace lakehose {
namespace {

double Uniform01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

DeadLetterRetrier::Options DeadLetterRetrier::OptionsFrom(const ServerOptions& server) {
  Options o;
  o.retry_base_ms = server.dlq_retry_base_ms;
  o.retry_max_ms = server.dlq_retry_max_ms;
  o.max_age_s = server.dlq_max_age_s;
  return o;
}

DeadLetterRetrier::DeadLetterRetrier(DeadLetterQueue& dlq, StoreFn store, const Clock& clock,
                                     Options options)
    : dlq_(dlq), store_(std::move(store)), clock_(clock), options_(options) {
  thread_ = std::thread([this] { Loop(); });
}

DeadLetterRetrier::~DeadLetterRetrier() { Stop(); }

void DeadLetterRetrier::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_requested_.store(true);
  }
  if (thread_.joinable()) thread_.join();
}

void DeadLetterRetrier::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Waits for the predicate or the tick, whichever comes first.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.tick);
      if (stopping_) return;
    }
    RunOnce();
  }
}

int DeadLetterRetrier::RunOnce() {
  absl::MutexLock pass(&pass_mu_);
  int attempts = 0;
  for (const DeadLetter& e : dlq_.Due(clock_.NowMillis())) {
    if (stop_requested_.load()) break;
    // Redrive (or a purge) may have taken it since Due() looked.
    if (!dlq_.Get(e.id).has_value()) continue;
    absl::Status s;
    auto body = dlq_.ReadBody(e.id);
    if (body.status().code() == absl::StatusCode::kNotFound && !dlq_.Get(e.id).has_value())
      continue;
    // Damaged (the queue logged it): kept as it is, never stored, no longer due.
    if (body.status().code() == absl::StatusCode::kFailedPrecondition) continue;
    if (body.ok()) {
      ++attempts;
      retried_.fetch_add(1);
      s = store_(e.pipeline, e.key, *body);
    } else {
      s = body.status();
    }
    if (s.ok()) {
      absl::Status removed = dlq_.Remove(e.id);
      if (removed.ok() || removed.code() == absl::StatusCode::kNotFound) {
        delivered_.fetch_add(1);
        if (options_.metrics) options_.metrics->ForPipeline(e.pipeline).dlq_delivered->Increment();
        Log(LogLevel::kInfo, "dlq.delivered",
            {{"id", e.id},
             {"pipeline", e.pipeline},
             {"key", e.key},
             {"attempts", StrCat(e.attempts + 1)}});
      } else {
        // Stored, but still listed: the next pass stores it again, which is harmless
        // (If-None-Match), and tries the removal again.
        Log(LogLevel::kError, "dlq.remove_failed",
            {{"id", e.id}, {"error", StatusMessage(removed)}});
      }
      continue;
    }
    const int64_t now = clock_.NowMillis();
    const BackoffPolicy policy{.base_delay_ms = options_.retry_base_ms,
                               .max_delay_ms = options_.retry_max_ms};
    const int64_t next = now + BackoffDelayMs(policy, e.attempts, Uniform01());
    const bool expired = static_cast<double>(now - e.first_ms) >= options_.max_age_s * 1000.0;
    const std::string error = StrCat(absl::StatusCodeToString(s.code()), ": ", StatusMessage(s));
    absl::Status recorded = dlq_.RecordAttempt(e.id, error, next, expired);
    if (recorded.code() == absl::StatusCode::kNotFound) continue;  // redriven or purged meanwhile
    if (!recorded.ok()) {
      Log(LogLevel::kError, "dlq.record_attempt_failed",
          {{"id", e.id}, {"error", StatusMessage(recorded)}});
      continue;
    }
    if (expired) {
      expired_.fetch_add(1);
      if (options_.metrics) options_.metrics->ForPipeline(e.pipeline).dlq_expired->Increment();
      Log(LogLevel::kError, "dlq.expired",
          {{"id", e.id},
           {"pipeline", e.pipeline},
           {"key", e.key},
           {"attempts", StrCat(e.attempts + 1)},
           {"error", error}});
    } else {
      Log(LogLevel::kWarn, "dlq.retry_failed",
          {{"id", e.id},
           {"pipeline", e.pipeline},
           {"key", e.key},
           {"attempts", StrCat(e.attempts + 1)},
           {"next_attempt_in_ms", StrCat(next - now)},
           {"error", error}});
    }
  }
  return attempts;
}

DeadLetterRetrier::Counts DeadLetterRetrier::counts() const {
  Counts c;
  c.retried = retried_.load();
  c.delivered = delivered_.load();
  c.expired = expired_.load();
  return c;
}

}  // namespace lakehose
