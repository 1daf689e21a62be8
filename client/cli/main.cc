// lakehose: the command-line tool. Dispatches to the commands (client/cli/commands.h).
//
//   lakehose transform --config FILE --pipeline NAME [--input FILE|-] [--output FILE|-]
//   lakehose transform --target HOST:PORT --pipeline NAME [--batch N] [...]
//   lakehose send --target HOST:PORT --pipeline NAME [--input FILE|-] [--stream] [...]
//   lakehose flush --target HOST:PORT [--pipeline NAME]
//   lakehose generate --workload transactions|sites|edge --records N [--seed S]
//   lakehose dlq list|redrive|purge --target HOST:PORT [...]
//   lakehose health --target HOST:PORT [--service NAME]
//   lakehose table inspect --config FILE --pipeline NAME [--json]
//   lakehose table reindex --config FILE --pipeline NAME
//   lakehose table compact --config FILE --pipeline NAME [--min-deleted F] [--dry-run] [--json]
//   lakehose table expire --config FILE --pipeline NAME [--older-than AGE] [--retain-last N]
//   lakehose backfill --config FILE --pipeline NAME --export LOCATION [...]
//
// Every command that talks to a server takes the connection flags (TLS, mutual TLS,
// bearer token): kConnectionFlags in client/cli/flags.h.
#include <cstdio>
#include <string>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "core/base/strings.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] = R"(usage: lakehose <command> [options]

commands:
  transform   transform DynamoDB stream records offline (--config) or through a server (--target)
  send        ingest records through a server (delivered to the pipeline's lake)
  flush       make a server seal and store its buffers now; lists the objects written
  generate    print sample DynamoDB stream records as JSON lines
  dlq         list, redrive or purge a server's dead-letter queue
  health      ask a server's grpc.health.v1 service whether it is serving (exit 0 if so)
  table       inspect the Iceberg table of a format: iceberg pipeline (its config, no server)
  backfill    load a DynamoDB table's history (an export to S3, or a Scan) into a
              pipeline's destination, exactly once (its config, no server)
  help        this text; `lakehose <command> --help` for a command's options
)";

int Run(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "transform") return TransformCommand(argc, argv);
  if (command == "generate") return GenerateCommand(argc, argv);
  if (command == "send") return SendCommand(argc, argv);
  if (command == "flush") return FlushCommand(argc, argv);
  if (command == "dlq") return DlqCommand(argc, argv);
  if (command == "health") return HealthCommand(argc, argv);
  if (command == "table") return TableCommand(argc, argv);
  if (command == "backfill") return BackfillCommand(argc, argv);
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return UsageError(StrCat("unknown command ", command));
}

}  // namespace
}  // namespace lakehose::cli

int main(int argc, char** argv) { return lakehose::cli::Run(argc, argv); }
