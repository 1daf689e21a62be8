// lakehose::Client: a small C++ client of the lakehose gRPC API that other services link.
//
//   auto channel = grpc::CreateChannel("lakehose:50051", grpc::InsecureChannelCredentials());
//   lakehose::Client client(channel);
//   absl::StatusOr<lakehose::v1::TransformResponse> r = client.Transform(request);
//
// Thread-safe (gRPC stubs are); share one Client per channel.
#ifndef LAKEHOSE_CLIENT_CLIENT_H_
#define LAKEHOSE_CLIENT_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "lakehose/v1/lakehose.grpc.pb.h"

namespace lakehose {

struct ClientOptions {
  absl::Duration timeout = absl::Seconds(30);  // per call
};

class Client {
 public:
  explicit Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options = {});

  // Connects to "host:port" without TLS and applies lakehose's message size limits.
  static std::unique_ptr<Client> ConnectInsecure(const std::string& target, ClientOptions options = {});

  // Transform: a verdict per record, in order. A non-OK status means the request as a
  // whole was refused (INVALID_ARGUMENT, UNAVAILABLE, DEADLINE_EXCEEDED, ...).
  absl::StatusOr<v1::TransformResponse> Transform(const v1::TransformRequest& request);

  // Ingest: as Transform, and the OK records are accepted for delivery once this returns
  // OK. RESOURCE_EXHAUSTED means nothing was accepted: retry later.
  absl::StatusOr<v1::IngestResponse> Ingest(const v1::IngestRequest& request);

  // Seals and stores every buffer of `pipeline` (all pipelines if empty).
  absl::StatusOr<v1::FlushResponse> Flush(const std::string& pipeline, absl::Duration timeout = absl::Minutes(5));

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
  absl::StatusOr<v1::ListDeadLettersResponse> ListDeadLetters(const v1::ListDeadLettersRequest& request);
  absl::StatusOr<v1::RedriveResponse> Redrive(const v1::RedriveRequest& request,
                                              absl::Duration timeout = absl::Minutes(10));
  absl::StatusOr<v1::PurgeResponse> Purge(const v1::PurgeRequest& request);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Transformer::Stub> transformer_;
  std::unique_ptr<v1::Ingestor::Stub> ingestor_;
  std::unique_ptr<v1::DeadLetters::Stub> dead_letters_;
  ClientOptions options_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CLIENT_CLIENT_H_
