#include "service/rpc/transform_service.h"

#include "proto/grpc_status.h"
#include "service/rpc/rpc_metrics.h"

namespace lakehose {

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
