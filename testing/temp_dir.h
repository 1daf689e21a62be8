// TempDir: a fresh, empty directory for a test, made under $TMPDIR (/tmp if unset) and
// removed with everything in it when the TempDir is destroyed. It owns the directory;
// use one per test or fixture (not thread-safe itself; the directory can be used from
// any thread). If the directory cannot be made the test binary aborts: a test must
// never go on writing to a path it did not create.
//
//   TempDir dir("dlq_test");
//   auto q = OpenDeadLetterQueue(dir.path() + "/dlq", clock);
//   const std::string config = dir.Write("config.yaml", "pipelines: []\n");
#ifndef LAKEHOSE_TESTING_TEMP_DIR_H_
#define LAKEHOSE_TESTING_TEMP_DIR_H_

#include <stdlib.h>
#include <string.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "gtest/gtest.h"

namespace lakehose {

class TempDir {
 public:
  // The directory is named "<prefix>-XXXXXX" (mkdtemp), so leftovers name their test.
  explicit TempDir(std::string_view prefix = "lakehose_test") {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string base = tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp";
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    std::string tmpl = base + "/" + std::string(prefix) + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "TempDir: mkdtemp %s: %s\n", tmpl.c_str(), ::strerror(errno));
      std::abort();
    }
    path_ = std::move(tmpl);
  }
  ~TempDir() {
    std::error_code ec;  // best effort: a test may have left something unremovable
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute if $TMPDIR is.
  const std::string& path() const { return path_; }

  // Writes `contents` to `relative` under the directory, making its parent directories,
  // and returns the file's path. A failure fails the test.
  std::string Write(std::string_view relative, std::string_view contents) const {
    const std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (ec || !out) ADD_FAILURE() << "TempDir: cannot write " << file.string();
    return file.string();
  }

 private:
  std::string path_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_TEMP_DIR_H_
