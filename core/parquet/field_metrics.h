// Iceberg's per-field metrics of a Parquet file (ParquetFieldMetrics in
// parquet_writer.h): counts and sizes summed over a leaf's column chunks, and the lower
// and upper bounds of its values in Iceberg's single-value binary serialization (spec
// Appendix D), strings and binary truncated as Iceberg's default metrics mode
// truncate(16) does.
//
// The bounds are computed from the chunk's values, not from the Parquet statistics
// (which leave out strings longer than kMaxStatisticsBytes): a string's truncated bounds
// come from its first 16 code points, however long it is.
//
// Pure; a FieldMetricsBuilder is not thread-safe.
#ifndef LAKEHOSE_CORE_PARQUET_FIELD_METRICS_H_
#define LAKEHOSE_CORE_PARQUET_FIELD_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/parquet/column_values.h"
#include "core/parquet/column_writer.h"
#include "core/parquet/levels.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

// The lower bound Iceberg keeps of `s`: its first `n` code points (UTF-8; bytes when
// !utf8).
std::string_view TruncatedLowerBound(std::string_view s, size_t n, bool utf8);

// The upper bound Iceberg keeps of `s`: `s` itself if it has at most `n` code points
// (bytes when !utf8), else its first `n` with the last one incremented; if that one
// cannot be (U+10FFFF, byte 0xFF) it is dropped and the one before incremented, and so
// on. nullopt if none can be, or `s` is not valid UTF-8 where a code point is
// incremented.
std::optional<std::string> TruncatedUpperBound(std::string_view s, size_t n, bool utf8);

// A DECIMAL's unscaled value as Iceberg serializes it: two's complement, big-endian, in
// the fewest bytes that keep the sign (at least one).
std::string MinimalBigEndian(Int128 v);

// Accumulates one leaf column's metrics over its chunks, row group by row group.
class FieldMetricsBuilder {
 public:
  // `leaf` (borrowed) has a field id; bounds are kept unless it is under a LIST.
  explicit FieldMetricsBuilder(const Leaf& leaf);

  // One chunk of the leaf: its values and what the column writer made of them.
  void AddChunk(const ChunkValues& values, const ChunkMeta& meta);

  ParquetFieldMetrics Finish() const;

 private:
  const Leaf& leaf_;
  const bool bounds_;
  ParquetFieldMetrics m_;
  bool any_ = false;  // a non-null, non-NaN value was seen
  int64_t int_min_ = 0, int_max_ = 0;
  double double_min_ = 0, double_max_ = 0;
  Int128 decimal_min_ = 0, decimal_max_ = 0;
  bool bool_min_ = false, bool_max_ = false;
  // Byte arrays: the truncated lower bound so far, and the largest value's first n code
  // points (bytes) with whether that value was longer (then it is the larger of two
  // values with the same prefix, and the bound needs an increment).
  std::string bytes_min_, bytes_max_prefix_;
  bool bytes_max_truncated_ = false;
};

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_FIELD_METRICS_H_
