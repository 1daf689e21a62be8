#include "service/backfill/dynamodb_client.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "core/base/strings.h"
#include "core/s3/sigv4.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/fake_http_client.h"
#include "testing/http_stub_server.h"
#include "testing/sigv4_check.h"
#include "zlib.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr int64_t kNowMs = 1700000000000;  // 2023-11-14T22:13:20Z

constexpr char kThrottled[] =
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
    R"("message":"The level of configured provisioned throughput for the table was exceeded."})";
constexpr char kPage[] =
    R"({"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"Count":2,"ScannedCount":2,)"
    R"("LastEvaluatedKey":{"pk":{"S":"b"}},"ConsumedCapacity":{"TableName":"orders",)"
    R"("CapacityUnits":20}})";

// "" when `headers`' Authorization is the SigV4 signature (service dynamodb, not S3's
// rules) of the request as sent: the headers it names, the body, POST `path`.
std::string CheckDynamoDbSignature(std::string_view path, const HttpHeaders& headers,
                                   std::string_view body, std::string_view region) {
  const std::string auth(FindHttpHeader(headers, "authorization"));
  const size_t sh_at = auth.find("SignedHeaders=");
  if (sh_at == std::string::npos) return "no Authorization";
  std::set<std::string> names;
  const std::string list = auth.substr(sh_at + 14, auth.find(',', sh_at) - sh_at - 14);
  for (size_t start = 0; start <= list.size();) {
    const size_t semi = std::min(list.find(';', start), list.size());
    names.insert(list.substr(start, semi - start));
    start = semi + 1;
  }
  for (const char* must : {"host", "content-type", "x-amz-target", "x-amz-date"})
    if (!names.count(must)) return StrCat(must, " not signed");
  SigV4Request req{
      .method = "POST", .path = std::string(path), .headers = {}, .payload_hash = Sha256Hex(body)};
  for (const auto& [k, v] : headers) {
    const std::string lower = LowerAscii(k);
    if (names.count(lower) && lower != "x-amz-date" && lower != "x-amz-security-token")
      req.headers.emplace_back(k, v);
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%E4Y%m%dT%H%M%SZ", std::string(FindHttpHeader(headers, "x-amz-date")),
                       absl::UTCTimeZone(), &t, &err))
    return "bad X-Amz-Date";
  const SigV4Signed s = SignV4(
      req, {"AKIDEXAMPLE", kSecret, std::string(FindHttpHeader(headers, "x-amz-security-token"))},
      {.region = std::string(region),
       .service = "dynamodb",
       .time_unix_s = absl::ToUnixSeconds(t),
       .s3_rules = false});
  if (s.authorization != auth) return StrCat("signature mismatch:\n", s.canonical_request);
  return "";
}

HttpResponse Answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string Crc32Of(std::string_view body) {
  return StrCat(static_cast<uint64_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

struct Fixture {
  std::shared_ptr<FakeHttpClient> http = std::make_shared<FakeHttpClient>();
  std::shared_ptr<CredentialsProvider> creds =
      std::make_shared<StaticCredentialsProvider>(AwsCredentials{.access_key_id = "AKIDEXAMPLE",
                                                                 .secret_access_key = kSecret,
                                                                 .session_token = "tok/en",
                                                                 .expiration_ms = 0,
                                                                 .source = "environment"});
  FakeClock clock{kNowMs};
  std::vector<int64_t> sleeps;  // each wait asked for (the clock moves by it)

  std::unique_ptr<DynamoDbClient> Make(DynamoDbClientOptions o = {}) {
    if (o.region.empty()) o.region = "us-east-1";
    if (o.endpoint.empty()) o.endpoint = "http://127.0.0.1:8000";
    return std::make_unique<DynamoDbClient>(o, DynamoDbClientDeps{.http = http,
                                                                  .credentials = creds,
                                                                  .clock = &clock,
                                                                  .sleep =
                                                                      [this](int64_t ms) {
                                                                        sleeps.push_back(ms);
                                                                        clock.AdvanceMillis(ms);
                                                                      },
                                                                  .random = [] { return 0.5; }});
  }
};

backfill::ScanRequest Req() { return {.table = "orders", .segment = 1, .total_segments = 4}; }

TEST(DynamoDbClient, DescribeTableIsASignedJsonPost) {
  Fixture fx;
  auto ddb = fx.Make();
  fx.http->Push(200, R"({"Table":{"TableName":"orders","TableStatus":"ACTIVE",
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"ItemCount":3}})");
  absl::StatusOr<backfill::TableDescription> d = ddb->DescribeTable("orders");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->key_names, ElementsAre("pk"));
  const auto reqs = fx.http->requests();
  ASSERT_EQ(reqs.size(), 1u);
  const RecordedHttpRequest& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:8000/");
  EXPECT_EQ(r.body, R"({"TableName":"orders"})");
  EXPECT_EQ(r.Header("x-amz-target"), "DynamoDB_20120810.DescribeTable");
  EXPECT_EQ(r.Header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(r.Header("host"), "127.0.0.1:8000");
  EXPECT_EQ(r.Header("x-amz-date"), "20231114T221320Z");
  EXPECT_EQ(r.Header("x-amz-security-token"), "tok/en");
  EXPECT_EQ(r.timeout_ms, 30000);
  EXPECT_THAT(std::string(r.Header("authorization")),
              StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/dynamodb/"
                         "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                         "x-amz-security-token;x-amz-target, Signature="));
  EXPECT_EQ(CheckDynamoDbSignature("/", r.headers, r.body, "us-east-1"), "");
  // The check is not vacuous: another body, or another region, does not verify.
  EXPECT_NE(CheckDynamoDbSignature("/", r.headers, "{}", "us-east-1"), "");
  EXPECT_NE(CheckDynamoDbSignature("/", r.headers, r.body, "eu-west-1"), "");
}

TEST(DynamoDbClient, DefaultEndpointIsTheRegionsAndAPathPrefixIsKept) {
  Fixture fx;
  EXPECT_EQ(fx.Make({.region = "eu-west-1", .endpoint = ""})->EndpointUrl(),
            "http://127.0.0.1:8000");  // (the fixture's default)
  DynamoDbClient aws({.region = "eu-west-1"}, {.http = fx.http, .credentials = fx.creds});
  EXPECT_EQ(aws.EndpointUrl(), "https://dynamodb.eu-west-1.amazonaws.com");
  DynamoDbClient cn({.region = "cn-north-1"}, {.http = fx.http, .credentials = fx.creds});
  EXPECT_EQ(cn.EndpointUrl(), "https://dynamodb.cn-north-1.amazonaws.com.cn");
  auto prefixed = fx.Make({.endpoint = "http://127.0.0.1:8000/ddb"});
  fx.http->Push(200, R"({"Items":[],"Count":0})");
  ASSERT_TRUE(prefixed->Scan(Req()).ok());
  const RecordedHttpRequest r = fx.http->requests().at(0);
  EXPECT_EQ(r.url, "http://127.0.0.1:8000/ddb/");
  EXPECT_EQ(CheckDynamoDbSignature("/ddb/", r.headers, r.body, "us-east-1"), "");
}

TEST(DynamoDbClientOptionsFor, FlagsThenTheSdkVariables) {
  absl::StatusOr<DynamoDbClientOptions> o = DynamoDbClientOptionsFor(
      "eu-west-1", "",
      MapGetenv({{"AWS_REGION", "us-east-2"}, {"AWS_ENDPOINT_URL", "http://x:1"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->region, "eu-west-1");
  EXPECT_EQ(o->endpoint, "http://x:1");
  o = DynamoDbClientOptionsFor("", "http://127.0.0.1:9",
                               MapGetenv({{"AWS_DEFAULT_REGION", "ap-south-1"},
                                          {"AWS_ENDPOINT_URL_DYNAMODB", "http://y:2"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->region, "ap-south-1");
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:9");
  o = DynamoDbClientOptionsFor("", "",
                               MapGetenv({{"AWS_REGION", "us-east-2"},
                                          {"AWS_DEFAULT_REGION", "ap-south-1"},
                                          {"AWS_ENDPOINT_URL_DYNAMODB", "http://y:2"},
                                          {"AWS_ENDPOINT_URL", "http://x:1"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->region, "us-east-2");
  EXPECT_EQ(o->endpoint, "http://y:2");
  EXPECT_EQ(o->max_attempts, 10);
  EXPECT_THAT(std::string(DynamoDbClientOptionsFor("", "", MapGetenv({})).status().message()),
              HasSubstr("no region: pass --region"));
  EXPECT_EQ(DynamoDbClientOptionsFor("eu-west-1", "gopher://x", MapGetenv({})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DynamoDbClient, BadOptionsFailEveryCallBeforeSending) {
  Fixture fx;
  auto ddb = fx.Make({.region = "US East"});
  EXPECT_THAT(std::string(ddb->Scan(Req()).status().message()),
              HasSubstr("region \"US East\" is not a region name"));
  auto bad_endpoint = fx.Make({.endpoint = "ftp://x"});
  EXPECT_EQ(bad_endpoint->DescribeTable("t").status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_request = fx.Make();
  EXPECT_THAT(
      std::string(
          bad_request->Scan({.table = "t", .segment = 5, .total_segments = 4}).status().message()),
      HasSubstr("segment 5 is not in 0..3"));
  EXPECT_EQ(fx.http->request_count(), 0u);
}

TEST(DynamoDbClient, ThrottlingIsRetriedWithBackoffThenTheWholePageReturns) {
  Fixture fx;
  auto ddb = fx.Make({.backoff = {.base_delay_ms = 100, .max_delay_ms = 1000}});
  fx.http->Push(400, kThrottled);
  fx.http->Push(400, R"({"__type":"com.amazon.coral.availability#ThrottlingException"})");
  fx.http->Push(200, kPage, {{"x-amz-crc32", Crc32Of(kPage)}});
  absl::StatusOr<backfill::ScanPage> page = ddb->Scan(Req());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->items, ElementsAre(R"({"pk":{"S":"a"}})", R"({"pk":{"S":"b"}})"));
  EXPECT_EQ(page->last_evaluated_key, R"({"pk":{"S":"b"}})");
  // Full jitter at 0.5 of the ceilings 100 and 200 ms.
  EXPECT_THAT(fx.sleeps, ElementsAre(50, 100));
  const DynamoDbClientStats s = ddb->Stats();
  EXPECT_EQ(s.requests, 3);
  EXPECT_EQ(s.throttled_retries, 2);
  EXPECT_EQ(s.transient_retries, 0);
  EXPECT_EQ(s.consumed_units, 20);
  // Every try is signed again at its own time, with the same body.
  const auto reqs = fx.http->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].Header("x-amz-date"), "20231114T221320Z");  // + 150 ms: same second
  for (const RecordedHttpRequest& r : reqs) {
    EXPECT_EQ(r.Header("x-amz-target"), "DynamoDB_20120810.Scan");
    EXPECT_EQ(r.body,
              R"({"TableName":"orders","Segment":1,"TotalSegments":4,"ConsistentRead":false,)"
              R"("ReturnConsumedCapacity":"TOTAL"})");
    EXPECT_EQ(CheckDynamoDbSignature("/", r.headers, r.body, "us-east-1"), "");
  }
}

TEST(DynamoDbClient, ServerErrorsNoAnswerAndBadChecksumsAreRetriedAsTransient) {
  Fixture fx;
  auto ddb = fx.Make();
  fx.http->Push(500, R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"})");
  fx.http->Push(absl::UnavailableError("connection refused"));
  fx.http->Push(200, kPage, {{"x-amz-crc32", "12345"}});  // damaged on the way
  fx.http->Push(200, kPage, {{"x-amz-crc32", Crc32Of(kPage)}});
  absl::StatusOr<backfill::ScanPage> page = ddb->Scan(Req());
  ASSERT_TRUE(page.ok()) << page.status();
  const DynamoDbClientStats s = ddb->Stats();
  EXPECT_EQ(s.requests, 4);
  EXPECT_EQ(s.transient_retries, 3);
  EXPECT_EQ(s.throttled_retries, 0);
  EXPECT_EQ(s.consumed_units, 20);  // only the answer used
}

TEST(DynamoDbClient, ValidationExceptionIsNotRetried) {
  Fixture fx;
  auto ddb = fx.Make();
  fx.http->Push(400, R"({"__type":"com.amazon.coral.validate#ValidationException",)"
                     R"("message":"The provided starting key is invalid"})");
  absl::StatusOr<backfill::ScanPage> page = ddb->Scan(Req());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(page.status().message(),
            "DynamoDB Scan of table \"orders\" (segment 1 of 4) at http://127.0.0.1:8000: "
            "ValidationException: The provided starting key is invalid (HTTP 400)");
  EXPECT_EQ(fx.http->request_count(), 1u);
  EXPECT_TRUE(fx.sleeps.empty());
}

TEST(DynamoDbClient, MissingTableIsNotFoundNamingTheRegion) {
  Fixture fx;
  auto ddb = fx.Make();
  fx.http->Push(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
                     R"("message":"Requested resource not found"})");
  absl::Status st = ddb->DescribeTable("orders").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("DynamoDB DescribeTable of table \"orders\" at http://127.0.0.1:8000: "
                        "ResourceNotFoundException: Requested resource not found (HTTP 400) (is "
                        "the table in region us-east-1?)"));
  EXPECT_EQ(fx.http->request_count(), 1u);
}

TEST(DynamoDbClient, AuthErrorsSayHowTheRequestWasSignedButNotTheSecret) {
  Fixture fx;
  auto ddb = fx.Make();
  fx.http->Push(400, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException",)"
                     R"("message":"The security token included in the request is invalid."})");
  absl::Status st = ddb->Scan(Req()).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  const std::string msg(st.message());
  EXPECT_THAT(msg, HasSubstr("DynamoDB Scan of table \"orders\" (segment 1 of 4) at "
                             "http://127.0.0.1:8000 refused: UnrecognizedClientException: The "
                             "security token included in the request is invalid. (HTTP 400)"));
  EXPECT_THAT(msg, HasSubstr("signed with SigV4 as access key AKIDEXAM... (credentials from "
                             "environment) for service dynamodb in us-east-1"));
  EXPECT_THAT(msg, HasSubstr("allows dynamodb:Scan"));
  EXPECT_THAT(msg, Not(HasSubstr(kSecret)));
  EXPECT_THAT(msg, Not(HasSubstr("tok/en")));
  EXPECT_EQ(fx.http->request_count(), 1u);
}

TEST(DynamoDbClient, GivesUpAfterMaxAttempts) {
  Fixture fx;
  auto ddb = fx.Make({.max_attempts = 3});
  fx.http->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Answer(400, kThrottled);
  });
  absl::Status st = ddb->Scan(Req()).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("throttled: ProvisionedThroughputExceededException: The level of "
                        "configured provisioned throughput for the table was exceeded. (HTTP "
                        "400) (gave up after 3 attempts)"));
  EXPECT_EQ(fx.http->request_count(), 3u);
  EXPECT_EQ(ddb->Stats().throttled_retries, 2);

  auto down = fx.Make({.max_attempts = 2});
  fx.http->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return absl::DeadlineExceededError("timed out");
  });
  st = down->DescribeTable("orders").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(st.message()), HasSubstr("no answer: timed out (gave up after 2"));
}

TEST(DynamoDbClient, CredentialErrorsAndUnusableAnswersAreNotRetried) {
  Fixture fx;
  class Failing : public CredentialsProvider {
   public:
    absl::StatusOr<AwsCredentials> GetCredentials() override {
      return absl::FailedPreconditionError("no AWS credentials found (set AWS_ACCESS_KEY_ID ...)");
    }
  };
  fx.creds = std::make_shared<Failing>();
  auto ddb = fx.Make();
  absl::Status st = ddb->Scan(Req()).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("AWS credentials to sign with: no AWS"));
  EXPECT_EQ(fx.http->request_count(), 0u);

  Fixture fx2;
  auto ddb2 = fx2.Make();
  fx2.http->Push(200, R"({"Items":[1],"Count":1})");
  st = ddb2->Scan(Req()).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("(segment 1 of 4): Scan answer: \"Items\"[0] is not an object"));
  fx2.http->Push(absl::InvalidArgumentError("malformed URL"));
  EXPECT_EQ(ddb2->Scan(Req()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fx2.http->request_count(), 2u);
}

TEST(DynamoDbClient, ScansShareTheReadRateLimit) {
  // 10 units/s (burst 10); each page costs 20. The first goes at once and leaves the bucket
  // at -10; the next waits until it holds what the last page cost (capped at the burst):
  // 20 units, 2 s; and so on, 2 s per page.
  Fixture fx;
  auto ddb = fx.Make({.max_read_units_per_second = 10});
  fx.http->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    return Answer(200, kPage);
  });
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ddb->Scan(Req()).ok());
  EXPECT_THAT(fx.sleeps, ElementsAre(2000, 2000, 2000));
  const DynamoDbClientStats s = ddb->Stats();
  EXPECT_EQ(s.rate_waits, 3);
  EXPECT_EQ(s.rate_wait_ms, 6000);
  EXPECT_EQ(s.consumed_units, 80);
  // What was read is at most the burst, the rate over the time taken, and the last page.
  EXPECT_LE(s.consumed_units, 10 + 10.0 * (fx.clock.NowMillis() - kNowMs) / 1000 + 20);
  // Without a limit nothing waits.
  auto free = fx.Make();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(free->Scan(Req()).ok());
  EXPECT_EQ(fx.sleeps.size(), 3u);
  EXPECT_EQ(free->Stats().rate_waits, 0);
}

TEST(DynamoDbClient, SegmentsScanFromSeveralThreads) {
  Fixture fx;
  auto ddb = fx.Make();
  std::atomic<int> calls{0};
  fx.http->SetHandler([&](const RecordedHttpRequest& r) -> absl::StatusOr<HttpResponse> {
    // Every other request of each segment is throttled once.
    // Per thread (a segment's scan is one thread): with one counter for all, a scan could
    // meet only throttles, interleaved with the others' calls, and run out of tries.
    thread_local int mine = 0;
    calls.fetch_add(1);
    if (mine++ % 2 == 0) return Answer(400, kThrottled);
    EXPECT_EQ(CheckDynamoDbSignature("/", r.headers, r.body, "us-east-1"), "");
    return Answer(200, kPage);
  });
  constexpr int kThreads = 4, kPages = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int p = 0; p < kPages; ++p) {
        if (ddb->Scan({.table = "orders", .segment = t, .total_segments = kThreads}).ok()) ++ok;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPages);
  const DynamoDbClientStats s = ddb->Stats();
  EXPECT_EQ(s.requests, calls.load());
  EXPECT_EQ(s.requests, kThreads * kPages + s.throttled_retries);
  EXPECT_GE(s.throttled_retries, 1);
  EXPECT_EQ(s.consumed_units, 20.0 * kThreads * kPages);
}

// Over real HTTP (libcurl to a stub on 127.0.0.1): what arrives is what was signed.
TEST(DynamoDbClient, OverHttpTheSignatureVerifiesAsReceived) {
  HttpStubServer stub([](const StubRequest& r) {
    const std::string why = CheckDynamoDbSignature(
        r.Path(), HttpHeaders(r.headers.begin(), r.headers.end()), r.body, "eu-west-1");
    if (!why.empty())
      return StubResponse{.status = 400,
                          .headers = {},
                          .body = StrCat(R"({"__type":"com.amazon.coral.service#)"
                                         R"(InvalidSignatureException","message":")",
                                         why.substr(0, why.find('\n')), "\"}")};
    if (r.Header("x-amz-target") == "DynamoDB_20120810.DescribeTable")
      return StubResponse{.status = 200,
                          .headers = {},
                          .body = R"({"Table":{"TableName":"orders","KeySchema":[)"
                                  R"({"AttributeName":"pk","KeyType":"HASH"}]}})"};
    return StubResponse{.status = 200, .headers = {{"x-amz-crc32", Crc32Of(kPage)}}, .body = kPage};
  });
  ASSERT_TRUE(stub.Start().ok());
  DynamoDbClient ddb({.region = "eu-west-1", .endpoint = stub.url(), .request_timeout_ms = 5000},
                     {.http = NewCurlHttpClient(),
                      .credentials = std::make_shared<StaticCredentialsProvider>(
                          AwsCredentials{.access_key_id = "AKIDEXAMPLE",
                                         .secret_access_key = kSecret,
                                         .session_token = "",
                                         .expiration_ms = 0,
                                         .source = "test"}),
                      .sleep = [](int64_t) {}});
  absl::StatusOr<backfill::TableDescription> d = ddb.DescribeTable("orders");
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<backfill::ScanPage> page = ddb.Scan(Req());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_EQ(stub.requests().size(), 2u);
  stub.Stop();
}

}  // namespace
}  // namespace lakehose
