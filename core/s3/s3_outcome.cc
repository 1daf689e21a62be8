#include "core/s3/s3_outcome.h"

#include <initializer_list>

namespace lakehose {
namespace {

// Indexed by the enums; the one list of label values.
constexpr std::string_view kOperationNames[kS3OperationCount] = {"PutObject",
                                                                 "CreateMultipartUpload",
                                                                 "UploadPart",
                                                                 "CompleteMultipartUpload",
                                                                 "AbortMultipartUpload",
                                                                 "HeadObject",
                                                                 "GetObject"};
constexpr std::string_view kOutcomeNames[kS3OutcomeCount] = {
    "ok", "throttled", "server_error", "client_error", "network_error", "precondition_failed"};

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> set) {
  for (std::string_view x : set) {
    if (s == x) return true;
  }
  return false;
}

}  // namespace

std::string_view S3OperationName(S3Operation op) { return kOperationNames[static_cast<int>(op)]; }

std::string_view S3OutcomeName(S3Outcome outcome) {
  return kOutcomeNames[static_cast<int>(outcome)];
}

S3Outcome ClassifyS3Error(int http_status, std::string_view error_code) {
  if (IsOneOf(error_code, {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                           "TooManyRequestsException"}) ||
      http_status == 429) {
    return S3Outcome::kThrottled;
  }
  if (IsOneOf(error_code,
              {"InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException",
               "ConditionalRequestConflict", "OperationAborted"})) {
    return S3Outcome::kServerError;
  }
  if (http_status == 501) return S3Outcome::kClientError;  // NotImplemented: a feature gap
  if (http_status >= 500 && http_status <= 599) return S3Outcome::kServerError;
  if (http_status == 408) return S3Outcome::kServerError;
  // An <Error> inside a 2xx (CompleteMultipartUpload): S3 documents it as retryable.
  if (http_status >= 200 && http_status <= 299) return S3Outcome::kServerError;
  if (http_status == 412) return S3Outcome::kPreconditionFailed;
  return S3Outcome::kClientError;
}

}  // namespace lakehose
