// The Apache Iceberg v2 vocabulary shared by the pure Iceberg code (core/iceberg) and its
// I/O half (service/iceberg): schemas, partition specs, data files, snapshots and table
// metadata as plain data. Functions that build, encode and parse them live beside it:
//   schema.h          transforms, single-value serialization, partition paths, schema
//                     resolution (inferred Parquet columns -> table schema), Parquet columns
//                     with field ids
//   metadata_json.h   table metadata JSON (schemas, specs, snapshots, refs, logs), both ways
//   avro.h            Avro object container files (writer and generic reader)
//   manifest.h        manifests and manifest lists, both ways
// Written from the spec (iceberg.apache.org/spec, format version 2). Plain data; safe to
// copy and share once built.
#ifndef LAKEHOSE_CORE_ICEBERG_TYPES_H_
#define LAKEHOSE_CORE_ICEBERG_TYPES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lakehose::iceberg {

// A type. Primitive types are named as the spec's JSON names them: "boolean", "int",
// "long", "float", "double", "decimal(P,S)", "date", "time", "timestamp", "timestamptz",
// "string", "uuid", "binary", "fixed[L]". Nested: struct (fields), list (element_id,
// element), map (key_id, key, value_id, value).
struct Field;
struct Type {
  enum class Kind { kPrimitive, kStruct, kList, kMap };
  Kind kind = Kind::kPrimitive;
  std::string primitive;                   // kPrimitive: the JSON name, e.g. "decimal(38,2)"
  std::vector<Field> fields;               // kStruct
  int element_id = 0;                      // kList
  bool element_required = false;           // kList
  std::shared_ptr<const Type> element;     // kList
  int key_id = 0, value_id = 0;            // kMap
  bool value_required = false;             // kMap
  std::shared_ptr<const Type> key, value;  // kMap

  static Type Primitive(std::string name);  // defined below, where Field is complete
  bool is_primitive() const { return kind == Kind::kPrimitive; }
};

struct Field {
  int id = 0;
  std::string name;
  bool required = false;
  Type type;
  std::string doc;  // empty: not written
};

// Out of the class: clang (with libstdc++ 12) instantiates std::vector<Field>'s
// destructor here and needs Field complete.
inline Type Type::Primitive(std::string name) {
  Type t;
  t.primitive = std::move(name);
  return t;
}

struct Schema {
  int schema_id = 0;
  std::vector<Field> fields;
  std::vector<int> identifier_field_ids;
};

// A partition transform: "identity", "bucket[N]", "truncate[W]", "year", "month", "day",
// "hour", "void".
struct PartitionField {
  int source_id = 0;
  int field_id = 0;  // partition field ids start at 1000
  std::string name;
  std::string transform;
};

struct PartitionSpec {
  int spec_id = 0;
  std::vector<PartitionField> fields;
};

// A partition value of one partition field, typed as the transform's result type:
// identity keeps the source type; bucket, year, month, day, hour -> int (day is a "date"
// whose int is days since 1970-01-01); truncate keeps the source type. nullopt = null.
struct PartitionValue {
  enum class Kind { kNull, kInt, kLong, kString, kBoolean, kDouble, kBinary, kDecimal };
  Kind kind = Kind::kNull;
  int64_t i = 0;  // kInt, kLong, kBoolean (0/1)
  double d = 0;   // kDouble
  std::string s;  // kString, kBinary, kDecimal (the unscaled value, big-endian bytes)
  bool operator==(const PartitionValue& o) const {
    return kind == o.kind && i == o.i && d == o.d && s == o.s;
  }
};

// One data file (or delete file) as a manifest entry's data_file. Metrics map field id
// -> value; bounds are the spec's single-value binary serialization.
struct DataFile {
  std::string file_path;  // absolute: file:/..., s3://bucket/...
  std::string file_format = "PARQUET";
  std::vector<PartitionValue> partition;  // one per field of the spec, in order
  int64_t record_count = 0;
  int64_t file_size_in_bytes = 0;
  std::map<int, int64_t> column_sizes;
  std::map<int, int64_t> value_counts;
  std::map<int, int64_t> null_value_counts;
  std::map<int, std::string> lower_bounds;
  std::map<int, std::string> upper_bounds;
  std::optional<int64_t> sort_order_id;
  // 0 data, 1 position deletes (core/iceberg/position_deletes.h). Equality deletes (2)
  // are neither written nor read.
  int content = 0;
  // Position deletes: the one data file every delete of the file is in, when there is
  // one (spec field 143).
  std::optional<std::string> referenced_data_file;
};

// A manifest entry (v2): status 0 EXISTING, 1 ADDED, 2 DELETED. A null sequence number
// (nullopt) is inherited from the manifest list when the entry is ADDED.
struct ManifestEntry {
  int status = 1;
  std::optional<int64_t> snapshot_id;
  std::optional<int64_t> sequence_number;
  std::optional<int64_t> file_sequence_number;
  DataFile data_file;
};

// A partition field's summary in a manifest list entry.
struct FieldSummary {
  bool contains_null = false;
  std::optional<bool> contains_nan;
  std::optional<std::string> lower_bound, upper_bound;  // single-value serialization
};

// A manifest list entry (manifest_file).
struct ManifestFile {
  std::string manifest_path;
  int64_t manifest_length = 0;
  int partition_spec_id = 0;
  int content = 0;  // 0 data, 1 deletes
  int64_t sequence_number = 0;
  int64_t min_sequence_number = 0;
  int64_t added_snapshot_id = 0;
  int added_files_count = 0, existing_files_count = 0, deleted_files_count = 0;
  int64_t added_rows_count = 0, existing_rows_count = 0, deleted_rows_count = 0;
  std::vector<FieldSummary> partitions;
};

struct Snapshot {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_snapshot_id;
  int64_t sequence_number = 0;
  int64_t timestamp_ms = 0;
  std::string manifest_list;
  // "operation" first ("append"), then the rest, in the order written.
  std::vector<std::pair<std::string, std::string>> summary;
  std::optional<int> schema_id;

  // The summary's value for `key`, or nullopt.
  std::optional<std::string> SummaryValue(const std::string& key) const {
    for (const auto& [k, v] : summary)
      if (k == key) return v;
    return std::nullopt;
  }
};

struct SnapshotRef {
  int64_t snapshot_id = 0;
  std::string type = "branch";  // branch | tag
};

struct SortOrder {
  int order_id = 0;  // 0 = unsorted, no fields (the only order written)
};

struct SnapshotLogEntry {
  int64_t timestamp_ms = 0;
  int64_t snapshot_id = 0;
};
struct MetadataLogEntry {
  int64_t timestamp_ms = 0;
  std::string metadata_file;
};

// Table metadata, format version 2.
struct TableMetadata {
  int format_version = 2;
  std::string table_uuid;
  std::string location;
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int last_column_id = 0;
  std::vector<Schema> schemas;
  int current_schema_id = 0;
  std::vector<PartitionSpec> partition_specs;
  int default_spec_id = 0;
  int last_partition_id = 999;  // no partition field yet
  std::vector<std::pair<std::string, std::string>> properties;
  // Omitted from the JSON when there is none (the spec: optional); a parser also takes -1
  // as none (Java's writer wrote that).
  std::optional<int64_t> current_snapshot_id;
  std::vector<Snapshot> snapshots;
  std::vector<SnapshotLogEntry> snapshot_log;
  std::vector<MetadataLogEntry> metadata_log;
  std::vector<SortOrder> sort_orders = {SortOrder{}};
  int default_sort_order_id = 0;
  std::map<std::string, SnapshotRef> refs;  // "main" -> the current snapshot

  const Schema* CurrentSchema() const {
    for (const Schema& s : schemas)
      if (s.schema_id == current_schema_id) return &s;
    return nullptr;
  }
  const PartitionSpec* DefaultSpec() const {
    for (const PartitionSpec& s : partition_specs)
      if (s.spec_id == default_spec_id) return &s;
    return nullptr;
  }
  const Snapshot* FindSnapshot(int64_t id) const {
    for (const Snapshot& s : snapshots)
      if (s.snapshot_id == id) return &s;
    return nullptr;
  }
  const Snapshot* CurrentSnapshot() const {
    return current_snapshot_id ? FindSnapshot(*current_snapshot_id) : nullptr;
  }
};

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_TYPES_H_
