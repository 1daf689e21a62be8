// FileSink (service/delivery/file_sink.h): the lake as a directory tree, written atomically.
#include "service/delivery/file_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

class FileSinkTest : public ::testing::Test {
 protected:
  // Every regular file under `root_`, relative to it.
  std::vector<std::string> Files() {
    std::vector<std::string> out;
    if (!fs::exists(root_)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root_))
      if (!e.is_directory()) out.push_back(fs::relative(e.path(), root_).string());
    std::sort(out.begin(), out.end());
    return out;
  }

  const TempDir tmp_{"file_sink_test"};
  const fs::path dir_ = tmp_.path();
  const fs::path root_ = dir_ / "lake";
};

TEST_F(FileSinkTest, WritesUnderNestedHiveDirectoriesWithEqualsAndSpaces) {
  FileSink sink(root_.string());
  const std::string key =
      "transactions/region=EU West/date=2023-11-14/hour=22/demo-w1-0000000000000001.jsonl.gz";
  const std::string body = std::string("\x1f\x8b binary \0 body", 17);
  ASSERT_TRUE(sink.Put(key, body, ObjectMeta{}).ok());
  EXPECT_TRUE(
      fs::is_directory(root_ / "transactions" / "region=EU West" / "date=2023-11-14" / "hour=22"));
  EXPECT_EQ(ReadFile(root_ / key), body);
  EXPECT_THAT(Files(), ::testing::ElementsAre(key));
}

TEST_F(FileSinkTest, LeavesNoTemporaryFilesBehind) {
  FileSink sink(root_.string());
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(sink.Put(StrCat("p/k=", i % 3, "/obj-", i, ".jsonl"), std::string(1000 + i, 'a'),
                         ObjectMeta{})
                    .ok());
  const std::vector<std::string> files = Files();
  EXPECT_EQ(files.size(), 20u);
  for (const std::string& f : files)
    EXPECT_EQ(fs::path(f).filename().string().rfind(".tmp", 0), std::string::npos) << f;
}

TEST_F(FileSinkTest, ReplacesAnExistingKey) {
  FileSink sink(root_.string());
  ASSERT_TRUE(sink.Put("a/b.jsonl", "first version, longer than the second\n", ObjectMeta{}).ok());
  ASSERT_TRUE(sink.Put("a/b.jsonl", "second\n", ObjectMeta{}).ok());
  EXPECT_EQ(ReadFile(root_ / "a/b.jsonl"), "second\n");
  EXPECT_EQ(Files().size(), 1u);
}

TEST_F(FileSinkTest, EmptyBody) {
  FileSink sink(root_.string());
  ASSERT_TRUE(sink.Put("e/empty.jsonl", "", ObjectMeta{}).ok());
  EXPECT_TRUE(fs::is_regular_file(root_ / "e/empty.jsonl"));
  EXPECT_EQ(fs::file_size(root_ / "e/empty.jsonl"), 0u);
}

TEST_F(FileSinkTest, RefusesKeysThatLeaveTheRoot) {
  FileSink sink(root_.string());
  for (const std::string key : {"../x", "/abs", "/etc/lakehose-test", "a/../../x", "a/b/../../../x",
                                "../../x", "", "..", "a/.."}) {
    const absl::Status s = sink.Put(key, "nope", ObjectMeta{});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "key \"" << key << "\": " << s;
  }
  EXPECT_FALSE(fs::exists(dir_ / "x"));
  EXPECT_FALSE(fs::exists(fs::path("/abs")));
  EXPECT_FALSE(fs::exists(fs::path("/etc/lakehose-test")));
  EXPECT_TRUE(Files().empty());
  // Dots inside names are fine.
  EXPECT_TRUE(sink.Put("a/..b/c..d/e.jsonl", "ok", ObjectMeta{}).ok());
  EXPECT_EQ(ReadFile(root_ / "a/..b/c..d/e.jsonl"), "ok");
}

TEST_F(FileSinkTest, UriIsAPercentEncodedFileUriOfTheAbsolutePath) {
  FileSink sink(root_.string() + "/");
  EXPECT_EQ(sink.root(), root_.string());
  // The temporary root is made of unreserved characters only, so it reads as itself.
  ASSERT_EQ(root_.string().find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"),
            std::string::npos);
  EXPECT_EQ(sink.Uri("t/region=EU/x.jsonl.gz"),
            StrCat("file://", root_.string(), "/t/region%3DEU/x.jsonl.gz"));
  EXPECT_EQ(sink.Uri("t/region=EU West/site=50%/x.jsonl.gz"),
            StrCat("file://", root_.string(), "/t/region%3DEU%20West/site%3D50%25/x.jsonl.gz"));
}

TEST_F(FileSinkTest, UriDecodesToThePathThatWasWritten) {
  FileSink sink(root_.string());
  const std::string key = "t/region=EU West/date=2023-11-14/caf\xc3\xa9+&#?/o.jsonl";
  ASSERT_TRUE(sink.Put(key, "x", ObjectMeta{}).ok());
  const std::string uri = sink.Uri(key);
  ASSERT_THAT(uri, ::testing::StartsWith("file:///"));
  EXPECT_EQ(uri.find_first_of(" ?#"), std::string::npos) << uri;
  const std::string path = PercentDecode(uri.substr(7));
  EXPECT_EQ(path, (root_ / key).string());
  EXPECT_EQ(ReadFile(path), "x");
}

TEST_F(FileSinkTest, RelativeRootIsTakenFromTheWorkingDirectory) {
  FileSink sink("some/relative/lake");
  ASSERT_FALSE(sink.root().empty());
  EXPECT_EQ(sink.root().front(), '/');
  EXPECT_EQ(sink.root(), (fs::current_path() / "some/relative/lake").lexically_normal().string());
  EXPECT_EQ(PercentDecode(sink.Uri("k").substr(7)), sink.root() + "/k");
}

TEST_F(FileSinkTest, RootThatIsAFileIsAnError) {
  fs::create_directories(dir_);
  { std::ofstream(root_) << "i am a file"; }
  FileSink sink(root_.string());
  const absl::Status s = sink.Put("a/b.jsonl", "x", ObjectMeta{});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(StatusMessage(s)), HasSubstr(root_.string()));
  const absl::Status top = sink.Put("b.jsonl", "x", ObjectMeta{});
  EXPECT_FALSE(top.ok());
  EXPECT_EQ(ReadFile(root_), "i am a file");
}

// The object's failure budget (README, "Retries"): the file sink does not retry, so a
// failed Put is one failure, a stored object or an existing one (If-None-Match) none.
TEST_F(FileSinkTest, AFailedPutSpendsOneFailureOfTheObjectsBudget) {
  FileSink sink(root_.string());
  int spent = 0;
  ObjectMeta meta;
  meta.if_none_match = true;
  meta.max_failures = 5;
  meta.failures_spent = &spent;
  ASSERT_TRUE(sink.Put("ok.jsonl", "x", meta).ok());
  EXPECT_EQ(spent, 0);
  EXPECT_EQ(sink.Put("ok.jsonl", "y", meta).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(spent, 0);
  fs::create_directories(root_);
  { std::ofstream(root_ / "file") << "i am a file"; }
  EXPECT_FALSE(sink.Put("file/under.jsonl", "x", meta).ok());  // its directory is a file
  EXPECT_EQ(spent, 1);
  EXPECT_FALSE(sink.Put("../out.jsonl", "x", meta).ok());
  EXPECT_EQ(spent, 2);
}

TEST_F(FileSinkTest, ReadOnlyDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  FileSink sink(root_.string());
  ASSERT_TRUE(sink.Put("ro/first.jsonl", "x", ObjectMeta{}).ok());
  fs::permissions(root_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  const absl::Status s = sink.Put("ro/second.jsonl", "x", ObjectMeta{});
  fs::permissions(root_ / "ro", fs::perms::owner_all);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
}

TEST_F(FileSinkTest, ConcurrentPutsToOneDirectory) {
  FileSink sink(root_.string());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        // Every thread also rewrites one shared key.
        if (!sink.Put(StrCat("d/t", t, "-", i, ".jsonl"), StrCat(t, ":", i), ObjectMeta{}).ok())
          failures++;
        if (!sink.Put("d/shared.jsonl", StrCat("t", t), ObjectMeta{}).ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Files().size(), 8u * 25u + 1u);
  for (int t = 0; t < 8; ++t)
    for (int i = 0; i < 25; ++i)
      EXPECT_EQ(ReadFile(root_ / StrCat("d/t", t, "-", i, ".jsonl")), StrCat(t, ":", i));
  EXPECT_THAT(ReadFile(root_ / "d/shared.jsonl"), ::testing::MatchesRegex("t[0-7]"));
}

// ---- Get ---------------------------------------------------------------------------

TEST_F(FileSinkTest, GetReadsBackWhatPutStored) {
  FileSink sink(root_.string());
  const std::string key = "t/metadata/region=EU West/v1.metadata.json";
  const std::string body = std::string("{\"format-version\":2}\0\xff binary", 30);
  ASSERT_TRUE(sink.Put(key, body, ObjectMeta{}).ok());
  absl::StatusOr<std::string> got = sink.Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, body);
  ASSERT_TRUE(sink.Put("t/metadata/version-hint.text", "", ObjectMeta{}).ok());
  got = sink.Get("t/metadata/version-hint.text");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "");
  // Larger than one read, and replaced by a shorter one.
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(sink.Put(key, big, ObjectMeta{}).ok());
  EXPECT_EQ(*sink.Get(key), big);
  ASSERT_TRUE(sink.Put(key, "short", ObjectMeta{}).ok());
  EXPECT_EQ(*sink.Get(key), "short");
}

TEST_F(FileSinkTest, GetOfAMissingObjectIsNotFound) {
  FileSink sink(root_.string());
  EXPECT_EQ(sink.Get("t/metadata/version-hint.text").status().code(), absl::StatusCode::kNotFound)
      << "no root yet";
  ASSERT_TRUE(sink.Put("t/metadata/v1.metadata.json", "{}", ObjectMeta{}).ok());
  const absl::Status missing = sink.Get("t/metadata/version-hint.text").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  EXPECT_THAT(std::string(StatusMessage(missing)), HasSubstr("version-hint.text"));
  EXPECT_EQ(sink.Get("t/other/x").status().code(), absl::StatusCode::kNotFound);
  // Under a file: no object can have that key.
  EXPECT_EQ(sink.Get("t/metadata/v1.metadata.json/x").status().code(), absl::StatusCode::kNotFound);
  // A directory is not an object.
  EXPECT_EQ(sink.Get("t/metadata").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FileSinkTest, GetRefusesKeysThatLeaveTheRoot) {
  fs::create_directories(root_);
  { std::ofstream(dir_ / "outside") << "secret"; }
  FileSink sink(root_.string());
  for (const std::string key :
       {"../outside", "/etc/hostname", "a/../../outside", "..", "a/..", ""}) {
    const absl::Status s = sink.Get(key).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "key \"" << key << "\": " << s;
  }
}

TEST_F(FileSinkTest, GetRefusesAnObjectLargerThanTheLimit) {
  fs::create_directories(root_ / "t");
  // Sparse: no disk space and, since the size decides before any read, no memory.
  const fs::path huge = root_ / "t" / "huge.avro";
  { std::ofstream(huge) << "x"; }
  fs::resize_file(huge, kMaxObjectGetBytes + 1);
  FileSink sink(root_.string());
  const absl::Status s = sink.Get("t/huge.avro").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(StatusMessage(s)), HasSubstr(StrCat(kMaxObjectGetBytes)));
}

TEST_F(FileSinkTest, GetOfAnUnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  FileSink sink(root_.string());
  ASSERT_TRUE(sink.Put("p/secret.json", "x", ObjectMeta{}).ok());
  fs::permissions(root_ / "p/secret.json", fs::perms::none);
  const absl::Status s = sink.Get("p/secret.json").status();
  fs::permissions(root_ / "p/secret.json", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
}

// Put puts a whole file in place by name (rename or link), so a reader of a key being
// replaced sees the old object or the new one, never a part or a mix.
TEST_F(FileSinkTest, GetDuringReplacingPutsSeesWholeObjectsOnly) {
  FileSink sink(root_.string());
  const std::string a(1000, 'a'), b(200000, 'b');
  ASSERT_TRUE(sink.Put("t/metadata/version-hint.text", a, ObjectMeta{}).ok());
  std::atomic<bool> writing{true};
  std::atomic<int> put_failures{0};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      if (!sink.Put("t/metadata/version-hint.text", i % 2 == 0 ? b : a, ObjectMeta{}).ok())
        put_failures++;
    }
    writing = false;
  });
  int reads = 0, partial = 0;
  // Bounded: at most 5000 reads, also after the writer is done.
  for (; reads < 5000 && (writing || reads < 10); ++reads) {
    absl::StatusOr<std::string> got = sink.Get("t/metadata/version-hint.text");
    if (!got.ok() || (*got != a && *got != b)) partial++;
  }
  writer.join();
  EXPECT_EQ(put_failures.load(), 0);
  EXPECT_GE(reads, 10);
  EXPECT_EQ(partial, 0) << "of " << reads << " reads";
}

}  // namespace
}  // namespace lakehose
