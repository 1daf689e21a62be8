// IcebergTable in mode: current (README "Current-state tables") over a fake destination:
// the key index follows the table, deletes carry the old row's partition, stale and
// superseded changes leave no row, and an index that is behind or new catches up from
// the table's index deltas. Real readers (icebird, DuckDB, avsc) check the same tables in
// tests/iceberg/current.test.mjs.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/iceberg/current_state.h"
#include "core/iceberg/manifest.h"
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

}  // namespace
}  // namespace lakehose
