// Column chunk statistics as Parquet stores them: the null count, and min_value /
// max_value in the column's type-defined order (the TypeDefinedOrder column order the
// footer declares), encoded as PLAIN values (a DECIMAL's 16 bytes big-endian). Readers
// prune row groups with them, so they must never claim a narrower range than the data.
//
// Orders: BYTE_ARRAY unsigned bytewise (min/max omitted when either is longer than
// kMaxStatisticsBytes); INT64 and DECIMAL signed; DOUBLE numeric, a zero min written as
// -0.0 and a zero max as +0.0 (as the format asks); BOOLEAN false < true.
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_PARQUET_STATISTICS_H_
#define LAKEHOSE_CORE_PARQUET_STATISTICS_H_

#include <cstdint>
#include <string>

#include "core/parquet/column_values.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

struct Statistics {
  bool has_min_max = false;
  std::string min, max;
  int64_t null_count = 0;
};

// The statistics of a chunk of column `type`: entries whose definition level is below
// `value_def` count as nulls (a null at any level of a nested leaf).
Statistics ComputeStatistics(ParquetType type, int value_def, const ChunkValues& v);

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_STATISTICS_H_
