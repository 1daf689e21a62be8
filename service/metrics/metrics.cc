#include "service/metrics/metrics.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "core/base/strings.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/text_serializer.h"

#ifndef LAKEHOSE_VERSION
#define LAKEHOSE_VERSION "0.0.0"
#endif

namespace lakehose {
namespace {

constexpr std::string_view kRpcNames[kRpcCount] = {"Transform", "Ingest",         "IngestStream",
                                                   "Redrive",   "Flush",          "ListDeadLetters",
                                                   "Purge",     "GetServerStatus"};
constexpr std::string_view kResultNames[kResultCount] = {"ok", "dropped", "processing_failed"};
constexpr std::string_view kRejectNames[kRejectReasonCount] = {"buffer_full", "disk_full",
                                                               "draining", "busy"};
constexpr std::string_view kDlqKindNames[kDlqKindCount] = {"delivery", "processing"};
constexpr char kUnknownPipeline[] = "(unknown)";
constexpr std::string_view kBreakerToNames[kBreakerToCount] = {"open", "half_open", "closed"};
constexpr std::string_view kProbeResultNames[kProbeResultCount] = {"ok", "failed", "inconclusive"};

// Buckets (prometheus-cpp wants them at Add time).
const prometheus::Histogram::BucketBoundaries& BucketsFor(std::string_view member) {
  // Seconds: 100 us to 60 s.
  static const prometheus::Histogram::BucketBoundaries kSeconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
  // Records per request: 1 to the default request limit (10,000).
  static const prometheus::Histogram::BucketBoundaries kRecords = {1,   10,   50,   100,  250,
                                                                   500, 1000, 2500, 5000, 10000};
  // Object bytes: 1 KiB to 1 GiB, by 4x.
  static const prometheus::Histogram::BucketBoundaries kBytes = {
      1024,    4096,     16384,    65536,     262144,    1048576,
      4194304, 16777216, 67108864, 268435456, 1073741824};
  if (member == "request_records") return kRecords;
  if (member == "object_bytes") return kBytes;
  return kSeconds;
}

std::string Name(std::string_view suffix) { return StrCat("lakehose_", suffix); }

}  // namespace

// The families, built from the one list.
struct Metrics::Families {
#define LAKEHOSE_DECLARE_COUNTER(member, name, labels, help) \
  prometheus::Family<prometheus::Counter>& member;
#define LAKEHOSE_DECLARE_GAUGE(member, name, labels, help) \
  prometheus::Family<prometheus::Gauge>& member;
#define LAKEHOSE_DECLARE_HISTOGRAM(member, name, labels, help) \
  prometheus::Family<prometheus::Histogram>& member;
  LAKEHOSE_METRIC_FAMILIES(LAKEHOSE_DECLARE_COUNTER, LAKEHOSE_DECLARE_GAUGE,
                           LAKEHOSE_DECLARE_HISTOGRAM)
#undef LAKEHOSE_DECLARE_COUNTER
#undef LAKEHOSE_DECLARE_GAUGE
#undef LAKEHOSE_DECLARE_HISTOGRAM
};

std::string_view MetricRpcName(MetricRpc rpc) { return kRpcNames[rpc]; }

Metrics::Metrics(const Config& config) : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
#define LAKEHOSE_BUILD_COUNTER(member, name, labels, help) \
  prometheus::BuildCounter().Name(Name(name)).Help(help).Register(r),
#define LAKEHOSE_BUILD_GAUGE(member, name, labels, help) \
  prometheus::BuildGauge().Name(Name(name)).Help(help).Register(r),
#define LAKEHOSE_BUILD_HISTOGRAM(member, name, labels, help) \
  prometheus::BuildHistogram().Name(Name(name)).Help(help).Register(r),
  families_.reset(new Families{LAKEHOSE_METRIC_FAMILIES(
      LAKEHOSE_BUILD_COUNTER, LAKEHOSE_BUILD_GAUGE, LAKEHOSE_BUILD_HISTOGRAM)});
#undef LAKEHOSE_BUILD_COUNTER
#undef LAKEHOSE_BUILD_GAUGE
#undef LAKEHOSE_BUILD_HISTOGRAM
  Families& f = *families_;
  auto s = [](std::string_view v) { return std::string(v); };

  auto add_pipeline = [&](const std::string& name, double interval_s) {
    auto m = std::make_unique<PipelineMetrics>();
    m->name = name;
    for (int rpc = 0; rpc < kRecordRpcCount; ++rpc)
      for (int res = 0; res < kResultCount; ++res)
        m->records[rpc][res] = &f.records.Add(
            {{"pipeline", name}, {"rpc", s(kRpcNames[rpc])}, {"result", s(kResultNames[res])}});
    for (int i = 0; i < kRejectReasonCount; ++i)
      m->rejected[i] =
          &f.ingest_rejected_records.Add({{"pipeline", name}, {"reason", s(kRejectNames[i])}});
    m->bytes_in = &f.bytes_in.Add({{"pipeline", name}});
    m->bytes_out = &f.bytes_out.Add({{"pipeline", name}});
    m->objects_written = &f.objects_written.Add({{"pipeline", name}});
    m->ttl_deletes = &f.ttl_deletes.Add({{"pipeline", name}});
    for (int i = 0; i < kFlushReasonCount; ++i) {
      const auto reason = static_cast<FlushReason>(i);
      // kNone is never a seal's reason: no series for it.
      m->flushes[i] =
          reason == FlushReason::kNone
              ? nullptr
              : &f.flushes.Add({{"pipeline", name}, {"reason", s(FlushReasonName(reason))}});
    }
    m->delivery_retries = &f.delivery_retries.Add({{"pipeline", name}});
    for (int k = 0; k < kDlqKindCount; ++k) {
      m->dlq_added[k] = &f.dlq_added.Add({{"pipeline", name}, {"kind", s(kDlqKindNames[k])}});
      m->dlq_redriven[k] = &f.dlq_redriven.Add({{"pipeline", name}, {"kind", s(kDlqKindNames[k])}});
      m->dlq_purged[k] = &f.dlq_purged.Add({{"pipeline", name}, {"kind", s(kDlqKindNames[k])}});
    }
    m->dlq_delivered = &f.dlq_delivered.Add({{"pipeline", name}});
    m->dlq_expired = &f.dlq_expired.Add({{"pipeline", name}});
    m->buffered_bytes = &f.buffered_bytes.Add({{"pipeline", name}});
    m->buffered_records = &f.buffered_records.Add({{"pipeline", name}});
    m->oldest_unflushed_age = &f.oldest_unflushed_age.Add({{"pipeline", name}});
    if (interval_s > 0) f.buffer_interval.Add({{"pipeline", name}}).Set(interval_s);
    m->object_bytes = &f.object_bytes.Add({{"pipeline", name}}, BucketsFor("object_bytes"));
    const PipelineMetrics* raw = m.get();
    pipelines_[name] = std::move(m);
    return raw;
  };
  for (const auto& p : config.pipelines)
    by_spec_[p.get()] = add_pipeline(p->name, p->destination.buffer_interval_s);
  unknown_ = add_pipeline(kUnknownPipeline, 0);

  active_partitions_ = &f.active_partitions.Add({});
  pending_bytes_ = &f.pending_bytes.Add({});
  f.buffer_budget_bytes.Add({}).Set(config.server.buffer_budget_mb * 1024 * 1024);
  wal_bytes_ = &f.wal_bytes.Add({});
  wal_disk_free_ = &f.wal_disk_free_bytes.Add({});
  f.wal_min_free_bytes.Add({}).Set(config.server.wal_min_free_mb * 1024 * 1024);
  for (int k = 0; k < kDlqKindCount; ++k)
    dlq_depth_[k] = &f.dlq_depth.Add({{"kind", s(kDlqKindNames[k])}});
  dlq_oldest_age_ = &f.dlq_oldest_age.Add({});
  dlq_damaged_ = &f.dlq_damaged.Add({});
  grpc_listener_accepting_ = &f.grpc_listener_accepting.Add({});
  grpc_listener_accepting_->Set(1);
  inflight_bytes_ = &f.inflight_bytes.Add({});
  grpc_connections_shed_ = &f.grpc_connections_shed.Add({});
  dlq_backlog_bytes_ = &f.dlq_backlog_bytes.Add({});
  delivery_oldest_sealed_age_ = &f.delivery_oldest_sealed_age.Add({});
  f.build_info.Add({{"version", LAKEHOSE_VERSION}}).Set(1);
  wal_corrupt_tails_ = &f.wal_corrupt_tails.Add({});
  wal_replayed_records_ = &f.wal_replayed_records.Add({});
  wal_damaged_segments_ = &f.wal_damaged_segments.Add({});
  wal_records_lost_ = &f.wal_records_lost.Add({});
  wal_segments_kept_aside_ = &f.wal_segments_kept_aside.Add({});
  for (int i = 0; i < kRpcCount; ++i) {
    request_duration_[i] =
        &f.request_duration.Add({{"rpc", s(kRpcNames[i])}}, BucketsFor("request_duration"));
    request_records_[i] =
        &f.request_records.Add({{"rpc", s(kRpcNames[i])}}, BucketsFor("request_records"));
  }
  for (int op = 0; op < kS3OperationCount; ++op) {
    const std::string op_name(S3OperationName(static_cast<S3Operation>(op)));
    for (int o = 0; o < kS3OutcomeCount; ++o)
      s3_requests_[op][o] = &f.s3_requests.Add(
          {{"operation", op_name}, {"outcome", s(S3OutcomeName(static_cast<S3Outcome>(o)))}});
    s3_retries_[op] = &f.s3_retries.Add({{"operation", op_name}});
    s3_duration_[op] =
        &f.s3_request_duration.Add({{"operation", op_name}}, BucketsFor("s3_request_duration"));
  }
}

Metrics::~Metrics() = default;

const PipelineMetrics& Metrics::ForPipeline(std::string_view pipeline) const {
  auto it = pipelines_.find(pipeline);
  return it == pipelines_.end() ? *unknown_ : *it->second;
}

const PipelineMetrics& Metrics::ForPipeline(const PipelineSpec& spec) const {
  auto it = by_spec_.find(&spec);
  return it == by_spec_.end() ? *unknown_ : *it->second;
}

void AdvanceCounterTo(prometheus::Counter& counter, double total) {
  if (const double more = total - counter.Value(); more > 0) counter.Increment(more);
}

const DestinationMetrics& Metrics::ForDestination(std::string_view destination) const {
  absl::MutexLock lock(&destinations_mu_);
  auto it = destinations_.find(destination);
  if (it != destinations_.end()) return *it->second;
  const Families& f = *families_;
  const std::string name(destination);
  auto m = std::make_unique<DestinationMetrics>();
  m->name = name;
  m->down = &f.destination_down.Add({{"destination", name}});
  m->outage_seconds = &f.destination_outage_seconds.Add({{"destination", name}});
  m->outage_seconds_total = &f.destination_outage_seconds_total.Add({{"destination", name}});
  for (int i = 0; i < kBreakerToCount; ++i)
    m->transitions[i] = &f.destination_breaker_transitions.Add(
        {{"destination", name}, {"to", std::string(kBreakerToNames[i])}});
  for (int i = 0; i < kProbeResultCount; ++i)
    m->probes[i] = &f.destination_probes.Add(
        {{"destination", name}, {"result", std::string(kProbeResultNames[i])}});
  m->refused = &f.destination_refused.Add({{"destination", name}});
  const DestinationMetrics& out = *m;
  destinations_.emplace(name, std::move(m));
  return out;
}

void Metrics::RecordDestination(std::string_view destination,
                                const DestinationReading& reading) const {
  const DestinationMetrics& m = ForDestination(destination);
  const BreakerCounts& c = reading.counts;
  m.down->Set(reading.state == BreakerState::kClosed ? 0 : 1);
  m.outage_seconds->Set(static_cast<double>(std::max<int64_t>(0, reading.outage_ms)) / 1000.0);
  AdvanceCounterTo(*m.outage_seconds_total,
                   static_cast<double>(std::max<int64_t>(0, reading.total_outage_ms)) / 1000.0);
  // Into open: from closed (opened) and from half-open (a probe that failed or said nothing).
  AdvanceCounterTo(*m.transitions[kBreakerToOpen],
                   static_cast<double>(c.opened + c.probes_failed + c.probes_inconclusive));
  AdvanceCounterTo(*m.transitions[kBreakerToHalfOpen], static_cast<double>(c.probes));
  AdvanceCounterTo(*m.transitions[kBreakerToClosed], static_cast<double>(c.closed));
  AdvanceCounterTo(*m.probes[kProbeOk], static_cast<double>(c.closed));
  AdvanceCounterTo(*m.probes[kProbeFailed], static_cast<double>(c.probes_failed));
  AdvanceCounterTo(*m.probes[kProbeInconclusive], static_cast<double>(c.probes_inconclusive));
  AdvanceCounterTo(*m.refused, static_cast<double>(c.waits));
}

void Metrics::RecordTable(const std::string& pipeline, const TableReading& r) const {
  const Families& f = *families_;
  const prometheus::Labels labels{{"pipeline", pipeline}};
  AdvanceCounterTo(f.iceberg_commits.Add(labels), static_cast<double>(r.commits));
  AdvanceCounterTo(f.iceberg_commit_conflicts.Add(labels), static_cast<double>(r.commit_conflicts));
  AdvanceCounterTo(f.iceberg_commit_failures.Add(labels), static_cast<double>(r.commit_failures));
  AdvanceCounterTo(f.iceberg_schema_updates.Add(labels), static_cast<double>(r.schema_updates));
  AdvanceCounterTo(f.iceberg_files_committed.Add(labels), static_cast<double>(r.files_committed));
  AdvanceCounterTo(f.iceberg_records_committed.Add(labels),
                   static_cast<double>(r.records_committed));
  AdvanceCounterTo(f.iceberg_objects_already_committed.Add(labels),
                   static_cast<double>(r.objects_already_committed));
  f.iceberg_last_commit_age.Add(labels).Set(r.last_commit_age_s);
  f.iceberg_snapshots.Add(labels).Set(static_cast<double>(r.snapshots));
  if (!r.current) return;
  auto changes = [&](const char* result, int64_t n) {
    AdvanceCounterTo(f.iceberg_changes.Add({{"pipeline", pipeline}, {"result", result}}),
                     static_cast<double>(n));
  };
  changes("applied", r.changes_applied);
  changes("stale", r.changes_stale);
  changes("superseded", r.changes_superseded);
  AdvanceCounterTo(f.iceberg_position_deletes.Add(labels), static_cast<double>(r.position_deletes));
  AdvanceCounterTo(f.iceberg_index_deltas_replayed.Add(labels),
                   static_cast<double>(r.index_deltas_replayed));
}

void Metrics::RecordCatalog(const std::string& pipeline, const CatalogReading& r) const {
  const Families& f = *families_;
  auto requests = [&](const char* result, int64_t n) {
    AdvanceCounterTo(f.iceberg_catalog_requests.Add({{"pipeline", pipeline}, {"result", result}}),
                     static_cast<double>(std::max<int64_t>(0, n)));
  };
  requests("ok", r.requests - r.failures);
  requests("error", r.failures - r.denied);
  requests("denied", r.denied);
  AdvanceCounterTo(f.iceberg_commit_unknown.Add({{"pipeline", pipeline}}),
                   static_cast<double>(r.unknown_commits));
}

void Metrics::ObserveS3Request(S3Operation op, S3Outcome outcome, double seconds,
                               bool retry) const {
  s3_requests(op, outcome).Increment();
  if (retry) s3_retries(op).Increment();
  s3_request_duration(op).Observe(seconds);
}

Metrics::Registration& Metrics::Registration::operator=(Registration&& o) noexcept {
  if (this != &o) {
    this->~Registration();
    metrics_ = o.metrics_;
    id_ = o.id_;
    o.metrics_ = nullptr;
  }
  return *this;
}

Metrics::Registration::~Registration() {
  if (metrics_ == nullptr) return;
  absl::MutexLock lock(&metrics_->refresh_mu_);
  auto& v = metrics_->refreshers_;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->first == id_) {
      v.erase(it);
      break;
    }
  }
  metrics_ = nullptr;
}

Metrics::Registration Metrics::AddRefresher(std::function<void()> refresh) {
  absl::MutexLock lock(&refresh_mu_);
  const int id = next_refresher_++;
  refreshers_.emplace_back(id, std::move(refresh));
  return Registration(this, id);
}

void Metrics::Refresh() const {
  // Held while refreshing so a component cannot unregister (and go away) mid-call.
  absl::MutexLock lock(&refresh_mu_);
  for (const auto& [id, f] : refreshers_) f();
}

std::string Metrics::Scrape() const {
  Refresh();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

namespace {

// What the exposer collects: the registry, after the refreshers ran.
class RefreshingCollectable : public prometheus::Collectable {
 public:
  explicit RefreshingCollectable(const Metrics& metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_.Refresh();
    return metrics_.registry()->Collect();
  }

 private:
  const Metrics& metrics_;
};

}  // namespace

absl::Status MetricsExposerOptions::Validate() const {
  if (threads < 1 || threads > 64)
    return absl::InvalidArgumentError(StrCat("metrics threads must be 1-64 (got ", threads, ")"));
  if (request_timeout_ms < 1 || request_timeout_ms > 60000)
    return absl::InvalidArgumentError(
        StrCat("metrics request_timeout_ms must be 1-60000 (got ", request_timeout_ms, ")"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& listen, const Metrics& metrics, const MetricsExposerOptions& options) {
  if (absl::Status st = options.Validate(); !st.ok()) return st;
  std::unique_ptr<MetricsExposer> e(new MetricsExposer);
  // civetweb options (prometheus-cpp passes them through). With its defaults (the
  // Exposer(address, threads) constructor) a half-sent request held a worker for 30 s,
  // and one worker meant two such clients stopped scrapes for a minute.
  const std::vector<std::string> civetweb_options = {
      "listening_ports", listen, "num_threads", StrCat(options.threads),
      // Bounds reading the request head (from accept) and each write of the answer.
      "request_timeout_ms", StrCat(options.request_timeout_ms),
      // One request per connection: an idle keep-alive connection holds no worker.
      "enable_keep_alive", "no",
      // linger_timeout_ms is left unset: SO_LINGER 0 would reset connections and drop
      // the end of an answer; without it close() returns at once and the kernel sends.
  };
  try {
    e->exposer_ = std::make_unique<prometheus::Exposer>(civetweb_options);
  } catch (const std::exception& ex) {
    return absl::UnavailableError(
        StrCat("cannot serve metrics on ", listen, " (server.metrics_listen): ", ex.what()));
  }
  e->collectable_ = std::make_shared<RefreshingCollectable>(metrics);
  e->exposer_->RegisterCollectable(e->collectable_, "/metrics");
  const std::vector<int> ports = e->exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError(StrCat("cannot serve metrics on ", listen));
  e->port_ = ports.front();
  return e;
}

MetricsExposer::~MetricsExposer() {
  if (exposer_) exposer_->RemoveCollectable(collectable_, "/metrics");
}

}  // namespace lakehose
