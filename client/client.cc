#include "client/client.h"

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace lakehose {

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : channel_(std::move(channel)),
      transformer_(v1::Transformer::NewStub(channel_)),
      ingestor_(v1::Ingestor::NewStub(channel_)),
      dead_letters_(v1::DeadLetters::NewStub(channel_)),
      options_(options) {}

std::unique_ptr<Client> Client::ConnectInsecure(const std::string& target, ClientOptions options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return std::make_unique<Client>(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args), options);
}

namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace

absl::StatusOr<v1::TransformResponse> Client::Transform(const v1::TransformRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  v1::TransformResponse response;
  const grpc::Status s = transformer_->Transform(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::IngestResponse> Client::Ingest(const v1::IngestRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  v1::IngestResponse response;
  const grpc::Status s = ingestor_->Ingest(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::FlushResponse> Client::Flush(const std::string& pipeline, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::FlushRequest request;
  request.set_pipeline(pipeline);
  v1::FlushResponse response;
  const grpc::Status s = ingestor_->Flush(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

std::unique_ptr<Client::IngestStream> Client::OpenIngestStream(absl::Duration timeout) {
  auto stream = std::make_unique<IngestStream>();
  stream->context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  stream->stream_ = ingestor_->IngestStream(&stream->context_);
  return stream;
}

absl::StatusOr<v1::ListDeadLettersResponse> Client::ListDeadLetters(const v1::ListDeadLettersRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  v1::ListDeadLettersResponse response;
  const grpc::Status s = dead_letters_->ListDeadLetters(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::RedriveResponse> Client::Redrive(const v1::RedriveRequest& request, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::RedriveResponse response;
  const grpc::Status s = dead_letters_->Redrive(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::PurgeResponse> Client::Purge(const v1::PurgeRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  v1::PurgeResponse response;
  const grpc::Status s = dead_letters_->Purge(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

bool Client::IngestStream::Write(const v1::IngestRequest& request) { return stream_->Write(request); }
bool Client::IngestStream::Read(v1::IngestResponse* response) { return stream_->Read(response); }
bool Client::IngestStream::WritesDone() { return stream_->WritesDone(); }
absl::Status Client::IngestStream::Finish() { return FromGrpc(stream_->Finish()); }

}  // namespace lakehose
