#include "core/wal/wal_format.h"

#include <zlib.h>

namespace lakehose {
namespace {

void PutU32(uint32_t v, std::string* out) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out->append(b, 4);
}

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const unsigned char b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      *v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool String(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size()) return false;
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

uint32_t Checksum(WalType type, std::string_view payload) {
  const unsigned char t = static_cast<unsigned char>(type);
  uLong crc = crc32(0L, &t, 1);
  // zlib's crc32 takes a uInt length: feed large payloads in pieces.
  while (!payload.empty()) {
    const size_t n = std::min<size_t>(payload.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(n));
    payload.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

void AppendWalFrame(WalType type, std::string_view payload, std::string* out) {
  PutU32(static_cast<uint32_t>(payload.size()), out);
  PutU32(Checksum(type, payload), out);
  out->push_back(static_cast<char>(type));
  out->append(payload);
}

void EncodeWalAccept(std::string_view pipeline, int64_t accept_ms,
                     const std::vector<std::pair<std::string_view, std::string_view>>& lines,
                     std::string* out) {
  PutString(pipeline, out);
  PutVarint(static_cast<uint64_t>(accept_ms), out);
  PutVarint(lines.size(), out);
  for (const auto& [prefix, line] : lines) {
    PutString(prefix, out);
    PutString(line, out);
  }
}

void EncodeWalSeal(const WalSeal& seal, std::string* out) {
  PutString(seal.pipeline, out);
  PutString(seal.prefix, out);
  PutString(seal.key, out);
  PutVarint(static_cast<uint64_t>(seal.records), out);
  PutVarint(static_cast<uint64_t>(seal.trailing), out);
}

void EncodeWalKey(std::string_view key, std::string* out) { PutString(key, out); }

bool DecodeWalAccept(std::string_view payload, WalAccept* out) {
  Decoder d(payload);
  uint64_t ms, count;
  if (!d.String(&out->pipeline) || !d.Varint(&ms) || !d.Varint(&count)) return false;
  if (count > payload.size()) return false;  // each line takes at least two bytes
  out->accept_ms = static_cast<int64_t>(ms);
  out->lines.clear();
  out->lines.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view prefix, line;
    if (!d.String(&prefix) || !d.String(&line)) return false;
    out->lines.emplace_back(prefix, line);
  }
  return d.done();
}

bool DecodeWalSeal(std::string_view payload, WalSeal* out) {
  Decoder d(payload);
  uint64_t records, trailing;
  if (!d.String(&out->pipeline) || !d.String(&out->prefix) || !d.String(&out->key) ||
      !d.Varint(&records) || !d.Varint(&trailing))
    return false;
  out->records = static_cast<int64_t>(records);
  out->trailing = static_cast<int64_t>(trailing);
  return d.done();
}

bool DecodeWalKey(std::string_view payload, std::string_view* key) {
  Decoder d(payload);
  return d.String(key) && d.done();
}

WalReader::Result WalReader::Next(WalType* type, std::string_view* payload) {
  if (offset_ == data_.size()) return Result::kEnd;
  if (data_.size() - offset_ < kWalFrameHeader) return Result::kCorrupt;
  const char* p = data_.data() + offset_;
  const uint32_t length = GetU32(p);
  const uint32_t crc = GetU32(p + 4);
  const uint8_t t = static_cast<uint8_t>(p[8]);
  if (length > kWalMaxPayload || length > data_.size() - offset_ - kWalFrameHeader)
    return Result::kCorrupt;
  const std::string_view body(p + kWalFrameHeader, length);
  if (t < 1 || t > 4 || Checksum(static_cast<WalType>(t), body) != crc) return Result::kCorrupt;
  *type = static_cast<WalType>(t);
  *payload = body;
  offset_ += kWalFrameHeader + length;
  return Result::kFrame;
}

}  // namespace lakehose
