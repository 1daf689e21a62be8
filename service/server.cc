#include "service/server.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "core/delivery_format.h"
#include "core/strings.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "service/file_sink.h"
#include "service/log.h"
#include "service/s3/credentials.h"
#include "service/s3/s3_sink.h"

namespace lakehose {

absl::StatusOr<std::unique_ptr<ObjectSink>> MakeDestinationSink(const PipelineSpec& spec) {
  if (spec.destination.kind == DestinationKind::kFile) return std::make_unique<FileSink>(spec.destination.path);
  // One HTTP client and one credentials chain (cached, refreshed before expiry) serve
  // every S3 pipeline of the process.
  static std::shared_ptr<HttpClient> http = NewCurlHttpClient();
  static std::shared_ptr<CredentialsProvider> credentials =
      NewDefaultCredentialsChain(http, RealClock::Get(), ProcessGetenv());
  S3ClientDeps deps;
  deps.http = http;
  deps.credentials = credentials;
  auto sink = MakeS3Sink(spec.destination, std::move(deps));
  if (!sink.ok())
    return absl::Status(sink.status().code(), StrCat("pipeline ", spec.name, ": ", StatusMessage(sink.status())));
  return sink;
}

std::string ResolveWriterId(const ServerOptions& options) {
  if (!options.writer_id.empty()) return options.writer_id;
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "lakehose";
  return SanitizeWriterId(host);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config, const std::string& listen,
                                                      const Clock& clock, SinkFactory make_sink) {
  std::unique_ptr<Server> s(new Server);
  DeliveryEngine::Sinks sinks;
  for (const auto& p : config.pipelines) {
    auto sink = make_sink(*p);
    if (!sink.ok()) return sink.status();
    sinks[p->name] = *std::move(sink);
  }
  DeliveryEngine::Options engine_options;
  engine_options.writer_id = ResolveWriterId(config.server);
  s->processor_ = std::make_unique<RecordProcessor>(config, clock);
  s->engine_ = std::make_unique<DeliveryEngine>(config, std::move(sinks), clock, engine_options);
  s->transform_ = std::make_unique<TransformService>(*s->processor_);
  s->ingest_ = std::make_unique<IngestService>(*s->processor_, *s->engine_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &s->port_);
  // Twice the documented limit: RecordProcessor answers INVALID_ARGUMENT with a reason
  // up to here, gRPC answers RESOURCE_EXHAUSTED past it.
  const int64_t hard_limit = std::min<int64_t>(2 * config.server.limits.max_message_bytes, INT32_MAX);
  builder.SetMaxReceiveMessageSize(static_cast<int>(hard_limit));
  // Responses carry the transformed documents, which can be larger than the input.
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(s->transform_.get());
  builder.RegisterService(s->ingest_.get());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0)
    return absl::UnavailableError(StrCat("cannot listen on ", listen, " (address in use or invalid?)"));
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  return s;
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (!server_) {  // Start failed part-way: only the engine may be running
    if (engine_) engine_->Shutdown(absl::ZeroDuration());
    return;
  }
  const absl::Time deadline = absl::Now() + grace;
  server_->GetHealthCheckService()->SetServingStatus(false);
  transform_->StartDraining();
  ingest_->StartDraining();
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  engine_->Shutdown(std::max(deadline - absl::Now(), absl::ZeroDuration()));
  Log(LogLevel::kInfo, "delivery.stopped", {{"objects_stored", StrCat(engine_->Stats().objects_stored)}});
}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

}  // namespace lakehose
