// The value encodings of Parquet pages that lakehose writes (the format's Encodings.md):
// PLAIN for every physical type, the RLE / bit-packed hybrid of levels and dictionary
// indices, and the dictionary of a BYTE_ARRAY column chunk. Byte-level only: which
// encoding a chunk uses and how pages are cut is the column writer's
// (core/parquet/column_writer.h).
//
// Pure functions appending to the caller's string (PlainBooleans also holds the bits of
// an unfinished byte); thread-compatible.
#ifndef LAKEHOSE_CORE_PARQUET_ENCODING_H_
#define LAKEHOSE_CORE_PARQUET_ENCODING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/parquet/number.h"

namespace lakehose {
namespace parquet_internal {

// Little-endian fixed width, as PLAIN INT32/INT64 and the 4-byte length prefixes.
void PutU32(uint32_t v, std::string* out);
void PutU64(uint64_t v, std::string* out);

// PLAIN values: BYTE_ARRAY is a 4-byte length and the bytes; INT64 and DOUBLE 8 bytes
// little-endian (DOUBLE as its IEEE 754 bits); a DECIMAL's FIXED_LEN_BYTE_ARRAY(16) the
// unscaled value, big-endian two's complement.
void AppendPlainByteArray(std::string_view v, std::string* out);
void AppendPlainInt64(int64_t v, std::string* out);
void AppendPlainDouble(double v, std::string* out);
void AppendPlainDecimal(Int128 v, std::string* out);
// The same, one value on its own (statistics hold these).
std::string Int64Bytes(int64_t v);
std::string DoubleBytes(double v);
std::string Int128BigEndian(Int128 v);

// PLAIN BOOLEAN: bit-packed, first value in the least significant bit. A byte is
// appended once full; Flush appends the last, partial one.
class PlainBooleans {
 public:
  void Append(bool v, std::string* out);
  void Flush(std::string* out);

 private:
  uint8_t acc_ = 0;
  int bits_ = 0;
};

// The bits needed for values up to `max_value` (0 for 0).
int BitWidth(uint64_t max_value);

// Parquet's RLE / bit-packed hybrid encoding of `values` (each below 2^width), without
// a length prefix: runs of 8 or more equal values as RLE runs, the rest as bit-packed
// groups of 8 (the last padded with zeros).
void AppendRleHybrid(const std::vector<uint32_t>& values, int width, std::string* out);

// A BYTE_ARRAY chunk as a dictionary: its distinct values in order of first appearance,
// and each value's index into them.
struct Dictionary {
  std::vector<std::string_view> entries;
  std::vector<uint32_t> indices;
};

// The dictionary of `values`, or nullopt when it would not pay: no values, more than
// max_entries distinct values, entries taking more than max_bytes (PLAIN, lengths
// included), or more than half the values distinct.
std::optional<Dictionary> BuildDictionary(const std::vector<std::string_view>& values,
                                          int64_t max_entries, int64_t max_bytes);

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_ENCODING_H_
