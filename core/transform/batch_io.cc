#include "core/transform/batch_io.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// records[i] of a Firehose event: only strings are taken from it (recordId, data as
// base64), and the arrival time. INVALID_ARGUMENT naming what is missing or wrong.
absl::StatusOr<OwnedRecord> ReadFirehoseRecord(simdjson::dom::element rec, size_t i) {
  std::string_view id, data;
  if (rec.at_key("recordId").get_string().get(id) != simdjson::SUCCESS)
    return absl::InvalidArgumentError(StrCat("records[", i, "].recordId: missing or not a string"));
  if (rec.at_key("data").get_string().get(data) != simdjson::SUCCESS)
    return absl::InvalidArgumentError(StrCat("records[", i, "].data: missing or not a string"));
  auto decoded = Base64Decode(data);
  if (!decoded) return absl::InvalidArgumentError(StrCat("records[", i, "].data: not base64"));
  OwnedRecord r;
  double ts = 0;
  if (rec.at_key("approximateArrivalTimestamp").get_double().get(ts) == simdjson::SUCCESS &&
      std::fabs(ts) < 1e16)
    r.arrival_ms = static_cast<int64_t>(ts);
  r.record_id = std::string(id);
  r.data = *std::move(decoded);
  return r;
}

// The whole of `text` as one piece: what ParseInputBatch did before InputSplitter, now the
// splitter's reading of an input that is one top-level object (or an unbalanced start),
// held whole anyway.
absl::StatusOr<InputBatch> ParseWhole(std::string_view text) {
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
      absl::StatusOr<OwnedRecord> r = ReadFirehoseRecord(rec, i++);
      if (!r.ok()) return r.status();
      batch.records.push_back(*std::move(r));
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

constexpr std::string_view kEventNotJson =
    "input looks like a Lambda or Firehose event but is not valid JSON";

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool MentionsRecords(std::string_view text) {
  return text.find("\"Records\"") != std::string_view::npos ||
         text.find("\"records\"") != std::string_view::npos;
}

// `text` minified as written (numbers keep their digits); `text` itself if simdjson
// cannot.
std::string MinifyText(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (simdjson::minify(text.data(), text.size(), out.data(), len) != simdjson::SUCCESS)
    return std::string(text);
  out.resize(len);
  return out;
}

}  // namespace

absl::StatusOr<InputBatch> ParseInputBatch(std::string_view text) {
  InputSplitter splitter;
  InputBatch batch;
  if (absl::Status s = splitter.Feed(text, &batch.records); !s.ok()) return s;
  if (absl::Status s = splitter.Finish(&batch.records); !s.ok()) return s;
  batch.format = splitter.format().value_or(BatchFormat::kJsonLines);
  return batch;
}

InputSplitter::InputSplitter() : parser_(std::make_unique<simdjson::dom::parser>()) {}
InputSplitter::~InputSplitter() = default;

absl::Status InputSplitter::Feed(std::string_view chunk, std::vector<OwnedRecord>* out) {
  if (mode_ == Mode::kFailed) return error_;
  if (mode_ == Mode::kLines) {
    // Lines straight from the chunk: only a line the chunk cuts is copied into buf_ (which
    // holds no newline from line_start_ on).
    const char* p = chunk.data();
    const char* end = p + chunk.size();
    if (line_start_ < buf_.size()) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', chunk.size()));
      if (!nl) {
        buf_.append(chunk);
        pos_ = buf_.size();
        return absl::OkStatus();
      }
      buf_.append(p, static_cast<size_t>(nl - p));
      EmitLine(std::string_view(buf_).substr(line_start_), out);
      p = nl + 1;
    }
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (!nl) break;
      EmitLine(std::string_view(p, static_cast<size_t>(nl - p)), out);
      p = nl + 1;
    }
    buf_.assign(p, static_cast<size_t>(end - p));
    line_start_ = 0;
    pos_ = buf_.size();
    return absl::OkStatus();
  }
  buf_.append(chunk);
  return Step(/*eof=*/false, out);
}

void InputSplitter::EmitLine(std::string_view line, std::vector<OwnedRecord>* out) {
  line = TrimChars(line, kJsonWhitespace);
  if (line.empty()) return;
  OwnedRecord& r = out->emplace_back();
  r.record_id = StrCat(++records_);
  r.data.assign(line);
}

absl::Status InputSplitter::Finish(std::vector<OwnedRecord>* out) {
  if (mode_ == Mode::kFailed) return error_;
  return Step(/*eof=*/true, out);
}

absl::Status InputSplitter::Fail(absl::Status status) {
  mode_ = Mode::kFailed;
  error_ = status;
  buf_.clear();
  buf_.shrink_to_fit();
  return status;
}

// Drops buf_[0, keep_from), moving the offsets that point past it. Only when that is at
// least half of the buffer, so that a long record arriving in many chunks is moved a
// bounded number of times.
void InputSplitter::Compact(size_t keep_from) {
  if (keep_from == 0 || keep_from < buf_.size() / 2) return;
  buf_.erase(0, keep_from);
  pos_ -= keep_from;
  line_start_ = line_start_ >= keep_from ? line_start_ - keep_from : 0;
  elem_start_ = elem_start_ >= keep_from ? elem_start_ - keep_from : 0;
}

absl::Status InputSplitter::Step(bool eof, std::vector<OwnedRecord>* out) {
  // Each mode returns when it needs more input, or moves on to the next mode.
  for (;;) {
    const Mode before = mode_;
    absl::Status s;
    switch (mode_) {
      case Mode::kUndecided:
        s = StepUndecided(eof, out);
        break;
      case Mode::kLines:
        StepLines(eof, out);
        break;
      case Mode::kArray:
        s = StepArray(eof, out);
        break;
      case Mode::kTail:
        s = StepTail(eof);
        break;
      case Mode::kDone:
        return absl::OkStatus();
      case Mode::kFailed:
        return error_;
    }
    if (!s.ok()) return Fail(s);
    if (mode_ == before) return absl::OkStatus();
  }
}

absl::Status InputSplitter::StepUndecided(bool eof, std::vector<OwnedRecord>* out) {
  if (first_ == std::string::npos) {
    while (pos_ < buf_.size() && IsJsonSpace(buf_[pos_])) ++pos_;
    if (pos_ == buf_.size()) {
      if (eof) {
        format_ = BatchFormat::kJsonLines;
        mode_ = Mode::kDone;
      }
      return absl::OkStatus();
    }
    first_ = pos_;
    if (buf_[first_] != '{') {
      format_ = BatchFormat::kJsonLines;
      mode_ = Mode::kLines;
      pos_ = line_start_ = 0;
      return absl::OkStatus();
    }
  }
  // Scan the first value, watching its top-level keys for "Records" / "records" opening an
  // array.
  while (first_end_ == std::string::npos && pos_ < buf_.size()) {
    const char c = buf_[pos_];
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
        if (depth_ == 1 && expect_key_) {
          const std::string_view key(buf_.data() + key_start_ + 1, pos_ - key_start_ - 1);
          key_kind_ = key == "Records" ? 1 : key == "records" ? 2 : 0;
        }
      }
      ++pos_;
      continue;
    }
    if (IsJsonSpace(c)) {
      ++pos_;
      continue;
    }
    if (c == '[' && depth_ == 1 && value_kind_ != 0) {
      // An event: keep the text before the array for the final check, drop it from buf_.
      format_ = value_kind_ == 1 ? BatchFormat::kLambdaEvent : BatchFormat::kFirehoseEvent;
      skeleton_.assign(buf_, first_, pos_ - first_);
      skeleton_.append("[]");
      buf_.erase(0, pos_ + 1);
      pos_ = 0;
      mode_ = Mode::kArray;
      expect_ = Expect::kFirstElement;
      return absl::OkStatus();
    }
    const bool key_position = depth_ == 1 && expect_key_;
    if (depth_ == 1) value_kind_ = 0;  // any value but the array is not the records
    switch (c) {
      case '"':
        in_string_ = true;
        if (key_position) key_start_ = pos_;
        break;
      case '{':
      case '[':
        if (++depth_ == 1) expect_key_ = true;
        break;
      case '}':
      case ']':
        if (--depth_ == 0) first_end_ = pos_ + 1;
        break;
      case ',':
        if (depth_ == 1) expect_key_ = true;
        break;
      case ':':
        if (depth_ == 1) {
          expect_key_ = false;
          value_kind_ = key_kind_;
          key_kind_ = 0;
        }
        break;
      default:
        break;
    }
    ++pos_;
  }
  // The input is one piece (a single document, or text that never balances): read whole,
  // as ParseInputBatch always did.
  auto take_whole = [&]() -> absl::Status {
    absl::StatusOr<InputBatch> whole = ParseWhole(buf_);
    if (!whole.ok()) return whole.status();
    format_ = whole->format;
    for (OwnedRecord& r : whole->records) out->push_back(std::move(r));
    records_ += whole->records.size();
    mode_ = Mode::kDone;
    return absl::OkStatus();
  };
  if (first_end_ == std::string::npos) {
    // Unbalanced so far. At the end, the whole text is the one piece there is.
    if (!eof) return absl::OkStatus();
    return take_whole();
  }
  // The first value is complete: what follows it decides.
  while (pos_ < buf_.size() && IsJsonSpace(buf_[pos_])) ++pos_;
  if (pos_ == buf_.size()) {
    if (!eof) return absl::OkStatus();
    return take_whole();
  }
  // More than one value: JSON Lines, unless the first line is no document and an event
  // seems to have been meant.
  size_t line_end = buf_.find('\n', std::max(first_, line_start_));
  if (line_end == std::string::npos) {
    line_start_ = buf_.size();  // (unused until JSON Lines) where the search resumes
    if (!eof) return absl::OkStatus();
    line_end = buf_.size();
  }
  const std::string_view first_line =
      TrimChars(std::string_view(buf_).substr(first_, line_end - first_), kJsonWhitespace);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool zeroed = false;
  const simdjson::error_code err = ParseDocument(first_line, &parser, &root, &zeroed);
  if (err && MentionsRecords(
                 std::string_view(buf_).substr(first_, std::max(first_end_, line_end) - first_)))
    return absl::InvalidArgumentError(
        StrCat(kEventNotJson, " (", simdjson::error_message(err), ")"));
  format_ = BatchFormat::kJsonLines;
  mode_ = Mode::kLines;
  pos_ = line_start_ = 0;
  return absl::OkStatus();
}

void InputSplitter::StepLines(bool eof, std::vector<OwnedRecord>* out) {
  for (;;) {
    const void* nl =
        pos_ < buf_.size() ? std::memchr(buf_.data() + pos_, '\n', buf_.size() - pos_) : nullptr;
    size_t end;
    if (nl) {
      end = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
    } else if (eof) {
      end = buf_.size();
    } else {
      pos_ = buf_.size();  // the line goes on in the next chunk
      Compact(line_start_);
      return;
    }
    EmitLine(std::string_view(buf_).substr(line_start_, end - line_start_), out);
    line_start_ = pos_ = end + 1;
    if (!nl) {
      buf_.clear();
      pos_ = line_start_ = 0;
      mode_ = Mode::kDone;
      return;
    }
  }
}

namespace {

// Bit k set for each p[k] (k < 16, k < n) that can change the scanner's state: a quote, a
// backslash, a bracket or a brace. Everything else is skipped 16 bytes at a time.
uint32_t SpecialsMask(const char* p, size_t n) {
#if defined(__SSE2__)
  if (n >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    for (const char c : {'[', ']', '{', '}'})
      m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
    return static_cast<uint32_t>(_mm_movemask_epi8(m));
  }
#endif
  uint32_t mask = 0;
  for (size_t k = 0; k < n && k < 16; ++k) {
    const char c = p[k];
    if (c == '"' || c == '\\' || c == '[' || c == ']' || c == '{' || c == '}') mask |= 1u << k;
  }
  return mask;
}

}  // namespace

size_t InputSplitter::ScanElement(const char* p, size_t n, size_t* at, bool* too_deep) {
  size_t i = *at;
  for (;;) {
    if (escape_) {  // the byte after a backslash in a string is taken as it is
      if (i >= n) break;
      ++i;
      escape_ = false;
    }
    if (i >= n) break;
    const size_t width = std::min<size_t>(16, n - i);
    uint32_t mask = SpecialsMask(p + i, n - i);
    size_t next = i + width;
    while (mask) {
      const size_t j = i + static_cast<size_t>(__builtin_ctz(mask));
      mask &= mask - 1;
      const char c = p[j];
      if (in_string_) {
        if (c == '\\') {
          escape_ = true;
          next = j + 1;
          break;
        }
        if (c == '"') {
          in_string_ = false;
          if (elem_kind_ == '"') {
            *at = j + 1;
            return j + 1;
          }
        }
      } else if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        // As deep as a parser would refuse (the record is not parsed here).
        if (++depth_ > static_cast<int64_t>(simdjson::DEFAULT_MAX_DEPTH)) {
          *too_deep = true;
          *at = j;
          return std::string::npos;
        }
      } else if (c == '}' || c == ']') {
        if (--depth_ == 0) {
          *at = j + 1;
          return j + 1;
        }
      }
    }
    i = next;
  }
  *at = n;
  return std::string::npos;
}

absl::Status InputSplitter::StepArray(bool eof, std::vector<OwnedRecord>* out) {
  const std::string_view where = format_ == BatchFormat::kLambdaEvent ? "Records" : "records";
  while (pos_ < buf_.size()) {
    const char c = buf_[pos_];
    if (expect_ != Expect::kInElement) {
      if (IsJsonSpace(c)) {
        ++pos_;
        continue;
      }
      if (expect_ == Expect::kCommaOrClose || (expect_ == Expect::kFirstElement && c == ']')) {
        if (c == ',' && expect_ == Expect::kCommaOrClose) {
          expect_ = Expect::kElement;
          ++pos_;
          continue;
        }
        if (c == ']') {
          buf_.erase(0, pos_ + 1);
          pos_ = 0;
          mode_ = Mode::kTail;
          depth_ = 1;
          in_string_ = escape_ = false;
          return absl::OkStatus();
        }
        return absl::InvalidArgumentError(
            StrCat(kEventNotJson, " (", where, "[", records_, "]: expected ',' or ']')"));
      }
      // An element starts.
      Compact(pos_);
      elem_start_ = pos_;
      elem_kind_ = c == '{' || c == '[' || c == '"' ? c : 'x';
      depth_ = c == '{' || c == '[' ? 1 : 0;
      in_string_ = c == '"';
      escape_ = false;
      expect_ = Expect::kInElement;
      ++pos_;
      if (elem_kind_ != 'x') continue;
    }
    // Within an element: find its end.
    size_t end = std::string::npos;
    if (elem_kind_ == 'x') {
      while (pos_ < buf_.size() && !IsJsonSpace(buf_[pos_]) && buf_[pos_] != ',' &&
             buf_[pos_] != ']' && buf_[pos_] != '}')
        ++pos_;
      if (pos_ < buf_.size()) end = pos_;
    } else {
      const char* p = buf_.data();
      const size_t n = buf_.size();
      size_t i = pos_;
      bool too_deep = false;
      end = ScanElement(p, n, &i, &too_deep);
      if (too_deep)
        return absl::InvalidArgumentError(
            StrCat(kEventNotJson, " (", where, "[", records_,
                   "]: ", simdjson::error_message(simdjson::DEPTH_ERROR), ")"));
      pos_ = i;
    }
    if (end == std::string::npos) break;  // the element goes on in the next chunk
    if (absl::Status s =
            EmitElement(std::string_view(buf_).substr(elem_start_, end - elem_start_), out);
        !s.ok())
      return s;
    expect_ = Expect::kCommaOrClose;
  }
  if (eof)
    return absl::InvalidArgumentError(
        StrCat(kEventNotJson, " (the input ends inside ", where, "[", records_, "])"));
  Compact(expect_ == Expect::kInElement ? elem_start_ : pos_);
  return absl::OkStatus();
}

absl::Status InputSplitter::EmitElement(std::string_view text, std::vector<OwnedRecord>* out) {
  if (format_ == BatchFormat::kLambdaEvent) {
    // Minified as written (numbers keep their digits), not parsed: the transform parses
    // the record anyway, and one that is not JSON fails there alone, as a line of JSON
    // Lines does. (A parse here cost as much as the transform: bench/README.md.)
    OwnedRecord& r = out->emplace_back();
    r.record_id = StrCat(++records_);
    r.data = MinifyText(text);
    return absl::OkStatus();
  }
  simdjson::dom::element rec;
  bool zeroed = false;
  const size_t i = records_;
  const simdjson::error_code err = ParseDocument(text, parser_.get(), &rec, &zeroed);
  if (err)
    return absl::InvalidArgumentError(
        StrCat(kEventNotJson, " (records[", i, "]: ", simdjson::error_message(err), ")"));
  // With `zeroed` (a number the DOM cannot hold) the arrival time reads as 0, unset.
  absl::StatusOr<OwnedRecord> r = ReadFirehoseRecord(rec, i);
  if (!r.ok()) return r.status();
  out->push_back(*std::move(r));
  ++records_;
  return absl::OkStatus();
}

absl::Status InputSplitter::StepTail(bool eof) {
  // The rest of the event's object after the array: kept (it is small) for the final check.
  while (pos_ < buf_.size() && depth_ > 0) {
    const char c = buf_[pos_++];
    skeleton_.push_back(c);
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      --depth_;
    }
  }
  if (depth_ == 0) {
    while (pos_ < buf_.size() && IsJsonSpace(buf_[pos_])) ++pos_;
    if (pos_ < buf_.size())
      return absl::InvalidArgumentError(
          StrCat(kEventNotJson, " (text after the event's closing brace)"));
  }
  buf_.clear();
  pos_ = 0;
  if (!eof) return absl::OkStatus();
  if (depth_ > 0)
    return absl::InvalidArgumentError(
        StrCat(kEventNotJson, " (the input ends before the event's closing brace)"));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool zeroed = false;
  if (const simdjson::error_code err = ParseDocument(skeleton_, &parser, &root, &zeroed); err)
    return absl::InvalidArgumentError(
        StrCat(kEventNotJson, " (", simdjson::error_message(err), ")"));
  mode_ = Mode::kDone;
  return absl::OkStatus();
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

void AppendFirehoseResponseStart(std::string* out) { out->append("{\"records\":["); }

void AppendFirehoseResponseRecord(const ResultView& r, bool first, std::string* out) {
  if (!first) out->push_back(',');
  out->append("{\"recordId\":");
  AppendJsonString(r.record_id, out);
  StrAppend(out, ",\"result\":\"", FirehoseResult(r.result), "\",\"data\":\"");
  if (r.result == Verdict::kOk) {
    // Encoded in one piece: base64 of the data and then of "\n" would not be the base64
    // of the two together.
    std::string payload;
    payload.reserve(r.data.size() + 1);
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

void AppendFirehoseResponseEnd(std::string* out) { out->append("]}\n"); }

void AppendFirehoseResponse(const std::vector<ResultView>& results, std::string* out) {
  AppendFirehoseResponseStart(out);
  bool first = true;
  for (const ResultView& r : results) {
    AppendFirehoseResponseRecord(r, first, out);
    first = false;
  }
  AppendFirehoseResponseEnd(out);
}

}  // namespace lakehose
