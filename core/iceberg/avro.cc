#include "core/iceberg/avro.h"

#include <zlib.h>

#include <bit>
#include <climits>
#include <cstring>
#include <map>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "simdjson.h"

namespace lakehose::iceberg {

// ---- Encoder ----

void AvroEncoder::Long(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out_->push_back(static_cast<char>((z & 0x7F) | 0x80));
    z >>= 7;
  }
  out_->push_back(static_cast<char>(z));
}

void AvroEncoder::Float(float v) {
  const uint32_t u = std::bit_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out_->push_back(static_cast<char>(u >> (8 * i)));
}

void AvroEncoder::Double(double v) {
  const uint64_t u = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out_->push_back(static_cast<char>(u >> (8 * i)));
}

void AvroEncoder::Bytes(std::string_view v) {
  Long(static_cast<int64_t>(v.size()));
  out_->append(v);
}

AvroValue::AvroValue() = default;
AvroValue::AvroValue(const AvroValue&) = default;
AvroValue::AvroValue(AvroValue&&) noexcept = default;
AvroValue& AvroValue::operator=(const AvroValue&) = default;
AvroValue& AvroValue::operator=(AvroValue&&) noexcept = default;
AvroValue::~AvroValue() = default;

const AvroValue* AvroValue::Find(std::string_view name) const {
  for (const auto& [k, v] : fields)
    if (k == name) return &v;
  return nullptr;
}

namespace {

constexpr std::string_view kMagic("Obj\x01", 4);
constexpr size_t kSyncSize = 16;

// ---- Schemas ----

// One node of a parsed writer schema. Children are indices into the schema's node vector,
// so that named types can refer to each other (and to themselves) without ownership
// cycles.
struct Node {
  enum class T {
    kNull,
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kBytes,
    kString,
    kFixed,
    kEnum,
    kArray,
    kMap,
    kRecord,
    kUnion
  };
  T t = T::kNull;
  int64_t size = 0;                // kFixed: bytes; kEnum: symbols
  std::vector<int> children;       // kRecord fields, kUnion branches, kArray/kMap: [items]
  std::vector<std::string> names;  // kRecord field names
  bool nonzero = false;            // every value's encoding takes at least one byte
};

struct ParsedSchema {
  std::vector<Node> nodes;
  int root = 0;
};

bool PrimitiveType(std::string_view name, Node::T* t) {
  static const std::pair<std::string_view, Node::T> kPrimitives[] = {
      {"null", Node::T::kNull},   {"boolean", Node::T::kBoolean}, {"int", Node::T::kInt},
      {"long", Node::T::kLong},   {"float", Node::T::kFloat},     {"double", Node::T::kDouble},
      {"bytes", Node::T::kBytes}, {"string", Node::T::kString}};
  for (const auto& [n, type] : kPrimitives) {
    if (n == name) {
      *t = type;
      return true;
    }
  }
  return false;
}

class SchemaParser {
 public:
  absl::StatusOr<ParsedSchema> Parse(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(json.data(), json.size()).get(root); err)
      return absl::InvalidArgumentError(
          StrCat("avro schema: not JSON (", std::string_view(simdjson::error_message(err)), ")"));
    ASSIGN_OR_RETURN(out_.root, ParseElement(root, "", 0));
    ComputeNonzero();
    return std::move(out_);
  }

 private:
  int Add(Node::T t) {
    out_.nodes.emplace_back().t = t;
    return static_cast<int>(out_.nodes.size() - 1);
  }

  static std::string FullName(std::string_view name, std::string_view ns) {
    if (name.find('.') != std::string_view::npos || ns.empty()) return std::string(name);
    return StrCat(ns, ".", name);
  }
  static std::string_view NamespaceOf(std::string_view full) {
    const size_t dot = full.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : full.substr(0, dot);
  }

  absl::StatusOr<int> Reference(std::string_view name, std::string_view ns) {
    Node::T t;
    if (PrimitiveType(name, &t)) return Add(t);
    auto it = named_.find(FullName(name, ns));
    if (it == named_.end()) it = named_.find(std::string(name));
    if (it == named_.end())
      return absl::InvalidArgumentError(StrCat("avro schema: unknown type \"", name, "\""));
    return it->second;
  }

  absl::Status Define(const simdjson::dom::object& o, std::string_view ns, int node,
                      std::string* full) {
    std::string_view name, own_ns;
    if (o["name"].get(name) != simdjson::SUCCESS || name.empty())
      return absl::InvalidArgumentError("avro schema: a named type without a name");
    if (o["namespace"].get(own_ns) == simdjson::SUCCESS) ns = own_ns;
    *full = FullName(name, ns);
    if (!named_.emplace(*full, node).second)
      return absl::InvalidArgumentError(StrCat("avro schema: type \"", *full, "\" defined twice"));
    return absl::OkStatus();
  }

  absl::StatusOr<int> ParseElement(simdjson::dom::element e, std::string_view ns, int depth) {
    if (depth > kAvroMaxDepth)
      return absl::InvalidArgumentError(
          StrCat("avro schema: nested deeper than ", kAvroMaxDepth, " levels"));
    std::string_view name;
    if (e.get(name) == simdjson::SUCCESS) return Reference(name, ns);
    simdjson::dom::array branches;
    if (e.get(branches) == simdjson::SUCCESS) {
      const int node = Add(Node::T::kUnion);
      for (simdjson::dom::element b : branches) {
        ASSIGN_OR_RETURN(int child, ParseElement(b, ns, depth + 1));
        if (out_.nodes[child].t == Node::T::kUnion)
          return absl::InvalidArgumentError("avro schema: a union directly inside a union");
        out_.nodes[node].children.push_back(child);
      }
      return node;
    }
    simdjson::dom::object o;
    if (e.get(o) != simdjson::SUCCESS)
      return absl::InvalidArgumentError(
          "avro schema: a type that is not a string, array or object");
    simdjson::dom::element type_el;
    if (o["type"].get(type_el) != simdjson::SUCCESS)
      return absl::InvalidArgumentError("avro schema: an object without \"type\"");
    std::string_view type;
    if (type_el.get(type) != simdjson::SUCCESS) return ParseElement(type_el, ns, depth + 1);

    if (type == "record" || type == "error") {
      const int node = Add(Node::T::kRecord);
      std::string full;
      RETURN_IF_ERROR(Define(o, ns, node, &full));
      simdjson::dom::array fields;
      if (o["fields"].get(fields) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(
            StrCat("avro schema: record \"", full, "\" has no fields array"));
      for (simdjson::dom::element f : fields) {
        std::string_view field_name;
        simdjson::dom::element field_type;
        if (f["name"].get(field_name) != simdjson::SUCCESS ||
            f["type"].get(field_type) != simdjson::SUCCESS)
          return absl::InvalidArgumentError(
              StrCat("avro schema: a field of record \"", full, "\" without a name or type"));
        ASSIGN_OR_RETURN(int child, ParseElement(field_type, NamespaceOf(full), depth + 1));
        out_.nodes[node].children.push_back(child);
        out_.nodes[node].names.emplace_back(field_name);
      }
      return node;
    }
    if (type == "enum") {
      const int node = Add(Node::T::kEnum);
      std::string full;
      RETURN_IF_ERROR(Define(o, ns, node, &full));
      simdjson::dom::array symbols;
      if (o["symbols"].get(symbols) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(
            StrCat("avro schema: enum \"", full, "\" has no symbols"));
      out_.nodes[node].size = static_cast<int64_t>(symbols.size());
      return node;
    }
    if (type == "fixed") {
      const int node = Add(Node::T::kFixed);
      std::string full;
      RETURN_IF_ERROR(Define(o, ns, node, &full));
      int64_t size = -1;
      if (o["size"].get(size) != simdjson::SUCCESS || size < 0)
        return absl::InvalidArgumentError(
            StrCat("avro schema: fixed \"", full, "\" has no valid size"));
      out_.nodes[node].size = size;
      return node;
    }
    if (type == "array" || type == "map") {
      const int node = Add(type == "array" ? Node::T::kArray : Node::T::kMap);
      simdjson::dom::element items;
      if (o[type == "array" ? "items" : "values"].get(items) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(StrCat("avro schema: ", type, " without its item type"));
      ASSIGN_OR_RETURN(int child, ParseElement(items, ns, depth + 1));
      out_.nodes[node].children.push_back(child);
      return node;
    }
    // A primitive with attributes (logicalType, ...) or a reference to a named type.
    return Reference(type, ns);
  }

  // Which nodes never encode to zero bytes. A fixed point from "none" upwards: each pass
  // can only add nodes, and stopping early only underestimates, which is safe (counts of
  // such items fall to the zero-size budget).
  void ComputeNonzero() {
    std::vector<Node>& n = out_.nodes;
    for (Node& node : n) {
      node.nonzero = node.t != Node::T::kNull && node.t != Node::T::kRecord &&
                     (node.t != Node::T::kFixed || node.size > 0);
    }
    for (int pass = 0; pass < kAvroMaxDepth; ++pass) {
      bool changed = false;
      for (Node& node : n) {
        if (node.t != Node::T::kRecord || node.nonzero) continue;
        for (int c : node.children) {
          if (n[c].nonzero) {
            node.nonzero = changed = true;
            break;
          }
        }
      }
      if (!changed) break;
    }
  }

  ParsedSchema out_;
  std::map<std::string, int, std::less<>> named_;
};

// ---- Decoding ----

// Reads values of a parsed schema from `data`. Errors name the byte offset within `data`;
// the caller adds where `data` is.
class Decoder {
 public:
  Decoder(std::string_view data, const ParsedSchema& schema, int64_t* zero_budget)
      : data_(data), nodes_(schema.nodes), zero_budget_(zero_budget) {}

  size_t pos() const { return pos_; }
  size_t left() const { return data_.size() - pos_; }

  absl::Status ReadLong(int64_t* v) {
    uint64_t u = 0;
    for (int shift = 0;; shift += 7) {
      if (pos_ >= data_.size()) return Error("truncated varint");
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return Error("varint longer than 64 bits");
      u |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
      if (shift == 63) return Error("varint longer than 64 bits");
    }
    *v = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
    return absl::OkStatus();
  }

  absl::Status ReadBytes(std::string* s) {
    int64_t n = 0;
    RETURN_IF_ERROR(ReadLong(&n));
    if (n < 0 || static_cast<uint64_t>(n) > left())
      return Error(StrCat("length ", n, " with ", left(), " bytes left"));
    s->assign(data_.substr(pos_, static_cast<size_t>(n)));
    pos_ += static_cast<size_t>(n);
    return absl::OkStatus();
  }

  // The item count of the next array or map block (0 at the end), checked against what the
  // items can take: at least a byte each, or the zero-size budget.
  absl::Status ReadBlockCount(int item, int64_t* count) {
    RETURN_IF_ERROR(ReadLong(count));
    if (*count < 0) {
      if (*count == INT64_MIN) return Error("block count out of range");
      *count = -*count;
      int64_t size = 0;  // the block's byte size, which a negative count announces
      RETURN_IF_ERROR(ReadLong(&size));
      if (size < 0 || static_cast<uint64_t>(size) > left())
        return Error(StrCat("block size ", size, " with ", left(), " bytes left"));
    }
    return CheckCount(item, *count);
  }

  absl::Status CheckCount(int item, int64_t count) {
    const bool nonzero = item < 0 || nodes_[item].nonzero;
    if (nonzero ? static_cast<uint64_t>(count) > left() : count > *zero_budget_)
      return Error(StrCat("count ", count, " with ", left(), " bytes left"));
    return absl::OkStatus();
  }

  absl::Status Read(int node_index, int depth, AvroValue* out) {
    if (depth > kAvroMaxDepth)
      return Error(StrCat("value nested deeper than ", kAvroMaxDepth, " levels"));
    const Node& node = nodes_[node_index];
    if (!node.nonzero && --*zero_budget_ < 0)
      return Error(StrCat("more than ", kAvroMaxZeroSizeValues, " values of zero size"));
    using K = AvroValue::Kind;
    switch (node.t) {
      case Node::T::kNull:
        out->kind = K::kNull;
        return absl::OkStatus();
      case Node::T::kBoolean:
        if (pos_ >= data_.size()) return Error("truncated boolean");
        if (static_cast<uint8_t>(data_[pos_]) > 1) return Error("boolean not 0 or 1");
        out->kind = K::kBoolean;
        out->b = data_[pos_++] == 1;
        return absl::OkStatus();
      case Node::T::kInt:
        RETURN_IF_ERROR(ReadLong(&out->l));
        if (out->l < INT32_MIN || out->l > INT32_MAX) return Error("int out of range");
        out->kind = K::kLong;
        return absl::OkStatus();
      case Node::T::kLong:
        out->kind = K::kLong;
        return ReadLong(&out->l);
      case Node::T::kFloat: {
        if (left() < 4) return Error("truncated float");
        uint32_t u = 0;
        for (int i = 0; i < 4; ++i) u |= uint32_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
        pos_ += 4;
        out->kind = K::kDouble;
        out->d = std::bit_cast<float>(u);
        return absl::OkStatus();
      }
      case Node::T::kDouble: {
        if (left() < 8) return Error("truncated double");
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
        pos_ += 8;
        out->kind = K::kDouble;
        out->d = std::bit_cast<double>(u);
        return absl::OkStatus();
      }
      case Node::T::kBytes:
      case Node::T::kString:
        out->kind = node.t == Node::T::kBytes ? K::kBytes : K::kString;
        return ReadBytes(&out->s);
      case Node::T::kFixed:
        if (static_cast<uint64_t>(node.size) > left()) return Error("truncated fixed");
        out->kind = K::kFixed;
        out->s.assign(data_.substr(pos_, static_cast<size_t>(node.size)));
        pos_ += static_cast<size_t>(node.size);
        return absl::OkStatus();
      case Node::T::kEnum:
        RETURN_IF_ERROR(ReadLong(&out->l));
        if (out->l < 0 || out->l >= node.size)
          return Error(StrCat("enum index ", out->l, " of ", node.size, " symbols"));
        out->kind = K::kEnum;
        return absl::OkStatus();
      case Node::T::kUnion: {
        int64_t branch = 0;
        RETURN_IF_ERROR(ReadLong(&branch));
        if (branch < 0 || static_cast<uint64_t>(branch) >= node.children.size())
          return Error(StrCat("union branch ", branch, " of ", node.children.size()));
        RETURN_IF_ERROR(Read(node.children[static_cast<size_t>(branch)], depth + 1, out));
        out->union_branch = static_cast<int>(branch);
        return absl::OkStatus();
      }
      case Node::T::kArray:
      case Node::T::kMap: {
        const bool is_map = node.t == Node::T::kMap;
        out->kind = is_map ? K::kMap : K::kArray;
        const int item = node.children[0];
        // Each block's count takes at least one byte, so the loop ends within the input.
        for (;;) {
          int64_t count = 0;
          RETURN_IF_ERROR(ReadBlockCount(is_map ? -1 : item, &count));
          if (count == 0) break;
          for (int64_t i = 0; i < count; ++i) {
            if (is_map) {
              auto& [key, value] = out->fields.emplace_back();
              RETURN_IF_ERROR(ReadBytes(&key));
              RETURN_IF_ERROR(Read(item, depth + 1, &value));
            } else {
              RETURN_IF_ERROR(Read(item, depth + 1, &out->items.emplace_back()));
            }
          }
        }
        return absl::OkStatus();
      }
      case Node::T::kRecord:
        out->kind = K::kRecord;
        out->fields.reserve(node.children.size());
        for (size_t i = 0; i < node.children.size(); ++i) {
          auto& [name, value] = out->fields.emplace_back();
          name = node.names[i];
          RETURN_IF_ERROR(Read(node.children[i], depth + 1, &value));
        }
        return absl::OkStatus();
    }
    return Error("unknown schema node");
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(StrCat(what, " at byte ", pos_));
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  const std::vector<Node>& nodes_;
  int64_t* zero_budget_;
};

absl::StatusOr<std::string> RawDeflate(std::string_view data) {
  if (data.size() > UINT_MAX) return absl::InvalidArgumentError("avro: block too large to deflate");
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return absl::InternalError("avro: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return absl::InternalError(StrCat("avro: deflate returned ", rc));
  return out;
}

absl::StatusOr<std::string> RawInflate(std::string_view data) {
  if (data.size() > UINT_MAX) return absl::InvalidArgumentError("deflate block too large");
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) return absl::InternalError("avro: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return absl::InvalidArgumentError(StrCat("corrupt deflate data (zlib ", rc, ")"));
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (out.size() > kAvroMaxBlockBytes) {
      inflateEnd(&z);
      return absl::InvalidArgumentError(
          StrCat("block inflates beyond ", kAvroMaxBlockBytes, " bytes"));
    }
    if (rc == Z_STREAM_END) break;
    if (z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return absl::InvalidArgumentError("truncated deflate data");
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace

absl::StatusOr<std::string> WriteAvroContainer(const AvroContainerOptions& options,
                                               const std::vector<std::string>& encoded_records) {
  if (options.sync_marker.size() != kSyncSize)
    return absl::InvalidArgumentError(
        StrCat("avro: the sync marker must be 16 bytes, not ", options.sync_marker.size()));
  if (options.max_block_records < 1)
    return absl::InvalidArgumentError("avro: max_block_records must be at least 1");
  for (const auto& [key, value] : options.metadata) {
    if (key.starts_with("avro."))
      return absl::InvalidArgumentError(StrCat("avro: metadata key \"", key, "\" is reserved"));
  }
  // A writer never produces what its readers refuse: the schema must parse.
  RETURN_IF_ERROR(SchemaParser().Parse(options.schema_json).status());

  std::string out(kMagic);
  AvroEncoder e(&out);
  e.BlockCount(static_cast<int64_t>(2 + options.metadata.size()));
  e.String("avro.schema");
  e.Bytes(options.schema_json);
  e.String("avro.codec");
  e.Bytes(options.codec == AvroContainerOptions::Codec::kDeflate ? "deflate" : "null");
  for (const auto& [key, value] : options.metadata) {
    e.String(key);
    e.Bytes(value);
  }
  e.EndBlocks();
  out.append(options.sync_marker);

  std::string block;
  for (size_t begin = 0; begin < encoded_records.size();) {
    const size_t last =
        std::min(encoded_records.size(), begin + static_cast<size_t>(options.max_block_records));
    block.clear();
    size_t end = begin;
    while (end < last && (end == begin || block.size() + encoded_records[end].size() <=
                                              static_cast<size_t>(options.max_block_bytes)))
      block.append(encoded_records[end++]);
    e.Long(static_cast<int64_t>(end - begin));
    if (options.codec == AvroContainerOptions::Codec::kDeflate) {
      ASSIGN_OR_RETURN(std::string deflated, RawDeflate(block));
      e.Bytes(deflated);
    } else {
      e.Bytes(block);
    }
    out.append(options.sync_marker);
    begin = end;
  }
  return out;
}

absl::StatusOr<AvroFile> ReadAvroContainer(std::string_view bytes) {
  if (!bytes.starts_with(kMagic))
    return absl::InvalidArgumentError("avro: not an object container file (no Obj\\x01 magic)");
  // The header's metadata is a map of bytes: decoded with a schema of that shape.
  ParsedSchema header_schema;
  header_schema.nodes.resize(2);
  header_schema.nodes[0].t = Node::T::kMap;
  header_schema.nodes[0].children = {1};
  header_schema.nodes[0].nonzero = true;
  header_schema.nodes[1].t = Node::T::kBytes;
  header_schema.nodes[1].nonzero = true;
  int64_t zero_budget = kAvroMaxZeroSizeValues;
  Decoder header(bytes.substr(kMagic.size()), header_schema, &zero_budget);
  AvroValue meta;
  if (absl::Status s = header.Read(0, 0, &meta); !s.ok())
    return absl::InvalidArgumentError(
        StrCat("avro: header metadata: ", StatusMessage(s), " after the magic"));
  size_t pos = kMagic.size() + header.pos();
  if (bytes.size() - pos < kSyncSize)
    return absl::InvalidArgumentError("avro: header truncated before the sync marker");
  const std::string_view sync = bytes.substr(pos, kSyncSize);
  pos += kSyncSize;

  AvroFile file;
  std::string codec = "null";
  bool have_schema = false;
  for (auto& [key, value] : meta.fields) {
    if (key == "avro.schema") {
      file.schema_json = std::move(value.s);
      have_schema = true;
    } else if (key == "avro.codec") {
      codec = std::move(value.s);
    } else {
      file.metadata.emplace_back(std::move(key), std::move(value.s));
    }
  }
  if (!have_schema) return absl::InvalidArgumentError("avro: header without avro.schema");
  const bool deflate = codec == "deflate";
  if (!deflate && codec != "null")
    return absl::UnimplementedError(
        StrCat("avro: codec \"", codec, "\" is not supported (null, deflate)"));
  ASSIGN_OR_RETURN(ParsedSchema schema, SchemaParser().Parse(file.schema_json));

  // Each block takes at least 18 bytes (two varints and the sync), so the loop ends.
  for (int64_t block = 0; pos < bytes.size(); ++block) {
    const size_t block_offset = pos;
    auto where = [&](const absl::Status& s) {
      return absl::InvalidArgumentError(
          StrCat("avro: block ", block, " (offset ", block_offset, "): ", StatusMessage(s)));
    };
    Decoder frame(bytes.substr(pos), header_schema, &zero_budget);
    int64_t count = 0;
    std::string data;
    if (absl::Status s = frame.ReadLong(&count); !s.ok()) return where(s);
    if (count < 0)
      return where(absl::InvalidArgumentError(StrCat("negative record count ", count)));
    if (absl::Status s = frame.ReadBytes(&data); !s.ok()) return where(s);
    pos += frame.pos();
    if (bytes.size() - pos < kSyncSize)
      return where(absl::InvalidArgumentError("truncated before the sync marker"));
    if (bytes.substr(pos, kSyncSize) != sync)
      return where(absl::InvalidArgumentError("sync marker does not match the header's"));
    pos += kSyncSize;
    if (deflate) {
      absl::StatusOr<std::string> inflated = RawInflate(data);
      if (!inflated.ok()) return where(inflated.status());
      data = std::move(*inflated);
    } else if (data.size() > kAvroMaxBlockBytes) {
      return where(
          absl::InvalidArgumentError(StrCat("larger than ", kAvroMaxBlockBytes, " bytes")));
    }
    Decoder d(data, schema, &zero_budget);
    if (absl::Status s = d.CheckCount(schema.root, count); !s.ok()) return where(s);
    for (int64_t i = 0; i < count; ++i) {
      if (absl::Status s = d.Read(schema.root, 0, &file.records.emplace_back()); !s.ok())
        return where(absl::InvalidArgumentError(
            StrCat("record ", i, ": ", StatusMessage(s), " of the block's data")));
    }
    if (d.left() != 0)
      return where(absl::InvalidArgumentError(
          StrCat(d.left(), " bytes left over after ", count, " records")));
  }
  return file;
}

}  // namespace lakehose::iceberg
