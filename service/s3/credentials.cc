#include "service/s3/credentials.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/time/time.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/uri_encode.h"
#include "core/s3/s3_xml.h"
#include "simdjson.h"

namespace lakehose {
namespace {

// Credentials, token and profile files are small; a larger one is not what we expect.
constexpr size_t kMaxCredentialFileBytes = 1 << 20;
constexpr int64_t kImdsTimeoutMs = 1000;
constexpr int64_t kContainerTimeoutMs = 2000;
constexpr int64_t kStsTimeoutMs = 5000;
constexpr int64_t kMinCacheMs = 30 * 1000;
constexpr int64_t kRetryFailedRefreshAfterMs = 10 * 1000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Prefixes a status's message, keeping its code.
absl::Status Annotate(const absl::Status& s, std::string_view prefix) {
  return absl::Status(s.code(), StrCat(prefix, StatusMessage(s)));
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot open ", path));
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxCredentialFileBytes) {
      return absl::FailedPreconditionError(
          StrCat(path, " is larger than ", kMaxCredentialFileBytes, " bytes"));
    }
  }
  return data;
}

std::string ExpandHome(std::string_view path, const GetenvFunction& getenv) {
  if (path.starts_with("~/")) return StrCat(getenv("HOME"), path.substr(1));
  return std::string(path);
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Maps a transport failure of a credentials endpoint: all are "try again later".
absl::Status TransportError(const absl::Status& s, std::string_view what) {
  if (absl::IsDeadlineExceeded(s) || absl::IsUnavailable(s)) {
    return absl::UnavailableError(StrCat(what, " unreachable: ", StatusMessage(s)));
  }
  return Annotate(s, StrCat(what, ": "));
}

absl::Status HttpStatusError(const HttpResponse& r, std::string_view what) {
  const std::string msg = StrCat(what, " answered HTTP ", r.status);
  if (r.status >= 500 || r.status == 429) return absl::UnavailableError(msg);
  if (r.status == 401 || r.status == 403) return absl::PermissionDeniedError(msg);
  return absl::FailedPreconditionError(msg);
}

// Host of an absolute URL ("http://[::1]:80/x" -> "::1").
std::string_view UrlHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

// ---- environment -------------------------------------------------------------------

class EnvironmentProvider : public CredentialsProvider {
 public:
  explicit EnvironmentProvider(CredentialsEnv env) : env_(std::move(env)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    AwsCredentials c{.access_key_id = env_.getenv("AWS_ACCESS_KEY_ID"),
                     .secret_access_key = env_.getenv("AWS_SECRET_ACCESS_KEY"),
                     .session_token = env_.getenv("AWS_SESSION_TOKEN"),
                     .source = "environment"};
    if (c.access_key_id.empty() && c.secret_access_key.empty()) {
      return absl::NotFoundError("environment: AWS_ACCESS_KEY_ID not set");
    }
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
      return absl::FailedPreconditionError(
          "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
    }
    return c;
  }

 private:
  const CredentialsEnv env_;
};

// ---- web identity (IRSA) -----------------------------------------------------------

class WebIdentityProvider : public CredentialsProvider {
 public:
  explicit WebIdentityProvider(CredentialsEnv env) : env_(std::move(env)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    const std::string token_file = env_.getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    const std::string role_arn = env_.getenv("AWS_ROLE_ARN");
    if (token_file.empty() || role_arn.empty()) {
      return absl::NotFoundError("web identity: AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN not set");
    }
    absl::StatusOr<std::string> token = ReadSmallFile(ExpandHome(token_file, env_.getenv));
    if (!token.ok()) {
      return absl::FailedPreconditionError(
          StrCat("web identity: token file: ", StatusMessage(token.status())));
    }
    const std::string body = FormBody(role_arn, Trim(*token));
    const HttpRequest req{
        .method = "POST",
        .url = StrCat(Endpoint(), "/"),
        .headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                    {"Accept", "application/xml"}},
        .body = body,
        .timeout_ms = kStsTimeoutMs};
    absl::StatusOr<HttpResponse> resp = env_.http->Send(req);
    if (!resp.ok()) return TransportError(resp.status(), "web identity: STS");
    return Interpret(*resp);
  }

 private:
  std::string Endpoint() const {
    std::string ep = env_.getenv("AWS_ENDPOINT_URL_STS");
    if (ep.empty()) {
      std::string region = env_.getenv("AWS_REGION");
      if (region.empty()) region = env_.getenv("AWS_DEFAULT_REGION");
      if (region.empty()) region = "us-east-1";
      ep = StrCat("https://sts.", region, ".amazonaws.com");
    }
    while (ep.ends_with('/')) ep.pop_back();
    return ep;
  }

  std::string FormBody(const std::string& role_arn, std::string_view token) const {
    std::string session = env_.getenv("AWS_ROLE_SESSION_NAME");
    if (session.empty()) session = StrCat("lakehose-", env_.clock->NowMillis());
    return StrCat("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=",
                  UriEncode(role_arn, false), "&RoleSessionName=", UriEncode(session, false),
                  "&WebIdentityToken=", UriEncode(token, false));
  }

  static absl::StatusOr<AwsCredentials> Interpret(const HttpResponse& r) {
    if (r.status != 200) {
      const std::string code = XmlElementText(r.body, "Code").value_or("");
      const std::string msg = StrCat("web identity: STS answered HTTP ", r.status, " ", code);
      if (r.status >= 500 || r.status == 429 || code == "IDPCommunicationError" ||
          code == "Throttling") {
        return absl::UnavailableError(msg);
      }
      return absl::PermissionDeniedError(msg);
    }
    absl::StatusOr<AwsCredentials> c = ParseStsCredentialsXml(r.body);
    if (!c.ok()) return Annotate(c.status(), "web identity: ");
    c->source = "web-identity";
    return c;
  }

  const CredentialsEnv env_;
};

// ---- shared credentials and config files -------------------------------------------

class SharedFilesProvider : public CredentialsProvider {
 public:
  explicit SharedFilesProvider(CredentialsEnv env) : env_(std::move(env)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    const std::string explicit_profile = env_.getenv("AWS_PROFILE");
    const std::string profile = explicit_profile.empty() ? "default" : explicit_profile;
    const std::string creds_path = PathOf("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    const std::string config_path = PathOf("AWS_CONFIG_FILE", "config");
    std::map<std::string, std::string> keys;
    bool found = false;
    // The config file first, so the credentials file wins where both set a key.
    RETURN_IF_ERROR(Merge(config_path, profile, /*config_style=*/true, &keys, &found));
    RETURN_IF_ERROR(Merge(creds_path, profile, /*config_style=*/false, &keys, &found));
    if (!found) {
      auto shown = [](const std::string& p) { return p.empty() ? std::string("(no HOME)") : p; };
      const std::string msg = StrCat("shared files: no profile '", profile, "' in ",
                                     shown(creds_path), " or ", shown(config_path));
      if (!explicit_profile.empty()) return absl::FailedPreconditionError(msg);
      return absl::NotFoundError(msg);
    }
    return FromKeys(keys, profile);
  }

 private:
  std::string PathOf(std::string_view var, std::string_view file) const {
    const std::string set = env_.getenv(var);
    if (!set.empty()) return ExpandHome(set, env_.getenv);
    const std::string home = env_.getenv("HOME");
    return home.empty() ? std::string() : StrCat(home, "/.aws/", file);
  }

  static absl::Status Merge(const std::string& path, std::string_view profile, bool config_style,
                            std::map<std::string, std::string>* keys, bool* found) {
    if (path.empty()) return absl::OkStatus();
    absl::StatusOr<std::string> text = ReadSmallFile(path);
    if (absl::IsNotFound(text.status())) return absl::OkStatus();
    if (!text.ok()) return Annotate(text.status(), "shared files: ");
    auto section = ParseIniProfile(*text, profile, config_style);
    if (!section.has_value()) return absl::OkStatus();
    *found = true;
    for (auto& [k, v] : *section) (*keys)[k] = v;
    return absl::OkStatus();
  }

  static absl::StatusOr<AwsCredentials> FromKeys(const std::map<std::string, std::string>& keys,
                                                 const std::string& profile) {
    auto get = [&](const char* k) {
      auto it = keys.find(k);
      return it == keys.end() ? std::string() : it->second;
    };
    AwsCredentials c{.access_key_id = get("aws_access_key_id"),
                     .secret_access_key = get("aws_secret_access_key"),
                     .session_token = get("aws_session_token"),
                     .source = "shared-files"};
    if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
    if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
      return absl::FailedPreconditionError(
          StrCat("shared files: profile '", profile,
                 "' needs both aws_access_key_id and aws_secret_access_key"));
    }
    for (const char* k : {"role_arn", "credential_process", "sso_session", "sso_start_url"}) {
      if (!get(k).empty()) {
        return absl::UnimplementedError(StrCat("shared files: profile '", profile, "' uses ", k,
                                               ", which lakehose does not support; use static "
                                               "keys, web identity or container credentials"));
      }
    }
    return absl::NotFoundError(StrCat("shared files: profile '", profile, "' has no keys"));
  }

  const CredentialsEnv env_;
};

// ---- container credentials (ECS, EKS Pod Identity) ---------------------------------

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

class ContainerProvider : public CredentialsProvider {
 public:
  explicit ContainerProvider(CredentialsEnv env) : env_(std::move(env)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    ASSIGN_OR_RETURN(std::string url, Url());
    HttpRequest req{.method = "GET", .url = url, .timeout_ms = kContainerTimeoutMs};
    ASSIGN_OR_RETURN(std::string token, AuthorizationToken());
    if (!token.empty()) req.headers.emplace_back("Authorization", token);
    absl::StatusOr<HttpResponse> resp = env_.http->Send(req);
    if (!resp.ok()) return TransportError(resp.status(), "container credentials endpoint");
    if (resp->status != 200) return HttpStatusError(*resp, "container credentials endpoint");
    absl::StatusOr<AwsCredentials> c = ParseCredentialsJson(resp->body);
    if (!c.ok()) return Annotate(c.status(), "container credentials: ");
    c->source = "container";
    return c;
  }

 private:
  absl::StatusOr<std::string> Url() const {
    const std::string relative = env_.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!relative.empty()) {
      return StrCat("http://169.254.170.2", relative.starts_with('/') ? "" : "/", relative);
    }
    const std::string full = env_.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (full.empty()) {
      return absl::NotFoundError("container: AWS_CONTAINER_CREDENTIALS_*_URI not set");
    }
    if (full.starts_with("https://")) return full;
    if (full.starts_with("http://") && IsAllowedHttpHost(UrlHost(full))) return full;
    return absl::FailedPreconditionError(
        "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback "
        "address or the ECS/EKS agent");
  }

  absl::StatusOr<std::string> AuthorizationToken() const {
    const std::string file = env_.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    std::string token;
    if (!file.empty()) {
      absl::StatusOr<std::string> text = ReadSmallFile(ExpandHome(file, env_.getenv));
      if (!text.ok()) {
        return absl::FailedPreconditionError(
            StrCat("container: authorization token file: ", StatusMessage(text.status())));
      }
      token = std::string(Trim(*text));
    } else {
      token = env_.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (HasCrLf(token)) {
      return absl::FailedPreconditionError("container: authorization token holds a line break");
    }
    return token;
  }

  const CredentialsEnv env_;
};

// ---- EC2 instance metadata (IMDSv2) ------------------------------------------------

class ImdsProvider : public CredentialsProvider {
 public:
  explicit ImdsProvider(CredentialsEnv env) : env_(std::move(env)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    if (Lower(Trim(env_.getenv("AWS_EC2_METADATA_DISABLED"))) == "true") {
      return absl::NotFoundError("imds: disabled by AWS_EC2_METADATA_DISABLED");
    }
    ASSIGN_OR_RETURN(std::string token, FetchToken());
    ASSIGN_OR_RETURN(std::string role, Get("/latest/meta-data/iam/security-credentials/", token));
    role = std::string(Trim(role.substr(0, role.find('\n'))));
    if (role.empty() || HasCrLf(role) || role.find('/') != std::string::npos) {
      return absl::FailedPreconditionError("imds: no usable IAM role attached to the instance");
    }
    ASSIGN_OR_RETURN(std::string json,
                     Get(StrCat("/latest/meta-data/iam/security-credentials/", role), token));
    absl::StatusOr<AwsCredentials> c = ParseCredentialsJson(json);
    if (!c.ok()) return Annotate(c.status(), "imds: ");
    c->source = "imds";
    return c;
  }

 private:
  std::string Endpoint() const {
    std::string ep = env_.getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (ep.empty()) ep = "http://169.254.169.254";
    while (ep.ends_with('/')) ep.pop_back();
    return ep;
  }

  absl::StatusOr<std::string> FetchToken() {
    HttpRequest req{.method = "PUT",
                    .url = StrCat(Endpoint(), "/latest/api/token"),
                    .headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                    .timeout_ms = kImdsTimeoutMs,
                    .connect_timeout_ms = kImdsTimeoutMs};
    absl::StatusOr<HttpResponse> resp = env_.http->Send(req);
    if (!resp.ok()) return TransportError(resp.status(), StrCat("imds at ", Endpoint()));
    if (resp->status != 200) return HttpStatusError(*resp, "imds token");
    std::string token(Trim(resp->body));
    if (token.empty() || HasCrLf(token)) return absl::InvalidArgumentError("imds: bad token");
    return token;
  }

  absl::StatusOr<std::string> Get(const std::string& path, const std::string& token) {
    HttpRequest req{.method = "GET",
                    .url = StrCat(Endpoint(), path),
                    .headers = {{"X-aws-ec2-metadata-token", token}},
                    .timeout_ms = kImdsTimeoutMs,
                    .connect_timeout_ms = kImdsTimeoutMs};
    absl::StatusOr<HttpResponse> resp = env_.http->Send(req);
    if (!resp.ok()) return TransportError(resp.status(), "imds");
    if (resp->status == 404) {
      return absl::FailedPreconditionError("imds: no IAM role attached to the instance");
    }
    if (resp->status != 200) return HttpStatusError(*resp, "imds");
    return std::move(resp->body);
  }

  const CredentialsEnv env_;
};

// ---- chain -------------------------------------------------------------------------

class ChainProvider : public CredentialsProvider {
 public:
  explicit ChainProvider(std::vector<std::unique_ptr<CredentialsProvider>> sources)
      : sources_(std::move(sources)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    std::string skipped;
    for (const auto& source : sources_) {
      absl::StatusOr<AwsCredentials> c = source->GetCredentials();
      if (c.ok()) return c;
      if (!absl::IsNotFound(c.status())) {
        if (skipped.empty()) return c.status();
        return absl::Status(c.status().code(),
                            StrCat(StatusMessage(c.status()), " (skipped: ", skipped, ")"));
      }
      StrAppend(&skipped, skipped.empty() ? "" : "; ", StatusMessage(c.status()));
    }
    return absl::FailedPreconditionError(StrCat("no AWS credentials found: ", skipped));
  }

 private:
  const std::vector<std::unique_ptr<CredentialsProvider>> sources_;
};

}  // namespace

GetenvFunction ProcessGetenv() {
  return [](std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    return v == nullptr ? std::string() : std::string(v);
  };
}

GetenvFunction MapGetenv(std::vector<std::pair<std::string, std::string>> vars) {
  auto map =
      std::make_shared<std::map<std::string, std::string, std::less<>>>(vars.begin(), vars.end());
  return [map](std::string_view name) {
    auto it = map->find(name);
    return it == map->end() ? std::string() : it->second;
  };
}

std::unique_ptr<CredentialsProvider> NewEnvironmentCredentialsProvider(CredentialsEnv env) {
  return std::make_unique<EnvironmentProvider>(std::move(env));
}
std::unique_ptr<CredentialsProvider> NewWebIdentityCredentialsProvider(CredentialsEnv env) {
  return std::make_unique<WebIdentityProvider>(std::move(env));
}
std::unique_ptr<CredentialsProvider> NewSharedFilesCredentialsProvider(CredentialsEnv env) {
  return std::make_unique<SharedFilesProvider>(std::move(env));
}
std::unique_ptr<CredentialsProvider> NewContainerCredentialsProvider(CredentialsEnv env) {
  return std::make_unique<ContainerProvider>(std::move(env));
}
std::unique_ptr<CredentialsProvider> NewImdsCredentialsProvider(CredentialsEnv env) {
  return std::make_unique<ImdsProvider>(std::move(env));
}

std::unique_ptr<CredentialsProvider> NewChainCredentialsProvider(
    std::vector<std::unique_ptr<CredentialsProvider>> sources) {
  return std::make_unique<ChainProvider>(std::move(sources));
}

absl::StatusOr<AwsCredentials> CachingCredentialsProvider::GetCredentials() {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->NowMillis();
  if (cached_.has_value() && (cached_->expiration_ms == 0 || now < refresh_at_ms_)) {
    return *cached_;
  }
  absl::StatusOr<AwsCredentials> fresh = inner_->GetCredentials();
  if (!fresh.ok()) {
    if (cached_.has_value() && now < cached_->expiration_ms) {
      // Still valid: keep using them, and do not ask again on every request.
      refresh_at_ms_ = std::min(now + kRetryFailedRefreshAfterMs, cached_->expiration_ms);
      return *cached_;
    }
    return fresh.status();
  }
  cached_ = *fresh;
  if (fresh->expiration_ms != 0) {
    refresh_at_ms_ = fresh->expiration_ms - kCredentialsRefreshMarginMs;
    if (refresh_at_ms_ < now + kMinCacheMs) {
      refresh_at_ms_ = std::min(now + kMinCacheMs, fresh->expiration_ms);
    }
  }
  return fresh;
}

std::shared_ptr<CredentialsProvider> NewDefaultCredentialsChain(std::shared_ptr<HttpClient> http,
                                                                const Clock* clock,
                                                                GetenvFunction getenv) {
  const CredentialsEnv env{.http = http, .clock = clock, .getenv = std::move(getenv)};
  std::vector<std::unique_ptr<CredentialsProvider>> sources;
  sources.push_back(NewEnvironmentCredentialsProvider(env));
  sources.push_back(NewWebIdentityCredentialsProvider(env));
  sources.push_back(NewSharedFilesCredentialsProvider(env));
  sources.push_back(NewContainerCredentialsProvider(env));
  sources.push_back(NewImdsCredentialsProvider(env));
  return std::make_shared<CachingCredentialsProvider>(
      NewChainCredentialsProvider(std::move(sources)), clock);
}

// ---- parsers -----------------------------------------------------------------------

absl::StatusOr<int64_t> ParseIso8601Ms(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(Trim(text)), &t, &err)) {
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
  AwsCredentials c{.access_key_id = XmlElementText(*creds, "AccessKeyId").value_or(""),
                   .secret_access_key = XmlElementText(*creds, "SecretAccessKey").value_or(""),
                   .session_token = XmlElementText(*creds, "SessionToken").value_or("")};
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

absl::StatusOr<AwsCredentials> ParseCredentialsJson(std::string_view json) {
  if (json.size() > kMaxCredentialFileBytes) {
    return absl::InvalidArgumentError("credentials JSON too large");
  }
  simdjson::dom::parser parser;
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
  AwsCredentials c{.access_key_id = text("AccessKeyId"),
                   .secret_access_key = text("SecretAccessKey"),
                   .session_token = text("Token")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return absl::InvalidArgumentError("credentials answer lacks AccessKeyId or SecretAccessKey");
  }
  if (const std::string expiration = text("Expiration"); !expiration.empty()) {
    ASSIGN_OR_RETURN(c.expiration_ms, ParseIso8601Ms(expiration));
  }
  return c;
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
    const std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      std::string_view name = Trim(line.substr(1, line.find(']') - 1));
      if (config_style && name.starts_with("profile") && name.size() > 7 &&
          std::isspace(static_cast<unsigned char>(name[7]))) {
        name = Trim(name.substr(7));
      } else if (config_style && name != "default") {
        name = {};  // "[x]" in the config file is not a profile (sso-session, services...)
      }
      in_profile = name == profile;
      if (in_profile && !result.has_value()) result.emplace();
      continue;
    }
    // Indented lines continue a nested setting (e.g. "s3 =\n  max_concurrent_requests").
    if (!in_profile || std::isspace(static_cast<unsigned char>(raw[0]))) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    result->emplace_back(Lower(Trim(line.substr(0, eq))), std::string(Trim(line.substr(eq + 1))));
  }
  return result;
}

}  // namespace lakehose
