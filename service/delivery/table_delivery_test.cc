// The delivery engine with a table pipeline (Options::tables): objects become the
// writer's files, are stored, and are done only once committed.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/delivery/delivery_engine.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/fake_table_writer.h"
#include "testing/temp_dir.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1700000000000;
constexpr auto kWait = std::chrono::seconds(10);

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

constexpr std::string_view kYaml =
    "pipelines:\n"
    "  - name: t\n"
    "    input: json\n"
    "    destination:\n"
    "      kind: file\n"
    "      path: /nonexistent/t\n"
    "      format: iceberg\n"
    "      buffering: { size_mb: 64, interval_s: 1 }\n"
    "      iceberg: { table: ns.tbl, commit_interval_s: 10 }\n";

using FlushResult = absl::StatusOr<std::vector<StoredObject>>;

class TableEngine {
 public:
  explicit TableEngine(FakeClock& clock, FakeObjectSink** sink_out = nullptr,
                       FakeTableWriter* writer = nullptr, std::string_view yaml = kYaml)
      : clock_(clock) {
    auto config = ParseTestConfig(std::string(yaml));
    EXPECT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    writer_ = writer ? writer : &own_writer_;
    DeliveryEngine::Sinks sinks;
    auto sink = std::make_unique<FakeObjectSink>();
    sink_ = sink.get();
    if (sink_out) *sink_out = sink_;
    sinks["t"] = std::move(sink);
    DeliveryEngine::Options options;
    options.writer_id = "w1";
    options.tick = absl::InfiniteDuration();
    options.uniform01 = [] { return 0.5; };
    options.tables["t"] = writer_;
    engine_ = std::make_unique<DeliveryEngine>(config_, std::move(sinks), clock_, options);
  }
  DeliveryEngine* operator->() { return engine_.get(); }
  DeliveryEngine& operator*() { return *engine_; }
  const PipelineSpec& spec() const { return *config_.FindPipeline("t"); }
  FakeTableWriter& writer() { return *writer_; }
  FakeObjectSink& sink() { return *sink_; }

  // Flush, or nullopt if it did not answer in time.
  std::optional<FlushResult> FlushWithin(std::chrono::milliseconds timeout = kWait) {
    auto state = std::make_shared<std::pair<std::mutex, std::optional<FlushResult>>>();
    engine_->FlushAsync("t", [state](FlushResult r) {
      std::lock_guard<std::mutex> lock(state->first);
      state->second = std::move(r);
    });
    std::optional<FlushResult> out;
    WaitUntil(
        [&] {
          std::lock_guard<std::mutex> lock(state->first);
          out = state->second;
          return out.has_value();
        },
        timeout);
    return out;
  }

 private:
  FakeClock& clock_;
  Config config_;
  FakeTableWriter own_writer_;
  FakeTableWriter* writer_ = nullptr;
  FakeObjectSink* sink_ = nullptr;
  std::unique_ptr<DeliveryEngine> engine_;
};

std::vector<BufferedLine> Lines(int n, std::string_view tag) {
  std::vector<BufferedLine> out;
  for (int i = 0; i < n; ++i)
    out.push_back({"ns/tbl/data/", StrCat("{\"tag\":\"", tag, "\",\"i\":", i, "}\n")});
  return out;
}

TEST(TableDeliveryTest, StoredFilesAreCommittedAfterTheCommitIntervalNotBefore) {
  FakeClock clock(kT0);
  TableEngine e(clock);
  ASSERT_TRUE(e->Accept(e.spec(), Lines(3, "a")).ok());
  clock.AdvanceMillis(1000);  // the buffer's interval: sealed
  e->Tick();
  ASSERT_TRUE(WaitUntil([&] { return e.sink().objects().size() == 1; }));
  const std::map<std::string, std::string> objects = e.sink().objects();
  const auto& [key, body] = *objects.begin();
  EXPECT_THAT(key, ::testing::MatchesRegex("ns/tbl/data/t-w1-[0-9]{16}-0\\.parquet"));
  EXPECT_EQ(body, "{\"tag\":\"a\",\"i\":0}\n{\"tag\":\"a\",\"i\":1}\n{\"tag\":\"a\",\"i\":2}\n");
  // Stored, not committed: it is not done yet (not counted as stored).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(e.writer().commit_calls(), 0);
  EXPECT_EQ(e->Stats().objects_stored, 0);
  clock.AdvanceMillis(10000);  // commit_interval_s
  ASSERT_TRUE(WaitUntil([&] { return e.writer().commits().size() == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().objects_stored == 1; }));
  EXPECT_EQ(e->Stats().in_flight_bytes, 0);
  e->Shutdown(absl::Seconds(5));
}

TEST(TableDeliveryTest, ObjectsWaitingForTheirCommitCountInTheBudgetAndCommitsAreCapped) {
  // max_commit_records 4: objects of 3 records go one per commit.
  std::string yaml(kYaml);
  yaml.replace(yaml.find("commit_interval_s: 10"), 21,
               "commit_interval_s: 10, max_commit_records: 4");
  FakeClock clock(kT0);
  FakeTableWriter writer;
  writer.SetHeldBytes(100000);
  TableEngine e(clock, nullptr, &writer, yaml);
  for (const char* tag : {"a", "b", "c"}) {
    ASSERT_TRUE(e->Accept(e.spec(), Lines(3, tag)).ok());
    clock.AdvanceMillis(1000);  // sealed
    e->Tick();
  }
  ASSERT_TRUE(WaitUntil([&] { return e.sink().objects().size() == 3; }));
  // Stored, their bodies released; what their commit data holds still counts.
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().in_flight_bytes == 300000; }));
  clock.AdvanceMillis(10000);
  ASSERT_TRUE(WaitUntil([&] { return writer.commits().size() == 3; }));
  for (const auto& c : writer.commits()) EXPECT_EQ(c.size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().in_flight_bytes == 0; }));
  e->Shutdown(absl::Seconds(5));
}

TEST(TableDeliveryTest, FlushCommitsAtOnceAndAnswersWithTheFiles) {
  FakeClock clock(kT0);
  TableEngine e(clock);
  ASSERT_TRUE(e->Accept(e.spec(), Lines(2, "a")).ok());
  std::optional<FlushResult> r = e.FlushWithin();
  ASSERT_TRUE(r.has_value()) << "Flush did not answer";
  ASSERT_TRUE(r->ok()) << r->status();
  ASSERT_EQ((*r)->size(), 1u);
  EXPECT_EQ((**r)[0].records, 2);
  EXPECT_THAT((**r)[0].key, ::testing::EndsWith("-0.parquet"));
  ASSERT_EQ(e.writer().commits().size(), 1u);
  EXPECT_EQ(e.writer().commits()[0].size(), 1u);
  // Error documents (the error prefix) are objects of their own, never table files.
  ASSERT_TRUE(
      e->Accept(e.spec(), {{"errors/x/", "{\"attemptsMade\":1,\"arrivalTimestamp\":1}\n"}}).ok());
  r = e.FlushWithin();
  ASSERT_TRUE(r.has_value() && r->ok());
  EXPECT_EQ(e.writer().encodes(), 1);
  EXPECT_EQ(e.writer().commits().size(), 1u);
  e->Shutdown(absl::Seconds(5));
}

// A Flush of many buffers (partitions) is one snapshot: the objects the upload threads
// store one by one are committed together once none is still being stored.
TEST(TableDeliveryTest, AFlushOfManyObjectsIsOneCommit) {
  FakeClock clock(kT0);
  TableEngine e(clock);
  std::vector<BufferedLine> lines;
  for (int p = 0; p < 12; ++p)
    for (int i = 0; i < 3; ++i)
      lines.push_back(
          {StrCat("ns/tbl/data/k=", p, "/"), StrCat("{\"p\":", p, ",\"i\":", i, "}\n")});
  ASSERT_TRUE(e->Accept(e.spec(), lines).ok());
  std::optional<FlushResult> r = e.FlushWithin();
  ASSERT_TRUE(r.has_value()) << "Flush did not answer";
  ASSERT_TRUE(r->ok()) << r->status();
  EXPECT_EQ((*r)->size(), 12u);
  ASSERT_EQ(e.writer().commits().size(), 1u);
  EXPECT_EQ(e.writer().commits()[0].size(), 12u);
  e->Shutdown(absl::Seconds(5));
}

TEST(TableDeliveryTest, AFailedCommitFailsTheFlushAndIsTriedAgainOnce) {
  FakeClock clock(kT0);
  TableEngine e(clock);
  e.writer().FailCommits(1);
  ASSERT_TRUE(e->Accept(e.spec(), Lines(2, "a")).ok());
  std::optional<FlushResult> r = e.FlushWithin();
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_THAT(std::string(r->status().message()), HasSubstr("injected commit failure"));
  EXPECT_EQ(e->Stats().objects_stored, 0);
  // A second Flush tries again at once (no backoff wait for a caller).
  r = e.FlushWithin();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok()) << r->status();
  EXPECT_EQ(e.writer().commits().size(), 1u);
  EXPECT_EQ(e->Stats().objects_stored, 1);
  e->Shutdown(absl::Seconds(5));
}

TEST(TableDeliveryTest, AfterACrashBeforeTheCommitTheReplayedObjectIsCommittedOnce) {
  TempDir dir("table_delivery_test");
  FakeClock clock(kT0);
  FakeTableWriter writer;  // the table: outlives both engines
  std::string stored_key;
  {
    FakeObjectSink* sink = nullptr;
    TableEngine first(clock, &sink, &writer);
    ASSERT_TRUE(first->Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
    writer.FailCommits(1000);  // never committed before the "crash"
    ASSERT_TRUE(first->Accept(first.spec(), Lines(4, "a")).ok());
    std::optional<FlushResult> r = first.FlushWithin();
    ASSERT_TRUE(r.has_value() && !r->ok());
    stored_key = sink->objects().begin()->first;
    first->Shutdown(absl::ZeroDuration());
  }
  writer.FailCommits(0);
  FakeObjectSink* sink = nullptr;
  TableEngine second(clock, &sink, &writer);
  ASSERT_TRUE(second->Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
  std::optional<FlushResult> r = second.FlushWithin();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok()) << r->status();
  ASSERT_EQ(writer.commits().size(), 1u);
  EXPECT_EQ(sink->objects().begin()->first, stored_key);  // the same file again
  // Committed and logged: a third start has nothing to commit.
  second->Shutdown(absl::Seconds(5));
  TableEngine third(clock, nullptr, &writer);
  ASSERT_TRUE(third->Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
  r = third.FlushWithin();
  ASSERT_TRUE(r.has_value() && r->ok());
  EXPECT_EQ(writer.commits().size(), 1u);
  EXPECT_EQ(writer.encodes(), 2);
  third->Shutdown(absl::Seconds(5));
}

// The DLQ retry worker and Redrive store a table's dead letter through StoreObject: its
// files, then a commit of its own, which the writer dedupes like any other.
TEST(TableDeliveryTest, StoreObjectOfADeadLetterStoresAndCommitsIt) {
  FakeClock clock(kT0);
  TableEngine e(clock);
  const std::string key = "ns/tbl/data/t-w1-0001700000000042.parquet";
  int64_t bytes = 0;
  ASSERT_TRUE(e->StoreObject("t", key, "{\"a\":1}\n{\"a\":2}\n", &bytes).ok());
  EXPECT_EQ(bytes, 16);
  EXPECT_TRUE(e.sink().objects().count("ns/tbl/data/t-w1-0001700000000042-0.parquet"));
  ASSERT_EQ(e.writer().commits().size(), 1u);
  // Again (the entry was not removed before a crash): stored ("exists"), not committed twice.
  ASSERT_TRUE(e->StoreObject("t", key, "{\"a\":1}\n{\"a\":2}\n").ok());
  EXPECT_EQ(e.writer().commits().size(), 1u);
  EXPECT_EQ(e.writer().already_committed(), 1);
  // A failed commit fails the store: the entry stays in the DLQ.
  e.writer().FailCommits(1);
  EXPECT_FALSE(e->StoreObject("t", "ns/tbl/data/t-w1-0001700000000043.parquet", "{}\n").ok());
  e->Shutdown(absl::Seconds(5));
}

TEST(TableDeliveryTest, ShutdownCommitsWhatWasStored) {
  FakeClock clock(kT0);
  TableEngine e(clock);
  ASSERT_TRUE(e->Accept(e.spec(), Lines(5, "a")).ok());
  e->Shutdown(absl::Seconds(10));
  ASSERT_EQ(e.writer().commits().size(), 1u);
  EXPECT_EQ(e->Stats().objects_stored, 1);
}

}  // namespace
}  // namespace lakehose
