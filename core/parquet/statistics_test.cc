#include "core/parquet/statistics.h"

#include <string>
#include <vector>

#include "core/parquet/encoding.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

TEST(StatisticsTest, Int64MinMaxAndNulls) {
  ChunkValues v;
  v.defined = {1, 0, 1, 1, 0};
  v.ints = {5, -3, 12};
  const Statistics s = ComputeStatistics(ParquetType::kInt64, 1, v);
  EXPECT_EQ(s.null_count, 2);
  ASSERT_TRUE(s.has_min_max);
  EXPECT_EQ(s.min, Int64Bytes(-3));
  EXPECT_EQ(s.max, Int64Bytes(12));
  EXPECT_EQ(ComputeStatistics(ParquetType::kTimestampMillis, 1, v).max, Int64Bytes(12));
}

TEST(StatisticsTest, NestedNullsAreEntriesBelowTheValueLevel) {
  ChunkValues v;
  v.defined = {3, 2, 0, 1, 3};  // a value, a null element, a null list, an empty list
  v.ints = {1, 2};
  EXPECT_EQ(ComputeStatistics(ParquetType::kInt64, 3, v).null_count, 3);
}

TEST(StatisticsTest, OnlyNullsHaveNoMinMax) {
  ChunkValues v;
  v.defined = {0, 0};
  const Statistics s = ComputeStatistics(ParquetType::kString, 1, v);
  EXPECT_EQ(s.null_count, 2);
  EXPECT_FALSE(s.has_min_max);
}

TEST(StatisticsTest, DoubleZerosAreSigned) {
  ChunkValues v;
  v.defined = {1, 1};
  v.doubles = {0.0, 2.5};
  Statistics s = ComputeStatistics(ParquetType::kDouble, 1, v);
  EXPECT_EQ(s.min, DoubleBytes(-0.0));  // a zero min is written as -0.0
  EXPECT_EQ(s.max, DoubleBytes(2.5));
  v.doubles = {-1.0, -0.0};
  s = ComputeStatistics(ParquetType::kDouble, 1, v);
  EXPECT_EQ(s.min, DoubleBytes(-1.0));
  EXPECT_EQ(s.max, DoubleBytes(0.0));  // a zero max as +0.0
}

TEST(StatisticsTest, StringsCompareAsUnsignedBytes) {
  ChunkValues v;
  v.defined = {1, 1, 1};
  v.bytes = {"b", "\xc3\xa9", "a"};
  Statistics s = ComputeStatistics(ParquetType::kString, 1, v);
  EXPECT_EQ(s.min, "a");
  EXPECT_EQ(s.max, "\xc3\xa9");
  // Longer than kMaxStatisticsBytes: no min/max at all, the null count still.
  const std::string big(kMaxStatisticsBytes + 1, 'z');
  v.defined = {1, 1, 0};
  v.bytes = {"a", big};
  s = ComputeStatistics(ParquetType::kJson, 1, v);
  EXPECT_FALSE(s.has_min_max);
  EXPECT_EQ(s.null_count, 1);
  v.bytes = {"a", std::string_view(big).substr(1)};
  EXPECT_TRUE(ComputeStatistics(ParquetType::kBinary, 1, v).has_min_max);
}

TEST(StatisticsTest, DecimalsAndBooleans) {
  ChunkValues d;
  d.defined = {1, 1};
  d.decimals = {200, -25};
  Statistics s = ComputeStatistics(ParquetType::kDecimal, 1, d);
  EXPECT_EQ(s.min, Int128BigEndian(-25));
  EXPECT_EQ(s.max, Int128BigEndian(200));
  ChunkValues b;
  b.defined = {1, 1};
  b.bools = {1, 1};
  s = ComputeStatistics(ParquetType::kBool, 1, b);
  EXPECT_EQ(s.min, std::string(1, '\1'));
  EXPECT_EQ(s.max, std::string(1, '\1'));
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
