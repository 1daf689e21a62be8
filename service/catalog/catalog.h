// IcebergCatalog: where an Iceberg table's current metadata is kept and how a commit
// replaces it. IcebergTable (service/iceberg) writes data files, manifests and manifest
// lists itself, through the pipeline's ObjectSink, and asks its catalog to load the table,
// create it and commit a TableChange:
//   - FileSystemCatalog (filesystem_catalog.h): metadata/v<N>.metadata.json files on the
//     destination, created without replacing, and version-hint.text;
//   - RestCatalog (rest_catalog.h): an Iceberg REST catalog (S3 Tables, Glue, Polaris,
//     Nessie, Lakekeeper), which applies the change as updates under requirements.
//
// Commit outcomes, the same for both, which IcebergTable's commit loop acts on: OK (the
// change is the table's); ALREADY_EXISTS (the table changed since `base`: another writer
// committed; reload, rebuild on the new state, try again); UNAVAILABLE or
// DEADLINE_EXCEEDED (no answer, or one that leaves the outcome unknown: reload and look for
// the commit's own snapshot before deciding; never delete what it wrote); any other code:
// an error retrying cannot fix (permissions, a refused request), given up on in this
// commit and tried again later.
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_CATALOG_CATALOG_H_
#define LAKEHOSE_SERVICE_CATALOG_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/catalog/table_change.h"
#include "core/iceberg/types.h"

namespace lakehose {

// A table as one load found it.
struct LoadedTable {
  iceberg::TableMetadata metadata;
  std::string metadata_location;  // the metadata file's URI (may be empty: REST)
  // Grows with every commit: which of two loads is newer. File-system: N of
  // v<N>.metadata.json. REST: the number in the metadata file's name (Java's catalogs
  // write <NNNNN>-<uuid>.metadata.json), else the metadata's last-updated-ms.
  int64_t version = 0;
  // S3 Tables' API: the version token its pointer had when loaded (a commit presents it).
  std::string version_token;
};

class IcebergCatalog {
 public:
  virtual ~IcebergCatalog() = default;

  // The table as it is now; nullopt when it does not exist.
  virtual absl::StatusOr<std::optional<LoadedTable>> Load() = 0;

  // Creates the table with `metadata` (a new table's: NewTableMetadata at
  // NewTableLocation()). OK, or ALREADY_EXISTS when another writer created it first;
  // either way the caller loads it next (a catalog may assign its own ids and location).
  // FAILED_PRECONDITION when this catalog is not to create tables (or namespaces).
  virtual absl::Status Create(const iceberg::TableMetadata& metadata) = 0;

  // Makes `base` + `change` the table's current state. Outcomes at the top of this file.
  virtual absl::Status Commit(const LoadedTable& base, const catalog::TableChange& change) = 0;

  // Called when a commit finds its objects already in `current` (an earlier try landed
  // but its answer was lost): the file-system catalog writes the version hint that try
  // never wrote. Default: nothing.
  virtual void Settle(const LoadedTable& current) { (void)current; }

  // The table for messages and logs: its location (file-system) or
  // "<namespace>.<name> in the REST catalog <uri>" / "... in the table bucket <arn>".
  virtual std::string Name() const = 0;

  // The location a new table's metadata names (file-system: the table's directory under
  // the destination); empty when the catalog places tables itself (REST).
  virtual std::string NewTableLocation() const = 0;
};

// What a catalog that is a service also does: answer at start (so that configuration
// errors stop it) and count its requests.
struct RestCatalogStats;
class RemoteCatalog : public IcebergCatalog {
 public:
  // Checks that the catalog answers and accepts this configuration. PERMISSION_DENIED,
  // NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION: configuration errors (stop start-up);
  // UNAVAILABLE / DEADLINE_EXCEEDED: not reachable now (every later call tries again).
  virtual absl::Status Connect() = 0;
  virtual RestCatalogStats Stats() const = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_CATALOG_H_
