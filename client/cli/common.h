// What every `lakehose` command shares: how errors reach the user and their exit codes,
// reading --input, the wall clock. Stateless functions; safe from any thread, though the
// CLI runs on one.
#ifndef LAKEHOSE_CLIENT_CLI_COMMON_H_
#define LAKEHOSE_CLIENT_CLI_COMMON_H_

#include <cstdint>
#include <string>
#include <string_view>

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

// The whole of `path`, or of stdin for "-". Errors name the flag, the path and the reason:
// "--input DIR: is a directory", "cannot open --input F: Permission denied".
absl::StatusOr<std::string> ReadInput(const std::string& path);

// Milliseconds since the Unix epoch, now.
int64_t NowMillis();

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_COMMON_H_
