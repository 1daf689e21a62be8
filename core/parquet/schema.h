// The Parquet writer's schema: the type of an inferred column from all of its values
// (the rules of "Types" and "Nested values" in core/parquet/parquet_writer.h), and the
// "lakehose.columns" description of the columns written.
//
// Pure functions; thread-safe.
#ifndef LAKEHOSE_CORE_PARQUET_SCHEMA_H_
#define LAKEHOSE_CORE_PARQUET_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/parquet/json_reader.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

// A decimal column's scale when inferred: beyond it, numbers go to `wide_numbers`.
inline constexpr int kMaxInferredScale = 18;

// The OPTIONAL column `name` that holds `values` (one per record, kAbsent where the
// record has none). With options.nested kNative, a column of objects and arrays becomes
// a STRUCT / LIST tree (their text is parsed again here; the values stay as they are).
// INVALID_ARGUMENT if a number or a nested value is malformed (a value from
// LineParser::ParseObject never is), the message naming the record.
absl::StatusOr<ParquetColumn> InferColumn(std::string name, const std::vector<Value>& values,
                                          const ParquetOptions& options);

// The JSON array of "lakehose.columns": each top-level column's name, type, whether it
// is required and whether it was `declared` or inferred; groups and lists with their
// fields / element, recursively.
std::string DescribeColumns(const std::vector<ParquetColumn>& columns, bool declared);

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_SCHEMA_H_
