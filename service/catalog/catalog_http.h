// CatalogHttp: the HTTP exchanges of one catalog (an Iceberg REST catalog, or S3 Tables'
// own API), authenticated as configured: SigV4 with the catalog's signing name and the
// AWS credentials chain, an OAuth2 client-credentials token (fetched when missing,
// renewed at 80% of its lifetime, and once more after a 401 or 419), a bearer token read
// from a file at every request, or nothing.
//
//   CatalogHttp http(spec, deps);
//   ASSIGN_OR_RETURN(CatalogHttp::Answer a, http.Exchange("GET", "/v1/config", {}, ""));
//
// One exchange per call, no retries (the commit loop above retries). A non-OK status means
// no answer (UNAVAILABLE, DEADLINE_EXCEEDED from the HTTP client) or no credentials; any
// HTTP status is an answer. Secrets never appear in a message. Thread-safe.
#ifndef LAKEHOSE_SERVICE_CATALOG_CATALOG_HTTP_H_
#define LAKEHOSE_SERVICE_CATALOG_CATALOG_HTTP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/config/pipeline.h"
#include "core/s3/endpoint.h"
#include "service/catalog/location_sink.h"
#include "service/platform/clock.h"
#include "service/s3/credentials.h"
#include "service/s3/http_client.h"

namespace lakehose {

struct RestCatalogDeps {
  std::shared_ptr<HttpClient> http;                  // required
  std::shared_ptr<CredentialsProvider> credentials;  // required for SigV4
  const Clock* clock = nullptr;                      // default RealClock::Get()
  LocationSink* files = nullptr;                     // bound at each load; may be null
  // Reads a secret or token file (default: the file's bytes; NOT_FOUND when missing).
  std::function<absl::StatusOr<std::string>(const std::string& path)> read_file;
  std::string default_region;  // SigV4 region when the spec names none (the destination's)
};

// What a catalog's requests did (metrics: lakehose_iceberg_catalog_requests_total).
struct RestCatalogStats {
  int64_t requests = 0;
  int64_t failures = 0;         // no answer, or an error answer other than 404/409
  int64_t auth_failures = 0;    // 401/403 (and refused token requests)
  int64_t unknown_commits = 0;  // commits answered with no answer or 5xx: state unknown
  int64_t token_refreshes = 0;  // OAuth2 tokens obtained
};

class CatalogHttp {
 public:
  using Query = std::vector<std::pair<std::string, std::string>>;
  struct Answer {
    int status = 0;
    std::string body;
    HttpHeaders headers;
  };

  CatalogHttp(const RestCatalogSpec& spec, RestCatalogDeps& deps);

  // One authenticated exchange with `path` under the catalog's URI (see the top). A
  // commit passes `may_resend` false: the HTTP client must not send it twice on its own
  // (a reset after sending is then no answer, resolved by reloading).
  absl::StatusOr<Answer> Exchange(std::string_view method, const std::string& path,
                                  const Query& query, std::string_view body,
                                  bool may_resend = true);

  // How requests are authenticated, for messages: "requests signed with SigV4 for service
  // s3tables in us-east-1", "OAuth2 client lakehose with tokens from URI", ...
  std::string AuthName() const;
  // The region SigV4 signs for (the spec's, else the deps' default).
  std::string region() const;

  // A commit's failed exchange or error status as its outcome: no answer or a 5xx
  // (UNAVAILABLE, DEADLINE_EXCEEDED) is "commit state unknown" (counted; the caller
  // reloads and looks); anything else as it is. (A 429 is not passed here: refused.)
  absl::Status CommitOutcome(const absl::Status& st);
  RestCatalogStats Stats() const;

 private:
  absl::StatusOr<Answer> ExchangeOnce(std::string_view method, const std::string& path,
                                      const Query& query, std::string_view body,
                                      const std::string& bearer, bool may_resend);
  // The current bearer token (OAuth2: fetched when missing, expired or `refresh`).
  absl::StatusOr<std::string> Bearer(bool refresh);
  void Count(int64_t RestCatalogStats::*field);

  const RestCatalogSpec& spec_;
  RestCatalogDeps& deps_;
  const Clock& clock_;
  const absl::StatusOr<S3Endpoint> endpoint_;  // the catalog URI: scheme, host, base path

  mutable absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  int64_t token_refresh_at_ms_ ABSL_GUARDED_BY(mu_) = 0;  // 0: never (no expiry given)
  RestCatalogStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Mutex token_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one token request at a time
};

// The status of a catalog's error answer: 401, 403, 419 PERMISSION_DENIED; 404 NOT_FOUND;
// 409 ALREADY_EXISTS; 429 and 5xx UNAVAILABLE; other codes INVALID_ARGUMENT.
absl::Status CatalogAnswerStatus(int http_status, std::string message);

// The version a metadata file's name carries (Java's catalogs, S3 Tables, Polaris and
// lakehose's own S3 Tables writer name them <NNNNN>-<uuid>.metadata.json), else `fallback`.
int64_t MetadataFileVersion(std::string_view metadata_location, int64_t fallback);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_CATALOG_HTTP_H_
