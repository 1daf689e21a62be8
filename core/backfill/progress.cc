#include "core/backfill/progress.h"

#include <utility>

#include "absl/status/status.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "simdjson.h"

namespace lakehose::backfill {
namespace {

bool Int(simdjson::dom::object o, std::string_view key, int64_t* out) {
  return o.at_key(key).get_int64().get(*out) == simdjson::SUCCESS;
}

bool Str(simdjson::dom::object o, std::string_view key, std::string* out) {
  std::string_view v;
  if (o.at_key(key).get_string().get(v) != simdjson::SUCCESS) return false;
  *out = std::string(v);
  return true;
}

}  // namespace

std::string ProgressHeaderLine(const ProgressHeader& h) {
  std::string out = "{\"lakehose_backfill\":1,\"source\":";
  AppendJsonString(h.source, &out);
  out += ",\"pipeline\":";
  AppendJsonString(h.pipeline, &out);
  out += ",\"writer_id\":";
  AppendJsonString(h.writer_id, &out);
  StrAppend(&out, ",\"started_ms\":", h.started_ms, "}\n");
  return out;
}

std::string ProgressUnitLine(uint64_t unit, int64_t records) {
  return StrCat("{\"unit\":", unit, ",\"records\":", records, "}\n");
}

std::string ProgressPageLine(int64_t segment, int64_t page, int64_t records,
                             std::string_view next_key) {
  return StrCat("{\"segment\":", segment, ",\"page\":", page, ",\"records\":", records,
                ",\"next\":", next_key.empty() ? std::string_view("null") : next_key, "}\n");
}

absl::StatusOr<Progress> ParseProgress(std::string_view text) {
  Progress p;
  simdjson::dom::parser parser;
  bool first = true;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    // A last line without its newline was torn by a kill: not trusted.
    const bool torn = nl == std::string_view::npos;
    if (torn && !first) break;  // expected after a kill: not counted
    const std::string_view line = text.substr(0, torn ? text.size() : nl);
    text.remove_prefix(torn ? text.size() : nl + 1);
    simdjson::dom::object o;
    const bool parsed =
        !torn && parser.parse(line.data(), line.size()).get_object().get(o) == simdjson::SUCCESS;
    if (first) {
      int64_t version = 0;
      if (!parsed || !Int(o, "lakehose_backfill", &version) || version != 1 ||
          !Str(o, "source", &p.header.source) || !Str(o, "pipeline", &p.header.pipeline) ||
          !Str(o, "writer_id", &p.header.writer_id) || !Int(o, "started_ms", &p.header.started_ms))
        return absl::InvalidArgumentError(
            "not a lakehose backfill progress file (its first line is not "
            "{\"lakehose_backfill\":1,\"source\":...,\"pipeline\":...,\"writer_id\":...,"
            "\"started_ms\":...})");
      first = false;
      continue;
    }
    if (!parsed) {
      ++p.skipped_lines;
      continue;
    }
    int64_t unit = 0, records = 0, segment = 0, page = 0;
    if (Int(o, "unit", &unit) && unit >= 0 && Int(o, "records", &records)) {
      p.units[static_cast<uint64_t>(unit)] = records;
      continue;
    }
    simdjson::dom::element next;
    if (Int(o, "segment", &segment) && segment >= 0 && Int(o, "page", &page) &&
        Int(o, "records", &records) && o.at_key("next").get(next) == simdjson::SUCCESS &&
        (next.is_null() || next.is_object())) {
      SegmentProgress& s = p.segments[segment];
      if (s.done || page != s.pages) {  // not the page that follows: not trusted
        ++p.skipped_lines;
        continue;
      }
      s.pages = page + 1;
      s.records += records;
      s.done = next.is_null();
      s.next_key = next.is_null() ? std::string() : std::string(simdjson::minify(next));
      continue;
    }
    ++p.skipped_lines;
  }
  if (first) return absl::InvalidArgumentError("an empty progress file");
  return p;
}

}  // namespace lakehose::backfill
