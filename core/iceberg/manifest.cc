#include "core/iceberg/manifest.h"

#include <charconv>
#include <cmath>
#include <set>
#include <type_traits>

#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "simdjson.h"

namespace lakehose::iceberg {
namespace {

using Kind = PartitionValue::Kind;

// ---- The Avro schemas ----

// Appends one record field: optional fields as ["null", T] with default null, as the
// spec's Appendix A asks.
void AppendField(std::string* out, std::string_view name, std::string_view type, int id,
                 bool optional) {
  if (out->back() != '[') out->push_back(',');
  out->append("{\"name\":");
  AppendJsonString(name, out);
  if (optional) {
    StrAppend(out, ",\"type\":[\"null\",", type, "],\"default\":null");
  } else {
    StrAppend(out, ",\"type\":", type);
  }
  StrAppend(out, ",\"field-id\":", id, "}");
}

// An Iceberg map with a non-string key: an array of key/value records, logicalType "map",
// the ids on the record's fields (the spec's "Map key, value" row; Java's k<id>_v<id>).
std::string MapType(int key_id, std::string_view key, int value_id, std::string_view value) {
  std::string out = StrCat("{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"k",
                           key_id, "_v", value_id, "\",\"fields\":[");
  AppendField(&out, "key", StrCat("\"", key, "\""), key_id, false);
  AppendField(&out, "value", StrCat("\"", value, "\""), value_id, false);
  out.append("]},\"logicalType\":\"map\"}");
  return out;
}

std::string ArrayType(int element_id, std::string_view items) {
  return StrCat("{\"type\":\"array\",\"items\":", items, ",\"element-id\":", element_id, "}");
}

// Bytes of the smallest two's-complement integer that holds every unscaled value of
// precision `p` (the spec's minBytesRequired(P)).
int DecimalBytes(int p) {
  int n = 1;
  while ((8.0 * n - 1) < p * std::log2(10.0)) ++n;
  return n;
}

// A parsed Iceberg primitive partition type: what PartitionValue kind it holds and its
// Avro schema.
struct PartitionAvroType {
  Kind kind = Kind::kNull;
  std::string avro;    // the Avro schema JSON
  std::string name;    // the named fixed type it defines ("" for none)
  int fixed_size = 0;  // kDecimal and fixed types: the fixed size; 0 for bytes
};

bool ParseInt(std::string_view s, int* v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size();
}

absl::StatusOr<PartitionAvroType> AvroTypeOf(const Type& type) {
  if (!type.is_primitive())
    return absl::InvalidArgumentError("manifest: a partition field of a nested type");
  const std::string& p = type.primitive;
  PartitionAvroType t;
  auto simple = [&](Kind k, std::string avro) {
    t.kind = k;
    t.avro = std::move(avro);
    return t;
  };
  if (p == "boolean") return simple(Kind::kBoolean, "\"boolean\"");
  if (p == "int") return simple(Kind::kInt, "\"int\"");
  if (p == "date") return simple(Kind::kInt, R"({"type":"int","logicalType":"date"})");
  if (p == "long") return simple(Kind::kLong, "\"long\"");
  if (p == "time") return simple(Kind::kLong, R"({"type":"long","logicalType":"time-micros"})");
  if (p == "timestamp")
    return simple(Kind::kLong,
                  R"({"type":"long","logicalType":"timestamp-micros","adjust-to-utc":false})");
  if (p == "timestamptz")
    return simple(Kind::kLong,
                  R"({"type":"long","logicalType":"timestamp-micros","adjust-to-utc":true})");
  if (p == "float") return simple(Kind::kDouble, "\"float\"");
  if (p == "double") return simple(Kind::kDouble, "\"double\"");
  if (p == "string") return simple(Kind::kString, "\"string\"");
  if (p == "binary") return simple(Kind::kBinary, "\"bytes\"");
  if (p == "uuid") {
    t.kind = Kind::kBinary;
    t.name = "uuid_fixed";
    t.fixed_size = 16;
    t.avro = R"({"type":"fixed","name":"uuid_fixed","size":16,"logicalType":"uuid"})";
    return t;
  }
  int a = 0, b = 0;
  if (p.starts_with("fixed[") && p.ends_with("]") &&
      ParseInt(std::string_view(p).substr(6, p.size() - 7), &a) && a > 0) {
    t.kind = Kind::kBinary;
    t.name = StrCat("fixed_", a);
    t.fixed_size = a;
    t.avro = StrCat(R"({"type":"fixed","name":")", t.name, R"(","size":)", a, "}");
    return t;
  }
  if (p.starts_with("decimal(") && p.ends_with(")")) {
    const std::string_view inner = std::string_view(p).substr(8, p.size() - 9);
    const size_t comma = inner.find(',');
    if (comma != std::string_view::npos &&
        ParseInt(TrimAsciiWhitespace(inner.substr(0, comma)), &a) &&
        ParseInt(TrimAsciiWhitespace(inner.substr(comma + 1)), &b) && a >= 1 && a <= 38 && b >= 0 &&
        b <= a) {
      t.kind = Kind::kDecimal;
      t.name = StrCat("decimal_", a, "_", b);
      t.fixed_size = DecimalBytes(a);
      t.avro = StrCat(R"({"type":"fixed","name":")", t.name, R"(","size":)", t.fixed_size,
                      R"(,"logicalType":"decimal","precision":)", a, R"(,"scale":)", b, "}");
      return t;
    }
  }
  return absl::InvalidArgumentError(StrCat("manifest: unknown partition type \"", p, "\""));
}

// An Avro name for a partition field's name, as Java's AvroSchemaUtil makes one: a
// leading digit becomes "_<digit>", any other byte outside [A-Za-z0-9_] "_x<HEX>". Avro
// readers (avsc, python3-avro) refuse other names; Iceberg readers match by field id.
std::string AvroName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (letter || (digit && i > 0)) {
      out.push_back(static_cast<char>(c));
    } else if (digit) {
      StrAppend(&out, "_", static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      StrAppend(&out, "_x");
      if (c >= 16) out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out.empty() ? "_" : out;
}

std::string ManifestEntrySchema(const std::vector<Field>& partition_type,
                                const std::vector<PartitionAvroType>& avro_types) {
  std::string partition = R"({"type":"record","name":"r102","fields":[)";
  std::set<std::string> defined;  // a named type is defined once, then referenced by name
  for (size_t i = 0; i < partition_type.size(); ++i) {
    const PartitionAvroType& t = avro_types[i];
    std::string type = t.avro;
    if (!t.name.empty() && !defined.insert(t.name).second) type = StrCat("\"", t.name, "\"");
    AppendField(&partition, AvroName(partition_type[i].name), type, partition_type[i].id,
                !partition_type[i].required);
  }
  partition.append("]}");

  std::string data_file = R"({"type":"record","name":"r2","fields":[)";
  AppendField(&data_file, "content", "\"int\"", 134, false);
  AppendField(&data_file, "file_path", "\"string\"", 100, false);
  AppendField(&data_file, "file_format", "\"string\"", 101, false);
  AppendField(&data_file, "partition", partition, 102, false);
  AppendField(&data_file, "record_count", "\"long\"", 103, false);
  AppendField(&data_file, "file_size_in_bytes", "\"long\"", 104, false);
  AppendField(&data_file, "column_sizes", MapType(117, "int", 118, "long"), 108, true);
  AppendField(&data_file, "value_counts", MapType(119, "int", 120, "long"), 109, true);
  AppendField(&data_file, "null_value_counts", MapType(121, "int", 122, "long"), 110, true);
  AppendField(&data_file, "nan_value_counts", MapType(138, "int", 139, "long"), 137, true);
  AppendField(&data_file, "lower_bounds", MapType(126, "int", 127, "bytes"), 125, true);
  AppendField(&data_file, "upper_bounds", MapType(129, "int", 130, "bytes"), 128, true);
  AppendField(&data_file, "key_metadata", "\"bytes\"", 131, true);
  AppendField(&data_file, "split_offsets", ArrayType(133, "\"long\""), 132, true);
  AppendField(&data_file, "equality_ids", ArrayType(136, "\"int\""), 135, true);
  AppendField(&data_file, "sort_order_id", "\"int\"", 140, true);
  AppendField(&data_file, "referenced_data_file", "\"string\"", 143, true);
  data_file.append("]}");

  std::string entry = R"({"type":"record","name":"manifest_entry","fields":[)";
  AppendField(&entry, "status", "\"int\"", 0, false);
  AppendField(&entry, "snapshot_id", "\"long\"", 1, true);
  AppendField(&entry, "sequence_number", "\"long\"", 3, true);
  AppendField(&entry, "file_sequence_number", "\"long\"", 4, true);
  AppendField(&entry, "data_file", data_file, 2, false);
  entry.append("]}");
  return entry;
}

std::string ManifestFileSchema() {
  std::string summary = R"({"type":"record","name":"r508","fields":[)";
  AppendField(&summary, "contains_null", "\"boolean\"", 509, false);
  AppendField(&summary, "contains_nan", "\"boolean\"", 518, true);
  AppendField(&summary, "lower_bound", "\"bytes\"", 510, true);
  AppendField(&summary, "upper_bound", "\"bytes\"", 511, true);
  summary.append("]}");

  std::string s = R"({"type":"record","name":"manifest_file","fields":[)";
  AppendField(&s, "manifest_path", "\"string\"", 500, false);
  AppendField(&s, "manifest_length", "\"long\"", 501, false);
  AppendField(&s, "partition_spec_id", "\"int\"", 502, false);
  AppendField(&s, "content", "\"int\"", 517, false);
  AppendField(&s, "sequence_number", "\"long\"", 515, false);
  AppendField(&s, "min_sequence_number", "\"long\"", 516, false);
  AppendField(&s, "added_snapshot_id", "\"long\"", 503, false);
  AppendField(&s, "added_files_count", "\"int\"", 504, false);
  AppendField(&s, "existing_files_count", "\"int\"", 505, false);
  AppendField(&s, "deleted_files_count", "\"int\"", 506, false);
  AppendField(&s, "added_rows_count", "\"long\"", 512, false);
  AppendField(&s, "existing_rows_count", "\"long\"", 513, false);
  AppendField(&s, "deleted_rows_count", "\"long\"", 514, false);
  AppendField(&s, "partitions", ArrayType(508, summary), 507, true);
  AppendField(&s, "key_metadata", "\"bytes\"", 519, true);
  s.append("]}");
  return s;
}

// ---- Encoding values ----

void OptionalLong(AvroEncoder* e, const std::optional<int64_t>& v) {
  if (!v) {
    e->UnionIndex(0);
    return;
  }
  e->UnionIndex(1);
  e->Long(*v);
}

void OptionalBytes(AvroEncoder* e, const std::optional<std::string>& v) {
  if (!v) {
    e->UnionIndex(0);
    return;
  }
  e->UnionIndex(1);
  e->Bytes(*v);
}

// An optional map<int, long|bytes>: null when empty (Java writes null for metrics it does
// not have), else one block of key/value records.
template <typename V>
void IdMap(AvroEncoder* e, const std::map<int, V>& m) {
  if (m.empty()) {
    e->UnionIndex(0);
    return;
  }
  e->UnionIndex(1);
  e->BlockCount(static_cast<int64_t>(m.size()));
  for (const auto& [k, v] : m) {
    e->Int(k);
    if constexpr (std::is_same_v<V, std::string>) {
      e->Bytes(v);
    } else {
      e->Long(v);
    }
  }
  e->EndBlocks();
}

// A decimal's unscaled big-endian two's-complement bytes, sign-extended to `size`.
absl::StatusOr<std::string> SignExtend(std::string_view v, int size) {
  std::string_view minimal = v;
  while (minimal.size() > 1 &&
         ((minimal[0] == 0 && !(static_cast<uint8_t>(minimal[1]) & 0x80)) ||
          (static_cast<uint8_t>(minimal[0]) == 0xFF && (static_cast<uint8_t>(minimal[1]) & 0x80))))
    minimal.remove_prefix(1);
  if (minimal.size() > static_cast<size_t>(size))
    return absl::InvalidArgumentError(
        StrCat("manifest: a decimal of ", minimal.size(), " bytes in a fixed of ", size));
  const bool negative = !minimal.empty() && (static_cast<uint8_t>(minimal[0]) & 0x80);
  std::string out(static_cast<size_t>(size) - minimal.size(), negative ? '\xFF' : '\0');
  out.append(minimal);
  return out;
}

// The shortest two's-complement form (what Appendix D's serialization uses).
std::string MinimalTwosComplement(std::string_view v) {
  while (v.size() > 1 &&
         ((v[0] == 0 && !(static_cast<uint8_t>(v[1]) & 0x80)) ||
          (static_cast<uint8_t>(v[0]) == 0xFF && (static_cast<uint8_t>(v[1]) & 0x80))))
    v.remove_prefix(1);
  return std::string(v);
}

absl::Status EncodePartitionValue(const Field& field, const PartitionAvroType& t,
                                  const PartitionValue& v, AvroEncoder* e) {
  if (v.kind == Kind::kNull) {
    if (field.required)
      return absl::InvalidArgumentError(
          StrCat("manifest: null for the required partition field ", field.name));
    e->UnionIndex(0);
    return absl::OkStatus();
  }
  if (v.kind != t.kind)
    return absl::InvalidArgumentError(StrCat("manifest: partition field ", field.name, " of type ",
                                             field.type.primitive,
                                             " holds a value of another kind"));
  if (!field.required) e->UnionIndex(1);
  switch (v.kind) {
    case Kind::kInt:
      if (v.i < INT32_MIN || v.i > INT32_MAX)
        return absl::InvalidArgumentError(
            StrCat("manifest: partition field ", field.name, ": ", v.i, " is not an int"));
      e->Int(static_cast<int32_t>(v.i));
      break;
    case Kind::kLong:
      e->Long(v.i);
      break;
    case Kind::kBoolean:
      e->Bool(v.i != 0);
      break;
    case Kind::kDouble:
      if (field.type.primitive == "float") {
        e->Float(static_cast<float>(v.d));
      } else {
        e->Double(v.d);
      }
      break;
    case Kind::kString:
      e->String(v.s);
      break;
    case Kind::kBinary:
      if (t.fixed_size > 0) {
        if (v.s.size() != static_cast<size_t>(t.fixed_size))
          return absl::InvalidArgumentError(StrCat("manifest: partition field ", field.name, ": ",
                                                   v.s.size(), " bytes for a fixed of ",
                                                   t.fixed_size));
        e->Fixed(v.s);
      } else {
        e->Bytes(v.s);
      }
      break;
    case Kind::kDecimal: {
      ASSIGN_OR_RETURN(std::string fixed, SignExtend(v.s, t.fixed_size));
      e->Fixed(fixed);
      break;
    }
    case Kind::kNull:
      break;
  }
  return absl::OkStatus();
}

// ---- Decoding values ----

absl::Status Missing(std::string_view what, std::string_view name) {
  return absl::InvalidArgumentError(StrCat(what, ": required field ", name, " missing or null"));
}

absl::StatusOr<int64_t> RequiredLong(const AvroValue& rec, std::string_view what,
                                     std::string_view name) {
  const AvroValue* v = rec.Find(name);
  if (!v || v->kind != AvroValue::Kind::kLong) return Missing(what, name);
  return v->l;
}

std::optional<int64_t> OptionalLongField(const AvroValue& rec, std::string_view name) {
  const AvroValue* v = rec.Find(name);
  if (!v || v->kind != AvroValue::Kind::kLong) return std::nullopt;
  return v->l;
}

absl::StatusOr<std::string> RequiredString(const AvroValue& rec, std::string_view what,
                                           std::string_view name) {
  const AvroValue* v = rec.Find(name);
  if (!v || (v->kind != AvroValue::Kind::kString && v->kind != AvroValue::Kind::kBytes))
    return Missing(what, name);
  return v->s;
}

// A map<int, V> as Iceberg writers store it: an array of {key, value} records, or an Avro
// map whose keys are the ids as decimal strings.
template <typename V>
absl::Status DecodeIdMap(const AvroValue& rec, std::string_view name, std::map<int, V>* out) {
  const AvroValue* m = rec.Find(name);
  if (!m || m->is_null()) return absl::OkStatus();
  auto put = [&](int key, const AvroValue& value) -> absl::Status {
    if constexpr (std::is_same_v<V, std::string>) {
      if (value.kind != AvroValue::Kind::kBytes && value.kind != AvroValue::Kind::kFixed)
        return absl::InvalidArgumentError(StrCat("manifest: ", name, " value is not bytes"));
      (*out)[key] = value.s;
    } else {
      if (value.kind != AvroValue::Kind::kLong)
        return absl::InvalidArgumentError(StrCat("manifest: ", name, " value is not a long"));
      (*out)[key] = value.l;
    }
    return absl::OkStatus();
  };
  if (m->kind == AvroValue::Kind::kMap) {
    for (const auto& [k, v] : m->fields) {
      int key = 0;
      if (!ParseInt(k, &key))
        return absl::InvalidArgumentError(StrCat("manifest: ", name, " key \"", k, "\" not an id"));
      RETURN_IF_ERROR(put(key, v));
    }
    return absl::OkStatus();
  }
  if (m->kind != AvroValue::Kind::kArray)
    return absl::InvalidArgumentError(StrCat("manifest: ", name, " is not a map"));
  for (const AvroValue& item : m->items) {
    const AvroValue* k = item.Find("key");
    const AvroValue* v = item.Find("value");
    if (!k || !v || k->kind != AvroValue::Kind::kLong || k->l < INT32_MIN || k->l > INT32_MAX)
      return absl::InvalidArgumentError(StrCat("manifest: ", name, " item without an int key"));
    RETURN_IF_ERROR(put(static_cast<int>(k->l), *v));
  }
  return absl::OkStatus();
}

// The Iceberg primitive type of an Avro partition field's type (its non-null branch).
std::string IcebergTypeOf(simdjson::dom::element t) {
  std::string_view s;
  if (t.get(s) == simdjson::SUCCESS) {
    if (s == "bytes") return "binary";
    return std::string(s);  // boolean, int, long, float, double, string
  }
  simdjson::dom::object o;
  if (t.get(o) != simdjson::SUCCESS) return "";
  std::string_view type, logical;
  if (o["type"].get(type) != simdjson::SUCCESS) type = "";
  if (o["logicalType"].get(logical) != simdjson::SUCCESS) logical = "";
  int64_t a = 0, b = 0;
  if (logical == "decimal" && o["precision"].get(a) == simdjson::SUCCESS) {
    if (o["scale"].get(b) != simdjson::SUCCESS) b = 0;
    return StrCat("decimal(", a, ",", b, ")");
  }
  if (type == "int" && logical == "date") return "date";
  if (type == "long" && logical == "time-micros") return "time";
  if (type == "long" && logical == "timestamp-micros") {
    bool utc = false;
    if (o["adjust-to-utc"].get(utc) != simdjson::SUCCESS) utc = false;
    return utc ? "timestamptz" : "timestamp";
  }
  if (type == "fixed") {
    if (logical == "uuid") return "uuid";
    if (o["size"].get(a) == simdjson::SUCCESS) return StrCat("fixed[", a, "]");
  }
  if (type == "bytes") return "binary";
  return std::string(type);
}

// The record schema a field's type names: an object, or the non-null branch of a union.
bool RecordFields(simdjson::dom::element type, simdjson::dom::array* fields) {
  simdjson::dom::array branches;
  if (type.get(branches) == simdjson::SUCCESS) {
    for (simdjson::dom::element b : branches)
      if (RecordFields(b, fields)) return true;
    return false;
  }
  return type["fields"].get(*fields) == simdjson::SUCCESS;
}

// The partition struct's fields from a manifest's Avro schema (manifest_entry.data_file.
// partition); empty when absent (unpartitioned, or a writer that defined it elsewhere).
std::vector<Field> PartitionTypeFromSchema(std::string_view schema_json) {
  std::vector<Field> out;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(schema_json.data(), schema_json.size()).get(root) != simdjson::SUCCESS)
    return out;
  auto field_type = [](simdjson::dom::array fields, std::string_view name,
                       simdjson::dom::element* type) {
    for (simdjson::dom::element f : fields) {
      std::string_view n;
      if (f["name"].get(n) == simdjson::SUCCESS && n == name)
        return f["type"].get(*type) == simdjson::SUCCESS;
    }
    return false;
  };
  simdjson::dom::array entry_fields, data_file_fields, partition_fields;
  simdjson::dom::element t;
  if (root["fields"].get(entry_fields) != simdjson::SUCCESS ||
      !field_type(entry_fields, "data_file", &t) || !RecordFields(t, &data_file_fields) ||
      !field_type(data_file_fields, "partition", &t) || !RecordFields(t, &partition_fields))
    return out;
  std::map<std::string, std::string> named;  // Avro name -> Iceberg type
  for (simdjson::dom::element f : partition_fields) {
    Field field;
    std::string_view name;
    int64_t id = 0;
    if (f["name"].get(name) != simdjson::SUCCESS) continue;
    field.name = std::string(name);
    if (f["field-id"].get(id) == simdjson::SUCCESS) field.id = static_cast<int>(id);
    simdjson::dom::element type;
    if (f["type"].get(type) != simdjson::SUCCESS) continue;
    simdjson::dom::array branches;
    field.required = true;
    if (type.get(branches) == simdjson::SUCCESS) {
      for (simdjson::dom::element b : branches) {
        std::string_view n;
        if (b.get(n) == simdjson::SUCCESS && n == "null") {
          field.required = false;
        } else {
          type = b;
        }
      }
    }
    // A named fixed type (decimal_9_2, uuid_fixed) is defined once and then referenced
    // by name.
    std::string_view ref;
    std::string iceberg_type;
    if (type.get(ref) == simdjson::SUCCESS && named.count(std::string(ref))) {
      iceberg_type = named[std::string(ref)];
    } else {
      iceberg_type = IcebergTypeOf(type);
      std::string_view defined;
      if (type["name"].get(defined) == simdjson::SUCCESS)
        named[std::string(defined)] = iceberg_type;
    }
    field.type = Type::Primitive(std::move(iceberg_type));
    out.push_back(std::move(field));
  }
  return out;
}

absl::StatusOr<PartitionValue> DecodePartitionValue(const Field& field, const AvroValue* v) {
  PartitionValue out;
  if (!v || v->is_null()) return out;
  const std::string& p = field.type.primitive;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("manifest: partition field ", field.name, " does not hold a ", p));
  };
  switch (v->kind) {
    case AvroValue::Kind::kLong:
      out.kind = p == "int" || p == "date" ? Kind::kInt : Kind::kLong;
      out.i = v->l;
      return out;
    case AvroValue::Kind::kBoolean:
      out.kind = Kind::kBoolean;
      out.i = v->b ? 1 : 0;
      return out;
    case AvroValue::Kind::kDouble:
      out.kind = Kind::kDouble;
      out.d = v->d;
      return out;
    case AvroValue::Kind::kString:
      out.kind = Kind::kString;
      out.s = v->s;
      return out;
    case AvroValue::Kind::kBytes:
    case AvroValue::Kind::kFixed:
      if (p.starts_with("decimal(")) {
        out.kind = Kind::kDecimal;
        out.s = MinimalTwosComplement(v->s);
      } else {
        out.kind = Kind::kBinary;
        out.s = v->s;
      }
      return out;
    default:
      return bad();
  }
}

absl::StatusOr<int> IntFrom(std::string_view text, std::string_view key) {
  int v = 0;
  if (!ParseInt(text, &v))
    return absl::InvalidArgumentError(
        StrCat("manifest: metadata ", key, " \"", text, "\" not an int"));
  return v;
}

}  // namespace

absl::StatusOr<std::string> EncodeManifest(const ManifestContext& context,
                                           const std::vector<ManifestEntry>& entries,
                                           std::string_view sync_marker,
                                           AvroContainerOptions::Codec codec) {
  std::vector<PartitionAvroType> types;
  for (const Field& f : context.partition_type) {
    ASSIGN_OR_RETURN(PartitionAvroType t, AvroTypeOf(f.type));
    types.push_back(std::move(t));
  }
  std::vector<std::string> records(entries.size());
  for (size_t n = 0; n < entries.size(); ++n) {
    const ManifestEntry& entry = entries[n];
    const DataFile& f = entry.data_file;
    if (f.partition.size() != context.partition_type.size())
      return absl::InvalidArgumentError(StrCat("manifest: entry ", n, " has ", f.partition.size(),
                                               " partition values for ",
                                               context.partition_type.size(), " partition fields"));
    if (entry.status < 0 || entry.status > 2)
      return absl::InvalidArgumentError(
          StrCat("manifest: entry ", n, " has status ", entry.status, " (0, 1 or 2)"));
    if (f.content != context.content)
      return absl::InvalidArgumentError(StrCat("manifest: entry ", n, " has content ", f.content,
                                               " in a ", context.content == 0 ? "data" : "delete",
                                               " manifest"));
    AvroEncoder e(&records[n]);
    e.Int(entry.status);
    OptionalLong(&e, entry.snapshot_id);
    OptionalLong(&e, entry.sequence_number);
    OptionalLong(&e, entry.file_sequence_number);
    e.Int(f.content);
    e.String(f.file_path);
    e.String(f.file_format);
    for (size_t i = 0; i < types.size(); ++i)
      RETURN_IF_ERROR(
          EncodePartitionValue(context.partition_type[i], types[i], f.partition[i], &e));
    e.Long(f.record_count);
    e.Long(f.file_size_in_bytes);
    IdMap(&e, f.column_sizes);
    IdMap(&e, f.value_counts);
    IdMap(&e, f.null_value_counts);
    e.UnionIndex(0);  // nan_value_counts
    IdMap(&e, f.lower_bounds);
    IdMap(&e, f.upper_bounds);
    e.UnionIndex(0);  // key_metadata
    e.UnionIndex(0);  // split_offsets
    e.UnionIndex(0);  // equality_ids
    if (f.sort_order_id) {
      if (*f.sort_order_id < INT32_MIN || *f.sort_order_id > INT32_MAX)
        return absl::InvalidArgumentError("manifest: sort_order_id is not an int");
      e.UnionIndex(1);
      e.Int(static_cast<int32_t>(*f.sort_order_id));
    } else {
      e.UnionIndex(0);
    }
    if (f.referenced_data_file) {
      e.UnionIndex(1);
      e.String(*f.referenced_data_file);
    } else {
      e.UnionIndex(0);
    }
  }
  AvroContainerOptions o;
  o.schema_json = ManifestEntrySchema(context.partition_type, types);
  o.metadata = {{"schema", context.schema_json},
                {"schema-id", StrCat(context.schema_id)},
                {"partition-spec", context.partition_spec_json},
                {"partition-spec-id", StrCat(context.partition_spec_id)},
                {"format-version", "2"},
                {"content", context.content == 0 ? "data" : "deletes"}};
  o.codec = codec;
  o.sync_marker = std::string(sync_marker);
  return WriteAvroContainer(o, records);
}

absl::StatusOr<std::vector<ManifestEntry>> DecodeManifest(std::string_view bytes,
                                                          ManifestContext* context_out) {
  ASSIGN_OR_RETURN(AvroFile file, ReadAvroContainer(bytes));
  ManifestContext context;
  for (const auto& [key, value] : file.metadata) {
    if (key == "schema") {
      context.schema_json = value;
    } else if (key == "schema-id") {
      ASSIGN_OR_RETURN(context.schema_id, IntFrom(value, key));
    } else if (key == "partition-spec") {
      context.partition_spec_json = value;
    } else if (key == "partition-spec-id") {
      ASSIGN_OR_RETURN(context.partition_spec_id, IntFrom(value, key));
    } else if (key == "content") {
      if (value != "data" && value != "deletes")
        return absl::InvalidArgumentError(
            StrCat("manifest: content \"", value, "\" (data or deletes)"));
      context.content = value == "data" ? 0 : 1;
    }
  }
  context.partition_type = PartitionTypeFromSchema(file.schema_json);

  std::vector<ManifestEntry> out;
  out.reserve(file.records.size());
  for (size_t n = 0; n < file.records.size(); ++n) {
    const AvroValue& rec = file.records[n];
    const std::string what = StrCat("manifest entry ", n);
    ManifestEntry entry;
    ASSIGN_OR_RETURN(int64_t status, RequiredLong(rec, what, "status"));
    if (status < 0 || status > 2)
      return absl::InvalidArgumentError(StrCat(what, ": status ", status));
    entry.status = static_cast<int>(status);
    entry.snapshot_id = OptionalLongField(rec, "snapshot_id");
    entry.sequence_number = OptionalLongField(rec, "sequence_number");
    entry.file_sequence_number = OptionalLongField(rec, "file_sequence_number");
    const AvroValue* df = rec.Find("data_file");
    if (!df || df->kind != AvroValue::Kind::kRecord) return Missing(what, "data_file");
    DataFile& f = entry.data_file;
    const int64_t content = OptionalLongField(*df, "content").value_or(0);
    if (content != 0 && content != 1)
      return absl::InvalidArgumentError(
          StrCat(what, ": content ", content,
                 content == 2 ? " (equality deletes are not supported)" : " (0, 1 or 2)"));
    f.content = static_cast<int>(content);
    if (f.content != context.content)
      return absl::InvalidArgumentError(StrCat(what, ": content ", f.content, " in a ",
                                               context.content == 0 ? "data" : "delete",
                                               " manifest"));
    if (const AvroValue* ref = df->Find("referenced_data_file");
        ref != nullptr && ref->kind == AvroValue::Kind::kString)
      f.referenced_data_file = ref->s;
    ASSIGN_OR_RETURN(f.file_path, RequiredString(*df, what, "file_path"));
    ASSIGN_OR_RETURN(f.file_format, RequiredString(*df, what, "file_format"));
    const AvroValue* partition = df->Find("partition");
    if (!partition || partition->kind != AvroValue::Kind::kRecord)
      return Missing(what, "partition");
    for (const Field& field : context.partition_type) {
      ASSIGN_OR_RETURN(PartitionValue v, DecodePartitionValue(field, partition->Find(field.name)));
      f.partition.push_back(std::move(v));
    }
    ASSIGN_OR_RETURN(f.record_count, RequiredLong(*df, what, "record_count"));
    ASSIGN_OR_RETURN(f.file_size_in_bytes, RequiredLong(*df, what, "file_size_in_bytes"));
    RETURN_IF_ERROR(DecodeIdMap(*df, "column_sizes", &f.column_sizes));
    RETURN_IF_ERROR(DecodeIdMap(*df, "value_counts", &f.value_counts));
    RETURN_IF_ERROR(DecodeIdMap(*df, "null_value_counts", &f.null_value_counts));
    RETURN_IF_ERROR(DecodeIdMap(*df, "lower_bounds", &f.lower_bounds));
    RETURN_IF_ERROR(DecodeIdMap(*df, "upper_bounds", &f.upper_bounds));
    f.sort_order_id = OptionalLongField(*df, "sort_order_id");
    out.push_back(std::move(entry));
  }
  if (context_out) *context_out = std::move(context);
  return out;
}

absl::StatusOr<std::string> EncodeManifestList(const std::vector<ManifestFile>& manifests,
                                               int64_t snapshot_id,
                                               std::optional<int64_t> parent_snapshot_id,
                                               int64_t sequence_number,
                                               std::string_view sync_marker,
                                               AvroContainerOptions::Codec codec) {
  std::vector<std::string> records(manifests.size());
  for (size_t n = 0; n < manifests.size(); ++n) {
    const ManifestFile& m = manifests[n];
    AvroEncoder e(&records[n]);
    e.String(m.manifest_path);
    e.Long(m.manifest_length);
    e.Int(m.partition_spec_id);
    e.Int(m.content);
    e.Long(m.sequence_number);
    e.Long(m.min_sequence_number);
    e.Long(m.added_snapshot_id);
    e.Int(m.added_files_count);
    e.Int(m.existing_files_count);
    e.Int(m.deleted_files_count);
    e.Long(m.added_rows_count);
    e.Long(m.existing_rows_count);
    e.Long(m.deleted_rows_count);
    e.UnionIndex(1);  // partitions: always a list, empty when unpartitioned (as Java writes)
    e.BlockCount(static_cast<int64_t>(m.partitions.size()));
    for (const FieldSummary& s : m.partitions) {
      e.Bool(s.contains_null);
      if (s.contains_nan) {
        e.UnionIndex(1);
        e.Bool(*s.contains_nan);
      } else {
        e.UnionIndex(0);
      }
      OptionalBytes(&e, s.lower_bound);
      OptionalBytes(&e, s.upper_bound);
    }
    e.EndBlocks();
    e.UnionIndex(0);  // key_metadata
  }
  AvroContainerOptions o;
  o.schema_json = ManifestFileSchema();
  o.metadata = {{"snapshot-id", StrCat(snapshot_id)},
                {"parent-snapshot-id",
                 parent_snapshot_id ? StrCat(*parent_snapshot_id) : std::string("null")},
                {"sequence-number", StrCat(sequence_number)},
                {"format-version", "2"}};
  o.codec = codec;
  o.sync_marker = std::string(sync_marker);
  return WriteAvroContainer(o, records);
}

absl::StatusOr<std::vector<ManifestFile>> DecodeManifestList(std::string_view bytes) {
  ASSIGN_OR_RETURN(AvroFile file, ReadAvroContainer(bytes));
  std::vector<ManifestFile> out;
  out.reserve(file.records.size());
  for (size_t n = 0; n < file.records.size(); ++n) {
    const AvroValue& rec = file.records[n];
    const std::string what = StrCat("manifest list entry ", n);
    ManifestFile m;
    ASSIGN_OR_RETURN(m.manifest_path, RequiredString(rec, what, "manifest_path"));
    ASSIGN_OR_RETURN(m.manifest_length, RequiredLong(rec, what, "manifest_length"));
    ASSIGN_OR_RETURN(int64_t spec_id, RequiredLong(rec, what, "partition_spec_id"));
    m.partition_spec_id = static_cast<int>(spec_id);
    ASSIGN_OR_RETURN(m.added_snapshot_id, RequiredLong(rec, what, "added_snapshot_id"));
    // v1 lists lack content and sequence numbers: the spec says read them as 0.
    m.content = static_cast<int>(OptionalLongField(rec, "content").value_or(0));
    m.sequence_number = OptionalLongField(rec, "sequence_number").value_or(0);
    m.min_sequence_number = OptionalLongField(rec, "min_sequence_number").value_or(0);
    // v1 writers named the counts added_data_files_count etc.
    auto count = [&](std::string_view v2, std::string_view v1) {
      std::optional<int64_t> c = OptionalLongField(rec, v2);
      if (!c) c = OptionalLongField(rec, v1);
      return c.value_or(0);
    };
    m.added_files_count = static_cast<int>(count("added_files_count", "added_data_files_count"));
    m.existing_files_count =
        static_cast<int>(count("existing_files_count", "existing_data_files_count"));
    m.deleted_files_count =
        static_cast<int>(count("deleted_files_count", "deleted_data_files_count"));
    m.added_rows_count = count("added_rows_count", "added_rows_count");
    m.existing_rows_count = count("existing_rows_count", "existing_rows_count");
    m.deleted_rows_count = count("deleted_rows_count", "deleted_rows_count");
    if (const AvroValue* parts = rec.Find("partitions");
        parts && parts->kind == AvroValue::Kind::kArray) {
      for (const AvroValue& p : parts->items) {
        FieldSummary s;
        const AvroValue* v = p.Find("contains_null");
        if (!v || v->kind != AvroValue::Kind::kBoolean) return Missing(what, "contains_null");
        s.contains_null = v->b;
        if ((v = p.Find("contains_nan")) && v->kind == AvroValue::Kind::kBoolean)
          s.contains_nan = v->b;
        if ((v = p.Find("lower_bound")) && !v->is_null()) s.lower_bound = v->s;
        if ((v = p.Find("upper_bound")) && !v->is_null()) s.upper_bound = v->s;
        m.partitions.push_back(std::move(s));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace lakehose::iceberg
