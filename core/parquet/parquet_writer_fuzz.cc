// Fuzz target for the Parquet writer (core/parquet/parquet_writer.h) and its Thrift compact
// metadata (core/parquet/thrift_compact.h). The input drives a generator of random schemas and
// records: options (codec, row group and page sizes, wide numbers, sometimes a declared
// schema), then records whose members have random names and values of every kind
// (integers, decimals with any scale and exponent, strings with escapes, booleans,
// null, nested JSON). Lines that are raw input bytes are mixed in now and then, to
// exercise the line parser on garbage. One option bit selects nested: native; then
// arrays are often of one kind and object members come from a small set of names, so
// that groups and lists (of groups, of lists, empty, with nulls) form as well as the
// mixed-kind fallbacks. Another option bit nests one member of the first record as deep
// as two input bytes say (up to 65,535 levels: the corpus has 33, 1,025 and 50,000), and
// numbers sometimes have exponents or digits beyond DOUBLE's range (1e999999, 400
// digits).
//
// Invariants: generated (valid) records with an inferred schema always encode unless
// nested deeper than kMaxParquetJsonDepth; an encode of generated records fails exactly
// when CheckParquetRecord refuses one of them; EncodeParquetFileIsolating always
// succeeds (the options are valid) and leaves out only the records it names; every
// encode that succeeds is framed "PAR1 ... len PAR1", its footer is well-formed Thrift
// compact (walked by an independent skipper to exactly its length), encoding twice gives
// the same bytes, the columns are unique (and so are the members of every group), and
// each row group has one chunk per leaf column. Failures are INVALID_ARGUMENT only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/parquet/parquet_writer.h"

namespace {

class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t Next() { return i_ < n_ ? d_[i_++] : 0; }
  bool Done() const { return i_ >= n_; }
  std::string_view Rest(size_t max) {
    const size_t k = std::min(max, n_ - i_);
    std::string_view s(reinterpret_cast<const char*>(d_ + i_), k);
    i_ += k;
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

void Digits(Bytes& b, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>('0' + b.Next() % 10));
}

void Number(Bytes& b, std::string* out) {
  if (b.Next() & 1) out->push_back('-');
  const int int_digits = 1 + b.Next() % 22;
  std::string digits;
  Digits(b, int_digits, &digits);
  if (digits.size() > 1 && digits[0] == '0') digits[0] = '1';
  out->append(digits);
  const uint8_t shape = b.Next();
  if (shape & 1) {
    out->push_back('.');
    Digits(b, 1 + b.Next() % 24, out);
  }
  if (shape & 2) {
    out->push_back(shape & 4 ? 'e' : 'E');
    if (shape & 8) out->push_back(shape & 16 ? '-' : '+');
    // Now and then beyond DOUBLE's range (either way, with the sign above).
    out->append((shape & 96) == 96 ? "999999" : std::to_string(b.Next() % 140));
  } else if ((shape & 96) == 96) {
    if (digits == "0" && !(shape & 1)) out->back() = '1';  // no leading zero
    out->append(std::string(400, '7'));                    // an integer of 400+ digits
  }
}

void String(Bytes& b, std::string* out) {
  static const char* kPieces[] = {
      "a",  "Z", "0",   " ", "\\n",     "\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude00",
      "中", "é", "\\t", "/", "\\u0000", "x y",  "EU",   "US"};
  out->push_back('"');
  const int n = b.Next() % 12;
  for (int i = 0; i < n; ++i)
    out->append(kPieces[b.Next() % (sizeof(kPieces) / sizeof(kPieces[0]))]);
  out->push_back('"');
}

static const char* kNames[] = {"id", "a", "b", "amount", "ts", "é", "x y", "n", "deep"};

// `native`: arrays of one kind more often, object members named from kNames. `kind`:
// forced (0..8, as the switch below) or -1.
void Value(Bytes& b, int depth, bool native, std::string* out, int kind = -1) {
  const int k = kind >= 0 ? kind : b.Next() % (depth < 3 ? 9 : 7);
  switch (k) {
    case 0:
      out->append("null");
      break;
    case 1:
      out->append("true");
      break;
    case 2:
      out->append("false");
      break;
    case 3:
    case 4:
      Number(b, out);
      break;
    case 5:
    case 6:
      String(b, out);
      break;
    case 7: {
      out->push_back('[');
      const int n = b.Next() % 4;
      // One element kind (nulls now and then), as native lists need.
      const uint8_t one = native ? b.Next() : 0;
      const int element_kind = (one & 1) ? (one >> 1) % (depth + 1 < 3 ? 9 : 7) : -1;
      for (int i = 0; i < n; ++i) {
        if (i) out->push_back(',');
        const bool null = (one & 1) && b.Next() % 8 == 0;
        Value(b, depth + 1, native, out, null ? 0 : element_kind);
      }
      out->push_back(']');
      break;
    }
    default: {
      out->push_back('{');
      const int n = b.Next() % 4;
      for (int i = 0; i < n; ++i) {
        if (i) out->push_back(',');
        if (native) {
          out->push_back('"');
          out->append(kNames[b.Next() % 9]);  // repeated names: the last one wins
          out->push_back('"');
        } else {
          String(b, out);
        }
        out->push_back(':');
        Value(b, depth + 1, native, out);
      }
      out->push_back('}');
    }
  }
}

// An independent walk over Thrift compact bytes: returns false on anything malformed.
class CompactSkipper {
 public:
  explicit CompactSkipper(std::string_view s) : s_(s) {}
  bool Struct(int depth) {
    if (depth > 32) return false;
    for (;;) {
      if (p_ >= s_.size()) return false;
      const uint8_t h = static_cast<uint8_t>(s_[p_++]);
      if (h == 0) return true;
      const uint8_t type = h & 0x0F;
      if ((h >> 4) == 0 && !Varint()) return false;  // long-form field id
      if (!ValueOf(type, depth)) return false;
    }
  }
  size_t pos() const { return p_; }

 private:
  bool Varint() {
    for (int i = 0; i < 10; ++i) {
      if (p_ >= s_.size()) return false;
      if ((static_cast<uint8_t>(s_[p_++]) & 0x80) == 0) return true;
    }
    return false;
  }
  bool ValueOf(uint8_t type, int depth) {
    switch (type) {
      case 1:
      case 2:
        return true;  // booleans in the header
      case 3:
        return ++p_ <= s_.size();
      case 4:
      case 5:
      case 6:
        return Varint();
      case 7:
        return (p_ += 8) <= s_.size();
      case 8: {
        uint64_t len = 0;
        int shift = 0;
        for (;;) {
          if (p_ >= s_.size() || shift > 63) return false;
          const uint8_t c = static_cast<uint8_t>(s_[p_++]);
          len |= static_cast<uint64_t>(c & 0x7F) << shift;
          shift += 7;
          if ((c & 0x80) == 0) break;
        }
        if (len > s_.size() - p_) return false;
        p_ += len;
        return true;
      }
      case 9: {
        if (p_ >= s_.size()) return false;
        const uint8_t h = static_cast<uint8_t>(s_[p_++]);
        uint64_t n = h >> 4;
        if (n == 15) {
          n = 0;
          int shift = 0;
          for (;;) {
            if (p_ >= s_.size() || shift > 63) return false;
            const uint8_t c = static_cast<uint8_t>(s_[p_++]);
            n |= static_cast<uint64_t>(c & 0x7F) << shift;
            shift += 7;
            if ((c & 0x80) == 0) break;
          }
        }
        const uint8_t et = h & 0x0F;
        for (uint64_t i = 0; i < n; ++i) {
          if (et == 1 || et == 2) {
            if (++p_ > s_.size()) return false;
          } else if (!ValueOf(et, depth + 1)) {
            return false;
          }
        }
        return true;
      }
      case 12:
        return Struct(depth + 1);
      default:
        return false;
    }
  }
  std::string_view s_;
  size_t p_ = 0;
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "parquet_writer_fuzz: %s\n", what);
    std::abort();
  }
}

// Leaf columns under `c` (1 for a scalar); checks group and list shapes on the way.
size_t Leaves(const lakehose::ParquetColumn& c, int depth) {
  Check(depth <= lakehose::kMaxParquetNativeDepth + 1, "nested deeper than the limit");
  if (c.type == lakehose::ParquetType::kList) {
    Check(c.children.size() == 1 && c.children[0].name == "element", "a list's element");
    return Leaves(c.children[0], depth + 1);
  }
  if (c.type != lakehose::ParquetType::kStruct) {
    Check(c.children.empty(), "a scalar with children");
    return 1;
  }
  Check(!c.children.empty(), "an empty group");
  std::set<std::string> names;
  size_t n = 0;
  for (const auto& child : c.children) {
    Check(names.insert(child.name).second, "duplicate member in a group");
    n += Leaves(child, depth + 1);
  }
  return n;
}

// A declared column: a scalar, or with `nested` (NestedEncoding::kNative) and above depth
// 3 a STRUCT of one or two members or a LIST, as the Iceberg writer declares them (a
// field id on every column).
lakehose::ParquetColumn DeclaredColumn(Bytes& b, std::string name, int depth, bool nested,
                                       int* next_id) {
  lakehose::ParquetColumn c;
  c.name = std::move(name);
  c.field_id = (*next_id)++;
  const int kind = nested && depth < 3 ? b.Next() % 4 : 0;
  if (kind == 1) {
    c.type = lakehose::ParquetType::kStruct;
    const int members = 1 + b.Next() % 2;
    for (int i = 0; i < members; ++i) {
      std::string member = kNames[b.Next() % 9];
      if (i == 1 && member == c.children[0].name) break;
      c.children.push_back(DeclaredColumn(b, member, depth + 1, nested, next_id));
    }
    return c;
  }
  if (kind == 2) {
    c.type = lakehose::ParquetType::kList;
    c.children.push_back(DeclaredColumn(b, "element", depth + 1, nested, next_id));
    return c;
  }
  c.type = static_cast<lakehose::ParquetType>(b.Next() % 9);  // the scalar types
  c.scale = b.Next() % 39;
  c.required = depth == 0 && (b.Next() & 1);  // nested columns are OPTIONAL
  return c;
}

// Leaves with a field id under `c`.
size_t LeavesWithIds(const lakehose::ParquetColumn& c) {
  if (c.children.empty()) return c.field_id >= 0 ? 1 : 0;
  size_t n = 0;
  for (const auto& child : c.children) n += LeavesWithIds(child);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes b(data, size);
  lakehose::ParquetOptions o;
  const uint8_t opts = b.Next();
  o.codec = static_cast<lakehose::ParquetCodec>(opts & 3);
  o.row_group_rows = 1 + b.Next() % 16;
  o.page_bytes = 1 + b.Next() * 8;
  o.wide_numbers = (opts & 4) ? lakehose::WideNumbers::kString : lakehose::WideNumbers::kDouble;
  o.max_dictionary_entries = b.Next() % 8;
  const bool declared = opts & 8;
  const bool garbage = opts & 16;
  const bool native = opts & 32;
  const bool deep = opts & 64;
  if (native) o.nested = lakehose::NestedEncoding::kNative;
  if (declared) {
    const int n = 1 + b.Next() % 4;
    std::set<std::string> used;
    int next_id = 1;
    for (int i = 0; i < n; ++i) {
      std::string name = kNames[b.Next() % 9];
      if (!used.insert(name).second) continue;
      o.schema.push_back(DeclaredColumn(b, std::move(name), 0, native, &next_id));
    }
  }
  o.key_value_metadata = {{"lakehose.pipeline", "fuzz"}};
  int deep_levels = 0;
  bool deep_objects = false;
  if (deep) {
    deep_levels = b.Next() << 8;
    deep_levels |= b.Next();
    deep_objects = b.Next() & 1;
  }

  std::vector<std::string> lines;
  const int records = b.Next() % 40;
  for (int r = 0; r < records && !b.Done(); ++r) {
    if (garbage && b.Next() % 8 == 0) {
      lines.emplace_back(b.Rest(b.Next() % 64));
      continue;
    }
    std::string line = "{";
    const int members = b.Next() % 7;
    std::set<std::string> used;
    for (int m = 0; m < members; ++m) {
      std::string name = kNames[b.Next() % 9];
      if (!used.insert(name).second) continue;
      if (line.size() > 1) line.push_back(',');
      line.push_back('"');
      line.append(name == "é" ? "\\u00e9" : name);
      line.append("\":");
      Value(b, 0, native, &line);
    }
    if (r == 0 && deep_levels > 0) {  // {"deep": [[[...1...]]]} or {"k":{"k":...}}
      if (line.size() > 1) line.push_back(',');
      line.append("\"deep\":");
      for (int i = 0; i < deep_levels; ++i) line.append(deep_objects ? "{\"k\":" : "[");
      line.push_back('1');
      for (int i = 0; i < deep_levels; ++i) line.push_back(deep_objects ? '}' : ']');
    }
    line.push_back('}');
    lines.push_back(std::move(line));
  }
  std::vector<std::string_view> views(lines.begin(), lines.end());
  auto f = lakehose::EncodeParquetFile(views, o);
  bool all_storable = true;
  for (std::string_view line : views)
    all_storable = all_storable && lakehose::CheckParquetRecord(line, o).ok();
  if (!garbage) Check(f.ok() == all_storable, "CheckParquetRecord disagrees with the encoder");
  if (!declared && !garbage && deep_levels <= lakehose::kMaxParquetJsonDepth)
    Check(f.ok(), "valid records with an inferred schema failed to encode");
  std::vector<lakehose::ParquetRejectedRecord> rejected;
  auto isolated = lakehose::EncodeParquetFileIsolating(views, o, &rejected);
  Check(isolated.ok(), "EncodeParquetFileIsolating failed with valid options");
  Check(
      isolated->rows + static_cast<int64_t>(rejected.size()) == static_cast<int64_t>(views.size()),
      "records lost by EncodeParquetFileIsolating");
  Check(f.ok() == rejected.empty(), "records left out of an object that encodes");
  if (!f.ok()) {
    Check(f.status().code() == absl::StatusCode::kInvalidArgument,
          "an error that is not INVALID_ARGUMENT");
    return 0;
  }
  const std::string& bytes = f->bytes;
  Check(bytes.size() >= 12 && bytes.compare(0, 4, "PAR1") == 0 &&
            bytes.compare(bytes.size() - 4, 4, "PAR1") == 0,
        "framing");
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[bytes.size() - 8 + i])) << (8 * i);
  Check(len <= bytes.size() - 12, "footer length");
  std::string_view footer(bytes.data() + bytes.size() - 8 - len, len);
  CompactSkipper skip(footer);
  Check(skip.Struct(0) && skip.pos() == footer.size(),
        "footer is not one well-formed compact struct");
  Check(f->rows == static_cast<int64_t>(lines.size()), "row count");
  std::set<std::string> names;
  size_t leaves = 0;
  for (const auto& c : f->columns) {
    Check(names.insert(c.name).second, "duplicate column");
    Check(native || c.children.empty(), "a group without nested: native");
    leaves += Leaves(c, 1);
  }
  Check(f->chunks.size() == leaves * static_cast<size_t>(f->row_groups), "chunks per row group");
  size_t with_ids = 0;
  for (const auto& c : f->columns) with_ids += LeavesWithIds(c);
  Check(f->field_metrics.size() == with_ids, "metrics for every leaf with a field id");
  int64_t metrics_bytes = 0, chunk_bytes = 0;
  for (const auto& m : f->field_metrics) {
    Check(m.value_count >= m.null_count && m.null_count >= 0, "metrics counts");
    Check(m.lower_bound.has_value() == m.upper_bound.has_value() || m.lower_bound.has_value(),
          "an upper bound without a lower one");
    metrics_bytes += m.column_size;
  }
  for (const auto& c : f->chunks) chunk_bytes += c.compressed_bytes;
  Check(with_ids != leaves || metrics_bytes == chunk_bytes, "column sizes are the chunks' sizes");
  auto again = lakehose::EncodeParquet(views, o);
  Check(again.ok() && *again == bytes, "not deterministic");
  return 0;
}
