// What Ingest (and Redrive of processing dead letters) hands to the DeliveryEngine and
// the dead-letter queue for a request's transform results, as free functions shared by
// IngestService and DeadLettersService.
//
// Thread-safe (no state).
#ifndef LAKEHOSE_SERVICE_RPC_INGEST_LINES_H_
#define LAKEHOSE_SERVICE_RPC_INGEST_LINES_H_

#include <cstdint>
#include <vector>

#include "lakehose/v1/lakehose.pb.h"
#include "service/delivery/delivery_engine.h"
#include "service/dlq/dead_letter_queue.h"

namespace lakehose {

// The arrival time of `in`: its approximate_arrival_timestamp, or `now_ms` if unset.
inline int64_t ArrivalMillis(const v1::Record& in, int64_t now_ms) {
  return in.approximate_arrival_timestamp() != 0 ? in.approximate_arrival_timestamp() : now_ms;
}

// Appends the line delivery buffers for one record's result `r` of input `in`: OK → the
// transformed document and a newline under its key_prefix; PROCESSING_FAILED → a
// Firehose-style error document (core/delivery/delivery_format.h) under its key_prefix (the
// error prefix); DROPPED → nothing. Returns whether a line was appended.
bool AppendIngestLine(const v1::Record& in, const v1::RecordResult& r, int64_t now_ms,
                      std::vector<BufferedLine>* lines);

// AppendIngestLine for every record of a request (`results` in the order of `records`).
std::vector<BufferedLine> IngestLines(
    const google::protobuf::RepeatedPtrField<v1::Record>& records,
    const google::protobuf::RepeatedPtrField<v1::RecordResult>& results, int64_t now_ms);

// The PROCESSING_FAILED records of a request, as DeadLetterQueue::AddProcessing takes
// them (raw input, arrival time, error code and message).
std::vector<DeadLetterQueue::FailedRecord> FailedRecords(
    const google::protobuf::RepeatedPtrField<v1::Record>& records,
    const google::protobuf::RepeatedPtrField<v1::RecordResult>& results, int64_t now_ms);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_INGEST_LINES_H_
