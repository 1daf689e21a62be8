#include "core/delivery/delivery_format.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "core/base/base64.h"
#include "core/base/compress.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/parquet/parquet_writer.h"
#include "core/partition/object_key_limits.h"

namespace lakehose {

std::string ObjectKey(std::string_view prefix, std::string_view pipeline,
                      std::string_view writer_id, uint64_t sequence, Compression codec) {
  char seq[24];
  std::snprintf(seq, sizeof(seq), "%016llu", static_cast<unsigned long long>(sequence));
  return StrCat(prefix, pipeline, "-", writer_id, "-", std::string_view(seq),
                ObjectExtension(codec));
}

std::string ObjectKey(std::string_view prefix, std::string_view pipeline,
                      std::string_view writer_id, uint64_t sequence, std::string_view extension) {
  char seq[24];
  std::snprintf(seq, sizeof(seq), "%016llu", static_cast<unsigned long long>(sequence));
  return StrCat(prefix, pipeline, "-", writer_id, "-", std::string_view(seq), extension);
}

bool IsErrorDocumentBody(std::string_view body) {
  constexpr std::string_view kHead = "{\"attemptsMade\":";
  constexpr std::string_view kNext = ",\"arrivalTimestamp\":";
  if (body.substr(0, kHead.size()) != kHead) return false;
  size_t i = kHead.size();
  while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i;
  return i > kHead.size() && body.substr(i, kNext.size()) == kNext;
}

std::string_view ObjectExtensionFor(const DestinationSpec& dest, std::string_view body) {
  // An Iceberg table's objects become its Parquet data files (service/iceberg).
  if ((dest.format == "parquet" || dest.format == "iceberg") && !IsErrorDocumentBody(body))
    return ".parquet";
  return ObjectExtension(dest.compression);
}

namespace {

constexpr std::string_view kParquet = ".parquet";

bool IsParquetKey(std::string_view key) {
  return key.size() >= kParquet.size() && key.substr(key.size() - kParquet.size()) == kParquet;
}

}  // namespace

absl::StatusOr<std::string> EncodeObject(const DestinationSpec& dest, std::string_view key,
                                         std::string_view body, RejectedRecords* rejected) {
  if (!IsParquetKey(key)) return Compress(dest.compression, dest.compression_level, body);
  const std::vector<std::string_view> lines = SplitJsonLines(body);
  if (rejected == nullptr) return EncodeParquet(lines, dest.parquet);
  std::vector<ParquetRejectedRecord> left_out;
  absl::StatusOr<ParquetFile> file = EncodeParquetFileIsolating(lines, dest.parquet, &left_out);
  if (!file.ok()) return file.status();
  for (const ParquetRejectedRecord& r : left_out) {
    if (rejected->records++ == 0)
      rejected->reason = StrCat("line ", r.line + 1, ": ", r.why.message);
    StrAppend(&rejected->lines, lines[r.line], "\n");
  }
  if (!left_out.empty()) {
    std::vector<bool> out(lines.size(), false);
    for (const ParquetRejectedRecord& r : left_out) out[r.line] = true;
    for (size_t i = 0; i < lines.size(); ++i)
      if (!out[i]) StrAppend(&rejected->kept_lines, lines[i], "\n");
  }
  return std::move(file->bytes);
}

std::string RejectedRecordsKey(std::string_view key) {
  if (IsParquetKey(key)) key.remove_suffix(kParquet.size());
  return StrCat(key, "-rejected", kParquet);
}

void AppendErrorDocument(int attempts, int64_t arrival_ms, std::string_view error_code,
                         std::string_view error_message, std::string_view raw_data,
                         std::string* out) {
  StrAppend(out, "{\"attemptsMade\":", attempts, ",\"arrivalTimestamp\":", arrival_ms,
            ",\"errorCode\":");
  if (!AppendJsonString(error_code, out)) out->append("\"\"");
  out->append(",\"errorMessage\":");
  if (!AppendJsonString(error_message, out)) out->append("\"(invalid UTF-8)\"");
  out->append(",\"rawData\":\"");
  Base64Encode(raw_data, out);
  out->append("\"}\n");
}

std::string SanitizeWriterId(std::string_view id) {
  std::string out;
  for (char c : id) {
    if (out.size() == kMaxWriterIdBytes) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    out.push_back(ok ? c : '-');
  }
  return out.empty() ? "lakehose" : out;
}

}  // namespace lakehose
