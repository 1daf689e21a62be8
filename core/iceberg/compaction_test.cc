#include "core/iceberg/compaction.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose::iceberg {
namespace {

ManifestEntry Entry(int status, const char* path, int64_t rows,
                    std::optional<int64_t> seq = std::nullopt,
                    std::optional<int64_t> snapshot = std::nullopt) {
  ManifestEntry e;
  e.status = status;
  e.data_file.file_path = path;
  e.data_file.record_count = rows;
  e.sequence_number = seq;
  e.file_sequence_number = seq;
  e.snapshot_id = snapshot;
  return e;
}

TEST(CompactionWanted, ByTheDeletedFractionAndAlwaysWhenEveryRowIsGone) {
  EXPECT_FALSE(CompactionWanted(10, 0, 0.0));  // no deletes: nothing to gain
  EXPECT_FALSE(CompactionWanted(10, 1, 0.2));
  EXPECT_TRUE(CompactionWanted(10, 2, 0.2));
  EXPECT_TRUE(CompactionWanted(10, 10, 1.0));
  EXPECT_TRUE(CompactionWanted(10, 10, 2.0));  // every row gone, whatever the fraction
  EXPECT_FALSE(CompactionWanted(0, 0, 0.2));
}

TEST(ResolveInherited, AnAddedEntryTakesItsManifestsSnapshotAndSequenceNumber) {
  ManifestFile m;
  m.added_snapshot_id = 77;
  m.sequence_number = 5;
  const ManifestEntry added = ResolveInherited(Entry(1, "a", 1), m);
  EXPECT_EQ(added.snapshot_id, 77);
  EXPECT_EQ(added.sequence_number, 5);
  EXPECT_EQ(added.file_sequence_number, 5);
  const ManifestEntry existing = ResolveInherited(Entry(0, "b", 1, 2, 11), m);
  EXPECT_EQ(existing.snapshot_id, 11);  // its own, never the manifest's
  EXPECT_EQ(existing.sequence_number, 2);
}

TEST(RewriteManifest, RemovedFilesDeletedOthersExistingDeletedOnesDropped) {
  ManifestFile m;
  m.content = 0;
  m.partition_spec_id = 3;
  m.added_snapshot_id = 20;
  m.sequence_number = 4;
  const std::vector<ManifestEntry> entries = {
      Entry(1, "added-here", 5),          // inherits 20 / 4
      Entry(0, "older", 7, 2, 10),        // EXISTING since snapshot 10, sequence 2
      Entry(2, "gone-before", 9, 1, 20),  // deleted by the snapshot that wrote m
      Entry(0, "rewritten", 3, 3, 15),    // the one compaction removes
  };
  EXPECT_FALSE(RewriteManifest(m, entries, {"elsewhere", "gone-before"}, 99, 6).has_value());

  auto r = RewriteManifest(m, entries, {"rewritten"}, 99, 6);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->entries.size(), 3u);
  EXPECT_EQ(r->entries[0].status, 0);
  EXPECT_EQ(r->entries[0].snapshot_id, 20);
  EXPECT_EQ(r->entries[0].sequence_number, 4);
  EXPECT_EQ(r->entries[1].status, 0);
  EXPECT_EQ(r->entries[1].snapshot_id, 10);
  EXPECT_EQ(r->entries[1].sequence_number, 2);
  EXPECT_EQ(r->entries[2].data_file.file_path, "rewritten");
  EXPECT_EQ(r->entries[2].status, 2);
  EXPECT_EQ(r->entries[2].snapshot_id, 99);     // deleted by this snapshot
  EXPECT_EQ(r->entries[2].sequence_number, 3);  // its data sequence number kept
  const ManifestFile& l = r->list_entry;
  EXPECT_EQ(l.content, 0);
  EXPECT_EQ(l.partition_spec_id, 3);
  EXPECT_EQ(l.added_snapshot_id, 99);
  EXPECT_EQ(l.sequence_number, 6);
  EXPECT_EQ(l.min_sequence_number, 2);  // of the live entries
  EXPECT_EQ(l.existing_files_count, 2);
  EXPECT_EQ(l.existing_rows_count, 12);
  EXPECT_EQ(l.deleted_files_count, 1);
  EXPECT_EQ(l.deleted_rows_count, 3);
  EXPECT_EQ(l.added_files_count, 0);

  // Everything removed: no live entry, the manifest's own sequence number is the minimum.
  auto all = RewriteManifest(m, entries, {"added-here", "older", "rewritten"}, 99, 6);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->list_entry.deleted_files_count, 3);
  EXPECT_EQ(all->list_entry.min_sequence_number, 6);
}

}  // namespace
}  // namespace lakehose::iceberg
