// Metrics: every Prometheus family lakehose exports (README.md, "Metrics"), declared once in
// LAKEHOSE_METRIC_FAMILIES below and built into structs of pointers that components hold,
// so the hot path never looks a metric up by name or label.
//
//   Metrics metrics(config);                         // one registry; series per pipeline
//   const PipelineMetrics& m = metrics.ForPipeline("demo");
//   m.records[kRpcIngest][kResultOk]->Increment(n);
//   metrics.AddRefresher([&] { ... set gauges from a snapshot ... });
//   ASSIGN_OR_RETURN(auto exposer, MetricsExposer::Start("127.0.0.1:9464", metrics));
//
// Labels are bounded: pipeline (the configured pipelines, plus "(unknown)" for dead
// letters of a pipeline no longer configured), destination (the configured S3
// destinations; its series appear once the destination's sink is made), rpc, result, reason and
// kind from the fixed lists below, operation and outcome from core/s3/s3_outcome.h. Never partition
// values, keys or record ids.
//
// Gauges that describe state (buffered bytes, ages, DLQ depth, WAL size) are set by
// refreshers that the owning component registers; they run when /metrics is scraped
// (and when a test calls Refresh()), so a scrape sees the state of that moment.
//
// Thread-safety: counters, gauges and histograms are atomic (prometheus-cpp); the
// structs are built in the constructor and read-only afterwards. AddRefresher and
// Refresh are thread-safe; a refresher must not call AddRefresher.
#ifndef LAKEHOSE_SERVICE_METRICS_METRICS_H_
#define LAKEHOSE_SERVICE_METRICS_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/base/string_view_hash.h"
#include "core/config/config.h"
#include "core/delivery/batching.h"
#include "core/delivery/destination_breaker.h"
#include "core/s3/s3_outcome.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace lakehose {

// The one list of families: X(member, "name after lakehose_", "label,label", "help").
// Histograms also name their buckets (a kBuckets* constant in metrics.cc).
#define LAKEHOSE_METRIC_FAMILIES(COUNTER, GAUGE, HISTOGRAM)                                        \
  COUNTER(records, "records_total", "pipeline,rpc,result",                                         \
          "Records answered by Transform, Ingest, IngestStream and Redrive, by result "            \
          "(ok, dropped, processing_failed).")                                                     \
  COUNTER(ingest_rejected_records, "ingest_rejected_records_total", "pipeline,reason",             \
          "Records of Ingest requests refused as a whole: buffer_full, disk_full and busy "        \
          "(RESOURCE_EXHAUSTED), "                                                                 \
          "draining (UNAVAILABLE).")                                                               \
  COUNTER(bytes_in, "bytes_in_total", "pipeline",                                                  \
          "Bytes of record data received by Transform and Ingest.")                                \
  COUNTER(bytes_out, "bytes_out_total", "pipeline",                                                \
          "Bytes of objects stored (as stored: compressed).")                                      \
  COUNTER(ttl_deletes, "ttl_deletes_total", "pipeline",                                            \
          "REMOVE records that DynamoDB's TTL made (userIdentity principalId "                     \
          "dynamodb.amazonaws.com), transformed OK; also in records_total.")                       \
  COUNTER(objects_written, "objects_written_total", "pipeline",                                    \
          "Objects stored by this process (data and error-prefix objects; not 412s of earlier "    \
          "attempts).")                                                                            \
  COUNTER(flushes, "flushes_total", "pipeline,reason",                                             \
          "Buffers sealed into objects, by reason (size, age, flush, shutdown, pressure, "         \
          "partitions).")                                                                          \
  COUNTER(delivery_retries, "delivery_retries_total", "pipeline",                                  \
          "Failed stores of a sealed object that will be retried.")                                \
  COUNTER(s3_requests, "s3_requests_total", "operation,outcome",                                   \
          "S3 HTTP requests by operation and outcome (ok, throttled, server_error, client_error, " \
          "network_error, precondition_failed).")                                                  \
  COUNTER(s3_retries, "s3_retries_total", "operation",                                             \
          "S3 requests that were retries of an earlier attempt.")                                  \
  COUNTER(dlq_added, "dlq_added_total", "pipeline,kind",                                           \
          "Dead-letter entries added (delivery, processing).")                                     \
  COUNTER(dlq_redriven, "dlq_redriven_total", "pipeline,kind",                                     \
          "Dead-letter entries redriven successfully.")                                            \
  COUNTER(dlq_purged, "dlq_purged_total", "pipeline,kind",                                         \
          "Dead-letter entries purged by an operator.")                                            \
  COUNTER(dlq_delivered, "dlq_delivered_total", "pipeline",                                        \
          "Delivery dead letters stored by the retry worker.")                                     \
  COUNTER(dlq_expired, "dlq_expired_total", "pipeline",                                            \
          "Delivery dead letters that reached the maximum age (kept, no longer retried).")         \
  COUNTER(wal_corrupt_tails, "wal_corrupt_tails_total", "",                                        \
          "WAL segments whose torn or corrupt tail was skipped at start.")                         \
  COUNTER(wal_replayed_records, "wal_replayed_records_total", "",                                  \
          "Records replayed from the WAL at start.")                                               \
  COUNTER(wal_damaged_segments, "wal_damaged_segments_total", "",                                  \
          "WAL segments found damaged (not just a torn tail) at start; kept aside.")               \
  COUNTER(wal_records_lost, "wal_records_lost_total", "",                                          \
          "Acknowledged records in damaged WAL stretches, where they can be counted.")             \
  GAUGE(active_partitions, "active_partitions", "", "Open partition buffers over all pipelines.")  \
  GAUGE(buffered_bytes, "buffered_bytes", "pipeline", "Bytes in open buffers (uncompressed).")     \
  GAUGE(buffered_records, "buffered_records", "pipeline", "Records in open buffers.")              \
  GAUGE(oldest_unflushed_age, "oldest_unflushed_record_age_seconds", "pipeline",                   \
        "Age of the oldest record not yet stored, buffered or sealed (0 when none; the DLQ has "   \
        "its own).")                                                                               \
  GAUGE(buffer_interval, "buffer_interval_seconds", "pipeline",                                    \
        "The configured destination.buffering.interval_s (for alerts on the age above).")          \
  GAUGE(pending_bytes, "pending_bytes", "",                                                        \
        "Bytes buffered plus sealed and not yet stored: what the buffer budget bounds.")           \
  GAUGE(buffer_budget_bytes, "buffer_budget_bytes", "",                                            \
        "The configured server.buffer_budget_mb, in bytes.")                                       \
  GAUGE(wal_bytes, "wal_bytes", "", "Bytes of write-ahead log segments on disk.")                  \
  GAUGE(wal_disk_free_bytes, "wal_disk_free_bytes", "",                                            \
        "Free bytes on the file system of data_dir.")                                              \
  GAUGE(wal_segments_kept_aside, "wal_segments_kept_aside", "",                                    \
        "Damaged WAL segments in data_dir/wal/damaged, waiting for an operator.")                  \
  GAUGE(wal_min_free_bytes, "wal_min_free_bytes", "",                                              \
        "The configured server.wal_min_free_mb, in bytes: below it Ingest answers "                \
        "RESOURCE_EXHAUSTED.")                                                                     \
  GAUGE(dlq_depth, "dlq_depth", "kind",                                                            \
        "Dead-letter entries waiting, by kind (delivery, processing).")                            \
  GAUGE(dlq_oldest_age, "dlq_oldest_entry_age_seconds", "",                                        \
        "Age of the oldest dead-letter entry (0 when empty).")                                     \
  GAUGE(dlq_damaged, "dlq_damaged_entries", "",                                                    \
        "Dead-letter entries whose files are damaged: kept, never delivered (in dlq_depth too).")  \
  GAUGE(build_info, "build_info", "version", "Always 1; the version of the running server.")       \
  GAUGE(grpc_listener_accepting, "grpc_listener_accepting", "",                                    \
        "1 while the gRPC port accepts connections (checked every server.limits."                  \
        "listener_probe_ms), 0 once it does not: restart the process.")                            \
  GAUGE(inflight_bytes, "inflight_bytes", "",                                                      \
        "Bytes of Transform requests and answers in flight (bounded by server.limits."             \
        "memory_quota_mb).")                                                                       \
  GAUGE(dlq_backlog_bytes, "dlq_backlog_bytes", "",                                                \
        "Bytes of delivery dead letters waiting to be stored (uncompressed bodies; not expired, "  \
        "not damaged): the backlog on disk.")                                                      \
  GAUGE(delivery_oldest_sealed_age, "delivery_oldest_sealed_age_seconds", "",                      \
        "Age since its seal of the oldest sealed object still held in memory (queued, uploading "  \
        "or waiting to retry; 0 when none).")                                                      \
  GAUGE(destination_down, "destination_down", "destination",                                       \
        "1 while the S3 destination's circuit breaker is open or half-open (README \"S3\").")      \
  GAUGE(destination_outage_seconds, "destination_outage_seconds", "destination",                   \
        "How long the destination's current outage has lasted (0 when up).")                       \
  COUNTER(destination_outage_seconds_total, "destination_outage_seconds_total", "destination",     \
          "Time the destination has spent down (open or half-open), all outages.")                 \
  COUNTER(destination_breaker_transitions, "destination_breaker_transitions_total",                \
          "destination,to",                                                                        \
          "Circuit breaker state changes, by the state entered (open, "                            \
          "half_open, closed).")                                                                   \
  COUNTER(destination_probes, "destination_probes_total", "destination,result",                    \
          "Probes of a down destination that ended, by result (ok: it closed; failed; "            \
          "inconclusive: a client error).")                                                        \
  COUNTER(destination_refused, "destination_refused_requests_total", "destination",                \
          "S3 operations refused without a request because the destination was down.")             \
  COUNTER(iceberg_commits, "iceberg_commits_total", "pipeline",                                    \
          "Snapshots this server committed to the pipeline's Iceberg table.")                      \
  COUNTER(iceberg_commit_conflicts, "iceberg_commit_conflicts_total", "pipeline",                  \
          "Commits that found another writer's metadata version first (reloaded and retried).")    \
  COUNTER(iceberg_commit_failures, "iceberg_commit_failures_total", "pipeline",                    \
          "Commits that gave up (the objects stay and are committed later).")                      \
  COUNTER(iceberg_schema_updates, "iceberg_schema_updates_total", "pipeline",                      \
          "Schema versions this server added to the table (new columns).")                         \
  COUNTER(iceberg_files_committed, "iceberg_files_committed_total", "pipeline",                    \
          "Data files committed to the table.")                                                    \
  COUNTER(iceberg_records_committed, "iceberg_records_committed_total", "pipeline",                \
          "Records committed to the table.")                                                       \
  COUNTER(iceberg_objects_already_committed, "iceberg_objects_already_committed_total",            \
          "pipeline",                                                                              \
          "Objects found in the table by an earlier commit (after a crash or a lost answer) and "  \
          "not committed again.")                                                                  \
  GAUGE(iceberg_last_commit_age, "iceberg_last_commit_age_seconds", "pipeline",                    \
        "Time since this server's last commit to the table (since start before the first).")       \
  GAUGE(iceberg_snapshots, "iceberg_snapshots", "pipeline",                                        \
        "Snapshots in the table's metadata, as last read.")                                        \
  COUNTER(iceberg_changes, "iceberg_changes_total", "pipeline,result",                             \
          "mode: current: changes by result (applied: became the key's row or removed it; "        \
          "stale: older than or as old as what the key reflected, dropped; superseded: replaced "  \
          "by a newer change of the same commit).")                                                \
  COUNTER(iceberg_position_deletes, "iceberg_position_deletes_total", "pipeline",                  \
          "mode: current: rows deleted by position (updates, removes, stale rows).")               \
  COUNTER(iceberg_index_deltas_replayed, "iceberg_index_deltas_replayed_total", "pipeline",        \
          "mode: current: snapshots whose index delta was replayed into the key index (after a "   \
          "crash between a commit and the index's update, or another lakehose process's "          \
          "commits).")                                                                             \
  COUNTER(iceberg_catalog_requests, "iceberg_catalog_requests_total", "pipeline,result",           \
          "Requests to the table's REST catalog, by result (ok: answered, also 404 and 409; "      \
          "error: no answer, a 5xx or a refused request; denied: 401, 403, a refused token).")     \
  COUNTER(iceberg_commit_unknown, "iceberg_commit_unknown_total", "pipeline",                      \
          "Commits to a REST catalog whose outcome was unknown (no answer, a 5xx): resolved by "   \
          "reloading the table.")                                                                  \
  COUNTER(grpc_connections_shed, "grpc_connections_shed_total", "",                                \
          "gRPC connections closed on arrival: past server.limits.max_connections, or with no "    \
          "descriptor left.")                                                                      \
  HISTOGRAM(request_duration, "request_duration_seconds", "rpc",                                   \
            "Time to answer a gRPC call, by rpc.")                                                 \
  HISTOGRAM(request_records, "request_records", "rpc",                                             \
            "Records per request (batch size), by rpc.")                                           \
  HISTOGRAM(object_bytes, "object_bytes", "pipeline",                                              \
            "Size of stored objects (as stored: compressed).")                                     \
  HISTOGRAM(s3_request_duration, "s3_request_duration_seconds", "operation",                       \
            "Time of one S3 HTTP exchange, by operation.")

// Seal reasons, indexed by FlushReason (core/delivery/batching.h).
inline constexpr int kFlushReasonCount = static_cast<int>(FlushReason::kPartitionCap) + 1;

// rpc label values. The first four also label lakehose_records_total.
enum MetricRpc {
  kRpcTransform,
  kRpcIngest,
  kRpcIngestStream,
  kRpcRedrive,
  kRpcFlush,
  kRpcListDeadLetters,
  kRpcPurge,
  kRpcGetServerStatus,
  kRpcCount
};
inline constexpr int kRecordRpcCount = 4;
enum MetricResult { kResultOk, kResultDropped, kResultProcessingFailed, kResultCount };
enum MetricRejectReason {
  kRejectBufferFull,
  kRejectDiskFull,
  kRejectDraining,
  kRejectBusy,
  kRejectReasonCount
};
enum MetricDlqKind { kDlqDelivery, kDlqProcessing, kDlqKindCount };
std::string_view MetricRpcName(MetricRpc rpc);

// lakehose_destination_breaker_transitions_total{to}, lakehose_destination_probes_total{result}.
enum MetricBreakerTo { kBreakerToOpen, kBreakerToHalfOpen, kBreakerToClosed, kBreakerToCount };
enum MetricProbeResult { kProbeOk, kProbeFailed, kProbeInconclusive, kProbeResultCount };

// The series of one S3 destination. Every pointer is non-null.
struct DestinationMetrics {
  std::string name;
  prometheus::Gauge* down;
  prometheus::Gauge* outage_seconds;
  prometheus::Counter* outage_seconds_total;
  std::array<prometheus::Counter*, kBreakerToCount> transitions;
  std::array<prometheus::Counter*, kProbeResultCount> probes;
  prometheus::Counter* refused;
};

// A destination's breaker as read at a scrape: the breaker's cumulative counts, which
// Metrics::RecordDestination turns into counter increments.
struct DestinationReading {
  BreakerState state = BreakerState::kClosed;
  int64_t outage_ms = 0;        // the current outage (0 when closed)
  int64_t total_outage_ms = 0;  // all outages, the current one included
  BreakerCounts counts;
};

// An Iceberg table's writer as read at a scrape (service/iceberg IcebergTableStats).
struct TableReading {
  int64_t commits = 0, commit_conflicts = 0, commit_failures = 0, schema_updates = 0;
  int64_t files_committed = 0, records_committed = 0, objects_already_committed = 0;
  double last_commit_age_s = 0;
  int64_t snapshots = 0;
  // mode: current tables only (current true).
  bool current = false;
  int64_t changes_applied = 0, changes_stale = 0, changes_superseded = 0;
  int64_t position_deletes = 0, index_deltas_replayed = 0;
};

// A REST catalog's counts (RestCatalogStats): requests, those that failed (denied
// included) and were denied, and commits with an unknown outcome.
struct CatalogReading {
  int64_t requests = 0, failures = 0, denied = 0, unknown_commits = 0;
};

// Raises `counter` to `total` (a cumulative count kept elsewhere); never lowers it.
void AdvanceCounterTo(prometheus::Counter& counter, double total);

// The series of one pipeline. Every pointer is non-null.
struct PipelineMetrics {
  std::string name;
  std::array<std::array<prometheus::Counter*, kResultCount>, kRecordRpcCount> records;
  std::array<prometheus::Counter*, kRejectReasonCount> rejected;
  prometheus::Counter* bytes_in;
  prometheus::Counter* bytes_out;
  prometheus::Counter* objects_written;
  prometheus::Counter* ttl_deletes;
  std::array<prometheus::Counter*, kFlushReasonCount>
      flushes;  // indexed by FlushReason (kNone unused)
  prometheus::Counter* delivery_retries;
  std::array<prometheus::Counter*, kDlqKindCount> dlq_added;
  std::array<prometheus::Counter*, kDlqKindCount> dlq_redriven;
  std::array<prometheus::Counter*, kDlqKindCount> dlq_purged;
  prometheus::Counter* dlq_delivered;
  prometheus::Counter* dlq_expired;
  prometheus::Gauge* buffered_bytes;
  prometheus::Gauge* buffered_records;
  prometheus::Gauge* oldest_unflushed_age;
  prometheus::Histogram* object_bytes;
};

class Metrics {
 public:
  // Series for every pipeline of `config` (and "(unknown)"); configured values (buffer
  // interval, budget, WAL minimum free) are set here.
  explicit Metrics(const Config& config);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The pipeline's series; "(unknown)"'s for a name not in the config.
  const PipelineMetrics& ForPipeline(std::string_view pipeline) const;
  // The same for a pipeline of the config it was built from, without hashing its name
  // (the hot path); "(unknown)"'s for any other spec.
  const PipelineMetrics& ForPipeline(const PipelineSpec& spec) const;

  // The series of the S3 destination named `destination` (the label value: see
  // DestinationLabel in service/s3/s3_client.h), made on first use. Thread-safe.
  const DestinationMetrics& ForDestination(std::string_view destination) const;
  // Sets the destination's series from a reading of its breaker (the server's refresher).
  void RecordDestination(std::string_view destination, const DestinationReading& reading) const;

  // Process-wide series.
  prometheus::Gauge& active_partitions() const { return *active_partitions_; }
  prometheus::Gauge& pending_bytes() const { return *pending_bytes_; }
  prometheus::Gauge& wal_bytes() const { return *wal_bytes_; }
  prometheus::Gauge& wal_disk_free_bytes() const { return *wal_disk_free_; }
  prometheus::Gauge& dlq_depth(MetricDlqKind kind) const { return *dlq_depth_[kind]; }
  prometheus::Gauge& dlq_oldest_age() const { return *dlq_oldest_age_; }
  prometheus::Gauge& dlq_damaged() const { return *dlq_damaged_; }
  prometheus::Gauge& grpc_listener_accepting() const { return *grpc_listener_accepting_; }
  prometheus::Gauge& inflight_bytes() const { return *inflight_bytes_; }
  prometheus::Counter& grpc_connections_shed() const { return *grpc_connections_shed_; }
  prometheus::Gauge& dlq_backlog_bytes() const { return *dlq_backlog_bytes_; }
  prometheus::Gauge& delivery_oldest_sealed_age() const { return *delivery_oldest_sealed_age_; }
  prometheus::Counter& wal_corrupt_tails() const { return *wal_corrupt_tails_; }
  prometheus::Counter& wal_replayed_records() const { return *wal_replayed_records_; }
  prometheus::Counter& wal_damaged_segments() const { return *wal_damaged_segments_; }
  prometheus::Counter& wal_records_lost() const { return *wal_records_lost_; }
  prometheus::Gauge& wal_segments_kept_aside() const { return *wal_segments_kept_aside_; }
  prometheus::Histogram& request_duration(MetricRpc rpc) const { return *request_duration_[rpc]; }
  prometheus::Histogram& request_records(MetricRpc rpc) const { return *request_records_[rpc]; }
  // S3 series are labelled with the names of core/s3/s3_outcome.h.
  prometheus::Counter& s3_requests(S3Operation op, S3Outcome outcome) const {
    return *s3_requests_[static_cast<int>(op)][static_cast<int>(outcome)];
  }
  prometheus::Counter& s3_retries(S3Operation op) const {
    return *s3_retries_[static_cast<int>(op)];
  }
  prometheus::Histogram& s3_request_duration(S3Operation op) const {
    return *s3_duration_[static_cast<int>(op)];
  }

  // Sets the Iceberg series of `pipeline` from its table writer's counts.
  void RecordTable(const std::string& pipeline, const TableReading& reading) const;
  // Sets the REST catalog series of `pipeline`.
  void RecordCatalog(const std::string& pipeline, const CatalogReading& reading) const;

  // Records one S3 HTTP exchange (the S3 client's observer).
  void ObserveS3Request(S3Operation op, S3Outcome outcome, double seconds, bool retry) const;

  // Runs `refresh` before every scrape (see the header comment). The returned handle
  // unregisters it when destroyed; the component must destroy it before itself.
  class Registration {
   public:
    Registration() = default;
    Registration(Metrics* metrics, int id) : metrics_(metrics), id_(id) {}
    Registration(Registration&& o) noexcept : metrics_(o.metrics_), id_(o.id_) {
      o.metrics_ = nullptr;
    }
    Registration& operator=(Registration&& o) noexcept;
    ~Registration();

   private:
    Metrics* metrics_ = nullptr;
    int id_ = 0;
  };
  [[nodiscard]] Registration AddRefresher(std::function<void()> refresh);
  void Refresh() const;

  // The registry (the exposer collects it) and the exposition text of a scrape.
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  std::string Scrape() const;

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  absl::flat_hash_map<std::string, std::unique_ptr<PipelineMetrics>, StringViewHash,
                      std::equal_to<>>
      pipelines_;
  absl::flat_hash_map<const PipelineSpec*, const PipelineMetrics*> by_spec_;
  const PipelineMetrics* unknown_ = nullptr;

  prometheus::Gauge* active_partitions_;
  prometheus::Gauge* pending_bytes_;
  prometheus::Gauge* wal_bytes_;
  prometheus::Gauge* wal_disk_free_;
  std::array<prometheus::Gauge*, kDlqKindCount> dlq_depth_;
  prometheus::Gauge* dlq_oldest_age_;
  prometheus::Gauge* dlq_damaged_;
  prometheus::Gauge* grpc_listener_accepting_;
  prometheus::Gauge* inflight_bytes_;
  prometheus::Counter* grpc_connections_shed_;
  prometheus::Gauge* dlq_backlog_bytes_;
  prometheus::Gauge* delivery_oldest_sealed_age_;

  mutable absl::Mutex destinations_mu_;
  mutable absl::flat_hash_map<std::string, std::unique_ptr<DestinationMetrics>, StringViewHash,
                              std::equal_to<>>
      destinations_ ABSL_GUARDED_BY(destinations_mu_);
  prometheus::Counter* wal_corrupt_tails_;
  prometheus::Counter* wal_replayed_records_;
  prometheus::Counter* wal_damaged_segments_;
  prometheus::Counter* wal_records_lost_;
  prometheus::Gauge* wal_segments_kept_aside_;
  std::array<prometheus::Histogram*, kRpcCount> request_duration_;
  std::array<prometheus::Histogram*, kRpcCount> request_records_;
  std::array<std::array<prometheus::Counter*, kS3OutcomeCount>, kS3OperationCount> s3_requests_;
  std::array<prometheus::Counter*, kS3OperationCount> s3_retries_;
  std::array<prometheus::Histogram*, kS3OperationCount> s3_duration_;

  mutable absl::Mutex refresh_mu_;
  int next_refresher_ ABSL_GUARDED_BY(refresh_mu_) = 1;
  std::vector<std::pair<int, std::function<void()>>> refreshers_ ABSL_GUARDED_BY(refresh_mu_);
};

// The HTTP server of /metrics (README "Metrics"). Each worker serves one connection at a
// time, so slow or half-open clients hold workers; the timeout frees them and the other
// workers keep answering scrapes meanwhile. Bounded: `threads` workers, and civetweb
// queues at most 20 accepted connections beyond them.
struct MetricsExposerOptions {
  // Workers: up to threads - 1 clients can be stuck mid-request while a scrape is still
  // answered at once; past that a scrape waits for a timeout, never longer.
  int threads = 8;
  // A connection must send its whole request within this (and take each part of the
  // answer within it); then it is closed and its worker freed. A scrape request is one
  // small packet.
  int request_timeout_ms = 2000;

  // INVALID_ARGUMENT unless 1 <= threads <= 64 and 1 <= request_timeout_ms <= 60000.
  absl::Status Validate() const;
};

// Serves /metrics over HTTP (prometheus-cpp's civetweb exposer), refreshing the gauges
// before every scrape. Stops when destroyed.
class MetricsExposer {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one). UNAVAILABLE if it cannot;
  // INVALID_ARGUMENT for options that fail Validate().
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      const std::string& listen, const Metrics& metrics,
      const MetricsExposerOptions& options = MetricsExposerOptions());
  ~MetricsExposer();
  int port() const { return port_; }

 private:
  MetricsExposer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Collectable> collectable_;
  int port_ = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_METRICS_METRICS_H_
