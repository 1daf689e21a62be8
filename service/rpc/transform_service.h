// TransformService: the gRPC Transformer service (callback API). Thin transport over a
// RecordProcessor (validate against the documented limits, transform each record, map
// verdicts onto the wire), answered on the reactor thread: the work is CPU only.
//
// Thread-safe. Borrows the processor, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_

#include <atomic>

#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/rpc/arena_allocator.h"
#include "service/rpc/record_processor.h"

namespace lakehose {

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
  // Each call's request and response on one arena.
  ArenaMessageAllocator<v1::TransformRequest, v1::TransformResponse> allocator_;
  std::atomic<bool> draining_{false};
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
