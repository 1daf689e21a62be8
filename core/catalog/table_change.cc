#include "core/catalog/table_change.h"

#include <set>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
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
  const bool other_change = change.schema || change.snapshot;
  if (!change.remove_snapshots.empty()) {
    const std::set<int64_t> gone(change.remove_snapshots.begin(), change.remove_snapshots.end());
    for (int64_t id : gone) {
      if (next.current_snapshot_id == id)
        return absl::InvalidArgumentError(StrCat("snapshot ", id, " is the current snapshot"));
      if (next.FindSnapshot(id) == nullptr)
        return absl::InvalidArgumentError(StrCat("snapshot ", id, " is not in the table"));
    }
    std::erase_if(next.snapshots,
                  [&](const iceberg::Snapshot& s) { return gone.count(s.snapshot_id) > 0; });
    size_t keep_from = 0;
    for (size_t i = 0; i < next.snapshot_log.size(); ++i)
      if (gone.count(next.snapshot_log[i].snapshot_id)) keep_from = i + 1;
    next.snapshot_log.erase(next.snapshot_log.begin(),
                            next.snapshot_log.begin() + static_cast<std::ptrdiff_t>(keep_from));
    std::erase_if(next.refs,
                  [&](const auto& ref) { return gone.count(ref.second.snapshot_id) > 0; });
  }
  for (const auto& [key, value] : change.set_properties) {
    bool replaced = false;
    for (auto& [k, v] : next.properties)
      if (k == key) {
        v = value;
        replaced = true;
      }
    if (!replaced) next.properties.emplace_back(key, value);
  }
  if (!other_change && (!change.remove_snapshots.empty() || !change.set_properties.empty())) {
    next.last_updated_ms = now_ms;
    if (!previous_metadata_file.empty())
      next.metadata_log.push_back({metadata->last_updated_ms, previous_metadata_file});
  }
  *metadata = std::move(next);
  return absl::OkStatus();
}

}  // namespace lakehose::catalog
