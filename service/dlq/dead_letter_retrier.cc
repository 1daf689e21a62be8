#include "service/dlq/dead_letter_retrier.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <system_error>
#include <utility>
#include <vector>

#include "core/base/backoff.h"
#include "core/base/strings.h"
#include "core/delivery/destination_breaker.h"
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
  o.drain_concurrency = server.dlq_drain_concurrency;
  return o;
}

// What the threads of one pass share: the due entries, oldest first, fetched a page at a
// time (DuePage, so that a pass copies little more than it stores even when the whole
// backlog is due and its destination down), and the pipelines found down.
class DeadLetterRetrier::Pass {
 public:
  // `down`: pipelines to leave alone from the start. `waiting`: entries whose next
  // attempt, kept in memory (the queue could not record it), is still to come.
  Pass(const DeadLetterQueue& dlq, int64_t now_ms, std::set<std::string> down,
       std::set<std::string> waiting)
      : dlq_(dlq), now_ms_(now_ms), down_(std::move(down)), waiting_(std::move(waiting)) {}

  // The next entry to store, oldest first, none of a pipeline found down; nullopt when
  // the pass has been through every due entry.
  std::optional<DeadLetter> Next() {
    absl::MutexLock lock(&mu_);
    while (true) {
      Fill();
      if (page_.empty()) return std::nullopt;
      DeadLetter e = std::move(page_.front());
      page_.pop_front();
      // Fetched before its pipeline was found down: it waits too.
      if (down_.contains(e.pipeline) || waiting_.contains(e.id)) continue;
      return e;
    }
  }
  // How many entries the first page holds (so a pass with one entry makes no thread).
  size_t Ready() {
    absl::MutexLock lock(&mu_);
    Fill();
    return page_.size();
  }
  void Done(const std::string& pipeline, Outcome outcome) {
    absl::MutexLock lock(&mu_);
    if (outcome == Outcome::kAttempted) ++attempts_;
    if (outcome == Outcome::kDestinationDown) down_.insert(pipeline);
  }
  int attempts() {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }

 private:
  // Enough to keep kMaxDrainConcurrency threads busy; few enough to copy little more than
  // a pass stores.
  static constexpr size_t kPageSize = 128;

  void Fill() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (exhausted_ || !page_.empty()) return;
    std::vector<DeadLetter> page = dlq_.DuePage(now_ms_, after_id_, kPageSize, down_);
    if (page.empty()) {
      exhausted_ = true;
      return;
    }
    after_id_ = page.back().id;
    for (DeadLetter& e : page) page_.push_back(std::move(e));
  }

  const DeadLetterQueue& dlq_;
  const int64_t now_ms_;  // what "due" means for the whole pass
  absl::Mutex mu_;
  std::deque<DeadLetter> page_ ABSL_GUARDED_BY(mu_);
  std::string after_id_ ABSL_GUARDED_BY(mu_);  // the last id fetched
  bool exhausted_ ABSL_GUARDED_BY(mu_) = false;
  // Pipelines resting from the start, or whose destination refused a store in this pass:
  // their entries wait.
  std::set<std::string> down_ ABSL_GUARDED_BY(mu_);
  const std::set<std::string> waiting_;
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
};

DeadLetterRetrier::DeadLetterRetrier(DeadLetterQueue& dlq, StoreFn store, const Clock& clock,
                                     Options options)
    : dlq_(dlq), store_(std::move(store)), clock_(clock), options_([&] {
        options.drain_concurrency = std::clamp(options.drain_concurrency, 1, kMaxDrainConcurrency);
        return options;
      }()) {
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
  // A RunOnce on another thread (tests, or a caller racing the destructor) may still be
  // in a store: it has seen stop_requested_ and takes nothing more, so this ends with it.
  absl::MutexLock pass(&pass_mu_);
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

// Threads per pass rather than a pool kept by the retrier: the queue is empty nearly all
// the time, and then a pass makes no thread at all; with one entry due it runs on the
// caller alone. Only a backlog (after an outage) pays for up to drain_concurrency - 1
// thread starts per pass, microseconds next to a store. Every thread of a pass is joined
// before RunOnce returns, so a pass's effects are complete when it returns (tests stay
// deterministic) and Stop has nothing to join but the worker thread.
int DeadLetterRetrier::RunOnce() {
  absl::MutexLock pass_lock(&pass_mu_);
  if (stop_requested_.load()) return 0;
  const int64_t now = clock_.NowMillis();
  Pass pass(dlq_, now, Resting(now), Waiting(now));
  const size_t workers = std::min(pass.Ready(), static_cast<size_t>(options_.drain_concurrency));
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < workers; ++i) {
    try {
      helpers.emplace_back([this, &pass] { Drain(pass); });
    } catch (const std::system_error& e) {
      // Out of threads: fewer stores at once is still a correct pass.
      Log(LogLevel::kWarn, "dlq.drain_thread_failed", {{"error", e.what()}});
      break;
    }
  }
  Drain(pass);
  for (std::thread& t : helpers) t.join();
  return pass.attempts();
}

void DeadLetterRetrier::Drain(Pass& pass) {
  while (!stop_requested_.load()) {
    std::optional<DeadLetter> e = pass.Next();
    if (!e.has_value()) return;
    const Outcome outcome = Retry(*e);
    if (outcome == Outcome::kDestinationDown) skipped_destination_down_.fetch_add(1);
    pass.Done(e->pipeline, outcome);
  }
}

DeadLetterRetrier::Outcome DeadLetterRetrier::Retry(const DeadLetter& e) {
  // Redrive (or a purge) may have taken it since Due() looked.
  if (!dlq_.Get(e.id).has_value()) return Outcome::kNone;
  auto body = dlq_.ReadBody(e.id);
  if (body.status().code() == absl::StatusCode::kNotFound && !dlq_.Get(e.id).has_value())
    return Outcome::kNone;
  // Damaged (the queue logged it): kept as it is, never stored, no longer due.
  if (body.status().code() == absl::StatusCode::kFailedPrecondition) return Outcome::kNone;
  absl::Status s;
  Outcome outcome = Outcome::kNone;
  if (body.ok()) {
    s = store_(e.pipeline, e.key, *body);
    if (IsDestinationDown(s)) {
      // Nothing was sent: not an attempt. The entry stays due as it is.
      NoteDown(e, s);
      return Outcome::kDestinationDown;
    }
    outcome = Outcome::kAttempted;
    retried_.fetch_add(1);
  } else {
    s = body.status();
  }
  if (s.ok()) {
    ForgetUnrecorded(e.id);
    absl::Status removed = dlq_.Remove(e.id);
    if (removed.ok()) {
      delivered_.fetch_add(1);
      if (options_.metrics) options_.metrics->ForPipeline(e.pipeline).dlq_delivered->Increment();
      Log(LogLevel::kInfo, "dlq.delivered",
          {{"id", e.id},
           {"pipeline", e.pipeline},
           {"key", e.key},
           {"attempts", StrCat(e.attempts + 1)}});
    } else if (absl::IsNotFound(removed)) {
      // Someone else removed it meanwhile (a Flush storing the same entry, a redrive or
      // purge): they counted it; the store was a no-op (If-None-Match).
    } else {
      // Stored, but still listed: the next pass stores it again, which is harmless
      // (If-None-Match), and tries the removal again.
      Log(LogLevel::kError, "dlq.remove_failed", {{"id", e.id}, {"error", StatusMessage(removed)}});
    }
    NoteDelivered(e);
    return outcome;
  }
  const int64_t now = clock_.NowMillis();
  const BackoffPolicy policy{.base_delay_ms = options_.retry_base_ms,
                             .max_delay_ms = options_.retry_max_ms};
  // Attempts the queue could not record still count for the backoff.
  const int64_t next =
      now + BackoffDelayMs(policy, e.attempts + UnrecordedAttempts(e.id),
                           options_.uniform01 ? options_.uniform01() : Uniform01());
  const bool expired = static_cast<double>(now - e.first_ms) >= options_.max_age_s * 1000.0;
  const std::string error = StrCat(absl::StatusCodeToString(s.code()), ": ", StatusMessage(s));
  absl::Status recorded = dlq_.RecordAttempt(e.id, error, next, expired);
  if (recorded.code() == absl::StatusCode::kNotFound) {  // redriven or purged
    ForgetUnrecorded(e.id);
    return outcome;
  }
  if (!recorded.ok()) {
    NoteUnrecorded(e, next, now, recorded);
    return outcome;
  }
  ForgetUnrecorded(e.id);
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
  return outcome;
}

std::set<std::string> DeadLetterRetrier::Waiting(int64_t now_ms) {
  std::set<std::string> out;
  absl::MutexLock lock(&unrecorded_mu_);
  for (auto it = unrecorded_.begin(); it != unrecorded_.end();) {
    // Purged or redriven meanwhile: nothing to wait for.
    if (!dlq_.Get(it->first).has_value()) {
      it = unrecorded_.erase(it);
      continue;
    }
    if (it->second.next_attempt_ms > now_ms) out.insert(it->first);
    ++it;
  }
  return out;
}

int64_t DeadLetterRetrier::UnrecordedAttempts(const std::string& id) {
  absl::MutexLock lock(&unrecorded_mu_);
  auto it = unrecorded_.find(id);
  return it == unrecorded_.end() ? 0 : it->second.attempts;
}

void DeadLetterRetrier::NoteUnrecorded(const DeadLetter& e, int64_t next_attempt_ms, int64_t now_ms,
                                       const absl::Status& error) {
  int64_t summary = 0;
  size_t entries = 0;
  bool first = false;
  {
    absl::MutexLock lock(&unrecorded_mu_);
    Unrecorded& u = unrecorded_[e.id];
    first = u.attempts == 0;
    u.attempts += 1;
    u.next_attempt_ms = next_attempt_ms;
    if (!first) summary = unrecorded_log_.Count(now_ms);
    entries = unrecorded_.size();
  }
  // The entry's first in full; its later ones (one per backoff, not per tick) are
  // summed into dlq.record_attempt_failures at most every kUnrecordedSummaryMs.
  if (first) {
    Log(LogLevel::kError, "dlq.record_attempt_failed",
        {{"id", e.id},
         {"pipeline", e.pipeline},
         {"key", e.key},
         {"next_attempt_in_ms", StrCat(next_attempt_ms - now_ms)},
         {"error", StatusMessage(error)},
         {"then", "the backoff is kept in memory until the queue can record it"}});
  } else if (summary > 0) {
    Log(LogLevel::kError, "dlq.record_attempt_failures",
        {{"failures", StrCat(summary)},
         {"entries_waiting", StrCat(entries)},
         {"error", StatusMessage(error)}});
  }
}

void DeadLetterRetrier::ForgetUnrecorded(const std::string& id) {
  absl::MutexLock lock(&unrecorded_mu_);
  if (unrecorded_.erase(id) > 0 && unrecorded_.empty()) unrecorded_log_.Take();
}

std::set<std::string> DeadLetterRetrier::Resting(int64_t now_ms) {
  std::set<std::string> out;
  absl::MutexLock lock(&down_mu_);
  for (const auto& [pipeline, retry_ms] : down_pipelines_)
    if (retry_ms > now_ms) out.insert(pipeline);
  return out;
}

void DeadLetterRetrier::NoteDown(const DeadLetter& e, const absl::Status& refusal) {
  // The breaker's probe delays are at most an hour; a longer wait is a clock that jumped.
  constexpr int64_t kMaxRestMs = int64_t{3600} * 1000;
  const int64_t retry_after_ms = DestinationDownRetryAfterMs(refusal);
  const int64_t retry_ms =
      retry_after_ms < 0 ? 0 : clock_.NowMillis() + std::min(retry_after_ms, kMaxRestMs);
  {
    absl::MutexLock lock(&down_mu_);
    const bool first = !down_pipelines_.contains(e.pipeline);
    down_pipelines_[e.pipeline] = retry_ms;
    if (!first) return;
  }
  Log(LogLevel::kWarn, "dlq.destination_down",
      {{"pipeline", e.pipeline}, {"error", StatusMessage(refusal)}});
}

void DeadLetterRetrier::NoteDelivered(const DeadLetter& e) {
  {
    absl::MutexLock lock(&down_mu_);
    if (down_pipelines_.erase(e.pipeline) == 0) return;
  }
  Log(LogLevel::kInfo, "dlq.destination_back", {{"pipeline", e.pipeline}});
}

DeadLetterRetrier::Counts DeadLetterRetrier::counts() const {
  Counts c;
  c.retried = retried_.load();
  c.delivered = delivered_.load();
  c.expired = expired_.load();
  c.skipped_destination_down = skipped_destination_down_.load();
  return c;
}

}  // namespace lakehose
