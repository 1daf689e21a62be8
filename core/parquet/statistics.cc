#include "core/parquet/statistics.h"

#include <algorithm>

#include "core/parquet/encoding.h"
#include "core/parquet/format.h"

namespace lakehose {
namespace parquet_internal {

Statistics ComputeStatistics(ParquetType type, int value_def, const ChunkValues& v) {
  Statistics s;
  for (uint8_t d : v.defined) s.null_count += d != value_def;
  switch (Physical(type)) {
    case kByteArray:
      if (!v.bytes.empty()) {
        auto [lo, hi] = std::minmax_element(v.bytes.begin(), v.bytes.end());
        if (lo->size() <= kMaxStatisticsBytes && hi->size() <= kMaxStatisticsBytes) {
          s.has_min_max = true;
          s.min = std::string(*lo);
          s.max = std::string(*hi);
        }
      }
      break;
    case kInt64Type:
      if (!v.ints.empty()) {
        auto [lo, hi] = std::minmax_element(v.ints.begin(), v.ints.end());
        s = {true, Int64Bytes(*lo), Int64Bytes(*hi), s.null_count};
      }
      break;
    case kDoubleType:
      if (!v.doubles.empty()) {
        double lo = v.doubles[0], hi = v.doubles[0];
        for (double d : v.doubles) {
          lo = std::min(lo, d);
          hi = std::max(hi, d);
        }
        // Zeros: the spec asks for -0.0 as min and +0.0 as max.
        if (lo == 0) lo = -0.0;
        if (hi == 0) hi = 0.0;
        s = {true, DoubleBytes(lo), DoubleBytes(hi), s.null_count};
      }
      break;
    case kFixedLenByteArray:
      if (!v.decimals.empty()) {
        auto [lo, hi] = std::minmax_element(v.decimals.begin(), v.decimals.end());
        s = {true, Int128BigEndian(*lo), Int128BigEndian(*hi), s.null_count};
      }
      break;
    case kBoolean:
      if (!v.bools.empty()) {
        auto [lo, hi] = std::minmax_element(v.bools.begin(), v.bools.end());
        s = {true, std::string(1, static_cast<char>(*lo)), std::string(1, static_cast<char>(*hi)),
             s.null_count};
      }
      break;
  }
  return s;
}

}  // namespace parquet_internal
}  // namespace lakehose
