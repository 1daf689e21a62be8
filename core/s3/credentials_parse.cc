#include "core/s3/credentials_parse.h"

#include <algorithm>

#include "absl/time/time.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/s3/endpoint.h"
#include "core/s3/s3_xml.h"
#include "simdjson.h"

namespace lakehose {
namespace {

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// True for a dotted-quad IPv4 address in 127.0.0.0/8 ("127.0.0.1.evil.com" is not).
bool IsLoopbackIpv4(std::string_view host) {
  int octets = 0;
  size_t pos = 0;
  while (pos <= host.size() && octets < 5) {
    const size_t dot = std::min(host.find('.', pos), host.size());
    const std::string_view part = host.substr(pos, dot - pos);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (octets == 0 && part != "127") return false;
    ++octets;
    pos = dot + 1;
  }
  return octets == 4;
}

bool IsAllowedHttpHost(std::string_view host) {
  return host == "localhost" || IsLoopbackIpv4(host) || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

}  // namespace

absl::StatusOr<int64_t> ParseIso8601Ms(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(TrimAsciiWhitespace(text)), &t, &err)) {
    return absl::InvalidArgumentError(StrCat("bad timestamp '", text.substr(0, 40), "'"));
  }
  return absl::ToUnixMillis(t);
}

absl::StatusOr<AwsCredentials> ParseStsCredentialsXml(std::string_view xml) {
  if (xml.size() > kMaxS3XmlBytes) return absl::InvalidArgumentError("STS answer too large");
  const std::optional<std::string> creds = XmlElementText(xml, "Credentials");
  if (!creds.has_value()) {
    const std::string code = XmlElementText(xml, "Code").value_or("");
    if (!code.empty()) return absl::PermissionDeniedError(StrCat("STS error ", code));
    return absl::InvalidArgumentError("STS answer has no <Credentials>");
  }
  // <Credentials> holds plain elements only, so its decoded text is still its markup.
  AwsCredentials c;
  c.access_key_id = XmlElementText(*creds, "AccessKeyId").value_or("");
  c.secret_access_key = XmlElementText(*creds, "SecretAccessKey").value_or("");
  c.session_token = XmlElementText(*creds, "SessionToken").value_or("");
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return absl::InvalidArgumentError(
        "STS answer lacks AccessKeyId, SecretAccessKey or SessionToken");
  }
  const std::optional<std::string> expiration = XmlElementText(*creds, "Expiration");
  if (expiration.has_value()) {
    ASSIGN_OR_RETURN(c.expiration_ms, ParseIso8601Ms(*expiration));
  }
  return c;
}

absl::Status StsErrorStatus(int http_status, std::string_view body) {
  const std::string code = XmlElementText(body, "Code").value_or("");
  const std::string msg = StrCat("STS answered HTTP ", http_status, " ", code);
  if (http_status >= 500 || http_status == 429 || code == "IDPCommunicationError" ||
      code == "Throttling") {
    return absl::UnavailableError(msg);
  }
  return absl::PermissionDeniedError(msg);
}

absl::StatusOr<AwsCredentials> ParseCredentialsJson(std::string_view json) {
  if (json.size() > kMaxCredentialsDocumentBytes) {
    return absl::InvalidArgumentError("credentials JSON too large");
  }
  simdjson::dom::parser parser;
  if (parser.allocate(json.size(), kMaxCredentialsJsonDepth) != simdjson::SUCCESS) {
    return absl::ResourceExhaustedError("credentials JSON: cannot allocate the parser");
  }
  simdjson::dom::object obj;
  const simdjson::padded_string padded(json);
  if (parser.parse(padded).get_object().get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("credentials answer is not a JSON object");
  }
  auto text = [&](const char* key) -> std::string {
    std::string_view v;
    if (obj[key].get_string().get(v) != simdjson::SUCCESS) return std::string();
    return std::string(v);
  };
  if (const std::string code = text("Code"); !code.empty() && code != "Success") {
    return absl::FailedPreconditionError(StrCat("credentials answer Code=", code.substr(0, 64)));
  }
  AwsCredentials c;
  c.access_key_id = text("AccessKeyId");
  c.secret_access_key = text("SecretAccessKey");
  c.session_token = text("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return absl::InvalidArgumentError("credentials answer lacks AccessKeyId or SecretAccessKey");
  }
  if (const std::string expiration = text("Expiration"); !expiration.empty()) {
    ASSIGN_OR_RETURN(c.expiration_ms, ParseIso8601Ms(expiration));
  }
  return c;
}

absl::StatusOr<std::string> ParseImdsToken(std::string_view body) {
  const std::string_view token = TrimAsciiWhitespace(body);
  if (token.empty() || HasCrLf(token)) return absl::InvalidArgumentError("bad token");
  return std::string(token);
}

absl::StatusOr<std::string> ParseImdsRoleName(std::string_view listing) {
  const std::string_view role = TrimAsciiWhitespace(listing.substr(0, listing.find('\n')));
  if (role.empty() || HasCrLf(role) || role.find('/') != std::string_view::npos) {
    return absl::FailedPreconditionError("no usable IAM role attached to the instance");
  }
  return std::string(role);
}

bool IsAllowedContainerCredentialsUrl(std::string_view url) {
  if (url.starts_with("https://")) return true;
  return url.starts_with("http://") && IsAllowedHttpHost(UrlHost(url));
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseIniProfile(
    std::string_view text, std::string_view profile, bool config_style) {
  std::optional<std::vector<std::pair<std::string, std::string>>> result;
  bool in_profile = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view raw = text.substr(pos, eol - pos);
    pos = eol + 1;
    const std::string_view line = TrimAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      std::string_view name = TrimAsciiWhitespace(line.substr(1, line.find(']') - 1));
      if (config_style && name.starts_with("profile") && name.size() > 7 && IsAsciiSpace(name[7])) {
        name = TrimAsciiWhitespace(name.substr(7));
      } else if (config_style && name != "default") {
        name = {};  // "[x]" in the config file is not a profile (sso-session, services...)
      }
      in_profile = name == profile;
      if (in_profile && !result.has_value()) result.emplace();
      continue;
    }
    // Indented lines continue a nested setting (e.g. "s3 =\n  max_concurrent_requests").
    if (!in_profile || IsAsciiSpace(raw[0])) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    result->emplace_back(AsciiLower(TrimAsciiWhitespace(line.substr(0, eq))),
                         std::string(TrimAsciiWhitespace(line.substr(eq + 1))));
  }
  return result;
}

absl::StatusOr<AwsCredentials> CredentialsFromProfile(
    const std::map<std::string, std::string>& keys, std::string_view profile) {
  auto get = [&](const char* k) {
    auto it = keys.find(k);
    return it == keys.end() ? std::string() : it->second;
  };
  AwsCredentials c;
  c.access_key_id = get("aws_access_key_id");
  c.secret_access_key = get("aws_secret_access_key");
  c.session_token = get("aws_session_token");
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
    return absl::FailedPreconditionError(
        StrCat("profile '", profile, "' needs both aws_access_key_id and aws_secret_access_key"));
  }
  for (const char* k : {"role_arn", "credential_process", "sso_session", "sso_start_url"}) {
    if (!get(k).empty()) {
      return absl::UnimplementedError(StrCat("profile '", profile, "' uses ", k,
                                             ", which lakehose does not support; use static "
                                             "keys, web identity or container credentials"));
    }
  }
  return absl::NotFoundError(StrCat("profile '", profile, "' has no keys"));
}

}  // namespace lakehose
