// Connect: the client for a command's --target, set up from the connection flags
// (kConnectionFlags in client/cli/flags.h). Thread-compatible; the caller owns the Client.
#ifndef LAKEHOSE_CLIENT_CLI_CONNECT_H_
#define LAKEHOSE_CLIENT_CLI_CONNECT_H_

#include <memory>

#include "client/client.h"
#include "core/base/flags.h"

namespace lakehose::cli {

// TLS when --tls or any --tls-* flag is given; the token from --token-file, else
// $LAKEHOSE_TOKEN. Prints the error and returns nullptr when a file cannot be used (the
// caller exits 2: the command line is at fault).
std::unique_ptr<Client> Connect(const ParsedFlags& flags);

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_CONNECT_H_
