#include "service/rpc/rpc_metrics.h"

namespace lakehose {

void RpcTimer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
  metrics_.request_duration(rpc_).Observe(elapsed.count());
  if (records_ >= 0) metrics_.request_records(rpc_).Observe(static_cast<double>(records_));
}

void CountAnswered(const PipelineMetrics& m, MetricRpc rpc,
                   const google::protobuf::RepeatedPtrField<v1::Record>& records,
                   const google::protobuf::RepeatedPtrField<v1::RecordResult>& results) {
  int64_t counts[kResultCount] = {};
  for (const v1::RecordResult& r : results) {
    switch (r.result()) {
      case v1::RecordResult::OK:
        ++counts[kResultOk];
        break;
      case v1::RecordResult::DROPPED:
        ++counts[kResultDropped];
        break;
      case v1::RecordResult::PROCESSING_FAILED:
        ++counts[kResultProcessingFailed];
        break;
      default:
        break;
    }
  }
  for (int i = 0; i < kResultCount; ++i)
    if (counts[i] > 0) m.records[rpc][i]->Increment(static_cast<double>(counts[i]));
  int64_t bytes = 0;
  for (const v1::Record& r : records) bytes += static_cast<int64_t>(r.data().size());
  if (bytes > 0) m.bytes_in->Increment(static_cast<double>(bytes));
}

}  // namespace lakehose
