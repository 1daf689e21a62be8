// FileSystemCatalog: an Iceberg table whose catalog is its own directory on the
// destination (the lake directory or an S3 bucket), through the destination's ObjectSink:
// <relative location>/metadata/v<N>.metadata.json and version-hint.text (N), the layout
// Hadoop's catalog, DuckDB's iceberg_scan and icebird read.
//
// The current version is the hint's N or, when later versions exist (a writer stopped
// between creating v<N+1> and rewriting the hint), the last of them. A commit creates
// v<N+1> without replacing (the sink's If-None-Match Put: link(2) locally, If-None-Match:
// * on S3): another writer's v<N+1> makes it ALREADY_EXISTS (IcebergCatalog's conflict).
// The hint is rewritten after each commit, best effort and only forward.
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_CATALOG_FILESYSTEM_CATALOG_H_
#define LAKEHOSE_SERVICE_CATALOG_FILESYSTEM_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "service/catalog/catalog.h"
#include "service/delivery/object_sink.h"
#include "service/platform/clock.h"

namespace lakehose {

class FileSystemCatalog : public IcebergCatalog {
 public:
  // The table under `relative_location` ("<namespace>/<name>") of `sink`'s root. `sink`
  // and `clock` are borrowed.
  FileSystemCatalog(ObjectSink& sink, std::string relative_location, const Clock& clock);

  absl::StatusOr<std::optional<LoadedTable>> Load() override;
  absl::Status Create(const iceberg::TableMetadata& metadata) override;
  absl::Status Commit(const LoadedTable& base, const catalog::TableChange& change) override;
  void Settle(const LoadedTable& current) override { WriteHint(current.version); }
  std::string Name() const override { return location_; }
  std::string NewTableLocation() const override { return location_; }

 private:
  std::string MetadataKey(std::string_view name) const;
  // Creates v<version> with `metadata`, then moves the hint to it.
  absl::Status PutVersion(int64_t version, const iceberg::TableMetadata& metadata);
  // Rewrites metadata/version-hint.text to `version` unless it names a later one.
  void WriteHint(int64_t version);

  ObjectSink& sink_;
  const std::string relative_location_;
  const Clock& clock_;
  const std::string location_;
};

// How a table on `sink` names its files: the sink's URI, except that a local path is
// written as it is (`file:///lake/ns/t/data/region=EU/...`), not percent-encoded, as
// Iceberg's Java writers do: readers open the path they read.
std::string TableFileUri(const ObjectSink& sink, const std::string& key);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_FILESYSTEM_CATALOG_H_
