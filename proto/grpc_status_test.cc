#include "proto/grpc_status.h"

#include <iterator>
#include <string>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

struct CodePair {
  absl::StatusCode absl_code;
  grpc::StatusCode grpc_code;
};

// Every canonical code, spelled out on both sides rather than derived by a cast.
constexpr CodePair kCodes[] = {
    {absl::StatusCode::kOk, grpc::StatusCode::OK},
    {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
    {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
    {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
    {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
    {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
    {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
    {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
    {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
    {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
    {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
    {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
    {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
    {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
    {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
    {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
    {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
};

TEST(GrpcStatusTest, TableHasEveryCanonicalCode) {
  // OK through UNAUTHENTICATED: 17 codes, each once.
  ASSERT_EQ(std::size(kCodes), 17u);
  for (size_t i = 0; i < std::size(kCodes); ++i)
    EXPECT_EQ(static_cast<size_t>(kCodes[i].grpc_code), i);
}

TEST(GrpcStatusTest, ToGrpcKeepsEveryCodeAndItsMessage) {
  for (const CodePair& c : kCodes) {
    if (c.absl_code == absl::StatusCode::kOk) continue;
    const std::string message = "refused: " + absl::StatusCodeToString(c.absl_code);
    const grpc::Status g = ToGrpcStatus(absl::Status(c.absl_code, message));
    EXPECT_EQ(g.error_code(), c.grpc_code) << message;
    EXPECT_EQ(g.error_message(), message);
    EXPECT_FALSE(g.ok());
  }
}

TEST(GrpcStatusTest, FromGrpcKeepsEveryCodeAndItsMessage) {
  for (const CodePair& c : kCodes) {
    if (c.grpc_code == grpc::StatusCode::OK) continue;
    const std::string message = "refused: " + absl::StatusCodeToString(c.absl_code);
    const absl::Status a = FromGrpcStatus(grpc::Status(c.grpc_code, message));
    EXPECT_EQ(a.code(), c.absl_code) << message;
    EXPECT_EQ(a.message(), message);
  }
}

TEST(GrpcStatusTest, RoundTripsBothWays) {
  for (const CodePair& c : kCodes) {
    const absl::Status a(c.absl_code, "x");
    EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(a)), a);
    const grpc::Status g = ToGrpcStatus(FromGrpcStatus(grpc::Status(c.grpc_code, "y")));
    EXPECT_EQ(g.error_code(), c.grpc_code);
  }
}

TEST(GrpcStatusTest, OkHasNoMessageEitherWay) {
  const grpc::Status g = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(g.ok());
  EXPECT_EQ(g.error_message(), "");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  // absl keeps no message on OK, so one sent with an OK grpc::Status is dropped.
  const absl::Status a = FromGrpcStatus(grpc::Status(grpc::StatusCode::OK, "ignored"));
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.message(), "");
}

TEST(GrpcStatusTest, MessagesAreCopiedByteForByte) {
  const std::string messages[] = {
      "",
      "unknown pipeline \"orders\" (configured: a, b)",
      "records[3] (record_id \"r\xc3\xa9\") is 2000000 bytes",
      std::string("nul\0inside", 10),
      std::string(64 * 1024, 'm'),
  };
  for (const std::string& m : messages) {
    const grpc::Status g = ToGrpcStatus(absl::InvalidArgumentError(m));
    EXPECT_EQ(g.error_message(), m);
    const absl::Status a = FromGrpcStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, m));
    EXPECT_EQ(a.message(), m);
  }
}

// A RESOURCE_EXHAUSTED refusal carries its code and message (which says when to retry),
// and nothing more: the retry delay is trailing metadata set by the service, and an
// absl payload (the delivery engine marks buffer-budget refusals with one) stays in the
// process.
TEST(GrpcStatusTest, CarriesNoPayloadsOrDetails) {
  absl::Status refused = absl::ResourceExhaustedError("buffer budget spent; retry in 1 s");
  refused.SetPayload("lakehose.test/marker", absl::Cord("server.buffer_budget_mb"));
  const grpc::Status g = ToGrpcStatus(refused);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(g.error_message(), "buffer budget spent; retry in 1 s");
  EXPECT_EQ(g.error_details(), "");
  EXPECT_FALSE(FromGrpcStatus(g).GetPayload("lakehose.test/marker").has_value());

  const absl::Status a = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED, "busy; retry in 1 s", "serialized-rpc-status"));
  EXPECT_EQ(a.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(a.message(), "busy; retry in 1 s");
  int payloads = 0;
  a.ForEachPayload([&](auto /*type_url*/, const absl::Cord&) { ++payloads; });
  EXPECT_EQ(payloads, 0);
}

}  // namespace
}  // namespace lakehose
