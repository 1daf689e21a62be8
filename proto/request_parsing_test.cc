#include "proto/request_parsing.h"

#include <string>

#include "gmock/gmock.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

grpc::ByteBuffer BufferOf(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

absl::Status Deserialize(const std::string& bytes, v1::TransformRequest* request) {
  grpc::ByteBuffer buffer = BufferOf(bytes);
  EXPECT_TRUE(
      (grpc::SerializationTraits<v1::TransformRequest>::Deserialize(&buffer, request).ok()));
  return RequestParseStatus(*request);
}

TEST(RequestParsingTest, AValidRequestParses) {
  v1::TransformRequest sent;
  sent.set_pipeline("demo");
  sent.add_records()->set_record_id("r1");
  v1::TransformRequest got;
  EXPECT_TRUE(Deserialize(sent.SerializeAsString(), &got).ok());
  EXPECT_EQ(got.pipeline(), "demo");
  EXPECT_EQ(got.records(0).record_id(), "r1");
}

TEST(RequestParsingTest, GarbageIsInvalidArgumentNamingTheMessage) {
  v1::TransformRequest got;
  const absl::Status st = Deserialize(std::string("\x0f\xff\xff\xff\xff\x0f", 6), &got);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "request is not a valid lakehose.v1.TransformRequest: the bytes are not a protobuf "
            "encoding");
}

TEST(RequestParsingTest, InvalidUtf8NamesTheField) {
  v1::TransformRequest got;
  absl::Status st = Deserialize(std::string("\x0a\x02\xc3\x28", 4), &got);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr(": pipeline is not valid UTF-8"));
  // records[1].record_id: two records, the second bad.
  st = Deserialize(std::string("\x12\x03\x0a\x01x\x12\x04\x0a\x02\xc3\x28", 11), &got);
  EXPECT_THAT(st.message(), HasSubstr(": records[1].record_id is not valid UTF-8"));
}

// A large malformed request is not copied for a diagnosis (that cost about three times its
// size outside gRPC's memory quota): the answer says why there is no detail.
TEST(RequestParsingTest, ALargeMalformedRequestIsNotDiagnosed) {
  v1::TransformRequest sent;
  sent.set_pipeline("demo");
  for (int i = 0; i < 20; ++i)
    sent.add_records()->set_data(std::string(64 * 1024, 'x'));  // 1.25 MiB in all
  sent.add_records()->set_record_id("ok");
  std::string bytes = sent.SerializeAsString();
  bytes += std::string("\x12\x04\x0a\x02\xc3\x28", 6);  // one more record, id not UTF-8
  v1::TransformRequest got;
  const absl::Status st = Deserialize(bytes, &got);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("requests over 1 MiB are not diagnosed further"));
  EXPECT_EQ(got.records_size(), 0);
}

TEST(RequestParsingTest, AClientCannotForgeTheMark) {
  // The mark's field number with a message of the client's choosing, in a request that
  // parses: the request is accepted and the field dropped.
  std::string bytes =
      "\x0a\x04"
      "demo";
  bytes += std::string(
      "\xfa\xff\xff\xff\x0f\x03"
      "bad",
      9);  // field 536870911, wire type 2
  v1::TransformRequest got;
  EXPECT_TRUE(Deserialize(bytes, &got).ok());
  EXPECT_EQ(got.pipeline(), "demo");
}

TEST(RequestParsingTest, AReusedMessageLosesAnEarlierMark) {
  v1::TransformRequest got;
  EXPECT_FALSE(Deserialize("\xff", &got).ok());
  v1::TransformRequest sent;
  sent.set_pipeline("demo");
  EXPECT_TRUE(Deserialize(sent.SerializeAsString(), &got).ok());
}

}  // namespace
}  // namespace lakehose
