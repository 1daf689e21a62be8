#include "core/transform/parquet_gate.h"

#include <string_view>
#include <utility>

#include "core/parquet/parquet_writer.h"

namespace lakehose {

void RefuseUnstorable(const PipelineSpec& spec, const TransformContext& ctx, RecordOutcome* out) {
  if (out->result != Verdict::kOk || spec.destination.format != "parquet") return;
  ParquetRecordCheck check = CheckParquetRecord(out->data, spec.destination.parquet);
  if (check.ok()) return;
  out->result = Verdict::kProcessingFailed;
  out->error_code = check.problem == ParquetRecordProblem::kTooDeep
                        ? error_code::kNestingTooDeep
                        : error_code::kUnrepresentableValue;
  out->error_message = std::move(check.message);
  out->data.clear();
  out->partition_values.clear();
  PrefixValues v;
  v.timestamp_ms = out->arrival_ms;
  v.random_string = ctx.random_string;
  v.error_output_type = "processing-failed";  // as RecordTransformer renders error prefixes
  out->key_prefix.clear();
  spec.error_prefix.Render(v, &out->key_prefix);
}

}  // namespace lakehose
