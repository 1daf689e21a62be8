#include "service/s3/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include "core/base/base64.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/s3/endpoint.h"
#include "core/s3/sigv4.h"

namespace lakehose {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// SHA-256 of the empty payload (GET, HEAD, DELETE, CreateMultipartUpload).
constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// S3 messages are short; a longer one (an HTML page from a proxy) is cut in our messages.
constexpr size_t kMaxMessageInStatus = 300;
// Abort runs after something failed (often S3 itself); a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) cleans up whatever a short budget leaves behind.
constexpr int kMaxAbortAttempts = 3;

double DefaultUniform() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

void DefaultSleep(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

S3ClientDeps WithDefaults(S3ClientDeps deps) {
  if (deps.clock == nullptr) deps.clock = RealClock::Get();
  if (!deps.sleep) deps.sleep = &DefaultSleep;
  if (!deps.random) deps.random = &DefaultUniform;
  if (!deps.getenv) deps.getenv = ProcessGetenv();
  return deps;
}

// The S3 error an answer carries (an empty code when the body is not an <Error>, as
// for HEAD).
S3Error ErrorOf(const HttpResponse& r) {
  absl::StatusOr<S3Error> e = ParseS3Error(r.body);
  return e.ok() ? *std::move(e) : S3Error{};
}

std::string Describe(int status, const S3Error& e) {
  std::string out = StrCat("HTTP ", status);
  if (!e.code.empty()) StrAppend(&out, " ", e.code);
  if (!e.message.empty()) {
    StrAppend(&out, ": ", std::string_view(e.message).substr(0, kMaxMessageInStatus));
  }
  if (!e.request_id.empty()) StrAppend(&out, " (request id ", e.request_id, ")");
  return out;
}

absl::Status PermanentError(std::string_view what, const HttpResponse& r, const S3Error& e) {
  std::string msg = StrCat(what, ": ", Describe(r.status, e));
  const std::string_view c = e.code;
  if (r.status == 301 || r.status == 307 || c == "PermanentRedirect" ||
      c == "AuthorizationHeaderMalformed" || c == "IllegalLocationConstraintException") {
    if (std::string_view region = r.Header("x-amz-bucket-region"); !region.empty()) {
      StrAppend(&msg, "; the bucket is in region ", region);
    }
    return absl::FailedPreconditionError(StrCat(msg, "; check the destination's region/endpoint"));
  }
  switch (r.status) {
    case 400:
      return absl::InvalidArgumentError(msg);
    case 401:
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    case 412:
      return absl::AlreadyExistsError(msg);
    case 501:
      return absl::UnimplementedError(msg);
    default:
      return absl::FailedPreconditionError(msg);
  }
}

absl::Status CheckHeaderValue(std::string_view name, std::string_view value) {
  if (HasAsciiControl(value)) {
    return absl::InvalidArgumentError(StrCat("S3: ", name, " holds control characters"));
  }
  return absl::OkStatus();
}

}  // namespace

struct S3Client::Call {
  S3Operation op;
  std::string method;
  std::string_view key;
  Query query;
  HttpHeaders headers;  // besides Host, x-amz-content-sha256 and the signature's
  std::string_view body;
  std::string payload_hash;
  size_t max_response_bytes = 0;  // 0: the HttpClient's own limit (S3's small answers)
  // Inspects a 2xx answer: nullopt when it is good, else the error it carries.
  std::function<std::optional<S3Error>(const HttpResponse&)> check_success;
};

struct S3Client::Outcome {
  absl::StatusOr<HttpResponse> response;
  int attempts = 0;
  std::string error_code;  // S3's code in the last failed answer
};

S3Client::Budget S3Client::BudgetOf(const S3PutOptions& put) const {
  return Budget{.deadline = put.deadline,
                .max_failures = put.max_failures > 0 ? put.max_failures : options_.max_attempts,
                .before = std::max(0, put.failures_before)};
}

S3Client::Budget S3Client::StepBudget(absl::Time deadline) const {
  return Budget{.deadline = deadline, .max_failures = options_.max_attempts};
}

absl::Status S3ClientOptions::Validate() const {
  if (bucket.empty() || bucket.size() > 255 || bucket.find('/') != std::string::npos ||
      HasAsciiControl(bucket) || bucket.find(' ') != std::string::npos) {
    return absl::InvalidArgumentError(StrCat("s3: bad bucket name '", bucket, "'"));
  }
  if (!IsValidS3Region(region)) {
    return absl::InvalidArgumentError(StrCat("s3: bad region '", region, "'"));
  }
  if (absl::StatusOr<S3Endpoint> e = ParseS3Endpoint(endpoint, region); !e.ok()) {
    return e.status();
  }
  if (max_attempts < 1 || max_attempts > 100) {
    return absl::InvalidArgumentError("s3: max_attempts must be in [1, 100]");
  }
  if (backoff.base_delay_ms < 0 || backoff.max_delay_ms < 0 || request_timeout_ms < 0) {
    return absl::InvalidArgumentError("s3: delays and timeouts must not be negative");
  }
  RETURN_IF_ERROR(CheckHeaderValue("storage_class", storage_class));
  RETURN_IF_ERROR(CheckHeaderValue("kms_key_id", kms_key_id));
  return absl::OkStatus();
}

absl::StatusOr<S3ClientOptions> S3ClientOptionsFromSpec(const DestinationSpec& spec,
                                                        const GetenvFunction& getenv) {
  S3ClientOptions o;
  o.bucket = spec.bucket;
  o.endpoint = !spec.endpoint.empty() ? spec.endpoint : getenv("AWS_ENDPOINT_URL_S3");
  o.region = spec.region;
  if (o.region.empty()) o.region = getenv("AWS_REGION");
  if (o.region.empty()) o.region = getenv("AWS_DEFAULT_REGION");
  if (o.region.empty() && !o.endpoint.empty()) o.region = "us-east-1";
  if (o.region.empty()) {
    return absl::InvalidArgumentError(
        "s3: no region: set destination.region, AWS_REGION or AWS_DEFAULT_REGION");
  }
  o.force_path_style = spec.force_path_style;
  o.storage_class = spec.storage_class;
  o.kms_key_id = spec.kms_key_id;
  o.max_attempts = spec.max_attempts;
  o.backoff = {.base_delay_ms = spec.retry_base_delay_ms, .max_delay_ms = spec.retry_max_delay_ms};
  o.request_timeout_ms = static_cast<int64_t>(spec.request_timeout_s * 1000);
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::string ContentMd5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

BreakerAdmission SharedBreaker::Admit(int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  return breaker_.Admit(now_ms);
}

void SharedBreaker::Record(BreakerAdmission admitted, S3Outcome outcome, int64_t now_ms,
                           std::string_view error) {
  absl::MutexLock lock(&mu_);
  if (BreakerSignalOf(outcome) == BreakerSignal::kDown) last_error_ = std::string(error);
  breaker_.Record(admitted, outcome, now_ms);
}

bool SharedBreaker::Refuses(int64_t now_ms) const {
  absl::MutexLock lock(&mu_);
  return breaker_.state() == BreakerState::kHalfOpen ||
         (breaker_.state() == BreakerState::kOpen && now_ms < breaker_.next_probe_ms());
}

bool SharedBreaker::Failing() const {
  absl::MutexLock lock(&mu_);
  return breaker_.state() != BreakerState::kClosed || breaker_.consecutive_down() > 0;
}

SharedBreaker::Snapshot SharedBreaker::Read(int64_t now_ms) const {
  absl::MutexLock lock(&mu_);
  return Snapshot{.state = breaker_.state(),
                  .next_probe_ms = breaker_.next_probe_ms(),
                  .outage_ms = breaker_.OutageMs(now_ms),
                  .total_outage_ms = breaker_.TotalOutageMs(now_ms),
                  .counts = breaker_.counts(),
                  .last_error = last_error_};
}

std::shared_ptr<SharedBreaker> DestinationBreakers::For(const S3ClientOptions& destination) {
  // By the parsed endpoint (host, port, base path) and bucket, the metric's label: two
  // spellings of one endpoint ("http://minio:9000" and "http://minio:9000/") are one
  // destination, with one breaker and one series.
  const std::string key = DestinationLabel(destination);
  absl::MutexLock lock(&mu_);
  for (const Entry& e : breakers_) {
    if (e.key == key) return e.named.breaker;
  }
  // Called under the breaker's own mutex only, so the generator needs no lock of its own.
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto breaker = std::make_shared<SharedBreaker>(
      options_, [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); });
  breakers_.push_back(Entry{key, Named{key, breaker}});
  return breaker;
}

std::vector<std::shared_ptr<SharedBreaker>> DestinationBreakers::All() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<SharedBreaker>> out;
  for (const Entry& e : breakers_) out.push_back(e.named.breaker);
  return out;
}

bool S3Client::DestinationFailing() const {
  return deps_.breaker != nullptr && deps_.breaker->Failing();
}

bool S3Client::DestinationDown() const {
  return deps_.breaker != nullptr && deps_.breaker->Refuses(deps_.clock->NowMillis());
}

std::vector<DestinationBreakers::Named> DestinationBreakers::AllNamed() const {
  absl::MutexLock lock(&mu_);
  std::vector<Named> out;
  for (const Entry& e : breakers_) out.push_back(e.named);
  return out;
}

std::string DestinationLabel(const S3ClientOptions& destination) {
  if (destination.endpoint.empty()) return StrCat("s3://", destination.bucket);
  absl::StatusOr<S3Endpoint> e = ParseS3Endpoint(destination.endpoint, destination.region);
  if (!e.ok()) return StrCat("s3://", destination.bucket);  // not reached: options are valid
  return StrCat(e->host_port, e->base_path, "/", destination.bucket);
}

S3Client::S3Client(S3ClientOptions options, S3ClientDeps deps)
    : options_(std::move(options)), deps_(WithDefaults(std::move(deps))) {
  // The options are valid (a precondition), so the endpoint parses.
  if (absl::StatusOr<S3Endpoint> e = ParseS3Endpoint(options_.endpoint, options_.region); e.ok()) {
    endpoint_ = *std::move(e);
  }
  path_style_ = UsePathStyle(endpoint_, options_.bucket, options_.force_path_style);
}

std::string S3Client::Uri(std::string_view key) const {
  return StrCat("s3://", options_.bucket, "/", key);
}

S3Stats S3Client::stats() const {
  return S3Stats{.operations = operations_.load(),
                 .attempts = attempts_.load(),
                 .retries = retries_.load(),
                 .throttled = throttled_.load(),
                 .server_errors = server_errors_.load(),
                 .transport_errors = transport_errors_.load(),
                 .failed = failed_.load(),
                 .bytes_uploaded = bytes_uploaded_.load()};
}

absl::StatusOr<HttpRequest> S3Client::SignedRequest(const Call& call, const S3Address& target) {
  absl::StatusOr<AwsCredentials> creds = deps_.credentials->GetCredentials();
  if (!creds.ok()) {
    return absl::Status(creds.status().code(),
                        StrCat("S3 credentials: ", StatusMessage(creds.status())));
  }
  HttpHeaders headers = call.headers;
  headers.emplace_back("Host", target.host);
  headers.emplace_back("x-amz-content-sha256", call.payload_hash);
  const SigV4Request to_sign{.method = call.method,
                             .path = target.path,
                             .query = call.query,
                             .headers = headers,
                             .payload_hash = call.payload_hash};
  const SigV4Signed signed_ = SignV4(to_sign, creds->ToSigV4(),
                                     {.region = options_.region,
                                      .service = "s3",
                                      .time_unix_s = deps_.clock->NowMillis() / 1000,
                                      .s3_rules = true});
  headers.insert(headers.end(), signed_.headers_to_add.begin(), signed_.headers_to_add.end());
  return HttpRequest{.method = call.method,
                     .url = target.url,
                     .headers = std::move(headers),
                     .body = call.body,
                     .timeout_ms = options_.request_timeout_ms,
                     .max_response_bytes = call.max_response_bytes};
}

S3Client::Outcome S3Client::Execute(const Call& call, Budget& budget) {
  operations_.fetch_add(1);
  const S3Address target =
      S3AddressOf(endpoint_, options_.bucket, path_style_, call.key, call.query);
  const std::string what = StrCat("S3 ", S3OperationName(call.op), " ", Uri(call.key));
  Outcome out;
  std::string last_error;
  bool at_deadline = false;
  bool budget_spent = false;
  SharedBreaker* const breaker = deps_.breaker.get();
  // The operation stops at once, sending nothing: the destination is down.
  auto refused = [&]() {
    const SharedBreaker::Snapshot b = breaker->Read(deps_.clock->NowMillis());
    const int64_t next_ms = std::max<int64_t>(0, b.next_probe_ms - deps_.clock->NowMillis());
    const bool half_open = b.state == BreakerState::kHalfOpen;
    out.response =
        DestinationDownError(StrCat(what, ": destination ", options_.bucket, " is down (circuit ",
                                    half_open ? "half-open, a probe in flight"
                                              : StrCat("open; next probe in ", next_ms, " ms"),
                                    "); last: ", last_error.empty() ? b.last_error : last_error),
                             half_open ? -1 : next_ms);
    return out;
  };
  bool probed = false;  // the last exchange was the breaker's probe
  // Every pass but the last (a success, a permanent answer, or a stop) spends one failure
  // of the budget, so the loop ends within budget.max_failures passes.
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      if (budget.spent >= budget.max_failures) {
        budget_spent = true;  // the object's failures are spent: its end is the caller's call
        break;
      }
      // Waiting out a backoff for a destination that is down would only delay the caller.
      if (breaker != nullptr && breaker->Refuses(deps_.clock->NowMillis())) return refused();
      // One ladder per object: the wait after its n-th failure, whichever step or Put.
      const int64_t wait_ms =
          BackoffDelayMs(options_.backoff, budget.before + budget.spent - 1, deps_.random());
      if (budget.deadline != absl::InfiniteFuture() &&
          absl::FromUnixMillis(deps_.clock->NowMillis() + wait_ms) > budget.deadline) {
        at_deadline = true;  // the caller stops waiting before this retry could be made
        break;
      }
      retries_.fetch_add(1);
      deps_.sleep(wait_ms);
    }
    const BreakerAdmission admission =
        breaker != nullptr ? breaker->Admit(deps_.clock->NowMillis()) : BreakerAdmission::kGo;
    if (admission == BreakerAdmission::kWait) return refused();
    // Every admission is followed by exactly one Record (a probe holds the only slot), and
    // every try that did not succeed spends a failure (a 412 is the answer asked for).
    auto record = [&](S3Outcome outcome) {
      if (outcome != S3Outcome::kOk && outcome != S3Outcome::kPreconditionFailed) {
        budget.spent += 1;
      }
      if (breaker != nullptr) {
        breaker->Record(admission, outcome, deps_.clock->NowMillis(), last_error);
      }
    };
    // A probe is one exchange: when it fails the operation stops.
    const bool retry_allowed = admission != BreakerAdmission::kProbe;
    probed = probed || !retry_allowed;
    attempts_.fetch_add(1);
    out.attempts = attempt + 1;
    absl::StatusOr<HttpRequest> request = SignedRequest(call, target);
    if (!request.ok()) {
      record(S3Outcome::kClientError);  // nothing was sent: no verdict on the destination
      if (absl::IsUnavailable(request.status())) {  // e.g. IMDS briefly unreachable
        last_error = std::string(StatusMessage(request.status()));
        if (retry_allowed) continue;
        break;
      }
      out.response = request.status();
      return out;
    }
    // The exchange's duration is monotonic time: the Clock is wall time for signing, which
    // may step (or be a test's fake) while the request is in flight.
    const auto sent_at = std::chrono::steady_clock::now();
    absl::StatusOr<HttpResponse> response = deps_.http->Send(*request);
    auto observe = [&](S3Outcome outcome) {
      if (!deps_.observer) return;
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - sent_at;
      deps_.observer(call.op, outcome, took.count(), attempt > 0);
    };
    if (!response.ok() && absl::IsResourceExhausted(response.status())) {
      // An answer came, larger than the call takes (GetObject's limit): the destination is
      // up, and asking again would bring the same answer.
      observe(S3Outcome::kClientError);
      last_error = std::string(StatusMessage(response.status()));
      record(S3Outcome::kClientError);
      out.response = absl::Status(response.status().code(), StrCat(what, ": ", last_error));
      return out;
    }
    if (!response.ok()) {
      observe(S3Outcome::kNetworkError);
      const absl::Status& s = response.status();
      last_error = std::string(StatusMessage(s));
      record(S3Outcome::kNetworkError);
      if (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) {
        transport_errors_.fetch_add(1);
        if (retry_allowed) continue;
        break;
      }
      out.response = absl::Status(s.code(), StrCat(what, ": ", StatusMessage(s)));
      return out;
    }
    std::optional<S3Error> error;
    if (response->status >= 200 && response->status <= 299) {
      if (call.check_success) error = call.check_success(*response);
      if (!error.has_value()) {
        observe(S3Outcome::kOk);
        record(S3Outcome::kOk);
        out.response = std::move(response);
        return out;
      }
    } else {
      error = ErrorOf(*response);
    }
    out.error_code = error->code;
    last_error = Describe(response->status, *error);
    const S3Outcome outcome = ClassifyS3Error(response->status, error->code);
    observe(outcome);
    record(outcome);
    switch (outcome) {
      case S3Outcome::kThrottled:
        throttled_.fetch_add(1);
        if (retry_allowed) continue;
        break;
      case S3Outcome::kServerError:
        server_errors_.fetch_add(1);
        if (retry_allowed) continue;
        break;
      case S3Outcome::kClientError:
      case S3Outcome::kPreconditionFailed:
      case S3Outcome::kOk:            // not a classification of an error
      case S3Outcome::kNetworkError:  // (ClassifyS3Error returns neither)
        out.response = PermanentError(what, *response, *error);
        return out;
    }
    break;  // a failed probe: no retry in this call
  }
  out.response = absl::UnavailableError(StrCat(
      what, ": gave up after ", out.attempts, " attempts",
      at_deadline ? " (the next would come after the object's deadline)" : "",
      budget_spent
          ? StrCat(" (the object's failure budget is spent: ", budget.before + budget.spent,
                   " failed exchanges; destination.retry.max_attempts ", options_.max_attempts, ")")
          : "",
      probed ? " (a probe of a down destination, not retried)" : "", "; last: ", last_error));
  return out;
}

void S3Client::AddSseAndClass(HttpHeaders* headers) const {
  if (!options_.storage_class.empty()) {
    headers->emplace_back("x-amz-storage-class", options_.storage_class);
  }
  if (!options_.kms_key_id.empty()) {
    headers->emplace_back("x-amz-server-side-encryption", "aws:kms");
    headers->emplace_back("x-amz-server-side-encryption-aws-kms-key-id", options_.kms_key_id);
  }
}

namespace {

absl::Status ValidatePut(std::string_view key, const S3PutOptions& put) {
  if (key.empty()) return absl::InvalidArgumentError("S3: empty key");
  if (key.size() > 1024) return absl::InvalidArgumentError("S3: key longer than 1024 bytes");
  RETURN_IF_ERROR(CheckHeaderValue("content type", put.content_type));
  return CheckHeaderValue("content encoding", put.content_encoding);
}

HttpHeaders ContentHeaders(const S3PutOptions& put) {
  HttpHeaders h;
  if (!put.content_type.empty()) h.emplace_back("Content-Type", put.content_type);
  if (!put.content_encoding.empty()) h.emplace_back("Content-Encoding", put.content_encoding);
  return h;
}

}  // namespace

absl::Status S3Client::PutObject(std::string_view key, std::string_view body,
                                 const S3PutOptions& put) {
  if (absl::Status s = ValidatePut(key, put); !s.ok()) return s;
  Call call{.op = S3Operation::kPutObject,
            .method = "PUT",
            .key = key,
            .headers = ContentHeaders(put),
            .body = body,
            .payload_hash = Sha256Hex(body)};
  call.headers.emplace_back("Content-MD5", ContentMd5(body));
  AddSseAndClass(&call.headers);
  if (put.if_none_match) call.headers.emplace_back("If-None-Match", "*");
  Budget budget = BudgetOf(put);
  Outcome out = Execute(call, budget);
  if (put.failures_spent != nullptr) *put.failures_spent += budget.spent;
  if (!out.response.ok()) {
    failed_.fetch_add(1);
    return out.response.status();
  }
  bytes_uploaded_.fetch_add(static_cast<int64_t>(body.size()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> S3Client::CreateMultipartUpload(std::string_view key,
                                                            const S3PutOptions& put) {
  Budget budget = BudgetOf(put);
  absl::StatusOr<std::string> id = Create(key, put, budget);
  if (put.failures_spent != nullptr) *put.failures_spent += budget.spent;
  return id;
}

absl::StatusOr<std::string> S3Client::Create(std::string_view key, const S3PutOptions& put,
                                             Budget& budget) {
  if (absl::Status s = ValidatePut(key, put); !s.ok()) return s;
  Call call{.op = S3Operation::kCreateMultipartUpload,
            .method = "POST",
            .key = key,
            .query = {{"uploads", ""}},
            .headers = ContentHeaders(put),
            .payload_hash = std::string(kEmptyPayloadHash)};
  AddSseAndClass(&call.headers);
  call.check_success = [](const HttpResponse& r) -> std::optional<S3Error> {
    absl::StatusOr<std::string> id = ParseInitiateMultipartUploadResult(r.body);
    if (id.ok()) return std::nullopt;
    return S3Error{.code = "MalformedResponse", .message = std::string(StatusMessage(id.status()))};
  };
  Outcome out = Execute(call, budget);
  if (!out.response.ok()) {
    failed_.fetch_add(1);
    return out.response.status();
  }
  return ParseInitiateMultipartUploadResult(out.response->body);
}

absl::StatusOr<std::string> S3Client::UploadPart(std::string_view key, std::string_view upload_id,
                                                 int part_number, std::string_view body,
                                                 absl::Time deadline) {
  Budget budget = StepBudget(deadline);
  return Part(key, upload_id, part_number, body, budget);
}

absl::StatusOr<std::string> S3Client::Part(std::string_view key, std::string_view upload_id,
                                           int part_number, std::string_view body, Budget& budget) {
  if (part_number < 1 || part_number > kS3MaxParts) {
    return absl::InvalidArgumentError(StrCat("S3: part number ", part_number, " out of range"));
  }
  Call call{.op = S3Operation::kUploadPart,
            .method = "PUT",
            .key = key,
            .query = {{"partNumber", StrCat(part_number)}, {"uploadId", std::string(upload_id)}},
            .headers = {{"Content-MD5", ContentMd5(body)}},
            .body = body,
            .payload_hash = Sha256Hex(body)};
  call.check_success = [](const HttpResponse& r) -> std::optional<S3Error> {
    if (!r.Header("etag").empty()) return std::nullopt;
    return S3Error{.code = "MissingETag", .message = "UploadPart answer has no ETag"};
  };
  Outcome out = Execute(call, budget);
  if (!out.response.ok()) {
    failed_.fetch_add(1);
    return out.response.status();
  }
  bytes_uploaded_.fetch_add(static_cast<int64_t>(body.size()));
  return std::string(out.response->Header("etag"));
}

absl::Status S3Client::CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                               const std::vector<CompletedPart>& parts,
                                               int64_t expected_size, bool if_none_match,
                                               absl::Time deadline) {
  Budget budget = StepBudget(deadline);
  return Complete(key, upload_id, parts, expected_size, if_none_match, budget);
}

absl::Status S3Client::Complete(std::string_view key, std::string_view upload_id,
                                const std::vector<CompletedPart>& parts, int64_t expected_size,
                                bool if_none_match, Budget& budget) {
  const std::string body = BuildCompleteMultipartUploadXml(parts);
  Call call{.op = S3Operation::kCompleteMultipartUpload,
            .method = "POST",
            .key = key,
            .query = {{"uploadId", std::string(upload_id)}},
            .headers = {{"Content-Type", "application/xml"}, {"Content-MD5", ContentMd5(body)}},
            .body = body,
            .payload_hash = Sha256Hex(body)};
  if (if_none_match) call.headers.emplace_back("If-None-Match", "*");
  call.check_success = [](const HttpResponse& r) -> std::optional<S3Error> {
    absl::StatusOr<CompleteMultipartUploadOutcome> o = ParseCompleteMultipartUploadResult(r.body);
    if (!o.ok()) {
      return S3Error{.code = "MalformedResponse",
                     .message = std::string(StatusMessage(o.status()))};
    }
    if (o->failed) return o->error;
    return std::nullopt;
  };
  Outcome out = Execute(call, budget);
  if (out.response.ok()) return absl::OkStatus();
  if (out.attempts > 1 && out.error_code == "NoSuchUpload") {
    // An earlier try may have completed the upload before its answer was lost. The check
    // is part of the store: its first try goes even if the NoSuchUpload spent the budget.
    absl::StatusOr<S3ObjectInfo> head = Head(key, budget);
    if (head.ok() && head->size == expected_size) return absl::OkStatus();
  }
  failed_.fetch_add(1);
  return out.response.status();
}

absl::Status S3Client::AbortMultipartUpload(std::string_view key, std::string_view upload_id,
                                            absl::Time deadline) {
  Call call{.op = S3Operation::kAbortMultipartUpload,
            .method = "DELETE",
            .key = key,
            .query = {{"uploadId", std::string(upload_id)}},
            .payload_hash = std::string(kEmptyPayloadHash)};
  // Abort follows a failure; do not make the caller wait out a second full budget. Its
  // failures are its own: cleaning up is not storing the object.
  Budget budget{.deadline = deadline,
                .max_failures = std::min(options_.max_attempts, kMaxAbortAttempts)};
  Outcome out = Execute(call, budget);
  if (out.response.ok() || out.error_code == "NoSuchUpload") return absl::OkStatus();
  failed_.fetch_add(1);
  return out.response.status();
}

absl::StatusOr<S3ObjectInfo> S3Client::HeadObject(std::string_view key, absl::Time deadline) {
  Budget budget = StepBudget(deadline);
  return Head(key, budget);
}

absl::StatusOr<S3ObjectInfo> S3Client::Head(std::string_view key, Budget& budget) {
  Call call{.op = S3Operation::kHeadObject,
            .method = "HEAD",
            .key = key,
            .payload_hash = std::string(kEmptyPayloadHash)};
  Outcome out = Execute(call, budget);
  if (!out.response.ok()) {
    if (!absl::IsNotFound(out.response.status())) failed_.fetch_add(1);
    return out.response.status();
  }
  S3ObjectInfo info;
  const std::string_view length = out.response->Header("content-length");
  if (std::from_chars(length.data(), length.data() + length.size(), info.size).ec != std::errc()) {
    info.size = -1;
  }
  info.etag = std::string(out.response->Header("etag"));
  return info;
}

absl::StatusOr<std::string> S3Client::GetObject(std::string_view key, absl::Time deadline,
                                                size_t max_bytes) {
  if (key.empty()) return absl::InvalidArgumentError("S3: empty key");
  if (key.size() > 1024) return absl::InvalidArgumentError("S3: key longer than 1024 bytes");
  Call call{.op = S3Operation::kGetObject,
            .method = "GET",
            .key = key,
            .payload_hash = std::string(kEmptyPayloadHash),
            .max_response_bytes = max_bytes};
  call.check_success = [](const HttpResponse& r) -> std::optional<S3Error> {
    // The HTTP client reads until the connection says the body ended; a proxy or a reset
    // at the wrong moment can end it early, so the announced length is checked.
    const std::string_view length = r.Header("content-length");
    if (length.empty()) return std::nullopt;
    uint64_t announced = 0;
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), announced);
    if (ec != std::errc() || end != length.data() + length.size()) {
      return S3Error{.code = "MalformedResponse",
                     .message = StrCat("unreadable Content-Length '", length, "'")};
    }
    if (announced == r.body.size()) return std::nullopt;
    return S3Error{
        .code = "IncompleteBody",
        .message = StrCat("Content-Length ", announced, " but ", r.body.size(), " bytes arrived")};
  };
  Budget budget = StepBudget(deadline);
  Outcome out = Execute(call, budget);
  const auto too_large = [&]() {
    return absl::FailedPreconditionError(StrCat("S3 GetObject ", Uri(key),
                                                ": the object is larger than the ", max_bytes,
                                                " bytes a read takes"));
  };
  if (!out.response.ok()) {
    const absl::Status& s = out.response.status();
    if (absl::IsNotFound(s) && out.error_code != "NoSuchBucket") return s;  // the answer
    failed_.fetch_add(1);
    if (absl::IsResourceExhausted(s)) return too_large();
    if (absl::IsNotFound(s)) {
      return absl::FailedPreconditionError(StrCat(StatusMessage(s), "; the bucket does not exist"));
    }
    return s;
  }
  // An HttpClient that does not enforce the request's limit still read it all: refuse it
  // as the limit says.
  if (out.response->body.size() > max_bytes) {
    failed_.fetch_add(1);
    return too_large();
  }
  return std::move(out.response->body);
}

absl::Status S3Client::PutObjectMultipart(std::string_view key, std::string_view body,
                                          int64_t part_bytes, const S3PutOptions& put) {
  if (part_bytes < 1) return absl::InvalidArgumentError("S3: part size must be positive");
  const int64_t size = static_cast<int64_t>(body.size());
  // Stay within 10,000 parts by growing the parts.
  part_bytes = std::max(part_bytes, (size + kS3MaxParts - 1) / kS3MaxParts);
  // One budget for every step: a part that failed twice leaves the others two fewer.
  Budget budget = BudgetOf(put);
  absl::Status done = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const std::string upload_id, Create(key, put, budget));
    std::vector<CompletedPart> parts;
    int64_t offset = 0;
    do {
      const int64_t n = std::min(part_bytes, size - offset);
      const int number = static_cast<int>(parts.size()) + 1;
      absl::StatusOr<std::string> etag =
          Part(key, upload_id, number, body.substr(static_cast<size_t>(offset), n), budget);
      if (!etag.ok()) {
        // Best effort; the error that matters is etag's.
        (void)AbortMultipartUpload(key, upload_id, put.deadline);
        return etag.status();
      }
      parts.push_back({.part_number = number, .etag = *std::move(etag)});
      offset += n;
    } while (offset < size);
    absl::Status completed = Complete(key, upload_id, parts, size, put.if_none_match, budget);
    if (!completed.ok()) (void)AbortMultipartUpload(key, upload_id, put.deadline);
    return completed;
  }();
  if (put.failures_spent != nullptr) *put.failures_spent += budget.spent;
  return done;
}

}  // namespace lakehose
