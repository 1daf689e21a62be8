// The dead-letter queue's entry format (pure: bytes in, bytes out). An entry is two files
// named by its id: `<id>.body`, the payload exactly as given (a delivery entry's
// uncompressed JSON Lines object, a processing entry's raw record), and `<id>.json`, its
// metadata as one JSON object and a newline:
//   {"version":1,"id":...,"kind":"delivery"|"processing","pipeline":...,"attempts":...,
//    "first_error":...,"last_error":...,"first_ms":...,"last_ms":...,
//    "next_attempt_ms":...,"expired":...,"key":...,"records":...,"bytes":...,
//    "body_crc32":...,"record_id":...,"arrival_ms":...,"error_code":...}
// Every field is always written; body_crc32 is absent only from entries written before
// it existed (readers that predate it ignore it, as they ignore any unknown field, so the
// version stays 1). The body needs no encoding; this file owns the id, the metadata and
// the checks an entry read back from disk must pass, the body's included (after a crash,
// a disk fault or an operator's edit those files are untrusted input).
// service/dlq/dead_letter_queue.cc owns the files themselves.
//
// Plain functions and data; thread-safe.
#ifndef LAKEHOSE_CORE_DLQ_DEAD_LETTER_FORMAT_H_
#define LAKEHOSE_CORE_DLQ_DEAD_LETTER_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lakehose {

enum class DeadLetterKind { kDelivery, kProcessing };

struct DeadLetter {
  std::string id;  // sortable by creation: "<16-digit ms>-<kind letter>-<8 hex>"
  DeadLetterKind kind = DeadLetterKind::kDelivery;
  std::string pipeline;
  int attempts = 0;  // delivery: stores tried, by the engine and then the retry worker
  std::string first_error;
  std::string last_error;
  // When the entry was made. Delivery: when the engine handed the object to the queue,
  // i.e. when its retry budget ran out, not its first failure (that was the budget
  // earlier); processing: when the record failed to process.
  int64_t first_ms = 0;
  int64_t last_ms = 0;          // the last attempt (first_ms until the retry worker tries)
  int64_t next_attempt_ms = 0;  // delivery: when the retry worker tries again
  bool expired = false;         // delivery: past the maximum age; kept, not retried
  // delivery
  std::string key;  // the object key it must be stored under
  int64_t records = 0;
  int64_t bytes = 0;  // body size (delivery: uncompressed)
  // CRC-32 (zlib's, ISO-HDLC) of the body; nullopt for entries written before it was
  // kept: their bodies are verified by size (and delivery: record count) only.
  std::optional<uint32_t> body_crc32;
  // processing
  std::string record_id;
  int64_t arrival_ms = 0;
  std::string error_code;

  // Not stored: why the entry is damaged (its metadata unreadable, its body missing or
  // not the body the metadata describes), set by the queue that found it; empty if
  // intact. A damaged entry is kept and never delivered (dead_letter_queue.h).
  std::string damage;

  bool operator==(const DeadLetter&) const = default;
};

// A metadata file larger than this is not one we wrote (errors are cut to
// kDeadLetterMaxErrorBytes): it is refused unread.
inline constexpr int64_t kDeadLetterMaxMetadataBytes = 64 << 10;
// Errors can quote input; they are cut to this many bytes to keep the metadata small.
inline constexpr size_t kDeadLetterMaxErrorBytes = 4096;
// error_code is a short identifier ("Decode.InvalidJson"); anything longer is cut.
inline constexpr size_t kDeadLetterMaxErrorCodeBytes = 256;

// "delivery" or "processing", as in the metadata.
std::string_view DeadLetterKindName(DeadLetterKind kind);

// An id's parts: "<ms, 16 decimal digits>-<d|p>-<suffix, 8 lower-case hex digits>".
struct DeadLetterId {
  int64_t ms = 0;
  DeadLetterKind kind = DeadLetterKind::kDelivery;
  uint32_t suffix = 0;
};
// The id of those parts; `ms` must be in [0, 10^16).
std::string FormatDeadLetterId(const DeadLetterId& id);
// The parts of `id`, or nullopt unless it has exactly the shape FormatDeadLetterId makes.
// Ids name files, so nothing else is accepted from disk.
std::optional<DeadLetterId> ParseDeadLetterId(std::string_view id);

// `s` as valid UTF-8 of at most `max_bytes`: each invalid byte becomes U+FFFD, and the cut
// never splits a character. Everything the metadata holds goes through it (JSON holds
// only valid UTF-8; pipeline names, keys and errors can quote arbitrary input).
std::string CleanDeadLetterText(std::string_view s, size_t max_bytes);

// The metadata file's text for `e`. Its strings must be valid UTF-8 (CleanDeadLetterText,
// or read back by ParseDeadLetterMetadata).
std::string DeadLetterMetadataJson(const DeadLetter& e);

// Reads metadata back: DATA_LOSS unless `text` is one JSON object of the current version
// with every field present and of the right type (unknown fields are ignored). attempts
// is clamped to [0, INT32_MAX].
absl::StatusOr<DeadLetter> ParseDeadLetterMetadata(std::string_view text);

// CRC-32 of a body, as body_crc32 holds it.
uint32_t DeadLetterBodyCrc32(std::string_view body);

// Whether `body` is the body `e` was written with: OK, or DATA_LOSS naming the first check
// that fails: its size is `bytes`; its CRC-32 is body_crc32 (when the entry has one);
// and for a delivery entry (one JSON Lines document per line, no line holds a raw
// newline) it holds exactly `records` newlines. A truncated body fails the size check;
// any other change of an entry with a checksum fails the CRC (undetected with
// probability 2^-32). An entry without a checksum is checked by size and record count
// only: a changed byte that keeps both is not detected.
absl::Status VerifyDeadLetterBody(const DeadLetter& e, std::string_view body);

// Reads the metadata file of the entry named `file_id` (its file name without ".json"):
// as ParseDeadLetterMetadata, and DATA_LOSS also if `file_id` is not a well-formed id, if
// the metadata names another id, or if its kind is not the id's kind letter.
absl::StatusOr<DeadLetter> ParseDeadLetterEntry(std::string_view file_id, std::string_view text);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_DLQ_DEAD_LETTER_FORMAT_H_
