#include "core/partition/timestamp.h"

#include <string>

#include "absl/time/time.h"
#include "core/base/decimal.h"

namespace lakehose {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The shape of RFC 3339's date-time: YYYY-MM-DD(T|t)hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm).
// absl::ParseTime checks the ranges, but also takes what RFC 3339 does not (surrounding
// whitespace, years of other widths, "infinite-future"), so the shape is checked first.
bool HasRfc3339Shape(std::string_view s) {
  // '9' stands for a digit; other characters must match as they are.
  constexpr std::string_view kHead = "9999-99-99T99:99:99";
  if (s.size() < kHead.size()) return false;
  for (size_t i = 0; i < kHead.size(); ++i) {
    const char want = kHead[i];
    const bool ok = want == '9'   ? IsDigit(s[i])
                    : want == 'T' ? s[i] == 'T' || s[i] == 't'
                                  : s[i] == want;
    if (!ok) return false;
  }
  size_t i = kHead.size();
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  const std::string_view offset = s.substr(i);
  if (offset == "Z" || offset == "z") return true;
  return offset.size() == 6 && (offset[0] == '+' || offset[0] == '-') && IsDigit(offset[1]) &&
         IsDigit(offset[2]) && offset[3] == ':' && IsDigit(offset[4]) && IsDigit(offset[5]);
}

}  // namespace

std::optional<int64_t> ParseTimestampMillis(std::string_view text, bool is_string, int shift10) {
  if (std::optional<int64_t> ms = DecimalToInt64(text, shift10)) return ms;
  if (!is_string || !HasRfc3339Shape(text)) return std::nullopt;
  absl::Time t;
  std::string err;
  // absl refuses out-of-range fields (2023-02-30, hour 24) rather than normalising them.
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) return std::nullopt;
  return absl::ToUnixMillis(t);
}

}  // namespace lakehose
