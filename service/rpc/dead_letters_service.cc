#include "service/rpc/dead_letters_service.h"

#include <algorithm>
#include <set>

#include "core/base/strings.h"
#include "proto/grpc_status.h"
#include "proto/request_parsing.h"
#include "service/platform/log.h"
#include "service/rpc/ingest_lines.h"
#include "service/rpc/rpc_metrics.h"

namespace lakehose {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

const grpc::Status kDraining(grpc::StatusCode::UNAVAILABLE, "server is shutting down");

MetricDlqKind KindLabel(DeadLetterKind kind) {
  return kind == DeadLetterKind::kDelivery ? kDlqDelivery : kDlqProcessing;
}

std::string StatusText(const absl::Status& s) {
  return StrCat(absl::StatusCodeToString(s.code()), ": ", StatusMessage(s));
}

// ReadBody's answer for a damaged entry: refused as it is, with no attempt recorded (the
// queue never rewrites a damaged entry's files).
bool IsDamaged(const absl::Status& s) { return s.code() == absl::StatusCode::kFailedPrecondition; }

}  // namespace

void DeadLetterToWire(const DeadLetter& e, v1::DeadLetter* out) {
  out->set_id(e.id);
  out->set_kind(e.kind == DeadLetterKind::kDelivery ? v1::DeadLetter::DELIVERY
                                                    : v1::DeadLetter::PROCESSING);
  out->set_pipeline(e.pipeline);
  out->set_attempts(e.attempts);
  out->set_first_error(e.first_error);
  out->set_last_error(e.last_error);
  out->set_first_time_ms(e.first_ms);
  out->set_last_time_ms(e.last_ms);
  out->set_next_attempt_ms(e.next_attempt_ms);
  out->set_expired(e.expired);
  out->set_key(e.key);
  out->set_records(e.records);
  out->set_bytes(e.bytes);
  out->set_record_id(e.record_id);
  out->set_error_code(e.error_code);
  out->set_damaged(!e.damage.empty());
  out->set_damage(e.damage);
}

DeadLettersService::DeadLettersService(DeadLetterQueue& dlq, RecordProcessor& processor,
                                       StoreFn store, AcceptFn accept, Options options)
    : dlq_(dlq),
      processor_(processor),
      store_(std::move(store)),
      accept_(std::move(accept)),
      options_(options) {}

DeadLettersService::~DeadLettersService() { Stop(); }

// --- transport -------------------------------------------------------------------------

grpc::ServerUnaryReactor* DeadLettersService::ListDeadLetters(
    grpc::CallbackServerContext* context, const v1::ListDeadLettersRequest* request,
    v1::ListDeadLettersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  RpcTimer timer(processor_.metrics(), kRpcListDeadLetters);
  if (draining_.load()) {
    reactor->Finish(kDraining);
    return reactor;
  }
  reactor->Finish(ToGrpcStatus(DoList(*request, response)));
  return reactor;
}

grpc::ServerUnaryReactor* DeadLettersService::Redrive(grpc::CallbackServerContext* context,
                                                      const v1::RedriveRequest* request,
                                                      v1::RedriveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  RunOnThread(reactor, [this, context, request, response] {
    RpcTimer timer(processor_.metrics(), kRpcRedrive);
    return DoRedrive(
        *request, [context] { return context->IsCancelled(); }, response);
  });
  return reactor;
}

grpc::ServerUnaryReactor* DeadLettersService::Purge(grpc::CallbackServerContext* context,
                                                    const v1::PurgeRequest* request,
                                                    v1::PurgeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status parsed = RequestParseStatus(*request); !parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  RunOnThread(reactor, [this, request, response] {
    RpcTimer timer(processor_.metrics(), kRpcPurge);
    return DoPurge(*request, response);
  });
  return reactor;
}

void DeadLettersService::RunOnThread(grpc::ServerUnaryReactor* reactor,
                                     std::function<absl::Status()> work) {
  absl::MutexLock lock(&mu_);
  ReapLocked();
  if (stopped_ || draining_.load()) {
    reactor->Finish(kDraining);
    return;
  }
  if (running_ >= options_.max_concurrent_calls) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     StrCat("too many Redrive/Purge calls running (", running_, "); retry later")));
    return;
  }
  ++running_;
  const uint64_t id = next_thread_++;
  threads_.emplace(id, std::thread([this, id, reactor, work = std::move(work)] {
                     const absl::Status s = work();
                     reactor->Finish(ToGrpcStatus(s));
                     absl::MutexLock lock(&mu_);
                     --running_;
                     finished_.push_back(id);
                   }));
}

void DeadLettersService::ReapLocked() {
  for (uint64_t id : finished_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    it->second.join();  // done with its call: returns at once
    threads_.erase(it);
  }
  finished_.clear();
}

void DeadLettersService::Stop() {
  draining_.store(true);
  std::map<uint64_t, std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    threads.swap(threads_);
    finished_.clear();
  }
  for (auto& [id, t] : threads) t.join();
}

// --- logic -----------------------------------------------------------------------------

absl::Status DeadLettersService::DoList(const v1::ListDeadLettersRequest& request,
                                        v1::ListDeadLettersResponse* response) const {
  if (request.page_size() < 0)
    return absl::InvalidArgumentError(
        StrCat("page_size must not be negative (got ", request.page_size(), ")"));
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  DeadLetterFilter filter;
  filter.pipeline = request.pipeline();
  switch (request.kind()) {
    case v1::DeadLetter::KIND_UNSPECIFIED:
      break;
    case v1::DeadLetter::DELIVERY:
      filter.kind = DeadLetterKind::kDelivery;
      break;
    case v1::DeadLetter::PROCESSING:
      filter.kind = DeadLetterKind::kProcessing;
      break;
    default:
      return absl::InvalidArgumentError(StrCat("unknown kind ", static_cast<int>(request.kind())));
  }
  // One more than a page tells whether there is a next one.
  std::vector<DeadLetter> entries =
      dlq_.List(filter, request.page_token(), static_cast<size_t>(page_size) + 1);
  const bool more = entries.size() > static_cast<size_t>(page_size);
  if (more) entries.resize(static_cast<size_t>(page_size));
  for (const DeadLetter& e : entries) DeadLetterToWire(e, response->add_entries());
  if (more) response->set_next_page_token(entries.back().id);
  return absl::OkStatus();
}

absl::Status DeadLettersService::DoRedrive(const v1::RedriveRequest& request,
                                           const std::function<bool()>& cancelled,
                                           v1::RedriveResponse* response) {
  const int selectors = (request.ids_size() > 0) + !request.pipeline().empty() + request.all();
  if (selectors != 1)
    return absl::InvalidArgumentError("Redrive needs exactly one selector: ids, pipeline, or all");

  // The selection, in id order; unknown ids get their result without an entry.
  std::vector<DeadLetter> entries;
  std::set<std::string> unknown;
  if (request.ids_size() > 0) {
    std::set<std::string> ids(request.ids().begin(), request.ids().end());
    for (const std::string& id : ids) {
      if (auto e = dlq_.Get(id)) {
        entries.push_back(*std::move(e));
      } else {
        unknown.insert(id);
      }
    }
  } else {
    DeadLetterFilter filter;
    filter.pipeline = request.pipeline();
    entries = dlq_.List(filter, "", SIZE_MAX);
  }

  std::vector<Outcome> outcomes(entries.size());
  std::vector<bool> done(entries.size(), false);
  size_t i = 0;
  while (i < entries.size()) {
    if (cancelled && cancelled()) break;
    if (entries[i].kind == DeadLetterKind::kDelivery) {
      outcomes[i] = RedriveDelivery(entries[i]);
      done[i] = true;
      ++i;
      continue;
    }
    // A run of processing entries of one pipeline, transformed and accepted together.
    size_t j = i;
    std::vector<DeadLetter> chunk;
    while (j < entries.size() && chunk.size() < std::max<size_t>(options_.redrive_chunk, 1) &&
           entries[j].kind == DeadLetterKind::kProcessing &&
           entries[j].pipeline == entries[i].pipeline)
      chunk.push_back(entries[j++]);
    std::vector<Outcome> chunk_outcomes;
    RedriveProcessing(chunk, &chunk_outcomes);
    for (size_t k = 0; k < chunk.size(); ++k) {
      outcomes[i + k] = std::move(chunk_outcomes[k]);
      done[i + k] = true;
    }
    i = j;
  }

  int ok = 0, failed = 0;
  auto unknown_it = unknown.begin();
  auto add_unknown_before = [&](const std::string* id) {
    for (; unknown_it != unknown.end() && (id == nullptr || *unknown_it < *id); ++unknown_it) {
      v1::RedriveResult* r = response->add_results();
      r->set_id(*unknown_it);
      r->set_ok(false);
      r->set_error("no such dead letter");
      ++failed;
    }
  };
  for (size_t k = 0; k < entries.size(); ++k) {
    add_unknown_before(&entries[k].id);
    v1::RedriveResult* r = response->add_results();
    r->set_id(entries[k].id);
    if (!done[k]) {
      r->set_ok(false);
      r->set_error("not attempted: the call was cancelled");
      ++failed;
      continue;
    }
    r->set_ok(outcomes[k].ok);
    r->set_error(outcomes[k].error);
    outcomes[k].ok ? ++ok : ++failed;
    if (outcomes[k].ok)
      processor_.metrics()
          .ForPipeline(entries[k].pipeline)
          .dlq_redriven[KindLabel(entries[k].kind)]
          ->Increment();
  }
  add_unknown_before(nullptr);
  Log(LogLevel::kInfo, "dlq.redrive",
      {{"selector", request.all()                 ? "all"
                    : !request.pipeline().empty() ? "pipeline"
                                                  : "ids"},
       {"pipeline", request.pipeline()},
       {"ok", StrCat(ok)},
       {"failed", StrCat(failed)}});
  return absl::OkStatus();
}

DeadLettersService::Outcome DeadLettersService::RedriveDelivery(const DeadLetter& e) {
  auto body = dlq_.ReadBody(e.id);
  if (!body.ok()) {
    if (body.status().code() == absl::StatusCode::kNotFound && !dlq_.Get(e.id).has_value())
      return {true, ""};  // delivered by the retry worker meanwhile
    if (IsDamaged(body.status())) return {false, StatusText(body.status())};
    const std::string error = StrCat("read body: ", StatusText(body.status()));
    RecordFailure(e, error);
    return {false, error};
  }
  absl::Status s = store_(e.pipeline, e.key, *body);
  if (!s.ok()) {
    const std::string error = StatusText(s);
    RecordFailure(e, error);
    return {false, error};
  }
  absl::Status removed = dlq_.Remove(e.id);
  if (!removed.ok() && removed.code() != absl::StatusCode::kNotFound)
    return {false, StrCat("stored, but not removed from the queue: ", StatusText(removed))};
  return {true, ""};
}

void DeadLettersService::RedriveProcessing(const std::vector<DeadLetter>& entries,
                                           std::vector<Outcome>* out) {
  out->assign(entries.size(), Outcome{});
  const int64_t now = processor_.clock().NowMillis();
  const PipelineSpec* spec = nullptr;
  std::vector<BufferedLine> lines;
  std::vector<size_t> accepted;  // entries whose line is in `lines`
  for (size_t k = 0; k < entries.size(); ++k) {
    const DeadLetter& e = entries[k];
    Outcome& o = (*out)[k];
    auto body = dlq_.ReadBody(e.id);
    if (!body.ok()) {
      if (body.status().code() == absl::StatusCode::kNotFound && !dlq_.Get(e.id).has_value()) {
        o = {false, "no such dead letter (purged meanwhile)"};
        continue;
      }
      if (IsDamaged(body.status())) {
        o.error = StatusText(body.status());
        continue;
      }
      o.error = StrCat("read body: ", StatusText(body.status()));
      RecordFailure(e, o.error);
      continue;
    }
    google::protobuf::RepeatedPtrField<v1::Record> records;
    v1::Record* record = records.Add();
    record->set_record_id(e.record_id);
    record->set_data(*std::move(body));
    record->set_approximate_arrival_timestamp(e.arrival_ms);
    google::protobuf::RepeatedPtrField<v1::RecordResult> results;
    auto processed = processor_.Process(e.pipeline, records, record->ByteSizeLong(), &results);
    if (!processed.ok()) {
      o.error = StatusText(processed.status());
      RecordFailure(e, o.error);
      continue;
    }
    spec = *processed;
    CountAnswered(processor_.metrics().ForPipeline(*spec), kRpcRedrive, records, results);
    const v1::RecordResult& r = results[0];
    if (r.result() == v1::RecordResult::PROCESSING_FAILED) {
      o.error = StrCat(r.error_code(), ": ", r.error_message());
      RecordFailure(e, o.error);
      continue;
    }
    if (r.result() == v1::RecordResult::OK) {
      AppendIngestLine(*record, r, now, &lines);
      accepted.push_back(k);
      continue;
    }
    // DROPPED by the current config: nothing to deliver, nothing left to do.
    absl::Status removed = dlq_.Remove(e.id);
    o = removed.ok() || removed.code() == absl::StatusCode::kNotFound
            ? Outcome{true, ""}
            : Outcome{false, StrCat("dropped by the pipeline now, but not removed: ",
                                    StatusText(removed))};
  }
  if (accepted.empty()) return;
  absl::Status s = accept_(*spec, std::move(lines));
  for (size_t k : accepted) {
    const DeadLetter& e = entries[k];
    Outcome& o = (*out)[k];
    if (!s.ok()) {
      o.error = StrCat("transformed OK but not accepted for delivery: ", StatusText(s));
      RecordFailure(e, o.error);
      continue;
    }
    absl::Status removed = dlq_.Remove(e.id);
    if (removed.ok() || removed.code() == absl::StatusCode::kNotFound) {
      o = {true, ""};
    } else {
      // Accepted: it will be delivered. Left in the queue, a second redrive would
      // deliver it twice, so say so.
      o = {false,
           StrCat(
               "accepted for delivery, but not removed from the queue (do not redrive it again): ",
               StatusText(removed))};
      Log(LogLevel::kError, "dlq.remove_failed", {{"id", e.id}, {"error", StatusMessage(removed)}});
    }
  }
}

void DeadLettersService::RecordFailure(const DeadLetter& e, const std::string& error) {
  absl::Status s =
      dlq_.RecordAttempt(e.id, StrCat("redrive: ", error), e.next_attempt_ms, e.expired);
  if (!s.ok() && s.code() != absl::StatusCode::kNotFound)
    Log(LogLevel::kError, "dlq.record_attempt_failed", {{"id", e.id}, {"error", StatusMessage(s)}});
}

absl::Status DeadLettersService::DoPurge(const v1::PurgeRequest& request,
                                         v1::PurgeResponse* response) {
  const bool by_ids = request.ids_size() > 0;
  const bool by_pipeline = !request.pipeline().empty();
  if (by_ids == by_pipeline)
    return absl::InvalidArgumentError(
        "Purge needs either ids or a pipeline (with confirm), not both or neither");
  if (by_pipeline && !request.confirm())
    return absl::InvalidArgumentError(StrCat("purging every dead letter of pipeline \"",
                                             request.pipeline(), "\" needs confirm = true"));
  std::vector<DeadLetter> selected;
  if (by_ids) {
    std::set<std::string> unique(request.ids().begin(), request.ids().end());
    std::vector<std::string> missing;
    for (const std::string& id : unique) {
      if (auto e = dlq_.Get(id)) {
        selected.push_back(*std::move(e));
      } else {
        missing.push_back(id);
      }
    }
    if (!missing.empty())
      return absl::NotFoundError(
          StrCat("no such dead letter: ", StrJoin(missing, ", "), " (nothing purged)"));
  } else {
    DeadLetterFilter filter;
    filter.pipeline = request.pipeline();
    selected = dlq_.List(filter, "", SIZE_MAX);
  }
  for (const DeadLetter& e : selected) {
    absl::Status s = dlq_.Remove(e.id);
    if (s.code() == absl::StatusCode::kNotFound) continue;  // delivered or purged meanwhile
    if (!s.ok()) {
      Log(LogLevel::kError, "dlq.purge_failed", {{"id", e.id}, {"error", StatusMessage(s)}});
      return absl::Status(s.code(), StrCat("purged ", response->purged_size(), " of ",
                                           selected.size(), ", then: ", StatusMessage(s)));
    }
    response->add_purged(e.id);
    processor_.metrics().ForPipeline(e.pipeline).dlq_purged[KindLabel(e.kind)]->Increment();
  }
  Log(LogLevel::kInfo, "dlq.purged",
      {{"pipeline", request.pipeline()}, {"count", StrCat(response->purged_size())}});
  return absl::OkStatus();
}

}  // namespace lakehose
