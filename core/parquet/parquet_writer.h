// EncodeParquet: turns the JSON Lines body of a sealed object (one flat JSON object per
// line, as the transformer renders documents) into one Apache Parquet file.
//
// What it writes (Parquet format 2.x readers; checked against DuckDB and hyparquet):
// - "PAR1", row groups of column chunks, the FileMetaData in Thrift's compact protocol
//   (core/parquet/thrift_compact.h), its length, "PAR1".
// - One column per top-level member, in order of first appearance. Data pages v1;
//   optional columns carry definition levels (RLE/bit-packed hybrid, width 1). String
//   columns use a dictionary page and RLE_DICTIONARY indices when the chunk's distinct
//   values are few (ParquetOptions::max_dictionary_*), PLAIN otherwise.
// - With NestedEncoding::kNative, a member whose values are all objects becomes an
//   optional group (a STRUCT) with the union of their members, and one whose values are
//   all arrays a LIST in the standard three-level layout
//     optional group name (LIST) { repeated group list { optional <element> element; } }
//   recursively, each position typed by the same rules as a top-level member. Leaf
//   columns under them carry repetition and definition levels (Dremel encoding) and
//   pages end only at record boundaries. See "Nested values" below.
// - Per column chunk statistics: null_count and min_value/max_value (type-defined order;
//   omitted for strings longer than kMaxStatisticsBytes) and a TypeDefinedOrder column
//   order, so readers can prune row groups.
// - Key-value metadata: "lakehose.columns" (JSON: each column's name and chosen type),
//   plus whatever the caller adds (delivery adds "lakehose.pipeline").
//
// Types, inferred per object from all of its records unless declared (see ParquetType):
// strings -> BYTE_ARRAY STRING; numbers -> INT64 if every value is integral and fits,
// else DECIMAL(38,s) as FIXED_LEN_BYTE_ARRAY(16) if every value fits with s <= 18, else
// DOUBLE (or STRING with the exact text when wide_numbers is kString); booleans ->
// BOOLEAN; objects and arrays -> STRING holding their JSON text; a column whose values
// mix kinds -> STRING (non-strings as their JSON text); a column that is always null ->
// STRING, all nulls. Inferred columns are OPTIONAL. Everything written comes from the
// input and the options: the same input always encodes to the same bytes.
//
// Nested values (NestedEncoding::kNative; for inferred schemas; a declared schema is
// written as declared). At every position -- a top-level member, a member of an object,
// the elements of an array -- the non-null values seen there across the object's records
// decide:
// - all objects -> STRUCT of the union of their members (first appearance order), each
//   member a position of its own; absent and null members are nulls;
// - all arrays -> LIST whose element is the position of all their elements together;
//   null elements are null elements, [] an empty list;
// - all strings / numbers / booleans, or always null -> the scalar types above;
// and the fallbacks, which write that position's values as JSON text, as kJson does:
// - objects that never have a member ({} only) -> "json";
// - arrays whose elements mix kinds (e.g. numbers and strings, or objects and arrays)
//   -> "json": the whole array is one JSON text;
// - a position whose values mix kinds (e.g. an object in one record, a string in the
//   next) -> "string" with non-strings as their JSON text (as for top-level members), or
//   "json" when they are all objects and arrays;
// - objects and arrays deeper than kMaxParquetNativeDepth -> "json".
// A member whose values are not all nested is written exactly as with kJson.
//
// Declared groups and lists (ParquetOptions::schema with NestedEncoding::kNative, e.g.
// the columns of an Iceberg table): a kStruct column (at least one member, distinct
// names) or kList column (exactly one child, the element) is written as an inferred one
// would be, down to kMaxParquetNativeDepth levels, every node OPTIONAL. A record's value
// is shredded by the declared tree: an object for a kStruct (members not declared are
// ignored, missing ones null), an array for a kList (null elements are null elements),
// and each scalar converted to its declared type as a top-level column's value. Any other
// shape (a string where a kStruct is declared, an object for a kList, an array for an
// int64) does not convert: INVALID_ARGUMENT, and CheckParquetRecord refuses the record.
//
// Iceberg (field ids and metrics): a column with ParquetColumn::field_id >= 0 has it in
// the footer, and every leaf column with an id gets ParquetFile::field_metrics: what an
// Iceberg DataFile needs (column sizes, value / null / NaN counts, lower and upper bounds
// in Iceberg's single-value binary serialization).
//
// Pure (no I/O, clock or threads); thread-compatible.
#ifndef LAKEHOSE_CORE_PARQUET_PARQUET_WRITER_H_
#define LAKEHOSE_CORE_PARQUET_PARQUET_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/limits.h"

namespace lakehose {

enum class ParquetCodec { kNone, kSnappy, kGzip, kZstd };

enum class ParquetType {
  kString,           // BYTE_ARRAY, STRING (UTF8)
  kJson,             // BYTE_ARRAY, STRING holding JSON text (objects, arrays)
  kInt64,            // INT64
  kDecimal,          // FIXED_LEN_BYTE_ARRAY(16), DECIMAL(38, scale)
  kDouble,           // DOUBLE
  kBool,             // BOOLEAN
  kBinary,           // BYTE_ARRAY, no annotation: base64 text decoded (declared only)
  kTimestampMillis,  // INT64, TIMESTAMP(MILLIS, UTC): integral ms since epoch (declared only)
  // INT64, TIMESTAMP(MICROS, UTC) (Iceberg's timestamptz): the input is integral ms since
  // the epoch, as for kTimestampMillis, stored times 1000 (declared only).
  kTimestampMicros,
  kStruct,  // optional group of `children` (inferred or declared, NestedEncoding::kNative)
  kList,    // LIST of `children[0]`, named "element" (inferred or declared, kNative)
};

// "string", "json", "int64", "decimal(38,2)", "double", "bool", "binary", "timestamp_ms",
// "timestamptz", "struct", "list".
std::string ParquetTypeName(ParquetType type, int scale);
// Inverse of ParquetTypeName for config ("decimal(38,S)" with 0 <= S <= 38); "struct" and
// "list" cannot be declared in config (only ParquetOptions::schema holds them).
absl::StatusOr<std::pair<ParquetType, int>> ParseParquetTypeName(std::string_view name);

struct ParquetColumn {
  std::string name;
  ParquetType type = ParquetType::kString;
  int scale = 0;          // kDecimal only
  bool required = false;  // REQUIRED: a record without a value fails the object
  // kStruct: its members; kList: exactly one, the element (named "element"). Always
  // OPTIONAL (a declared group, or a column under one, must not be `required`).
  std::vector<ParquetColumn> children = {};
  // Iceberg field id written as the SchemaElement's field_id (Thrift field 9) of this
  // column's element in the footer: for a kList on the LIST group (the repeated group
  // "list" has none; the element's id is children[0].field_id), for a kStruct on the
  // group (each member its own). -1 = none (nothing written: without field ids the file
  // is byte for byte what it was before field ids existed). Leaves with an id also get
  // ParquetFile::field_metrics.
  int field_id = -1;
};

// Where a number column falls back to when it is neither INT64 nor DECIMAL(38,s<=18).
enum class WideNumbers { kDouble, kString };

// How inferred columns hold objects and arrays: JSON text (kJson), or Parquet groups and
// lists (kNative; see "Nested values" above).
enum class NestedEncoding { kJson, kNative };

struct ParquetOptions {
  ParquetCodec codec = ParquetCodec::kSnappy;
  int compression_level = -1;  // gzip/zstd; -1 = the codec's default (gzip 6, zstd 3)
  // A row group ends after this many records or this many bytes of input lines,
  // whichever comes first.
  int64_t row_group_rows = 1000000;
  int64_t row_group_bytes = int64_t{128} << 20;
  int64_t page_bytes = 1 << 20;  // target uncompressed size of a data page
  // A string column chunk is dictionary encoded when it has at most this many distinct
  // values, they take at most max_dictionary_bytes, and at most half its values are
  // distinct.
  int64_t max_dictionary_entries = 1 << 15;
  int64_t max_dictionary_bytes = 1 << 20;
  WideNumbers wide_numbers = WideNumbers::kDouble;
  NestedEncoding nested = NestedEncoding::kJson;
  // Declared schema: when non-empty, exactly these columns are written, in this order,
  // with these types; other members are ignored. A value that does not convert to its
  // declared type, or a missing value in a required column, fails the encode
  // (INVALID_ARGUMENT). With `nested` kNative a declared column may be a kStruct / kList
  // tree (see "Declared groups and lists" above); with kJson it may not.
  std::vector<ParquetColumn> schema;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::string created_by = "lakehose";
};

inline constexpr size_t kMaxStatisticsBytes = 256;
// Nesting depth accepted inside a member's value (objects and arrays; the value itself
// is depth 1, as kMaxNestingDepth counts). Such values are only checked and kept as
// text, by an explicit stack (json_reader's SkipNested, no recursion), so this bounds
// work, not the call stack. It is larger than kMaxNestingDepth, which the transformer
// enforces, so that whatever the transformer accepted (including records of older
// versions replayed from the WAL) is stored; a record deeper than this is refused per
// record by CheckParquetRecord.
inline constexpr int kMaxParquetJsonDepth = 1024;
// NestedEncoding::kNative: the deepest STRUCT/LIST (a top-level member's value is depth
// 1); objects and arrays below it are JSON text. It bounds every recursive walk of the
// writer (ParseTree, schema inference, PlanColumn, Shredder, the footer's schema), and is
// DynamoDB's own limit, so no item the transformer accepts falls back to JSON text; it
// keeps levels below 2^7 (each level adds at most 2 definition levels).
inline constexpr int kMaxParquetNativeDepth = kMaxNestingDepth;
static_assert(kMaxParquetNativeDepth * 2 + 1 < 128, "definition levels are stored as uint8_t");
static_assert(kMaxParquetNativeDepth <= kMaxParquetJsonDepth);

// What was written for one column chunk (for tests and logs).
struct ParquetChunkInfo {
  int64_t row_group = 0;
  std::string column;       // the leaf's path in the schema, joined by '.' ("o.l.list.element")
  bool dictionary = false;  // dictionary page + RLE_DICTIONARY data pages
  int64_t data_pages = 0;
  int64_t null_count = 0;
  bool has_min_max = false;
  std::string min, max;  // statistics as stored (PLAIN bytes; big-endian for decimals)
  int64_t compressed_bytes = 0;
};

// Iceberg's metrics of one leaf column with a field id, over the whole file (the
// DataFile maps column_sizes, value_counts, null_value_counts, nan_value_counts,
// lower_bounds, upper_bounds). As Iceberg's own Parquet writer counts them: a leaf under
// a LIST has one value per element, plus one null for each null or empty list (Parquet's
// num_values and null_count of the column chunks).
struct ParquetFieldMetrics {
  int field_id = -1;
  int64_t column_size = 0;  // compressed bytes of its column chunks (page headers included)
  int64_t value_count = 0;  // values, nulls included
  int64_t null_count = 0;
  // DOUBLE leaves only: values that are NaN (JSON has none, so 0); -1 for other types.
  int64_t nan_count = -1;
  // Iceberg's single-value binary serialization (spec Appendix D) of the smallest and
  // largest non-null, non-NaN value: int64 / timestamps 8 bytes little-endian (the value
  // as stored: microseconds for kTimestampMicros), double 8 bytes little-endian IEEE 754,
  // bool one byte, decimal the unscaled value as minimal big-endian two's complement,
  // strings (string, json) their UTF-8 bytes and binary its bytes, truncated as Iceberg's
  // default metrics mode truncate(16) does: the lower bound is the first 16 code points
  // (bytes for binary), the upper bound the first 16 with the last one incremented
  // (the upper bound is dropped if no code point / byte can be incremented). Both
  // nullopt for a leaf under a LIST, or without a non-null, non-NaN value. Strings are
  // ordered by their UTF-8 bytes, unsigned (as Parquet's statistics).
  std::optional<std::string> lower_bound, upper_bound;
};

// The number of code points (or bytes, for binary) Iceberg's default metrics keep of a
// string bound.
inline constexpr size_t kIcebergBoundTruncateLength = 16;

struct ParquetFile {
  std::string bytes;
  std::vector<ParquetColumn> columns;  // as written (inferred or declared), top level
  int64_t rows = 0;
  int64_t row_groups = 0;
  std::vector<ParquetChunkInfo> chunks;  // row group by row group, leaf columns in order
  // One per leaf column with a field id, in schema order (depth first); empty when no
  // column has one.
  std::vector<ParquetFieldMetrics> field_metrics;
};

// Encodes `lines` (each one JSON object; a trailing '\n' or '\r\n' is allowed).
// INVALID_ARGUMENT if a line is not a JSON object or a value does not fit its column.
absl::StatusOr<ParquetFile> EncodeParquetFile(const std::vector<std::string_view>& lines,
                                              const ParquetOptions& options);
// The same, bytes only.
absl::StatusOr<std::string> EncodeParquet(const std::vector<std::string_view>& lines,
                                          const ParquetOptions& options);
// The columns EncodeParquetFile would infer for `lines` (options.schema ignored): what a
// caller that declares the columns itself (the Iceberg writer, which maps them onto the
// table's schema) starts from. `all_null` (optional): the names of the top-level
// columns whose values are all null or absent (inferred as STRING, they fit any column).
// INVALID_ARGUMENT as EncodeParquetFile.
absl::StatusOr<std::vector<ParquetColumn>> InferParquetColumns(
    const std::vector<std::string_view>& lines, const ParquetOptions& options,
    std::vector<std::string>* all_null = nullptr);

// Why EncodeParquet cannot store one record (CheckParquetRecord).
enum class ParquetRecordProblem {
  kNone,
  kTooDeep,          // objects or arrays nested deeper than kMaxParquetJsonDepth
  kUnrepresentable,  // a value its declared column cannot hold (or none for a required
                     // column), or a line that is not one JSON object
};
struct ParquetRecordCheck {
  ParquetRecordProblem problem = ParquetRecordProblem::kNone;
  std::string message;  // names the column and value; empty for kNone
  bool ok() const { return problem == ParquetRecordProblem::kNone; }
};

// Whether EncodeParquet with `options` can store the record `line` (one JSON object, as
// the transformer writes documents): an encode fails because of a record exactly when
// this refuses that record, so a caller that refuses such records one by one at
// Transform/Ingest time never has an object fail for its content. What it refuses:
// nesting deeper than kMaxParquetJsonDepth, and with a declared schema a value that does
// not convert to its column's type (an int64 that is not integral or does not fit, a
// double beyond DOUBLE's range, bad base64, a timestamptz beyond int64 microseconds, a
// value of another shape than its declared STRUCT / LIST, ...) or a required column
// without a value. Inferred columns take every value (numbers that fit no number type
// are STRING).
//
// Cost (transactions documents, this VM): with an inferred schema, or declared columns
// that are all optional string/json, nothing for lines up to kMaxParquetJsonDepth bytes
// and a count of brackets over longer ones (3 ns for 0.55 KB, 0.4 us for 1.6 KB; a
// depth scan only past kMaxParquetJsonDepth brackets); with other declared columns one
// parse of the line (1.2 us, about what encoding the record costs); a declared STRUCT /
// LIST column adds planning its tree and shredding its value (a 170-byte line with
// three scalars, a struct and a list of structs: 1.6 us, against 0.3 us for the three
// scalars alone).
ParquetRecordCheck CheckParquetRecord(std::string_view line, const ParquetOptions& options);

// A record EncodeParquetFileIsolating left out: its index in `lines` and why.
struct ParquetRejectedRecord {
  size_t line = 0;
  ParquetRecordCheck why;
};

// EncodeParquetFile, except that records which cannot be stored (CheckParquetRecord, the
// grammar checked as well) do not fail the file: they are left out and listed in
// `rejected`, and the file holds the others (possibly none). Costs nothing extra when
// every record encodes. An error that is not one record's (the options, a page past
// 1 GiB) still fails the whole.
absl::StatusOr<ParquetFile> EncodeParquetFileIsolating(
    const std::vector<std::string_view>& lines, const ParquetOptions& options,
    std::vector<ParquetRejectedRecord>* rejected);

// The lines of a JSON Lines body (empty lines skipped).
std::vector<std::string_view> SplitJsonLines(std::string_view body);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_PARQUET_WRITER_H_
