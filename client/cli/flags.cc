#include "client/cli/flags.h"

#include <cstdio>
#include <iterator>
#include <vector>

#include "client/cli/common.h"
#include "core/base/strings.h"

namespace lakehose::cli {
namespace {

constexpr std::string_view kConnectionUsage = R"(
connection (every command that talks to a server):
  --tls                  use TLS, trusting the system's CAs (implied by the --tls-* flags)
  --tls-ca FILE          PEM CA certificates that sign the server's certificate
  --tls-cert FILE        mutual TLS: this client's certificate chain (PEM), with --tls-key
  --tls-key FILE         the private key (PEM) of --tls-cert
  --tls-server-name NAME the name the server's certificate must carry, when it differs
                         from the host of --target (e.g. --target 127.0.0.1:50051)
  --token-file FILE      bearer token to send (default: the LAKEHOSE_TOKEN environment
                         variable, if set)
)";

}  // namespace

std::optional<int> ParseCommandFlags(const CommandFlags& command, int argc, char** argv, int first,
                                     ParsedFlags* out) {
  std::vector<Flag> flags(command.flags.begin(), command.flags.end());
  if (command.connection)
    flags.insert(flags.end(), std::begin(kConnectionFlags), std::end(kConnectionFlags));
  absl::StatusOr<ParsedFlags> parsed = ParseFlags(flags, ArgsOf(argc, argv, first));
  if (!parsed.ok()) return UsageError(StatusMessage(parsed.status()));
  if (parsed->stopped_at() == "help") {
    std::fwrite(command.usage.data(), 1, command.usage.size(), stdout);
    if (command.connection)
      std::fwrite(kConnectionUsage.data(), 1, kConnectionUsage.size(), stdout);
    return 0;
  }
  *out = *std::move(parsed);
  return std::nullopt;
}

bool AnyConnectionFlag(const ParsedFlags& flags) {
  for (const Flag& flag : kConnectionFlags)
    if (flags.has(flag.name)) return true;
  return false;
}

bool ParseCount(const std::string& text, int64_t lo, int64_t* out) {
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size() || v < lo) return false;
    *out = v;
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace lakehose::cli
