// Conversions between core's verdict vocabulary (core/transform/record.h) and the wire enums of
// lakehose.v1.RecordResult, in one place for the server, the client and the CLI.
#ifndef LAKEHOSE_PROTO_WIRE_H_
#define LAKEHOSE_PROTO_WIRE_H_

#include "core/transform/record.h"
#include "lakehose/v1/lakehose.pb.h"

namespace lakehose {

v1::RecordResult::Result ToWire(Verdict v);
v1::RecordResult::Operation ToWire(Operation o);
Verdict FromWire(v1::RecordResult::Result r);
Operation FromWire(v1::RecordResult::Operation o);

}  // namespace lakehose

#endif  // LAKEHOSE_PROTO_WIRE_H_
