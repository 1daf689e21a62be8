#include "core/parquet/number.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

// "digits e pow", "-" first if negative, or "<rejected>".
std::string Normal(std::string_view t) {
  std::optional<Significand> s = NumberText(t);
  if (!s) return "<rejected>";
  return std::string(s->negative ? "-" : "") + s->digits + "e" + std::to_string(s->pow);
}

TEST(NumberTextTest, SignificantDigitsAndPower) {
  EXPECT_EQ(Normal("12.30e-1"), "123e-2");
  EXPECT_EQ(Normal("-1500"), "-15e2");
  EXPECT_EQ(Normal("0.001"), "1e-3");
  EXPECT_EQ(Normal("1E+2"), "1e2");
  EXPECT_EQ(Normal("-0.000"), "e0");  // zero: no digits, never negative
  EXPECT_EQ(Normal("0e5"), "e0");
  EXPECT_EQ(Normal("007"), "7e0");  // a string holding a number may have leading zeros
  // Exponents beyond any type saturate instead of overflowing.
  EXPECT_EQ(Normal("1e99999999999999999999"), "1e999999999");
}

TEST(NumberTextTest, RejectsWhatJsonRejects) {
  for (const char* bad :
       {"", "-", "+5", ".5", "5.", "1e", "1e+", "1.2.3", " 1", "1 ", "0x10", "NaN", "one"})
    EXPECT_EQ(Normal(bad), "<rejected>") << '"' << bad << '"';
}

TEST(FastInt64Test, ShortIntegersOnly) {
  EXPECT_EQ(FastInt64("123456789012345678"), 123456789012345678);  // 18 digits
  EXPECT_EQ(FastInt64("-123456789012345678"), -123456789012345678);
  EXPECT_EQ(FastInt64("1234567890123456789"), std::nullopt);  // 19: the slow path decides
  EXPECT_EQ(FastInt64("0"), 0);
  EXPECT_EQ(FastInt64("1.0"), std::nullopt);
  EXPECT_EQ(FastInt64("1e2"), std::nullopt);
  EXPECT_EQ(FastInt64("-"), std::nullopt);
  EXPECT_EQ(FastInt64(""), std::nullopt);
}

TEST(NumberTest, ScaleAndUnscaledValue) {
  EXPECT_EQ(NeededScale(*NumberText("1.25")), 2);
  EXPECT_EQ(NeededScale(*NumberText("1.50")), 1);
  EXPECT_EQ(NeededScale(*NumberText("1e3")), 0);
  EXPECT_EQ(Unscaled(*NumberText("1.5"), 4), Int128{15000});
  EXPECT_EQ(Unscaled(*NumberText("-0.25"), 2), Int128{-25});
  EXPECT_EQ(Unscaled(*NumberText("0"), 7), Int128{0});
  EXPECT_EQ(Unscaled(*NumberText("1.23456"), 4), std::nullopt);  // would lose a digit
  const std::string nines(38, '9');
  EXPECT_TRUE(Unscaled(*NumberText(nines), 0).has_value());
  EXPECT_EQ(Unscaled(*NumberText(nines), 1), std::nullopt);  // 39 digits
  EXPECT_EQ(Unscaled(*NumberText("1e125"), 0), std::nullopt);
}

TEST(NumberTest, ToInt64) {
  EXPECT_EQ(ToInt64(*NumberText("9223372036854775807")), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ToInt64(*NumberText("-9223372036854775808")), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ToInt64(*NumberText("9223372036854775808")), std::nullopt);
  EXPECT_EQ(ToInt64(*NumberText("1E2")), 100);
  EXPECT_EQ(ToInt64(*NumberText("12.0")), 12);
  EXPECT_EQ(ToInt64(*NumberText("1.5")), std::nullopt);
  EXPECT_EQ(ToInt64(*NumberText("1e19")), std::nullopt);
  EXPECT_EQ(ToInt64(*NumberText("-0")), 0);
}

TEST(NumberTest, DoubleValueRefusesNumbersBeyondDoubleRange) {
  EXPECT_EQ(DoubleValue("1.5"), 1.5);
  EXPECT_EQ(DoubleValue("-0"), 0.0);
  EXPECT_EQ(DoubleValue("0e-999999"), 0.0);  // a zero stays a zero
  EXPECT_EQ(DoubleValue("1e308"), 1e308);
  EXPECT_GT(DoubleValue("1e-320").value_or(0), 0.0);  // subnormal, kept
  EXPECT_EQ(DoubleValue("1e999999"), std::nullopt);   // would be Infinity
  EXPECT_EQ(DoubleValue("-1e999999"), std::nullopt);
  EXPECT_EQ(DoubleValue("1E-999999"), std::nullopt);  // would be 0
  EXPECT_EQ(DoubleValue(std::string(400, '9')), std::nullopt);
  for (std::string_view t : {"1e999999", "1E-999999", "2e-324", "1.8e308"}) {
    EXPECT_FALSE(FitsDouble(*NumberText(t), t)) << t;
  }
  for (std::string_view t : {"1e300", "1.7e308", "5e-324", "123.25", "0"}) {
    EXPECT_TRUE(FitsDouble(*NumberText(t), t)) << t;
  }
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
