// S3TablesCatalog: an Iceberg table in an Amazon S3 table bucket through S3 Tables' own
// API (core/catalog/s3tables_protocol.h), without the Iceberg REST endpoint: lakehose
// writes each metadata file itself, as <warehouse>/metadata/<NNNNN>-<uuid>.metadata.json
// (If-None-Match, N one past the loaded version), and moves the table's pointer to it with
// UpdateTableMetadataLocation, presenting the version token it loaded: a stale token is
// 409 ConflictException (another writer committed: IcebergCatalog's ALREADY_EXISTS); no
// answer or a 5xx leaves the outcome unknown (UNAVAILABLE: reload and look). Requests are
// signed with SigV4, signing name s3tables. Files go through `files` (a LocationSink),
// bound to the table's warehouse location at each load; nothing is ever deleted.
//
// A table created (CreateTable) but never given metadata (a writer stopped between the
// two) loads as "no table"; Create then finds it and gives it its first metadata file.
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_CATALOG_S3TABLES_CATALOG_H_
#define LAKEHOSE_SERVICE_CATALOG_S3TABLES_CATALOG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/catalog/s3tables_protocol.h"
#include "core/config/pipeline.h"
#include "service/catalog/catalog.h"
#include "service/catalog/catalog_http.h"

namespace lakehose {

class S3TablesCatalog : public RemoteCatalog {
 public:
  // `spec`: api kS3Tables, warehouse = the table bucket's ARN, uri empty for AWS's
  // endpoint in the region. `deps.files` is required.
  S3TablesCatalog(RestCatalogSpec spec, std::string ns, std::string table, RestCatalogDeps deps);

  // GetTableMetadataLocation once: a table or "no such table" are both fine.
  absl::Status Connect() override;
  absl::StatusOr<std::optional<LoadedTable>> Load() override;
  absl::Status Create(const iceberg::TableMetadata& metadata) override;
  absl::Status Commit(const LoadedTable& base, const catalog::TableChange& change) override;
  std::string Name() const override { return name_; }
  std::string NewTableLocation() const override { return ""; }
  RestCatalogStats Stats() const override { return http_.Stats(); }

 private:
  using Answer = CatalogHttp::Answer;
  // GetTableMetadataLocation; nullopt for 404. Binds `files` to the warehouse location.
  absl::StatusOr<std::optional<catalog::S3TablesMetadataLocation>> Locate();
  // Writes `metadata` as metadata/<version>-<uuid>.metadata.json under the warehouse and
  // points the table at it with `token`.
  absl::Status Publish(const iceberg::TableMetadata& metadata, int64_t version,
                       const std::string& token);
  absl::Status ErrorFor(std::string_view what, const Answer& answer);

  RestCatalogSpec spec_;
  const std::string ns_;
  const std::string table_;
  RestCatalogDeps deps_;
  const std::string name_;
  CatalogHttp http_;

  absl::Mutex mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
};

// The catalog of a pipeline's `destination.iceberg` with `catalog: { kind: rest | s3tables }`
// (`iceberg.rest` set): a RestCatalog or an S3TablesCatalog of its table.
std::unique_ptr<RemoteCatalog> MakeRemoteCatalog(const IcebergSpec& iceberg, RestCatalogDeps deps);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_S3TABLES_CATALOG_H_
