#include "client/cli/common.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

#include "core/base/strings.h"

namespace lakehose::cli {

int Fail(std::string_view message) {
  std::cerr << "lakehose: " << message << "\n";
  return 1;
}

int UsageError(std::string_view message) {
  std::cerr << "lakehose: " << message << " (see --help)\n";
  return 2;
}

std::string RpcError(const absl::Status& status) {
  return StrCat(absl::StatusCodeToString(status.code()), ": ", StatusMessage(status));
}

InputFile::~InputFile() {
  if (fd_ >= 0 && !stdin_) close(fd_);
}

absl::Status InputFile::Open(const std::string& path) {
  // A directory opens and reads as empty through iostreams: "0 records", exit 0. So read
  // with POSIX calls, which say what is wrong.
  stdin_ = path == "-";
  name_ = stdin_ ? "--input - (stdin)" : StrCat("--input ", path);
  fd_ = stdin_ ? STDIN_FILENO : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    return absl::NotFoundError(StrCat("cannot open ", name_, ": ", std::strerror(errno)));
  struct stat st;
  if (fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(StrCat(name_, ": is a directory"));
  return absl::OkStatus();
}

absl::StatusOr<size_t> InputFile::Read(char* buf, size_t size, const std::function<bool()>& stop) {
  for (;;) {
    if (stop) {
      // A regular file is always ready; a pipe whose writer is quiet would otherwise hold a
      // reader that is told to stop until it writes again.
      pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
      const int ready = poll(&pfd, 1, 100);
      if (ready == 0 || (ready < 0 && errno == EINTR)) {
        if (stop()) return absl::CancelledError("input reading stopped");
        continue;
      }
    }
    const ssize_t n = read(fd_, buf, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR)
      return absl::FailedPreconditionError(
          StrCat("cannot read ", name_, ": ", std::strerror(errno)));
  }
}

OutputFile::~OutputFile() {
  if (fd_ >= 0 && fd_ != STDOUT_FILENO) close(fd_);
}

bool OutputFile::Write(std::string_view data) {
  if (fd_ < 0) {
    fd_ = path_ == "-" ? STDOUT_FILENO
                       : open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      error_ = StrCat("cannot write --output ", path_, ": ", std::strerror(errno));
      return false;
    }
  }
  while (!data.empty()) {
    const ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = StrCat("cannot write --output ", path_, ": ", std::strerror(errno));
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace lakehose::cli
