// The CLI's side of flag parsing: each command declares its flags and --help text as a
// CommandFlags and calls ParseCommandFlags, which runs the one parser (core/base/flags.h),
// adds the connection flags of commands that talk to a server, and turns --help and
// mistakes into output and exit codes the same way for every command.
// Stateless functions; the CLI runs on one thread.
#ifndef LAKEHOSE_CLIENT_CLI_FLAGS_H_
#define LAKEHOSE_CLIENT_CLI_FLAGS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/base/flags.h"

namespace lakehose::cli {

// The flags every command that talks to a server takes: TLS, mutual TLS, bearer token.
inline constexpr Flag kConnectionFlags[] = {
    {.name = "tls", .type = FlagType::kBool},
    {.name = "tls-ca"},
    {.name = "tls-cert"},
    {.name = "tls-key"},
    {.name = "tls-server-name"},
    {.name = "token-file"},
};

// One command's command line.
struct CommandFlags {
  std::string_view usage;       // printed for --help
  std::span<const Flag> flags;  // besides --help
  bool connection = false;      // also kConnectionFlags (and --help explains them)
};

// Parses argv[first..] (after the command words) into `*out`. Returns the exit code when
// the command is already done: 0 after printing the usage for --help, 2 after a usage
// error on stderr; std::nullopt when the command should go on.
std::optional<int> ParseCommandFlags(const CommandFlags& command, int argc, char** argv, int first,
                                     ParsedFlags* out);

// Any of kConnectionFlags given.
bool AnyConnectionFlag(const ParsedFlags& flags);

// A whole decimal integer >= `lo` into `*out`; false (and `*out` untouched) otherwise.
bool ParseCount(const std::string& text, int64_t lo, int64_t* out);

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_FLAGS_H_
