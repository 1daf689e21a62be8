// RefuseUnstorable: the record path's guard for Parquet pipelines. A document the Parquet
// writer cannot store (core/parquet/parquet_writer.h, CheckParquetRecord: nested deeper
// than it takes, a value its declared column cannot hold) is refused here, one record at
// a time at Transform/Ingest, so that it never reaches a buffer and fails the object it
// would be sealed in (with every other record of that object).
//
//   transformer.Transform(in, ctx, &outcome);
//   RefuseUnstorable(spec, ctx, &outcome);  // Parquet pipelines; a no-op for others
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_TRANSFORM_PARQUET_GATE_H_
#define LAKEHOSE_CORE_TRANSFORM_PARQUET_GATE_H_

#include "core/config/pipeline.h"
#include "core/transform/record.h"
#include "core/transform/transformer.h"

namespace lakehose {

// If `spec` writes Parquet and `out` is an OK outcome whose document the writer cannot
// store, turns it into PROCESSING_FAILED: NESTING_TOO_DEEP or UNREPRESENTABLE_VALUE,
// the message naming the column, and key_prefix the error prefix rendered as
// RecordTransformer::Transform renders it (with `ctx`). Otherwise leaves `out` alone.
void RefuseUnstorable(const PipelineSpec& spec, const TransformContext& ctx, RecordOutcome* out);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_PARQUET_GATE_H_
