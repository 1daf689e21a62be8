// RecordProcessor: the step that Transform, Ingest and Redrive share. It checks a
// request's records against the configured limits (count, sizes, empty and duplicate
// record_ids), finds the pipeline, and runs the core transform on each record, writing
// one lakehose.v1.RecordResult per record. What happens to the results (answer them,
// accept them for delivery) is the caller's business.
//
// Ownership: borrows the Config and Clock, and the Metrics when one is passed (all must
// outlive it); owns a TransformerPool, so parse buffers are reused across requests.
//
// Thread-safe: Process may run on any number of threads at once (each takes its own
// transformer from the pool). CPU only: it never blocks on I/O.
#ifndef LAKEHOSE_SERVICE_RPC_RECORD_PROCESSOR_H_
#define LAKEHOSE_SERVICE_RPC_RECORD_PROCESSOR_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/config/config.h"
#include "lakehose/v1/lakehose.pb.h"
#include "service/metrics/metrics.h"
#include "service/platform/clock.h"
#include "service/rpc/transformer_pool.h"

namespace lakehose {

// Checks a request's records against `limits`: count, record and record_id sizes, empty
// and duplicate record_ids. INVALID_ARGUMENT with the limit named in the message.
absl::Status ValidateRecords(const google::protobuf::RepeatedPtrField<v1::Record>& records,
                             const Limits& limits);

class RecordProcessor {
 public:
  // `metrics`: where the services count (borrowed, must outlive it); null = a private,
  // unexported set (tests).
  RecordProcessor(const Config& config, const Clock& clock, Metrics* metrics = nullptr);

  // Fills `results` (one per record, in order) and returns the pipeline; INVALID_ARGUMENT
  // for an unknown pipeline or a request past the limits (`message_bytes` is its size).
  absl::StatusOr<const PipelineSpec*> Process(
      const std::string& pipeline, const google::protobuf::RepeatedPtrField<v1::Record>& records,
      size_t message_bytes, google::protobuf::RepeatedPtrField<v1::RecordResult>* results);

  const Config& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  Metrics& metrics() const { return *metrics_; }

 private:
  const Config& config_;
  const Clock& clock_;
  std::unique_ptr<Metrics> own_metrics_;
  Metrics* metrics_;
  TransformerPool pool_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_RECORD_PROCESSOR_H_
