#include "proto/grpc_status.h"

#include <string>

namespace lakehose {
namespace {

// The casts below rely on gRPC and absl numbering the canonical codes alike.
template <absl::StatusCode kAbsl, grpc::StatusCode kGrpc>
constexpr bool kSameCode = static_cast<int>(kAbsl) == static_cast<int>(kGrpc);
static_assert(kSameCode<absl::StatusCode::kOk, grpc::StatusCode::OK>);
static_assert(kSameCode<absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED>);
static_assert(kSameCode<absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN>);
static_assert(kSameCode<absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT>);
static_assert(kSameCode<absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED>);
static_assert(kSameCode<absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND>);
static_assert(kSameCode<absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS>);
static_assert(kSameCode<absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED>);
static_assert(
    kSameCode<absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED>);
static_assert(
    kSameCode<absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION>);
static_assert(kSameCode<absl::StatusCode::kAborted, grpc::StatusCode::ABORTED>);
static_assert(kSameCode<absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE>);
static_assert(kSameCode<absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED>);
static_assert(kSameCode<absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL>);
static_assert(kSameCode<absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE>);
static_assert(kSameCode<absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS>);
static_assert(kSameCode<absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED>);

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace lakehose
