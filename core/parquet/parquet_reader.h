// ReadParquetFile: the rows of a Parquet file as JSON documents, so that a table's data
// files can be rewritten (compaction: drop the position-deleted rows, encode the others
// again with EncodeParquetFile and the columns read here).
//
//   ASSIGN_OR_RETURN(ParquetContents file, ReadParquetFile(bytes));
//   std::vector<std::string_view> kept;  // the rows whose positions are not deleted
//   ParquetOptions o = ...;               // the table's codec, nested = kNative
//   o.schema = file.columns;              // declared: the same columns, same types
//   ASSIGN_OR_RETURN(ParquetFile out, EncodeParquetFile(kept, o));
//
// What it reads: everything lakehose's writer writes (core/parquet/parquet_writer.h),
// and the common subset other writers use (checked against DuckDB): data pages v1 and
// v2, dictionary pages; codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD; PLAIN values of every
// physical type but INT96, RLE_DICTIONARY / PLAIN_DICTIONARY indices, RLE booleans;
// REQUIRED / OPTIONAL columns, groups (STRUCTs) and three-level LISTs to
// kMaxParquetReadDepth. Anything else is UNIMPLEMENTED naming it (the DELTA_* and
// BYTE_STREAM_SPLIT encodings, LZ4 / BROTLI / LZO, MAPs, two-level lists, repeated
// fields outside a LIST, INT96, columns in other files).
//
// The documents: one JSON object per row, every top-level column a member, in schema
// order; a null (or absent) value is written as null, never omitted, so that inferring
// columns from the documents finds them in the file's order. Values:
//   strings (STRING / UTF8 / ENUM)   JSON strings (not UTF-8: DATA_LOSS)
//   lakehose "json" columns          the JSON value itself (lakehose.columns in the
//   and the JSON logical type        key-value metadata says which columns are json)
//   INT32 / INT64 (also DATE, TIME)  integers, as stored (a DATE is days since the epoch)
//   DECIMAL(p, s)                    exact decimal text with s fraction digits ("1.50")
//   TIMESTAMP                        milliseconds since the epoch, as lakehose's documents
//                                    carry `_event_time`; a MICROS / NANOS value that is
//                                    not whole milliseconds as exact decimal ms
//                                    ("1700000000123.456")
//   DOUBLE / FLOAT                   the shortest text that reads back as the same value;
//                                    NaN and infinities, which JSON lacks, as the strings
//                                    "NaN", "Infinity", "-Infinity"
//   BOOLEAN                          true / false
//   BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY base64 text (what a lakehose "binary" column takes)
//   without annotation
//   STRUCT                           an object, members in schema order (null ones null)
//   LIST                             an array (null elements null; [] for an empty list)
//
// A TIMESTAMP that is not adjusted to UTC (DuckDB's TIMESTAMP) is read as if it were:
// its count of units since 1970-01-01 00:00.
//
// Errors: a damaged file is DATA_LOSS naming what is wrong (a length past the buffer, a
// level beyond its maximum, a dictionary index out of range, columns that disagree on
// the rows); not a Parquet file at all, or a schema deeper than kMaxParquetReadDepth, is
// INVALID_ARGUMENT; beyond a limit of ParquetReadOptions is RESOURCE_EXHAUSTED. No input crashes it
// or makes it allocate beyond its limits: every length is checked against the buffer, every count
// against the bytes that must hold it or the limits, and recursion is bounded by the schema's depth
// (kMaxParquetReadDepth).
//
// Pure (no I/O, clock or threads); thread-compatible. The contents own their strings.
#ifndef LAKEHOSE_CORE_PARQUET_PARQUET_READER_H_
#define LAKEHOSE_CORE_PARQUET_PARQUET_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {

// The deepest schema element read (a top-level column is depth 1; a LIST takes two
// levels, the LIST group and its repeated group): lakehose writes STRUCT / LIST trees
// kMaxParquetNativeDepth deep, so twice that and the leaf. It bounds the reader's
// recursion (schema, assembly) and keeps levels below 256.
inline constexpr int kMaxParquetReadDepth = 2 * kMaxParquetNativeDepth + 2;

struct ParquetReadOptions {
  // Level entries decoded in the whole file (one per value, null or empty list of each
  // leaf column) plus rows: bounds memory, since a few RLE bytes can declare millions of
  // nulls. Default 2^28 (a 128 MiB row group of small values stays well inside).
  int64_t max_entries = int64_t{1} << 28;
  // The largest page accepted, uncompressed (lakehose's writer refuses pages past 1 GiB).
  int64_t max_page_bytes = int64_t{1} << 30;
};

struct ParquetContents {
  // The top-level columns as lakehose's writer would declare them to write the same
  // schema: types from the physical and logical types (INT32 -> kInt64, FLOAT ->
  // kDouble, TIMESTAMP(NANOS) -> kTimestampMicros, DECIMAL(p<38, s) -> kDecimal with s),
  // "json" where lakehose.columns says so, field ids, REQUIRED for required top-level
  // columns (nested ones are OPTIONAL, as the writer writes them), LIST elements named
  // "element".
  std::vector<ParquetColumn> columns;
  // One JSON object per row, in file order: rows[i] is the row at position i, as an
  // Iceberg position delete names it.
  std::vector<std::string> rows;
  int64_t row_groups = 0;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::string created_by;
};

absl::StatusOr<ParquetContents> ReadParquetFile(std::string_view bytes,
                                                const ParquetReadOptions& options = {});

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_PARQUET_READER_H_
