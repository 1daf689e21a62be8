#include "core/s3/credentials_parse.h"

#include <string>

#include "core/base/strings.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

// 2024-01-01T00:00:00Z
constexpr int64_t kNowMs = 1704067200000;

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

// ---- expiration times ---------------------------------------------------------------

TEST(CredentialsParsersTest, Iso8601) {
  EXPECT_EQ(*ParseIso8601Ms("2024-01-01T00:00:00Z"), kNowMs);
  EXPECT_EQ(*ParseIso8601Ms("2024-01-01T00:00:00.250Z"), kNowMs + 250);
  EXPECT_EQ(*ParseIso8601Ms("2024-01-01T01:00:00+01:00"), kNowMs);
  EXPECT_EQ(*ParseIso8601Ms(" 2024-01-01T00:00:00Z\n"), kNowMs);
  EXPECT_FALSE(ParseIso8601Ms("yesterday").ok());
  EXPECT_FALSE(ParseIso8601Ms("").ok());
  EXPECT_FALSE(ParseIso8601Ms("2024-01-01").ok());
  EXPECT_EQ(ParseIso8601Ms("2024-13-01T00:00:00Z").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- container and IMDS JSON ---------------------------------------------------------

TEST(CredentialsParsersTest, JsonGarbageAndMissingFields) {
  for (std::string_view bad :
       {"", "null", "[]", "{", "{\"AccessKeyId\":1}", "{\"AccessKeyId\":\"A\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"x\"}"}) {
    EXPECT_FALSE(ParseCredentialsJson(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseCredentialsJson(R"({"Code":"Failure","AccessKeyId":"A","SecretAccessKey":"s"})")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParseCredentialsJson("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCredentialsJson("not json").status().code(), absl::StatusCode::kInvalidArgument);
  auto ok = ParseCredentialsJson(R"({"AccessKeyId":"A","SecretAccessKey":"s"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->expiration_ms, 0);
}

TEST(CredentialsParsersTest, ImdsAnswer) {
  absl::StatusOr<AwsCredentials> c = ParseCredentialsJson(
      R"({"Code":"Success","LastUpdated":"2023-12-31T23:00:00Z","Type":"AWS-HMAC",)"
      R"("AccessKeyId":"ASIAIMDS","SecretAccessKey":"s-imds","Token":"tok-imds",)"
      R"("Expiration":"2024-01-01T00:30:00Z"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->secret_access_key, "s-imds");
  EXPECT_EQ(c->session_token, "tok-imds");
  EXPECT_EQ(c->expiration_ms, kNowMs + 30 * 60 * 1000);
  EXPECT_EQ(c->source, "");
}

TEST(CredentialsParsersTest, JsonNestingIsBounded) {
  auto nested = [](size_t depth) {
    std::string extra;
    for (size_t i = 0; i < depth; ++i) extra += "[";
    for (size_t i = 0; i < depth; ++i) extra += "]";
    return StrCat(R"({"AccessKeyId":"A","SecretAccessKey":"s","Extra":)", extra, "}");
  };
  // The object itself is one level.
  EXPECT_TRUE(ParseCredentialsJson(nested(kMaxCredentialsJsonDepth - 1)).ok());
  EXPECT_EQ(ParseCredentialsJson(nested(kMaxCredentialsJsonDepth)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCredentialsJson(nested(100000)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CredentialsParsersTest, JsonTooLargeIsRefusedUnread) {
  std::string big = R"({"AccessKeyId":"A","SecretAccessKey":"s","Pad":")";
  big.append(kMaxCredentialsDocumentBytes, 'x');
  big += "\"}";
  EXPECT_EQ(ParseCredentialsJson(big).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CredentialsParsersTest, ErrorsNeverQuoteSecrets) {
  const absl::Status s =
      ParseCredentialsJson(R"({"SecretAccessKey":"very-secret-value","Token":"secret-token"})")
          .status();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(std::string(StatusMessage(s)).find("very-secret-value"), std::string::npos) << s;
  EXPECT_EQ(std::string(StatusMessage(s)).find("secret-token"), std::string::npos) << s;
}

TEST(CredentialsParsersTest, ImdsToken) {
  EXPECT_EQ(*ParseImdsToken("AQAEAF-token==\n"), "AQAEAF-token==");
  for (std::string_view bad : {"", " \n", "a\r\nX-Injected: 1", "a\nb"}) {
    EXPECT_EQ(ParseImdsToken(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CredentialsParsersTest, ImdsRoleName) {
  EXPECT_EQ(*ParseImdsRoleName("lake-role\n"), "lake-role");
  EXPECT_EQ(*ParseImdsRoleName("  lake-role  \nsecond-role\n"), "lake-role");
  for (std::string_view bad : {"", "\n", "   \nrole", "a/b", "../x", "role\rinjected"}) {
    EXPECT_EQ(ParseImdsRoleName(bad).status().code(), absl::StatusCode::kFailedPrecondition) << bad;
  }
}

// ---- STS XML -------------------------------------------------------------------------

TEST(CredentialsParsersTest, StsGarbage) {
  for (std::string_view bad : {"", "<", "<Credentials>", "<Credentials></Credentials>",
                               "<Credentials><AccessKeyId>A</AccessKeyId></Credentials>"}) {
    EXPECT_FALSE(ParseStsCredentialsXml(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseStsCredentialsXml(kStsXml).ok());
}

TEST(CredentialsParsersTest, StsAnswer) {
  absl::StatusOr<AwsCredentials> c = ParseStsCredentialsXml(kStsXml);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIASTS");
  EXPECT_EQ(c->secret_access_key, "s-sts");
  EXPECT_EQ(c->session_token, "tok-sts");
  EXPECT_EQ(c->expiration_ms, kNowMs + 3600 * 1000);
  // An <ErrorResponse> is a refusal; a bad expiration is a bad answer.
  EXPECT_EQ(ParseStsCredentialsXml("<ErrorResponse><Error><Code>AccessDenied</Code></Error>"
                                   "</ErrorResponse>")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ParseStsCredentialsXml("<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>s"
                                   "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>"
                                   "soon</Expiration></Credentials>")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseStsCredentialsXml(std::string(kMaxCredentialsDocumentBytes + 1, ' ')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(CredentialsParsersTest, StsErrors) {
  const std::string invalid_token =
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
      "<Message>nope</Message></Error></ErrorResponse>";
  const absl::Status refused = StsErrorStatus(400, invalid_token);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusMessage(refused), "STS answered HTTP 400 InvalidIdentityToken");
  EXPECT_EQ(StsErrorStatus(403, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StsErrorStatus(500, "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StsErrorStatus(429, "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StsErrorStatus(400, "<Error><Code>IDPCommunicationError</Code></Error>").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StsErrorStatus(400, "<Error><Code>Throttling</Code></Error>").code(),
            absl::StatusCode::kUnavailable);
}

// ---- container credentials URL -------------------------------------------------------

TEST(CredentialsParsersTest, ContainerUrlPlainHttpOnlyToLoopbackOrTheAgent) {
  for (const char* url :
       {"http://example.com/creds", "http://127.0.0.1.evil.com/c", "http://127.0.0/c",
        "http://128.0.0.1/c", "http://user@evil.com/c", "ftp://127.0.0.1/c", "HTTP://127.0.0.1/c",
        "http://127.0.0.1@evil.com/c", "http://[::2]/c", "127.0.0.1/c", "", "http://"}) {
    EXPECT_FALSE(IsAllowedContainerCredentialsUrl(url)) << url;
  }
  for (const char* url :
       {"http://127.0.0.1:8080/c", "http://127.1.2.3/c", "http://localhost/c", "http://[::1]:80/c",
        "http://169.254.170.2/v2/credentials/x", "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials", "http://evil.com@127.0.0.1/c",
        "https://anything.example.com/c"}) {
    EXPECT_TRUE(IsAllowedContainerCredentialsUrl(url)) << url;
  }
}

// ---- shared files ------------------------------------------------------------------

TEST(CredentialsParsersTest, IniParserEdgeCases) {
  const std::string text =
      "[default]\nA = 1\n[ profile  spaced ]\nb=2\n[profilex]\nc=3\n[broken\nd=4\nno-equals\n";
  EXPECT_EQ(ParseIniProfile(text, "spaced", true)->size(), 1u);
  EXPECT_EQ((*ParseIniProfile(text, "default", true))[0].first, "a");  // keys lower-cased
  EXPECT_FALSE(ParseIniProfile(text, "profilex", true).has_value());   // config needs "profile "
  EXPECT_TRUE(ParseIniProfile(text, "profilex", false).has_value());
  EXPECT_FALSE(ParseIniProfile("", "default", false).has_value());
  EXPECT_FALSE(ParseIniProfile("[[[\n]]]\n=\n", "default", false).has_value());
}

TEST(CredentialsParsersTest, IniCommentsIndentationAndRepeatedSections) {
  const std::string text =
      "# comment\n; also a comment\n[other]\naws_access_key_id = AKIDOTHER\n\n[default]\n  \n"
      "AWS_Access_Key_Id=AKIDDEFAULT\r\n"
      "s3 =\n  max_concurrent_requests = 20\n"
      "\tindented = skipped\n"
      "[other]\nregion = x\n[default]\nregion = eu-west-1 \n";
  auto def = ParseIniProfile(text, "default", false);
  ASSERT_TRUE(def.has_value());
  using Keys = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(*def,
            (Keys{{"aws_access_key_id", "AKIDDEFAULT"}, {"s3", ""}, {"region", "eu-west-1"}}));
  EXPECT_EQ(*ParseIniProfile(text, "other", false),
            (Keys{{"aws_access_key_id", "AKIDOTHER"}, {"region", "x"}}));
  // A section that is present but empty is found.
  EXPECT_EQ(ParseIniProfile("[p]\n", "p", false)->size(), 0u);
  // The config file: "[profile x]" and "[default]" are profiles, other sections are not.
  const std::string config = "[sso-session s]\nsso_region = x\n[profile\ts]\nk = v\n";
  EXPECT_EQ(*ParseIniProfile(config, "s", true), (Keys{{"k", "v"}}));
  EXPECT_FALSE(ParseIniProfile(config, "sso-session s", true).has_value());
}

TEST(CredentialsParsersTest, ProfileKeysToCredentials) {
  absl::StatusOr<AwsCredentials> c = CredentialsFromProfile(
      {{"aws_access_key_id", "AKID"}, {"aws_secret_access_key", "s"}, {"aws_session_token", "t"}},
      "p");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "s");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(c->expiration_ms, 0);

  const absl::Status half =
      CredentialsFromProfile({{"aws_secret_access_key", "very-secret-value"}}, "p").status();
  EXPECT_EQ(half.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(StatusMessage(half)).find("very-secret-value"), std::string::npos);
  for (const char* k : {"role_arn", "credential_process", "sso_session", "sso_start_url"}) {
    const absl::Status s = CredentialsFromProfile({{k, "x"}, {"region", "r"}}, "p").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << k;
    EXPECT_NE(std::string(StatusMessage(s)).find(k), std::string::npos) << s;
  }
  EXPECT_EQ(CredentialsFromProfile({{"region", "r"}}, "p").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CredentialsFromProfile({}, "p").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace lakehose
