#include "core/transform/batch_io.h"

#include <cmath>

#include "core/base/base64.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "simdjson.h"

namespace lakehose {
namespace {

void SplitLines(std::string_view text, InputBatch* batch) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = TrimChars(text.substr(pos, end - pos), kJsonWhitespace);
    if (!line.empty()) {
      OwnedRecord r;
      r.record_id = StrCat(batch->records.size() + 1);
      r.data = std::string(line);
      batch->records.push_back(std::move(r));
    }
    pos = end + 1;
  }
}

// {"k":"v",...} from string pairs, in their order.
void AppendStringObject(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                        std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : pairs) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(k, out);
    out->push_back(':');
    AppendJsonString(v, out);
  }
  out->push_back('}');
}

std::string_view FirehoseResult(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "Ok";
    case Verdict::kDropped:
      return "Dropped";
    default:
      return "ProcessingFailed";
  }
}

// Whether `token` (a run of number characters) is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view token) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
    return i > from;
  };
  if (i < token.size() && token[i] == '-') ++i;
  if (i < token.size() && token[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < token.size() && token[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == token.size();
}

// `text` with every well-formed number outside strings replaced by 0, the rest untouched.
// simdjson's DOM refuses numbers it cannot hold (integers beyond 64 bits, 1e400), which are
// valid JSON; the copy lets it check the structure all the same. One pass, no recursion;
// malformed numbers are left for the parser to refuse.
std::string WithNumbersZeroed(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      const size_t n = c == '\\' && i + 1 < text.size() ? 2 : 1;
      out.append(text.substr(i, n));
      in_string = c != '"';
      i += n;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i;
      while (end < text.size() &&
             ((text[end] >= '0' && text[end] <= '9') || text[end] == '-' || text[end] == '+' ||
              text[end] == '.' || text[end] == 'e' || text[end] == 'E'))
        ++end;
      const std::string_view token = text.substr(i, end - i);
      out.append(IsJsonNumber(token) ? std::string_view("0") : token);
      i = end;
    } else {
      in_string = c == '"';
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

bool IsNumberError(simdjson::error_code e) {
  return e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE;
}

// Parses `text` into `*root` with `*parser`. When only numbers the DOM cannot hold are in
// the way, parses the text with its numbers zeroed instead and sets `*numbers_zeroed`
// (the DOM's numbers are then not the text's). Otherwise returns the parse's error.
simdjson::error_code ParseDocument(std::string_view text, simdjson::dom::parser* parser,
                                   simdjson::dom::element* root, bool* numbers_zeroed) {
  *numbers_zeroed = false;
  const simdjson::error_code err = parser->parse(text.data(), text.size()).get(*root);
  if (!IsNumberError(err)) return err;
  const std::string zeroed = WithNumbersZeroed(text);
  if (parser->parse(zeroed.data(), zeroed.size()).get(*root) != simdjson::SUCCESS) return err;
  *numbers_zeroed = true;
  return simdjson::SUCCESS;
}

// `*out` = the text of `value` minified, its numbers as written.
bool MinifyRaw(simdjson::ondemand::value value, std::string* out) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  std::string_view raw;
  simdjson::error_code e = simdjson::SUCCESS;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object o;
    e = value.get_object().get(o);
    if (!e) e = o.raw_json().get(raw);
  } else if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array a;
    e = value.get_array().get(a);
    if (!e) e = a.raw_json().get(raw);
  } else {
    raw = TrimChars(value.raw_json_token(), kJsonWhitespace);
  }
  if (e) return false;
  out->resize(raw.size());
  size_t len = 0;
  if (simdjson::minify(raw.data(), raw.size(), out->data(), len) != simdjson::SUCCESS) return false;
  out->resize(len);
  return true;
}

// The records of the Lambda event `body` as written, for an event whose numbers the DOM
// could not hold (its copy of them is zeroed).
absl::Status AppendLambdaRecordsAsWritten(std::string_view body, InputBatch* batch) {
  std::string padded(body);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array records;
  if (parser.iterate(padded.data(), body.size(), padded.size()).get(doc) ||
      doc["Records"].get_array().get(records))
    return absl::InvalidArgumentError("Lambda event: Records is not an array");
  for (auto rec : records) {
    simdjson::ondemand::value value;
    OwnedRecord r;
    if (rec.get(value) || !MinifyRaw(value, &r.data))
      return absl::InvalidArgumentError(
          StrCat("Lambda event: Records[", batch->records.size(), "] is not valid JSON"));
    r.record_id = StrCat(batch->records.size() + 1);
    batch->records.push_back(std::move(r));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InputBatch> ParseInputBatch(std::string_view text) {
  InputBatch batch;
  const std::string_view body = TrimChars(text, kJsonWhitespace);
  if (body.empty() || body.front() != '{') {
    SplitLines(text, &batch);
    return batch;
  }
  // Try the whole text as one document: an event, or a single (maybe pretty) record.
  // Numbers the DOM cannot hold (integers beyond 64 bits) do not decide the format: they
  // are valid JSON, kept exactly by the transform.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool numbers_zeroed = false;
  const auto err = ParseDocument(body, &parser, &root, &numbers_zeroed);
  if (err) {
    // JSON Lines have a complete document on every line; an event file cut short does not.
    const std::string_view first_line = TrimChars(body.substr(0, body.find('\n')), kJsonWhitespace);
    simdjson::dom::parser line_parser;
    simdjson::dom::element line_root;
    bool line_zeroed = false;
    const bool first_line_ok = !ParseDocument(first_line, &line_parser, &line_root, &line_zeroed);
    const bool mentions_records = body.find("\"Records\"") != std::string_view::npos ||
                                  body.find("\"records\"") != std::string_view::npos;
    if (!first_line_ok && mentions_records)
      return absl::InvalidArgumentError(
          StrCat("input looks like a Lambda or Firehose event but is not valid JSON (",
                 simdjson::error_message(err), ")"));
    SplitLines(text, &batch);
    return batch;
  }
  simdjson::dom::object obj;
  simdjson::dom::array records;
  if (root.get_object().get(obj) == simdjson::SUCCESS &&
      obj.at_key("Records").get_array().get(records) == simdjson::SUCCESS) {
    batch.format = BatchFormat::kLambdaEvent;
    if (numbers_zeroed) {
      if (absl::Status s = AppendLambdaRecordsAsWritten(body, &batch); !s.ok()) return s;
      return batch;
    }
    for (simdjson::dom::element rec : records) {
      OwnedRecord r;
      r.record_id = StrCat(batch.records.size() + 1);
      r.data = simdjson::minify(rec);
      batch.records.push_back(std::move(r));
    }
    return batch;
  }
  if (root.get_object().get(obj) == simdjson::SUCCESS &&
      obj.at_key("records").get_array().get(records) == simdjson::SUCCESS) {
    batch.format = BatchFormat::kFirehoseEvent;
    // Only strings are taken from a Firehose event, and the arrival time: with
    // numbers_zeroed (an event holding a number the DOM cannot hold) it reads as 0, unset.
    size_t i = 0;
    for (simdjson::dom::element rec : records) {
      OwnedRecord r;
      std::string_view id, data;
      if (rec.at_key("recordId").get_string().get(id) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(
            StrCat("records[", i, "].recordId: missing or not a string"));
      if (rec.at_key("data").get_string().get(data) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(StrCat("records[", i, "].data: missing or not a string"));
      auto decoded = Base64Decode(data);
      if (!decoded) return absl::InvalidArgumentError(StrCat("records[", i, "].data: not base64"));
      double ts = 0;
      if (rec.at_key("approximateArrivalTimestamp").get_double().get(ts) == simdjson::SUCCESS &&
          std::fabs(ts) < 1e16)
        r.arrival_ms = static_cast<int64_t>(ts);
      r.record_id = std::string(id);
      r.data = *std::move(decoded);
      batch.records.push_back(std::move(r));
      ++i;
    }
    return batch;
  }
  // One record; if it spans several lines (pretty-printed), keep it whole.
  OwnedRecord r;
  r.record_id = "1";
  // Minify the text (not the DOM) so that numbers keep their exact digits.
  r.data.resize(body.size());
  size_t len = 0;
  if (simdjson::minify(body.data(), body.size(), r.data.data(), len) != simdjson::SUCCESS)
    r.data.assign(body);
  else
    r.data.resize(len);
  batch.records.push_back(std::move(r));
  return batch;
}

void AppendResultJsonLine(const ResultView& r, std::string* out) {
  out->append("{\"record_id\":");
  AppendJsonString(r.record_id, out);
  StrAppend(out, ",\"result\":\"", VerdictName(r.result), "\"");
  if (r.operation != Operation::kUnspecified)
    StrAppend(out, ",\"operation\":\"", OperationName(r.operation), "\"");
  if (r.result == Verdict::kOk) {
    out->append(",\"partition_keys\":");
    AppendStringObject(r.partition_keys, out);
  }
  if (!r.key_prefix.empty()) {
    out->append(",\"key_prefix\":");
    AppendJsonString(r.key_prefix, out);
  }
  if (r.result == Verdict::kProcessingFailed) {
    out->append(",\"error_code\":");
    AppendJsonString(r.error_code, out);
    out->append(",\"error_message\":");
    AppendJsonString(r.error_message, out);
  }
  if (r.result == Verdict::kOk) {
    out->append(",\"data\":");
    out->append(r.data.empty() ? std::string_view("null") : r.data);
  }
  out->append("}\n");
}

void AppendFirehoseResponse(const std::vector<ResultView>& results, std::string* out) {
  out->append("{\"records\":[");
  bool first_record = true;
  std::string payload;
  for (const ResultView& r : results) {
    if (!first_record) out->push_back(',');
    first_record = false;
    out->append("{\"recordId\":");
    AppendJsonString(r.record_id, out);
    StrAppend(out, ",\"result\":\"", FirehoseResult(r.result), "\",\"data\":\"");
    if (r.result == Verdict::kOk) {
      payload.assign(r.data);
      payload.push_back('\n');
      Base64Encode(payload, out);
    } else {
      Base64Encode(r.input_data, out);
    }
    out->push_back('"');
    if (r.result == Verdict::kOk && !r.partition_keys.empty()) {
      out->append(",\"metadata\":{\"partitionKeys\":");
      AppendStringObject(r.partition_keys, out);
      out->push_back('}');
    }
    out->push_back('}');
  }
  out->append("]}\n");
}

}  // namespace lakehose
