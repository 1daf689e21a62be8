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
#include "service/catalog/catalog_http.h"
#include "service/catalog/location_sink.h"
#include "service/platform/clock.h"
#include "service/s3/credentials.h"
#include "service/s3/http_client.h"

namespace lakehose {

class RestCatalog : public RemoteCatalog {
 public:
  RestCatalog(RestCatalogSpec spec, std::vector<std::string> ns, std::string table,
              RestCatalogDeps deps);

  // GET /v1/config for the warehouse (a token first, for OAuth2): the prefix and the
  // endpoints. PERMISSION_DENIED (auth), NOT_FOUND (no such warehouse),
  // INVALID_ARGUMENT / FAILED_PRECONDITION (a catalog that refuses the request or lacks
  // the table routes) are configuration errors to stop start-up for; UNAVAILABLE (not
  // reachable now) is not: every later call connects first.
  absl::Status Connect() override;

  absl::StatusOr<std::optional<LoadedTable>> Load() override;
  absl::Status Create(const iceberg::TableMetadata& metadata) override;
  absl::Status Commit(const LoadedTable& base, const catalog::TableChange& change) override;
  std::string Name() const override { return name_; }
  std::string NewTableLocation() const override { return ""; }

  RestCatalogStats Stats() const override;

 private:
  using Answer = CatalogHttp::Answer;
  // The status for an error answer of `what`.
  absl::Status ErrorFor(std::string_view what, const Answer& answer);
  absl::StatusOr<LoadedTable> Loaded(std::string_view what, const Answer& answer);
  // The catalog's configuration (GET /v1/config), asked once it answers.
  absl::StatusOr<catalog::CatalogConfig> Config();

  const RestCatalogSpec spec_;
  const std::vector<std::string> ns_;
  const std::string table_;
  RestCatalogDeps deps_;
  const std::string name_;
  CatalogHttp http_;

  mutable absl::Mutex mu_;
  std::optional<catalog::CatalogConfig> config_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_REST_CATALOG_H_
