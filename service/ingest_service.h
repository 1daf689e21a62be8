// IngestService: the gRPC Ingestor service (callback API). Transform each record as
// Transform does, then hand the OK records (and Firehose-style error documents for the
// failed ones) to the DeliveryEngine; answer once the engine accepted them. The raw input
// of failed records is also kept in the dead-letter queue for Redrive.
// Flush never blocks a reactor: it completes from the engine's callback.
//
// Thread-safe. Borrows the processor, engine and queue, which must outlive it.
#ifndef LAKEHOSE_SERVICE_INGEST_SERVICE_H_
#define LAKEHOSE_SERVICE_INGEST_SERVICE_H_

#include <atomic>

#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/dead_letter_queue.h"
#include "service/delivery_engine.h"
#include "service/transform_service.h"

namespace lakehose {

class IngestService final : public v1::Ingestor::CallbackService {
 public:
  // PROCESSING_FAILED records also go to `dead_letters` (their raw input, for Redrive).
  IngestService(RecordProcessor& processor, DeliveryEngine& engine, DeadLetterQueue& dead_letters)
      : processor_(processor), engine_(engine), dead_letters_(dead_letters) {}

  grpc::ServerUnaryReactor* Ingest(grpc::CallbackServerContext* context, const v1::IngestRequest* request,
                                   v1::IngestResponse* response) override;
  grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* IngestStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Flush(grpc::CallbackServerContext* context, const v1::FlushRequest* request,
                                  v1::FlushResponse* response) override;

  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // Transform + accept for one request (shared by Ingest and IngestStream, which `rpc`
  // names for the metrics); UNAVAILABLE once draining.
  grpc::Status HandleIngest(grpc::CallbackServerContext* context, const v1::IngestRequest& request,
                            v1::IngestResponse* response, MetricRpc rpc);

 private:
  RecordProcessor& processor_;
  DeliveryEngine& engine_;
  DeadLetterQueue& dead_letters_;
  std::atomic<bool> draining_{false};
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_INGEST_SERVICE_H_
