// TransformService: the gRPC Transformer service (callback API). Thin transport:
// validate the request against the documented limits, run the core transform for each
// record, map verdicts onto the wire. It never blocks: the work is CPU only.
//
// Thread-safe. Borrows the Config and Clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_TRANSFORM_SERVICE_H_
#define LAKEHOSE_SERVICE_TRANSFORM_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "core/config.h"
#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/clock.h"
#include "service/transformer_pool.h"

namespace lakehose {

// Checks a request's records against `limits`: count, record and record_id sizes, empty
// and duplicate record_ids. INVALID_ARGUMENT with the limit named in the message.
absl::Status ValidateRecords(const google::protobuf::RepeatedPtrField<v1::Record>& records,
                             const Limits& limits);

// Converts a grpc::Status to an absl::Status and back, code for code.
absl::Status FromGrpcStatus(const grpc::Status& s);
grpc::Status ToGrpcStatus(const absl::Status& s);

class TransformService final : public v1::Transformer::CallbackService {
 public:
  TransformService(const Config& config, const Clock& clock) : config_(config), clock_(clock) {}

  grpc::ServerUnaryReactor* Transform(grpc::CallbackServerContext* context,
                                      const v1::TransformRequest* request,
                                      v1::TransformResponse* response) override;

  // Once called, new calls are answered UNAVAILABLE (in-flight calls finish).
  void StartDraining() { draining_.store(true); }

  // The transform itself, without the transport: used by the handler and by tests.
  absl::Status DoTransform(const v1::TransformRequest& request, v1::TransformResponse* response);

 private:
  const Config& config_;
  const Clock& clock_;
  TransformerPool pool_;
  std::atomic<bool> draining_{false};
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_TRANSFORM_SERVICE_H_
