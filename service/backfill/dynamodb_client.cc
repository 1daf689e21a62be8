#include "service/backfill/dynamodb_client.h"

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/s3/sigv4.h"

namespace lakehose {
namespace {

constexpr std::string_view kService = "dynamodb";
constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
// A rate wait is taken in steps of at most ReadRateLimiter::kMaxDelayMs; this many steps
// (over 16 hours) bound the loop should the clock stand still.
constexpr int kMaxRateWaitSteps = 1000;

double DefaultUniform() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

void DefaultSleep(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

DynamoDbClientDeps WithDefaults(DynamoDbClientDeps deps) {
  if (deps.clock == nullptr) deps.clock = RealClock::Get();
  if (!deps.sleep) deps.sleep = &DefaultSleep;
  if (!deps.random) deps.random = &DefaultUniform;
  return deps;
}

std::string DefaultEndpoint(std::string_view region) {
  return StrCat("https://dynamodb.", region, ".amazonaws.com",
                region.substr(0, 3) == "cn-" ? ".cn" : "");
}

absl::StatusOr<S3Endpoint> EndpointOf(const DynamoDbClientOptions& o) {
  return ParseS3Endpoint(o.endpoint.empty() ? DefaultEndpoint(o.region) : o.endpoint, o.region);
}

// How a request was signed, for a refusal's message: never the secret, only the start of
// the access key id (enough to tell which key, AKIA long-term or ASIA temporary).
std::string SignedAs(const AwsCredentials& c, std::string_view region) {
  const std::string_view id = c.access_key_id;
  return StrCat("signed with SigV4 as access key ", id.substr(0, 8), id.size() > 8 ? "..." : "",
                c.source.empty() ? "" : StrCat(" (credentials from ", c.source, ")"),
                " for service ", kService, " in ", region);
}

// The status of a no-answer from the HTTP client worth another try.
bool RetryableTransport(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

absl::Status DynamoDbClientOptions::Validate() const {
  if (!IsValidS3Region(region))
    return absl::InvalidArgumentError(
        StrCat("DynamoDB region ", QuoteForMessage(region),
               " is not a region name (lower-case letters, digits and '-')"));
  if (absl::StatusOr<S3Endpoint> e = EndpointOf(*this); !e.ok())
    return absl::InvalidArgumentError(
        StrCat("DynamoDB endpoint ", QuoteForMessage(endpoint), ": ", StatusMessage(e.status())));
  if (request_timeout_ms <= 0)
    return absl::InvalidArgumentError("DynamoDB request_timeout_ms must be positive");
  if (max_attempts < 1) return absl::InvalidArgumentError("DynamoDB max_attempts must be >= 1");
  if (!(max_read_units_per_second >= 0) || !std::isfinite(max_read_units_per_second))
    return absl::InvalidArgumentError("DynamoDB max_read_units_per_second must be >= 0");
  if (!(read_burst_units >= 0) || !std::isfinite(read_burst_units))
    return absl::InvalidArgumentError("DynamoDB read_burst_units must be >= 0");
  return absl::OkStatus();
}

absl::StatusOr<DynamoDbClientOptions> DynamoDbClientOptionsFor(std::string_view region,
                                                               std::string_view endpoint,
                                                               const GetenvFunction& getenv) {
  DynamoDbClientOptions o;
  o.region = std::string(region);
  if (o.region.empty()) o.region = getenv("AWS_REGION");
  if (o.region.empty()) o.region = getenv("AWS_DEFAULT_REGION");
  if (o.region.empty())
    return absl::InvalidArgumentError(
        "DynamoDB: no region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION");
  o.endpoint = std::string(endpoint);
  if (o.endpoint.empty()) o.endpoint = getenv("AWS_ENDPOINT_URL_DYNAMODB");
  if (o.endpoint.empty()) o.endpoint = getenv("AWS_ENDPOINT_URL");
  RETURN_IF_ERROR(o.Validate());
  return o;
}

DynamoDbClient::DynamoDbClient(DynamoDbClientOptions options, DynamoDbClientDeps deps)
    : options_(std::move(options)),
      deps_(WithDefaults(std::move(deps))),
      valid_(options_.Validate()),
      endpoint_(EndpointOf(options_)),
      limiter_(options_.max_read_units_per_second, options_.read_burst_units > 0
                                                       ? options_.read_burst_units
                                                       : options_.max_read_units_per_second) {}

std::string DynamoDbClient::EndpointUrl() const {
  if (!endpoint_.ok()) return options_.endpoint;
  return StrCat(endpoint_->scheme, "://", endpoint_->host_port, endpoint_->base_path);
}

DynamoDbClientStats DynamoDbClient::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void DynamoDbClient::Count(int64_t DynamoDbClientStats::*field, int64_t n) {
  absl::MutexLock lock(&mu_);
  stats_.*field += n;
}

absl::StatusOr<HttpResponse> DynamoDbClient::SendOnce(std::string_view target,
                                                      std::string_view body,
                                                      const AwsCredentials& creds) {
  // POST / under the endpoint's path, signed as every service but S3 is (the path
  // normalised); the body is hashed into the signature (DynamoDB wants no
  // x-amz-content-sha256 header, as the SDKs send none).
  const std::string path = StrCat(endpoint_->base_path, "/");
  HttpHeaders headers{{"Host", endpoint_->host_port},
                      {"Content-Type", "application/x-amz-json-1.0"},
                      {"X-Amz-Target", StrCat(kTargetPrefix, target)}};
  const SigV4Signed signed_ =
      SignV4({.method = "POST", .path = path, .headers = headers, .payload_hash = Sha256Hex(body)},
             creds.ToSigV4(),
             {.region = options_.region,
              .service = std::string(kService),
              .time_unix_s = deps_.clock->NowMillis() / 1000,
              .s3_rules = false});
  headers.insert(headers.end(), signed_.headers_to_add.begin(), signed_.headers_to_add.end());
  HttpRequest req{.method = "POST",
                  .url = StrCat(endpoint_->scheme, "://", endpoint_->host_port, path),
                  .headers = std::move(headers),
                  .body = body,
                  .timeout_ms = options_.request_timeout_ms,
                  .max_response_bytes = backfill::kMaxDynamoDbAnswerBytes};
  Count(&DynamoDbClientStats::requests);
  return deps_.http->Send(req);
}

absl::StatusOr<std::string> DynamoDbClient::Call(std::string_view target, std::string_view body,
                                                 const std::string& what) {
  RETURN_IF_ERROR(valid_);
  const std::string where = StrCat(what, " at ", EndpointUrl());
  absl::Status last;
  bool last_throttled = false;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      Count(last_throttled ? &DynamoDbClientStats::throttled_retries
                           : &DynamoDbClientStats::transient_retries);
      deps_.sleep(BackoffDelayMs(options_.backoff, attempt - 1, deps_.random()));
    }
    // Fetched at every try: a cached provider renews temporary credentials in between.
    absl::StatusOr<AwsCredentials> creds = deps_.credentials->GetCredentials();
    if (!creds.ok())
      return absl::Status(
          creds.status().code(),
          StrCat(where, ": AWS credentials to sign with: ", StatusMessage(creds.status())));
    absl::StatusOr<HttpResponse> resp = SendOnce(target, body, *creds);
    if (!resp.ok()) {
      last = absl::Status(resp.status().code(),
                          StrCat(where, ": no answer: ", StatusMessage(resp.status())));
      if (!RetryableTransport(resp.status())) return last;
      last_throttled = false;
      continue;
    }
    if (resp->status == 200) {
      absl::Status crc = backfill::CheckAnswerCrc32(resp->Header("x-amz-crc32"), resp->body);
      if (crc.ok()) return std::move(resp->body);
      last = absl::UnavailableError(StrCat(where, ": ", StatusMessage(crc)));
      last_throttled = false;
      continue;
    }
    const backfill::DynamoDbError err = backfill::ParseDynamoDbError(resp->status, resp->body);
    const std::string said = err.ToString(resp->status);
    switch (err.kind) {
      case backfill::DynamoDbErrorKind::kThrottled:
        last = absl::ResourceExhaustedError(StrCat(where, ": throttled: ", said));
        last_throttled = true;
        continue;
      case backfill::DynamoDbErrorKind::kTransient:
        last = absl::UnavailableError(StrCat(where, ": ", said));
        last_throttled = false;
        continue;
      case backfill::DynamoDbErrorKind::kAuth:
        return absl::PermissionDeniedError(StrCat(
            where, " refused: ", said, "; the request was ", SignedAs(*creds, options_.region),
            ": check the credentials, the region, and that the IAM policy allows dynamodb:", target,
            " on the table"));
      case backfill::DynamoDbErrorKind::kClient:
        if (err.type == "ResourceNotFoundException")
          return absl::NotFoundError(
              StrCat(where, ": ", said, " (is the table in region ", options_.region, "?)"));
        return absl::InvalidArgumentError(StrCat(where, ": ", said));
    }
  }
  return absl::Status(last.code(), StrCat(StatusMessage(last), " (gave up after ",
                                          options_.max_attempts, " attempts)"));
}

void DynamoDbClient::WaitForReadCapacity() {
  for (int step = 0; step < kMaxRateWaitSteps; ++step) {
    int64_t wait = 0;
    {
      absl::MutexLock lock(&mu_);
      if (limiter_.unlimited()) return;
      wait = limiter_.DelayMs(deps_.clock->NowMillis(), last_page_units_);
      if (wait == 0) return;
      stats_.rate_waits += 1;
      stats_.rate_wait_ms += wait;
    }
    deps_.sleep(wait);
  }
}

absl::StatusOr<backfill::TableDescription> DynamoDbClient::DescribeTable(std::string_view table) {
  const std::string what = StrCat("DynamoDB DescribeTable of table ", QuoteForMessage(table));
  ASSIGN_OR_RETURN(std::string answer,
                   Call("DescribeTable", backfill::DescribeTableRequestBody(table), what));
  absl::StatusOr<backfill::TableDescription> d = backfill::ParseDescribeTable(answer);
  if (!d.ok()) return absl::InvalidArgumentError(StrCat(what, ": ", StatusMessage(d.status())));
  return d;
}

absl::StatusOr<backfill::ScanPage> DynamoDbClient::Scan(const backfill::ScanRequest& request) {
  const std::string what =
      StrCat("DynamoDB Scan of table ", QuoteForMessage(request.table), " (segment ",
             request.segment, " of ", request.total_segments, ")");
  absl::StatusOr<std::string> body = backfill::ScanRequestBody(request);
  if (!body.ok())
    return absl::InvalidArgumentError(StrCat(what, ": ", StatusMessage(body.status())));
  WaitForReadCapacity();
  ASSIGN_OR_RETURN(std::string answer, Call("Scan", *body, what));
  absl::StatusOr<backfill::ScanPage> page = backfill::ParseScanResponse(answer);
  if (!page.ok())
    return absl::InvalidArgumentError(StrCat(what, ": ", StatusMessage(page.status())));
  absl::MutexLock lock(&mu_);
  stats_.consumed_units += page->consumed_capacity_units;
  limiter_.Charge(deps_.clock->NowMillis(), page->consumed_capacity_units);
  last_page_units_ = page->consumed_capacity_units;
  return page;
}

}  // namespace lakehose
