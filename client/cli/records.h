// Records in and results out, shared by `lakehose transform` and `lakehose send`: the
// input streamed through an InputSplitter (read ahead on a thread of its own), request
// records, the results rendered as the user asked as they come, and the verdict summary on
// stderr. ResultWriter is for one thread.
#ifndef LAKEHOSE_CLIENT_CLI_RECORDS_H_
#define LAKEHOSE_CLIENT_CLI_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "client/cli/common.h"
#include "core/transform/batch_io.h"
#include "core/transform/record.h"
#include "lakehose/v1/lakehose.pb.h"

namespace lakehose::cli {

// Verdicts seen.
struct Counts {
  int64_t ok = 0, dropped = 0, failed = 0;
  void Add(Verdict v);
};

// Appends records[begin, end) to a request's records.
void AddRecords(const std::vector<OwnedRecord>& records, size_t begin, size_t end,
                google::protobuf::RepeatedPtrField<v1::Record>* out);

// A wire result as a ResultView borrowing from it; `input` is the record's input (for a
// Firehose response's failed and dropped records). Partition keys follow `key_names` when
// known, else their names' order.
ResultView ViewOf(const v1::RecordResult& r, std::string_view input,
                  const std::vector<std::string>& key_names);

// Results written as they come, in pieces of about a megabyte: one JSON line per result,
// or, for a Firehose event, one Firehose transformation response (its opening, each
// record, its closing) byte for byte as if rendered whole. With an empty `output`, only
// counted.
class ResultWriter {
 public:
  explicit ResultWriter(const std::string& output) : output_(output), enabled_(!output.empty()) {}
  // Counts and renders `r`, of an input in `format`. Returns 0, or Fail()'s 1 when the
  // output cannot be written.
  int Add(const ResultView& r, BatchFormat format);
  // Writes what is rendered once it is large; at the end (`last`), all of it, with a
  // Firehose response's closing (and its opening, if no record came).
  int Flush(BatchFormat format, bool last = false);
  const Counts& counts() const { return counts_; }

 private:
  OutputFile output_;
  bool enabled_;
  Counts counts_;
  std::string buf_;
  bool started_ = false;  // a Firehose response's opening is rendered
  size_t rendered_ = 0;
};

// Reads `in` in 1 MiB chunks through `splitter` (on a second thread, a few chunks ahead),
// handing the records to `take` as they complete: take(&pending, at_end, format)
// processes what it wants from the front of `pending` and erases it; at the end (at_end)
// it must take all. `format` is the input's, as far as known (JSON Lines until decided).
// Returns take's first non-zero exit code, or 0. An input that cannot be read, or the
// splitter's error (a damaged event), ends the reading: `take` gets the records before it
// (at_end), and the error goes to `*input_error`. `splitter` is not to be used by the
// caller until this returns.
using TakeRecords = std::function<int(std::vector<OwnedRecord>*, bool, BatchFormat)>;
int StreamRecords(InputFile* in, InputSplitter* splitter, const TakeRecords& take,
                  absl::Status* input_error);

// The exit after an input error that came after `records` records were processed:
// "lakehose: <error>; the N records before it were <done>", exit code 1.
int FailAfterInputError(const absl::Status& error, size_t records, std::string_view done);

// "lakehose <command>: N records: A ok, B dropped, C failed (S s, R records/s)" on stderr.
void PrintSummary(std::string_view command, size_t records, const Counts& counts, double seconds);

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_RECORDS_H_
