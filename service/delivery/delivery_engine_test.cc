// DeliveryEngine (service/delivery/delivery_engine.h) with in-memory sinks and a fake clock:
// sealing on size, age, Flush, Shutdown, the partition cap and the byte budget; refusal
// when the budget is spent; retries after a sink failure; the hand-off to the dead-letter
// queue; concurrency.
//
// Time moves only when a test says so: the clock is a FakeClock and the ticker thread
// never runs on its own (an infinite tick), so a test advances the clock and calls Tick().
// No test sleeps for a fixed time to let something happen: what the engine's threads do
// is waited for as a condition with a deadline (Stats() polled, or a FlushAsync
// callback), never without one.
#include "service/delivery/delivery_engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base/compress.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/delivery/delivery_format.h"
#include "core/delivery/destination_breaker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/delivery/object_sink.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/temp_dir.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

constexpr int64_t kT0 = 1700000000000;
constexpr auto kWait = std::chrono::seconds(10);

// Two pipelines, `a` (gzip) and `b` (zstd); `server`, the buffering of `a` and more keys of
// its destination (`more_a`, e.g. ", retry: {...}") vary per test.
std::string Yaml(std::string_view server,
                 std::string_view buffering_a = "{ size_mb: 64, interval_s: 60 }",
                 std::string_view more_a = "") {
  return StrCat(
      "server:\n", server, "\n",
      "pipelines:\n"
      "  - name: a\n"
      "    input: json\n"
      "    destination: { kind: file, path: /nonexistent/a, compression: gzip, buffering: ",
      buffering_a, more_a,
      " }\n"
      "  - name: b\n"
      "    input: json\n"
      "    destination: { kind: file, path: /nonexistent/b, compression: zstd, buffering: { "
      "size_mb: 64, "
      "interval_s: 60 } }\n");
}

// A bounded wait for a condition that the engine's threads make true (polled: the engine
// has no hook to wait on).
template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

using FlushResult = absl::StatusOr<std::vector<StoredObject>>;

// A FlushAsync in progress: Done() whether `done` was called; Wait() its result, or
// nullopt if it was not called within `timeout`.
class PendingFlush {
 public:
  PendingFlush(DeliveryEngine& engine, const std::string& pipeline)
      : state_(std::make_shared<State>()) {
    engine.FlushAsync(pipeline, [state = state_](FlushResult r) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->result = std::move(r);
      state->cv.notify_all();
    });
  }
  bool Done() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->result.has_value();
  }
  std::optional<FlushResult> Wait(std::chrono::milliseconds timeout = kWait) const {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait_for(lock, timeout, [&] { return state_->result.has_value(); });
    return state_->result;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<FlushResult> result;
  };
  std::shared_ptr<State> state_;
};

// The result of a FlushAsync, or nullopt if `done` was not called within `timeout`.
std::optional<FlushResult> FlushWithin(DeliveryEngine& engine, const std::string& pipeline,
                                       std::chrono::milliseconds timeout = kWait) {
  return PendingFlush(engine, pipeline).Wait(timeout);
}

class Engine {
 public:
  // `tick`: how often the ticker thread runs on its own (never by default: tests call
  // Tick()).
  explicit Engine(const std::string& yaml, absl::Duration tick = absl::InfiniteDuration(),
                  DeliveryEngine::DeadLetterFunction dead_letter = nullptr,
                  absl::Duration retry_budget = absl::Minutes(5)) {
    auto config = ParseTestConfig(yaml);
    EXPECT_TRUE(config.ok()) << config.status();
    if (!config.ok()) return;
    config_ = *std::move(config);
    DeliveryEngine::Sinks sinks;
    for (const auto& p : config_.pipelines) {
      auto sink = std::make_unique<FakeObjectSink>();
      sinks_[p->name] = sink.get();
      sinks[p->name] = std::move(sink);
    }
    DeliveryEngine::Options options;
    options.writer_id = "w1";
    options.tick = tick;
    options.dead_letter = std::move(dead_letter);
    options.retry_budget = retry_budget;
    // Re-queue delays are exact: half of each ceiling of the destination's policy.
    options.uniform01 = [] { return 0.5; };
    engine_ = std::make_unique<DeliveryEngine>(config_, std::move(sinks), clock_, options);
  }

  DeliveryEngine& operator*() { return *engine_; }
  DeliveryEngine* operator->() { return engine_.get(); }
  bool ok() const { return engine_ != nullptr; }
  const PipelineSpec& spec(const std::string& name) const { return *config_.FindPipeline(name); }
  FakeObjectSink& sink(const std::string& name) { return *sinks_.at(name); }
  FakeClock& clock() { return clock_; }
  const Config& config() const { return config_; }

  // Every stored object of `pipeline`, decompressed, by key.
  std::map<std::string, std::string> Contents(const std::string& pipeline) {
    std::map<std::string, std::string> out;
    for (const auto& [key, body] : sink(pipeline).objects()) {
      auto d = Decompress(spec(pipeline).destination.compression, body);
      EXPECT_TRUE(d.ok()) << key << ": " << d.status();
      out[key] = d.ok() ? *d : "";
    }
    return out;
  }

 private:
  Config config_;
  FakeClock clock_{kT0};
  std::map<std::string, FakeObjectSink*> sinks_;
  std::unique_ptr<DeliveryEngine> engine_;
};

// `n` lines under `prefix`, each unique: {"tag":"<tag>","i":<i>,"pad":"..."}.
std::vector<BufferedLine> Lines(const std::string& prefix, int n, std::string_view tag,
                                size_t pad = 40) {
  std::vector<BufferedLine> out;
  for (int i = 0; i < n; ++i)
    out.push_back({prefix, StrCat("{\"tag\":\"", tag, "\",\"i\":", i, ",\"pad\":\"",
                                  std::string(pad, 'x'), "\"}\n")});
  return out;
}

std::string Join(const std::vector<BufferedLine>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.line;
  return out;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      ADD_FAILURE() << "object does not end with a newline";
      nl = s.size();
    }
    out.push_back(s.substr(start, nl - start + 1));
    start = nl + 1;
  }
  return out;
}

int64_t Stored(Engine& e) { return e->Stats().objects_stored; }

TEST(DeliveryEngineTest, EmptyAcceptIsOkAndBuffersNothing) {
  Engine e(Yaml("  upload_threads: 2"));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Accept(e.spec("a"), {}).ok());
  EXPECT_EQ(e->Stats().buffered_records, 0);
  EXPECT_EQ(e->Stats().active_partitions, 0);
}

TEST(DeliveryEngineTest, SizeSealStoresExactlyTheAcceptedLinesInOrder) {
  // size_mb 0.01 = 10485 bytes.
  Engine e(Yaml("  upload_threads: 2", "{ size_mb: 0.01, interval_s: 60 }"));
  ASSERT_TRUE(e.ok());
  const int64_t limit = static_cast<int64_t>(0.01 * 1024 * 1024);
  const std::vector<BufferedLine> lines = Lines("t/region=EU/", 200, "s");
  // Where the buffer first reaches the limit.
  size_t k = 0;
  int64_t bytes = 0;
  while (bytes < limit) bytes += static_cast<int64_t>(lines[k++].line.size());
  ASSERT_LT(k, lines.size());

  // In several requests, so that the seal happens inside one of them.
  for (size_t i = 0; i < lines.size(); i += 30) {
    std::vector<BufferedLine> part(lines.begin() + i,
                                   lines.begin() + std::min(lines.size(), i + 30));
    ASSERT_TRUE(e->Accept(e.spec("a"), part).ok());
  }
  DeliveryStats s = e->Stats();
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kSize)], 1);
  EXPECT_EQ(s.buffered_records, static_cast<int64_t>(lines.size() - k));
  EXPECT_EQ(s.active_partitions, 1);

  // Shutdown stores the sealed object and the rest; the first (lowest sequence) object
  // is the size-sealed one.
  e->Shutdown(absl::Seconds(10));
  s = e->Stats();
  EXPECT_EQ(s.objects_stored, 2);
  EXPECT_EQ(s.in_flight_bytes, 0);
  const auto contents = e.Contents("a");
  ASSERT_EQ(contents.size(), 2u);
  const auto& [key, data] = *contents.begin();
  EXPECT_THAT(key, MatchesRegex("t/region=EU/a-w1-[0-9]{16}\\.jsonl\\.gz"));
  EXPECT_EQ(data, Join(std::vector<BufferedLine>(lines.begin(), lines.begin() + k)));
  EXPECT_EQ(std::next(contents.begin())->second,
            Join(std::vector<BufferedLine>(lines.begin() + k, lines.end())));
  EXPECT_TRUE(e.sink("b").objects().empty());
}

TEST(DeliveryEngineTest, AgeSealAfterTheIntervalOnTheClock) {
  Engine e(Yaml("  upload_threads: 2"));
  ASSERT_TRUE(e.ok());
  const auto lines = Lines("t/h=1/", 10, "age");
  ASSERT_TRUE(e->Accept(e.spec("a"), lines).ok());
  e.clock().AdvanceMillis(59999);
  // Ticks 1 ms short of interval_s: still too young.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(e->Tick(), 0) << "sealed before interval_s";
  EXPECT_EQ(Stored(e), 0);
  EXPECT_EQ(e->Stats().buffered_records, 10);
  EXPECT_EQ(e->Stats().oldest_buffered_ms, kT0);

  e.clock().AdvanceMillis(1);
  EXPECT_EQ(e->Tick(), 1) << "no age seal after interval_s";
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 1; })) << "the age-sealed object was not stored";
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kAge)], 1);
  EXPECT_EQ(s.buffered_records, 0);
  EXPECT_EQ(s.oldest_buffered_ms, 0);
  const auto contents = e.Contents("a");
  ASSERT_EQ(contents.size(), 1u);
  EXPECT_EQ(contents.begin()->second, Join(lines));
}

TEST(DeliveryEngineTest, AgeIsCountedFromTheFirstRecordOfTheBuffer) {
  Engine e(Yaml("  upload_threads: 2"));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 1, "first")).ok());
  e.clock().AdvanceMillis(30000);
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 1, "second")).ok());
  EXPECT_EQ(e->Tick(), 0);
  e.clock().AdvanceMillis(30000);  // 60 s after the first record, 30 s after the second
  EXPECT_EQ(e->Tick(), 1);
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 1; }));
  EXPECT_EQ(e->Stats().buffered_records, 0);
  const auto contents = e.Contents("a");
  ASSERT_EQ(contents.size(), 1u);
  EXPECT_EQ(SplitLines(contents.begin()->second).size(), 2u);
}

TEST(DeliveryEngineTest, TheTickerThreadTicksOnItsOwn) {
  Engine e(Yaml("  upload_threads: 1"), absl::Milliseconds(1));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 2, "own")).ok());
  e.clock().AdvanceMillis(60000);
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 1; })) << "the ticker did not seal by age";
  EXPECT_EQ(e->Stats().seals_by_reason[static_cast<int>(FlushReason::kAge)], 1);
}

TEST(DeliveryEngineTest, TickAfterShutdownDoesNothing) {
  Engine e(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(e.ok());
  e->Shutdown(absl::Seconds(10));
  e.clock().AdvanceMillis(60000);
  EXPECT_EQ(e->Tick(), 0);
}

TEST(DeliveryEngineTest, FlushReturnsEveryObjectAndSealsEverything) {
  Engine e(Yaml("  upload_threads: 3"));
  ASSERT_TRUE(e.ok());
  const std::map<std::string, int> counts = {
      {"t/region=EU/", 7}, {"t/region=US/", 13}, {"t/region=AP/", 1}};
  for (const auto& [prefix, n] : counts)
    ASSERT_TRUE(e->Accept(e.spec("a"), Lines(prefix, n, prefix)).ok());
  ASSERT_TRUE(e->Accept(e.spec("b"), Lines("other/", 4, "b")).ok());
  EXPECT_EQ(e->Stats().active_partitions, 4);

  auto r = FlushWithin(*e, "");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  ASSERT_TRUE(r->ok()) << r->status();
  ASSERT_EQ((*r)->size(), 4u);
  int64_t total = 0;
  std::set<std::string> keys;
  for (const StoredObject& o : **r) {
    keys.insert(o.key);
    total += o.records;
    EXPECT_EQ(o.uri, "mem://" + o.key);
    const auto objects = e.sink(o.pipeline).objects();
    ASSERT_TRUE(objects.contains(o.key)) << o.key;
    EXPECT_EQ(o.bytes, static_cast<int64_t>(objects.at(o.key).size()));
    if (o.pipeline == "a") {
      const std::string prefix = o.key.substr(0, o.key.find("a-w1-"));
      ASSERT_TRUE(counts.contains(prefix)) << o.key;
      EXPECT_EQ(o.records, counts.at(prefix)) << o.key;
      EXPECT_THAT(o.key, ::testing::EndsWith(".jsonl.gz"));
    } else {
      EXPECT_EQ(o.pipeline, "b");
      EXPECT_EQ(o.records, 4);
      EXPECT_THAT(o.key, MatchesRegex("other/b-w1-[0-9]{16}\\.jsonl\\.zst"));
    }
  }
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(total, 7 + 13 + 1 + 4);
  EXPECT_TRUE(
      std::is_sorted((*r)->begin(), (*r)->end(),
                     [](const StoredObject& x, const StoredObject& y) { return x.key < y.key; }));
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.buffered_records, 0);
  EXPECT_EQ(s.buffered_bytes, 0);
  EXPECT_EQ(s.in_flight_bytes, 0);
  EXPECT_EQ(s.active_partitions, 0);
  EXPECT_EQ(s.objects_stored, 4);
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kRequested)], 4);
  // The zstd pipeline's object reads back.
  const auto b = e.Contents("b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.begin()->second, Join(Lines("other/", 4, "b")));
}

TEST(DeliveryEngineTest, FlushWithNothingBufferedIsOkAndEmpty) {
  Engine e(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(e.ok());
  auto r = FlushWithin(*e, "");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok()) << r->status();
  EXPECT_TRUE((*r)->empty());
}

TEST(DeliveryEngineTest, FlushOfOnePipelineLeavesTheOthersBuffers) {
  Engine e(Yaml("  upload_threads: 2"));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("x/", 5, "a")).ok());
  ASSERT_TRUE(e->Accept(e.spec("b"), Lines("x/", 6, "b")).ok());  // same prefix, other pipeline
  auto r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value() && r->ok());
  ASSERT_EQ((*r)->size(), 1u);
  EXPECT_EQ((*r)->front().pipeline, "a");
  EXPECT_EQ((*r)->front().records, 5);
  EXPECT_EQ(e->Stats().buffered_records, 6);
  EXPECT_EQ(e->Stats().active_partitions, 1);
  EXPECT_TRUE(e.sink("b").objects().empty());
  EXPECT_EQ(e.sink("a").objects().size(), 1u);

  r = FlushWithin(*e, "b");
  ASSERT_TRUE(r.has_value() && r->ok());
  ASSERT_EQ((*r)->size(), 1u);
  EXPECT_EQ((*r)->front().records, 6);
  EXPECT_EQ(e->Stats().buffered_records, 0);
}

TEST(DeliveryEngineTest, PartitionCapSealsTheOldest) {
  Engine e(Yaml("  upload_threads: 2\n  max_active_partitions: 3"));
  ASSERT_TRUE(e.ok());
  for (std::string p : {"p1/", "p2/", "p3/"}) {
    ASSERT_TRUE(e->Accept(e.spec("a"), Lines(p, 2, p)).ok());
    e.clock().AdvanceMillis(1);
  }
  // p1 is the oldest, even after p2 and p3 get more records.
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p2/", 2, "more")).ok());
  EXPECT_EQ(e->Stats().active_partitions, 3);
  EXPECT_EQ(Stored(e), 0);

  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p4/", 2, "p4")).ok());
  DeliveryStats s = e->Stats();
  EXPECT_EQ(s.active_partitions, 3);
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kPartitionCap)], 1);
  EXPECT_EQ(s.buffered_records, 2 + 2 + 2 + 2);  // p1's 2 records left the buffers

  // The cap counts over all pipelines: a new partition of `b` seals the oldest of `a`.
  e.clock().AdvanceMillis(1);
  ASSERT_TRUE(e->Accept(e.spec("b"), Lines("q/", 1, "b")).ok());
  s = e->Stats();
  EXPECT_EQ(s.active_partitions, 3);
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kPartitionCap)], 2);
  EXPECT_EQ(s.buffered_records, 2 + 2 + 1);  // p3, p4, q

  // Everything reaches the sinks; p1 and p2 went as they were when the cap sealed them.
  e->Shutdown(absl::Seconds(10));
  EXPECT_EQ(e->Stats().seals_by_reason[static_cast<int>(FlushReason::kShutdown)], 3);
  std::map<std::string, std::string> by_prefix;
  for (const auto& [key, data] : e.Contents("a"))
    by_prefix[key.substr(0, key.find('/') + 1)] += data;
  ASSERT_EQ(by_prefix.size(), 4u);
  EXPECT_EQ(by_prefix["p1/"], Join(Lines("p1/", 2, "p1/")));
  EXPECT_EQ(by_prefix["p2/"], Join(Lines("p2/", 2, "p2/")) + Join(Lines("p2/", 2, "more")));
  EXPECT_EQ(by_prefix["p4/"], Join(Lines("p4/", 2, "p4")));
  EXPECT_EQ(e.Contents("b").size(), 1u);
  EXPECT_EQ(e.Contents("a").size(), 4u);
}

// Regression: the buffers a request would open were counted before the early seals, so
// when the oldest buffer, sealed for the cap, was also one the request wrote to, the same
// request re-created it and the engine ended with one buffer more than
// server.max_active_partitions.
TEST(DeliveryEngineTest, PartitionCapHoldsWhenTheOldestBufferIsAlsoInTheRequest) {
  Engine e(Yaml("  upload_threads: 2\n  max_active_partitions: 3"));
  ASSERT_TRUE(e.ok());
  for (std::string p : {"p1/", "p2/", "p3/"}) {
    ASSERT_TRUE(e->Accept(e.spec("a"), Lines(p, 1, p)).ok());
    e.clock().AdvanceMillis(1);
  }
  std::vector<BufferedLine> req = Lines("p1/", 1, "again");
  req.push_back(Lines("p4/", 1, "new").front());
  ASSERT_TRUE(e->Accept(e.spec("a"), req).ok());
  EXPECT_LE(e->Stats().active_partitions, 3) << "server.max_active_partitions is 3";
}

// Regression: one request with more distinct prefixes than server.max_active_partitions
// sealed every existing buffer and then opened all of its own, so the cap did not bound
// the number of open buffers.
TEST(DeliveryEngineTest, PartitionCapHoldsForARequestWithManyPrefixes) {
  Engine e(Yaml("  upload_threads: 2\n  max_active_partitions: 3"));
  ASSERT_TRUE(e.ok());
  std::vector<BufferedLine> req;
  for (int i = 0; i < 6; ++i) req.push_back(Lines(StrCat("p", i, "/"), 1, "x").front());
  ASSERT_TRUE(e->Accept(e.spec("a"), req).ok());
  EXPECT_LE(e->Stats().active_partitions, 3) << "server.max_active_partitions is 3";
  // Nothing is lost either way.
  auto r = FlushWithin(*e, "");
  ASSERT_TRUE(r.has_value() && r->ok());
  int64_t records = 0;
  for (const auto& [key, data] : e.Contents("a"))
    records += static_cast<int64_t>(SplitLines(data).size());
  EXPECT_EQ(records, 6);
}

TEST(DeliveryEngineTest, BudgetPressureSealsTheLargestBuffer) {
  // Budget 1 MiB: past 512 KiB buffered the largest buffers are sealed.
  Engine e(Yaml("  upload_threads: 2\n  buffer_budget_mb: 1"));
  ASSERT_TRUE(e.ok());
  const size_t kLine = 100 * 1024;
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("small/", 1, "s", kLine)).ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("big/", 3, "b", kLine)).ok());
  ASSERT_TRUE(e->Accept(e.spec("b"), Lines("mid/", 1, "m", kLine)).ok());
  EXPECT_EQ(e->Stats().objects_stored + e->Stats().in_flight_bytes, 0);
  EXPECT_EQ(e->Stats().seals_by_reason[static_cast<int>(FlushReason::kPressure)], 0);

  // 500 KiB buffered + 100 KiB incoming > 512 KiB: sealing `big` (300 KiB) is enough.
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("new/", 1, "n", kLine)).ok());
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kPressure)], 1);
  EXPECT_EQ(s.buffered_records, 3);  // small, mid, new
  EXPECT_EQ(s.active_partitions, 3);
  EXPECT_EQ(s.buffered_bytes, 3 * static_cast<int64_t>(Lines("x/", 1, "x", kLine)[0].line.size()));

  // The pressure seal is the lowest sequence of pipeline a: `big` whole.
  e->Shutdown(absl::Seconds(10));
  const auto contents = e.Contents("a");
  ASSERT_EQ(contents.size(), 3u);
  std::map<std::string, std::string> by_seq;  // sequence part of the key -> key
  for (const auto& [key, data] : contents) by_seq[key.substr(key.rfind("-w1-"))] = key;
  const std::string first = by_seq.begin()->second;
  EXPECT_THAT(first, StartsWith("big/"));
  EXPECT_EQ(SplitLines(contents.at(first)).size(), 3u);
  EXPECT_EQ(e->Stats().in_flight_bytes, 0);
}

// Issue 13, measured by durability.outage_load: in the first seconds of an outage, before
// the breaker opens, the upload threads retry and sealed objects pile up in memory until
// Ingest is refused for the buffer budget. With a DLQ, objects waiting for a failing
// destination move there instead, and Ingest keeps acking; nothing is lost or doubled.
TEST(DeliveryEngineTest, WithADlqObjectsOfAFailingDestinationMakeRoomInsteadOfARefusal) {
  absl::Mutex mu;
  std::vector<std::string> handed;  // bodies
  Engine e(
      Yaml("  upload_threads: 1\n  buffer_budget_mb: 1"), absl::InfiniteDuration(),
      [&](const DeadLetteredObject& o) {
        absl::MutexLock lock(&mu);
        handed.emplace_back(o.body);
        return absl::OkStatus();
      },
      absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("HTTP 503 SlowDown"));  // not refused: failing
  e.sink("a").SetDestinationFailing(true);
  const size_t kLine = 10 * 1024;
  std::multiset<std::string> accepted;
  for (int batch = 0; batch < 100; ++batch) {
    std::vector<BufferedLine> req;
    for (int i = 0; i < 10; ++i)
      req.push_back(
          {StrCat("p", batch % 3, "/"),
           StrCat("{\"id\":\"", batch, ".", i, "\",\"pad\":\"", std::string(kLine, 'x'), "\"}\n")});
    const absl::Status st = e->Accept(e.spec("a"), req);
    ASSERT_TRUE(st.ok()) << "batch " << batch << ": " << st;
    for (const auto& l : req) accepted.insert(l.line);
    const DeliveryStats s = e->Stats();
    ASSERT_LE(s.buffered_bytes + s.in_flight_bytes, 1 << 20) << "the budget was exceeded";
  }
  EXPECT_GT(e->Stats().dead_lettered_under_pressure, 0);
  EXPECT_EQ(e->Stats().refused_requests, 0);

  // Healed: what is still in memory is stored; with the DLQ's bodies it is all, once.
  e.sink("a").SetFailure(absl::OkStatus());
  e.sink("a").SetDestinationFailing(false);
  // A store that was on the upload thread when the sink healed fails and is re-queued
  // behind a backoff on the test clock: keep the clock moving (bounded) until Flush ends.
  PendingFlush flush(*e, "a");
  for (int i = 0; i < 500 && !flush.Done(); ++i) {
    e.clock().AdvanceMillis(60000);
    e->Tick();
    flush.Wait(std::chrono::milliseconds(20));
  }
  auto r = flush.Wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().in_flight_bytes == 0; }));
  std::multiset<std::string> landed;
  for (const auto& [key, body] : e.Contents("a"))
    for (const std::string& l : SplitLines(body)) landed.insert(l);
  absl::MutexLock lock(&mu);
  for (const std::string& body : handed)
    for (const std::string& l : SplitLines(body)) landed.insert(l);
  EXPECT_EQ(landed, accepted);
}

TEST(DeliveryEngineTest, OverBudgetIsRefusedWholeAndRecoversWithoutLoss) {
  Engine e(Yaml("  upload_threads: 2\n  buffer_budget_mb: 1"));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("injected"));
  const size_t kLine = 10 * 1024;

  std::set<std::string> accepted, refused;
  bool was_refused = false;
  for (int batch = 0; batch < 100 && !was_refused; ++batch) {
    std::vector<BufferedLine> req;
    for (int i = 0; i < 10; ++i) {
      const std::string id = StrCat(batch, ".", i);
      req.push_back({StrCat("p", batch % 3, "/"),
                     StrCat("{\"id\":\"", id, "\",\"pad\":\"", std::string(kLine, 'x'), "\"}\n")});
    }
    const DeliveryStats before = e->Stats();
    const absl::Status st = e->Accept(e.spec("a"), req);
    if (st.ok()) {
      for (int i = 0; i < 10; ++i) accepted.insert(StrCat(batch, ".", i));
      continue;
    }
    was_refused = true;
    EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
    EXPECT_THAT(std::string(StatusMessage(st)), HasSubstr("buffer_budget_mb"));
    for (int i = 0; i < 10; ++i) refused.insert(StrCat(batch, ".", i));
    // Nothing of the request was taken.
    const DeliveryStats after = e->Stats();
    EXPECT_EQ(after.refused_requests, before.refused_requests + 1);
    EXPECT_EQ(after.buffered_bytes + after.in_flight_bytes,
              before.buffered_bytes + before.in_flight_bytes);
    EXPECT_LE(after.buffered_records, before.buffered_records);
    EXPECT_LE(after.buffered_bytes + after.in_flight_bytes, 1 << 20);
  }
  ASSERT_TRUE(was_refused) << "the budget was never spent";
  // The early-sealed objects were tried and failed (asynchronously).
  EXPECT_TRUE(WaitUntil([&] { return e->Stats().store_failures > 0; }));
  // Refused again while nothing is stored.
  EXPECT_EQ(e->Accept(e.spec("a"), Lines("p0/", 10, "late", kLine)).code(),
            absl::StatusCode::kResourceExhausted);

  // Flush while the sink fails: UNAVAILABLE, and the objects stay queued.
  auto r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete while the sink fails";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  EXPECT_TRUE(e.sink("a").objects().empty());

  // Heal: a Flush retries every failed object at once.
  e.sink("a").SetFailure(absl::OkStatus());
  r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete after the sink healed";
  ASSERT_TRUE(r->ok()) << r->status();
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.in_flight_bytes, 0);
  EXPECT_EQ(s.buffered_bytes, 0);

  // Every accepted record is stored once; no refused one is.
  std::multiset<std::string> stored;
  int64_t reported = 0;
  for (const StoredObject& o : **r) reported += o.records;
  for (const auto& [key, data] : e.Contents("a")) {
    for (const std::string& line : SplitLines(data)) {
      const size_t at = line.find("\"id\":\"") + 6;
      stored.insert(line.substr(at, line.find('"', at) - at));
    }
  }
  EXPECT_EQ(stored.size(), accepted.size());
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), accepted);
  EXPECT_EQ(reported, static_cast<int64_t>(accepted.size()));
  for (const std::string& id : refused) EXPECT_FALSE(stored.contains(id)) << id;

  // And requests are accepted again.
  EXPECT_TRUE(e->Accept(e.spec("a"), Lines("p0/", 10, "after", kLine)).ok());
}

TEST(DeliveryEngineTest, FlushWhileTheSinkFailsIsUnavailableThenRetriedOnTheClock) {
  Engine e(Yaml("  upload_threads: 2"));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("disk on fire"));
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 5, "x")).ok());
  auto r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(StatusMessage(r->status())), HasSubstr("disk on fire"));
  EXPECT_EQ(e->Stats().store_failures, 1);
  EXPECT_GT(e->Stats().in_flight_bytes, 0);

  // Healed, the retry comes once the policy's first delay has passed on the engine's
  // clock: destination.retry's defaults (100 ms doubling to 20 s), full jitter drawing 0.5
  // of the first ceiling, 50 ms.
  e.sink("a").SetFailure(absl::OkStatus());
  EXPECT_EQ(e->Tick(), 0) << "retried before its backoff";
  e.clock().AdvanceMillis(49);
  EXPECT_EQ(e->Tick(), 0) << "retried before its backoff";
  EXPECT_EQ(Stored(e), 0);
  e.clock().AdvanceMillis(1);
  EXPECT_EQ(e->Tick(), 1) << "not retried after the backoff";
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 1; })) << "the retry was not stored";
  EXPECT_EQ(e->Stats().in_flight_bytes, 0);
  const auto contents = e.Contents("a");
  ASSERT_EQ(contents.size(), 1u);
  EXPECT_EQ(contents.begin()->second, Join(Lines("p/", 5, "x")));
}

TEST(DeliveryEngineTest, AnObjectOutOfItsRetryBudgetGoesToTheDeadLetterQueueWhole) {
  struct Handed {
    std::string pipeline, key, body, first_error, last_error;
    int64_t records = 0;
    int attempts = 0;
  };
  absl::Mutex mu;
  std::vector<Handed> handed;
  // A zero budget: the first failure already used it up.
  Engine e(
      Yaml("  upload_threads: 1"), absl::InfiniteDuration(),
      [&](const DeadLetteredObject& o) {
        absl::MutexLock lock(&mu);
        handed.push_back({std::string(o.pipeline), std::string(o.key), std::string(o.body),
                          std::string(o.first_error), std::string(o.last_error), o.records,
                          o.attempts});
        return absl::OkStatus();
      },
      absl::ZeroDuration());
  ASSERT_TRUE(e.ok());
  e.sink("b").SetFailure(absl::UnavailableError("disk on fire"));
  const auto lines = Lines("p/", 3, "dl");
  ASSERT_TRUE(e->Accept(e.spec("b"), lines).ok());
  auto r = FlushWithin(*e, "b");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.dead_lettered, 1);
  EXPECT_EQ(s.in_flight_bytes, 0);  // the engine let go of it
  EXPECT_EQ(s.objects_stored, 0);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0].pipeline, "b");
  EXPECT_THAT(handed[0].key, MatchesRegex("p/b-w1-[0-9]{16}\\.jsonl\\.zst"));
  EXPECT_EQ(handed[0].body, Join(lines));  // uncompressed
  EXPECT_EQ(handed[0].records, 3);
  EXPECT_EQ(handed[0].attempts, 1);
  EXPECT_EQ(handed[0].first_error, "disk on fire");
  EXPECT_EQ(handed[0].last_error, "disk on fire");
}

// A sink whose every Put fails, recording each Put's deadline; the first Put "takes"
// `first_put_ms` on the engine's clock (as the S3 client's retry ladder does in real time).
class SlowFailingSink : public ObjectSink {
 public:
  SlowFailingSink(FakeClock& clock, int64_t first_put_ms)
      : clock_(clock), first_put_ms_(first_put_ms) {}
  absl::Status Put(const std::string&, std::string_view, const ObjectMeta& meta) override {
    absl::MutexLock lock(&mu_);
    if (deadlines_.empty()) clock_.AdvanceMillis(first_put_ms_);
    deadlines_.push_back(meta.deadline);
    return absl::UnavailableError(StrCat("S3 down, put ", deadlines_.size()));
  }
  std::string Uri(const std::string& key) const override { return "slow://" + key; }
  std::vector<absl::Time> deadlines() const {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }

 private:
  FakeClock& clock_;
  const int64_t first_put_ms_;
  mutable absl::Mutex mu_;
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
};

// An engine whose pipeline `a` stores into a new SlowFailingSink (returned in *sink) and
// that ticks only when told; `options` say the budget and the dead-letter function.
std::unique_ptr<DeliveryEngine> SlowSinkEngine(const Config& config, FakeClock& clock,
                                               int64_t first_put_ms,
                                               DeliveryEngine::Options options,
                                               SlowFailingSink** sink = nullptr) {
  DeliveryEngine::Sinks sinks;
  auto slow = std::make_unique<SlowFailingSink>(clock, first_put_ms);
  if (sink != nullptr) *sink = slow.get();
  sinks["a"] = std::move(slow);
  sinks["b"] = std::make_unique<FakeObjectSink>();
  options.tick = absl::InfiniteDuration();
  if (!options.uniform01) options.uniform01 = [] { return 0.5; };
  return std::make_unique<DeliveryEngine>(config, std::move(sinks), clock, std::move(options));
}

// Issue 13: the retry budget counted from the first failure, which came only after the S3
// client's whole ladder (12-17 s against a steady 503), so objects reached the DLQ long
// after their budget and their bytes held the buffer budget meanwhile. The budget now runs
// from the seal: an object sealed at T goes to the DLQ at T + budget.
TEST(DeliveryEngineTest, AnObjectIsDeadLetteredWithinItsBudgetFromTheSealNotTheFirstFailure) {
  // The policy's first delay is 1 s (0.5 of the 2 s ceiling).
  auto config = ParseTestConfig(Yaml("  upload_threads: 1", "{ size_mb: 64, interval_s: 60 }",
                                     ", retry: { base_delay_ms: 2000, max_delay_ms: 8000 }"));
  ASSERT_TRUE(config.ok()) << config.status();
  FakeClock clock(kT0);
  constexpr int64_t kBudgetMs = 10000;
  absl::Mutex mu;
  std::vector<int> attempts;  // of each object handed over
  std::vector<std::string> first_errors;
  DeliveryEngine::Options options;
  options.retry_budget = absl::Milliseconds(kBudgetMs);
  options.dead_letter = [&](const DeadLetteredObject& o) {
    absl::MutexLock lock(&mu);
    attempts.push_back(o.attempts);
    first_errors.emplace_back(o.first_error);
    return absl::OkStatus();
  };
  SlowFailingSink* sink = nullptr;
  // The first failure comes at T + 9.5 s.
  auto owned = SlowSinkEngine(*config, clock, 9500, std::move(options), &sink);
  DeliveryEngine& engine = *owned;
  ASSERT_TRUE(engine.Accept(*config->FindPipeline("a"), Lines("p/", 3, "x")).ok());
  PendingFlush flush(engine, "a");  // sealed at T
  ASSERT_TRUE(WaitUntil([&] { return engine.Stats().store_failures == 1; }));
  // With a DLQ, Flush waits for the object's end (stored, or dead-lettered by its
  // deadline) rather than answering at its first failure.
  EXPECT_FALSE(flush.Done()) << "Flush answered while the object was still within its budget";
  EXPECT_EQ(engine.Stats().dead_lettered, 0) << "dead-lettered before its budget";
  EXPECT_EQ(engine.Stats().store_failures, 1);
  ASSERT_EQ(sink->deadlines().size(), 1u);
  // The store knows when the engine stops waiting for it: the seal plus the budget.
  EXPECT_EQ(sink->deadlines()[0], absl::FromUnixMillis(kT0 + kBudgetMs));

  // The engine's own retry (1 s after the failure, T + 10.5 s) would come after the
  // deadline: it comes at the deadline instead, and that failure hands the object over.
  clock.SetMillis(kT0 + kBudgetMs - 1);
  EXPECT_EQ(engine.Tick(), 0) << "retried before the deadline";
  clock.SetMillis(kT0 + kBudgetMs);
  EXPECT_EQ(engine.Tick(), 1) << "not retried at its deadline";
  ASSERT_TRUE(WaitUntil([&] { return engine.Stats().dead_lettered == 1; }))
      << "not dead-lettered at seal + budget (first failure at seal + 9.5 s)";
  EXPECT_EQ(engine.Stats().in_flight_bytes, 0);
  const std::optional<FlushResult> r = flush.Wait();
  ASSERT_TRUE(r.has_value()) << "Flush did not answer once the object was dead-lettered";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  EXPECT_THAT(std::string(StatusMessage(r->status())),
              HasSubstr("they are in the dead-letter queue, whose retry worker stores them"));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0], 2);
  EXPECT_EQ(first_errors[0], "S3 down, put 1");  // the first error is still the first one's
  engine.Shutdown(absl::ZeroDuration());
}

// Issue 13: while the destination is down, sealed objects must wait on disk, not in
// memory. A store the sink refused because the destination's breaker is open hands the
// object to the DLQ at once, long before its budget, and Flush answers then.
TEST(DeliveryEngineTest, AnObjectWhoseDestinationIsDownGoesToTheDeadLetterQueueAtOnce) {
  absl::Mutex mu;
  std::vector<std::string> reasons;
  Engine e(
      Yaml("  upload_threads: 2"), absl::InfiniteDuration(),
      [&](const DeadLetteredObject& o) {
        absl::MutexLock lock(&mu);
        reasons.emplace_back(o.last_error);
        return absl::OkStatus();
      },
      absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(
      DestinationDownError("PutObject: destination lake is down (circuit open)"));
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 5, "x")).ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("q/", 5, "y")).ok());
  const std::optional<FlushResult> r = FlushWithin(*e, "a");  // the clock never moves
  ASSERT_TRUE(r.has_value()) << "Flush waited although the destination is down";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  EXPECT_THAT(std::string(StatusMessage(r->status())),
              HasSubstr("2 object(s) could not be stored yet"));
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.dead_lettered, 2);
  EXPECT_EQ(s.dead_lettered_destination_down, 2);
  EXPECT_EQ(s.in_flight_bytes, 0) << "the objects are still held in memory";
  absl::MutexLock lock(&mu);
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_THAT(reasons[0], HasSubstr("circuit open"));
}

// Makes the WAL under `dir` refuse its next frame, deterministically: with segments of 1
// byte every append first rotates to a new segment, whose file is created with O_EXCL; a
// directory in its place makes that fail (as a full disk fails a write). Returns the
// blocker, which the caller removes to let the WAL go on.
std::string BlockNextWalSegment(const std::string& dir) {
  uint64_t last = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (name.size() == 20 && name.substr(16) == ".wal")
      last = std::max<uint64_t>(last, std::stoull(name.substr(0, 16)));
  }
  char name[32];
  std::snprintf(name, sizeof(name), "%016llu.wal", static_cast<unsigned long long>(last + 1));
  const std::string blocker = StrCat(dir, "/", std::string_view(name));
  EXPECT_TRUE(std::filesystem::create_directory(blocker)) << blocker;
  return blocker;
}

// Regression (issue 13): while the disk was full, every open buffer logged
// delivery.seal_not_logged at every tick (223 lines in 45 s). Now each buffer's first
// refusal is logged, the repeats are summed into one delivery.seals_not_logged line per
// period, and the seal that finally passes says how many refusals came before it.
TEST(DeliveryEngineTest, SealsTheWalRefusesAreLoggedOncePerBufferThenSummarized) {
  TempDir dir;
  const std::string wal = dir.path() + "/wal";
  Engine e(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Recover({wal, 1, 0}, nullptr).ok());
  std::vector<BufferedLine> lines = Lines("p/", 3, "p");
  for (BufferedLine& l : Lines("q/", 3, "q")) lines.push_back(std::move(l));
  ASSERT_TRUE(e->Accept(e.spec("a"), lines).ok());  // one frame: two buffers
  const std::string blocker = BlockNextWalSegment(wal);

  testing::internal::CaptureStderr();
  e.clock().AdvanceMillis(60'000);  // both buffers reach interval_s
  for (int tick = 0; tick < 10; ++tick) {
    e->Tick();
    e.clock().AdvanceMillis(1000);
  }
  EXPECT_EQ(e->Stats().seal_refusals, 20);
  e.clock().AdvanceMillis(DeliveryEngine::kSealRefusalSummaryMs);
  e->Tick();  // the period of the repeats is over: one summary
  EXPECT_EQ(e->Stats().seal_refusals, 22);
  std::filesystem::remove(blocker);
  e->Tick();  // room again: both seal
  const std::string log = testing::internal::GetCapturedStderr();
  auto count = [&](std::string_view event) {
    const std::string needle = StrCat("\"event\":\"", event, "\"");
    int n = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("delivery.seal_not_logged"), 2) << log;
  EXPECT_EQ(count("delivery.seals_not_logged"), 1) << log;
  // 9 repeats of each buffer in the ticks, then the first of the next tick.
  EXPECT_THAT(log, HasSubstr("\"refusals\":\"19\",\"buffers_waiting\":\"2\"")) << log;
  EXPECT_EQ(count("delivery.seal_logged"), 2) << log;
  EXPECT_THAT(log, HasSubstr("\"refusals_before\":\"11\"")) << log;
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 2; }));
}

// Regression (issue 13): Flush on a full disk counted the buffers it could not seal as
// objects that "stay queued and are retried" ("35 object(s) could not be stored yet
// (first error: a buffer could not be sealed ...)"), under UNAVAILABLE. They are buffers:
// the answer counts them apart, says they stay buffered, is RESOURCE_EXHAUSTED (the
// disk), and is never "only dead-lettered" (their records are in no object yet).
TEST(DeliveryEngineTest, FlushCountsBuffersItCouldNotSealApartFromObjects) {
  TempDir dir;
  const std::string wal = dir.path() + "/wal";
  std::atomic<bool> dlq_takes{false};
  Engine e(
      Yaml("  upload_threads: 1"), absl::InfiniteDuration(),
      [&](const DeadLetteredObject&) {
        return dlq_takes.load() ? absl::OkStatus() : absl::ResourceExhaustedError("DLQ full");
      },
      absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Recover({wal, 1, 0}, nullptr).ok());
  e.sink("a").SetDestinationDown(true);
  // One object sealed (by age) whose hand-off to the DLQ fails: it stays in the engine.
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("o/", 3, "o")).ok());
  e.clock().AdvanceMillis(30'000);
  std::vector<BufferedLine> lines = Lines("p/", 3, "p");
  for (BufferedLine& l : Lines("q/", 3, "q")) lines.push_back(std::move(l));
  ASSERT_TRUE(e->Accept(e.spec("a"), lines).ok());
  e.clock().AdvanceMillis(30'000);
  ASSERT_EQ(e->Tick(), 1);
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().store_failures == 1; }));
  // The disk is full for the WAL; the DLQ takes the object at the flush's retry.
  const std::string blocker = BlockNextWalSegment(wal);
  dlq_takes = true;
  std::optional<FlushResult> r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kResourceExhausted) << r->status();
  const std::string message(StatusMessage(r->status()));
  EXPECT_THAT(message, StartsWith("2 buffer(s) could not be sealed (the WAL refused: "));
  EXPECT_THAT(message, HasSubstr("); they stay buffered; 1 object(s) could not be stored yet"));
  EXPECT_THAT(message, HasSubstr("they are in the dead-letter queue"));
  EXPECT_FALSE(DeliveryEngine::FailedOnlyToDeadLetters(r->status())) << message;
  EXPECT_EQ(e->Stats().dead_lettered, 1);
  EXPECT_EQ(e->Stats().buffered_records, 6);

  // Room again: both buffers seal and go to the DLQ, so the flush failed only for that.
  std::filesystem::remove(blocker);
  r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  EXPECT_THAT(std::string(StatusMessage(r->status())),
              StartsWith("2 object(s) could not be stored yet"));
  EXPECT_TRUE(DeliveryEngine::FailedOnlyToDeadLetters(r->status())) << r->status();
}

// A full disk during an outage: the DLQ refuses the hand-off, the object stays in the
// engine, and Flush says why (not only that the destination is down).
TEST(DeliveryEngineTest, FlushSaysWhyTheDeadLetterQueueDidNotTakeAnObject) {
  Engine e(
      Yaml("  upload_threads: 1"), absl::InfiniteDuration(),
      [&](const DeadLetteredObject&) {
        return absl::ResourceExhaustedError("dead-letter queue: not queued: disk under /d");
      },
      absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetDestinationDown(true);
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 3, "p")).ok());
  const std::optional<FlushResult> r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  EXPECT_THAT(std::string(StatusMessage(r->status())),
              HasSubstr("; the dead-letter queue refused it: dead-letter queue: not queued: disk "
                        "under /d); they stay queued and are retried"));
  EXPECT_FALSE(DeliveryEngine::FailedOnlyToDeadLetters(r->status()));
  EXPECT_EQ(e->Stats().in_flight_bytes, static_cast<int64_t>(Join(Lines("p/", 3, "p")).size()));
}

// Known down before the store: the object goes to the DLQ uncompressed without being
// encoded or sent (no Put at all).
TEST(DeliveryEngineTest, AKnownDownDestinationIsNotEvenAskedAndTheObjectGoesToTheDlqWhole) {
  absl::Mutex mu;
  std::vector<std::string> bodies;
  Engine e(
      Yaml("  upload_threads: 1"), absl::InfiniteDuration(),
      [&](const DeadLetteredObject& o) {
        absl::MutexLock lock(&mu);
        bodies.emplace_back(o.body);
        return absl::OkStatus();
      },
      absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetDestinationDown(true);
  const auto lines = Lines("p/", 7, "down");
  ASSERT_TRUE(e->Accept(e.spec("a"), lines).ok());
  const std::optional<FlushResult> r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(e.sink("a").puts(), 0);
  EXPECT_EQ(e->Stats().dead_lettered_destination_down, 1);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], Join(lines));
}

// Without a DLQ there is nowhere on disk to put them: they stay queued and retried.
TEST(DeliveryEngineTest, WithoutADeadLetterQueueADownDestinationKeepsObjectsQueued) {
  Engine e(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(DestinationDownError("destination down"));
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 5, "x")).ok());
  const std::optional<FlushResult> r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(std::string(StatusMessage(r->status())),
              HasSubstr("they stay queued and are retried"));
  EXPECT_EQ(e->Stats().dead_lettered, 0);
  EXPECT_GT(e->Stats().in_flight_bytes, 0);
  e.sink("a").SetFailure(absl::OkStatus());
  e.clock().AdvanceMillis(1000);
  EXPECT_EQ(e->Tick(), 1);
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 1; }));
}

TEST(DeliveryEngineTest, WithoutADeadLetterQueueAStoreHasNoDeadline) {
  auto config = ParseTestConfig(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(config.ok()) << config.status();
  FakeClock clock(kT0);
  SlowFailingSink* sink = nullptr;
  auto owned = SlowSinkEngine(*config, clock, 0, {}, &sink);  // retried forever
  DeliveryEngine& engine = *owned;
  ASSERT_TRUE(engine.Accept(*config->FindPipeline("a"), Lines("p/", 3, "x")).ok());
  auto r = FlushWithin(engine, "a");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  ASSERT_EQ(sink->deadlines().size(), 1u);
  EXPECT_EQ(sink->deadlines()[0], absl::InfiniteFuture());
  engine.Shutdown(absl::ZeroDuration());
}

// One upload thread; pipeline `a`'s destination.retry is `retry`.
std::string RetryYaml(std::string_view retry) {
  return Yaml("  upload_threads: 1", "{ size_mb: 64, interval_s: 60 }", StrCat(", retry: ", retry));
}

// A dead-letter queue that takes everything and counts it.
class DeadLetterCount {
 public:
  DeliveryEngine::DeadLetterFunction Function() {
    return [this](const DeadLetteredObject&) {
      absl::MutexLock lock(&mu_);
      ++count_;
      return absl::OkStatus();
    };
  }
  int Get() const {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  mutable absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Issue 13, one retry policy: the sink's retries and the engine's re-queues spend one
// failure budget per object (destination.retry.max_attempts failures in all). A sink that
// spent it within one store (as the S3 client does against a steady 503) ends the object
// at once, long before its deadline: no second ladder.
TEST(DeliveryEngineTest, AnObjectWhoseFailuresAreSpentInOneStoreGoesToTheDeadLetterQueue) {
  DeadLetterCount handed;
  Engine e(RetryYaml("{ max_attempts: 4, base_delay_ms: 1000, max_delay_ms: 8000 }"),
           absl::InfiniteDuration(), handed.Function(), absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("S3 503 SlowDown"), /*failures_per_put=*/4);
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 3, "x")).ok());
  const std::optional<FlushResult> r = FlushWithin(*e, "a");  // the clock never moves
  ASSERT_TRUE(r.has_value()) << "Flush waited for an object whose failures are spent";
  EXPECT_THAT(std::string(StatusMessage(r->status())), HasSubstr("in the dead-letter queue"));
  EXPECT_EQ(e->Stats().dead_lettered, 1);
  EXPECT_EQ(e->Stats().dead_lettered_destination_down, 0);
  EXPECT_EQ(e->Stats().in_flight_bytes, 0);
  const std::vector<FakeObjectSink::PutRecord> puts = e.sink("a").put_records();
  ASSERT_EQ(puts.size(), 1u) << "the object was stored again after its failures were spent";
  EXPECT_EQ(puts[0].failures_before, 0);
  EXPECT_EQ(puts[0].max_failures, 4);
  EXPECT_EQ(handed.Get(), 1);
}

// Spent over several stores: each store is given the failures left and where the ladder
// stands, each re-queue waits the policy's next delay (destination.retry, full jitter: 0.5
// of the ceilings 1 s, 2 s), and the failure that spends the budget ends the object, before
// its deadline (5 min) and without the clock reaching it.
TEST(DeliveryEngineTest, ReQueueDelaysFollowTheDestinationsPolicyUntilTheFailuresAreSpent) {
  DeadLetterCount handed;
  Engine e(RetryYaml("{ max_attempts: 3, base_delay_ms: 1000, max_delay_ms: 8000 }"),
           absl::InfiniteDuration(), handed.Function(), absl::Minutes(5));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("disk on fire"));  // one failure per store
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 3, "x")).ok());
  PendingFlush flush(*e, "a");
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().store_failures == 1; }));
  EXPECT_FALSE(flush.Done()) << "Flush answered while the object had failures left";
  for (const int64_t delay_ms : {500, 1000}) {
    const int64_t failures = e->Stats().store_failures;
    EXPECT_EQ(e->Tick(), 0);
    e.clock().AdvanceMillis(delay_ms - 1);
    EXPECT_EQ(e->Tick(), 0) << "re-queued before the policy's delay of " << delay_ms << " ms";
    e.clock().AdvanceMillis(1);
    EXPECT_EQ(e->Tick(), 1) << "not re-queued after the policy's delay of " << delay_ms << " ms";
    ASSERT_TRUE(WaitUntil([&] {
      return e->Stats().store_failures == failures + 1 || e->Stats().dead_lettered == 1;
    }));
  }
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().dead_lettered == 1; }))
      << "not dead-lettered once its 3 failures were spent";
  const std::optional<FlushResult> r = flush.Wait();
  ASSERT_TRUE(r.has_value()) << "Flush did not answer once the object was dead-lettered";
  EXPECT_THAT(std::string(StatusMessage(r->status())), HasSubstr("in the dead-letter queue"));
  EXPECT_EQ(e.clock().NowMillis(), kT0 + 1500);  // far from the 5 min deadline
  const std::vector<FakeObjectSink::PutRecord> puts = e.sink("a").put_records();
  ASSERT_EQ(puts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(puts[i].failures_before, i) << "store " << i;
    EXPECT_EQ(puts[i].max_failures, 3 - i) << "store " << i;
    EXPECT_EQ(puts[i].deadline, absl::FromUnixMillis(kT0 + 300000)) << "store " << i;
  }
  EXPECT_EQ(handed.Get(), 1);
}

// Without a DLQ there is no end: the object is retried forever, one failure per store once
// the budget is spent, the delays still the policy's and capped at its max (0.5 of the
// ceilings 1, 2, 4, 4, 4 s).
TEST(DeliveryEngineTest, WithoutADeadLetterQueueRetriesGoOnAtTheCappedDelayOfThePolicy) {
  Engine e(RetryYaml("{ max_attempts: 2, base_delay_ms: 1000, max_delay_ms: 4000 }"));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("disk on fire"));
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 3, "x")).ok());
  const std::optional<FlushResult> r = FlushWithin(*e, "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(std::string(StatusMessage(r->status())), HasSubstr("they stay queued"));
  for (const int64_t delay_ms : {500, 1000, 2000, 2000, 2000}) {
    const int64_t failures = e->Stats().store_failures;
    e.clock().AdvanceMillis(delay_ms - 1);
    EXPECT_EQ(e->Tick(), 0) << "re-queued before the policy's delay of " << delay_ms << " ms";
    e.clock().AdvanceMillis(1);
    EXPECT_EQ(e->Tick(), 1) << "not re-queued after the policy's delay of " << delay_ms << " ms";
    ASSERT_TRUE(WaitUntil([&] { return e->Stats().store_failures == failures + 1; }));
  }
  EXPECT_EQ(e->Stats().dead_lettered, 0);
  const std::vector<FakeObjectSink::PutRecord> puts = e.sink("a").put_records();
  ASSERT_EQ(puts.size(), 6u);
  const int max_failures[] = {2, 1, 1, 1, 1, 1};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(puts[i].failures_before, i) << "store " << i;
    EXPECT_EQ(puts[i].max_failures, max_failures[i]) << "store " << i;
  }
  // Healed, it is stored at its next turn.
  e.sink("a").SetFailure(absl::OkStatus());
  e.clock().AdvanceMillis(2000);
  EXPECT_EQ(e->Tick(), 1);
  ASSERT_TRUE(WaitUntil([&] { return Stored(e) == 1; }));
}

// An object rebuilt from the WAL has no seal time on record (the kSeal frame carries
// none): its budget runs from the replay.
TEST(DeliveryEngineTest, AReplayedObjectsBudgetRunsFromTheReplay) {
  TempDir dir("delivery_engine_test");
  auto config = ParseTestConfig(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(config.ok()) << config.status();
  FakeClock clock(kT0);
  constexpr int64_t kBudgetMs = 10000;
  DeliveryEngine::Options options;
  options.retry_budget = absl::Milliseconds(kBudgetMs);
  options.dead_letter = [](const DeadLetteredObject&) {
    return absl::UnavailableError("DLQ unavailable in this test");
  };
  {
    auto first = SlowSinkEngine(*config, clock, 0, options);
    ASSERT_TRUE(first->Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
    ASSERT_TRUE(first->Accept(*config->FindPipeline("a"), Lines("p/", 3, "x")).ok());
    PendingFlush flush(*first, "a");  // sealed (in the WAL), not stored
    ASSERT_TRUE(WaitUntil([&] { return first->Stats().store_failures >= 1; }));
    first->Shutdown(absl::ZeroDuration());
  }
  clock.SetMillis(kT0 + 3600000);  // restarted an hour later
  SlowFailingSink* sink = nullptr;
  auto owned = SlowSinkEngine(*config, clock, 0, options, &sink);
  DeliveryEngine& engine = *owned;
  ASSERT_TRUE(engine.Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
  ASSERT_TRUE(WaitUntil([&] { return !sink->deadlines().empty(); })) << "not re-stored";
  EXPECT_EQ(sink->deadlines()[0], absl::FromUnixMillis(kT0 + 3600000 + kBudgetMs));
  engine.Shutdown(absl::ZeroDuration());
}

// One record the Parquet writer could not store (too deep; accepted before the record
// path refused such records) failed its whole object: every Flush answered UNAVAILABLE
// and after the retry budget the object, its 100 good records with it, went to the DLQ.
TEST(DeliveryEngineTest, ARecordTheParquetWriterCannotStoreGoesToTheDeadLetterQueueAlone) {
  absl::Mutex mu;
  std::vector<std::pair<std::string, std::string>> handed;  // key, body
  int64_t handed_records = 0;
  Engine e(
      "pipelines:\n"
      "  - name: pq\n"
      "    input: json\n"
      "    destination: { kind: file, path: /nonexistent/pq, format: parquet }\n",
      absl::InfiniteDuration(), [&](const DeadLetteredObject& o) {
        absl::MutexLock lock(&mu);
        handed.emplace_back(std::string(o.key), std::string(o.body));
        handed_records += o.records;
        return absl::OkStatus();
      });
  ASSERT_TRUE(e.ok());
  std::vector<BufferedLine> lines = Lines("p/", 100, "good");
  const std::string deep = StrCat(R"({"tag":"deep","i":100,"pad":)", std::string(1025, '['), "1",
                                  std::string(1025, ']'), "}\n");
  lines.insert(lines.begin() + 40, BufferedLine{"p/", deep});
  ASSERT_TRUE(e->Accept(e.spec("pq"), lines).ok());
  auto r = FlushWithin(*e, "pq");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  ASSERT_TRUE(r->ok()) << r->status();
  ASSERT_EQ((*r)->size(), 1u);
  EXPECT_EQ((**r)[0].records, 100);
  EXPECT_THAT((**r)[0].key, MatchesRegex("p/pq-w1-[0-9]{16}\\.parquet"));
  ASSERT_EQ(e.sink("pq").objects().size(), 1u);
  EXPECT_EQ(e.sink("pq").objects().begin()->second.substr(0, 4), "PAR1");
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.rejected_records, 1);
  EXPECT_EQ(s.dead_lettered, 0);  // no object was
  EXPECT_EQ(s.in_flight_bytes, 0);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_THAT(handed[0].first, MatchesRegex("p/pq-w1-[0-9]{16}-rejected\\.parquet"));
  EXPECT_EQ(handed[0].second, deep);
  EXPECT_EQ(handed_records, 1);
}

// Regression: when the object whose rejected record was already dead-lettered alone then
// used up its retry budget, the object's dead letter held the rejected record again: it
// reached the lake twice once stored, and the entry could not be encoded meanwhile.
TEST(DeliveryEngineTest, AnObjectDeadLetteredAfterItsRejectsDoesNotCarryThemAgain) {
  absl::Mutex mu;
  std::vector<std::pair<std::string, std::string>> handed;  // key, body
  std::vector<int64_t> handed_records;
  Engine e(
      "pipelines:\n"
      "  - name: pq\n"
      "    input: json\n"
      "    destination: { kind: file, path: /nonexistent/pq, format: parquet }\n",
      absl::InfiniteDuration(),
      [&](const DeadLetteredObject& o) {
        absl::MutexLock lock(&mu);
        handed.emplace_back(std::string(o.key), std::string(o.body));
        handed_records.push_back(o.records);
        return absl::OkStatus();
      },
      absl::ZeroDuration());
  ASSERT_TRUE(e.ok());
  e.sink("pq").SetFailure(absl::UnavailableError("disk on fire"));
  std::vector<BufferedLine> lines = Lines("p/", 10, "good");
  const std::string deep = StrCat(R"({"tag":"deep","i":10,"pad":)", std::string(1025, '['), "1",
                                  std::string(1025, ']'), "}\n");
  lines.insert(lines.begin() + 4, BufferedLine{"p/", deep});
  ASSERT_TRUE(e->Accept(e.spec("pq"), lines).ok());
  auto r = FlushWithin(*e, "pq");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable) << r->status();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(handed.size(), 2u);
  EXPECT_THAT(handed[0].first, MatchesRegex("p/pq-w1-[0-9]{16}-rejected\\.parquet"));
  EXPECT_EQ(handed[0].second, deep);
  EXPECT_EQ(handed_records[0], 1);
  EXPECT_THAT(handed[1].first, MatchesRegex("p/pq-w1-[0-9]{16}\\.parquet"));
  EXPECT_EQ(handed_records[1], 10);
  EXPECT_EQ(handed[1].second.find("deep"), std::string::npos);
  // What the retrier will store encodes whole.
  EXPECT_TRUE(EncodeObject(e.spec("pq").destination, handed[1].first, handed[1].second).ok());
}

// Records the metadata each object was stored with.
class MetaRecordingSink : public ObjectSink {
 public:
  absl::Status Put(const std::string& key, std::string_view, const ObjectMeta& meta) override {
    absl::MutexLock lock(&mu_);
    meta_[key] = meta;
    return absl::OkStatus();
  }
  std::string Uri(const std::string& key) const override { return "meta://" + key; }
  std::map<std::string, ObjectMeta> meta() const {
    absl::MutexLock lock(&mu_);
    return meta_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, ObjectMeta> meta_ ABSL_GUARDED_BY(mu_);
};

TEST(DeliveryEngineTest, ObjectsCarryTheirContentEncoding) {
  auto config = ParseTestConfig(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(config.ok()) << config.status();
  DeliveryEngine::Sinks sinks;
  auto a = std::make_unique<MetaRecordingSink>();
  auto b = std::make_unique<MetaRecordingSink>();
  MetaRecordingSink* a_ptr = a.get();
  MetaRecordingSink* b_ptr = b.get();
  sinks["a"] = std::move(a);
  sinks["b"] = std::move(b);
  FakeClock clock(kT0);
  DeliveryEngine engine(*config, std::move(sinks), clock, DeliveryEngine::Options{});
  ASSERT_TRUE(engine.Accept(*config->FindPipeline("a"), Lines("p/", 2, "a")).ok());
  ASSERT_TRUE(engine.Accept(*config->FindPipeline("b"), Lines("p/", 2, "b")).ok());
  auto r = FlushWithin(engine, "");
  ASSERT_TRUE(r.has_value() && r->ok());
  ASSERT_EQ((*r)->size(), 2u);
  for (const StoredObject& o : **r) EXPECT_THAT(o.uri, StartsWith("meta://"));
  const auto ma = a_ptr->meta();
  const auto mb = b_ptr->meta();
  ASSERT_EQ(ma.size(), 1u);
  ASSERT_EQ(mb.size(), 1u);
  EXPECT_EQ(ma.begin()->second.content_encoding, "gzip");
  EXPECT_EQ(mb.begin()->second.content_encoding, "zstd");
  EXPECT_EQ(ma.begin()->second.content_type, "application/x-ndjson");
  // The default writer id is in the key.
  EXPECT_THAT(ma.begin()->first, MatchesRegex("p/a-lakehose-[0-9]{16}\\.jsonl\\.gz"));
  engine.Shutdown(absl::Seconds(5));
}

TEST(DeliveryEngineTest, ShutdownStoresEverythingBuffered) {
  Engine e(Yaml("  upload_threads: 2"));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p1/", 3, "a1")).ok());
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p2/", 4, "a2")).ok());
  ASSERT_TRUE(e->Accept(e.spec("b"), Lines("p1/", 5, "b1")).ok());
  e->Shutdown(absl::Seconds(10));
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.objects_stored, 3);
  EXPECT_EQ(s.seals_by_reason[static_cast<int>(FlushReason::kShutdown)], 3);
  EXPECT_EQ(s.buffered_records, 0);
  EXPECT_EQ(s.in_flight_bytes, 0);
  const auto a = e.Contents("a");
  ASSERT_EQ(a.size(), 2u);
  for (const auto& [key, data] : a) {
    if (key.rfind("p1/", 0) == 0)
      EXPECT_EQ(data, Join(Lines("p1/", 3, "a1")));
    else
      EXPECT_EQ(data, Join(Lines("p2/", 4, "a2")));
  }
  const auto b = e.Contents("b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.begin()->second, Join(Lines("p1/", 5, "b1")));

  // Closed for business; Shutdown is idempotent.
  const absl::Status after = e->Accept(e.spec("a"), Lines("p1/", 1, "late"));
  EXPECT_EQ(after.code(), absl::StatusCode::kUnavailable) << after;
  e->Shutdown(absl::Seconds(1));
  EXPECT_EQ(e->Accept(e.spec("b"), Lines("p1/", 1, "late")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Stored(e), 3);
}

TEST(DeliveryEngineTest, EveryObjectGetsItsOwnKeyAndKeysSortInSealOrder) {
  // size_mb 0.001 = 1048 bytes: a seal every 13 lines or so.
  Engine e(Yaml("  upload_threads: 4", "{ size_mb: 0.001, interval_s: 60 }"));
  ASSERT_TRUE(e.ok());
  const auto lines = Lines("same/prefix/", 500, "k");
  for (size_t i = 0; i < lines.size(); i += 7) {
    std::vector<BufferedLine> part(lines.begin() + i,
                                   lines.begin() + std::min(lines.size(), i + 7));
    ASSERT_TRUE(e->Accept(e.spec("a"), part).ok());
  }
  e->Shutdown(absl::Seconds(10));
  const DeliveryStats s = e->Stats();
  EXPECT_EQ(s.in_flight_bytes, 0);
  const auto contents = e.Contents("a");
  EXPECT_GT(contents.size(), 20u);
  // No object overwrote another.
  EXPECT_EQ(static_cast<int64_t>(contents.size()), s.objects_stored);
  // In key order, the objects are the lines in the order they were accepted.
  std::string all;
  for (const auto& [key, data] : contents) {
    EXPECT_THAT(key, MatchesRegex("same/prefix/a-w1-[0-9]{16}\\.jsonl\\.gz"));
    all += data;
  }
  EXPECT_EQ(all, Join(lines));
}

TEST(DeliveryEngineTest, ConcurrentAcceptsLoseAndDuplicateNothing) {
  Engine e(Yaml("  upload_threads: 4", "{ size_mb: 0.01, interval_s: 60 }"));
  ASSERT_TRUE(e.ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i += 4) {
        std::vector<BufferedLine> req;
        for (int j = i; j < i + 4; ++j)
          req.push_back(
              {StrCat("region=r", j % 5, "/"), StrCat("{\"t\":", t, ",\"i\":", j, "}\n")});
        if (!e->Accept(e.spec(t % 2 ? "a" : "b"), std::move(req)).ok()) failures.fetch_add(1);
        if (i % 200 == 0) e.clock().AdvanceMillis(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto r = FlushWithin(*e, "");
  ASSERT_TRUE(r.has_value()) << "Flush did not complete";
  ASSERT_TRUE(r->ok()) << r->status();
  ASSERT_TRUE(WaitUntil([&] { return e->Stats().in_flight_bytes == 0; }));

  std::map<std::string, int> seen;
  int64_t objects = 0;
  for (const std::string pipeline : {"a", "b"}) {
    for (const auto& [key, data] : e.Contents(pipeline)) {
      ++objects;
      const std::string prefix = key.substr(0, key.find('/') + 1);
      for (const std::string& line : SplitLines(data)) {
        // Each line sits under the prefix it was accepted with.
        const size_t at = line.find("\"i\":") + 4;
        const int i = std::stoi(line.substr(at));
        EXPECT_EQ(prefix, StrCat("region=r", i % 5, "/")) << line;
        seen[line] += 1;
      }
    }
  }
  EXPECT_EQ(objects, e->Stats().objects_stored);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
  int duplicates = 0;
  for (const auto& [line, n] : seen) duplicates += n > 1;
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(e->Stats().buffered_records, 0);
}

// Regression: the ticker used to wait on the upload threads' CondVar, and a seal woke a
// single waiter (the longest). When that was the ticker, no upload thread woke and the
// sealed object stayed queued until something else signalled; a Flush that found it
// queued sealed nothing of its own, signalled nobody, and never completed. With one
// upload thread and a ticker that never ticks, the second sealed object was never stored.
TEST(DeliveryEngineTest, EverySealedObjectIsStoredWithoutAnotherSeal) {
  Engine e(Yaml("  upload_threads: 1", "{ size_mb: 0.001, interval_s: 60 }"));
  ASSERT_TRUE(e.ok());
  const int64_t limit = static_cast<int64_t>(0.001 * 1024 * 1024);
  bool stuck = false;
  for (int n = 1; n <= 4 && !stuck; ++n) {
    // Exactly enough lines for one size seal, so nothing stays buffered.
    std::vector<BufferedLine> req;
    int64_t bytes = 0;
    for (int i = 0; bytes < limit; ++i) {
      req.push_back(Lines(StrCat("p", n, "/"), i + 1, "w").back());
      bytes += static_cast<int64_t>(req.back().line.size());
    }
    ASSERT_TRUE(e->Accept(e.spec("a"), req).ok());
    ASSERT_EQ(e->Stats().seals_by_reason[static_cast<int>(FlushReason::kSize)], n);
    ASSERT_EQ(e->Stats().buffered_records, 0);
    if (!WaitUntil([&] { return Stored(e) == n; }, std::chrono::milliseconds(3000))) {
      ADD_FAILURE() << "sealed object " << n << " was not stored within 3 s";
      stuck = true;
    }
  }
  // Whatever happened above, a Flush must answer: it has every sealed object to wait for.
  auto r = FlushWithin(*e, "a", std::chrono::milliseconds(3000));
  EXPECT_TRUE(r.has_value()) << "Flush did not complete within 3 s with an object queued";
}

// Regression: after Shutdown, objects whose store had failed waited for their retry
// (Shutdown's wait ended once nothing was queued or uploading); FlushAsync moved them back
// onto the upload queue and attached its ticket, but the upload threads were gone, so
// `done` was never called and Flush() blocked forever (the contract: OK with the
// objects, or UNAVAILABLE).
TEST(DeliveryEngineTest, FlushAfterShutdownWithUnstoredObjectsStillAnswers) {
  Engine e(Yaml("  upload_threads: 1"));
  ASSERT_TRUE(e.ok());
  e.sink("a").SetFailure(absl::UnavailableError("down"));
  ASSERT_TRUE(e->Accept(e.spec("a"), Lines("p/", 3, "x")).ok());
  e->Shutdown(absl::Seconds(2));
  EXPECT_EQ(e->Stats().store_failures, 1);
  auto r = FlushWithin(*e, "a", std::chrono::milliseconds(2000));
  ASSERT_TRUE(r.has_value()) << "FlushAsync after Shutdown never called back";
  EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lakehose
