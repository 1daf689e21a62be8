#include "client/client.h"

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace lakehose {

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : channel_(std::move(channel)),
      transformer_(v1::Transformer::NewStub(channel_)),
      options_(options) {}

std::unique_ptr<Client> Client::ConnectInsecure(const std::string& target, ClientOptions options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return std::make_unique<Client>(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args), options);
}

absl::StatusOr<v1::TransformResponse> Client::Transform(const v1::TransformRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  v1::TransformResponse response;
  const grpc::Status s = transformer_->Transform(&context, request, &response);
  if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  return response;
}

}  // namespace lakehose
