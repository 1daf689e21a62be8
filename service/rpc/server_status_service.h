// ServerStatusService: the gRPC ServerStatus service (callback API): the detail that
// grpc.health.v1 cannot carry. GetServerStatus answers every S3 destination's breaker
// state (name, state, outage length, last error) and the dead-letter backlog, read from
// `read` at the call. A down destination never turns health NOT_SERVING: the server still
// acknowledges Ingest to disk (README "S3", "Destination down"); it shows here instead.
//
// `read` runs inline on the reactor thread, so it must only take short locks (the breakers'
// and the DLQ index's), never do I/O. Thread-safe. Needs the bearer token when the server
// has one (it names buckets and carries S3 error text), unlike health.
#ifndef LAKEHOSE_SERVICE_RPC_SERVER_STATUS_SERVICE_H_
#define LAKEHOSE_SERVICE_RPC_SERVER_STATUS_SERVICE_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "lakehose/v1/lakehose.grpc.pb.h"
#include "service/metrics/metrics.h"

namespace lakehose {

// last_error as answered: at most this many bytes (cut at a UTF-8 boundary), control
// characters replaced by spaces. An S3 error's code and message fit; a whole HTML error
// page from a proxy does not need to.
inline constexpr size_t kMaxStatusErrorBytes = 512;
std::string CleanStatusError(std::string_view error);

class ServerStatusService final : public v1::ServerStatus::CallbackService {
 public:
  using ReadFn = std::function<v1::GetServerStatusResponse()>;
  ServerStatusService(const Metrics& metrics, ReadFn read)
      : metrics_(metrics), read_(std::move(read)) {}

  grpc::ServerUnaryReactor* GetServerStatus(grpc::CallbackServerContext* context,
                                            const v1::GetServerStatusRequest* request,
                                            v1::GetServerStatusResponse* response) override;

 private:
  const Metrics& metrics_;
  const ReadFn read_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_SERVER_STATUS_SERVICE_H_
