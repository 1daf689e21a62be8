#include "service/delivery_engine.h"

#include <algorithm>
#include <utility>

#include "core/compress.h"
#include "core/delivery_format.h"
#include "core/strings.h"
#include "service/log.h"

namespace lakehose {

struct DeliveryEngine::Ticket {
  int pending = 0;
  std::vector<StoredObject> objects;
  int failed = 0;
  absl::Status first_error;
  FlushCallback done;
};

namespace {

// Delay before re-trying to store an object whose store failed: 1 s doubling to 60 s.
int64_t RetryDelayMs(int attempts) {
  const int shift = std::min(attempts - 1, 6);
  return std::min<int64_t>(60000, int64_t{1000} << std::max(shift, 0));
}

}  // namespace

DeliveryEngine::DeliveryEngine(const Config& config, Sinks sinks, const Clock& clock, Options options)
    : config_(config),
      sinks_(std::move(sinks)),
      clock_(clock),
      options_(std::move(options)),
      pressure_{static_cast<int64_t>(config.server.buffer_budget_mb * 1024 * 1024),
                static_cast<size_t>(config.server.max_active_partitions)} {
  {
    absl::MutexLock lock(&mu_);
    // Sequences grow across restarts without persisted state: start from the clock, in
    // units a replica cannot exhaust (1,000 objects per millisecond).
    next_sequence_ = static_cast<uint64_t>(clock_.NowMillis()) * 1000;
  }
  for (int i = 0; i < std::max(1, config.server.upload_threads); ++i)
    uploaders_.emplace_back([this] { UploadLoop(); });
  ticker_ = std::thread([this] { TickLoop(); });
}

DeliveryEngine::~DeliveryEngine() { Shutdown(absl::ZeroDuration()); }

absl::Status DeliveryEngine::Accept(const PipelineSpec& spec, std::vector<BufferedLine> lines) {
  if (lines.empty()) return absl::OkStatus();
  int64_t incoming = 0;
  for (const auto& l : lines) incoming += static_cast<int64_t>(l.line.size());
  const int64_t now = clock_.NowMillis();
  const DestinationSpec& dest = spec.destination;
  const BufferLimits limits{static_cast<int64_t>(dest.buffer_size_mb * 1024 * 1024),
                            static_cast<int64_t>(dest.buffer_interval_s * 1000)};

  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("delivery is shutting down");

  // Pressure: seal early (starting uploads) rather than grow.
  absl::flat_hash_set<std::string_view> new_prefixes;
  for (const auto& l : lines)
    if (!buffers_.contains(BufferKey{&spec, l.prefix})) new_prefixes.insert(l.prefix);
  if (stats_.buffered_bytes + incoming > pressure_.budget_bytes / 2 ||
      buffers_.size() + new_prefixes.size() > pressure_.max_partitions) {
    std::vector<BufferKey> keys;
    std::vector<BufferStats> stats;
    for (const auto& [k, b] : buffers_) {
      keys.push_back(k);
      stats.push_back(b.stats);
    }
    for (size_t i : ChooseEarlySeals(stats, incoming, new_prefixes.size(), pressure_)) {
      const bool cap = buffers_.size() + new_prefixes.size() > pressure_.max_partitions;
      SealLocked(keys[i], cap ? FlushReason::kPartitionCap : FlushReason::kPressure);
    }
  }
  if (OverBudget(stats_.buffered_bytes, stats_.in_flight_bytes, incoming, pressure_)) {
    ++stats_.refused_requests;
    return absl::ResourceExhaustedError(StrCat(
        "delivery buffer budget (server.buffer_budget_mb = ", config_.server.buffer_budget_mb,
        ") is spent: ", stats_.in_flight_bytes, " bytes wait to be stored; retry in 1 s"));
  }

  for (auto& l : lines) {
    const BufferKey key{&spec, l.prefix};
    auto [it, inserted] = buffers_.try_emplace(key);
    Buffer& b = it->second;
    if (inserted) {
      b.spec = &spec;
      b.prefix = l.prefix;
      b.stats.oldest_ms = now;
      ++stats_.active_partitions;
    }
    b.data.append(l.line);
    b.stats.bytes += static_cast<int64_t>(l.line.size());
    b.stats.records += 1;
    stats_.buffered_bytes += static_cast<int64_t>(l.line.size());
    stats_.buffered_records += 1;
    if (AfterAdd(b.stats, limits) != FlushReason::kNone) SealLocked(key, FlushReason::kSize);
  }
  return absl::OkStatus();
}

void DeliveryEngine::SealLocked(const BufferKey& key, FlushReason reason) {
  auto it = buffers_.find(key);
  if (it == buffers_.end()) return;
  Buffer& b = it->second;
  auto sealed = std::make_unique<Sealed>();
  sealed->spec = b.spec;
  sealed->key = ObjectKey(b.prefix, b.spec->name, options_.writer_id, next_sequence_++,
                          b.spec->destination.compression);
  sealed->data = std::move(b.data);
  sealed->records = b.stats.records;
  stats_.buffered_bytes -= b.stats.bytes;
  stats_.buffered_records -= b.stats.records;
  stats_.in_flight_bytes += b.stats.bytes;
  stats_.active_partitions -= 1;
  stats_.seals_by_reason[static_cast<int>(reason)] += 1;
  buffers_.erase(it);
  queue_.push_back(std::move(sealed));
  work_cv_.Signal();
}

void DeliveryEngine::UploadLoop() {
  for (;;) {
    std::unique_ptr<Sealed> obj;
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !shut_down_) work_cv_.Wait(&mu_);
      if (queue_.empty()) return;
      obj = std::move(queue_.front());
      queue_.pop_front();
      uploading_.insert(obj.get());
    }
    const DestinationSpec& dest = obj->spec->destination;
    ObjectSink& sink = *sinks_.at(obj->spec->name);
    absl::StatusOr<std::string> body = Compress(dest.compression, dest.compression_level, obj->data);
    absl::Status status = body.status();
    if (status.ok()) {
      ObjectMeta meta;
      meta.content_encoding = std::string(ContentEncoding(dest.compression));
      status = sink.Put(obj->key, *body, meta);
    }
    std::vector<std::shared_ptr<Ticket>> finished;
    {
      absl::MutexLock lock(&mu_);
      uploading_.erase(obj.get());
      obj->attempts += 1;
      if (status.ok()) {
        StoredObject stored{obj->spec->name, obj->key, sink.Uri(obj->key), obj->records,
                            static_cast<int64_t>(body->size())};
        stats_.in_flight_bytes -= static_cast<int64_t>(obj->data.size());
        stats_.objects_stored += 1;
        for (auto& t : obj->tickets) {
          t->objects.push_back(stored);
          if (--t->pending == 0) finished.push_back(t);
        }
      } else {
        stats_.store_failures += 1;
        Log(LogLevel::kWarn, "delivery.store_failed",
            {{"pipeline", obj->spec->name}, {"key", obj->key}, {"error", StatusMessage(status)}});
        for (auto& t : obj->tickets) {
          if (t->failed++ == 0) t->first_error = status;
          if (--t->pending == 0) finished.push_back(t);
        }
        obj->tickets.clear();
        obj->next_attempt_ms = clock_.NowMillis() + RetryDelayMs(obj->attempts);
        retry_.push_back(std::move(obj));
      }
      idle_cv_.SignalAll();
    }
    Complete(std::move(finished));
  }
}

void DeliveryEngine::TickLoop() {
  absl::MutexLock lock(&mu_);
  while (!shut_down_) {
    work_cv_.WaitWithTimeout(&mu_, options_.tick);
    if (shut_down_) break;
    const int64_t now = clock_.NowMillis();
    std::vector<BufferKey> expired;
    for (const auto& [k, b] : buffers_) {
      const BufferLimits limits{static_cast<int64_t>(b.spec->destination.buffer_size_mb * 1024 * 1024),
                                static_cast<int64_t>(b.spec->destination.buffer_interval_s * 1000)};
      if (OnTick(b.stats, limits, now) != FlushReason::kNone) expired.push_back(k);
    }
    for (const auto& k : expired) SealLocked(k, FlushReason::kAge);
    for (auto it = retry_.begin(); it != retry_.end();) {
      if ((*it)->next_attempt_ms <= now) {
        queue_.push_back(std::move(*it));
        it = retry_.erase(it);
        work_cv_.Signal();
      } else {
        ++it;
      }
    }
  }
}

void DeliveryEngine::FlushAsync(const std::string& pipeline, FlushCallback done) {
  auto ticket = std::make_shared<Ticket>();
  ticket->done = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    auto matches = [&](const PipelineSpec* spec) { return pipeline.empty() || spec->name == pipeline; };
    std::vector<BufferKey> keys;
    for (const auto& [k, b] : buffers_)
      if (matches(k.spec)) keys.push_back(k);
    for (const auto& k : keys) SealLocked(k, FlushReason::kRequested);
    // A flush also means "retry now" for objects waiting out a backoff.
    for (auto it = retry_.begin(); it != retry_.end();) {
      if (matches((*it)->spec)) {
        queue_.push_back(std::move(*it));
        it = retry_.erase(it);
        work_cv_.SignalAll();
      } else {
        ++it;
      }
    }
    for (auto& obj : queue_) {
      if (!matches(obj->spec)) continue;
      obj->tickets.push_back(ticket);
      ticket->pending += 1;
    }
    for (Sealed* obj : uploading_) {
      if (!matches(obj->spec)) continue;
      obj->tickets.push_back(ticket);
      ticket->pending += 1;
    }
    if (ticket->pending > 0) return;
  }
  Complete({ticket});
}

void DeliveryEngine::Complete(std::vector<std::shared_ptr<Ticket>> done) {
  for (auto& t : done) {
    if (t->failed > 0) {
      t->done(absl::UnavailableError(StrCat(t->failed, " object(s) could not be stored yet (first error: ",
                                            StatusMessage(t->first_error),
                                            "); they stay queued and are retried")));
    } else {
      std::sort(t->objects.begin(), t->objects.end(),
                [](const StoredObject& a, const StoredObject& b) { return a.key < b.key; });
      t->done(std::move(t->objects));
    }
  }
}

absl::StatusOr<std::vector<StoredObject>> DeliveryEngine::Flush(const std::string& pipeline) {
  absl::Mutex done_mu;
  bool finished = false;
  absl::StatusOr<std::vector<StoredObject>> result;
  FlushAsync(pipeline, [&](absl::StatusOr<std::vector<StoredObject>> r) {
    absl::MutexLock lock(&done_mu);
    result = std::move(r);
    finished = true;
  });
  absl::MutexLock lock(&done_mu);
  done_mu.Await(absl::Condition(&finished));
  return result;
}

void DeliveryEngine::Shutdown(absl::Duration grace) {
  std::vector<std::shared_ptr<Ticket>> abandoned;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    stopping_ = true;
    std::vector<BufferKey> keys;
    for (const auto& [k, b] : buffers_) keys.push_back(k);
    for (const auto& k : keys) SealLocked(k, FlushReason::kShutdown);
    for (auto& obj : retry_) queue_.push_back(std::move(obj));
    retry_.clear();
    work_cv_.SignalAll();
    const absl::Time deadline = absl::Now() + grace;
    while ((!queue_.empty() || !uploading_.empty()) && absl::Now() < deadline)
      idle_cv_.WaitWithDeadline(&mu_, deadline);
    if (!queue_.empty() || !uploading_.empty()) {
      int64_t records = 0;
      for (const auto& obj : queue_) records += obj->records;
      for (const Sealed* obj : uploading_) records += obj->records;
      Log(LogLevel::kWarn, "delivery.shutdown_incomplete",
          {{"objects_left", StrCat(queue_.size() + uploading_.size())}, {"records_left", StrCat(records)}});
    }
    shut_down_ = true;
    const absl::Status gone = absl::UnavailableError("shut down before the object was stored");
    for (auto& obj : queue_) {
      for (auto& t : obj->tickets) {
        if (t->failed++ == 0) t->first_error = gone;
        if (--t->pending == 0) abandoned.push_back(t);
      }
    }
    queue_.clear();  // uploaders exit once the queue is empty
    work_cv_.SignalAll();
  }
  Complete(std::move(abandoned));
  for (auto& t : uploaders_) t.join();
  uploaders_.clear();
  if (ticker_.joinable()) ticker_.join();
}

absl::Status DeliveryEngine::StoreObject(const std::string& pipeline, const std::string& key,
                                         std::string_view body) {
  auto it = sinks_.find(pipeline);
  const PipelineSpec* spec = config_.FindPipeline(pipeline);
  if (it == sinks_.end() || spec == nullptr)
    return absl::FailedPreconditionError(StrCat("pipeline \"", pipeline, "\" is not configured any more"));
  const DestinationSpec& dest = spec->destination;
  absl::StatusOr<std::string> compressed = Compress(dest.compression, dest.compression_level, body);
  if (!compressed.ok()) return compressed.status();
  ObjectMeta meta;
  meta.content_encoding = std::string(ContentEncoding(dest.compression));
  meta.if_none_match = true;
  absl::Status s = it->second->Put(key, *compressed, meta);
  if (s.code() == absl::StatusCode::kAlreadyExists) return absl::OkStatus();
  return s;
}

DeliveryStats DeliveryEngine::Stats() const {
  absl::MutexLock lock(&mu_);
  DeliveryStats s = stats_;
  s.oldest_buffered_ms = 0;
  for (const auto& [k, b] : buffers_)
    if (s.oldest_buffered_ms == 0 || b.stats.oldest_ms < s.oldest_buffered_ms) s.oldest_buffered_ms = b.stats.oldest_ms;
  return s;
}

}  // namespace lakehose
