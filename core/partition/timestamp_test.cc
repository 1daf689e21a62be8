#include "core/partition/timestamp.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

constexpr int kSeconds = 3, kMillis = 0, kMicros = -3;

std::optional<int64_t> S(std::string_view text, int shift10 = kMillis) {
  return ParseTimestampMillis(text, /*is_string=*/true, shift10);
}
std::optional<int64_t> N(std::string_view text, int shift10 = kMillis) {
  return ParseTimestampMillis(text, /*is_string=*/false, shift10);
}

TEST(TimestampTest, NumbersInEachUnit) {
  EXPECT_EQ(N("1700000000000"), 1700000000000);
  EXPECT_EQ(N("1700000000", kSeconds), 1700000000000);
  EXPECT_EQ(N("1700000000.25", kSeconds), 1700000000250);
  EXPECT_EQ(N("1700000000000123", kMicros), 1700000000000);
  EXPECT_EQ(N("0"), 0);
  EXPECT_EQ(N("-1000"), -1000);  // before the epoch is a time
  EXPECT_EQ(N("1.7E+12"), 1700000000000);
  EXPECT_EQ(S("1700000000000"), 1700000000000);  // digits in an S: the unit applies
}

TEST(TimestampTest, Rfc3339Strings) {
  EXPECT_EQ(S("2024-02-29T12:34:56Z"), 1709210096000);
  EXPECT_EQ(S("2024-02-29T12:34:56.789Z"), 1709210096789);
  EXPECT_EQ(S("2024-02-29t12:34:56z"), 1709210096000);
  EXPECT_EQ(S("2024-02-29T23:30:00-05:00"), 1709267400000);
  EXPECT_EQ(S("1969-12-31T23:59:59Z"), -1000);
}

// Regression: each of these present-but-invalid values used to be taken as "missing", so
// the record silently got its fallback (the creation time) instead of failing.
TEST(TimestampTest, PresentButInvalidValuesAreNotTimestamps) {
  for (std::string_view bad : {"yesterday",
                               "",
                               " ",
                               "n/a",
                               "2023-02-30T00:00:00Z",
                               "2023-13-01T00:00:00Z",
                               "2023-04-31T00:00:00Z",
                               "2023-02-29T00:00:00Z",
                               "2024-02-29T24:00:00Z",
                               "2024-02-29T12:60:00Z",
                               "2024-02-29T12:34:56",  // no offset
                               "2024-02-29",
                               " 2024-02-29T12:34:56Z",
                               "2024-02-29T12:34:56Z ",
                               "+2024-02-29T12:34:56Z",
                               "12024-02-29T12:34:56Z",
                               "2024-02-29T12:34:56.Z",
                               "2024-02-29T12:34:56+0500",
                               "infinite-future",
                               "infinite-past",
                               "1e30",
                               "-1e30",
                               "12345678901234567890123",  // 23 digits: beyond int64 ms
                               "NaN",
                               "Infinity",
                               "0x10",
                               "1,5",
                               "true"}) {
    EXPECT_EQ(S(bad), std::nullopt) << "S \"" << bad << "\"";
    EXPECT_EQ(N(bad), std::nullopt) << "N \"" << bad << "\"";
  }
  EXPECT_EQ(N("1E+125"), std::nullopt);
  EXPECT_EQ(N("9223372036854775807", kSeconds), std::nullopt);  // overflows in ms
  // An N is never read as RFC 3339.
  EXPECT_EQ(N("2024-02-29T12:34:56Z"), std::nullopt);
}

TEST(TimestampTest, Int64Bounds) {
  EXPECT_EQ(N("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(N("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(N("9223372036854775808"), std::nullopt);
}

}  // namespace
}  // namespace lakehose
