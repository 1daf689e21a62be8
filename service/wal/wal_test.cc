// The WAL on disk: replay order, torn tails, segment rotation and release, group commit,
// and the delivery engine's recovery (replay idempotence, no duplicates after a crash).
#include "service/wal/wal.h"

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base/compress.h"
#include "core/base/strings.h"
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

std::string AcceptPayload(int first, int lines) {
  std::vector<std::string> bodies;
  std::vector<std::pair<std::string_view, std::string_view>> views;
  bodies.reserve(lines);
  for (int i = 0; i < lines; ++i) bodies.push_back(std::to_string(first + i) + "\n");
  for (const auto& b : bodies) views.emplace_back("k=0/", b);
  std::string p;
  EncodeWalAccept("p", 1700000000000, views, &p);
  return p;
}

std::string LargestSegment(const std::string& dir) {
  std::string path;
  uintmax_t size = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".wal" || !e.is_regular_file()) continue;
    if (const auto s = std::filesystem::file_size(e.path()); s > size) {
      size = s;
      path = e.path().string();
    }
  }
  return path;
}

// Inverts 8 bytes in the middle of the file.
void FlipMiddle(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f);
  f.seekg(0, std::ios::end);
  const std::streamoff middle = f.tellg() / 2;
  char bytes[8];
  f.seekg(middle);
  f.read(bytes, 8);
  for (char& b : bytes) b = static_cast<char>(~b);
  f.seekp(middle);
  f.write(bytes, 8);
}

// Writes `frames` frames of `type` (payload(i) for the i-th) into the log in `dir`.
void WriteLog(const std::string& dir, int64_t segment_bytes, int frames, WalType type,
              const std::function<std::string(int)>& payload) {
  auto wal = Wal::Open(
      {dir, segment_bytes, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
  ASSERT_TRUE(wal.ok()) << wal.status();
  for (int i = 0; i < frames; ++i) ASSERT_TRUE((*wal)->Append(type, payload(i)).ok());
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
  WriteLog(dir.path(), 1 << 20, 10, WalType::kStored,
           [](int i) { return KeyPayload("key" + std::to_string(i)); });
  segment_path = LargestSegment(dir.path());
  ASSERT_FALSE(segment_path.empty());
  const auto size = std::filesystem::file_size(segment_path);
  std::filesystem::resize_file(segment_path, size - 3);  // a write cut short by a crash
  WalReplayStats stats;
  const auto keys = ReplayKeys(dir.path(), &stats);
  EXPECT_EQ(keys.size(), 9u);
  EXPECT_EQ(stats.corrupt_tails, 1);
  EXPECT_GT(stats.skipped_bytes, 0);
  // A torn tail is just a torn tail: nothing counted lost, the segment is deleted as usual.
  EXPECT_EQ(stats.damaged_segments, 0);
  EXPECT_EQ(stats.records_lost, 0);
  auto wal = Wal::Open(
      {dir.path(), 1 << 20, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
  ASSERT_TRUE(wal.ok());
  (*wal)->ReleaseBefore((*wal)->current_segment());
  EXPECT_FALSE(std::filesystem::exists(segment_path));
  EXPECT_EQ((*wal)->KeptAsideSegments(), 0);
}

// The issue's case: 8 bytes flipped in the middle of a segment used to end its replay
// there (everything after was skipped, and released with the segment on the next Flush).
TEST(WalTest, DamagedMiddleOfASegmentLosesOnlyTheDamagedFrame) {
  TempDir dir;
  WriteLog(dir.path(), 1 << 20, 100, WalType::kStored,
           [](int i) { return KeyPayload("key" + std::to_string(i)); });
  FlipMiddle(LargestSegment(dir.path()));
  const auto keys = ReplayKeys(dir.path(), nullptr);
  // One frame (two if the 8 bytes straddle a boundary) is lost; all others are replayed.
  EXPECT_GE(keys.size(), 98u);
  EXPECT_LT(keys.size(), 100u);
  EXPECT_EQ(keys.front(), "key0");
  EXPECT_EQ(keys.back(), "key99");
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

TEST(WalTest, RefusesNewRecordsWhenTheDiskIsNearlyFull) {
  TempDir dir;
  // Ask for more free space than any disk has: every kAccept is refused, nothing written.
  auto wal = Wal::Open(
      {dir.path(), 1 << 20, int64_t{1} << 62}, [](WalType, std::string_view, uint64_t) {}, nullptr);
  ASSERT_TRUE(wal.ok());
  auto lsn = (*wal)->Append(WalType::kAccept, AcceptPayload(0, 3));
  EXPECT_EQ(lsn.status().code(), absl::StatusCode::kResourceExhausted);
  // The message names the directory and the floor, and says when to retry.
  const std::string message(StatusMessage(lsn.status()));
  EXPECT_NE(message.find(StrCat("disk under ", dir.path(), " has less than ")), std::string::npos)
      << message;
  EXPECT_NE(message.find("retry in 1 s"), std::string::npos) << message;
  EXPECT_EQ((*wal)->disk_bytes(), 0);
}

// Regression (issue 13, a disk full during an S3 outage): the floor refused every frame,
// so below it no buffer could be sealed and no store or hand-off to the DLQ could be
// logged (a restart then uploaded the objects again). Frames that record progress are
// small and bounded by what is already buffered or sealed: they pass under the floor.
TEST(WalTest, ProgressFramesAreLoggedUnderTheFreeSpaceFloor) {
  TempDir dir;
  std::string seal;
  EncodeWalSeal({"p", "k=0/", "p/k=0/o1.jsonl.zst", 3, 0}, &seal);
  {
    auto wal = Wal::Open(
        {dir.path(), 1 << 20, int64_t{1} << 62}, [](WalType, std::string_view, uint64_t) {},
        nullptr);
    ASSERT_TRUE(wal.ok());
    EXPECT_EQ((*wal)->Append(WalType::kAccept, AcceptPayload(0, 3)).status().code(),
              absl::StatusCode::kResourceExhausted);
    for (WalType type : {WalType::kSeal, WalType::kStored, WalType::kDeadLettered}) {
      auto lsn = (*wal)->Append(type, type == WalType::kSeal ? seal : KeyPayload("p/k=0/o1"));
      ASSERT_TRUE(lsn.ok()) << lsn.status();
      ASSERT_TRUE((*wal)->Sync(*lsn).ok());
    }
  }
  std::vector<WalType> types;
  auto reopened = Wal::Open(
      {dir.path(), 1 << 20, 0},
      [&](WalType type, std::string_view, uint64_t) { types.push_back(type); }, nullptr);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(types,
            (std::vector<WalType>{WalType::kSeal, WalType::kStored, WalType::kDeadLettered}));
}

// 5,000 records in kAccept frames of 10; 8 bytes flipped mid-segment.
TEST(WalTest, DamagedSegmentCountsTheRecordsLostAndIsKeptAsideNotDeleted) {
  TempDir dir;
  WriteLog(dir.path(), 1 << 20, 500, WalType::kAccept,
           [](int f) { return AcceptPayload(f * 10, 10); });
  const std::string path = LargestSegment(dir.path());
  FlipMiddle(path);
  std::string damaged_bytes;
  {
    std::ifstream in(path, std::ios::binary);
    damaged_bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<int64_t> records;
  WalReplayStats stats;
  auto wal = Wal::Open(
      {dir.path(), 1 << 20, 0},
      [&](WalType type, std::string_view payload, uint64_t) {
        WalAccept a;
        ASSERT_EQ(type, WalType::kAccept);
        ASSERT_TRUE(DecodeWalAccept(payload, &a));
        for (const auto& [prefix, line] : a.lines) records.push_back(std::stoll(std::string(line)));
      },
      &stats);
  ASSERT_TRUE(wal.ok());
  // Every intact frame, before and after the damage; the loss counted in records.
  EXPECT_GE(records.size(), 4980u);
  EXPECT_LE(records.size(), 4990u);
  EXPECT_EQ(stats.records_lost, 5000 - static_cast<int64_t>(records.size()));
  EXPECT_EQ(stats.frames_lost, stats.records_lost / 10);
  EXPECT_EQ(stats.damaged_segments, 1);
  EXPECT_EQ(stats.corrupt_tails, 0);
  EXPECT_EQ(records.front(), 0);
  EXPECT_EQ(records.back(), 4999);
  // Released: moved aside, byte for byte, never deleted; a reopen does not replay it. A
  // segment kept aside earlier under the same name (numbers restart when the live log is
  // emptied by hand) is not replaced: this one takes a suffix.
  const std::filesystem::path name = std::filesystem::path(path).filename();
  const std::string earlier = (*wal)->damaged_dir() + "/" + name.string();
  std::filesystem::create_directories((*wal)->damaged_dir());
  std::ofstream(earlier) << "kept aside before";
  (*wal)->ReleaseBefore((*wal)->current_segment());
  EXPECT_FALSE(std::filesystem::exists(path));
  const std::string aside = (*wal)->damaged_dir() + "/" + name.stem().string() + ".1.wal";
  ASSERT_TRUE(std::filesystem::exists(aside));
  std::ifstream in(aside, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), damaged_bytes);
  std::ifstream first(earlier);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(first), {}), "kept aside before");
  EXPECT_EQ((*wal)->KeptAsideSegments(), 2);
  wal->reset();
  WalReplayStats again;
  EXPECT_TRUE(ReplayKeys(dir.path(), &again).empty());
  EXPECT_EQ(again.damaged_segments, 0);
  EXPECT_EQ(again.frames, 0);
}

// A damaged tail is a torn tail only if it held nothing acknowledged: the next segment's
// start says where the log was when the segment was closed.
TEST(WalTest, DamagedTailOfAClosedSegmentCountsAsDamage) {
  TempDir dir;
  WriteLog(dir.path(), 4096, 100, WalType::kAccept,
           [](int f) { return AcceptPayload(f * 10, 10); });
  ASSERT_TRUE(std::filesystem::exists(dir.path() + "/0000000000000003.wal"));
  const std::string first = dir.path() + "/0000000000000001.wal";
  const auto size = std::filesystem::file_size(first);
  std::filesystem::resize_file(first, size - 5);  // its last frame, rotated past long ago
  int64_t replayed = 0;
  WalReplayStats stats;
  auto wal = Wal::Open(
      {dir.path(), 4096, 0},
      [&](WalType type, std::string_view payload, uint64_t) {
        replayed += static_cast<int64_t>(WalRecordCount(type, payload));
      },
      &stats);
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(replayed, 990);
  EXPECT_EQ(stats.records_lost, 10);
  EXPECT_EQ(stats.frames_lost, 1);
  EXPECT_EQ(stats.damaged_segments, 1);
  EXPECT_EQ(stats.corrupt_tails, 0);
}

TEST(WalTest, ReplaysSegmentsOfTheEarlierFormat) {
  TempDir dir;
  std::string seg;
  std::vector<size_t> offsets;
  for (int i = 0; i < 5; ++i) {
    offsets.push_back(seg.size());
    const std::string p = KeyPayload("old" + std::to_string(i));
    const uint8_t t = static_cast<uint8_t>(WalType::kStored);
    uLong crc = crc32(0L, &t, 1);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p.data()), static_cast<uInt>(p.size()));
    for (uint32_t v : {static_cast<uint32_t>(p.size()), static_cast<uint32_t>(crc)})
      for (int b = 0; b < 4; ++b) seg.push_back(static_cast<char>(v >> (8 * b)));
    seg.push_back(static_cast<char>(t));
    seg += p;
  }
  seg[offsets[2] + 10] ^= 0x20;
  {
    std::ofstream out(dir.path() + "/0000000000000003.wal", std::ios::binary);
    out << seg;
  }
  WalReplayStats stats;
  EXPECT_EQ(ReplayKeys(dir.path(), &stats),
            (std::vector<std::string>{"old0", "old1", "old3", "old4"}));
  EXPECT_EQ(stats.damaged_segments, 1);
  EXPECT_EQ(stats.uncounted_segments, 1);  // format 1: the loss cannot be counted
  EXPECT_EQ(stats.records_lost, 0);
  // New frames follow in a new segment and replay after the old ones.
  {
    auto wal = Wal::Open(
        {dir.path(), 1 << 20, 0}, [](WalType, std::string_view, uint64_t) {}, nullptr);
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append(WalType::kStored, KeyPayload("new")).ok());
  }
  EXPECT_EQ(ReplayKeys(dir.path(), nullptr).back(), "new");
}

// The engine side: accept, "crash" (drop the engine without flushing), recover; then the
// same again with a sink that already holds the sealed object (a crash between upload and
// the stored mark): nothing is lost, nothing duplicated.

// One pipeline `p` partitioned by `k`, zstd, buffers sealed at `size_mb`.
Config TestConfig(std::string_view size_mb = "0.001") {
  auto config = ParseTestConfig(StrCat(R"yaml(
pipelines:
  - name: p
    input: json
    partition_keys:
      k: { attribute: k }
    destination: { kind: file, path: /unused, compression: zstd, buffering: { size_mb: )yaml",
                                       size_mb, R"yaml(, interval_s: 3600 } }
)yaml"));
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

// The delivery engine over a damaged log: every intact record is delivered once, the
// loss is counted, and the engine's releases never delete the damaged segment.
TEST(WalRecoveryTest, DamagedSegmentIsDeliveredExceptTheDamageAndNeverReleased) {
  TempDir dir;
  const Config config = TestConfig("64");  // nothing seals before the crash
  FakeClock clock(1700000000000);
  std::vector<std::string> sent;
  {
    DeliveryEngine::Sinks sinks;
    sinks["p"] = std::make_unique<FakeObjectSink>();
    DeliveryEngine engine(config, std::move(sinks), clock, {});
    ASSERT_TRUE(engine.Recover({dir.path() + "/wal", 1 << 20, 0}, nullptr).ok());
    for (int r = 0; r < 50; ++r) {
      std::vector<BufferedLine> lines;
      for (int i = r * 100; i < (r + 1) * 100; ++i) {
        sent.push_back("{\"k\":\"" + std::to_string(i % 3) + "\",\"i\":" + std::to_string(i) + "}");
        lines.push_back({"k=" + std::to_string(i % 3) + "/", sent.back() + "\n"});
      }
      ASSERT_TRUE(engine.Accept(*config.pipelines[0], std::move(lines)).ok());
    }
    // A crash: the engine goes away with everything still buffered (nothing sealed).
  }
  const std::string path = LargestSegment(dir.path() + "/wal");
  FlipMiddle(path);
  auto* sink = new FakeObjectSink;
  DeliveryEngine::Sinks sinks;
  sinks["p"] = std::unique_ptr<ObjectSink>(sink);
  Metrics metrics(config);
  DeliveryEngine::Options options;
  options.metrics = &metrics;
  DeliveryEngine engine(config, std::move(sinks), clock, options);
  WalReplayStats stats;
  ASSERT_TRUE(engine.Recover({dir.path() + "/wal", 1 << 20, 0}, &stats).ok());
  EXPECT_EQ(stats.damaged_segments, 1);
  // The 8 bytes hit one request's frame (two if they straddle a boundary).
  EXPECT_TRUE(stats.records_lost == 100 || stats.records_lost == 200) << stats.records_lost;
  EXPECT_EQ(engine.Stats().recovered_records, 5000 - stats.records_lost);
  auto flushed = engine.Flush("");
  ASSERT_TRUE(flushed.ok()) << flushed.status();
  const auto lines = Lines(sink->objects());
  EXPECT_EQ(static_cast<int64_t>(lines.size()), 5000 - stats.records_lost);
  int64_t missing = 0;
  for (const auto& l : sent) {
    EXPECT_LE(lines.count(l), 1u) << l;
    missing += lines.count(l) == 0;
  }
  EXPECT_EQ(missing, stats.records_lost);
  // Everything in it is stored, so the flush released it: kept aside, not deleted.
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/wal/damaged/" +
                                      std::filesystem::path(path).filename().string()));
  metrics.Refresh();
  EXPECT_EQ(metrics.wal_segments_kept_aside().Value(), 1.0);
}

}  // namespace
}  // namespace lakehose
