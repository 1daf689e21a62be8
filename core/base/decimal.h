// Decimal number text: validation and normalisation of DynamoDB `N` values, which are
// decimal strings with up to 38 significant digits and exponents from 1e-130 to 1e+125.
// They never pass through a double: the digits written are the digits received.
#ifndef LAKEHOSE_CORE_BASE_DECIMAL_H_
#define LAKEHOSE_CORE_BASE_DECIMAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lakehose {

// Appends `n` as a JSON number (RFC 8259 grammar) with the same digits and value.
// Accepts an optional sign, digits with an optional fraction, and an optional exponent
// (`+1.50`, `007`, `.5`, `5.`, `1E+125`); rewrites only what JSON does not allow (a '+'
// sign, leading zeros, a bare leading or trailing '.'). Returns false, appending nothing,
// if `n` is not a decimal number (empty, NaN, Infinity, hex, whitespace...).
bool AppendDecimalAsJson(std::string_view n, std::string* out);

// True if `n` is a number in RFC 8259's grammar (no '+', no leading zeros, digits on both
// sides of a '.').
bool IsJsonNumber(std::string_view n);

// True if `n` is accepted by AppendDecimalAsJson.
bool IsDecimal(std::string_view n);

// The parts of decimal text, as views into it: [sign] int_digits [. frac_digits]
// [e|E exponent]. Shared by the writers of decimal text and by the readers of its value
// (DecimalToInt64, the Parquet writer's DECIMAL and INT64 columns).
struct DecimalParts {
  bool negative = false;
  bool plus_sign = false;
  std::string_view int_digits;  // may be empty (".5")
  bool has_point = false;
  std::string_view frac_digits;  // may be empty ("5.")
  std::string_view exponent;     // everything after 'e'/'E', sign included; empty if none
  bool has_exponent = false;
};

// Splits `n` into its parts; false (with `parts` unspecified) if !IsDecimal(n).
bool SplitDecimal(std::string_view n, DecimalParts* parts);

// The value of `p.exponent` (0 without one). Its magnitude saturates at 999999999, so
// a huge exponent cannot overflow; any exponent that large is out of every range its
// callers accept.
int64_t DecimalExponent(const DecimalParts& p);

// The value of decimal text `n` times 10^shift10, truncated toward zero, if it fits in
// int64 (e.g. seconds "1700000000.25" with shift10 3 -> 1700000000250 ms).
std::optional<int64_t> DecimalToInt64(std::string_view n, int shift10 = 0);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_DECIMAL_H_
