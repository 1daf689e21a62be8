#include "service/catalog/catalog_http.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/uri_encode.h"
#include "core/catalog/rest_protocol.h"
#include "core/s3/sigv4.h"

namespace lakehose {
namespace {

// Table metadata grows with its snapshots; S3's answers are smaller, the catalog's can
// be a few MB for a table with a long history.
constexpr size_t kMaxAnswerBytes = size_t{64} << 20;

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int64_t MetadataFileVersion(std::string_view metadata_location, int64_t fallback) {
  std::string_view name = metadata_location.substr(metadata_location.rfind('/') + 1);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '-')
    return fallback;
  return n;
}

CatalogHttp::CatalogHttp(const RestCatalogSpec& spec, RestCatalogDeps& deps)
    : spec_(spec),
      deps_(deps),
      clock_(deps_.clock ? *deps_.clock : *RealClock::Get()),
      endpoint_(ParseS3Endpoint(spec_.uri, "us-east-1")) {
  if (!deps_.read_file) deps_.read_file = ReadWholeFile;
}

std::string CatalogHttp::region() const {
  return spec_.sigv4_region.empty() ? deps_.default_region : spec_.sigv4_region;
}

std::string CatalogHttp::AuthName() const {
  const RestCatalogSpec& s = spec_;
  const std::string region = this->region();
  switch (s.auth) {
    case RestCatalogSpec::Auth::kSigV4:
      return StrCat("requests signed with SigV4 for service ", s.sigv4_service, " in ", region);
    case RestCatalogSpec::Auth::kOAuth2:
      return StrCat("OAuth2 client ", s.oauth2_client_id, " with tokens from ", s.oauth2_token_uri);
    case RestCatalogSpec::Auth::kTokenFile:
      return StrCat("the bearer token of ", s.token_file);
    case RestCatalogSpec::Auth::kNone:
      break;
  }
  return "no authentication (destination.iceberg.catalog.auth is not set)";
}

void CatalogHttp::Count(int64_t RestCatalogStats::*field) {
  absl::MutexLock lock(&mu_);
  stats_.*field += 1;
}

absl::Status CatalogHttp::CommitOutcome(const absl::Status& st) {
  if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st)) return st;
  Count(&RestCatalogStats::unknown_commits);
  return absl::Status(st.code(), StrCat("commit state unknown: ", StatusMessage(st)));
}

absl::Status CatalogAnswerStatus(int http_status, std::string message) {
  switch (http_status) {
    case 401:
    case 403:
    case 419:
      return absl::PermissionDeniedError(std::move(message));
    case 404:
      return absl::NotFoundError(std::move(message));
    case 409:
      return absl::AlreadyExistsError(std::move(message));
    default:
      break;
  }
  if (http_status == 429 || http_status >= 500) return absl::UnavailableError(std::move(message));
  return absl::InvalidArgumentError(std::move(message));
}

RestCatalogStats CatalogHttp::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::StatusOr<CatalogHttp::Answer> CatalogHttp::ExchangeOnce(
    std::string_view method, const std::string& path, const Query& query, std::string_view body,
    const std::string& bearer, bool may_resend) {
  if (!endpoint_.ok())
    return absl::InvalidArgumentError(
        StrCat("REST catalog uri ", spec_.uri, ": ", StatusMessage(endpoint_.status())));
  const std::string full_path = StrCat(endpoint_->base_path, path);
  std::string url = StrCat(endpoint_->scheme, "://", endpoint_->host_port, full_path);
  for (size_t i = 0; i < query.size(); ++i)
    StrAppend(&url, i == 0 ? "?" : "&", UriEncode(query[i].first, false), "=",
              UriEncode(query[i].second, false));
  HttpHeaders headers{{"Accept", "application/json"}};
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  if (spec_.auth == RestCatalogSpec::Auth::kSigV4) {
    if (!deps_.credentials)
      return absl::FailedPreconditionError("REST catalog SigV4: no credentials provider");
    absl::StatusOr<AwsCredentials> creds = deps_.credentials->GetCredentials();
    if (!creds.ok())
      return absl::Status(creds.status().code(),
                          StrCat("SigV4 credentials for the REST catalog ", spec_.uri, ": ",
                                 StatusMessage(creds.status())));
    const std::string region = this->region();
    headers.emplace_back("Host", endpoint_->host_port);
    const std::string payload_hash = Sha256Hex(body);
    headers.emplace_back("x-amz-content-sha256", payload_hash);
    const SigV4Signed signed_ = SignV4({.method = std::string(method),
                                        .path = full_path,
                                        .query = query,
                                        .headers = headers,
                                        .payload_hash = payload_hash},
                                       creds->ToSigV4(),
                                       {.region = region,
                                        .service = spec_.sigv4_service,
                                        .time_unix_s = clock_.NowMillis() / 1000,
                                        .s3_rules = false});
    headers.insert(headers.end(), signed_.headers_to_add.begin(), signed_.headers_to_add.end());
  } else if (!bearer.empty()) {
    headers.emplace_back("Authorization", StrCat("Bearer ", bearer));
  }
  HttpRequest req{.method = std::string(method),
                  .url = url,
                  .headers = std::move(headers),
                  .body = body,
                  .timeout_ms = static_cast<int64_t>(spec_.request_timeout_s * 1000),
                  .max_response_bytes = kMaxAnswerBytes,
                  .may_resend = may_resend};
  Count(&RestCatalogStats::requests);
  absl::StatusOr<HttpResponse> resp = deps_.http->Send(req);
  if (!resp.ok()) {
    Count(&RestCatalogStats::failures);
    return absl::Status(resp.status().code(), StrCat(method, " ", full_path, " to ", spec_.uri,
                                                     ": ", StatusMessage(resp.status())));
  }
  if (resp->status == 401 || resp->status == 403 || resp->status == 419) {
    Count(&RestCatalogStats::auth_failures);
  }
  if (resp->status >= 400 && resp->status != 404 && resp->status != 409)
    Count(&RestCatalogStats::failures);
  return Answer{resp->status, std::move(resp->body), std::move(resp->headers)};
}

absl::StatusOr<CatalogHttp::Answer> CatalogHttp::Exchange(std::string_view method,
                                                          const std::string& path,
                                                          const Query& query, std::string_view body,
                                                          bool may_resend) {
  std::string bearer;
  if (spec_.auth == RestCatalogSpec::Auth::kOAuth2) {
    ASSIGN_OR_RETURN(bearer, Bearer(false));
  } else if (spec_.auth == RestCatalogSpec::Auth::kTokenFile) {
    // Read at every request: a mounted token (a Kubernetes projected secret) rotates.
    absl::StatusOr<std::string> token = deps_.read_file(spec_.token_file);
    if (!token.ok())
      return absl::FailedPreconditionError(
          StrCat("the REST catalog's token_file: ", StatusMessage(token.status())));
    bearer = std::string(TrimAsciiWhitespace(*token));
  }
  ASSIGN_OR_RETURN(Answer a, ExchangeOnce(method, path, query, body, bearer, may_resend));
  if (spec_.auth == RestCatalogSpec::Auth::kOAuth2 && (a.status == 401 || a.status == 419)) {
    // Expired or revoked before its time: one new token, one more try.
    ASSIGN_OR_RETURN(bearer, Bearer(true));
    // (A 401 or 419 is an answer: the request was not acted on, so it may go again.)
    return ExchangeOnce(method, path, query, body, bearer, may_resend);
  }
  return a;
}

absl::StatusOr<std::string> CatalogHttp::Bearer(bool refresh) {
  absl::MutexLock token_lock(&token_mu_);
  const int64_t now = clock_.NowMillis();
  {
    absl::MutexLock lock(&mu_);
    if (!refresh && !token_.empty() && (token_refresh_at_ms_ == 0 || now < token_refresh_at_ms_))
      return token_;
  }
  const std::string who = StrCat("OAuth2 token request to ", spec_.oauth2_token_uri, " for client ",
                                 spec_.oauth2_client_id);
  absl::StatusOr<std::string> secret = deps_.read_file(spec_.oauth2_client_secret_file);
  if (!secret.ok())
    return absl::FailedPreconditionError(
        StrCat(who, ": client_secret_file: ", StatusMessage(secret.status())));
  absl::StatusOr<S3Endpoint> token_endpoint = ParseS3Endpoint(spec_.oauth2_token_uri, "us-east-1");
  if (!token_endpoint.ok())
    return absl::InvalidArgumentError(StrCat(who, ": ", StatusMessage(token_endpoint.status())));
  const std::string form = catalog::ClientCredentialsForm(
      spec_.oauth2_client_id, TrimAsciiWhitespace(*secret), spec_.oauth2_scope);
  HttpRequest req{.method = "POST",
                  .url = spec_.oauth2_token_uri,
                  .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                              {"Accept", "application/json"}},
                  .body = form,
                  .timeout_ms = static_cast<int64_t>(spec_.request_timeout_s * 1000)};
  Count(&RestCatalogStats::requests);
  absl::StatusOr<HttpResponse> resp = deps_.http->Send(req);
  if (!resp.ok()) {
    Count(&RestCatalogStats::failures);
    return absl::Status(resp.status().code(), StrCat(who, ": ", StatusMessage(resp.status())));
  }
  if (resp->status != 200) {
    Count(&RestCatalogStats::failures);
    const std::string why = catalog::ParseOAuthError(resp->status, resp->body);
    if (resp->status >= 500 || resp->status == 429)
      return absl::UnavailableError(StrCat(who, ": HTTP ", resp->status, ": ", why));
    Count(&RestCatalogStats::auth_failures);
    return absl::PermissionDeniedError(StrCat(who, " refused: HTTP ", resp->status, ": ", why,
                                              " (check client_id and the secret in ",
                                              spec_.oauth2_client_secret_file, ")"));
  }
  absl::StatusOr<catalog::OAuthToken> token = catalog::ParseTokenResponse(resp->body);
  if (!token.ok())
    return absl::InvalidArgumentError(StrCat(who, ": ", StatusMessage(token.status())));
  absl::MutexLock lock(&mu_);
  stats_.token_refreshes += 1;
  token_ = token->access_token;
  // Renewed at 80% of its lifetime, before it expires mid-commit.
  token_refresh_at_ms_ = token->expires_in_s ? now + *token->expires_in_s * 800 : 0;
  return token_;
}

}  // namespace lakehose
