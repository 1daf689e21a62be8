#include "core/base/decimal.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

// The JSON form of `n`, or "<rejected>" (and checks nothing was appended).
std::string AsJson(std::string_view n) {
  std::string out = "~";
  if (!AppendDecimalAsJson(n, &out)) {
    EXPECT_EQ(out, "~") << "rejected input left output behind: " << n;
    return "<rejected>";
  }
  return out.substr(1);
}

TEST(DecimalTest, ThirtyEightDigitIntegersKeepEveryDigit) {
  const std::string max38 = "99999999999999999999999999999999999999";
  ASSERT_EQ(max38.size(), 38u);
  EXPECT_EQ(AsJson(max38), max38);
  EXPECT_EQ(AsJson("-" + max38), "-" + max38);
  EXPECT_EQ(AsJson("12345678901234567890123456789012345678"),
            "12345678901234567890123456789012345678");
  // A double would turn this into ...5679 or 1.2345678901234568e+28.
  EXPECT_EQ(AsJson("12345678901234567890123456789"), "12345678901234567890123456789");
}

TEST(DecimalTest, ExtremeExponentsAreKept) {
  EXPECT_EQ(AsJson("9.9999999999999999999999999999999999999E+125"),
            "9.9999999999999999999999999999999999999E+125");
  EXPECT_EQ(AsJson("1E-130"), "1E-130");
  EXPECT_EQ(AsJson("-1E-130"), "-1E-130");
  EXPECT_EQ(AsJson("1e5"), "1e5");
  EXPECT_EQ(AsJson("2.5e-3"), "2.5e-3");
}

TEST(DecimalTest, NegativeAndFractionsAreKept) {
  EXPECT_EQ(AsJson("-42"), "-42");
  EXPECT_EQ(AsJson("-0.001"), "-0.001");
  EXPECT_EQ(AsJson("1.10"), "1.10");  // trailing zero is a digit the caller sent
  EXPECT_EQ(AsJson("0"), "0");
  EXPECT_EQ(AsJson("0.5"), "0.5");
}

TEST(DecimalTest, NormalisesWhatJsonDoesNotAllow) {
  EXPECT_EQ(AsJson("+1"), "1");
  EXPECT_EQ(AsJson("+1.50"), "1.50");
  EXPECT_EQ(AsJson("007"), "7");
  EXPECT_EQ(AsJson("-007"), "-7");
  EXPECT_EQ(AsJson("000"), "0");
  EXPECT_EQ(AsJson("00.5"), "0.5");
  EXPECT_EQ(AsJson(".5"), "0.5");
  EXPECT_EQ(AsJson("-.5"), "-0.5");
  EXPECT_EQ(AsJson("5."), "5");
  EXPECT_EQ(AsJson("5.E3"), "5E3");
  EXPECT_EQ(AsJson("+5e+3"), "5E+3");
}

TEST(DecimalTest, RejectsWhatIsNotADecimal) {
  for (const char* bad : {"",      "abc",  "1e",    "1e+", "NaN", "nan",   "Infinity", "-Infinity",
                          "inf",   "0x10", " 1",    "1 ",  "+",   "-",     ".",        "-.",
                          "1.2.3", "e5",   "1e5.5", "--1", "+-1", "1,000", "1_000",    "１"}) {
    EXPECT_EQ(AsJson(bad), "<rejected>") << "\"" << bad << "\"";
    EXPECT_FALSE(IsDecimal(bad)) << "\"" << bad << "\"";
  }
}

TEST(DecimalTest, IsDecimalAcceptsTheDocumentedForms) {
  for (const char* good : {"0", "-0", "+1.50", "007", ".5", "5.", "1E+125", "1e-130", "12.34E5"}) {
    EXPECT_TRUE(IsDecimal(good)) << good;
  }
}

TEST(DecimalTest, OutputIsValidJsonNumberGrammar) {
  // JSON: -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
  auto json_number = [](const std::string& s) {
    size_t i = 0;
    auto digits = [&] {
      size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      return i - start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0')
      ++i;
    else if (digits() == 0)
      return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (digits() == 0) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (digits() == 0) return false;
    }
    return i == s.size();
  };
  for (const char* in : {"+1", "007", ".5", "5.", "-.5e3", "00.00", "+0", "-00", "0.", "1E+125"}) {
    const std::string out = AsJson(in);
    EXPECT_TRUE(json_number(out)) << in << " -> " << out;
  }
}

TEST(SplitDecimalTest, PartsAreViewsOfTheText) {
  DecimalParts p;
  ASSERT_TRUE(SplitDecimal("-012.340E+5", &p));
  EXPECT_TRUE(p.negative);
  EXPECT_FALSE(p.plus_sign);
  EXPECT_EQ(p.int_digits, "012");
  EXPECT_TRUE(p.has_point);
  EXPECT_EQ(p.frac_digits, "340");
  EXPECT_TRUE(p.has_exponent);
  EXPECT_EQ(p.exponent, "+5");
  DecimalParts q;
  ASSERT_TRUE(SplitDecimal("+5.", &q));
  EXPECT_TRUE(q.plus_sign);
  EXPECT_EQ(q.int_digits, "5");
  EXPECT_TRUE(q.has_point);
  EXPECT_TRUE(q.frac_digits.empty());
  EXPECT_FALSE(q.has_exponent);
  DecimalParts r;
  ASSERT_TRUE(SplitDecimal(".5", &r));
  EXPECT_TRUE(r.int_digits.empty());
  EXPECT_EQ(r.frac_digits, "5");
  for (const char* bad : {"", "-", ".", "1e", "1e+", "1.2.3", "1 "}) {
    DecimalParts ignored;
    EXPECT_FALSE(SplitDecimal(bad, &ignored)) << '"' << bad << '"';
  }
}

TEST(SplitDecimalTest, ExponentValueSaturates) {
  auto exponent = [](std::string_view n) {
    DecimalParts p;
    EXPECT_TRUE(SplitDecimal(n, &p)) << n;
    return DecimalExponent(p);
  };
  EXPECT_EQ(exponent("1"), 0);
  EXPECT_EQ(exponent("1e7"), 7);
  EXPECT_EQ(exponent("1E+0125"), 125);
  EXPECT_EQ(exponent("1e-130"), -130);
  EXPECT_EQ(exponent("1e999999999"), 999999999);
  EXPECT_EQ(exponent("1e99999999999999999999999"), 999999999);
  EXPECT_EQ(exponent("1e-99999999999999999999999"), -999999999);
}

TEST(DecimalToInt64Test, IntegersAndTruncationTowardZero) {
  EXPECT_EQ(DecimalToInt64("0"), 0);
  EXPECT_EQ(DecimalToInt64("1700000000000"), 1700000000000);
  EXPECT_EQ(DecimalToInt64("-5"), -5);
  EXPECT_EQ(DecimalToInt64("1.9"), 1);
  EXPECT_EQ(DecimalToInt64("-1.9"), -1);
  EXPECT_EQ(DecimalToInt64("+7"), 7);
  EXPECT_EQ(DecimalToInt64(".5"), 0);
  EXPECT_EQ(DecimalToInt64("abc"), std::nullopt);
  EXPECT_EQ(DecimalToInt64(""), std::nullopt);
  EXPECT_EQ(DecimalToInt64("2024-01-01T00:00:00Z"), std::nullopt);
}

TEST(DecimalToInt64Test, ShiftsConvertUnits) {
  EXPECT_EQ(DecimalToInt64("1700000000.25", 3), 1700000000250);  // s -> ms
  EXPECT_EQ(DecimalToInt64("1700000000", 3), 1700000000000);
  EXPECT_EQ(DecimalToInt64("1700000000.2", 3), 1700000000200);
  EXPECT_EQ(DecimalToInt64("1700000000.123456", 3), 1700000000123);
  EXPECT_EQ(DecimalToInt64("1700000000123456", -3), 1700000000123);  // us -> ms
  EXPECT_EQ(DecimalToInt64("1700000000123999", -3), 1700000000123);
  EXPECT_EQ(DecimalToInt64("999", -3), 0);
  EXPECT_EQ(DecimalToInt64("-1500", -3), -1);
}

TEST(DecimalToInt64Test, Exponents) {
  EXPECT_EQ(DecimalToInt64("1.7E9", 3), 1700000000000);
  EXPECT_EQ(DecimalToInt64("1.7e+12"), 1700000000000);
  EXPECT_EQ(DecimalToInt64("17E-1"), 1);
  EXPECT_EQ(DecimalToInt64("1E-130"), 0);
  EXPECT_EQ(DecimalToInt64("1E-130", 3), 0);
  EXPECT_EQ(DecimalToInt64("1E+18"), 1000000000000000000);
  EXPECT_EQ(DecimalToInt64("1E+125"), std::nullopt);
  EXPECT_EQ(DecimalToInt64("9.9999999999999999999999999999999999999E+125"), std::nullopt);
  EXPECT_EQ(DecimalToInt64("1E+999999999"), std::nullopt);
  EXPECT_EQ(DecimalToInt64("1E-999999999"), 0);
}

TEST(DecimalToInt64Test, OverflowIsNullopt) {
  EXPECT_EQ(DecimalToInt64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(DecimalToInt64("9223372036854775808"), std::nullopt);
  EXPECT_EQ(DecimalToInt64("99999999999999999999999999999999999999"), std::nullopt);
  EXPECT_EQ(DecimalToInt64("9223372036854776", 3), std::nullopt);  // ms overflow after shift
  EXPECT_EQ(DecimalToInt64("9223372036854775", 3), 9223372036854775000);
  EXPECT_EQ(DecimalToInt64("-9223372036854775809"), std::nullopt);
}

TEST(DecimalToInt64Test, Int64MinFits) {
  EXPECT_EQ(DecimalToInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(DecimalToInt64("-9223372036854775.808", 3), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(DecimalToInt64("-9.223372036854775808E18"), std::numeric_limits<int64_t>::min());
}

// Regression: DecimalToInt64 used to count leading zeros towards its 40-digit overflow
// limit, so a small value written with many leading zeros gave nullopt.
TEST(DecimalToInt64Test, LeadingZerosDoNotCountTowardsOverflow) {
  const std::string zeros(45, '0');
  EXPECT_EQ(DecimalToInt64(zeros + "1"), 1);
  EXPECT_EQ(DecimalToInt64(zeros + "1700000000", 3), 1700000000000);
}

}  // namespace
}  // namespace lakehose

namespace lakehose {
namespace {

// IsJsonNumber is a hand-written scanner (it runs on every N value); it must accept
// exactly RFC 8259's number grammar. Every string of up to 5 characters over an alphabet
// of the interesting characters, checked against the grammar as a regex.
TEST(DecimalTest, IsJsonNumberIsExactlyTheRfc8259Grammar) {
  const std::regex grammar(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
  const std::string alphabet = "-+0159.eE x";
  std::vector<std::string> strings = {""};
  for (int len = 1; len <= 5; ++len) {
    std::vector<std::string> longer;
    for (const auto& s : strings)
      if (static_cast<int>(s.size()) == len - 1)
        for (char c : alphabet) longer.push_back(s + c);
    strings.insert(strings.end(), longer.begin(), longer.end());
  }
  for (const auto& s : strings)
    ASSERT_EQ(IsJsonNumber(s), std::regex_match(s, grammar)) << '"' << s << '"';
  EXPECT_TRUE(IsJsonNumber("1700018460533"));
  EXPECT_TRUE(IsJsonNumber("-9.9999999999999999999999999999999999999E+125"));
  EXPECT_FALSE(IsJsonNumber(std::string_view("1\0", 2)));
}

}  // namespace
}  // namespace lakehose

namespace lakehose {
namespace {

// DecimalToInt64 has a fast path for plain digit strings of up to 18 characters (no shift);
// it must agree with the general path around its edges.
TEST(DecimalTest, DecimalToInt64FastPathEdges) {
  EXPECT_EQ(DecimalToInt64("000000000000000012"), 12);
  EXPECT_EQ(DecimalToInt64("999999999999999999"), 999999999999999999);  // 18 digits: fast
  EXPECT_EQ(DecimalToInt64("9223372036854775807"), INT64_MAX);          // 19: general
  EXPECT_EQ(DecimalToInt64("9223372036854775808"), std::nullopt);
  EXPECT_EQ(DecimalToInt64("0000000000000000001"), 1);
  EXPECT_EQ(DecimalToInt64("1700000000123", 0), 1700000000123);
  EXPECT_EQ(DecimalToInt64("1700000000", 3), 1700000000000);  // shifted: general
  EXPECT_EQ(DecimalToInt64("12a"), std::nullopt);
  EXPECT_EQ(DecimalToInt64(""), std::nullopt);
  EXPECT_EQ(DecimalToInt64("1e3"), 1000);
}

}  // namespace
}  // namespace lakehose
