#include "service/rpc/ingest_service.h"

#include <algorithm>

#include "core/base/strings.h"
#include "proto/grpc_status.h"
#include "proto/request_parsing.h"
#include "service/platform/log.h"
#include "service/rpc/ingest_lines.h"
#include "service/rpc/rpc_metrics.h"

namespace lakehose {
namespace {

const grpc::Status kDraining(grpc::StatusCode::UNAVAILABLE, "server is shutting down");
const grpc::Status kBusy(grpc::StatusCode::RESOURCE_EXHAUSTED,
                         "too many Ingest requests are waiting for a worker; retry in 1 s");

class IngestStreamReactor : public grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse> {
 public:
  IngestStreamReactor(IngestService* service, grpc::CallbackServerContext* context)
      : service_(service), context_(context) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed: every request has been answered
      Finish(grpc::Status::OK);
      return;
    }
    if (absl::Status parsed = RequestParseStatus(request_); !parsed.ok()) {
      Finish(ToGrpcStatus(parsed));
      return;
    }
    response_.Clear();
    // The next read starts only after this response is written, so one request of the
    // stream is handled at a time, in order.
    if (!service_->RunOnWorker([this] {
          const grpc::Status s =
              service_->HandleIngest(context_, request_, &response_, kRpcIngestStream);
          if (!s.ok()) {
            Finish(s);
            return;
          }
          StartWrite(&response_);
        })) {
      context_->AddTrailingMetadata("grpc-retry-pushback-ms", "1000");
      Finish(kBusy);
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream broken while writing a response"));
      return;
    }
    request_.Clear();
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  IngestService* service_;
  grpc::CallbackServerContext* context_;
  v1::IngestRequest request_;
  v1::IngestResponse response_;
};

}  // namespace

grpc::Status IngestService::HandleIngest(grpc::CallbackServerContext* context,
                                         const v1::IngestRequest& request,
                                         v1::IngestResponse* response, MetricRpc rpc) {
  const Metrics& metrics = processor_.metrics();
  RpcTimer timer(metrics, rpc);
  timer.set_records(request.records_size());
  if (draining()) {
    metrics.ForPipeline(request.pipeline())
        .rejected[kRejectDraining]
        ->Increment(request.records_size());
    return kDraining;
  }
  auto spec = processor_.Process(request.pipeline(), request.records(), request.ByteSizeLong(),
                                 response->mutable_records());
  if (!spec.ok()) return ToGrpcStatus(spec.status());
  const PipelineMetrics& m = metrics.ForPipeline(**spec);
  const int64_t now = processor_.clock().NowMillis();
  std::vector<BufferedLine> lines = IngestLines(request.records(), response->records(), now);
  absl::Status accepted = engine_.Accept(**spec, std::move(lines));
  if (!accepted.ok()) {
    m.rejected[accepted.code() == absl::StatusCode::kUnavailable ? kRejectDraining
               : DeliveryEngine::IsBufferBudgetRefusal(accepted) ? kRejectBufferFull
                                                                 : kRejectDiskFull]
        ->Increment(request.records_size());
    response->Clear();
    if (accepted.code() == absl::StatusCode::kResourceExhausted)
      context->AddTrailingMetadata("grpc-retry-pushback-ms", "1000");
    return ToGrpcStatus(accepted);
  }
  // The failed records' raw input goes to the dead-letter queue for Redrive. Their error
  // documents are already accepted (error prefix), so a queue failure loses nothing:
  // it is logged, and the request still succeeds.
  std::vector<DeadLetterQueue::FailedRecord> failed =
      FailedRecords(request.records(), response->records(), now);
  if (!failed.empty()) {
    auto added = dead_letters_.AddProcessing(request.pipeline(), failed);
    if (!added.ok())
      Log(LogLevel::kError, "dlq.add_processing_failed",
          {{"pipeline", request.pipeline()},
           {"records", StrCat(failed.size())},
           {"error", StatusMessage(added.status())}});
    else
      m.dlq_added[kDlqProcessing]->Increment(static_cast<double>(failed.size()));
  }
  CountAnswered(m, rpc, request.records(), response->records());
  return grpc::Status::OK;
}

IngestService::IngestService(RecordProcessor& processor, DeliveryEngine& engine,
                             DeadLetterQueue& dead_letters, Options options)
    : processor_(processor),
      engine_(engine),
      dead_letters_(dead_letters),
      workers_(options.workers, options.max_queued) {
  SetMessageAllocatorFor_Ingest(&allocator_);
}

grpc::ServerUnaryReactor* IngestService::Ingest(grpc::CallbackServerContext* context,
                                                const v1::IngestRequest* request,
                                                v1::IngestResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  if (!RunOnWorker([this, context, request, response, reactor] {
        reactor->Finish(HandleIngest(context, *request, response, kRpcIngest));
      })) {
    processor_.metrics()
        .ForPipeline(request->pipeline())
        .rejected[kRejectBusy]
        ->Increment(request->records_size());
    context->AddTrailingMetadata("grpc-retry-pushback-ms", "1000");
    reactor->Finish(kBusy);
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* IngestService::IngestStream(
    grpc::CallbackServerContext* context) {
  return new IngestStreamReactor(this, context);
}

grpc::ServerUnaryReactor* IngestService::Flush(grpc::CallbackServerContext* context,
                                               const v1::FlushRequest* request,
                                               v1::FlushResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  if (!request->pipeline().empty() &&
      processor_.config().FindPipeline(request->pipeline()) == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 StrCat("unknown pipeline \"", request->pipeline(), "\"")));
    return reactor;
  }
  auto timer = std::make_shared<RpcTimer>(processor_.metrics(), kRpcFlush);
  auto finish = [reactor, response, timer](absl::StatusOr<std::vector<StoredObject>> r) {
    timer->Stop();
    if (!r.ok()) {
      reactor->Finish(ToGrpcStatus(r.status()));
      return;
    }
    for (const StoredObject& o : *r) {
      v1::DeliveredObject* d = response->add_objects();
      d->set_uri(o.uri);
      d->set_records(o.records);
      d->set_bytes(o.bytes);
      d->set_pipeline(o.pipeline);
      d->set_key(o.key);
    }
    reactor->Finish(grpc::Status::OK);
  };
  // The engine's part first (its callback runs on an engine thread), then the dead
  // letters on a worker: they are stores, which must not hold an upload thread.
  const absl::Time deadline = context->deadline() == std::chrono::system_clock::time_point::max()
                                  ? absl::InfiniteFuture()
                                  : absl::FromChrono(context->deadline());
  engine_.FlushAsync(request->pipeline(), [this, finish, deadline, pipeline = request->pipeline()](
                                              absl::StatusOr<std::vector<StoredObject>> r) {
    if (RunOnWorker([this, finish, deadline, pipeline, r]() mutable {
          finish(FlushDeadLetters(pipeline, deadline, std::move(r)));
        }))
      return;
    // Stopping, or the queue is full: the engine's answer alone, unless that would be an
    // OK with entries still waiting in the DLQ.
    if ((r.ok() || DeliveryEngine::FailedOnlyToDeadLetters(r.status())) &&
        FirstPendingDeadLetter(pipeline).has_value())
      r = absl::UnavailableError(
          "objects wait in the dead-letter queue and the server is too busy to store them now "
          "(its retry worker will); retry the Flush");
    finish(std::move(r));
  });
  return reactor;
}

bool IngestService::PendingDeadLetter(const DeadLetter& e) const {
  // Expired or damaged: parked for an operator (dlq list / redrive / purge), not pending;
  // so is an entry of a pipeline this configuration no longer has.
  return e.kind == DeadLetterKind::kDelivery && !e.expired && e.damage.empty() &&
         processor_.config().FindPipeline(e.pipeline) != nullptr;
}

std::optional<DeadLetter> IngestService::FirstPendingDeadLetter(const std::string& pipeline,
                                                                std::string after) const {
  const DeadLetterFilter filter{.pipeline = pipeline, .kind = DeadLetterKind::kDelivery};
  // Bounded: each page moves `after` forward through a finite index.
  for (;;) {
    const std::vector<DeadLetter> page = dead_letters_.List(filter, after, kDeadLetterPage);
    for (const DeadLetter& e : page)
      if (PendingDeadLetter(e)) return e;
    if (page.size() < kDeadLetterPage) return std::nullopt;
    after = page.back().id;
  }
}

absl::StatusOr<std::vector<StoredObject>> IngestService::FlushDeadLetters(
    const std::string& pipeline, absl::Time deadline,
    absl::StatusOr<std::vector<StoredObject>> engine_result) {
  // A failure other than objects handed to the DLQ (a seal the WAL refused, objects
  // retried in memory): the flush fails whatever the DLQ holds.
  if (!engine_result.ok() && !DeliveryEngine::FailedOnlyToDeadLetters(engine_result.status()))
    return engine_result;
  std::vector<StoredObject> objects;
  if (engine_result.ok()) objects = *std::move(engine_result);
  // One drain at a time: concurrent Flushes would each store the same entries (harmless,
  // If-None-Match, but N requests per object against a destination that just came back);
  // a second Flush waits here and then finds what the first left.
  absl::MutexLock drain(&flush_drain_mu_);
  size_t stored = 0;
  std::string why_stopped;
  std::string after;
  while (std::optional<DeadLetter> e = FirstPendingDeadLetter(pipeline, after)) {
    after = e->id;
    if (stored == kMaxFlushDeadLetters) {
      why_stopped = StrCat("more than ", kMaxFlushDeadLetters, " were pending");
      break;
    }
    if (absl::Now() >= deadline) {
      why_stopped = "the Flush's deadline came";
      break;
    }
    absl::StatusOr<std::string> body = dead_letters_.ReadBody(e->id);
    // Gone (the retry worker or a redrive took it) or found damaged now: not pending.
    if (absl::IsNotFound(body.status()) || absl::IsFailedPrecondition(body.status())) continue;
    int64_t stored_bytes = 0;
    absl::Status s = body.status();
    if (s.ok()) s = engine_.StoreObject(e->pipeline, e->key, *body, &stored_bytes);
    if (!s.ok()) {
      // A Flush is not the retry worker: after one failed store (the destination is
      // down, or refuses: each further one could take a whole retry ladder) the rest is
      // left to the worker's backoff.
      why_stopped = StrCat("first error: ", StatusMessage(s));
      break;
    }
    ++stored;
    const absl::Status removed = dead_letters_.Remove(e->id);
    if (removed.ok()) {
      processor_.metrics().ForPipeline(e->pipeline).dlq_delivered->Increment();
      Log(LogLevel::kInfo, "dlq.delivered",
          {{"id", e->id}, {"pipeline", e->pipeline}, {"key", e->key}, {"by", "flush"}});
    } else if (!absl::IsNotFound(removed)) {  // stored; the retry worker removes it later
      Log(LogLevel::kError, "dlq.remove_failed",
          {{"id", e->id}, {"error", StatusMessage(removed)}});
    }
    objects.push_back(StoredObject{e->pipeline, e->key, engine_.ObjectUri(e->pipeline, e->key),
                                   e->records, stored_bytes});
  }
  if (!why_stopped.empty()) {
    // The entry it stopped at and every pending one after it (bounded by the index).
    int64_t left = 0;
    std::string from = after;
    if (std::optional<DeadLetter> first = dead_letters_.Get(from);
        first.has_value() && PendingDeadLetter(*first))
      ++left;
    while (std::optional<DeadLetter> e = FirstPendingDeadLetter(pipeline, from)) {
      ++left;
      from = e->id;
    }
    if (left > 0)
      return absl::UnavailableError(StrCat(left, " object(s) wait in the dead-letter queue (",
                                           why_stopped, "); its retry worker stores them"));
  }
  std::sort(objects.begin(), objects.end(),
            [](const StoredObject& a, const StoredObject& b) { return a.key < b.key; });
  return objects;
}

}  // namespace lakehose
