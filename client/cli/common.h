// What every `lakehose` command shares: how errors reach the user and their exit codes,
// reading --input, the wall clock. Stateless functions; safe from any thread, though the
// CLI runs on one.
#ifndef LAKEHOSE_CLIENT_CLI_COMMON_H_
#define LAKEHOSE_CLIENT_CLI_COMMON_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lakehose::cli {

// Prints "lakehose: <message>" to stderr; returns 1, the exit code of a failed command.
int Fail(std::string_view message);

// Prints "lakehose: <message> (see --help)" to stderr; returns 2, the exit code of a
// command line at fault.
int UsageError(std::string_view message);

// A failed call's status as "CODE: message" ("UNAVAILABLE: failed to connect ...").
std::string RpcError(const absl::Status& status);

// --input read in chunks: a file, or stdin for "-". Errors name the flag, the path and
// the reason: "--input DIR: is a directory", "cannot open --input F: Permission denied".
class InputFile {
 public:
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();
  absl::Status Open(const std::string& path);
  // Up to `size` bytes into `buf`; 0 at the end of the input. While no data comes (a pipe
  // or terminal), `stop` is asked every 100 ms: when it says so, CANCELLED.
  absl::StatusOr<size_t> Read(char* buf, size_t size, const std::function<bool()>& stop = nullptr);

 private:
  int fd_ = -1;
  bool stdin_ = false;
  std::string name_;
};

// --output written in large pieces: a file (created, or truncated, at the first write),
// or stdout for "-".
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {}
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();
  // Writes all of `data`; false (with errno's reason in error()) when it cannot.
  bool Write(std::string_view data);
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string error_;
};

// Milliseconds since the Unix epoch, now.
int64_t NowMillis();

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_COMMON_H_
