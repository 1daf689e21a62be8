#include "service/s3/s3_sink.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace lakehose {

absl::Status ToSinkStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:  // only PutIfAbsent asks for it
      return s;
    // Transient: try again later.
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kCancelled:
      return absl::Status(absl::StatusCode::kUnavailable, s.message());
    case absl::StatusCode::kUnauthenticated:
      return absl::Status(absl::StatusCode::kPermissionDenied, s.message());
    default:  // kUnimplemented, kOutOfRange: the endpoint or setup cannot do this
      return absl::Status(absl::StatusCode::kFailedPrecondition, s.message());
  }
}

absl::Status S3Sink::Put(const std::string& key, std::string_view body, const ObjectMeta& meta) {
  return Upload(key, body, meta, meta.if_none_match);
}

absl::Status S3Sink::PutIfAbsent(const std::string& key, std::string_view body,
                                 const ObjectMeta& meta) {
  return Upload(key, body, meta, /*if_none_match=*/true);
}

absl::Status S3Sink::Upload(const std::string& key, std::string_view body, const ObjectMeta& meta,
                            bool if_none_match) {
  const S3PutOptions put{.content_type = meta.content_type,
                         .content_encoding = meta.content_encoding,
                         .if_none_match = if_none_match,
                         .deadline = meta.deadline,
                         .failures_before = meta.failures_before,
                         .max_failures = meta.max_failures,
                         .failures_spent = meta.failures_spent};
  if (static_cast<int64_t>(body.size()) <= part_bytes_) {
    return ToSinkStatus(client_->PutObject(key, body, put));
  }
  return ToSinkStatus(client_->PutObjectMultipart(key, body, part_bytes_, put));
}

absl::StatusOr<std::string> S3Sink::Get(const std::string& key) {
  absl::StatusOr<std::string> body =
      client_->GetObject(key, absl::InfiniteFuture(), kMaxObjectGetBytes);
  if (!body.ok()) return ToSinkStatus(body.status());
  return body;
}

absl::StatusOr<std::unique_ptr<ObjectSink>> MakeS3Sink(const DestinationSpec& spec,
                                                       S3ClientDeps deps) {
  if (spec.kind != DestinationKind::kS3) {
    return absl::InvalidArgumentError("MakeS3Sink: the destination is not of kind s3");
  }
  if (deps.http == nullptr || deps.credentials == nullptr) {
    return absl::InvalidArgumentError(
        "MakeS3Sink: an HttpClient and a CredentialsProvider are required");
  }
  if (!(spec.part_size_mb >= 5 && spec.part_size_mb <= 5120)) {
    return absl::InvalidArgumentError(StrCat(
        "s3: part_size_mb must be in [5, 5120] (S3's part limits), not ", spec.part_size_mb));
  }
  if (!deps.getenv) deps.getenv = ProcessGetenv();
  ASSIGN_OR_RETURN(S3ClientOptions options, S3ClientOptionsFromSpec(spec, deps.getenv));
  const auto part_bytes = static_cast<int64_t>(spec.part_size_mb * (1 << 20));
  auto client = std::make_unique<S3Client>(std::move(options), std::move(deps));
  return std::make_unique<S3Sink>(std::move(client), part_bytes);
}

}  // namespace lakehose
