#include "core/iceberg/metadata_json.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "simdjson.h"

namespace lakehose::iceberg {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// ---------------------------------------------------------------- writing

// A JSON string. Invalid UTF-8 cannot come from lakehose (names and values come from
// parsed JSON or config), but a writer must never emit what its readers refuse, so each
// non-ASCII byte of such a string becomes U+FFFD.
void AppendStr(std::string_view s, std::string* out) {
  if (AppendJsonString(s, out)) return;
  std::string fixed;
  fixed.reserve(s.size() * 3);
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x80) {
      fixed.push_back(c);
    } else {
      fixed.append("\xEF\xBF\xBD");
    }
  }
  AppendValidJsonString(fixed, out);
}

void AppendKey(std::string_view key, std::string* out) {
  out->push_back('"');
  out->append(key);  // keys are this file's constants: plain ASCII
  out->append("\":");
}

void AppendBool(bool b, std::string* out) { out->append(b ? "true" : "false"); }

// A string map written in the given order, each key once (the first wins): a document
// must not hold a key twice. `first_key`, when non-empty and present, goes first.
void AppendStringMap(const std::vector<std::pair<std::string, std::string>>& kv,
                     std::string_view first_key, std::string* out) {
  std::set<std::string_view> seen;
  out->push_back('{');
  auto put = [&](const std::string& k, const std::string& v) {
    if (!seen.insert(k).second) return;
    if (seen.size() > 1) out->push_back(',');
    AppendStr(k, out);
    out->push_back(':');
    AppendStr(v, out);
  };
  if (!first_key.empty()) {
    for (const auto& [k, v] : kv)
      if (k == first_key) {
        put(k, v);
        break;
      }
  }
  for (const auto& [k, v] : kv) put(k, v);
  out->push_back('}');
}

void AppendType(const Type& t, std::string* out);

void AppendFields(const std::vector<Field>& fields, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& f = fields[i];
    if (i > 0) out->push_back(',');
    out->push_back('{');
    AppendKey("id", out);
    StrAppend(out, f.id);
    out->push_back(',');
    AppendKey("name", out);
    AppendStr(f.name, out);
    out->push_back(',');
    AppendKey("required", out);
    AppendBool(f.required, out);
    out->push_back(',');
    AppendKey("type", out);
    AppendType(f.type, out);
    if (!f.doc.empty()) {
      out->push_back(',');
      AppendKey("doc", out);
      AppendStr(f.doc, out);
    }
    out->push_back('}');
  }
  out->push_back(']');
}

// A null element/key/value type is a caller's bug; it is written as null, which every
// parser (this one included) refuses, rather than as an invented type.
void AppendTypePtr(const std::shared_ptr<const Type>& t, std::string* out) {
  if (t == nullptr) {
    out->append("null");
  } else {
    AppendType(*t, out);
  }
}

// Recursion depth is the schema's nesting depth: lakehose's schemas are bounded by the
// record nesting limit (32), foreign ones by the parser's kMaxTypeDepth.
void AppendType(const Type& t, std::string* out) {
  switch (t.kind) {
    case Type::Kind::kPrimitive:
      AppendStr(t.primitive, out);
      return;
    case Type::Kind::kStruct:
      out->append("{\"type\":\"struct\",\"fields\":");
      AppendFields(t.fields, out);
      out->push_back('}');
      return;
    case Type::Kind::kList:
      out->append("{\"type\":\"list\",");
      AppendKey("element-id", out);
      StrAppend(out, t.element_id);
      out->push_back(',');
      AppendKey("element-required", out);
      AppendBool(t.element_required, out);
      out->push_back(',');
      AppendKey("element", out);
      AppendTypePtr(t.element, out);
      out->push_back('}');
      return;
    case Type::Kind::kMap:
      out->append("{\"type\":\"map\",");
      AppendKey("key-id", out);
      StrAppend(out, t.key_id);
      out->push_back(',');
      AppendKey("key", out);
      AppendTypePtr(t.key, out);
      out->push_back(',');
      AppendKey("value-id", out);
      StrAppend(out, t.value_id);
      out->push_back(',');
      AppendKey("value-required", out);
      AppendBool(t.value_required, out);
      out->push_back(',');
      AppendKey("value", out);
      AppendTypePtr(t.value, out);
      out->push_back('}');
      return;
  }
}

void AppendSchema(const Schema& s, std::string* out) {
  out->append("{\"type\":\"struct\",");
  AppendKey("schema-id", out);
  StrAppend(out, s.schema_id);
  out->push_back(',');
  if (!s.identifier_field_ids.empty()) {
    AppendKey("identifier-field-ids", out);
    out->push_back('[');
    for (size_t i = 0; i < s.identifier_field_ids.size(); ++i) {
      if (i > 0) out->push_back(',');
      StrAppend(out, s.identifier_field_ids[i]);
    }
    out->append("],");
  }
  AppendKey("fields", out);
  AppendFields(s.fields, out);
  out->push_back('}');
}

void AppendPartitionFields(const PartitionSpec& spec, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    const PartitionField& f = spec.fields[i];
    if (i > 0) out->push_back(',');
    out->push_back('{');
    AppendKey("source-id", out);
    StrAppend(out, f.source_id);
    out->push_back(',');
    AppendKey("field-id", out);
    StrAppend(out, f.field_id);
    out->push_back(',');
    AppendKey("name", out);
    AppendStr(f.name, out);
    out->push_back(',');
    AppendKey("transform", out);
    AppendStr(f.transform, out);
    out->push_back('}');
  }
  out->push_back(']');
}

void AppendPartitionSpec(const PartitionSpec& spec, std::string* out) {
  out->push_back('{');
  AppendKey("spec-id", out);
  StrAppend(out, spec.spec_id);
  out->push_back(',');
  AppendKey("fields", out);
  AppendPartitionFields(spec, out);
  out->push_back('}');
}

void AppendSnapshotJson(const Snapshot& s, std::string* out) {
  out->push_back('{');
  AppendKey("sequence-number", out);
  StrAppend(out, s.sequence_number);
  out->push_back(',');
  AppendKey("snapshot-id", out);
  StrAppend(out, s.snapshot_id);
  out->push_back(',');
  if (s.parent_snapshot_id) {
    AppendKey("parent-snapshot-id", out);
    StrAppend(out, *s.parent_snapshot_id);
    out->push_back(',');
  }
  AppendKey("timestamp-ms", out);
  StrAppend(out, s.timestamp_ms);
  out->push_back(',');
  AppendKey("summary", out);
  AppendStringMap(s.summary, "operation", out);
  out->push_back(',');
  AppendKey("manifest-list", out);
  AppendStr(s.manifest_list, out);
  if (s.schema_id) {
    out->push_back(',');
    AppendKey("schema-id", out);
    StrAppend(out, *s.schema_id);
  }
  out->push_back('}');
}

}  // namespace

std::string SnapshotToJson(const Snapshot& snapshot) {
  std::string out;
  AppendSnapshotJson(snapshot, &out);
  return out;
}

namespace {

// A top-level array with one element per line: readable and diffable.
template <typename T, typename F>
std::string Lines(const std::vector<T>& items, F append_one) {
  if (items.empty()) return "[]";
  std::string out = "[\n";
  for (size_t i = 0; i < items.size(); ++i) {
    out.append("    ");
    append_one(items[i], &out);
    out.append(i + 1 < items.size() ? ",\n" : "\n");
  }
  out.append("  ]");
  return out;
}

// ---------------------------------------------------------------- parsing

absl::Status Invalid(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("iceberg metadata: ", where, ": ", what));
}

std::string Sub(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : StrCat(path, ".", key);
}
std::string Index(std::string_view path, size_t i) { return StrCat(path, "[", i, "]"); }

std::string_view TypeName(element e) {
  switch (e.type()) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a fraction";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

// A JSON object being read, with its path for messages. null counts as absent: Java
// and PyIceberg write null for some optional fields.
class Obj {
 public:
  Obj(object o, std::string path) : o_(o), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  object raw() const { return o_; }

  bool Get(std::string_view key, element* out) const {
    if (o_[key].get(*out) != simdjson::SUCCESS) return false;
    return !out->is_null();
  }
  bool Has(std::string_view key) const {
    element e;
    return Get(key, &e);
  }

  absl::Status Missing(std::string_view key) const {
    return Invalid(path_.empty() ? "table metadata" : path_,
                   StrCat("missing required field \"", key, "\""));
  }
  absl::Status WrongType(std::string_view key, std::string_view want, element got) const {
    return Invalid(Sub(path_, key), StrCat("must be ", want, ", not ", TypeName(got)));
  }

  absl::Status Int64(std::string_view key, int64_t* out) const {
    element e;
    if (!Get(key, &e)) return Missing(key);
    return AsInt64(key, e, out);
  }
  absl::Status OptInt64(std::string_view key, std::optional<int64_t>* out) const {
    element e;
    out->reset();
    if (!Get(key, &e)) return absl::OkStatus();
    int64_t v = 0;
    RETURN_IF_ERROR(AsInt64(key, e, &v));
    *out = v;
    return absl::OkStatus();
  }
  absl::Status Int32(std::string_view key, int* out) const {
    int64_t v = 0;
    RETURN_IF_ERROR(Int64(key, &v));
    return CheckInt32(key, v, out);
  }
  absl::Status OptInt32(std::string_view key, std::optional<int>* out) const {
    std::optional<int64_t> v;
    out->reset();
    RETURN_IF_ERROR(OptInt64(key, &v));
    if (!v) return absl::OkStatus();
    int i = 0;
    RETURN_IF_ERROR(CheckInt32(key, *v, &i));
    *out = i;
    return absl::OkStatus();
  }
  absl::Status String(std::string_view key, std::string* out) const {
    element e;
    if (!Get(key, &e)) return Missing(key);
    std::string_view v;
    if (e.get(v) != simdjson::SUCCESS) return WrongType(key, "a string", e);
    out->assign(v);
    return absl::OkStatus();
  }
  absl::Status OptString(std::string_view key, std::string* out) const {
    if (!Has(key)) return absl::OkStatus();
    return String(key, out);
  }
  absl::Status Bool(std::string_view key, bool* out) const {
    element e;
    if (!Get(key, &e)) return Missing(key);
    if (e.get(*out) != simdjson::SUCCESS) return WrongType(key, "a boolean", e);
    return absl::OkStatus();
  }
  absl::Status Array(std::string_view key, array* out) const {
    element e;
    if (!Get(key, &e)) return Missing(key);
    if (e.get(*out) != simdjson::SUCCESS) return WrongType(key, "an array", e);
    return absl::OkStatus();
  }
  absl::Status OptArray(std::string_view key, array* out, bool* present) const {
    *present = Has(key);
    if (!*present) return absl::OkStatus();
    return Array(key, out);
  }
  absl::Status Object(std::string_view key, object* out) const {
    element e;
    if (!Get(key, &e)) return Missing(key);
    if (e.get(*out) != simdjson::SUCCESS) return WrongType(key, "an object", e);
    return absl::OkStatus();
  }

 private:
  absl::Status AsInt64(std::string_view key, element e, int64_t* out) const {
    if (e.get(*out) == simdjson::SUCCESS) return absl::OkStatus();
    if (e.type() == element_type::UINT64)
      return Invalid(Sub(path_, key), "is beyond the range of a long (2^63-1)");
    return WrongType(key, "an integer", e);
  }
  absl::Status CheckInt32(std::string_view key, int64_t v, int* out) const {
    if (v < INT32_MIN || v > INT32_MAX)
      return Invalid(Sub(path_, key), StrCat("must be an int (32 bits), not ", v));
    *out = static_cast<int>(v);
    return absl::OkStatus();
  }

  object o_;
  std::string path_;
};

absl::StatusOr<Obj> AsObj(element e, std::string path) {
  object o;
  if (e.get(o) != simdjson::SUCCESS)
    return Invalid(path, StrCat("must be an object, not ", TypeName(e)));
  return Obj(o, std::move(path));
}

// Skips ASCII spaces; the spec lets readers accept whitespace around type parameters.
void SkipSpace(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r')) ++*i;
}
bool ReadUint(std::string_view s, size_t* i, int64_t* out) {
  SkipSpace(s, i);
  const char* begin = s.data() + *i;
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), *out);
  if (ec != std::errc() || end == begin || *begin == '-') return false;
  *i += static_cast<size_t>(end - begin);
  SkipSpace(s, i);
  return true;
}
bool Expect(std::string_view s, size_t* i, char c) {
  SkipSpace(s, i);
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// The v2 primitive types, canonical: parameterized names lose their whitespace.
absl::StatusOr<std::string> CanonicalPrimitive(std::string_view raw, std::string_view path) {
  static constexpr std::string_view kPlain[] = {"boolean",     "int",    "long", "float",
                                                "double",      "date",   "time", "timestamp",
                                                "timestamptz", "string", "uuid", "binary"};
  std::string_view s = TrimAsciiWhitespace(raw);
  for (std::string_view p : kPlain)
    if (s == p) return std::string(p);
  size_t i = 0;
  int64_t a = 0, b = 0;
  if (s.starts_with("decimal")) {
    i = 7;
    if (Expect(s, &i, '(') && ReadUint(s, &i, &a) && Expect(s, &i, ',') && ReadUint(s, &i, &b) &&
        Expect(s, &i, ')') && i == s.size()) {
      if (a < 1 || a > 38 || b > a)
        return Invalid(path, StrCat("decimal(", a, ",", b,
                                    ") is not a valid decimal (precision 1..38, scale 0..P)"));
      return StrCat("decimal(", a, ",", b, ")");
    }
  } else if (s.starts_with("fixed")) {
    i = 5;
    if (Expect(s, &i, '[') && ReadUint(s, &i, &a) && Expect(s, &i, ']') && i == s.size()) {
      if (a < 1 || a > INT32_MAX) return Invalid(path, "fixed[L] needs 1 <= L < 2^31");
      return StrCat("fixed[", a, "]");
    }
  }
  return Invalid(path, StrCat("type ", QuoteForMessage(raw),
                              " is not an Iceberg v2 type (boolean, int, long, float, double, "
                              "decimal(P,S), date, time, timestamp, timestamptz, string, uuid, "
                              "fixed[L], binary, struct, list, map)"));
}

// Field ids seen in one schema: they must be unique (the spec: ids identify columns).
struct IdSet {
  std::set<int> ids;
  absl::Status Add(int id, std::string_view path) {
    if (!ids.insert(id).second) return Invalid(path, StrCat("field id ", id, " appears twice"));
    return absl::OkStatus();
  }
};

absl::StatusOr<Type> ParseType(element e, const std::string& path, int depth, IdSet* ids);

absl::Status ParseFields(const Obj& o, int depth, IdSet* ids, std::vector<Field>* out) {
  array fields;
  RETURN_IF_ERROR(o.Array("fields", &fields));
  size_t i = 0;
  for (element fe : fields) {
    std::string path = Index(Sub(o.path(), "fields"), i++);
    ASSIGN_OR_RETURN(Obj f, AsObj(fe, path));
    Field field;
    RETURN_IF_ERROR(f.Int32("id", &field.id));
    RETURN_IF_ERROR(ids->Add(field.id, path));
    RETURN_IF_ERROR(f.String("name", &field.name));
    RETURN_IF_ERROR(f.Bool("required", &field.required));
    element te;
    if (!f.Get("type", &te)) return f.Missing("type");
    ASSIGN_OR_RETURN(field.type, ParseType(te, Sub(path, "type"), depth, ids));
    RETURN_IF_ERROR(f.OptString("doc", &field.doc));
    out->push_back(std::move(field));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Type>> ParseChild(const Obj& o, std::string_view key,
                                                       int depth, IdSet* ids) {
  element e;
  if (!o.Get(key, &e)) return o.Missing(key);
  ASSIGN_OR_RETURN(Type t, ParseType(e, Sub(o.path(), key), depth, ids));
  return std::make_shared<const Type>(std::move(t));
}

// `depth` is the level of this type: a top-level field's type is at 1.
absl::StatusOr<Type> ParseType(element e, const std::string& path, int depth, IdSet* ids) {
  if (depth > kMaxTypeDepth)
    return Invalid(path, StrCat("types nest deeper than ", kMaxTypeDepth, " levels"));
  std::string_view name;
  if (e.get(name) == simdjson::SUCCESS) {
    ASSIGN_OR_RETURN(std::string canonical, CanonicalPrimitive(name, path));
    return Type::Primitive(std::move(canonical));
  }
  ASSIGN_OR_RETURN(Obj o, AsObj(e, path));
  std::string kind;
  RETURN_IF_ERROR(o.String("type", &kind));
  Type t;
  if (kind == "struct") {
    t.kind = Type::Kind::kStruct;
    RETURN_IF_ERROR(ParseFields(o, depth + 1, ids, &t.fields));
  } else if (kind == "list") {
    t.kind = Type::Kind::kList;
    RETURN_IF_ERROR(o.Int32("element-id", &t.element_id));
    RETURN_IF_ERROR(ids->Add(t.element_id, Sub(path, "element-id")));
    RETURN_IF_ERROR(o.Bool("element-required", &t.element_required));
    ASSIGN_OR_RETURN(t.element, ParseChild(o, "element", depth + 1, ids));
  } else if (kind == "map") {
    t.kind = Type::Kind::kMap;
    RETURN_IF_ERROR(o.Int32("key-id", &t.key_id));
    RETURN_IF_ERROR(ids->Add(t.key_id, Sub(path, "key-id")));
    ASSIGN_OR_RETURN(t.key, ParseChild(o, "key", depth + 1, ids));
    RETURN_IF_ERROR(o.Int32("value-id", &t.value_id));
    RETURN_IF_ERROR(ids->Add(t.value_id, Sub(path, "value-id")));
    RETURN_IF_ERROR(o.Bool("value-required", &t.value_required));
    ASSIGN_OR_RETURN(t.value, ParseChild(o, "value", depth + 1, ids));
  } else {
    return Invalid(Sub(path, "type"),
                   StrCat("unknown nested type ", QuoteForMessage(kind), " (struct, list, map)"));
  }
  return t;
}

absl::StatusOr<Schema> ParseSchemaObj(const Obj& o, bool require_id) {
  std::string kind;
  RETURN_IF_ERROR(o.String("type", &kind));
  if (kind != "struct")
    return Invalid(Sub(o.path(), "type"),
                   StrCat("a schema must be a \"struct\", not ", QuoteForMessage(kind)));
  Schema s;
  if (require_id) {
    RETURN_IF_ERROR(o.Int32("schema-id", &s.schema_id));
  } else {
    std::optional<int> id;
    RETURN_IF_ERROR(o.OptInt32("schema-id", &id));
    s.schema_id = id.value_or(0);
  }
  IdSet ids;
  RETURN_IF_ERROR(ParseFields(o, 1, &ids, &s.fields));
  array idents;
  bool present = false;
  RETURN_IF_ERROR(o.OptArray("identifier-field-ids", &idents, &present));
  if (!present) return s;  // a default-constructed array must not be iterated
  size_t i = 0;
  for (element e : idents) {
    std::string path = Index(Sub(o.path(), "identifier-field-ids"), i++);
    int64_t v = 0;
    if (e.get(v) != simdjson::SUCCESS || v < INT32_MIN || v > INT32_MAX)
      return Invalid(path, StrCat("must be an int, not ", TypeName(e)));
    if (!ids.ids.contains(static_cast<int>(v)))
      return Invalid(path, StrCat("identifier field id ", v, " is not a field of the schema"));
    s.identifier_field_ids.push_back(static_cast<int>(v));
  }
  return s;
}

absl::Status ParsePartitionFieldArray(array fields, const std::string& path,
                                      std::vector<PartitionField>* out) {
  size_t i = 0;
  for (element fe : fields) {
    ASSIGN_OR_RETURN(Obj f, AsObj(fe, Index(path, i++)));
    PartitionField pf;
    if (!f.Has("source-id") && f.Has("source-ids"))
      return Invalid(f.path(), "multi-argument transforms (source-ids) are format version 3");
    RETURN_IF_ERROR(f.Int32("source-id", &pf.source_id));
    RETURN_IF_ERROR(f.Int32("field-id", &pf.field_id));
    RETURN_IF_ERROR(f.String("name", &pf.name));
    RETURN_IF_ERROR(f.String("transform", &pf.transform));
    out->push_back(std::move(pf));
  }
  return absl::OkStatus();
}

absl::StatusOr<PartitionSpec> ParsePartitionSpecObj(const Obj& o) {
  PartitionSpec spec;
  RETURN_IF_ERROR(o.Int32("spec-id", &spec.spec_id));
  array fields;
  RETURN_IF_ERROR(o.Array("fields", &fields));
  RETURN_IF_ERROR(ParsePartitionFieldArray(fields, Sub(o.path(), "fields"), &spec.fields));
  return spec;
}

// A string -> string object, in document order, each key once (the first wins).
absl::Status ParseStringMap(const Obj& parent, std::string_view key, std::string_view first_key,
                            std::vector<std::pair<std::string, std::string>>* out) {
  object o;
  RETURN_IF_ERROR(parent.Object(key, &o));
  std::set<std::string_view> seen;
  for (auto [k, v] : o) {
    std::string_view sv;
    if (v.get(sv) != simdjson::SUCCESS)
      return Invalid(Sub(Sub(parent.path(), key), k),
                     StrCat("must be a string, not ", TypeName(v)));
    if (!seen.insert(k).second) continue;
    out->emplace_back(std::string(k), std::string(sv));
  }
  if (!first_key.empty()) {
    auto it = std::find_if(out->begin(), out->end(),
                           [&](const auto& kv) { return kv.first == first_key; });
    if (it != out->end()) std::rotate(out->begin(), it, it + 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<Snapshot> ParseSnapshot(const Obj& o) {
  Snapshot s;
  RETURN_IF_ERROR(o.Int64("snapshot-id", &s.snapshot_id));
  RETURN_IF_ERROR(o.OptInt64("parent-snapshot-id", &s.parent_snapshot_id));
  // Absent in snapshots made before a v1 -> v2 upgrade: their sequence number is 0.
  std::optional<int64_t> seq;
  RETURN_IF_ERROR(o.OptInt64("sequence-number", &seq));
  s.sequence_number = seq.value_or(0);
  RETURN_IF_ERROR(o.Int64("timestamp-ms", &s.timestamp_ms));
  if (!o.Has("manifest-list") && o.Has("manifests"))
    return Invalid(o.path(), "has a v1 \"manifests\" list and no \"manifest-list\": not supported");
  RETURN_IF_ERROR(o.String("manifest-list", &s.manifest_list));
  if (o.Has("summary")) RETURN_IF_ERROR(ParseStringMap(o, "summary", "operation", &s.summary));
  RETURN_IF_ERROR(o.OptInt32("schema-id", &s.schema_id));
  return s;
}

template <typename T, typename F>
absl::Status ParseList(const Obj& parent, std::string_view key, bool required, F parse_one,
                       std::vector<T>* out) {
  array items;
  bool present = true;
  if (required) {
    RETURN_IF_ERROR(parent.Array(key, &items));
  } else {
    RETURN_IF_ERROR(parent.OptArray(key, &items, &present));
    if (!present) return absl::OkStatus();
  }
  size_t i = 0;
  for (element e : items) {
    ASSIGN_OR_RETURN(Obj o, AsObj(e, Index(Sub(parent.path(), key), i++)));
    ASSIGN_OR_RETURN(T item, parse_one(o));
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status CheckFormatVersion(const Obj& top) {
  int64_t v = 0;
  RETURN_IF_ERROR(top.Int64("format-version", &v));
  if (v == 2) return absl::OkStatus();
  if (v == 1)
    return Invalid("format-version",
                   "1 is not supported: lakehose reads and writes format version 2 only "
                   "(upgrade the table to v2)");
  if (v == 3)
    return Invalid("format-version", "3 is not supported: lakehose reads format version 2 only");
  return Invalid("format-version",
                 StrCat(v, " is not supported: lakehose reads format version 2 only"));
}

absl::StatusOr<Obj> ParseTop(std::string_view json, simdjson::dom::parser* parser,
                             std::string_view what) {
  element root;
  if (auto err = parser->parse(json.data(), json.size()).get(root); err)
    return Invalid(what, StrCat("not valid JSON (", simdjson::error_message(err), ")"));
  return AsObj(root, std::string(what));
}

void CollectIds(const Type& t, int* max) {
  switch (t.kind) {
    case Type::Kind::kPrimitive:
      return;
    case Type::Kind::kStruct:
      for (const Field& f : t.fields) {
        *max = std::max(*max, f.id);
        CollectIds(f.type, max);
      }
      return;
    case Type::Kind::kList:
      *max = std::max(*max, t.element_id);
      if (t.element) CollectIds(*t.element, max);
      return;
    case Type::Kind::kMap:
      *max = std::max({*max, t.key_id, t.value_id});
      if (t.key) CollectIds(*t.key, max);
      if (t.value) CollectIds(*t.value, max);
      return;
  }
}

bool SameTypePtr(const std::shared_ptr<const Type>& a, const std::shared_ptr<const Type>& b) {
  if (a == nullptr || b == nullptr) return a == b;
  return SameType(*a, *b);
}

bool SameFields(const std::vector<Field>& a, const std::vector<Field>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].name != b[i].name || a[i].required != b[i].required ||
        a[i].doc != b[i].doc || !SameType(a[i].type, b[i].type))
      return false;
  }
  return true;
}

// Every field id in `t` (nested included), for the uniqueness check of a new schema.
// Recursion depth is the schema's nesting depth (see AppendType).
absl::Status AddTypeIds(const Type& t, IdSet* ids) {
  switch (t.kind) {
    case Type::Kind::kPrimitive:
      return absl::OkStatus();
    case Type::Kind::kStruct:
      for (const Field& f : t.fields) {
        RETURN_IF_ERROR(ids->Add(f.id, StrCat("schema field ", QuoteForMessage(f.name))));
        RETURN_IF_ERROR(AddTypeIds(f.type, ids));
      }
      return absl::OkStatus();
    case Type::Kind::kList:
      RETURN_IF_ERROR(ids->Add(t.element_id, "schema list element"));
      return t.element ? AddTypeIds(*t.element, ids) : absl::OkStatus();
    case Type::Kind::kMap:
      RETURN_IF_ERROR(ids->Add(t.key_id, "schema map key"));
      RETURN_IF_ERROR(ids->Add(t.value_id, "schema map value"));
      if (t.key) RETURN_IF_ERROR(AddTypeIds(*t.key, ids));
      return t.value ? AddTypeIds(*t.value, ids) : absl::OkStatus();
  }
  return absl::OkStatus();
}

int PreviousVersionsMax(const TableMetadata& m) {
  for (const auto& [k, v] : m.properties) {
    if (k != kPreviousVersionsMaxProperty) continue;
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && end == v.data() + v.size()) return std::max(1, n);
  }
  return kDefaultPreviousVersionsMax;
}

}  // namespace

// ---------------------------------------------------------------- public

std::string TypeToJson(const Type& type) {
  std::string out;
  AppendType(type, &out);
  return out;
}

std::string SchemaToJson(const Schema& schema) {
  std::string out;
  AppendSchema(schema, &out);
  return out;
}

absl::StatusOr<Schema> ParseSchemaJson(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(Obj top, ParseTop(json, &parser, "schema"));
  return ParseSchemaObj(Obj(top.raw(), "schema"), /*require_id=*/false);
}

std::string PartitionSpecToJson(const PartitionSpec& spec) {
  std::string out;
  AppendPartitionSpec(spec, &out);
  return out;
}

std::string PartitionFieldsToJson(const PartitionSpec& spec) {
  std::string out;
  AppendPartitionFields(spec, &out);
  return out;
}

absl::StatusOr<PartitionSpec> ParsePartitionSpecJson(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(Obj top, ParseTop(json, &parser, "partition spec"));
  return ParsePartitionSpecObj(Obj(top.raw(), "partition-spec"));
}

absl::StatusOr<PartitionSpec> ParsePartitionFieldsJson(std::string_view json, int spec_id) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root); err)
    return Invalid("partition-spec", StrCat("not valid JSON (", simdjson::error_message(err), ")"));
  array fields;
  if (root.get(fields) != simdjson::SUCCESS)
    return Invalid("partition-spec", StrCat("must be an array, not ", TypeName(root)));
  PartitionSpec spec;
  spec.spec_id = spec_id;
  RETURN_IF_ERROR(ParsePartitionFieldArray(fields, "partition-spec", &spec.fields));
  return spec;
}

std::string TableMetadataToJson(const TableMetadata& m) {
  std::vector<std::pair<std::string_view, std::string>> top;
  top.emplace_back("format-version", StrCat(m.format_version));
  std::string s;
  AppendStr(m.table_uuid, &s);
  top.emplace_back("table-uuid", std::move(s));
  s.clear();
  AppendStr(m.location, &s);
  top.emplace_back("location", std::move(s));
  top.emplace_back("last-sequence-number", StrCat(m.last_sequence_number));
  top.emplace_back("last-updated-ms", StrCat(m.last_updated_ms));
  top.emplace_back("last-column-id", StrCat(m.last_column_id));
  top.emplace_back("current-schema-id", StrCat(m.current_schema_id));
  top.emplace_back("schemas", Lines(m.schemas, AppendSchema));
  top.emplace_back("default-spec-id", StrCat(m.default_spec_id));
  top.emplace_back("partition-specs", Lines(m.partition_specs, AppendPartitionSpec));
  top.emplace_back("last-partition-id", StrCat(m.last_partition_id));
  top.emplace_back("default-sort-order-id", StrCat(m.default_sort_order_id));
  top.emplace_back("sort-orders", Lines(m.sort_orders, [](const SortOrder& o, std::string* out) {
                     StrAppend(out, "{\"order-id\":", o.order_id, ",\"fields\":[]}");
                   }));
  s.clear();
  AppendStringMap(m.properties, "", &s);
  top.emplace_back("properties", std::move(s));
  if (m.current_snapshot_id)
    top.emplace_back("current-snapshot-id", StrCat(*m.current_snapshot_id));
  s = "{";
  for (const auto& [name, ref] : m.refs) {
    s.append(s.size() == 1 ? "\n    " : ",\n    ");
    AppendStr(name, &s);
    StrAppend(&s, ":{\"snapshot-id\":", ref.snapshot_id, ",\"type\":");
    AppendStr(ref.type, &s);
    s.push_back('}');
  }
  s.append(m.refs.empty() ? "}" : "\n  }");
  top.emplace_back("refs", std::move(s));
  top.emplace_back("snapshots", Lines(m.snapshots, AppendSnapshotJson));
  top.emplace_back("snapshot-log",
                   Lines(m.snapshot_log, [](const SnapshotLogEntry& e, std::string* out) {
                     StrAppend(out, "{\"timestamp-ms\":", e.timestamp_ms,
                               ",\"snapshot-id\":", e.snapshot_id, "}");
                   }));
  top.emplace_back("metadata-log",
                   Lines(m.metadata_log, [](const MetadataLogEntry& e, std::string* out) {
                     StrAppend(out, "{\"timestamp-ms\":", e.timestamp_ms, ",\"metadata-file\":");
                     AppendStr(e.metadata_file, out);
                     out->push_back('}');
                   }));
  std::string out = "{\n";
  for (size_t i = 0; i < top.size(); ++i) {
    StrAppend(&out, "  \"", top[i].first, "\": ", top[i].second);
    out.append(i + 1 < top.size() ? ",\n" : "\n");
  }
  out.append("}\n");
  return out;
}

absl::StatusOr<TableMetadata> ParseTableMetadata(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(Obj doc, ParseTop(json, &parser, "table metadata"));
  const Obj top(doc.raw(), "");
  RETURN_IF_ERROR(CheckFormatVersion(top));
  TableMetadata m;
  m.format_version = 2;
  RETURN_IF_ERROR(top.String("table-uuid", &m.table_uuid));
  RETURN_IF_ERROR(top.String("location", &m.location));
  RETURN_IF_ERROR(top.Int64("last-sequence-number", &m.last_sequence_number));
  RETURN_IF_ERROR(top.Int64("last-updated-ms", &m.last_updated_ms));
  RETURN_IF_ERROR(top.Int32("last-column-id", &m.last_column_id));
  RETURN_IF_ERROR(ParseList<Schema>(
      top, "schemas", true, [](const Obj& o) { return ParseSchemaObj(o, true); }, &m.schemas));
  RETURN_IF_ERROR(top.Int32("current-schema-id", &m.current_schema_id));
  RETURN_IF_ERROR(ParseList<PartitionSpec>(top, "partition-specs", true, ParsePartitionSpecObj,
                                           &m.partition_specs));
  RETURN_IF_ERROR(top.Int32("default-spec-id", &m.default_spec_id));
  RETURN_IF_ERROR(top.Int32("last-partition-id", &m.last_partition_id));
  if (top.Has("properties")) RETURN_IF_ERROR(ParseStringMap(top, "properties", "", &m.properties));
  m.sort_orders.clear();
  RETURN_IF_ERROR(ParseList<SortOrder>(
      top, "sort-orders", true,
      [](const Obj& o) -> absl::StatusOr<SortOrder> {
        SortOrder so;
        RETURN_IF_ERROR(o.Int32("order-id", &so.order_id));
        return so;
      },
      &m.sort_orders));
  RETURN_IF_ERROR(top.Int32("default-sort-order-id", &m.default_sort_order_id));

  std::optional<int64_t> current;
  RETURN_IF_ERROR(top.OptInt64("current-snapshot-id", &current));
  if (current && *current == -1) current.reset();  // Java's v1/v2 "none"
  m.current_snapshot_id = current;
  RETURN_IF_ERROR(ParseList<Snapshot>(top, "snapshots", false, ParseSnapshot, &m.snapshots));
  RETURN_IF_ERROR(ParseList<SnapshotLogEntry>(
      top, "snapshot-log", false,
      [](const Obj& o) -> absl::StatusOr<SnapshotLogEntry> {
        SnapshotLogEntry e;
        RETURN_IF_ERROR(o.Int64("timestamp-ms", &e.timestamp_ms));
        RETURN_IF_ERROR(o.Int64("snapshot-id", &e.snapshot_id));
        return e;
      },
      &m.snapshot_log));
  RETURN_IF_ERROR(ParseList<MetadataLogEntry>(
      top, "metadata-log", false,
      [](const Obj& o) -> absl::StatusOr<MetadataLogEntry> {
        MetadataLogEntry e;
        RETURN_IF_ERROR(o.Int64("timestamp-ms", &e.timestamp_ms));
        RETURN_IF_ERROR(o.String("metadata-file", &e.metadata_file));
        return e;
      },
      &m.metadata_log));
  if (top.Has("refs")) {
    object refs;
    RETURN_IF_ERROR(top.Object("refs", &refs));
    for (auto [name, value] : refs) {
      ASSIGN_OR_RETURN(Obj r, AsObj(value, Sub("refs", name)));
      SnapshotRef ref;
      RETURN_IF_ERROR(r.Int64("snapshot-id", &ref.snapshot_id));
      RETURN_IF_ERROR(r.String("type", &ref.type));
      if (ref.type != "branch" && ref.type != "tag")
        return Invalid(Sub(r.path(), "type"),
                       StrCat("must be \"branch\" or \"tag\", not ", QuoteForMessage(ref.type)));
      m.refs.emplace(std::string(name), std::move(ref));
    }
  }

  // Consistency: what a writer relies on must be in the table.
  if (m.CurrentSchema() == nullptr)
    return Invalid("current-schema-id",
                   StrCat("schema ", m.current_schema_id, " is not among \"schemas\""));
  if (m.DefaultSpec() == nullptr)
    return Invalid("default-spec-id", StrCat("partition spec ", m.default_spec_id,
                                             " is not among \"partition-specs\""));
  if (std::none_of(m.sort_orders.begin(), m.sort_orders.end(),
                   [&](const SortOrder& o) { return o.order_id == m.default_sort_order_id; }))
    return Invalid("default-sort-order-id",
                   StrCat("sort order ", m.default_sort_order_id, " is not among \"sort-orders\""));
  if (m.current_snapshot_id && m.CurrentSnapshot() == nullptr)
    return Invalid("current-snapshot-id",
                   StrCat("snapshot ", *m.current_snapshot_id, " is not among \"snapshots\""));
  auto main = m.refs.find("main");
  if (main == m.refs.end()) {
    // The spec: there is always a main branch pointing at the current snapshot.
    if (m.current_snapshot_id) m.refs["main"] = SnapshotRef{*m.current_snapshot_id, "branch"};
  } else if (!m.current_snapshot_id || main->second.snapshot_id != *m.current_snapshot_id) {
    return Invalid(
        "refs.main",
        StrCat("points at snapshot ", main->second.snapshot_id, " but current-snapshot-id is ",
               m.current_snapshot_id ? StrCat(*m.current_snapshot_id) : "none",
               " (the spec: they must be the same)"));
  } else if (main->second.type != "branch") {
    return Invalid("refs.main", "must be a branch");
  }
  return m;
}

TableMetadata NewTableMetadata(std::string table_uuid, std::string location, Schema schema,
                               PartitionSpec spec,
                               std::vector<std::pair<std::string, std::string>> properties,
                               int64_t now_ms) {
  TableMetadata m;
  m.table_uuid = std::move(table_uuid);
  while (location.size() > 1 && location.back() == '/') location.pop_back();
  m.location = std::move(location);
  m.last_updated_ms = now_ms;
  schema.schema_id = 0;
  m.last_column_id = MaxFieldId(schema);
  m.schemas.push_back(std::move(schema));
  m.current_schema_id = 0;
  spec.spec_id = 0;
  m.last_partition_id = 999;
  for (const PartitionField& f : spec.fields)
    m.last_partition_id = std::max(m.last_partition_id, f.field_id);
  m.partition_specs.push_back(std::move(spec));
  m.default_spec_id = 0;
  if (std::none_of(properties.begin(), properties.end(),
                   [](const auto& kv) { return kv.first == "write.format.default"; }))
    properties.emplace_back("write.format.default", "parquet");
  m.properties = std::move(properties);
  return m;
}

absl::Status SetCurrentSchema(TableMetadata* m, Schema schema, int last_column_id, int64_t now_ms) {
  IdSet ids;
  Type as_struct;
  as_struct.kind = Type::Kind::kStruct;
  as_struct.fields = schema.fields;
  RETURN_IF_ERROR(AddTypeIds(as_struct, &ids));
  for (int id : schema.identifier_field_ids)
    if (!ids.ids.contains(id))
      return Invalid("schema", StrCat("identifier field id ", id, " is not a field of it"));
  const int new_last = std::max(m->last_column_id, last_column_id);
  if (MaxFieldId(schema) > new_last)
    return Invalid("schema", StrCat("field id ", MaxFieldId(schema),
                                    " is above the last column id ", new_last));
  int target = -1, max_id = -1;
  for (const Schema& s : m->schemas) {
    max_id = std::max(max_id, s.schema_id);
    if (target < 0 && SameSchemaStructure(s, schema)) target = s.schema_id;
  }
  bool changed = new_last != m->last_column_id;
  if (target < 0) {
    target = max_id + 1;
    schema.schema_id = target;
    m->schemas.push_back(std::move(schema));
    changed = true;
  }
  if (m->current_schema_id != target) changed = true;
  m->current_schema_id = target;
  m->last_column_id = new_last;
  if (changed) m->last_updated_ms = now_ms;
  return absl::OkStatus();
}

absl::Status AppendSnapshot(TableMetadata* m, Snapshot snapshot, std::string previous_metadata_file,
                            int64_t now_ms) {
  if (m->FindSnapshot(snapshot.snapshot_id) != nullptr)
    return absl::AlreadyExistsError(
        StrCat("snapshot ", snapshot.snapshot_id, " is already in the table"));
  if (snapshot.parent_snapshot_id != m->current_snapshot_id) {
    auto name = [](std::optional<int64_t> id) { return id ? StrCat(*id) : std::string("none"); };
    return absl::FailedPreconditionError(
        StrCat("snapshot ", snapshot.snapshot_id, " has parent ", name(snapshot.parent_snapshot_id),
               " but the current snapshot is ", name(m->current_snapshot_id),
               ": another writer committed; rebase and retry"));
  }
  auto op = std::find_if(snapshot.summary.begin(), snapshot.summary.end(),
                         [](const auto& kv) { return kv.first == "operation"; });
  if (op == snapshot.summary.end())
    return Invalid("snapshot summary", "missing \"operation\" (the spec requires it)");
  std::rotate(snapshot.summary.begin(), op, op + 1);

  m->last_sequence_number += 1;
  snapshot.sequence_number = m->last_sequence_number;
  snapshot.timestamp_ms = now_ms;
  snapshot.schema_id = m->current_schema_id;
  const int64_t id = snapshot.snapshot_id;
  m->snapshots.push_back(std::move(snapshot));
  m->snapshot_log.push_back(SnapshotLogEntry{now_ms, id});
  m->refs["main"] = SnapshotRef{id, "branch"};
  m->current_snapshot_id = id;
  if (!previous_metadata_file.empty()) {
    m->metadata_log.push_back(
        MetadataLogEntry{m->last_updated_ms, std::move(previous_metadata_file)});
    const size_t keep = static_cast<size_t>(PreviousVersionsMax(*m));
    if (m->metadata_log.size() > keep)
      m->metadata_log.erase(
          m->metadata_log.begin(),
          m->metadata_log.begin() + static_cast<std::ptrdiff_t>(m->metadata_log.size() - keep));
  }
  m->last_updated_ms = now_ms;
  return absl::OkStatus();
}

std::vector<const Snapshot*> SnapshotsSince(const TableMetadata& m,
                                            std::optional<int64_t> known_snapshot_id) {
  std::vector<const Snapshot*> out;
  const Snapshot* s = m.CurrentSnapshot();
  while (s != nullptr && out.size() < m.snapshots.size()) {
    if (known_snapshot_id && s->snapshot_id == *known_snapshot_id) break;
    out.push_back(s);
    s = s->parent_snapshot_id ? m.FindSnapshot(*s->parent_snapshot_id) : nullptr;
  }
  return out;
}

std::string MetadataFileName(int64_t version) { return StrCat("v", version, ".metadata.json"); }

absl::StatusOr<int64_t> ParseVersionHint(std::string_view text) {
  std::string_view t = TrimAsciiWhitespace(text);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || t[0] == '-' || ec != std::errc() || end != t.data() + t.size())
    return absl::InvalidArgumentError(
        StrCat("version-hint.text: ", QuoteForMessage(text),
               " is not a version number (a non-negative decimal integer)"));
  return v;
}

int MaxFieldId(const Schema& schema) {
  int max = 0;
  for (const Field& f : schema.fields) {
    max = std::max(max, f.id);
    CollectIds(f.type, &max);
  }
  return max;
}

bool SameType(const Type& a, const Type& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Type::Kind::kPrimitive:
      return a.primitive == b.primitive;
    case Type::Kind::kStruct:
      return SameFields(a.fields, b.fields);
    case Type::Kind::kList:
      return a.element_id == b.element_id && a.element_required == b.element_required &&
             SameTypePtr(a.element, b.element);
    case Type::Kind::kMap:
      return a.key_id == b.key_id && a.value_id == b.value_id &&
             a.value_required == b.value_required && SameTypePtr(a.key, b.key) &&
             SameTypePtr(a.value, b.value);
  }
  return false;
}

bool SameSchemaStructure(const Schema& a, const Schema& b) {
  return a.identifier_field_ids == b.identifier_field_ids && SameFields(a.fields, b.fields);
}

}  // namespace lakehose::iceberg
