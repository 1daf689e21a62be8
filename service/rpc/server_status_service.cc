#include "service/rpc/server_status_service.h"

#include <algorithm>

#include "proto/grpc_status.h"
#include "proto/request_parsing.h"
#include "service/rpc/rpc_metrics.h"

namespace lakehose {

std::string CleanStatusError(std::string_view error) {
  size_t n = std::min(error.size(), kMaxStatusErrorBytes);
  // Back off to a character boundary: never answer half a UTF-8 sequence (proto3 strings
  // must be valid UTF-8).
  if (n < error.size())
    while (n > 0 && (static_cast<unsigned char>(error[n]) & 0xC0) == 0x80) --n;
  std::string out(error.substr(0, n));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

grpc::ServerUnaryReactor* ServerStatusService::GetServerStatus(
    grpc::CallbackServerContext* context, const v1::GetServerStatusRequest* request,
    v1::GetServerStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  RpcTimer timer(metrics_, kRpcGetServerStatus);
  *response = read_();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace lakehose
