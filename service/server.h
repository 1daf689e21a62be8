// Server: the lakehose gRPC server (Transformer, Ingestor, health, reflection), its
// delivery engine, and their lifecycle. Used by lakehose-server's main and, in-process,
// by tests.
//
//   ASSIGN_OR_RETURN(auto server, Server::Start(config, "127.0.0.1:0", clock));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(30));
//
// Thread-safe. Borrows the Config and Clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_SERVER_H_
#define LAKEHOSE_SERVICE_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "grpcpp/server.h"
#include "service/clock.h"
#include "service/config_file.h"
#include "service/dead_letter_queue.h"
#include "service/dead_letter_retrier.h"
#include "service/dead_letters_service.h"
#include "service/delivery_engine.h"
#include "service/ingest_service.h"
#include "service/object_sink.h"
#include "service/transform_service.h"

namespace lakehose {

// Builds the sink of a pipeline's destination.
using SinkFactory = std::function<absl::StatusOr<std::unique_ptr<ObjectSink>>(const PipelineSpec&)>;

// The real destinations: `file` (FileSink) and `s3`.
absl::StatusOr<std::unique_ptr<ObjectSink>> MakeDestinationSink(const PipelineSpec& spec);

// server.writer_id, or the host name made key-safe.
std::string ResolveWriterId(const ServerOptions& options);

class Server {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one) and starts serving. Sinks come
  // from `make_sink` (tests pass fakes). A sink that cannot be built stops start-up.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const Config& config, const std::string& listen,
                                                       const Clock& clock,
                                                       SinkFactory make_sink = MakeDestinationSink);
  ~Server();

  int port() const { return port_; }
  DeliveryEngine& delivery() { return *engine_; }
  // The dead-letter queue (data_dir/dlq) and its retry worker.
  DeadLetterQueue& dead_letter_queue() { return *dlq_; }
  DeadLetterRetrier& dead_letter_retrier() { return *dlq_retrier_; }

  // Health turns NOT_SERVING, new calls get UNAVAILABLE, in-flight calls get until
  // `grace` to finish, then buffers are flushed within what is left of `grace`.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;

  // --- dead-letter queue: declared first, so it outlives everything that uses it ---
  std::unique_ptr<DeadLetterQueue> dlq_;
  std::unique_ptr<RecordProcessor> processor_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<TransformService> transform_;
  std::unique_ptr<IngestService> ingest_;
  // --- dead-letter retry worker and service: after the engine (they use it) ---
  std::unique_ptr<DeadLetterRetrier> dlq_retrier_;
  std::unique_ptr<DeadLettersService> dead_letters_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_SERVER_H_
