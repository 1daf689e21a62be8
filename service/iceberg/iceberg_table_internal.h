// What IcebergTable's translation units share (iceberg_table.cc: encoding and commits;
// maintenance.cc: `lakehose table compact` and `table expire`): the summary keys lakehose writes
// and the table as last read. Not for other callers.
#ifndef LAKEHOSE_SERVICE_ICEBERG_ICEBERG_TABLE_INTERNAL_H_
#define LAKEHOSE_SERVICE_ICEBERG_ICEBERG_TABLE_INTERNAL_H_

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/iceberg/manifest.h"
#include "core/iceberg/metadata_json.h"
#include "core/iceberg/schema.h"
#include "core/iceberg/types.h"
#include "core/parquet/parquet_writer.h"
#include "service/iceberg/iceberg_table.h"

namespace lakehose {

inline constexpr std::string_view kSummaryWriter = "lakehose.writer-id";
inline constexpr std::string_view kSummaryPipeline = "lakehose.pipeline";
inline constexpr std::string_view kSummaryObjects = "lakehose.objects";
inline constexpr std::string_view kSummaryIndexDelta = "lakehose.index-delta";
inline constexpr std::string_view kNoIndexDelta = "none";  // a commit that changed no key
// Table properties `lakehose table expire` sets on a current-state table: the key index
// as of one snapshot, whole (an index delta of every key), so that an index can be
// rebuilt once the earlier snapshots' deltas are gone.
inline constexpr std::string_view kPropertyCheckpoint = "lakehose.index-checkpoint";
inline constexpr std::string_view kPropertyCheckpointSnapshot =
    "lakehose.index-checkpoint-snapshot";

// A whole decimal number of `text` into `*out`.
inline bool ParseUint64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// A data file's manifest entry for Parquet `file` stored at `uri` in `partition`: its
// counts and the column metrics the writer measured.
inline iceberg::DataFile DataFileOf(const ParquetFile& file, std::string uri,
                                    std::vector<iceberg::PartitionValue> partition) {
  iceberg::DataFile df;
  df.file_path = std::move(uri);
  df.partition = std::move(partition);
  df.record_count = file.rows;
  df.file_size_in_bytes = static_cast<int64_t>(file.bytes.size());
  for (const ParquetFieldMetrics& m : file.field_metrics) {
    df.column_sizes[m.field_id] = m.column_size;
    df.value_counts[m.field_id] = m.value_count;
    df.null_value_counts[m.field_id] = m.null_count;
    if (m.lower_bound) df.lower_bounds[m.field_id] = *m.lower_bound;
    if (m.upper_bound) df.upper_bounds[m.field_id] = *m.upper_bound;
  }
  return df;
}

// The current metadata and what encoding and committing derive from it.
struct IcebergTable::Table {
  Loaded loaded;
  const iceberg::Schema* schema = nullptr;
  const iceberg::PartitionSpec* spec = nullptr;
  // Per partition field: its source field and result type.
  std::vector<const iceberg::Field*> sources;
  std::vector<iceberg::Type> result_types;
  std::vector<iceberg::Field> partition_type;  // the manifest's partition struct
  std::string schema_json;

  // The header of a manifest of this table: 0 data, 1 deletes.
  iceberg::ManifestContext ManifestHeader(int content) const {
    iceberg::ManifestContext ctx;
    ctx.schema_json = schema_json;
    ctx.schema_id = schema->schema_id;
    ctx.partition_spec_json = iceberg::PartitionFieldsToJson(*spec);
    ctx.partition_spec_id = spec->spec_id;
    ctx.partition_type = partition_type;
    ctx.content = content;
    return ctx;
  }
  // A manifest list entry's partition summaries of `entries`, one per partition field.
  std::vector<iceberg::FieldSummary> PartitionSummaries(
      const std::vector<iceberg::ManifestEntry>& entries) const {
    std::vector<iceberg::FieldSummary> out;
    for (size_t f = 0; f < partition_type.size(); ++f) {
      std::vector<const iceberg::PartitionValue*> vals;
      for (const iceberg::ManifestEntry& e : entries) vals.push_back(&e.data_file.partition[f]);
      out.push_back(iceberg::SummarizePartitionField(result_types[f], vals));
    }
    return out;
  }
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_ICEBERG_ICEBERG_TABLE_INTERNAL_H_
