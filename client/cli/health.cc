// `lakehose health`: asks a server's grpc.health.v1 service whether it is serving; the
// exit code answers, for container HEALTHCHECKs and scripts. For the server as a whole it
// also reads ServerStatus and prints the S3 destinations that are down and the
// dead-letter backlog, which health alone cannot say.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/connect.h"
#include "client/cli/flags.h"
#include "core/base/strings.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose health --target HOST:PORT [--service NAME] [--timeout SECONDS]

Calls grpc.health.v1.Health/Check and prints the status: SERVING, NOT_SERVING (e.g.
while the server drains), SERVICE_UNKNOWN or UNKNOWN. Health needs no token. For
container HEALTHCHECKs and scripts.

Without --service, it then asks ServerStatus for the detail and prints a line per S3
destination that is down, and the dead-letter backlog if there is one:
  destination s3://lake: down (open) for 42 s; next probe in 8 s; last error: ...
  dead-letter backlog: 12 objects, 3145728 bytes on disk
A destination that is down does not make the server NOT_SERVING: Ingest still
acknowledges to disk and the backlog drains once it is back. The detail needs the token
when the server has one (--token-file or LAKEHOSE_TOKEN); without it, or from a server
that has no ServerStatus, only the status line is printed. The exit code depends on the
status only.

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

// How long the ServerStatus call after Health/Check may take (a local server answers in
// well under a millisecond: it reads the breakers and the DLQ index).
constexpr absl::Duration kDetailTimeout = absl::Seconds(1);

// The lines `lakehose health` adds after the status: destinations down, then the backlog.
std::string DescribeServerStatus(const v1::GetServerStatusResponse& status) {
  std::string out;
  for (const v1::DestinationStatus& d : status.destinations()) {
    if (d.state() == "closed") continue;
    out += StrCat("destination ", d.destination(), ": down (", d.state(), ") for ",
                  static_cast<int64_t>(d.outage_seconds()), " s");
    if (d.state() == "open")
      out += StrCat("; next probe in ", (d.next_probe_in_ms() + 999) / 1000, " s");
    if (!d.last_error().empty()) out += StrCat("; last error: ", d.last_error());
    out += '\n';
  }
  if (status.dlq_delivery_entries() > 0)
    out += StrCat("dead-letter backlog: ", status.dlq_delivery_entries(), " objects, ",
                  status.dlq_backlog_bytes(), " bytes on disk\n");
  return out;
}

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
  std::string out(HealthStatusName(*status));
  out += '\n';
  if (flags.get("service").empty()) {
    // The detail is extra: it must not make a container probe late (Docker's HEALTHCHECK
    // gives 3 s), so it gets at most kDetailTimeout, and --timeout if that is shorter.
    const absl::Duration detail_timeout = std::min(kDetailTimeout, absl::Seconds(timeout_s));
    if (auto detail = client->GetServerStatus(detail_timeout); detail.ok())
      out += DescribeServerStatus(*detail);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return *status == HealthStatus::kServing ? 0 : 1;
}

}  // namespace lakehose::cli
