// TransformService: the gRPC Transformer service (callback API). Thin transport over a
// RecordProcessor (validate against the documented limits, transform each record, map
// verdicts onto the wire), answered on the reactor thread: the work is CPU only.
//
// Memory in flight is bounded (README "Limits", server.limits.memory_quota_mb): a call
// holds its request and response (on one arena) until its client has taken the whole
// answer, which a client that never reads never does. Each call counts twice the wire
// size of both (the parsed message and its serialized copy in gRPC's send buffer) against
// `inflight_limit_bytes` from the moment it is known until the call is done (answered,
// cancelled, or its client gone); a call that would go past it is answered
// RESOURCE_EXHAUSTED instead, before any work for a request, without its answer for a
// response. When the count falls back to zero after a large peak, freed heap pages are
// handed back to the system (malloc_trim), so that the RSS drops after such a client
// leaves.
//
// Thread-safe. Borrows the processor, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/rpc/arena_allocator.h"
#include "service/rpc/record_processor.h"

namespace lakehose {

class TransformService final : public v1::Transformer::CallbackService {
 public:
  // `inflight_limit_bytes` <= 0: no bound.
  explicit TransformService(RecordProcessor& processor, int64_t inflight_limit_bytes = 0)
      : processor_(processor), inflight_limit_(inflight_limit_bytes) {
    SetMessageAllocatorFor_Transform(&allocator_);
  }

  grpc::ServerUnaryReactor* Transform(grpc::CallbackServerContext* context,
                                      const v1::TransformRequest* request,
                                      v1::TransformResponse* response) override;

  // Once called, new calls are answered UNAVAILABLE (in-flight calls finish).
  void StartDraining() { draining_.store(true); }

  // Bytes counted for the calls in flight now (see the overview).
  int64_t inflight_bytes() const { return inflight_.load(std::memory_order_relaxed); }

 private:
  class Reactor;

  // Adds `bytes` to the count unless that would pass the limit while other calls hold
  // some of it (`held`: what this call holds already); false then. A call alone is always
  // let through: a request within max_message_bytes must not be refused as "retry later"
  // forever because the quota is smaller than it.
  bool TryReserve(int64_t bytes, int64_t held = 0);
  // Takes `bytes` off the count; `freed` more were freed that were never counted.
  void Release(int64_t bytes, int64_t freed);

  RecordProcessor& processor_;
  const int64_t inflight_limit_;
  std::atomic<int64_t> inflight_{0};
  std::atomic<int64_t> released_since_trim_{0};
  // Each call's request and response on one arena.
  ArenaMessageAllocator<v1::TransformRequest, v1::TransformResponse> allocator_;
  std::atomic<bool> draining_{false};
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_TRANSFORM_SERVICE_H_
