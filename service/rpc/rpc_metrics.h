// What the gRPC services count per call (README.md, "Metrics"): latency and batch size by
// rpc, answered records by pipeline and result, bytes of record data in. Kept apart from
// the services so each handler adds one line.
//
//   RpcTimer timer(metrics, kRpcTransform);       // observes the latency when destroyed
//   timer.set_records(request->records_size());
//   CountAnswered(metrics.ForPipeline(name), kRpcTransform, request->records(),
//   response->records());
//
// Thread-safe (the metrics are atomic); an RpcTimer belongs to one call.
#ifndef LAKEHOSE_SERVICE_RPC_RPC_METRICS_H_
#define LAKEHOSE_SERVICE_RPC_RPC_METRICS_H_

#include <chrono>
#include <cstdint>

#include "lakehose/v1/lakehose.pb.h"
#include "service/metrics/metrics.h"

namespace lakehose {

class RpcTimer {
 public:
  RpcTimer(const Metrics& metrics, MetricRpc rpc)
      : metrics_(metrics), rpc_(rpc), start_(std::chrono::steady_clock::now()) {}
  ~RpcTimer() { Stop(); }
  RpcTimer(const RpcTimer&) = delete;
  RpcTimer& operator=(const RpcTimer&) = delete;

  // Records in the request (observed in lakehose_request_records when set).
  void set_records(int64_t n) { records_ = n; }
  // Observes now (for calls that finish from a callback); later calls do nothing.
  void Stop();

 private:
  const Metrics& metrics_;
  const MetricRpc rpc_;
  const std::chrono::steady_clock::time_point start_;
  int64_t records_ = -1;
  bool stopped_ = false;
};

// Counts the results of an answered request (`rpc` must be one of the first
// kRecordRpcCount) and the bytes of its records' data.
void CountAnswered(const PipelineMetrics& m, MetricRpc rpc,
                   const google::protobuf::RepeatedPtrField<v1::Record>& records,
                   const google::protobuf::RepeatedPtrField<v1::RecordResult>& results);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_RPC_METRICS_H_
