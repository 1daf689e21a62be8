#include "client/client.h"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"
#include "proto/grpc_status.h"

namespace lakehose {
namespace {

grpc::ChannelArguments Unlimited() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return args;
}

// Reads a small file (PEM, token); errors start with `label` and the path.
absl::StatusOr<std::string> ReadSmall(const std::string& label, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(label + " " + path + ": cannot read: " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError(label + " " + path + ": cannot read (I/O error)");
  std::string data = buf.str();
  if (data.size() > (1 << 20))
    return absl::InvalidArgumentError(label + " " + path + ": larger than 1 MiB");
  return data;
}

// grpc.health.v1.HealthCheckRequest{service} in protobuf wire format, and the status
// field of a HealthCheckResponse: two fields do not justify a generated copy of
// health.proto next to the one inside gRPC.
std::string EncodeHealthRequest(const std::string& service) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    if (!service.empty()) {
      coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
          1, google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
      coded.WriteVarint32(static_cast<uint32_t>(service.size()));
      coded.WriteString(service);
    }
  }
  return out;
}

absl::StatusOr<HealthStatus> DecodeHealthResponse(const std::string& bytes) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  uint32_t status = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == google::protobuf::internal::WireFormatLite::MakeTag(
                   1, google::protobuf::internal::WireFormatLite::WIRETYPE_VARINT)) {
      if (!in.ReadVarint32(&status)) return absl::DataLossError("malformed HealthCheckResponse");
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return absl::DataLossError("malformed HealthCheckResponse");
    }
  }
  if (status > 3) return HealthStatus::kUnknown;
  return static_cast<HealthStatus>(status);
}

}  // namespace

absl::StatusOr<ClientTlsOptions> LoadClientTlsFiles(const std::string& ca_file,
                                                    const std::string& cert_file,
                                                    const std::string& key_file) {
  ClientTlsOptions tls;
  if (!ca_file.empty()) {
    auto pem = ReadSmall("--tls-ca", ca_file);
    if (!pem.ok()) return pem.status();
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return absl::InvalidArgumentError("--tls-ca " + ca_file + ": holds no PEM certificate");
    tls.root_certs = *std::move(pem);
  }
  if (!cert_file.empty()) {
    auto pem = ReadSmall("--tls-cert", cert_file);
    if (!pem.ok()) return pem.status();
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return absl::InvalidArgumentError("--tls-cert " + cert_file + ": holds no PEM certificate");
    tls.cert_chain = *std::move(pem);
  }
  if (!key_file.empty()) {
    auto pem = ReadSmall("--tls-key", key_file);
    if (!pem.ok()) return pem.status();
    if (pem->find("PRIVATE KEY-----") == std::string::npos)
      return absl::InvalidArgumentError("--tls-key " + key_file + ": holds no PEM private key");
    tls.private_key = *std::move(pem);
  }
  return tls;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  auto text = ReadSmall("--token-file", path);
  if (!text.ok()) return text.status();
  const size_t begin = text->find_first_not_of(" \t\r\n");
  if (begin == std::string::npos)
    return absl::InvalidArgumentError("--token-file " + path + ": is empty");
  const size_t end = text->find_last_not_of(" \t\r\n") + 1;
  std::string token = text->substr(begin, end - begin);
  if (token.find_first_of(" \t\r\n") != std::string::npos)
    return absl::InvalidArgumentError("--token-file " + path +
                                      ": holds more than one word (want one token)");
  return token;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeTlsChannelCredentials(
    const ClientTlsOptions& tls) {
  if (tls.cert_chain.empty() != tls.private_key.empty())
    return absl::InvalidArgumentError(
        "a client certificate needs its private key and the other way round "
        "(--tls-cert and --tls-key go together)");
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.root_certs;
  ssl.pem_cert_chain = tls.cert_chain;
  ssl.pem_private_key = tls.private_key;
  return grpc::SslCredentials(ssl);
}

std::string_view HealthStatusName(HealthStatus status) {
  switch (status) {
    case HealthStatus::kServing:
      return "SERVING";
    case HealthStatus::kNotServing:
      return "NOT_SERVING";
    case HealthStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case HealthStatus::kUnknown:
      break;
  }
  return "UNKNOWN";
}

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : channel_(std::move(channel)),
      transformer_(v1::Transformer::NewStub(channel_)),
      ingestor_(v1::Ingestor::NewStub(channel_)),
      dead_letters_(v1::DeadLetters::NewStub(channel_)),
      server_status_(v1::ServerStatus::NewStub(channel_)),
      options_(options) {}

std::unique_ptr<Client> Client::ConnectInsecure(const std::string& target, ClientOptions options) {
  return std::make_unique<Client>(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), Unlimited()),
      std::move(options));
}

absl::StatusOr<std::unique_ptr<Client>> Client::ConnectTls(const std::string& target,
                                                           const ClientTlsOptions& tls,
                                                           ClientOptions options) {
  auto credentials = MakeTlsChannelCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args = Unlimited();
  if (!tls.server_name_override.empty()) args.SetSslTargetNameOverride(tls.server_name_override);
  return std::make_unique<Client>(grpc::CreateCustomChannel(target, *credentials, args),
                                  std::move(options));
}

void Client::Prepare(grpc::ClientContext* context, absl::Duration timeout) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!options_.bearer_token.empty())
    context->AddMetadata("authorization", "Bearer " + options_.bearer_token);
}

absl::StatusOr<v1::TransformResponse> Client::Transform(const v1::TransformRequest& request) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  v1::TransformResponse response;
  const grpc::Status s = transformer_->Transform(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::IngestResponse> Client::Ingest(const v1::IngestRequest& request) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  v1::IngestResponse response;
  const grpc::Status s = ingestor_->Ingest(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::FlushResponse> Client::Flush(const std::string& pipeline,
                                                absl::Duration timeout) {
  grpc::ClientContext context;
  Prepare(&context, timeout);
  v1::FlushRequest request;
  request.set_pipeline(pipeline);
  v1::FlushResponse response;
  const grpc::Status s = ingestor_->Flush(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

std::unique_ptr<Client::IngestStream> Client::OpenIngestStream(absl::Duration timeout) {
  auto stream = std::make_unique<IngestStream>();
  Prepare(&stream->context_, timeout);
  stream->stream_ = ingestor_->IngestStream(&stream->context_);
  return stream;
}

absl::StatusOr<v1::ListDeadLettersResponse> Client::ListDeadLetters(
    const v1::ListDeadLettersRequest& request) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  v1::ListDeadLettersResponse response;
  const grpc::Status s = dead_letters_->ListDeadLetters(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::RedriveResponse> Client::Redrive(const v1::RedriveRequest& request,
                                                    absl::Duration timeout) {
  grpc::ClientContext context;
  Prepare(&context, timeout);
  v1::RedriveResponse response;
  const grpc::Status s = dead_letters_->Redrive(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::PurgeResponse> Client::Purge(const v1::PurgeRequest& request) {
  grpc::ClientContext context;
  Prepare(&context, options_.timeout);
  v1::PurgeResponse response;
  const grpc::Status s = dead_letters_->Purge(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::GetServerStatusResponse> Client::GetServerStatus(absl::Duration timeout) {
  grpc::ClientContext context;
  Prepare(&context, timeout);
  v1::GetServerStatusResponse response;
  const grpc::Status s =
      server_status_->GetServerStatus(&context, v1::GetServerStatusRequest(), &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::Status Client::WaitForConnected(absl::Duration timeout) {
  if (channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout)))
    return absl::OkStatus();
  if (channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
    // A call that does not wait for readiness fails at once, with the reason gRPC keeps.
    auto probe = CheckHealth("", absl::Seconds(1));
    if (!probe.ok() && probe.status().code() == absl::StatusCode::kUnavailable)
      return probe.status();
    if (probe.ok()) return absl::OkStatus();  // connected meanwhile
  }
  return absl::DeadlineExceededError("no connection before the deadline (nothing answered)");
}

absl::StatusOr<HealthStatus> Client::CheckHealth(const std::string& service,
                                                 absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));  // health needs no token
  const std::string request_bytes = EncodeHealthRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(channel_);
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   done_cv.notify_all();
                 });
  {
    // The deadline ends the call; gRPC always runs the callback.
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return done; });
  }
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return HealthStatus::kServiceUnknown;
  if (!status.ok()) return FromGrpcStatus(status);
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::DataLossError("unreadable HealthCheckResponse");
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return DecodeHealthResponse(bytes);
}

bool Client::IngestStream::Write(const v1::IngestRequest& request) {
  return stream_->Write(request);
}
bool Client::IngestStream::Read(v1::IngestResponse* response) { return stream_->Read(response); }
bool Client::IngestStream::WritesDone() { return stream_->WritesDone(); }
absl::Status Client::IngestStream::Finish() { return FromGrpcStatus(stream_->Finish()); }

}  // namespace lakehose
