// DeadLetterRetrier: the dead-letter queue's retry worker (docs/ARCHITECTURE.md).
//
// A thread that, every `tick` (the first pass one tick after start), takes the delivery
// entries that are due (not expired, next attempt reached), reads each body and stores
// it through `store` (the server passes DeliveryEngine::StoreObject, which is
// idempotent: If-None-Match, OK when the object already exists). On success the entry is removed;
// on failure the attempt is recorded with the next attempt at now + full-jitter backoff
// (core/base/backoff.h, the exponent being the entry's attempts so far), and the entry is marked
// expired once now - first_ms reaches max_age. Expired entries stay in the queue for an operator
// (ListDeadLetters / Redrive / Purge) and are no longer retried. A body that fails its check
// (ReadBody: FAILED_PRECONDITION) is never stored: the entry is damaged and stays as it is.
// Processing entries are never touched here: they wait for Redrive.
//
//   DeadLetterRetrier retrier(dlq, [&](auto& p, auto& k, auto b) { return engine.StoreObject(p, k,
//   b); },
//                             clock, DeadLetterRetrier::OptionsFrom(config.server));
//   ...
//   retrier.Stop();
//
// Thread-safe. Borrows the queue and the clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_RETRIER_H_
#define LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_RETRIER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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
    // How often due entries are looked for (also the longest Stop waits between
    // attempts). Default 1 s; tests pass a few ms.
    absl::Duration tick = absl::Seconds(1);
    // Where deliveries and expiries are counted (lakehose_dlq_delivered_total,
    // lakehose_dlq_expired_total); null: only counts() has them.
    const Metrics* metrics = nullptr;
  };
  // server.dlq_retry_base_ms, dlq_retry_max_ms and dlq_max_age_s.
  static Options OptionsFrom(const ServerOptions& server);

  struct Counts {
    int64_t retried = 0;    // attempts made (successful or not)
    int64_t delivered = 0;  // entries stored and removed
    int64_t expired = 0;    // entries marked expired by this worker
  };

  // Starts the worker thread.
  DeadLetterRetrier(DeadLetterQueue& dlq, StoreFn store, const Clock& clock, Options options);
  ~DeadLetterRetrier();  // Stop()

  // Stops the thread: returns once the attempt in progress (if any) has finished; a
  // store is not interrupted, so this waits at most for one store call (the wait
  // between passes ends at once).
  // Idempotent.
  void Stop();

  // One pass over the entries due now, on the caller's thread (the worker calls it every
  // tick; tests call it directly for determinism). Returns the number of attempts made.
  int RunOnce();

  Counts counts() const;

 private:
  void Loop();

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

  std::thread thread_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_RETRIER_H_
