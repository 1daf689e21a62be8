// TransformService: the gRPC Transformer service (callback API). Thin transport:
// validate the request against the documented limits, run the core transform for each
// record, map verdicts onto the wire. It never blocks: the work is CPU only.
//
// Thread-safe. Borrows the Config and Clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "core/config/config.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"
#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/metrics/metrics.h"
#include "service/platform/clock.h"
#include "service/rpc/transformer_pool.h"

namespace lakehose {

// Checks a request's records against `limits`: count, record and record_id sizes, empty
// and duplicate record_ids. INVALID_ARGUMENT with the limit named in the message.
absl::Status ValidateRecords(const google::protobuf::RepeatedPtrField<v1::Record>& records,
                             const Limits& limits);

// Converts a grpc::Status to an absl::Status and back, code for code.
absl::Status FromGrpcStatus(const grpc::Status& s);
grpc::Status ToGrpcStatus(const absl::Status& s);

// RecordProcessor: what Transform and Ingest share: validate a request's records against
// the limits, find the pipeline, transform each record onto the wire. Thread-safe.
class RecordProcessor {
 public:
  // `metrics`: where the services count (borrowed, must outlive it); null = a private,
  // unexported set (tests).
  RecordProcessor(const Config& config, const Clock& clock, Metrics* metrics = nullptr);

  // Fills `results` (one per record, in order) and returns the pipeline; INVALID_ARGUMENT
  // for an unknown pipeline or a request past the limits (`message_bytes` is its size).
  absl::StatusOr<const PipelineSpec*> Process(
      const std::string& pipeline, const google::protobuf::RepeatedPtrField<v1::Record>& records,
      size_t message_bytes, google::protobuf::RepeatedPtrField<v1::RecordResult>* results);

  const Config& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  Metrics& metrics() const { return *metrics_; }

 private:
  const Config& config_;
  const Clock& clock_;
  std::unique_ptr<Metrics> own_metrics_;
  Metrics* metrics_;
  TransformerPool pool_;
};

// Puts each Transform call's request and response on one protobuf Arena, released when
// the call completes. A response of 500 records holds thousands of strings and map
// entries; allocating and freeing them one by one was about 16% of the server's CPU
// under load (perf, bench/README.md). Thread-safe (it holds no state).
class TransformArenaAllocator final
    : public grpc::MessageAllocator<v1::TransformRequest, v1::TransformResponse> {
 public:
  grpc::MessageHolder<v1::TransformRequest, v1::TransformResponse>* AllocateMessages() override;
};

class TransformService final : public v1::Transformer::CallbackService {
 public:
  explicit TransformService(RecordProcessor& processor) : processor_(processor) {
    SetMessageAllocatorFor_Transform(&allocator_);
  }

  grpc::ServerUnaryReactor* Transform(grpc::CallbackServerContext* context,
                                      const v1::TransformRequest* request,
                                      v1::TransformResponse* response) override;

  // Once called, new calls are answered UNAVAILABLE (in-flight calls finish).
  void StartDraining() { draining_.store(true); }

 private:
  RecordProcessor& processor_;
  TransformArenaAllocator allocator_;
  std::atomic<bool> draining_{false};
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
