#include "service/wal/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/base/strings.h"
#include "service/platform/durable_file.h"
#include "service/platform/log.h"

namespace lakehose {
namespace {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string Wal::SegmentPath(uint64_t number) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llu.wal", static_cast<unsigned long long>(number));
  return StrCat(options_.dir, "/", std::string_view(name));
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const Options& options, const Visitor& visitor,
                                               WalReplayStats* stats) {
  std::unique_ptr<Wal> wal(new Wal);
  wal->options_ = options;
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec)
    return absl::UnavailableError(StrCat("WAL: cannot create ", options.dir, ": ", ec.message()));

  std::vector<uint64_t> numbers;
  for (const auto& entry : std::filesystem::directory_iterator(options.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 20 && name.substr(16) == ".wal") {
      try {
        numbers.push_back(std::stoull(name.substr(0, 16)));
      } catch (...) {
      }
    }
  }
  if (ec)
    return absl::UnavailableError(StrCat("WAL: cannot list ", options.dir, ": ", ec.message()));
  std::sort(numbers.begin(), numbers.end());

  absl::MutexLock lock(&wal->mu_);
  for (uint64_t n : numbers) {
    const std::string path = wal->SegmentPath(n);
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::UnavailableError(StrCat("WAL: cannot read ", path));
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    WalReader reader(bytes);
    WalType type;
    std::string_view payload;
    WalReader::Result r;
    while ((r = reader.Next(&type, &payload)) == WalReader::Result::kFrame) {
      const uint64_t lsn = (n << 40) + reader.offset();
      visitor(type, payload, lsn);
      if (stats) stats->frames += 1;
    }
    if (r == WalReader::Result::kCorrupt) {
      if (stats) {
        stats->corrupt_tails += 1;
        stats->skipped_bytes += static_cast<int64_t>(bytes.size() - reader.offset());
      }
      Log(LogLevel::kWarn, "wal.corrupt_tail",
          {{"segment", path},
           {"offset", StrCat(reader.offset())},
           {"skipped_bytes", StrCat(bytes.size() - reader.offset())}});
    }
    if (stats) {
      stats->segments += 1;
      stats->bytes += static_cast<int64_t>(bytes.size());
    }
    wal->segments_.emplace_back(n, static_cast<int64_t>(bytes.size()));
  }
  const uint64_t next = numbers.empty() ? 1 : numbers.back() + 1;
  if (absl::Status s = wal->OpenSegmentLocked(next); !s.ok()) return s;
  return wal;
}

absl::Status Wal::OpenSegmentLocked(uint64_t number) {
  const std::string path = SegmentPath(number);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("WAL: create", path, errno);
  if (absl::Status s = FsyncDir(options_.dir); !s.ok()) {
    ::close(fd);
    return s;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  segment_ = number;
  offset_ = 0;
  durable_ = number << 40;
  segments_.emplace_back(number, 0);
  return absl::OkStatus();
}

Wal::~Wal() {
  absl::MutexLock lock(&mu_);
  while (syncing_) synced_cv_.Wait(&mu_);
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

bool Wal::LowOnSpaceLocked() {
  const int64_t now = MonotonicMs();
  if (now - last_space_check_ms_ < 100) return low_on_space_;
  last_space_check_ms_ = now;
  const int64_t free_bytes = FreeBytes();
  low_on_space_ = free_bytes >= 0 && free_bytes < options_.min_free_bytes;
  return low_on_space_;
}

int64_t Wal::FreeBytes() const {
  struct statvfs st;
  if (::statvfs(options_.dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

absl::StatusOr<uint64_t> Wal::Append(WalType type, std::string_view payload) {
  if (payload.size() > kWalMaxPayload) return absl::InvalidArgumentError("WAL: frame too large");
  absl::MutexLock lock(&mu_);
  if (LowOnSpaceLocked())
    return absl::ResourceExhaustedError(StrCat("disk under ", options_.dir, " has less than ",
                                               options_.min_free_bytes >> 20,
                                               " MiB free; retry in 1 s"));
  if (static_cast<int64_t>(offset_) >= options_.segment_bytes) {
    // Rotate: the old segment is made durable first, so durable_ can move to the new one.
    while (syncing_) synced_cv_.Wait(&mu_);
    if (::fdatasync(fd_) != 0) return ErrnoStatus("WAL: fdatasync", SegmentPath(segment_), errno);
    if (absl::Status s = OpenSegmentLocked(segment_ + 1); !s.ok()) return s;
  }
  frame_.clear();
  AppendWalFrame(type, payload, &frame_);
  size_t done = 0;
  while (done < frame_.size()) {
    const ssize_t n = ::write(fd_, frame_.data() + done, frame_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // Nothing partial stays: cut the segment back to where this frame began.
      if (::ftruncate(fd_, static_cast<off_t>(offset_)) != 0)
        Log(LogLevel::kError, "wal.truncate_failed", {{"segment", SegmentPath(segment_)}});
      absl::Status st = ErrnoStatus("WAL: write", SegmentPath(segment_), err);
      if (st.code() == absl::StatusCode::kResourceExhausted)
        return absl::ResourceExhaustedError(StrCat(StatusMessage(st), "; retry in 1 s"));
      return st;
    }
    done += static_cast<size_t>(n);
  }
  offset_ += frame_.size();
  segments_.back().second = static_cast<int64_t>(offset_);
  return (segment_ << 40) + offset_;
}

absl::Status Wal::Sync(uint64_t lsn) {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (durable_ >= lsn) return absl::OkStatus();
    if (syncing_) {
      synced_cv_.Wait(&mu_);
      continue;
    }
    // Become the leader: fsync everything written so far for all waiters.
    syncing_ = true;
    const uint64_t target = (segment_ << 40) + offset_;
    const int fd = fd_;
    mu_.Unlock();
    const int rc = ::fdatasync(fd);
    const int err = errno;
    mu_.Lock();
    syncing_ = false;
    synced_cv_.SignalAll();
    if (rc != 0) return ErrnoStatus("WAL: fdatasync", SegmentPath(segment_), err);
    durable_ = std::max(durable_, target);
  }
}

uint64_t Wal::current_segment() const {
  absl::MutexLock lock(&mu_);
  return segment_;
}

void Wal::ReleaseBefore(uint64_t segment) {
  std::vector<uint64_t> doomed;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = segments_.begin(); it != segments_.end();) {
      if (it->first < segment && it->first != segment_) {
        doomed.push_back(it->first);
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (uint64_t n : doomed) ::unlink(SegmentPath(n).c_str());
}

int64_t Wal::disk_bytes() const {
  absl::MutexLock lock(&mu_);
  int64_t total = 0;
  for (const auto& [n, bytes] : segments_) total += bytes;
  return total;
}

}  // namespace lakehose
