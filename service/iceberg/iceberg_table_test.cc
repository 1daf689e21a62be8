#include "service/iceberg/iceberg_table.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/iceberg/manifest.h"
#include "core/iceberg/metadata_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z

constexpr std::string_view kYaml =
    "pipelines:\n"
    "  - name: t\n"
    "    input: json\n"
    "    partition_keys:\n"
    "      region: { attribute: region }\n"
    "      hour: { timestamp: ts, unit: ms, format: \"%H\", fallback: arrival_time }\n"
    "    destination:\n"
    "      format: iceberg\n"
    "      compression: snappy\n"
    "      iceberg: { table: ns.tbl }\n";

// A pipeline's table over a fake destination, and more writers of the same table.
class Fixture {
 public:
  Fixture() {
    auto config = ParseTestConfig(std::string(kYaml));
    EXPECT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
  }
  std::unique_ptr<IcebergTable> Writer(const std::string& writer_id,
                                       IcebergCatalog* catalog = nullptr) {
    IcebergTable::Options options;
    options.writer_id = writer_id;
    options.clock = &clock_;
    auto n = std::make_shared<uint64_t>(0x1234);
    options.random64 = [n] { return (*n = *n * 6364136223846793005ULL + 1442695040888963407ULL); };
    options.sleep = [](absl::Duration) {};
    if (catalog != nullptr)
      return std::make_unique<IcebergTable>(spec(), sink_, *catalog, std::move(options));
    return std::make_unique<IcebergTable>(spec(), sink_, std::move(options));
  }
  const PipelineSpec& spec() const { return *config_.FindPipeline("t"); }
  FakeObjectSink& sink() { return sink_; }
  FakeClock& clock() { return clock_; }

  // Encodes and stores `body` as sealed object `seq` of writer `writer`.
  TableObject Store(IcebergTable& table, uint64_t seq, const std::string& body,
                    RejectedRecords* rejected = nullptr, std::string_view writer = "w1") {
    const std::string key = StrCat("ns/tbl/data/t-", writer, "-", seq, ".parquet");
    absl::StatusOr<TableObject> o = table.Encode(key, body, rejected);
    EXPECT_TRUE(o.ok()) << o.status();
    if (!o.ok()) return {};
    for (const TableObject::File& f : o->files) {
      ObjectMeta meta;
      meta.if_none_match = true;
      absl::Status st = sink_.Put(f.key, f.bytes, meta);
      EXPECT_TRUE(st.ok() || absl::IsAlreadyExists(st)) << st;
    }
    return *std::move(o);
  }

 private:
  Config config_;
  FakeClock clock_{kT0};
  FakeObjectSink sink_;
};

std::string Line(std::string_view region, int64_t ts, std::string_view extra = "") {
  return StrCat("{\"id\":\"", region, ts, "\",\"region\":\"", region, "\",\"ts\":", ts, extra,
                ",\"_op\":\"INSERT\",\"_event_time\":", ts, "}\n");
}

TEST(IcebergTableTest, TheFirstObjectCreatesTheTableAndOneFilePerPartition) {
  Fixture fx;
  auto table = fx.Writer("w1");
  const std::string body = Line("EU", kT0) + Line("US", kT0) + Line("EU", kT0 + 1);
  TableObject o = fx.Store(*table, 1700000000000001, body);
  ASSERT_EQ(o.files.size(), 2u);  // EU and US, the same hour
  EXPECT_THAT(o.files[0].key, MatchesRegex("ns/tbl/data/region=EU/_event_time_hour=2023-11-14-22/"
                                           "t-w1-1700000000000001-[0-9a-f]{8}\\.parquet"));
  EXPECT_EQ(o.files[0].records, 2);
  EXPECT_EQ(o.files[1].records, 1);
  const auto objects = fx.sink().objects();
  ASSERT_TRUE(objects.count("ns/tbl/metadata/v1.metadata.json"));
  EXPECT_EQ(objects.at("ns/tbl/metadata/version-hint.text"), "1");
  auto loaded = table->Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  const iceberg::TableMetadata& m = (*loaded)->metadata;
  EXPECT_EQ(m.location, "mem://ns/tbl");
  const iceberg::Schema* schema = m.CurrentSchema();
  ASSERT_NE(schema, nullptr);
  std::vector<std::string> names;
  for (const iceberg::Field& f : schema->fields) names.push_back(f.name);
  EXPECT_THAT(names, ElementsAre("_op", "_event_time", "region", "id", "ts"));
  EXPECT_EQ(schema->fields[1].type.primitive, "timestamptz");
  ASSERT_EQ(m.DefaultSpec()->fields.size(), 2u);
  EXPECT_EQ(m.DefaultSpec()->fields[1].transform, "hour");
  EXPECT_FALSE(m.current_snapshot_id.has_value());  // nothing committed yet
  // The data files' codec (the pipeline's) as a table property.
  EXPECT_THAT(m.properties, ::testing::Contains(std::pair<std::string, std::string>(
                                "write.parquet.compression-codec", "snappy")));
}

TEST(IcebergTableTest, ACommitAddsOneSnapshotWithEveryFileAndNamesItsObjects) {
  Fixture fx;
  auto table = fx.Writer("w1");
  TableObject a = fx.Store(*table, 11, Line("EU", kT0) + Line("US", kT0));
  TableObject b = fx.Store(*table, 12, Line("EU", kT0 + 3600000));
  ASSERT_TRUE(table->Commit({&a, &b}).ok());
  EXPECT_EQ(table->Stats().snapshots, 1);  // the table as the commit left it, not as read before
  auto loaded = table->Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const iceberg::TableMetadata& m = (*loaded)->metadata;
  ASSERT_EQ(m.snapshots.size(), 1u);
  const iceberg::Snapshot& s = m.snapshots[0];
  EXPECT_EQ(s.sequence_number, 1);
  EXPECT_EQ(s.SummaryValue("operation"), "append");
  EXPECT_EQ(s.SummaryValue("added-data-files"), "3");
  EXPECT_EQ(s.SummaryValue("added-records"), "3");
  EXPECT_EQ(s.SummaryValue("lakehose.writer-id"), "w1");
  EXPECT_EQ(s.SummaryValue("lakehose.objects"), "11..12");
  EXPECT_LT(s.snapshot_id, int64_t{1} << 53);
  EXPECT_EQ(fx.sink().objects().at("ns/tbl/metadata/version-hint.text"), "2");
  // The manifest list and its manifest hold the three files, once each.
  const std::string root = "mem://";
  auto list =
      iceberg::DecodeManifestList(fx.sink().objects().at(s.manifest_list.substr(root.size())));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].added_files_count, 3);
  EXPECT_EQ((*list)[0].added_snapshot_id, s.snapshot_id);
  auto entries = iceberg::DecodeManifest(
      fx.sink().objects().at((*list)[0].manifest_path.substr(root.size())), nullptr);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  std::set<std::string> paths;
  for (const iceberg::ManifestEntry& e : *entries) {
    paths.insert(e.data_file.file_path);
    const std::string key = e.data_file.file_path.substr(root.size());
    ASSERT_TRUE(fx.sink().objects().count(key)) << key;
    EXPECT_EQ(e.data_file.file_size_in_bytes,
              static_cast<int64_t>(fx.sink().objects().at(key).size()));
    EXPECT_EQ(e.data_file.partition.size(), 2u);
  }
  EXPECT_EQ(paths.size(), 3u);
  // Committing them again (a replay after a crash) adds nothing.
  ASSERT_TRUE(table->Commit({&a, &b}).ok());
  auto again = table->Load();
  EXPECT_EQ((*again)->metadata.snapshots.size(), 1u);
  EXPECT_EQ(table->Stats().objects_already_committed, 2);
  // A try that finds its objects committed (its own earlier try's answer was lost, so
  // that try wrote no hint) brings the hint up to the version that holds them.
  ASSERT_TRUE(fx.sink().Put("ns/tbl/metadata/version-hint.text", "1", {}).ok());
  ASSERT_TRUE(table->Commit({&a, &b}).ok());
  EXPECT_EQ(fx.sink().objects().at("ns/tbl/metadata/version-hint.text"), "2");
  // A fresh writer of the same id (after a restart) knows it from the table alone.
  auto restarted = fx.Writer("w1");
  TableObject a2 = fx.Store(*restarted, 11, Line("EU", kT0) + Line("US", kT0));
  ASSERT_TRUE(restarted->Commit({&a2}).ok());
  EXPECT_EQ((*restarted->Load())->metadata.snapshots.size(), 1u);
}

// A catalog whose commit answers are lost: the change lands, the answer says UNAVAILABLE
// (a reset after the catalog applied it, a 500 CommitStateUnknownException).
class LostAnswers : public IcebergCatalog {
 public:
  explicit LostAnswers(IcebergCatalog& inner) : inner_(inner) {}
  absl::StatusOr<std::optional<LoadedTable>> Load() override { return inner_.Load(); }
  absl::Status Create(const iceberg::TableMetadata& m) override { return inner_.Create(m); }
  absl::Status Commit(const LoadedTable& base, const catalog::TableChange& change) override {
    absl::Status st = inner_.Commit(base, change);
    if (st.ok() && change.snapshot && lose_next_ > 0) {
      --lose_next_;
      return absl::UnavailableError("commit state unknown: connection reset");
    }
    return st;
  }
  std::string Name() const override { return inner_.Name(); }
  std::string NewTableLocation() const override { return inner_.NewTableLocation(); }
  int lose_next_ = 1;

 private:
  IcebergCatalog& inner_;
};

TEST(IcebergTableTest, ALandedCommitWhoseAnswerWasLostIsCountedOnceAndNotRepeated) {
  Fixture fx;
  FileSystemCatalog files(fx.sink(), "ns/tbl", fx.clock());
  LostAnswers catalog(files);
  auto table = fx.Writer("w1", &catalog);
  TableObject a = fx.Store(*table, 21, Line("EU", kT0) + Line("US", kT0));
  ASSERT_TRUE(table->Commit({&a}).ok());
  EXPECT_EQ(catalog.lose_next_, 0);  // the answer was lost once
  auto loaded = table->Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->metadata.snapshots.size(), 1u);  // reloaded and found: not repeated
  const IcebergTableStats st = table->Stats();
  EXPECT_EQ(st.commits, 1);  // this call's commit, though found rather than answered
  EXPECT_EQ(st.records_committed, 2);
  EXPECT_EQ(st.files_committed, 2);
  EXPECT_EQ(st.objects_already_committed, 0);  // not a replay of an earlier call's
  EXPECT_EQ(st.commit_failures, 0);
}

TEST(IcebergTableTest, ARestartedWriterFindsItsObjectsInsideARangeOfASummary) {
  Fixture fx;
  auto table = fx.Writer("w1");
  std::vector<TableObject> objects;
  for (uint64_t seq = 10; seq <= 14; ++seq)
    objects.push_back(fx.Store(*table, seq, Line("EU", kT0 + static_cast<int64_t>(seq))));
  std::vector<const TableObject*> all;
  for (const TableObject& o : objects) all.push_back(&o);
  ASSERT_TRUE(table->Commit(all).ok());
  EXPECT_EQ((*table->Load())->metadata.snapshots[0].SummaryValue("lakehose.objects"), "10..14");
  // After a restart: 13 (inside the range) is in the table, 15 is new; another writer's
  // summary holding 15 does not count.
  auto other = fx.Writer("w2");
  TableObject o15 = fx.Store(*other, 15, Line("US", kT0 + 15), nullptr, "w2");
  ASSERT_TRUE(other->Commit({&o15}).ok());
  auto restarted = fx.Writer("w1");
  TableObject a13 = fx.Store(*restarted, 13, Line("EU", kT0 + 13));
  TableObject a15 = fx.Store(*restarted, 15, Line("US", kT0 + 15));
  ASSERT_TRUE(restarted->Commit({&a13, &a15}).ok());
  EXPECT_EQ(restarted->Stats().objects_already_committed, 1);
  auto loaded = restarted->Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const iceberg::TableMetadata& m = (*loaded)->metadata;
  ASSERT_EQ(m.snapshots.size(), 3u);
  EXPECT_EQ(m.snapshots[2].SummaryValue("lakehose.objects"), "15");
  EXPECT_EQ(m.snapshots[2].SummaryValue("added-records"), "1");
}

TEST(IcebergTableTest, AnotherWritersCommitIsRebasedOnNotReplaced) {
  Fixture fx;
  auto w1 = fx.Writer("w1");
  auto w2 = fx.Writer("w2");
  TableObject a = fx.Store(*w1, 21, Line("EU", kT0));
  TableObject b = fx.Store(*w2, 21, Line("US", kT0));  // same sequence, other writer
  ASSERT_TRUE(w1->Commit({&a}).ok());
  ASSERT_TRUE(w2->Commit({&b}).ok());  // its cached v1 is stale: it finds v2 and goes to v3
  auto loaded = w1->Load();
  const iceberg::TableMetadata& m = (*loaded)->metadata;
  ASSERT_EQ(m.snapshots.size(), 2u);
  EXPECT_EQ(m.snapshots[1].parent_snapshot_id, m.snapshots[0].snapshot_id);
  EXPECT_EQ(m.snapshots[1].sequence_number, 2);
  EXPECT_EQ((*loaded)->version, 3);
  const std::string root = "mem://";
  auto list = iceberg::DecodeManifestList(
      fx.sink().objects().at(m.snapshots[1].manifest_list.substr(root.size())));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);  // its own manifest and the parent's
}

TEST(IcebergTableTest, ANewAttributeAddsAColumnWithAFreshId) {
  Fixture fx;
  auto table = fx.Writer("w1");
  TableObject a = fx.Store(*table, 31, Line("EU", kT0));
  ASSERT_TRUE(table->Commit({&a}).ok());
  const int before = (*table->Load())->metadata.last_column_id;
  TableObject b = fx.Store(*table, 32, Line("EU", kT0, ",\"colour\":\"red\""));
  auto loaded = table->Load();
  const iceberg::TableMetadata& m = (*loaded)->metadata;
  EXPECT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  const iceberg::Field* colour = nullptr;
  for (const iceberg::Field& f : m.CurrentSchema()->fields)
    if (f.name == "colour") colour = &f;
  ASSERT_NE(colour, nullptr);
  EXPECT_EQ(colour->id, before + 1);
  EXPECT_FALSE(colour->required);
  EXPECT_EQ(table->Stats().schema_updates, 1);
}

TEST(IcebergTableTest, AValueThatDoesNotFitItsColumnIsLeftOutWithSchemaMismatch) {
  Fixture fx;
  auto table = fx.Writer("w1");
  TableObject a = fx.Store(*table, 41, Line("EU", kT0, ",\"n\":5"));
  RejectedRecords rejected;
  TableObject b = fx.Store(
      *table, 42, Line("EU", kT0, ",\"n\":6") + Line("EU", kT0, ",\"n\":\"six\""), &rejected);
  EXPECT_EQ(rejected.records, 1);
  EXPECT_THAT(rejected.reason, HasSubstr("SCHEMA_MISMATCH"));
  EXPECT_THAT(rejected.lines, HasSubstr("six"));
  ASSERT_EQ(b.files.size(), 1u);
  EXPECT_EQ(b.files[0].records, 1);
}

// What lets such records in: another engine renames the column (a new metadata version);
// the writer, which read the table before, reads it again when a record does not fit, and
// the attribute becomes a new column.
TEST(IcebergTableTest, AfterTheColumnIsRenamedElsewhereTheMismatchedRecordGoesIn) {
  Fixture fx;
  auto table = fx.Writer("w1");
  TableObject a = fx.Store(*table, 45, Line("EU", kT0, ",\"n\":5"));
  ASSERT_TRUE(table->Commit({&a}).ok());
  // ALTER TABLE ... RENAME COLUMN n TO n_v1, as an engine writes it.
  auto loaded = table->Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  iceberg::TableMetadata m = (*loaded)->metadata;
  iceberg::Schema renamed = *m.CurrentSchema();
  int n_id = 0;
  for (iceberg::Field& f : renamed.fields)
    if (f.name == "n") {
      f.name = "n_v1";
      n_id = f.id;
    }
  ASSERT_NE(n_id, 0);
  renamed.schema_id = m.current_schema_id + 1;
  m.schemas.push_back(renamed);
  m.current_schema_id = renamed.schema_id;
  const std::string next = iceberg::MetadataFileName((*loaded)->version + 1);
  ASSERT_TRUE(
      fx.sink().Put(StrCat("ns/tbl/metadata/", next), iceberg::TableMetadataToJson(m), {}).ok());
  // The redrive's Encode (no rejected list: a record that does not fit fails it).
  absl::StatusOr<TableObject> b =
      table->Encode("ns/tbl/data/t-w1-46.parquet", Line("EU", kT0, ",\"n\":\"six\""), nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(table->Commit({&*b}).ok());
  auto after = table->Load();
  const iceberg::Schema& now = *(*after)->metadata.CurrentSchema();
  const iceberg::Field* n = nullptr;
  const iceberg::Field* v1 = nullptr;
  for (const iceberg::Field& f : now.fields) {
    if (f.name == "n") n = &f;
    if (f.name == "n_v1") v1 = &f;
  }
  ASSERT_NE(n, nullptr);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->id, n_id);
  EXPECT_NE(n->id, n_id);
  EXPECT_EQ(n->type.primitive, "string");
  // Without the rename it still fails, naming the column.
  absl::StatusOr<TableObject> c =
      table->Encode("ns/tbl/data/t-w1-47.parquet", Line("EU", kT0, ",\"n_v1\":\"x\""), nullptr);
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("SCHEMA_MISMATCH"));
}

// A column whose values do not fit does not keep new columns from being added: each new
// column gets its own id, committed before the file uses it.
TEST(IcebergTableTest, NewColumnsBesideAMismatchGetCommittedDistinctIds) {
  Fixture fx;
  auto table = fx.Writer("w1");
  TableObject a = fx.Store(*table, 51, Line("EU", kT0, ",\"n\":5"));
  const int before = (*table->Load())->metadata.last_column_id;
  RejectedRecords rejected;
  TableObject b =
      fx.Store(*table, 52, Line("EU", kT0, ",\"n\":\"six\",\"x\":1,\"z\":2"), &rejected);
  EXPECT_EQ(rejected.records, 1);  // n does not fit; x and z are added all the same
  const iceberg::TableMetadata m = (*table->Load())->metadata;
  std::map<std::string, int> ids;
  for (const iceberg::Field& f : m.CurrentSchema()->fields) ids[f.name] = f.id;
  ASSERT_TRUE(ids.count("x") && ids.count("z"));
  EXPECT_NE(ids["x"], ids["z"]);
  EXPECT_GT(ids["x"], before);
  EXPECT_GT(ids["z"], before);
  EXPECT_EQ(m.last_column_id, std::max(ids["x"], ids["z"]));
}

// The same records encode to the same files after the table gained columns (a re-store
// after a crash must answer "exists" for the bytes whose size is committed).
TEST(IcebergTableTest, EncodingAgainAfterTheTableGrewGivesTheSameFiles) {
  Fixture fx;
  auto table = fx.Writer("w1");
  const std::string body = Line("EU", kT0) + Line("US", kT0);
  absl::StatusOr<TableObject> first = table->Encode("ns/tbl/data/t-w1-61.parquet", body, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  fx.Store(*table, 62, Line("EU", kT0, ",\"colour\":\"red\""));  // a new column
  auto restarted = fx.Writer("w1");
  absl::StatusOr<TableObject> again =
      restarted->Encode("ns/tbl/data/t-w1-61.parquet", body, nullptr);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(first->files.size(), again->files.size());
  for (size_t i = 0; i < first->files.size(); ++i) {
    EXPECT_EQ(first->files[i].key, again->files[i].key);
    EXPECT_EQ(first->files[i].bytes, again->files[i].bytes) << first->files[i].key;
  }
  // Without one of its records (a dead letter's kept lines), each remaining partition's
  // file keeps its name.
  absl::StatusOr<TableObject> kept =
      restarted->Encode("ns/tbl/data/t-w1-61.parquet", Line("US", kT0), nullptr);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->files.size(), 1u);
  EXPECT_EQ(kept->files[0].key, first->files[1].key);
}

TEST(IcebergTableTest, ObjectIdentities) {
  EXPECT_EQ(IcebergTable::ObjectIdentity("ns/t/data/p-w1-0001700000000000.parquet"),
            "1700000000000");
  EXPECT_EQ(IcebergTable::ObjectIdentity("ns/t/data/p-w1-0000000000000042-rejected.parquet"),
            "42r");
  EXPECT_EQ(IcebergTable::ObjectIdentity("errors/x.jsonl.gz"), std::nullopt);
}

}  // namespace
}  // namespace lakehose
