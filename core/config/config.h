// Config: the YAML file that configures the server and its named pipelines
// (README.md, "Pipelines"), parsed and validated into PipelineSpecs.
//
// Pure: the YAML text comes in as a string and named time zones are resolved through a
// caller-supplied loader (the service passes one that reads the tz database). Errors
// name the file, the key path and the reason:
//   config.yaml: pipelines[0].partition_keys.year.unit: must be one of s, ms, us (got "sec")
#ifndef LAKEHOSE_CORE_CONFIG_CONFIG_H_
#define LAKEHOSE_CORE_CONFIG_CONFIG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config/pipeline.h"

namespace lakehose {

// Request limits enforced by the server before any record is transformed (README,
// "Limits"). Violations are INVALID_ARGUMENT with the limit's name in the reason.
struct Limits {
  int64_t max_message_bytes = 16 << 20;     // gRPC receive limit per request
  int64_t max_records_per_request = 10000;  // records in one Transform / Ingest request
  int64_t max_record_bytes = 1 << 20;       // Record.data, as Firehose's 1,000 KiB
  int64_t max_record_id_bytes = 256;        // Record.record_id

  // Transport limits (README "Limits"): what one client, or all of them, can hold of the
  // server. Past them calls get RESOURCE_EXHAUSTED or wait, connections are refused.
  int64_t max_concurrent_streams = 100;  // calls in flight on one HTTP/2 connection
  // Bytes of requests and responses in flight over all calls (gRPC's resource quota
  // for its transport buffers, and the server's own count of Transform answers not yet
  // taken by their clients): past it calls get RESOURCE_EXHAUSTED.
  int64_t memory_quota_mb = 512;
  // Open gRPC connections; 0 = derived from the descriptor limit at start (its soft
  // limit less a quarter for files, S3 and /metrics). Past it new connections are closed
  // at once, so that the process never runs out of descriptors (see server.cc).
  int64_t max_connections = 0;
  int64_t max_connection_idle_s = 300;  // a connection with no call for this long is closed
  // How often the server checks that its gRPC port still accepts connections (0 = never).
  int64_t listener_probe_ms = 5000;
};

// TLS on the gRPC port (README "Security"). File names only: the service reads and checks
// the PEM files at start. cert_file and key_file come together; empty = plaintext.
struct TlsOptions {
  std::string cert_file;       // PEM certificate chain presented by the server
  std::string key_file;        // PEM private key of that certificate
  std::string client_ca_file;  // PEM CA bundle; set = mutual TLS: every client must
                               // present a certificate signed by one of these CAs
  bool enabled() const { return !cert_file.empty(); }
};

// Bearer-token authentication (README "Security"). Empty token_file = no token needed.
struct AuthOptions {
  std::string token_file;  // file holding the token (read by the service at start)
};

// The circuit breaker of each S3 destination (README "S3", "Destination down";
// core/delivery/destination_breaker.h, which these become through
// DestinationBreakerOptionsFrom). The parser keeps each key within the range that
// DestinationBreakerOptions::Validate accepts.
struct DestinationBreakerConfig {
  // Consecutive down-signals (throttled, 5xx, network errors) that open it. [1, 1000].
  int failure_threshold = 5;
  // ...of which the first is at least this old, with no success since. [0, 3600].
  double min_down_s = 5;
  // The wait before the first probe of an outage (doubling per failed probe, with equal
  // jitter). [1, 3600000] and at most probe_max_s.
  int64_t probe_base_ms = 1000;
  // The longest wait between two probes. [0.001, 3600].
  double probe_max_s = 60;
};

struct ServerOptions {
  std::string grpc_listen = "127.0.0.1:50051";
  TlsOptions tls;
  AuthOptions auth;
  std::string metrics_listen = "127.0.0.1:9464";
  std::string data_dir = "./var/lakehose";
  std::string writer_id;  // empty = the host name (resolved by the service)
  double shutdown_grace_s = 30;
  Limits limits;
  // Delivery memory: bytes buffered plus bytes sealed but not yet stored. Past half of it
  // the largest buffers are sealed early; past all of it Ingest answers
  // RESOURCE_EXHAUSTED.
  double buffer_budget_mb = 512;
  int64_t max_active_partitions = 1000;  // open partition buffers, over all pipelines
  int upload_threads = 4;                // concurrent object uploads
  // Dead-letter queue (under data_dir/dlq): how long delivery of a sealed object is
  // retried before it moves to the DLQ, how long the DLQ retry worker keeps retrying it
  // (then it stays, marked expired), and its backoff.
  // Ingest answers RESOURCE_EXHAUSTED when the file system of data_dir has less free.
  double wal_min_free_mb = 64;
  double delivery_retry_budget_s = 300;
  double dlq_max_age_s = 7 * 24 * 3600;
  int64_t dlq_retry_base_ms = 1000;
  int64_t dlq_retry_max_ms = 300000;
  DestinationBreakerConfig destination_breaker;  // server.destination_breaker
  // How many stores the DLQ retry worker runs at once while it drains (after an outage:
  // the bound that keeps a recovered destination from getting the whole backlog at
  // once). Each store in flight holds one object in memory, outside buffer_budget_mb.
  // In [1, 64].
  int dlq_drain_concurrency = 4;
};

struct Config {
  ServerOptions server;
  // Pipelines are held by pointer: transformers borrow them, so they must not move.
  std::vector<std::unique_ptr<PipelineSpec>> pipelines;
  // Keys present in the file that lakehose does not know, as "file: path" (the server
  // logs them; a config may carry keys for other tools, so they are not errors).
  std::vector<std::string> unknown_keys;

  const PipelineSpec* FindPipeline(std::string_view name) const;
};

// Resolves a time zone name ("Europe/Paris"); an error if unknown.
using TimeZoneLoader = std::function<absl::StatusOr<absl::TimeZone>(const std::string&)>;

// Parses and validates `yaml`. `filename` only labels error messages.
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view filename,
                                   const TimeZoneLoader& load_tz);

// The configuration the server runs with no --config: a `demo` pipeline for the
// transactions workload (`lakehose generate --workload transactions`), partitioned by
// region and event date and hour, writing gzip JSON Lines under ./lake.
std::string_view EmbeddedDefaultConfigYaml();

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_CONFIG_CONFIG_H_
