#include "core/parquet/thrift_compact.h"

#include <cstring>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

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

absl::Status ThriftCompactReader::Fail(std::string_view what) const {
  return absl::DataLossError(StrCat("thrift: ", what, " at byte ", pos_));
}

absl::Status ThriftCompactReader::Varint(uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) return Fail("truncated varint");
    const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
    out |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = out;
      return absl::OkStatus();
    }
  }
  return Fail("varint longer than 10 bytes");
}

namespace {
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
}  // namespace

void ThriftCompactReader::BeginStruct() {
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void ThriftCompactReader::EndStruct() {
  if (!stack_.empty()) {
    last_id_ = stack_.back();
    stack_.pop_back();
  }
}

absl::Status ThriftCompactReader::NextField(int16_t* id, uint8_t* type, bool* stop) {
  if (pos_ >= in_.size()) return Fail("truncated struct");
  const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
  *stop = b == 0;
  if (*stop) return absl::OkStatus();
  *type = b & 0x0F;
  const int delta = b >> 4;
  if (delta != 0) {
    *id = static_cast<int16_t>(last_id_ + delta);
  } else {
    int16_t v = 0;
    RETURN_IF_ERROR(ReadI16(&v));
    *id = v;
  }
  last_id_ = *id;
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadI8(int8_t* v) {
  if (pos_ >= in_.size()) return Fail("truncated byte");
  *v = static_cast<int8_t>(in_[pos_++]);
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadI16(int16_t* v) {
  int64_t w = 0;
  RETURN_IF_ERROR(ReadI64(&w));
  if (w < INT16_MIN || w > INT16_MAX) return Fail("i16 out of range");
  *v = static_cast<int16_t>(w);
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadI32(int32_t* v) {
  int64_t w = 0;
  RETURN_IF_ERROR(ReadI64(&w));
  if (w < INT32_MIN || w > INT32_MAX) return Fail("i32 out of range");
  *v = static_cast<int32_t>(w);
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadI64(int64_t* v) {
  uint64_t u = 0;
  RETURN_IF_ERROR(Varint(&u));
  *v = UnZigZag(u);
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadDouble(double* v) {
  if (remaining() < 8) return Fail("truncated double");
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i)
    bits |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  pos_ += 8;
  std::memcpy(v, &bits, sizeof(bits));
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadBinary(std::string_view* v) {
  uint64_t n = 0;
  RETURN_IF_ERROR(Varint(&n));
  if (n > remaining()) return Fail("binary longer than the input");
  *v = in_.substr(pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::ReadListHeader(uint8_t* element_type, uint32_t* size) {
  if (pos_ >= in_.size()) return Fail("truncated list header");
  const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
  *element_type = b & 0x0F;
  uint64_t n = b >> 4;
  if (n == 15) RETURN_IF_ERROR(Varint(&n));
  if (n > remaining()) return Fail("list longer than the input");
  *size = static_cast<uint32_t>(n);
  return absl::OkStatus();
}

absl::Status ThriftCompactReader::SkipElement(uint8_t type, int depth) {
  if (type == ThriftCompactWriter::kBoolTrue || type == ThriftCompactWriter::kBoolFalse) {
    int8_t v;  // a bool inside a list or map takes a byte (in a field, its header holds it)
    return ReadI8(&v);
  }
  return Skip(type, depth);
}

absl::Status ThriftCompactReader::Skip(uint8_t type, int depth) {
  if (depth > kMaxThriftDepth) return Fail("nested too deep");
  switch (type) {
    case ThriftCompactWriter::kBoolTrue:
    case ThriftCompactWriter::kBoolFalse:
      return absl::OkStatus();  // a field's value is in its header
    case ThriftCompactWriter::kByte: {
      int8_t v;
      return ReadI8(&v);
    }
    case ThriftCompactWriter::kI16:
    case ThriftCompactWriter::kI32:
    case ThriftCompactWriter::kI64: {
      int64_t v;
      return ReadI64(&v);
    }
    case ThriftCompactWriter::kDouble: {
      double v;
      return ReadDouble(&v);
    }
    case ThriftCompactWriter::kBinary: {
      std::string_view v;
      return ReadBinary(&v);
    }
    case ThriftCompactWriter::kList:
    case ThriftCompactWriter::kSet: {
      uint8_t et;
      uint32_t n;
      RETURN_IF_ERROR(ReadListHeader(&et, &n));
      for (uint32_t i = 0; i < n; ++i) RETURN_IF_ERROR(SkipElement(et, depth + 1));
      return absl::OkStatus();
    }
    case ThriftCompactWriter::kMap: {
      uint64_t n = 0;
      RETURN_IF_ERROR(Varint(&n));
      if (n == 0) return absl::OkStatus();
      if (n > remaining()) return Fail("map longer than the input");
      if (pos_ >= in_.size()) return Fail("truncated map header");
      const uint8_t kv = static_cast<uint8_t>(in_[pos_++]);
      for (uint64_t i = 0; i < n; ++i) {
        RETURN_IF_ERROR(SkipElement(kv >> 4, depth + 1));
        RETURN_IF_ERROR(SkipElement(kv & 0x0F, depth + 1));
      }
      return absl::OkStatus();
    }
    case ThriftCompactWriter::kStruct: {
      BeginStruct();
      for (;;) {
        int16_t id;
        uint8_t t;
        bool stop;
        RETURN_IF_ERROR(NextField(&id, &t, &stop));
        if (stop) break;
        RETURN_IF_ERROR(Skip(t, depth + 1));
      }
      EndStruct();
      return absl::OkStatus();
    }
    default:
      return Fail(StrCat("unknown type ", static_cast<int>(type)));
  }
}

}  // namespace lakehose
