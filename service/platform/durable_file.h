// Small POSIX helpers for writing files that survive a crash, shared by the file sink,
// the WAL and the dead-letter queue.
#ifndef LAKEHOSE_SERVICE_PLATFORM_DURABLE_FILE_H_
#define LAKEHOSE_SERVICE_PLATFORM_DURABLE_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace lakehose {

// An errno as a Status: ENOSPC/EDQUOT -> RESOURCE_EXHAUSTED, EACCES/EPERM/EROFS ->
// PERMISSION_DENIED, anything else UNAVAILABLE. Message: "<what> <path>: <strerror>".
absl::Status ErrnoStatus(std::string_view what, const std::string& path, int err);

// fsyncs a directory, making the entries created or renamed in it durable.
absl::Status FsyncDir(const std::string& dir);

// Creates `path` (truncating), writes `data`, fsyncs and closes it. On failure the file
// is removed. The caller renames or links it into place and fsyncs the directory.
absl::Status WriteSyncedFile(const std::string& path, std::string_view data);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_PLATFORM_DURABLE_FILE_H_
