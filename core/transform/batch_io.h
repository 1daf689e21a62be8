// Batch formats of the `lakehose transform` CLI (pure: text in, text out).
//
// Input, detected from the text:
//  - a Lambda DynamoDB event: {"Records": [ <stream record>, ... ]}
//  - a Firehose transformation event: {"invocationId": ..., "records": [{"recordId",
//    "approximateArrivalTimestamp", "data": <base64>}, ...]}
//  - otherwise JSON Lines: one record (a stream record or a JSON document) per line;
//    blank lines are skipped.
// Record ids: the Firehose event's recordId; otherwise the 1-based position ("1", "2", ...).
//
// Output: one RecordResult as a JSON object per line, or, for a Firehose event, a Firehose
// transformation response ({"records": [{"recordId", "result": "Ok"|"Dropped"|
// "ProcessingFailed", "data", "metadata": {"partitionKeys": {...}}}]}).
#ifndef LAKEHOSE_CORE_TRANSFORM_BATCH_IO_H_
#define LAKEHOSE_CORE_TRANSFORM_BATCH_IO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/transform/record.h"

namespace lakehose {

enum class BatchFormat { kJsonLines, kLambdaEvent, kFirehoseEvent };

struct OwnedRecord {
  std::string record_id;
  std::string data;
  int64_t arrival_ms = 0;
};

struct InputBatch {
  BatchFormat format = BatchFormat::kJsonLines;
  std::vector<OwnedRecord> records;
};

// INVALID_ARGUMENT if the text is an event document that is not well-formed (a truncated
// event file, say). A malformed line of JSON Lines is not an error here: it becomes a
// record that the transform fails alone.
absl::StatusOr<InputBatch> ParseInputBatch(std::string_view text);

// One verdict, borrowed from a RecordOutcome or a wire RecordResult.
struct ResultView {
  std::string_view record_id;
  Verdict result = Verdict::kUnspecified;
  Operation operation = Operation::kUnspecified;
  std::string_view data;
  std::vector<std::pair<std::string_view, std::string_view>> partition_keys;
  std::string_view key_prefix;
  std::string_view error_code;
  std::string_view error_message;
  std::string_view input_data;  // the record's input, for Firehose's failed/dropped records
};

// Appends {"record_id":...,"result":"OK",...,"data":{...}}\n. `data` is embedded as JSON.
void AppendResultJsonLine(const ResultView& r, std::string* out);

// Appends a complete Firehose transformation response. OK data is the document plus a
// newline, base64-encoded, so Firehose's concatenation yields JSON Lines.
void AppendFirehoseResponse(const std::vector<ResultView>& results, std::string* out);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_BATCH_IO_H_
