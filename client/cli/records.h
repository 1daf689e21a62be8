// Records in and results out, shared by `lakehose transform` and `lakehose send`: the
// request records of a slice of an input batch, the results rendered as the user asked,
// and the verdict summary on stderr. Stateless functions; Counts is a plain value.
#ifndef LAKEHOSE_CLIENT_CLI_RECORDS_H_
#define LAKEHOSE_CLIENT_CLI_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/transform/batch_io.h"
#include "core/transform/record.h"
#include "lakehose/v1/lakehose.pb.h"

namespace lakehose::cli {

// Verdicts seen.
struct Counts {
  int64_t ok = 0, dropped = 0, failed = 0;
  void Add(Verdict v);
};

// Appends batch.records[begin, end) to a request's records.
void AddRecords(const InputBatch& batch, size_t begin, size_t end,
                google::protobuf::RepeatedPtrField<v1::Record>* records);

// Counts the verdicts of `results` (one per record of `batch`) and, unless `output` is
// empty, writes them to `output` ("-" = stdout): one JSON line per result, or a Firehose
// transformation response for a Firehose event. Partition keys follow `key_names` when
// known, else their names' order. Returns 0, or Fail()'s 1 when `output` cannot be
// written.
int WriteResults(const std::vector<v1::RecordResult>& results, const InputBatch& batch,
                 const std::vector<std::string>& key_names, const std::string& output,
                 Counts* counts);

// "lakehose <command>: N records: A ok, B dropped, C failed (S s, R records/s)" on stderr.
void PrintSummary(std::string_view command, size_t records, const Counts& counts, double seconds);

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_RECORDS_H_
