#include "service/rpc/ingest_lines.h"

#include "core/delivery/delivery_format.h"

namespace lakehose {

bool AppendIngestLine(const v1::Record& in, const v1::RecordResult& r, int64_t now_ms,
                      std::vector<BufferedLine>* lines) {
  if (r.result() == v1::RecordResult::OK) {
    BufferedLine& l = lines->emplace_back();
    l.prefix = r.key_prefix();
    l.line.reserve(r.data().size() + 1);
    l.line.append(r.data());
    l.line.push_back('\n');
    return true;
  }
  if (r.result() == v1::RecordResult::PROCESSING_FAILED) {
    BufferedLine& l = lines->emplace_back();
    l.prefix = r.key_prefix();
    AppendErrorDocument(1, ArrivalMillis(in, now_ms), r.error_code(), r.error_message(), in.data(),
                        &l.line);
    return true;
  }
  return false;
}

std::vector<BufferedLine> IngestLines(
    const google::protobuf::RepeatedPtrField<v1::Record>& records,
    const google::protobuf::RepeatedPtrField<v1::RecordResult>& results, int64_t now_ms) {
  std::vector<BufferedLine> lines;
  lines.reserve(results.size());
  for (int i = 0; i < results.size() && i < records.size(); ++i)
    AppendIngestLine(records[i], results[i], now_ms, &lines);
  return lines;
}

std::vector<DeadLetterQueue::FailedRecord> FailedRecords(
    const google::protobuf::RepeatedPtrField<v1::Record>& records,
    const google::protobuf::RepeatedPtrField<v1::RecordResult>& results, int64_t now_ms) {
  std::vector<DeadLetterQueue::FailedRecord> out;
  for (int i = 0; i < results.size() && i < records.size(); ++i) {
    const v1::RecordResult& r = results[i];
    if (r.result() != v1::RecordResult::PROCESSING_FAILED) continue;
    DeadLetterQueue::FailedRecord& f = out.emplace_back();
    f.record_id = records[i].record_id();
    f.data = records[i].data();
    f.arrival_ms = ArrivalMillis(records[i], now_ms);
    f.error_code = r.error_code();
    f.error_message = r.error_message();
  }
  return out;
}

}  // namespace lakehose
