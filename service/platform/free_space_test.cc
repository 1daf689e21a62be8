// Free space: the reading, the refusal's wording, and when CheckFreeSpace refuses. A
// floor larger than any disk makes a refusal certain; 0 makes none.
#include "service/platform/free_space.h"

#include <string>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

TEST(FreeSpaceTest, ReadsTheFileSystemOrSaysUnknown) {
  TempDir dir;
  EXPECT_GT(FreeDiskBytes(dir.path()), 0);
  EXPECT_EQ(FreeDiskBytes(dir.path() + "/missing/deeper"), -1);
}

TEST(FreeSpaceTest, TheRefusalNamesTheDirectoryTheFloorAndWhatIsLeft) {
  constexpr int64_t kMiB = 1 << 20;
  absl::Status below = LowDiskSpaceError("/data/wal", kMiB / 4, 0, kMiB);
  EXPECT_EQ(below.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusMessage(below), "disk under /data/wal has less than 1 MiB free (0.25 MiB left)");
  // Half a MiB reads as such, not "0"; above the floor, the write is what would cross it.
  absl::Status after = LowDiskSpaceError("/data/dlq", kMiB, 600 * 1024, kMiB / 2);
  EXPECT_EQ(StatusMessage(after),
            "disk under /data/dlq would have less than 0.50 MiB free after writing 614400 bytes "
            "(1 MiB left)");
}

TEST(FreeSpaceTest, CheckRefusesOnlyBelowTheFloor) {
  TempDir dir;
  EXPECT_TRUE(CheckFreeSpace(dir.path(), int64_t{1} << 62, 0).ok());  // no floor
  const absl::Status refused = CheckFreeSpace(dir.path(), 0, int64_t{1} << 62);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(StatusMessage(refused)), HasSubstr(StrCat("disk under ", dir.path())));
  // The write's size counts (free space read now; the file system may move meanwhile, so
  // the sizes are far apart).
  const int64_t free_bytes = FreeDiskBytes(dir.path());
  ASSERT_GT(free_bytes, 64 << 20);
  EXPECT_TRUE(CheckFreeSpace(dir.path(), free_bytes / 2, 1).ok());
  EXPECT_FALSE(CheckFreeSpace(dir.path(), free_bytes * 2, 1).ok());
  // Unknown free space: no refusal (a write tells).
  EXPECT_TRUE(CheckFreeSpace(dir.path() + "/missing", 0, int64_t{1} << 62).ok());
}

}  // namespace
}  // namespace lakehose
