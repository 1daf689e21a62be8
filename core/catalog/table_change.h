// TableChange: what one commit of lakehose's Iceberg writer changes in a table, in the
// terms both catalogs take. The file-system catalog applies it to the metadata and writes
// the next metadata file itself (ApplyTableChange); a REST catalog receives it as the
// protocol's updates with the requirements that make it safe (rest_protocol.h), and the
// catalog server applies it.
//
//   TableChange c;
//   c.add_snapshot = snapshot;  // a fast append: becomes main's current snapshot
//   RETURN_IF_ERROR(ApplyTableChange(&metadata, c, previous_file, now_ms));
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_CATALOG_TABLE_CHANGE_H_
#define LAKEHOSE_CORE_CATALOG_TABLE_CHANGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/iceberg/types.h"

namespace lakehose::catalog {

struct TableChange {
  // add-schema + set-current-schema: new columns. `schema` holds every column (old and
  // new); last_column_id is the table's new last-column-id.
  std::optional<iceberg::Schema> schema;
  int last_column_id = 0;
  // add-snapshot + set-snapshot-ref main: a fast append on the current snapshot. Its
  // sequence number is the base's last-sequence-number + 1 (the manifest list was
  // written with it) and its parent the base's current snapshot.
  std::optional<iceberg::Snapshot> snapshot;
  // remove-snapshots (`lakehose table expire`): these snapshots leave the metadata, with
  // their snapshot-log entries (and every entry before the last of them, so the log stays
  // the current snapshot's history) and any ref naming them. Never the current snapshot.
  // The base's main must not have moved (REST: assert-ref-snapshot-id).
  std::vector<int64_t> remove_snapshots;
  // set-properties: each key set (replaced when present).
  std::vector<std::pair<std::string, std::string>> set_properties;
};

// The change applied to `metadata` as a catalog would (SetCurrentSchema, AppendSnapshot;
// `previous_metadata_file` goes to the metadata log). Errors as those functions';
// INVALID_ARGUMENT for removing the current snapshot or one the table does not have.
absl::Status ApplyTableChange(iceberg::TableMetadata* metadata, const TableChange& change,
                              const std::string& previous_metadata_file, int64_t now_ms);

}  // namespace lakehose::catalog

#endif  // LAKEHOSE_CORE_CATALOG_TABLE_CHANGE_H_
