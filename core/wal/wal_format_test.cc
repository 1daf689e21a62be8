#include "core/wal/wal_format.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

std::string Segment(int frames) {
  std::string seg;
  for (int i = 0; i < frames; ++i) {
    std::string payload;
    EncodeWalAccept("p", 1700000000000 + i, {{"a/b=" + std::to_string(i) + "/", "{\"x\":1}\n"}},
                    &payload);
    AppendWalFrame(WalType::kAccept, payload, &seg);
  }
  return seg;
}

int CountFrames(std::string_view seg, WalReader::Result* last, size_t* offset) {
  WalReader r(seg);
  WalType type;
  std::string_view payload;
  int n = 0;
  while ((*last = r.Next(&type, &payload)) == WalReader::Result::kFrame) ++n;
  *offset = r.offset();
  return n;
}

TEST(WalFormatTest, RoundTripsEveryType) {
  std::string seg, payload;
  EncodeWalAccept("pipe", 42, {{"x/", "line1\n"}, {"y/", "line2\n"}}, &payload);
  AppendWalFrame(WalType::kAccept, payload, &seg);
  payload.clear();
  EncodeWalSeal({"pipe", "x/", "x/pipe-w-0000000000000001.jsonl.gz", 1}, &payload);
  AppendWalFrame(WalType::kSeal, payload, &seg);
  payload.clear();
  EncodeWalKey("x/pipe-w-0000000000000001.jsonl.gz", &payload);
  AppendWalFrame(WalType::kStored, payload, &seg);

  WalReader r(seg);
  WalType type;
  std::string_view p;
  ASSERT_EQ(r.Next(&type, &p), WalReader::Result::kFrame);
  ASSERT_EQ(type, WalType::kAccept);
  WalAccept a;
  ASSERT_TRUE(DecodeWalAccept(p, &a));
  EXPECT_EQ(a.pipeline, "pipe");
  EXPECT_EQ(a.accept_ms, 42);
  ASSERT_EQ(a.lines.size(), 2u);
  EXPECT_EQ(a.lines[1].first, "y/");
  EXPECT_EQ(a.lines[1].second, "line2\n");
  ASSERT_EQ(r.Next(&type, &p), WalReader::Result::kFrame);
  ASSERT_EQ(type, WalType::kSeal);
  WalSeal s;
  ASSERT_TRUE(DecodeWalSeal(p, &s));
  EXPECT_EQ(s.key, "x/pipe-w-0000000000000001.jsonl.gz");
  EXPECT_EQ(s.records, 1);
  ASSERT_EQ(r.Next(&type, &p), WalReader::Result::kFrame);
  ASSERT_EQ(type, WalType::kStored);
  std::string_view key;
  ASSERT_TRUE(DecodeWalKey(p, &key));
  EXPECT_EQ(key, s.key);
  EXPECT_EQ(r.Next(&type, &p), WalReader::Result::kEnd);
}

TEST(WalFormatTest, EmptySegmentIsACleanEnd) {
  WalReader::Result last;
  size_t offset;
  EXPECT_EQ(CountFrames("", &last, &offset), 0);
  EXPECT_EQ(last, WalReader::Result::kEnd);
}

TEST(WalFormatTest, TornWriteAtEveryLengthKeepsEarlierFrames) {
  const std::string seg = Segment(5);
  WalReader::Result last;
  size_t full_offset;
  ASSERT_EQ(CountFrames(seg, &last, &full_offset), 5);
  const size_t frame = seg.size() / 5;
  // Cut the last frame at every length: the first four always survive.
  for (size_t cut = 1; cut < frame; ++cut) {
    size_t offset;
    const std::string torn = seg.substr(0, seg.size() - cut);
    EXPECT_EQ(CountFrames(torn, &last, &offset), 4) << "cut " << cut;
    EXPECT_EQ(last, WalReader::Result::kCorrupt) << "cut " << cut;
    EXPECT_EQ(offset, 4 * frame);
  }
}

TEST(WalFormatTest, FlippedBitAnywhereIsDetected) {
  const std::string seg = Segment(3);
  const size_t frame = seg.size() / 3;
  for (size_t byte = frame; byte < 2 * frame; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = seg;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      WalReader::Result last;
      size_t offset;
      const int n = CountFrames(damaged, &last, &offset);
      // The damaged (second) frame and everything after it are unreadable; the first is kept.
      EXPECT_EQ(n, 1) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(last, WalReader::Result::kCorrupt);
    }
  }
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
}

}  // namespace
}  // namespace lakehose
