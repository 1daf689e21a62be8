// The reader in three steps: the footer (FileMetaData through ThriftCompactReader) into
// a schema tree with each node's levels; each column chunk's pages into its leaf's
// levels and values, the values already rendered as JSON text; then the rows assembled
// from the leaves' levels (the Dremel record assembly), node by node down the schema.

#include "core/parquet/parquet_reader.h"

#include <snappy.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <optional>
#include <set>

#include "core/base/base64.h"
#include "core/base/compress.h"
#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/parquet/encoding.h"
#include "core/parquet/format.h"
#include "core/parquet/json_reader.h"
#include "core/parquet/thrift_compact.h"

namespace lakehose {
namespace {

using TC = ThriftCompactWriter;  // the compact type ids
using Int128 = __int128;

using parquet_internal::BitWidth;
using parquet_internal::kBoolean;
using parquet_internal::kByteArray;
using parquet_internal::kDataPage;
using parquet_internal::kDataPageV2;
using parquet_internal::kDictionaryPage;
using parquet_internal::kDoubleType;
using parquet_internal::kFixedLenByteArray;
using parquet_internal::kFloatType;
using parquet_internal::kInt32Type;
using parquet_internal::kInt64Type;
using parquet_internal::kInt96Type;
using parquet_internal::kPlain;
using parquet_internal::kPlainDictionary;
using parquet_internal::kRle;
using parquet_internal::kRleDictionary;
constexpr int32_t kRequired = parquet_internal::kRepetitionRequired;
constexpr int32_t kOptional = parquet_internal::kRepetitionOptional;
constexpr int32_t kRepeated = parquet_internal::kRepetitionRepeated;

std::string EncodingName(int32_t e) {
  switch (e) {
    case 0:
      return "PLAIN";
    case 2:
      return "PLAIN_DICTIONARY";
    case 3:
      return "RLE";
    case 4:
      return "BIT_PACKED";
    case 5:
      return "DELTA_BINARY_PACKED";
    case 6:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case 7:
      return "DELTA_BYTE_ARRAY";
    case 8:
      return "RLE_DICTIONARY";
    case 9:
      return "BYTE_STREAM_SPLIT";
  }
  return StrCat("encoding ", e);
}

std::string CodecName(int32_t c) {
  static constexpr const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                           "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return c >= 0 && c < 8 ? kNames[c] : StrCat("codec ", c);
}

absl::Status Damaged(std::string_view what) {
  return absl::DataLossError(StrCat("parquet: ", what));
}

// ---- The footer ----

// A field's value, checking the field has the type parquet.thrift gives it.
absl::Status WantType(uint8_t got, uint8_t want, int16_t id) {
  if (got == want) return absl::OkStatus();
  return Damaged(StrCat("footer: field ", id, " has thrift type ", static_cast<int>(got),
                        ", expected ", static_cast<int>(want)));
}
absl::Status GetI32(ThriftCompactReader& r, uint8_t t, int16_t id, int32_t* v) {
  RETURN_IF_ERROR(WantType(t, TC::kI32, id));
  return r.ReadI32(v);
}
absl::Status GetI64(ThriftCompactReader& r, uint8_t t, int16_t id, int64_t* v) {
  RETURN_IF_ERROR(WantType(t, TC::kI64, id));
  return r.ReadI64(v);
}
absl::Status GetBinary(ThriftCompactReader& r, uint8_t t, int16_t id, std::string_view* v) {
  RETURN_IF_ERROR(WantType(t, TC::kBinary, id));
  return r.ReadBinary(v);
}

// Calls field(id, type) for each field of the struct that begins at the reader.
template <typename F>
absl::Status ReadStruct(ThriftCompactReader& r, F&& field) {
  r.BeginStruct();
  for (;;) {
    int16_t id = 0;
    uint8_t type = 0;
    bool stop = false;
    RETURN_IF_ERROR(r.NextField(&id, &type, &stop));
    if (stop) break;
    RETURN_IF_ERROR(field(id, type));
  }
  r.EndStruct();
  return absl::OkStatus();
}

// Calls element(i) for each element of a list field of `want` elements.
template <typename F>
absl::Status ReadList(ThriftCompactReader& r, uint8_t t, int16_t id, uint8_t want, F&& element) {
  RETURN_IF_ERROR(WantType(t, TC::kList, id));
  uint8_t et = 0;
  uint32_t n = 0;
  RETURN_IF_ERROR(r.ReadListHeader(&et, &n));
  if (n > 0) RETURN_IF_ERROR(WantType(et, want, id));
  for (uint32_t i = 0; i < n; ++i) RETURN_IF_ERROR(element(i));
  return absl::OkStatus();
}

// The logical type union (SchemaElement field 10): which member, and its parameters.
struct Logical {
  int16_t kind = 0;  // 0 none; 1 STRING, 2 MAP, 3 LIST, 4 ENUM, 5 DECIMAL, 6 DATE,
                     // 7 TIME, 8 TIMESTAMP, 10 INTEGER, 12 JSON, ...
  int32_t scale = 0;
  int16_t unit = 0;  // TIME / TIMESTAMP: 1 MILLIS, 2 MICROS, 3 NANOS
  bool is_signed = true;
};

struct SchemaElement {
  int32_t type = -1;  // physical; -1 for a group
  int32_t type_length = 0;
  int32_t repetition = kRequired;
  std::string_view name;
  int32_t num_children = -1;  // -1: a leaf
  int32_t converted = -1;
  int32_t scale = 0;
  int32_t field_id = -1;
  Logical logical;
};

absl::Status ReadLogical(ThriftCompactReader& r, Logical* l) {
  return ReadStruct(r, [&](int16_t id, uint8_t t) -> absl::Status {
    if (t != TC::kStruct) return r.Skip(t);
    l->kind = id;
    return ReadStruct(r, [&](int16_t fid, uint8_t ft) -> absl::Status {
      if (id == 5 && fid == 1) return GetI32(r, ft, fid, &l->scale);
      if ((id == 7 || id == 8) && fid == 2 && ft == TC::kStruct) {
        return ReadStruct(r, [&](int16_t unit, uint8_t ut) -> absl::Status {
          l->unit = unit;
          return r.Skip(ut);
        });
      }
      if (id == 10 && fid == 2 && (ft == TC::kBoolTrue || ft == TC::kBoolFalse))
        l->is_signed = ThriftCompactReader::FieldBoolValue(ft);
      return r.Skip(ft);
    });
  });
}

absl::Status ReadSchemaElement(ThriftCompactReader& r, SchemaElement* e) {
  return ReadStruct(r, [&](int16_t id, uint8_t t) -> absl::Status {
    switch (id) {
      case 1:
        return GetI32(r, t, id, &e->type);
      case 2:
        return GetI32(r, t, id, &e->type_length);
      case 3:
        return GetI32(r, t, id, &e->repetition);
      case 4:
        return GetBinary(r, t, id, &e->name);
      case 5:
        return GetI32(r, t, id, &e->num_children);
      case 6:
        return GetI32(r, t, id, &e->converted);
      case 7:
        return GetI32(r, t, id, &e->scale);
      case 9:
        return GetI32(r, t, id, &e->field_id);
      case 10:
        RETURN_IF_ERROR(WantType(t, TC::kStruct, id));
        return ReadLogical(r, &e->logical);
    }
    return r.Skip(t);
  });
}

struct ColumnMeta {
  int32_t type = -1;
  std::vector<std::string_view> path;
  int32_t codec = 0;
  int64_t num_values = 0;
  int64_t total_compressed = 0;
  int64_t data_page_offset = -1;
  int64_t dictionary_page_offset = -1;
  bool has_meta = false;
  bool external = false;  // file_path set: the chunk is in another file
};

struct RowGroup {
  std::vector<ColumnMeta> columns;
  int64_t num_rows = 0;
};

absl::Status ReadColumnMeta(ThriftCompactReader& r, ColumnMeta* m) {
  m->has_meta = true;
  return ReadStruct(r, [&](int16_t id, uint8_t t) -> absl::Status {
    switch (id) {
      case 1:
        return GetI32(r, t, id, &m->type);
      case 3:
        return ReadList(r, t, id, TC::kBinary, [&](uint32_t) -> absl::Status {
          std::string_view part;
          RETURN_IF_ERROR(r.ReadBinary(&part));
          m->path.push_back(part);
          return absl::OkStatus();
        });
      case 4:
        return GetI32(r, t, id, &m->codec);
      case 5:
        return GetI64(r, t, id, &m->num_values);
      case 7:
        return GetI64(r, t, id, &m->total_compressed);
      case 9:
        return GetI64(r, t, id, &m->data_page_offset);
      case 11:
        return GetI64(r, t, id, &m->dictionary_page_offset);
    }
    return r.Skip(t);
  });
}

absl::Status ReadRowGroup(ThriftCompactReader& r, RowGroup* g) {
  return ReadStruct(r, [&](int16_t id, uint8_t t) -> absl::Status {
    if (id == 3) return GetI64(r, t, id, &g->num_rows);
    if (id != 1) return r.Skip(t);
    return ReadList(r, t, id, TC::kStruct, [&](uint32_t) -> absl::Status {
      ColumnMeta& m = g->columns.emplace_back();
      return ReadStruct(r, [&](int16_t cid, uint8_t ct) -> absl::Status {
        if (cid == 1) {
          m.external = true;
          return r.Skip(ct);
        }
        if (cid != 3) return r.Skip(ct);
        RETURN_IF_ERROR(WantType(ct, TC::kStruct, cid));
        return ReadColumnMeta(r, &m);
      });
    });
  });
}

struct FileMeta {
  std::vector<SchemaElement> schema;
  std::vector<RowGroup> row_groups;
  std::vector<std::pair<std::string, std::string>> kv;
  std::string created_by;
};

absl::Status ReadFileMeta(std::string_view footer, FileMeta* f) {
  ThriftCompactReader r(footer);
  return ReadStruct(r, [&](int16_t id, uint8_t t) -> absl::Status {
    switch (id) {
      case 2:
        return ReadList(r, t, id, TC::kStruct,
                        [&](uint32_t) { return ReadSchemaElement(r, &f->schema.emplace_back()); });
      case 4:
        return ReadList(r, t, id, TC::kStruct,
                        [&](uint32_t) { return ReadRowGroup(r, &f->row_groups.emplace_back()); });
      case 5:
        return ReadList(r, t, id, TC::kStruct, [&](uint32_t) -> absl::Status {
          std::string_view k, v;
          RETURN_IF_ERROR(ReadStruct(r, [&](int16_t kid, uint8_t kt) -> absl::Status {
            if (kid == 1) return GetBinary(r, kt, kid, &k);
            if (kid == 2) return GetBinary(r, kt, kid, &v);
            return r.Skip(kt);
          }));
          f->kv.emplace_back(std::string(k), std::string(v));
          return absl::OkStatus();
        });
      case 6: {
        std::string_view v;
        RETURN_IF_ERROR(GetBinary(r, t, id, &v));
        f->created_by = std::string(v);
        return absl::OkStatus();
      }
    }
    return r.Skip(t);
  });
}

// ---- The schema tree ----

// How a leaf's values become JSON text.
enum class Render {
  kBool,
  kInt,       // INT32 / INT64, signed
  kUnsigned,  // INT32 / INT64 annotated unsigned
  kDecimal,
  kTimestamp,  // to milliseconds: `scale` 0 (MILLIS), 3 (MICROS) or 6 (NANOS)
  kFloat,
  kDouble,
  kString,
  kJson,
  kBinary,
};

struct Node {
  enum Kind { kLeaf, kStruct, kList } kind = kLeaf;
  std::string name;
  bool required = false;
  int field_id = -1;
  int def = 0;                 // the definition level of an entry where this node has a value
  int list_def = 0;            // kList: the level of an entry where the list has an element
  int rep = 0;                 // kList: the repetition level of its elements after the first
  std::vector<Node> children;  // kStruct: members; kList: the element
  size_t first_leaf = 0, leaf_end = 0;  // the leaves under it, [first_leaf, leaf_end)
  // kLeaf:
  int32_t physical = -1;
  int32_t type_length = 0;
  Render render = Render::kString;
  int scale = 0;
  int containers = 0;  // the objects and arrays around its value in a document
};

struct Leaf {
  const Node* node = nullptr;
  std::string dotted;  // path_in_schema joined by '.', for messages and matching
  int max_def = 0, max_rep = 0;
};

class SchemaBuilder {
 public:
  SchemaBuilder(const std::vector<SchemaElement>& elements, std::vector<Leaf>* leaves)
      : e_(elements), leaves_(*leaves) {}

  absl::Status Build(std::vector<Node>* top) {
    if (e_.empty()) return Damaged("the footer has no schema");
    const SchemaElement& root = e_[0];
    if (root.num_children < 0) return Damaged("the schema's root is not a group");
    next_ = 1;
    for (int32_t i = 0; i < root.num_children; ++i) {
      RETURN_IF_ERROR(Element(1, 0, 0, 0, "", &top->emplace_back()));
    }
    if (next_ != e_.size())
      return Damaged(StrCat("the schema has ", e_.size() - next_, " elements outside its root"));
    return Distinct(*top, "the schema");
  }

  // A document may not have two members of the same name.
  static absl::Status Distinct(const std::vector<Node>& members, std::string_view where) {
    std::set<std::string_view> seen;
    for (const Node& m : members)
      if (!seen.insert(m.name).second)
        return Damaged(StrCat(where, " has two members named \"", m.name, "\""));
    return absl::OkStatus();
  }

 private:
  // The element at next_ into `n`; `def`/`rep` are the parent's levels.
  absl::Status Element(int depth, int containers, int def, int rep, const std::string& parent,
                       Node* n) {
    if (next_ >= e_.size()) return Damaged("the schema ends inside a group");
    if (depth > kMaxParquetReadDepth)
      return absl::InvalidArgumentError(
          StrCat("parquet: the schema is nested deeper than ", kMaxParquetReadDepth, " levels"));
    const SchemaElement& e = e_[next_++];
    if (!IsValidUtf8(e.name)) return Damaged("a column name is not UTF-8");
    n->containers = containers;
    n->name = std::string(e.name);
    const std::string dotted = parent.empty() ? n->name : StrCat(parent, ".", n->name);
    n->required = e.repetition == kRequired;
    n->field_id = e.field_id;
    if (e.repetition == kRepeated)
      return absl::UnimplementedError(
          StrCat("parquet: column \"", dotted, "\" is repeated outside a three-level LIST"));
    if (e.repetition != kRequired && e.repetition != kOptional)
      return Damaged(StrCat("column \"", dotted, "\" has repetition ", e.repetition));
    n->def = def + (n->required ? 0 : 1);
    if (e.num_children < 0) return LeafElement(e, dotted, rep, n);
    if (e.converted == 1 || e.converted == 2 || e.logical.kind == 2)
      return absl::UnimplementedError(StrCat("parquet: column \"", dotted, "\" is a MAP"));
    if (e.converted == 3 || e.logical.kind == 3)
      return ListElement(e, depth, containers, dotted, rep, n);
    if (e.num_children == 0) return Damaged(StrCat("group \"", dotted, "\" has no members"));
    n->kind = Node::kStruct;
    n->first_leaf = leaves_.size();
    for (int32_t i = 0; i < e.num_children; ++i)
      RETURN_IF_ERROR(
          Element(depth + 1, containers + 1, n->def, rep, dotted, &n->children.emplace_back()));
    n->leaf_end = leaves_.size();
    return Distinct(n->children, dotted);
  }

  // optional group name (LIST) { repeated group <any> { <element> } }
  absl::Status ListElement(const SchemaElement& e, int depth, int containers,
                           const std::string& dotted, int rep, Node* n) {
    n->kind = Node::kList;
    const bool three_level = e.num_children == 1 && next_ < e_.size() &&
                             e_[next_].repetition == kRepeated && e_[next_].num_children == 1;
    if (!three_level)
      return absl::UnimplementedError(StrCat("parquet: LIST column \"", dotted,
                                             "\" is not in the standard three-level layout"));
    const SchemaElement& group = e_[next_++];
    n->list_def = n->def + 1;
    n->rep = rep + 1;
    n->first_leaf = leaves_.size();
    RETURN_IF_ERROR(Element(depth + 2, containers + 1, n->list_def, n->rep,
                            StrCat(dotted, ".", std::string(group.name)),
                            &n->children.emplace_back()));
    n->leaf_end = leaves_.size();
    return absl::OkStatus();
  }

  absl::Status LeafElement(const SchemaElement& e, const std::string& dotted, int rep, Node* n) {
    n->kind = Node::kLeaf;
    n->physical = e.type;
    n->type_length = e.type_length;
    const Logical& l = e.logical;
    const bool decimal = l.kind == 5 || e.converted == 5;
    const int scale = l.kind == 5 ? l.scale : e.scale;
    auto unsupported = [&](std::string_view what) {
      return absl::UnimplementedError(
          StrCat("parquet: column \"", dotted, "\" has type ", what, ", which is not read"));
    };
    switch (e.type) {
      case kBoolean:
        n->render = Render::kBool;
        break;
      case kInt32Type:
      case kInt64Type: {
        const bool is_unsigned =
            (l.kind == 10 && !l.is_signed) || (e.converted >= 11 && e.converted <= 14);
        n->render = is_unsigned ? Render::kUnsigned : Render::kInt;
        const int unit = l.kind == 8 ? l.unit : e.converted == 9 ? 1 : e.converted == 10 ? 2 : 0;
        if (e.type == kInt64Type && (l.kind == 8 || e.converted == 9 || e.converted == 10)) {
          if (unit < 1 || unit > 3)
            return Damaged(StrCat("column \"", dotted, "\": bad time unit"));
          n->render = Render::kTimestamp;
          n->scale = unit == 1 ? 0 : unit == 2 ? 3 : 6;
        }
        break;
      }
      case kInt96Type:
        return unsupported("INT96");
      case kFloatType:
        n->render = Render::kFloat;
        break;
      case kDoubleType:
        n->render = Render::kDouble;
        break;
      case kByteArray:
        n->render = (l.kind == 1 || l.kind == 4 || e.converted == 0 || e.converted == 4)
                        ? Render::kString
                    : (l.kind == 12 || e.converted == 19) ? Render::kJson
                                                          : Render::kBinary;
        break;
      case kFixedLenByteArray:
        if (e.type_length <= 0)
          return Damaged(
              StrCat("column \"", dotted, "\" is FIXED_LEN_BYTE_ARRAY without a length"));
        n->render = Render::kBinary;
        break;
      default:
        return Damaged(StrCat("column \"", dotted, "\" has physical type ", e.type));
    }
    if (decimal) {
      if (e.type == kBoolean || e.type == kFloatType || e.type == kDoubleType)
        return Damaged(StrCat("column \"", dotted, "\" is a DECIMAL of a non-integer type"));
      if (scale < 0 || scale > 38) return unsupported(StrCat("DECIMAL with scale ", scale));
      if (e.type == kFixedLenByteArray && e.type_length > 16)
        return unsupported("DECIMAL wider than 16 bytes");
      n->render = Render::kDecimal;
      n->scale = scale;
    }
    n->first_leaf = leaves_.size();
    n->leaf_end = n->first_leaf + 1;
    Leaf& leaf = leaves_.emplace_back();  // `node` is set once the tree stops moving
    leaf.dotted = dotted;
    leaf.max_def = n->def;
    leaf.max_rep = rep;
    return absl::OkStatus();
  }

  const std::vector<SchemaElement>& e_;
  std::vector<Leaf>& leaves_;
  size_t next_ = 0;
};

// The member `name` of a JSON object node, if it is one and has it.
const parquet_internal::JsonNode* Member(const parquet_internal::JsonNode& obj,
                                         std::string_view name) {
  if (!obj.expanded || !obj.object) return nullptr;
  for (size_t i = 0; i < obj.names.size(); ++i)
    if (obj.names[i] == name) return &obj.children[i];
  return nullptr;
}

// Marks the BYTE_ARRAY leaves that lakehose.columns describes as "json" (they hold JSON
// text, which the documents carry as the value itself), walking the description (the
// JSON of parquet_internal::DescribeColumns) beside the schema. Recursion follows the
// description's tree, which ParseTree expanded only to a bounded depth.
void MarkJson(const parquet_internal::JsonNode& described, Node* n) {
  const parquet_internal::JsonNode* type = Member(described, "type");
  if (n->kind == Node::kLeaf) {
    if (type != nullptr && type->value.text == "json" && n->physical == kByteArray)
      n->render = Render::kJson;
    return;
  }
  if (n->kind == Node::kList) {
    if (const parquet_internal::JsonNode* e = Member(described, "element"))
      MarkJson(*e, &n->children[0]);
    return;
  }
  const parquet_internal::JsonNode* fields = Member(described, "fields");
  if (fields == nullptr || !fields->expanded || fields->object) return;
  for (const parquet_internal::JsonNode& f : fields->children) {
    const parquet_internal::JsonNode* name = Member(f, "name");
    if (name == nullptr) continue;
    for (Node& c : n->children)
      if (c.name == name->value.text) MarkJson(f, &c);
  }
}

absl::Status MarkJsonColumns(std::string_view columns_json, std::vector<Node>* top) {
  std::deque<std::string> arena;
  parquet_internal::JsonNode tree;
  parquet_internal::LineParser parser(columns_json, &arena);
  // Each schema level is an object and a "fields" array in the description.
  absl::Status s = parser.ParseTree(2 * kMaxParquetReadDepth + 2, &tree);
  if (!s.ok() || !tree.expanded || tree.object)
    return Damaged("the lakehose.columns metadata is not a JSON array");
  for (const parquet_internal::JsonNode& c : tree.children) {
    const parquet_internal::JsonNode* name = Member(c, "name");
    if (name == nullptr) continue;
    for (Node& n : *top)
      if (n.name == name->value.text) MarkJson(c, &n);
  }
  return absl::OkStatus();
}

// The ParquetColumn a lakehose writer declares for `n`.
ParquetColumn ColumnOf(const Node& n, bool top) {
  ParquetColumn c;
  c.name = n.name;
  c.field_id = n.field_id;
  c.required = top && n.required && n.kind == Node::kLeaf;
  if (n.kind != Node::kLeaf) {
    c.type = n.kind == Node::kList ? ParquetType::kList : ParquetType::kStruct;
    for (const Node& child : n.children) c.children.push_back(ColumnOf(child, false));
    if (n.kind == Node::kList) c.children[0].name = "element";
    return c;
  }
  switch (n.render) {
    case Render::kBool:
      c.type = ParquetType::kBool;
      break;
    case Render::kInt:
    case Render::kUnsigned:
      c.type = ParquetType::kInt64;
      break;
    case Render::kDecimal:
      c.type = ParquetType::kDecimal;
      c.scale = n.scale;
      break;
    case Render::kTimestamp:
      c.type = n.scale == 0 ? ParquetType::kTimestampMillis : ParquetType::kTimestampMicros;
      break;
    case Render::kFloat:
    case Render::kDouble:
      c.type = ParquetType::kDouble;
      break;
    case Render::kString:
      c.type = ParquetType::kString;
      break;
    case Render::kJson:
      c.type = ParquetType::kJson;
      break;
    case Render::kBinary:
      c.type = ParquetType::kBinary;
      break;
  }
  return c;
}

// ---- Values as JSON text ----

// Rendered values: value i is text[ends[i-1], ends[i]).
struct Texts {
  std::string text;
  std::vector<size_t> ends;
  size_t size() const { return ends.size(); }
  std::string_view at(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  void Close() { ends.push_back(text.size()); }
};

void AppendInt128(Int128 v, std::string* out) {
  unsigned __int128 u =
      v < 0 ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  char digits[40];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0);
  if (v < 0) out->push_back('-');
  while (n > 0) out->push_back(digits[--n]);
}

// unscaled * 10^-scale with exactly `scale` fraction digits ("1.50", "-0.05").
void AppendDecimal(Int128 unscaled, int scale, std::string* out) {
  std::string digits;
  AppendInt128(unscaled, &digits);
  const bool negative = !digits.empty() && digits[0] == '-';
  if (negative) {
    out->push_back('-');
    digits.erase(0, 1);
  }
  if (scale == 0) {
    out->append(digits);
    return;
  }
  if (digits.size() <= static_cast<size_t>(scale))
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  out->append(digits, 0, digits.size() - scale);
  out->push_back('.');
  out->append(digits, digits.size() - scale, std::string::npos);
}

// Milliseconds from a count of 10^-scale ms: whole ones as an integer, else exact
// decimal text without trailing zeros.
void AppendMillis(int64_t v, int scale, std::string* out) {
  if (scale == 0) {
    StrAppend(out, v);
    return;
  }
  std::string d;
  AppendDecimal(v, scale, &d);
  while (d.back() == '0') d.pop_back();
  if (d.back() == '.') d.pop_back();
  out->append(d);
}

template <typename F>
void AppendFloating(F v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, end);
  }
}

// A big-endian two's complement integer of 1..16 bytes.
Int128 BigEndianInt(std::string_view b) {
  unsigned __int128 u =
      (static_cast<uint8_t>(b[0]) & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
  for (char c : b) u = (u << 8) | static_cast<uint8_t>(c);
  return static_cast<Int128>(u);
}

uint64_t LoadLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// The nesting depth of valid JSON text (a scalar 0, [] 1, [[1]] 2).
int JsonDepth(std::string_view json) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

class ValueRenderer {
 public:
  explicit ValueRenderer(const Leaf& leaf) : leaf_(leaf), n_(*leaf.node) {}

  // An integer value (INT32 sign-extended, INT64).
  void Int(int64_t v, bool is32, std::string* out) const {
    switch (n_.render) {
      case Render::kUnsigned:
        StrAppend(
            out, is32 ? static_cast<uint64_t>(static_cast<uint32_t>(v)) : static_cast<uint64_t>(v));
        return;
      case Render::kDecimal:
        AppendDecimal(v, n_.scale, out);
        return;
      case Render::kTimestamp:
        AppendMillis(v, n_.scale, out);
        return;
      default:
        StrAppend(out, v);
    }
  }

  absl::Status Bytes(std::string_view b, std::string* out) const {
    switch (n_.render) {
      case Render::kString:
        if (!AppendJsonString(b, out))
          return Damaged(StrCat("column \"", leaf_.dotted, "\" holds a string that is not UTF-8"));
        return absl::OkStatus();
      case Render::kJson: {
        std::deque<std::string> arena;
        parquet_internal::JsonNode tree;
        parquet_internal::LineParser parser(b, &arena);
        if (!parser.ParseTree(0, &tree).ok())
          return Damaged(StrCat("column \"", leaf_.dotted, "\" holds a value that is not JSON"));
        // The writer takes documents whose members nest at most kMaxParquetJsonDepth
        // deep; a value it could not have written is not passed on to it.
        if (n_.containers + JsonDepth(b) > kMaxParquetJsonDepth)
          return Damaged(StrCat("column \"", leaf_.dotted, "\" holds JSON nested deeper than ",
                                kMaxParquetJsonDepth, " levels"));
        out->append(b);
        return absl::OkStatus();
      }
      case Render::kDecimal:
        if (b.empty() || b.size() > 16)
          return Damaged(
              StrCat("column \"", leaf_.dotted, "\" holds a decimal of ", b.size(), " bytes"));
        AppendDecimal(BigEndianInt(b), n_.scale, out);
        return absl::OkStatus();
      default:
        out->push_back('"');
        Base64Encode(b, out);
        out->push_back('"');
        return absl::OkStatus();
    }
  }

  // `n` PLAIN values from `data` (which must hold them all).
  absl::Status Plain(std::string_view data, size_t n, Texts* out) const {
    auto fixed = [&](size_t width) -> absl::Status {
      if (data.size() / width < n)
        return Damaged(StrCat("column \"", leaf_.dotted, "\": a page holds ", data.size(),
                              " bytes for ", n, " values of ", width, " bytes"));
      return absl::OkStatus();
    };
    switch (n_.physical) {
      case kBoolean:
        if (data.size() * 8 < n)
          return Damaged(StrCat("column \"", leaf_.dotted, "\": a page holds ", data.size(),
                                " bytes for ", n, " booleans"));
        for (size_t i = 0; i < n; ++i) {
          out->text.append((static_cast<uint8_t>(data[i / 8]) >> (i % 8)) & 1 ? "true" : "false");
          out->Close();
        }
        return absl::OkStatus();
      case kInt32Type:
        RETURN_IF_ERROR(fixed(4));
        for (size_t i = 0; i < n; ++i) {
          Int(static_cast<int32_t>(LoadLE(data.data() + 4 * i, 4)), true, &out->text);
          out->Close();
        }
        return absl::OkStatus();
      case kInt64Type:
        RETURN_IF_ERROR(fixed(8));
        for (size_t i = 0; i < n; ++i) {
          Int(static_cast<int64_t>(LoadLE(data.data() + 8 * i, 8)), false, &out->text);
          out->Close();
        }
        return absl::OkStatus();
      case kFloatType:
        RETURN_IF_ERROR(fixed(4));
        for (size_t i = 0; i < n; ++i) {
          const uint32_t bits = static_cast<uint32_t>(LoadLE(data.data() + 4 * i, 4));
          float f;
          std::memcpy(&f, &bits, 4);
          AppendFloating(f, &out->text);
          out->Close();
        }
        return absl::OkStatus();
      case kDoubleType:
        RETURN_IF_ERROR(fixed(8));
        for (size_t i = 0; i < n; ++i) {
          const uint64_t bits = LoadLE(data.data() + 8 * i, 8);
          double d;
          std::memcpy(&d, &bits, 8);
          AppendFloating(d, &out->text);
          out->Close();
        }
        return absl::OkStatus();
      case kFixedLenByteArray: {
        const size_t width = static_cast<size_t>(n_.type_length);
        RETURN_IF_ERROR(fixed(width));
        for (size_t i = 0; i < n; ++i) {
          RETURN_IF_ERROR(Bytes(data.substr(width * i, width), &out->text));
          out->Close();
        }
        return absl::OkStatus();
      }
      case kByteArray: {
        size_t pos = 0;
        for (size_t i = 0; i < n; ++i) {
          if (data.size() - pos < 4)
            return Damaged(StrCat("column \"", leaf_.dotted, "\": a page ends inside value ", i));
          const uint64_t len = LoadLE(data.data() + pos, 4);
          pos += 4;
          if (len > data.size() - pos)
            return Damaged(StrCat("column \"", leaf_.dotted, "\": value ", i, " of ", len,
                                  " bytes runs past its page"));
          RETURN_IF_ERROR(Bytes(data.substr(pos, len), &out->text));
          pos += len;
          out->Close();
        }
        return absl::OkStatus();
      }
    }
    return Damaged(StrCat("column \"", leaf_.dotted, "\" has physical type ", n_.physical));
  }

 private:
  const Leaf& leaf_;
  const Node& n_;
};

// ---- Levels and dictionary indices: the RLE / bit-packed hybrid ----

// Appends `n` values of `width` bits (0..32) to `out`; DATA_LOSS if `data` ends first.
// Runs longer than needed are cut at `n`, so a few bytes cannot declare more values than
// the caller asked for.
absl::Status DecodeRleHybrid(std::string_view data, int width, size_t n, std::vector<uint32_t>* out,
                             std::string_view what) {
  size_t pos = 0, got = 0;
  const size_t value_bytes = (static_cast<size_t>(width) + 7) / 8;
  while (got < n) {
    uint64_t header = 0;
    int shift = 0;
    for (;;) {
      if (pos >= data.size() || shift > 35)
        return Damaged(StrCat(what, ": the RLE data ends after ", got, " of ", n, " values"));
      const uint8_t b = static_cast<uint8_t>(data[pos++]);
      header |= static_cast<uint64_t>(b & 0x7F) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    const uint64_t count = header >> 1;
    if ((header & 1) == 0) {  // a run of one value
      if (data.size() - pos < value_bytes)
        return Damaged(StrCat(what, ": an RLE run ends inside its value"));
      const uint64_t v = LoadLE(data.data() + pos, static_cast<int>(value_bytes));
      pos += value_bytes;
      if (width < 32 && v >> width != 0) return Damaged(StrCat(what, ": an RLE value is too wide"));
      const size_t take = static_cast<size_t>(std::min<uint64_t>(count, n - got));
      out->insert(out->end(), take, static_cast<uint32_t>(v));
      got += take;
      continue;
    }
    // Bit-packed groups of 8 values; a writer may leave out the padding of the last one.
    const uint64_t values = count * 8;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(values, n - got));
    const size_t need_bytes = (take * static_cast<size_t>(width) + 7) / 8;
    if (data.size() - pos < need_bytes)
      return Damaged(StrCat(what, ": bit-packed values run past the data"));
    const uint64_t mask = width == 32 ? 0xFFFFFFFFu : (uint64_t{1} << width) - 1;
    for (size_t i = 0; i < take; ++i) {
      const size_t bit = i * static_cast<size_t>(width);
      uint64_t v = 0;
      for (size_t b = bit / 8, s = 0; b * 8 < bit + static_cast<size_t>(width); ++b, s += 8)
        v |= static_cast<uint64_t>(static_cast<uint8_t>(data[pos + b])) << s;
      out->push_back(static_cast<uint32_t>((v >> (bit % 8)) & mask));
    }
    got += take;
    // Skip the whole groups' bytes when present (the next run starts after them).
    const uint64_t group_bytes = count * static_cast<uint64_t>(width);
    pos = group_bytes <= data.size() - pos ? pos + static_cast<size_t>(group_bytes) : data.size();
  }
  return absl::OkStatus();
}

// ---- Column chunks ----

struct LeafData {
  std::vector<uint8_t> def, rep;
  Texts values;
  size_t entry = 0, value = 0;  // assembly cursors
};

class ChunkReader {
 public:
  ChunkReader(std::string_view file, size_t data_end, const ParquetReadOptions& options,
              int64_t* entries)
      : file_(file), data_end_(data_end), options_(options), entries_(*entries) {}

  absl::Status Read(const Leaf& leaf, const ColumnMeta& m, LeafData* out) {
    leaf_ = &leaf;
    out_ = out;
    dict_.reset();
    if (m.external) return Unimplemented("is stored in another file");
    if (!m.has_meta) return Fail("has no metadata");
    if (m.type != leaf.node->physical) return Fail("has another physical type than its schema");
    if (StrJoin(m.path, ".") != leaf.dotted) return Fail("is not where the schema puts it");
    if (m.codec != 0 && m.codec != 1 && m.codec != 2 && m.codec != 6)
      return Unimplemented(StrCat("is compressed with ", CodecName(m.codec)));
    codec_ = m.codec;
    if (m.num_values < 0) return Fail("has a negative value count");
    RETURN_IF_ERROR(Spend(m.num_values));
    int64_t start = m.data_page_offset;
    if (m.dictionary_page_offset > 0 && m.dictionary_page_offset < start)
      start = m.dictionary_page_offset;
    if (start < 4 || m.total_compressed < 0 || static_cast<uint64_t>(start) > data_end_ ||
        static_cast<uint64_t>(m.total_compressed) > data_end_ - static_cast<uint64_t>(start))
      return Fail("lies outside the file's data");
    std::string_view chunk = file_.substr(start, m.total_compressed);
    size_t pos = 0;
    while (static_cast<int64_t>(out->def.size()) < m.num_values) {
      if (pos >= chunk.size())
        return Fail(StrCat("ends after ", out->def.size(), " of its ", m.num_values, " values"));
      RETURN_IF_ERROR(Page(chunk, &pos, m.num_values - static_cast<int64_t>(out->def.size())));
    }
    if (static_cast<int64_t>(out->def.size()) != m.num_values)
      return Fail("has pages with more values than the chunk");
    return absl::OkStatus();
  }

 private:
  absl::Status Fail(std::string_view what) const {
    return Damaged(StrCat("column \"", leaf_->dotted, "\" ", what));
  }
  absl::Status Unimplemented(std::string_view what) const {
    return absl::UnimplementedError(StrCat("parquet: column \"", leaf_->dotted, "\" ", what));
  }
  absl::Status Spend(int64_t n) {
    if (n > options_.max_entries - entries_)
      return absl::ResourceExhaustedError(
          StrCat("parquet: the file has more than ", options_.max_entries,
                 " values and rows (ParquetReadOptions::max_entries)"));
    entries_ += n;
    return absl::OkStatus();
  }

  struct PageHeader {
    int32_t type = -1;
    int32_t uncompressed = -1, compressed = -1;
    int32_t num_values = -1;
    int32_t encoding = -1;
    int32_t def_encoding = kRle, rep_encoding = kRle;
    // v2
    int32_t def_bytes = 0, rep_bytes = 0;
    bool is_compressed = true;
  };

  absl::Status ReadHeader(ThriftCompactReader& r, PageHeader* h) {
    return ReadStruct(r, [&](int16_t id, uint8_t t) -> absl::Status {
      switch (id) {
        case 1:
          return GetI32(r, t, id, &h->type);
        case 2:
          return GetI32(r, t, id, &h->uncompressed);
        case 3:
          return GetI32(r, t, id, &h->compressed);
        case 5:
        case 7:
        case 8:
          RETURN_IF_ERROR(WantType(t, TC::kStruct, id));
          return ReadStruct(r, [&](int16_t fid, uint8_t ft) -> absl::Status {
            if (fid == 1) return GetI32(r, ft, fid, &h->num_values);
            if (id == 5) {
              if (fid == 2) return GetI32(r, ft, fid, &h->encoding);
              if (fid == 3) return GetI32(r, ft, fid, &h->def_encoding);
              if (fid == 4) return GetI32(r, ft, fid, &h->rep_encoding);
            } else if (id == 7) {
              if (fid == 2) return GetI32(r, ft, fid, &h->encoding);
            } else {
              if (fid == 4) return GetI32(r, ft, fid, &h->encoding);
              if (fid == 5) return GetI32(r, ft, fid, &h->def_bytes);
              if (fid == 6) return GetI32(r, ft, fid, &h->rep_bytes);
              if (fid == 7 && (ft == TC::kBoolTrue || ft == TC::kBoolFalse))
                h->is_compressed = ThriftCompactReader::FieldBoolValue(ft);
            }
            return r.Skip(ft);
          });
      }
      return r.Skip(t);
    });
  }

  absl::StatusOr<std::string> Decompress(std::string_view body, size_t size) const {
    switch (codec_) {
      case 0:
        if (body.size() != size) return Fail("has an uncompressed page of the wrong size");
        return std::string(body);
      case 1: {
        size_t n = 0;
        // Validated before allocating: the length is the input's claim.
        if (!snappy::GetUncompressedLength(body.data(), body.size(), &n) || n != size ||
            !snappy::IsValidCompressedBuffer(body.data(), body.size()))
          return Fail("has a damaged SNAPPY page or one of the wrong size");
        std::string out(n, '\0');
        if (!snappy::RawUncompress(body.data(), body.size(), out.data()))
          return Fail("has a damaged SNAPPY page");
        return out;
      }
      default: {
        absl::StatusOr<std::string> out =
            lakehose::Decompress(codec_ == 2 ? Compression::kGzip : Compression::kZstd, body, size);
        if (!out.ok() || out->size() != size)
          return Fail(StrCat("has a damaged ", CodecName(codec_), " page"));
        return out;
      }
    }
  }

  absl::Status Page(std::string_view chunk, size_t* pos, int64_t left) {
    ThriftCompactReader r(chunk.substr(*pos));
    PageHeader h;
    absl::Status s = ReadHeader(r, &h);
    if (!s.ok()) return Fail(StrCat("has a damaged page header: ", StatusMessage(s)));
    *pos += r.position();
    if (h.compressed < 0 || static_cast<size_t>(h.compressed) > chunk.size() - *pos)
      return Fail("has a page that runs past its chunk");
    if (h.uncompressed < 0 || h.uncompressed > options_.max_page_bytes)
      return absl::ResourceExhaustedError(StrCat("parquet: column \"", leaf_->dotted,
                                                 "\" has a page of ", h.uncompressed,
                                                 " bytes (ParquetReadOptions::max_page_bytes)"));
    const std::string_view body = chunk.substr(*pos, h.compressed);
    *pos += h.compressed;
    switch (h.type) {
      case kDictionaryPage:
        return Dictionary(h, body);
      case kDataPage:
      case kDataPageV2:
        if (h.num_values < 0 || h.num_values > left)
          return Fail("has a page with more values than the chunk");
        return h.type == kDataPage ? DataPageV1(h, body) : DataPageV2(h, body);
      default:
        return absl::OkStatus();  // index pages and unknown ones hold no values
    }
  }

  absl::Status Dictionary(const PageHeader& h, std::string_view body) {
    if (dict_ || !out_->def.empty()) return Fail("has a dictionary page after its first page");
    if (h.encoding != kPlain && h.encoding != kPlainDictionary)
      return Unimplemented(StrCat("has a dictionary in ", EncodingName(h.encoding)));
    if (h.num_values < 0) return Fail("has a dictionary with a negative size");
    RETURN_IF_ERROR(Spend(h.num_values));
    ASSIGN_OR_RETURN(std::string page, Decompress(body, static_cast<size_t>(h.uncompressed)));
    dict_.emplace();
    return ValueRenderer(*leaf_).Plain(page, static_cast<size_t>(h.num_values), &*dict_);
  }

  // Levels of `n` entries into `out`, checked against `max`.
  absl::Status Levels(std::string_view data, int max, size_t n, std::vector<uint8_t>* out,
                      std::string_view what) {
    if (max == 0) {
      out->insert(out->end(), n, 0);
      return absl::OkStatus();
    }
    scratch_.clear();
    RETURN_IF_ERROR(DecodeRleHybrid(data, BitWidth(static_cast<uint32_t>(max)), n, &scratch_,
                                    StrCat("column \"", leaf_->dotted, "\" ", what)));
    for (uint32_t v : scratch_) {
      if (v > static_cast<uint32_t>(max))
        return Fail(StrCat("has a ", what, " of ", v, " (at most ", max, ")"));
      out->push_back(static_cast<uint8_t>(v));
    }
    return absl::OkStatus();
  }

  // v1 levels: a 4-byte length, then the RLE / bit-packed hybrid.
  absl::Status PrefixedLevels(std::string_view page, size_t* pos, int max, size_t n,
                              int32_t encoding, std::vector<uint8_t>* out, std::string_view what) {
    if (max == 0) return Levels({}, 0, n, out, what);
    if (encoding != kRle)
      return Unimplemented(StrCat("has ", what, "s in ", EncodingName(encoding)));
    if (page.size() - *pos < 4) return Fail(StrCat("has a page that ends before its ", what, "s"));
    const uint64_t len = LoadLE(page.data() + *pos, 4);
    *pos += 4;
    if (len > page.size() - *pos) return Fail(StrCat("has ", what, "s that run past their page"));
    RETURN_IF_ERROR(Levels(page.substr(*pos, len), max, n, out, what));
    *pos += len;
    return absl::OkStatus();
  }

  absl::Status DataPageV1(const PageHeader& h, std::string_view body) {
    ASSIGN_OR_RETURN(std::string page, Decompress(body, static_cast<size_t>(h.uncompressed)));
    const size_t n = static_cast<size_t>(h.num_values);
    size_t pos = 0;
    RETURN_IF_ERROR(PrefixedLevels(page, &pos, leaf_->max_rep, n, h.rep_encoding, &out_->rep,
                                   "repetition level"));
    RETURN_IF_ERROR(PrefixedLevels(page, &pos, leaf_->max_def, n, h.def_encoding, &out_->def,
                                   "definition level"));
    return Values(h.encoding, std::string_view(page).substr(pos), n);
  }

  absl::Status DataPageV2(const PageHeader& h, std::string_view body) {
    if (h.def_bytes < 0 || h.rep_bytes < 0 ||
        static_cast<size_t>(h.def_bytes) + static_cast<size_t>(h.rep_bytes) > body.size() ||
        int64_t{h.def_bytes} + h.rep_bytes > h.uncompressed)
      return Fail("has a v2 page whose levels run past it");
    const size_t n = static_cast<size_t>(h.num_values);
    RETURN_IF_ERROR(
        Levels(body.substr(0, h.rep_bytes), leaf_->max_rep, n, &out_->rep, "repetition level"));
    RETURN_IF_ERROR(Levels(body.substr(h.rep_bytes, h.def_bytes), leaf_->max_def, n, &out_->def,
                           "definition level"));
    const std::string_view rest = body.substr(h.rep_bytes + h.def_bytes);
    const size_t size = static_cast<size_t>(h.uncompressed - h.def_bytes - h.rep_bytes);
    if (!h.is_compressed || codec_ == 0) {
      if (rest.size() != size) return Fail("has a v2 page of the wrong size");
      return Values(h.encoding, rest, n);
    }
    ASSIGN_OR_RETURN(std::string values, Decompress(rest, size));
    return Values(h.encoding, values, n);
  }

  // The values of a page's last `n` entries (those at the leaf's maximum level).
  absl::Status Values(int32_t encoding, std::string_view data, size_t n) {
    size_t present = 0;
    for (size_t i = out_->def.size() - n; i < out_->def.size(); ++i)
      present += out_->def[i] == leaf_->max_def;
    if (leaf_->max_rep > 0 && out_->rep.size() != out_->def.size())
      return Fail("has pages whose levels disagree");
    switch (encoding) {
      case kPlain:
        return ValueRenderer(*leaf_).Plain(data, present, &out_->values);
      case kPlainDictionary:
      case kRleDictionary: {
        if (!dict_) return Fail("has dictionary-encoded values but no dictionary");
        if (present == 0) return absl::OkStatus();
        if (data.empty()) return Fail("has a page without its index width");
        const int width = static_cast<uint8_t>(data[0]);
        if (width > 32) return Fail(StrCat("has dictionary indices of ", width, " bits"));
        scratch_.clear();
        RETURN_IF_ERROR(DecodeRleHybrid(data.substr(1), width, present, &scratch_,
                                        StrCat("column \"", leaf_->dotted, "\" indices")));
        out_->values.ends.reserve(out_->values.ends.size() + present);
        for (uint32_t i : scratch_) {
          if (i >= dict_->size())
            return Fail(StrCat("has dictionary index ", i, " of a dictionary of ", dict_->size()));
          out_->values.text.append(dict_->at(i));
          out_->values.Close();
        }
        return absl::OkStatus();
      }
      case kRle: {
        if (leaf_->node->physical != kBoolean) break;
        // RLE booleans: a 4-byte length, then the hybrid with width 1.
        if (data.size() < 4) return Fail("has RLE booleans without their length");
        const uint64_t len = LoadLE(data.data(), 4);
        if (len > data.size() - 4) return Fail("has RLE booleans that run past their page");
        scratch_.clear();
        RETURN_IF_ERROR(DecodeRleHybrid(data.substr(4, len), 1, present, &scratch_,
                                        StrCat("column \"", leaf_->dotted, "\" booleans")));
        for (uint32_t b : scratch_) {
          out_->values.text.append(b ? "true" : "false");
          out_->values.Close();
        }
        return absl::OkStatus();
      }
      default:
        break;
    }
    return Unimplemented(StrCat("has values in ", EncodingName(encoding), ", which is not read"));
  }

  std::string_view file_;
  size_t data_end_;
  const ParquetReadOptions& options_;
  int64_t& entries_;
  const Leaf* leaf_ = nullptr;
  LeafData* out_ = nullptr;
  int32_t codec_ = 0;
  std::optional<Texts> dict_;
  std::vector<uint32_t> scratch_;
};

// ---- Record assembly ----

class Assembler {
 public:
  Assembler(const std::vector<Leaf>& leaves, std::vector<LeafData>* data)
      : leaves_(leaves), data_(*data) {}

  // The value of `n` at the leaves' cursors, appended to `out` as JSON.
  absl::Status Value(const Node& n, std::string* out) {
    LeafData& first = data_[n.first_leaf];
    if (first.entry >= first.def.size()) return Short(n.first_leaf);
    const int d = first.def[first.entry];
    if (d < n.def) {
      out->append("null");
      return SkipEntry(n);
    }
    switch (n.kind) {
      case Node::kLeaf:
        if (first.value >= first.values.size())
          return Damaged(StrCat("column \"", leaves_[n.first_leaf].dotted,
                                "\" has fewer values than its levels say"));
        out->append(first.values.at(first.value++));
        ++first.entry;
        return absl::OkStatus();
      case Node::kStruct:
        out->push_back('{');
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (i > 0) out->push_back(',');
          AppendValidJsonString(n.children[i].name, out);
          out->push_back(':');
          RETURN_IF_ERROR(Value(n.children[i], out));
        }
        out->push_back('}');
        return absl::OkStatus();
      case Node::kList:
        if (d < n.list_def) {
          out->append("[]");
          return SkipEntry(n);
        }
        out->push_back('[');
        // Every element takes at least one entry of the first leaf, so this ends.
        for (bool more = true; more;) {
          RETURN_IF_ERROR(Value(n.children[0], out));
          more = first.entry < first.def.size() && first.rep[first.entry] >= n.rep;
          if (more && first.rep[first.entry] > n.rep)
            return Damaged(StrCat("column \"", leaves_[n.first_leaf].dotted,
                                  "\" repeats a level deeper than its list"));
          if (more) out->push_back(',');
        }
        out->push_back(']');
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  // Before each row: every leaf is at an entry that starts one.
  absl::Status StartRow(int64_t row) {
    for (size_t i = 0; i < data_.size(); ++i) {
      const LeafData& d = data_[i];
      if (d.entry >= d.def.size()) return Short(i);
      if (leaves_[i].max_rep > 0 && d.rep[d.entry] != 0)
        return Damaged(StrCat("column \"", leaves_[i].dotted, "\" does not start row ", row,
                              " where the other columns do"));
    }
    return absl::OkStatus();
  }

  absl::Status Finish() const {
    for (size_t i = 0; i < data_.size(); ++i)
      if (data_[i].entry != data_[i].def.size() || data_[i].value != data_[i].values.size())
        return Damaged(
            StrCat("column \"", leaves_[i].dotted, "\" has more values than its row group's rows"));
    return absl::OkStatus();
  }

 private:
  absl::Status Short(size_t leaf) const {
    return Damaged(
        StrCat("column \"", leaves_[leaf].dotted, "\" has fewer values than its row group's rows"));
  }
  // A null or empty value here: each leaf under `n` has one entry for it.
  absl::Status SkipEntry(const Node& n) {
    for (size_t i = n.first_leaf; i < n.leaf_end; ++i) {
      if (data_[i].entry >= data_[i].def.size()) return Short(i);
      ++data_[i].entry;
    }
    return absl::OkStatus();
  }

  const std::vector<Leaf>& leaves_;
  std::vector<LeafData>& data_;
};

}  // namespace

absl::StatusOr<ParquetContents> ReadParquetFile(std::string_view bytes,
                                                const ParquetReadOptions& options) {
  if (bytes.size() < 12 || bytes.substr(0, 4) != "PAR1" || bytes.substr(bytes.size() - 4) != "PAR1")
    return absl::InvalidArgumentError("parquet: not a Parquet file (no PAR1 at both ends)");
  const uint64_t footer_len = LoadLE(bytes.data() + bytes.size() - 8, 4);
  if (footer_len > bytes.size() - 12)
    return Damaged("the footer's length is past the file's start");
  const size_t data_end = bytes.size() - 8 - footer_len;
  FileMeta meta;
  absl::Status s = ReadFileMeta(bytes.substr(data_end, footer_len), &meta);
  if (!s.ok()) return Damaged(StrCat("the footer is damaged: ", StatusMessage(s)));

  std::vector<Node> top;
  std::vector<Leaf> leaves;
  RETURN_IF_ERROR(SchemaBuilder(meta.schema, &leaves).Build(&top));
  // Leaves point into the tree: fix them up now that it no longer moves.
  std::vector<const Node*> order;
  std::vector<const Node*> stack;
  for (auto it = top.rbegin(); it != top.rend(); ++it) stack.push_back(&*it);
  while (!stack.empty()) {  // depth first, as the leaves were numbered
    const Node* n = stack.back();
    stack.pop_back();
    if (n->kind == Node::kLeaf) order.push_back(n);
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) stack.push_back(&*it);
  }
  for (auto& [k, v] : meta.kv)
    if (k == "lakehose.columns") RETURN_IF_ERROR(MarkJsonColumns(v, &top));
  for (size_t i = 0; i < leaves.size(); ++i) leaves[i].node = order[i];

  ParquetContents out;
  for (const Node& n : top) out.columns.push_back(ColumnOf(n, true));
  out.key_value_metadata = std::move(meta.kv);
  out.created_by = std::move(meta.created_by);
  out.row_groups = static_cast<int64_t>(meta.row_groups.size());

  int64_t entries = 0;
  for (size_t g = 0; g < meta.row_groups.size(); ++g) {
    const RowGroup& rg = meta.row_groups[g];
    if (rg.columns.size() != leaves.size())
      return Damaged(StrCat("row group ", g, " has ", rg.columns.size(), " column chunks for ",
                            leaves.size(), " columns"));
    if (rg.num_rows < 0 || rg.num_rows > options.max_entries - entries)
      return absl::ResourceExhaustedError(StrCat("parquet: row group ", g, " has ", rg.num_rows,
                                                 " rows (ParquetReadOptions::max_entries)"));
    entries += rg.num_rows;
    std::vector<LeafData> data(leaves.size());
    ChunkReader reader(bytes, data_end, options, &entries);
    for (size_t i = 0; i < leaves.size(); ++i)
      RETURN_IF_ERROR(reader.Read(leaves[i], rg.columns[i], &data[i]));
    Assembler assembler(leaves, &data);
    for (int64_t r = 0; r < rg.num_rows; ++r) {
      RETURN_IF_ERROR(assembler.StartRow(r));
      std::string row = "{";
      for (size_t c = 0; c < top.size(); ++c) {
        if (c > 0) row.push_back(',');
        AppendValidJsonString(top[c].name, &row);
        row.push_back(':');
        RETURN_IF_ERROR(assembler.Value(top[c], &row));
      }
      row.push_back('}');
      out.rows.push_back(std::move(row));
    }
    RETURN_IF_ERROR(assembler.Finish());
  }
  return out;
}

}  // namespace lakehose
