#include "service/wal/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/base/strings.h"
#include "service/platform/durable_file.h"
#include "service/platform/free_space.h"
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

  // What replay found in each segment; logged once the next segment's start is known
  // (it tells whether a damaged tail held acknowledged frames).
  struct Found {
    std::string path;
    std::vector<std::pair<size_t, size_t>> skipped;  // byte ranges
    bool torn_tail = false;
    bool damaged = false;  // damage other than a torn tail
    bool uncounted = false;
    int64_t frames_lost = 0;
    int64_t records_lost = 0;
  };
  std::vector<Found> found;
  std::optional<WalPosition> expected;  // where the previous segment ended
  absl::MutexLock lock(&wal->mu_);
  for (uint64_t n : numbers) {
    const std::string path = wal->SegmentPath(n);
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::UnavailableError(StrCat("WAL: cannot read ", path));
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    WalReader reader(bytes, n, expected);
    // A gap between where the previous segment ended and where this one starts: frames
    // were lost after the previous segment's last intact one.
    if (!found.empty() && expected && reader.start() && reader.start()->seq > expected->seq) {
      Found& prev = found.back();
      prev.damaged = true;
      prev.frames_lost += static_cast<int64_t>(reader.start()->seq - expected->seq);
      prev.records_lost += static_cast<int64_t>(reader.start()->record - expected->record);
    }
    Found& f = found.emplace_back();
    f.path = path;
    WalFrame frame;
    WalDamage damage;
    for (;;) {
      const WalReader::Result r = reader.Next(&frame, &damage);
      if (r == WalReader::Result::kEnd) break;
      if (r == WalReader::Result::kDamage) {
        f.skipped.emplace_back(damage.begin, damage.end);
        if (stats) stats->skipped_bytes += static_cast<int64_t>(damage.end - damage.begin);
        if (damage.tail) {
          f.torn_tail = true;
        } else {
          f.damaged = true;
          if (damage.records_lost < 0) {
            f.uncounted = true;
          } else {
            f.frames_lost += damage.frames_lost;
            f.records_lost += damage.records_lost;
          }
        }
        continue;
      }
      visitor(frame.type, frame.payload, (n << 40) + frame.end);
      if (stats) stats->frames += 1;
    }
    expected = reader.end_position();
    if (stats) {
      stats->segments += 1;
      stats->bytes += static_cast<int64_t>(bytes.size());
    }
    wal->segments_.push_back({n, static_cast<int64_t>(bytes.size()), false});
  }
  for (size_t i = 0; i < found.size(); ++i) {
    const Found& f = found[i];
    std::string ranges;
    for (const auto& [begin, end] : f.skipped)
      ranges += StrCat(ranges.empty() ? "" : ",", begin, "-", end);
    if (!f.damaged) {
      if (!f.torn_tail) continue;
      if (stats) stats->corrupt_tails += 1;
      Log(LogLevel::kWarn, "wal.corrupt_tail",
          {{"segment", f.path},
           {"offset", StrCat(f.skipped.back().first)},
           {"skipped_bytes", StrCat(f.skipped.back().second - f.skipped.back().first)}});
      continue;
    }
    wal->segments_[i].damaged = true;
    if (stats) {
      stats->damaged_segments += 1;
      stats->frames_lost += f.frames_lost;
      stats->records_lost += f.records_lost;
      stats->uncounted_segments += f.uncounted ? 1 : 0;
    }
    const std::string name = std::filesystem::path(f.path).filename().string();
    Log(LogLevel::kError, "wal.damaged_segment",
        {{"segment", f.path},
         {"skipped", ranges},
         {"frames_lost", f.uncounted ? std::string("unknown") : StrCat(f.frames_lost)},
         {"records_lost", f.uncounted ? std::string("unknown") : StrCat(f.records_lost)},
         {"kept_aside_as", StrCat(wal->damaged_dir(), "/", name)}});
  }
  wal->position_ = expected.value_or(WalPosition{});
  if (const int64_t aside = wal->KeptAsideSegments(); aside > 0)
    Log(LogLevel::kWarn, "wal.segments_kept_aside",
        {{"dir", wal->damaged_dir()}, {"segments", StrCat(aside)}});
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
  offset_ = 0;  // the segment header is written with the first frame
  durable_ = number << 40;
  segments_.push_back({number, 0, false});
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
  // Far from the floor, statvfs at most every 100 ms, what this log wrote since counted
  // against the last reading. Within kFreshReadingMargin of it, a reading per append:
  // other writers on data_dir (the dead-letter queue, during an outage megabytes a
  // second) are seen only by a reading, and a reading that says "low" is taken again at
  // once, since space may have come back. The frame's own size is not counted: a request
  // larger than what is left over the floor is written and, if the disk cannot take it,
  // cut back on ENOSPC (nothing partial stays).
  constexpr int64_t kFreshReadingMargin = int64_t{16} << 20;
  const auto left = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return space_free_bytes_ - written_since_check_;
  };
  const int64_t now = MonotonicMs();
  if (now - last_space_check_ms_ >= 100 ||
      (space_free_bytes_ >= 0 && left() < options_.min_free_bytes + kFreshReadingMargin)) {
    last_space_check_ms_ = now;
    space_free_bytes_ = FreeBytes();
    written_since_check_ = 0;
  }
  return space_free_bytes_ >= 0 && left() < options_.min_free_bytes;
}

int64_t Wal::FreeBytes() const { return FreeDiskBytes(options_.dir); }

absl::StatusOr<uint64_t> Wal::Append(WalType type, std::string_view payload) {
  if (payload.size() > kWalMaxPayload) return absl::InvalidArgumentError("WAL: frame too large");
  absl::MutexLock lock(&mu_);
  // The floor is for new records (kAccept). Frames that record progress (kSeal, kStored,
  // kDeadLettered) are small and bounded by what is already buffered or sealed, and
  // refusing them helps no one: a buffer that cannot seal stays in memory, an unlogged
  // kStored makes a restart upload the object again. They may use the space under the
  // floor, which the dead-letter queue leaves them (it stops at half the floor).
  if (type == WalType::kAccept && LowOnSpaceLocked())
    return absl::ResourceExhaustedError(StrCat(
        StatusMessage(LowDiskSpaceError(options_.dir, space_free_bytes_ - written_since_check_, 0,
                                        options_.min_free_bytes)),
        "; retry in 1 s"));
  if (static_cast<int64_t>(offset_) >= options_.segment_bytes) {
    // Rotate: the old segment is made durable first, so durable_ can move to the new one.
    while (syncing_) synced_cv_.Wait(&mu_);
    if (::fdatasync(fd_) != 0) return ErrnoStatus("WAL: fdatasync", SegmentPath(segment_), errno);
    if (absl::Status s = OpenSegmentLocked(segment_ + 1); !s.ok()) return s;
  }
  frame_.clear();
  if (offset_ == 0) AppendWalSegmentHeader(position_, &frame_);
  AppendWalFrame(segment_, position_, type, payload, &frame_);
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
  written_since_check_ += static_cast<int64_t>(frame_.size());
  position_ = NextWalPosition(position_, type, payload);
  segments_.back().bytes = static_cast<int64_t>(offset_);
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
  std::vector<Segment> doomed;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = segments_.begin(); it != segments_.end();) {
      if (it->number < segment && it->number != segment_) {
        doomed.push_back(*it);
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::vector<Segment> kept;
  for (const Segment& s : doomed) {
    if (!s.damaged) {
      ::unlink(SegmentPath(s.number).c_str());
    } else if (!KeepAside(s.number)) {
      kept.push_back(s);  // stays live: tried again at the next release
    }
  }
  if (!kept.empty()) {
    absl::MutexLock lock(&mu_);
    segments_.insert(segments_.begin(), kept.begin(), kept.end());
  }
}

bool Wal::KeepAside(uint64_t number) const {
  const std::string from = SegmentPath(number);
  const std::string name = std::filesystem::path(from).filename().string();
  std::string to = StrCat(damaged_dir(), "/", name);
  std::error_code ec;
  std::filesystem::create_directories(damaged_dir(), ec);
  absl::Status st =
      ec ? absl::UnavailableError(StrCat("create ", damaged_dir(), ": ", ec.message()))
         : absl::OkStatus();
  // link + unlink, not rename: a segment kept aside earlier under the same name (numbers
  // restart when the live log was emptied by hand) is never replaced; this one takes a
  // suffix instead.
  for (int n = 1; st.ok(); ++n) {
    if (::link(from.c_str(), to.c_str()) == 0) break;
    if (errno != EEXIST || n > 1000) {
      st = ErrnoStatus("WAL: link", to, errno);
      break;
    }
    const std::string stem = std::filesystem::path(name).stem().string();
    to = StrCat(damaged_dir(), "/", stem, ".", n, ".wal");
  }
  if (st.ok() && ::unlink(from.c_str()) != 0) st = ErrnoStatus("WAL: unlink", from, errno);
  if (st.ok()) st = FsyncDir(damaged_dir());
  if (st.ok()) st = FsyncDir(options_.dir);
  if (!st.ok()) {
    Log(LogLevel::kError, "wal.keep_aside_failed",
        {{"segment", from}, {"error", StatusMessage(st)}});
    return false;
  }
  Log(LogLevel::kWarn, "wal.segment_kept_aside", {{"segment", name}, {"path", to}});
  return true;
}

int64_t Wal::KeptAsideSegments() const {
  std::error_code ec;
  int64_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(damaged_dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".wal") ++n;
  }
  return n;
}

int64_t Wal::disk_bytes() const {
  absl::MutexLock lock(&mu_);
  int64_t total = 0;
  for (const Segment& s : segments_) total += s.bytes;
  return total;
}

}  // namespace lakehose
