// ParseHostPort: the one reading of a listen address ("HOST:PORT") for the gRPC server
// (--listen, server.grpc_listen) and the metrics endpoint (--metrics-listen,
// server.metrics_listen), so that neither server is handed something it would read
// differently: gRPC keeps the low 16 bits of port 99999, civetweb reads "80,81" as two
// ports and "80s" as TLS.
//
//   ASSIGN_OR_RETURN(HostPort hp, ParseHostPort("127.0.0.1:0"));  // port 0: any free one
//
// Accepted: NAME:PORT or IPv4:PORT (host from A-Z a-z 0-9 . - _), [IPv6]:PORT; PORT is
// decimal digits, 0-65535. Errors are INVALID_ARGUMENT with the reason only; the caller
// adds the flag or key path. Pure; thread-safe.
#ifndef LAKEHOSE_CORE_BASE_HOST_PORT_H_
#define LAKEHOSE_CORE_BASE_HOST_PORT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lakehose {

struct HostPort {
  std::string host;  // as written; an IPv6 host keeps its brackets
  int port = 0;      // 0 = any free port
};

absl::StatusOr<HostPort> ParseHostPort(std::string_view address);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_HOST_PORT_H_
