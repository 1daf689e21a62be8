// ThriftCompactWriter / ThriftCompactReader: a small encoder and decoder for the Thrift
// compact protocol, enough for Parquet's metadata (FileMetaData, PageHeader and the
// structs they hold). The reader exists for core/parquet/parquet_reader.h (compaction
// reads lakehose's own files back).
//
// The caller drives the structure: BeginStruct/EndStruct bracket a struct (the top-level
// message included), each field is written with one of the Field* calls (field ids must
// increase within a struct, as generated Thrift code writes them), lists are opened
// with BeginList and their elements written with the element calls (no field header).
//
//   ThriftCompactWriter w;
//   w.BeginStruct();
//   w.FieldI32(1, 2);            // version
//   w.FieldBeginList(2, ThriftCompactWriter::kStruct, 1);
//   w.BeginStruct(); w.FieldBinary(4, "schema"); w.EndStruct();
//   w.EndStruct();
//   std::string bytes = w.Take();
//
// Encodings (Thrift's compact protocol specification): integers are ZigZag varints;
// a field header is one byte (id delta << 4 | type) when the id is 1..15 above the
// previous one, else the type byte and the id as a ZigZag varint; booleans live in the
// field header; lists start with (size << 4 | element type) below 15 elements, else
// 0xF0 | type and a varint size; a struct ends with a 0 byte.
//
// The reader walks a struct field by field (NextField), reading the values it wants and
// skipping the others (Skip); every length and count is checked against the bytes left,
// and Skip's nesting is bounded (kMaxThriftDepth), so no input makes it read out of
// bounds, allocate more than its input, or recurse without bound.
//
// Not thread-safe; the writer owns its buffer, the reader borrows its input. Pure: no I/O.
#ifndef LAKEHOSE_CORE_PARQUET_THRIFT_COMPACT_H_
#define LAKEHOSE_CORE_PARQUET_THRIFT_COMPACT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace lakehose {

class ThriftCompactWriter {
 public:
  // Compact-protocol type ids.
  enum Type : uint8_t {
    kBoolTrue = 1,
    kBoolFalse = 2,
    kByte = 3,
    kI16 = 4,
    kI32 = 5,
    kI64 = 6,
    kDouble = 7,
    kBinary = 8,
    kList = 9,
    kSet = 10,
    kMap = 11,
    kStruct = 12,
  };

  // Starts a struct: a field's value (after FieldBeginStruct), a list element, or the
  // top-level message.
  void BeginStruct();
  // Writes the stop byte and returns to the enclosing struct's field numbering.
  void EndStruct();

  void FieldBool(int16_t id, bool v);
  void FieldI8(int16_t id, int8_t v);
  void FieldI16(int16_t id, int16_t v);
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldDouble(int16_t id, double v);
  void FieldBinary(int16_t id, std::string_view v);
  // A struct-valued field: writes the header and calls BeginStruct; close with EndStruct.
  void FieldBeginStruct(int16_t id);
  // A list-valued field: the header, then `size` elements written with the element calls.
  void FieldBeginList(int16_t id, Type element_type, uint32_t size);

  // List header for a list nested in a list (not needed by Parquet, here for completeness).
  void BeginList(Type element_type, uint32_t size);
  // List elements.
  void ElementI32(int32_t v);
  void ElementI64(int64_t v);
  void ElementBinary(std::string_view v);
  void ElementBool(bool v);

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

  // Primitive encodings, exposed for tests.
  static void AppendVarint(uint64_t v, std::string* out);
  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }

 private:
  void FieldHeader(int16_t id, uint8_t type);

  std::string out_;
  int16_t last_id_ = 0;
  std::vector<int16_t> stack_;  // enclosing structs' last field ids
};

// Nesting of structs, lists, sets and maps the reader skips: Parquet's metadata nests a
// handful deep (FileMetaData > RowGroup > ColumnChunk > ColumnMetaData > Statistics),
// so 64 is generous and keeps Skip's recursion small.
inline constexpr int kMaxThriftDepth = 64;

class ThriftCompactReader {
 public:
  explicit ThriftCompactReader(std::string_view bytes) : in_(bytes) {}

  // The next field of the current struct: its id and compact type, or `*stop` at the
  // struct's end (the stop byte). A bool field's value is in its type
  // (ThriftCompactWriter::kBoolTrue / kBoolFalse); read it with FieldBoolValue.
  absl::Status NextField(int16_t* id, uint8_t* type, bool* stop);
  // A value (after its field header, or as a list element). Out-of-range integers fail.
  absl::Status ReadI32(int32_t* v);
  absl::Status ReadI64(int64_t* v);
  absl::Status ReadI16(int16_t* v);
  absl::Status ReadI8(int8_t* v);
  absl::Status ReadBinary(std::string_view* v);  // a view of the input
  absl::Status ReadDouble(double* v);
  // A list or set header: its element type and size (at most the bytes left, since every
  // element takes at least one byte).
  absl::Status ReadListHeader(uint8_t* element_type, uint32_t* size);
  // A nested struct value begins: its fields are numbered afresh. Pair with EndStruct
  // after NextField reported the stop.
  void BeginStruct();
  void EndStruct();
  // Skips a value of compact type `type` (after its field header or as a list element).
  absl::Status Skip(uint8_t type, int depth = 0);
  // Skips one element of a list, set or map of `type` (bools take a byte there).
  absl::Status SkipElement(uint8_t type, int depth = 0);
  static bool FieldBoolValue(uint8_t type) { return type == ThriftCompactWriter::kBoolTrue; }

  size_t position() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  absl::Status Varint(uint64_t* v);
  absl::Status Fail(std::string_view what) const;

  std::string_view in_;
  size_t pos_ = 0;
  int16_t last_id_ = 0;
  std::vector<int16_t> stack_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_THRIFT_COMPACT_H_
