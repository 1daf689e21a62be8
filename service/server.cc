#include "service/server.h"

#include <algorithm>
#include <cstdint>

#include "core/strings.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace lakehose {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config, const std::string& listen,
                                                      const Clock& clock) {
  std::unique_ptr<Server> s(new Server);
  s->transform_ = std::make_unique<TransformService>(config, clock);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &s->port_);
  // Twice the documented limit: TransformService answers INVALID_ARGUMENT with a reason
  // up to here, gRPC answers RESOURCE_EXHAUSTED past it.
  const int64_t hard_limit = std::min<int64_t>(2 * config.server.limits.max_message_bytes, INT32_MAX);
  builder.SetMaxReceiveMessageSize(static_cast<int>(hard_limit));
  // Responses carry the transformed documents, which can be larger than the input.
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(s->transform_.get());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0)
    return absl::UnavailableError(StrCat("cannot listen on ", listen, " (address in use or invalid?)"));
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  return s;
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  transform_->StartDraining();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

}  // namespace lakehose
