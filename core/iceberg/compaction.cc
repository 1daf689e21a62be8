#include "core/iceberg/compaction.h"

#include <algorithm>
#include <utility>

namespace lakehose::iceberg {

ManifestEntry ResolveInherited(ManifestEntry e, const ManifestFile& m) {
  // Only ADDED entries inherit; EXISTING and DELETED ones carry their own (the spec
  // requires them), but a missing one is inherited the same way rather than lost.
  if (!e.snapshot_id) e.snapshot_id = m.added_snapshot_id;
  if (!e.sequence_number) e.sequence_number = m.sequence_number;
  if (!e.file_sequence_number) e.file_sequence_number = m.sequence_number;
  return e;
}

bool CompactionWanted(int64_t record_count, int64_t deleted, double min_deleted_fraction) {
  if (deleted <= 0 || record_count <= 0) return false;
  if (deleted >= record_count) return true;
  return static_cast<double>(deleted) >= min_deleted_fraction * static_cast<double>(record_count);
}

std::optional<RewrittenManifest> RewriteManifest(const ManifestFile& m,
                                                 const std::vector<ManifestEntry>& entries,
                                                 const std::set<std::string>& removed,
                                                 int64_t snapshot_id, int64_t sequence_number) {
  bool touched = false;
  for (const ManifestEntry& e : entries)
    touched |= e.status != 2 && removed.count(e.data_file.file_path) > 0;
  if (!touched) return std::nullopt;
  RewrittenManifest out;
  ManifestFile& l = out.list_entry;
  l.partition_spec_id = m.partition_spec_id;
  l.content = m.content;
  l.sequence_number = sequence_number;
  l.added_snapshot_id = snapshot_id;
  std::optional<int64_t> min_live;
  for (const ManifestEntry& old : entries) {
    if (old.status == 2) continue;
    ManifestEntry e = ResolveInherited(old, m);
    if (removed.count(e.data_file.file_path)) {
      e.status = 2;
      e.snapshot_id = snapshot_id;
      l.deleted_files_count += 1;
      l.deleted_rows_count += e.data_file.record_count;
    } else {
      e.status = 0;
      l.existing_files_count += 1;
      l.existing_rows_count += e.data_file.record_count;
      min_live = std::min(min_live.value_or(*e.sequence_number), *e.sequence_number);
    }
    out.entries.push_back(std::move(e));
  }
  // With no live entry left the manifest's own sequence number is the lowest there is.
  l.min_sequence_number = min_live.value_or(sequence_number);
  return out;
}

}  // namespace lakehose::iceberg
