// The bearer-token check on its own (service/rpc/auth.h): token files, the Authorization
// value, the constant-time compare and which methods are exempt.
#include "service/rpc/auth.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";

TEST(ParseTokenFileTest, TrimsTheTrailingNewlineAndSurroundingSpace) {
  auto t = ParseTokenFile(std::string("  ") + kToken + "\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, kToken);
  t = ParseTokenFile(std::string(kToken) + "\r\n\r\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, kToken);
}

TEST(ParseTokenFileTest, AcceptsB64TokenCharactersAndTrailingPadding) {
  const std::string token = "AZaz09-._~+/AZaz09-._~+/==";
  auto t = ParseTokenFile(token);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, token);
}

TEST(ParseTokenFileTest, RefusesEmptyShortLongAndOddTokens) {
  EXPECT_THAT(ParseTokenFile("").status().message(), HasSubstr("is empty"));
  EXPECT_THAT(ParseTokenFile(" \n\t\n").status().message(), HasSubstr("is empty"));
  EXPECT_THAT(ParseTokenFile("short\n").status().message(),
              HasSubstr("holds a token of 5 characters; at least 16"));
  EXPECT_THAT(ParseTokenFile(std::string(kMaxTokenBytes + 1, 'a')).status().message(),
              HasSubstr("more than 4096"));
  // Two tokens, or one with a space inside: which one would clients send?
  const std::string two = std::string(kToken) + " " + kToken;
  auto t = ParseTokenFile(two);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("at offset 32"));
  EXPECT_THAT(t.status().message(), Not(HasSubstr(kToken)));      // never echo the secret
  EXPECT_FALSE(ParseTokenFile(std::string(kToken) + "=x").ok());  // '=' only at the end
  EXPECT_FALSE(ParseTokenFile(std::string(kToken) + "\xc3\xa9").ok());
  EXPECT_FALSE(ParseTokenFile(std::string(kToken) + ",").ok());
}

TEST(ParseBearerTokenTest, SchemeIsCaseInsensitiveAndSpacesAreSkipped) {
  EXPECT_EQ(ParseBearerToken("Bearer abc").value(), "abc");
  EXPECT_EQ(ParseBearerToken("bearer abc").value(), "abc");
  EXPECT_EQ(ParseBearerToken("BEARER   abc  ").value(), "abc");
}

TEST(ParseBearerTokenTest, RefusesOtherSchemesAndEmptyTokens) {
  for (const char* bad : {"", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Basic dXNlcjpwYXNz",
                          "abc", "Token abc", " Bearer abc"}) {
    EXPECT_FALSE(ParseBearerToken(bad).ok()) << "\"" << bad << "\"";
  }
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals(kToken, kToken));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  std::string last = kToken;
  last.back() = 'X';
  EXPECT_FALSE(ConstantTimeEquals(last, kToken));
  std::string first = kToken;
  first.front() = 'X';
  EXPECT_FALSE(ConstantTimeEquals(first, kToken));
  // Prefixes and extensions of the token are not the token.
  EXPECT_FALSE(ConstantTimeEquals(std::string(kToken).substr(0, 31), kToken));
  EXPECT_FALSE(ConstantTimeEquals(std::string(kToken) + "0", kToken));
  EXPECT_FALSE(ConstantTimeEquals("", kToken));
  // Embedded NULs count (no C-string compare).
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(IsExemptFromAuthTest, OnlyHealthIsExempt) {
  EXPECT_TRUE(IsExemptFromAuth("/grpc.health.v1.Health/Check"));
  EXPECT_TRUE(IsExemptFromAuth("/grpc.health.v1.Health/Watch"));
  EXPECT_FALSE(IsExemptFromAuth("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
  EXPECT_FALSE(IsExemptFromAuth("/lakehose.v1.Transformer/Transform"));
  EXPECT_FALSE(IsExemptFromAuth("/lakehose.v1.Ingestor/Ingest"));
  EXPECT_FALSE(IsExemptFromAuth("/lakehose.v1.DeadLetters/Purge"));
  // Destination detail names buckets and carries S3 errors: it needs the token.
  EXPECT_FALSE(IsExemptFromAuth("/lakehose.v1.ServerStatus/GetServerStatus"));
  EXPECT_FALSE(IsExemptFromAuth("/grpc.health.v1.Health/CheckX"));
  EXPECT_FALSE(IsExemptFromAuth("/grpc.health.v1.Health/"));
  EXPECT_FALSE(IsExemptFromAuth(""));
}

class TokenAuthenticatorTest : public ::testing::Test {
 protected:
  grpc::Status Check(std::string_view path, const std::vector<std::string_view>& authorization) {
    return auth_.Check(path, authorization);
  }
  TokenAuthenticator auth_{kToken};
  const std::string path_ = "/lakehose.v1.Transformer/Transform";
  const std::string good_ = std::string("Bearer ") + kToken;
};

TEST_F(TokenAuthenticatorTest, RightTokenPasses) {
  EXPECT_TRUE(Check(path_, {good_}).ok());
  const std::string lower = std::string("bearer ") + kToken;
  EXPECT_TRUE(Check(path_, {lower}).ok());
}

TEST_F(TokenAuthenticatorTest, MissingTokenIsUnauthenticatedAndSaysWhatToSend) {
  const grpc::Status s = Check(path_, {});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("missing bearer token"));
  EXPECT_THAT(s.error_message(), HasSubstr("authorization: Bearer <token>"));
}

TEST_F(TokenAuthenticatorTest, WrongOrMalformedTokenIsUnauthenticatedWithoutEchoingIt) {
  const std::string wrong = "Bearer fedcba9876543210fedcba9876543210";
  grpc::Status s = Check(path_, {wrong});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid bearer token");
  s = Check(path_, {std::string("Basic ") + kToken});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("must be \"Bearer <token>\""));
  EXPECT_THAT(s.error_message(), Not(HasSubstr(kToken)));
  s = Check(path_, {std::string("Bearer ") + std::string(kMaxTokenBytes + 1, 'a')});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The right token with something appended is wrong.
  s = Check(path_, {good_ + "x"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TokenAuthenticatorTest, TwoAuthorizationValuesAreRefusedEvenIfOneIsRight) {
  const grpc::Status s = Check(path_, {good_, "Bearer other-token-other-token"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("more than one"));
}

TEST_F(TokenAuthenticatorTest, TwoAuthorizationValuesAreRefusedOnHealthToo) {
  for (const char* health : {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}) {
    const grpc::Status s = Check(health, {good_, good_});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << health;
    EXPECT_THAT(s.error_message(), HasSubstr("more than one"));
  }
}

TEST_F(TokenAuthenticatorTest, HealthNeedsNoTokenButReflectionAndUnknownPathsDo) {
  EXPECT_TRUE(Check("/grpc.health.v1.Health/Check", {}).ok());
  EXPECT_TRUE(Check("/grpc.health.v1.Health/Watch", {"Bearer wrong"}).ok());
  EXPECT_EQ(
      Check("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {}).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Check("", {}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Check("/no.such.Service/Method", {}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(TokenAuthMetadataProcessorTest, ConsumesTheAuthorizationMetadataOnSuccess) {
  auto processor = NewTokenAuthMetadataProcessor(kToken);
  EXPECT_FALSE(processor->IsBlocking());
  const std::string path = "/lakehose.v1.Ingestor/Ingest", good = std::string("Bearer ") + kToken;
  grpc::AuthMetadataProcessor::InputMetadata in;
  in.emplace(":path", grpc::string_ref(path));
  in.emplace("user-agent", "test");
  in.emplace("authorization", grpc::string_ref(good));
  grpc::AuthMetadataProcessor::OutputMetadata consumed, response;
  EXPECT_TRUE(processor->Process(in, nullptr, &consumed, &response).ok());
  ASSERT_EQ(consumed.size(), 1u);
  EXPECT_EQ(consumed.begin()->first, "authorization");

  grpc::AuthMetadataProcessor::InputMetadata no_token;
  no_token.emplace(":path", grpc::string_ref(path));
  consumed.clear();
  const grpc::Status s = processor->Process(no_token, nullptr, &consumed, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(consumed.empty());
}

}  // namespace
}  // namespace lakehose
