#include "core/partition/time_format.h"

#include "absl/time/civil_time.h"
#include "core/base/strings.h"

namespace lakehose {
namespace {

struct Civil {
  int64_t year;
  int month, day, hour, minute, second, millis, yday;
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int DayOfYear(int64_t y, int m, int d) {
  static constexpr int kCum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return kCum[m - 1] + d + (leap && m > 2 ? 1 : 0);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil ToCivil(int64_t unix_ms, bool utc, const absl::TimeZone& tz) {
  Civil c;
  // Computed without multiplying back, which overflows near INT64_MIN.
  const int64_t secs = FloorDiv(unix_ms, 1000);
  c.millis = static_cast<int>(((unix_ms % 1000) + 1000) % 1000);
  if (utc) {
    const int64_t days = FloorDiv(secs, 86400);
    const int64_t rem = secs - days * 86400;
    CivilFromDays(days, &c.year, &c.month, &c.day);
    c.hour = static_cast<int>(rem / 3600);
    c.minute = static_cast<int>(rem / 60 % 60);
    c.second = static_cast<int>(rem % 60);
  } else {
    const absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(secs), tz);
    c.year = cs.year();
    c.month = cs.month();
    c.day = cs.day();
    c.hour = cs.hour();
    c.minute = cs.minute();
    c.second = cs.second();
  }
  c.yday = DayOfYear(c.year, c.month, c.day);
  return c;
}

void AppendPadded(int64_t v, int width, std::string* out) {
  // Written backwards into a local buffer and appended once (a push_back per digit was
  // most of the cost of a partition key's date; bench/README.md).
  char buf[48];
  char* const end = buf + sizeof(buf);
  char* p = end;
  const bool negative = v < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0);
  while (end - p < width) *--p = '0';
  if (negative) *--p = '-';
  out->append(p, static_cast<size_t>(end - p));
}

}  // namespace

absl::StatusOr<TimeFormat> TimeFormat::FromStrftime(std::string_view pattern, absl::TimeZone tz) {
  TimeFormat f;
  f.pattern_ = std::string(pattern);
  f.tz_ = tz;
  f.utc_ = tz.name() == "UTC";
  if (pattern.empty()) return absl::InvalidArgumentError("format is empty");
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) f.tokens_.push_back({Field::kLiteral, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      literal.push_back(pattern[i]);
      continue;
    }
    if (i + 1 >= pattern.size()) return absl::InvalidArgumentError("format ends with a lone '%'");
    const char c = pattern[++i];
    Field field;
    switch (c) {
      case 'Y':
        field = Field::kYear4;
        break;
      case 'y':
        field = Field::kYear2;
        break;
      case 'm':
        field = Field::kMonth;
        break;
      case 'd':
        field = Field::kDay;
        break;
      case 'H':
        field = Field::kHour;
        break;
      case 'M':
        field = Field::kMinute;
        break;
      case 'S':
        field = Field::kSecond;
        break;
      case 'j':
        field = Field::kDayOfYear;
        break;
      case '%':
        literal.push_back('%');
        continue;
      default:
        f.use_absl_ = true;  // e.g. %A, %b, %z, %s: absl::FormatTime knows them all
        continue;
    }
    flush();
    f.tokens_.push_back({field, {}});
  }
  flush();
  return f;
}

absl::StatusOr<TimeFormat> TimeFormat::FromJavaPattern(std::string_view pattern) {
  TimeFormat f;
  f.pattern_ = std::string(pattern);
  if (pattern.empty()) return absl::InvalidArgumentError("timestamp pattern is empty");
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) f.tokens_.push_back({Field::kLiteral, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '\'') {
      // '' is a quote, inside quoted text or out of it; 'text' is literal text.
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        literal.push_back('\'');
        i += 2;
        continue;
      }
      size_t j = i + 1;
      for (;;) {
        if (j >= pattern.size())
          return absl::InvalidArgumentError("unterminated quote in timestamp pattern");
        if (pattern[j] != '\'') {
          literal.push_back(pattern[j++]);
        } else if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
          literal.push_back('\'');
          j += 2;
        } else {
          break;
        }
      }
      i = j + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      literal.push_back(c);
      ++i;
      continue;
    }
    size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == c) ++run;
    Field field;
    if (c == 'y' && run == 4)
      field = Field::kYear4;
    else if (c == 'y' && run == 2)
      field = Field::kYear2;
    else if (c == 'M' && run == 2)
      field = Field::kMonth;
    else if (c == 'd' && run == 2)
      field = Field::kDay;
    else if (c == 'H' && run == 2)
      field = Field::kHour;
    else if (c == 'm' && run == 2)
      field = Field::kMinute;
    else if (c == 's' && run == 2)
      field = Field::kSecond;
    else if (c == 'S' && run == 3)
      field = Field::kMillis;
    else if (c == 'D' && run == 3)
      field = Field::kDayOfYear;
    else
      return absl::InvalidArgumentError(StrCat(
          "unsupported field '", pattern.substr(i, run),
          "' in timestamp pattern (supported: yyyy yy MM dd HH mm ss SSS DDD, 'quoted text')"));
    flush();
    f.tokens_.push_back({field, {}});
    i += run;
  }
  flush();
  return f;
}

void TimeFormat::Append(int64_t unix_ms, std::string* out) const {
  if (use_absl_) {
    out->append(absl::FormatTime(pattern_, absl::FromUnixMillis(unix_ms), tz_));
    return;
  }
  const Civil c = ToCivil(unix_ms, utc_, tz_);
  for (const Token& t : tokens_) {
    switch (t.field) {
      case Field::kLiteral:
        out->append(t.literal);
        break;
      case Field::kYear4:
        AppendPadded(c.year, 4, out);
        break;
      case Field::kYear2:
        AppendPadded(((c.year % 100) + 100) % 100, 2, out);
        break;
      case Field::kMonth:
        AppendPadded(c.month, 2, out);
        break;
      case Field::kDay:
        AppendPadded(c.day, 2, out);
        break;
      case Field::kHour:
        AppendPadded(c.hour, 2, out);
        break;
      case Field::kMinute:
        AppendPadded(c.minute, 2, out);
        break;
      case Field::kSecond:
        AppendPadded(c.second, 2, out);
        break;
      case Field::kMillis:
        AppendPadded(c.millis, 3, out);
        break;
      case Field::kDayOfYear:
        AppendPadded(c.yday, 3, out);
        break;
    }
  }
}

std::string TimeFormat::Format(int64_t unix_ms) const {
  std::string out;
  Append(unix_ms, &out);
  return out;
}

}  // namespace lakehose
