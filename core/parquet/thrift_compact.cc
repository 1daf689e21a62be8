#include "core/parquet/thrift_compact.h"

#include <cstring>

namespace lakehose {

void ThriftCompactWriter::AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void ThriftCompactWriter::BeginStruct() {
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void ThriftCompactWriter::EndStruct() {
  out_.push_back('\0');
  if (!stack_.empty()) {
    last_id_ = stack_.back();
    stack_.pop_back();
  }
}

void ThriftCompactWriter::FieldHeader(int16_t id, uint8_t type) {
  const int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_.push_back(static_cast<char>(type));
    AppendVarint(ZigZag(id), &out_);
  }
  last_id_ = id;
}

void ThriftCompactWriter::FieldBool(int16_t id, bool v) {
  FieldHeader(id, v ? kBoolTrue : kBoolFalse);
}

void ThriftCompactWriter::FieldI8(int16_t id, int8_t v) {
  FieldHeader(id, kByte);
  out_.push_back(static_cast<char>(v));
}

void ThriftCompactWriter::FieldI16(int16_t id, int16_t v) {
  FieldHeader(id, kI16);
  AppendVarint(ZigZag(v), &out_);
}

void ThriftCompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, kI32);
  AppendVarint(ZigZag(v), &out_);
}

void ThriftCompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, kI64);
  AppendVarint(ZigZag(v), &out_);
}

void ThriftCompactWriter::FieldDouble(int16_t id, double v) {
  FieldHeader(id, kDouble);
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));  // little-endian
}

void ThriftCompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, kBinary);
  ElementBinary(v);
}

void ThriftCompactWriter::FieldBeginStruct(int16_t id) {
  FieldHeader(id, kStruct);
  BeginStruct();
}

void ThriftCompactWriter::FieldBeginList(int16_t id, Type element_type, uint32_t size) {
  FieldHeader(id, kList);
  BeginList(element_type, size);
}

void ThriftCompactWriter::BeginList(Type element_type, uint32_t size) {
  if (size < 15) {
    out_.push_back(static_cast<char>((size << 4) | element_type));
  } else {
    out_.push_back(static_cast<char>(0xF0 | element_type));
    AppendVarint(size, &out_);
  }
}

void ThriftCompactWriter::ElementI32(int32_t v) { AppendVarint(ZigZag(v), &out_); }
void ThriftCompactWriter::ElementI64(int64_t v) { AppendVarint(ZigZag(v), &out_); }

void ThriftCompactWriter::ElementBinary(std::string_view v) {
  AppendVarint(v.size(), &out_);
  out_.append(v);
}

void ThriftCompactWriter::ElementBool(bool v) {
  out_.push_back(static_cast<char>(v ? kBoolTrue : kBoolFalse));
}

}  // namespace lakehose
