#include "proto/request_parsing.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/support/proto_buffer_reader.h"

namespace lakehose {
namespace {

// The unknown field that marks a request that did not parse: the largest field number
// protobuf allows, which no lakehose message uses.
constexpr int kParseFailureField = 536870911;

// Nested messages followed when looking for the bad field. lakehose's requests nest two
// levels (request, record); past this the reason stays generic rather than recursing
// deeper into untrusted input.
constexpr int kMaxDiagnosisDepth = 8;

// Diagnosing copies the request, and each nested message again: only requests up to this
// size are diagnosed, so a large malformed request costs no memory beyond what gRPC's
// quota already counts (the answer then says what was not done).
constexpr size_t kMaxDiagnosisBytes = size_t{1} << 20;

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// The path of the first string field under `set` (parsed as `descriptor`) that is not
// UTF-8, prefixed by `prefix`; "" if none.
std::string FindInvalidUtf8(const UnknownFieldSet& set, const Descriptor& descriptor,
                            const std::string& prefix, int depth) {
  absl::flat_hash_map<int, int> seen;  // occurrences of each repeated field so far
  for (int i = 0; i < set.field_count(); ++i) {
    const UnknownField& f = set.field(i);
    if (f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const FieldDescriptor* fd = descriptor.FindFieldByNumber(f.number());
    if (fd == nullptr) continue;
    const int index = seen[f.number()]++;
    std::string path = prefix + fd->name();
    if (fd->is_repeated()) path += "[" + std::to_string(index) + "]";
    const std::string& value = f.length_delimited();
    if (fd->type() == FieldDescriptor::TYPE_STRING) {
      if (!google::protobuf::internal::IsStructurallyValidUTF8(value.data(),
                                                               static_cast<int>(value.size())))
        return path;
    } else if (fd->type() == FieldDescriptor::TYPE_MESSAGE && depth < kMaxDiagnosisDepth) {
      UnknownFieldSet nested;
      if (!nested.ParseFromString(value)) continue;
      std::string found = FindInvalidUtf8(nested, *fd->message_type(), path + ".", depth + 1);
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace

std::string DiagnoseParseFailure(const std::string& bytes, const Descriptor& descriptor) {
  UnknownFieldSet set;
  if (!set.ParseFromString(bytes)) return "the bytes are not a protobuf encoding";
  const std::string path = FindInvalidUtf8(set, descriptor, "", 0);
  if (!path.empty())
    return path +
           " is not valid UTF-8 (string fields must be; record data goes in Record.data, "
           "which is bytes)";
  return "a field's encoding does not match its declared type";
}

grpc::Status DeserializeRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* msg) {
  if (buffer == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "No payload");
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(buffer);
    parsed = reader.status().ok() && msg->ParseFromZeroCopyStream(&reader);
  }
  const google::protobuf::Reflection* reflection = msg->GetReflection();
  if (parsed) {
    if (!reflection->GetUnknownFields(*msg).empty())
      reflection->MutableUnknownFields(msg)->DeleteByNumber(kParseFailureField);
  } else if (const size_t length = buffer->Length(); length > kMaxDiagnosisBytes) {
    msg->Clear();
    reflection->MutableUnknownFields(msg)->AddLengthDelimited(
        kParseFailureField, "request is not a valid " + msg->GetDescriptor()->full_name() + " (" +
                                std::to_string(length) +
                                " bytes; requests over 1 MiB are not diagnosed further)");
  } else {
    std::string bytes;
    {
      grpc::ProtoBufferReader again(buffer);
      const void* data;
      int size;
      while (again.Next(&data, &size)) bytes.append(static_cast<const char*>(data), size);
    }
    msg->Clear();
    reflection->MutableUnknownFields(msg)->AddLengthDelimited(
        kParseFailureField, "request is not a valid " + msg->GetDescriptor()->full_name() + ": " +
                                DiagnoseParseFailure(bytes, *msg->GetDescriptor()));
  }
  buffer->Clear();
  return grpc::Status::OK;
}

absl::Status RequestParseStatus(const google::protobuf::Message& request) {
  const UnknownFieldSet& unknown = request.GetReflection()->GetUnknownFields(request);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const UnknownField& f = unknown.field(i);
    if (f.number() == kParseFailureField && f.type() == UnknownField::TYPE_LENGTH_DELIMITED)
      return absl::InvalidArgumentError(f.length_delimited());
  }
  return absl::OkStatus();
}

}  // namespace lakehose
