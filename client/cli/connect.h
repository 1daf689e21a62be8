// Connect: the client for a command's --target, set up from the connection flags
// (kConnectionFlags in client/cli/flags.h) and connected before the command's first call,
// so that a server that cannot be reached is one clear error within --deadline rather
// than a silent wait. Thread-compatible; the caller owns the Client.
#ifndef LAKEHOSE_CLIENT_CLI_CONNECT_H_
#define LAKEHOSE_CLIENT_CLI_CONNECT_H_

#include <memory>

#include "absl/time/time.h"
#include "client/client.h"
#include "core/base/flags.h"

namespace lakehose::cli {

// How long a command waits for its connection when --deadline is not given.
inline constexpr absl::Duration kDefaultConnectDeadline = absl::Seconds(10);

// TLS when --tls or any --tls-* flag is given; the token from --token-file, else
// $LAKEHOSE_TOKEN. Waits up to --deadline (else `default_deadline`) for the connection,
// saying "lakehose: connecting to HOST:PORT ..." on stderr when it is not made within half
// a second. Returns the connected client; or nullptr after printing why, with
// `*exit_code` 2 when the command line is at fault (a bad --deadline, a TLS or token file
// that cannot be used) and 1 when the server cannot be reached ("lakehose: cannot connect
// to HOST:PORT within 10s: UNAVAILABLE: ... Connection refused").
std::unique_ptr<Client> Connect(const ParsedFlags& flags, int* exit_code,
                                absl::Duration default_deadline = kDefaultConnectDeadline);

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_CONNECT_H_
