// Wal: the write-ahead log under data_dir/wal (frames: core/wal/wal_format.h).
//
// Append() writes a frame (write(2), no fsync) and returns its log sequence number;
// Sync(lsn) returns once everything up to it is on disk. Concurrent Sync callers share
// fsyncs (group commit): one fsyncs for all who are waiting. Segments rotate at
// `segment_bytes`; whole segments are deleted by ReleaseBefore once nothing in them is
// needed. Open() replays every segment in order and always starts a new one, so a torn
// tail is never appended to.
//
// LSNs are (segment << 40) + offset: ordered, and the segment of an LSN is lsn >> 40.
//
// Thread-safe: Append and Sync may be called from any thread, and frames never
// interleave. The log's order is the order of the Append calls, so callers order the
// frames whose order matters: the delivery engine appends kAccept and kSeal under its own
// lock (replay needs them in buffering order). kStored and kDeadLettered frames are
// appended by its upload threads without that lock: each names one object whose kSeal
// was appended before its upload began, and replay only needs it after that kSeal.
#ifndef LAKEHOSE_SERVICE_WAL_WAL_H_
#define LAKEHOSE_SERVICE_WAL_WAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/wal/wal_format.h"

namespace lakehose {

struct WalReplayStats {
  int64_t segments = 0;
  int64_t frames = 0;
  int64_t bytes = 0;
  int64_t corrupt_tails = 0;  // segments whose tail was torn or damaged (skipped)
  int64_t skipped_bytes = 0;  // bytes after such a tail
};

class Wal {
 public:
  struct Options {
    std::string dir;
    int64_t segment_bytes = 64 << 20;
    // Refuse appends (RESOURCE_EXHAUSTED) when the file system has less free space.
    int64_t min_free_bytes = 64 << 20;
  };
  // Called for each frame during replay, in log order.
  using Visitor = std::function<void(WalType type, std::string_view payload, uint64_t lsn)>;

  static absl::StatusOr<std::unique_ptr<Wal>> Open(const Options& options, const Visitor& visitor,
                                                   WalReplayStats* stats);
  ~Wal();

  // RESOURCE_EXHAUSTED when the disk is (nearly) full: nothing partial stays in the log.
  absl::StatusOr<uint64_t> Append(WalType type, std::string_view payload);
  absl::Status Sync(uint64_t lsn);

  static uint64_t SegmentOf(uint64_t lsn) { return lsn >> 40; }
  uint64_t current_segment() const;
  // Deletes every segment numbered below `segment` (never the current one).
  void ReleaseBefore(uint64_t segment);
  int64_t disk_bytes() const;  // bytes of all live segments
  // Free bytes (for unprivileged users) on the file system of the log; -1 if unknown.
  int64_t FreeBytes() const;

 private:
  Wal() = default;
  absl::Status OpenSegmentLocked(uint64_t number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SegmentPath(uint64_t number) const;
  bool LowOnSpaceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Options options_;
  mutable absl::Mutex mu_;
  absl::CondVar synced_cv_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t segment_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t offset_ ABSL_GUARDED_BY(mu_) = 0;   // bytes written to the current segment
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;  // LSN up to which everything is fsync'd
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<uint64_t, int64_t>> segments_
      ABSL_GUARDED_BY(mu_);  // (number, bytes), live
  int64_t last_space_check_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool low_on_space_ ABSL_GUARDED_BY(mu_) = false;
  std::string frame_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_WAL_WAL_H_
