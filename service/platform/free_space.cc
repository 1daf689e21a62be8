#include "service/platform/free_space.h"

#include <sys/statvfs.h>

#include <cstdio>

#include "core/base/strings.h"

namespace lakehose {
namespace {

// Whole MiB as an integer ("1"), anything else with two decimals ("0.50"): a floor of
// half a configured MiB must not read "0".
std::string Mib(int64_t bytes) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  if (bytes % kMiB == 0) return StrCat(bytes / kMiB);
  char out[32];
  std::snprintf(out, sizeof(out), "%.2f", static_cast<double>(bytes) / static_cast<double>(kMiB));
  return out;
}

}  // namespace

int64_t FreeDiskBytes(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

absl::Status LowDiskSpaceError(const std::string& dir, int64_t free_bytes, int64_t need_bytes,
                               int64_t floor_bytes) {
  const std::string left = StrCat(" (", Mib(free_bytes), " MiB left)");
  if (free_bytes < floor_bytes)
    return absl::ResourceExhaustedError(
        StrCat("disk under ", dir, " has less than ", Mib(floor_bytes), " MiB free", left));
  return absl::ResourceExhaustedError(StrCat("disk under ", dir, " would have less than ",
                                             Mib(floor_bytes), " MiB free after writing ",
                                             need_bytes, " bytes", left));
}

absl::Status CheckFreeSpace(const std::string& dir, int64_t need_bytes, int64_t floor_bytes) {
  if (floor_bytes <= 0) return absl::OkStatus();
  const int64_t free_bytes = FreeDiskBytes(dir);
  if (free_bytes < 0 || free_bytes - need_bytes >= floor_bytes) return absl::OkStatus();
  return LowDiskSpaceError(dir, free_bytes, need_bytes, floor_bytes);
}

}  // namespace lakehose
