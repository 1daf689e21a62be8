// `lakehose health`: asks a server's grpc.health.v1 service whether it is serving; the
// exit code answers, for container HEALTHCHECKs and scripts.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/connect.h"
#include "client/cli/flags.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose health --target HOST:PORT [--service NAME] [--timeout SECONDS]

Calls grpc.health.v1.Health/Check and prints the status: SERVING, NOT_SERVING (e.g.
while the server drains), SERVICE_UNKNOWN or UNKNOWN. Health needs no token. For
container HEALTHCHECKs and scripts.

exit status: 0 SERVING; 1 any other status; 2 usage error, or the server cannot be
reached (connection refused, TLS handshake failed, timeout).
)";

constexpr Flag kFlags[] = {
    {.name = "target", .value = "HOST:PORT", .help = "the server (required)"},
    {.name = "service",
     .value = "NAME",
     .help = "a service name (\"\" = the server as a whole, the default)"},
    {.name = "timeout", .value = "SECONDS", .help = "how long to wait for the answer (default 5)"},
};

}  // namespace

int HealthCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags, .connection = true}, argc,
                                  argv, 2, &flags))
    return *rc;
  if (!flags.has("target")) return UsageError("--target is required");
  double timeout_s = 5;
  if (flags.has("timeout")) {
    char* end = nullptr;
    const std::string t = flags.get("timeout");
    timeout_s = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !(timeout_s > 0 && timeout_s <= 3600))
      return UsageError("--timeout must be a number of seconds, above 0 and at most 3600");
  }
  int rc = 0;
  auto client = Connect(flags, &rc, absl::Seconds(timeout_s));
  if (!client) return 2;  // a usage error, or the server cannot be reached
  auto status = client->CheckHealth(flags.get("service"), absl::Seconds(timeout_s));
  if (!status.ok()) {
    std::cerr << "lakehose: health: cannot get an answer from " << flags.get("target") << ": "
              << RpcError(status.status()) << "\n";
    return 2;
  }
  const std::string_view name = HealthStatusName(*status);
  std::fwrite(name.data(), 1, name.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  return *status == HealthStatus::kServing ? 0 : 1;
}

}  // namespace lakehose::cli
