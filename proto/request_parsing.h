// Request parsing on the server: a request that is not a valid protobuf encoding of its
// message (garbage bytes, a string field that is not UTF-8) is answered INVALID_ARGUMENT
// with a message naming what is wrong, instead of gRPC 1.51's bare UNIMPLEMENTED.
//
// Why this shape: gRPC 1.51's callback handlers drop the deserialization status and
// answer UNIMPLEMENTED with no message (CallbackUnaryHandler::RunHandler), and a callback
// stream's Read just fails. So the request messages' grpc::SerializationTraits are
// specialised here (the generated lakehose.grpc.pb.h includes this header, through
// grpc_cpp_plugin's additional_header_includes, so every use sees the specialisation):
// their Deserialize always succeeds, and a message that did not parse is left empty and
// marked with the reason, which the handler reads with RequestParseStatus and answers.
// The mark is an unknown field of a reserved number; it is removed from every message
// that parsed, so a client cannot forge it.
//
//   if (absl::Status st = RequestParseStatus(*request); !st.ok()) return Finish(st);
//
// Serialization is gRPC's own (clients are unchanged). Stateless; thread-safe.
#ifndef LAKEHOSE_PROTO_REQUEST_PARSING_H_
#define LAKEHOSE_PROTO_REQUEST_PARSING_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "lakehose/v1/lakehose.pb.h"

namespace lakehose {

// gRPC's Deserialize for a request: parses `buffer` into `msg`; on failure clears `msg`
// and marks it with the reason. Returns OK unless `buffer` is missing.
grpc::Status DeserializeRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* msg);

// OK for a request that parsed; INVALID_ARGUMENT with the reason for one that did not.
absl::Status RequestParseStatus(const google::protobuf::Message& request);

// Why `bytes` do not parse as `descriptor`'s message ("" when they do): "not a protobuf
// encoding", or the path of the first string field that is not UTF-8
// ("records[2].record_id is not valid UTF-8").
std::string DiagnoseParseFailure(const std::string& bytes,
                                 const google::protobuf::Descriptor& descriptor);

}  // namespace lakehose

#define LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(Type)                                               \
  namespace grpc {                                                                                \
  template <>                                                                                     \
  class SerializationTraits<Type, void> {                                                         \
   public:                                                                                        \
    static Status Serialize(const protobuf::MessageLite& msg, ByteBuffer* bb, bool* own_buffer) { \
      return GenericSerialize<ProtoBufferWriter, Type>(msg, bb, own_buffer);                      \
    }                                                                                             \
    static Status Deserialize(ByteBuffer* buffer, protobuf::MessageLite* msg) {                   \
      return ::lakehose::DeserializeRequest(buffer, static_cast<Type*>(msg));                     \
    }                                                                                             \
  };                                                                                              \
  }

// Every request message of lakehose.v1's services.
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::TransformRequest)
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::IngestRequest)
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::FlushRequest)
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::ListDeadLettersRequest)
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::RedriveRequest)
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::PurgeRequest)
LAKEHOSE_REQUEST_SERIALIZATION_TRAITS(lakehose::v1::GetServerStatusRequest)

#undef LAKEHOSE_REQUEST_SERIALIZATION_TRAITS

#endif  // LAKEHOSE_PROTO_REQUEST_PARSING_H_
