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
// InputSplitter reads the same formats incrementally, in chunks of any size, holding one
// line (JSON Lines) or one element of the event's array (events) at a time; ParseInputBatch
// is the splitter fed the whole text.
//
// Output: one RecordResult as a JSON object per line, or, for a Firehose event, a Firehose
// transformation response ({"records": [{"recordId", "result": "Ok"|"Dropped"|
// "ProcessingFailed", "data", "metadata": {"partitionKeys": {...}}}]}).
#ifndef LAKEHOSE_CORE_TRANSFORM_BATCH_IO_H_
#define LAKEHOSE_CORE_TRANSFORM_BATCH_IO_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/transform/record.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

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

// The input of ParseInputBatch fed in pieces: complete records come out as soon as they
// end, so memory holds one record plus the unread rest of a chunk, whatever the input's
// size. The format is decided from the first top-level value, as ParseInputBatch does:
//  - not starting with '{': JSON Lines, line by line;
//  - an object whose top-level key "Records" (or "records") opens an array: a Lambda (or
//    Firehose) event, streamed element by element of that array by a recursion-free
//    scanner (depth, strings, escapes); each element is parsed alone;
//  - another object: when the input ends after it (only whitespace follows), the whole
//    text is one document and read as ParseInputBatch always did (one record, kept whole
//    even if pretty-printed); when more follows, JSON Lines if the first line is a JSON
//    document; if not, an error when the text read so far mentions "Records"/"records"
//    (an event cut short), else JSON Lines.
// Differences from reading the whole text first: records before an event's damage (a
// truncated file, a Firehose record that is not JSON or lacks recordId) come out before
// the error; an element of a Lambda event is minified as written, not parsed (the
// transform parses it: one that is not JSON fails there alone, as a line of JSON Lines
// does); text after a complete event is an error (the event is not re-read as JSON
// Lines); a top-level object holding both "Records" and "records" arrays is the event of
// whichever comes first.
// Not thread-safe; one per input.
class InputSplitter {
 public:
  InputSplitter();
  InputSplitter(const InputSplitter&) = delete;
  InputSplitter& operator=(const InputSplitter&) = delete;
  ~InputSplitter();

  // Appends `chunk` to the input read so far; the records it completes are appended to
  // `*out`. Errors are INVALID_ARGUMENT (a damaged event) and sticky: the records before
  // the damage are appended first.
  absl::Status Feed(std::string_view chunk, std::vector<OwnedRecord>* out);
  // The end of the input: appends its last records, or fails for an event cut short.
  absl::Status Finish(std::vector<OwnedRecord>* out);
  // Known by the time the first record comes out, and after Finish.
  std::optional<BatchFormat> format() const { return format_; }
  // Records appended so far.
  size_t records() const { return records_; }

 private:
  enum class Mode { kUndecided, kLines, kArray, kTail, kDone, kFailed };
  enum class Expect { kFirstElement, kElement, kCommaOrClose, kInElement };
  absl::Status Step(bool eof, std::vector<OwnedRecord>* out);
  absl::Status StepUndecided(bool eof, std::vector<OwnedRecord>* out);
  void StepLines(bool eof, std::vector<OwnedRecord>* out);
  void EmitLine(std::string_view line, std::vector<OwnedRecord>* out);
  absl::Status StepArray(bool eof, std::vector<OwnedRecord>* out);
  absl::Status StepTail(bool eof);
  // Scans p[*at, n) for the end of the element being read (container or string): its
  // end, or npos (more input needed, or `*too_deep`); `*at` = where scanning stopped.
  size_t ScanElement(const char* p, size_t n, size_t* at, bool* too_deep);
  absl::Status EmitElement(std::string_view text, std::vector<OwnedRecord>* out);
  absl::Status Fail(absl::Status status);
  void Compact(size_t keep_from);

  Mode mode_ = Mode::kUndecided;
  std::optional<BatchFormat> format_;
  absl::Status error_;
  size_t records_ = 0;
  std::string buf_;  // the input from buf_[0] on; earlier text is consumed
  size_t pos_ = 0;   // where scanning resumes in buf_
  // Undecided: the first value's start and end (npos until seen), the scanner's state.
  size_t first_ = std::string::npos, first_end_ = std::string::npos;
  int64_t depth_ = 0;
  bool in_string_ = false, escape_ = false;
  bool expect_key_ = false;  // at depth 1, the next string is a key
  size_t key_start_ = 0;     // the opening quote of the depth-1 key being read
  int key_kind_ = 0,
      value_kind_ = 0;  // 1 "Records", 2 "records": of the last key, of the value due
  // Lines: where the current line starts.
  size_t line_start_ = 0;
  // Array: what comes next, the element being read (start, kind, depth).
  Expect expect_ = Expect::kFirstElement;
  size_t elem_start_ = 0;
  char elem_kind_ = 0;  // '{' or '[' (container), '"' (string), 'x' (other scalar)
  // The event with its array emptied ("{...,\"Records\":[]...}"), checked as a document at
  // the end so that the text around the array is valid JSON too.
  std::string skeleton_;
  std::unique_ptr<simdjson::dom::parser> parser_;  // for Firehose records, reused
};

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

// The same response in pieces, for results that come a window at a time: the opening,
// each record (`first` for the first one: no comma before it), the closing.
void AppendFirehoseResponseStart(std::string* out);
void AppendFirehoseResponseRecord(const ResultView& r, bool first, std::string* out);
void AppendFirehoseResponseEnd(std::string* out);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_BATCH_IO_H_
