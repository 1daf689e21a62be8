#include "core/base/log_throttle.h"

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(LogThrottleTest, ReportsEveryOccurrenceOncePerPeriod) {
  LogThrottle t(1000);
  EXPECT_EQ(t.Count(5000), 0);  // the period starts here
  EXPECT_EQ(t.Count(5400), 0);
  EXPECT_EQ(t.Count(5999), 0);
  EXPECT_EQ(t.Count(6000), 4);  // all four, this one included
  EXPECT_EQ(t.Count(6001), 0);  // a new period from here
  EXPECT_EQ(t.Count(7000), 0);
  EXPECT_EQ(t.Count(7001), 3);
}

TEST(LogThrottleTest, TakeReturnsWhatWasNotReportedAndStartsOver) {
  LogThrottle t(1000);
  EXPECT_EQ(t.Take(), 0);
  EXPECT_EQ(t.Count(0), 0);
  EXPECT_EQ(t.Count(10), 0);
  EXPECT_EQ(t.Take(), 2);
  EXPECT_EQ(t.Take(), 0);
  EXPECT_EQ(t.Count(5000), 0);  // a fresh period, not the one before the Take
  EXPECT_EQ(t.Count(5999), 0);
  EXPECT_EQ(t.Count(6000), 3);
}

}  // namespace
}  // namespace lakehose
