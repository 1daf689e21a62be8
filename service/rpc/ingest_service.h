// IngestService: the gRPC Ingestor service (callback API). Transform each record as
// Transform does, then hand the OK records (and Firehose-style error documents for the
// failed ones) to the DeliveryEngine; answer once the engine accepted them. The raw input
// of failed records is also kept in the dead-letter queue for Redrive.
// Threads: Ingest and each IngestStream request run on a pool of workers, which finish
// the call, so the WAL's group-commit fsync and the DLQ's writes never hold a reactor
// thread; a request that finds the pool's queue full is answered RESOURCE_EXHAUSTED.
// Flush is not on the pool: it seals the buffers on the reactor thread, under the
// engine's lock, and each seal appends a frame to the WAL there (a write; when the
// append rotates the segment, also a wait for a running fsync and an fdatasync of the
// old segment). Once the engine has stored (or dead-lettered) every object, a worker
// stores the pipeline's delivery entries of the dead-letter queue, oldest first (see
// FlushDeadLetters; one Flush at a time, until the call's deadline), and the call
// completes: OK means everything pending was stored.
//
// Lifecycle: StartDraining() makes new requests UNAVAILABLE; Stop() (after the gRPC
// server has shut down) runs what is queued and joins the workers.
//
// Thread-safe. Borrows the processor, engine and queue, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_INGEST_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_INGEST_SERVICE_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/delivery/delivery_engine.h"
#include "service/dlq/dead_letter_queue.h"
#include "service/platform/worker_pool.h"
#include "service/rpc/arena_allocator.h"
#include "service/rpc/record_processor.h"

namespace lakehose {

class IngestService final : public v1::Ingestor::CallbackService {
 public:
  // PROCESSING_FAILED records also go to `dead_letters` (their raw input, for Redrive).
  struct Options {
    // Concurrent Ingest requests: concurrent callers share the WAL's fsyncs (group
    // commit), so more workers than cores pays off.
    int workers = 16;
    size_t max_queued = 4096;  // requests waiting for a worker; past it RESOURCE_EXHAUSTED
  };
  IngestService(RecordProcessor& processor, DeliveryEngine& engine, DeadLetterQueue& dead_letters,
                Options options);
  IngestService(RecordProcessor& processor, DeliveryEngine& engine, DeadLetterQueue& dead_letters)
      : IngestService(processor, engine, dead_letters, Options()) {}
  ~IngestService() override { Stop(); }

  grpc::ServerUnaryReactor* Ingest(grpc::CallbackServerContext* context,
                                   const v1::IngestRequest* request,
                                   v1::IngestResponse* response) override;
  grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* IngestStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Flush(grpc::CallbackServerContext* context,
                                  const v1::FlushRequest* request,
                                  v1::FlushResponse* response) override;

  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  // Runs the queued requests and joins the workers. Idempotent.
  void Stop() { workers_.Stop(); }
  // Runs `task` on a worker; false when the queue is full (answer RESOURCE_EXHAUSTED).
  bool RunOnWorker(std::function<void()> task) { return workers_.Submit(std::move(task)); }

  // Transform + accept for one request (shared by Ingest and IngestStream, which `rpc`
  // names for the metrics); UNAVAILABLE once draining.
  grpc::Status HandleIngest(grpc::CallbackServerContext* context, const v1::IngestRequest& request,
                            v1::IngestResponse* response, MetricRpc rpc);

  // At most this many dead-letter entries are stored by one Flush; past it the Flush
  // answers UNAVAILABLE and leaves the rest to the retry worker.
  static constexpr size_t kMaxFlushDeadLetters = 10000;

 private:
  // The second half of a Flush of `pipeline` (every pipeline if empty), given the
  // engine's result: stores the delivery entries waiting in the dead-letter queue
  // (oldest first; not the expired or damaged ones, which wait for an operator), removes
  // each stored one, and stops at the first store that fails, at kMaxFlushDeadLetters
  // stores, or at `deadline` (the call's).
  // OK (the engine's objects and the stored entries) when nothing is left pending;
  // UNAVAILABLE naming how many wait otherwise, or the engine's failure if it was not
  // only objects handed to the DLQ. Exactly once: stores are If-None-Match, so an entry
  // the retry worker stores at the same time is not duplicated.
  absl::StatusOr<std::vector<StoredObject>> FlushDeadLetters(
      const std::string& pipeline, absl::Time deadline,
      absl::StatusOr<std::vector<StoredObject>> engine_result) ABSL_LOCKS_EXCLUDED(flush_drain_mu_);
  // Whether a Flush waits for `e`: a delivery entry of a configured pipeline, neither
  // expired nor damaged (those wait for an operator).
  bool PendingDeadLetter(const DeadLetter& e) const;
  // The oldest such entry of `pipeline` (any if empty) after id `after`, paging through
  // the queue's index.
  std::optional<DeadLetter> FirstPendingDeadLetter(const std::string& pipeline,
                                                   std::string after = "") const;
  static constexpr size_t kDeadLetterPage = 256;
  absl::Mutex flush_drain_mu_;  // one Flush stores dead letters at a time

  RecordProcessor& processor_;
  DeliveryEngine& engine_;
  DeadLetterQueue& dead_letters_;
  // Each unary Ingest call's request and response on one arena (IngestStream reuses
  // its reactor's two messages instead).
  ArenaMessageAllocator<v1::IngestRequest, v1::IngestResponse> allocator_;
  std::atomic<bool> draining_{false};
  WorkerPool workers_;  // last: stopped (joined) before the rest goes
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_INGEST_SERVICE_H_
