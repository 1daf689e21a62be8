// Structured logs never carry secrets: fields named like one are redacted, and secrets
// embedded in messages (an Authorization header, a bearer token, presigned query
// parameters, credentials answers) are hidden; everything else is kept as is.
#include "service/platform/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecretKey[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kSessionToken[] = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN";
constexpr char kSignature[] = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
constexpr char kBearer[] = "s3cr3t-bearer-token-0123456789";

// Everything Log writes to stderr while `f` runs.
template <typename F>
std::string CaptureStderr(F f) {
  char path[] = "/tmp/lakehose-log-test-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  f();
  ::dup2(saved, 2);
  ::close(saved);
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  ::unlink(path);
  return out;
}

void ExpectNoSecret(const std::string& out) {
  for (const char* secret : {kSecretKey, kSessionToken, kSignature, kBearer})
    EXPECT_THAT(out, Not(HasSubstr(secret)));
}

TEST(LogTest, SecretFieldNamesAreRedactedInJsonAndText) {
  for (LogFormat format : {LogFormat::kJson, LogFormat::kText}) {
    SetLogFormat(format);
    const std::string out = CaptureStderr([] {
      Log(LogLevel::kWarn, "test.secrets",
          {{"aws_secret_access_key", kSecretKey},
           {"SessionToken", kSessionToken},
           {"authorization", kBearer},
           {"client_password", kBearer},
           {"signature", kSignature},
           {"pipeline", "demo"}});
    });
    ExpectNoSecret(out);
    EXPECT_THAT(out, HasSubstr("[REDACTED]"));
    EXPECT_THAT(out, HasSubstr("demo"));  // ordinary fields are kept
  }
  SetLogFormat(LogFormat::kJson);
}

TEST(LogTest, SecretsInsideMessagesAreRedacted) {
  const std::string authorization =
      std::string(
          "Authorization: AWS4-HMAC-SHA256 "
          "Credential=AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=") +
      kSignature;
  const std::string presigned =
      std::string("GET https://bucket.s3.amazonaws.com/k?X-Amz-Security-Token=") + kSessionToken +
      "&X-Amz-Signature=" + kSignature + "&x-id=GetObject";
  const std::string imds =
      std::string(R"({"Code":"Success","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":")") +
      kSecretKey + R"(","Token":")" + kSessionToken + R"("})";
  const std::string sts = std::string("<Credentials><SecretAccessKey>") + kSecretKey +
                          "</SecretAccessKey><SessionToken>" + kSessionToken +
                          "</SessionToken></Credentials>";
  const std::string grpc = std::string("metadata authorization: Bearer ") + kBearer + " rejected";
  const std::string out = CaptureStderr([&] {
    Log(LogLevel::kError, "test.messages",
        {{"error", authorization},
         {"request", presigned},
         {"answer", imds},
         {"sts", sts},
         {"detail", grpc}});
  });
  ExpectNoSecret(out);
  // What is not secret stays readable.
  EXPECT_THAT(out, HasSubstr("SignedHeaders=host;x-amz-date"));
  EXPECT_THAT(out, HasSubstr("x-id=GetObject"));
  EXPECT_THAT(out, HasSubstr("ASIAEXAMPLE"));
}

TEST(LogTest, RedactSecretsLeavesOrdinaryTextAlone) {
  EXPECT_EQ(RedactSecrets("S3 PutObject s3://lake/a=1/b.jsonl.gz: HTTP 503 SlowDown"),
            "S3 PutObject s3://lake/a=1/b.jsonl.gz: HTTP 503 SlowDown");
  EXPECT_EQ(RedactSecrets(""), "");
  EXPECT_EQ(RedactSecrets("Bearer "), "Bearer ");
  EXPECT_EQ(RedactSecrets("x Bearer abc, y"), "x Bearer [REDACTED], y");
  EXPECT_FALSE(IsSecretFieldName("pipeline"));
  EXPECT_FALSE(IsSecretFieldName("key"));
  EXPECT_TRUE(IsSecretFieldName("X-Amz-Security-Token"));
}

}  // namespace
}  // namespace lakehose
