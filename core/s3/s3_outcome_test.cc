#include "core/s3/s3_outcome.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(S3ClassifyTest, ThrottlingIsCountedApart) {
  EXPECT_EQ(ClassifyS3Error(503, "SlowDown"), S3Outcome::kThrottled);
  EXPECT_EQ(ClassifyS3Error(429, ""), S3Outcome::kThrottled);
  EXPECT_EQ(ClassifyS3Error(400, "Throttling"), S3Outcome::kThrottled);
  EXPECT_EQ(ClassifyS3Error(400, "RequestLimitExceeded"), S3Outcome::kThrottled);
  EXPECT_EQ(ClassifyS3Error(412, "SlowDown"), S3Outcome::kThrottled);  // the code wins
}

TEST(S3ClassifyTest, TransientServerErrorsAreRetryable) {
  EXPECT_EQ(ClassifyS3Error(500, "InternalError"), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(503, "ServiceUnavailable"), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(503, ""), S3Outcome::kServerError);  // HEAD: no body
  EXPECT_EQ(ClassifyS3Error(502, ""), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(504, ""), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(599, "Whatever"), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(400, "RequestTimeout"), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(408, ""), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(409, "ConditionalRequestConflict"), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(200, "InternalError"), S3Outcome::kServerError);
  EXPECT_EQ(ClassifyS3Error(200, "SomethingNew"), S3Outcome::kServerError);
}

TEST(S3ClassifyTest, ClientAndConfigurationErrorsArePermanent) {
  EXPECT_EQ(ClassifyS3Error(400, "InvalidArgument"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(400, "AuthorizationHeaderMalformed"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(403, "AccessDenied"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(403, "SignatureDoesNotMatch"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(403, ""), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(404, "NoSuchBucket"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(404, "NoSuchUpload"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(412, "PreconditionFailed"), S3Outcome::kPreconditionFailed);
  EXPECT_EQ(ClassifyS3Error(412, ""), S3Outcome::kPreconditionFailed);
  EXPECT_EQ(ClassifyS3Error(301, "PermanentRedirect"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(501, "NotImplemented"), S3Outcome::kClientError);
  EXPECT_EQ(ClassifyS3Error(0, ""), S3Outcome::kClientError);
  EXPECT_EQ(S3OutcomeName(S3Outcome::kThrottled), "throttled");
}

// The names are Prometheus label values that dashboards, alerts and the black-box tests
// match byte for byte.
TEST(S3VocabularyTest, LabelValuesNeverChange) {
  std::vector<std::string> ops;
  for (int i = 0; i < kS3OperationCount; ++i) {
    ops.emplace_back(S3OperationName(static_cast<S3Operation>(i)));
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"PutObject", "CreateMultipartUpload", "UploadPart",
                                           "CompleteMultipartUpload", "AbortMultipartUpload",
                                           "HeadObject", "GetObject"}));
  std::vector<std::string> outcomes;
  for (int i = 0; i < kS3OutcomeCount; ++i) {
    outcomes.emplace_back(S3OutcomeName(static_cast<S3Outcome>(i)));
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"ok", "throttled", "server_error", "client_error",
                                                "network_error", "precondition_failed"}));
  EXPECT_EQ(S3OperationName(S3Operation::kCompleteMultipartUpload), "CompleteMultipartUpload");
  EXPECT_EQ(S3OutcomeName(S3Outcome::kPreconditionFailed), "precondition_failed");
}

}  // namespace
}  // namespace lakehose
