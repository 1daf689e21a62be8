// Fuzz target for reading a dead-letter entry back from disk: arbitrary bytes as a
// metadata file (after a crash or a disk fault the files are untrusted). Reading must
// refuse cleanly or return an entry that survives a write and a second read unchanged
// (body_crc32 included, present or not); an id parses only if it is exactly what
// FormatDeadLetterId writes; a body checked against what was read is refused with
// DATA_LOSS or matches it in size and CRC.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/dlq/dead_letter_format.h"

namespace {

void CheckId(std::string_view text) {
  const std::optional<lakehose::DeadLetterId> id = lakehose::ParseDeadLetterId(text);
  if (id.has_value() && lakehose::FormatDeadLetterId(*id) != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckId(text);
  CheckId(text.substr(0, 27));

  // Cleaning makes any bytes valid, bounded metadata text.
  const std::string clean = lakehose::CleanDeadLetterText(text, 64);
  if (clean.size() > 64) std::abort();
  if (lakehose::CleanDeadLetterText(clean, 64) != clean) std::abort();

  if (static_cast<int64_t>(size) > lakehose::kDeadLetterMaxMetadataBytes) return 0;
  absl::StatusOr<lakehose::DeadLetter> e = lakehose::ParseDeadLetterMetadata(text);
  if (!e.ok()) {
    if (e.status().code() != absl::StatusCode::kDataLoss) std::abort();
    return 0;
  }
  // What was read is written back, and that reads back the same, byte for byte.
  const std::string json = lakehose::DeadLetterMetadataJson(*e);
  absl::StatusOr<lakehose::DeadLetter> again = lakehose::ParseDeadLetterMetadata(json);
  if (!again.ok() || !(*again == *e)) std::abort();
  if (lakehose::DeadLetterMetadataJson(*again) != json) std::abort();
  // As the file of the id it names: accepted exactly when that id is well-formed and its
  // kind letter matches.
  const std::optional<lakehose::DeadLetterId> id = lakehose::ParseDeadLetterId(e->id);
  const bool expected = id.has_value() && id->kind == e->kind;
  if (lakehose::ParseDeadLetterEntry(e->id, text).ok() != expected) std::abort();
  // The same bytes as the entry's body.
  const absl::Status body = lakehose::VerifyDeadLetterBody(*e, text);
  if (!body.ok() && body.code() != absl::StatusCode::kDataLoss) std::abort();
  if (body.ok() &&
      (e->bytes != static_cast<int64_t>(size) ||
       (e->body_crc32.has_value() && *e->body_crc32 != lakehose::DeadLetterBodyCrc32(text))))
    std::abort();
  return 0;
}
