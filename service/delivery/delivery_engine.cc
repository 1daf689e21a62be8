#include "service/delivery/delivery_engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "core/base/backoff.h"
#include "core/base/compress.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/delivery/delivery_format.h"
#include "core/delivery/destination_breaker.h"
#include "service/platform/log.h"

namespace lakehose {

struct DeliveryEngine::Ticket {
  int pending = 0;
  std::vector<StoredObject> objects;
  int failed = 0;         // objects not stored
  int dead_lettered = 0;  // of `failed`: handed to the DLQ
  absl::Status first_error;
  // Buffers the flush could not seal (the WAL refused the seal: disk full): not objects,
  // they stay buffered, and their records are in the WAL.
  int unsealed = 0;
  absl::Status seal_error;
  FlushCallback done;
};

namespace {

// Marks a refusal for the byte budget (IsBufferBudgetRefusal).
constexpr char kBufferBudgetPayload[] = "type.lakehose.dev/buffer-budget";
// Marks a flush whose only failures are objects handed to the DLQ (FailedOnlyToDeadLetters).
constexpr char kOnlyDeadLetteredPayload[] = "type.lakehose.dev/only-dead-lettered";

// The reason logged for an object handed to the DLQ because its destination is down.
constexpr std::string_view kEndDestinationDown = "destination_down";

// The longest single wait of Shutdown for the uploads (see Shutdown).
constexpr absl::Duration kShutdownWaitSlice = absl::Milliseconds(100);
// How long a Flush's stored object waits for the Flush's other objects before it is
// committed without them (CommitLoop).
constexpr int64_t kFlushCommitWaitMs = 1000;

}  // namespace

DeliveryEngine::DeliveryEngine(const Config& config, Sinks sinks, const Clock& clock,
                               Options options)
    : config_(config),
      sinks_(std::move(sinks)),
      clock_(clock),
      options_(std::move(options)),
      pressure_{static_cast<int64_t>(config.server.buffer_budget_mb * 1024 * 1024),
                static_cast<size_t>(config.server.max_active_partitions)} {
  metrics_ = options_.metrics;
  if (metrics_ == nullptr) {
    own_metrics_ = std::make_unique<Metrics>(config);
    metrics_ = own_metrics_.get();
  }
  metrics_refresh_ = metrics_->AddRefresher([this] { RefreshMetrics(); });
  {
    absl::MutexLock lock(&mu_);
    // Sequences grow across restarts without persisted state: start from the clock, in
    // units a replica cannot exhaust (1,000 objects per millisecond).
    next_sequence_ = static_cast<uint64_t>(clock_.NowMillis()) * 1000;
    uniform01_ = options_.uniform01;
    if (!uniform01_) {
      // Called under mu_ only, so the generator needs no lock of its own.
      auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
      uniform01_ = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
    }
  }
  for (int i = 0; i < std::max(1, config.server.upload_threads); ++i)
    uploaders_.emplace_back([this] { UploadLoop(); });
  ticker_ = std::thread([this] { TickLoop(); });
  if (!options_.tables.empty()) committer_ = std::thread([this] { CommitLoop(); });
}

DeliveryEngine::~DeliveryEngine() { Shutdown(absl::ZeroDuration()); }

absl::Status DeliveryEngine::Accept(const PipelineSpec& spec, std::vector<BufferedLine> lines) {
  if (lines.empty()) return absl::OkStatus();
  int64_t incoming = 0;
  for (const auto& l : lines) incoming += static_cast<int64_t>(l.line.size());
  if (options_.dead_letter) SpillToDeadLetters(incoming);
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
    absl::Status refused = absl::ResourceExhaustedError(StrCat(
        "delivery buffer budget (server.buffer_budget_mb = ", config_.server.buffer_budget_mb,
        ") is spent: ", stats_.in_flight_bytes, " bytes wait to be stored; retry in 1 s"));
    refused.SetPayload(kBufferBudgetPayload, absl::Cord("server.buffer_budget_mb"));
    return refused;
  }

  // The log first: if it cannot take the records, nothing is buffered.
  uint64_t sync_lsn = 0;
  uint64_t segment = 0;
  if (wal_) {
    std::vector<std::pair<std::string_view, std::string_view>> views;
    views.reserve(lines.size());
    for (const auto& l : lines) views.emplace_back(l.prefix, l.line);
    wal_payload_.clear();
    EncodeWalAccept(spec.name, now, views, &wal_payload_);
    absl::StatusOr<uint64_t> lsn = wal_->Append(WalType::kAccept, wal_payload_);
    if (!lsn.ok()) {
      ++stats_.refused_requests;
      return lsn.status();
    }
    sync_lsn = *lsn;
    segment = Wal::SegmentOf(*lsn);
  }

  // The partition cap holds whatever the request brings: older buffers the request does
  // not touch are sealed first; past the cap, what is left over is sealed right after.
  {
    new_prefixes.clear();
    for (const auto& l : lines)
      if (!buffers_.contains(BufferKey{&spec, l.prefix})) new_prefixes.insert(l.prefix);
    while (!buffers_.empty() && buffers_.size() + new_prefixes.size() > pressure_.max_partitions) {
      const BufferKey* oldest = nullptr;
      int64_t oldest_ms = 0;
      for (const auto& [k, b] : buffers_) {
        // (A named copy of the binding: clang 14 cannot capture structured bindings.)
        const std::string_view prefix = k.prefix;
        if (k.spec == &spec &&
            std::any_of(lines.begin(), lines.end(),
                        [prefix](const BufferedLine& l) { return l.prefix == prefix; }))
          continue;
        if (!oldest || b.stats.oldest_ms < oldest_ms) {
          oldest = &k;
          oldest_ms = b.stats.oldest_ms;
        }
      }
      if (!oldest) break;
      const BufferKey victim = *oldest;
      if (!SealLocked(victim, FlushReason::kPartitionCap)) break;
    }
  }

  // For each line, how many later lines of this request share its prefix (see SealLocked).
  std::vector<int64_t> later(lines.size());
  {
    absl::flat_hash_map<std::string_view, int64_t> seen;
    for (size_t i = lines.size(); i-- > 0;) later[i] = seen[lines[i].prefix]++;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    BufferedLine& l = lines[i];
    const BufferKey key{&spec, l.prefix};
    auto [it, inserted] = buffers_.try_emplace(key);
    Buffer& b = it->second;
    if (inserted) {
      b.spec = &spec;
      b.prefix = l.prefix;
      b.stats.oldest_ms = now;
      b.first_segment = segment;
      ++stats_.active_partitions;
    }
    b.data.append(l.line);
    b.stats.bytes += static_cast<int64_t>(l.line.size());
    b.stats.records += 1;
    stats_.buffered_bytes += static_cast<int64_t>(l.line.size());
    stats_.buffered_records += 1;
    if (AfterAdd(b.stats, limits) != FlushReason::kNone) {
      if (auto seal_lsn = SealLocked(key, FlushReason::kSize, later[i]))
        sync_lsn = std::max(sync_lsn, *seal_lsn);
    }
  }
  while (buffers_.size() > pressure_.max_partitions) {
    auto oldest = buffers_.begin();
    for (auto it = buffers_.begin(); it != buffers_.end(); ++it)
      if (it->second.stats.oldest_ms < oldest->second.stats.oldest_ms) oldest = it;
    const BufferKey victim = oldest->first;
    auto seal_lsn = SealLocked(victim, FlushReason::kPartitionCap);
    if (!seal_lsn) break;
    sync_lsn = std::max(sync_lsn, *seal_lsn);
  }
  if (!wal_) return absl::OkStatus();
  mu_.Unlock();
  // Group commit: concurrent requests share this fsync.
  absl::Status synced = wal_->Sync(sync_lsn);
  mu_.Lock();
  return synced;
}

absl::Status DeliveryEngine::Recover(const Wal::Options& options, WalReplayStats* stats) {
  absl::MutexLock lock(&mu_);
  auto wal = Wal::Open(
      options,
      [this](WalType type, std::string_view payload, uint64_t lsn)
          ABSL_NO_THREAD_SAFETY_ANALYSIS { ReplayFrame(type, payload, lsn); },
      stats);
  if (!wal.ok()) return wal.status();
  wal_ = *std::move(wal);
  // Objects sealed but not known to be stored go up again; If-None-Match makes a second
  // store of one that did land a no-op.
  // The kSeal frame carries no time: a replayed object's budget runs from now.
  const int64_t replay_ms = clock_.NowMillis();
  for (auto& [key, obj] : replayed_) {
    obj->seal_ms = replay_ms;
    stats_.in_flight_bytes += static_cast<int64_t>(obj->data.size());
    stats_.recovered_objects += 1;
    queue_.push_back(std::move(obj));
  }
  replayed_.clear();
  work_cv_.SignalAll();
  // Rebuilt buffers keep their place in the old segments until they are stored.
  ReleaseWalLocked();
  Log(LogLevel::kInfo, "wal.recovered",
      {{"records", StrCat(stats_.recovered_records)},
       {"objects_requeued", StrCat(stats_.recovered_objects)},
       {"open_buffers", StrCat(buffers_.size())}});
  return absl::OkStatus();
}

void DeliveryEngine::ReplayFrame(WalType type, std::string_view payload, uint64_t lsn) {
  switch (type) {
    case WalType::kAccept: {
      WalAccept a;
      if (!DecodeWalAccept(payload, &a)) break;
      const PipelineSpec* spec = config_.FindPipeline(a.pipeline);
      if (spec == nullptr) {
        Log(LogLevel::kError, "wal.unknown_pipeline",
            {{"pipeline", a.pipeline}, {"records_not_recovered", StrCat(a.lines.size())}});
        return;
      }
      for (const auto& [prefix, line] : a.lines) {
        const BufferKey key{spec, std::string(prefix)};
        auto [it, inserted] = buffers_.try_emplace(key);
        Buffer& b = it->second;
        if (inserted) {
          b.spec = spec;
          b.prefix = std::string(prefix);
          b.stats.oldest_ms = a.accept_ms;
          b.first_segment = Wal::SegmentOf(lsn);
          ++stats_.active_partitions;
        }
        b.data.append(line);
        b.stats.bytes += static_cast<int64_t>(line.size());
        b.stats.records += 1;
        stats_.buffered_bytes += static_cast<int64_t>(line.size());
        stats_.buffered_records += 1;
        stats_.recovered_records += 1;
      }
      return;
    }
    case WalType::kSeal: {
      WalSeal seal;
      if (!DecodeWalSeal(payload, &seal)) break;
      const PipelineSpec* spec = config_.FindPipeline(seal.pipeline);
      auto it = spec ? buffers_.find(BufferKey{spec, std::string(seal.prefix)}) : buffers_.end();
      if (it == buffers_.end()) {
        // Its records were in segments already released: the object was stored.
        Log(LogLevel::kDebug, "wal.seal_without_buffer", {{"key", seal.key}});
        return;
      }
      Buffer& b = it->second;
      // A seal can happen in the middle of a request whose lines were all logged before
      // it: the object is the buffer's first `records` lines, the rest stay buffered.
      // Fewer lines than the seal counted: the object's first lines were in segments
      // already released (it was stored); its kStored frame follows.
      const int64_t take = std::max<int64_t>(0, b.stats.records - seal.trailing);
      if (take != seal.records)
        Log(LogLevel::kDebug, "wal.seal_partial_replay",
            {{"key", seal.key}, {"logged", StrCat(seal.records)}, {"replayed", StrCat(take)}});
      size_t end = 0;
      int64_t taken = 0;
      while (taken < take && end < b.data.size()) {
        const size_t nl = b.data.find('\n', end);
        end = nl == std::string::npos ? b.data.size() : nl + 1;
        ++taken;
      }
      auto obj = std::make_unique<Sealed>();
      obj->spec = spec;
      obj->key = std::string(seal.key);
      obj->data = b.data.substr(0, end);
      obj->records = taken;
      obj->oldest_ms = b.stats.oldest_ms;
      obj->seal_lsn = lsn;
      obj->first_segment = b.first_segment;
      stats_.buffered_bytes -= static_cast<int64_t>(end);
      stats_.buffered_records -= taken;
      b.data.erase(0, end);
      b.stats.bytes -= static_cast<int64_t>(end);
      b.stats.records -= taken;
      if (b.stats.records == 0) {
        stats_.active_partitions -= 1;
        buffers_.erase(it);
      }
      replayed_[obj->key] = std::move(obj);
      return;
    }
    case WalType::kStored:
    case WalType::kDeadLettered: {
      std::string_view key;
      if (!DecodeWalKey(payload, &key)) break;
      replayed_.erase(std::string(key));
      return;
    }
  }
  Log(LogLevel::kError, "wal.undecodable_frame", {{"lsn", StrCat(lsn)}});
}

void DeliveryEngine::ReleaseWalLocked() {
  // Once shut down, the objects Shutdown dropped (queued, or waiting for a commit) are no
  // longer in the sets below but still need their segments: an upload or commit that
  // ends after it must not release them.
  if (!wal_ || shut_down_) return;
  uint64_t oldest = wal_->current_segment();
  for (const auto& [k, b] : buffers_) oldest = std::min(oldest, b.first_segment);
  for (const auto& obj : queue_) oldest = std::min(oldest, obj->first_segment);
  for (const Sealed* obj : uploading_) oldest = std::min(oldest, obj->first_segment);
  for (const auto& obj : retry_) oldest = std::min(oldest, obj->first_segment);
  for (const auto& obj : committing_) oldest = std::min(oldest, obj->first_segment);
  for (const Sealed* obj : in_commit_) oldest = std::min(oldest, obj->first_segment);
  // Deletes what is no longer needed, except segments replay found damaged: those are
  // moved aside (service/wal/wal.h), never deleted by the engine.
  wal_->ReleaseBefore(oldest);
  stats_.wal_bytes = wal_->disk_bytes();
}

std::optional<uint64_t> DeliveryEngine::SealLocked(const BufferKey& key, FlushReason reason,
                                                   int64_t trailing, absl::Status* refusal) {
  auto it = buffers_.find(key);
  if (it == buffers_.end()) return uint64_t{0};
  Buffer& b = it->second;
  auto sealed = std::make_unique<Sealed>();
  sealed->spec = b.spec;
  sealed->key = ObjectKey(b.prefix, b.spec->name, options_.writer_id, next_sequence_++,
                          ObjectExtensionFor(b.spec->destination, b.data));
  if (wal_) {
    // The WAL names the object before it exists, so a crash after the upload rebuilds
    // the same object under the same key.
    wal_payload_.clear();
    EncodeWalSeal({b.spec->name, b.prefix, sealed->key, b.stats.records, trailing}, &wal_payload_);
    absl::StatusOr<uint64_t> lsn = wal_->Append(WalType::kSeal, wal_payload_);
    if (!lsn.ok()) {
      NoteSealRefusedLocked(b, lsn.status());
      if (refusal != nullptr) *refusal = lsn.status();
      return std::nullopt;
    }
    sealed->seal_lsn = *lsn;
  }
  if (b.seal_refusals > 0) {
    Log(LogLevel::kInfo, "delivery.seal_logged",
        {{"pipeline", b.spec->name},
         {"prefix", b.prefix},
         {"key", sealed->key},
         {"refusals_before", StrCat(b.seal_refusals)}});
    // The last buffer waiting: a later streak of refusals starts its own summaries.
    if (--buffers_seal_refused_ == 0) seal_refusal_log_.Take();
  }
  sealed->first_segment = b.first_segment;
  sealed->oldest_ms = b.stats.oldest_ms;
  sealed->seal_ms = clock_.NowMillis();
  sealed->data = std::move(b.data);
  sealed->records = b.stats.records;
  stats_.buffered_bytes -= b.stats.bytes;
  stats_.buffered_records -= b.stats.records;
  stats_.in_flight_bytes += b.stats.bytes;
  stats_.active_partitions -= 1;
  stats_.seals_by_reason[static_cast<int>(reason)] += 1;
  if (prometheus::Counter* c = MetricsFor(b.spec).flushes[static_cast<int>(reason)]) c->Increment();
  buffers_.erase(it);
  const uint64_t lsn = sealed->seal_lsn;
  queue_.push_back(std::move(sealed));
  work_cv_.Signal();
  return lsn;
}

void DeliveryEngine::NoteSealRefusedLocked(Buffer& b, const absl::Status& error) {
  stats_.seal_refusals += 1;
  // The buffer's first refusal in full; the ticker and every Flush try again, so the
  // repeats (one per open buffer per tick while the disk is full) are counted into a
  // summary line at most every kSealRefusalSummaryMs.
  if (b.seal_refusals++ == 0) {
    ++buffers_seal_refused_;
    Log(LogLevel::kWarn, "delivery.seal_not_logged",
        {{"pipeline", b.spec->name},
         {"prefix", b.prefix},
         {"records", StrCat(b.stats.records)},
         {"error", StatusMessage(error)},
         {"then",
          "the buffer stays open and is sealed again at the next tick or flush; "
          "further refusals are counted in delivery.seals_not_logged"}});
    return;
  }
  if (const int64_t n = seal_refusal_log_.Count(clock_.NowMillis()); n > 0)
    Log(LogLevel::kWarn, "delivery.seals_not_logged",
        {{"refusals", StrCat(n)},
         {"buffers_waiting", StrCat(buffers_seal_refused_)},
         {"error", StatusMessage(error)}});
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
    // Never store an object the log does not yet name (a crash would re-seal differently).
    absl::Status status = wal_ ? wal_->Sync(obj->seal_lsn) : absl::OkStatus();
    // The destination is down and the DLQ takes the object as it is: do not spend CPU
    // compressing it only to be refused. Parquet objects are
    // still encoded: that is where records the writer cannot store are split off (the
    // DLQ's retry worker stores the rest whole).
    TableWriter* const table = TableOf(*obj);
    if (status.ok() && options_.dead_letter && dest.format == "jsonl" && sink.DestinationDown())
      status = DestinationDownError(
          StrCat("destination of ", obj->spec->name, " is down (circuit open): not sent"));
    // Compressed JSONL or Parquet. With a DLQ, a record the Parquet writer cannot store
    // is left out and goes to the DLQ alone, before the object (so it is never lost).
    RejectedRecords rejected;
    // A table's object becomes data files (its writer may commit a schema change first).
    std::optional<TableObject> table_object;
    absl::StatusOr<std::string> body = std::string();
    if (status.ok() && table != nullptr) {
      absl::StatusOr<TableObject> encoded =
          table->Encode(obj->key, obj->data, options_.dead_letter ? &rejected : nullptr);
      if (encoded.ok())
        table_object = *std::move(encoded);
      else
        status = encoded.status();
    } else if (status.ok()) {
      body = EncodeObject(dest, obj->key, obj->data, options_.dead_letter ? &rejected : nullptr);
      status = body.status();
    }
    if (status.ok() && rejected.records > 0 && !obj->rejects_dead_lettered) {
      const std::string rejected_key = RejectedRecordsKey(obj->key);
      status = options_.dead_letter({.pipeline = obj->spec->name,
                                     .key = rejected_key,
                                     .body = rejected.lines,
                                     .records = rejected.records,
                                     .attempts = 1,
                                     .first_error = rejected.reason,
                                     .last_error = rejected.reason});
      if (status.ok()) {
        obj->rejects_dead_lettered = true;
        Log(LogLevel::kWarn, "delivery.records_rejected",
            {{"pipeline", obj->spec->name},
             {"key", obj->key},
             {"dead_letter_key", rejected_key},
             {"records", StrCat(rejected.records)},
             {"error", rejected.reason}});
        absl::MutexLock lock(&mu_);
        stats_.rejected_records += rejected.records;
      }
    }
    // Every record was left out: nothing to store.
    const bool empty = status.ok() && rejected.records == obj->records && obj->records > 0;
    bool already = false;
    const std::optional<int64_t> deadline_ms = DeadlineMs(*obj);
    int spent = 0;  // failures of the object's budget this store spent
    if (status.ok() && !empty) {
      ObjectMeta meta;
      meta.content_encoding = std::string(ContentEncoding(dest.compression));
      meta.if_none_match = true;
      if (deadline_ms) meta.deadline = absl::FromUnixMillis(*deadline_ms);
      // The failures left (obj is this thread's alone while it uploads). Without a DLQ there
      // is no end to reach: once the budget is spent each store may spend one, and the
      // engine's delays (capped at retry max) space them.
      meta.failures_before = obj->failures;
      meta.max_failures = std::max(1, dest.max_attempts - obj->failures);
      meta.failures_spent = &spent;
      if (table_object) {
        status = StoreTableFiles(sink, *table_object, meta);
      } else {
        status = sink.Put(obj->key, *body, meta);
        if (status.code() == absl::StatusCode::kAlreadyExists) {
          already = true;  // an earlier attempt (before a crash, or a lost answer) landed
          status = absl::OkStatus();
        }
      }
    }
    // A table's stored files wait for their commit; the object is done (kStored) then.
    const bool to_commit = status.ok() && !empty && table_object.has_value();
    if (status.ok() && wal_ && !to_commit) {
      std::string payload;
      EncodeWalKey(obj->key, &payload);
      (void)wal_->Append(WalType::kStored, payload);  // if lost, replay re-stores: a no-op
    }
    const int64_t now_ms = clock_.NowMillis();
    // A failed store spends at least one failure (also one that failed before the sink, or
    // that the breaker refused), so every object reaches its end.
    if (!status.ok()) obj->failures += std::max(1, spent);
    bool dead_lettered = false;
    // Why the object's end came, when it did (the log's reason).
    std::string_view end_reason;
    if (!status.ok() && options_.dead_letter) {
      if (obj->first_failure_ms == 0) {
        obj->first_failure_ms = now_ms;
        obj->first_error = std::string(StatusMessage(status));
      }
      // The destination is down (its breaker refused the store): waiting in memory would
      // only fill the budget. Or the object's failures are spent, or its deadline passed
      // (now - seal_ms >= the budget).
      if (IsDestinationDown(status)) {
        end_reason = kEndDestinationDown;
      } else if (obj->failures >= dest.max_attempts) {
        end_reason = "failures_spent";
      } else if (deadline_ms && now_ms >= *deadline_ms) {
        end_reason = "deadline";
      }
      if (!end_reason.empty()) {
        // Records already dead-lettered alone are not dead-lettered again with the object
        // (they would reach the lake twice, and the object's entry could never be encoded).
        const bool without_rejects = obj->rejects_dead_lettered && rejected.records > 0;
        const absl::Status dl = options_.dead_letter(
            {.pipeline = obj->spec->name,
             .key = obj->key,
             .body = without_rejects ? std::string_view(rejected.kept_lines)
                                     : std::string_view(obj->data),
             .records = obj->records - (without_rejects ? rejected.records : 0),
             .attempts = obj->attempts + 1,
             .first_error = obj->first_error,
             .last_error = StatusMessage(status)});
        if (dl.ok() && wal_) {
          std::string payload;
          EncodeWalKey(obj->key, &payload);
          (void)wal_->Append(WalType::kDeadLettered, payload);
        }
        dead_lettered = dl.ok();
        // A Flush told of it says why it is still here (a full disk, typically).
        if (!dl.ok()) {
          absl::Status told(status.code(),
                            StrCat(StatusMessage(status),
                                   "; the dead-letter queue refused it: ", StatusMessage(dl)));
          status.ForEachPayload(
              [&](auto url, const absl::Cord& payload) { told.SetPayload(url, payload); });
          status = std::move(told);
        }
      }
    }
    std::vector<std::shared_ptr<Ticket>> finished;
    {
      absl::MutexLock lock(&mu_);
      uploading_.erase(obj.get());
      obj->attempts += 1;
      if (dead_lettered) {
        if (end_reason == kEndDestinationDown) stats_.dead_lettered_destination_down += 1;
        DeadLetteredLocked(*obj, end_reason, status, &finished);
        ReleaseWalLocked();
      } else if (to_commit) {
        // The JSON Lines and the files' bytes are no longer needed: the committer needs
        // only the files' descriptions (and the WAL still holds the records).
        stats_.in_flight_bytes -= static_cast<int64_t>(obj->data.size());
        std::string().swap(obj->data);
        for (TableObject::File& f : table_object->files) std::string().swap(f.bytes);
        obj->table = std::move(table_object);
        obj->stored_ms = now_ms;
        stats_.in_flight_bytes += obj->table->held_bytes;  // until committed
        committing_.push_back(std::move(obj));
        commit_cv_.Signal();
      } else if (status.ok()) {
        if (already) stats_.already_stored += 1;
        StoredObject stored{obj->spec->name, obj->key, sink.Uri(obj->key),
                            obj->records - rejected.records, static_cast<int64_t>(body->size())};
        stats_.in_flight_bytes -= static_cast<int64_t>(obj->data.size());
        stats_.objects_stored += 1;
        if (!already && !empty) {  // a 412 was written by an earlier attempt (or process)
          const PipelineMetrics& m = MetricsFor(obj->spec);
          m.objects_written->Increment();
          m.bytes_out->Increment(static_cast<double>(body->size()));
          m.object_bytes->Observe(static_cast<double>(body->size()));
        }
        for (auto& t : obj->tickets) {
          if (!empty) t->objects.push_back(stored);
          if (--t->pending == 0) finished.push_back(t);
        }
        obj.reset();
        ReleaseWalLocked();
      } else {
        stats_.store_failures += 1;
        MetricsFor(obj->spec).delivery_retries->Increment();
        Log(LogLevel::kWarn, "delivery.store_failed",
            {{"pipeline", obj->spec->name},
             {"key", obj->key},
             {"failures", StrCat(obj->failures)},
             {"error", StatusMessage(status)}});
        // With a dead-letter queue the object's end is bounded (stored, or dead-lettered
        // once its failures are spent or its deadline passed), so a Flush waiting for it
        // keeps waiting; at its end (the hand-off failed) or without a DLQ (retried
        // forever) it is told now.
        const bool flush_waits = options_.dead_letter && end_reason.empty();
        if (!flush_waits) {
          for (auto& t : obj->tickets) {
            if (t->failed++ == 0) t->first_error = status;
            if (--t->pending == 0) finished.push_back(t);
          }
          obj->tickets.clear();
        }
        // The policy's next delay, on from the object's failures as the sink's in-call
        // retries would have gone on (BackoffDelayMs caps it at destination.retry's max).
        const BackoffPolicy policy{.base_delay_ms = dest.retry_base_delay_ms,
                                   .max_delay_ms = dest.retry_max_delay_ms};
        obj->next_attempt_ms = now_ms + BackoffDelayMs(policy, obj->failures - 1, uniform01_());
        // A retry due after the deadline comes at it, so the object is handed to the DLQ
        // then (a Put that stopped short of the deadline leaves a little of it unused).
        // Past the deadline (the hand-off failed), the backoff applies as it is.
        if (deadline_ms && *deadline_ms > now_ms)
          obj->next_attempt_ms = std::min(obj->next_attempt_ms, *deadline_ms);
        retry_.push_back(std::move(obj));
      }
      idle_cv_.SignalAll();
    }
    Complete(std::move(finished));
  }
}

TableWriter* DeliveryEngine::TableOf(const Sealed& obj) const {
  if (options_.tables.empty()) return nullptr;
  auto it = options_.tables.find(obj.spec->name);
  if (it == options_.tables.end()) return nullptr;
  constexpr std::string_view kParquet = ".parquet";
  const std::string_view key = obj.key;
  // Error documents (the error prefix's JSON Lines) are objects of their own.
  if (key.size() < kParquet.size() || key.substr(key.size() - kParquet.size()) != kParquet)
    return nullptr;
  return it->second;
}

absl::Status DeliveryEngine::StoreTableFiles(ObjectSink& sink, const TableObject& t,
                                             ObjectMeta meta) {
  meta.content_type = "application/vnd.apache.parquet";
  meta.content_encoding.clear();
  meta.if_none_match = true;
  for (const TableObject::File& f : t.files) {
    absl::Status st = sink.Put(f.key, f.bytes, meta);
    // An earlier attempt (before a crash, or a lost answer) stored it: the same bytes,
    // since encoding is deterministic.
    if (absl::IsAlreadyExists(st)) continue;
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

bool DeliveryEngine::FlushObjectsInFlightLocked(const PipelineSpec* spec) const {
  for (const auto& q : queue_)
    if (q->spec == spec && !q->tickets.empty()) return true;
  for (const Sealed* u : uploading_)
    if (u->spec == spec && !u->tickets.empty()) return true;
  return false;
}

void DeliveryEngine::CommitLoop() {
  mu_.Lock();
  for (;;) {
    if (shut_down_ && in_commit_.empty()) break;
    // The first pipeline with an object due: its oldest stored object has waited the
    // commit interval, a Flush waits for one, or the engine is stopping. A Flush's objects
    // are committed together once none of them is still being stored (queued or
    // uploading; not one that failed and waits for a retry), or after kFlushCommitWaitMs:
    // one snapshot per Flush rather than one per object as the upload threads store them.
    const int64_t now = clock_.NowMillis();
    const PipelineSpec* due = nullptr;
    for (const auto& obj : committing_) {
      auto b = commit_backoff_.find(obj->spec);
      if (b != commit_backoff_.end() && now < b->second.second && !stopping_) continue;
      const double interval_ms = obj->spec->destination.iceberg
                                     ? obj->spec->destination.iceberg->commit_interval_s * 1000
                                     : 0;
      const bool flush_due = !obj->tickets.empty() && (now - obj->stored_ms >= kFlushCommitWaitMs ||
                                                       !FlushObjectsInFlightLocked(obj->spec));
      if (stopping_ || flush_due || static_cast<double>(now - obj->stored_ms) >= interval_ms) {
        due = obj->spec;
        break;
      }
    }
    if (due == nullptr || shut_down_) {
      // Polled as well: the commit interval runs on the Clock, which nothing signals.
      commit_cv_.WaitWithTimeout(&mu_, absl::Milliseconds(100));
      continue;
    }
    std::vector<std::unique_ptr<Sealed>> batch;
    // One commit takes at most max_commit_records (at least one object); the rest stay
    // due and go in the next commit, at once.
    const int64_t max_records =
        due->destination.iceberg ? due->destination.iceberg->max_commit_records : INT64_MAX;
    int64_t batch_records = 0;
    for (auto it = committing_.begin(); it != committing_.end();) {
      if ((*it)->spec == due && (batch.empty() || batch_records + (*it)->records <= max_records)) {
        batch_records += (*it)->records;
        in_commit_.insert(it->get());
        batch.push_back(std::move(*it));
        it = committing_.erase(it);
      } else {
        ++it;
      }
    }
    TableWriter* table = options_.tables.at(due->name);
    std::vector<const TableObject*> objects;
    for (const auto& obj : batch) objects.push_back(&*obj->table);
    mu_.Unlock();
    const absl::Status status = table->Commit(objects);
    if (status.ok() && wal_) {
      std::string payload;
      for (const auto& obj : batch) {
        payload.clear();
        EncodeWalKey(obj->key, &payload);
        (void)wal_->Append(WalType::kStored, payload);  // if lost, replay finds it committed
      }
    }
    std::vector<std::shared_ptr<Ticket>> finished;
    mu_.Lock();
    for (const auto& obj : batch) in_commit_.erase(obj.get());
    if (status.ok()) {
      commit_backoff_.erase(due);
      const PipelineMetrics& m = MetricsFor(due);
      for (auto& obj : batch) {
        stats_.objects_stored += 1;
        stats_.in_flight_bytes -= obj->table->held_bytes;
        for (const TableObject::File& f : obj->table->files) {
          m.objects_written->Increment();
          m.bytes_out->Increment(static_cast<double>(f.size));
          m.object_bytes->Observe(static_cast<double>(f.size));
          for (auto& t : obj->tickets)
            t->objects.push_back(
                {due->name, f.key, sinks_.at(due->name)->Uri(f.key), f.records, f.size});
        }
        for (auto& t : obj->tickets)
          if (--t->pending == 0) finished.push_back(t);
      }
      ReleaseWalLocked();
    } else {
      auto& [failures, next_ms] = commit_backoff_[due];
      failures += 1;
      const BackoffPolicy policy{.base_delay_ms = 1000, .max_delay_ms = 60000};
      next_ms = clock_.NowMillis() + BackoffDelayMs(policy, failures - 1, uniform01_());
      Log(LogLevel::kWarn, "iceberg.commit_failed",
          {{"pipeline", due->name},
           {"objects", StrCat(batch.size())},
           {"failures", StrCat(failures)},
           {"retry_in_ms", StrCat(next_ms - clock_.NowMillis())},
           {"error", StatusMessage(status)}});
      // A Flush waiting for these is told now; they stay and are committed later.
      for (auto& obj : batch) {
        for (auto& t : obj->tickets) {
          if (t->failed++ == 0) t->first_error = status;
          if (--t->pending == 0) finished.push_back(t);
        }
        obj->tickets.clear();
        if (!shut_down_) committing_.push_back(std::move(obj));
      }
    }
    idle_cv_.SignalAll();
    mu_.Unlock();
    Complete(std::move(finished));
    mu_.Lock();
  }
  mu_.Unlock();
}

void DeliveryEngine::DeadLetteredLocked(const Sealed& obj, std::string_view reason,
                                        const absl::Status& why,
                                        std::vector<std::shared_ptr<Ticket>>* finished) {
  stats_.in_flight_bytes -= static_cast<int64_t>(obj.data.size());
  stats_.dead_lettered += 1;
  Log(LogLevel::kWarn, "delivery.dead_lettered",
      {{"pipeline", obj.spec->name},
       {"key", obj.key},
       {"attempts", StrCat(obj.attempts)},
       {"failures", StrCat(obj.failures)},
       {"reason", reason}});
  for (auto& t : obj.tickets) {
    if (t->failed++ == 0) t->first_error = why;
    t->dead_lettered += 1;
    if (--t->pending == 0) finished->push_back(t);
  }
}

void DeliveryEngine::SpillToDeadLetters(int64_t incoming) {
  std::vector<std::unique_ptr<Sealed>> spill;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    int64_t in_flight = stats_.in_flight_bytes;
    if (!OverBudget(stats_.buffered_bytes, in_flight, incoming, pressure_)) return;
    // Objects whose destination is failing (ObjectSink::DestinationFailing: a run of
    // throttles, 5xx or unanswered requests): first those that failed already (waiting
    // out a backoff), then queued ones, oldest first. Not for a destination that refuses
    // (403, a missing bucket: no breaker signal) or has no breaker (files): there the
    // budget pushes back on callers as before. JSON Lines only: a Parquet object is
    // encoded before it goes (records its writer refuses are split off then).
    auto spillable = [&](const Sealed& obj) {
      return obj.spec->destination.format != "parquet" && !obj.rejects_dead_lettered &&
             sinks_.at(obj.spec->name)->DestinationFailing();
    };
    auto take = [&](std::unique_ptr<Sealed> obj) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      in_flight -= static_cast<int64_t>(obj->data.size());
      // Counted as being handled by a thread, as an upload is: Flush waits for it, the
      // WAL keeps its segments, Shutdown waits for it.
      uploading_.insert(obj.get());
      spill.push_back(std::move(obj));
    };
    for (auto it = retry_.begin();
         it != retry_.end() && OverBudget(stats_.buffered_bytes, in_flight, incoming, pressure_);) {
      if (spillable(**it)) {
        take(std::move(*it));
        it = retry_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = queue_.begin();
         it != queue_.end() && OverBudget(stats_.buffered_bytes, in_flight, incoming, pressure_);) {
      if (spillable(**it)) {
        take(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (spill.empty()) return;
  // The hand-offs (one durable DLQ file each) without the engine's lock.
  std::vector<bool> handed(spill.size(), false);
  for (size_t i = 0; i < spill.size(); ++i) {
    Sealed& obj = *spill[i];
    if (wal_ && !wal_->Sync(obj.seal_lsn).ok()) continue;  // the log must name it first
    const std::string error = obj.first_error.empty()
                                  ? std::string(
                                        "the destination is failing and the buffer "
                                        "budget is spent: moved to the dead-letter queue")
                                  : obj.first_error;
    handed[i] = options_
                    .dead_letter({.pipeline = obj.spec->name,
                                  .key = obj.key,
                                  .body = obj.data,
                                  .records = obj.records,
                                  .attempts = obj.attempts,
                                  .first_error = error,
                                  .last_error = error})
                    .ok();
    if (handed[i] && wal_) {
      std::string payload;
      EncodeWalKey(obj.key, &payload);
      (void)wal_->Append(WalType::kDeadLettered, payload);
    }
  }
  std::vector<std::shared_ptr<Ticket>> finished;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < spill.size(); ++i) {
      std::unique_ptr<Sealed>& obj = spill[i];
      uploading_.erase(obj.get());
      if (!handed[i]) {  // the DLQ could not take it: back to the queue, as it was
        queue_.push_front(std::move(obj));
        work_cv_.Signal();
        continue;
      }
      stats_.dead_lettered_under_pressure += 1;
      DeadLetteredLocked(*obj, "buffer_budget",
                         absl::UnavailableError("moved to the dead-letter queue: its destination "
                                                "is failing and the buffer budget was spent"),
                         &finished);
    }
    ReleaseWalLocked();
    idle_cv_.SignalAll();
  }
  Complete(std::move(finished));
}

std::optional<int64_t> DeliveryEngine::DeadlineMs(const Sealed& obj) const {
  if (!options_.dead_letter) return std::nullopt;
  const int64_t budget_ms = absl::ToInt64Milliseconds(options_.retry_budget);
  // An infinite budget (saturated) is no deadline.
  if (budget_ms > std::numeric_limits<int64_t>::max() - obj.seal_ms) return std::nullopt;
  return obj.seal_ms + budget_ms;
}

void DeliveryEngine::TickLoop() {
  absl::MutexLock lock(&mu_);
  while (!shut_down_) {
    tick_cv_.WaitWithTimeout(&mu_, options_.tick);
    if (shut_down_) break;
    TickLocked();
  }
}

int DeliveryEngine::Tick() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return 0;  // no upload thread would take what it queued
  return TickLocked();
}

int DeliveryEngine::TickLocked() {
  const int64_t now = clock_.NowMillis();
  int queued = 0;
  std::vector<BufferKey> expired;
  for (const auto& [k, b] : buffers_) {
    const BufferLimits limits{
        static_cast<int64_t>(b.spec->destination.buffer_size_mb * 1024 * 1024),
        static_cast<int64_t>(b.spec->destination.buffer_interval_s * 1000)};
    if (OnTick(b.stats, limits, now) != FlushReason::kNone) expired.push_back(k);
  }
  for (const auto& k : expired)
    if (SealLocked(k, FlushReason::kAge)) ++queued;
  for (auto it = retry_.begin(); it != retry_.end();) {
    if ((*it)->next_attempt_ms <= now) {
      queue_.push_back(std::move(*it));
      it = retry_.erase(it);
      work_cv_.Signal();
      ++queued;
    } else {
      ++it;
    }
  }
  return queued;
}

void DeliveryEngine::FlushAsync(const std::string& pipeline, FlushCallback done) {
  auto ticket = std::make_shared<Ticket>();
  ticket->done = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      ticket->failed = 1;
      ticket->first_error = absl::UnavailableError("delivery is shut down");
    }
  }
  if (ticket->failed > 0) {
    Complete({ticket});
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    auto matches = [&](const PipelineSpec* spec) {
      return pipeline.empty() || spec->name == pipeline;
    };
    std::vector<BufferKey> keys;
    for (const auto& [k, b] : buffers_)
      if (matches(k.spec)) keys.push_back(k);
    for (const auto& k : keys) {
      absl::Status refusal;
      if (!SealLocked(k, FlushReason::kRequested, 0, &refusal) && ticket->unsealed++ == 0)
        ticket->seal_error = refusal;
    }
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
    // Stored table objects wait for their commit, which a ticket makes due now.
    for (auto& obj : committing_) {
      if (!matches(obj->spec)) continue;
      obj->tickets.push_back(ticket);
      ticket->pending += 1;
      commit_backoff_.erase(obj->spec);
    }
    for (Sealed* obj : in_commit_) {
      if (!matches(obj->spec)) continue;
      obj->tickets.push_back(ticket);
      ticket->pending += 1;
    }
    commit_cv_.SignalAll();
    if (ticket->pending > 0) return;
  }
  Complete({ticket});
}

void DeliveryEngine::Complete(std::vector<std::shared_ptr<Ticket>> done) {
  for (auto& t : done) {
    if (t->failed == 0 && t->unsealed == 0) {
      std::sort(t->objects.begin(), t->objects.end(),
                [](const StoredObject& a, const StoredObject& b) { return a.key < b.key; });
      t->done(std::move(t->objects));
      continue;
    }
    std::string message;
    // Buffers the WAL would not seal are not objects: they have no key yet, nothing was
    // tried, and they wait in memory (and in the WAL) for room to seal.
    if (t->unsealed > 0)
      message = StrCat(t->unsealed, " buffer(s) could not be sealed (the WAL refused: ",
                       StatusMessage(t->seal_error), "); they stay buffered");
    if (t->failed > 0) {
      const int queued = t->failed - t->dead_lettered;
      std::string where;
      if (t->dead_lettered > 0)
        where =
            StrCat(t->dead_lettered == t->failed ? "they are" : StrCat(t->dead_lettered, " are"),
                   " in the dead-letter queue, whose retry worker stores them");
      if (queued > 0)
        StrAppend(&where, where.empty() ? "" : "; ",
                  queued == t->failed ? "they stay" : StrCat(queued, " stay"),
                  " queued and are retried");
      StrAppend(&message, message.empty() ? "" : "; ", t->failed,
                " object(s) could not be stored yet (first error: ", StatusMessage(t->first_error),
                "); ", where);
    }
    // A seal the WAL refused is the disk's doing: RESOURCE_EXHAUSTED (retry once there is
    // room), and never "only dead-lettered" (those records are in no object yet).
    if (t->unsealed > 0) {
      t->done(absl::ResourceExhaustedError(message));
      continue;
    }
    absl::Status failed = absl::UnavailableError(message);
    if (t->failed == t->dead_lettered)
      failed.SetPayload(kOnlyDeadLetteredPayload, absl::Cord("dlq"));
    t->done(std::move(failed));
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
  absl::MutexLock once(&shutdown_mu_);
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
    // `grace` is real time granted to the uploads (what is left of the orchestrator's
    // termination grace period), not a time of the data, so it is measured on the
    // monotonic clock: not on clock_, which tests freeze (a grace on a frozen clock would
    // never end) and which may step, nor on absl::Now(), which NTP may step. Each wait is
    // at most kShutdownWaitSlice because this abseil's timed waits are wall-clock
    // deadlines underneath; re-reading the monotonic clock bounds the effect of a step.
    const auto start = std::chrono::steady_clock::now();
    commit_cv_.SignalAll();  // stopping_: every stored table object is due
    while (!queue_.empty() || !uploading_.empty() || !committing_.empty() || !in_commit_.empty()) {
      // absl::Duration saturates: an infinite grace stays infinite.
      const absl::Duration left =
          grace - absl::FromChrono(std::chrono::steady_clock::now() - start);
      if (left <= absl::ZeroDuration()) break;
      idle_cv_.WaitWithTimeout(&mu_, std::min(left, kShutdownWaitSlice));
    }
    if (!queue_.empty() || !uploading_.empty() || !committing_.empty() || !in_commit_.empty()) {
      int64_t records = 0;
      for (const auto& obj : queue_) records += obj->records;
      for (const Sealed* obj : uploading_) records += obj->records;
      for (const auto& obj : retry_) records += obj->records;
      for (const auto& obj : committing_) records += obj->records;
      for (const Sealed* obj : in_commit_) records += obj->records;
      Log(LogLevel::kWarn, "delivery.shutdown_incomplete",
          {{"objects_left",
            StrCat(queue_.size() + uploading_.size() + committing_.size() + in_commit_.size())},
           {"records_left", StrCat(records)}});
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
    // Stored table objects not committed stay in the WAL: the next start stores them
    // again ("exists") and commits them, unless a snapshot already holds them.
    for (auto& obj : committing_) {
      for (auto& t : obj->tickets) {
        if (t->failed++ == 0) t->first_error = gone;
        if (--t->pending == 0) abandoned.push_back(t);
      }
    }
    committing_.clear();
    work_cv_.SignalAll();
    tick_cv_.SignalAll();
    commit_cv_.SignalAll();
  }
  Complete(std::move(abandoned));
  for (auto& t : uploaders_) t.join();
  uploaders_.clear();
  if (ticker_.joinable()) ticker_.join();
  if (committer_.joinable()) committer_.join();
}

std::string DeliveryEngine::ObjectUri(const std::string& pipeline, const std::string& key) const {
  auto it = sinks_.find(pipeline);
  return it == sinks_.end() ? std::string() : it->second->Uri(key);
}

bool DeliveryEngine::FailedOnlyToDeadLetters(const absl::Status& status) {
  return absl::IsUnavailable(status) && status.GetPayload(kOnlyDeadLetteredPayload).has_value();
}

absl::Status DeliveryEngine::StoreObject(const std::string& pipeline, const std::string& key,
                                         std::string_view body, int64_t* stored_bytes) {
  auto it = sinks_.find(pipeline);
  const PipelineSpec* spec = config_.FindPipeline(pipeline);
  if (it == sinks_.end() || spec == nullptr)
    return absl::FailedPreconditionError(
        StrCat("pipeline \"", pipeline, "\" is not configured any more"));
  const DestinationSpec& dest = spec->destination;
  // A table's object (from the DLQ): its files, then a commit of its own; a snapshot of
  // this writer that holds it already (an earlier try) is not committed again.
  if (auto t = options_.tables.find(pipeline);
      t != options_.tables.end() && absl::EndsWith(key, ".parquet")) {
    absl::StatusOr<TableObject> encoded = t->second->Encode(key, body, nullptr);
    if (!encoded.ok()) return encoded.status();
    RETURN_IF_ERROR(StoreTableFiles(*it->second, *encoded, ObjectMeta{}));
    int64_t bytes = 0;
    for (const TableObject::File& f : encoded->files) bytes += f.size;
    if (stored_bytes != nullptr) *stored_bytes = bytes;
    return t->second->Commit({&*encoded});
  }
  absl::StatusOr<std::string> compressed = EncodeObject(dest, key, body);
  if (!compressed.ok()) return compressed.status();
  ObjectMeta meta;
  meta.content_encoding = std::string(ContentEncoding(dest.compression));
  meta.if_none_match = true;
  if (stored_bytes != nullptr) *stored_bytes = static_cast<int64_t>(compressed->size());
  absl::Status s = it->second->Put(key, *compressed, meta);
  if (s.code() == absl::StatusCode::kAlreadyExists) return absl::OkStatus();
  if (s.ok()) {
    const PipelineMetrics& m = MetricsFor(spec);
    m.objects_written->Increment();
    m.bytes_out->Increment(static_cast<double>(compressed->size()));
    m.object_bytes->Observe(static_cast<double>(compressed->size()));
  }
  return s;
}

void DeliveryEngine::RefreshMetrics() const {
  struct Sums {
    int64_t bytes = 0;
    int64_t records = 0;
    int64_t oldest_ms = 0;
  };
  absl::flat_hash_map<const PipelineSpec*, Sums> sums;
  for (const auto& p : config_.pipelines) sums[p.get()];
  int64_t now = clock_.NowMillis();
  int64_t active = 0, pending = 0, wal_bytes = 0;
  std::optional<int64_t> oldest_seal_ms;  // nullopt: nothing sealed in memory
  {
    absl::MutexLock lock(&mu_);
    auto oldest = [](Sums& s, int64_t ms) {
      if (ms > 0 && (s.oldest_ms == 0 || ms < s.oldest_ms)) s.oldest_ms = ms;
    };
    for (const auto& [k, b] : buffers_) {
      Sums& s = sums[k.spec];
      s.bytes += b.stats.bytes;
      s.records += b.stats.records;
      oldest(s, b.stats.oldest_ms);
    }
    // Sealed but not stored yet (uploading, queued, or waiting out a retry) is unflushed too.
    // The oldest seal among them: how long memory has held a sealed object (a down
    // destination's objects should leave for the DLQ within the retry budget).
    auto sealed = [&](const Sealed& obj) {
      oldest(sums[obj.spec], obj.oldest_ms);
      if (!oldest_seal_ms || obj.seal_ms < *oldest_seal_ms) oldest_seal_ms = obj.seal_ms;
    };
    for (const auto& obj : queue_) sealed(*obj);
    for (const Sealed* obj : uploading_) sealed(*obj);
    for (const auto& obj : retry_) sealed(*obj);
    for (const auto& obj : committing_) sealed(*obj);
    for (const Sealed* obj : in_commit_) sealed(*obj);
    active = stats_.active_partitions;
    pending = stats_.buffered_bytes + stats_.in_flight_bytes;
    wal_bytes = stats_.wal_bytes;
  }
  for (const auto& [spec, s] : sums) {
    const PipelineMetrics& m = MetricsFor(spec);
    m.buffered_bytes->Set(static_cast<double>(s.bytes));
    m.buffered_records->Set(static_cast<double>(s.records));
    m.oldest_unflushed_age->Set(
        s.oldest_ms == 0 ? 0.0
                         : static_cast<double>(std::max<int64_t>(0, now - s.oldest_ms)) / 1000.0);
  }
  metrics_->active_partitions().Set(static_cast<double>(active));
  metrics_->pending_bytes().Set(static_cast<double>(pending));
  metrics_->wal_bytes().Set(static_cast<double>(wal_bytes));
  metrics_->delivery_oldest_sealed_age().Set(
      oldest_seal_ms ? static_cast<double>(std::max<int64_t>(0, now - *oldest_seal_ms)) / 1000.0
                     : 0.0);
  if (wal_) {
    if (const int64_t free_bytes = wal_->FreeBytes(); free_bytes >= 0)
      metrics_->wal_disk_free_bytes().Set(static_cast<double>(free_bytes));
    metrics_->wal_segments_kept_aside().Set(static_cast<double>(wal_->KeptAsideSegments()));
  }
}

bool DeliveryEngine::IsBufferBudgetRefusal(const absl::Status& status) {
  return status.GetPayload(kBufferBudgetPayload).has_value();
}

DeliveryStats DeliveryEngine::Stats() const {
  absl::MutexLock lock(&mu_);
  DeliveryStats s = stats_;
  s.oldest_buffered_ms = 0;
  for (const auto& [k, b] : buffers_)
    if (s.oldest_buffered_ms == 0 || b.stats.oldest_ms < s.oldest_buffered_ms)
      s.oldest_buffered_ms = b.stats.oldest_ms;
  return s;
}

}  // namespace lakehose
