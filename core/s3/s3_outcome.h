// The vocabulary of S3 requests that the S3 client, its observer and the metrics share:
// which operation an HTTP exchange belonged to (S3Operation), how it ended (S3Outcome),
// and the one place where a failed S3 answer is classified (ClassifyS3Error), as
// ClickHouse's S3 client and aws-c-s3 do at their edge.
//
//   switch (ClassifyS3Error(response.status, error.code)) {
//     case S3Outcome::kThrottled: ...  // retry, counted apart
//   }
//   metrics.s3_requests(S3Operation::kPutObject, S3Outcome::kOk).Increment();
//
// The names are the values of the operation and outcome labels of
// lakehose_s3_requests_total, lakehose_s3_retries_total and
// lakehose_s3_request_duration_seconds, which dashboards, alerts and the black-box tests
// match: renaming one is a breaking change.
//
// Pure; thread-safe (no state).
#ifndef LAKEHOSE_CORE_S3_S3_OUTCOME_H_
#define LAKEHOSE_CORE_S3_S3_OUTCOME_H_

#include <string_view>

namespace lakehose {

// The S3 operations lakehose calls. Names as in S3's API ("PutObject").
enum class S3Operation {
  kPutObject,
  kCreateMultipartUpload,
  kUploadPart,
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
  kHeadObject,
  kGetObject,  // last: the label values keep their order (and dashboards their series)
};
inline constexpr int kS3OperationCount = static_cast<int>(S3Operation::kGetObject) + 1;
std::string_view S3OperationName(S3Operation op);

// How one HTTP exchange with S3 ended, classified once: throttling apart from other
// server errors, 412 apart from other client errors. Names in snake_case ("server_error").
enum class S3Outcome {
  kOk,
  kThrottled,           // S3 asked us to slow down (503 SlowDown, 429): retry, counted apart
  kServerError,         // transient failure on S3's side: retry with backoff
  kClientError,         // the request or the configuration is wrong: retrying cannot help
  kNetworkError,        // no answer: refused, reset, timed out
  kPreconditionFailed,  // 412: an If-None-Match: * write found the key taken
};
inline constexpr int kS3OutcomeCount = static_cast<int>(S3Outcome::kPreconditionFailed) + 1;
std::string_view S3OutcomeName(S3Outcome outcome);

// Classifies a failed S3 answer from its HTTP status and <Error><Code> (empty when the
// body had none, e.g. HEAD) into kThrottled, kServerError, kClientError or
// kPreconditionFailed. The code wins where it is specific:
//  - kThrottled: SlowDown (any status), 429, Throttling/ThrottlingException/
//    RequestLimitExceeded/TooManyRequestsException;
//  - kServerError (retryable): InternalError, ServiceUnavailable, RequestTimeout (a 400),
//    ConditionalRequestConflict / OperationAborted (409, "retry" per S3's conditional
//    writes docs), 408, 500, 502, 503, 504 and other 5xx except 501, and a 2xx that
//    carried an <Error> (CompleteMultipartUpload) with an unknown code;
//  - kPreconditionFailed: any other 412;
//  - kClientError (permanent): everything else, notably 400, 403 (AccessDenied,
//    SignatureDoesNotMatch, ExpiredToken), 404 (NoSuchBucket, NoSuchUpload), 301, 501
//    NotImplemented.
S3Outcome ClassifyS3Error(int http_status, std::string_view error_code);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_S3_S3_OUTCOME_H_
