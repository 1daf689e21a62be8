// `lakehose generate`: prints deterministic sample DynamoDB stream records (the workloads
// of core/workload) as JSON lines, for demos, tests and benchmarks.
#include <cstdint>
#include <cstdio>
#include <string>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/flags.h"
#include "core/workload/workload.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose generate --workload transactions|sites|edge [--records N] [--seed S]
                         [--start-ms MS]

Prints DynamoDB Streams records (as Lambda receives them), one JSON per line,
INSERT/MODIFY/REMOVE mixed. The same seed always gives the same records.

  transactions  financial transactions, ~1.3 KB per record (the demo pipeline's input)
  sites         the small siteId/createdAtTime shape of the Firehose sample
  edge          every DynamoDB type and the hard cases (for correctness tests)
)";

constexpr Flag kFlags[] = {
    {.name = "workload",
     .value = "NAME",
     .help = "transactions (the default), sites or edge: see above"},
    {.name = "records", .value = "N", .help = "how many (default 1000)"},
    {.name = "seed", .value = "S", .help = "random seed (default 1)"},
    {.name = "start-ms",
     .value = "MS",
     .help = "earliest event time, ms since the epoch (default 1700000000000)"},
};

}  // namespace

int GenerateCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags}, argc, argv, 2, &flags))
    return *rc;
  auto workload = ParseWorkload(flags.get("workload", "transactions"));
  if (!workload) return UsageError("--workload must be transactions, sites or edge");
  int64_t records = 1000, seed = 1, start_ms = 1700000000000;
  if (flags.has("records") && !ParseCount(flags.get("records"), 0, &records))
    return UsageError("--records must be a non-negative integer");
  if (flags.has("seed") && !ParseCount(flags.get("seed"), 0, &seed))
    return UsageError("--seed must be a non-negative integer");
  if (flags.has("start-ms") && !ParseCount(flags.get("start-ms"), 0, &start_ms))
    return UsageError("--start-ms must be a non-negative integer");
  WorkloadGenerator gen(*workload, static_cast<uint64_t>(seed), start_ms);
  std::string buf;
  for (int64_t i = 0; i < records; ++i) {
    gen.Next(&buf);
    buf.push_back('\n');
    if (buf.size() > (1 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size())
        return Fail("cannot write to stdout");
      buf.clear();
    }
  }
  if (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size() || std::fflush(stdout) != 0)
    return Fail("cannot write to stdout");
  return 0;
}

}  // namespace lakehose::cli
