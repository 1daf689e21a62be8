// The write-ahead log's record format (pure: bytes in, bytes out).
//
// A segment is a sequence of frames:
//   [u32 little-endian payload length][u32 CRC-32 of type byte + payload][u8 type][payload]
// A frame whose length runs past the end, or whose checksum does not match, ends the
// readable part of a segment (a torn write at the tail after a crash, or corruption).
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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakehose {

enum class WalType : uint8_t { kAccept = 1, kSeal = 2, kStored = 3, kDeadLettered = 4 };

inline constexpr size_t kWalFrameHeader = 9;
// A frame's payload may not exceed this (a request is at most 32 MiB on the wire).
inline constexpr uint32_t kWalMaxPayload = 256u << 20;

// Appends one frame.
void AppendWalFrame(WalType type, std::string_view payload, std::string* out);

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

// Reads frames from one segment's bytes.
class WalReader {
 public:
  enum class Result { kFrame, kEnd, kCorrupt };
  explicit WalReader(std::string_view segment) : data_(segment) {}
  // kFrame: *type and *payload are set; kEnd: clean end; kCorrupt: a torn or damaged
  // frame at offset() (everything after it is unreadable).
  Result Next(WalType* type, std::string_view* payload);
  size_t offset() const { return offset_; }

 private:
  std::string_view data_;
  size_t offset_ = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_WAL_WAL_FORMAT_H_
