// S3Client: the few S3 operations lakehose needs (PutObject, multipart upload, HeadObject,
// GetObject), over HttpClient, signed with SigV4, retried with capped exponential backoff and full
// jitter.
//
//   auto options = S3ClientOptionsFromSpec(pipeline.destination, ProcessGetenv());
//   S3Client s3(*options, {.http = http, .credentials = creds});
//   absl::Status s = s3.PutObject("data/siteId=a b/x.jsonl.gz", body,
//                                 {.content_type = "application/x-ndjson",
//                                  .content_encoding = "gzip"});
//
// Requests:
//  - Addressing (core/s3/endpoint.h): virtual-hosted
//    (https://bucket.s3.region.amazonaws.com/key) by default; path-style
//    (endpoint/bucket/key) when force_path_style is set, when the endpoint's host is an IP
//    address or localhost, or when the bucket name cannot be a DNS label (upper case, '_',
//    or '.' over https, where the wildcard certificate would not match).
//  - Keys are used as given (decoded) and percent-encoded once, as S3 wants: Hive keys
//    with '=' and spaces work. Every request carries x-amz-content-sha256 with the real
//    payload hash and is signed (SigV4, service s3) at send time: every retry is signed
//    again with fresh credentials and time.
//  - Uploads carry Content-MD5; SSE-KMS and storage class as configured.
//
// Retries: one failure budget per Put (S3PutOptions::max_failures, default max_attempts
// failed exchanges over every step of a PutObject or multipart upload; a healthy upload
// spends none), and with a deadline (S3PutOptions::deadline) only those whose backoff wait
// ends by it; the first try always goes. The wait after the object's n-th failure is
// BackoffDelayMs(backoff, n - 1): one ladder with the delivery engine's re-queues (README,
// `destination.retry`). Retried: answers classified kServerError or
// kThrottled by ClassifyS3Error (core/s3/s3_outcome.h), transport UNAVAILABLE/DEADLINE_EXCEEDED,
// credentials UNAVAILABLE, and 2xx answers whose body is an error or unreadable
// (CompleteMultipartUpload). Never on 400/403/404 and the other permanent answers. The
// step functions called alone (UploadPart, ...) each get a budget of max_attempts.
//
// Breaker (S3ClientDeps::breaker, optional): consulted before every exchange; while the
// destination is down (circuit open) the operation fails at once with UNAVAILABLE
// "destination <bucket> is down (circuit open; next probe in N ms)", sending nothing.
//
// Errors (canonical codes): UNAVAILABLE when the failure budget is spent or the next retry
// would pass the deadline;
// PERMISSION_DENIED for 401/403; NOT_FOUND for 404 (no such bucket/upload/key); INVALID_ARGUMENT
// for other 400s; ALREADY_EXISTS for 412 (an If-None-Match: * put found the key taken);
// FAILED_PRECONDITION for a wrong region/redirect, 409 and other 4xx; UNIMPLEMENTED for 501;
// credentials errors as the provider returns them. Messages name the operation, s3://bucket/key,
// the HTTP status, S3's error code and request id; never credentials.
//
// Thread-safety: thread-safe; operations may run concurrently. Ownership: shares the
// HttpClient and CredentialsProvider; borrows the Clock (must outlive the client).
#ifndef LAKEHOSE_SERVICE_S3_S3_CLIENT_H_
#define LAKEHOSE_SERVICE_S3_S3_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/backoff.h"
#include "core/config/pipeline.h"
#include "core/delivery/destination_breaker.h"
#include "core/s3/endpoint.h"
#include "core/s3/s3_outcome.h"
#include "core/s3/s3_xml.h"
#include "service/platform/clock.h"
#include "service/s3/credentials.h"
#include "service/s3/http_client.h"

namespace lakehose {

// S3 limits on multipart uploads.
inline constexpr int64_t kS3MinPartBytes = int64_t{5} << 20;  // every part but the last
inline constexpr int64_t kS3MaxPartBytes = int64_t{5} << 30;
inline constexpr int kS3MaxParts = 10000;
// GetObject's default size limit: ObjectSink::Get's (kMaxObjectGetBytes).
inline constexpr size_t kS3MaxGetObjectBytes = size_t{256} << 20;

struct S3ClientOptions {
  std::string bucket;  // required
  std::string region;  // required (S3ClientOptionsFromSpec fills it from the environment)
  // "" = AWS (https://s3.<region>.amazonaws.com). Otherwise scheme://host[:port][/base]
  // of an S3-compatible server; no scheme means https.
  std::string endpoint;
  bool force_path_style = false;  // default virtual-hosted
  std::string storage_class;      // x-amz-storage-class when set (STANDARD_IA, ...)
  std::string kms_key_id;         // SSE-KMS with this key when set
  // Failed exchanges a Put may spend over all its steps (S3PutOptions::max_failures
  // overrides it), >= 1.
  int max_attempts = 10;
  BackoffPolicy backoff;               // default 100 ms doubling to 20 s
  int64_t request_timeout_ms = 60000;  // one HTTP exchange; 0 = none

  // INVALID_ARGUMENT naming the first bad field.
  absl::Status Validate() const;
};

// The options of a pipeline's s3 destination. Endpoint: the spec's, else
// AWS_ENDPOINT_URL_S3. Region: the spec's, else AWS_REGION, else AWS_DEFAULT_REGION, else
// "us-east-1" when a custom endpoint is set (INVALID_ARGUMENT otherwise). Validated.
absl::StatusOr<S3ClientOptions> S3ClientOptionsFromSpec(const DestinationSpec& spec,
                                                        const GetenvFunction& getenv);

// Waits `ms` milliseconds (tests record instead of waiting).
using SleepFunction = std::function<void(int64_t ms)>;
// A uniform random double in [0, 1) for backoff jitter; must be thread-safe.
using UniformRandomFunction = std::function<double()>;

// Told about every HTTP exchange: its operation, its outcome (core/s3/s3_outcome.h), how
// long it took, and whether it was a retry. Runs on the calling thread; must be
// thread-safe and must not block (the server counts metrics here).
using S3RequestObserver =
    std::function<void(S3Operation operation, S3Outcome outcome, double seconds, bool retry)>;

// A DestinationBreaker (core/delivery/destination_breaker.h) behind its own mutex, shared
// by every S3Client that writes to one destination (endpoint and bucket). Thread-safe.
class SharedBreaker {
 public:
  SharedBreaker(const DestinationBreakerOptions& options, DestinationBreaker::Uniform01 uniform01)
      : breaker_(options, std::move(uniform01)) {}

  BreakerAdmission Admit(int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // Records the outcome; a down-signal's `error` is kept as the last one.
  void Record(BreakerAdmission admitted, S3Outcome outcome, int64_t now_ms, std::string_view error)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether a request at `now_ms` would be refused without granting a probe (open before its
  // probe time, or half-open with the probe in flight).
  bool Refuses(int64_t now_ms) const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the destination is failing: not closed, or closed with a run of down-signals
  // and no success since (an outage it may not have opened for yet).
  bool Failing() const ABSL_LOCKS_EXCLUDED(mu_);

  struct Snapshot {
    BreakerState state = BreakerState::kClosed;
    int64_t next_probe_ms = 0;
    int64_t outage_ms = 0;
    int64_t total_outage_ms = 0;  // all outages so far, the current one included
    BreakerCounts counts;
    std::string last_error;  // the last down-signal's description
  };
  Snapshot Read(int64_t now_ms) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  DestinationBreaker breaker_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

// The server's breakers: one SharedBreaker per destination (endpoint and bucket), made on
// first use with `options` and a random source of its own seeded from std::random_device,
// and shared by every client (pipeline) writing there. Thread-safe.
class DestinationBreakers {
 public:
  explicit DestinationBreakers(DestinationBreakerOptions options = {}) : options_(options) {}
  std::shared_ptr<SharedBreaker> For(const S3ClientOptions& destination) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::shared_ptr<SharedBreaker>> All() const ABSL_LOCKS_EXCLUDED(mu_);
  // Every breaker with its destination's name (DestinationLabel), in order of creation
  // (metrics, health detail).
  struct Named {
    std::string name;
    std::shared_ptr<SharedBreaker> breaker;
  };
  std::vector<Named> AllNamed() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::string key;  // endpoint and bucket
    Named named;
  };
  const DestinationBreakerOptions options_;
  mutable absl::Mutex mu_;
  std::vector<Entry> breakers_ ABSL_GUARDED_BY(mu_);
};

// How a destination is named to operators (the `destination` label of the metrics, the
// health detail): "s3://<bucket>" on AWS; "<host[:port][/base]>/<bucket>" on an
// S3-compatible endpoint, so that two servers' buckets of one name stay apart. Never
// credentials (an endpoint cannot carry userinfo: ParseS3Endpoint refuses it).
std::string DestinationLabel(const S3ClientOptions& destination);

struct S3ClientDeps {
  std::shared_ptr<HttpClient> http;                  // required
  std::shared_ptr<CredentialsProvider> credentials;  // required
  const Clock* clock = nullptr;                      // signing time; default RealClock::Get()
  SleepFunction sleep;                               // default: the thread sleeps
  UniformRandomFunction random;                      // default: a thread-local PRNG
  GetenvFunction getenv;       // default ProcessGetenv(); only to resolve endpoint and region
  S3RequestObserver observer;  // optional
  // Optional: the destination's breaker (shared by the clients writing there). Before each
  // HTTP exchange the client asks it; while it says wait, the operation fails at once with
  // UNAVAILABLE and nothing is sent. A probe it grants is one exchange, never retried in
  // the call. Every exchange's outcome is recorded. Null: no breaker.
  std::shared_ptr<SharedBreaker> breaker;
};

// Counters since the client was made (metrics are built from them).
struct S3Stats {
  int64_t operations = 0;        // operations started (PutObject, UploadPart, ...)
  int64_t attempts = 0;          // HTTP exchanges tried
  int64_t retries = 0;           // attempts after the first of an operation
  int64_t throttled = 0;         // answers classified kThrottled (503 SlowDown, 429)
  int64_t server_errors = 0;     // answers classified kServerError (5xx, 200-with-Error, ...)
  int64_t transport_errors = 0;  // no answer: refused, reset, timed out
  int64_t failed = 0;            // operations that returned an error
  int64_t bytes_uploaded = 0;    // payload bytes of successful PutObject/UploadPart
};

struct S3PutOptions {
  std::string content_type = "application/octet-stream";
  std::string content_encoding;  // "gzip", "zstd" or empty
  // Sends If-None-Match: * so the write fails with ALREADY_EXISTS when the key exists
  // (on CompleteMultipartUpload for multipart uploads).
  bool if_none_match = false;
  // Retries stop here (wall time, on the client's Clock): a retry whose backoff wait
  // would end past it is not made and the operation fails with UNAVAILABLE, naming the
  // deadline and the last error. The first try always goes. InfiniteFuture(): none, every
  // attempt of max_attempts may be made. A multipart upload applies it to every step.
  absl::Time deadline = absl::InfiniteFuture();
  // The object's failure budget, shared with the caller's own re-tries of the object (the
  // delivery engine's; README, `destination.retry`). The Put stops once it has spent
  // `max_failures` failed exchanges over all its steps (0: the options' max_attempts),
  // failing with UNAVAILABLE that names the budget. A failed exchange is a try that did
  // not succeed (412 excepted: it is the answer if_none_match asks for); the abort of a
  // failed multipart upload is not charged (it has its own 3 tries). `failures_before`:
  // the object's failures in earlier Puts, where the backoff ladder resumes.
  int failures_before = 0;
  int max_failures = 0;
  // Optional out: the failed exchanges this Put spent are added to it.
  int* failures_spent = nullptr;
};

struct S3ObjectInfo {
  int64_t size = 0;
  std::string etag;
};

class S3Client {
 public:
  // `options` must be valid (see Validate); `deps.http` and `deps.credentials` non-null.
  S3Client(S3ClientOptions options, S3ClientDeps deps);

  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // One PUT of the whole body (up to 5 GiB).
  absl::Status PutObject(std::string_view key, std::string_view body, const S3PutOptions& put);

  // Multipart upload of `body` in parts of `part_bytes` (raised as needed to stay within
  // 10,000 parts): Create, UploadPart each, Complete. On any failure the upload is
  // aborted (best effort) and the first error returned.
  absl::Status PutObjectMultipart(std::string_view key, std::string_view body, int64_t part_bytes,
                                  const S3PutOptions& put);

  // The steps, for callers that stream parts. Create returns the UploadId; UploadPart
  // returns the part's ETag.
  absl::StatusOr<std::string> CreateMultipartUpload(std::string_view key, const S3PutOptions& put);
  // `deadline`: as S3PutOptions::deadline, for this step.
  absl::StatusOr<std::string> UploadPart(std::string_view key, std::string_view upload_id,
                                         int part_number, std::string_view body,
                                         absl::Time deadline = absl::InfiniteFuture());
  // A 200 whose body is an <Error> is retried. If a retry answers NoSuchUpload (an
  // earlier try did complete), succeeds when HeadObject finds the object with
  // `expected_size` bytes.
  absl::Status CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                       const std::vector<CompletedPart>& parts,
                                       int64_t expected_size, bool if_none_match,
                                       absl::Time deadline = absl::InfiniteFuture());
  // Succeeds when the upload is gone already (NoSuchUpload). At most 3 tries: it runs
  // after a failure, and a lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
  absl::Status AbortMultipartUpload(std::string_view key, std::string_view upload_id,
                                    absl::Time deadline = absl::InfiniteFuture());

  // NOT_FOUND when there is no such object.
  absl::StatusOr<S3ObjectInfo> HeadObject(std::string_view key,
                                          absl::Time deadline = absl::InfiniteFuture());

  // The whole object under `key`, its bytes as stored (a Content-Encoding is not undone):
  // one signed GET (empty payload hash), retried, refused by the breaker and given up as
  // the other operations are, within max_attempts failed exchanges and `deadline` (as
  // S3PutOptions::deadline). NOT_FOUND when there is no such key (404 NoSuchKey): an
  // answer, not counted in stats().failed. Note that S3 answers a missing key with 403
  // AccessDenied (PERMISSION_DENIED) unless the credentials may s3:ListBucket.
  // FAILED_PRECONDITION when the object is larger than `max_bytes` (refused on its
  // Content-Length before the body is read; not retried) or the bucket does not exist
  // (404 NoSuchBucket), so NOT_FOUND always means the key. A 2xx whose body is not as long
  // as its Content-Length (a cut transfer) is retried as a server error.
  absl::StatusOr<std::string> GetObject(std::string_view key,
                                        absl::Time deadline = absl::InfiniteFuture(),
                                        size_t max_bytes = kS3MaxGetObjectBytes);

  // "s3://bucket/key".
  std::string Uri(std::string_view key) const;
  // Whether an operation started now would be refused without sending anything (the
  // breaker is open before its probe time, or half-open with its probe in flight).
  bool DestinationDown() const;
  // SharedBreaker::Failing of its breaker (false without one).
  bool DestinationFailing() const;
  const S3ClientOptions& options() const { return options_; }
  S3Stats stats() const;

 private:
  struct Call;
  struct Outcome;
  // One Put's deadline and failure budget, shared by every step of a multipart upload.
  struct Budget {
    absl::Time deadline = absl::InfiniteFuture();
    int max_failures = 1;  // no retry once `spent` reaches it
    int before = 0;        // the object's failures in earlier Puts (where the ladder resumes)
    int spent = 0;         // failed exchanges of this Put
  };
  Budget BudgetOf(const S3PutOptions& put) const;
  Budget StepBudget(absl::Time deadline) const;
  Outcome Execute(const Call& call, Budget& budget);
  absl::StatusOr<std::string> Create(std::string_view key, const S3PutOptions& put, Budget& budget);
  absl::StatusOr<std::string> Part(std::string_view key, std::string_view upload_id,
                                   int part_number, std::string_view body, Budget& budget);
  absl::Status Complete(std::string_view key, std::string_view upload_id,
                        const std::vector<CompletedPart>& parts, int64_t expected_size,
                        bool if_none_match, Budget& budget);
  absl::StatusOr<S3ObjectInfo> Head(std::string_view key, Budget& budget);
  absl::StatusOr<HttpRequest> SignedRequest(const Call& call, const S3Address& target);
  void AddSseAndClass(HttpHeaders* headers) const;

  const S3ClientOptions options_;
  const S3ClientDeps deps_;
  // Resolved once from the options.
  S3Endpoint endpoint_;
  bool path_style_ = false;

  std::atomic<int64_t> operations_{0}, attempts_{0}, retries_{0}, throttled_{0}, server_errors_{0},
      transport_errors_{0}, failed_{0}, bytes_uploaded_{0};
};

// Helpers, exposed for tests.
// base64 of the MD5 of `data` (the Content-MD5 header's value).
std::string ContentMd5(std::string_view data);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_S3_S3_CLIENT_H_
