// The batching policy (core/delivery/batching.h): size and age thresholds, early seals under the
// byte budget and the partition cap, and the refusal rule. Pure: time is passed in.
#include "core/delivery/batching.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

BufferStats Buf(int64_t bytes, int64_t oldest_ms, int64_t records = 1) {
  BufferStats b;
  b.bytes = bytes;
  b.records = records;
  b.oldest_ms = oldest_ms;
  return b;
}

TEST(BatchingTest, FlushReasonNamesAreDistinct) {
  std::set<std::string_view> names;
  for (FlushReason r :
       {FlushReason::kNone, FlushReason::kSize, FlushReason::kAge, FlushReason::kRequested,
        FlushReason::kShutdown, FlushReason::kPressure, FlushReason::kPartitionCap})
    names.insert(FlushReasonName(r));
  EXPECT_EQ(names.size(), 7u);
  EXPECT_EQ(FlushReasonName(FlushReason::kSize), "size");
  EXPECT_EQ(FlushReasonName(FlushReason::kAge), "age");
  EXPECT_EQ(FlushReasonName(FlushReason::kPartitionCap), "partition_cap");
}

TEST(BatchingTest, AfterAddSealsExactlyAtTheSizeLimit) {
  const BufferLimits limits{1000, 60000};
  EXPECT_EQ(AfterAdd(Buf(0, 0, 0), limits), FlushReason::kNone);
  EXPECT_EQ(AfterAdd(Buf(999, 0), limits), FlushReason::kNone);
  EXPECT_EQ(AfterAdd(Buf(1000, 0), limits), FlushReason::kSize);
  EXPECT_EQ(AfterAdd(Buf(1001, 0), limits), FlushReason::kSize);
  EXPECT_EQ(AfterAdd(Buf(int64_t{1} << 40, 0), limits), FlushReason::kSize);
}

TEST(BatchingTest, AfterAddIgnoresAge) {
  const BufferLimits limits{1000, 10};
  EXPECT_EQ(AfterAdd(Buf(10, 0), limits), FlushReason::kNone);
}

TEST(BatchingTest, OnTickSealsOnceTheOldestRecordWaitedTheInterval) {
  const BufferLimits limits{1 << 20, 60000};
  const int64_t t0 = 1700000000000;
  EXPECT_EQ(OnTick(Buf(10, t0), limits, t0), FlushReason::kNone);
  EXPECT_EQ(OnTick(Buf(10, t0), limits, t0 + 59999), FlushReason::kNone);
  EXPECT_EQ(OnTick(Buf(10, t0), limits, t0 + 60000), FlushReason::kAge);
  EXPECT_EQ(OnTick(Buf(10, t0), limits, t0 + 600000), FlushReason::kAge);
}

TEST(BatchingTest, OnTickNeverSealsAnEmptyBuffer) {
  const BufferLimits limits{1 << 20, 1000};
  EXPECT_EQ(OnTick(Buf(0, 0, 0), limits, 1700000000000), FlushReason::kNone);
}

TEST(BatchingTest, OnTickWithZeroIntervalSealsAtOnce) {
  const BufferLimits limits{1 << 20, 0};
  EXPECT_EQ(OnTick(Buf(1, 500), limits, 500), FlushReason::kAge);
}

TEST(BatchingTest, OnTickIgnoresSize) {
  const BufferLimits limits{10, 60000};
  EXPECT_EQ(OnTick(Buf(1 << 20, 1000), limits, 2000), FlushReason::kNone);
}

TEST(BatchingTest, NoEarlySealsUnderTheLimits) {
  const PressureLimits limits{1000, 4};
  const std::vector<BufferStats> buffers = {Buf(100, 1), Buf(200, 2), Buf(100, 3)};
  // 400 + 100 = 500: exactly half the budget is still fine; 3 + 1 partitions fit in 4.
  EXPECT_THAT(ChooseEarlySeals(buffers, 100, 1, limits), IsEmpty());
  EXPECT_THAT(ChooseEarlySeals(buffers, 0, 0, limits), IsEmpty());
  EXPECT_THAT(ChooseEarlySeals({}, 500, 4, limits), IsEmpty());
}

TEST(BatchingTest, BudgetPressureSealsTheLargestFirstUntilHalfTheBudget) {
  const PressureLimits limits{1000, 100};
  // 50 + 300 + 120 + 200 = 670 buffered, 30 incoming: 700 > 500.
  const std::vector<BufferStats> buffers = {Buf(50, 1), Buf(300, 2), Buf(120, 3), Buf(200, 4)};
  // Sealing 300 leaves 370 + 30 = 400 <= 500: one seal is enough.
  EXPECT_THAT(ChooseEarlySeals(buffers, 30, 0, limits), ElementsAre(1));
  // With 300 incoming: 670 + 300 = 970; -300 -> 670; -200 -> 470 <= 500.
  EXPECT_THAT(ChooseEarlySeals(buffers, 300, 0, limits), ElementsAre(1, 3));
}

TEST(BatchingTest, BudgetPressureSealsEverythingWhenTheIncomingAloneIsTooLarge) {
  const PressureLimits limits{1000, 100};
  const std::vector<BufferStats> buffers = {Buf(10, 1), Buf(30, 2), Buf(20, 3)};
  EXPECT_THAT(ChooseEarlySeals(buffers, 600, 0, limits), ElementsAre(1, 2, 0));
}

TEST(BatchingTest, BudgetPressureSkipsEmptyBuffers) {
  const PressureLimits limits{100, 100};
  const std::vector<BufferStats> buffers = {Buf(0, 1, 0), Buf(0, 2, 0)};
  EXPECT_THAT(ChooseEarlySeals(buffers, 200, 0, limits), IsEmpty());
}

TEST(BatchingTest, PartitionCapSealsTheOldest) {
  const PressureLimits limits{int64_t{1} << 40, 3};
  const std::vector<BufferStats> buffers = {Buf(10, 300), Buf(10, 100), Buf(10, 200)};
  // 3 + 1 > 3: one must go, the oldest (index 1).
  EXPECT_THAT(ChooseEarlySeals(buffers, 10, 1, limits), ElementsAre(1));
  // 3 + 2 > 3: the two oldest, oldest first.
  EXPECT_THAT(ChooseEarlySeals(buffers, 10, 2, limits), ElementsAre(1, 2));
  // More new partitions than the cap: everything, once.
  EXPECT_THAT(ChooseEarlySeals(buffers, 10, 10, limits), ElementsAre(1, 2, 0));
  // No new partitions: the cap is not a reason to seal anything.
  EXPECT_THAT(ChooseEarlySeals(buffers, 10, 0, limits), IsEmpty());
}

TEST(BatchingTest, CapAndBudgetTogetherChooseEachIndexOnce) {
  const PressureLimits limits{1000, 3};
  // The oldest (index 0) is also the largest: chosen by the cap, then not again by size.
  const std::vector<BufferStats> buffers = {Buf(400, 1), Buf(300, 2), Buf(100, 3)};
  const std::vector<size_t> chosen = ChooseEarlySeals(buffers, 100, 1, limits);
  // Cap: seal 0 (400 left buffered -> 400 + 100 = 500, fits half the budget).
  EXPECT_THAT(chosen, ElementsAre(0));

  const std::vector<size_t> more = ChooseEarlySeals(buffers, 300, 1, limits);
  // Cap: 0; then 400 + 300 = 700 > 500: the largest remaining, 1 -> 100 + 300 = 400.
  EXPECT_THAT(more, ElementsAre(0, 1));
}

TEST(BatchingTest, EarlySealsNeverRepeatAnIndexUnderHeavyPressure) {
  std::vector<BufferStats> buffers;
  for (int i = 0; i < 50; ++i) buffers.push_back(Buf(1000 + (i * 37) % 500, 1000 - i));
  const PressureLimits limits{10000, 20};
  const std::vector<size_t> chosen = ChooseEarlySeals(buffers, 100000, 40, limits);
  std::set<size_t> unique(chosen.begin(), chosen.end());
  EXPECT_EQ(unique.size(), chosen.size());
  EXPECT_EQ(chosen.size(), buffers.size());  // incoming alone is over half the budget
  for (size_t i : chosen) EXPECT_LT(i, buffers.size());
}

TEST(BatchingTest, PartitionCapAloneLeavesRoomForExactlyTheNewPartitions) {
  std::vector<BufferStats> buffers;
  for (int i = 0; i < 10; ++i) buffers.push_back(Buf(1, 100 + ((i * 7) % 10)));  // ages 100..109
  const PressureLimits limits{int64_t{1} << 40, 10};
  const std::vector<size_t> chosen = ChooseEarlySeals(buffers, 1, 3, limits);
  ASSERT_EQ(chosen.size(), 3u);
  // The three oldest, in age order.
  for (size_t k = 0; k < chosen.size(); ++k)
    EXPECT_EQ(buffers[chosen[k]].oldest_ms, 100 + static_cast<int64_t>(k));
}

TEST(BatchingTest, OverBudgetCountsBufferedInFlightAndIncoming) {
  const PressureLimits limits{1000, 10};
  EXPECT_FALSE(OverBudget(0, 0, 0, limits));
  EXPECT_FALSE(OverBudget(400, 500, 100, limits));  // exactly the budget
  EXPECT_TRUE(OverBudget(400, 500, 101, limits));
  EXPECT_TRUE(OverBudget(0, 1001, 0, limits));
  EXPECT_TRUE(OverBudget(1001, 0, 0, limits));
  EXPECT_TRUE(OverBudget(0, 0, 1001, limits));
}

}  // namespace
}  // namespace lakehose
