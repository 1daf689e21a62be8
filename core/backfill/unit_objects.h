// One unit of a backfill (a data file of a DynamoDB export, or a page of a Scan segment)
// turned into the objects it stores, as pure functions: each stream record through the
// pipeline's transform (and the Parquet gate), its line under its prefix (OK: the
// document; PROCESSING_FAILED: a Firehose-style error document under the error prefix,
// as Ingest writes it), and the lines of each prefix cut into objects of at most the
// pipeline's buffer size, in record order.
//
// Exactly once rests on the names: an object's key is ObjectKey(prefix, pipeline,
// writer_id, sequence) with writer_id naming the backfill's source and the sequence
// numbering the unit and its object within the unit (UnitSequence), so the same unit
// of the same source through the same config is the same objects under the same keys on
// every run; the caller stores them with If-None-Match and an object a killed run
// stored already answers "exists". Everything that goes into a document is fixed by the
// unit: the arrival time (`arrival_ms`, the records' own time, never the clock) and the
// text of !{firehose:random-string} (`random_string`, derived from the source).
//
// Pure; thread-compatible (the transformer is the caller's).
#ifndef LAKEHOSE_CORE_BACKFILL_UNIT_OBJECTS_H_
#define LAKEHOSE_CORE_BACKFILL_UNIT_OBJECTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/pipeline.h"
#include "core/transform/transformer.h"

namespace lakehose::backfill {

// Objects a unit may be cut into: the sequence of object `part` of unit `unit` is
// unit * kPartsPerUnit + part + kPartsPerUnit (unit 0's first object is not sequence 0,
// which no server object has either). Sequences have 16 digits in keys, so units stay
// below 9 * 10^9.
inline constexpr uint64_t kPartsPerUnit = 1'000'000;
inline constexpr uint64_t kMaxUnits = 9'000'000'000ULL;
absl::StatusOr<uint64_t> UnitSequence(uint64_t unit, uint64_t part);
// The unit of a sequence UnitSequence made (for messages and the table's summary).
inline uint64_t UnitOfSequence(uint64_t sequence) { return sequence / kPartsPerUnit - 1; }

struct UnitRecord {
  std::string_view data;  // a DynamoDB Streams record (Lambda's shape)
  int64_t arrival_ms = 0;
};

struct PlannedObject {
  std::string key;     // relative to the destination's root
  std::string prefix;  // the rendered prefix it was cut from
  std::string body;    // JSON Lines (documents, or error documents)
  int64_t records = 0;
  bool error_documents = false;
};

struct UnitObjects {
  std::vector<PlannedObject> objects;  // in the order of their first record
  int64_t ok = 0;                      // records written as documents
  int64_t failed = 0;                  // PROCESSING_FAILED: error documents under the error prefix
  int64_t dropped = 0;                 // filtered out by the pipeline (event names)
  int64_t bytes = 0;                   // of the bodies
};

struct UnitNaming {
  std::string_view pipeline;
  std::string_view writer_id;  // SanitizeWriterId'd by the caller
  uint64_t unit = 0;
  std::string_view random_string;
  // Largest object body (the pipeline's buffer.size_mb); a single larger line is an
  // object of its own.
  size_t max_object_bytes = 64 << 20;
};

// The unit's records through `transformer` (for `spec`), cut into objects named by
// `naming`. INVALID_ARGUMENT (naming the unit) when the unit would need more than
// kPartsPerUnit objects or its number is past kMaxUnits.
absl::StatusOr<UnitObjects> PlanUnitObjects(RecordTransformer& transformer,
                                            const PipelineSpec& spec,
                                            const std::vector<UnitRecord>& records,
                                            const UnitNaming& naming);

}  // namespace lakehose::backfill

#endif  // LAKEHOSE_CORE_BACKFILL_UNIT_OBJECTS_H_
