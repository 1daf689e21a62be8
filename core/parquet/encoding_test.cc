#include "core/parquet/encoding.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

using absl::BytesToHexString;

std::string Rle(const std::vector<uint32_t>& values, int width) {
  std::string s;
  AppendRleHybrid(values, width, &s);
  return BytesToHexString(s);
}

TEST(RleHybridTest, Encodings) {
  // Ten ones: one RLE run (header 10 << 1 = 0x14, then the value in one byte).
  EXPECT_EQ(Rle(std::vector<uint32_t>(10, 1), 1), "1401");
  // Short: one bit-packed group (header 1 << 1 | 1), LSB first, padded.
  EXPECT_EQ(Rle({1, 0, 1}, 1), "0305");
  EXPECT_EQ(Rle({1, 0, 1, 0, 1, 0, 1, 0, 1}, 1),
            "05"
            "5501");
  // Width 2: 0,1,2,3 -> 0b11100100.
  EXPECT_EQ(Rle({0, 1, 2, 3}, 2),
            "03"
            "e400");
  // A literal group then a long run.
  std::vector<uint32_t> mixed = {1, 0, 1, 0, 1, 0, 1, 0};
  mixed.insert(mixed.end(), 20, 1);
  EXPECT_EQ(Rle(mixed, 1),
            "0355"
            "2801");
  // Values above one byte take two bytes in a run.
  EXPECT_EQ(Rle(std::vector<uint32_t>(8, 300), 9),
            "10"
            "2c01");
}

// The bit-packing example of the format's Encodings.md: 0..7 with bit width 3 packs to
// 10001000 11000110 11111010, behind the header of one group of 8.
TEST(RleHybridTest, SpecBitPackingExample) {
  EXPECT_EQ(Rle({0, 1, 2, 3, 4, 5, 6, 7}, 3), "0388c6fa");
}

TEST(RleHybridTest, RunHeaderIsAVarint) {
  // 300 << 1 = 600 = 0xd8 0x04 as a ULEB128 varint.
  EXPECT_EQ(Rle(std::vector<uint32_t>(300, 0), 1), "d80400");
  // Eight equal values are already a run; seven are bit-packed.
  EXPECT_EQ(Rle(std::vector<uint32_t>(8, 3), 2), "1003");
  EXPECT_EQ(Rle(std::vector<uint32_t>(7, 3), 2), "03ff3f");
  EXPECT_EQ(Rle({}, 1), "");
}

TEST(RleHybridTest, RunsStartOnlyAtGroupBoundaries) {
  // A run that starts inside a group: its start is bit-packed with that group, the
  // rest, from the group boundary, is a run.
  std::vector<uint32_t> v = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  // Group 1: 0,0,0,0,1,1,1,1 -> 0xf0. From index 8: twelve ones, a run.
  EXPECT_EQ(Rle(v, 1),
            "03f0"
            "1801");
}

TEST(BitWidthTest, Widths) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(4), 3);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
}

TEST(PlainTest, FixedWidthValues) {
  EXPECT_EQ(BytesToHexString(Int64Bytes(-2)), "feffffffffffffff");
  EXPECT_EQ(BytesToHexString(Int64Bytes(0x0102030405060708)), "0807060504030201");
  EXPECT_EQ(BytesToHexString(DoubleBytes(1.0)), "000000000000f03f");
  EXPECT_EQ(BytesToHexString(DoubleBytes(-0.0)), "0000000000000080");
  // DECIMAL: the unscaled value, 16 bytes big-endian two's complement.
  EXPECT_EQ(BytesToHexString(Int128BigEndian(-25)), "ffffffffffffffffffffffffffffffe7");
  EXPECT_EQ(BytesToHexString(Int128BigEndian(200)), "000000000000000000000000000000c8");
  std::string out;
  AppendPlainInt64(7, &out);
  AppendPlainDouble(1.0, &out);
  AppendPlainDecimal(1, &out);
  EXPECT_EQ(BytesToHexString(out),
            "0700000000000000"
            "000000000000f03f"
            "00000000000000000000000000000001");
}

TEST(PlainTest, ByteArraysHaveALengthPrefix) {
  std::string out;
  AppendPlainByteArray("ab", &out);
  AppendPlainByteArray("", &out);
  EXPECT_EQ(BytesToHexString(out),
            "020000006162"
            "00000000");
}

TEST(PlainTest, BooleansArePackedLeastSignificantBitFirst) {
  std::string out;
  PlainBooleans b;
  for (bool v : {true, false, true, true, false, false, false, false}) b.Append(v, &out);
  EXPECT_EQ(BytesToHexString(out), "0d");  // appended once the byte is full
  b.Append(true, &out);
  EXPECT_EQ(out.size(), 1u);
  b.Flush(&out);
  EXPECT_EQ(BytesToHexString(out), "0d01");
  b.Flush(&out);  // nothing pending
  EXPECT_EQ(out.size(), 2u);
}

TEST(DictionaryTest, EntriesInOrderOfFirstAppearance) {
  std::optional<Dictionary> d = BuildDictionary({"b", "a", "b", "b", "a", "b"}, 10, 100);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->entries, (std::vector<std::string_view>{"b", "a"}));
  EXPECT_EQ(d->indices, (std::vector<uint32_t>{0, 1, 0, 0, 1, 0}));
}

TEST(DictionaryTest, OnlyWhenItPays) {
  EXPECT_FALSE(BuildDictionary({}, 10, 100).has_value());
  // Half the values distinct is the most allowed.
  EXPECT_TRUE(BuildDictionary({"a", "b", "a", "b"}, 10, 100).has_value());
  EXPECT_FALSE(BuildDictionary({"a", "b", "c", "a"}, 10, 100).has_value());
  // Entry limit.
  EXPECT_TRUE(BuildDictionary({"a", "b", "a", "b"}, 2, 100).has_value());
  EXPECT_FALSE(BuildDictionary({"a", "b", "a", "b"}, 1, 100).has_value());
  EXPECT_FALSE(BuildDictionary({"a", "a"}, 0, 100).has_value());
  // Byte limit: each entry counts its 4-byte length.
  EXPECT_TRUE(BuildDictionary({"a", "b", "a", "b"}, 10, 10).has_value());
  EXPECT_FALSE(BuildDictionary({"a", "b", "a", "b"}, 10, 9).has_value());
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
