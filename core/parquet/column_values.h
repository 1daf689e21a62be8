// One column chunk's values in its column's physical type, and the conversion of record
// values (json_reader.h) into them: the step where a value that does not fit its column
// (declared or required) fails the encode.
//
// What converts to what: kString takes every kind (non-strings as their JSON text);
// kJson every kind as JSON text (a string quoted); kBinary base64 strings; kInt64 and
// kTimestampMillis integral numbers (or strings holding one) that fit; kTimestampMicros
// the same (milliseconds), times 1000 if that fits an int64; kDecimal numbers
// (or strings) exact at the column's scale in 38 digits; kDouble numbers (or strings),
// beyond its range as strtod gives; kBool booleans.
//
// Ownership: ChunkValues views the record text and the converter's arena (converted
// strings: base64-decoded bytes, quoted JSON), which must outlive it. A Converter
// borrows its column. Not thread-safe; pure.
#ifndef LAKEHOSE_CORE_PARQUET_COLUMN_VALUES_H_
#define LAKEHOSE_CORE_PARQUET_COLUMN_VALUES_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/parquet/json_reader.h"
#include "core/parquet/number.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

// One column chunk's values. Only non-null values are stored, in the vector of the
// column's physical type; `defined` has one definition level per entry (a flat column:
// one entry per row, 1 for a value), `rep` the repetition levels of a leaf under a LIST
// (empty otherwise).
struct ChunkValues {
  std::vector<uint8_t> defined;
  std::vector<uint8_t> rep;
  std::vector<std::string_view> bytes;  // BYTE_ARRAY
  std::vector<int64_t> ints;            // INT64
  std::vector<double> doubles;          // DOUBLE
  std::vector<Int128> decimals;         // FIXED_LEN_BYTE_ARRAY(16)
  std::vector<uint8_t> bools;           // BOOLEAN
};

class Converter {
 public:
  Converter(const ParquetColumn& col, std::deque<std::string>* arena) : col_(col), arena_(arena) {}

  // A flat column's value for record `row`: its definition level (0 for absent or null,
  // which fails a required column) and, if present, the value.
  absl::Status Add(const Value& v, int64_t row, ChunkValues* out);

  // A non-null value: appends it without its level (the caller records those).
  absl::Status AddPresent(const Value& v, int64_t row, ChunkValues* out);

 private:
  absl::Status Mismatch(const Value& v, int64_t row) const;

  const ParquetColumn& col_;
  std::deque<std::string>* arena_;
};

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_COLUMN_VALUES_H_
