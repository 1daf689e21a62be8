#include "service/s3/s3_client.h"

#include <map>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/s3/sigv4.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/fake_http_client.h"
#include "testing/sigv4_check.h"

namespace lakehose {
namespace {

constexpr int64_t kNowMs = 1369353600000;  // 2013-05-24T00:00:00Z
constexpr char kAkid[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

std::string TargetOf(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string QueryOf(const std::string& url) {
  const size_t q = url.find('?');
  return q == std::string::npos ? "" : url.substr(q + 1);
}

HttpResponse Reply(int status, std::string body = "", HttpHeaders headers = {}) {
  return HttpResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

std::string ErrorXml(std::string_view code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>m</Message><RequestId>RID</RequestId></Error>";
}

// Answers like S3 for one multipart upload ("up-1") and plain puts.
absl::StatusOr<HttpResponse> S3Like(const RecordedHttpRequest& r) {
  const std::string q = QueryOf(r.url);
  if (r.method == "POST" && q == "uploads") {
    return Reply(200,
                 "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                 "<UploadId>up-1</UploadId></InitiateMultipartUploadResult>");
  }
  if (r.method == "PUT" && q.starts_with("partNumber=")) {
    const std::string n = q.substr(11, q.find('&') - 11);
    return Reply(200, "", {{"etag", "\"etag-" + n + "\""}});
  }
  if (r.method == "POST" && q == "uploadId=up-1") {
    return Reply(200,
                 "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                 "</CompleteMultipartUploadResult>");
  }
  if (r.method == "DELETE") return Reply(204);
  if (r.method == "PUT") return Reply(200, "", {{"etag", "\"put\""}});
  if (r.method == "HEAD") return Reply(200, "", {{"content-length", "25"}, {"etag", "\"x-3\""}});
  return Reply(400, ErrorXml("Unexpected"));
}

class CountingCredentials : public CredentialsProvider {
 public:
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    ++calls;
    if (!fail_with.ok()) return fail_with;
    return AwsCredentials{
        .access_key_id = kAkid, .secret_access_key = kSecret, .session_token = token};
  }
  int calls = 0;
  std::string token;
  absl::Status fail_with;
};

class S3ClientTest : public ::testing::Test {
 protected:
  S3ClientOptions PathStyleOptions() {
    return S3ClientOptions{.bucket = "lake-bucket",
                           .region = "us-east-1",
                           .endpoint = "http://127.0.0.1:9000",
                           .max_attempts = 4,
                           .backoff = {.base_delay_ms = 100, .max_delay_ms = 1000},
                           .request_timeout_ms = 30000};
  }
  std::unique_ptr<S3Client> Client(S3ClientOptions o) {
    EXPECT_TRUE(o.Validate().ok()) << o.Validate();
    return std::make_unique<S3Client>(std::move(o),
                                      S3ClientDeps{.http = http_,
                                                   .credentials = creds_,
                                                   .clock = &clock_,
                                                   .sleep =
                                                       [this](int64_t ms) {
                                                         sleeps_.push_back(ms);
                                                         clock_.AdvanceMillis(ms + 1000);
                                                       },
                                                   .random = [] { return 0.5; },
                                                   .breaker = breaker_});
  }
  std::unique_ptr<S3Client> Client() { return Client(PathStyleOptions()); }

  // Every request sent was signed as S3 would verify it.
  void ExpectAllSigned(std::string_view region = "us-east-1") {
    for (const RecordedHttpRequest& r : http_->requests()) {
      EXPECT_EQ(CheckS3Signature(r.method, TargetOf(r.url), r.headers, kSecret, region), "")
          << r.method << " " << r.url;
      EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(r.body)) << r.url;
    }
  }

  std::shared_ptr<FakeHttpClient> http_ = std::make_shared<FakeHttpClient>();
  std::shared_ptr<CountingCredentials> creds_ = std::make_shared<CountingCredentials>();
  FakeClock clock_{kNowMs};
  std::vector<int64_t> sleeps_;
  // Set before Client() to give the client a breaker (default options: 5 down-signals in
  // a row open it, first probe after 1 s with equal jitter; 0.5 draws a 750 ms delay).
  std::shared_ptr<SharedBreaker> breaker_;
};

// The count alone opens it (the fake clock does not move during backoff sleeps; the
// time floor has its own tests in core/delivery/destination_breaker_test.cc).
std::shared_ptr<SharedBreaker> TestBreaker() {
  DestinationBreakerOptions options;
  options.min_down_ms = 0;
  return std::make_shared<SharedBreaker>(options, [] { return 0.5; });
}

// ---- addressing and encoding ------------------------------------------------------

TEST_F(S3ClientTest, IpEndpointUsesPathStyle) {
  http_->Push(200);
  ASSERT_TRUE(Client()->PutObject("k.jsonl", "x", {}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://127.0.0.1:9000/lake-bucket/k.jsonl");
  EXPECT_EQ(r.Header("host"), "127.0.0.1:9000");
  ExpectAllSigned();
}

TEST_F(S3ClientTest, AwsDefaultIsVirtualHosted) {
  http_->Push(200);
  S3ClientOptions o = PathStyleOptions();
  o.endpoint = "";
  o.region = "eu-west-1";
  ASSERT_TRUE(Client(o)->PutObject("a/b.gz", "x", {}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.url, "https://lake-bucket.s3.eu-west-1.amazonaws.com/a/b.gz");
  EXPECT_EQ(r.Header("host"), "lake-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_NE(r.Header("authorization").find("/20130524/eu-west-1/s3/aws4_request"),
            std::string::npos);
  ExpectAllSigned("eu-west-1");
}

TEST_F(S3ClientTest, CustomEndpointVirtualHostedUnlessForcedOrLocal) {
  S3ClientOptions o = PathStyleOptions();
  o.endpoint = "https://minio.example.com:9000/";
  http_->Push(200);
  ASSERT_TRUE(Client(o)->PutObject("k", "x", {}).ok());
  EXPECT_EQ(http_->requests().back().url, "https://lake-bucket.minio.example.com:9000/k");

  o.force_path_style = true;
  http_->Push(200);
  ASSERT_TRUE(Client(o)->PutObject("k", "x", {}).ok());
  EXPECT_EQ(http_->requests().back().url, "https://minio.example.com:9000/lake-bucket/k");
  EXPECT_EQ(http_->requests().back().Header("host"), "minio.example.com:9000");

  o.force_path_style = false;
  o.endpoint = "http://localhost:4568";
  http_->Push(200);
  ASSERT_TRUE(Client(o)->PutObject("k", "x", {}).ok());
  EXPECT_EQ(http_->requests().back().url, "http://localhost:4568/lake-bucket/k");

  o.endpoint = "minio.internal";  // no scheme: https
  o.bucket = "dotted.bucket";     // dots over TLS: path-style, so the certificate matches
  http_->Push(200);
  ASSERT_TRUE(Client(o)->PutObject("k", "x", {}).ok());
  EXPECT_EQ(http_->requests().back().url, "https://minio.internal/dotted.bucket/k");
  ExpectAllSigned();
}

TEST_F(S3ClientTest, HiveKeysArePercentEncodedOnce) {
  http_->Push(200);
  const std::string key = "data/siteId=a b/year=2024/caf\xC3\xA9%2F+x~y(1).jsonl.gz";
  ASSERT_TRUE(Client()->PutObject(key, "body", {}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.url,
            "http://127.0.0.1:9000/lake-bucket/data/siteId%3Da%20b/year%3D2024/"
            "caf%C3%A9%252F%2Bx~y%281%29.jsonl.gz");
  ExpectAllSigned();
}

TEST_F(S3ClientTest, TheSignatureCheckCatchesTampering) {
  // The helper behind ExpectAllSigned must fail when the wire differs from what was signed.
  http_->Push(200);
  ASSERT_TRUE(Client()->PutObject("a b=c", "x", {.content_type = "text/plain"}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(CheckS3Signature(r.method, TargetOf(r.url), r.headers, kSecret, "us-east-1"), "");
  EXPECT_NE(CheckS3Signature(r.method, "/lake-bucket/a%2520b%3Dc", r.headers, kSecret, "us-east-1"),
            "");  // encoded twice
  EXPECT_NE(CheckS3Signature("POST", TargetOf(r.url), r.headers, kSecret, "us-east-1"), "");
  EXPECT_NE(CheckS3Signature(r.method, TargetOf(r.url), r.headers, "other", "us-east-1"), "");
  EXPECT_NE(CheckS3Signature(r.method, TargetOf(r.url), r.headers, kSecret, "us-west-2"), "");
  HttpHeaders changed = r.headers;
  for (auto& [k, v] : changed) {
    if (k == "Content-Type") v = "text/html";
  }
  EXPECT_NE(CheckS3Signature(r.method, TargetOf(r.url), changed, kSecret, "us-east-1"), "");
}

// ---- PutObject headers ------------------------------------------------------------

TEST_F(S3ClientTest, PutObjectSendsHashesTypesAndSignature) {
  http_->Push(200);
  const std::string body = "The quick brown fox jumps over the lazy dog";
  ASSERT_TRUE(Client()
                  ->PutObject("k", body,
                              {.content_type = "application/x-ndjson", .content_encoding = "gzip"})
                  .ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(r.Header("content-encoding"), "gzip");
  EXPECT_EQ(r.Header("content-md5"), "nhB9nTcrtoJr2B01QqQZ1g==");
  EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(body));
  EXPECT_EQ(r.Header("x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(r.Header("x-amz-storage-class"), "");
  EXPECT_EQ(r.Header("x-amz-server-side-encryption"), "");
  EXPECT_EQ(r.Header("if-none-match"), "");
  EXPECT_EQ(r.timeout_ms, 30000);
  const std::string_view auth = r.Header("authorization");
  EXPECT_TRUE(
      auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
                       "us-east-1/s3/aws4_request, SignedHeaders="))
      << auth;
  EXPECT_NE(auth.find("content-md5;content-type;host;x-amz-content-sha256;x-amz-date"),
            std::string::npos)
      << auth;
  ExpectAllSigned();
}

TEST_F(S3ClientTest, EmptyBodyStillCarriesItsHashes) {
  http_->Push(200);
  ASSERT_TRUE(Client()->PutObject("empty", "", {}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.Header("content-md5"), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(r.Header("x-amz-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ExpectAllSigned();
}

TEST_F(S3ClientTest, SseKmsAndStorageClassWhenConfigured) {
  S3ClientOptions o = PathStyleOptions();
  o.kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/abcd";
  o.storage_class = "STANDARD_IA";
  http_->Push(200);
  ASSERT_TRUE(Client(o)->PutObject("k", "x", {}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.Header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(r.Header("x-amz-server-side-encryption-aws-kms-key-id"),
            "arn:aws:kms:us-east-1:111122223333:key/abcd");
  EXPECT_EQ(r.Header("x-amz-storage-class"), "STANDARD_IA");
  EXPECT_NE(r.Header("authorization").find("x-amz-server-side-encryption"), std::string::npos);
  ExpectAllSigned();
}

TEST_F(S3ClientTest, SessionTokenIsSentAndSigned) {
  creds_->token = "FQoGZXIvYXdzEXAMPLETOKEN";
  http_->Push(200);
  ASSERT_TRUE(Client()->PutObject("k", "x", {}).ok());
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.Header("x-amz-security-token"), "FQoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_NE(r.Header("authorization").find("x-amz-security-token"), std::string::npos);
  ExpectAllSigned();
}

TEST_F(S3ClientTest, IfNoneMatchAndAn412IsAlreadyExistsWithoutRetry) {
  http_->Push(412, ErrorXml("PreconditionFailed"));
  const absl::Status s = Client()->PutObject("k", "x", {.if_none_match = true});
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  ASSERT_EQ(http_->request_count(), 1u);
  EXPECT_EQ(http_->requests().at(0).Header("if-none-match"), "*");
  ExpectAllSigned();
}

TEST_F(S3ClientTest, RefusesBadKeysAndHeaderInjection) {
  EXPECT_EQ(Client()->PutObject("", "x", {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Client()->PutObject(std::string(1025, 'k'), "x", {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Client()->PutObject("k", "x", {.content_type = "a\r\nX-Evil: 1"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_->request_count(), 0u);
}

// ---- retries ----------------------------------------------------------------------

TEST_F(S3ClientTest, RetriesOn503SlowDownThenSucceedsReSigningEachTry) {
  http_->Push(503, ErrorXml("SlowDown"));
  http_->Push(200);
  auto client = Client();
  ASSERT_TRUE(client->PutObject("k", "payload", {}).ok());
  const std::vector<RecordedHttpRequest> rs = http_->requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(sleeps_, std::vector<int64_t>{50});  // full jitter: 0.5 of the 100 ms ceiling
  // The retry was signed again, at the later time.
  EXPECT_EQ(rs[0].Header("x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(rs[1].Header("x-amz-date"), "20130524T000001Z");
  EXPECT_NE(rs[0].Header("authorization"), rs[1].Header("authorization"));
  EXPECT_EQ(rs[1].body, "payload");
  EXPECT_EQ(creds_->calls, 2);
  const S3Stats st = client->stats();
  EXPECT_EQ(st.operations, 1);
  EXPECT_EQ(st.attempts, 2);
  EXPECT_EQ(st.retries, 1);
  EXPECT_EQ(st.throttled, 1);
  EXPECT_EQ(st.server_errors, 0);
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(st.bytes_uploaded, 7);
  ExpectAllSigned();
}

TEST_F(S3ClientTest, RetriesOnServerErrorsTimeoutsAndResets) {
  http_->Push(500, ErrorXml("InternalError"));
  http_->Push(absl::UnavailableError("connection reset"));
  http_->Push(absl::DeadlineExceededError("timed out"));
  http_->Push(200);
  auto client = Client();
  ASSERT_TRUE(client->PutObject("k", "x", {}).ok());
  EXPECT_EQ(http_->request_count(), 4u);
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{50, 100, 200}));  // ceilings 100, 200, 400
  const S3Stats st = client->stats();
  EXPECT_EQ(st.server_errors, 1);
  EXPECT_EQ(st.transport_errors, 2);
  EXPECT_EQ(st.throttled, 0);
}

TEST_F(S3ClientTest, TheObserverSeesEveryExchangeClassifiedOnce) {
  http_->Push(503, ErrorXml("SlowDown"));
  http_->Push(500, ErrorXml("InternalError"));
  http_->Push(absl::UnavailableError("connection reset"));
  http_->Push(200);
  http_->Push(412, ErrorXml("PreconditionFailed"));
  http_->Push(403, ErrorXml("AccessDenied"));
  std::vector<std::string> seen;
  S3ClientDeps deps{.http = http_,
                    .credentials = creds_,
                    .clock = &clock_,
                    .sleep = [](int64_t) {},
                    .random = [] { return 0.5; },
                    .observer =
                        [&](S3Operation op, S3Outcome outcome, double seconds, bool retry) {
                          EXPECT_GE(seconds, 0);
                          seen.push_back(StrCat(S3OperationName(op), " ", S3OutcomeName(outcome),
                                                retry ? " retry" : ""));
                        }};
  S3Client client(PathStyleOptions(), std::move(deps));
  ASSERT_TRUE(client.PutObject("k", "x", {}).ok());
  EXPECT_EQ(client.PutObject("k", "x", {.if_none_match = true}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(client.PutObject("k", "x", {}).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "PutObject throttled",
                      "PutObject server_error retry",
                      "PutObject network_error retry",
                      "PutObject ok retry",
                      "PutObject precondition_failed",
                      "PutObject client_error",
                  }));
}

TEST_F(S3ClientTest, GivesUpAfterMaxAttemptsWithUnavailable) {
  http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Reply(503, ErrorXml("SlowDown"));
  });
  auto client = Client();
  const absl::Status s = client->PutObject("k", "x", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(StatusMessage(s)).find("SlowDown"), std::string::npos) << s;
  EXPECT_NE(std::string(StatusMessage(s)).find("s3://lake-bucket/k"), std::string::npos) << s;
  EXPECT_EQ(http_->request_count(), 4u);
  EXPECT_EQ(sleeps_.size(), 3u);
  EXPECT_EQ(client->stats().throttled, 4);
  EXPECT_EQ(client->stats().failed, 1);
}

// Issue 13: against a destination answering 503 to everything, one object held an upload
// thread for the whole ladder (10 attempts, 12-17 s) although its retry budget had run
// out. With a deadline the retries stop where the next wait would end past it.
class S3ClientDeadlineTest : public S3ClientTest {
 protected:
  // Sleeps move the clock by exactly the wait; every answer is a 503 SlowDown.
  std::unique_ptr<S3Client> AlwaysThrottled(int max_attempts) {
    http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
      return Reply(503, ErrorXml("SlowDown"));
    });
    S3ClientOptions o = PathStyleOptions();
    o.max_attempts = max_attempts;
    return std::make_unique<S3Client>(o, S3ClientDeps{.http = http_,
                                                      .credentials = creds_,
                                                      .clock = &clock_,
                                                      .sleep =
                                                          [this](int64_t ms) {
                                                            sleeps_.push_back(ms);
                                                            clock_.AdvanceMillis(ms);
                                                          },
                                                      .random = [] { return 0.5; }});
  }
};

TEST_F(S3ClientDeadlineTest, RetriesStopBeforeTheDeadlineAgainstA503Everywhere) {
  auto client = AlwaysThrottled(10);
  // Waits (0.5 of ceilings 100, 200, 400, 800, 1000...): 50, 100, 200, 400, 500: the
  // fifth try is at 750 ms, and its wait would end at 1250 ms, past the 1000 ms deadline.
  const absl::Status s =
      client->PutObject("k", "x", {.deadline = absl::FromUnixMillis(kNowMs + 1000)});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(StatusMessage(s)).find("SlowDown"), std::string::npos) << s;
  EXPECT_NE(std::string(StatusMessage(s)).find("deadline"), std::string::npos) << s;
  EXPECT_EQ(http_->request_count(), 5u);
  EXPECT_LT(http_->request_count(), 10u);
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{50, 100, 200, 400}));
  EXPECT_LE(clock_.NowMillis(), kNowMs + 1000);  // never waited past it
  EXPECT_EQ(client->stats().retries, 4);
  EXPECT_EQ(client->stats().failed, 1);
}

TEST_F(S3ClientDeadlineTest, WithoutADeadlineEveryAttemptIsMade) {
  auto client = AlwaysThrottled(10);
  const absl::Status s = client->PutObject("k", "x", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(http_->request_count(), 10u);
  EXPECT_EQ(sleeps_.size(), 9u);
}

TEST_F(S3ClientDeadlineTest, APassedDeadlineStillMakesTheFirstTry) {
  auto client = AlwaysThrottled(10);
  const absl::Status s = client->PutObject("k", "x", {.deadline = absl::FromUnixMillis(kNowMs)});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(http_->request_count(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(S3ClientDeadlineTest, AWaitEndingExactlyAtTheDeadlineIsMade) {
  auto client = AlwaysThrottled(10);
  // 50 + 100 + 200 + 400 = 750: the fifth try starts exactly at the deadline.
  const absl::Status s =
      client->PutObject("k", "x", {.deadline = absl::FromUnixMillis(kNowMs + 750)});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(http_->request_count(), 5u);
}

TEST_F(S3ClientDeadlineTest, AMultipartUploadStopsItsPartRetriesAtTheDeadlineAndAborts) {
  S3ClientOptions o = PathStyleOptions();
  o.max_attempts = 10;
  http_->SetHandler([](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (QueryOf(r.url).starts_with("partNumber=2")) return Reply(503, ErrorXml("SlowDown"));
    return S3Like(r);
  });
  S3Client client(o, S3ClientDeps{.http = http_,
                                  .credentials = creds_,
                                  .clock = &clock_,
                                  .sleep = [this](int64_t ms) { clock_.AdvanceMillis(ms); },
                                  .random = [] { return 0.5; }});
  const absl::Status s = client.PutObjectMultipart(
      "k", std::string(25, 'x'), 10, {.deadline = absl::FromUnixMillis(kNowMs + 1000)});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  const std::vector<RecordedHttpRequest> rs = http_->requests();
  ASSERT_EQ(rs.size(), 1u + 1u + 5u + 1u);  // create, part 1, part 2 five times, abort
  EXPECT_EQ(rs.back().method, "DELETE");
}

// Issue 13, one retry policy: every step of a multipart upload used to have its own
// ladder of max_attempts, so one object could spend (parts + 2) * max_attempts failed
// exchanges. The steps now share the Put's failure budget, and its backoff ladder.
TEST_F(S3ClientTest, AMultipartUploadsStepsShareOneFailureBudget) {
  std::map<std::string, int> failures_left = {
      {"uploads", 1}, {"partNumber=1", 1}, {"partNumber=2", 100}};
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    for (auto& [query, left] : failures_left) {
      if (QueryOf(r.url).starts_with(query) && r.method != "DELETE" && left > 0) {
        --left;
        return Reply(503, ErrorXml("SlowDown"));
      }
    }
    return S3Like(r);
  });
  int spent = 0;
  const absl::Status s = Client()->PutObjectMultipart(  // max_attempts 4
      "k", std::string(25, 'x'), 10, {.failures_spent = &spent});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(StatusMessage(s)).find("failure budget is spent"), std::string::npos) << s;
  EXPECT_EQ(spent, 4);
  std::vector<std::string> sent;
  for (const RecordedHttpRequest& r : http_->requests()) {
    sent.push_back(StrCat(r.method, " ", QueryOf(r.url)));
  }
  EXPECT_EQ(sent, (std::vector<std::string>{
                      "POST uploads",  // create: 1 failure
                      "POST uploads",
                      "PUT partNumber=1&uploadId=up-1",  // part 1: 1 failure
                      "PUT partNumber=1&uploadId=up-1",
                      "PUT partNumber=2&uploadId=up-1",  // part 2: 2 failures, spent
                      "PUT partNumber=2&uploadId=up-1",
                      "DELETE uploadId=up-1",  // the abort (its own 3 tries)
                  }));
  // One ladder: 0.5 of the ceilings 100, 200, 400 ms, not 100 ms again at every step.
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{50, 100, 200}));
}

TEST_F(S3ClientTest, AHealthyMultipartUploadSpendsNoFailures) {
  http_->SetHandler(&S3Like);
  int spent = 0;
  ASSERT_TRUE(Client()
                  ->PutObjectMultipart("k", std::string(25, 'x'), 10,
                                       {.max_failures = 1, .failures_spent = &spent})
                  .ok());
  EXPECT_EQ(spent, 0);
  EXPECT_EQ(http_->request_count(), 5u);
}

// The caller's budget: a Put given 2 failures after 3 earlier ones stops after its second
// failed exchange, its backoff resuming the object's ladder (0.5 of the 800 ms ceiling of
// the 4th failure), and names the budget.
TEST_F(S3ClientTest, TheObjectsSpentBudgetStopsThePut) {
  http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Reply(500, ErrorXml("InternalError"));
  });
  int spent = 0;
  auto client = Client();  // max_attempts 4
  const absl::Status s = client->PutObject(
      "k", "x", {.failures_before = 3, .max_failures = 2, .failures_spent = &spent});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(StatusMessage(s))
                .find("the object's failure budget is spent: 5 failed exchanges; "
                      "destination.retry.max_attempts 4"),
            std::string::npos)
      << s;
  EXPECT_EQ(http_->request_count(), 2u);
  EXPECT_EQ(sleeps_, std::vector<int64_t>{400});
  EXPECT_EQ(spent, 2);
  // A 412 is the answer If-None-Match asks for, not a failure.
  http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Reply(412, ErrorXml("PreconditionFailed"));
  });
  spent = 0;
  EXPECT_EQ(client->PutObject("k", "x", {.if_none_match = true, .failures_spent = &spent}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(spent, 0);
}

TEST_F(S3ClientTest, BackoffIsCapped) {
  S3ClientOptions o = PathStyleOptions();
  o.max_attempts = 10;
  http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Reply(500, ErrorXml("InternalError"));
  });
  EXPECT_FALSE(Client(o)->PutObject("k", "x", {}).ok());
  ASSERT_EQ(sleeps_.size(), 9u);
  for (int64_t ms : sleeps_) EXPECT_LE(ms, 500);  // 0.5 of the 1000 ms cap
  EXPECT_EQ(sleeps_.back(), 500);
}

struct PermanentCase {
  int status;
  const char* code;
  absl::StatusCode expected;
};

TEST_F(S3ClientTest, NoRetryOnClientAndConfigurationErrors) {
  const PermanentCase cases[] = {
      {403, "AccessDenied", absl::StatusCode::kPermissionDenied},
      {403, "SignatureDoesNotMatch", absl::StatusCode::kPermissionDenied},
      {404, "NoSuchBucket", absl::StatusCode::kNotFound},
      {400, "InvalidArgument", absl::StatusCode::kInvalidArgument},
      {400, "AuthorizationHeaderMalformed", absl::StatusCode::kFailedPrecondition},
      {301, "PermanentRedirect", absl::StatusCode::kFailedPrecondition},
      {405, "MethodNotAllowed", absl::StatusCode::kFailedPrecondition},
      {501, "NotImplemented", absl::StatusCode::kUnimplemented},
  };
  for (const PermanentCase& c : cases) {
    auto http = std::make_shared<FakeHttpClient>();
    http_ = http;
    http->Push(c.status, ErrorXml(c.code));
    const absl::Status s = Client()->PutObject("k", "x", {});
    EXPECT_EQ(s.code(), c.expected) << c.status << " " << c.code << ": " << s;
    EXPECT_EQ(http->request_count(), 1u) << c.code;
  }
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(S3ClientTest, WrongRegionNamesTheBucketsRegion) {
  http_->Push(301, ErrorXml("PermanentRedirect"), {{"x-amz-bucket-region", "eu-north-1"}});
  const absl::Status s = Client()->PutObject("k", "x", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(StatusMessage(s)).find("eu-north-1"), std::string::npos) << s;
}

TEST_F(S3ClientTest, RequestTimeoutIsRetriedDespiteBeingA400) {
  http_->Push(400, ErrorXml("RequestTimeout"));
  http_->Push(200);
  EXPECT_TRUE(Client()->PutObject("k", "x", {}).ok());
  EXPECT_EQ(http_->request_count(), 2u);
}

TEST_F(S3ClientTest, CredentialsErrorsStopBeforeAnyRequest) {
  creds_->fail_with = absl::FailedPreconditionError("no AWS credentials found");
  const absl::Status s = Client()->PutObject("k", "x", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(http_->request_count(), 0u);
}

TEST_F(S3ClientTest, UnreachableCredentialsEndpointIsRetried) {
  creds_->fail_with = absl::UnavailableError("imds unreachable");
  const absl::Status s = Client()->PutObject("k", "x", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(creds_->calls, 4);
  EXPECT_EQ(http_->request_count(), 0u);
}

// ---- multipart --------------------------------------------------------------------

TEST_F(S3ClientTest, MultipartCreateUploadPartsComplete) {
  http_->SetHandler(&S3Like);
  S3ClientOptions o = PathStyleOptions();
  o.kms_key_id = "key-1";
  o.storage_class = "GLACIER_IR";
  const std::string body = "0123456789abcdefghijKLMNO";  // 25 bytes: parts of 10, 10, 5
  auto client = Client(o);
  ASSERT_TRUE(
      client
          ->PutObjectMultipart("dir/k=v x", body, 10,
                               {.content_type = "application/x-ndjson", .content_encoding = "zstd"})
          .ok());
  const std::vector<RecordedHttpRequest> rs = http_->requests();
  ASSERT_EQ(rs.size(), 5u);
  EXPECT_EQ(rs[0].method, "POST");
  EXPECT_EQ(rs[0].url, "http://127.0.0.1:9000/lake-bucket/dir/k%3Dv%20x?uploads");
  EXPECT_EQ(rs[0].Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(rs[0].Header("content-encoding"), "zstd");
  EXPECT_EQ(rs[0].Header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(rs[0].Header("x-amz-server-side-encryption-aws-kms-key-id"), "key-1");
  EXPECT_EQ(rs[0].Header("x-amz-storage-class"), "GLACIER_IR");
  const char* parts[] = {"0123456789", "abcdefghij", "KLMNO"};
  for (int i = 0; i < 3; ++i) {
    const RecordedHttpRequest& p = rs[1 + i];
    EXPECT_EQ(p.method, "PUT");
    EXPECT_EQ(QueryOf(p.url), "partNumber=" + std::to_string(i + 1) + "&uploadId=up-1");
    EXPECT_EQ(p.body, parts[i]);
    EXPECT_EQ(p.Header("content-md5"), ContentMd5(parts[i]));
    EXPECT_EQ(p.Header("x-amz-server-side-encryption"), "");  // only on Create
  }
  EXPECT_EQ(rs[4].method, "POST");
  EXPECT_EQ(QueryOf(rs[4].url), "uploadId=up-1");
  EXPECT_EQ(rs[4].body, BuildCompleteMultipartUploadXml(
                            {{1, "\"etag-1\""}, {2, "\"etag-2\""}, {3, "\"etag-3\""}}));
  EXPECT_EQ(rs[4].Header("content-md5"), ContentMd5(rs[4].body));
  EXPECT_EQ(client->stats().bytes_uploaded, 25);
  ExpectAllSigned();
}

TEST_F(S3ClientTest, AbortAfterAFailedPart) {
  http_->SetHandler([](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (QueryOf(r.url).starts_with("partNumber=2")) return Reply(403, ErrorXml("AccessDenied"));
    return S3Like(r);
  });
  const absl::Status s = Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  const std::vector<RecordedHttpRequest> rs = http_->requests();
  ASSERT_EQ(rs.size(), 4u);  // create, part 1, part 2 (no retry), abort
  EXPECT_EQ(rs[3].method, "DELETE");
  EXPECT_EQ(rs[3].url, "http://127.0.0.1:9000/lake-bucket/k?uploadId=up-1");
  ExpectAllSigned();
}

TEST_F(S3ClientTest, AbortAfterPartRetriesRunOut) {
  http_->SetHandler([](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (QueryOf(r.url).starts_with("partNumber=2")) return Reply(500, ErrorXml("InternalError"));
    return S3Like(r);
  });
  const absl::Status s = Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  const std::vector<RecordedHttpRequest> rs = http_->requests();
  ASSERT_EQ(rs.size(), 1u + 1u + 4u + 1u);
  EXPECT_EQ(rs.back().method, "DELETE");
}

TEST_F(S3ClientTest, CompleteAnswering200WithAnErrorIsRetried) {
  int completes = 0;
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (r.method == "POST" && QueryOf(r.url) == "uploadId=up-1" && completes++ == 0) {
      return Reply(200, std::string(100, ' ') + ErrorXml("InternalError"));
    }
    return S3Like(r);
  });
  auto client = Client();
  ASSERT_TRUE(client->PutObjectMultipart("k", std::string(25, 'x'), 10, {}).ok());
  EXPECT_EQ(completes, 2);
  EXPECT_EQ(client->stats().server_errors, 1);
  for (const RecordedHttpRequest& r : http_->requests()) EXPECT_NE(r.method, "DELETE");
}

TEST_F(S3ClientTest, CompleteWithATruncatedAnswerIsRetried) {
  int completes = 0;
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (r.method == "POST" && QueryOf(r.url) == "uploadId=up-1" && completes++ == 0) {
      return Reply(200, "        ");
    }
    return S3Like(r);
  });
  ASSERT_TRUE(Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {}).ok());
  EXPECT_EQ(completes, 2);
}

TEST_F(S3ClientTest, NoSuchUploadOnARetriedCompleteChecksTheObject) {
  int completes = 0;
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (r.method == "POST" && QueryOf(r.url) == "uploadId=up-1") {
      // The first try completed but its answer was lost.
      if (completes++ == 0) return absl::UnavailableError("connection reset");
      return Reply(404, ErrorXml("NoSuchUpload"));
    }
    return S3Like(r);  // HEAD: 25 bytes
  });
  ASSERT_TRUE(Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {}).ok());
  const std::vector<RecordedHttpRequest> rs = http_->requests();
  EXPECT_EQ(rs.back().method, "HEAD");
  for (const RecordedHttpRequest& r : rs) EXPECT_NE(r.method, "DELETE");
}

TEST_F(S3ClientTest, NoSuchUploadWithAWrongSizedObjectFails) {
  int completes = 0;
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (r.method == "POST" && QueryOf(r.url) == "uploadId=up-1") {
      if (completes++ == 0) return Reply(503, ErrorXml("SlowDown"));
      return Reply(404, ErrorXml("NoSuchUpload"));
    }
    if (r.method == "HEAD") return Reply(200, "", {{"content-length", "24"}});
    return S3Like(r);
  });
  const absl::Status s = Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(http_->requests().back().method, "DELETE");  // abort, best effort
}

TEST_F(S3ClientTest, NoSuchUploadOnTheFirstCompleteIsNotChecked) {
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (r.method == "POST" && QueryOf(r.url) == "uploadId=up-1") {
      return Reply(404, ErrorXml("NoSuchUpload"));
    }
    return S3Like(r);
  });
  EXPECT_EQ(Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {}).code(),
            absl::StatusCode::kNotFound);
  for (const RecordedHttpRequest& r : http_->requests()) EXPECT_NE(r.method, "HEAD");
}

TEST_F(S3ClientTest, IfNoneMatchGoesOnComplete) {
  http_->SetHandler(&S3Like);
  ASSERT_TRUE(
      Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {.if_none_match = true}).ok());
  for (const RecordedHttpRequest& r : http_->requests()) {
    const bool complete = r.method == "POST" && QueryOf(r.url) == "uploadId=up-1";
    EXPECT_EQ(r.Header("if-none-match"), complete ? "*" : "") << r.url;
  }
}

TEST_F(S3ClientTest, MalformedCreateAnswerIsRetried) {
  http_->Push(200, "<html>proxy page</html>");
  http_->SetHandler(&S3Like);
  ASSERT_TRUE(Client()->PutObjectMultipart("k", std::string(25, 'x'), 10, {}).ok());
  EXPECT_EQ(http_->requests().at(1).method, "POST");
  EXPECT_EQ(QueryOf(http_->requests().at(1).url), "uploads");
}

TEST_F(S3ClientTest, MissingPartETagIsRetried) {
  http_->SetHandler(&S3Like);
  http_->Push(200,
              "<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
              "</InitiateMultipartUploadResult>");
  http_->Push(200);  // part 1 without ETag
  ASSERT_TRUE(Client()->PutObjectMultipart("k", std::string(5, 'x'), 10, {}).ok());
  EXPECT_EQ(http_->request_count(), 4u);  // create, part (no etag), part, complete
}

TEST_F(S3ClientTest, PartsGrowToStayWithinTenThousand) {
  int parts = 0;
  http_->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    if (QueryOf(r.url).starts_with("partNumber=")) ++parts;
    return S3Like(r);
  });
  ASSERT_TRUE(Client()->PutObjectMultipart("k", std::string(20001, 'x'), 1, {}).ok());
  EXPECT_EQ(parts, 6667);  // parts of 3 bytes
}

// ---- HeadObject and Abort --------------------------------------------------------

TEST_F(S3ClientTest, HeadObject) {
  http_->Push(200, "", {{"content-length", "1234"}, {"etag", "\"abc\""}});
  absl::StatusOr<S3ObjectInfo> info = Client()->HeadObject("a b");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 1234);
  EXPECT_EQ(info->etag, "\"abc\"");
  EXPECT_EQ(http_->requests().at(0).method, "HEAD");
  EXPECT_EQ(http_->requests().at(0).url, "http://127.0.0.1:9000/lake-bucket/a%20b");
  http_->Push(404);
  EXPECT_EQ(Client()->HeadObject("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(http_->request_count(), 2u);
  ExpectAllSigned();
}

// ---- GetObject --------------------------------------------------------------------

TEST_F(S3ClientTest, GetObjectReturnsTheBodyOfASignedGet) {
  const std::string body = std::string("{\"format-version\":2}\0\xff", 22);
  http_->Push(200, body, {{"content-length", "22"}, {"etag", "\"m1\""}});
  auto s3 = Client();
  absl::StatusOr<std::string> got = s3->GetObject("t/metadata/v1.metadata.json");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, body);
  ASSERT_EQ(http_->request_count(), 1u);
  const RecordedHttpRequest r = http_->requests().at(0);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "http://127.0.0.1:9000/lake-bucket/t/metadata/v1.metadata.json");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("x-amz-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.Header("content-md5"), "");
  EXPECT_EQ(r.timeout_ms, 30000);
  EXPECT_EQ(r.max_response_bytes, kS3MaxGetObjectBytes) << "the object's limit, not 16 MiB";
  ExpectAllSigned();
  // Hive keys are encoded once, as for PUT; no Content-Length is fine.
  http_->Push(200, "1");
  got = s3->GetObject("t/region=EU West/version-hint.text");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "1");
  EXPECT_EQ(http_->requests().at(1).url,
            "http://127.0.0.1:9000/lake-bucket/t/region%3DEU%20West/version-hint.text");
  ExpectAllSigned();
  const S3Stats st = s3->stats();
  EXPECT_EQ(st.operations, 2);
  EXPECT_EQ(st.attempts, 2);
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(st.bytes_uploaded, 0);
}

TEST_F(S3ClientTest, GetObjectOfAMissingKeyIsNotFoundWithoutRetryOrFailure) {
  breaker_ = TestBreaker();
  auto s3 = Client();
  for (int i = 0; i < 6; ++i) {
    http_->Push(404, ErrorXml("NoSuchKey"));
    const absl::Status s = s3->GetObject("t/metadata/version-hint.text").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_NE(std::string(StatusMessage(s)).find("s3://lake-bucket/t/metadata/version-hint.text"),
              std::string::npos)
        << s;
  }
  EXPECT_EQ(http_->request_count(), 6u);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(s3->stats().failed, 0);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kClosed);
  // A 404 without a body (some S3-compatible servers) is the key's too.
  http_->Push(404);
  EXPECT_EQ(s3->GetObject("k").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s3->stats().failed, 0);
  // No bucket is not "no object": the caller must not take it for a new table.
  http_->Push(404, ErrorXml("NoSuchBucket"));
  const absl::Status no_bucket = s3->GetObject("k").status();
  EXPECT_EQ(no_bucket.code(), absl::StatusCode::kFailedPrecondition) << no_bucket;
  EXPECT_NE(std::string(StatusMessage(no_bucket)).find("NoSuchBucket"), std::string::npos);
  EXPECT_EQ(s3->stats().failed, 1);
}

TEST_F(S3ClientTest, GetObjectRetriesServerErrorsAndThrottlingReSigningEachTry) {
  http_->Push(503, ErrorXml("SlowDown"));
  http_->Push(absl::UnavailableError("connection reset"));
  http_->Push(500, ErrorXml("InternalError"));
  http_->Push(200, "v3", {{"content-length", "2"}});
  std::vector<std::string> seen;
  S3Client s3(PathStyleOptions(),
              {.http = http_,
               .credentials = creds_,
               .clock = &clock_,
               .sleep = [this](int64_t ms) { sleeps_.push_back(ms); },
               .random = [] { return 0.5; },
               .observer =
                   [&](S3Operation op, S3Outcome outcome, double, bool retry) {
                     seen.push_back(StrCat(S3OperationName(op), " ", S3OutcomeName(outcome),
                                           retry ? " retry" : ""));
                   }});
  absl::StatusOr<std::string> got = s3.GetObject("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "v3");
  EXPECT_EQ(http_->request_count(), 4u);
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{50, 100, 200}));
  EXPECT_EQ(creds_->calls, 4) << "every try signed again";
  ExpectAllSigned();
  EXPECT_EQ(seen, (std::vector<std::string>{"GetObject throttled", "GetObject network_error retry",
                                            "GetObject server_error retry", "GetObject ok retry"}));
  EXPECT_EQ(s3.stats().retries, 3);
  EXPECT_EQ(s3.stats().failed, 0);
}

TEST_F(S3ClientTest, GetObjectGivesUpWithUnavailableAndStopsAtItsDeadline) {
  http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Reply(503, ErrorXml("SlowDown"));
  });
  auto s3 = Client();  // max_attempts 4
  absl::Status s = s3->GetObject("k").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(StatusMessage(s)).find("S3 GetObject s3://lake-bucket/k"),
            std::string::npos)
      << s;
  EXPECT_EQ(http_->request_count(), 4u);
  EXPECT_EQ(s3->stats().failed, 1);
  // A deadline that has come: the first try only.
  s = s3->GetObject("k", absl::FromUnixMillis(clock_.NowMillis())).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(http_->request_count(), 5u);
}

TEST_F(S3ClientTest, GetObjectDoesNotRetryPermanentAnswers) {
  http_->Push(403, ErrorXml("AccessDenied"));
  http_->Push(400, ErrorXml("InvalidRequest"));
  auto s3 = Client();
  EXPECT_EQ(s3->GetObject("k").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s3->GetObject("k").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_->request_count(), 2u);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(s3->GetObject("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s3->GetObject(std::string(1025, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_->request_count(), 2u) << "bad keys send nothing";
}

// A body cut short (a proxy, a reset the HTTP client did not see) is not the object.
TEST_F(S3ClientTest, GetObjectWhoseBodyIsNotItsContentLengthIsRetried) {
  http_->Push(200, "0123", {{"content-length", "10"}});
  http_->Push(200, "0123456789", {{"content-length", "10"}});
  auto s3 = Client();
  absl::StatusOr<std::string> got = s3->GetObject("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "0123456789");
  EXPECT_EQ(http_->request_count(), 2u);
  EXPECT_EQ(s3->stats().server_errors, 1);
  http_->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Reply(200, "0123", {{"content-length", "10"}});
  });
  const absl::Status s = s3->GetObject("k").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(std::string(StatusMessage(s)).find("IncompleteBody: Content-Length 10 but 4 bytes"),
            std::string::npos)
      << s;
}

TEST_F(S3ClientTest, GetObjectLargerThanItsLimitIsFailedPreconditionWithoutRetry) {
  breaker_ = TestBreaker();
  auto s3 = Client();
  http_->Push(200, std::string(10, 'x'));
  absl::StatusOr<std::string> got = s3->GetObject("k", absl::InfiniteFuture(), 10);
  ASSERT_TRUE(got.ok()) << got.status() << ": the limit itself is allowed";
  EXPECT_EQ(http_->requests().at(0).max_response_bytes, 10u);
  for (int i = 0; i < 6; ++i) {
    http_->Push(200, std::string(11, 'x'));
    const absl::Status s = s3->GetObject("k", absl::InfiniteFuture(), 10).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(std::string(StatusMessage(s)).find("larger than the 10 bytes"), std::string::npos)
        << s;
  }
  EXPECT_EQ(http_->request_count(), 7u) << "never retried";
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(s3->stats().failed, 6);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kClosed)
      << "a large object says nothing about the destination's health";
}

TEST_F(S3ClientTest, GetObjectIsRefusedWithoutSendingWhileTheBreakerIsOpen) {
  breaker_ = TestBreaker();
  auto s3 = Client();  // max_attempts 4
  for (int i = 0; i < 5; ++i) http_->Push(503, ErrorXml("SlowDown"));
  EXPECT_TRUE(absl::IsUnavailable(s3->GetObject("a").status()));
  const absl::Status s = s3->GetObject("b").status();  // the fifth 503 opens it
  EXPECT_TRUE(IsDestinationDown(s)) << s;
  ASSERT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kOpen);
  ASSERT_EQ(http_->request_count(), 5u);
  http_->Push(200, "v");
  const absl::Status refused = s3->GetObject("c").status();
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_TRUE(IsDestinationDown(refused)) << refused;
  EXPECT_NE(std::string(StatusMessage(refused)).find("is down (circuit open"), std::string::npos)
      << refused;
  EXPECT_EQ(http_->request_count(), 5u) << "nothing sent while open";
  // At the probe time the Get is the probe; its success closes the breaker.
  clock_.AdvanceMillis(750);
  absl::StatusOr<std::string> got = s3->GetObject("c");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "v");
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kClosed);
}

TEST_F(S3ClientTest, AbortOfAVanishedUploadSucceeds) {
  http_->Push(404, ErrorXml("NoSuchUpload"));
  EXPECT_TRUE(Client()->AbortMultipartUpload("k", "gone").ok());
}

// ---- options -------------------------------------------------------------------

TEST(S3ClientOptionsTest, FromSpecWithEnvironmentFallbacks) {
  DestinationSpec spec;
  spec.kind = DestinationKind::kS3;
  spec.bucket = "b1";
  auto o = S3ClientOptionsFromSpec(
      spec,
      MapGetenv({{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4568"}, {"AWS_REGION", "ap-south-1"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(o->region, "ap-south-1");
  EXPECT_EQ(o->max_attempts, 10);
  EXPECT_EQ(o->backoff.base_delay_ms, 100);
  EXPECT_EQ(o->backoff.max_delay_ms, 20000);
  EXPECT_EQ(o->request_timeout_ms, 60000);

  spec.endpoint = "https://s3.example.com";
  spec.region = "eu-west-3";
  o = S3ClientOptionsFromSpec(
      spec, MapGetenv({{"AWS_ENDPOINT_URL_S3", "http://ignored"}, {"AWS_REGION", "ignored"}}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->endpoint, "https://s3.example.com");  // the config wins
  EXPECT_EQ(o->region, "eu-west-3");
}

TEST(S3ClientOptionsTest, RegionRules) {
  DestinationSpec spec;
  spec.bucket = "b1";
  EXPECT_EQ(S3ClientOptionsFromSpec(spec, MapGetenv({})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(S3ClientOptionsFromSpec(spec, MapGetenv({{"AWS_DEFAULT_REGION", "us-west-1"}}))->region,
            "us-west-1");
  spec.endpoint = "http://127.0.0.1:9000";
  EXPECT_EQ(S3ClientOptionsFromSpec(spec, MapGetenv({}))->region, "us-east-1");
}

TEST(S3ClientOptionsTest, Validation) {
  const S3ClientOptions good{.bucket = "b1", .region = "us-east-1"};
  EXPECT_TRUE(good.Validate().ok());
  auto bad = [&](auto mutate) {
    S3ClientOptions o = good;
    mutate(o);
    return o.Validate().code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.bucket = ""; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.bucket = "a/b"; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.region = "US East"; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.endpoint = "ftp://x"; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.endpoint = "http://"; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.endpoint = "http://u@host"; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.max_attempts = 0; }));
  EXPECT_TRUE(bad([](S3ClientOptions& o) { o.kms_key_id = "k\nx"; }));
}

// The `destination` label and health name: the bucket on AWS, endpoint and bucket
// elsewhere; one breaker per endpoint and bucket, named once.
TEST(DestinationBreakersTest, NamesAndOneBreakerPerEndpointAndBucket) {
  S3ClientOptions aws{.bucket = "lake", .region = "eu-west-1"};
  S3ClientOptions minio{
      .bucket = "lake", .region = "us-east-1", .endpoint = "http://10.0.0.5:9000"};
  S3ClientOptions based{
      .bucket = "lake", .region = "us-east-1", .endpoint = "https://s3.example/store"};
  EXPECT_EQ(DestinationLabel(aws), "s3://lake");
  EXPECT_EQ(DestinationLabel(minio), "10.0.0.5:9000/lake");
  EXPECT_EQ(DestinationLabel(based), "s3.example/store/lake");

  DestinationBreakers breakers;
  const std::shared_ptr<SharedBreaker> a = breakers.For(aws);
  EXPECT_EQ(breakers.For(minio), breakers.For(minio));
  EXPECT_NE(breakers.For(minio), a);
  EXPECT_EQ(breakers.For(aws), a);
  // Another spelling of the same endpoint is the same destination.
  S3ClientOptions minio_slash = minio;
  minio_slash.endpoint = "http://10.0.0.5:9000/";
  EXPECT_EQ(breakers.For(minio_slash), breakers.For(minio));
  const std::vector<DestinationBreakers::Named> named = breakers.AllNamed();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].name, "s3://lake");
  EXPECT_EQ(named[0].breaker, a);
  EXPECT_EQ(named[1].name, "10.0.0.5:9000/lake");
}

TEST(S3HelpersTest, ContentMd5) {
  EXPECT_EQ(ContentMd5(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(ContentMd5("The quick brown fox jumps over the lazy dog"), "nhB9nTcrtoJr2B01QqQZ1g==");
}

}  // namespace
}  // namespace lakehose

namespace lakehose {
namespace {

// ---- the destination's breaker --------------------------------------------------

TEST_F(S3ClientTest, BreakerOpensAfterFiveServerErrorsAndFailsFastWithoutSending) {
  breaker_ = TestBreaker();
  auto s3 = Client();  // max_attempts 4
  for (int i = 0; i < 5; ++i) http_->Push(503, ErrorXml("SlowDown"));
  // Four 503s in the first Put (the breaker counts 4 in a row: still closed).
  EXPECT_TRUE(absl::IsUnavailable(s3->PutObject("a", "x", {})));
  EXPECT_EQ(http_->requests().size(), 4u);
  EXPECT_EQ(sleeps_.size(), 3u);
  // The fifth opens it: the Put stops at once, without waiting out a backoff.
  absl::Status s = s3->PutObject("b", "x", {});
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(IsDestinationDown(s)) << "it opened the breaker: the retry is refused";
  EXPECT_EQ(http_->requests().size(), 5u);
  EXPECT_EQ(sleeps_.size(), 3u);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kOpen);
  // Until the probe time nothing is sent, whatever the fake would answer.
  http_->Push(200);
  s = s3->PutObject("c", "x", {});
  EXPECT_TRUE(IsDestinationDown(s)) << s;
  EXPECT_NE(std::string(s.message())
                .find("destination lake-bucket is down (circuit open; next "
                      "probe in 750 ms); last: HTTP 503 SlowDown"),
            std::string::npos)
      << s;
  EXPECT_TRUE(s3->DestinationDown());
  EXPECT_EQ(DestinationDownRetryAfterMs(s), 750);  // the DLQ retry worker waits as long
  clock_.AdvanceMillis(749);
  EXPECT_TRUE(absl::IsUnavailable(s3->PutObject("d", "x", {})));
  EXPECT_EQ(http_->requests().size(), 5u);
  EXPECT_EQ(sleeps_.size(), 3u);
  EXPECT_TRUE(s3->DestinationDown());
  clock_.AdvanceMillis(1);
  EXPECT_FALSE(s3->DestinationDown()) << "the probe time has come: the next store may probe";
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).counts.opened, 1);
}

TEST_F(S3ClientTest, BreakerProbeThatSucceedsClosesItAndTheNextPutGoes) {
  breaker_ = TestBreaker();
  auto s3 = Client();
  for (int i = 0; i < 5; ++i) http_->Push(503, ErrorXml("SlowDown"));
  (void)s3->PutObject("a", "x", {});
  (void)s3->PutObject("b", "x", {});
  ASSERT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kOpen);
  ASSERT_EQ(http_->requests().size(), 5u);
  // A failed probe is one exchange, not retried in the call, and re-opens it (1.5-2 s).
  clock_.AdvanceMillis(750);
  http_->Push(503, ErrorXml("SlowDown"));
  http_->Push(200);
  absl::Status s = s3->PutObject("probe-1", "x", {});
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(http_->requests().size(), 6u);
  EXPECT_EQ(sleeps_.size(), 3u);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kOpen);
  EXPECT_TRUE(absl::IsUnavailable(s3->PutObject("refused", "x", {})));
  EXPECT_EQ(http_->requests().size(), 6u);
  // The next probe succeeds: closed, and the next Put goes through.
  clock_.AdvanceMillis(2000);
  EXPECT_TRUE(s3->PutObject("probe-2", "x", {}).ok());
  EXPECT_EQ(http_->requests().size(), 7u);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kClosed);
  http_->Push(200);
  EXPECT_TRUE(s3->PutObject("after", "x", {}).ok());
  EXPECT_EQ(http_->requests().size(), 8u);
  EXPECT_EQ(TargetOf(http_->requests().back().url), "/lake-bucket/after");
}

TEST_F(S3ClientTest, BreakerNeverOpensOnForbidden) {
  breaker_ = TestBreaker();
  auto s3 = Client();
  for (int i = 0; i < 12; ++i) {
    http_->Push(403, ErrorXml("AccessDenied"));
    EXPECT_TRUE(absl::IsPermissionDenied(s3->PutObject("k", "x", {})));
  }
  EXPECT_EQ(http_->requests().size(), 12u);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).state, BreakerState::kClosed);
  EXPECT_EQ(breaker_->Read(clock_.NowMillis()).counts.opened, 0);
}

TEST_F(S3ClientTest, WithoutABreakerServerErrorsAreRetriedAsBefore) {
  auto s3 = Client();
  for (int i = 0; i < 8; ++i) http_->Push(503, ErrorXml("SlowDown"));
  EXPECT_TRUE(absl::IsUnavailable(s3->PutObject("a", "x", {})));
  EXPECT_TRUE(absl::IsUnavailable(s3->PutObject("b", "x", {})));
  EXPECT_EQ(http_->requests().size(), 8u);
  EXPECT_EQ(sleeps_.size(), 6u);
}

}  // namespace
}  // namespace lakehose
