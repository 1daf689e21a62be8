#include "core/parquet/number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include "core/base/decimal.h"
#include "core/parquet/format.h"

namespace lakehose {
namespace parquet_internal {

std::optional<Significand> NumberText(std::string_view t) {
  DecimalParts d;
  if (!SplitDecimal(t, &d)) return std::nullopt;
  // JSON's grammar, but for leading zeros.
  if (d.plus_sign || d.int_digits.empty() || (d.has_point && d.frac_digits.empty()))
    return std::nullopt;
  Significand s;
  s.negative = d.negative;
  std::string all(d.int_digits);
  all.append(d.frac_digits);
  s.pow = DecimalExponent(d) - static_cast<int64_t>(d.frac_digits.size());
  size_t lead = 0;
  while (lead < all.size() && all[lead] == '0') ++lead;
  all.erase(0, lead);
  while (!all.empty() && all.back() == '0') {
    all.pop_back();
    ++s.pow;
  }
  s.digits = std::move(all);
  if (s.digits.empty()) {
    s.pow = 0;
    s.negative = false;
  }
  return s;
}

std::optional<int64_t> FastInt64(std::string_view t) {
  const size_t digits = t.size() - (!t.empty() && t[0] == '-');
  if (digits == 0 || digits > 18) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

int64_t NeededScale(const Significand& s) { return s.pow < 0 ? -s.pow : 0; }

std::optional<Int128> Unscaled(const Significand& s, int scale) {
  if (s.digits.empty()) return Int128{0};
  const int64_t shift = s.pow + scale;
  if (shift < 0) return std::nullopt;  // would lose digits
  if (static_cast<int64_t>(s.digits.size()) + shift > kDecimalPrecision) return std::nullopt;
  Int128 v = 0;
  for (char c : s.digits) v = v * 10 + (c - '0');
  for (int64_t i = 0; i < shift; ++i) v *= 10;
  return s.negative ? -v : v;
}

std::optional<int64_t> ToInt64(const Significand& s) {
  if (s.digits.empty()) return 0;
  if (s.pow < 0 || static_cast<int64_t>(s.digits.size()) + s.pow > 19) return std::nullopt;
  std::optional<Int128> v = Unscaled(s, 0);
  if (!v) return std::nullopt;
  if (*v > static_cast<Int128>(INT64_MAX) || *v < static_cast<Int128>(INT64_MIN))
    return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<double> DoubleValue(std::string_view t) {
  double d = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (ec == std::errc() && end == t.data() + t.size()) return d;
  if (ec != std::errc::result_out_of_range) return std::nullopt;
  const std::string copy(t);  // strtod needs a terminated string
  d = std::strtod(copy.c_str(), nullptr);
  if (std::isinf(d)) return std::nullopt;
  if (d == 0) {
    // Zero is right only for a zero: any nonzero digit before the exponent says otherwise.
    for (char c : t) {
      if (c == 'e' || c == 'E') break;
      if (c >= '1' && c <= '9') return std::nullopt;
    }
  }
  return d;
}

bool FitsDouble(const Significand& s, std::string_view t) {
  if (s.digits.empty()) return true;
  const int64_t magnitude = static_cast<int64_t>(s.digits.size()) + s.pow;  // value < 10^this
  if (magnitude > -300 && magnitude < 300) return true;
  return DoubleValue(t).has_value();
}

}  // namespace parquet_internal
}  // namespace lakehose
