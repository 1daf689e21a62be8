// The write-ahead log's record format (pure: bytes in, bytes out).
//
// A segment (format 2, written since sequence numbers were added) is a segment header and
// a sequence of frames, all integers little-endian:
//   header: "LHWAL02\n" [u64 seq][u64 record][u32 CRC-32 of the 24 bytes before]
//   frame:  [u32 payload length][u8 type][u64 seq][u64 record][u32 CRC-32 of payload]
//           [u32 CRC-32 of the segment number (u64) + the 25 header bytes before][payload]
// `seq` numbers frames and `record` counts the records (kAccept lines) logged before the
// frame, both over the whole log: consecutive frames have consecutive seqs, and a frame's
// record is the previous one's plus the previous one's lines. So the frames and records in
// a damaged stretch are counted from the intact frames around it, and the segment header
// (where the segment starts) counts what a damaged tail of the previous segment held.
//
// Format 1 (segments of earlier versions, still read): no segment header, frames
//   [u32 payload length][u32 CRC-32 of type byte + payload][u8 type][payload]
// with no sequence numbers: what a damaged stretch held cannot be counted. An earlier
// version reads a format-2 segment as damaged from its first byte (the magic's first four
// bytes are a length above kWalMaxPayload): drain the log before a downgrade.
//
// Damage. WalReader verifies every frame (the header's CRC, then the payload's) and, after
// a frame that fails, resynchronises on the next frame that passes both and continues
// the numbering (its seq after the last intact one's, and confirmed by the frame after
// it): every intact frame is read (except one lying between two frames whose headers
// are both damaged: nothing after it confirms it, so it is counted with the damage), and
// the damaged stretch is reported with the frames and records it held. A frame whose
// header is intact but whose payload is not is skipped whole (its length is trusted), so
// bytes inside a payload that look like a frame are never considered. A stretch after
// which no intact frame follows is the segment's tail: what a crash mid-write leaves
// (what it held is unknown here; the next segment's header tells, see WalDamage).
//
// Payloads use unsigned LEB128 varints and varint-length-prefixed strings:
//   kAccept: pipeline, accept_ms, count, count x (prefix, line)   records accepted by Ingest
//   kSeal:   pipeline, prefix, key, records, trailing               a buffer became object `key`:
//            all its lines but the last `trailing` (lines of the same request, logged
//            before the seal, that come after it). Counting from the end keeps replay
//            right when older segments, holding the object's first lines, were released.
//   kStored: key                                                   object `key` is in the lake
//   kDeadLettered: key                                             object `key` moved to the DLQ
#ifndef LAKEHOSE_CORE_WAL_WAL_FORMAT_H_
#define LAKEHOSE_CORE_WAL_WAL_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakehose {

enum class WalType : uint8_t { kAccept = 1, kSeal = 2, kStored = 3, kDeadLettered = 4 };

// Sizes of the format-2 segment header and frame header, and of a format-1 frame header.
inline constexpr size_t kWalSegmentHeader = 28;
inline constexpr size_t kWalFrameHeader = 29;
inline constexpr size_t kWalV1FrameHeader = 9;
inline constexpr std::string_view kWalSegmentMagic{"LHWAL02\n", 8};
// A frame's payload may not exceed this (a request is at most 32 MiB on the wire).
inline constexpr uint32_t kWalMaxPayload = 256u << 20;
// Resynchronising checks a frame header at each byte after a damaged frame (cheap) but
// checksums a payload only under a header that passed its own check: a format-2 scan is
// linear. Format 1 has no header check, so its scan may checksum many candidate payloads;
// it stops after checksumming this many bytes plus twice the segment's size (the rest of
// such a segment is then reported unreadable): damage never makes replay quadratic.
inline constexpr size_t kWalMaxScanChecksumBytes = size_t{64} << 20;

// Where the log is: the seq of the next frame and the records logged before it.
struct WalPosition {
  uint64_t seq = 0;
  uint64_t record = 0;
  bool operator==(const WalPosition& o) const { return seq == o.seq && record == o.record; }
};

// Records a frame carries: the line count of a kAccept payload, else 0 (also for a
// payload too malformed to say).
uint64_t WalRecordCount(WalType type, std::string_view payload);

// Appends a format-2 segment header saying the segment starts at `start`.
void AppendWalSegmentHeader(const WalPosition& start, std::string* out);
// Appends one format-2 frame at position `at` of segment number `segment`; the next
// frame's position is NextWalPosition(at, type, payload).
void AppendWalFrame(uint64_t segment, const WalPosition& at, WalType type, std::string_view payload,
                    std::string* out);
WalPosition NextWalPosition(const WalPosition& at, WalType type, std::string_view payload);

struct WalAccept {
  std::string_view pipeline;
  int64_t accept_ms = 0;
  std::vector<std::pair<std::string_view, std::string_view>> lines;  // (prefix, line)
};
struct WalSeal {
  std::string_view pipeline;
  std::string_view prefix;
  std::string_view key;
  int64_t records = 0;
  int64_t trailing = 0;
};

void EncodeWalAccept(std::string_view pipeline, int64_t accept_ms,
                     const std::vector<std::pair<std::string_view, std::string_view>>& lines,
                     std::string* out);
void EncodeWalSeal(const WalSeal& seal, std::string* out);
void EncodeWalKey(std::string_view key, std::string* out);  // kStored, kDeadLettered

// Decoders return false on malformed payloads; views point into `payload`.
bool DecodeWalAccept(std::string_view payload, WalAccept* out);
bool DecodeWalSeal(std::string_view payload, WalSeal* out);
bool DecodeWalKey(std::string_view payload, std::string_view* key);

struct WalFrame {
  WalType type = WalType::kAccept;
  std::string_view payload;  // points into the segment
  size_t end = 0;            // offset just past the frame
  WalPosition at;            // format 2 only (zero in format 1)
};

// A stretch of a segment that did not verify, skipped by WalReader.
struct WalDamage {
  size_t begin = 0;
  size_t end = 0;  // [begin, end) skipped; `end` is the segment's size for a tail
  // No intact frame follows in this segment: a torn write at the tail after a crash, or
  // damage there. Its losses, if any, show as a gap before the next segment's start.
  bool tail = false;
  // What the stretch held, counted from the numbering of the intact frames around it;
  // -1 when that cannot be known (format 1, a tail, no intact frame or segment header
  // before it and no `expected` position given to the reader, or numbering around it
  // that goes back).
  int64_t frames_lost = -1;
  int64_t records_lost = -1;
};

// Reads the frames of one segment, resynchronising after damage (see the top of the file).
//
//   WalReader reader(bytes, segment_number, previous_segment_end);
//   WalFrame frame; WalDamage damage;
//   for (;;) switch (reader.Next(&frame, &damage)) { kFrame: ...; kDamage: ...; kEnd: done }
//
// Not thread-safe; borrows the bytes.
class WalReader {
 public:
  enum class Result { kFrame, kDamage, kEnd };
  // `segment` is the file's number (format-2 frame headers are checked against it);
  // `expected`, where the previous segment ended, counts what a damaged start held when
  // the segment header itself is damaged.
  WalReader(std::string_view segment, uint64_t segment_number,
            std::optional<WalPosition> expected = std::nullopt);

  // kFrame: the next intact frame. kDamage: a damaged stretch was skipped; the next call
  // goes on after it. kEnd: nothing more (after a tail, or at the end).
  Result Next(WalFrame* frame, WalDamage* damage);

  int format() const { return format_; }  // 1 or 2
  // The segment header's position (format 2 with an intact header).
  std::optional<WalPosition> start() const { return start_; }
  // The position after the last intact frame (or the segment's start), if known: the
  // position the next segment should start at.
  std::optional<WalPosition> end_position() const { return next_; }
  size_t offset() const { return offset_; }

 private:
  // Whether a whole frame that verifies starts at `pos` (sets *frame); *trusted_end is
  // set to the end of a frame whose header verified but payload did not (else 0).
  bool FrameAt(size_t pos, WalFrame* frame, size_t* trusted_end);
  // The offset of the next frame that verifies at or after `from` (npos if none). In
  // format 2 a frame found by scanning must also be followed by the end of the segment or
  // by a frame header that verifies and numbers the next frame (Confirmed): a frame
  // forged inside a record would need the log's real numbering to pass. `vouched`: `from`
  // is the end of a frame whose header verified at a real frame boundary, so a frame
  // there needs no confirmation (nor one reached by skipping such frames whole).
  size_t Resync(size_t from, bool vouched, WalFrame* frame);
  bool Confirmed(const WalFrame& frame);

  std::string_view data_;
  uint64_t segment_number_ = 0;
  int format_ = 2;
  size_t offset_ = 0;
  bool done_ = false;
  std::optional<WalPosition> start_;
  std::optional<WalPosition> next_;  // where the next intact frame should be
  size_t scan_budget_ = 0;           // format 1: payload bytes a resync may still checksum
  WalFrame pending_;                 // the frame a resync found, returned after the damage
  bool has_pending_ = false;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_WAL_WAL_FORMAT_H_
