// The libcurl HttpClient against a local stub server, and the S3 client over it end to
// end (the stub checks the payload hash, Content-MD5 and the signature as S3 would).
#include <cstdlib>
#include <string>

#include "core/s3/sigv4.h"
#include "gtest/gtest.h"
#include "service/s3/http_client.h"
#include "service/s3/s3_client.h"
#include "testing/fake_clock.h"
#include "testing/http_stub_server.h"
#include "testing/sigv4_check.h"

namespace lakehose {
namespace {

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void Start(HttpStubServer::Handler handler) {
    stub_ = std::make_unique<HttpStubServer>(std::move(handler));
    ASSERT_TRUE(stub_->Start().ok());
  }
  void TearDown() override {
    if (stub_) stub_->Stop();
  }
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  std::unique_ptr<HttpStubServer> stub_;
};

TEST_F(CurlHttpClientTest, PutSendsBodyAndHeadersAndReadsTheAnswer) {
  Start([](const StubRequest& r) {
    return StubResponse{.status = 201,
                        .headers = {{"ETag", "\"abc\""}, {"X-Custom", "  spaced  "}},
                        .body = "method=" + r.method + " target=" + r.target + " body=" + r.body};
  });
  const std::string body = "hello world";
  absl::StatusOr<HttpResponse> resp = http_->Send({.method = "PUT",
                                                   .url = stub_->url() + "/b/a%20b?x=1",
                                                   .headers = {{"Host", "bucket.example:1234"},
                                                               {"x-amz-meta-a", "1"},
                                                               {"Content-Type", "text/plain"}},
                                                   .body = body,
                                                   .timeout_ms = 5000});
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, "method=PUT target=/b/a%20b?x=1 body=hello world");
  EXPECT_EQ(resp->Header("etag"), "\"abc\"");
  EXPECT_EQ(resp->Header("ETAG"), "\"abc\"");
  EXPECT_EQ(resp->Header("x-custom"), "spaced");
  const StubRequest seen = stub_->requests().at(0);
  EXPECT_EQ(seen.Header("host"), "bucket.example:1234");  // ours, not the URL's
  EXPECT_EQ(seen.Header("x-amz-meta-a"), "1");
  EXPECT_EQ(seen.Header("content-length"), "11");
  EXPECT_EQ(seen.Header("expect"), "");
  EXPECT_EQ(seen.Header("transfer-encoding"), "");
}

TEST_F(CurlHttpClientTest, MethodsAndEmptyBodies) {
  Start([](const StubRequest& r) {
    if (r.method == "HEAD")
      return StubResponse{.status = 200, .headers = {{"Content-Length", "42"}}};
    return StubResponse{.status = r.method == "DELETE" ? 204 : 200,
                        .body = r.method == "DELETE" ? "" : r.method + ":" + r.body};
  });
  auto send = [&](const char* method) {
    return http_->Send({.method = method, .url = stub_->url() + "/x", .timeout_ms = 5000});
  };
  absl::StatusOr<HttpResponse> head = send("HEAD");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->Header("content-length"), "42");
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(send("GET")->body, "GET:");
  EXPECT_EQ(send("POST")->body, "POST:");
  EXPECT_EQ(send("PUT")->body, "PUT:");
  EXPECT_EQ(send("DELETE")->status, 204);
  const std::vector<StubRequest> seen = stub_->requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[2].method, "POST");
  EXPECT_EQ(seen[2].Header("content-length"), "0");
  EXPECT_EQ(seen[3].Header("content-length"), "0");
}

TEST_F(CurlHttpClientTest, HttpErrorsAreResponsesNotStatuses) {
  Start([](const StubRequest&) { return StubResponse{.status = 503, .body = "<Error/>"}; });
  absl::StatusOr<HttpResponse> resp = http_->Send({.url = stub_->url() + "/", .timeout_ms = 5000});
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(resp->body, "<Error/>");
}

TEST_F(CurlHttpClientTest, ResetIsUnavailable) {
  Start([](const StubRequest&) { return StubResponse{.reset = true}; });
  const absl::Status s = http_->Send({.url = stub_->url() + "/", .timeout_ms = 5000}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
}

TEST_F(CurlHttpClientTest, RefusedIsUnavailable) {
  Start([](const StubRequest&) { return StubResponse{}; });
  const std::string url = stub_->url();
  stub_->Stop();  // nothing listens on the port any more
  const absl::Status s = http_->Send({.url = url + "/", .timeout_ms = 5000}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
}

TEST_F(CurlHttpClientTest, NoAnswerInTimeIsDeadlineExceeded) {
  Start([](const StubRequest&) { return StubResponse{.hang = true}; });
  const absl::Status s = http_->Send({.url = stub_->url() + "/", .timeout_ms = 200}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
}

TEST_F(CurlHttpClientTest, OversizedAnswerIsRefused) {
  Start([](const StubRequest&) { return StubResponse{.body = std::string(1000, 'x')}; });
  auto small = NewCurlHttpClient({.max_response_bytes = 100});
  const absl::Status s = small->Send({.url = stub_->url() + "/", .timeout_ms = 5000}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(std::string(s.message()).find("exceeds 100 bytes"), std::string::npos) << s;
}

// GetObject reads objects larger than the client's limit for S3's small XML answers.
TEST_F(CurlHttpClientTest, ARequestsOwnLimitReplacesTheClients) {
  Start([](const StubRequest& r) {
    if (r.method == "HEAD") return StubResponse{.headers = {{"Content-Length", "1000"}}};
    return StubResponse{.body = std::string(1000, 'x')};
  });
  auto small = NewCurlHttpClient({.max_response_bytes = 100});
  absl::StatusOr<HttpResponse> whole =
      small->Send({.url = stub_->url() + "/", .timeout_ms = 5000, .max_response_bytes = 1000});
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->body, std::string(1000, 'x'));
  EXPECT_EQ(small->Send({.url = stub_->url() + "/", .timeout_ms = 5000, .max_response_bytes = 999})
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  // A HEAD's Content-Length is the object's size, not a body: never refused for it.
  absl::StatusOr<HttpResponse> head = small->Send(
      {.method = "HEAD", .url = stub_->url() + "/", .timeout_ms = 5000, .max_response_bytes = 1});
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->Header("content-length"), "1000");
}

TEST_F(CurlHttpClientTest, MalformedUrlIsInvalidArgument) {
  EXPECT_EQ(http_->Send({.url = "nota://url"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_->Send({.url = ""}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CurlHttpClientTest, HandlesAreReusedAcrossManyRequests) {
  Start([](const StubRequest& r) { return StubResponse{.body = r.target}; });
  for (int i = 0; i < 50; ++i) {
    auto resp = http_->Send({.url = stub_->url() + "/" + std::to_string(i), .timeout_ms = 5000});
    ASSERT_TRUE(resp.ok()) << resp.status();
    ASSERT_EQ(resp->body, "/" + std::to_string(i));
  }
}

// S3 over real HTTP: the stub verifies what S3 verifies.
TEST_F(CurlHttpClientTest, S3ClientEndToEndAgainstAVerifyingStub) {
  constexpr char kSecret[] = "stub-secret";
  std::string stored, stored_body, parts, completed;
  Start([&](const StubRequest& r) {
    std::vector<std::pair<std::string, std::string>> headers(r.headers.begin(), r.headers.end());
    const std::string why = CheckS3Signature(r.method, r.target, headers, kSecret, "us-east-1");
    if (!why.empty()) {
      return StubResponse{.status = 403,
                          .body = "<Error><Code>SignatureDoesNotMatch</Code><Message>" + why +
                                  "</Message></Error>"};
    }
    if (r.Header("x-amz-content-sha256") != Sha256Hex(r.body)) {
      return StubResponse{.status = 400,
                          .body = "<Error><Code>XAmzContentSHA256Mismatch</Code></Error>"};
    }
    if (r.method == "PUT" && r.Header("content-md5") != ContentMd5(r.body)) {
      return StubResponse{.status = 400, .body = "<Error><Code>BadDigest</Code></Error>"};
    }
    const std::string query = r.target.substr(r.Path().size());
    if (r.method == "POST" && query == "?uploads") {
      return StubResponse{.body =
                              "<InitiateMultipartUploadResult><UploadId>up/1+=</UploadId>"
                              "</InitiateMultipartUploadResult>"};
    }
    if (r.method == "PUT" && query.starts_with("?partNumber=")) {
      if (query.find("uploadId=up%2F1%2B%3D") == std::string::npos)
        return StubResponse{.status = 404};
      parts += r.body;
      return StubResponse{.headers = {{"ETag", "\"p" + query.substr(12, 1) + "\""}}};
    }
    if (r.method == "POST" && query == "?uploadId=up%2F1%2B%3D") {
      completed = r.body;
      return StubResponse{.body =
                              "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag>"
                              "</CompleteMultipartUploadResult>"};
    }
    if (r.method == "PUT") {
      stored = r.Path() + "=" + r.body;
      stored_body = r.body;
    }
    if (r.method == "GET") {
      if (r.Path() != "/lake/data/siteId%3Da%20b/hour%3D00/x%2By.jsonl.gz") {
        return StubResponse{.status = 404, .body = "<Error><Code>NoSuchKey</Code></Error>"};
      }
      return StubResponse{.body = stored_body};
    }
    if (r.method == "HEAD") {
      return StubResponse{.status = 200, .headers = {{"Content-Length", "5"}, {"ETag", "\"e\""}}};
    }
    return StubResponse{.status = 200};
  });
  FakeClock clock(1700000000000);
  S3Client s3(
      {.bucket = "lake", .region = "us-east-1", .endpoint = stub_->url(), .max_attempts = 1},
      {.http = std::shared_ptr<HttpClient>(NewCurlHttpClient()),
       .credentials = std::make_shared<StaticCredentialsProvider>(
           AwsCredentials{.access_key_id = "AKIDSTUB",
                          .secret_access_key = kSecret,
                          .session_token = "session/token+="}),
       .clock = &clock,
       .sleep = [](int64_t) {}});
  const absl::Status put =
      s3.PutObject("data/siteId=a b/hour=00/x+y.jsonl.gz", "hello",
                   {.content_type = "application/x-ndjson", .content_encoding = "gzip"});
  ASSERT_TRUE(put.ok()) << put;
  EXPECT_EQ(stored, "/lake/data/siteId%3Da%20b/hour%3D00/x%2By.jsonl.gz=hello");
  absl::StatusOr<S3ObjectInfo> head = s3.HeadObject("data/siteId=a b/hour=00/x+y.jsonl.gz");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->size, 5);
  // GET, signed with the empty payload's hash; a missing key is NOT_FOUND.
  absl::StatusOr<std::string> got = s3.GetObject("data/siteId=a b/hour=00/x+y.jsonl.gz");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello");
  EXPECT_EQ(s3.GetObject("data/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s3.stats().failed, 0);
  // Multipart: POST with an empty body, parts, POST with the XML body; all verified.
  const absl::Status multi = s3.PutObjectMultipart("year=2024/big file", "0123456789abcdefghij", 12,
                                                   {.content_type = "application/x-ndjson"});
  ASSERT_TRUE(multi.ok()) << multi;
  EXPECT_EQ(parts, "0123456789abcdefghij");
  EXPECT_EQ(completed, BuildCompleteMultipartUploadXml({{1, "\"p1\""}, {2, "\"p2\""}}));
}

// Against a real S3 server: s3rver behind the verifying front (tests/lib/s3_front.mjs),
// which tests/lib/s3_client_front.test.mjs starts and names in LAKEHOSE_TEST_S3_ENDPOINT
// (its test credentials, bucket "lake"). Skipped when run alone.
TEST(S3ClientAgainstS3FrontTest, PutThenGetObjectsBack) {
  const char* endpoint = std::getenv("LAKEHOSE_TEST_S3_ENDPOINT");
  if (endpoint == nullptr || endpoint[0] == '\0') {
    GTEST_SKIP() << "LAKEHOSE_TEST_S3_ENDPOINT is not set (tests/lib/s3_client_front.test.mjs)";
  }
  S3Client s3(
      {.bucket = "lake", .region = "us-east-1", .endpoint = endpoint, .max_attempts = 3},
      {.http = std::shared_ptr<HttpClient>(NewCurlHttpClient()),
       .credentials = std::make_shared<StaticCredentialsProvider>(AwsCredentials{
           .access_key_id = "AKIDLAKEHOSETEST", .secret_access_key = "lakehose/test/secret/key"})});
  const std::string key = "tbl/metadata/region=EU West/v1.metadata.json";
  const std::string body = std::string("{\"format-version\":2}\0\xff\x1f\x8b", 24);
  ASSERT_TRUE(s3.PutObject(key, body, {.content_type = "application/json"}).ok());
  absl::StatusOr<std::string> got = s3.GetObject(key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, body);
  // Stored gzip-encoded: read back as stored, not decoded.
  const std::string gz(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00",
      20);
  ASSERT_TRUE(s3.PutObject("tbl/data/x.jsonl.gz", gz, {.content_encoding = "gzip"}).ok());
  got = s3.GetObject("tbl/data/x.jsonl.gz");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, gz);
  const absl::Status missing = s3.GetObject("tbl/metadata/version-hint.text").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  // Larger than the HTTP client's own 16 MiB limit for S3's answers.
  std::string big(17 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(s3.PutObjectMultipart("tbl/metadata/snap-1.avro", big, 6 << 20, {}).ok());
  got = s3.GetObject("tbl/metadata/snap-1.avro");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big) << got->size() << " bytes read back";
  // Over a limit: refused on its Content-Length.
  const absl::Status large =
      s3.GetObject("tbl/metadata/snap-1.avro", absl::InfiniteFuture(), 1 << 20).status();
  EXPECT_EQ(large.code(), absl::StatusCode::kFailedPrecondition) << large;
  EXPECT_EQ(s3.stats().failed, 1);
}

}  // namespace
}  // namespace lakehose
