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

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Transformer::Stub> transformer_;
  ClientOptions options_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CLIENT_CLIENT_H_
