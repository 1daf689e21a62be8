#include "service/rpc/server.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/log_throttle.h"
#include "core/base/strings.h"
#include "core/delivery/delivery_format.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "service/catalog/location_sink.h"
#include "service/catalog/s3tables_catalog.h"
#include "service/delivery/file_sink.h"
#include "service/platform/log.h"
#include "service/rpc/accept_guard.h"
#include "service/rpc/server_credentials.h"  // security: TLS and the bearer token
#include "service/s3/credentials.h"
#include "service/s3/s3_sink.h"

namespace lakehose {

absl::StatusOr<std::unique_ptr<ObjectSink>> MakeDestinationSink(const PipelineSpec& spec,
                                                                S3ClientDeps s3) {
  if (spec.destination.kind == DestinationKind::kFile)
    return std::make_unique<FileSink>(spec.destination.path);
  auto sink = MakeS3Sink(spec.destination, std::move(s3));
  if (!sink.ok())
    return absl::Status(sink.status().code(),
                        StrCat("pipeline ", spec.name, ": ", StatusMessage(sink.status())));
  return sink;
}

namespace {

// MakeDestinationSink for a server: one HTTP client and one credentials chain (cached,
// refreshed before expiry) serve every S3 pipeline, made when the first one needs them.
// SigV4 signing and the credentials cache read the server's clock; requests are counted
// in `metrics`. Every client writing to one destination (endpoint and bucket) shares its
// breaker from `breakers`. Called on the starting thread only.
SinkFactory DestinationSinkFactory(Metrics* metrics, const Clock& clock,
                                   DestinationBreakers* breakers) {
  struct Shared {
    std::shared_ptr<HttpClient> http;
    std::shared_ptr<CredentialsProvider> credentials;
    DestinationBreakers* breakers = nullptr;
  };
  auto shared = std::make_shared<Shared>();
  shared->breakers = breakers;
  return [metrics, &clock, shared](const PipelineSpec& spec) {
    S3ClientDeps deps;
    if (spec.destination.kind == DestinationKind::kS3) {
      if (!shared->http) {
        shared->http = NewCurlHttpClient();
        shared->credentials = NewDefaultCredentialsChain(shared->http, &clock, ProcessGetenv());
      }
      deps.http = shared->http;
      deps.credentials = shared->credentials;
      deps.clock = &clock;
      deps.observer = [metrics](S3Operation op, S3Outcome outcome, double seconds, bool retry) {
        metrics->ObserveS3Request(op, outcome, seconds, retry);
      };
      // Options that do not resolve get no breaker: MakeDestinationSink reports them.
      if (absl::StatusOr<S3ClientOptions> o =
              S3ClientOptionsFromSpec(spec.destination, ProcessGetenv());
          o.ok()) {
        deps.breaker = shared->breakers->For(*o);
      }
    }
    return MakeDestinationSink(spec, std::move(deps));
  };
}

// Descriptors open in this process now (/proc/self/fd), or -1 if unknown.
int OpenDescriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;  // the directory's own descriptor
}

// The descriptor number from which accepted gRPC connections are closed at once
// (accept_guard.h): server.limits.max_connections above what is open now, and in any
// case a quarter of the soft descriptor limit below it, which is left for WAL segments,
// S3 and /metrics connections, and the DLQ.
int AcceptCeiling(const Limits& limits) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  const int64_t soft = static_cast<int64_t>(std::min<rlim_t>(rl.rlim_cur, INT32_MAX));
  int64_t ceiling = soft - soft / 4;
  const int open_now = OpenDescriptors();
  if (limits.max_connections > 0 && open_now >= 0)
    ceiling = std::min<int64_t>(ceiling, open_now + limits.max_connections);
  return static_cast<int>(std::max<int64_t>(ceiling, 1));
}

std::string ListenHost(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

}  // namespace

std::string ResolveWriterId(const ServerOptions& options) {
  if (!options.writer_id.empty()) return options.writer_id;
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "lakehose";
  return SanitizeWriterId(host);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config,
                                                      const std::string& listen, const Clock& clock,
                                                      SinkFactory make_sink) {
  // --- security (README "Security"): TLS and token files are read first, so a missing
  // or invalid one stops start-up before anything else is opened ---
  absl::StatusOr<TransportSecurity> security = MakeServerCredentials(config.server);
  if (!security.ok()) return security.status();
  // --- end security ---
  std::unique_ptr<Server> s(new Server);
  s->metrics_ = std::make_unique<Metrics>(config);
  // --- destination health (README "S3"): one breaker per S3 destination ---
  const DestinationBreakerOptions breaker_options =
      DestinationBreakerOptionsFrom(config.server.destination_breaker);
  if (absl::Status st = breaker_options.Validate(); !st.ok())
    return absl::InvalidArgumentError(
        StrCat("server.destination_breaker: ", StatusMessage(st)));  // ParseConfig prevents it
  s->breakers_ = std::make_unique<DestinationBreakers>(breaker_options);
  if (!make_sink) make_sink = DestinationSinkFactory(s->metrics_.get(), clock, s->breakers_.get());
  s->breaker_metrics_ = s->metrics_->AddRefresher([breakers = s->breakers_.get(),
                                                   metrics = s->metrics_.get(), &clock] {
    for (const DestinationBreakers::Named& b : breakers->AllNamed()) {
      const SharedBreaker::Snapshot snap = b.breaker->Read(clock.NowMillis());
      metrics->RecordDestination(b.name, DestinationReading{.state = snap.state,
                                                            .outage_ms = snap.outage_ms,
                                                            .total_outage_ms = snap.total_outage_ms,
                                                            .counts = snap.counts});
    }
  });
  // --- end destination health ---
  DeliveryEngine::Sinks sinks;
  // A table in a REST catalog keeps its files where the catalog places it: its sink is
  // bound to that location (a bucket of its own, as S3 Tables gives) when the catalog
  // first loads the table, and made then by `make_sink` with the destination's settings.
  std::map<std::string, LocationSink*> location_sinks;
  for (const auto& p : config.pipelines) {
    if (p->destination.iceberg && p->destination.iceberg->rest) {
      auto located = std::make_unique<LocationSink>(
          [make_sink, spec = p.get()](const catalog::TableLocation& where) {
            PipelineSpec at = *spec;
            at.destination = DestinationAt(spec->destination, where);
            return make_sink(at);
          });
      location_sinks[p->name] = located.get();
      sinks[p->name] = std::move(located);
      continue;
    }
    auto sink = make_sink(*p);
    if (!sink.ok()) return sink.status();
    sinks[p->name] = *std::move(sink);
  }
  // --- dead-letter queue (docs/ARCHITECTURE.md): opened before the engine, which may hand
  // objects to it; a queue that cannot be opened stops start-up. An empty data_dir
  // (in-memory delivery: tests) keeps it in memory. ---
  if (config.server.data_dir.empty()) {
    s->dlq_ = NewInMemoryDeadLetterQueue(clock);
  } else {
    const std::string dlq_dir = StrCat(config.server.data_dir, "/dlq");
    // Half the WAL's floor: the queue shares data_dir with the WAL, and the space between
    // the two is what the WAL's progress frames (seals, stores, hand-offs) use while
    // Ingest is refused (dead_letter_queue.h).
    auto dlq = OpenDeadLetterQueue(
        dlq_dir, clock, static_cast<int64_t>(config.server.wal_min_free_mb * 1024 * 1024) / 2);
    if (!dlq.ok())
      return absl::Status(dlq.status().code(), StrCat("cannot open the dead-letter queue under ",
                                                      dlq_dir, ": ", StatusMessage(dlq.status())));
    s->dlq_ = *std::move(dlq);
  }
  s->dlq_metrics_ = s->metrics_->AddRefresher([dlq = s->dlq_.get(), metrics = s->metrics_.get(),
                                               &clock] {
    const DeadLetterQueue::Stats st = dlq->GetStats();
    metrics->dlq_depth(kDlqDelivery).Set(static_cast<double>(st.delivery));
    metrics->dlq_depth(kDlqProcessing).Set(static_cast<double>(st.processing));
    metrics->dlq_damaged().Set(static_cast<double>(st.damaged));
    metrics->dlq_backlog_bytes().Set(static_cast<double>(st.delivery_backlog_bytes));
    metrics->dlq_oldest_age().Set(
        st.oldest_ms == 0
            ? 0.0
            : static_cast<double>(std::max<int64_t>(0, clock.NowMillis() - st.oldest_ms)) / 1000.0);
  });
  // --- end dead-letter queue ---
  DeliveryEngine::Options engine_options;
  engine_options.writer_id = ResolveWriterId(config.server);
  // --- Iceberg tables (README "Iceberg tables"): one writer per format: iceberg pipeline,
  // over the pipeline's sink (data files and the table's metadata go to one destination).
  std::shared_ptr<HttpClient> catalog_http;
  std::shared_ptr<CredentialsProvider> catalog_credentials;
  for (const auto& p : config.pipelines) {
    if (!p->destination.iceberg) continue;
    IcebergTable::Options table_options;
    table_options.writer_id = engine_options.writer_id;
    table_options.clock = &clock;
    const IcebergSpec& ice = *p->destination.iceberg;
    if (ice.mode == IcebergSpec::Mode::kCurrent) {
      // The key index (README "Current-state tables"): one process at a time.
      if (config.server.data_dir.empty())
        return absl::FailedPreconditionError(
            StrCat("pipeline ", p->name, ": mode: current keeps its key index under data_dir"));
      absl::StatusOr<std::unique_ptr<KeyIndex>> index =
          KeyIndex::Open(KeyIndexDir(config.server.data_dir, p->name));
      if (!index.ok())
        return absl::Status(index.status().code(),
                            StrCat("pipeline ", p->name, ": ", StatusMessage(index.status())));
      s->key_indexes_.push_back(*std::move(index));
      table_options.key_index = s->key_indexes_.back().get();
    }
    if (!ice.rest) {
      s->tables_.push_back(
          std::make_unique<IcebergTable>(*p, *sinks.at(p->name), std::move(table_options)));
      engine_options.tables[p->name] = s->tables_.back().get();
      continue;
    }
    // A REST catalog: asked for its configuration now, so that a wrong URI, warehouse,
    // secret or signing name stops start-up; one that cannot be reached now does not
    // (records wait in the WAL and the commit retries).
    if (!catalog_http) {
      catalog_http = NewCurlHttpClient();
      catalog_credentials = NewDefaultCredentialsChain(catalog_http, &clock, ProcessGetenv());
    }
    RestCatalogDeps deps;
    deps.http = catalog_http;
    deps.credentials = catalog_credentials;
    deps.clock = &clock;
    deps.files = location_sinks.at(p->name);
    deps.default_region = DefaultCatalogRegion(p->destination);
    std::unique_ptr<RemoteCatalog> rest = MakeRemoteCatalog(ice, std::move(deps));
    if (absl::Status st = rest->Connect(); !st.ok()) {
      if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st))
        return absl::Status(
            st.code(),
            StrCat("pipeline ", p->name, ": destination.iceberg.catalog: ", StatusMessage(st)));
      Log(LogLevel::kWarn, "iceberg.catalog_unreachable",
          {{"pipeline", p->name}, {"catalog", rest->Name()}, {"error", StatusMessage(st)}});
    }
    location_sinks.at(p->name)->SetBinder(
        [catalog = rest.get()] { return catalog->Load().status(); });
    s->catalogs_.push_back(std::move(rest));
    s->tables_.push_back(std::make_unique<IcebergTable>(
        *p, *sinks.at(p->name), *s->catalogs_.back(), std::move(table_options)));
    s->table_catalogs_[p->name] = s->catalogs_.back().get();
    engine_options.tables[p->name] = s->tables_.back().get();
  }
  // Current-state tables: the key index brought up to the table now (a crash between a
  // commit and the index's update), so that a table the index cannot follow stops
  // start-up; an unreachable table does not (the first commit catches up).
  for (const auto& t : s->tables_) {
    if (!t->current_mode()) continue;
    if (absl::Status st = t->CatchUpIndex(); !st.ok()) {
      if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st))
        return absl::Status(st.code(), StrCat("pipeline ", t->pipeline(), ": ", StatusMessage(st)));
      Log(LogLevel::kWarn, "iceberg.index_catch_up_deferred",
          {{"pipeline", t->pipeline()}, {"error", StatusMessage(st)}});
    }
  }
  if (!s->tables_.empty()) {
    const int64_t started_ms = clock.NowMillis();
    s->table_metrics_ =
        s->metrics_->AddRefresher([tables = &s->tables_, catalogs = &s->table_catalogs_,
                                   metrics = s->metrics_.get(), &clock, started_ms] {
          for (const auto& [pipeline, c] : *catalogs) {
            const RestCatalogStats st = c->Stats();
            metrics->RecordCatalog(pipeline, CatalogReading{.requests = st.requests,
                                                            .failures = st.failures,
                                                            .denied = st.auth_failures,
                                                            .unknown_commits = st.unknown_commits});
          }
          for (const auto& t : *tables) {
            const IcebergTableStats st = t->Stats();
            const int64_t since = st.last_commit_ms > 0 ? st.last_commit_ms : started_ms;
            metrics->RecordTable(
                t->pipeline(),
                TableReading{.commits = st.commits,
                             .commit_conflicts = st.commit_conflicts,
                             .commit_failures = st.commit_failures,
                             .schema_updates = st.schema_updates,
                             .files_committed = st.files_committed,
                             .records_committed = st.records_committed,
                             .objects_already_committed = st.objects_already_committed,
                             .last_commit_age_s = static_cast<double>(std::max<int64_t>(
                                                      0, clock.NowMillis() - since)) /
                                                  1000.0,
                             .snapshots = st.snapshots,
                             .current = t->current_mode(),
                             .changes_applied = st.changes_applied,
                             .changes_stale = st.changes_stale,
                             .changes_superseded = st.changes_superseded,
                             .position_deletes = st.position_deletes,
                             .index_deltas_replayed = st.index_deltas_replayed});
          }
        });
  }
  // --- end Iceberg tables ---
  // --- dead-letter queue: objects out of their retry budget go to it ---
  engine_options.retry_budget = absl::Seconds(config.server.delivery_retry_budget_s);
  // While the disk is full the queue refuses every hand-off, and the engine hands each
  // object over again after each retry delay: the first refusal for the disk is logged
  // in full, the rest summed into dlq.add_failures (at most once a minute), and the
  // first hand-off that passes again says how many were refused.
  struct DiskRefusals {
    absl::Mutex mu;
    int64_t streak ABSL_GUARDED_BY(mu) = 0;
    LogThrottle log ABSL_GUARDED_BY(mu){60'000};
  };
  engine_options.dead_letter = [dlq = s->dlq_.get(), metrics = s->metrics_.get(),
                                refusals = std::make_shared<DiskRefusals>(),
                                &clock](const DeadLetteredObject& object) {
    absl::Status added = dlq->AddDelivery(object).status();
    if (added.ok()) {
      metrics->ForPipeline(object.pipeline).dlq_added[kDlqDelivery]->Increment();
      int64_t streak = 0;
      {
        absl::MutexLock lock(&refusals->mu);
        std::swap(streak, refusals->streak);
        refusals->log.Take();
      }
      if (streak > 0) Log(LogLevel::kInfo, "dlq.add_resumed", {{"refused_before", StrCat(streak)}});
      return added;
    }
    // The engine keeps the object and hands it over again later; say why it is not queued.
    if (!absl::IsResourceExhausted(added)) {
      Log(LogLevel::kError, "dlq.add_failed",
          {{"pipeline", object.pipeline}, {"key", object.key}, {"error", StatusMessage(added)}});
      return added;
    }
    bool first = false;
    int64_t summary = 0;
    {
      absl::MutexLock lock(&refusals->mu);
      first = refusals->streak++ == 0;
      if (!first) summary = refusals->log.Count(clock.NowMillis());
    }
    if (first) {
      Log(LogLevel::kError, "dlq.add_failed",
          {{"pipeline", object.pipeline},
           {"key", object.key},
           {"error", StatusMessage(added)},
           {"then",
            "objects stay with the delivery engine (in memory, within "
            "buffer_budget_mb) and are handed over again; further refusals for the "
            "disk are counted in dlq.add_failures"}});
    } else if (summary > 0) {
      Log(LogLevel::kError, "dlq.add_failures",
          {{"refusals", StrCat(summary)}, {"error", StatusMessage(added)}});
    }
    return added;
  };
  engine_options.metrics = s->metrics_.get();
  // --- end dead-letter queue ---
  s->processor_ = std::make_unique<RecordProcessor>(config, clock, s->metrics_.get());
  s->engine_ = std::make_unique<DeliveryEngine>(config, std::move(sinks), clock, engine_options);
  // Durability: the write-ahead log under data_dir (an empty data_dir, possible only
  // programmatically, keeps delivery in memory: tests).
  if (!config.server.data_dir.empty()) {
    Wal::Options wal;
    wal.dir = config.server.data_dir + "/wal";
    wal.min_free_bytes = static_cast<int64_t>(config.server.wal_min_free_mb * 1024 * 1024);
    WalReplayStats replay;
    if (absl::Status st = s->engine_->Recover(wal, &replay); !st.ok()) return st;
    s->metrics_->wal_corrupt_tails().Increment(static_cast<double>(replay.corrupt_tails));
    s->metrics_->wal_damaged_segments().Increment(static_cast<double>(replay.damaged_segments));
    s->metrics_->wal_records_lost().Increment(static_cast<double>(replay.records_lost));
    s->metrics_->wal_replayed_records().Increment(
        static_cast<double>(s->engine_->Stats().recovered_records));
    if (replay.corrupt_tails > 0)
      Log(LogLevel::kWarn, "wal.replay_skipped_corrupt_tail",
          {{"segments", StrCat(replay.corrupt_tails)}, {"bytes", StrCat(replay.skipped_bytes)}});
  }
  const Limits& limits = config.server.limits;
  s->transform_ = std::make_unique<TransformService>(*s->processor_, limits.memory_quota_mb << 20);
  s->ingest_ = std::make_unique<IngestService>(*s->processor_, *s->engine_, *s->dlq_);
  // --- dead-letter retry worker and DeadLetters service ---
  {
    DeliveryEngine* engine = s->engine_.get();
    DeadLetterRetrier::StoreFn store = [engine](const std::string& pipeline, const std::string& key,
                                                std::string_view body) {
      return engine->StoreObject(pipeline, key, body);
    };
    DeadLetterRetrier::Options retrier_options = DeadLetterRetrier::OptionsFrom(config.server);
    retrier_options.metrics = s->metrics_.get();
    s->dlq_retrier_ = std::make_unique<DeadLetterRetrier>(*s->dlq_, store, clock, retrier_options);
    s->dead_letters_ = std::make_unique<DeadLettersService>(
        *s->dlq_, *s->processor_, store,
        [engine](const PipelineSpec& spec, std::vector<BufferedLine> lines) {
          return engine->Accept(spec, std::move(lines));
        });
  }
  // --- end dead-letter retry worker and DeadLetters service ---
  // --- ServerStatus: what health cannot say (destinations down, the backlog on disk) ---
  s->server_status_ = std::make_unique<ServerStatusService>(
      *s->metrics_, [breakers = s->breakers_.get(), dlq = s->dlq_.get(), &clock] {
        v1::GetServerStatusResponse out;
        const int64_t now = clock.NowMillis();
        for (const DestinationBreakers::Named& b : breakers->AllNamed()) {
          const SharedBreaker::Snapshot snap = b.breaker->Read(now);
          v1::DestinationStatus* d = out.add_destinations();
          d->set_destination(b.name);
          d->set_state(std::string(BreakerStateName(snap.state)));
          d->set_outage_seconds(static_cast<double>(snap.outage_ms) / 1000.0);
          d->set_last_error(CleanStatusError(snap.last_error));
          if (snap.state == BreakerState::kOpen)
            d->set_next_probe_in_ms(std::max<int64_t>(0, snap.next_probe_ms - now));
        }
        const DeadLetterQueue::Stats st = dlq->GetStats();
        out.set_dlq_delivery_entries(st.delivery);
        out.set_dlq_backlog_bytes(st.delivery_backlog_bytes);
        return out;
      });

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, security->credentials, &s->port_);  // security: TLS / token
  // Twice the documented limit: RecordProcessor answers INVALID_ARGUMENT with a reason
  // up to here, gRPC answers RESOURCE_EXHAUSTED past it.
  const int64_t hard_limit =
      std::min<int64_t>(2 * config.server.limits.max_message_bytes, INT32_MAX);
  builder.SetMaxReceiveMessageSize(static_cast<int>(hard_limit));
  // Responses carry the transformed documents, which can be larger than the input.
  builder.SetMaxSendMessageSize(-1);
  // --- transport limits (README "Limits") ---
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(limits.max_concurrent_streams));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(limits.max_connection_idle_s * 1000));
  // gRPC's own buffers (reads, call arenas): past the quota it stops reading and cancels
  // streams with RESOURCE_EXHAUSTED. The Transform answers it does not see are counted
  // by TransformService against the same figure.
  grpc::ResourceQuota quota("lakehose-server");
  quota.Resize(static_cast<size_t>(limits.memory_quota_mb) << 20);
  builder.SetResourceQuota(quota);
  const int accept_ceiling = AcceptCeiling(limits);
  SetAcceptDescriptorCeiling(accept_ceiling);
  Log(LogLevel::kInfo, "server.transport_limits",
      {{"max_concurrent_streams", StrCat(limits.max_concurrent_streams)},
       {"memory_quota_mb", StrCat(limits.memory_quota_mb)},
       {"accept_descriptor_ceiling", StrCat(accept_ceiling)},
       {"max_connection_idle_s", StrCat(limits.max_connection_idle_s)}});
  // --- end transport limits ---
  builder.RegisterService(s->transform_.get());
  builder.RegisterService(s->ingest_.get());
  builder.RegisterService(s->dead_letters_.get());  // dead-letter queue
  builder.RegisterService(s->server_status_.get());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0)
    return absl::UnavailableError(
        StrCat("cannot listen on ", listen, " (address in use or invalid?)"));
  if (!config.server.metrics_listen.empty()) {
    auto exposer = MetricsExposer::Start(config.server.metrics_listen, *s->metrics_);
    if (!exposer.ok()) return exposer.status();
    s->exposer_ = *std::move(exposer);
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  // --- transport limits: the listener probe and the in-flight gauges ---
  s->rpc_metrics_ =
      s->metrics_->AddRefresher([metrics = s->metrics_.get(), transform = s->transform_.get(),
                                 shed_seen = int64_t{0}]() mutable {
        metrics->inflight_bytes().Set(static_cast<double>(transform->inflight_bytes()));
        const int64_t shed = AcceptGuardShedConnections();
        if (shed > shed_seen)
          metrics->grpc_connections_shed().Increment(static_cast<double>(shed - shed_seen));
        shed_seen = shed;
      });
  if (limits.listener_probe_ms > 0) {
    const absl::Duration interval = absl::Milliseconds(limits.listener_probe_ms);
    s->listener_probe_ = std::make_unique<ListenerProbe>(
        // At least 1 s to answer: two slow accepts under load must not mark it deaf.
        ListenHost(listen), s->port_, interval,
        std::max(std::min(interval, absl::Seconds(2)), absl::Seconds(1)),
        [server = s->server_.get(), metrics = s->metrics_.get()](bool accepting) {
          metrics->grpc_listener_accepting().Set(accepting ? 1 : 0);
          server->GetHealthCheckService()->SetServingStatus(accepting);
          if (accepting) {
            Log(LogLevel::kInfo, "server.listener_accepting");
          } else {
            Log(LogLevel::kError, "server.listener_not_accepting",
                {{"reason",
                  "the gRPC port no longer accepts connections; health is NOT_SERVING until it "
                  "does (restart the process)"}});
          }
        });
  }
  // --- end transport limits ---
  return s;
}

void Server::Shutdown(absl::Duration grace, absl::Duration lame_duck) {
  if (shut_down_) return;
  shut_down_ = true;
  if (!server_) {  // Start failed part-way: only the engine may be running
    if (dlq_retrier_) dlq_retrier_->Stop();  // dead-letter queue: uses the engine
    if (engine_) engine_->Shutdown(absl::ZeroDuration());
    return;
  }
  const absl::Time deadline = absl::Now() + grace;
  if (listener_probe_) listener_probe_->Stop();  // before health turns NOT_SERVING for good
  server_->GetHealthCheckService()->SetServingStatus(false);
  transform_->StartDraining();
  ingest_->StartDraining();
  dead_letters_->StartDraining();  // dead-letter queue
  // Closing the port at once would make calls racing with it end CANCELLED at the
  // transport instead of UNAVAILABLE from a service.
  if (lame_duck > absl::ZeroDuration()) absl::SleepFor(std::min(lame_duck, grace));
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  ingest_->Stop();  // its workers use the engine
  // --- dead-letter queue: call threads and the retry worker use the engine ---
  dead_letters_->Stop();
  dlq_retrier_->Stop();
  // --- end dead-letter queue ---
  engine_->Shutdown(std::max(deadline - absl::Now(), absl::ZeroDuration()));
  Log(LogLevel::kInfo, "delivery.stopped",
      {{"objects_stored", StrCat(engine_->Stats().objects_stored)}});
}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

}  // namespace lakehose
