// `lakehose flush`: makes a server seal and store its buffers now (Flush) and lists the
// objects written.
#include <cstdio>
#include <string>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/connect.h"
#include "client/cli/flags.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] = R"(usage: lakehose flush --target HOST:PORT [--pipeline NAME]

Seals every buffer (of one pipeline, or all) and waits until the objects are stored.
Prints one line per object written: URI, records, bytes (tab-separated).
)";

constexpr Flag kFlags[] = {
    {.name = "target", .value = "HOST:PORT", .help = "the server (required)"},
    {.name = "pipeline", .value = "NAME", .help = "only this pipeline's buffers (default: all)"},
};

}  // namespace

int FlushCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags, .connection = true}, argc,
                                  argv, 2, &flags))
    return *rc;
  if (!flags.has("target")) return UsageError("--target is required");
  int rc = 0;
  auto client = Connect(flags, &rc);
  if (!client) return rc;
  auto response = client->Flush(flags.get("pipeline"));
  if (!response.ok()) return Fail(RpcError(response.status()));
  int64_t records = 0, bytes = 0;
  for (const auto& o : response->objects()) {
    std::printf("%s\t%lld\t%lld\n", o.uri().c_str(), static_cast<long long>(o.records()),
                static_cast<long long>(o.bytes()));
    records += o.records();
    bytes += o.bytes();
  }
  std::fprintf(stderr, "lakehose flush: %d objects, %lld records, %lld bytes\n",
               response->objects_size(), static_cast<long long>(records),
               static_cast<long long>(bytes));
  return 0;
}

}  // namespace lakehose::cli
