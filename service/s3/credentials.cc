#include "service/s3/credentials.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/uri_encode.h"

namespace lakehose {
namespace {

constexpr int64_t kImdsTimeoutMs = 1000;
constexpr int64_t kContainerTimeoutMs = 2000;
constexpr int64_t kStsTimeoutMs = 5000;
constexpr int64_t kMinCacheMs = 30 * 1000;
constexpr int64_t kRetryFailedRefreshAfterMs = 10 * 1000;

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
    if (data.size() > kMaxCredentialsDocumentBytes) {
      return absl::FailedPreconditionError(
          StrCat(path, " is larger than ", kMaxCredentialsDocumentBytes, " bytes"));
    }
  }
  return data;
}

std::string ExpandHome(std::string_view path, const GetenvFunction& getenv) {
  if (path.starts_with("~/")) return StrCat(getenv("HOME"), path.substr(1));
  return std::string(path);
}

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
    const std::string body = FormBody(role_arn, TrimAsciiWhitespace(*token));
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
    if (r.status != 200) return Annotate(StsErrorStatus(r.status, r.body), "web identity: ");
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
    absl::StatusOr<AwsCredentials> c = CredentialsFromProfile(keys, profile);
    if (!c.ok()) return Annotate(c.status(), "shared files: ");
    c->source = "shared-files";
    return c;
  }

  const CredentialsEnv env_;
};

// ---- container credentials (ECS, EKS Pod Identity) ---------------------------------

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
    if (IsAllowedContainerCredentialsUrl(full)) return full;
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
      token = std::string(TrimAsciiWhitespace(*text));
    } else {
      token = env_.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (token.find_first_of("\r\n") != std::string::npos) {  // it becomes a header
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
    if (AsciiLower(TrimAsciiWhitespace(env_.getenv("AWS_EC2_METADATA_DISABLED"))) == "true") {
      return absl::NotFoundError("imds: disabled by AWS_EC2_METADATA_DISABLED");
    }
    ASSIGN_OR_RETURN(std::string token, FetchToken());
    ASSIGN_OR_RETURN(std::string listing,
                     Get("/latest/meta-data/iam/security-credentials/", token));
    absl::StatusOr<std::string> role = ParseImdsRoleName(listing);
    if (!role.ok()) return Annotate(role.status(), "imds: ");
    ASSIGN_OR_RETURN(std::string json,
                     Get(StrCat("/latest/meta-data/iam/security-credentials/", *role), token));
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
    absl::StatusOr<std::string> token = ParseImdsToken(resp->body);
    if (!token.ok()) return Annotate(token.status(), "imds: ");
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

}  // namespace lakehose
