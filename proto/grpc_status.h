// Conversions between absl::Status (what lakehose's code returns) and grpc::Status (what
// crosses the wire), for the server's handlers and the client library alike. A small
// library of its own (lakehose_grpc_status) so that the client links it without the
// service.
//
// What is carried: the code (the canonical codes are the same numbers in both, which
// grpc_status.cc asserts at compile time) and the message. Nothing else: an
// absl::Status's payloads are not sent (they are in-process markers, e.g. the delivery
// engine's buffer-budget refusal), and a grpc::Status's error_details are not read. A
// retry delay travels as the trailing metadata grpc-retry-pushback-ms, which the
// service sets on the call's context, not through the status. An OK status has no
// message in either direction.
//
// Stateless; thread-safe.
#ifndef LAKEHOSE_PROTO_GRPC_STATUS_H_
#define LAKEHOSE_PROTO_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace lakehose {

absl::Status FromGrpcStatus(const grpc::Status& s);
grpc::Status ToGrpcStatus(const absl::Status& s);

}  // namespace lakehose

#endif  // LAKEHOSE_PROTO_GRPC_STATUS_H_
