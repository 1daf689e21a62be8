// DeadLettersService: the gRPC DeadLetters service (callback API) over a DeadLetterQueue.
//
//  - ListDeadLetters: filter by pipeline and kind, oldest first, paged (page_token = the
//    last id of the previous page; page_size default 100, at most 1000). Damaged entries
//    are listed too, with `damaged` and `damage` (why) set.
//  - Redrive: exactly one selector (ids, pipeline, all), else INVALID_ARGUMENT. Delivery
//    entries are stored now through `store` (idempotent) and removed on success;
//    processing entries are transformed again with the current config and, if OK now,
//    accepted for delivery through `accept` and removed (DROPPED now: removed, nothing
//    to deliver); otherwise the attempt is recorded with the new error and the entry
//    stays. One result per selected entry, in id order. A damaged entry
//    (dead_letter_queue.h) is refused: its result is "FAILED_PRECONDITION: dead letter
//    ... is damaged (why) ...", nothing is stored and the entry is left as it is.
//  - Purge: explicit ids, or a pipeline with confirm = true; anything else is
//    INVALID_ARGUMENT. Unknown ids are NOT_FOUND and nothing is purged. Damaged entries
//    are purged like any other: only this removes them.
// Redrive and Purge do I/O (object stores, fsyncs), so they never run on a reactor
// thread: each call runs on a thread of its own (at most max_concurrent_calls at once,
// RESOURCE_EXHAUSTED past that) and finishes from there. ListDeadLetters reads the
// in-memory index and answers inline.
//
// Lifecycle: StartDraining() makes new calls UNAVAILABLE; Stop() (after the gRPC server
// has shut down) waits for the call threads. A Redrive whose call is cancelled stops
// between entries.
//
// Thread-safe. Borrows the queue and the processor, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_DEAD_LETTERS_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_DEAD_LETTERS_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/delivery/delivery_engine.h"
#include "service/dlq/dead_letter_queue.h"
#include "service/dlq/dead_letter_retrier.h"
#include "service/rpc/record_processor.h"

namespace lakehose {

class DeadLettersService final : public v1::DeadLetters::CallbackService {
 public:
  // Buffers lines of a pipeline for delivery, all or none (DeliveryEngine::Accept).
  using AcceptFn =
      std::function<absl::Status(const PipelineSpec& spec, std::vector<BufferedLine> lines)>;
  using StoreFn = DeadLetterRetrier::StoreFn;

  struct Options {
    int max_concurrent_calls = 8;  // Redrive/Purge calls running at once
    size_t redrive_chunk = 500;    // processing entries accepted per Accept call
  };

  DeadLettersService(DeadLetterQueue& dlq, RecordProcessor& processor, StoreFn store,
                     AcceptFn accept, Options options);
  DeadLettersService(DeadLetterQueue& dlq, RecordProcessor& processor, StoreFn store,
                     AcceptFn accept)
      : DeadLettersService(dlq, processor, std::move(store), std::move(accept), Options()) {}
  ~DeadLettersService() override;  // Stop()

  grpc::ServerUnaryReactor* ListDeadLetters(grpc::CallbackServerContext* context,
                                            const v1::ListDeadLettersRequest* request,
                                            v1::ListDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* Redrive(grpc::CallbackServerContext* context,
                                    const v1::RedriveRequest* request,
                                    v1::RedriveResponse* response) override;
  grpc::ServerUnaryReactor* Purge(grpc::CallbackServerContext* context,
                                  const v1::PurgeRequest* request,
                                  v1::PurgeResponse* response) override;

  void StartDraining() { draining_.store(true); }
  // Waits for every call thread; new calls are UNAVAILABLE. Idempotent.
  void Stop();

  // The plain logic behind the RPCs (also usable without gRPC). `cancelled` is polled
  // between entries.
  absl::Status DoList(const v1::ListDeadLettersRequest& request,
                      v1::ListDeadLettersResponse* response) const;
  absl::Status DoRedrive(const v1::RedriveRequest& request, const std::function<bool()>& cancelled,
                         v1::RedriveResponse* response);
  absl::Status DoPurge(const v1::PurgeRequest& request, v1::PurgeResponse* response);

 private:
  struct Outcome {
    bool ok = false;
    std::string error;
  };
  Outcome RedriveDelivery(const DeadLetter& e);
  // Processing entries of one pipeline; fills `out` (one per entry).
  void RedriveProcessing(const std::vector<DeadLetter>& entries, std::vector<Outcome>* out);
  // Records a failed redrive attempt; the delivery schedule is left as it was.
  void RecordFailure(const DeadLetter& e, const std::string& error);

  // Runs `work` on a call thread and finishes `reactor` with its status.
  void RunOnThread(grpc::ServerUnaryReactor* reactor, std::function<absl::Status()> work);
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DeadLetterQueue& dlq_;
  RecordProcessor& processor_;
  const StoreFn store_;
  const AcceptFn accept_;
  const Options options_;
  std::atomic<bool> draining_{false};

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_thread_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ ABSL_GUARDED_BY(mu_);  // threads done with their call
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

// A queue entry as the wire DeadLetter.
void DeadLetterToWire(const DeadLetter& e, v1::DeadLetter* out);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_DEAD_LETTERS_SERVICE_H_
