// RestCatalog: an Iceberg table in an Iceberg REST catalog (Amazon S3 Tables, Glue's
// Iceberg endpoint, Polaris, Nessie, Lakekeeper, Unity, ...), spoken over HTTP with the
// routes and bodies of core/catalog/rest_protocol.h, signed with SigV4 (the catalog's
// signing name: s3tables, glue), an OAuth2 client-credentials token, or a bearer token
// from a file.
//
//   RestCatalog catalog(spec, {"sales"}, "orders", {.http = http, .credentials = creds,
//                                                   .clock = &clock, .files = &location_sink});
//   RETURN_IF_ERROR(catalog.Connect());  // GET /v1/config: auth and warehouse checked
//   ASSIGN_OR_RETURN(std::optional<LoadedTable> t, catalog.Load());
//
// Every load binds `files` (the pipeline's LocationSink) to the table's location, where
// IcebergTable writes data files, manifests and manifest lists with the destination's S3
// client; the catalog writes the metadata files itself.
//
// Outcomes (IcebergCatalog's): 409 is ALREADY_EXISTS (CommitFailedException: reload and
// rebuild; a create that found the table); 404 is "no table" for a load and
// FAILED_PRECONDITION elsewhere (unless create.namespace makes the namespace);
// 500, 502, 504, other 5xx, 429, 503, resets and timeouts are UNAVAILABLE or
// DEADLINE_EXCEEDED: for a commit, state unknown, resolved by reloading; 401 and 403 are
// PERMISSION_DENIED naming the catalog and how requests were signed (after one token
// refresh for OAuth2); 400 and other 4xx INVALID_ARGUMENT. No request is retried here:
// IcebergTable's commit loop retries with backoff.
//
// Secrets (the client secret, tokens) are read from files and never logged or put in a
// message. Thread-safe.
#ifndef LAKEHOSE_SERVICE_CATALOG_REST_CATALOG_H_
#define LAKEHOSE_SERVICE_CATALOG_REST_CATALOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/catalog/rest_protocol.h"
#include "core/config/pipeline.h"
#include "core/s3/endpoint.h"
#include "service/catalog/catalog.h"
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

// What the catalog's requests did (metrics: lakehose_iceberg_catalog_requests_total).
struct RestCatalogStats {
  int64_t requests = 0;
  int64_t failures = 0;         // no answer, or an error answer other than 404/409
  int64_t auth_failures = 0;    // 401/403 (and refused token requests)
  int64_t unknown_commits = 0;  // commits answered with no answer or 5xx: state unknown
  int64_t token_refreshes = 0;  // OAuth2 tokens obtained
};

class RestCatalog : public IcebergCatalog {
 public:
  RestCatalog(RestCatalogSpec spec, std::vector<std::string> ns, std::string table,
              RestCatalogDeps deps);

  // GET /v1/config for the warehouse (a token first, for OAuth2): the prefix and the
  // endpoints. PERMISSION_DENIED (auth), NOT_FOUND (no such warehouse),
  // INVALID_ARGUMENT / FAILED_PRECONDITION (a catalog that refuses the request or lacks
  // the table routes) are configuration errors to stop start-up for; UNAVAILABLE (not
  // reachable now) is not: every later call connects first.
  absl::Status Connect();

  absl::StatusOr<std::optional<LoadedTable>> Load() override;
  absl::Status Create(const iceberg::TableMetadata& metadata) override;
  absl::Status Commit(const LoadedTable& base, const catalog::TableChange& change) override;
  std::string Name() const override { return name_; }
  std::string NewTableLocation() const override { return ""; }

  RestCatalogStats Stats() const;

 private:
  struct Answer {
    int status = 0;
    std::string body;
  };
  // One exchange, authenticated; with OAuth2 a 401/419 refreshes the token and tries once
  // more. A non-OK status: no answer (UNAVAILABLE, DEADLINE_EXCEEDED) or no credentials.
  absl::StatusOr<Answer> Exchange(std::string_view method, const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& query,
                                  std::string_view body);
  absl::StatusOr<Answer> ExchangeOnce(std::string_view method, const std::string& path,
                                      const std::vector<std::pair<std::string, std::string>>& query,
                                      std::string_view body, const std::string& bearer);
  // The current bearer token (OAuth2: fetched when missing, expired or `refresh`).
  absl::StatusOr<std::string> Bearer(bool refresh);
  absl::StatusOr<catalog::CatalogConfig> Config();
  // The status for an error answer of `what`.
  absl::Status ErrorFor(std::string_view what, const Answer& answer);
  absl::StatusOr<LoadedTable> Loaded(std::string_view what, const Answer& answer);
  void Count(int64_t RestCatalogStats::*field);

  const RestCatalogSpec spec_;
  const std::vector<std::string> ns_;
  const std::string table_;
  RestCatalogDeps deps_;
  const Clock& clock_;
  const std::string name_;
  absl::StatusOr<S3Endpoint> endpoint_;  // the catalog URI, parsed (scheme, host, base path)

  mutable absl::Mutex mu_;
  std::optional<catalog::CatalogConfig> config_ ABSL_GUARDED_BY(mu_);
  std::string token_ ABSL_GUARDED_BY(mu_);
  int64_t token_refresh_at_ms_ ABSL_GUARDED_BY(mu_) = 0;  // 0: never (no expiry given)
  RestCatalogStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Mutex token_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one token request at a time
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_REST_CATALOG_H_
