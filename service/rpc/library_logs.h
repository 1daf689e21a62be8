// Library logs: routes what protobuf and gRPC core log (parse failures, accept errors,
// handshake failures) through lakehose's Log (service/platform/log.h), so that every line
// on stderr is in the configured format (JSON by default) and secrets are redacted.
// Otherwise libprotobuf writes "[libprotobuf ERROR ...]" and gRPC "E1206 ...]" lines.
//
// Events: `protobuf.log` and `grpc.log`, with fields file, line and message. Levels map
// as they are, except protobuf's "invalid UTF-8 data when parsing" errors, which a
// client causes at will: those are debug (the client gets INVALID_ARGUMENT saying the
// same; see proto/request_parsing.h).
//
// Call once, early in main, before any other thread uses protobuf or gRPC (protobuf's
// SetLogHandler is not thread-safe).
#ifndef LAKEHOSE_SERVICE_RPC_LIBRARY_LOGS_H_
#define LAKEHOSE_SERVICE_RPC_LIBRARY_LOGS_H_

namespace lakehose {

void RouteLibraryLogsToLog();

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_LIBRARY_LOGS_H_
