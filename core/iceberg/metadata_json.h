// Iceberg table metadata JSON (format version 2), both ways, and the pure updates a
// fast-append writer makes to it. Written from the spec (iceberg.apache.org/spec: Table
// Metadata, Snapshots, Snapshot References, Appendix C).
//
//   TableMetadata m = NewTableMetadata(uuid, "s3://b/ns/t", schema, spec, {}, now_ms);
//   RETURN_IF_ERROR(AppendSnapshot(&m, snapshot, "s3://b/ns/t/metadata/v1.metadata.json",
//                                  now_ms));
//   std::string text = TableMetadataToJson(m);        // v2.metadata.json
//   ASSIGN_OR_RETURN(TableMetadata back, ParseTableMetadata(text));  // == m
//
// The parser is for untrusted input (files other writers made: Java, PyIceberg, S3
// Tables): it is strict about what lakehose needs (INVALID_ARGUMENT naming the field),
// ignores fields it does not know, takes `current-snapshot-id: -1` as none, and refuses
// format versions other than 2. Type nesting is bounded by kMaxTypeDepth; the document's
// size is bounded by the caller (it reads the file).
//
// What types.h does not hold is not written back: a foreign table's sort-order fields,
// statistics, partition-statistics and ref retention settings are dropped by
// Parse -> ToJson (Java drops fields it does not know the same way). lakehose's own
// tables have none of them.
//
// Pure functions: no clock, no randomness (times and ids are arguments); thread-safe.
#ifndef LAKEHOSE_CORE_ICEBERG_METADATA_JSON_H_
#define LAKEHOSE_CORE_ICEBERG_METADATA_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/iceberg/types.h"

namespace lakehose::iceberg {

// Levels of nested types (struct, list, map) a parsed schema may have. lakehose's own
// schemas nest at most kMaxNestingDepth (32, DynamoDB's limit) + 1; 64 leaves room for
// other writers' tables while keeping the recursive walk's stack small and fixed.
inline constexpr int kMaxTypeDepth = 64;

// The table property that bounds the metadata log, and Java's default for it.
inline constexpr std::string_view kPreviousVersionsMaxProperty =
    "write.metadata.previous-versions-max";
inline constexpr int kDefaultPreviousVersionsMax = 100;

// ---- Schemas, types, partition specs (Appendix C) ----

// A type as JSON: a primitive's name as a string ("long", "decimal(9,2)"), a nested type
// as an object. Compact (no whitespace).
std::string TypeToJson(const Type& type);

// {"type":"struct","schema-id":N,"identifier-field-ids":[..] (when non-empty),
//  "fields":[{"id","name","required","type","doc" (when non-empty)}]}. Compact: this is
// also what a manifest's `schema` key-value metadata and Parquet's `iceberg.schema` hold.
// Strings that are not valid UTF-8 (lakehose never has them: names come from parsed
// JSON) are written with each non-ASCII byte as U+FFFD, so the output is always JSON.
std::string SchemaToJson(const Schema& schema);

// A schema object as above. `schema-id` may be absent (0): a standalone schema (Parquet's
// `iceberg.schema`) need not carry it; inside table metadata it is required. Primitive
// names are checked (the v2 set) and written back canonical ("decimal(9, 2)" ->
// "decimal(9,2)"); field ids must be unique; unknown keys (initial-default, ...) are
// ignored.
absl::StatusOr<Schema> ParseSchemaJson(std::string_view json);

// {"spec-id":N,"fields":[{"source-id","field-id","name","transform"}]}.
std::string PartitionSpecToJson(const PartitionSpec& spec);
// Just the fields array: what a manifest's `partition-spec` key-value metadata holds.
std::string PartitionFieldsToJson(const PartitionSpec& spec);
absl::StatusOr<PartitionSpec> ParsePartitionSpecJson(std::string_view json);
// A fields array (a manifest's `partition-spec`), given the spec id it belongs to.
absl::StatusOr<PartitionSpec> ParsePartitionFieldsJson(std::string_view json, int spec_id);

// ---- Table metadata ----

// One snapshot as table metadata and the REST catalog's add-snapshot update hold it:
// {"sequence-number","snapshot-id","parent-snapshot-id" (when set),"timestamp-ms",
//  "summary" ("operation" first),"manifest-list","schema-id" (when set)}. Compact.
std::string SnapshotToJson(const Snapshot& snapshot);

// Every field v2 requires, one top-level field per line (array elements one per line),
// ids and times written exactly (int64). `current-snapshot-id` is omitted when there is
// none. A snapshot's summary is written "operation" first.
std::string TableMetadataToJson(const TableMetadata& metadata);

// The inverse: ParseTableMetadata(TableMetadataToJson(m)) == m for every field of
// TableMetadata. INVALID_ARGUMENT names the missing or ill-typed field ("snapshots[1]:
// missing \"manifest-list\""), a format version other than 2, or an inconsistency
// (current schema, default spec or current snapshot not in the table; refs.main not the
// current snapshot). When refs has no "main" and there is a current snapshot, main is
// added (the spec: there is always a main branch). A snapshot without sequence-number
// (one made before a v1 -> v2 upgrade) gets 0, as the spec's inheritance rule says.
absl::StatusOr<TableMetadata> ParseTableMetadata(std::string_view json);

// ---- Pure updates ----

// The metadata of a new table: schema id 0 (the given schema's id is replaced), spec id
// 0, last-column-id = the schema's largest field id (nested included), last-partition-id
// = the spec's largest field id (999 when it has none), no snapshot, properties as given
// plus "write.format.default": "parquet" when absent. A trailing '/' of `location` is
// dropped (as Java does), so that "<location>/metadata/..." has one slash.
TableMetadata NewTableMetadata(std::string table_uuid, std::string location, Schema schema,
                               PartitionSpec spec,
                               std::vector<std::pair<std::string, std::string>> properties,
                               int64_t now_ms);

// add-schema + set-current-schema: when a schema equal to `schema` (same fields and
// identifier ids; schema ids ignored) is in the table it becomes current, else `schema`
// is appended with schema-id = the largest + 1 and becomes current. last-column-id
// becomes max(old, last_column_id). last-updated-ms is set to now_ms when anything
// changed. INVALID_ARGUMENT (metadata untouched) when the schema has duplicate field ids,
// an identifier id that is not one of its fields, or a field id above the resulting
// last-column-id.
absl::Status SetCurrentSchema(TableMetadata* metadata, Schema schema, int last_column_id,
                              int64_t now_ms);

// A fast append's commit: `snapshot` (id, parent, manifest list, summary with
// "operation" set by the caller) becomes the current snapshot of main. This function
// sets its sequence-number (last-sequence-number + 1, which it also records), its
// timestamp-ms (now_ms: the commit time) and its schema-id (the current one); appends it
// to snapshots and to the snapshot-log {now_ms, id}; points refs.main and
// current-snapshot-id at it; sets last-updated-ms = now_ms; and, when
// `previous_metadata_file` is non-empty (the file this metadata replaces), appends
// {the previous last-updated-ms, previous_metadata_file} to the metadata-log (the time
// that file was written, as Java records it), keeping the newest
// `write.metadata.previous-versions-max` entries (default 100).
// Errors (metadata untouched): ALREADY_EXISTS when a snapshot with this id is in the table
// (an earlier attempt of this commit may have landed: check before retrying);
// FAILED_PRECONDITION when its parent is not the current snapshot (another writer
// committed: rebase and retry); INVALID_ARGUMENT when the summary has no "operation".
absl::Status AppendSnapshot(TableMetadata* metadata, Snapshot snapshot,
                            std::string previous_metadata_file, int64_t now_ms);

// ---- Helpers ----

// The current snapshot and its ancestors (parent links from the current snapshot) that
// are newer than `known_snapshot_id`, newest first. All ancestors when known is nullopt
// or not among them. The walk stops at a parent that is no longer in the table (expired)
// and is bounded by the number of snapshots (a parent cycle cannot loop).
std::vector<const Snapshot*> SnapshotsSince(const TableMetadata& metadata,
                                            std::optional<int64_t> known_snapshot_id);

// "v<version>.metadata.json", the name the file-system catalog and version-hint.text use.
std::string MetadataFileName(int64_t version);

// version-hint.text's content: a non-negative decimal number, surrounding whitespace
// tolerated; anything else (empty, sign, other characters, beyond int64) INVALID_ARGUMENT.
absl::StatusOr<int64_t> ParseVersionHint(std::string_view text);

// The largest field id in `schema`, nested ids (struct members, list elements, map keys
// and values) included; 0 for an empty schema.
int MaxFieldId(const Schema& schema);

// Same fields (ids, names, required, types, docs, order) and identifier ids; schema ids
// ignored.
bool SameSchemaStructure(const Schema& a, const Schema& b);
bool SameType(const Type& a, const Type& b);

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_METADATA_JSON_H_
