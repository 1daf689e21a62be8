#include "client/cli/common.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

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
  std::stringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(StrCat("cannot open --input ", path));
    buf << in.rdbuf();
  }
  return buf.str();
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace lakehose::cli
