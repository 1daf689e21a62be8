// The on-disk DeadLetterQueue.
//
// Layout under `dir`:
//   LOCK                 flock'd while open: one process per queue
//   <id>.body            the entry's body, exactly as given
//   <id>.json            its metadata (JSON, see AppendMetadataJson), written after the body
//   *.tmp                a write in progress (removed at open)
// With no directory (NewInMemoryDeadLetterQueue) bodies are kept in memory instead and
// nothing touches the disk.
// An entry exists once its metadata file does. Every file is written to a temp name,
// fsync'd, renamed into place, and the directory fsync'd before the call returns. Remove
// unlinks the metadata first, so a crash leaves at worst a body without metadata, which
// the next open deletes (it was never acknowledged, or was already removed).
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
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "service/platform/durable_file.h"
#include "service/platform/log.h"
#include "simdjson.h"

namespace lakehose {
namespace {

constexpr std::string_view kMetaSuffix = ".json";
constexpr std::string_view kBodySuffix = ".body";
constexpr std::string_view kTmpSuffix = ".tmp";
// Metadata is small (errors are cut to kMaxErrorBytes); a bigger file is garbage.
constexpr int64_t kMaxMetadataBytes = 64 << 10;
// Errors can quote input; keep the metadata small and bounded.
constexpr size_t kMaxErrorBytes = 4096;
constexpr int kFormatVersion = 1;

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

// `s` as valid UTF-8 of at most `max_bytes`: invalid bytes become U+FFFD, and a cut
// never splits a character. Metadata is JSON, which holds only valid UTF-8.
std::string CleanText(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    std::string_view ch;
    if (len != 0 && i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
      ch = s.substr(i, len);
    } else {
      ch = "\xEF\xBF\xBD";
      len = 1;
    }
    if (out.size() + ch.size() > max_bytes) break;
    out.append(ch);
    i += len;
  }
  return out;
}

std::string_view KindName(DeadLetterKind k) {
  return k == DeadLetterKind::kDelivery ? "delivery" : "processing";
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(",\"").append(name).append("\":");
  AppendValidJsonString(value, out);  // callers pass CleanText'ed or known-valid text
}
void AppendField(std::string* out, std::string_view name, int64_t value) {
  StrAppend(out, ",\"", name, "\":", value);
}

std::string MetadataJson(const DeadLetter& e) {
  std::string out;
  StrAppend(&out, "{\"version\":", kFormatVersion);
  AppendField(&out, "id", e.id);
  AppendField(&out, "kind", KindName(e.kind));
  AppendField(&out, "pipeline", e.pipeline);
  AppendField(&out, "attempts", static_cast<int64_t>(e.attempts));
  AppendField(&out, "first_error", e.first_error);
  AppendField(&out, "last_error", e.last_error);
  AppendField(&out, "first_ms", e.first_ms);
  AppendField(&out, "last_ms", e.last_ms);
  AppendField(&out, "next_attempt_ms", e.next_attempt_ms);
  out.append(",\"expired\":").append(e.expired ? "true" : "false");
  AppendField(&out, "key", e.key);
  AppendField(&out, "records", e.records);
  AppendField(&out, "bytes", e.bytes);
  AppendField(&out, "record_id", e.record_id);
  AppendField(&out, "arrival_ms", e.arrival_ms);
  AppendField(&out, "error_code", e.error_code);
  out.append("}\n");
  return out;
}

absl::StatusOr<DeadLetter> ParseMetadata(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (auto err = parser.parse(text.data(), text.size()).get(o); err)
    return absl::DataLossError(
        StrCat("not a JSON object (", std::string_view(simdjson::error_message(err)), ")"));
  DeadLetter e;
  auto str = [&](const char* name, std::string* out) -> absl::Status {
    std::string_view v;
    if (o[name].get(v) != simdjson::SUCCESS)
      return absl::DataLossError(StrCat("field ", name, " missing or not a string"));
    out->assign(v);
    return absl::OkStatus();
  };
  auto num = [&](const char* name, int64_t* out) -> absl::Status {
    if (o[name].get(*out) != simdjson::SUCCESS)
      return absl::DataLossError(StrCat("field ", name, " missing or not an integer"));
    return absl::OkStatus();
  };
  int64_t version = 0, attempts = 0;
  std::string kind;
  RETURN_IF_ERROR(num("version", &version));
  if (version != kFormatVersion) return absl::DataLossError(StrCat("unknown version ", version));
  RETURN_IF_ERROR(str("id", &e.id));
  RETURN_IF_ERROR(str("kind", &kind));
  if (kind == "delivery") {
    e.kind = DeadLetterKind::kDelivery;
  } else if (kind == "processing") {
    e.kind = DeadLetterKind::kProcessing;
  } else {
    return absl::DataLossError(StrCat("unknown kind \"", kind, "\""));
  }
  RETURN_IF_ERROR(str("pipeline", &e.pipeline));
  RETURN_IF_ERROR(num("attempts", &attempts));
  e.attempts = static_cast<int>(std::clamp<int64_t>(attempts, 0, INT32_MAX));
  RETURN_IF_ERROR(str("first_error", &e.first_error));
  RETURN_IF_ERROR(str("last_error", &e.last_error));
  RETURN_IF_ERROR(num("first_ms", &e.first_ms));
  RETURN_IF_ERROR(num("last_ms", &e.last_ms));
  RETURN_IF_ERROR(num("next_attempt_ms", &e.next_attempt_ms));
  if (o["expired"].get(e.expired) != simdjson::SUCCESS)
    return absl::DataLossError("field expired missing or not a bool");
  RETURN_IF_ERROR(str("key", &e.key));
  RETURN_IF_ERROR(num("records", &e.records));
  RETURN_IF_ERROR(num("bytes", &e.bytes));
  RETURN_IF_ERROR(str("record_id", &e.record_id));
  RETURN_IF_ERROR(num("arrival_ms", &e.arrival_ms));
  RETURN_IF_ERROR(str("error_code", &e.error_code));
  return e;
}

// "<16-digit ms>-<d|p>-<8 hex>": 16 + 1 + 1 + 1 + 8 characters. Ids name files, so
// only this exact shape is accepted from disk.
bool IsWellFormedId(std::string_view id) {
  if (id.size() != 27 || id[16] != '-' || (id[17] != 'd' && id[17] != 'p') || id[18] != '-')
    return false;
  for (size_t i = 0; i < 16; ++i)
    if (id[i] < '0' || id[i] > '9') return false;
  for (size_t i = 19; i < 27; ++i)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
  return true;
}

std::string FormatId(int64_t ms, DeadLetterKind kind, uint32_t suffix) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016lld-%c-%08x", static_cast<long long>(ms),
                kind == DeadLetterKind::kDelivery ? 'd' : 'p', suffix);
  return buf;
}

// On disk under dir_, or in memory if dir_ is empty.
class DiskDeadLetterQueue final : public DeadLetterQueue {
 public:
  DiskDeadLetterQueue(std::string dir, const Clock& clock, int lock_fd)
      : dir_(std::move(dir)), clock_(clock), lock_fd_(lock_fd), rng_(std::random_device{}()) {}
  ~DiskDeadLetterQueue() override {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  absl::Status Load();

  absl::StatusOr<DeadLetter> AddDelivery(const std::string& pipeline, const std::string& key,
                                         const std::string& body, int64_t records, int attempts,
                                         const std::string& first_error,
                                         const std::string& last_error) override {
    const int64_t now = clock_.NowMillis();
    DeadLetter e;
    e.id = NewId(DeadLetterKind::kDelivery);
    e.kind = DeadLetterKind::kDelivery;
    e.pipeline = CleanText(pipeline, SIZE_MAX);
    e.attempts = attempts;
    e.first_error = CleanText(first_error, kMaxErrorBytes);
    e.last_error = CleanText(last_error.empty() ? first_error : last_error, kMaxErrorBytes);
    e.first_ms = now;
    e.last_ms = now;
    e.next_attempt_ms = now;  // the retry worker takes it at its next pass
    e.key = CleanText(key, SIZE_MAX);
    e.records = records;
    e.bytes = static_cast<int64_t>(body.size());
    RETURN_IF_ERROR(WriteEntry(e, body));
    RETURN_IF_ERROR(SyncDir());
    absl::MutexLock lock(&mu_);
    entries_[e.id] = e;
    if (!durable()) bodies_[e.id] = body;
    return e;
  }

  absl::StatusOr<std::vector<DeadLetter>> AddProcessing(
      const std::string& pipeline, const std::vector<FailedRecord>& records) override {
    const int64_t now = clock_.NowMillis();
    std::vector<DeadLetter> added;
    added.reserve(records.size());
    absl::Status status;
    for (const FailedRecord& r : records) {
      DeadLetter e;
      e.id = NewId(DeadLetterKind::kProcessing);
      e.kind = DeadLetterKind::kProcessing;
      e.pipeline = CleanText(pipeline, SIZE_MAX);
      e.attempts = 1;
      e.first_error =
          CleanText(r.error_message.empty() ? r.error_code : r.error_message, kMaxErrorBytes);
      e.last_error = e.first_error;
      e.first_ms = now;
      e.last_ms = now;
      e.bytes = static_cast<int64_t>(r.data.size());
      e.record_id = CleanText(r.record_id, SIZE_MAX);
      e.arrival_ms = r.arrival_ms;
      e.error_code = CleanText(r.error_code, 256);
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

  absl::StatusOr<std::string> ReadBody(const std::string& id) const override {
    {
      absl::MutexLock lock(&mu_);
      if (!entries_.count(id)) return absl::NotFoundError(StrCat("no dead letter ", id));
      if (!durable()) return bodies_.at(id);
    }
    return ReadWholeFile(Path(id, kBodySuffix), -1);
  }

  std::vector<DeadLetter> Due(int64_t now_ms) const override {
    std::vector<DeadLetter> out;
    absl::MutexLock lock(&mu_);
    for (const auto& [id, e] : entries_)
      if (e.kind == DeadLetterKind::kDelivery && !e.expired && e.next_attempt_ms <= now_ms)
        out.push_back(e);
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
      e = it->second;
    }
    e.attempts += 1;
    e.last_error = CleanText(error, kMaxErrorBytes);
    if (e.first_error.empty()) e.first_error = e.last_error;
    e.last_ms = clock_.NowMillis();
    e.next_attempt_ms = next_attempt_ms;
    e.expired = expired;
    if (durable()) {
      RETURN_IF_ERROR(WriteFileDurably(Path(id, kMetaSuffix), MetadataJson(e)));
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
      } else {
        ++s.processing;
      }
      if (e.expired) ++s.expired;
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
    auto fresh = [&](int64_t ms) {
      last_id_ms_ = ms;
      last_suffix_ = static_cast<uint32_t>(rng_() & 0x7fffffffu);  // room to count up
      return FormatId(last_id_ms_, kind, last_suffix_);
    };
    std::string id;
    if (now > last_id_ms_) {
      id = fresh(now);
    } else if (last_suffix_ == UINT32_MAX) {
      id = fresh(last_id_ms_ + 1);
    } else {
      id = FormatId(last_id_ms_, kind, last_suffix_ + 1);
      if (id <= last_id_) {
        id = fresh(last_id_ms_ + 1);
      } else {
        ++last_suffix_;
      }
    }
    last_id_ = id;
    return id;
  }

  // Body then metadata, each durable except for the directory entry.
  absl::Status WriteEntry(const DeadLetter& e, std::string_view body) {
    if (!durable()) return absl::OkStatus();
    RETURN_IF_ERROR(WriteFileDurably(Path(e.id, kBodySuffix), body));
    absl::Status s = WriteFileDurably(Path(e.id, kMetaSuffix), MetadataJson(e));
    if (!s.ok()) ::unlink(Path(e.id, kBodySuffix).c_str());
    return s;
  }

  void UnlinkEntryFiles(const std::string& id) {
    if (!durable()) return;
    ::unlink(Path(id, kMetaSuffix).c_str());
    ::unlink(Path(id, kBodySuffix).c_str());
  }

  const std::string dir_;
  const Clock& clock_;
  const int lock_fd_;

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
  int skipped = 0;
  for (const std::string& id : metas) {
    const std::string path = Path(id, kMetaSuffix);
    auto skip = [&](std::string_view reason) {
      ++skipped;
      Log(LogLevel::kError, "dlq.entry_skipped", {{"path", path}, {"reason", reason}});
    };
    if (!IsWellFormedId(id)) {
      skip("file name is not a dead-letter id");
      continue;
    }
    auto body = bodies.find(id);
    if (body != bodies.end()) body->second = true;  // not an orphan, even if unreadable
    auto text = ReadWholeFile(path, kMaxMetadataBytes);
    if (!text.ok()) {
      skip(StatusMessage(text.status()));
      continue;
    }
    auto e = ParseMetadata(*text);
    if (!e.ok()) {
      skip(StatusMessage(e.status()));
      continue;
    }
    if (e->id != id) {
      skip(StrCat("metadata names id ", e->id));
      continue;
    }
    if ((id[17] == 'd') != (e->kind == DeadLetterKind::kDelivery)) {
      skip("kind does not match the id");
      continue;
    }
    if (body == bodies.end()) {
      skip("body file is missing");
      continue;
    }
    loaded.emplace(id, *std::move(e));
  }
  // A body without metadata: an Add that never completed, or a Remove cut short.
  int orphans = 0;
  for (const auto& [id, has_meta] : bodies) {
    if (has_meta) continue;
    ::unlink(Path(id, kBodySuffix).c_str());
    ++orphans;
  }
  if (orphans > 0) RETURN_IF_ERROR(FsyncDir(dir_));

  absl::MutexLock lock(&mu_);
  entries_ = std::move(loaded);
  if (!entries_.empty()) {
    const std::string& last = entries_.rbegin()->first;
    last_id_ms_ = std::stoll(last.substr(0, 16));
    last_suffix_ = static_cast<uint32_t>(std::stoul(last.substr(19), nullptr, 16));
    last_id_ = last;
  }
  Log(skipped > 0 ? LogLevel::kWarn : LogLevel::kInfo, "dlq.opened",
      {{"dir", dir_},
       {"entries", StrCat(entries_.size())},
       {"skipped", StrCat(skipped)},
       {"orphan_bodies_removed", StrCat(orphans)}});
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<DeadLetterQueue> NewInMemoryDeadLetterQueue(const Clock& clock) {
  return std::make_unique<DiskDeadLetterQueue>("", clock, -1);
}

absl::StatusOr<std::unique_ptr<DeadLetterQueue>> OpenDeadLetterQueue(const std::string& dir,
                                                                     const Clock& clock) {
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
  auto q = std::make_unique<DiskDeadLetterQueue>(dir, clock, fd);
  RETURN_IF_ERROR(q->Load());
  return std::unique_ptr<DeadLetterQueue>(std::move(q));
}

}  // namespace lakehose
