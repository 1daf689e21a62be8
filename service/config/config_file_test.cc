// The start-up checks that need the file system (README "Pipelines", "Start-up checks"):
// a file lake whose path cannot hold objects used to start, answer Ingest OK, and fail
// at delivery.
#include "service/config/config_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using ::testing::MatchesRegex;

// A config with pipeline `a` (S3) and `b` (a file lake at `path`).
Config ConfigWithLake(const TempDir& dir, const std::string& path) {
  const std::string file =
      dir.Write("cfg.yaml", StrCat("pipelines:\n"
                                   "  - name: a\n    destination: { kind: s3, bucket: b }\n"
                                   "  - name: b\n    destination: { kind: file, path: \"",
                                   path, "\" }\n"));
  auto config = LoadConfigFile(file);
  EXPECT_TRUE(config.ok()) << config.status();
  return *std::move(config);
}

// The error of CheckLakePaths, or "<ok>".
std::string LakeErrorOf(const Config& config) {
  const absl::Status st = CheckLakePaths(config, "cfg.yaml");
  if (st.ok()) return "<ok>";
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  return std::string(StatusMessage(st));
}

bool IsEmptyDirectory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) && std::filesystem::is_empty(path, ec);
}

TEST(CheckLakePathsTest, AWritableLakeIsAcceptedAndLeftAsItWas) {
  TempDir dir("lake_check");
  const std::string lake = dir.path() + "/lake";
  std::filesystem::create_directory(lake);
  EXPECT_EQ(LakeErrorOf(ConfigWithLake(dir, lake)), "<ok>");
  EXPECT_TRUE(IsEmptyDirectory(lake));  // the probe file is gone
}

TEST(CheckLakePathsTest, AMissingLakeDirectoryIsCreated) {
  TempDir dir("lake_check");
  const std::string lake = dir.path() + "/new/lake";
  EXPECT_EQ(LakeErrorOf(ConfigWithLake(dir, lake)), "<ok>");
  EXPECT_TRUE(IsEmptyDirectory(lake));
}

TEST(CheckLakePathsTest, ALakePathThatIsAFileStopsStartUp) {
  TempDir dir("lake_check");
  const std::string file = dir.Write("lake", "not a directory\n");
  EXPECT_EQ(LakeErrorOf(ConfigWithLake(dir, file)),
            StrCat("cfg.yaml: pipelines[1].destination.path: ", file,
                   " is not a directory (the file lake writes objects under it)"));
}

TEST(CheckLakePathsTest, ALakePathUnderAFileStopsStartUp) {
  TempDir dir("lake_check");
  const std::string file = dir.Write("file", "x\n");
  EXPECT_EQ(LakeErrorOf(ConfigWithLake(dir, file + "/lake")),
            StrCat("cfg.yaml: pipelines[1].destination.path: cannot create the directory ", file,
                   "/lake: Not a directory"));
}

// As root, mode 0555 does not stop a write, so /sys (where no one can create a file)
// stands in for a directory that is not writable; without one the case is skipped.
TEST(CheckLakePathsTest, ALakePathThatIsNotWritableStopsStartUp) {
  TempDir dir("lake_check");
  std::string lake = dir.path() + "/read-only";
  if (::geteuid() == 0) {
    lake = "/sys";
    if (::access("/sys", F_OK) != 0 || ::mkdir("/sys/lakehose-probe", 0700) == 0) {
      ::rmdir("/sys/lakehose-probe");
      GTEST_SKIP() << "running as root with a writable /sys: no directory refuses writes";
    }
  } else {
    ASSERT_EQ(::mkdir(lake.c_str(), 0555), 0);
  }
  EXPECT_THAT(LakeErrorOf(ConfigWithLake(dir, lake)),
              MatchesRegex(StrCat("cfg\\.yaml: pipelines\\[1\\]\\.destination\\.path: cannot "
                                  "create a file in ",
                                  lake, ": (Permission denied|Read-only file system)")));
  ::chmod(lake.c_str(), 0755);  // so the TempDir can be removed (no-op for /sys)
}

}  // namespace
}  // namespace lakehose
