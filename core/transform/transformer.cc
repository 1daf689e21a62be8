#include "core/transform/transformer.h"

#include <charconv>
#include <cmath>

#include "absl/time/time.h"
#include "core/base/decimal.h"
#include "core/base/json_writer.h"
#include "core/base/limits.h"
#include "core/base/strings.h"
#include "core/partition/object_key_limits.h"
#include "core/partition/path_safe.h"
#include "core/partition/timestamp.h"

namespace lakehose {
namespace {

using simdjson::dom::element;
namespace od = simdjson::ondemand;

constexpr std::string_view kProcessingFailed = "processing-failed";

bool Fail(std::string_view code, std::string message, ConvertError* error) {
  error->code = code;
  error->message = std::move(message);
  return false;
}

// Looks up `key` in `obj`; nullopt if absent.
std::optional<element> Find(simdjson::dom::object obj, std::string_view key) {
  element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  return e;
}

bool FailTooDeep(const AttributePath& path, ConvertError* error) {
  return Fail(
      error_code::kNestingTooDeep,
      StrCat(path.ToString(), ": more than ", kMaxNestingDepth, " levels of nested maps and lists"),
      error);
}

bool FailDuplicate(const AttributePath& path, std::string_view key, std::string_view where,
                   ConvertError* error) {
  return Fail(
      error_code::kDuplicateKey,
      StrCat(path.ToString(), ": the name ", QuoteForMessage(key), " appears twice in ", where),
      error);
}

// Why simdjson's DOM parser refused `data`. It refuses JSON nested deeper than its max
// depth (without recursing), far past kMaxNestingDepth levels of an item: too deep.
// Out of line: the message building would crowd the hot path's inlining.
[[gnu::noinline, gnu::cold]] bool FailParse(simdjson::error_code e, size_t max_depth,
                                            ConvertError* error) {
  if (e == simdjson::DEPTH_ERROR)
    return Fail(error_code::kNestingTooDeep,
                // (as an int: a second caller of to_chars<long> here made the compiler
                // stop inlining the one in TransformStream, +5% on the core row)
                StrCat("data: nested deeper than ", static_cast<int>(max_depth),
                       " JSON levels, far more than the limit of ", kMaxNestingDepth,
                       " levels of nested maps and lists"),
                error);
  return Fail(error_code::kInvalidJson,
              StrCat("data: not valid JSON (", simdjson::error_message(e), ")"), error);
}

// Renders an on-demand value as JSON, numbers with their exact text. `depth` objects and
// arrays enclose `v`; an object or array past kMaxNestingDepth fails the record before
// it is read (on-demand parsing has no depth limit of its own: this is what bounds the
// recursion), and so does a name given twice in one object.
bool RenderOnDemand(od::value v, std::string* out, AttributePath* path, DuplicateKeys* keys,
                    int depth, ConvertError* error) {
  auto fail = [&](simdjson::error_code e) {
    return Fail(error_code::kInvalidJson,
                StrCat(path->ToString(), ": ", simdjson::error_message(e)), error);
  };
  od::json_type type;
  if (auto e = v.type().get(type)) return fail(e);
  switch (type) {
    case od::json_type::object: {
      if (depth >= kMaxNestingDepth) return FailTooDeep(*path, error);
      od::object obj;
      if (auto e = v.get_object().get(obj)) return fail(e);
      DuplicateKeys::Object seen = keys->Open();
      out->push_back('{');
      bool first = true;
      for (auto field_result : obj) {
        od::field field;
        if (auto e = std::move(field_result).get(field)) return fail(e);
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return fail(e);
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        path->PushKey(key);
        if (!keys->Add(&seen, key)) return FailDuplicate(*path, key, "one object", error);
        if (!RenderOnDemand(field.value(), out, path, keys, depth + 1, error)) return false;
        path->Pop();
      }
      keys->Close(seen);
      out->push_back('}');
      return true;
    }
    case od::json_type::array: {
      if (depth >= kMaxNestingDepth) return FailTooDeep(*path, error);
      od::array arr;
      if (auto e = v.get_array().get(arr)) return fail(e);
      out->push_back('[');
      int64_t i = 0;
      for (auto item_result : arr) {
        od::value item;
        if (auto e = std::move(item_result).get(item)) return fail(e);
        if (i != 0) out->push_back(',');
        path->PushIndex(i++);
        if (!RenderOnDemand(item, out, path, keys, depth + 1, error)) return false;
        path->Pop();
      }
      out->push_back(']');
      return true;
    }
    case od::json_type::number: {
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() &&
             (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
        raw.remove_suffix(1);
      if (!IsJsonNumber(raw))
        return Fail(error_code::kInvalidJson,
                    StrCat(path->ToString(), ": invalid number ", QuoteForMessage(raw)), error);
      out->append(raw);
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return fail(e);
      AppendValidJsonString(s, out);
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return fail(e);
      out->append(b ? "true" : "false");
      return true;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null); e || !is_null)
        return fail(e ? e : simdjson::N_ATOM_ERROR);
      out->append("null");
      return true;
    }
  }
  return fail(simdjson::INCORRECT_TYPE);
}

std::string_view ShapeName(simdjson::dom::element_type t) {
  switch (t) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    default:
      return "a scalar";
  }
}

}  // namespace

RecordTransformer::RecordTransformer(const PipelineSpec& spec)
    : spec_(spec), converter_(spec.numbers) {
  // Metadata names are fixed per pipeline: where each is read from, and its key as JSON
  // ("_name":), are worked out once here rather than per record.
  for (const std::string& name : spec_.metadata) {
    // A name listed twice is written once: a document never has a key twice.
    bool repeated = false;
    for (const MetadataField& earlier : metadata_) repeated |= earlier.name == name;
    if (repeated) continue;
    MetadataField& m = metadata_.emplace_back();
    m.name = name;
    if (name == "ApproximateCreationDateTime")
      m.source = MetadataField::kCreationTime;
    else if (name == "SequenceNumber" || name == "SizeBytes" || name == "StreamViewType")
      m.source = MetadataField::kDynamodb;
    else
      m.source = MetadataField::kRecord;
    m.key_json = "\"_";
    AppendJsonStringBody(name, &m.key_json);
    m.key_json.append("\":");
  }
}

void RecordTransformer::Transform(const InputRecord& in, const TransformContext& ctx,
                                  RecordOutcome* out) {
  out->Clear();
  out->arrival_ms = in.arrival_ms != 0 ? in.arrival_ms : ctx.default_arrival_ms;
  has_last_timestamp_ = false;
  event_ms_.reset();
  ConvertError error;
  bool ok = spec_.input == InputKind::kJson ? TransformJson(in.data, out, &error)
                                            : TransformStream(in.data, out, &error);
  if (ok && spec_.iceberg_columns && out->result == Verdict::kUnspecified) [[unlikely]]
    ok = AppendIcebergColumns(out, &error);
  if (!ok) {
    out->result = Verdict::kProcessingFailed;
    out->data.clear();
    out->partition_values.clear();
    out->error_code = error.code;
    out->error_message = std::move(error.message);
  } else if (out->result == Verdict::kUnspecified) {
    out->result = Verdict::kOk;
  }
  if (out->result == Verdict::kDropped) return;
  RenderPrefix(ctx, out);
}

void RecordTransformer::RenderPrefix(const TransformContext& ctx, RecordOutcome* out) {
  PrefixValues v;
  v.timestamp_ms = out->arrival_ms;
  v.random_string = ctx.random_string;
  if (out->result == Verdict::kOk) {
    v.partition_values = &out->partition_values;
    spec_.prefix.Render(v, &out->key_prefix);
    // A key the destination would refuse is refused here, for this record alone, rather
    // than failing the delivery of the whole object it would join.
    const std::optional<KeyOverflow> overflow = FindKeyOverflow(out->key_prefix, spec_.key_limits);
    if (!overflow) return;
    out->result = Verdict::kProcessingFailed;
    out->error_code = error_code::kKeyTooLong;
    out->error_message =
        spec_.prefix.DescribeOverflow(v, out->key_prefix, *overflow, spec_.key_limits);
    out->data.clear();
    out->partition_values.clear();
    out->key_prefix.clear();
  }
  // Config refuses an error_prefix that could render too long (config.cc CheckKeyLengths).
  v.partition_values = nullptr;
  v.error_output_type = kProcessingFailed;
  spec_.error_prefix.Render(v, &out->key_prefix);
}

bool RecordTransformer::TransformStream(std::string_view data, RecordOutcome* out,
                                        ConvertError* error) {
  element root;
  if (auto e = dom_.parse(data.data(), data.size()).get(root))
    return FailParse(e, dom_.max_depth(), error);
  simdjson::dom::object rec;
  if (root.get_object().get(rec) != simdjson::SUCCESS)
    return Fail(error_code::kInvalidRecord,
                StrCat("data: expected a DynamoDB stream record (a JSON object), got ",
                       ShapeName(root.type())),
                error);

  // One pass over the envelope's fields instead of a lookup per name (each lookup scans
  // the fields); the first occurrence of a name wins, as with at_key.
  std::optional<element> event_name_value, dynamodb_value, user_identity;
  bool kinesis = false;  // the Kinesis Data Streams shape (tableName / recordFormat)
  for (auto field : rec) {
    const std::string_view key = field.key;
    if (key == "eventName") {
      if (!event_name_value) event_name_value = field.value;
    } else if (key == "userIdentity") {
      if (!user_identity) user_identity = field.value;
    } else if (key == "dynamodb") {
      if (!dynamodb_value) dynamodb_value = field.value;
    } else if (key == "tableName" || key == "recordFormat") {
      kinesis = true;
    }
  }
  std::string_view event_name;
  if (!event_name_value || event_name_value->get_string().get(event_name) != simdjson::SUCCESS)
    return Fail(error_code::kInvalidRecord, "eventName: missing or not a string", error);
  uint8_t bit;
  if (event_name == "INSERT") {
    bit = kEventInsert;
    out->operation = Operation::kInsert;
  } else if (event_name == "MODIFY") {
    bit = kEventModify;
    out->operation = Operation::kUpdate;
  } else if (event_name == "REMOVE") {
    bit = kEventRemove;
    out->operation = Operation::kDelete;
    // TTL deletions are REMOVEs by DynamoDB's own service principal.
    std::string_view principal;
    out->ttl_delete =
        user_identity && user_identity->is_object() &&
        (*user_identity)["principalId"].get_string().get(principal) == simdjson::SUCCESS &&
        principal == "dynamodb.amazonaws.com";
  } else {
    return Fail(error_code::kUnsupportedEventName,
                StrCat("eventName: unsupported value ", QuoteForMessage(event_name),
                       " (expected INSERT, MODIFY or REMOVE)"),
                error);
  }
  if (!(spec_.event_names & bit)) {
    out->result = Verdict::kDropped;
    return true;
  }

  simdjson::dom::object ddb;
  if (!dynamodb_value || dynamodb_value->get_object().get(ddb) != simdjson::SUCCESS)
    return Fail(error_code::kInvalidRecord, "dynamodb: missing or not an object", error);

  struct Image {
    std::string_view name;
    std::optional<simdjson::dom::object> obj;
  };
  Image images[3] = {{"dynamodb.NewImage", {}}, {"dynamodb.OldImage", {}}, {"dynamodb.Keys", {}}};
  std::optional<element> act, image_values[3];
  for (auto field : ddb) {  // one pass, first occurrence wins (as at_key)
    const std::string_view key = field.key;
    if (key == "NewImage") {
      if (!image_values[0]) image_values[0] = field.value;
    } else if (key == "OldImage") {
      if (!image_values[1]) image_values[1] = field.value;
    } else if (key == "Keys") {
      if (!image_values[2]) image_values[2] = field.value;
    } else if (key == "ApproximateCreationDateTime") {
      if (!act) act = field.value;
    }
  }

  // Lambda's shape has ApproximateCreationDateTime in seconds; the Kinesis Data Streams
  // shape (which carries tableName / recordFormat) has it in milliseconds.
  std::optional<int64_t> creation_ms;
  if (act) {
    double v;
    if (act->get_double().get(v) == simdjson::SUCCESS && std::isfinite(v)) {
      const double ms = kinesis ? v : v * 1000.0;
      // Beyond +-10^16 ms (over 300,000 years) the value is garbage, not a time.
      if (std::fabs(ms) < 1e16) creation_ms = static_cast<int64_t>(std::llround(ms));
    }
  }

  for (int i = 0; i < 3; ++i) {
    if (const std::optional<element>& e = image_values[i]) {
      simdjson::dom::object o;
      if (e->get_object().get(o) != simdjson::SUCCESS)
        return Fail(error_code::kInvalidAttribute,
                    StrCat(images[i].name, ": expected an object of attributes, got ",
                           ShapeName(e->type())),
                    error);
      images[i].obj = o;
    }
  }
  // Image choice (README, "Pipelines"): new -> NewImage, for REMOVE OldImage; old ->
  // OldImage; new-or-old -> NewImage else OldImage; every choice falls back to Keys.
  const Image* chosen = nullptr;
  auto pick = [&](int i) {
    if (!chosen && images[i].obj) chosen = &images[i];
  };
  switch (spec_.image) {
    case ImageChoice::kNew:
      pick(0);
      if (out->operation == Operation::kDelete) pick(1);
      break;
    case ImageChoice::kOld:
      pick(1);
      break;
    case ImageChoice::kNewOrOld:
      pick(0);
      pick(1);
      break;
  }
  pick(2);
  if (!chosen)
    return Fail(error_code::kMissingImage,
                "dynamodb: has none of NewImage, OldImage or Keys for the configured image choice",
                error);

  // The document is written into doc_ (raw stores, no capacity checks per byte) and
  // copied into out->data once.
  JsonBuffer& doc = doc_;
  doc.Clear();
  doc.Put('{');
  converter_.keys().Reset();
  bool first = true;
  for (const MetadataField& m : metadata_) {
    if (!first) doc.Put(',');
    first = false;
    doc.Append(m.key_json);
    if (m.source == MetadataField::kCreationTime) {
      if (creation_ms) {
        char digits[24];
        const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), *creation_ms);
        doc.Append(std::string_view(digits, static_cast<size_t>(end - digits)));
      } else {
        doc.Append("null");
      }
      continue;
    }
    const std::optional<element> value =
        Find(m.source == MetadataField::kDynamodb ? ddb : rec, m.name);
    std::string_view s;
    if (!value) doc.Append("null");
    // (Strings of a parsed document are valid UTF-8: simdjson validated it.)
    else if (value->get_string().get(s) == simdjson::SUCCESS)
      AppendValidJsonString(s, &doc);
    else if (!AppendOtherMetadata(m, *value, error))
      return false;
  }
  if (!AppendAttributes(*chosen->obj, chosen->name, first, error)) return false;
  doc.Put('}');
  out->data.assign(doc.view());
  event_ms_ = creation_ms;
  return PartitionKeysFromStream(*chosen->obj, chosen->name, creation_ms, out, error);
}

bool RecordTransformer::AppendIcebergColumns(RecordOutcome* out, ConvertError* error) {
  std::string& data = out->data;
  // A JSON document's top-level attribute of a change-log column's name would make a
  // key twice (the stream path refuses one in AppendAttributes; a JSON document is
  // checked here, parsed only when the text has such a key somewhere).
  if (spec_.input == InputKind::kJson) {
    for (std::string_view column : {kIcebergOpColumn, kIcebergEventTimeColumn}) {
      if (data.find(StrCat("\"", column, "\":")) == std::string::npos) continue;
      simdjson::dom::object obj;
      if (dom_.parse(data).get_object().get(obj) != simdjson::SUCCESS) continue;
      for (auto field : obj)
        if (field.key == column)
          return Fail(error_code::kDuplicateKey,
                      StrCat("data.", column, ": the attribute ", QuoteForMessage(column),
                             " has the name of a column of the Iceberg change log"),
                      error);
    }
  }
  if (data.empty() || data.back() != '}') return true;  // not a document: nothing to add
  data.pop_back();
  if (data.size() > 1) data.push_back(',');
  StrAppend(&data, "\"", kIcebergOpColumn, "\":\"", OperationName(out->operation), "\",\"",
            kIcebergEventTimeColumn, "\":", event_ms_.value_or(out->arrival_ms), "}");
  return true;
}

// Out of line (as AppendAttributes): the per-record path stays small enough for the
// compiler to keep inlining its helpers (measured: bench/README.md, the core row).
[[gnu::noinline]] bool RecordTransformer::AppendOtherMetadata(const MetadataField& m, element value,
                                                              ConvertError* error) {
  // Copied as it is: it must obey the document's rules too (depth, no key twice).
  converter_.path().Reset(m.source == MetadataField::kDynamodb ? "data.dynamodb" : "data");
  converter_.path().PushKey(m.name);
  if (!converter_.CheckPlainValue(value, error, 0)) return false;
  doc_.Append(simdjson::minify(value));
  return true;
}

// The item's attributes: each name once, and none named like a metadata field ("_name").
// Attributes that `fields` drops are not read, so they are not checked.
[[gnu::noinline]] bool RecordTransformer::AppendAttributes(simdjson::dom::object image,
                                                           std::string_view image_name, bool first,
                                                           ConvertError* error) {
  JsonBuffer& doc = doc_;
  DuplicateKeys& keys = converter_.keys();
  AttributePath& path = converter_.path();
  path.Reset(image_name);
  DuplicateKeys::Object attributes = keys.Open();
  const bool project = !spec_.field_set.empty();
  const bool has_metadata = !metadata_.empty();
  for (auto field : image) {
    const std::string_view key = field.key;
    if (project && !spec_.field_set.contains(key)) continue;
    if (!first) doc.Put(',');
    first = false;
    path.PushKey(key);
    if (!keys.Add(&attributes, key)) [[unlikely]]
      return FailDuplicate(path, key, image_name, error);
    if (has_metadata && key.size() > 1 && key[0] == '_') [[unlikely]] {
      for (const MetadataField& m : metadata_)
        if (key.substr(1) == m.name)
          return Fail(error_code::kDuplicateKey,
                      StrCat(path.ToString(), ": the attribute ", QuoteForMessage(key),
                             " has the name that metadata field ", m.name, " is written under"),
                      error);
      if (spec_.iceberg_columns && (key == kIcebergOpColumn || key == kIcebergEventTimeColumn))
        return Fail(error_code::kDuplicateKey,
                    StrCat(path.ToString(), ": the attribute ", QuoteForMessage(key),
                           " has the name of a column of the Iceberg change log"),
                    error);
    }
    AppendValidJsonString(key, &doc);
    doc.Put(':');
    if (!converter_.AppendValue(field.value, &doc, error)) return false;
    path.Pop();
  }
  return true;
}

bool RecordTransformer::PartitionKeysFromStream(simdjson::dom::object image,
                                                std::string_view image_name,
                                                std::optional<int64_t> creation_ms,
                                                RecordOutcome* out, ConvertError* error) {
  for (const PartitionKeySpec& k : spec_.partition_keys) {
    std::optional<std::string_view> raw;
    bool raw_is_string = false;
    // A loop over the configured path (at most kMaxNestingDepth + 1 segments, config.cc),
    // not a recursion over the record: however deep the record, the walk is that long.
    simdjson::dom::object level = image;
    converter_.path().Reset(image_name);
    for (size_t i = 0; i < k.attribute_path.size(); ++i) {
      auto av = Find(level, k.attribute_path[i]);
      if (!av) break;
      converter_.path().PushKey(k.attribute_path[i]);
      std::string_view type;
      element value;
      if (!converter_.TypeOf(*av, &type, &value, error)) return false;
      const bool last = i + 1 == k.attribute_path.size();
      if (!last) {
        if (type != "M" || value.get_object().get(level) != simdjson::SUCCESS) break;
        continue;
      }
      if (type == "S" || type == "N" || type == "B") {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS)
          return Fail(error_code::kInvalidAttribute,
                      StrCat(converter_.path().ToString(), ": ", type, " value must be a string"),
                      error);
        raw = s;
        raw_is_string = type != "N";
      } else if (type == "BOOL") {
        bool b = false;
        if (value.get_bool().get(b) != simdjson::SUCCESS)
          return Fail(error_code::kInvalidAttribute,
                      StrCat(converter_.path().ToString(), ": BOOL value must be true or false"),
                      error);
        raw = b ? "true" : "false";
      } else if (type != "NULL") {
        return Fail(error_code::kInvalidPartitionKey,
                    StrCat("partition key '", k.name, "': ", converter_.path().ToString(),
                           " is of type ", type, ", not a scalar (S, N, B or BOOL)"),
                    error);
      }
    }
    if (!raw && !k.default_value && k.fallback == TimestampFallback::kNone)
      return Fail(error_code::kMissingPartitionKey,
                  StrCat("partition key '", k.name, "': attribute ", k.attribute,
                         " is missing from ", image_name),
                  error);
    if (!ResolveKey(k, raw, raw_is_string, creation_ms, out, error)) return false;
  }
  return true;
}

bool RecordTransformer::ResolveKey(const PartitionKeySpec& k, std::optional<std::string_view> raw,
                                   bool raw_is_string, std::optional<int64_t> creation_ms,
                                   RecordOutcome* out, ConvertError* error) {
  std::string& value = out->partition_values.emplace_back();
  if (!k.is_timestamp) {
    if (raw)
      AppendPathSafe(*raw, &value);
    else if (k.default_value)
      AppendPathSafe(*k.default_value, &value);
    else
      return Fail(error_code::kMissingPartitionKey,
                  StrCat("partition key '", k.name, "': attribute ", k.attribute, " is missing"),
                  error);
    return true;
  }
  std::optional<int64_t> ms;
  if (raw) {
    const int shift = k.unit == TimestampUnit::kSeconds  ? 3
                      : k.unit == TimestampUnit::kMicros ? -3
                                                         : 0;
    // Several keys often read the same attribute (date and hour of one timestamp): the
    // value is parsed once per record (ParseTimestampMillis is a pure function of these).
    if (has_last_timestamp_ && shift == last_timestamp_shift_ &&
        raw_is_string == last_timestamp_is_string_ && *raw == last_timestamp_text_) {
      ms = last_timestamp_ms_;
    } else {
      ms = ParseTimestampMillis(*raw, raw_is_string, shift);
      has_last_timestamp_ = true;
      last_timestamp_text_.assign(*raw);
      last_timestamp_shift_ = shift;
      last_timestamp_is_string_ = raw_is_string;
      last_timestamp_ms_ = ms;
    }
    // Present but not a time: refused, unless the key opted in to treating it as missing.
    if (!ms && !k.fallback_on_invalid)
      return Fail(error_code::kInvalidTimestamp,
                  StrCat("partition key '", k.name, "': attribute ", k.attribute, " value ",
                         QuoteForMessage(*raw),
                         " is not a timestamp (a number in the configured unit or RFC 3339)"),
                  error);
  }
  if (!ms) {
    if (k.fallback == TimestampFallback::kApproximateCreationTime)
      ms = creation_ms;
    else if (k.fallback == TimestampFallback::kArrivalTime)
      ms = out->arrival_ms;
  }
  if (ms) {
    event_ms_ = ms;
    std::string formatted;
    k.format->Append(*ms, &formatted);
    AppendPathSafe(formatted, &value);
  } else if (k.default_value) {
    AppendPathSafe(*k.default_value, &value);
  } else {
    return Fail(error_code::kMissingPartitionKey,
                StrCat("partition key '", k.name, "': attribute ", k.attribute,
                       " is missing and the fallback has no value"),
                error);
  }
  return true;
}

bool RecordTransformer::TransformJson(std::string_view data, RecordOutcome* out,
                                      ConvertError* error) {
  out->operation = Operation::kInsert;
  padded_.assign(data);
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  AttributePath& path = converter_.path();
  path.Reset("data");
  auto json_fail = [&](simdjson::error_code e) {
    return Fail(error_code::kInvalidJson,
                StrCat("data: not valid JSON (", simdjson::error_message(e), ")"), error);
  };
  if (auto e = ondemand_.iterate(padded_.data(), data.size(), padded_.size()).get(doc))
    return json_fail(e);
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    // Text that does not even start like a JSON value is not JSON; a JSON value that is
    // not an object (an array, a string, a number) is a record we cannot store.
    size_t i = 0;
    while (i < data.size() &&
           (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
      ++i;
    const char c = i < data.size() ? data[i] : '\0';
    const bool other_json = c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9');
    if (!other_json) return json_fail(e);
    return Fail(error_code::kInvalidRecord, "data: expected a JSON object", error);
  }

  // Fields that partition keys read are rendered into scratch_ (and copied into the
  // document when projected); fields projected away are rendered into discard_, so that
  // they are validated all the same.
  const size_t nkeys = spec_.partition_keys.size();
  std::vector<std::pair<size_t, size_t>> spans(nkeys, {0, std::string::npos});
  scratch_.clear();
  std::string& docout = out->data;
  docout.reserve(data.size());
  docout.push_back('{');
  bool first = true;
  std::string key;
  DuplicateKeys& keys = converter_.keys();
  keys.Reset();
  DuplicateKeys::Object top = keys.Open();
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_fail(e);
    std::string_view unescaped;
    if (auto e = field.unescaped_key().get(unescaped)) return json_fail(e);
    // Every field is read (projected-away ones are validated), so every field is checked.
    if (!keys.Add(&top, unescaped)) {
      path.PushKey(unescaped);
      return FailDuplicate(path, unescaped, "the document", error);
    }
    key.assign(unescaped);
    const bool projected = spec_.field_set.empty() || spec_.field_set.contains(key);
    bool key_source = false;
    for (size_t k = 0; k < nkeys; ++k)
      key_source |= spec_.partition_keys[k].attribute_path[0] == key;
    path.PushKey(key);
    if (projected) {
      if (!first) docout.push_back(',');
      first = false;
      AppendValidJsonString(key, &docout);
      docout.push_back(':');
    }
    if (key_source) {
      const size_t begin = scratch_.size();
      if (!RenderOnDemand(field.value(), &scratch_, &path, &keys, 0, error)) return false;
      for (size_t k = 0; k < nkeys; ++k)
        if (spec_.partition_keys[k].attribute_path[0] == key) spans[k] = {begin, scratch_.size()};
      if (projected) docout.append(scratch_, begin, scratch_.size() - begin);
    } else if (projected) {
      if (!RenderOnDemand(field.value(), &docout, &path, &keys, 0, error)) return false;
    } else {
      discard_.clear();
      if (!RenderOnDemand(field.value(), &discard_, &path, &keys, 0, error)) return false;
    }
    path.Pop();
  }
  // current_location() is in bounds only if something follows the object.
  if (!doc.current_location().error()) return json_fail(simdjson::TRAILING_CONTENT);
  docout.push_back('}');

  for (size_t k = 0; k < nkeys; ++k) {
    const PartitionKeySpec& spec = spec_.partition_keys[k];
    std::optional<std::string_view> raw;
    bool raw_is_string = false;
    if (spans[k].second != std::string::npos) {
      const std::string_view snippet(scratch_.data() + spans[k].first,
                                     spans[k].second - spans[k].first);
      if (!JsonScalarAt(snippet, spec, &raw, &raw_is_string, error)) return false;
    }
    if (!raw && !spec.default_value && spec.fallback == TimestampFallback::kNone)
      return Fail(error_code::kMissingPartitionKey,
                  StrCat("partition key '", spec.name, "': data.", spec.attribute, " is missing"),
                  error);
    if (!ResolveKey(spec, raw, raw_is_string, std::nullopt, out, error)) return false;
  }
  return true;
}

bool RecordTransformer::JsonScalarAt(std::string_view snippet, const PartitionKeySpec& spec,
                                     std::optional<std::string_view>* raw, bool* raw_is_string,
                                     ConvertError* error) {
  // `snippet` is JSON lakehose rendered itself (valid, numbers as received): walk the rest
  // of the attribute path with on-demand, which keeps number text exact.
  snippet_padded_.assign(snippet);
  snippet_padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (snippet_ondemand_.iterate(snippet_padded_.data(), snippet.size(), snippet_padded_.size())
          .get(doc))
    return Fail(error_code::kInvalidJson, StrCat("data.", spec.attribute, ": unreadable"), error);
  auto not_scalar = [&](std::string_view what) {
    return Fail(error_code::kInvalidPartitionKey,
                StrCat("partition key '", spec.name, "': data.", spec.attribute, " is ", what,
                       ", not a scalar"),
                error);
  };
  key_value_.clear();
  if (spec.attribute_path.size() == 1) {
    // A scalar document: its text is the value (strings unescaped).
    const char c = snippet.empty() ? '\0' : snippet[0];
    if (c == '{') return not_scalar("an object");
    if (c == '[') return not_scalar("an array");
    if (c == 'n') return true;  // null: missing
    if (c == '"') {
      std::string_view s;
      if (doc.get_string().get(s)) return not_scalar("unreadable");
      key_value_.assign(s);
      *raw_is_string = true;
    } else {
      key_value_.assign(snippet);  // a number or true/false, exactly as received
    }
    *raw = key_value_;
    return true;
  }
  // As in PartitionKeysFromStream, the walk follows the configured path, not the record.
  od::value v;
  od::object o;
  if (doc.get_object().get(o)) return true;  // not an object: the nested attribute is missing
  for (size_t i = 1; i < spec.attribute_path.size(); ++i) {
    if (i > 1 && v.get_object().get(o)) return true;
    if (o.find_field_unordered(spec.attribute_path[i]).get(v)) return true;
  }
  od::json_type type;
  if (v.type().get(type)) return not_scalar("unreadable");
  switch (type) {
    case od::json_type::object:
      return not_scalar("an object");
    case od::json_type::array:
      return not_scalar("an array");
    case od::json_type::null:
      return true;
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return not_scalar("unreadable");
      key_value_.assign(s);
      *raw_is_string = true;
      break;
    }
    case od::json_type::number:
    case od::json_type::boolean: {
      std::string_view t = v.raw_json_token();
      while (!t.empty() &&
             (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
        t.remove_suffix(1);
      key_value_.assign(t);
      break;
    }
  }
  *raw = key_value_;
  return true;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kDropped:
      return "DROPPED";
    case Verdict::kProcessingFailed:
      return "PROCESSING_FAILED";
    case Verdict::kUnspecified:
      break;
  }
  return "RESULT_UNSPECIFIED";
}

std::string_view OperationName(Operation o) {
  switch (o) {
    case Operation::kInsert:
      return "INSERT";
    case Operation::kUpdate:
      return "UPDATE";
    case Operation::kDelete:
      return "DELETE";
    case Operation::kUnspecified:
      break;
  }
  return "";
}

}  // namespace lakehose
