#include "service/rpc/transform_service.h"

#include <malloc.h>

#include "core/base/strings.h"
#include "proto/grpc_status.h"
#include "proto/request_parsing.h"
#include "service/rpc/rpc_metrics.h"

namespace lakehose {
namespace {

// Heap handed back to the system once this much has been released since the last time
// and nothing is in flight: often enough to matter after a burst, rarely enough that
// malloc_trim's walk of the heap costs nothing measurable.
constexpr int64_t kTrimAfterReleasedBytes = 16 << 20;

grpc::Status QuotaExhausted(int64_t limit, std::string_view what) {
  return grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      StrCat("server memory quota for calls in flight is spent (server.limits.memory_quota_mb = ",
             limit >> 20, "): ", what, "; retry later, or read the answers of calls in flight"));
}

}  // namespace

// The call's reactor: gives the call's bytes back when gRPC is done with it (answer
// sent, call cancelled, or connection gone), just before the arena is freed.
class TransformService::Reactor final : public grpc::ServerUnaryReactor {
 public:
  explicit Reactor(TransformService* service) : service_(service) {}
  void Count(int64_t bytes) { bytes_ += bytes; }
  // The request's wire size, counted or not: gRPC buffered it either way.
  void SetRequestBytes(int64_t bytes) { request_bytes_ = bytes; }
  void OnDone() override {
    service_->Release(bytes_, request_bytes_);
    delete this;
  }

 private:
  TransformService* const service_;
  int64_t bytes_ = 0;
  int64_t request_bytes_ = 0;
};

bool TransformService::TryReserve(int64_t bytes, int64_t held) {
  if (inflight_limit_ <= 0) {
    inflight_.fetch_add(bytes, std::memory_order_relaxed);
    return true;
  }
  int64_t now = inflight_.load(std::memory_order_relaxed);
  do {
    if (now + bytes > inflight_limit_ && now > held) return false;
  } while (!inflight_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  return true;
}

void TransformService::Release(int64_t bytes, int64_t freed) {
  const int64_t left = inflight_.fetch_sub(bytes, std::memory_order_relaxed) - bytes;
  const int64_t released = released_since_trim_.fetch_add(bytes + freed) + bytes + freed;
  if (left == 0 && released >= kTrimAfterReleasedBytes &&
      released_since_trim_.exchange(0) >= kTrimAfterReleasedBytes)
    ::malloc_trim(0);
}

grpc::ServerUnaryReactor* TransformService::Transform(grpc::CallbackServerContext* context,
                                                      const v1::TransformRequest* request,
                                                      v1::TransformResponse* response) {
  auto* reactor = new Reactor(this);
  reactor->SetRequestBytes(static_cast<int64_t>(request->ByteSizeLong()));
  RpcTimer timer(processor_.metrics(), kRpcTransform);
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  timer.set_records(request->records_size());
  if (draining_.load()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
    return reactor;
  }
  const int64_t request_bytes = 2 * static_cast<int64_t>(request->ByteSizeLong());
  if (!TryReserve(request_bytes)) {
    reactor->Finish(QuotaExhausted(inflight_limit_, "request refused before any work"));
    return reactor;
  }
  reactor->Count(request_bytes);
  auto spec = processor_.Process(request->pipeline(), request->records(), request->ByteSizeLong(),
                                 response->mutable_records());
  if (spec.ok()) {
    const int64_t response_bytes = 2 * static_cast<int64_t>(response->ByteSizeLong());
    if (!TryReserve(response_bytes, /*held=*/request_bytes)) {
      response->Clear();
      reactor->Finish(QuotaExhausted(inflight_limit_, "the answer was dropped"));
      return reactor;
    }
    reactor->Count(response_bytes);
    CountAnswered(processor_.metrics().ForPipeline(**spec), kRpcTransform, request->records(),
                  response->records());
  }
  reactor->Finish(ToGrpcStatus(spec.status()));
  return reactor;
}

}  // namespace lakehose
