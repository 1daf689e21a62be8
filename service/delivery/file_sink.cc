#include "service/delivery/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/base/strings.h"
#include "core/base/uri_encode.h"
#include "service/platform/durable_file.h"

namespace lakehose {
namespace {

// Keys come from rendered prefixes whose partition values are path-safe (and, for Get,
// from the Iceberg writer's own metadata paths); refuse anything that would still leave
// the root.
absl::Status CheckKey(const std::string& key) {
  bool dot_dot = false;
  for (size_t begin = 0; begin <= key.size() && !dot_dot;) {
    const size_t end = std::min(key.find('/', begin), key.size());
    dot_dot = std::string_view(key).substr(begin, end - begin) == "..";
    begin = end + 1;
  }
  if (key.empty() || key.front() == '/' || dot_dot) {
    return absl::InvalidArgumentError(StrCat("object key ", key, " would leave the lake root"));
  }
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
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
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

absl::StatusOr<std::string> FileSink::Get(const std::string& key) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  const std::string path = StrCat(root_, "/", key);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    // ENOTDIR: a directory on the key's path is a file, so no object has this key.
    if (err == ENOENT || err == ENOTDIR)
      return absl::NotFoundError(StrCat(path, " does not exist"));
    return ErrnoStatus("open", path, err);
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat(path, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxObjectGetBytes) {
    return absl::FailedPreconditionError(StrCat(path, " is ", st.st_size, " bytes, more than the ",
                                                kMaxObjectGetBytes, " bytes a read takes"));
  }
  // The file never changes once in place (Puts replace it by name), so its size is the
  // object's; reading on to EOF, within the limit, also covers a file system that does
  // not keep that promise.
  std::string body(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  auto read_some = [&](char* to, size_t n) -> absl::StatusOr<size_t> {
    for (;;) {
      const ssize_t got = ::read(fd, to, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return ErrnoStatus("read", path, errno);
    }
  };
  while (done < body.size()) {
    absl::StatusOr<size_t> n = read_some(body.data() + done, body.size() - done);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  body.resize(done);
  char more[16384];
  for (;;) {
    absl::StatusOr<size_t> n = read_some(more, sizeof(more));
    if (!n.ok()) return n.status();
    if (*n == 0) return body;
    if (body.size() + *n > kMaxObjectGetBytes) {
      return absl::FailedPreconditionError(
          StrCat(path, " grew past the ", kMaxObjectGetBytes, " bytes a read takes"));
    }
    body.append(more, *n);
  }
}

}  // namespace lakehose
