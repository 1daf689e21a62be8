// The on-disk DeadLetterQueue: the files and the index. What is in the files (ids, the
// metadata JSON, the checks on reading back) is core/dlq/dead_letter_format.h.
//
// Layout under `dir`:
//   LOCK                 flock'd while open: one process per queue
//   <id>.body            the entry's body, exactly as given
//   <id>.json            its metadata (DeadLetterMetadataJson), written after the body
//   *.tmp                a write in progress (removed at open)
// With no directory (NewInMemoryDeadLetterQueue) bodies are kept in memory instead and
// nothing touches the disk.
// An entry exists once its metadata file does. Every file is written to a temp name,
// fsync'd, renamed into place, and the directory fsync'd before the call returns. Remove
// unlinks the metadata first, so a crash leaves at worst a body without metadata, which
// the next open deletes (it was never acknowledged, or was already removed).
// Metadata that exists but cannot be read (torn, garbage), a missing body and a body
// that fails VerifyDeadLetterBody make a damaged entry (see the header): its files are
// left exactly as they are.
//
// Concurrency: `mu_` guards the in-memory index and is never held across I/O. `io_mu_`
// serializes metadata rewrites and removals, so that a RecordAttempt racing a Remove of
// the same entry cannot resurrect it. Adds write fresh ids and need no `io_mu_`.
#include "service/dlq/dead_letter_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "service/platform/durable_file.h"
#include "service/platform/free_space.h"
#include "service/platform/log.h"

namespace lakehose {
namespace {

constexpr std::string_view kMetaSuffix = ".json";
constexpr std::string_view kBodySuffix = ".body";
constexpr std::string_view kTmpSuffix = ".tmp";
// What an entry's metadata takes on disk, for the free-space check: a few hundred bytes
// to a few KiB (two errors of at most kDeadLetterMaxErrorBytes), in whole blocks.
constexpr int64_t kMetadataBlockBytes = 8 << 10;

// Writes `data` to `path` durably except for the directory entry: temp file, fsync,
// rename. The caller fsyncs the directory.
absl::Status WriteFileDurably(const std::string& path, std::string_view data) {
  const std::string tmp = StrCat(path, kTmpSuffix);
  if (absl::Status st = WriteSyncedFile(tmp, data); !st.ok()) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("rename", path, err);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return absl::NotFoundError(StrCat("dead-letter queue: ", path, " is missing"));
    return ErrnoStatus("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, err);
  }
  if (max_bytes >= 0 && st.st_size > max_bytes) {
    ::close(fd);
    return absl::DataLossError(
        StrCat(path, " is ", static_cast<int64_t>(st.st_size), " bytes, more than ", max_bytes));
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("read", path, err);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

// Why a damaged entry is refused (ReadBody, RecordAttempt, and so Redrive).
absl::Status DamagedError(const DeadLetter& e) {
  return absl::FailedPreconditionError(
      StrCat("dead letter ", e.id, " is damaged (", e.damage,
             "): it is kept and never delivered; repair its files and restart, or purge it by id"));
}

void LogDamaged(const DeadLetter& e) {
  Log(LogLevel::kError, "dlq.damaged_entry",
      {{"id", e.id},
       {"kind", DeadLetterKindName(e.kind)},
       {"pipeline", e.pipeline},
       {"key", e.key},
       {"records", StrCat(e.records)},
       {"reason", e.damage}});
}

// On disk under dir_, or in memory if dir_ is empty.
class DiskDeadLetterQueue final : public DeadLetterQueue {
 public:
  DiskDeadLetterQueue(std::string dir, const Clock& clock, int lock_fd, int64_t min_free_bytes)
      : dir_(std::move(dir)),
        clock_(clock),
        lock_fd_(lock_fd),
        min_free_bytes_(min_free_bytes),
        rng_(std::random_device{}()) {}
  ~DiskDeadLetterQueue() override {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  absl::Status Load();

  absl::StatusOr<DeadLetter> AddDelivery(const DeadLetteredObject& object) override {
    const int64_t now = clock_.NowMillis();
    DeadLetter e;
    e.id = NewId(DeadLetterKind::kDelivery);
    e.kind = DeadLetterKind::kDelivery;
    e.pipeline = CleanDeadLetterText(object.pipeline, SIZE_MAX);
    e.attempts = object.attempts;
    e.first_error = CleanDeadLetterText(object.first_error, kDeadLetterMaxErrorBytes);
    e.last_error =
        CleanDeadLetterText(object.last_error.empty() ? object.first_error : object.last_error,
                            kDeadLetterMaxErrorBytes);
    e.first_ms = now;  // the hand-off, not the first failure (see DeadLetter::first_ms)
    e.last_ms = now;
    e.next_attempt_ms = now;  // the retry worker takes it at its next pass
    e.key = CleanDeadLetterText(object.key, SIZE_MAX);
    e.records = object.records;
    e.bytes = static_cast<int64_t>(object.body.size());
    e.body_crc32 = DeadLetterBodyCrc32(object.body);
    // What every read of the entry will check: refused now rather than found damaged later.
    if (absl::Status body = VerifyDeadLetterBody(e, object.body); !body.ok())
      return absl::InvalidArgumentError(
          StrCat("dead-letter queue: object ", e.key, " not queued: ", StatusMessage(body)));
    RETURN_IF_ERROR(CheckRoom(static_cast<int64_t>(object.body.size())));
    RETURN_IF_ERROR(WriteEntry(e, object.body));
    RETURN_IF_ERROR(SyncDir());
    absl::MutexLock lock(&mu_);
    entries_[e.id] = e;
    if (!durable()) bodies_[e.id] = std::string(object.body);
    return e;
  }

  absl::StatusOr<std::vector<DeadLetter>> AddProcessing(
      const std::string& pipeline, const std::vector<FailedRecord>& records) override {
    const int64_t now = clock_.NowMillis();
    int64_t bytes = 0;
    for (const FailedRecord& r : records) bytes += static_cast<int64_t>(r.data.size());
    RETURN_IF_ERROR(CheckRoom(bytes, static_cast<int64_t>(records.size())));
    std::vector<DeadLetter> added;
    added.reserve(records.size());
    absl::Status status;
    for (const FailedRecord& r : records) {
      DeadLetter e;
      e.id = NewId(DeadLetterKind::kProcessing);
      e.kind = DeadLetterKind::kProcessing;
      e.pipeline = CleanDeadLetterText(pipeline, SIZE_MAX);
      e.attempts = 1;
      e.first_error = CleanDeadLetterText(r.error_message.empty() ? r.error_code : r.error_message,
                                          kDeadLetterMaxErrorBytes);
      e.last_error = e.first_error;
      e.first_ms = now;
      e.last_ms = now;
      e.bytes = static_cast<int64_t>(r.data.size());
      e.body_crc32 = DeadLetterBodyCrc32(r.data);
      e.record_id = CleanDeadLetterText(r.record_id, SIZE_MAX);
      e.arrival_ms = r.arrival_ms;
      e.error_code = CleanDeadLetterText(r.error_code, kDeadLetterMaxErrorCodeBytes);
      status = WriteEntry(e, r.data);
      if (!status.ok()) break;
      added.push_back(std::move(e));
    }
    if (status.ok() && !added.empty()) status = SyncDir();
    if (!status.ok()) {
      // All or none: take back what was written (its directory entries may or may not
      // be durable; either way none of it was acknowledged).
      for (const DeadLetter& e : added) UnlinkEntryFiles(e.id);
      return status;
    }
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < added.size(); ++i) {
      entries_[added[i].id] = added[i];
      if (!durable()) bodies_[added[i].id] = records[i].data;
    }
    return added;
  }

  std::vector<DeadLetter> List(const DeadLetterFilter& filter, const std::string& after_id,
                               size_t limit) const override {
    std::vector<DeadLetter> out;
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.upper_bound(after_id); it != entries_.end() && out.size() < limit;
         ++it) {
      const DeadLetter& e = it->second;
      if (!filter.pipeline.empty() && e.pipeline != filter.pipeline) continue;
      if (filter.kind.has_value() && e.kind != *filter.kind) continue;
      out.push_back(e);
    }
    return out;
  }

  std::optional<DeadLetter> Get(const std::string& id) const override {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  absl::StatusOr<std::string> ReadBody(const std::string& id) override {
    DeadLetter e;
    std::string body;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) return absl::NotFoundError(StrCat("no dead letter ", id));
      if (!it->second.damage.empty()) return DamagedError(it->second);
      e = it->second;
      if (!durable()) body = bodies_.at(id);
    }
    if (durable()) {
      auto read = ReadWholeFile(Path(id, kBodySuffix), -1);
      if (read.status().code() == absl::StatusCode::kNotFound)
        return MarkDamaged(id, "body file is missing");  // NOT_FOUND if removed meanwhile
      if (!read.ok()) return read.status();
      body = *std::move(read);
    }
    if (absl::Status v = VerifyDeadLetterBody(e, body); !v.ok())
      return MarkDamaged(id, StrCat("body: ", StatusMessage(v)));
    return body;
  }

  std::vector<DeadLetter> Due(int64_t now_ms) const override {
    return DuePage(now_ms, "", SIZE_MAX, {});
  }

  std::vector<DeadLetter> DuePage(int64_t now_ms, const std::string& after_id, size_t limit,
                                  const std::set<std::string>& skip_pipelines) const override {
    std::vector<DeadLetter> out;
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.upper_bound(after_id); it != entries_.end() && out.size() < limit;
         ++it) {
      const DeadLetter& e = it->second;
      if (e.kind == DeadLetterKind::kDelivery && !e.expired && e.damage.empty() &&
          e.next_attempt_ms <= now_ms && !skip_pipelines.contains(e.pipeline))
        out.push_back(e);
    }
    return out;
  }

  absl::Status RecordAttempt(const std::string& id, const std::string& error,
                             int64_t next_attempt_ms, bool expired) override {
    absl::MutexLock io(&io_mu_);
    DeadLetter e;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) return absl::NotFoundError(StrCat("no dead letter ", id));
      if (!it->second.damage.empty()) return DamagedError(it->second);
      e = it->second;
    }
    e.attempts += 1;
    e.last_error = CleanDeadLetterText(error, kDeadLetterMaxErrorBytes);
    if (e.first_error.empty()) e.first_error = e.last_error;
    e.last_ms = clock_.NowMillis();
    e.next_attempt_ms = next_attempt_ms;
    e.expired = expired;
    if (durable()) {
      RETURN_IF_ERROR(WriteFileDurably(Path(id, kMetaSuffix), DeadLetterMetadataJson(e)));
      RETURN_IF_ERROR(SyncDir());
    }
    absl::MutexLock lock(&mu_);
    entries_[id] = std::move(e);
    return absl::OkStatus();
  }

  absl::Status Remove(const std::string& id) override {
    absl::MutexLock io(&io_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (!entries_.count(id)) return absl::NotFoundError(StrCat("no dead letter ", id));
      if (!durable()) {
        entries_.erase(id);
        bodies_.erase(id);
        return absl::OkStatus();
      }
    }
    const std::string meta = Path(id, kMetaSuffix);
    if (::unlink(meta.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", meta, errno);
    {
      // Gone from the index as soon as its metadata is: a later failure must not leave
      // an entry listed whose files are half removed.
      absl::MutexLock lock(&mu_);
      entries_.erase(id);
    }
    const std::string body = Path(id, kBodySuffix);
    if (::unlink(body.c_str()) != 0 && errno != ENOENT)
      Log(LogLevel::kWarn, "dlq.body_unlink_failed", {{"path", body}, {"error", strerror(errno)}});
    return SyncDir();
  }

  Stats GetStats() const override {
    Stats s;
    absl::MutexLock lock(&mu_);
    for (const auto& [id, e] : entries_) {
      ++s.depth;
      if (e.kind == DeadLetterKind::kDelivery) {
        ++s.delivery;
        if (!e.expired && e.damage.empty()) s.delivery_backlog_bytes += e.bytes;
      } else {
        ++s.processing;
      }
      if (e.expired) ++s.expired;
      if (!e.damage.empty()) ++s.damaged;
      if (s.oldest_ms == 0 || e.first_ms < s.oldest_ms) s.oldest_ms = e.first_ms;
    }
    return s;
  }

 private:
  bool durable() const { return !dir_.empty(); }
  absl::Status SyncDir() const { return durable() ? FsyncDir(dir_) : absl::OkStatus(); }
  std::string Path(std::string_view id, std::string_view suffix) const {
    return StrCat(dir_, "/", id, suffix);
  }

  // A fresh id, greater than every id handed out or loaded before: the creation time in
  // ms and a suffix that starts at a random value each millisecond and counts up within
  // it, so ids sort by creation even within one millisecond. The kind letter sorts
  // before the suffix, so when it would break the order (a delivery entry after a
  // processing one in the same millisecond) the id takes the next millisecond.
  std::string NewId(DeadLetterKind kind) {
    absl::MutexLock lock(&mu_);
    const int64_t now = std::max<int64_t>(clock_.NowMillis(), 0);
    // The lambda runs under `lock`; the analysis cannot see that through a closure.
    auto fresh = [&](int64_t ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      last_id_ms_ = ms;
      last_suffix_ = static_cast<uint32_t>(rng_() & 0x7fffffffu);  // room to count up
      return FormatDeadLetterId({last_id_ms_, kind, last_suffix_});
    };
    std::string id;
    if (now > last_id_ms_) {
      id = fresh(now);
    } else if (last_suffix_ == UINT32_MAX) {
      id = fresh(last_id_ms_ + 1);
    } else {
      id = FormatDeadLetterId({last_id_ms_, kind, last_suffix_ + 1});
      if (id <= last_id_) {
        id = fresh(last_id_ms_ + 1);
      } else {
        ++last_suffix_;
      }
    }
    last_id_ = id;
    return id;
  }

  // RESOURCE_EXHAUSTED if `entries` entries holding `body_bytes` would leave less than
  // min_free_bytes_ free (room the WAL's progress frames need; see the header).
  absl::Status CheckRoom(int64_t body_bytes, int64_t entries = 1) const {
    if (!durable()) return absl::OkStatus();
    const absl::Status st =
        CheckFreeSpace(dir_, body_bytes + entries * kMetadataBlockBytes, min_free_bytes_);
    if (st.ok()) return st;
    return absl::ResourceExhaustedError(StrCat("dead-letter queue: not queued: ", StatusMessage(st),
                                               "; the space below that is kept for the WAL"));
  }

  // Body then metadata, each durable except for the directory entry.
  absl::Status WriteEntry(const DeadLetter& e, std::string_view body) {
    if (!durable()) return absl::OkStatus();
    RETURN_IF_ERROR(WriteFileDurably(Path(e.id, kBodySuffix), body));
    absl::Status s = WriteFileDurably(Path(e.id, kMetaSuffix), DeadLetterMetadataJson(e));
    if (!s.ok()) ::unlink(Path(e.id, kBodySuffix).c_str());
    return s;
  }

  // Marks the entry damaged (logging it the first time) and returns DamagedError; NOT_FOUND
  // if it was removed meanwhile.
  absl::Status MarkDamaged(const std::string& id, std::string reason) {
    DeadLetter e;
    bool first = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) return absl::NotFoundError(StrCat("no dead letter ", id));
      first = it->second.damage.empty();
      if (first) it->second.damage = std::move(reason);
      e = it->second;
    }
    if (first) LogDamaged(e);
    return DamagedError(e);
  }

  void UnlinkEntryFiles(const std::string& id) {
    if (!durable()) return;
    ::unlink(Path(id, kMetaSuffix).c_str());
    ::unlink(Path(id, kBodySuffix).c_str());
  }

  const std::string dir_;
  const Clock& clock_;
  const int lock_fd_;
  const int64_t min_free_bytes_;  // 0: no floor

  absl::Mutex io_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, DeadLetter> entries_ ABSL_GUARDED_BY(mu_);  // by id = creation order
  std::map<std::string, std::string> bodies_ ABSL_GUARDED_BY(mu_);  // in memory only
  int64_t last_id_ms_ ABSL_GUARDED_BY(mu_) = -1;
  uint32_t last_suffix_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_id_ ABSL_GUARDED_BY(mu_);  // the greatest id handed out or loaded
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

absl::Status DiskDeadLetterQueue::Load() {
  std::error_code ec;
  std::map<std::string, bool> bodies;  // id -> has metadata
  std::vector<std::string> metas;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::directory_entry& de = *it;
    const std::string name = de.path().filename().string();
    auto ends_with = [&](std::string_view suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with(kTmpSuffix)) {
      ::unlink(de.path().c_str());  // a write that never completed
    } else if (ends_with(kBodySuffix)) {
      bodies.emplace(name.substr(0, name.size() - kBodySuffix.size()), false);
    } else if (ends_with(kMetaSuffix)) {
      metas.push_back(name.substr(0, name.size() - kMetaSuffix.size()));
    }
  }
  if (ec) return ErrnoStatus("list", dir_, ec.value());

  std::map<std::string, DeadLetter> loaded;
  int skipped = 0, damaged = 0, without_checksum = 0;
  for (const std::string& id : metas) {
    const std::string path = Path(id, kMetaSuffix);
    const std::optional<DeadLetterId> parts = ParseDeadLetterId(id);
    if (!parts.has_value()) {  // not a file this queue wrote: left alone, not listed
      ++skipped;
      Log(LogLevel::kError, "dlq.entry_skipped",
          {{"path", path}, {"reason", "file name is not a dead-letter id"}});
      continue;
    }
    // Kept and listed, whatever is wrong with it.
    auto keep_damaged = [&](DeadLetter e, std::string reason) {
      ++damaged;
      e.damage = std::move(reason);
      LogDamaged(e);
      loaded.emplace(id, std::move(e));
    };
    auto body = bodies.find(id);
    if (body != bodies.end()) body->second = true;  // not an orphan, even if unreadable
    const absl::StatusOr<std::string> text = ReadWholeFile(path, kDeadLetterMaxMetadataBytes);
    absl::StatusOr<DeadLetter> e =
        text.ok() ? ParseDeadLetterEntry(id, *text) : absl::StatusOr<DeadLetter>(text.status());
    if (!e.ok()) {
      // What the id tells: kind and creation time.
      DeadLetter from_id;
      from_id.id = id;
      from_id.kind = parts->kind;
      from_id.first_ms = from_id.last_ms = parts->ms;
      keep_damaged(std::move(from_id), StrCat("metadata: ", StatusMessage(e.status())));
      continue;
    }
    if (body == bodies.end()) {
      keep_damaged(*std::move(e), "body file is missing");
      continue;
    }
    auto bytes = ReadWholeFile(Path(id, kBodySuffix), -1);
    const absl::Status verified = bytes.ok() ? VerifyDeadLetterBody(*e, *bytes) : bytes.status();
    if (!verified.ok()) {
      keep_damaged(*std::move(e), StrCat("body: ", StatusMessage(verified)));
      continue;
    }
    if (!e->body_crc32.has_value()) ++without_checksum;
    loaded.emplace(id, *std::move(e));
  }
  // A body without metadata: an Add that never completed or a Remove cut short (a copy:
  // the engine adds again from the WAL), but also a body whose metadata file was lost.
  // Not knowing which, it is moved to orphans/, never deleted: an operator removes it.
  int orphans = 0;
  const std::string orphan_dir = StrCat(dir_, "/orphans");
  for (const auto& [id, has_meta] : bodies) {
    if (has_meta) continue;
    if (orphans == 0) {
      std::filesystem::create_directories(orphan_dir, ec);
      if (ec) return ErrnoStatus("create", orphan_dir, ec.value());
    }
    const std::string from = Path(id, kBodySuffix);
    const std::string to = StrCat(orphan_dir, "/", id, kBodySuffix);
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
    Log(LogLevel::kWarn, "dlq.orphan_body_kept", {{"id", id}, {"path", to}});
    ++orphans;
  }
  if (orphans > 0) {
    RETURN_IF_ERROR(FsyncDir(orphan_dir));
    RETURN_IF_ERROR(FsyncDir(dir_));
  }

  absl::MutexLock lock(&mu_);
  entries_ = std::move(loaded);
  if (!entries_.empty()) {
    const std::string& last = entries_.rbegin()->first;
    const DeadLetterId parts = *ParseDeadLetterId(last);  // every loaded id parsed above
    last_id_ms_ = parts.ms;
    last_suffix_ = parts.suffix;
    last_id_ = last;
  }
  // without_checksum: entries written before bodies had a CRC-32, verified by size and
  // record count only.
  Log(skipped + damaged > 0 ? LogLevel::kWarn : LogLevel::kInfo, "dlq.opened",
      {{"dir", dir_},
       {"entries", StrCat(entries_.size())},
       {"damaged", StrCat(damaged)},
       {"without_checksum", StrCat(without_checksum)},
       {"skipped", StrCat(skipped)},
       {"orphan_bodies_kept", StrCat(orphans)}});
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<DeadLetterQueue> NewInMemoryDeadLetterQueue(const Clock& clock) {
  return std::make_unique<DiskDeadLetterQueue>("", clock, -1, 0);
}

absl::StatusOr<std::unique_ptr<DeadLetterQueue>> OpenDeadLetterQueue(const std::string& dir,
                                                                     const Clock& clock,
                                                                     int64_t min_free_bytes) {
  if (dir.empty()) return absl::InvalidArgumentError("dead-letter queue: no directory given");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus("create directory", dir, ec.value());
  const std::string lock_path = StrCat(dir, "/LOCK");
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open", lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return absl::FailedPreconditionError(StrCat("dead-letter queue ", dir,
                                                  " is in use by another lakehose process (",
                                                  lock_path, " is locked)"));
    return ErrnoStatus("lock", lock_path, err);
  }
  auto q = std::make_unique<DiskDeadLetterQueue>(dir, clock, fd, min_free_bytes);
  RETURN_IF_ERROR(q->Load());
  return std::unique_ptr<DeadLetterQueue>(std::move(q));
}

}  // namespace lakehose
