#include "client/cli/common.h"

#include <fcntl.h>
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

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  // A directory opens and reads as empty through iostreams: "0 records", exit 0. So read
  // with POSIX calls, which say what is wrong.
  const bool stdin_input = path == "-";
  const int fd = stdin_input ? STDIN_FILENO : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const std::string name = stdin_input ? "--input - (stdin)" : StrCat("--input ", path);
  if (fd < 0) return absl::NotFoundError(StrCat("cannot open ", name, ": ", std::strerror(errno)));
  struct stat st;
  const bool have_stat = fstat(fd, &st) == 0;
  std::string text;
  std::string error;
  if (have_stat && S_ISDIR(st.st_mode)) {
    error = StrCat(name, ": is a directory");
  } else {
    if (have_stat && S_ISREG(st.st_mode)) text.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) {
        text.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        error = StrCat("cannot read ", name, ": ", std::strerror(errno));
        break;
      }
    }
  }
  if (!stdin_input) close(fd);
  if (!error.empty()) return absl::FailedPreconditionError(error);
  return text;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace lakehose::cli
