// Free space on a file system, and the refusal every writer under data_dir gives when
// there is too little of it. One implementation for the WAL (server.wal_min_free_mb) and
// the dead-letter queue (half of it), so both measure and word it the same way.
//
//   if (absl::Status st = CheckFreeSpace(dir, body.size(), floor); !st.ok()) return st;
//
// Thread-safe (no state).
#ifndef LAKEHOSE_SERVICE_PLATFORM_FREE_SPACE_H_
#define LAKEHOSE_SERVICE_PLATFORM_FREE_SPACE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace lakehose {

// Free bytes for unprivileged users (statvfs f_bavail) on the file system holding
// `path`; -1 if unknown (then callers do not refuse: a write still fails with ENOSPC).
int64_t FreeDiskBytes(const std::string& path);

// RESOURCE_EXHAUSTED: "disk under <dir> has less than <floor> MiB free (<free> MiB
// left)", or when the free space is above the floor but writing `need_bytes` would take
// it below: "disk under <dir> would have less than <floor> MiB free after writing <need>
// bytes (<free> MiB left)". Ingest's refusal and the runbooks rely on this wording.
absl::Status LowDiskSpaceError(const std::string& dir, int64_t free_bytes, int64_t need_bytes,
                               int64_t floor_bytes);

// OK if writing `need_bytes` under `dir` leaves at least `floor_bytes` free (or the free
// space is unknown, or floor_bytes <= 0); else LowDiskSpaceError. Reads statvfs each call
// (microseconds; callers on a hot path cache, as the WAL does).
absl::Status CheckFreeSpace(const std::string& dir, int64_t need_bytes, int64_t floor_bytes);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_PLATFORM_FREE_SPACE_H_
