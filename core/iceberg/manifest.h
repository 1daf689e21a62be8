// Iceberg v2 manifests and manifest lists as Avro object container files (the spec's
// "Manifests", "Manifest Lists" and Appendix A), both ways.
//
// Writing: the Avro schema in the header carries the spec's field ids (`field-id` on every
// record field, `element-id` on arrays; maps with int keys are arrays of key/value records
// with logicalType "map" and field ids on `key` and `value`, as the spec's table and Java
// write them), record names as Java writes them (manifest_entry, r2, r102, manifest_file,
// r508), optional fields as ["null", T] with default null. Fields our vocabulary does not
// hold (nan_value_counts, key_metadata, split_offsets, equality_ids) are written as null.
//
// Reading: by field name from the generic Avro reader, so files of other writers (Java,
// PyIceberg) decode too: extra fields are ignored, missing optional ones are null or
// empty, v1 manifest list names (added_data_files_count, ...) are accepted.
//
//   ManifestContext ctx{schema_json, 0, spec_fields_json, 0, partition_type};
//   ASSIGN_OR_RETURN(std::string manifest,
//                    EncodeManifest(ctx, entries, sync16, AvroContainerOptions::Codec::kDeflate));
//
// Pure; thread-safe (no shared state).
#ifndef LAKEHOSE_CORE_ICEBERG_MANIFEST_H_
#define LAKEHOSE_CORE_ICEBERG_MANIFEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/iceberg/avro.h"
#include "core/iceberg/types.h"

namespace lakehose::iceberg {

// What a manifest's header says besides its entries.
struct ManifestContext {
  std::string schema_json;  // the table schema's JSON (key-value metadata `schema`)
  int schema_id = 0;
  std::string partition_spec_json;  // the spec's fields array JSON (`partition-spec`)
  int partition_spec_id = 0;
  // The partition struct's fields, in the spec's order: id = the partition field id, name,
  // required (false: written as ["null", T]), type = the transform's result type, a
  // primitive ("int", "date", "long", "timestamptz", "string", "decimal(9,2)", ...).
  std::vector<Field> partition_type;
  // 0: a data manifest (header content "data"), whose entries are data files; 1: a
  // delete manifest ("deletes"), whose entries are position delete files.
  int content = 0;
};

// A manifest of `entries` (a data manifest, or with context.content 1 a delete manifest),
// each data_file's partition one value per partition_type field (kNull only where the
// field is optional; the kind must fit the type). INVALID_ARGUMENT for a value that does
// not fit, a nested or unknown partition type, an entry whose content is not the
// manifest's (0 in a data manifest, 1 in a delete manifest), or what WriteAvroContainer
// refuses.
absl::StatusOr<std::string> EncodeManifest(const ManifestContext& context,
                                           const std::vector<ManifestEntry>& entries,
                                           std::string_view sync_marker,
                                           AvroContainerOptions::Codec codec);

// The entries of a manifest. `context_out` (may be null) gets the header's metadata (its
// content: data or deletes) and the partition type read from the Avro schema.
// INVALID_ARGUMENT for a file that lacks a required field, or lists equality delete files
// (content 2, which lakehose does not apply).
absl::StatusOr<std::vector<ManifestEntry>> DecodeManifest(std::string_view bytes,
                                                          ManifestContext* context_out);

// A manifest list, with key-value metadata snapshot-id, parent-snapshot-id ("null" when
// none, as Java writes), sequence-number and format-version "2".
absl::StatusOr<std::string> EncodeManifestList(const std::vector<ManifestFile>& manifests,
                                               int64_t snapshot_id,
                                               std::optional<int64_t> parent_snapshot_id,
                                               int64_t sequence_number,
                                               std::string_view sync_marker,
                                               AvroContainerOptions::Codec codec);

absl::StatusOr<std::vector<ManifestFile>> DecodeManifestList(std::string_view bytes);

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_MANIFEST_H_
