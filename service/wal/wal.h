// Wal: the write-ahead log under data_dir/wal (frames: core/wal/wal_format.h).
//
// Append() writes a frame (write(2), no fsync) and returns its log sequence number;
// Sync(lsn) returns once everything up to it is on disk. Concurrent Sync callers share
// fsyncs (group commit): one fsyncs for all who are waiting. Segments rotate at
// `segment_bytes`; whole segments are deleted by ReleaseBefore once nothing in them is
// needed. Open() replays every segment in order and always starts a new one, so a torn
// tail is never appended to.
//
// Damage (core/wal/wal_format.h): replay skips a damaged stretch of a segment, keeps
// every intact frame before and after it, and counts the frames and records it held
// (the frames' sequence numbers; not for segments of the earlier format 1). A stretch
// with no intact frame after it is a torn tail, what a crash leaves, unless the next
// segment's start shows that acknowledged frames were there. A segment with damage other
// than a torn tail is logged (wal.damaged_segment: segment, byte ranges skipped, frames
// and records lost) and never deleted: once nothing in it is needed any more,
// ReleaseBefore moves it to `dir`/damaged/ (wal.segment_kept_aside), where it stays
// until an operator removes it (README "Durability and the dead-letter queue").
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
  int64_t corrupt_tails = 0;     // segments whose tail was torn (skipped), no other damage
  int64_t skipped_bytes = 0;     // bytes skipped: torn tails and damage
  int64_t damaged_segments = 0;  // segments with damage other than a torn tail (kept aside)
  int64_t frames_lost = 0;       // what the damage held, where it can be counted
  int64_t records_lost = 0;
  int64_t uncounted_segments = 0;  // damaged segments whose loss cannot be counted (format 1)
};

class Wal {
 public:
  struct Options {
    std::string dir;
    int64_t segment_bytes = 64 << 20;
    // Refuse kAccept appends (RESOURCE_EXHAUSTED) while the file system has less free
    // space. Progress frames (kSeal, kStored, kDeadLettered) are not refused
    // by it: they are small, bounded by what is already buffered or sealed, and may use
    // the space below it (see Append).
    int64_t min_free_bytes = 64 << 20;
  };
  // Called for each frame during replay, in log order.
  using Visitor = std::function<void(WalType type, std::string_view payload, uint64_t lsn)>;

  static absl::StatusOr<std::unique_ptr<Wal>> Open(const Options& options, const Visitor& visitor,
                                                   WalReplayStats* stats);
  ~Wal();

  // RESOURCE_EXHAUSTED when the disk is full (ENOSPC), or for a kAccept frame while it
  // has less than Options::min_free_bytes free: nothing partial stays in the log.
  absl::StatusOr<uint64_t> Append(WalType type, std::string_view payload);
  absl::Status Sync(uint64_t lsn);

  static uint64_t SegmentOf(uint64_t lsn) { return lsn >> 40; }
  uint64_t current_segment() const;
  // Deletes every segment numbered below `segment` (never the current one), except those
  // replay found damaged: they are moved to damaged_dir() instead, never deleted.
  void ReleaseBefore(uint64_t segment);
  std::string damaged_dir() const { return options_.dir + "/damaged"; }
  // Segments in damaged_dir() (kept aside, waiting for an operator); reads the directory.
  int64_t KeptAsideSegments() const;
  int64_t disk_bytes() const;  // bytes of all live segments
  // Free bytes (for unprivileged users) on the file system of the log; -1 if unknown
  // (FreeDiskBytes, service/platform/free_space.h).
  int64_t FreeBytes() const;

 private:
  Wal() = default;
  absl::Status OpenSegmentLocked(uint64_t number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SegmentPath(uint64_t number) const;
  // Whether the file system has less than min_free_bytes free (see the .cc).
  bool LowOnSpaceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves a damaged segment to damaged_dir(); false (logged) if it could not.
  bool KeepAside(uint64_t number) const;

  Options options_;
  mutable absl::Mutex mu_;
  absl::CondVar synced_cv_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t segment_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t offset_ ABSL_GUARDED_BY(mu_) = 0;   // bytes written to the current segment
  WalPosition position_ ABSL_GUARDED_BY(mu_);  // of the next frame
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;  // LSN up to which everything is fsync'd
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  struct Segment {
    uint64_t number = 0;
    int64_t bytes = 0;
    bool damaged = false;  // kept aside instead of deleted
  };
  std::vector<Segment> segments_ ABSL_GUARDED_BY(mu_);    // live, in order
  int64_t last_space_check_ms_ ABSL_GUARDED_BY(mu_) = 0;  // monotonic
  int64_t space_free_bytes_ ABSL_GUARDED_BY(mu_) = -1;    // at that check; -1 unknown
  int64_t written_since_check_ ABSL_GUARDED_BY(mu_) = 0;  // bytes appended since
  std::string frame_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_WAL_WAL_H_
