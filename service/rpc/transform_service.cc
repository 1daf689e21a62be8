#include "service/rpc/transform_service.h"

#include "core/base/strings.h"
#include "service/rpc/rpc_metrics.h"

namespace lakehose {

absl::Status FromGrpcStatus(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  const std::string_view msg = StatusMessage(s);
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(msg));
}

grpc::ServerUnaryReactor* TransformService::Transform(grpc::CallbackServerContext* context,
                                                      const v1::TransformRequest* request,
                                                      v1::TransformResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  RpcTimer timer(processor_.metrics(), kRpcTransform);
  timer.set_records(request->records_size());
  if (draining_.load()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
    return reactor;
  }
  auto spec = processor_.Process(request->pipeline(), request->records(), request->ByteSizeLong(),
                                 response->mutable_records());
  if (spec.ok())
    CountAnswered(processor_.metrics().ForPipeline(**spec), kRpcTransform, request->records(),
                  response->records());
  reactor->Finish(ToGrpcStatus(spec.status()));
  return reactor;
}

}  // namespace lakehose
