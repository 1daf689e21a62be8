#include "service/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "core/sigv4.h"
#include "core/strings.h"

namespace lakehose {
namespace {

absl::Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  const std::string message = StrCat(what, " ", path, ": ", std::string_view(strerror(err)));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", path, err);
  return absl::OkStatus();
}

}  // namespace

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
  // Keys come from rendered prefixes whose partition values are path-safe; refuse
  // anything that would still leave the root.
  if (key.empty() || key.front() == '/' || key.find("/../") != std::string::npos || key.rfind("../", 0) == 0)
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
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp, errno);
  size_t done = 0;
  while (done < body.size()) {
    const ssize_t n = ::write(fd, body.data() + done, body.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus("fsync", tmp, err);
  }
  ::close(fd);
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
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace lakehose
