#include "core/dlq/dead_letter_format.h"

#include <algorithm>
#include <cstdio>

#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "simdjson.h"
#include "zlib.h"

namespace lakehose {
namespace {

constexpr int kFormatVersion = 1;
// "<16 digits>-<d|p>-<8 hex>"
constexpr size_t kIdSize = 16 + 1 + 1 + 1 + 8;

char KindLetter(DeadLetterKind kind) { return kind == DeadLetterKind::kDelivery ? 'd' : 'p'; }

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(",\"").append(name).append("\":");
  AppendValidJsonString(value, out);  // valid UTF-8 by contract (see the header)
}
void AppendField(std::string* out, std::string_view name, int64_t value) {
  StrAppend(out, ",\"", name, "\":", value);
}

}  // namespace

std::string_view DeadLetterKindName(DeadLetterKind kind) {
  return kind == DeadLetterKind::kDelivery ? "delivery" : "processing";
}

std::string FormatDeadLetterId(const DeadLetterId& id) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016lld-%c-%08x", static_cast<long long>(id.ms),
                KindLetter(id.kind), static_cast<unsigned>(id.suffix));
  return buf;
}

std::optional<DeadLetterId> ParseDeadLetterId(std::string_view id) {
  if (id.size() != kIdSize || id[16] != '-' || (id[17] != 'd' && id[17] != 'p') || id[18] != '-')
    return std::nullopt;
  DeadLetterId out;
  for (size_t i = 0; i < 16; ++i) {
    if (id[i] < '0' || id[i] > '9') return std::nullopt;
    out.ms = out.ms * 10 + (id[i] - '0');  // at most 10^16 - 1: no overflow
  }
  out.kind = id[17] == 'd' ? DeadLetterKind::kDelivery : DeadLetterKind::kProcessing;
  for (size_t i = 19; i < kIdSize; ++i) {
    const char c = id[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    out.suffix = (out.suffix << 4) | digit;
  }
  return out;
}

std::string CleanDeadLetterText(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    std::string_view ch;
    if (len != 0 && i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
      ch = s.substr(i, len);
    } else {
      ch = "\xEF\xBF\xBD";
      len = 1;
    }
    if (out.size() + ch.size() > max_bytes) break;
    out.append(ch);
    i += len;
  }
  return out;
}

std::string DeadLetterMetadataJson(const DeadLetter& e) {
  std::string out;
  StrAppend(&out, "{\"version\":", kFormatVersion);
  AppendField(&out, "id", e.id);
  AppendField(&out, "kind", DeadLetterKindName(e.kind));
  AppendField(&out, "pipeline", e.pipeline);
  AppendField(&out, "attempts", static_cast<int64_t>(e.attempts));
  AppendField(&out, "first_error", e.first_error);
  AppendField(&out, "last_error", e.last_error);
  AppendField(&out, "first_ms", e.first_ms);
  AppendField(&out, "last_ms", e.last_ms);
  AppendField(&out, "next_attempt_ms", e.next_attempt_ms);
  out.append(",\"expired\":").append(e.expired ? "true" : "false");
  AppendField(&out, "key", e.key);
  AppendField(&out, "records", e.records);
  AppendField(&out, "bytes", e.bytes);
  if (e.body_crc32.has_value()) AppendField(&out, "body_crc32", int64_t{*e.body_crc32});
  AppendField(&out, "record_id", e.record_id);
  AppendField(&out, "arrival_ms", e.arrival_ms);
  AppendField(&out, "error_code", e.error_code);
  out.append("}\n");
  return out;
}

absl::StatusOr<DeadLetter> ParseDeadLetterMetadata(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (auto err = parser.parse(text.data(), text.size()).get(o); err)
    return absl::DataLossError(
        StrCat("not a JSON object (", std::string_view(simdjson::error_message(err)), ")"));
  DeadLetter e;
  auto str = [&](const char* name, std::string* out) -> absl::Status {
    std::string_view v;
    if (o[name].get(v) != simdjson::SUCCESS)
      return absl::DataLossError(StrCat("field ", name, " missing or not a string"));
    out->assign(v);
    return absl::OkStatus();
  };
  auto num = [&](const char* name, int64_t* out) -> absl::Status {
    if (o[name].get(*out) != simdjson::SUCCESS)
      return absl::DataLossError(StrCat("field ", name, " missing or not an integer"));
    return absl::OkStatus();
  };
  int64_t version = 0, attempts = 0;
  std::string kind;
  RETURN_IF_ERROR(num("version", &version));
  if (version != kFormatVersion) return absl::DataLossError(StrCat("unknown version ", version));
  RETURN_IF_ERROR(str("id", &e.id));
  RETURN_IF_ERROR(str("kind", &kind));
  if (kind == DeadLetterKindName(DeadLetterKind::kDelivery)) {
    e.kind = DeadLetterKind::kDelivery;
  } else if (kind == DeadLetterKindName(DeadLetterKind::kProcessing)) {
    e.kind = DeadLetterKind::kProcessing;
  } else {
    return absl::DataLossError(StrCat("unknown kind \"", kind, "\""));
  }
  RETURN_IF_ERROR(str("pipeline", &e.pipeline));
  RETURN_IF_ERROR(num("attempts", &attempts));
  e.attempts = static_cast<int>(std::clamp<int64_t>(attempts, 0, INT32_MAX));
  RETURN_IF_ERROR(str("first_error", &e.first_error));
  RETURN_IF_ERROR(str("last_error", &e.last_error));
  RETURN_IF_ERROR(num("first_ms", &e.first_ms));
  RETURN_IF_ERROR(num("last_ms", &e.last_ms));
  RETURN_IF_ERROR(num("next_attempt_ms", &e.next_attempt_ms));
  if (o["expired"].get(e.expired) != simdjson::SUCCESS)
    return absl::DataLossError("field expired missing or not a bool");
  RETURN_IF_ERROR(str("key", &e.key));
  RETURN_IF_ERROR(num("records", &e.records));
  RETURN_IF_ERROR(num("bytes", &e.bytes));
  if (simdjson::dom::element crc; o["body_crc32"].get(crc) == simdjson::SUCCESS) {
    int64_t v = 0;
    if (crc.get(v) != simdjson::SUCCESS || v < 0 || v > int64_t{UINT32_MAX})
      return absl::DataLossError("field body_crc32 not a 32-bit unsigned integer");
    e.body_crc32 = static_cast<uint32_t>(v);
  }
  RETURN_IF_ERROR(str("record_id", &e.record_id));
  RETURN_IF_ERROR(num("arrival_ms", &e.arrival_ms));
  RETURN_IF_ERROR(str("error_code", &e.error_code));
  return e;
}

uint32_t DeadLetterBodyCrc32(std::string_view body) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes a uInt length: a large body goes in pieces.
  for (size_t at = 0; at < body.size();) {
    const size_t n = std::min<size_t>(body.size() - at, size_t{1} << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data() + at), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<uint32_t>(crc);
}

absl::Status VerifyDeadLetterBody(const DeadLetter& e, std::string_view body) {
  if (static_cast<int64_t>(body.size()) != e.bytes)
    return absl::DataLossError(
        StrCat("body is ", body.size(), " bytes, the metadata says ", e.bytes));
  if (e.body_crc32.has_value()) {
    const uint32_t crc = DeadLetterBodyCrc32(body);
    if (crc != *e.body_crc32)
      return absl::DataLossError(
          StrCat("body CRC-32 is ", crc, ", the metadata says ", *e.body_crc32));
  }
  if (e.kind == DeadLetterKind::kDelivery) {
    const auto lines = static_cast<int64_t>(std::count(body.begin(), body.end(), '\n'));
    if (lines != e.records)
      return absl::DataLossError(
          StrCat("body holds ", lines, " lines, the metadata says ", e.records, " records"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DeadLetter> ParseDeadLetterEntry(std::string_view file_id, std::string_view text) {
  const std::optional<DeadLetterId> id = ParseDeadLetterId(file_id);
  if (!id.has_value()) return absl::DataLossError("file name is not a dead-letter id");
  ASSIGN_OR_RETURN(DeadLetter e, ParseDeadLetterMetadata(text));
  if (e.id != file_id) return absl::DataLossError(StrCat("metadata names id ", e.id));
  if (e.kind != id->kind) return absl::DataLossError("kind does not match the id");
  return e;
}

}  // namespace lakehose
