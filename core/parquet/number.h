// Exact values of JSON number text for the Parquet writer: which column types a number
// fits (INT64, DECIMAL(38, s)) and its value in them. The text is never read through a
// double (a DOUBLE column parses it itself), so a DECIMAL keeps every digit received.
// The text is split by SplitDecimal (core/base/decimal.h); this adds the normal form
// Parquet's integer types need.
//
// Pure functions and value types; thread-safe.
#ifndef LAKEHOSE_CORE_PARQUET_NUMBER_H_
#define LAKEHOSE_CORE_PARQUET_NUMBER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lakehose {
namespace parquet_internal {

using Int128 = __int128;

// A number as its significant digits and the power of ten of the last one:
// value = digits * 10^pow.
struct Significand {
  bool negative = false;
  std::string digits;  // no leading/trailing zeros; empty means zero
  int64_t pow = 0;
};

// `t` as a Significand, if it is a number in JSON's grammar, except that leading zeros
// are allowed ("007"): a string holding a number may come from a `numbers: string`
// pipeline. Rejects '+', ".5", "5.", and anything else.
std::optional<Significand> NumberText(std::string_view t);

// The common case without allocation: an integer token of at most 18 digits (which
// fits every number type), else nullopt.
std::optional<int64_t> FastInt64(std::string_view t);

// The smallest scale that represents the number exactly.
int64_t NeededScale(const Significand& s);

// digits * 10^(pow + scale), the unscaled value of DECIMAL(38, scale), if that is exact
// and has at most 38 digits.
std::optional<Int128> Unscaled(const Significand& s, int scale);

// The number as an int64, if it is integral and fits.
std::optional<int64_t> ToInt64(const Significand& s);

// The nearest double to the number `t` (NumberText's grammar), unless the number is
// beyond DOUBLE's range: one that would become +-Infinity (1e999999, a 400-digit
// integer) or 0 without being 0 (1E-999999) is nullopt, since a DOUBLE column must not
// change a value that much. Subnormal results are kept (as every reader rounds them).
std::optional<double> DoubleValue(std::string_view t);

// Whether DoubleValue(t) is not nullopt, for the number `s` of text `t`; cheap for the
// usual magnitudes (no parse between 1e-300 and 1e300).
bool FitsDouble(const Significand& s, std::string_view t);

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_NUMBER_H_
