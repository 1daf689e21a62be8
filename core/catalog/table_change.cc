#include "core/catalog/table_change.h"

#include "core/base/status_macros.h"
#include "core/iceberg/metadata_json.h"

namespace lakehose::catalog {

absl::Status ApplyTableChange(iceberg::TableMetadata* metadata, const TableChange& change,
                              const std::string& previous_metadata_file, int64_t now_ms) {
  iceberg::TableMetadata next = *metadata;
  if (change.schema) {
    RETURN_IF_ERROR(
        iceberg::SetCurrentSchema(&next, *change.schema, change.last_column_id, now_ms));
    // A schema change alone logs the file it replaces here; AppendSnapshot does below.
    if (!change.snapshot && !previous_metadata_file.empty())
      next.metadata_log.push_back({metadata->last_updated_ms, previous_metadata_file});
  }
  if (change.snapshot)
    RETURN_IF_ERROR(
        iceberg::AppendSnapshot(&next, *change.snapshot, previous_metadata_file, now_ms));
  *metadata = std::move(next);
  return absl::OkStatus();
}

}  // namespace lakehose::catalog
