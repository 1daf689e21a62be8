// Iceberg schemas, partition transforms and partition values (format version 2), from the
// spec (iceberg.apache.org/spec): primitive type names and promotion, the partition
// transforms with Iceberg's 32-bit Murmur3 bucket hash (Appendix B), partition paths as
// Java's Iceberg writes them, the single-value binary serialization (Appendix D) and
// manifest-list field summaries, and schema resolution: the table schema after a data
// file's inferred Parquet columns (core/parquet) are added to it, and the Parquet columns,
// with field ids, to write that file with.
//
//   int last = metadata.last_column_id, new_last = 0;
//   ASSIGN_OR_RETURN(FileSchema fs, ResolveFileSchema(*metadata.CurrentSchema(), last,
//                                                     file.columns, &new_last));
//   if (fs.table_changed) ...add fs.table_schema, set it current, last_column_id = new_last
//   options.schema = fs.parquet_columns;  // encode the file with the table's types and ids
//
// Pure functions over plain data (types.h); thread-safe.
#ifndef LAKEHOSE_CORE_ICEBERG_SCHEMA_H_
#define LAKEHOSE_CORE_ICEBERG_SCHEMA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/iceberg/types.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose::iceberg {

// ---------------------------------------------------------------------------------------
// Primitive types

// A v2 primitive type, parsed from its JSON name. v3 types (unknown, timestamp_ns,
// variant, geometry...) are refused: the tables written here are v2.
struct PrimitiveType {
  enum class Id {
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kDecimal,
    kDate,
    kTime,
    kTimestamp,
    kTimestamptz,
    kString,
    kUuid,
    kFixed,
    kBinary,
  };
  Id id = Id::kString;
  int precision = 0, scale = 0;  // kDecimal: 1 <= precision <= 38, 0 <= scale <= precision
  int length = 0;                // kFixed: >= 1
  bool operator==(const PrimitiveType&) const = default;
};

// "boolean", "int", ..., "decimal(P,S)" (spaces allowed around P and S, as Java writes
// "decimal(9, 2)"), "fixed[L]"; case-insensitive as Java's parser. INVALID_ARGUMENT for
// anything else.
absl::StatusOr<PrimitiveType> ParsePrimitiveType(std::string_view name);
// The spec's JSON name: "decimal(P,S)" without a space (Appendix C's form), "fixed[L]".
std::string PrimitiveTypeName(const PrimitiveType& type);
Type MakeType(const PrimitiveType& type);
Type DecimalType(int precision, int scale);
// `type` parsed (INVALID_ARGUMENT if it is not a primitive or its name does not parse).
absl::StatusOr<PrimitiveType> PrimitiveOf(const Type& type);

// For messages: the primitive's name, "struct<a: long, b: list<string>>", "list<long>",
// "map<string, long>".
std::string TypeToString(const Type& type);
// Structural equality: kinds, primitives (parsed, so "decimal(9, 2)" == "decimal(9,2)"),
// field ids, names, required flags and element/key/value ids.
bool TypesEqual(const Type& a, const Type& b);

// Whether the spec allows promoting a column of type `from` to `to` in a v2 table:
// int -> long, float -> double, decimal(P,S) -> decimal(P',S) with P' > P. Equal types
// are not a promotion (false). date -> timestamp is v3 only: false.
bool CanPromote(const Type& from, const Type& to);

// ---------------------------------------------------------------------------------------
// Partition transforms

struct Transform {
  enum class Kind { kIdentity, kBucket, kTruncate, kYear, kMonth, kDay, kHour, kVoid };
  Kind kind = Kind::kIdentity;
  int param = 0;  // kBucket: N >= 1; kTruncate: W >= 1
};
// "identity", "bucket[N]", "truncate[W]", "year", "month", "day", "hour", "void".
absl::StatusOr<Transform> ParseTransform(std::string_view transform);
std::string TransformName(const Transform& t);

// The transform's result type for a source column of type `source` (the spec's table):
// identity and truncate keep the source type, bucket/year/month/hour give int, day gives
// date, void keeps the source type (as Java). INVALID_ARGUMENT naming both when the
// transform does not apply to the source (e.g. hour of a date, bucket of a double, any
// transform of a struct), or the transform does not parse.
absl::StatusOr<Type> TransformResultType(std::string_view transform, const Type& source);

// A column's value as found in a JSON document, before it is typed by the column.
//   kLong: an integral number; also a date's days since 1970-01-01 and a time's
//          microseconds from midnight
//   kDouble: a number that is not integral (or any number of a float/double column)
//   kString: text; for binary/fixed columns the raw bytes, for uuid the 36-char text
//   kDecimal: `s` the unscaled value as decimal digits with an optional '-', `scale`
//   kTimestampMicros: microseconds since 1970-01-01T00:00:00 UTC (timestamp/timestamptz;
//          a timestamp_ms column's milliseconds times 1000)
struct SourceValue {
  enum class Kind { kNull, kLong, kDouble, kString, kBoolean, kDecimal, kTimestampMicros };
  Kind kind = Kind::kNull;
  int64_t l = 0;   // kLong, kTimestampMicros
  double d = 0;    // kDouble
  bool b = false;  // kBoolean
  std::string s;   // kString, kDecimal
  int scale = 0;   // kDecimal

  static SourceValue Null() { return {}; }
  static SourceValue Long(int64_t v) { return Make(Kind::kLong, v); }
  static SourceValue Double(double v) {
    SourceValue out = Make(Kind::kDouble, 0);
    out.d = v;
    return out;
  }
  static SourceValue String(std::string v) {
    SourceValue out = Make(Kind::kString, 0);
    out.s = std::move(v);
    return out;
  }
  static SourceValue Boolean(bool v) {
    SourceValue out = Make(Kind::kBoolean, 0);
    out.b = v;
    return out;
  }
  static SourceValue Decimal(std::string unscaled, int scale) {
    SourceValue out = Make(Kind::kDecimal, 0);
    out.s = std::move(unscaled);
    out.scale = scale;
    return out;
  }
  static SourceValue TimestampMicros(int64_t v) { return Make(Kind::kTimestampMicros, v); }

 private:
  static SourceValue Make(Kind kind, int64_t l) {
    SourceValue out;
    out.kind = kind;
    out.l = l;
    return out;
  }
};

// The partition value of `value` (of a column of type `source`) under `transform`,
// typed by TransformResultType (see PartitionValue in types.h for the kinds: int and date
// -> kInt; long, time, timestamp(tz) -> kLong; decimal -> kDecimal, minimal big-endian
// two's complement; binary, fixed, uuid -> kBinary). Null in, null out; void gives null.
// The value is first typed by the source column: a decimal is rescaled to the column's
// scale exactly (a fraction beyond it, or more digits than its precision, is refused),
// an int must fit 32 bits, a long column takes kLong only. INVALID_ARGUMENT if the value
// does not fit the source type or the transform does not apply to it.
absl::StatusOr<PartitionValue> ApplyTransform(std::string_view transform, const Type& source,
                                              const SourceValue& value);

// Iceberg's 32-bit hash (Murmur3 x86 32, seed 0) of bytes, and bucket[N] of a hash.
int32_t Murmur3Hash32(std::string_view bytes);
int32_t BucketOfHash(int32_t hash, int n);
// The bytes Appendix B hashes for ints and longs (8 bytes little-endian) and decimals
// (minimal big-endian two's complement of the unscaled value; 0 is one zero byte).
std::string LongHashBytes(int64_t v);
std::string MinimalBigEndian(__int128 unscaled);

// ---------------------------------------------------------------------------------------
// Partition paths

// A partition value as Java's Iceberg prints it in partition paths (Transform
// .toHumanString): year "2023", month "2023-11", day "2023-11-15", hour "2023-11-15-00"
// (negative ordinals are before 1970: year -1 is "1969"); bucket its number; identity and
// truncate by the result type: strings as is, dates as day, timestamptz
// "2023-11-15T10:30Z" / "...:08.000001Z" (java.time's form), timestamp without the Z,
// decimals as BigDecimal.toString, doubles as Double.toString ("1.0", "1.0E10"),
// binary/fixed base64; null (and void) "null". `transform` that does not parse prints as
// identity.
std::string PartitionValueToHumanString(std::string_view transform, const Type& result_type,
                                        const PartitionValue& value);

// "name=value/name=value" for the spec's fields in order, names and human strings encoded
// as java.net.URLEncoder does (A-Z a-z 0-9 . - * _ kept, space '+', every other byte %XX),
// so that the path matches Java's. `values` has one value per field of `spec`; a field
// whose source is not in `schema` (or a missing value) prints "null". Empty for an
// unpartitioned spec.
std::string PartitionPath(const PartitionSpec& spec, const Schema& schema,
                          const std::vector<PartitionValue>& values);
// java.net.URLEncoder.encode(s, UTF-8).
std::string JavaUrlEncode(std::string_view s);

// ---------------------------------------------------------------------------------------
// Single values and summaries

// Appendix D's binary single-value serialization of `value` as a value of `type`:
// boolean 1 byte; int, date 4 bytes LE; long, time, timestamp, timestamptz 8 bytes LE;
// float 4 bytes LE IEEE, double 8; string UTF-8; binary, fixed, uuid as is; decimal the
// minimal big-endian two's complement unscaled bytes (value.s). Null (or a nested type):
// "" (the spec has no serialization; callers leave the bound out).
std::string SerializeSingleValue(const Type& type, const PartitionValue& value);

// Orders two non-null values of `type`: -1, 0, 1. Numbers numerically (doubles as Java's
// Double.compare: -0.0 < 0.0, NaN last), decimals by value, strings and binary by
// unsigned bytes (for UTF-8 that is code point order), false < true.
int ComparePartitionValues(const Type& type, const PartitionValue& a, const PartitionValue& b);

// A manifest list's summary of one partition field over the partition values of its data
// files (nullptr counts as null): contains_null; contains_nan set (true/false) only for
// float and double; lower/upper bounds of the non-null, non-NaN values, serialized, unset
// when there is none.
FieldSummary SummarizePartitionField(const Type& result_type,
                                     const std::vector<const PartitionValue*>& values);

// ---------------------------------------------------------------------------------------
// Iceberg types <-> Parquet columns

// The Iceberg type of a column of lakehose's Parquet writer: string and json -> string,
// int64 -> long, decimal(38,s) -> decimal(38,s), double, bool -> boolean, binary,
// timestamp_ms -> timestamptz (microseconds in Iceberg; the data file column is the
// writer's timestamptz column, see ParquetColumnOf), struct -> struct (members by name,
// ids from field_id or 0), list -> list (element id from children[0].field_id or 0).
// All optional unless `required`.
absl::StatusOr<Type> IcebergTypeOf(const ParquetColumn& column);

// The Parquet writer's column for a table field: name, required, field_id (for a list
// also the element's id), children for structs and lists. The one place Iceberg types
// map to the writer's: string -> kString, long -> kInt64, double -> kDouble, boolean ->
// kBool, binary -> kBinary, decimal(P,S) -> kDecimal scale S (the writer's DECIMAL(38,S);
// it does not yet enforce P < 38), timestamptz -> kTimestampMillis until the writer has a
// TIMESTAMP(MICROS) column (then that; the input stays integral milliseconds).
// UNIMPLEMENTED for types the writer cannot write (int, float, date, time, timestamp,
// uuid, fixed, map).
absl::StatusOr<ParquetColumn> ParquetColumnOf(const Field& field);

// ---------------------------------------------------------------------------------------
// Schemas

// A table schema from declared columns (destination.iceberg.schema): field ids 1.. for
// the top-level columns in order, then their nested fields (as Java assigns fresh ids),
// `*last_column_id` the highest. A column is required if declared so, listed in
// `required`, or listed in `identifier` (identifier fields must be required, so listing
// one is enough). identifier_field_ids from `identifier`, which must name primitive
// columns that are not float or double. Schema id 0. INVALID_ARGUMENT for a duplicate
// name or a name in `required`/`identifier` that is not a column.
absl::StatusOr<Schema> SchemaFromDeclared(const std::vector<ParquetColumn>& declared,
                                          const std::vector<std::string>& required,
                                          const std::vector<std::string>& identifier,
                                          int* last_column_id);

// A column's path from the top level: member names, "element" for a list's elements.
using ColumnPath = std::vector<std::string>;

// The leaf columns of `file` that hold no value in any row, from the chunk statistics,
// for ResolveFileSchema's `all_null`: a top-level or struct member leaf whose null count
// equals the row count; a string leaf under a list (empty lists, lists of nulls) with no
// min/max in any row group -- which a list whose strings are all longer than
// kMaxStatisticsBytes also has: then the table's type is used for it and the writer
// refuses a record it cannot convert.
std::vector<ColumnPath> AllNullColumns(const ParquetFile& file);

struct FileSchema {
  Schema table_schema;  // the table's schema after this file (the input if unchanged)
  bool table_changed = false;
  // The columns to encode the file with: the file's columns in its order, with the
  // table's types and field ids (children included), then any required table column the
  // file lacks (so that the writer refuses records without it).
  std::vector<ParquetColumn> parquet_columns;
};

// Resolves the columns the Parquet writer inferred for one data file (or one record)
// against the table's current schema:
// - A column the table lacks is added as an optional field with fresh ids from
//   last_column_id + 1 (struct members and list elements too, all optional), at the end
//   of its struct. Existing fields are never dropped, reordered or renamed.
// - A column the table has keeps the table's type when that type holds the inferred
//   values: the same type; string holds everything (non-strings as JSON text, as the
//   writer stores a column of mixed kinds); double holds int64 and decimal; decimal(P,S)
//   holds int64 and decimal(38,s) with s <= S (the writer rescales); binary holds string
//   (base64, decoded by the writer); timestamptz holds int64 and timestamp_ms
//   (milliseconds); boolean holds bool; struct and list hold json (objects and arrays the
//   writer shreds by the table's type) and, member by member, struct and list.
// - Else the table's type is promoted if the spec allows a promotion that holds them:
//   int -> long (the writer writes no 32-bit ints), float -> double.
// - Else INVALID_ARGUMENT "SCHEMA_MISMATCH: attribute "a.b" is decimal(38,2) in this
//   record but long in the table" (nested paths joined by '.', list elements "element").
//   The writer infers decimal(38,0) only for integers beyond int64, so it mismatches a
//   long column.
// - A column listed in `all_null` (no value in the file; the writer infers such a column
//   as string) takes the table's type when the table has it, so that a column of nulls
//   never mismatches; it is left out of the file if the writer cannot write the table's
//   type (readers return null for a missing column). A new one is added as string.
// The new schema's id is table.schema_id + 1 when it changed; *new_last_column_id is
// the highest id assigned (last_column_id if none). Resolving the same columns again
// against the result changes nothing.
absl::StatusOr<FileSchema> ResolveFileSchema(const Schema& table, int last_column_id,
                                             const std::vector<ParquetColumn>& inferred,
                                             int* new_last_column_id,
                                             const std::vector<ColumnPath>& all_null = {});

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_SCHEMA_H_
