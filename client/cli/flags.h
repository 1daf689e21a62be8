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

// The flags every command that talks to a server takes: the connection deadline, TLS,
// mutual TLS, bearer token (client/cli/connect.h uses them).
inline constexpr Flag kConnectionFlags[] = {
    {.name = "deadline",
     .needs = "a number of seconds",
     .value = "SECONDS",
     .help = "how long to wait for the connection to the server (default 10;\n"
             "health: its --timeout); the command fails if it is not made by then"},
    {.name = "tls",
     .type = FlagType::kBool,
     .help = "use TLS, trusting the system's CAs (implied by the --tls-* flags)"},
    {.name = "tls-ca",
     .value = "FILE",
     .help = "PEM CA certificates that sign the server's certificate"},
    {.name = "tls-cert",
     .value = "FILE",
     .help = "mutual TLS: this client's certificate chain (PEM), with --tls-key"},
    {.name = "tls-key", .value = "FILE", .help = "the private key (PEM) of --tls-cert"},
    {.name = "tls-server-name",
     .value = "NAME",
     .help = "the name the server's certificate must carry, when it differs\n"
             "from the host of --target (e.g. --target 127.0.0.1:50051)"},
    {.name = "token-file",
     .value = "FILE",
     .help = "bearer token to send (default: the LAKEHOSE_TOKEN environment\n"
             "variable, if set)"},
};

// One command's command line.
struct CommandFlags {
  // Printed for --help, followed by the options section that ParseCommandFlags renders
  // from `flags` (and kConnectionFlags): so the usage itself lists no options.
  std::string_view usage;
  std::span<const Flag> flags;  // besides --help; each with its .value and .help
  bool connection = false;      // also kConnectionFlags
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
