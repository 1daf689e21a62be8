// The WAL on disk: replay order, torn tails, segment rotation and release, group commit,
// and the delivery engine's recovery (replay idempotence, no duplicates after a crash).
#include "service/wal/wal.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base/compress.h"
#include "core/config/config.h"
#include "gtest/gtest.h"
#include "service/delivery/delivery_engine.h"
#include "service/platform/clock.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/temp_dir.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

std::string KeyPayload(const std::string& key) {
  std::string p;
  EncodeWalKey(key, &p);
  return p;
}

std::vector<std::string> ReplayKeys(const std::string& dir, WalReplayStats* stats) {
  std::vector<std::string> keys;
  auto wal = Wal::Open(
      {dir, 1 << 20, 0},
      [&](WalType, std::string_view payload, uint64_t) {
        std::string_view k;
        if (DecodeWalKey(payload, &k)) keys.emplace_back(k);
      },
      stats);
  EXPECT_TRUE(wal.ok()) << wal.status();
  return keys;
}

TEST(WalTest, ReplaysEverythingInOrderAcrossReopens) {
  TempDir dir;
  {
    auto wal = Wal::Open(
        {dir.path(), 1 << 20, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 100; ++i) {
      auto lsn = (*wal)->Append(WalType::kStored, KeyPayload("k" + std::to_string(i)));
      ASSERT_TRUE(lsn.ok());
      ASSERT_TRUE((*wal)->Sync(*lsn).ok());
    }
  }
  WalReplayStats stats;
  const auto keys = ReplayKeys(dir.path(), &stats);
  ASSERT_EQ(keys.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(keys[i], "k" + std::to_string(i));
  EXPECT_EQ(stats.corrupt_tails, 0);
  // Replay is idempotent: a second replay (the first one started a new, empty segment)
  // sees the same frames.
  EXPECT_EQ(ReplayKeys(dir.path(), nullptr), keys);
}

TEST(WalTest, TornTailIsSkippedAndReportedEarlierFramesKept) {
  TempDir dir;
  std::string segment_path;
  {
    auto wal = Wal::Open(
        {dir.path(), 1 << 20, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE((*wal)->Append(WalType::kStored, KeyPayload("key" + std::to_string(i))).ok());
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    if (std::filesystem::file_size(e.path()) > 0) segment_path = e.path().string();
  ASSERT_FALSE(segment_path.empty());
  const auto size = std::filesystem::file_size(segment_path);
  std::filesystem::resize_file(segment_path, size - 3);  // a write cut short by a crash
  WalReplayStats stats;
  const auto keys = ReplayKeys(dir.path(), &stats);
  EXPECT_EQ(keys.size(), 9u);
  EXPECT_EQ(stats.corrupt_tails, 1);
  EXPECT_GT(stats.skipped_bytes, 0);
}

TEST(WalTest, RotatesAndReleasesWholeSegments) {
  TempDir dir;
  auto wal = Wal::Open(
      {dir.path(), 4096, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
  ASSERT_TRUE(wal.ok());
  const std::string big(1000, 'x');
  uint64_t first_segment = (*wal)->current_segment();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE((*wal)->Append(WalType::kStored, KeyPayload(big)).ok());
  const uint64_t now = (*wal)->current_segment();
  EXPECT_GT(now, first_segment + 5);
  const int64_t before = (*wal)->disk_bytes();
  (*wal)->ReleaseBefore(now);
  EXPECT_LT((*wal)->disk_bytes(), before);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    files += e.path().extension() == ".wal";
  EXPECT_EQ(files, 1);
}

TEST(WalTest, ConcurrentSyncsAllBecomeDurable) {
  TempDir dir;
  auto wal = Wal::Open(
      {dir.path(), 1 << 20, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
  ASSERT_TRUE(wal.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto lsn = (*wal)->Append(WalType::kStored,
                                  KeyPayload("t" + std::to_string(t) + "-" + std::to_string(i)));
        ASSERT_TRUE(lsn.ok());
        ASSERT_TRUE((*wal)->Sync(*lsn).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  wal->reset();
  EXPECT_EQ(ReplayKeys(dir.path(), nullptr).size(), 400u);
}

TEST(WalTest, RefusesAppendsWhenTheDiskIsNearlyFull) {
  TempDir dir;
  // Ask for more free space than any disk has: every append is refused, nothing written.
  auto wal = Wal::Open(
      {dir.path(), 1 << 20, int64_t{1} << 62}, [](WalType, std::string_view, uint64_t) {}, nullptr);
  ASSERT_TRUE(wal.ok());
  auto lsn = (*wal)->Append(WalType::kStored, KeyPayload("k"));
  EXPECT_EQ(lsn.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*wal)->disk_bytes(), 0);
}

// The engine side: accept, "crash" (drop the engine without flushing), recover; then the
// same again with a sink that already holds the sealed object (a crash between upload and
// the stored mark): nothing is lost, nothing duplicated.

Config TestConfig() {
  auto config = ParseTestConfig(R"yaml(
pipelines:
  - name: p
    input: json
    partition_keys:
      k: { attribute: k }
    destination: { kind: file, path: /unused, compression: zstd, buffering: { size_mb: 0.001, interval_s: 3600 } }
)yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  return *std::move(config);
}

std::multiset<std::string> Lines(const std::map<std::string, std::string>& objects) {
  std::multiset<std::string> out;
  for (const auto& [key, body] : objects) {
    auto plain = Decompress(Compression::kZstd, body);
    EXPECT_TRUE(plain.ok());
    size_t pos = 0;
    while (pos < plain->size()) {
      const size_t nl = plain->find('\n', pos);
      out.insert(plain->substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  return out;
}

TEST(WalRecoveryTest, CrashLosesNothingAndDuplicatesNothing) {
  TempDir dir;
  const Config config = TestConfig();
  FakeClock clock(1700000000000);
  auto* sink = new FakeObjectSink;
  DeliveryEngine::Sinks sinks;
  // The first engine's sink fails: objects get sealed (in the WAL) but never stored.
  sink->SetFailure(absl::UnavailableError("S3 is down"));
  sinks["p"] = std::unique_ptr<ObjectSink>(sink);
  std::set<std::string> accepted;
  {
    DeliveryEngine engine(config, std::move(sinks), clock, {});
    ASSERT_TRUE(engine.Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
    for (int i = 0; i < 200; ++i) {
      const std::string line =
          "{\"k\":\"" + std::to_string(i % 3) + "\",\"i\":" + std::to_string(i) + "}";
      ASSERT_TRUE(
          engine.Accept(*config.pipelines[0], {{"k=" + std::to_string(i % 3) + "/", line + "\n"}})
              .ok());
      accepted.insert(line);
    }
    // Simulate a crash: the engine goes away without storing anything (the sink fails).
    engine.Shutdown(absl::ZeroDuration());
  }
  // Restart twice (replay idempotence), the second time with a working sink.
  auto* sink2 = new FakeObjectSink;
  DeliveryEngine::Sinks sinks2;
  sinks2["p"] = std::unique_ptr<ObjectSink>(sink2);
  DeliveryEngine engine2(config, std::move(sinks2), clock, {});
  WalReplayStats stats;
  ASSERT_TRUE(engine2.Recover({dir.path() + "/wal", 1 << 20, 0}, &stats).ok());
  EXPECT_EQ(engine2.Stats().recovered_records, 200);
  auto flushed = engine2.Flush("");
  ASSERT_TRUE(flushed.ok()) << flushed.status();
  const auto lines = Lines(sink2->objects());
  EXPECT_EQ(lines.size(), 200u);
  for (const auto& l : accepted) EXPECT_EQ(lines.count(l), 1u) << l;
  // Recover again on top of what engine2 stored: everything is marked stored, so a third
  // engine has nothing to re-deliver, and re-storing into the same sink adds nothing.
  const size_t objects = sink2->objects().size();
  engine2.Shutdown(absl::Seconds(5));
  auto* sink3 = new FakeObjectSink;
  DeliveryEngine::Sinks sinks3;
  sinks3["p"] = std::unique_ptr<ObjectSink>(sink3);
  DeliveryEngine engine3(config, std::move(sinks3), clock, {});
  ASSERT_TRUE(engine3.Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
  EXPECT_EQ(engine3.Stats().recovered_records, 0);
  ASSERT_TRUE(engine3.Flush("").ok());
  EXPECT_TRUE(sink3->objects().empty());
  EXPECT_GT(objects, 0u);
}

}  // namespace
}  // namespace lakehose
