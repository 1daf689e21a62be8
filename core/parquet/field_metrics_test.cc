#include "core/parquet/field_metrics.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

constexpr size_t kN = kIcebergBoundTruncateLength;

TEST(FieldMetricsTest, ShortValuesAreTheirOwnBounds) {
  EXPECT_EQ(TruncatedLowerBound("abc", kN, true), "abc");
  EXPECT_EQ(TruncatedUpperBound("abc", kN, true), "abc");
  EXPECT_EQ(TruncatedUpperBound("", kN, true), "");
  const std::string sixteen = "0123456789abcdef";
  EXPECT_EQ(TruncatedLowerBound(sixteen, kN, true), sixteen);
  EXPECT_EQ(TruncatedUpperBound(sixteen, kN, true), sixteen);  // not truncated: no increment
}

TEST(FieldMetricsTest, LongStringsKeepSixteenCodePointsAndIncrementTheLast) {
  const std::string s = "0123456789abcdefXYZ";
  EXPECT_EQ(TruncatedLowerBound(s, kN, true), "0123456789abcdef");
  EXPECT_EQ(TruncatedUpperBound(s, kN, true), "0123456789abcdeg");
  // Code points, not bytes: 17 x U+00E9 (2 bytes each) keep 16 of them.
  std::string e;
  for (int i = 0; i < 17; ++i) e += "\xc3\xa9";
  EXPECT_EQ(TruncatedLowerBound(e, kN, true), e.substr(0, 32));
  EXPECT_EQ(TruncatedUpperBound(e, kN, true), e.substr(0, 30) + "\xc3\xaa");  // U+00EA
}

TEST(FieldMetricsTest, IncrementCarriesOverTheLargestCodePointsAndSkipsSurrogates) {
  const std::string max_cp = "\xf4\x8f\xbf\xbf";  // U+10FFFF
  // The 16th code point cannot be incremented: the 15th is.
  std::string s = std::string(15, 'a') + max_cp + "tail";
  EXPECT_EQ(TruncatedUpperBound(s, kN, true), std::string(14, 'a') + "b");
  // Nothing can be incremented: no upper bound.
  std::string all;
  for (int i = 0; i < 17; ++i) all += max_cp;
  EXPECT_EQ(TruncatedUpperBound(all, kN, true), std::nullopt);
  // U+D7FF + 1 is a surrogate: the next character is U+E000.
  std::string d = std::string(15, 'a') + "\xed\x9f\xbf" + "x";
  EXPECT_EQ(TruncatedUpperBound(d, kN, true), std::string(15, 'a') + "\xee\x80\x80");
  // 1-, 2-, 3- and 4-byte sequences grow where they must: U+007F -> U+0080, U+FFFF ->
  // U+10000.
  EXPECT_EQ(TruncatedUpperBound(std::string(15, 'a') + "\x7f" + "x", kN, true),
            std::string(15, 'a') + "\xc2\x80");
  EXPECT_EQ(TruncatedUpperBound(std::string(15, 'a') + "\xef\xbf\xbf" + "x", kN, true),
            std::string(15, 'a') + "\xf0\x90\x80\x80");
}

TEST(FieldMetricsTest, BinaryTruncatesBytes) {
  const std::string b = std::string(15, '\x01') + "\xff\xff";
  EXPECT_EQ(TruncatedLowerBound(b, kN, false), b.substr(0, 16));
  EXPECT_EQ(TruncatedUpperBound(b, kN, false), std::string(14, '\x01') + "\x02");
  EXPECT_EQ(TruncatedUpperBound(std::string(17, '\xff'), kN, false), std::nullopt);
  EXPECT_EQ(TruncatedUpperBound(std::string(3, '\xff'), kN, false), std::string(3, '\xff'));
}

TEST(FieldMetricsTest, DecimalsAreMinimalBigEndianTwosComplement) {
  EXPECT_EQ(MinimalBigEndian(0), std::string(1, '\0'));
  EXPECT_EQ(MinimalBigEndian(1), "\x01");
  EXPECT_EQ(MinimalBigEndian(127), "\x7f");
  EXPECT_EQ(MinimalBigEndian(128), std::string("\x00\x80", 2));
  EXPECT_EQ(MinimalBigEndian(-1), "\xff");
  EXPECT_EQ(MinimalBigEndian(-128), "\x80");
  EXPECT_EQ(MinimalBigEndian(-129), "\xff\x7f");
  EXPECT_EQ(MinimalBigEndian(12345), "\x30\x39");
  const Int128 big = static_cast<Int128>(1) << 100;
  EXPECT_EQ(MinimalBigEndian(big).size(), 13u);
  EXPECT_EQ(MinimalBigEndian(-big).size(), 13u);
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
