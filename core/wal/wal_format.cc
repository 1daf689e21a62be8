#include "core/wal/wal_format.h"

#include <zlib.h>

#include <algorithm>

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

void PutU64(uint64_t v, std::string* out) {
  PutU32(static_cast<uint32_t>(v), out);
  PutU32(static_cast<uint32_t>(v >> 32), out);
}

uint64_t GetU64(const char* p) { return GetU32(p) | (static_cast<uint64_t>(GetU32(p + 4)) << 32); }

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

uLong Crc(uLong crc, std::string_view bytes) {
  // zlib's crc32 takes a uInt length: feed large payloads in pieces.
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return crc;
}

// Format 1: the CRC of the type byte and the payload.
uint32_t ChecksumV1(uint8_t type, std::string_view payload) {
  const char t = static_cast<char>(type);
  return static_cast<uint32_t>(Crc(Crc(0L, std::string_view(&t, 1)), payload));
}

uint32_t PayloadChecksum(std::string_view payload) {
  return static_cast<uint32_t>(Crc(0L, payload));
}

// Format 2: the CRC of the segment number and the frame header's first 25 bytes (a frame
// copied into another segment, or written into a record, does not verify).
constexpr size_t kCheckedHeaderBytes = kWalFrameHeader - 4;
uint32_t HeaderChecksum(uint64_t segment, const char* header) {
  std::string number;
  PutU64(segment, &number);
  return static_cast<uint32_t>(Crc(Crc(0L, number), std::string_view(header, kCheckedHeaderBytes)));
}

bool ValidType(uint8_t t) { return t >= 1 && t <= 4; }

}  // namespace

uint64_t WalRecordCount(WalType type, std::string_view payload) {
  if (type != WalType::kAccept) return 0;
  Decoder d(payload);
  std::string_view pipeline;
  uint64_t ms, count;
  if (!d.String(&pipeline) || !d.Varint(&ms) || !d.Varint(&count)) return 0;
  return count;
}

void AppendWalSegmentHeader(const WalPosition& start, std::string* out) {
  const size_t begin = out->size();
  out->append(kWalSegmentMagic);
  PutU64(start.seq, out);
  PutU64(start.record, out);
  PutU32(static_cast<uint32_t>(Crc(0L, std::string_view(*out).substr(begin))), out);
}

void AppendWalFrame(uint64_t segment, const WalPosition& at, WalType type, std::string_view payload,
                    std::string* out) {
  const size_t begin = out->size();
  PutU32(static_cast<uint32_t>(payload.size()), out);
  out->push_back(static_cast<char>(type));
  PutU64(at.seq, out);
  PutU64(at.record, out);
  PutU32(PayloadChecksum(payload), out);
  PutU32(HeaderChecksum(segment, out->data() + begin), out);
  out->append(payload);
}

WalPosition NextWalPosition(const WalPosition& at, WalType type, std::string_view payload) {
  return {at.seq + 1, at.record + WalRecordCount(type, payload)};
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

WalReader::WalReader(std::string_view segment, uint64_t segment_number,
                     std::optional<WalPosition> expected)
    : data_(segment),
      segment_number_(segment_number),
      next_(expected),
      scan_budget_(kWalMaxScanChecksumBytes + 2 * segment.size()) {
  if (data_.substr(0, kWalSegmentMagic.size()) == kWalSegmentMagic) {
    format_ = 2;
    if (data_.size() >= kWalSegmentHeader &&
        static_cast<uint32_t>(Crc(0L, data_.substr(0, kWalSegmentHeader - 4))) ==
            GetU32(data_.data() + kWalSegmentHeader - 4)) {
      start_ = WalPosition{GetU64(data_.data() + 8), GetU64(data_.data() + 16)};
      next_ = start_;
      offset_ = kWalSegmentHeader;
    }
    // Otherwise the header is damaged: Next() reports it and resynchronises.
    return;
  }
  if (data_.empty()) return;
  // No magic: format 1 if a format-1 frame starts the segment; format 2 with a damaged
  // segment header if a format-2 frame can be found; else (nothing readable) format 1.
  WalFrame frame;
  size_t trusted_end;
  format_ = 1;
  if (FrameAt(0, &frame, &trusted_end)) {
    next_.reset();
    return;
  }
  format_ = 2;
  if (Resync(1, false, &frame) != std::string_view::npos) return;
  format_ = 1;
  next_.reset();
  scan_budget_ = kWalMaxScanChecksumBytes + 2 * segment.size();
}

bool WalReader::FrameAt(size_t pos, WalFrame* frame, size_t* trusted_end) {
  *trusted_end = 0;
  const size_t left = data_.size() - pos;
  const char* p = data_.data() + pos;
  if (format_ == 1) {
    if (left < kWalV1FrameHeader) return false;
    const uint32_t length = GetU32(p);
    const uint8_t t = static_cast<uint8_t>(p[8]);
    if (!ValidType(t) || length > kWalMaxPayload || length > left - kWalV1FrameHeader) return false;
    const std::string_view body(p + kWalV1FrameHeader, length);
    if (ChecksumV1(t, body) != GetU32(p + 4)) return false;
    *frame = WalFrame{static_cast<WalType>(t), body, pos + kWalV1FrameHeader + length, {}};
    return true;
  }
  if (left < kWalFrameHeader) return false;
  const uint32_t length = GetU32(p);
  const uint8_t t = static_cast<uint8_t>(p[4]);
  const WalPosition at{GetU64(p + 5), GetU64(p + 13)};
  // Cheap tests first: a resync runs this at every byte.
  if (!ValidType(t) || length > kWalMaxPayload) return false;
  if (next_ && (at.seq < next_->seq || at.record < next_->record)) return false;
  if (HeaderChecksum(segment_number_, p) != GetU32(p + 25)) return false;
  if (length > left - kWalFrameHeader) return false;  // torn: the payload was cut
  *trusted_end = pos + kWalFrameHeader + length;
  const std::string_view body(p + kWalFrameHeader, length);
  if (PayloadChecksum(body) != GetU32(p + 21)) return false;
  *frame = WalFrame{static_cast<WalType>(t), body, *trusted_end, at};
  *trusted_end = 0;
  return true;
}

size_t WalReader::Resync(size_t from, bool vouched, WalFrame* frame) {
  const size_t header = format_ == 1 ? kWalV1FrameHeader : kWalFrameHeader;
  size_t pos = from;
  while (pos < data_.size() && data_.size() - pos >= header) {
    if (format_ == 1) {
      // Charge the payload this candidate would checksum to the scan's budget.
      const uint32_t length = GetU32(data_.data() + pos);
      if (length <= kWalMaxPayload && length <= data_.size() - pos - header) {
        if (length > scan_budget_) return std::string_view::npos;
        scan_budget_ -= length;
      }
    }
    size_t trusted_end;
    if (FrameAt(pos, frame, &trusted_end)) {
      if (format_ == 1 || vouched || Confirmed(*frame)) return pos;
      ++pos;
      vouched = false;
      continue;
    }
    // A frame whose header verified is skipped whole: its payload is not searched.
    vouched = vouched && trusted_end > pos;
    pos = trusted_end > pos ? trusted_end : pos + 1;
  }
  return std::string_view::npos;
}

bool WalReader::Confirmed(const WalFrame& frame) {
  if (frame.end == data_.size()) return true;
  const std::optional<WalPosition> saved = next_;
  next_ = NextWalPosition(frame.at, frame.type, frame.payload);
  WalFrame following;
  size_t trusted_end;
  const bool whole = FrameAt(frame.end, &following, &trusted_end);
  next_ = saved;
  // Its header verified (whole frame, or a damaged payload under an intact header).
  if (!whole && trusted_end == 0) return false;
  return GetU64(data_.data() + frame.end + 5) == frame.at.seq + 1;
}

WalReader::Result WalReader::Next(WalFrame* frame, WalDamage* damage) {
  if (has_pending_) {
    has_pending_ = false;
    *frame = pending_;
  } else {
    if (done_ || offset_ == data_.size()) {
      done_ = true;
      return Result::kEnd;
    }
    size_t trusted_end;
    if (!FrameAt(offset_, frame, &trusted_end)) {
      *damage = WalDamage{};
      damage->begin = offset_;
      // offset_ is a frame boundary (after the segment header or an intact frame): a
      // header that verified there vouches for where the next frame starts.
      const bool trusted = trusted_end > offset_;
      const size_t found = Resync(trusted ? trusted_end : offset_ + 1, trusted, &pending_);
      if (found == std::string_view::npos) {
        damage->end = data_.size();
        damage->tail = true;
        offset_ = data_.size();
        done_ = true;
        return Result::kDamage;
      }
      damage->end = found;
      // Numbering that goes back (a record count behind although the seq is not) or jumps
      // past what a count can hold (frames from elsewhere, e.g. a copied file) cannot say
      // what was lost: unknown (-1).
      constexpr uint64_t kMaxCount = static_cast<uint64_t>(INT64_MAX);
      if (format_ == 2 && next_ && pending_.at.seq >= next_->seq &&
          pending_.at.record >= next_->record && pending_.at.seq - next_->seq <= kMaxCount &&
          pending_.at.record - next_->record <= kMaxCount) {
        damage->frames_lost = static_cast<int64_t>(pending_.at.seq - next_->seq);
        damage->records_lost = static_cast<int64_t>(pending_.at.record - next_->record);
      }
      offset_ = found;
      has_pending_ = true;
      return Result::kDamage;
    }
  }
  offset_ = frame->end;
  if (format_ == 2) next_ = NextWalPosition(frame->at, frame->type, frame->payload);
  return Result::kFrame;
}

}  // namespace lakehose
