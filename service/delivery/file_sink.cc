#include "service/delivery/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "core/base/strings.h"
#include "core/base/uri_encode.h"
#include "service/platform/durable_file.h"

namespace lakehose {
FileSink::FileSink(std::string root) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(root, ec);
  root_ = ec ? root : p.lexically_normal().string();
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

// A file URI: the path percent-encoded (RFC 8089), so "site=50%" reads back as itself.
std::string FileSink::Uri(const std::string& key) const {
  return StrCat("file://", UriEncode(StrCat(root_, "/", key), /*keep_slash=*/true));
}

absl::Status FileSink::Put(const std::string& key, std::string_view body, const ObjectMeta& meta) {
  absl::Status s = Write(key, body, meta);
  // One try, so a failed Put is one failure of the object's budget; an existing object
  // (ALREADY_EXISTS) is the answer If-None-Match asks for, not a failure.
  if (!s.ok() && !absl::IsAlreadyExists(s) && meta.failures_spent != nullptr) {
    *meta.failures_spent += 1;
  }
  return s;
}

absl::Status FileSink::Write(const std::string& key, std::string_view body,
                             const ObjectMeta& meta) {
  // Keys come from rendered prefixes whose partition values are path-safe; refuse
  // anything that would still leave the root.
  if (key.empty() || key.front() == '/' || key.find("/../") != std::string::npos ||
      key.rfind("../", 0) == 0)
    return absl::InvalidArgumentError(StrCat("object key ", key, " would leave the lake root"));
  const std::string path = StrCat(root_, "/", key);
  const std::string dir = path.substr(0, path.rfind('/'));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus("mkdir", dir, ec.value());

  static std::atomic<uint64_t> counter{0};
  // Hidden and not ending in the object's extension, so no reader's glob
  // (**/*.jsonl.gz) picks up one left behind by a crash.
  const std::string tmp = StrCat(dir, "/.", path.substr(path.rfind('/') + 1), ".", ::getpid(), "-",
                                 counter.fetch_add(1), ".tmp");
  if (absl::Status st = WriteSyncedFile(tmp, body); !st.ok()) return st;
  if (meta.if_none_match) {
    // link() fails with EEXIST instead of replacing: the file-system If-None-Match.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) return absl::AlreadyExistsError(StrCat(path, " exists"));
      return ErrnoStatus("link", path, err);
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("rename", path, err);
  }
  return FsyncDir(dir);
}

}  // namespace lakehose
