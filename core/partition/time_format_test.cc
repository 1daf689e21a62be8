#include "core/partition/time_format.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

constexpr int64_t kT = 1700000000000;            // 2023-11-14T22:13:20.000Z, a Tuesday
constexpr int64_t kLeapDay = 1709210096789;      // 2024-02-29T12:34:56.789Z
constexpr int64_t kNewYearsEve = 1735689599000;  // 2024-12-31T23:59:59Z (leap year: day 366)

std::string Strftime(std::string_view pattern, int64_t ms,
                     absl::TimeZone tz = absl::UTCTimeZone()) {
  auto f = TimeFormat::FromStrftime(pattern, tz);
  if (!f.ok()) return "<error: " + std::string(f.status().message()) + ">";
  return f->Format(ms);
}

std::string Java(std::string_view pattern, int64_t ms) {
  auto f = TimeFormat::FromJavaPattern(pattern);
  if (!f.ok()) return "<error: " + std::string(f.status().message()) + ">";
  return f->Format(ms);
}

TEST(TimeFormatTest, StrftimeDirectFields) {
  EXPECT_EQ(Strftime("%Y", kT), "2023");
  EXPECT_EQ(Strftime("%m", kT), "11");
  EXPECT_EQ(Strftime("%d", kT), "14");
  EXPECT_EQ(Strftime("%H", kT), "22");
  EXPECT_EQ(Strftime("%M", kT), "13");
  EXPECT_EQ(Strftime("%S", kT), "20");
  EXPECT_EQ(Strftime("%j", kT), "318");
  EXPECT_EQ(Strftime("%y", kT), "23");
  EXPECT_EQ(Strftime("%%", kT), "%");
  EXPECT_EQ(Strftime("year=%Y/month=%m/day=%d/hour=%H/100%%", kT),
            "year=2023/month=11/day=14/hour=22/100%");
}

TEST(TimeFormatTest, StrftimePadsWithZeros) {
  constexpr int64_t kJan1 = 946684800000 + 3723000;  // 2000-01-01T01:02:03Z
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S %j %y", kJan1), "2000-01-01 01:02:03 001 00");
}

TEST(TimeFormatTest, StrftimeFallbackConversionsUseAbsl) {
  EXPECT_EQ(Strftime("%b", kT), "Nov");
  EXPECT_EQ(Strftime("%A", kT), "Tuesday");
  EXPECT_EQ(Strftime("%Y-%b-%d %A", kT), "2023-Nov-14 Tuesday");
  EXPECT_EQ(Strftime("%s", kT), "1700000000");
  EXPECT_EQ(Strftime("%z", kT), "+0000");
}

TEST(TimeFormatTest, LeapDayAndDayOfYear) {
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S %j", kLeapDay), "2024-02-29 12:34:56 060");
  EXPECT_EQ(Strftime("%Y-%m-%d %j", kLeapDay + 86400000), "2024-03-01 061");
  EXPECT_EQ(Strftime("%j", kNewYearsEve), "366");
  EXPECT_EQ(Strftime("%Y-%m-%d %j", kNewYearsEve + 1000), "2025-01-01 001");
  // 1900 is not a leap year: its day 60 is March 1.
  EXPECT_EQ(Strftime("%Y-%m-%d %j", -2203891200000), "1900-03-01 060");
}

TEST(TimeFormatTest, InstantsBeforeTheEpoch) {
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S %j", -1), "1969-12-31 23:59:59 365");
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S", -1000), "1969-12-31 23:59:59");
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S", -1001), "1969-12-31 23:59:58");
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S %j", -14182940000), "1969-07-20 20:17:40 201");
  EXPECT_EQ(Java("yyyy-MM-dd HH:mm:ss.SSS", -1), "1969-12-31 23:59:59.999");
  EXPECT_EQ(Java("yyyy-MM-dd HH:mm:ss.SSS", -86400000LL * 365), "1969-01-01 00:00:00.000");
}

TEST(TimeFormatTest, DirectFieldsAgreeWithAbslFormatTime) {
  // The direct (civil arithmetic) path must give what absl::FormatTime gives.
  const std::string pattern = "%Y-%m-%d %H:%M:%S %j";
  auto f = TimeFormat::FromStrftime(pattern, absl::UTCTimeZone());
  ASSERT_TRUE(f.ok());
  for (int64_t ms = -5'000'000'000'000; ms < 5'000'000'000'000; ms += 7'777'777'777) {
    EXPECT_EQ(f->Format(ms),
              absl::FormatTime(pattern, absl::FromUnixMillis(ms), absl::UTCTimeZone()))
        << ms;
  }
}

TEST(TimeFormatTest, FixedOffsetZone) {
  const absl::TimeZone plus_5_30 = absl::FixedTimeZone(5 * 3600 + 30 * 60);
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M", kT, plus_5_30), "2023-11-15 03:43");
  const absl::TimeZone minus_1 = absl::FixedTimeZone(-3600);
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S", 0, minus_1), "1969-12-31 23:00:00");
  EXPECT_EQ(Strftime("%j", 0, minus_1), "365");
}

TEST(TimeFormatTest, NamedTimeZone) {
  absl::TimeZone ny;
  if (!absl::LoadTimeZone("America/New_York", &ny)) {
    GTEST_SKIP() << "tzdata absent (America/New_York not loadable): skipping named zone test";
  }
  EXPECT_EQ(Strftime("%Y-%m-%d %H:%M:%S", kT, ny), "2023-11-14 17:13:20");  // EST, UTC-5
  EXPECT_EQ(Strftime("%Y-%m-%d %H", 1719835200000, ny), "2024-07-01 08");   // EDT, UTC-4
  // Spring forward on 2024-03-10: 06:59:59Z is 01:59:59 EST, 07:00:00Z is 03:00:00 EDT.
  EXPECT_EQ(Strftime("%H:%M:%S", 1710053999000, ny), "01:59:59");
  EXPECT_EQ(Strftime("%H:%M:%S", 1710054000000, ny), "03:00:00");
  // The date changes at local midnight, not UTC midnight.
  EXPECT_EQ(Strftime("%d", kNewYearsEve, ny), "31");
  EXPECT_EQ(Strftime("%Y %A %Z", kT, ny), "2023 Tuesday EST");
}

TEST(TimeFormatTest, StrftimeRejectsBadPatterns) {
  EXPECT_FALSE(TimeFormat::FromStrftime("", absl::UTCTimeZone()).ok());
  EXPECT_FALSE(TimeFormat::FromStrftime("%Y%", absl::UTCTimeZone()).ok());
}

TEST(TimeFormatTest, PatternIsKept) {
  auto f = TimeFormat::FromStrftime("%Y/%m", absl::UTCTimeZone());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->pattern(), "%Y/%m");
  std::string out = "p/";
  f->Append(kT, &out);
  EXPECT_EQ(out, "p/2023/11");
}

TEST(TimeFormatTest, JavaPatternFields) {
  EXPECT_EQ(Java("yyyy/MM/dd/HH", kT), "2023/11/14/22");
  EXPECT_EQ(Java("yyyy/MM/dd", kLeapDay), "2024/02/29");
  EXPECT_EQ(Java("yy-MM-dd HH:mm:ss.SSS", kLeapDay), "24-02-29 12:34:56.789");
  EXPECT_EQ(Java("DDD", kLeapDay), "060");
  EXPECT_EQ(Java("SSS", kT + 7), "007");
}

TEST(TimeFormatTest, JavaPatternQuotedText) {
  EXPECT_EQ(Java("'year='yyyy'/month='MM", kT), "year=2023/month=11");
  EXPECT_EQ(Java("yyyy'T'HH", kT), "2023T22");
  EXPECT_EQ(Java("HH''mm", kT), "22'13");             // '' outside quotes is a quote
  EXPECT_EQ(Java("'yyyy MM dd'", kT), "yyyy MM dd");  // letters inside quotes are text
}

// Regression: inside quoted text, '' is a literal quote (java.time DateTimeFormatter:
// "'o''clock'" formats as "o'clock"); FromJavaPattern used to end the quoted run at the
// first quote and drop the pair ("oclock").
TEST(TimeFormatTest, JavaPatternDoubledQuoteInsideQuotedText) {
  EXPECT_EQ(Java("HH 'o''clock'", kT), "22 o'clock");
}

TEST(TimeFormatTest, JavaPatternIsAlwaysUtc) {
  EXPECT_EQ(Java("HH", 0), "00");
  EXPECT_EQ(Java("yyyy-MM-dd", -1), "1969-12-31");
}

TEST(TimeFormatTest, JavaPatternRejectsUnsupportedLetters) {
  for (const char* bad : {"YYYY", "yyy", "y", "M", "MMM", "EEE", "hh", "a", "z", "Z", "dd/ww",
                          "yyyyMMddX", "S", "SSSSSS", "'unterminated", ""}) {
    EXPECT_FALSE(TimeFormat::FromJavaPattern(bad).ok()) << bad;
  }
  auto st = TimeFormat::FromJavaPattern("yyyy-EEE");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("EEE"), absl::string_view::npos) << st.status();
}

// Regression: for instants within 808 ms of INT64_MIN, ToCivil's `secs * 1000` used to
// overflow int64 (signed-overflow UB, fatal under UBSan). Run in a child process so that a
// sanitizer abort fails only this test.
TEST(TimeFormatTest, Int64ExtremesDoNotOverflow) {
  EXPECT_EXIT(
      {
        bool ok = true;
        for (int64_t ms :
             {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 500,
              std::numeric_limits<int64_t>::max()}) {
          const std::string want = absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromUnixMillis(ms),
                                                    absl::UTCTimeZone());
          const std::string got = Java("yyyy-MM-dd HH:mm:ss.SSS", ms);
          if (got != want) {
            std::fprintf(stderr, "%lld: got %s want %s\n", static_cast<long long>(ms), got.c_str(),
                         want.c_str());
            ok = false;
          }
        }
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace lakehose
