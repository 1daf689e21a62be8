// Compaction of a current-state table (`lakehose table compact`), the pure half: which
// data files are worth rewriting, and what the `replace` snapshot's manifests say about
// the files it removes and the files it keeps.
//
// A current-state table accumulates position deletes: every MODIFY and REMOVE ends a row
// somewhere. Readers pay for each delete (they read the delete files and skip the rows),
// so compaction rewrites the data files where many rows are deleted into new files of
// their live rows, removes those files and the deletes that pointed into them, and moves
// the key index to the rows' new positions, in one snapshot (service/iceberg).
//
//   if (CompactionWanted(f.record_count, deleted_rows, 0.2)) ... rewrite f
//   std::optional<RewrittenManifest> m = RewriteManifest(list_entry, entries, removed,
//                                                        snapshot_id, sequence_number);
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_ICEBERG_COMPACTION_H_
#define LAKEHOSE_CORE_ICEBERG_COMPACTION_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/iceberg/types.h"

namespace lakehose::iceberg {

// `e` as manifest `m` of a snapshot's list describes it: an ADDED entry's null snapshot
// id and sequence numbers are inherited from the manifest list entry (the spec's
// inheritance), so that the entry can be written into another manifest as it is.
ManifestEntry ResolveInherited(ManifestEntry e, const ManifestFile& m);

// Whether a data file of `record_count` rows, `deleted` of them position-deleted, is
// rewritten: when the deleted fraction is at least `min_deleted_fraction`, and always
// when every row is deleted (the file is then removed without a replacement). A file
// without deletes never is.
bool CompactionWanted(int64_t record_count, int64_t deleted, double min_deleted_fraction);

struct RewrittenManifest {
  std::vector<ManifestEntry> entries;
  // The manifest list's entry, but for manifest_path, manifest_length and partitions
  // (the caller's): content and partition spec as the old one's, this snapshot's id and
  // sequence number, the minimum data sequence number of its live entries, the counts.
  ManifestFile list_entry;
};

// The manifest `m` (list entry `m`, entries `entries` as decoded) in a snapshot
// `snapshot_id` with sequence number `sequence_number` that removes the files named in
// `removed`: their live entries become DELETED (this snapshot's id, their sequence numbers
// kept, as the spec asks of a deleted entry), the other live entries EXISTING with their
// own snapshot id and sequence numbers (ResolveInherited); entries DELETED in `m` are
// left out (they described the snapshot that wrote it). nullopt when `m` has no live entry
// in `removed`: the snapshot keeps `m` as it is.
std::optional<RewrittenManifest> RewriteManifest(const ManifestFile& m,
                                                 const std::vector<ManifestEntry>& entries,
                                                 const std::set<std::string>& removed,
                                                 int64_t snapshot_id, int64_t sequence_number);

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_COMPACTION_H_
