// DeadLetterRetrier: the dead-letter queue's retry worker (docs/ARCHITECTURE.md).
//
// A thread that, every `tick` (the first pass one tick after start), takes the delivery
// entries that are due (not expired, next attempt reached), oldest first (DuePage: id
// order, i.e. creation order, a page at a time), reads each body and stores it through
// `store` (the server passes DeliveryEngine::StoreObject, which is idempotent:
// If-None-Match, OK when the object already exists), up to `drain_concurrency` stores at
// once. On success the entry is removed; on failure the attempt is recorded with the
// next attempt at now + full-jitter backoff (core/base/backoff.h, the exponent being the
// entry's attempts so far), and the entry is marked expired once now - first_ms reaches
// max_age. Expired entries stay in the queue for an operator (ListDeadLetters / Redrive /
// Purge) and are no longer retried. A body that fails its check (ReadBody:
// FAILED_PRECONDITION) is never stored: the entry is damaged and stays as it is.
// Processing entries are never touched here: they wait for Redrive.
//
// A down destination. A store answered with IsDestinationDown
// (core/delivery/destination_breaker.h: the destination's breaker refused it, nothing was
// sent) is not an attempt: the entry's attempts, next attempt and expiry stay as they
// were, and the pass takes no further entry of that pipeline (they would be refused the
// same way). A pass thus knocks once per pipeline (up to drain_concurrency times when
// stores start together), and when the refusal says when the breaker's next probe may go
// (DestinationDownRetryAfterMs) the pipeline rests until then: a knock sends nothing but
// reads the whole body, and the store encodes it, before the breaker refuses it. At the
// probe time a knock may be the probe (or an upload of the engine is); once the breaker
// has closed, the next pass drains the backlog oldest first, `drain_concurrency` at a
// time. Entries whose stores failed for real (before the breaker opened, or a failed
// probe) wait out their full-jitter backoff, which spreads them after recovery; the
// concurrency bound keeps the due ones from arriving all at once.
//
// A full disk. When the queue cannot record a failed attempt (RecordAttempt fails: the
// entry's metadata cannot be rewritten), the entry's next attempt, and the attempts not
// recorded (the backoff's exponent), are kept in memory, so the backoff still applies
// instead of the entry being retried at every tick. Each entry's first such failure is
// logged (dlq.record_attempt_failed), later ones are summed into one
// dlq.record_attempt_failures line at most every kUnrecordedSummaryMs.
//
//   DeadLetterRetrier retrier(dlq, [&](auto& p, auto& k, auto b) { return engine.StoreObject(p, k,
//   b); },
//                             clock, DeadLetterRetrier::OptionsFrom(config.server));
//   ...
//   retrier.Stop();
//
// Thread-safe. Borrows the queue and the clock, which must outlive it. `store` is called
// from up to `drain_concurrency` threads at once.
#ifndef LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_RETRIER_H_
#define LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_RETRIER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/log_throttle.h"
#include "core/config/config.h"
#include "service/dlq/dead_letter_queue.h"
#include "service/metrics/metrics.h"
#include "service/platform/clock.h"

namespace lakehose {

class DeadLetterRetrier {
 public:
  // Stores an uncompressed JSON Lines `body` under `key` of `pipeline`; OK if stored or
  // already there.
  using StoreFn = std::function<absl::Status(const std::string& pipeline, const std::string& key,
                                             std::string_view body)>;

  struct Options {
    int64_t retry_base_ms = 1000;      // backoff ceiling after the first failure (doubles)
    int64_t retry_max_ms = 300000;     // backoff ceiling cap
    double max_age_s = 7 * 24 * 3600;  // from first_ms; then the entry is marked expired
    // How often due entries are looked for. Default 1 s; tests pass a few ms.
    absl::Duration tick = absl::Seconds(1);
    // Stores in flight at once during a pass; clamped into [1, kMaxDrainConcurrency].
    // Default 4 (server.dlq.drain_concurrency).
    int drain_concurrency = 4;
    // A uniform random value in [0, 1) for the backoff's jitter; called from the pass's
    // threads at once (it must be thread-safe). Empty: a thread-local PRNG. Tests pass a
    // constant to make the delays exact.
    std::function<double()> uniform01;
    // Where deliveries and expiries are counted (lakehose_dlq_delivered_total,
    // lakehose_dlq_expired_total); null: only counts() has them.
    const Metrics* metrics = nullptr;
  };
  static constexpr int kMaxDrainConcurrency = 64;  // the config key's upper bound
  // When the queue cannot record failed attempts (a full disk), each entry's first is
  // logged (dlq.record_attempt_failed) and the others summed into one
  // dlq.record_attempt_failures line at most this often (Clock ms).
  static constexpr int64_t kUnrecordedSummaryMs = 60'000;
  // server.dlq_retry_base_ms, dlq_retry_max_ms, dlq_max_age_s and dlq_drain_concurrency.
  static Options OptionsFrom(const ServerOptions& server);

  struct Counts {
    int64_t retried = 0;    // attempts made (successful or not; refusals excluded)
    int64_t delivered = 0;  // entries stored and removed
    int64_t expired = 0;    // entries marked expired by this worker
    // Stores refused because the destination was down (IsDestinationDown): each left
    // its entry as it was, and the pass then left that pipeline's other entries alone.
    int64_t skipped_destination_down = 0;
  };

  // Starts the worker thread.
  DeadLetterRetrier(DeadLetterQueue& dlq, StoreFn store, const Clock& clock, Options options);
  ~DeadLetterRetrier();  // Stop()

  // Stops the worker: a pass in progress (the worker's, or a RunOnce caller's) takes no
  // further entry, and this returns once the stores in progress have ended (a store is
  // not interrupted, so this waits at most for the longest of drain_concurrency store
  // calls; the wait between passes ends at once). Idempotent; RunOnce does nothing after.
  void Stop();

  // One pass over the entries due now (the worker calls it every tick; tests call it
  // directly). Returns once every store it started has ended; the number of attempts
  // made (stores that reached the destination). It runs on the caller's thread plus, when
  // more than one entry is due, up to drain_concurrency - 1 threads made for this pass
  // (see the .cc for why per pass). With drain_concurrency 1 everything happens on the
  // caller's thread, in DuePage() order.
  int RunOnce();

  Counts counts() const;

  // Whether Stop() has been called (it may still be waiting for stores in progress).
  bool StopRequestedForTest() const { return stop_requested_.load(); }

 private:
  class Pass;
  enum class Outcome { kNone, kAttempted, kDestinationDown };

  void Loop();
  // Stores entries from `pass` until there are none left or Stop() was called.
  void Drain(Pass& pass);
  // One entry: read, store, then remove it or record the failure.
  Outcome Retry(const DeadLetter& e);
  // Pipelines not to knock on at `now_ms`: their last refusal said the breaker's next
  // probe was later.
  std::set<std::string> Resting(int64_t now_ms);
  // Entries whose next attempt, kept in memory because the queue could not record it,
  // is after `now_ms` (forgets those no longer in the queue).
  std::set<std::string> Waiting(int64_t now_ms);
  // Failed attempts of `id` the queue could not record (0 if none).
  int64_t UnrecordedAttempts(const std::string& id);
  // RecordAttempt failed (a full disk: the metadata cannot be rewritten): keeps the
  // entry's next attempt in memory and logs, rate-limited.
  void NoteUnrecorded(const DeadLetter& e, int64_t next_attempt_ms, int64_t now_ms,
                      const absl::Status& error);
  // The queue recorded an attempt of `id`, or it is gone.
  void ForgetUnrecorded(const std::string& id);
  // Notes a refusal (when to knock again) and logs the first one after the pipeline's
  // destination was up; NoteDelivered logs the first delivery after it was down (an
  // outage logs two lines per pipeline, not one per pass).
  void NoteDown(const DeadLetter& e, const absl::Status& refusal);
  void NoteDelivered(const DeadLetter& e);

  DeadLetterQueue& dlq_;
  const StoreFn store_;
  const Clock& clock_;
  const Options options_;

  absl::Mutex pass_mu_;  // one pass at a time (worker thread vs RunOnce callers)
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_requested_{false};  // read between attempts without the lock

  std::atomic<int64_t> retried_{0};
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> expired_{0};
  std::atomic<int64_t> skipped_destination_down_{0};

  absl::Mutex down_mu_;
  // Pipelines whose last store was refused -> when to try them again (ms; 0: next pass).
  std::map<std::string, int64_t> down_pipelines_ ABSL_GUARDED_BY(down_mu_);

  // Entries whose last failed attempts the queue could not record (RecordAttempt
  // failed: the disk is full), by id: the backoff is kept here so that they are not
  // retried, and logged, at every tick. Until the queue records an attempt of theirs,
  // they are stored or gone (a restart forgets this: the entries are then due at once).
  struct Unrecorded {
    int64_t attempts = 0;  // failed attempts not recorded
    int64_t next_attempt_ms = 0;
  };
  absl::Mutex unrecorded_mu_;
  std::map<std::string, Unrecorded> unrecorded_ ABSL_GUARDED_BY(unrecorded_mu_);
  LogThrottle unrecorded_log_ ABSL_GUARDED_BY(unrecorded_mu_){kUnrecordedSummaryMs};

  std::thread thread_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_RETRIER_H_
