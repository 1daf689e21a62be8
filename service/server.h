// Server: the lakehose gRPC server (Transformer, health, reflection) and its lifecycle.
// Used by lakehose-server's main and, in-process, by tests.
//
//   ASSIGN_OR_RETURN(auto server, Server::Start(config, "127.0.0.1:0", clock));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(30));
//
// Thread-safe. Borrows the Config and Clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_SERVER_H_
#define LAKEHOSE_SERVICE_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "grpcpp/server.h"
#include "service/clock.h"
#include "service/config_file.h"
#include "service/transform_service.h"

namespace lakehose {

class Server {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one) and starts serving.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const Config& config, const std::string& listen,
                                                       const Clock& clock);
  ~Server();

  int port() const { return port_; }

  // Health turns NOT_SERVING, new calls get UNAVAILABLE, in-flight calls get until
  // `grace` to finish; then the server stops. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;

  std::unique_ptr<TransformService> transform_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_SERVER_H_
