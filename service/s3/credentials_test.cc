#include "service/s3/credentials.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/base/strings.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/fake_http_client.h"
#include "testing/http_stub_server.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

// 2024-01-01T00:00:00Z
constexpr int64_t kNowMs = 1704067200000;

CredentialsEnv EnvWith(std::vector<std::pair<std::string, std::string>> vars,
                       std::shared_ptr<HttpClient> http = nullptr, const Clock* clock = nullptr) {
  static FakeClock default_clock(kNowMs);
  return CredentialsEnv{.http = std::move(http),
                        .clock = clock != nullptr ? clock : &default_clock,
                        .getenv = MapGetenv(std::move(vars))};
}

// ---- environment --------------------------------------------------------------------

TEST(EnvironmentCredentialsTest, ReadsKeysAndSessionToken) {
  auto p = NewEnvironmentCredentialsProvider(EnvWith({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                      {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                      {"AWS_SESSION_TOKEN", "tok"}}));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "secret");
  EXPECT_EQ(c->session_token, "tok");
  EXPECT_EQ(c->expiration_ms, 0);
  EXPECT_EQ(c->source, "environment");
}

TEST(EnvironmentCredentialsTest, AbsentIsNotFoundAndHalfSetIsAMisconfiguration) {
  EXPECT_EQ(NewEnvironmentCredentialsProvider(EnvWith({}))->GetCredentials().status().code(),
            absl::StatusCode::kNotFound);
  auto half = NewEnvironmentCredentialsProvider(EnvWith({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  EXPECT_EQ(half->GetCredentials().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(EnvironmentCredentialsTest, SecretsNeverAppearInMessages) {
  auto half =
      NewEnvironmentCredentialsProvider(EnvWith({{"AWS_SECRET_ACCESS_KEY", "very-secret-value"}}));
  const absl::Status s = half->GetCredentials().status();
  EXPECT_EQ(std::string(StatusMessage(s)).find("very-secret-value"), std::string::npos);
}

// ---- shared files -------------------------------------------------------------------

TEST(SharedFilesCredentialsTest, DefaultProfileFromTheCredentialsFileUnderHome) {
  TempDir dir;
  dir.Write(".aws/credentials",
            "# comment\n; also a comment\n[other]\naws_access_key_id = AKIDOTHER\n"
            "aws_secret_access_key = s-other\n\n[default]\n  \n"
            "aws_access_key_id=AKIDDEFAULT\r\naws_secret_access_key = s-default \n"
            "aws_session_token = tok-default\n");
  auto p = NewSharedFilesCredentialsProvider(EnvWith({{"HOME", dir.path()}}));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(c->secret_access_key, "s-default");
  EXPECT_EQ(c->session_token, "tok-default");
  EXPECT_EQ(c->source, "shared-files");
}

TEST(SharedFilesCredentialsTest, NamedProfileFromTheConfigFile) {
  TempDir dir;
  const std::string config =
      dir.Write("cfg",
                "[default]\nregion = us-east-1\n[profile analytics]\nregion=eu-west-1\n"
                "aws_access_key_id = AKIDCFG\naws_secret_access_key = s-cfg\n"
                "s3 =\n  max_concurrent_requests = 20\n[sso-session analytics]\nsso_region=x\n");
  auto p = NewSharedFilesCredentialsProvider(
      EnvWith({{"AWS_CONFIG_FILE", config},
               {"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/none"},
               {"AWS_PROFILE", "analytics"}}));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDCFG");
  EXPECT_EQ(c->secret_access_key, "s-cfg");
}

TEST(SharedFilesCredentialsTest, TheCredentialsFileWinsOverTheConfigFile) {
  TempDir dir;
  const std::string creds =
      dir.Write("c", "[p1]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s1\n");
  const std::string config =
      dir.Write("k",
                "[profile p1]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s2\n"
                "aws_session_token = only-in-config\n");
  auto p = NewSharedFilesCredentialsProvider(EnvWith({{"AWS_SHARED_CREDENTIALS_FILE", creds},
                                                      {"AWS_CONFIG_FILE", config},
                                                      {"AWS_PROFILE", "p1"}}));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "FROMCREDS");
  EXPECT_EQ(c->secret_access_key, "s1");
  EXPECT_EQ(c->session_token, "only-in-config");
}

TEST(SharedFilesCredentialsTest, TildeExpandsToHome) {
  TempDir dir;
  dir.Write("x/creds", "[default]\naws_access_key_id = AKIDT\naws_secret_access_key = s\n");
  auto p = NewSharedFilesCredentialsProvider(
      EnvWith({{"HOME", dir.path()}, {"AWS_SHARED_CREDENTIALS_FILE", "~/x/creds"}}));
  ASSERT_TRUE(p->GetCredentials().ok());
  EXPECT_EQ(p->GetCredentials()->access_key_id, "AKIDT");
}

TEST(SharedFilesCredentialsTest, MissingProfile) {
  TempDir dir;
  dir.Write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
  // Not asked for by name: the chain moves on.
  EXPECT_EQ(NewSharedFilesCredentialsProvider(EnvWith({{"HOME", dir.path() + "/nothing"}}))
                ->GetCredentials()
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  // Asked for by name: a configuration error.
  EXPECT_EQ(
      NewSharedFilesCredentialsProvider(EnvWith({{"HOME", dir.path()}, {"AWS_PROFILE", "nope"}}))
          ->GetCredentials()
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(SharedFilesCredentialsTest, ProfileWithoutKeysIsSkippedAndRoleProfilesAreRefused) {
  TempDir dir;
  dir.Write(".aws/config",
            "[default]\nregion = us-east-1\n[profile r]\nrole_arn = arn:x\n"
            "source_profile = default\n");
  EXPECT_EQ(NewSharedFilesCredentialsProvider(EnvWith({{"HOME", dir.path()}}))
                ->GetCredentials()
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(NewSharedFilesCredentialsProvider(EnvWith({{"HOME", dir.path()}, {"AWS_PROFILE", "r"}}))
                ->GetCredentials()
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
}

// ---- HTTP sources against a local stub --------------------------------------------

class StubbedCredentialsTest : public ::testing::Test {
 protected:
  void StartStub(HttpStubServer::Handler handler) {
    stub_ = std::make_unique<HttpStubServer>(std::move(handler));
    ASSERT_TRUE(stub_->Start().ok());
  }
  void TearDown() override {
    if (stub_) stub_->Stop();
  }

  std::shared_ptr<HttpClient> http_ = NewCurlHttpClient();
  FakeClock clock_{kNowMs};
  std::unique_ptr<HttpStubServer> stub_;
};

constexpr std::string_view kContainerJson =
    R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"s-container","Token":"tok-container",)"
    R"("Expiration":"2024-01-01T06:00:00Z","RoleArn":"arn:aws:iam::1:role/x"})";

TEST_F(StubbedCredentialsTest, ContainerCredentialsWithAuthorizationToken) {
  StartStub([](const StubRequest& r) {
    if (r.method != "GET" || r.target != "/v2/credentials/abc") return StubResponse{.status = 404};
    if (r.Header("authorization") != "Bearer pod-token") return StubResponse{.status = 401};
    return StubResponse{.status = 200, .body = std::string(kContainerJson)};
  });
  auto p = NewContainerCredentialsProvider(
      EnvWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", stub_->url() + "/v2/credentials/abc"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-token"}},
              http_, &clock_));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIACONTAINER");
  EXPECT_EQ(c->session_token, "tok-container");
  EXPECT_EQ(c->expiration_ms, kNowMs + 6 * 3600 * 1000);
  EXPECT_EQ(c->source, "container");
}

TEST_F(StubbedCredentialsTest, ContainerTokenFileWinsOverTheVariable) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "eks-pod-identity-token\n");
  StartStub([](const StubRequest& r) {
    if (r.Header("authorization") != "eks-pod-identity-token") return StubResponse{.status = 403};
    return StubResponse{.status = 200, .body = std::string(kContainerJson)};
  });
  auto p = NewContainerCredentialsProvider(
      EnvWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", stub_->url() + "/c"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong"}},
              http_, &clock_));
  ASSERT_TRUE(p->GetCredentials().ok());
}

TEST_F(StubbedCredentialsTest, ContainerRefusalsAndBadAnswers) {
  StartStub([](const StubRequest& r) {
    if (r.target == "/denied") return StubResponse{.status = 403, .body = "no"};
    if (r.target == "/down") return StubResponse{.status = 500};
    return StubResponse{.status = 200, .body = "not json"};
  });
  auto get = [&](const std::string& path) {
    return NewContainerCredentialsProvider(
               EnvWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", stub_->url() + path}}, http_,
                       &clock_))
        ->GetCredentials()
        .status()
        .code();
  };
  EXPECT_EQ(get("/denied"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(get("/down"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(get("/garbage"), absl::StatusCode::kInvalidArgument);
}

TEST(ContainerCredentialsTest, PlainHttpOnlyToLoopbackOrTheAgent) {
  auto p = NewContainerCredentialsProvider(
      EnvWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}},
              std::make_shared<FakeHttpClient>()));
  EXPECT_EQ(p->GetCredentials().status().code(), absl::StatusCode::kFailedPrecondition);
  for (const char* url : {"http://127.0.0.1.evil.com/c", "http://127.0.0/c", "http://128.0.0.1/c",
                          "http://user@evil.com/c", "ftp://127.0.0.1/c"}) {
    auto http = std::make_shared<FakeHttpClient>();
    auto q = NewContainerCredentialsProvider(
        EnvWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}, http));
    EXPECT_EQ(q->GetCredentials().status().code(), absl::StatusCode::kFailedPrecondition) << url;
    EXPECT_EQ(http->request_count(), 0u) << url;
  }
  for (const char* url :
       {"http://127.0.0.1:8080/c", "http://127.1.2.3/c", "http://localhost/c", "http://[::1]:80/c",
        "http://169.254.170.23/v1/credentials", "https://anything.example.com/c"}) {
    auto http = std::make_shared<FakeHttpClient>();
    http->Push(200, std::string(kContainerJson));
    auto q = NewContainerCredentialsProvider(
        EnvWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}, http));
    EXPECT_TRUE(q->GetCredentials().ok()) << url;
  }
  EXPECT_EQ(NewContainerCredentialsProvider(EnvWith({}))->GetCredentials().status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ContainerCredentialsTest, RelativeUriGoesToTheEcsAgent) {
  auto http = std::make_shared<FakeHttpClient>();
  http->Push(200, std::string(kContainerJson));
  auto p = NewContainerCredentialsProvider(
      EnvWith({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/id"}}, http));
  ASSERT_TRUE(p->GetCredentials().ok());
  EXPECT_EQ(http->requests().at(0).url, "http://169.254.170.2/v2/credentials/id");
}

constexpr std::string_view kStsXml =
    R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>tok-sts</SessionToken>
      <SecretAccessKey>s-sts</SecretAccessKey>
      <Expiration>2024-01-01T01:00:00Z</Expiration>
      <AccessKeyId>ASIASTS</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";

TEST_F(StubbedCredentialsTest, WebIdentityAssumesTheRoleWithTheTokenFile) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "eyJ.jwt.token+/=\n");
  StartStub([](const StubRequest& r) {
    const bool ok =
        r.method == "POST" && r.target == "/" &&
        r.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos &&
        r.body.find("Version=2011-06-15") != std::string::npos &&
        r.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123%3Arole%2Flake") != std::string::npos &&
        r.body.find("RoleSessionName=sess-1") != std::string::npos &&
        r.body.find("WebIdentityToken=eyJ.jwt.token%2B%2F%3D") != std::string::npos &&
        r.Header("content-type").starts_with("application/x-www-form-urlencoded");
    if (!ok) return StubResponse{.status = 400, .body = "bad request: " + r.body};
    return StubResponse{.status = 200, .body = std::string(kStsXml)};
  });
  auto p =
      NewWebIdentityCredentialsProvider(EnvWith({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                                 {"AWS_ROLE_ARN", "arn:aws:iam::123:role/lake"},
                                                 {"AWS_ROLE_SESSION_NAME", "sess-1"},
                                                 {"AWS_ENDPOINT_URL_STS", stub_->url()}},
                                                http_, &clock_));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIASTS");
  EXPECT_EQ(c->secret_access_key, "s-sts");
  EXPECT_EQ(c->session_token, "tok-sts");
  EXPECT_EQ(c->expiration_ms, kNowMs + 3600 * 1000);
  EXPECT_EQ(c->source, "web-identity");
}

TEST_F(StubbedCredentialsTest, WebIdentityRefusedBySts) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "expired");
  StartStub([](const StubRequest&) {
    return StubResponse{
        .status = 400,
        .body =
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
            "<Message>nope</Message></Error></ErrorResponse>"};
  });
  auto p = NewWebIdentityCredentialsProvider(EnvWith({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                                      {"AWS_ROLE_ARN", "arn:r"},
                                                      {"AWS_ENDPOINT_URL_STS", stub_->url()}},
                                                     http_, &clock_));
  const absl::Status s = p->GetCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(StatusMessage(s)).find("InvalidIdentityToken"), std::string::npos);
}

TEST(WebIdentityCredentialsTest, DefaultEndpointIsRegionalSts) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "t");
  auto http = std::make_shared<FakeHttpClient>();
  http->Push(200, std::string(kStsXml));
  auto p = NewWebIdentityCredentialsProvider(EnvWith({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                                      {"AWS_ROLE_ARN", "arn:r"},
                                                      {"AWS_REGION", "eu-central-1"}},
                                                     http));
  ASSERT_TRUE(p->GetCredentials().ok());
  EXPECT_EQ(http->requests().at(0).url, "https://sts.eu-central-1.amazonaws.com/");
  // A session name is made up when none is given.
  EXPECT_NE(http->requests().at(0).body.find("RoleSessionName=lakehose-"), std::string::npos);
}

TEST(WebIdentityCredentialsTest, MissingTokenFileIsAMisconfiguration) {
  auto p = NewWebIdentityCredentialsProvider(
      EnvWith({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"}, {"AWS_ROLE_ARN", "arn:r"}},
              std::make_shared<FakeHttpClient>()));
  EXPECT_EQ(p->GetCredentials().status().code(), absl::StatusCode::kFailedPrecondition);
}

constexpr std::string_view kImdsJson =
    R"({"Code":"Success","LastUpdated":"2023-12-31T23:00:00Z","Type":"AWS-HMAC",)"
    R"("AccessKeyId":"ASIAIMDS","SecretAccessKey":"s-imds","Token":"tok-imds",)"
    R"("Expiration":"2024-01-01T00:30:00Z"})";

TEST_F(StubbedCredentialsTest, ImdsV2TokenThenRoleThenCredentials) {
  StartStub([](const StubRequest& r) {
    if (r.method == "PUT" && r.target == "/latest/api/token") {
      if (r.Header("x-aws-ec2-metadata-token-ttl-seconds").empty())
        return StubResponse{.status = 400};
      return StubResponse{.status = 200, .body = "imds-session-token"};
    }
    if (r.Header("x-aws-ec2-metadata-token") != "imds-session-token") {
      return StubResponse{.status = 401};
    }
    if (r.target == "/latest/meta-data/iam/security-credentials/") {
      return StubResponse{.status = 200, .body = "lake-role\n"};
    }
    if (r.target == "/latest/meta-data/iam/security-credentials/lake-role") {
      return StubResponse{.status = 200, .body = std::string(kImdsJson)};
    }
    return StubResponse{.status = 404};
  });
  auto p = NewImdsCredentialsProvider(
      EnvWith({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", stub_->url() + "/"}}, http_, &clock_));
  absl::StatusOr<AwsCredentials> c = p->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->session_token, "tok-imds");
  EXPECT_EQ(c->expiration_ms, kNowMs + 30 * 60 * 1000);
  EXPECT_EQ(c->source, "imds");
  const std::vector<StubRequest> seen = stub_->requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
}

TEST_F(StubbedCredentialsTest, ImdsWithoutRoleIsAMisconfiguration) {
  StartStub([](const StubRequest& r) {
    if (r.method == "PUT") return StubResponse{.status = 200, .body = "t"};
    return StubResponse{.status = 404};
  });
  auto p = NewImdsCredentialsProvider(
      EnvWith({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", stub_->url()}}, http_, &clock_));
  EXPECT_EQ(p->GetCredentials().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(StubbedCredentialsTest, ImdsUnreachableIsUnavailable) {
  // A port nothing listens on: start a stub to get a free port, then stop it.
  StartStub([](const StubRequest&) { return StubResponse{}; });
  const std::string url = stub_->url();
  stub_->Stop();
  auto p = NewImdsCredentialsProvider(
      EnvWith({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", url}}, http_, &clock_));
  EXPECT_EQ(p->GetCredentials().status().code(), absl::StatusCode::kUnavailable);
}

TEST(ImdsCredentialsTest, DisabledMeansNotAsked) {
  auto http = std::make_shared<FakeHttpClient>();
  auto p = NewImdsCredentialsProvider(EnvWith({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}, http));
  EXPECT_EQ(p->GetCredentials().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(http->request_count(), 0u);
}

TEST(ImdsCredentialsTest, DefaultEndpointAndShortTimeouts) {
  auto http = std::make_shared<FakeHttpClient>();
  http->Push(absl::UnavailableError("connection refused"));
  auto p = NewImdsCredentialsProvider(EnvWith({}, http));
  EXPECT_EQ(p->GetCredentials().status().code(), absl::StatusCode::kUnavailable);
  const RecordedHttpRequest r = http->requests().at(0);
  EXPECT_EQ(r.url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.timeout_ms, 1000);
}

// ---- chain and cache --------------------------------------------------------------

TEST(ChainCredentialsTest, EnvironmentComesFirst) {
  TempDir dir;
  dir.Write(".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = s\n");
  auto http = std::make_shared<FakeHttpClient>();
  FakeClock clock(kNowMs);
  auto chain = NewDefaultCredentialsChain(
      http, &clock,
      MapGetenv(
          {{"HOME", dir.path()}, {"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "s"}}));
  ASSERT_TRUE(chain->GetCredentials().ok());
  EXPECT_EQ(chain->GetCredentials()->access_key_id, "ENV");
  EXPECT_EQ(http->request_count(), 0u);
}

TEST(ChainCredentialsTest, FallsThroughToSharedFiles) {
  TempDir dir;
  dir.Write(".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = s\n");
  auto http = std::make_shared<FakeHttpClient>();
  FakeClock clock(kNowMs);
  auto chain = NewDefaultCredentialsChain(http, &clock, MapGetenv({{"HOME", dir.path()}}));
  absl::StatusOr<AwsCredentials> c = chain->GetCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "FILE");
  EXPECT_EQ(http->request_count(), 0u);  // IMDS never asked
}

TEST(ChainCredentialsTest, NothingConfiguredIsAFailedPreconditionListingTheSources) {
  FakeClock clock(kNowMs);
  auto chain = NewDefaultCredentialsChain(std::make_shared<FakeHttpClient>(), &clock,
                                          MapGetenv({{"AWS_EC2_METADATA_DISABLED", "true"}}));
  const absl::Status s = chain->GetCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  const std::string msg(StatusMessage(s));
  for (const char* source : {"environment", "web identity", "shared files", "container", "imds"}) {
    EXPECT_NE(msg.find(source), std::string::npos) << msg;
  }
}

TEST(ChainCredentialsTest, AConfiguredSourceThatFailsDoesNotFallThroughToImds) {
  auto http = std::make_shared<FakeHttpClient>();
  http->Push(403, "denied");  // the container endpoint refuses
  http->SetHandler([](const RecordedHttpRequest&) -> absl::StatusOr<HttpResponse> {
    ADD_FAILURE() << "IMDS must not be asked";
    return HttpResponse{.status = 500};
  });
  FakeClock clock(kNowMs);
  auto chain = NewDefaultCredentialsChain(
      http, &clock, MapGetenv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c"}}));
  EXPECT_EQ(chain->GetCredentials().status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(http->request_count(), 1u);
}

// Counts calls and returns credentials that expire at a set time.
class CountingProvider : public CredentialsProvider {
 public:
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    ++calls;
    if (!fail_with.ok()) return fail_with;
    return AwsCredentials{.access_key_id = "AKID" + std::to_string(calls.load()),
                          .secret_access_key = "s",
                          .expiration_ms = expiration_ms};
  }
  std::atomic<int> calls{0};
  int64_t expiration_ms = 0;
  absl::Status fail_with;
};

TEST(CachingCredentialsTest, LongTermCredentialsAreFetchedOnce) {
  FakeClock clock(kNowMs);
  auto inner = std::make_unique<CountingProvider>();
  CountingProvider* counter = inner.get();
  CachingCredentialsProvider cache(std::move(inner), &clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.GetCredentials().ok());
  clock.AdvanceMillis(int64_t{1000} * 86400 * 365);
  ASSERT_TRUE(cache.GetCredentials().ok());
  EXPECT_EQ(counter->calls, 1);
}

TEST(CachingCredentialsTest, RefreshesFiveMinutesBeforeExpiry) {
  FakeClock clock(kNowMs);
  auto inner = std::make_unique<CountingProvider>();
  CountingProvider* counter = inner.get();
  counter->expiration_ms = kNowMs + 3600 * 1000;
  CachingCredentialsProvider cache(std::move(inner), &clock);
  EXPECT_EQ(cache.GetCredentials()->access_key_id, "AKID1");
  clock.SetMillis(kNowMs + 3600 * 1000 - kCredentialsRefreshMarginMs - 1);
  EXPECT_EQ(cache.GetCredentials()->access_key_id, "AKID1");
  clock.SetMillis(kNowMs + 3600 * 1000 - kCredentialsRefreshMarginMs);
  EXPECT_EQ(cache.GetCredentials()->access_key_id, "AKID2");
  EXPECT_EQ(counter->calls, 2);
}

TEST(CachingCredentialsTest, FailedRefreshKeepsStillValidCredentials) {
  FakeClock clock(kNowMs);
  auto inner = std::make_unique<CountingProvider>();
  CountingProvider* counter = inner.get();
  counter->expiration_ms = kNowMs + 3600 * 1000;
  CachingCredentialsProvider cache(std::move(inner), &clock);
  ASSERT_TRUE(cache.GetCredentials().ok());
  counter->fail_with = absl::UnavailableError("imds down");
  clock.SetMillis(kNowMs + 3600 * 1000 - 60 * 1000);  // inside the refresh window
  EXPECT_EQ(cache.GetCredentials()->access_key_id, "AKID1");
  EXPECT_EQ(cache.GetCredentials()->access_key_id, "AKID1");
  EXPECT_EQ(counter->calls, 2);           // no new attempt for a while after a failure
  clock.SetMillis(kNowMs + 3600 * 1000);  // expired: the error shows
  EXPECT_EQ(cache.GetCredentials().status().code(), absl::StatusCode::kUnavailable);
}

TEST(CachingCredentialsTest, ErrorsAreNotCached) {
  FakeClock clock(kNowMs);
  auto inner = std::make_unique<CountingProvider>();
  CountingProvider* counter = inner.get();
  counter->fail_with = absl::UnavailableError("down");
  CachingCredentialsProvider cache(std::move(inner), &clock);
  EXPECT_FALSE(cache.GetCredentials().ok());
  counter->fail_with = absl::OkStatus();
  EXPECT_TRUE(cache.GetCredentials().ok());
}

TEST(CachingCredentialsTest, ShortLivedCredentialsAreStillCachedBriefly) {
  FakeClock clock(kNowMs);
  auto inner = std::make_unique<CountingProvider>();
  CountingProvider* counter = inner.get();
  counter->expiration_ms = kNowMs + 2 * 60 * 1000;  // already inside the 5-minute margin
  CachingCredentialsProvider cache(std::move(inner), &clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache.GetCredentials().ok());
  EXPECT_EQ(counter->calls, 1);
  clock.AdvanceMillis(31 * 1000);
  ASSERT_TRUE(cache.GetCredentials().ok());
  EXPECT_EQ(counter->calls, 2);
}

}  // namespace
}  // namespace lakehose
