// Fuzz target for the AWS credentials parsers in core/s3/credentials_parse.h (untrusted:
// files anyone with access to the pod may have written, and answers of the container,
// IMDS and STS endpoints). Its seed corpus (corpus/credentials_parse) runs as a plain
// test in every build; with libFuzzer (clang) it is fuzzed as well.
//
// Invariants checked beyond "does not crash": INI keys come back lower-cased and values
// trimmed; a role name is one clean path segment and a token one clean header value; a
// secret written into a JSON answer or (when it holds no markup) an STS answer is read
// back exactly.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/s3/credentials_parse.h"
#include "core/s3/s3_xml.h"

namespace {

using lakehose::AwsCredentials;

void Check(bool ok) {
  if (!ok) std::abort();
}

void Ini(std::string_view in, std::string_view profile, bool config_style) {
  auto keys = lakehose::ParseIniProfile(in, profile, config_style);
  if (!keys.has_value()) return;
  std::map<std::string, std::string> merged;
  for (const auto& [k, v] : *keys) {
    Check(k == lakehose::AsciiLower(k));
    Check(lakehose::TrimAsciiWhitespace(k) == k && lakehose::TrimAsciiWhitespace(v) == v);
    Check(k.find('\n') == std::string::npos && v.find('\n') == std::string::npos);
    merged[k] = v;
  }
  (void)lakehose::CredentialsFromProfile(merged, profile);
}

void JsonRoundTrip(std::string_view secret) {
  std::string doc = R"({"AccessKeyId":"AKID","SecretAccessKey":)";
  if (secret.empty() || !lakehose::AppendJsonString(secret, &doc)) return;
  doc += R"(,"Token":"t","Expiration":"2024-01-01T00:00:00Z"})";
  if (doc.size() > lakehose::kMaxCredentialsDocumentBytes) return;
  absl::StatusOr<AwsCredentials> c = lakehose::ParseCredentialsJson(doc);
  Check(c.ok() && c->secret_access_key == secret && c->expiration_ms == 1704067200000);
}

void StsRoundTrip(std::string_view secret) {
  // <Credentials>' text is decoded once before its elements are read, so a secret is only
  // read back exactly when it holds nothing that decoding would change.
  if (secret.empty() || secret.find_first_of("&<") != std::string_view::npos) return;
  const std::string xml = lakehose::StrCat(
      "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
      "<AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>",
      lakehose::XmlEscape(secret),
      "</SecretAccessKey><SessionToken>t</SessionToken></Credentials>"
      "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>");
  if (xml.size() > lakehose::kMaxS3XmlBytes) return;
  absl::StatusOr<AwsCredentials> c = lakehose::ParseStsCredentialsXml(xml);
  Check(c.ok() && c->secret_access_key == secret && c->expiration_ms == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Ini(in, "default", /*config_style=*/false);
  Ini(in, "default", /*config_style=*/true);
  Ini(in, "p", /*config_style=*/true);
  (void)lakehose::ParseCredentialsJson(in);
  (void)lakehose::ParseStsCredentialsXml(in);
  Check(!lakehose::StsErrorStatus(400, in).ok());
  (void)lakehose::ParseIso8601Ms(in);
  if (absl::StatusOr<std::string> role = lakehose::ParseImdsRoleName(in); role.ok()) {
    Check(!role->empty() && role->find_first_of("/\r\n") == std::string::npos);
    Check(lakehose::TrimAsciiWhitespace(*role) == *role);
  }
  if (absl::StatusOr<std::string> token = lakehose::ParseImdsToken(in); token.ok()) {
    Check(!token->empty() && token->find_first_of("\r\n") == std::string::npos);
  }
  if (lakehose::IsAllowedContainerCredentialsUrl(in)) {
    Check(in.starts_with("https://") || in.starts_with("http://"));
  }
  JsonRoundTrip(in);
  StsRoundTrip(in);
  return 0;
}
