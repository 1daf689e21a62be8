#include "core/wal/wal_format.h"

#include <zlib.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

constexpr uint64_t kSegment = 7;

std::string AcceptPayload(int first, int lines) {
  std::vector<std::string> prefixes, bodies;
  for (int i = 0; i < lines; ++i) {
    prefixes.push_back("a/b=" + std::to_string((first + i) % 3) + "/");
    bodies.push_back("{\"i\":" + std::to_string(first + i) + "}\n");
  }
  std::vector<std::pair<std::string_view, std::string_view>> views;
  for (int i = 0; i < lines; ++i) views.emplace_back(prefixes[i], bodies[i]);
  std::string payload;
  EncodeWalAccept("p", 1700000000000 + first, views, &payload);
  return payload;
}

// A format-2 segment of `frames` kAccept frames of `lines` records each, starting at
// `start`; `offsets` gets where each frame begins.
std::string Segment(int frames, int lines = 1, WalPosition start = {},
                    std::vector<size_t>* offsets = nullptr) {
  std::string seg;
  AppendWalSegmentHeader(start, &seg);
  WalPosition at = start;
  for (int i = 0; i < frames; ++i) {
    const std::string payload = AcceptPayload(i * lines, lines);
    if (offsets) offsets->push_back(seg.size());
    AppendWalFrame(kSegment, at, WalType::kAccept, payload, &seg);
    at = NextWalPosition(at, WalType::kAccept, payload);
  }
  return seg;
}

struct Read {
  std::vector<WalFrame> frames;
  std::vector<WalDamage> damage;
  std::vector<int64_t> records;  // the "i" of every line read, in order
};

Read ReadAll(std::string_view seg, std::optional<WalPosition> expected = std::nullopt) {
  Read out;
  WalReader reader(seg, kSegment, expected);
  WalFrame frame;
  WalDamage damage;
  for (int steps = 0; steps < 1000000; ++steps) {
    const WalReader::Result r = reader.Next(&frame, &damage);
    if (r == WalReader::Result::kEnd) break;
    if (r == WalReader::Result::kDamage) {
      out.damage.push_back(damage);
      continue;
    }
    out.frames.push_back(frame);
    WalAccept a;
    if (frame.type == WalType::kAccept && DecodeWalAccept(frame.payload, &a))
      for (const auto& [prefix, line] : a.lines)
        out.records.push_back(std::stoll(std::string(line.substr(5))));
  }
  return out;
}

// A format-1 frame, as earlier versions wrote it.
void AppendV1Frame(WalType type, std::string_view payload, std::string* out) {
  const unsigned char t = static_cast<unsigned char>(type);
  uLong crc = crc32(0L, &t, 1);
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  const uint32_t len = static_cast<uint32_t>(payload.size());
  for (uint32_t v : {len, static_cast<uint32_t>(crc)})
    for (int b = 0; b < 4; ++b) out->push_back(static_cast<char>(v >> (8 * b)));
  out->push_back(static_cast<char>(type));
  out->append(payload);
}

TEST(WalFormatTest, RoundTripsEveryType) {
  std::string seg, payload;
  AppendWalSegmentHeader({10, 100}, &seg);
  EncodeWalAccept("pipe", 42, {{"x/", "line1\n"}, {"y/", "line2\n"}}, &payload);
  AppendWalFrame(kSegment, {10, 100}, WalType::kAccept, payload, &seg);
  EXPECT_EQ(NextWalPosition({10, 100}, WalType::kAccept, payload), (WalPosition{11, 102}));
  payload.clear();
  EncodeWalSeal({"pipe", "x/", "x/pipe-w-0000000000000001.jsonl.gz", 1}, &payload);
  AppendWalFrame(kSegment, {11, 102}, WalType::kSeal, payload, &seg);
  payload.clear();
  EncodeWalKey("x/pipe-w-0000000000000001.jsonl.gz", &payload);
  AppendWalFrame(kSegment, {12, 102}, WalType::kStored, payload, &seg);

  WalReader r(seg, kSegment);
  EXPECT_EQ(r.format(), 2);
  ASSERT_TRUE(r.start().has_value());
  EXPECT_EQ(*r.start(), (WalPosition{10, 100}));
  WalFrame f;
  WalDamage d;
  ASSERT_EQ(r.Next(&f, &d), WalReader::Result::kFrame);
  ASSERT_EQ(f.type, WalType::kAccept);
  EXPECT_EQ(f.at, (WalPosition{10, 100}));
  WalAccept a;
  ASSERT_TRUE(DecodeWalAccept(f.payload, &a));
  EXPECT_EQ(a.pipeline, "pipe");
  EXPECT_EQ(a.accept_ms, 42);
  ASSERT_EQ(a.lines.size(), 2u);
  EXPECT_EQ(a.lines[1].first, "y/");
  EXPECT_EQ(a.lines[1].second, "line2\n");
  EXPECT_EQ(WalRecordCount(WalType::kAccept, f.payload), 2u);
  ASSERT_EQ(r.Next(&f, &d), WalReader::Result::kFrame);
  ASSERT_EQ(f.type, WalType::kSeal);
  EXPECT_EQ(WalRecordCount(WalType::kSeal, f.payload), 0u);
  WalSeal s;
  ASSERT_TRUE(DecodeWalSeal(f.payload, &s));
  EXPECT_EQ(s.key, "x/pipe-w-0000000000000001.jsonl.gz");
  EXPECT_EQ(s.records, 1);
  ASSERT_EQ(r.Next(&f, &d), WalReader::Result::kFrame);
  ASSERT_EQ(f.type, WalType::kStored);
  EXPECT_EQ(f.end, seg.size());
  std::string_view key;
  ASSERT_TRUE(DecodeWalKey(f.payload, &key));
  EXPECT_EQ(key, s.key);
  EXPECT_EQ(r.Next(&f, &d), WalReader::Result::kEnd);
  EXPECT_EQ(*r.end_position(), (WalPosition{13, 102}));
}

TEST(WalFormatTest, EmptySegmentsAreACleanEnd) {
  EXPECT_TRUE(ReadAll("").frames.empty());
  EXPECT_TRUE(ReadAll("").damage.empty());
  const std::string header_only = Segment(0, 1, {5, 50});
  const Read r = ReadAll(header_only);
  EXPECT_TRUE(r.frames.empty());
  EXPECT_TRUE(r.damage.empty());
  WalReader reader(header_only, kSegment);
  EXPECT_EQ(*reader.end_position(), (WalPosition{5, 50}));
}

TEST(WalFormatTest, TornWriteAtEveryLengthIsATailAndKeepsEarlierFrames) {
  std::vector<size_t> offsets;
  const std::string seg = Segment(5, 1, {}, &offsets);
  ASSERT_EQ(ReadAll(seg).frames.size(), 5u);
  // Cut the last frame at every length: the first four always survive, the rest is a tail.
  for (size_t keep = offsets[4] + 1; keep < seg.size(); ++keep) {
    const Read r = ReadAll(std::string_view(seg).substr(0, keep));
    EXPECT_EQ(r.frames.size(), 4u) << "keep " << keep;
    ASSERT_EQ(r.damage.size(), 1u) << "keep " << keep;
    EXPECT_TRUE(r.damage[0].tail);
    EXPECT_EQ(r.damage[0].begin, offsets[4]);
    EXPECT_EQ(r.damage[0].end, keep);
    EXPECT_EQ(r.damage[0].records_lost, -1);
  }
}

// The regression test of the issue: damage in the middle used to end the segment there.
TEST(WalFormatTest, FlippedBitAnywhereInAFrameLosesOnlyThatFrame) {
  std::vector<size_t> offsets;
  const std::string seg = Segment(3, 2, {}, &offsets);
  for (size_t byte = offsets[1]; byte < offsets[2]; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = seg;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      const Read r = ReadAll(damaged);
      // The damaged (second) frame is skipped; the first and the third are kept.
      ASSERT_EQ(r.frames.size(), 2u) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(r.records, (std::vector<int64_t>{0, 1, 4, 5}));
      ASSERT_EQ(r.damage.size(), 1u);
      EXPECT_FALSE(r.damage[0].tail);
      EXPECT_EQ(r.damage[0].begin, offsets[1]);
      EXPECT_EQ(r.damage[0].end, offsets[2]);
      EXPECT_EQ(r.damage[0].frames_lost, 1);
      EXPECT_EQ(r.damage[0].records_lost, 2);
    }
  }
}

TEST(WalFormatTest, EightFlippedBytesMidSegmentKeepEveryIntactFrameAndCountTheLoss) {
  // 5,000 records in 500 frames of 10; 8 bytes flipped at many places around the middle
  // (payloads, headers, across a frame boundary).
  std::vector<size_t> offsets;
  const std::string seg = Segment(500, 10, {1000, 20000}, &offsets);
  const size_t middle = seg.size() / 2;
  for (size_t at = middle - 150; at < middle + 150; at += 7) {
    std::string damaged = seg;
    for (size_t i = at; i < at + 8; ++i) damaged[i] = static_cast<char>(~damaged[i]);
    const Read r = ReadAll(damaged);
    // The frames the flipped bytes touch are lost, no others.
    size_t first = 0, last = 0;
    for (size_t f = 0; f < offsets.size(); ++f) {
      const size_t end = f + 1 < offsets.size() ? offsets[f + 1] : seg.size();
      if (offsets[f] < at + 8 && end > at) {
        if (last == 0) first = f;
        last = f;
      }
    }
    const size_t lost_frames = last - first + 1;
    ASSERT_EQ(r.frames.size(), 500 - lost_frames) << "at " << at;
    ASSERT_EQ(r.records.size(), 5000 - 10 * lost_frames) << "at " << at;
    for (size_t i = 0, want = 0; i < r.records.size(); ++i, ++want) {
      if (want == first * 10) want += 10 * lost_frames;
      ASSERT_EQ(r.records[i], static_cast<int64_t>(want)) << "at " << at;
    }
    ASSERT_EQ(r.damage.size(), 1u);
    EXPECT_EQ(r.damage[0].begin, offsets[first]);
    EXPECT_EQ(r.damage[0].end, offsets[last + 1]);
    EXPECT_EQ(r.damage[0].frames_lost, static_cast<int64_t>(lost_frames));
    EXPECT_EQ(r.damage[0].records_lost, static_cast<int64_t>(10 * lost_frames));
  }
}

TEST(WalFormatTest, DamagedSegmentHeaderIsCountedFromTheExpectedPosition) {
  std::vector<size_t> offsets;
  const std::string seg = Segment(3, 1, {40, 400}, &offsets);
  std::string damaged = seg;
  damaged[12] ^= 0x10;  // in the header's seq
  const Read r = ReadAll(damaged, WalPosition{40, 400});
  EXPECT_EQ(r.frames.size(), 3u);
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_EQ(r.damage[0].begin, 0u);
  EXPECT_EQ(r.damage[0].end, offsets[0]);
  EXPECT_EQ(r.damage[0].frames_lost, 0);
  EXPECT_EQ(r.damage[0].records_lost, 0);
  // Without an expected position the loss is unknown, the frames are still read.
  const Read unknown = ReadAll(damaged);
  EXPECT_EQ(unknown.frames.size(), 3u);
  ASSERT_EQ(unknown.damage.size(), 1u);
  EXPECT_EQ(unknown.damage[0].records_lost, -1);
  // The magic itself damaged: still format 2, still every frame.
  damaged = seg;
  damaged[1] = 'x';
  EXPECT_EQ(ReadAll(damaged, WalPosition{40, 400}).frames.size(), 3u);
}

// A record can hold any bytes: ones that look like a frame header, or a whole valid
// frame. Neither may be taken for a frame.
TEST(WalFormatTest, FakeFrameInsideAPayloadDoesNotDerailResync) {
  // The fake: a complete frame that verifies, numbered right after the real frame before
  // it and with a huge seq variant, wrapped in a record of frame 1.
  for (uint64_t fake_seq : {uint64_t{1}, uint64_t{2}, uint64_t{1} << 60}) {
    std::string fake;
    AppendWalFrame(kSegment, {fake_seq, 1}, WalType::kAccept, AcceptPayload(900, 1), &fake);
    std::string seg;
    AppendWalSegmentHeader({0, 0}, &seg);
    WalPosition at{0, 0};
    std::vector<size_t> offsets;
    for (int i = 0; i < 4; ++i) {
      std::string payload;
      const std::string line = "{\"i\":" + std::to_string(i) + ",\"x\":\"" + fake + "\"}\n";
      EncodeWalAccept("p", 1, {{"a/", line}}, &payload);
      offsets.push_back(seg.size());
      AppendWalFrame(kSegment, at, WalType::kAccept, payload, &seg);
      at = NextWalPosition(at, WalType::kAccept, payload);
    }
    // Damage frame 1's payload (header intact: skipped whole), then its header (resync
    // scans through the payload holding the fake).
    for (size_t where : {offsets[1] + kWalFrameHeader + 3, offsets[1] + 2}) {
      std::string damaged = seg;
      damaged[where] = static_cast<char>(damaged[where] ^ 0x55);
      const Read r = ReadAll(damaged);
      ASSERT_EQ(r.frames.size(), 3u) << "seq " << fake_seq << " at " << where;
      EXPECT_EQ(r.frames[0].at.seq, 0u);
      EXPECT_EQ(r.frames[1].at.seq, 2u);
      EXPECT_EQ(r.frames[2].at.seq, 3u);
      ASSERT_EQ(r.damage.size(), 1u);
      EXPECT_EQ(r.damage[0].begin, offsets[1]);
      EXPECT_EQ(r.damage[0].end, offsets[2]);
      EXPECT_EQ(r.damage[0].frames_lost, 1);
      EXPECT_EQ(r.damage[0].records_lost, 1);
    }
  }
}

TEST(WalFormatTest, IntactFrameBetweenTwoDamagedFramesIsKept) {
  std::vector<size_t> offsets;
  const std::string seg = Segment(6, 1, {}, &offsets);
  std::string damaged = seg;
  damaged[offsets[1] + kWalFrameHeader + 2] ^= 0x04;  // frame 1's payload
  damaged[offsets[3] + 1] ^= 0x04;                    // frame 3's header
  const Read r = ReadAll(damaged);
  EXPECT_EQ(r.records, (std::vector<int64_t>{0, 2, 4, 5}));
  ASSERT_EQ(r.damage.size(), 2u);
  EXPECT_EQ(r.damage[0].records_lost, 1);
  EXPECT_EQ(r.damage[1].records_lost, 1);
  EXPECT_EQ(r.damage[1].begin, offsets[3]);
  EXPECT_EQ(r.damage[1].end, offsets[4]);
}

TEST(WalFormatTest, FrameOfAnotherSegmentDoesNotVerify) {
  const std::string seg = Segment(2);
  WalReader reader(seg, kSegment + 1);
  WalFrame f;
  WalDamage d;
  ASSERT_EQ(reader.Next(&f, &d), WalReader::Result::kDamage);
  EXPECT_TRUE(d.tail);
}

TEST(WalFormatTest, ReadsFormatOneSegmentsAndResyncsWithoutCounting) {
  std::string seg;
  std::vector<size_t> offsets;
  for (int i = 0; i < 4; ++i) {
    offsets.push_back(seg.size());
    AppendV1Frame(WalType::kAccept, AcceptPayload(i, 1), &seg);
  }
  Read r = ReadAll(seg);
  EXPECT_EQ(r.frames.size(), 4u);
  EXPECT_TRUE(r.damage.empty());
  EXPECT_EQ(WalReader(seg, kSegment).format(), 1);
  std::string damaged = seg;
  damaged[offsets[1] + 12] ^= 0x01;
  r = ReadAll(damaged);
  EXPECT_EQ(r.records, (std::vector<int64_t>{0, 2, 3}));
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_FALSE(r.damage[0].tail);
  EXPECT_EQ(r.damage[0].end, offsets[2]);
  EXPECT_EQ(r.damage[0].records_lost, -1);  // format 1 has no numbering
}

TEST(WalFormatTest, ResyncOverGarbageIsLinearAndEndsInATail) {
  // 4 MiB of bytes that pass every cheap test of a frame header (type 1, small length).
  std::string seg = Segment(1);
  std::string junk(kWalFrameHeader, '\0');
  junk[0] = 1;
  junk[4] = 1;
  while (seg.size() < (4u << 20)) seg += junk;
  const Read r = ReadAll(seg);
  EXPECT_EQ(r.frames.size(), 1u);
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_TRUE(r.damage[0].tail);
}

TEST(WalFormatTest, MalformedPayloadsAreRejected) {
  WalAccept a;
  WalSeal s;
  std::string_view k;
  EXPECT_FALSE(DecodeWalAccept("", &a));
  EXPECT_FALSE(DecodeWalAccept("\x05pi", &a));
  EXPECT_FALSE(DecodeWalSeal("\x01p", &s));
  EXPECT_FALSE(DecodeWalKey("\x09short", &k));
  std::string payload;
  EncodeWalKey("key", &payload);
  payload.push_back('x');  // trailing garbage
  EXPECT_FALSE(DecodeWalKey(payload, &k));
  // A count larger than the payload could hold is refused before allocating.
  std::string huge = "\x01p";
  huge += '\x01';
  huge += "\xff\xff\xff\xff\x0f";
  EXPECT_FALSE(DecodeWalAccept(huge, &a));
  EXPECT_EQ(WalRecordCount(WalType::kAccept, ""), 0u);
}

}  // namespace
}  // namespace lakehose
