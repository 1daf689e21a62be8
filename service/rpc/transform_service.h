// TransformService: the gRPC Transformer service (callback API). Thin transport over a
// RecordProcessor (validate against the documented limits, transform each record, map
// verdicts onto the wire), answered on the reactor thread: the work is CPU only.
//
// Thread-safe. Borrows the processor, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"
#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/rpc/record_processor.h"

namespace lakehose {

// Converts a grpc::Status to an absl::Status and back, code for code.
absl::Status FromGrpcStatus(const grpc::Status& s);
grpc::Status ToGrpcStatus(const absl::Status& s);

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
