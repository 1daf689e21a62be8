// The `lakehose` commands, one file each, dispatched by client/cli/main.cc. Each takes
// main's argc/argv whole (the command word is argv[1]), parses its own flags, and returns
// the process exit code: 0 done, 1 the work failed, 2 the command line is at fault (or,
// for health, the server cannot be reached). The CLI runs them on its one thread.
#ifndef LAKEHOSE_CLIENT_CLI_COMMANDS_H_
#define LAKEHOSE_CLIENT_CLI_COMMANDS_H_

namespace lakehose::cli {

int TransformCommand(int argc, char** argv);  // client/cli/transform.cc
int SendCommand(int argc, char** argv);       // client/cli/send.cc
int FlushCommand(int argc, char** argv);      // client/cli/flush.cc
int GenerateCommand(int argc, char** argv);   // client/cli/generate.cc
int DlqCommand(int argc, char** argv);        // client/cli/dlq.cc: list, redrive, purge
int HealthCommand(int argc, char** argv);     // client/cli/health.cc
int TableCommand(int argc, char** argv);      // client/cli/table.cc: inspect
int BackfillCommand(int argc, char** argv);   // client/cli/backfill.cc

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_COMMANDS_H_
