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

}  // namespace

absl::StatusOr<InputBatch> ParseInputBatch(std::string_view text) {
  InputBatch batch;
  const std::string_view body = TrimChars(text, kJsonWhitespace);
  if (body.empty() || body.front() != '{') {
    SplitLines(text, &batch);
    return batch;
  }
  // Try the whole text as one document: an event, or a single (maybe pretty) record.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto err = parser.parse(body.data(), body.size()).get(root);
  if (err) {
    // JSON Lines have a complete document on every line; an event file cut short does not.
    const std::string_view first_line = TrimChars(body.substr(0, body.find('\n')), kJsonWhitespace);
    simdjson::dom::parser line_parser;
    const bool first_line_ok = !line_parser.parse(first_line.data(), first_line.size()).error();
    const bool mentions_records = body.find("\"Records\"") != std::string_view::npos ||
                                  body.find("\"records\"") != std::string_view::npos;
    // simdjson's DOM refuses integers past 64 bits, which are valid JSON (and kept
    // exactly by the transform): such a text is still one document.
    if (!first_line_ok && (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE)) {
      OwnedRecord r;
      r.record_id = "1";
      r.data.resize(body.size());
      size_t len = 0;
      if (simdjson::minify(body.data(), body.size(), r.data.data(), len) != simdjson::SUCCESS) {
        r.data.assign(body);
      } else {
        r.data.resize(len);
      }
      batch.records.push_back(std::move(r));
      return batch;
    }
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
