#include "service/rpc/ingest_service.h"

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
  engine_.FlushAsync(request->pipeline(),
                     [reactor, response, timer](absl::StatusOr<std::vector<StoredObject>> r) {
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
                     });
  return reactor;
}

}  // namespace lakehose
