// IcebergTable in mode: current (README "Current-state tables") over a fake destination:
// the key index follows the table, deletes carry the old row's partition, stale and
// superseded changes leave no row, and an index that is behind or new catches up from
// the table's index deltas. Real readers (icebird, DuckDB, avsc) check the same tables in
// tests/iceberg/current.test.mjs.
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/iceberg/current_state.h"
#include "core/iceberg/manifest.h"
#include "core/iceberg/position_deletes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/iceberg/iceberg_table.h"
#include "service/iceberg/key_index.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1700000000000;

constexpr std::string_view kYaml =
    "pipelines:\n"
    "  - name: t\n"
    "    partition_keys:\n"
    "      region: { attribute: region }\n"
    "    destination:\n"
    "      format: iceberg\n"
    "      iceberg:\n"
    "        table: ns.tbl\n"
    "        mode: current\n"
    "        identifier: [pk]\n"
    "        schema: [{ name: pk, type: string, required: true }]\n"
    "  - name: log\n"
    "    partition_keys:\n"
    "      region: { attribute: region }\n"
    "    destination:\n"
    "      format: iceberg\n"
    "      iceberg: { table: ns.tbl }\n";

// A change as the transformer writes it for this pipeline.
std::string Doc(std::string_view op, std::string_view pk, int seq, std::string_view region = "",
                int v = 0) {
  std::string d = StrCat(R"({"_SequenceNumber":")", seq, R"(","_ApproximateCreationDateTime":)",
                         kT0 + seq, R"(,"pk":")", pk, "\"");
  if (op != "DELETE") StrAppend(&d, R"(,"region":")", region, R"(","v":)", v);
  StrAppend(&d, R"(,"_op":")", op, R"(","_event_time":)", kT0 + seq, "}\n");
  return d;
}

class Fixture {
 public:
  Fixture() {
    auto config = ParseTestConfig(std::string(kYaml));
    EXPECT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    dir_ = std::filesystem::path(::testing::TempDir()) /
           StrCat("current_table_test_", ::testing::UnitTest::GetInstance()->random_seed(), "_",
                  reinterpret_cast<uintptr_t>(this));
    std::filesystem::remove_all(dir_);
  }
  ~Fixture() { std::filesystem::remove_all(dir_); }

  std::unique_ptr<KeyIndex> Index(std::string_view name) {
    auto index = KeyIndex::Open((dir_ / std::string(name)).string());
    EXPECT_TRUE(index.ok()) << index.status();
    return index.ok() ? *std::move(index) : nullptr;
  }
  std::unique_ptr<IcebergTable> Writer(KeyIndex* index, const char* pipeline = "t") {
    IcebergTable::Options options;
    options.writer_id = "w1";
    options.clock = &clock_;
    auto n = std::make_shared<uint64_t>(0x77);
    options.random64 = [n] { return (*n = *n * 6364136223846793005ULL + 1442695040888963407ULL); };
    options.sleep = [](absl::Duration) {};
    options.key_index = index;
    return std::make_unique<IcebergTable>(*config_.FindPipeline(pipeline), sink_,
                                          std::move(options));
  }
  // Encodes and stores `body` as sealed object `seq`.
  TableObject Store(IcebergTable& table, uint64_t seq, const std::string& body) {
    const std::string key = StrCat("ns/tbl/data/", table.pipeline(), "-w1-", seq, ".parquet");
    absl::StatusOr<TableObject> o = table.Encode(key, body, nullptr);
    EXPECT_TRUE(o.ok()) << o.status();
    if (!o.ok()) return {};
    for (const TableObject::File& f : o->files) {
      ObjectMeta meta;
      meta.if_none_match = true;
      EXPECT_TRUE(sink_.Put(f.key, f.bytes, meta).ok());
    }
    return *std::move(o);
  }
  FakeObjectSink& sink() { return sink_; }

 private:
  Config config_;
  FakeClock clock_{kT0};
  FakeObjectSink sink_;
  std::filesystem::path dir_;
};

iceberg::KeyState StateOf(const KeyIndex& index, std::string_view pk) {
  auto key = iceberg::DocumentKeyText(StrCat(R"({"pk":")", pk, "\"}"), {"pk"});
  EXPECT_TRUE(key.ok());
  auto got = index.Get(*key);
  EXPECT_TRUE(got.ok() && got->has_value()) << pk;
  return got.ok() && got->has_value() ? **got : iceberg::KeyState{};
}

// The current snapshot's manifests of `content` (0 data, 1 deletes), decoded.
std::vector<iceberg::ManifestEntry> Entries(Fixture& fx, IcebergTable& table, int content) {
  auto loaded = table.Load();
  EXPECT_TRUE(loaded.ok() && loaded->has_value());
  const iceberg::Snapshot* snap = (*loaded)->metadata.CurrentSnapshot();
  auto list =
      iceberg::DecodeManifestList(fx.sink().objects().at(*table.FileKey(snap->manifest_list)));
  EXPECT_TRUE(list.ok());
  std::vector<iceberg::ManifestEntry> out;
  for (const iceberg::ManifestFile& m : *list) {
    if (m.content != content) continue;
    iceberg::ManifestContext ctx;
    auto entries =
        iceberg::DecodeManifest(fx.sink().objects().at(*table.FileKey(m.manifest_path)), &ctx);
    EXPECT_TRUE(entries.ok()) << entries.status();
    EXPECT_EQ(ctx.content, content);
    for (auto& e : *entries) out.push_back(std::move(e));
  }
  return out;
}

TEST(CurrentTableTest, UpdatesAndRemovesDeleteTheOldRowInItsOwnPartition) {
  Fixture fx;
  auto index = fx.Index("index");
  auto table = fx.Writer(index.get());
  TableObject first =
      fx.Store(*table, 1, Doc("INSERT", "a", 1, "EU", 1) + Doc("INSERT", "b", 2, "EU", 1));
  ASSERT_TRUE(table->Commit({&first}).ok());
  const iceberg::KeyState a1 = StateOf(*index, "a");
  EXPECT_TRUE(a1.live);
  EXPECT_EQ(a1.pos, 0);
  EXPECT_EQ(StateOf(*index, "b").pos, 1);
  EXPECT_TRUE(Entries(fx, *table, 1).empty());  // nothing deleted yet

  // `a` moves to US, `b` is removed, and an older change of `a` arrives late (stale).
  TableObject us = fx.Store(*table, 2, Doc("MODIFY", "a", 3, "US", 2));
  TableObject eu = fx.Store(*table, 3, Doc("DELETE", "b", 4) + Doc("MODIFY", "a", 1, "EU", 9));
  ASSERT_TRUE(table->Commit({&us, &eu}).ok());
  const iceberg::KeyState a2 = StateOf(*index, "a");
  EXPECT_TRUE(a2.live);
  EXPECT_THAT(a2.file_path, HasSubstr("region=US"));
  EXPECT_FALSE(StateOf(*index, "b").live);
  EXPECT_EQ(StateOf(*index, "b").version.sequence, "4");
  const IcebergTableStats st = table->Stats();
  EXPECT_EQ(st.changes_applied, 4);  // a, b; a, b's remove
  EXPECT_EQ(st.changes_stale, 1);    // a's late MODIFY 1 (as old as its first INSERT)
  // Deleted: a's and b's first rows (EU, the first file), and the stale row written in
  // the EU file of this commit: one delete file, in the EU partition.
  EXPECT_EQ(st.position_deletes, 3);
  const std::vector<iceberg::ManifestEntry> deletes = Entries(fx, *table, 1);
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].data_file.content, 1);
  EXPECT_EQ(deletes[0].data_file.record_count, 3);
  ASSERT_EQ(deletes[0].data_file.partition.size(), 1u);
  EXPECT_EQ(deletes[0].data_file.partition[0].s, "EU");
  EXPECT_THAT(deletes[0].data_file.file_path, HasSubstr("/data/region=EU/t-deletes-"));
  auto loaded = table->Load();
  const iceberg::Snapshot& snap = *(*loaded)->metadata.CurrentSnapshot();
  EXPECT_EQ(snap.SummaryValue("operation"), "overwrite");
  EXPECT_EQ(snap.SummaryValue("added-position-deletes"), "3");
  EXPECT_EQ(snap.SummaryValue("total-position-deletes"), "3");
  EXPECT_EQ(snap.SummaryValue("lakehose.changes-stale"), "1");
  ASSERT_TRUE(snap.SummaryValue("lakehose.index-delta").has_value());
  EXPECT_EQ(*index->AppliedSnapshot(), snap.snapshot_id);
}

TEST(CurrentTableTest, ANewIndexIsRebuiltFromTheIndexDeltasAndPlansTheSame) {
  Fixture fx;
  auto index = fx.Index("index");
  auto table = fx.Writer(index.get());
  TableObject o1 =
      fx.Store(*table, 1, Doc("INSERT", "a", 1, "EU", 1) + Doc("INSERT", "b", 2, "US", 1));
  ASSERT_TRUE(table->Commit({&o1}).ok());
  TableObject o2 = fx.Store(*table, 2, Doc("DELETE", "a", 3) + Doc("MODIFY", "b", 4, "US", 2));
  ASSERT_TRUE(table->Commit({&o2}).ok());
  // Only removes: a snapshot without data files, and a remove of a key never seen.
  TableObject o3 = fx.Store(*table, 3, Doc("DELETE", "zz", 5));
  ASSERT_TRUE(table->Commit({&o3}).ok());

  // As after a lost index (or a crash between a commit and the index's update): a new one.
  auto rebuilt = fx.Index("rebuilt");
  auto again = fx.Writer(rebuilt.get());
  ASSERT_TRUE(again->CatchUpIndex().ok());
  EXPECT_EQ(again->Stats().index_deltas_replayed, 3);
  EXPECT_EQ(*rebuilt->AppliedSnapshot(), *index->AppliedSnapshot());
  for (const char* pk : {"a", "b", "zz"}) {
    const iceberg::KeyState x = StateOf(*index, pk), y = StateOf(*rebuilt, pk);
    EXPECT_EQ(x.live, y.live) << pk;
    EXPECT_EQ(x.file_path, y.file_path) << pk;
    EXPECT_EQ(x.pos, y.pos) << pk;
    EXPECT_EQ(x.version.sequence, y.version.sequence) << pk;
  }
  // The rebuilt index carries on: b's next change deletes b's row of o2.
  const std::string b_row = StateOf(*rebuilt, "b").file_path;
  TableObject o4 = fx.Store(*again, 4, Doc("MODIFY", "b", 6, "US", 3));
  ASSERT_TRUE(again->Commit({&o4}).ok());
  const std::vector<iceberg::ManifestEntry> deletes = Entries(fx, *again, 1);
  ASSERT_EQ(deletes.size(), 3u);  // o2's (a in EU, b in US), and this commit's
  int found = 0;
  for (const iceberg::ManifestEntry& e : deletes)
    if (e.data_file.referenced_data_file == b_row) {
      ++found;
      EXPECT_EQ(e.data_file.record_count, 1);
      EXPECT_EQ(e.data_file.partition[0].s, "US");
    }
  EXPECT_EQ(found, 1);
  // The first writer's index, one snapshot behind now, catches up before it plans.
  ASSERT_TRUE(table->CatchUpIndex().ok());
  EXPECT_EQ(StateOf(*index, "b").version.sequence, "6");
}

TEST(CurrentTableTest, ASnapshotWithoutAnIndexDeltaStopsTheIndex) {
  Fixture fx;
  auto index = fx.Index("index");
  auto table = fx.Writer(index.get());
  TableObject o1 = fx.Store(*table, 1, Doc("INSERT", "a", 1, "EU", 1));
  ASSERT_TRUE(table->Commit({&o1}).ok());
  // A change-log writer of the same table (another pipeline naming it).
  auto log = fx.Writer(nullptr, "log");
  TableObject l1 = fx.Store(*log, 2, Doc("INSERT", "x", 9, "EU", 1));
  ASSERT_TRUE(log->Commit({&l1}).ok());
  absl::Status st = table->CatchUpIndex();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("has no lakehose.index-delta"));
  TableObject o2 = fx.Store(*table, 3, Doc("MODIFY", "a", 2, "EU", 2));
  EXPECT_TRUE(absl::IsFailedPrecondition(table->Commit({&o2})));
}

TEST(CurrentTableTest, AnIndexOfAnotherTableIsRefusedNotUsed) {
  Fixture old_lake;
  auto index = old_lake.Index("index");
  {
    auto table = old_lake.Writer(index.get());
    TableObject o1 = old_lake.Store(*table, 1, Doc("INSERT", "a", 1, "EU", 1));
    ASSERT_TRUE(table->Commit({&o1}).ok());
  }
  // A new lake (the old one removed), the data_dir kept: its index names rows of files
  // that the new table does not have.
  Fixture fx;
  auto table = fx.Writer(index.get());
  TableObject o2 = fx.Store(*table, 2, Doc("MODIFY", "a", 2, "EU", 2));
  absl::Status st = table->Commit({&o2});
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("lakehose table reindex"));
}

TEST(CurrentTableTest, ADamagedIndexDeltaIsDataLossNamingIt) {
  Fixture fx;
  auto index = fx.Index("index");
  auto table = fx.Writer(index.get());
  TableObject o1 = fx.Store(*table, 1, Doc("INSERT", "a", 1, "EU", 1));
  ASSERT_TRUE(table->Commit({&o1}).ok());
  std::string delta_key;
  for (const auto& [key, bytes] : fx.sink().objects())
    if (key.find("index-delta-") != std::string::npos) delta_key = key;
  ASSERT_FALSE(delta_key.empty());
  std::string damaged = fx.sink().objects().at(delta_key);
  damaged[damaged.size() / 2] ^= 0x40;
  ASSERT_TRUE(fx.sink().Put(delta_key, damaged, ObjectMeta()).ok());
  auto fresh = fx.Index("fresh");
  absl::Status st = fx.Writer(fresh.get())->CatchUpIndex();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("index-delta-"));
}

TEST(CurrentTableTest, WithoutItsIndexACurrentTableIsNotCommitted) {
  Fixture fx;
  auto table = fx.Writer(nullptr);
  TableObject o1 = fx.Store(*table, 1, Doc("INSERT", "a", 1, "EU", 1));
  EXPECT_TRUE(absl::IsFailedPrecondition(table->Commit({&o1})));
}

// `lakehose table compact`: IcebergTable::Compact.
class CompactionTest : public ::testing::Test {
 protected:
  // EU file 1: a, b, c, e (a MODIFY of a and a REMOVE of c later delete two of its four
  // rows); US: d, never changed.
  void SetUp() override {
    index_ = fx_.Index("index");
    table_ = fx_.Writer(index_.get());
    TableObject o1 = fx_.Store(*table_, 1,
                               Doc("INSERT", "a", 1, "EU", 1) + Doc("INSERT", "b", 2, "EU", 1) +
                                   Doc("INSERT", "c", 3, "EU", 1) + Doc("INSERT", "e", 4, "EU", 1) +
                                   Doc("INSERT", "d", 5, "US", 1));
    ASSERT_TRUE(table_->Commit({&o1}).ok());
    TableObject o2 = fx_.Store(*table_, 2, Doc("MODIFY", "a", 6, "EU", 2) + Doc("DELETE", "c", 7));
    ASSERT_TRUE(table_->Commit({&o2}).ok());
    first_eu_ = StateOf(*index_, "b").file_path;
  }
  int64_t Version() {
    auto loaded = table_->Load();
    return loaded.ok() && loaded->has_value() ? (*loaded)->version : -1;
  }

  Fixture fx_;
  std::unique_ptr<KeyIndex> index_;
  std::unique_ptr<IcebergTable> table_;
  std::string first_eu_;
};

TEST_F(CompactionTest, RewritesTheDeletedFileDropsItsDeletesAndMovesTheIndex) {
  // A dry run counts the same and writes nothing.
  const size_t objects = fx_.sink().objects().size();
  const int64_t version = Version();
  auto dry = table_->Compact({.min_deleted_fraction = 0.3, .dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->snapshot_id, 0);
  EXPECT_EQ(dry->data_files_rewritten, 1);
  EXPECT_EQ(fx_.sink().objects().size(), objects);
  EXPECT_EQ(Version(), version);

  auto r = table_->Compact({.min_deleted_fraction = 0.3});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->snapshot_id, 0);
  EXPECT_EQ(r->data_files_rewritten, 1);  // EU file 1 (2 of 4 deleted); not US, not o2's
  EXPECT_EQ(r->data_files_added, 1);
  EXPECT_EQ(r->rows_kept, 2);  // b, e
  EXPECT_EQ(r->rows_dropped, 2);
  EXPECT_EQ(r->delete_files_removed, 1);  // o2's EU delete file pointed only into file 1
  EXPECT_EQ(r->delete_files_added, 0);
  EXPECT_EQ(r->keys_moved, 2);
  EXPECT_EQ(dry->rows_kept, r->rows_kept);
  EXPECT_EQ(dry->delete_files_removed, r->delete_files_removed);

  const iceberg::KeyState b = StateOf(*index_, "b"), e = StateOf(*index_, "e");
  EXPECT_THAT(b.file_path, HasSubstr("/data/region=EU/t-compact-"));
  EXPECT_EQ(b.file_path, e.file_path);
  EXPECT_EQ(b.pos, 0);
  EXPECT_EQ(e.pos, 1);
  EXPECT_EQ(b.version.sequence, "2");  // versions stay
  EXPECT_EQ(*index_->AppliedSnapshot(), r->snapshot_id);

  auto loaded = table_->Load();
  const iceberg::Snapshot& snap = *(*loaded)->metadata.CurrentSnapshot();
  EXPECT_EQ(snap.SummaryValue("operation"), "replace");
  EXPECT_EQ(snap.SummaryValue("deleted-data-files"), "1");
  EXPECT_EQ(snap.SummaryValue("removed-position-deletes"), "2");
  EXPECT_EQ(snap.SummaryValue("total-position-deletes"), "0");
  EXPECT_EQ(snap.SummaryValue("total-records"), "4");  // a (o2), b, e, d
  EXPECT_EQ(snap.SummaryValue("total-data-files"), "3");
  // The data manifests: o1's rewritten (file 1 DELETED by this snapshot, its sequence
  // number kept; US EXISTING with its own snapshot and sequence numbers), o2's kept as
  // it was (its EU file ADDED by o2), the new file's ADDED.
  int deleted = 0, existing = 0, added = 0;
  for (const iceberg::ManifestEntry& m : Entries(fx_, *table_, 0)) {
    if (m.status == 2) {
      ++deleted;
      EXPECT_EQ(m.data_file.file_path, first_eu_);
      EXPECT_EQ(m.snapshot_id, r->snapshot_id);
      EXPECT_EQ(m.sequence_number, 1);
    } else if (m.status == 0) {
      ++existing;
      ASSERT_TRUE(m.sequence_number.has_value());
      EXPECT_NE(m.snapshot_id, r->snapshot_id);
    } else {
      ++added;
      EXPECT_FALSE(m.sequence_number.has_value());  // inherited from its manifest
    }
  }
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(existing, 1);
  EXPECT_EQ(added, 2);
  for (const iceberg::ManifestEntry& m : Entries(fx_, *table_, 1)) EXPECT_EQ(m.status, 2);
  // Nothing left above the fraction: a second run does nothing.
  auto second = table_->Compact({.min_deleted_fraction = 0.3});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->snapshot_id, 0);
  EXPECT_EQ(second->data_files_rewritten, 0);

  // The stream goes on: a MODIFY of b deletes its row in the new file, and a rebuilt index
  // (replaying the compaction's delta too) says what the live one says.
  TableObject o3 = fx_.Store(*table_, 3, Doc("MODIFY", "b", 8, "EU", 3));
  ASSERT_TRUE(table_->Commit({&o3}).ok());
  bool deletes_new_file = false;
  for (const iceberg::ManifestEntry& m : Entries(fx_, *table_, 1)) {
    if (m.status == 2) continue;
    auto deletes = iceberg::DecodePositionDeletes(
        fx_.sink().objects().at(*table_->FileKey(m.data_file.file_path)));
    ASSERT_TRUE(deletes.ok()) << deletes.status();
    for (const iceberg::PositionDelete& d : *deletes)
      deletes_new_file |= d.file_path == b.file_path && d.pos == 0;
  }
  EXPECT_TRUE(deletes_new_file);
  auto rebuilt = fx_.Index("rebuilt");
  auto again = fx_.Writer(rebuilt.get());
  ASSERT_TRUE(again->CatchUpIndex().ok());
  for (const char* pk : {"a", "b", "c", "d", "e"}) {
    const iceberg::KeyState x = StateOf(*index_, pk), y = StateOf(*rebuilt, pk);
    EXPECT_EQ(x.live, y.live) << pk;
    EXPECT_EQ(x.file_path, y.file_path) << pk;
    EXPECT_EQ(x.pos, y.pos) << pk;
  }
}

TEST_F(CompactionTest, PartlyAffectedDeleteFilesAreWrittenAgainWithTheRest) {
  // One delete file pointing into two EU files: file 1 (2 of 4 rows already deleted)
  // and o3's file (b's new row; its one row deleted by o4).
  TableObject o3 = fx_.Store(*table_, 3, Doc("MODIFY", "e", 8, "EU", 3));
  ASSERT_TRUE(table_->Commit({&o3}).ok());
  TableObject o4 = fx_.Store(*table_, 4, Doc("MODIFY", "e", 9, "US", 4) + Doc("DELETE", "b", 10));
  ASSERT_TRUE(table_->Commit({&o4}).ok());
  // File 1: a, c, e, b deleted (all four): removed. o2's EU file (a): live, untouched. o3's
  // EU file (e, deleted): removed. At 0.9, only files with every row gone.
  auto r = table_->Compact({.min_deleted_fraction = 0.9});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->data_files_rewritten, 2);
  EXPECT_EQ(r->data_files_added, 0);
  EXPECT_EQ(r->rows_kept, 0);
  EXPECT_EQ(r->keys_moved, 0);
  // Every live delete file points only at live data files' rows.
  std::set<std::string> live_data;
  for (const iceberg::ManifestEntry& m : Entries(fx_, *table_, 0))
    if (m.status != 2) live_data.insert(m.data_file.file_path);
  for (const iceberg::ManifestEntry& m : Entries(fx_, *table_, 1)) {
    if (m.status == 2) continue;
    auto deletes = iceberg::DecodePositionDeletes(
        fx_.sink().objects().at(*table_->FileKey(m.data_file.file_path)));
    ASSERT_TRUE(deletes.ok());
    for (const iceberg::PositionDelete& d : *deletes)
      EXPECT_TRUE(live_data.count(d.file_path)) << d.file_path;
  }
}

TEST_F(CompactionTest, AnIndexThatDoesNotPointToALiveRowStopsIt) {
  // The index says b's row is elsewhere (damaged, or of another table): nothing is moved.
  auto key = iceberg::DocumentKeyText(R"({"pk":"b"})", {"pk"});
  iceberg::KeyState wrong = StateOf(*index_, "b");
  wrong.pos = 3;
  ASSERT_TRUE(
      index_->Apply({{.key = *key, .state = wrong}}, *index_->AppliedSnapshot().value()).ok());
  const int64_t version = Version();
  auto r = table_->Compact({.min_deleted_fraction = 0.3});
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("lakehose table reindex"));
  EXPECT_EQ(Version(), version);
}

TEST_F(CompactionTest, ExpiryCheckpointsTheIndexSoThatItCanBeRebuiltWithoutTheOldDeltas) {
  TableObject o3 = fx_.Store(*table_, 3, Doc("MODIFY", "e", 8, "US", 3));
  ASSERT_TRUE(table_->Commit({&o3}).ok());
  auto before = table_->Load();
  const int64_t current = *(*before)->metadata.current_snapshot_id;
  const size_t objects = fx_.sink().objects().size();
  auto dry =
      table_->ExpireSnapshots({.older_than_ms = INT64_MAX, .retain_last = 1, .dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->snapshots_expired, 2);
  EXPECT_EQ(fx_.sink().objects().size(), objects);  // nothing written

  auto r = table_->ExpireSnapshots({.older_than_ms = INT64_MAX, .retain_last = 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshots_expired, 2);
  EXPECT_EQ(r->snapshots_kept, 1);
  EXPECT_THAT(r->checkpoint, HasSubstr(StrCat("metadata/index-checkpoint-", current, ".bin")));
  // The expired snapshots' manifest lists and index deltas, and o1's data files (deleted
  // rows of keys whose rows live elsewhere now) that o3's snapshot still lists stay named.
  EXPECT_EQ(r->unreferenced.size(), dry->unreferenced.size());
  int lists = 0, deltas = 0;
  for (const std::string& uri : r->unreferenced) {
    lists += uri.find("/metadata/snap-") != std::string::npos;
    deltas += uri.find("/metadata/index-delta-") != std::string::npos;
    EXPECT_TRUE(fx_.sink().objects().count(*table_->FileKey(uri))) << uri;  // not deleted
  }
  EXPECT_EQ(lists, 2);
  EXPECT_EQ(deltas, 2);
  auto after = table_->Load();
  const iceberg::TableMetadata& m = (*after)->metadata;
  ASSERT_EQ(m.snapshots.size(), 1u);
  EXPECT_EQ(m.snapshots[0].snapshot_id, current);
  ASSERT_EQ(m.snapshot_log.size(), 1u);

  // A new index starts from the checkpoint and equals the live one.
  auto rebuilt = fx_.Index("rebuilt");
  auto again = fx_.Writer(rebuilt.get());
  ASSERT_TRUE(again->CatchUpIndex().ok());
  EXPECT_EQ(again->Stats().index_checkpoint_loaded, current);
  EXPECT_EQ(again->Stats().index_deltas_replayed, 0);
  for (const char* pk : {"a", "b", "c", "d", "e"}) {
    const iceberg::KeyState x = StateOf(*index_, pk), y = StateOf(*rebuilt, pk);
    EXPECT_EQ(x.live, y.live) << pk;
    EXPECT_EQ(x.file_path, y.file_path) << pk;
    EXPECT_EQ(x.pos, y.pos) << pk;
    EXPECT_EQ(x.version.sequence, y.version.sequence) << pk;  // tombstones too (c)
  }
  // The table goes on; the next new index takes the checkpoint and the snapshot after it.
  TableObject o4 = fx_.Store(*table_, 4, Doc("MODIFY", "d", 9, "US", 4));
  ASSERT_TRUE(table_->Commit({&o4}).ok());
  auto third = fx_.Index("third");
  auto writer3 = fx_.Writer(third.get());
  ASSERT_TRUE(writer3->CatchUpIndex().ok());
  EXPECT_EQ(writer3->Stats().index_deltas_replayed, 1);
  EXPECT_EQ(StateOf(*third, "d").file_path, StateOf(*index_, "d").file_path);
}

TEST_F(CompactionTest, AnIndexBehindExpiredSnapshotsIsToldToReindex) {
  // An index left at o1's snapshot (a copy, or another machine's), then o1 and o2 expire.
  auto behind = fx_.Index("behind");
  {
    auto loaded = table_->Load();
    const iceberg::TableMetadata& m = (*loaded)->metadata;
    const int64_t first = *m.CurrentSnapshot()->parent_snapshot_id;
    ASSERT_TRUE(behind->Apply({}, first).ok());
  }
  TableObject o3 = fx_.Store(*table_, 3, Doc("MODIFY", "e", 8, "US", 3));
  ASSERT_TRUE(table_->Commit({&o3}).ok());
  ASSERT_TRUE(table_->ExpireSnapshots({.older_than_ms = INT64_MAX, .retain_last = 1}).ok());
  auto writer = fx_.Writer(behind.get());
  absl::Status st = writer->CatchUpIndex();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("lakehose table reindex"));
}

TEST_F(CompactionTest, AFailedWriteLeavesTableAndIndexAsTheyWereAndARunAgainWorks) {
  const int64_t version = Version();
  const iceberg::KeyState b_before = StateOf(*index_, "b");
  const int64_t applied = *index_->AppliedSnapshot().value();
  fx_.sink().SetFailure(absl::UnavailableError("injected: S3 down"));
  auto failed = table_->Compact({.min_deleted_fraction = 0.3});
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  auto expire_failed = table_->ExpireSnapshots({.older_than_ms = INT64_MAX, .retain_last = 1});
  EXPECT_TRUE(absl::IsUnavailable(expire_failed.status())) << expire_failed.status();
  fx_.sink().SetFailure(absl::OkStatus());
  EXPECT_EQ(Version(), version);
  EXPECT_EQ(*index_->AppliedSnapshot().value(), applied);
  EXPECT_EQ(StateOf(*index_, "b").file_path, b_before.file_path);
  auto r = table_->Compact({.min_deleted_fraction = 0.3});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->keys_moved, 2);
  EXPECT_NE(StateOf(*index_, "b").file_path, b_before.file_path);
}

TEST_F(CompactionTest, ASecondExpiryDoesNotListWhatTheFirstListed) {
  // Compaction removes EU file 1; the first expiry (of o1, o2 and the compaction's parent
  // chain) lists it. The compaction's rewritten manifest, carried over into later
  // snapshots, still names it as DELETED: the next expiry must not list it again.
  ASSERT_TRUE(table_->Compact({.min_deleted_fraction = 0.3}).ok());
  auto first = table_->ExpireSnapshots({.older_than_ms = INT64_MAX, .retain_last = 1});
  ASSERT_TRUE(first.ok()) << first.status();
  bool listed = false;
  for (const std::string& uri : first->unreferenced) listed |= uri == first_eu_;
  EXPECT_TRUE(listed);
  TableObject o3 = fx_.Store(*table_, 3, Doc("MODIFY", "d", 8, "US", 3));
  ASSERT_TRUE(table_->Commit({&o3}).ok());
  auto second = table_->ExpireSnapshots({.older_than_ms = INT64_MAX, .retain_last = 1});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->snapshots_expired, 1);
  for (const std::string& uri : second->unreferenced) {
    EXPECT_NE(uri, first_eu_);
    EXPECT_THAT(uri, Not(HasSubstr("/data/region=EU/")));  // nothing of EU changed since
  }
}

TEST(CompactionMergeTest, TheDeletesLeftForKeptFilesGoInOneFilePerPartition) {
  Fixture fx;
  auto index = fx.Index("index");
  auto table = fx.Writer(index.get());
  std::string first, second;
  int seq = 0;
  for (const char* pk : {"a", "b", "c", "d", "e", "f"}) first += Doc("INSERT", pk, ++seq, "EU", 1);
  for (const char* pk : {"g", "h", "i", "j", "k"}) second += Doc("INSERT", pk, ++seq, "EU", 1);
  TableObject o1 = fx.Store(*table, 1, first);
  TableObject o2 = fx.Store(*table, 2, second);
  ASSERT_TRUE(table->Commit({&o1}).ok());
  ASSERT_TRUE(table->Commit({&o2}).ok());
  // Two delete files, each with one row of file 1 and one of file 2; a third only in file 1.
  TableObject o3 =
      fx.Store(*table, 3, Doc("MODIFY", "a", ++seq, "EU", 2) + Doc("MODIFY", "g", ++seq, "EU", 2));
  ASSERT_TRUE(table->Commit({&o3}).ok());
  TableObject o4 =
      fx.Store(*table, 4, Doc("MODIFY", "b", ++seq, "EU", 2) + Doc("MODIFY", "h", ++seq, "EU", 2));
  ASSERT_TRUE(table->Commit({&o4}).ok());
  TableObject o5 =
      fx.Store(*table, 5, Doc("MODIFY", "c", ++seq, "EU", 2) + Doc("MODIFY", "d", ++seq, "EU", 2));
  ASSERT_TRUE(table->Commit({&o5}).ok());
  // File 1: 4 of 6 deleted (rewritten at 0.5); file 2: 2 of 5 (kept).
  auto r = table->Compact({.min_deleted_fraction = 0.5});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->data_files_rewritten, 1);
  EXPECT_EQ(r->delete_files_removed, 3);
  EXPECT_EQ(r->delete_files_added, 1);  // g's and h's deletes, from two files, in one
  std::vector<iceberg::PositionDelete> live_deletes;
  for (const iceberg::ManifestEntry& m : Entries(fx, *table, 1)) {
    if (m.status == 2) continue;
    auto d = iceberg::DecodePositionDeletes(
        fx.sink().objects().at(*table->FileKey(m.data_file.file_path)));
    ASSERT_TRUE(d.ok());
    live_deletes.insert(live_deletes.end(), d->begin(), d->end());
  }
  ASSERT_EQ(live_deletes.size(), 2u);
  EXPECT_EQ(live_deletes[0].file_path, live_deletes[1].file_path);  // file 2
  EXPECT_EQ(live_deletes[0].pos, 0);                                // g
  EXPECT_EQ(live_deletes[1].pos, 1);                                // h
}

TEST(CompactionModeTest, AChangeLogTableIsNotCompacted) {
  Fixture fx;
  auto index = fx.Index("index");
  auto table = fx.Writer(index.get(), "log");
  auto r = table->Compact({});
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
}

}  // namespace
}  // namespace lakehose
