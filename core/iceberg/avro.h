// Avro (specification 1.11) as Iceberg needs it: the binary encoding, object container
// files, and a generic reader that decodes any container file by its writer schema.
//
// Why our own: Iceberg readers find columns by the `field-id`, `element-id`, `key-id` and
// `value-id` attributes of the schema in the file's header, and the libraries at hand
// (avsc, Debian's) rewrite the header schema without them. WriteAvroContainer writes the
// caller's schema JSON verbatim.
//
//   std::vector<std::string> records(1);
//   AvroEncoder e(&records[0]);
//   e.Long(7); e.String("x");                 // a record {long, string}
//   AvroContainerOptions o;
//   o.schema_json = R"({"type":"record","name":"r","fields":[...]})";
//   o.sync_marker = sync16;                   // 16 bytes from the caller (core has no randomness)
//   ASSIGN_OR_RETURN(std::string file, WriteAvroContainer(o, records));
//   ASSIGN_OR_RETURN(AvroFile f, ReadAvroContainer(file));
//
// Pure (no I/O); every function is safe to call from any thread, an AvroEncoder is not.
#ifndef LAKEHOSE_CORE_ICEBERG_AVRO_H_
#define LAKEHOSE_CORE_ICEBERG_AVRO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose::iceberg {

// Appends Avro binary encodings to a borrowed string. Integers are zigzag varints, float
// and double little-endian IEEE 754, bytes and strings a long length then the bytes, fixed
// the bytes alone. A union value is UnionIndex(branch) then the branch's value. An array
// or map is written as one block: BlockCount(n), the n items (a map item is String(key)
// then the value), then EndBlocks(); BlockCount(0) writes nothing, so an empty array is
// EndBlocks() alone. The caller follows the schema: the encoder does not know it.
class AvroEncoder {
 public:
  explicit AvroEncoder(std::string* out) : out_(out) {}

  void Null() {}
  void Bool(bool v) { out_->push_back(v ? 1 : 0); }
  void Int(int32_t v) { Long(v); }
  void Long(int64_t v);
  void Float(float v);
  void Double(double v);
  void Bytes(std::string_view v);
  void String(std::string_view v) { Bytes(v); }
  void Fixed(std::string_view v) { out_->append(v); }
  void UnionIndex(int64_t branch) { Long(branch); }
  void BlockCount(int64_t n) {
    if (n > 0) Long(n);
  }
  void EndBlocks() { out_->push_back(0); }

 private:
  std::string* out_;
};

struct AvroContainerOptions {
  // The writer schema, written to `avro.schema` byte for byte. It must parse as an Avro
  // schema (WriteAvroContainer checks, so that no reader refuses the file).
  std::string schema_json;
  // More header entries, after avro.schema and avro.codec. Keys must not start with
  // "avro." (reserved by the specification).
  std::vector<std::pair<std::string, std::string>> metadata;
  // kDeflate: each block raw deflate (RFC 1951), as the specification's "deflate" codec.
  enum class Codec { kNull, kDeflate };
  Codec codec = Codec::kNull;
  // The 16-byte sync marker that ends the header and every block. A file's marker should be
  // unique (readers resynchronize on it); the caller draws it, core has no randomness.
  std::string sync_marker;
  // Records per block (at least 1), and the most bytes a block holds before compression
  // (a record larger than that is a block of its own). Java writes blocks of about 64 KiB;
  // so does this, by default: readers decompress a block at a time, and some (icebird's
  // inflater) go wrong past 256 KiB of output.
  int64_t max_block_records = 10000;
  int64_t max_block_bytes = 64 * 1024;
};

// An object container file holding `encoded_records` (each one record's Avro binary
// encoding under options.schema_json), in blocks of at most max_block_records and
// max_block_bytes. No records: a header alone. INVALID_ARGUMENT for a sync marker that is not 16
// bytes, a schema that does not parse, a reserved metadata key or max_block_records < 1.
absl::StatusOr<std::string> WriteAvroContainer(const AvroContainerOptions& options,
                                               const std::vector<std::string>& encoded_records);

// One decoded value. int and long are kLong (`l`), float and double kDouble (`d`), bytes,
// string and fixed keep their bytes in `s`, an enum its symbol index in `l`. A union's
// value is its branch's value with `union_branch` set to the branch index (-1: not from a
// union). Logical types decode as their underlying type.
struct AvroValue {
  enum class Kind {
    kNull,
    kBoolean,
    kLong,
    kDouble,
    kBytes,
    kString,
    kFixed,
    kEnum,
    kArray,
    kMap,
    kRecord
  };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t l = 0;
  double d = 0;
  std::string s;
  std::vector<AvroValue> items;                           // kArray
  std::vector<std::pair<std::string, AvroValue>> fields;  // kMap entries; kRecord fields
                                                          // in schema order
  int union_branch = -1;

  // Out of line: a std::pair of this still-incomplete type must not be instantiated here
  // (clang with libstdc++ refuses it).
  AvroValue();
  AvroValue(const AvroValue&);
  AvroValue(AvroValue&&) noexcept;
  AvroValue& operator=(const AvroValue&);
  AvroValue& operator=(AvroValue&&) noexcept;
  ~AvroValue();

  bool is_null() const { return kind == Kind::kNull; }
  // A record's field (or a map's entry) named `name`, or nullptr.
  const AvroValue* Find(std::string_view name) const;
};

struct AvroFile {
  std::string schema_json;  // the header's avro.schema, verbatim
  // Every header entry except avro.schema and avro.codec, in file order.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<AvroValue> records;
};

// Limits of ReadAvroContainer, each with its reason:
//   kAvroMaxDepth           nesting of schemas and values (records, arrays, maps, unions);
//                           Iceberg manifests nest 5 deep, and a recursive schema must not
//                           recurse without end.
//   kAvroMaxBlockBytes      one block's bytes after decompression: a few KiB of deflate
//                           must not become gigabytes.
//   kAvroMaxZeroSizeValues  values that take no bytes (null, an empty record): every other
//                           count is bounded by the bytes left, these by this budget.
//                           Iceberg metadata has none; the budget keeps a few bytes of
//                           counts from becoming millions of values in memory.
inline constexpr int kAvroMaxDepth = 64;
inline constexpr size_t kAvroMaxBlockBytes = size_t{64} << 20;
inline constexpr int64_t kAvroMaxZeroSizeValues = int64_t{1} << 16;

// Decodes an object container file: the header (magic, metadata, sync), the writer
// schema, and every record of every block (codecs "null" and "deflate"). Damaged or
// hostile input gives INVALID_ARGUMENT naming what was wrong and where (block number, byte
// offset); it never crashes and its work is bounded by the input's size and the limits
// above. An unsupported codec (snappy, zstd, ...) is UNIMPLEMENTED.
absl::StatusOr<AvroFile> ReadAvroContainer(std::string_view bytes);

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_AVRO_H_
