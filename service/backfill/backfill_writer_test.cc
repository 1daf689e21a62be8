#include "service/backfill/backfill_writer.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/backfill/backfill_run.h"
#include "service/iceberg/iceberg_table.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/temp_dir.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

std::string Record(int i, std::string_view region) {
  return StrCat(R"({"eventID":"e)", i, R"(","eventName":"INSERT","eventSource":"aws:dynamodb",)",
                R"("dynamodb":{"ApproximateCreationDateTime":1700000000,"NewImage":{"id":{"S":"o-)",
                i, R"("},"region":{"S":")", region, R"("},"amount":{"N":")", i, R"("}}}})");
}

std::vector<std::string> Records(int from, int n) {
  std::vector<std::string> out;
  for (int i = from; i < from + n; ++i) out.push_back(Record(i, i % 3 ? "EU" : "US"));
  return out;
}

std::vector<backfill::UnitRecord> In(const std::vector<std::string>& recs) {
  std::vector<backfill::UnitRecord> in;
  for (const std::string& r : recs) in.push_back({r, 1700000000000});
  return in;
}

Config Parse(std::string_view format) {
  absl::StatusOr<Config> c = ParseTestConfig(StrCat(
      R"yaml(
pipelines:
  - name: orders
    partition_keys:
      region: { attribute: region }
    )yaml",
      format == "iceberg" ? ""
                          : "prefix: \"orders/region=!{partitionKeyFromLambda:region}/\"\n    ",
      "destination: { kind: file, path: /tmp/lake, format: ", format,
      format == "iceberg" ? ", iceberg: { table: ns.orders }" : "", " }\n"));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : Config{};
}

TEST(BackfillWriter, AUnitWrittenAgainStoresNothingTwice) {
  const Config config = Parse("parquet");
  const PipelineSpec& spec = *config.FindPipeline("orders");
  FakeObjectSink sink;
  {
    BackfillWriter w(spec, sink, nullptr, {.writer_id = "backfill-e1", .random_string = "r"});
    ASSERT_TRUE(w.WriteUnit(4, In(Records(0, 30)), "data file 4").ok());
    EXPECT_EQ(w.Stats().objects_stored, 2);
    EXPECT_EQ(w.Stats().records_ok, 30);
  }
  const auto first = sink.objects();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(first.count("orders/region=US/orders-backfill-e1-0000000005000000.parquet"));
  // A re-run (after a kill) writes the same unit: every object exists already.
  BackfillWriter again(spec, sink, nullptr, {.writer_id = "backfill-e1", .random_string = "r"});
  ASSERT_TRUE(again.WriteUnit(4, In(Records(0, 30)), "data file 4").ok());
  EXPECT_EQ(again.Stats().objects_stored, 0);
  EXPECT_EQ(again.Stats().objects_existing, 2);
  EXPECT_EQ(sink.objects(), first);
}

TEST(BackfillWriter, AFailedStoreNamesTheUnitAndTheObject) {
  const Config config = Parse("jsonl");
  FakeObjectSink sink;
  sink.SetFailure(absl::UnavailableError("slow down"));
  BackfillWriter w(*config.FindPipeline("orders"), sink, nullptr,
                   {.writer_id = "b", .random_string = ""});
  absl::Status st = w.WriteUnit(0, In(Records(0, 3)), "data file 0 (data/a.json.gz)");
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("data file 0 (data/a.json.gz): object mem://orders/region="));
  EXPECT_THAT(st.message(), HasSubstr("slow down"));
}

TEST(BackfillWriter, ATableCommitsUnitsOnceAcrossARerun) {
  const Config config = Parse("iceberg");
  const PipelineSpec& spec = *config.FindPipeline("orders");
  FakeObjectSink sink;
  FakeClock clock(1700000000000);
  auto table = [&] {
    IcebergTable::Options o;
    o.writer_id = "backfill-e1";
    o.clock = &clock;
    o.sleep = [](absl::Duration) {};
    return std::make_unique<IcebergTable>(spec, sink, std::move(o));
  };
  {
    auto t = table();
    BackfillWriter w(spec, sink, t.get(), {.writer_id = "backfill-e1", .random_string = ""});
    ASSERT_TRUE(w.WriteUnit(0, In(Records(0, 10)), "data file 0").ok());
    ASSERT_TRUE(w.WriteUnit(1, In(Records(10, 10)), "data file 1").ok());
    ASSERT_TRUE(w.Commit().ok());
    EXPECT_EQ(w.Stats().commits, 1);
    // Killed here, before the progress file said so.
  }
  auto t = table();
  BackfillWriter w(spec, sink, t.get(), {.writer_id = "backfill-e1", .random_string = ""});
  ASSERT_TRUE(w.WriteUnit(1, In(Records(10, 10)), "data file 1").ok());
  ASSERT_TRUE(w.WriteUnit(2, In(Records(20, 10)), "data file 2").ok());
  ASSERT_TRUE(w.Commit().ok());
  EXPECT_GT(w.Stats().objects_existing, 0);
  auto loaded = t->Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const iceberg::Snapshot* s = (*loaded)->metadata.CurrentSnapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ((*loaded)->metadata.snapshots.size(), 2u);
  EXPECT_EQ(s->SummaryValue("total-records"), "30");
  EXPECT_EQ(t->Stats().objects_already_committed, 2);
}

TEST(ProgressFile, CreatesResumesAndRefusesAnotherBackfillsFile) {
  TempDir dir("progress_file_test");
  const std::string path = dir.path() + "/sub/p.progress";
  const backfill::ProgressHeader h{
      .source = "s", .pipeline = "p", .writer_id = "w", .started_ms = 5};
  backfill::Progress earlier;
  {
    auto f = ProgressFile::Open(path, h, &earlier);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE(earlier.units.empty());
    ASSERT_TRUE((*f)->Append(backfill::ProgressUnitLine(2, 9)).ok());
    ASSERT_TRUE((*f)->Append("{\"unit\":3,\"rec").ok());  // torn by a kill
  }
  backfill::ProgressHeader later = h;
  later.started_ms = 99;
  {
    auto f = ProgressFile::Open(path, later, &earlier);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(earlier.header.started_ms, 5);  // the first run's
    EXPECT_EQ(earlier.units.size(), 1u);
    EXPECT_EQ(earlier.skipped_lines, 0);  // the torn last line is not trusted, not counted
    ASSERT_TRUE((*f)->Append(backfill::ProgressUnitLine(3, 9)).ok());
  }
  auto f = ProgressFile::Open(path, h, &earlier);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(earlier.units.size(), 2u);
  EXPECT_EQ(earlier.skipped_lines, 1);  // the torn line, completed by the next newline
  backfill::ProgressHeader other = h;
  other.source = "t";
  EXPECT_THAT(ProgressFile::Open(path, other, &earlier).status().message(),
              HasSubstr("is the progress of another backfill"));
}

TEST(RunBackfillUnits, SkipsWhatIsDoneAndStopsAtTheFirstError) {
  TempDir dir("backfill_run_test");
  const Config config = Parse("jsonl");
  FakeObjectSink sink;
  BackfillWriter w(*config.FindPipeline("orders"), sink, nullptr,
                   {.writer_id = "b", .random_string = ""});
  backfill::Progress earlier;
  auto f = ProgressFile::Open(dir.path() + "/p",
                              {.source = "s", .pipeline = "orders", .writer_id = "b"}, &earlier);
  ASSERT_TRUE(f.ok());
  earlier.units[1] = 5;  // done by an earlier run
  std::vector<BackfillUnitSource> units;
  for (uint64_t u = 0; u < 4; ++u)
    units.push_back({.unit = u,
                     .what = StrCat("data file ", u),
                     .read =
                         [u](std::vector<std::string>* r, int64_t* bytes) {
                           if (u == 3) return absl::DataLossError("data file 3: MD5 mismatch");
                           *r = Records(static_cast<int>(u) * 5, 5);
                           *bytes += 100;
                           return absl::OkStatus();
                         },
                     .items = 5});
  BackfillRunOptions options;
  options.threads = 2;
  options.commit_every_units = 1;
  absl::StatusOr<BackfillTick> t = RunBackfillUnits(units, earlier, w, **f, options);
  EXPECT_TRUE(absl::IsDataLoss(t.status())) << t.status();
  // Units 0 and 2 are whole and recorded; 1 was skipped; 3 wrote nothing.
  std::ifstream in(dir.path() + "/p");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("{\"unit\":0,\"records\":5}"));
  EXPECT_THAT(text.str(), HasSubstr("{\"unit\":2,\"records\":5}"));
  EXPECT_THAT(text.str(), ::testing::Not(HasSubstr("{\"unit\":1,")));
  EXPECT_EQ(w.Stats().units, 2);
  EXPECT_EQ(w.Stats().records_ok, 10);
}

}  // namespace
}  // namespace lakehose
