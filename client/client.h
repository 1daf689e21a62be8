// lakehose::Client: a small C++ client of the lakehose gRPC API that other services link.
//
//   auto channel = grpc::CreateChannel("lakehose:50051", grpc::InsecureChannelCredentials());
//   lakehose::Client client(channel);
//   absl::StatusOr<lakehose::v1::TransformResponse> r = client.Transform(request);
//
// Against a server with TLS and a bearer token (README "Security"):
//
//   ASSIGN_OR_RETURN(ClientTlsOptions tls, LoadClientTlsFiles("ca.pem", "", ""));
//   ClientOptions options;
//   ASSIGN_OR_RETURN(options.bearer_token, ReadTokenFile("/run/secrets/lakehose-token"));
//   ASSIGN_OR_RETURN(auto client, Client::ConnectTls("lakehose:50051", tls, options));
//
// Thread-safe (gRPC stubs are); share one Client per channel.
#ifndef LAKEHOSE_CLIENT_CLIENT_H_
#define LAKEHOSE_CLIENT_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "lakehose/v1/lakehose.grpc.pb.h"

namespace lakehose {

struct ClientOptions {
  absl::Duration timeout = absl::Seconds(30);  // per call
  // Sent as the metadata "authorization: Bearer <token>" on every call (also over
  // plaintext channels, where gRPC's call credentials would refuse to). Empty = none.
  std::string bearer_token;
};

// TLS towards the server: PEM text, not file names (LoadClientTlsFiles reads files).
struct ClientTlsOptions {
  std::string root_certs;   // CAs that sign the server's certificate; empty = the system's
  std::string cert_chain;   // mutual TLS: this client's certificate chain, with
  std::string private_key;  // its private key (both or neither)
  // The name the server's certificate must carry when it is not the target's host
  // (e.g. a health check of 127.0.0.1 against a certificate for lakehose.example).
  std::string server_name_override;
};

// Reads the PEM files of ClientTlsOptions (an empty name leaves its field empty). Errors
// name the flag-like field and the file: "--tls-ca ca.pem: cannot read: ...".
absl::StatusOr<ClientTlsOptions> LoadClientTlsFiles(const std::string& ca_file,
                                                    const std::string& cert_file,
                                                    const std::string& key_file);

// The token in a token file (surrounding white space, e.g. the final newline, removed).
// An empty or multi-line file is an error naming the file, never echoing its content.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Channel credentials for `tls`; INVALID_ARGUMENT if only one of cert_chain and
// private_key is set.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeTlsChannelCredentials(
    const ClientTlsOptions& tls);

// grpc.health.v1 serving status, as HealthCheckResponse.ServingStatus.
enum class HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };
std::string_view HealthStatusName(HealthStatus status);  // "SERVING", ...

class Client {
 public:
  explicit Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options = {});

  // Connects to "host:port" without TLS and applies lakehose's message size limits.
  static std::unique_ptr<Client> ConnectInsecure(const std::string& target,
                                                 ClientOptions options = {});
  // The same over TLS (mutual TLS when `tls` has a client certificate). Errors as
  // MakeTlsChannelCredentials; the connection itself is made on the first call.
  static absl::StatusOr<std::unique_ptr<Client>> ConnectTls(const std::string& target,
                                                            const ClientTlsOptions& tls,
                                                            ClientOptions options = {});

  // Waits up to `timeout` for the channel to connect (as calls that wait for readiness
  // do; a server still starting up is waited for). OK once connected; otherwise
  // UNAVAILABLE with gRPC's last reason when the connection attempt failed ("Connection
  // refused", a TLS handshake failure), else DEADLINE_EXCEEDED (no answer, e.g. a
  // firewall dropping packets).
  absl::Status WaitForConnected(absl::Duration timeout);

  // grpc.health.v1.Health/Check of `service` ("" = the server as a whole). Health needs
  // no token. A service the server does not know is kServiceUnknown; a server that
  // cannot be reached is UNAVAILABLE or DEADLINE_EXCEEDED.
  absl::StatusOr<HealthStatus> CheckHealth(const std::string& service,
                                           absl::Duration timeout = absl::Seconds(5));

  // Transform: a verdict per record, in order. A non-OK status means the request as a
  // whole was refused (INVALID_ARGUMENT, UNAVAILABLE, DEADLINE_EXCEEDED, ...).
  absl::StatusOr<v1::TransformResponse> Transform(const v1::TransformRequest& request);

  // Ingest: as Transform, and the OK records are accepted for delivery once this returns
  // OK. RESOURCE_EXHAUSTED means nothing was accepted: retry later.
  absl::StatusOr<v1::IngestResponse> Ingest(const v1::IngestRequest& request);

  // Seals and stores every buffer of `pipeline` (all pipelines if empty).
  absl::StatusOr<v1::FlushResponse> Flush(const std::string& pipeline,
                                          absl::Duration timeout = absl::Minutes(5));

  // A bidirectional IngestStream: one response per request, in order. Not thread-safe
  // (one writer and reader at a time); the stream's deadline is `timeout`.
  class IngestStream {
   public:
    bool Write(const v1::IngestRequest& request);
    bool Read(v1::IngestResponse* response);
    // No more requests (call once, after the last Write).
    bool WritesDone();
    // After the last Read returned false: the stream's final status.
    absl::Status Finish();

   private:
    friend class Client;
    grpc::ClientContext context_;
    std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>> stream_;
  };
  std::unique_ptr<IngestStream> OpenIngestStream(absl::Duration timeout = absl::Hours(1));

  // Dead-letter queue (service DeadLetters). ListDeadLetters returns one page (pass the
  // response's next_page_token as the next request's page_token). Redrive stores and
  // re-transforms now, so it can take long: its own timeout. Purge is explicit only
  // (ids, or a pipeline with confirm); INVALID_ARGUMENT otherwise.
  absl::StatusOr<v1::ListDeadLettersResponse> ListDeadLetters(
      const v1::ListDeadLettersRequest& request);
  absl::StatusOr<v1::RedriveResponse> Redrive(const v1::RedriveRequest& request,
                                              absl::Duration timeout = absl::Minutes(10));
  absl::StatusOr<v1::PurgeResponse> Purge(const v1::PurgeRequest& request);

  // The detail behind health (service ServerStatus): every S3 destination's state and the
  // dead-letter backlog. Needs the token when the server has one (unlike CheckHealth).
  absl::StatusOr<v1::GetServerStatusResponse> GetServerStatus(
      absl::Duration timeout = absl::Seconds(5));

 private:
  // Sets the deadline and adds the bearer token.
  void Prepare(grpc::ClientContext* context, absl::Duration timeout) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Transformer::Stub> transformer_;
  std::unique_ptr<v1::Ingestor::Stub> ingestor_;
  std::unique_ptr<v1::DeadLetters::Stub> dead_letters_;
  std::unique_ptr<v1::ServerStatus::Stub> server_status_;
  ClientOptions options_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CLIENT_CLIENT_H_
