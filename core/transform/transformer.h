// RecordTransformer: one record in, one verdict out, for one pipeline.
//
//   decode -> filter -> choose image -> project -> convert -> partition keys -> prefix
//
// Pure (no clock, no I/O): arrival time defaults and random strings come in through
// TransformContext. Holds parse buffers, so it is NOT thread-safe: use one per thread
// (they are cheap to keep and reuse). The PipelineSpec is borrowed and must outlive it.
//
//   RecordTransformer t(spec);
//   RecordOutcome out;
//   t.Transform({.record_id = "1", .data = json}, ctx, &out);
//   if (out.result == Verdict::kOk) Use(out.data, out.key_prefix);
#ifndef LAKEHOSE_CORE_TRANSFORM_TRANSFORMER_H_
#define LAKEHOSE_CORE_TRANSFORM_TRANSFORMER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/json_writer.h"
#include "core/config/pipeline.h"
#include "core/transform/ddb_json.h"
#include "core/transform/record.h"
#include "simdjson.h"

namespace lakehose {

struct TransformContext {
  // Used when a record carries no arrival time (the service passes its receive time).
  int64_t default_arrival_ms = 0;
  // Text for !{firehose:random-string}; the caller generates it (core draws no randomness).
  std::string_view random_string;
};

class RecordTransformer {
 public:
  explicit RecordTransformer(const PipelineSpec& spec);

  RecordTransformer(const RecordTransformer&) = delete;
  RecordTransformer& operator=(const RecordTransformer&) = delete;

  // Fills *out (cleared first) with the verdict for `in`. Never fails as a call: every
  // problem with the record becomes a PROCESSING_FAILED verdict naming the path.
  void Transform(const InputRecord& in, const TransformContext& ctx, RecordOutcome* out);

  const PipelineSpec& spec() const { return spec_; }

 private:
  bool TransformStream(std::string_view data, RecordOutcome* out, ConvertError* error);
  bool TransformJson(std::string_view data, RecordOutcome* out, ConvertError* error);
  bool PartitionKeysFromStream(simdjson::dom::object image, std::string_view image_name,
                               std::optional<int64_t> creation_ms, RecordOutcome* out,
                               ConvertError* error);
  // Resolves partition key `k` given its raw value (nullopt if missing), appending the
  // path-safe value to out->partition_values.
  bool ResolveKey(const PartitionKeySpec& k, std::optional<std::string_view> raw,
                  bool raw_is_string, std::optional<int64_t> creation_ms, RecordOutcome* out,
                  ConvertError* error);
  void RenderPrefix(const TransformContext& ctx, RecordOutcome* out);
  struct MetadataField;
  // A metadata value that is not a string (a number, or whatever an odd record carries),
  // checked and copied into doc_.
  bool AppendOtherMetadata(const MetadataField& m, simdjson::dom::element value,
                           ConvertError* error);
  // The converted attributes of `image` (those `fields` keeps) into doc_; `first` if
  // nothing precedes them in the document.
  bool AppendAttributes(simdjson::dom::object image, std::string_view image_name, bool first,
                        ConvertError* error);
  // format iceberg: appends the change-log columns to the OK document in out->data.
  bool AppendIcebergColumns(RecordOutcome* out, ConvertError* error);
  // The scalar at spec.attribute_path[1..] inside `snippet` (the rendered JSON of the
  // top-level field). *raw stays nullopt when absent or null; false on a non-scalar.
  bool JsonScalarAt(std::string_view snippet, const PartitionKeySpec& spec,
                    std::optional<std::string_view>* raw, bool* raw_is_string, ConvertError* error);

  struct MetadataField {
    enum Source { kRecord, kDynamodb, kCreationTime } source = kRecord;
    std::string name;
    std::string key_json;  // "_name": as it is written
  };

  const PipelineSpec& spec_;
  std::vector<MetadataField> metadata_;  // spec_.metadata, resolved
  simdjson::dom::parser dom_;
  simdjson::ondemand::parser ondemand_;
  simdjson::ondemand::parser snippet_ondemand_;
  DdbJsonConverter converter_;
  JsonBuffer doc_;       // the document being written (dynamodb-stream path)
  std::string padded_;   // input copy with simdjson padding (on-demand path)
  std::string scratch_;  // rendered values of partition-key fields (JSON path)
  std::string discard_;  // rendered values of projected-away fields (validated, dropped)
  std::string snippet_padded_;
  std::string key_value_;  // a partition key's raw value (JSON path)
  // The last timestamp partition key text parsed in this record, and its result.
  // format iceberg: the record's event time (kIcebergEventTimeColumn): what its timestamp
  // partition keys resolved to, else the stream's ApproximateCreationDateTime.
  std::optional<int64_t> event_ms_;
  bool has_last_timestamp_ = false;
  std::string last_timestamp_text_;
  int last_timestamp_shift_ = 0;
  bool last_timestamp_is_string_ = false;
  std::optional<int64_t> last_timestamp_ms_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_TRANSFORMER_H_
