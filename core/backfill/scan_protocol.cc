#include "core/backfill/scan_protocol.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "simdjson.h"
#include "zlib.h"

namespace lakehose::backfill {
namespace {

absl::Status Invalid(std::string_view where, std::string_view why) {
  return absl::InvalidArgumentError(StrCat(where, ": ", why));
}

// A DOM parser bounded in depth (see kMaxDynamoDbJsonDepth): deeper input fails with
// DEPTH_ERROR instead of growing the parser's stack.
absl::Status ParseBounded(simdjson::dom::parser& parser, std::string_view text,
                          std::string_view where, simdjson::dom::element* out) {
  if (text.size() > kMaxDynamoDbAnswerBytes)
    return Invalid(where, StrCat(text.size(), " bytes, more than the ", kMaxDynamoDbAnswerBytes,
                                 " a DynamoDB answer may have"));
  // A parser reused for many items (ScanPageToStreamRecords) keeps its buffers.
  if ((parser.capacity() < text.size() || parser.max_depth() != kMaxDynamoDbJsonDepth) &&
      parser.allocate(std::max<size_t>(text.size(), 4096), kMaxDynamoDbJsonDepth) !=
          simdjson::SUCCESS)
    return absl::ResourceExhaustedError(StrCat(where, ": cannot allocate the JSON parser"));
  const simdjson::error_code e = parser.parse(text.data(), text.size()).get(*out);
  if (e == simdjson::DEPTH_ERROR)
    return Invalid(where, StrCat("nested deeper than ", kMaxDynamoDbJsonDepth, " levels"));
  if (e != simdjson::SUCCESS)
    return Invalid(where, StrCat("not JSON (", simdjson::error_message(e), ")"));
  return absl::OkStatus();
}

// A count member: a non-negative integer.
absl::Status CountField(simdjson::dom::object o, std::string_view where, std::string_view key,
                        bool required, int64_t* out) {
  simdjson::dom::element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) {
    if (!required) return absl::OkStatus();
    return Invalid(where, StrCat("missing \"", key, "\" (a count)"));
  }
  int64_t n = 0;
  uint64_t u = 0;
  double d = 0;
  if (e.get_int64().get(n) == simdjson::SUCCESS) {
  } else if (e.get_uint64().get(u) == simdjson::SUCCESS) {
    n = INT64_MAX;  // past int64: an estimate that large is "very many"
  } else if (e.get_double().get(d) == simdjson::SUCCESS && d >= 0 && d < 9.2e18 &&
             d == std::floor(d)) {
    n = static_cast<int64_t>(d);
  } else {
    return Invalid(where, StrCat("\"", key, "\" is not a count"));
  }
  if (n < 0) return Invalid(where, StrCat("\"", key, "\" is negative"));
  *out = n;
  return absl::OkStatus();
}

// DynamoDB's messages are a sentence; a longer one (a proxy's page) is cut in ours.
constexpr size_t kMaxErrorMessageBytes = 512;

// The first `max_bytes` of `s`, shortened to end on a UTF-8 character boundary.
std::string_view CutAtCharacter(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// Where, in a Scan answer's text, each element of the top-level "Items" array and the
// top-level "LastEvaluatedKey" object are: the first of each member, as the DOM's at_key
// finds, matched by its name as written.
struct RawSpans {
  std::vector<std::string_view> items;
  std::string_view last_key;
  bool escaped_name = false;  // the spans are not to be trusted
};

// For text a JSON parser has accepted (balanced, strings closed): one pass, no recursion,
// depth counted in an integer.
void FindRawSpans(std::string_view json, RawSpans* out) {
  enum class In { kOther, kItems, kLastKey } member = In::kOther;
  bool items_done = false, key_done = false;
  bool expect_name = false;  // at depth 1, the next string is a member's name
  std::string_view name;     // the last top-level member name
  size_t depth = 0, value_start = 0, item_start = 0;
  const size_t n = json.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = json[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < n && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      if (depth == 1 && expect_name) {
        name = json.substr(i + 1, j - i - 1);
        // A name written with escapes may be one the DOM decodes to "Items": give up.
        if (name.find('\\') != std::string_view::npos) {
          out->escaped_name = true;
          return;
        }
      }
      i = j;
    } else if (c == '{' || c == '[') {
      if (depth == 1) {
        value_start = i;
        member = name == "Items" && !items_done            ? In::kItems
                 : name == "LastEvaluatedKey" && !key_done ? In::kLastKey
                                                           : In::kOther;
      } else if (depth == 2 && member == In::kItems && c == '{') {
        item_start = i;
      }
      ++depth;
      expect_name = depth == 1;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return;
      --depth;
      if (depth == 2 && member == In::kItems && c == '}') {
        out->items.push_back(json.substr(item_start, i - item_start + 1));
      } else if (depth == 1) {
        if (member == In::kItems) items_done = true;
        if (member == In::kLastKey) {
          out->last_key = json.substr(value_start, i - value_start + 1);
          key_done = true;
        }
        member = In::kOther;
      }
    } else if (depth == 1 && c == ',') {
      expect_name = true;
    } else if (depth == 1 && c == ':') {
      expect_name = false;
    }
  }
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

absl::StatusOr<std::string> ScanRequestBody(const ScanRequest& request) {
  constexpr std::string_view kWhere = "Scan request";
  if (request.table.empty()) return Invalid(kWhere, "no table name");
  if (request.total_segments < 1 || request.total_segments > kMaxScanSegments)
    return Invalid(kWhere, StrCat("total_segments ", request.total_segments, " is not in 1..",
                                  kMaxScanSegments));
  if (request.segment < 0 || request.segment >= request.total_segments)
    return Invalid(
        kWhere, StrCat("segment ", request.segment, " is not in 0..", request.total_segments - 1));
  if (request.limit < 0) return Invalid(kWhere, StrCat("limit ", request.limit, " is negative"));
  std::string out = "{\"TableName\":";
  if (!AppendJsonString(request.table, &out)) return Invalid(kWhere, "table name is not UTF-8");
  if (request.total_segments > 1)
    StrAppend(&out, ",\"Segment\":", request.segment,
              ",\"TotalSegments\":", request.total_segments);
  if (!request.exclusive_start_key.empty()) {
    // Checked and minified: it comes back from a progress file, and a damaged one must be
    // refused here rather than sent.
    simdjson::dom::parser parser;
    simdjson::dom::element key;
    if (absl::Status st =
            ParseBounded(parser, request.exclusive_start_key, "exclusive_start_key", &key);
        !st.ok())
      return st;
    if (!key.is_object()) return Invalid("exclusive_start_key", "not a JSON object");
    StrAppend(&out, ",\"ExclusiveStartKey\":", simdjson::minify(key));
  }
  if (request.limit > 0) StrAppend(&out, ",\"Limit\":", request.limit);
  StrAppend(&out, ",\"ConsistentRead\":", request.consistent_read ? "true" : "false",
            ",\"ReturnConsumedCapacity\":\"TOTAL\"}");
  return out;
}

absl::StatusOr<ScanPage> ParseScanResponse(std::string_view body) {
  constexpr std::string_view kWhere = "Scan answer";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (absl::Status st = ParseBounded(parser, body, kWhere, &root); !st.ok()) return st;
  simdjson::dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) return Invalid(kWhere, "not a JSON object");
  ScanPage page;
  simdjson::dom::array items;
  size_t item_count = 0;
  if (simdjson::dom::element e; top.at_key("Items").get(e) == simdjson::SUCCESS) {
    if (e.get_array().get(items) != simdjson::SUCCESS)
      return Invalid(kWhere, "\"Items\" is not an array");
    for (simdjson::dom::element item : items) {
      if (!item.is_object())
        return Invalid(kWhere, StrCat("\"Items\"[", item_count, "] is not an object"));
      ++item_count;
    }
  }
  bool has_last_key = false;
  simdjson::dom::element last_key;
  if (top.at_key("LastEvaluatedKey").get(last_key) == simdjson::SUCCESS) {
    if (!last_key.is_object()) return Invalid(kWhere, "\"LastEvaluatedKey\" is not an object");
    has_last_key = true;
  }
  if (absl::Status st = CountField(top, kWhere, "Count", /*required=*/true, &page.count); !st.ok())
    return st;
  if (absl::Status st =
          CountField(top, kWhere, "ScannedCount", /*required=*/false, &page.scanned_count);
      !st.ok())
    return st;
  if (page.count != static_cast<int64_t>(item_count))
    return Invalid(kWhere,
                   StrCat("\"Count\" is ", page.count, " but \"Items\" holds ", item_count));
  if (simdjson::dom::element cc; top.at_key("ConsumedCapacity").get(cc) == simdjson::SUCCESS) {
    simdjson::dom::element units;
    double d = 0;
    if (!cc.is_object() || cc.at_key("CapacityUnits").get(units) != simdjson::SUCCESS ||
        units.get_double().get(d) != simdjson::SUCCESS || !(d >= 0) || !std::isfinite(d))
      return Invalid(kWhere, "\"ConsumedCapacity\" has no \"CapacityUnits\" (a number >= 0)");
    page.consumed_capacity_units = d;
  }
  if (item_count == 0 && !has_last_key) return page;
  // The items' text as received (the DOM keeps values, not their text): found by
  // FindRawSpans in the text the DOM pass validated. If that reads the answer otherwise
  // (a member name written with escapes, which the DOM decodes), the DOM's minified text,
  // the same values, is used instead.
  RawSpans spans;
  FindRawSpans(body, &spans);
  page.items.reserve(item_count);
  if (!spans.escaped_name && spans.items.size() == item_count) {
    for (std::string_view raw : spans.items) page.items.emplace_back(raw);
  } else if (item_count > 0) {  // (else `items` is unset: no "Items", or an empty one)
    for (simdjson::dom::element item : items) page.items.emplace_back(simdjson::minify(item));
  }
  if (has_last_key) {
    page.last_evaluated_key = spans.escaped_name || spans.last_key.empty()
                                  ? std::string(simdjson::minify(last_key))
                                  : std::string(spans.last_key);
  }
  return page;
}

std::string DescribeTableRequestBody(std::string_view table) {
  std::string out = "{\"TableName\":";
  AppendJsonString(table, &out);
  out += '}';
  return out;
}

absl::StatusOr<TableDescription> ParseDescribeTable(std::string_view body) {
  constexpr std::string_view kWhere = "DescribeTable answer";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (absl::Status st = ParseBounded(parser, body, kWhere, &root); !st.ok()) return st;
  simdjson::dom::object table;
  if (root.at_key("Table").get_object().get(table) != simdjson::SUCCESS)
    return Invalid(kWhere, "missing \"Table\" (an object)");
  TableDescription d;
  std::string_view s;
  if (table.at_key("TableName").get_string().get(s) != simdjson::SUCCESS || s.empty())
    return Invalid(kWhere, "missing \"Table\".\"TableName\"");
  d.table_name = std::string(s);
  if (table.at_key("TableArn").get_string().get(s) == simdjson::SUCCESS) d.table_arn = s;
  if (table.at_key("TableStatus").get_string().get(s) == simdjson::SUCCESS) d.status = s;
  simdjson::dom::array schema;
  if (table.at_key("KeySchema").get_array().get(schema) != simdjson::SUCCESS)
    return Invalid(kWhere, "missing \"Table\".\"KeySchema\" (an array)");
  std::string hash, range;
  for (simdjson::dom::element k : schema) {
    std::string_view name, type;
    if (k.at_key("AttributeName").get_string().get(name) != simdjson::SUCCESS || name.empty() ||
        k.at_key("KeyType").get_string().get(type) != simdjson::SUCCESS)
      return Invalid(kWhere, "a \"KeySchema\" element has no AttributeName and KeyType");
    std::string* slot = type == "HASH" ? &hash : type == "RANGE" ? &range : nullptr;
    if (slot == nullptr)
      return Invalid(kWhere,
                     StrCat("KeyType ", QuoteForMessage(type), " is neither HASH nor RANGE"));
    if (!slot->empty()) return Invalid(kWhere, StrCat("\"KeySchema\" has two ", type, " keys"));
    *slot = std::string(name);
  }
  if (hash.empty()) return Invalid(kWhere, "\"KeySchema\" has no HASH key");
  d.key_names.push_back(hash);
  if (!range.empty()) d.key_names.push_back(range);
  if (absl::Status st = CountField(table, kWhere, "ItemCount", false, &d.item_count); !st.ok())
    return st;
  if (absl::Status st = CountField(table, kWhere, "TableSizeBytes", false, &d.table_size_bytes);
      !st.ok())
    return st;
  d.billing_mode = "PROVISIONED";
  if (table.at_key("BillingModeSummary").at_key("BillingMode").get_string().get(s) ==
      simdjson::SUCCESS)
    d.billing_mode = s;
  if (simdjson::dom::object pt;
      table.at_key("ProvisionedThroughput").get_object().get(pt) == simdjson::SUCCESS) {
    if (absl::Status st =
            CountField(pt, kWhere, "ReadCapacityUnits", false, &d.read_capacity_units);
        !st.ok())
      return st;
  }
  return d;
}

namespace {

// ScanItemToStreamRecord with the caller's parser (one per page).
absl::StatusOr<std::string> ItemToRecord(simdjson::dom::parser& parser, std::string_view item_json,
                                         const std::vector<std::string>& key_names,
                                         std::string_view table_name, int64_t segment, int64_t page,
                                         size_t index_in_page, int64_t time_ms) {
  const std::string where = StrCat("segment ", segment, " page ", page, " item ", index_in_page);
  if (key_names.empty()) return Invalid(where, "the table's key attribute names are not known");
  if (time_ms < 0) return Invalid(where, StrCat("time ", time_ms, " ms is before 1970"));
  simdjson::dom::element root;
  if (absl::Status st = ParseBounded(parser, item_json, where, &root); !st.ok()) return st;
  simdjson::dom::object item;
  if (root.get_object().get(item) != simdjson::SUCCESS)
    return Invalid(where, "not a JSON object of attributes");
  std::string out = "{\"eventID\":";
  AppendJsonString(StrCat("scan:", table_name, ":", segment, ":", page, ":", index_in_page), &out);
  out += ",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\"";
  // Seconds with microseconds, as ExportLineToStreamRecord writes them.
  const int64_t micros = time_ms * 1000;
  char when[48];
  std::snprintf(when, sizeof(when), "%lld.%06lld", static_cast<long long>(micros / 1000000),
                static_cast<long long>(micros % 1000000));
  StrAppend(&out, ",\"dynamodb\":{\"ApproximateCreationDateTime\":", when, ",\"Keys\":{");
  for (size_t i = 0; i < key_names.size(); ++i) {
    simdjson::dom::element v;
    if (item.at_key(key_names[i]).get(v) != simdjson::SUCCESS || !v.is_object())
      return Invalid(where,
                     StrCat("the item has no key attribute ", QuoteForMessage(key_names[i])));
    if (i > 0) out += ',';
    if (!AppendJsonString(key_names[i], &out))
      return Invalid(where, "a key attribute name is not UTF-8");
    out += ':';
    out += simdjson::minify(v);
  }
  out += "},\"NewImage\":";
  // The item's text as received when it is one line (a record may end up in JSON Lines);
  // otherwise minified. (JSON strings hold no raw line breaks, so this finds only layout.)
  const std::string_view raw = TrimAsciiWhitespace(item_json);
  if (HasLineBreak(raw)) {
    out += simdjson::minify(item);
  } else {
    out += raw;
  }
  out += ",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}";
  return out;
}

}  // namespace

absl::StatusOr<std::string> ScanItemToStreamRecord(std::string_view item_json,
                                                   const std::vector<std::string>& key_names,
                                                   std::string_view table_name, int64_t segment,
                                                   int64_t page, size_t index_in_page,
                                                   int64_t time_ms) {
  simdjson::dom::parser parser;
  return ItemToRecord(parser, item_json, key_names, table_name, segment, page, index_in_page,
                      time_ms);
}

absl::StatusOr<std::vector<std::string>> ScanPageToStreamRecords(
    const ScanPage& page, const std::vector<std::string>& key_names, std::string_view table_name,
    int64_t segment, int64_t page_number, int64_t time_ms) {
  simdjson::dom::parser parser;
  std::vector<std::string> records;
  records.reserve(page.items.size());
  for (size_t i = 0; i < page.items.size(); ++i) {
    absl::StatusOr<std::string> r = ItemToRecord(parser, page.items[i], key_names, table_name,
                                                 segment, page_number, i, time_ms);
    if (!r.ok()) return r.status();
    records.push_back(*std::move(r));
  }
  return records;
}

std::string_view DynamoDbErrorKindName(DynamoDbErrorKind kind) {
  switch (kind) {
    case DynamoDbErrorKind::kThrottled:
      return "throttled";
    case DynamoDbErrorKind::kTransient:
      return "transient";
    case DynamoDbErrorKind::kAuth:
      return "auth";
    case DynamoDbErrorKind::kClient:
      break;
  }
  return "client";
}

std::string DynamoDbError::ToString(int http_status) const {
  std::string out = type.empty() ? std::string("error") : type;
  if (!message.empty()) StrAppend(&out, ": ", message);
  StrAppend(&out, " (HTTP ", http_status, ")");
  return out;
}

DynamoDbError ParseDynamoDbError(int http_status, std::string_view body) {
  DynamoDbError err;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  bool parsed = false;
  if (body.size() <= kMaxDynamoDbAnswerBytes &&
      parser.allocate(body.size(), kMaxDynamoDbJsonDepth) == simdjson::SUCCESS &&
      parser.parse(body.data(), body.size()).get(root) == simdjson::SUCCESS &&
      root.get_object().get(o) == simdjson::SUCCESS) {
    parsed = true;
    std::string_view s;
    if (o.at_key("__type").get_string().get(s) == simdjson::SUCCESS) {
      // "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
      const size_t hash = s.rfind('#');
      err.type = std::string(hash == std::string_view::npos ? s : s.substr(hash + 1));
    }
    if (o.at_key("message").get_string().get(s) == simdjson::SUCCESS ||
        o.at_key("Message").get_string().get(s) == simdjson::SUCCESS)
      err.message = std::string(CutAtCharacter(s, kMaxErrorMessageBytes));
  }
  if (!parsed) {
    const std::string_view text = TrimAsciiWhitespace(body);
    if (!text.empty()) err.message = QuoteForMessage(text, 200);
  }
  const std::string_view t = err.type;
  // The names DynamoDB's guide lists ("Error handling with DynamoDB") and AWS's common
  // errors; the Exception-less spellings are what other AWS JSON services send.
  constexpr std::string_view kThrottled[] = {"ProvisionedThroughputExceededException",
                                             "ThrottlingException", "Throttling",
                                             "RequestLimitExceeded", "TooManyRequestsException"};
  constexpr std::string_view kTransient[] = {"InternalServerError",          "InternalFailure",
                                             "InternalServerErrorException", "ServiceUnavailable",
                                             "ServiceUnavailableException",  "RequestTimeout",
                                             "RequestTimeoutException"};
  constexpr std::string_view kAuth[] = {"UnrecognizedClientException",
                                        "AccessDeniedException",
                                        "AccessDenied",
                                        "InvalidSignatureException",
                                        "IncompleteSignature",
                                        "IncompleteSignatureException",
                                        "MissingAuthenticationToken",
                                        "MissingAuthenticationTokenException",
                                        "ExpiredToken",
                                        "ExpiredTokenException",
                                        "InvalidClientTokenId",
                                        "SignatureDoesNotMatch",
                                        "NotAuthorized",
                                        "RequestExpired",
                                        "OptInRequired"};
  auto in = [&](const auto& names) {
    for (std::string_view n : names) {
      if (t == n) return true;
    }
    return false;
  };
  if (in(kThrottled)) {
    err.kind = DynamoDbErrorKind::kThrottled;
  } else if (in(kTransient)) {
    err.kind = DynamoDbErrorKind::kTransient;
  } else if (in(kAuth)) {
    err.kind = DynamoDbErrorKind::kAuth;
  } else if (http_status == 429) {
    err.kind = DynamoDbErrorKind::kThrottled;
  } else if (http_status >= 500) {
    err.kind = DynamoDbErrorKind::kTransient;
  } else if (http_status == 401 || http_status == 403) {
    err.kind = DynamoDbErrorKind::kAuth;
  } else {
    err.kind = DynamoDbErrorKind::kClient;
  }
  return err;
}

absl::Status CheckAnswerCrc32(std::string_view header_value, std::string_view body) {
  if (header_value.empty()) return absl::OkStatus();
  uint64_t want = 0;
  const auto [end, ec] =
      std::from_chars(header_value.data(), header_value.data() + header_value.size(), want);
  if (ec != std::errc() || end != header_value.data() + header_value.size() || want > 0xffffffffu)
    return absl::DataLossError(
        StrCat("x-amz-crc32 ", QuoteForMessage(header_value), " is not a CRC32"));
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib's crc32 takes a uInt length: large bodies go in pieces.
  while (!body.empty()) {
    const size_t n = std::min<size_t>(body.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(n));
    body.remove_prefix(n);
  }
  if (crc != want)
    return absl::DataLossError(StrCat("the answer's body has CRC32 ", static_cast<uint64_t>(crc),
                                      ", x-amz-crc32 says ", want, " (damaged on the way)"));
  return absl::OkStatus();
}

}  // namespace lakehose::backfill
