// DynamoDbClient: the DynamoDB API calls of `lakehose backfill --scan` (issue 16),
// DescribeTable and Scan, over the service's HttpClient, signed with SigV4 (service
// "dynamodb") with credentials from a CredentialsProvider. The protocol (bodies, answers,
// error classes) is core/backfill/scan_protocol.h.
//
//   DynamoDbClient ddb({.region = "eu-west-1", .max_read_units_per_second = 200},
//                      {.http = http, .credentials = creds});
//   ASSIGN_OR_RETURN(backfill::TableDescription t, ddb.DescribeTable("orders"));
//   backfill::ScanRequest req{.table = "orders", .segment = s, .total_segments = n};
//   do {
//     ASSIGN_OR_RETURN(backfill::ScanPage page, ddb.Scan(req));
//     ... page.items ...
//     req.exclusive_start_key = page.last_evaluated_key;
//   } while (!req.exclusive_start_key.empty());
//
// Each call retries, with capped exponential backoff and full jitter (core/base/backoff.h),
// what may succeed later: throttling (ProvisionedThroughputExceededException,
// ThrottlingException, RequestLimitExceeded), server errors (5xx), no answer (connection
// refused or broken, timeout), and answers whose x-amz-crc32 does not match their body;
// every retry is counted in Stats(). Both calls only read, so a repeat is harmless.
// Errors name the operation, the table and DynamoDB's error:
//   PERMISSION_DENIED  refused credentials or policy, saying how the request was signed
//                      (access key id prefix, credentials source, service, region;
//                      never the secret);
//   NOT_FOUND          ResourceNotFoundException (no such table in that region);
//   INVALID_ARGUMENT   any other client error (ValidationException: a damaged resume
//                      key), or an answer that is not one;
//   RESOURCE_EXHAUSTED still throttled after max_attempts;
//   UNAVAILABLE / DEADLINE_EXCEEDED  still failing after max_attempts;
//   others as the credentials provider or HTTP client gave them.
//
// Read rate: with max_read_units_per_second > 0, every Scan first waits on a token bucket
// (core/backfill/rate_limiter.h) shared by all threads using this client, and is charged
// what its answer says it consumed, so that all segments together read no faster than that.
//
// Thread-safe: segments scan from several threads through one client. Ownership: shares
// the HttpClient and CredentialsProvider; borrows the Clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_BACKFILL_DYNAMODB_CLIENT_H_
#define LAKEHOSE_SERVICE_BACKFILL_DYNAMODB_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/backfill/rate_limiter.h"
#include "core/backfill/scan_protocol.h"
#include "core/base/backoff.h"
#include "core/s3/endpoint.h"
#include "service/platform/clock.h"
#include "service/s3/credentials.h"
#include "service/s3/http_client.h"
#include "service/s3/s3_client.h"

namespace lakehose {

struct DynamoDbClientOptions {
  // The table's region, also the SigV4 signing region. Required.
  std::string region = {};
  // "scheme://host[:port][/path]"; default (empty) https://dynamodb.<region>.amazonaws.com
  // (amazonaws.com.cn in the cn- regions). A test points it at http://127.0.0.1:<port>.
  std::string endpoint = {};
  // One HTTP exchange's deadline. Default 30 s (a 1 MB page takes well under a second).
  int64_t request_timeout_ms = 30000;
  // Tries of one call, the first included, before a retryable error is returned. Default
  // 10, as the AWS SDKs use for DynamoDB.
  int max_attempts = 10;
  // Waits between tries. Default 50 ms doubling to 20 s (the SDKs' DynamoDB base is 25-50 ms).
  BackoffPolicy backoff = {.base_delay_ms = 50, .max_delay_ms = 20000};
  // Read capacity units per second all Scans of this client may consume together; 0 (the
  // default): no limit.
  double max_read_units_per_second = 0;
  // The token bucket's depth; 0 (the default): one second's worth of the rate.
  double read_burst_units = 0;

  // INVALID_ARGUMENT for a missing or malformed region, an unusable endpoint, or a
  // non-positive timeout or attempt count.
  absl::Status Validate() const;
};

// The options of `--table T [--region R] [--endpoint E]`: the region given, else
// AWS_REGION, else AWS_DEFAULT_REGION (INVALID_ARGUMENT when none is set); the endpoint
// given, else AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL (the AWS SDKs' variables),
// else AWS's. The other fields keep their defaults. Validated.
absl::StatusOr<DynamoDbClientOptions> DynamoDbClientOptionsFor(std::string_view region,
                                                               std::string_view endpoint,
                                                               const GetenvFunction& getenv);

struct DynamoDbClientDeps {
  std::shared_ptr<HttpClient> http = {};                  // required
  std::shared_ptr<CredentialsProvider> credentials = {};  // required
  const Clock* clock = nullptr;       // signing time and the rate limit; default RealClock::Get()
  SleepFunction sleep = {};           // backoff and rate waits; default: the thread sleeps
  UniformRandomFunction random = {};  // backoff jitter in [0, 1); default: a thread-local PRNG
};

// Counters since the client was made (progress lines, the backfill summary).
struct DynamoDbClientStats {
  int64_t requests = 0;           // HTTP exchanges sent
  int64_t throttled_retries = 0;  // retries after a throttling answer
  int64_t transient_retries = 0;  // retries after a 5xx, no answer, or a bad checksum
  double consumed_units = 0;      // read capacity units Scan answers reported
  int64_t rate_waits = 0;         // times a Scan waited for the rate limit
  int64_t rate_wait_ms = 0;       // how long, in total
};

class DynamoDbClient {
 public:
  // The options are validated by the first call (a bad one fails every call with
  // Validate()'s error).
  DynamoDbClient(DynamoDbClientOptions options, DynamoDbClientDeps deps);
  DynamoDbClient(const DynamoDbClient&) = delete;
  DynamoDbClient& operator=(const DynamoDbClient&) = delete;

  // The table's key schema, ARN, status and size estimates. Errors as at the top.
  absl::StatusOr<backfill::TableDescription> DescribeTable(std::string_view table);

  // One page of one segment. Errors as at the top; INVALID_ARGUMENT, before anything is
  // sent, for a request ScanRequestBody refuses.
  absl::StatusOr<backfill::ScanPage> Scan(const backfill::ScanRequest& request);

  DynamoDbClientStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Where requests go ("https://dynamodb.eu-west-1.amazonaws.com").
  std::string EndpointUrl() const;

 private:
  // Sends `body` as `target` (Scan, DescribeTable) with retries; the 200 answer's body.
  absl::StatusOr<std::string> Call(std::string_view target, std::string_view body,
                                   const std::string& what);
  // One signed exchange.
  absl::StatusOr<HttpResponse> SendOnce(std::string_view target, std::string_view body,
                                        const AwsCredentials& creds);
  // Waits until the rate limit lets a Scan go.
  void WaitForReadCapacity() ABSL_LOCKS_EXCLUDED(mu_);
  void Count(int64_t DynamoDbClientStats::*field, int64_t n = 1) ABSL_LOCKS_EXCLUDED(mu_);

  const DynamoDbClientOptions options_;
  DynamoDbClientDeps deps_;
  const absl::Status valid_;
  const absl::StatusOr<S3Endpoint> endpoint_;

  mutable absl::Mutex mu_;
  DynamoDbClientStats stats_ ABSL_GUARDED_BY(mu_);
  backfill::ReadRateLimiter limiter_ ABSL_GUARDED_BY(mu_);
  double last_page_units_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_BACKFILL_DYNAMODB_CLIENT_H_
