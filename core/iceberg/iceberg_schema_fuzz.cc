// Fuzz target for core/iceberg/schema.h. The input's first bytes are parsed as a type
// name and a transform (table metadata is read from storage: any text may come); the rest
// drives a generator of inferred Parquet columns (the writer's types, structs and lists
// up to four levels, names from a small set so that columns meet again), resolved twice:
// first against an empty table, then a second set against the result.
//
// Invariants: a parsed type or transform prints as a name that parses to the same thing;
// ApplyTransform of a generated value never crashes and fails only with INVALID_ARGUMENT;
// resolution fails only with INVALID_ARGUMENT "SCHEMA_MISMATCH: ..."; on success field
// ids are unique and at most *new_last_column_id, existing fields keep their ids and
// order, every Parquet column (children included) has a field id, and resolving the same
// columns against the result changes nothing and gives the same columns.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/iceberg/schema.h"

namespace lakehose::iceberg {
namespace {

struct Input {
  std::string_view data;
  size_t pos = 0;
  uint8_t Byte() { return pos < data.size() ? static_cast<uint8_t>(data[pos++]) : 0; }
  bool Done() const { return pos >= data.size(); }
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "iceberg_schema_fuzz: %s\n", what);
    std::abort();
  }
}

ParquetColumn Generate(Input* in, int depth, std::string name) {
  static constexpr const char* kNames[] = {"a", "b", "c", "o", "l"};
  ParquetColumn c;
  c.name = std::move(name);
  const uint8_t b = in->Byte();
  const int kind = b % (depth < 4 ? 10 : 8);
  static constexpr ParquetType kTypes[] = {
      ParquetType::kString, ParquetType::kJson, ParquetType::kInt64,  ParquetType::kDecimal,
      ParquetType::kDouble, ParquetType::kBool, ParquetType::kBinary, ParquetType::kTimestampMillis,
      ParquetType::kStruct, ParquetType::kList};
  c.type = kTypes[kind];
  if (c.type == ParquetType::kDecimal) c.scale = (b >> 4) % 19;
  if (c.type == ParquetType::kStruct) {
    const int n = 1 + in->Byte() % 3;
    std::set<std::string> used;
    for (int i = 0; i < n; ++i) {
      std::string m = kNames[in->Byte() % 5];
      if (used.insert(m).second) c.children.push_back(Generate(in, depth + 1, m));
    }
  } else if (c.type == ParquetType::kList) {
    c.children.push_back(Generate(in, depth + 1, "element"));
  }
  return c;
}

std::vector<ParquetColumn> GenerateColumns(Input* in) {
  static constexpr const char* kNames[] = {"a", "b", "c", "o", "l", "pk"};
  std::vector<ParquetColumn> out;
  std::set<std::string> used;
  const int n = in->Byte() % 5;
  for (int i = 0; i < n; ++i) {
    std::string m = kNames[in->Byte() % 6];
    if (used.insert(m).second) out.push_back(Generate(in, 1, m));
  }
  return out;
}

void CollectIds(const Type& t, std::vector<int>* ids) {
  if (t.kind == Type::Kind::kStruct) {
    for (const Field& f : t.fields) {
      ids->push_back(f.id);
      CollectIds(f.type, ids);
    }
  } else if (t.kind == Type::Kind::kList) {
    ids->push_back(t.element_id);
    CollectIds(*t.element, ids);
  }
}

void CheckColumnIds(const std::vector<ParquetColumn>& cols) {
  for (const ParquetColumn& c : cols) {
    Check(c.field_id > 0, "a Parquet column without a field id");
    CheckColumnIds(c.children);
  }
}

bool SameColumns(const std::vector<ParquetColumn>& a, const std::vector<ParquetColumn>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].scale != b[i].scale ||
        a[i].field_id != b[i].field_id || a[i].required != b[i].required ||
        !SameColumns(a[i].children, b[i].children))
      return false;
  }
  return true;
}

void CheckSchema(const Schema& s, int last) {
  Type root;
  root.kind = Type::Kind::kStruct;
  root.fields = s.fields;
  std::vector<int> ids;
  CollectIds(root, &ids);
  std::set<int> unique(ids.begin(), ids.end());
  Check(unique.size() == ids.size(), "duplicate field ids");
  for (int id : ids) Check(id >= 1 && id <= last, "a field id out of range");
}

}  // namespace
}  // namespace lakehose::iceberg

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakehose::iceberg;  // NOLINT
  using lakehose::ParquetColumn;
  Input in{std::string_view(reinterpret_cast<const char*>(data), size)};
  const size_t n1 = in.Byte() % 24, n2 = in.Byte() % 24;
  const std::string_view type_name = in.data.substr(in.pos, n1);
  in.pos = std::min(in.data.size(), in.pos + n1);
  const std::string_view transform = in.data.substr(in.pos, n2);
  in.pos = std::min(in.data.size(), in.pos + n2);

  absl::StatusOr<PrimitiveType> p = ParsePrimitiveType(type_name);
  if (p.ok()) Check(*ParsePrimitiveType(PrimitiveTypeName(*p)) == *p, "type name round trip");
  absl::StatusOr<Transform> t = ParseTransform(transform);
  if (t.ok()) {
    absl::StatusOr<Transform> again = ParseTransform(TransformName(*t));
    Check(again.ok() && again->kind == t->kind && again->param == t->param, "transform round trip");
  }
  if (p.ok() && t.ok()) {
    // Any int64, extremes included (the top byte moves it across the whole range).
    const int64_t v =
        static_cast<int64_t>(uint64_t{in.Byte()} << 56 | uint64_t{in.Byte()} << 8 | in.Byte());
    for (const SourceValue& sv :
         {SourceValue::Long(v), SourceValue::TimestampMicros(v), SourceValue::Double(v / 7.0),
          SourceValue::String(std::string(type_name)), SourceValue::Decimal(std::to_string(v), 3),
          SourceValue::Boolean(v & 1), SourceValue::Null()}) {
      absl::StatusOr<PartitionValue> pv = ApplyTransform(TransformName(*t), MakeType(*p), sv);
      Check(pv.ok() || pv.status().code() == absl::StatusCode::kInvalidArgument,
            "ApplyTransform failed other than INVALID_ARGUMENT");
      if (pv.ok()) {
        absl::StatusOr<Type> rt = TransformResultType(TransformName(*t), MakeType(*p));
        Check(rt.ok(), "a transform applied without a result type");
        (void)PartitionValueToHumanString(TransformName(*t), *rt, *pv);
        (void)SerializeSingleValue(*rt, *pv);
      }
    }
  }

  int last = 0;
  absl::StatusOr<FileSchema> first = ResolveFileSchema(Schema{}, 0, GenerateColumns(&in), &last);
  Check(first.ok(), "columns against an empty table must resolve");
  CheckSchema(first->table_schema, last);
  CheckColumnIds(first->parquet_columns);

  const std::vector<ParquetColumn> second = GenerateColumns(&in);
  int last2 = 0;
  absl::StatusOr<FileSchema> r = ResolveFileSchema(first->table_schema, last, second, &last2);
  if (!r.ok()) {
    Check(r.status().code() == absl::StatusCode::kInvalidArgument &&
              r.status().message().find("SCHEMA_MISMATCH: attribute \"") == 0,
          "a resolution failure that is not SCHEMA_MISMATCH");
    return 0;
  }
  Check(last2 >= last, "last column id went down");
  CheckSchema(r->table_schema, last2);
  CheckColumnIds(r->parquet_columns);
  const std::vector<Field>& before = first->table_schema.fields;
  const std::vector<Field>& after = r->table_schema.fields;
  Check(after.size() >= before.size(), "a field was dropped");
  for (size_t i = 0; i < before.size(); ++i)
    Check(after[i].id == before[i].id && after[i].name == before[i].name, "a field moved");

  int last3 = 0;
  absl::StatusOr<FileSchema> again = ResolveFileSchema(r->table_schema, last2, second, &last3);
  Check(again.ok() && !again->table_changed && last3 == last2, "resolving again changed the table");
  Check(SameColumns(again->parquet_columns, r->parquet_columns), "resolving again changed columns");
  return 0;
}
