// Server: the lakehose gRPC server (Transformer, Ingestor, DeadLetters, ServerStatus, health,
// reflection), its delivery engine, dead-letter queue and retry worker, the /metrics
// endpoint, and their lifecycle. Used by lakehose-server's main and, in-process, by tests.
//
//   ASSIGN_OR_RETURN(auto server, Server::Start(config, "127.0.0.1:0", clock));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(30));
//
// Thread-safe. Borrows the Config and Clock, which must outlive it.
#ifndef LAKEHOSE_SERVICE_RPC_SERVER_H_
#define LAKEHOSE_SERVICE_RPC_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config/config.h"
#include "grpcpp/server.h"
#include "service/catalog/rest_catalog.h"
#include "service/config/config_file.h"
#include "service/delivery/delivery_engine.h"
#include "service/delivery/object_sink.h"
#include "service/dlq/dead_letter_queue.h"
#include "service/dlq/dead_letter_retrier.h"
#include "service/iceberg/iceberg_table.h"
#include "service/metrics/metrics.h"
#include "service/platform/clock.h"
#include "service/rpc/dead_letters_service.h"
#include "service/rpc/ingest_service.h"
#include "service/rpc/listener_probe.h"
#include "service/rpc/record_processor.h"
#include "service/rpc/server_status_service.h"
#include "service/rpc/transform_service.h"
#include "service/s3/s3_client.h"

namespace lakehose {

// Builds the sink of a pipeline's destination.
using SinkFactory = std::function<absl::StatusOr<std::unique_ptr<ObjectSink>>(const PipelineSpec&)>;

// The real destinations: `file` (FileSink) and `s3` (an S3Sink with `s3`'s HTTP client,
// credentials, clock and observer; unused for a file destination).
absl::StatusOr<std::unique_ptr<ObjectSink>> MakeDestinationSink(const PipelineSpec& spec,
                                                                S3ClientDeps s3);

// server.writer_id, or the host name made key-safe.
std::string ResolveWriterId(const ServerOptions& options);

class Server {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one) and starts serving, and
  // serves /metrics on config.server.metrics_listen (none when empty). Sinks come from
  // `make_sink` (tests pass fakes; empty = MakeDestinationSink, observed by the metrics,
  // S3 requests signed with `clock`'s time). A sink that cannot be built, or an address
  // that cannot be bound, stops start-up.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const Config& config,
                                                       const std::string& listen,
                                                       const Clock& clock,
                                                       SinkFactory make_sink = {});
  ~Server();

  int port() const { return port_; }
  // The port /metrics is served on (0 when server.metrics_listen is empty).
  int metrics_port() const { return exposer_ ? exposer_->port() : 0; }
  Metrics& metrics() { return *metrics_; }
  DeliveryEngine& delivery() { return *engine_; }
  // The dead-letter queue (data_dir/dlq) and its retry worker.
  DeadLetterQueue& dead_letter_queue() { return *dlq_; }
  DeadLetterRetrier& dead_letter_retrier() { return *dlq_retrier_; }

  // Health turns NOT_SERVING and new calls get UNAVAILABLE from the services for
  // `lame_duck` (clients and load balancers learn to go elsewhere while the port still
  // answers), then the port closes; in-flight calls get until `grace` (counted from the
  // start) to finish, then buffers are flushed within what is left of it. Idempotent.
  void Shutdown(absl::Duration grace, absl::Duration lame_duck = absl::ZeroDuration());

 private:
  Server() = default;

  // --- metrics: first, so they outlive everything that counts ---
  std::unique_ptr<Metrics> metrics_;
  // --- dead-letter queue: declared early, so it outlives everything that uses it ---
  std::unique_ptr<DeadLetterQueue> dlq_;
  Metrics::Registration dlq_metrics_;
  // --- one breaker per S3 destination, shared by its pipelines' clients ---
  std::unique_ptr<DestinationBreakers> breakers_;
  Metrics::Registration breaker_metrics_;
  std::unique_ptr<RecordProcessor> processor_;
  // The REST catalogs of format: iceberg pipelines (their tables use them) and, by
  // pipeline, for the metrics.
  std::vector<std::unique_ptr<RemoteCatalog>> catalogs_;
  std::map<std::string, RemoteCatalog*> table_catalogs_;
  // The tables of format: iceberg pipelines (the engine's TableWriters: they outlive it).
  // mode: current tables' key indexes (outlive the tables, which borrow them).
  std::vector<std::unique_ptr<KeyIndex>> key_indexes_;
  std::vector<std::unique_ptr<IcebergTable>> tables_;
  Metrics::Registration table_metrics_;  // reads tables_
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<TransformService> transform_;
  std::unique_ptr<IngestService> ingest_;
  // --- dead-letter retry worker and service: after the engine (they use it) ---
  std::unique_ptr<DeadLetterRetrier> dlq_retrier_;
  std::unique_ptr<DeadLettersService> dead_letters_;
  std::unique_ptr<ServerStatusService> server_status_;  // destinations and backlog
  std::unique_ptr<grpc::Server> server_;
  // Watches that the port still accepts (README "Limits"); stopped first on shutdown,
  // so that it never turns health back to SERVING while draining.
  std::unique_ptr<ListenerProbe> listener_probe_;
  Metrics::Registration rpc_metrics_;        // in-flight bytes and shed connections
  std::unique_ptr<MetricsExposer> exposer_;  // scrapes read everything above
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_SERVER_H_
