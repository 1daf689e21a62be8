#include "core/backfill/export_format.h"

#include <charconv>
#include <cstdio>

#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/partition/timestamp.h"
#include "simdjson.h"

namespace lakehose::backfill {
namespace {

absl::Status Invalid(std::string_view where, std::string_view why) {
  return absl::InvalidArgumentError(StrCat(where, ": ", why));
}

// A string member, or an error naming it.
absl::Status StringField(simdjson::dom::object o, std::string_view where, std::string_view key,
                         std::string* out) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS)
    return Invalid(where, StrCat("missing \"", key, "\" (a string)"));
  *out = std::string(s);
  return absl::OkStatus();
}

// A count written as a number (or as a decimal string, as some writers do).
bool CountField(simdjson::dom::object o, std::string_view key, int64_t* out) {
  simdjson::dom::element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) return false;
  int64_t n = 0;
  std::string_view s;
  if (e.get_int64().get(n) == simdjson::SUCCESS) {
    *out = n;
  } else if (e.get_string().get(s) == simdjson::SUCCESS) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return false;
    *out = n;
  } else {
    return false;
  }
  return *out >= 0;
}

void AppendRaw(simdjson::dom::element e, std::string* out) { out->append(simdjson::minify(e)); }

}  // namespace

std::string ExportSummary::ExportId() const {
  const size_t slash = export_arn.rfind('/');
  return slash == std::string::npos ? export_arn : export_arn.substr(slash + 1);
}

absl::StatusOr<ExportSummary> ParseExportSummary(std::string_view json) {
  constexpr std::string_view kWhere = "manifest-summary.json";
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(json.data(), json.size()).get_object().get(top) != simdjson::SUCCESS)
    return Invalid(kWhere, "not a JSON object");
  ExportSummary s;
  std::string format = "DYNAMODB_JSON";
  std::string_view v;
  if (top.at_key("outputFormat").get_string().get(v) == simdjson::SUCCESS) format = std::string(v);
  if (format == "ION")
    return Invalid(kWhere,
                   "outputFormat ION is not read by lakehose: export the table again with "
                   "--export-format DYNAMODB_JSON (aws dynamodb export-table-to-point-in-time)");
  if (format != "DYNAMODB_JSON")
    return Invalid(kWhere,
                   StrCat("outputFormat ", QuoteForMessage(format), " is not DYNAMODB_JSON"));
  std::string type = "FULL_EXPORT";
  if (top.at_key("exportType").get_string().get(v) == simdjson::SUCCESS) type = std::string(v);
  if (type == "FULL_EXPORT") {
    s.type = ExportType::kFull;
  } else if (type == "INCREMENTAL_EXPORT") {
    s.type = ExportType::kIncremental;
  } else {
    return Invalid(kWhere, StrCat("exportType ", QuoteForMessage(type),
                                  " is neither FULL_EXPORT nor INCREMENTAL_EXPORT"));
  }
  if (absl::Status st = StringField(top, kWhere, "exportArn", &s.export_arn); !st.ok()) return st;
  if (top.at_key("tableArn").get_string().get(v) == simdjson::SUCCESS) s.table_arn = std::string(v);
  if (absl::Status st = StringField(top, kWhere, "manifestFilesS3Key", &s.manifest_files_key);
      !st.ok())
    return st;
  if (!CountField(top, "itemCount", &s.item_count))
    return Invalid(kWhere, "missing \"itemCount\" (a non-negative number)");
  // The instant the items are as of: a full export's exportTime; an incremental one's
  // exportToTime (its lines carry their own write times).
  const std::string_view time_key = s.type == ExportType::kFull ? "exportTime" : "exportToTime";
  std::string time_text;
  if (absl::Status st = StringField(top, kWhere, time_key, &time_text); !st.ok()) return st;
  std::optional<int64_t> ms = ParseTimestampMillis(time_text, /*is_string=*/true, 3);
  if (!ms)
    return Invalid(kWhere,
                   StrCat(time_key, " ", QuoteForMessage(time_text), " is not an RFC 3339 time"));
  s.export_time_ms = *ms;
  return s;
}

absl::StatusOr<std::vector<ExportDataFile>> ParseManifestFiles(std::string_view json_lines) {
  std::vector<ExportDataFile> out;
  simdjson::dom::parser parser;
  size_t line_number = 0;
  while (!json_lines.empty()) {
    const size_t nl = json_lines.find('\n');
    std::string_view line = json_lines.substr(0, nl);
    json_lines = nl == std::string_view::npos ? std::string_view() : json_lines.substr(nl + 1);
    ++line_number;
    line = TrimAsciiWhitespace(line);
    if (line.empty()) continue;
    const std::string where = StrCat("manifest-files.json line ", line_number);
    simdjson::dom::object o;
    if (parser.parse(line.data(), line.size()).get_object().get(o) != simdjson::SUCCESS)
      return Invalid(where, "not a JSON object");
    ExportDataFile f;
    if (absl::Status st = StringField(o, where, "dataFileS3Key", &f.key); !st.ok()) return st;
    if (f.key.find("/data/") == std::string::npos)
      return Invalid(where,
                     StrCat("dataFileS3Key ", QuoteForMessage(f.key), " is not under data/"));
    if (!CountField(o, "itemCount", &f.item_count))
      return Invalid(where, "missing \"itemCount\" (a non-negative number)");
    if (absl::Status st = StringField(o, where, "md5Checksum", &f.md5_base64); !st.ok()) return st;
    std::string_view etag;
    if (o.at_key("etag").get_string().get(etag) == simdjson::SUCCESS) f.etag = std::string(etag);
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<std::string> ExportLineToStreamRecord(std::string_view line, ExportType type,
                                                     const ExportSummary& summary,
                                                     size_t file_index, size_t line_number) {
  const std::string where = StrCat("data file ", file_index, " line ", line_number);
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(line.data(), line.size()).get_object().get(o) != simdjson::SUCCESS)
    return Invalid(where, "not a JSON object");
  auto image = [&](std::string_view key, simdjson::dom::element* e) -> absl::StatusOr<bool> {
    if (o.at_key(key).get(*e) != simdjson::SUCCESS) return false;
    if (!e->is_object()) return Invalid(where, StrCat(key, ": not an object of attributes"));
    return true;
  };
  std::string event_name;
  int64_t micros = summary.export_time_ms * 1000;
  simdjson::dom::element keys, new_image, old_image;
  bool has_keys = false, has_new = false, has_old = false;
  if (type == ExportType::kFull) {
    absl::StatusOr<bool> item = image("Item", &new_image);
    if (!item.ok()) return item.status();
    if (!*item) return Invalid(where, "missing \"Item\" (a full export's line)");
    has_new = true;
    event_name = "INSERT";
  } else {
    simdjson::dom::object metadata;
    std::string_view n;
    if (o.at_key("Metadata").get_object().get(metadata) != simdjson::SUCCESS ||
        metadata.at_key("WriteTimestampMicros").at_key("N").get_string().get(n) !=
            simdjson::SUCCESS)
      return Invalid(where, "missing \"Metadata\".\"WriteTimestampMicros\".\"N\"");
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), micros);
    if (ec != std::errc() || end != n.data() + n.size() || micros < 0)
      return Invalid(where, StrCat("WriteTimestampMicros ", QuoteForMessage(n),
                                   " is not a count of microseconds"));
    absl::StatusOr<bool> k = image("Keys", &keys);
    if (!k.ok()) return k.status();
    if (!*k) return Invalid(where, "missing \"Keys\" (an incremental export's line)");
    has_keys = true;
    absl::StatusOr<bool> ni = image("NewImage", &new_image);
    if (!ni.ok()) return ni.status();
    absl::StatusOr<bool> oi = image("OldImage", &old_image);
    if (!oi.ok()) return oi.status();
    has_new = *ni;
    has_old = *oi;
    event_name = has_new ? (has_old ? "MODIFY" : "INSERT") : "REMOVE";
  }
  std::string out = "{\"eventID\":";
  AppendJsonString(StrCat(summary.ExportId(), ":", file_index, ":", line_number), &out);
  StrAppend(&out, ",\"eventName\":\"", event_name, "\",\"eventSource\":\"aws:dynamodb\"");
  // Seconds with the microseconds kept (Lambda's shape is in seconds).
  char when[48];
  std::snprintf(when, sizeof(when), "%lld.%06lld", static_cast<long long>(micros / 1000000),
                static_cast<long long>(micros % 1000000));
  StrAppend(&out, ",\"dynamodb\":{\"ApproximateCreationDateTime\":", when);
  if (has_keys) {
    out += ",\"Keys\":";
    AppendRaw(keys, &out);
  }
  if (has_new) {
    out += ",\"NewImage\":";
    AppendRaw(new_image, &out);
  }
  if (has_old) {
    out += ",\"OldImage\":";
    AppendRaw(old_image, &out);
  }
  out += ",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}";
  return out;
}

}  // namespace lakehose::backfill
