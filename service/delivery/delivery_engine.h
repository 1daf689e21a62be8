// DeliveryEngine: per-partition buffers of transformed records, sealed into compressed
// objects and stored through each pipeline's ObjectSink.
//
// A buffer exists per (pipeline, rendered prefix). It is sealed when it reaches
// buffering.size_mb, when its oldest record is buffering.interval_s old, on Flush, on
// Shutdown, and early under memory pressure (core/delivery/batching.h: the largest buffers past
// half the byte budget, the oldest past the partition cap). Sealed objects are
// compressed and stored by a pool of upload threads. Retries follow one policy per object
// with the sink's own (README, `destination.retry`): an object has a failure budget,
// destination.retry.max_attempts failures over every store (a store spends what its sink
// reports, at least one when it fails: ObjectMeta::failures_spent), and a deadline,
// Options::retry_budget after its seal (on the Clock; for an object rebuilt by WAL replay,
// after the replay). A store is given both (ObjectMeta::max_failures, ::deadline), so the
// sink stops retrying by them; a failed store with both left is queued again after the
// policy's next delay (BackoffDelayMs with destination.retry's base and max, full jitter,
// on from the failures spent), a retry due after the deadline coming at it. Once either
// is spent, a failed store hands the object to the dead-letter queue
// (Options::dead_letter) and it leaves the engine. A store
// the sink refused because the destination is down (IsDestinationDown: its circuit
// breaker is open) hands the object to the DLQ at once: during an outage sealed objects
// wait on disk, not in memory, and the DLQ retry worker stores them once it is back.
// Without a DLQ objects are retried in memory until stored, with the same delays (after the
// budget, at most destination.retry.max_delay_ms apart, one failure per store).
//
// Accept() is THE acceptance point of Ingest: a request's records are accepted all
// together or not at all (RESOURCE_EXHAUSTED when the budget is spent). After Recover()
// it is also the durability point: the records are in the write-ahead log and fsync'd
// before it returns, and every seal, store and hand-off to the DLQ is logged, so a
// restart rebuilds the buffers and re-stores what was sealed (service/wal/wal.h).
//
// Thread-safe. Borrows the Config (its pipelines) and the Clock.
#ifndef LAKEHOSE_SERVICE_DELIVERY_DELIVERY_ENGINE_H_
#define LAKEHOSE_SERVICE_DELIVERY_DELIVERY_ENGINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/log_throttle.h"
#include "core/config/config.h"
#include "core/delivery/batching.h"
#include "core/dlq/dead_lettered_object.h"
#include "service/delivery/object_sink.h"
#include "service/delivery/table_writer.h"
#include "service/metrics/metrics.h"
#include "service/platform/clock.h"
#include "service/wal/wal.h"

namespace lakehose {

struct StoredObject {
  std::string pipeline;
  std::string key;
  std::string uri;
  int64_t records = 0;
  int64_t bytes = 0;  // as stored (compressed)
};

// One line to buffer: the rendered prefix it goes under and the bytes (newline included).
struct BufferedLine {
  std::string prefix;
  std::string line;
};

struct DeliveryStats {
  int64_t buffered_bytes = 0;
  int64_t buffered_records = 0;
  int64_t in_flight_bytes = 0;  // sealed, not yet stored
  int64_t active_partitions = 0;
  int64_t objects_stored = 0;
  int64_t store_failures = 0;
  int64_t refused_requests = 0;     // RESOURCE_EXHAUSTED
  int64_t oldest_buffered_ms = 0;   // 0 when nothing is buffered
  int64_t seals_by_reason[7] = {};  // indexed by FlushReason
  int64_t already_stored = 0;       // re-uploads answered "exists": an earlier attempt landed
  int64_t dead_lettered = 0;        // objects handed to the DLQ
  // ...of which at once, because the destination was down (its breaker refused the store)
  int64_t dead_lettered_destination_down = 0;
  // ...of which by Accept, to make room in the buffer budget: sealed objects waiting for a
  // failing destination (SpillToDeadLetters)
  int64_t dead_lettered_under_pressure = 0;
  // Records left out of Parquet objects (the writer could not store them) and handed to
  // the DLQ alone, under RejectedRecordsKey(the object's key).
  int64_t rejected_records = 0;
  int64_t wal_bytes = 0;
  int64_t recovered_records = 0;  // replayed from the WAL at start
  int64_t recovered_objects = 0;
  // Seals the WAL refused (disk full): each buffer stayed open, sealed again later.
  int64_t seal_refusals = 0;
};

class DeliveryEngine {
 public:
  // Hands an object whose retry budget ran out to the dead-letter queue. OK means the
  // DLQ holds it durably (the engine then forgets it); otherwise it stays queued and
  // retried, and is handed over again after its next failure. Called on an upload thread.
  using DeadLetterFunction = std::function<absl::Status(const DeadLetteredObject& object)>;
  struct Options {
    std::string writer_id = "lakehose";
    // How often the ticker thread runs Tick(); InfiniteDuration(): never on its own.
    absl::Duration tick = absl::Milliseconds(200);
    // This long after its seal, a failed store hands the object to the dead-letter queue
    // (if one is set); it is also the deadline given to every store of the object.
    absl::Duration retry_budget = absl::Minutes(5);
    DeadLetterFunction dead_letter;  // empty: objects are retried forever
    // A uniform random value in [0, 1) for the jitter of re-queue delays; called with the
    // engine's lock held (one call at a time). Empty: a PRNG seeded from std::random_device.
    // Tests pass a constant to make the delays exact.
    std::function<double()> uniform01;
    // Where the engine counts (flushes, objects, bytes out, retries) and which gauges it
    // refreshes (buffers, pending bytes, WAL). Null: a private, unexported set.
    Metrics* metrics = nullptr;
    // Pipelines whose objects become table data files (format iceberg), by name; borrowed,
    // they must outlive the engine. Such an object is stored as the files its writer
    // encodes, then committed by the committer thread (every commit_interval_s, at once
    // for a Flush or at shutdown); it is done (logged kStored, counted, its Flush
    // tickets answered) once committed.
    absl::flat_hash_map<std::string, TableWriter*> tables;
  };
  using Sinks = absl::flat_hash_map<std::string, std::unique_ptr<ObjectSink>>;  // by pipeline
  using FlushCallback = std::function<void(absl::StatusOr<std::vector<StoredObject>>)>;

  // Every pipeline of `config` must have a sink. Starts the upload and ticker threads.
  DeliveryEngine(const Config& config, Sinks sinks, const Clock& clock, Options options);
  ~DeliveryEngine();  // Shutdown(zero grace) if not done

  // Opens the write-ahead log and replays it: buffers are rebuilt, objects that were
  // sealed but not stored are queued again (stored with If-None-Match, so an object that
  // did land is not duplicated). Call once, before the first Accept. Without it the engine
  // keeps everything in memory only.
  absl::Status Recover(const Wal::Options& options, WalReplayStats* stats);

  // Buffers `lines` of pipeline `spec`, all or none, and (with a WAL) returns once they
  // are in the log and fsync'd. RESOURCE_EXHAUSTED if the byte budget or the disk is
  // spent (nothing is buffered then; retry later); UNAVAILABLE once shut down.
  absl::Status Accept(const PipelineSpec& spec, std::vector<BufferedLine> lines);

  // Seals every buffer of `pipeline` (every pipeline if empty) and calls `done` once all
  // of them, and everything sealed earlier for it, is stored: with the objects stored,
  // or UNAVAILABLE if some could not be stored. With a dead-letter queue it waits for
  // each object's end: stored, or handed to the DLQ (at once when the destination is
  // down, else once its failures are spent or by its deadline); UNAVAILABLE then names
  // how many went to the DLQ, where the retry worker stores them. Without one, the first
  // failed store of an object answers UNAVAILABLE (it stays queued and retried).
  // A buffer whose seal the WAL refused (disk full) is no object: the answer is then
  // RESOURCE_EXHAUSTED, "N buffer(s) could not be sealed (the WAL refused: ...); they
  // stay buffered", followed by the objects' part if some also failed.
  // `done` runs on an engine thread or, if there is nothing to do, on the caller's.
  void FlushAsync(const std::string& pipeline, FlushCallback done);
  absl::StatusOr<std::vector<StoredObject>> Flush(const std::string& pipeline);

  // Seals everything and waits up to `grace` (real time) for it to be stored; then stops
  // the threads. What is not stored by then stays in the WAL and is stored after the
  // next start's Recover(); without a WAL (no Recover) it is lost. Idempotent.
  void Shutdown(absl::Duration grace);

  // Stores an object now, outside the buffers (compressed as its pipeline says):
  // used by the dead-letter retry worker and Redrive. `body` is uncompressed JSON Lines.
  // OK also when the object already exists (an earlier attempt landed).
  // `stored_bytes` (optional): the encoded (compressed) size, which is also what an
  // existing object holds (same key, same records, same encoding).
  absl::Status StoreObject(const std::string& pipeline, const std::string& key,
                           std::string_view body, int64_t* stored_bytes = nullptr);
  // Where `key` of `pipeline` lives (ObjectSink::Uri); empty for an unknown pipeline.
  std::string ObjectUri(const std::string& pipeline, const std::string& key) const;

  // Whether a FlushAsync's UNAVAILABLE was only for objects handed to the dead-letter
  // queue (every other object of the flush was stored, every buffer sealed): once the
  // DLQ has stored them, everything the flush covered is in the lake.
  static bool FailedOnlyToDeadLetters(const absl::Status& status);

  // One pass of the ticker on the caller's thread, at the Clock's now: seals the buffers
  // whose oldest record has reached buffering.interval_s and queues for upload the failed
  // objects whose retry delay has passed. Returns how many objects it queued (0 once shut
  // down). The ticker thread runs it every Options::tick; tests that want time to move
  // only when they say so pass an infinite tick and call it themselves.
  int Tick();

  DeliveryStats Stats() const;

  // Whether an Accept refusal was for the byte budget (server.buffer_budget_mb) rather
  // than for the disk (the WAL's RESOURCE_EXHAUSTED).
  static bool IsBufferBudgetRefusal(const absl::Status& status);

  // While the WAL refuses seals, each open buffer's first refusal is logged
  // (delivery.seal_not_logged) and the repeats are summed into one
  // delivery.seals_not_logged line at most this often (Clock ms).
  static constexpr int64_t kSealRefusalSummaryMs = 30'000;

 private:
  struct Ticket;
  struct Buffer {
    const PipelineSpec* spec = nullptr;
    std::string prefix;
    std::string data;
    BufferStats stats;
    uint64_t first_segment = 0;  // WAL segment of its first line
    int64_t seal_refusals = 0;   // seals of it the WAL refused (it stayed open)
  };
  struct Sealed {
    const PipelineSpec* spec = nullptr;
    std::string key;
    std::string data;  // uncompressed JSON Lines
    int64_t records = 0;
    int64_t oldest_ms = 0;  // when its first record was buffered (0: unknown)
    // When it was sealed, on the Clock (replayed from the WAL: when it was replayed); its
    // retry budget runs from here.
    int64_t seal_ms = 0;
    int attempts = 0;  // stores tried
    // Failures spent of its budget (destination.retry.max_attempts), over every store.
    int failures = 0;
    int64_t next_attempt_ms = 0;
    int64_t first_failure_ms = 0;
    std::string first_error;
    bool rejects_dead_lettered = false;  // its RejectedRecords are in the DLQ already
    uint64_t seal_lsn = 0;               // the WAL frame that sealed it
    uint64_t first_segment = 0;          // WAL segment of its first line
    std::vector<std::shared_ptr<Ticket>> tickets;
    // A table's object, stored and waiting for its commit (data freed): its files.
    std::optional<TableObject> table;
    int64_t stored_ms = 0;  // when its files were stored (Clock ms)
  };
  struct BufferKey {
    const PipelineSpec* spec;
    std::string prefix;
    bool operator==(const BufferKey& o) const { return spec == o.spec && prefix == o.prefix; }
    template <typename H>
    friend H AbslHashValue(H h, const BufferKey& k) {
      return H::combine(std::move(h), k.spec, std::string_view(k.prefix));
    }
  };

  // Returns the seal's WAL position (0 without a WAL), or nullopt if it could not be
  // logged (the buffer then stays open).
  // `trailing`: lines of the request being accepted, already in the WAL, that come after
  // this seal (see core/wal/wal_format.h).
  // `refusal` (optional): the WAL's error when it returns nullopt.
  std::optional<uint64_t> SealLocked(const BufferKey& key, FlushReason reason, int64_t trailing = 0,
                                     absl::Status* refusal = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts and logs (rate-limited) a seal of `b` that the WAL refused.
  void NoteSealRefusedLocked(Buffer& b, const absl::Status& error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReplayFrame(WalType type, std::string_view payload, uint64_t lsn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseWalLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int TickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When `incoming` bytes would not fit the buffer budget: moves sealed objects that
  // wait in memory for a failing destination (ObjectSink::DestinationFailing; failed
  // already and waiting out a backoff, then queued) to the dead-letter queue, oldest
  // first, until they fit. In the first seconds of an outage, before the breaker opens,
  // the upload threads are busy retrying and sealed objects pile up in memory; without
  // this Ingest would be refused although the disk has room. Writes the DLQ without the
  // lock; an object the DLQ refuses goes back to the queue.
  void SpillToDeadLetters(int64_t incoming) ABSL_LOCKS_EXCLUDED(mu_);
  // The bookkeeping of an object the DLQ now holds (the caller dropped it from the
  // engine's sets): its bytes leave the budget, it is counted and logged with `reason`,
  // and its Flush tickets count it as dead-lettered (`why` their first error), those
  // that end going to `finished`.
  void DeadLetteredLocked(const Sealed& obj, std::string_view reason, const absl::Status& why,
                          std::vector<std::shared_ptr<Ticket>>* finished)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UploadLoop();
  void TickLoop();
  // The committer thread (when there are tables): commits each table's stored objects
  // when the oldest has waited commit_interval_s, when a Flush waits for one, or at
  // shutdown; a failed commit is tried again after a backoff (1 s doubling to 60 s).
  void CommitLoop();
  // Whether an object of `spec` that a Flush waits for is still queued or uploading.
  bool FlushObjectsInFlightLocked(const PipelineSpec* spec) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The table writer of `obj`'s pipeline when `obj` is one of its data objects (not a
  // buffer of error documents), else null.
  TableWriter* TableOf(const Sealed& obj) const;
  // Stores the files of a table object; OK also when they exist already.
  absl::Status StoreTableFiles(ObjectSink& sink, const TableObject& t, ObjectMeta meta);
  // Runs ticket callbacks whose last object finished (outside the lock).
  static void Complete(std::vector<std::shared_ptr<Ticket>> done);
  // When the engine stops retrying `obj` and hands it to the DLQ (Clock ms); nullopt
  // without a dead-letter queue (retried forever).
  std::optional<int64_t> DeadlineMs(const Sealed& obj) const;

  const PipelineMetrics& MetricsFor(const PipelineSpec* spec) const {
    return metrics_->ForPipeline(*spec);
  }
  void RefreshMetrics() const;

  const Config& config_;
  Sinks sinks_;
  const Clock& clock_;
  const Options options_;
  const PressureLimits pressure_;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;    // upload queue non-empty, or stopping (upload threads only)
  absl::CondVar tick_cv_;    // wakes the ticker early (shutdown)
  absl::Mutex shutdown_mu_;  // one Shutdown at a time
  absl::CondVar idle_cv_;    // an object finished (for Shutdown)
  absl::flat_hash_map<BufferKey, Buffer> buffers_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<Sealed>> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Sealed*> uploading_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Sealed>> retry_ ABSL_GUARDED_BY(mu_);
  // Table objects stored and waiting for a commit, and those the committer is committing.
  std::vector<std::unique_ptr<Sealed>> committing_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Sealed*> in_commit_ ABSL_GUARDED_BY(mu_);
  // Per table pipeline after a failed commit: failures in a row and the next try (Clock ms).
  absl::flat_hash_map<const PipelineSpec*, std::pair<int, int64_t>> commit_backoff_
      ABSL_GUARDED_BY(mu_);
  absl::CondVar commit_cv_;  // an object to commit, or shutting down
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Wal> wal_;  // set once by Recover, before concurrent use
  absl::flat_hash_map<std::string, std::unique_ptr<Sealed>> replayed_
      ABSL_GUARDED_BY(mu_);  // during Recover
  std::string wal_payload_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  DeliveryStats stats_ ABSL_GUARDED_BY(mu_);
  // Open buffers with a refused seal, and the summary of repeated refusals
  // (delivery.seals_not_logged, at most one line per kSealRefusalSummaryMs).
  int64_t buffers_seal_refused_ ABSL_GUARDED_BY(mu_) = 0;
  LogThrottle seal_refusal_log_ ABSL_GUARDED_BY(mu_){kSealRefusalSummaryMs};
  // options_.uniform01, or the default PRNG.
  std::function<double()> uniform01_ ABSL_GUARDED_BY(mu_);

  std::vector<std::thread> uploaders_;
  std::thread ticker_;
  std::thread committer_;  // only when options_.tables is not empty

  std::unique_ptr<Metrics> own_metrics_;  // when Options.metrics is null
  Metrics* metrics_ = nullptr;
  Metrics::Registration metrics_refresh_;  // last: unregistered before anything else goes
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DELIVERY_DELIVERY_ENGINE_H_
