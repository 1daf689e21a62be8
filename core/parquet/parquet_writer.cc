#include "core/parquet/parquet_writer.h"

#include <snappy.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "core/base/base64.h"
#include "core/base/compress.h"
#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/string_view_hash.h"
#include "core/base/strings.h"
#include "core/parquet/thrift_compact.h"

namespace lakehose {
namespace {

using Int128 = __int128;

// ---------------------------------------------------------------------------------
// Parquet enums (parquet.thrift).
enum PhysicalType : int32_t {
  kBoolean = 0,
  kInt64Type = 2,
  kDoubleType = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7
};
enum Encoding : int32_t { kPlain = 0, kRle = 3, kRleDictionary = 8 };
enum PageType : int32_t { kDataPage = 0, kDictionaryPage = 2 };
enum ConvertedType : int32_t { kUtf8 = 0, kListCt = 3, kDecimalCt = 5, kTimestampMillisCt = 9 };
constexpr int32_t kRepetitionRequired = 0;
constexpr int32_t kRepetitionOptional = 1;
constexpr int32_t kRepetitionRepeated = 2;
constexpr int kDecimalPrecision = 38;
constexpr int kMaxInferredScale = 18;

int32_t CodecId(ParquetCodec c) {
  switch (c) {
    case ParquetCodec::kNone:
      return 0;
    case ParquetCodec::kSnappy:
      return 1;
    case ParquetCodec::kGzip:
      return 2;
    case ParquetCodec::kZstd:
      return 6;
  }
  return 0;
}

// ---------------------------------------------------------------------------------
// A minimal reader for the top level of one JSON object line. Member values keep their
// text: strings unescaped, numbers as their exact token, objects/arrays as raw JSON.

struct Value {
  enum Kind : uint8_t { kAbsent, kNull, kFalse, kTrue, kNumber, kString, kNested };
  Kind kind = kAbsent;
  std::string_view text;
};

// One JSON value as a tree (NestedEncoding::kNative). `value` is what a flat column
// would see (kNested with the raw text for objects and arrays); `expanded` objects and
// arrays also hold their members/elements in `children` (object member names in
// `names`, same order; a repeated name is kept twice, the last one wins where read).
struct JsonNode {
  Value value;
  bool object = false;    // kNested: '{' rather than '['
  bool expanded = false;  // children parsed (false below kMaxParquetNativeDepth)
  std::vector<std::string_view> names;
  std::vector<JsonNode> children;
};

class LineParser {
 public:
  LineParser(std::string_view s, std::deque<std::string>* arena) : s_(s), arena_(arena) {}

  // Calls member(name, value) for each member.
  template <typename F>
  absl::Status ParseObject(F&& member) {
    SkipWs();
    if (!Eat('{')) return Fail("a line is not a JSON object");
    SkipWs();
    if (!Eat('}')) {
      for (;;) {
        SkipWs();
        std::string_view name;
        if (Peek() != '"') return Fail("expected a member name");
        RETURN_IF_ERROR(ParseString(&name));
        SkipWs();
        if (!Eat(':')) return Fail("expected ':'");
        SkipWs();
        Value v;
        RETURN_IF_ERROR(ParseValue(&v));
        member(name, v);
        SkipWs();
        if (Eat(',')) continue;
        if (Eat('}')) break;
        return Fail("expected ',' or '}'");
      }
    }
    SkipWs();
    if (pos_ != s_.size()) return Fail("trailing characters after the object");
    return absl::OkStatus();
  }

  // The whole input as one JSON value. Objects and arrays at depth <= max_depth (the
  // value itself is depth 1) are expanded; deeper ones keep only their raw text, so the
  // recursion is bounded by max_depth.
  absl::Status ParseTree(int max_depth, JsonNode* out) {
    SkipWs();
    RETURN_IF_ERROR(ParseNode(1, max_depth, out));
    SkipWs();
    if (pos_ != s_.size()) return Fail("trailing characters after a value");
    return absl::OkStatus();
  }

 private:
  absl::Status ParseNode(int depth, int max_depth, JsonNode* node) {
    const char c = Peek();
    node->object = c == '{';
    if ((c != '{' && c != '[') || depth > max_depth) return ParseValue(&node->value);
    const size_t start = pos_;
    const char close = node->object ? '}' : ']';
    node->value.kind = Value::kNested;
    node->expanded = true;
    ++pos_;
    SkipWs();
    if (!Eat(close)) {
      for (;;) {
        SkipWs();
        if (node->object) {
          std::string_view name;
          if (Peek() != '"') return Fail("expected a member name");
          RETURN_IF_ERROR(ParseString(&name));
          SkipWs();
          if (!Eat(':')) return Fail("expected ':'");
          SkipWs();
          node->names.push_back(name);
        }
        node->children.emplace_back();
        RETURN_IF_ERROR(ParseNode(depth + 1, max_depth, &node->children.back()));
        SkipWs();
        if (Eat(',')) continue;
        if (Eat(close)) break;
        return Fail("expected ',' or a closing bracket");
      }
    }
    node->value.text = s_.substr(start, pos_ - start);
    return absl::OkStatus();
  }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c || pos_ >= s_.size()) return false;
    ++pos_;
    return true;
  }
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  absl::Status Fail(std::string_view what) const {
    return absl::InvalidArgumentError(StrCat("parquet: ", what, " at byte ", pos_));
  }

  absl::Status ParseValue(Value* v) {
    const size_t start = pos_;
    const char c = Peek();
    if (c == '"') {
      v->kind = Value::kString;
      return ParseString(&v->text);
    }
    if (c == '{' || c == '[') {
      RETURN_IF_ERROR(SkipNested());
      v->kind = Value::kNested;
      v->text = s_.substr(start, pos_ - start);
      return absl::OkStatus();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      RETURN_IF_ERROR(SkipNumber());
      v->kind = Value::kNumber;
      v->text = s_.substr(start, pos_ - start);
      return absl::OkStatus();
    }
    if (s_.substr(pos_, 4) == "null") {
      v->kind = Value::kNull;
      pos_ += 4;
      return absl::OkStatus();
    }
    if (s_.substr(pos_, 4) == "true") {
      v->kind = Value::kTrue;
      pos_ += 4;
      return absl::OkStatus();
    }
    if (s_.substr(pos_, 5) == "false") {
      v->kind = Value::kFalse;
      pos_ += 5;
      return absl::OkStatus();
    }
    return Fail("expected a JSON value");
  }

  absl::Status SkipNumber() {
    Eat('-');
    if (Eat('0')) {
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9' && pos_ < s_.size()) ++pos_;
    } else {
      return Fail("bad number");
    }
    if (Eat('.')) {
      if (!(Peek() >= '0' && Peek() <= '9')) return Fail("bad number");
      while (Peek() >= '0' && Peek() <= '9' && pos_ < s_.size()) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!(Peek() >= '0' && Peek() <= '9')) return Fail("bad number");
      while (Peek() >= '0' && Peek() <= '9' && pos_ < s_.size()) ++pos_;
    }
    return absl::OkStatus();
  }

  // Skips an object or array, checking its structure (strings, numbers, literals).
  absl::Status SkipNested() {
    std::vector<char> stack;  // expected closers
    do {
      const char c = Peek();
      if (pos_ >= s_.size()) return Fail("unterminated object or array");
      if (c == '{' || c == '[') {
        if (stack.size() >= kMaxParquetJsonDepth) return Fail("nesting too deep");
        stack.push_back(c == '{' ? '}' : ']');
        ++pos_;
        SkipWs();
        if (Eat(stack.back())) {
          stack.pop_back();
        } else {
          if (stack.back() == '}') {
            std::string_view ignored;
            if (Peek() != '"') return Fail("expected a member name");
            RETURN_IF_ERROR(ParseString(&ignored, /*keep=*/false));
            SkipWs();
            if (!Eat(':')) return Fail("expected ':'");
            SkipWs();
          }
          continue;  // the first element
        }
      } else {
        Value ignored;
        if (c == '"') {
          RETURN_IF_ERROR(ParseString(&ignored.text, /*keep=*/false));
        } else {
          RETURN_IF_ERROR(ParseValue(&ignored));
        }
      }
      // After an element: ',' and the next one, or closers.
      for (;;) {
        SkipWs();
        if (stack.empty()) break;
        if (Eat(stack.back())) {
          stack.pop_back();
          continue;
        }
        if (!Eat(',')) return Fail("expected ',' or a closing bracket");
        SkipWs();
        if (stack.back() == '}') {
          std::string_view ignored;
          if (Peek() != '"') return Fail("expected a member name");
          RETURN_IF_ERROR(ParseString(&ignored, /*keep=*/false));
          SkipWs();
          if (!Eat(':')) return Fail("expected ':'");
          SkipWs();
        }
        break;
      }
    } while (!stack.empty());
    return absl::OkStatus();
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = Hex(s_[pos_ + i]);
      if (h < 0) return false;
      v = v * 16 + h;
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  // At '"': the unescaped string (a view of the line when it has no escapes).
  absl::Status ParseString(std::string_view* out, bool keep = true) {
    ++pos_;
    const size_t start = pos_;
    bool high = false;
    while (pos_ < s_.size() && s_[pos_] != '"' && s_[pos_] != '\\') {
      if (static_cast<unsigned char>(s_[pos_]) < 0x20) return Fail("control character in a string");
      high |= static_cast<unsigned char>(s_[pos_]) >= 0x80;
      ++pos_;
    }
    if (pos_ >= s_.size()) return Fail("unterminated string");
    if (s_[pos_] == '"') {
      *out = s_.substr(start, pos_ - start);
      ++pos_;
      if (high && !IsValidUtf8(*out)) return Fail("invalid UTF-8 in a string");
      return absl::OkStatus();
    }
    std::string tmp(s_.substr(start, pos_ - start));
    while (pos_ < s_.size() && s_[pos_] != '"') {
      const char c = s_[pos_];
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        high |= static_cast<unsigned char>(c) >= 0x80;
        tmp.push_back(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          tmp.push_back('"');
          break;
        case '\\':
          tmp.push_back('\\');
          break;
        case '/':
          tmp.push_back('/');
          break;
        case 'b':
          tmp.push_back('\b');
          break;
        case 'f':
          tmp.push_back('\f');
          break;
        case 'n':
          tmp.push_back('\n');
          break;
        case 'r':
          tmp.push_back('\r');
          break;
        case 't':
          tmp.push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return Fail("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t lo;
            if (s_.substr(pos_, 2) != "\\u") return Fail("lone surrogate");
            pos_ += 2;
            if (!Hex4(&lo) || lo < 0xDC00 || lo >= 0xE000) return Fail("lone surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Fail("lone surrogate");
          }
          if (cp < 0x80) {
            tmp.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            tmp.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else if (cp < 0x10000) {
            tmp.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            tmp.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            tmp.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            tmp.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            tmp.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    if (pos_ >= s_.size()) return Fail("unterminated string");
    ++pos_;
    if (high && !IsValidUtf8(tmp)) return Fail("invalid UTF-8 in a string");
    if (keep) {
      arena_->push_back(std::move(tmp));
      *out = arena_->back();
    }
    return absl::OkStatus();
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::deque<std::string>* arena_;
};

// ---------------------------------------------------------------------------------
// Decimal text.

// A JSON number token as digits * 10^exponent (digits without leading or trailing zeros;
// "0" for zero).
struct Decimal {
  bool negative = false;
  std::string_view int_part, frac_part;
  int64_t exp10 = 0;  // the token's exponent
};

std::optional<Decimal> SplitNumber(std::string_view t) {
  Decimal d;
  size_t i = 0;
  if (i < t.size() && t[i] == '-') {
    d.negative = true;
    ++i;
  }
  const size_t int_start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  d.int_part = t.substr(int_start, i - int_start);
  if (d.int_part.empty()) return std::nullopt;
  if (i < t.size() && t[i] == '.') {
    const size_t f = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    d.frac_part = t.substr(f, i - f);
    if (d.frac_part.empty()) return std::nullopt;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
    if (i >= t.size()) return std::nullopt;
    int64_t e = 0;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      if (e < 100000000) e = e * 10 + (t[i] - '0');
    }
    d.exp10 = neg ? -e : e;
  }
  if (i != t.size()) return std::nullopt;
  return d;
}

// Significant digits and the power of ten of the last one: value = digits * 10^pow.
struct Significand {
  bool negative = false;
  std::string digits;  // no leading/trailing zeros; empty means zero
  int64_t pow = 0;
};

Significand Normalize(const Decimal& d) {
  Significand s;
  s.negative = d.negative;
  std::string all(d.int_part);
  all.append(d.frac_part);
  s.pow = d.exp10 - static_cast<int64_t>(d.frac_part.size());
  size_t lead = 0;
  while (lead < all.size() && all[lead] == '0') ++lead;
  all.erase(0, lead);
  while (!all.empty() && all.back() == '0') {
    all.pop_back();
    ++s.pow;
  }
  s.digits = std::move(all);
  if (s.digits.empty()) {
    s.pow = 0;
    s.negative = false;
  }
  return s;
}

// The smallest scale that represents the number exactly.
int64_t NeededScale(const Significand& s) { return s.pow < 0 ? -s.pow : 0; }

// digits * 10^(pow + scale) as a signed 128-bit integer if it has at most 38 digits.
std::optional<Int128> Unscaled(const Significand& s, int scale) {
  if (s.digits.empty()) return Int128{0};
  const int64_t shift = s.pow + scale;
  if (shift < 0) return std::nullopt;  // would lose digits
  if (static_cast<int64_t>(s.digits.size()) + shift > kDecimalPrecision) return std::nullopt;
  Int128 v = 0;
  for (char c : s.digits) v = v * 10 + (c - '0');
  for (int64_t i = 0; i < shift; ++i) v *= 10;
  return s.negative ? -v : v;
}

std::optional<int64_t> ToInt64(const Significand& s) {
  if (s.digits.empty()) return 0;
  if (s.pow < 0 || static_cast<int64_t>(s.digits.size()) + s.pow > 19) return std::nullopt;
  std::optional<Int128> v = Unscaled(s, 0);
  if (!v) return std::nullopt;
  if (*v > static_cast<Int128>(INT64_MAX) || *v < static_cast<Int128>(INT64_MIN))
    return std::nullopt;
  return static_cast<int64_t>(*v);
}

// The common case without allocation: an integer token of at most 18 digits.
std::optional<int64_t> FastInt64(std::string_view t) {
  const size_t digits = t.size() - (!t.empty() && t[0] == '-');
  if (digits == 0 || digits > 18) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

std::optional<Significand> NumberText(std::string_view t) {
  std::optional<Decimal> d = SplitNumber(t);
  if (!d) return std::nullopt;
  return Normalize(*d);
}

// ---------------------------------------------------------------------------------
// Inference.

struct ColumnStats {
  int64_t strings = 0, numbers = 0, bools = 0, nested = 0, nulls = 0;
  bool all_int64 = true;
  int64_t max_scale = 0;
  bool decimal_fits = true;
};

ParquetColumn Infer(const std::string& name, const ColumnStats& st, WideNumbers wide) {
  ParquetColumn c;
  c.name = name;
  const int64_t kinds = (st.strings > 0) + (st.numbers > 0) + (st.bools > 0) + (st.nested > 0);
  if (kinds != 1) {
    c.type = ParquetType::kString;  // mixed, or always null
  } else if (st.bools > 0) {
    c.type = ParquetType::kBool;
  } else if (st.nested > 0) {
    c.type = ParquetType::kJson;
  } else if (st.strings > 0) {
    c.type = ParquetType::kString;
  } else if (st.all_int64) {
    c.type = ParquetType::kInt64;
  } else if (st.decimal_fits && st.max_scale <= kMaxInferredScale) {
    c.type = ParquetType::kDecimal;
    c.scale = static_cast<int>(st.max_scale);
  } else {
    c.type = wide == WideNumbers::kDouble ? ParquetType::kDouble : ParquetType::kString;
  }
  return c;
}

// What one position of a nested value (NestedEncoding::kNative) held across the records:
// kinds and number facts as ColumnStats, the union of object members, array elements.
struct NestedStats {
  int64_t strings = 0, numbers = 0, bools = 0, objects = 0, arrays = 0;
  bool all_int64 = true;
  int64_t max_scale = 0;
  // The most digits left of the point of a nonzero non-FastInt64 number: with
  // max_scale, decides DECIMAL(38, max_scale) in one pass (digits + pow + scale <= 38).
  int64_t max_int_digits = 0;
  std::vector<std::string> names;  // object members, in order of first appearance
  std::vector<std::unique_ptr<NestedStats>> members;
  absl::flat_hash_map<std::string, size_t, StringViewHash, std::equal_to<>> index;
  std::unique_ptr<NestedStats> element;  // all elements of all arrays

  int Kinds() const {
    return (strings > 0) + (numbers > 0) + (bools > 0) + (objects > 0) + (arrays > 0);
  }
};

// For each member of object `n`, whether it is the last one of its name (JSON.parse
// keeps the last of repeated names).
std::vector<bool> LastOfName(const JsonNode& n) {
  std::vector<bool> last(n.names.size(), true);
  if (n.names.size() < 2) return last;
  absl::flat_hash_map<std::string_view, size_t, StringViewHash> seen;
  for (size_t i = n.names.size(); i-- > 0;)
    if (!seen.try_emplace(n.names[i], i).second) last[i] = false;
  return last;
}

absl::Status Accumulate(const JsonNode& n, NestedStats* st) {
  switch (n.value.kind) {
    case Value::kAbsent:
    case Value::kNull:
      return absl::OkStatus();
    case Value::kTrue:
    case Value::kFalse:
      ++st->bools;
      return absl::OkStatus();
    case Value::kString:
      ++st->strings;
      return absl::OkStatus();
    case Value::kNumber: {
      ++st->numbers;
      if (FastInt64(n.value.text)) return absl::OkStatus();  // fits every number type
      std::optional<Significand> s = NumberText(n.value.text);
      if (!s) return absl::InvalidArgumentError("parquet: bad number");
      if (st->all_int64 && !ToInt64(*s)) st->all_int64 = false;
      st->max_scale = std::max(st->max_scale, NeededScale(*s));
      if (!s->digits.empty())
        st->max_int_digits =
            std::max(st->max_int_digits, static_cast<int64_t>(s->digits.size()) + s->pow);
      return absl::OkStatus();
    }
    case Value::kNested:
      break;
  }
  if (!n.object) {
    ++st->arrays;
    if (!n.expanded || n.children.empty()) return absl::OkStatus();
    if (!st->element) st->element = std::make_unique<NestedStats>();
    for (const JsonNode& e : n.children) RETURN_IF_ERROR(Accumulate(e, st->element.get()));
    return absl::OkStatus();
  }
  ++st->objects;
  if (!n.expanded) return absl::OkStatus();
  const std::vector<bool> last = LastOfName(n);
  for (size_t i = 0; i < n.children.size(); ++i) {
    // A repeated name keeps its first position and its last value, as JSON.parse does.
    auto [it, inserted] = st->index.try_emplace(n.names[i], st->members.size());
    if (inserted) {
      st->names.emplace_back(n.names[i]);
      st->members.push_back(std::make_unique<NestedStats>());
    }
    if (last[i]) RETURN_IF_ERROR(Accumulate(n.children[i], st->members[it->second].get()));
  }
  return absl::OkStatus();
}

// The column for one position (see "Nested values" in the header); `depth` is 1 for a
// top-level member.
ParquetColumn BuildNested(const NestedStats& st, std::string name, int depth, WideNumbers wide) {
  if (st.Kinds() == 1 && depth <= kMaxParquetNativeDepth) {
    if (st.objects > 0 && !st.names.empty()) {
      ParquetColumn c;
      c.name = std::move(name);
      c.type = ParquetType::kStruct;
      c.children.reserve(st.names.size());
      for (size_t i = 0; i < st.names.size(); ++i)
        c.children.push_back(BuildNested(*st.members[i], st.names[i], depth + 1, wide));
      return c;
    }
    if (st.arrays > 0) {
      const NestedStats empty;
      const NestedStats& e = st.element ? *st.element : empty;
      if (e.Kinds() <= 1) {  // else: elements of mixed kinds, the array is JSON text
        ParquetColumn c;
        c.name = std::move(name);
        c.type = ParquetType::kList;
        c.children.push_back(BuildNested(e, "element", depth + 1, wide));
        return c;
      }
    }
  }
  ColumnStats cs;
  cs.strings = st.strings;
  cs.numbers = st.numbers;
  cs.bools = st.bools;
  cs.nested = st.objects + st.arrays;
  cs.all_int64 = st.all_int64;
  cs.max_scale = st.max_scale;
  cs.decimal_fits =
      st.max_scale <= kMaxInferredScale && st.max_int_digits + st.max_scale <= kDecimalPrecision;
  return Infer(name, cs, wide);
}

// ---------------------------------------------------------------------------------
// Encodings.

void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
std::string Int64Bytes(int64_t v) {
  std::string s;
  PutU64(static_cast<uint64_t>(v), &s);
  return s;
}
std::string DoubleBytes(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  std::string s;
  PutU64(bits, &s);
  return s;
}
std::string Int128BigEndian(Int128 v) {
  std::string s(16, '\0');
  unsigned __int128 u = static_cast<unsigned __int128>(v);
  for (int i = 15; i >= 0; --i) {
    s[i] = static_cast<char>(u & 0xFF);
    u >>= 8;
  }
  return s;
}

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value > 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

}  // namespace

namespace parquet_internal {

// RLE / bit-packed hybrid (Parquet "RLE" encoding) of `values`, each < 2^width.
void AppendRleHybrid(const std::vector<uint32_t>& values, int width, std::string* out) {
  const size_t n = values.size();
  const int value_bytes = (width + 7) / 8;
  size_t i = 0;
  auto run_at = [&](size_t j) {
    size_t k = j;
    while (k < n && values[k] == values[j]) ++k;
    return k - j;
  };
  while (i < n) {
    const size_t run = run_at(i);
    if (run >= 8) {
      ThriftCompactWriter::AppendVarint(static_cast<uint64_t>(run) << 1, out);
      for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>(values[i] >> (8 * b)));
      i += run;
      continue;
    }
    // Bit-packed groups of 8 until a long run starts at a group boundary (or the end,
    // where the last group is padded with zeros; the page's value count says where the
    // data stops).
    size_t j = i;
    do {
      j += 8;
    } while (j < n && run_at(j) < 8);
    const size_t groups = (j - i) / 8;
    ThriftCompactWriter::AppendVarint((static_cast<uint64_t>(groups) << 1) | 1, out);
    uint64_t acc = 0;
    int bits = 0;
    for (size_t k = i; k < j; ++k) {
      const uint64_t v = k < n ? values[k] : 0;
      acc |= v << bits;
      bits += width;
      while (bits >= 8) {
        out->push_back(static_cast<char>(acc & 0xFF));
        acc >>= 8;
        bits -= 8;
      }
    }
    if (bits > 0)
      out->push_back(static_cast<char>(acc & 0xFF));  // not reached: 8 * width bits per group
    i = std::min(j, n);
  }
}

}  // namespace parquet_internal

namespace {

using parquet_internal::AppendRleHybrid;

absl::StatusOr<std::string> CompressPage(ParquetCodec codec, int level, std::string_view page) {
  switch (codec) {
    case ParquetCodec::kNone:
      return std::string(page);
    case ParquetCodec::kSnappy: {
      std::string out;
      snappy::Compress(page.data(), page.size(), &out);
      return out;
    }
    case ParquetCodec::kGzip:
      return Compress(Compression::kGzip, level, page);
    case ParquetCodec::kZstd:
      return Compress(Compression::kZstd, level, page);
  }
  return absl::InternalError("parquet: unknown codec");
}

// One column chunk's values, converted to the column's physical type. Only non-null
// values are stored; `defined` has one definition level per entry (a flat column: one
// entry per row, 1 for a value), `rep` the repetition levels of a leaf under a LIST
// (empty otherwise).
struct ChunkValues {
  std::vector<uint8_t> defined;
  std::vector<uint8_t> rep;
  std::vector<std::string_view> bytes;  // BYTE_ARRAY
  std::vector<int64_t> ints;            // INT64
  std::vector<double> doubles;          // DOUBLE
  std::vector<Int128> decimals;         // FIXED_LEN_BYTE_ARRAY(16)
  std::vector<uint8_t> bools;           // BOOLEAN
};

bool IsByteArray(ParquetType t) {
  return t == ParquetType::kString || t == ParquetType::kJson || t == ParquetType::kBinary;
}

PhysicalType Physical(ParquetType t) {
  switch (t) {
    case ParquetType::kString:
    case ParquetType::kJson:
    case ParquetType::kBinary:
      return kByteArray;
    case ParquetType::kInt64:
    case ParquetType::kTimestampMillis:
      return kInt64Type;
    case ParquetType::kDecimal:
      return kFixedLenByteArray;
    case ParquetType::kDouble:
      return kDoubleType;
    case ParquetType::kBool:
      return kBoolean;
    case ParquetType::kStruct:
    case ParquetType::kList:
      break;  // groups have no physical type
  }
  return kByteArray;
}

class Converter {
 public:
  Converter(const ParquetColumn& col, std::deque<std::string>* arena) : col_(col), arena_(arena) {}

  absl::Status Add(const Value& v, int64_t row, ChunkValues* out) {
    if (v.kind == Value::kAbsent || v.kind == Value::kNull) {
      if (col_.required)
        return absl::InvalidArgumentError(StrCat(
            "parquet: record ", row, " has no value for required column \"", col_.name, "\""));
      out->defined.push_back(0);
      return absl::OkStatus();
    }
    out->defined.push_back(1);
    return AddPresent(v, row, out);
  }

  // A non-null value: appends it without its level (the caller records those).
  absl::Status AddPresent(const Value& v, int64_t row, ChunkValues* out) {
    switch (col_.type) {
      case ParquetType::kString:
        out->bytes.push_back(v.text);  // strings as is; other kinds as their JSON text
        if (v.kind == Value::kTrue) out->bytes.back() = "true";
        if (v.kind == Value::kFalse) out->bytes.back() = "false";
        return absl::OkStatus();
      case ParquetType::kJson:
        if (v.kind == Value::kString) {
          std::string quoted;
          AppendValidJsonString(v.text, &quoted);
          arena_->push_back(std::move(quoted));
          out->bytes.push_back(arena_->back());
        } else {
          out->bytes.push_back(v.kind == Value::kTrue    ? "true"
                               : v.kind == Value::kFalse ? "false"
                                                         : v.text);
        }
        return absl::OkStatus();
      case ParquetType::kBinary: {
        if (v.kind != Value::kString) return Mismatch(v, row);
        std::optional<std::string> raw = Base64Decode(v.text);
        if (!raw) return Mismatch(v, row);
        arena_->push_back(*std::move(raw));
        out->bytes.push_back(arena_->back());
        return absl::OkStatus();
      }
      case ParquetType::kInt64:
      case ParquetType::kTimestampMillis: {
        if (std::optional<int64_t> fast = FastInt64(v.text); fast && v.kind != Value::kNull) {
          out->ints.push_back(*fast);
          return absl::OkStatus();
        }
        std::optional<Significand> s = Number(v);
        std::optional<int64_t> i = s ? ToInt64(*s) : std::nullopt;
        if (!i) return Mismatch(v, row);
        out->ints.push_back(*i);
        return absl::OkStatus();
      }
      case ParquetType::kDecimal: {
        std::optional<Significand> s = Number(v);
        std::optional<Int128> d = s ? Unscaled(*s, col_.scale) : std::nullopt;
        if (!d) return Mismatch(v, row);
        out->decimals.push_back(*d);
        return absl::OkStatus();
      }
      case ParquetType::kDouble: {
        if (!Number(v)) return Mismatch(v, row);
        double d = 0;
        auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);
        if (end != v.text.data() + v.text.size() && ec != std::errc::result_out_of_range)
          return Mismatch(v, row);
        if (ec == std::errc::result_out_of_range) {
          // Beyond double's range: +-inf for huge, +-0 for tiny, as strtod gives.
          std::string copy(v.text);
          d = std::strtod(copy.c_str(), nullptr);
        }
        out->doubles.push_back(d);
        return absl::OkStatus();
      }
      case ParquetType::kBool:
        if (v.kind != Value::kTrue && v.kind != Value::kFalse) return Mismatch(v, row);
        out->bools.push_back(v.kind == Value::kTrue);
        return absl::OkStatus();
      case ParquetType::kStruct:
      case ParquetType::kList:
        return absl::InternalError("parquet: a group column has no values of its own");
    }
    return absl::OkStatus();
  }

 private:
  // A number token, or (numbers: string pipelines) a string holding one.
  static std::optional<Significand> Number(const Value& v) {
    if (v.kind != Value::kNumber && v.kind != Value::kString) return std::nullopt;
    return NumberText(v.text);
  }
  absl::Status Mismatch(const Value& v, int64_t row) const {
    return absl::InvalidArgumentError(StrCat("parquet: record ", row, ": column \"", col_.name,
                                             "\" (", ParquetTypeName(col_.type, col_.scale),
                                             ") cannot hold ", QuoteForMessage(v.text)));
  }

  const ParquetColumn& col_;
  std::deque<std::string>* arena_;
};

// One leaf column of the schema: a top-level scalar column, or a scalar under groups and
// lists (NestedEncoding::kNative).
struct Leaf {
  const ParquetColumn* col = nullptr;  // its type (borrowed from the file's columns)
  std::vector<std::string> path;       // path_in_schema
  std::string dotted;                  // path joined by '.'
  int max_def = 1;                     // 0: REQUIRED flat column, no definition levels
  int max_rep = 0;                     // > 0 under a LIST
  int value_def = 1;                   // the definition level of an entry that holds a value
};

Leaf FlatLeaf(const ParquetColumn& c) {
  Leaf l;
  l.col = &c;
  l.path = {c.name};
  l.dotted = c.name;
  l.max_def = c.required ? 0 : 1;
  return l;
}

struct Stats {
  bool has_min_max = false;
  std::string min, max;
  int64_t null_count = 0;
};

Stats ComputeStats(const Leaf& leaf, const ChunkValues& v) {
  const ParquetColumn& col = *leaf.col;
  Stats s;
  for (uint8_t d : v.defined) s.null_count += d != leaf.value_def;
  switch (Physical(col.type)) {
    case kByteArray:
      if (!v.bytes.empty()) {
        auto [lo, hi] = std::minmax_element(v.bytes.begin(), v.bytes.end());
        if (lo->size() <= kMaxStatisticsBytes && hi->size() <= kMaxStatisticsBytes) {
          s.has_min_max = true;
          s.min = std::string(*lo);
          s.max = std::string(*hi);
        }
      }
      break;
    case kInt64Type:
      if (!v.ints.empty()) {
        auto [lo, hi] = std::minmax_element(v.ints.begin(), v.ints.end());
        s = {true, Int64Bytes(*lo), Int64Bytes(*hi), s.null_count};
      }
      break;
    case kDoubleType:
      if (!v.doubles.empty()) {
        double lo = v.doubles[0], hi = v.doubles[0];
        for (double d : v.doubles) {
          lo = std::min(lo, d);
          hi = std::max(hi, d);
        }
        // Zeros: the spec asks for -0.0 as min and +0.0 as max.
        if (lo == 0) lo = -0.0;
        if (hi == 0) hi = 0.0;
        s = {true, DoubleBytes(lo), DoubleBytes(hi), s.null_count};
      }
      break;
    case kFixedLenByteArray:
      if (!v.decimals.empty()) {
        auto [lo, hi] = std::minmax_element(v.decimals.begin(), v.decimals.end());
        s = {true, Int128BigEndian(*lo), Int128BigEndian(*hi), s.null_count};
      }
      break;
    case kBoolean:
      if (!v.bools.empty()) {
        auto [lo, hi] = std::minmax_element(v.bools.begin(), v.bools.end());
        s = {true, std::string(1, static_cast<char>(*lo)), std::string(1, static_cast<char>(*hi)),
             s.null_count};
      }
      break;
  }
  return s;
}

// The fields of a Statistics struct (the caller opens and closes it).
void WriteStatisticsFields(const Stats& s, ThriftCompactWriter* w) {
  w->FieldI64(3, s.null_count);
  if (s.has_min_max) {
    w->FieldBinary(5, s.max);  // max_value
    w->FieldBinary(6, s.min);  // min_value
  }
}

struct ChunkMeta {
  ParquetType type;
  std::string name;  // dotted path
  std::vector<std::string> path;
  bool dictionary = false;
  int64_t num_values = 0;
  int64_t data_pages = 0;
  int64_t uncompressed = 0, compressed = 0;
  int64_t data_page_offset = 0, dictionary_page_offset = -1, start = 0;
  Stats stats;
};

struct RowGroupMeta {
  std::vector<ChunkMeta> chunks;
  int64_t rows = 0;
};

class FileBuilder {
 public:
  explicit FileBuilder(const ParquetOptions& o) : o_(o) { out_ = "PAR1"; }

  absl::Status WriteChunk(const Leaf& leaf, const ChunkValues& v, ChunkMeta* m) {
    const ParquetColumn& col = *leaf.col;
    m->type = col.type;
    m->name = leaf.dotted;
    m->path = leaf.path;
    m->num_values = static_cast<int64_t>(v.defined.size());
    m->start = static_cast<int64_t>(out_.size());
    m->stats = ComputeStats(leaf, v);

    // Dictionary for byte-array columns with few distinct values.
    std::vector<uint32_t> indices;
    std::vector<std::string_view> dict;
    if (IsByteArray(col.type) && !v.bytes.empty()) {
      absl::flat_hash_map<std::string_view, uint32_t, StringViewHash> ids;
      int64_t dict_bytes = 0;
      bool ok = true;
      indices.reserve(v.bytes.size());
      for (std::string_view s : v.bytes) {
        auto [it, inserted] = ids.try_emplace(s, static_cast<uint32_t>(dict.size()));
        if (inserted) {
          dict.push_back(s);
          dict_bytes += 4 + static_cast<int64_t>(s.size());
          // The dictionary only grows: once past a limit (or past half the values), stop.
          if (static_cast<int64_t>(dict.size()) > o_.max_dictionary_entries ||
              dict_bytes > o_.max_dictionary_bytes || dict.size() * 2 > v.bytes.size()) {
            ok = false;
            break;
          }
        }
        indices.push_back(it->second);
      }
      m->dictionary = ok;
      if (!ok) dict.clear();
    }
    if (m->dictionary) {
      std::string page;
      for (std::string_view s : dict) {
        PutU32(static_cast<uint32_t>(s.size()), &page);
        page.append(s);
      }
      m->dictionary_page_offset = static_cast<int64_t>(out_.size());
      RETURN_IF_ERROR(WritePage(kDictionaryPage, static_cast<int32_t>(dict.size()), page, m));
    }
    m->data_page_offset = static_cast<int64_t>(out_.size());
    const int index_width = std::max(1, BitWidth(dict.empty() ? 0 : dict.size() - 1));

    // Data pages of about page_bytes each, ending at record boundaries (an entry with
    // repetition level 0 starts a record). `row` counts entries: rows of a flat column.
    const size_t rows = v.defined.size();
    const bool repeated = leaf.max_rep > 0;
    size_t row = 0, value = 0;
    std::vector<uint32_t> levels, rep_levels, page_indices;
    do {
      std::string values;
      levels.clear();
      rep_levels.clear();
      page_indices.clear();
      const size_t first_row = row;
      uint8_t bool_acc = 0;
      int bool_bits = 0;
      while (row < rows &&
             (row == first_row || (repeated && v.rep[row] != 0) ||
              static_cast<int64_t>(values.size() + page_indices.size()) < o_.page_bytes)) {
        levels.push_back(v.defined[row]);
        if (repeated) rep_levels.push_back(v.rep[row]);
        if (v.defined[row] == leaf.value_def) {
          switch (Physical(col.type)) {
            case kByteArray:
              if (m->dictionary) {
                page_indices.push_back(indices[value]);
              } else {
                PutU32(static_cast<uint32_t>(v.bytes[value].size()), &values);
                values.append(v.bytes[value]);
              }
              break;
            case kInt64Type:
              PutU64(static_cast<uint64_t>(v.ints[value]), &values);
              break;
            case kDoubleType: {
              uint64_t bits;
              std::memcpy(&bits, &v.doubles[value], 8);
              PutU64(bits, &values);
              break;
            }
            case kFixedLenByteArray:
              values.append(Int128BigEndian(v.decimals[value]));
              break;
            case kBoolean:
              bool_acc |= static_cast<uint8_t>(v.bools[value] << bool_bits);
              if (++bool_bits == 8) {
                values.push_back(static_cast<char>(bool_acc));
                bool_acc = 0;
                bool_bits = 0;
              }
              break;
          }
          ++value;
        }
        ++row;
      }
      if (bool_bits > 0) values.push_back(static_cast<char>(bool_acc));
      std::string page;
      if (repeated) {
        std::string rle;
        AppendRleHybrid(rep_levels, BitWidth(leaf.max_rep), &rle);
        PutU32(static_cast<uint32_t>(rle.size()), &page);
        page.append(rle);
      }
      if (leaf.max_def > 0) {
        std::string rle;
        AppendRleHybrid(levels, BitWidth(leaf.max_def), &rle);
        PutU32(static_cast<uint32_t>(rle.size()), &page);
        page.append(rle);
      }
      if (m->dictionary) {
        page.push_back(static_cast<char>(index_width));
        AppendRleHybrid(page_indices, index_width, &page);
      } else {
        page.append(values);
      }
      RETURN_IF_ERROR(WritePage(kDataPage, static_cast<int32_t>(row - first_row), page, m));
      ++m->data_pages;
    } while (row < rows);
    return absl::OkStatus();
  }

  absl::Status WritePage(PageType type, int32_t num_values, std::string_view page, ChunkMeta* m) {
    if (page.size() > static_cast<size_t>(INT32_MAX) / 2)
      return absl::InvalidArgumentError("parquet: a page is larger than 1 GiB");
    ASSIGN_OR_RETURN(std::string body, CompressPage(o_.codec, o_.compression_level, page));
    ThriftCompactWriter w;
    w.BeginStruct();
    w.FieldI32(1, type);
    w.FieldI32(2, static_cast<int32_t>(page.size()));
    w.FieldI32(3, static_cast<int32_t>(body.size()));
    if (type == kDataPage) {
      w.FieldBeginStruct(5);
      w.FieldI32(1, num_values);
      w.FieldI32(2, m->dictionary ? kRleDictionary : kPlain);
      w.FieldI32(3, kRle);  // definition levels
      w.FieldI32(4, kRle);  // repetition levels
      w.EndStruct();
    } else {
      w.FieldBeginStruct(7);
      w.FieldI32(1, num_values);
      w.FieldI32(2, kPlain);
      w.EndStruct();
    }
    w.EndStruct();
    out_.append(w.bytes());
    out_.append(body);
    m->uncompressed += static_cast<int64_t>(w.bytes().size() + page.size());
    m->compressed += static_cast<int64_t>(w.bytes().size() + body.size());
    return absl::OkStatus();
  }

  // Schema elements of `c` and everything under it, depth first.
  static size_t SchemaElements(const ParquetColumn& c) {
    size_t n = c.type == ParquetType::kList ? 2 : 1;  // a LIST adds its repeated group
    for (const ParquetColumn& child : c.children) n += SchemaElements(child);
    return n;
  }

  void WriteSchemaElement(const ParquetColumn& c, ThriftCompactWriter* w) {
    if (c.type == ParquetType::kStruct || c.type == ParquetType::kList) {
      const bool list = c.type == ParquetType::kList;
      w->BeginStruct();
      w->FieldI32(3, kRepetitionOptional);
      w->FieldBinary(4, c.name);
      w->FieldI32(5, static_cast<int32_t>(list ? 1 : c.children.size()));
      if (list) {
        w->FieldI32(6, kListCt);
        w->FieldBeginStruct(10);
        w->FieldBeginStruct(3);  // LIST
        w->EndStruct();
        w->EndStruct();
        w->EndStruct();
        w->BeginStruct();  // repeated group list
        w->FieldI32(3, kRepetitionRepeated);
        w->FieldBinary(4, "list");
        w->FieldI32(5, 1);
      }
      w->EndStruct();
      for (const ParquetColumn& child : c.children) WriteSchemaElement(child, w);
      return;
    }
    w->BeginStruct();
    w->FieldI32(1, Physical(c.type));
    if (c.type == ParquetType::kDecimal) w->FieldI32(2, 16);
    w->FieldI32(3, c.required ? kRepetitionRequired : kRepetitionOptional);
    w->FieldBinary(4, c.name);
    switch (c.type) {
      case ParquetType::kString:
      case ParquetType::kJson:
        w->FieldI32(6, kUtf8);
        w->FieldBeginStruct(10);
        w->FieldBeginStruct(1);  // STRING
        w->EndStruct();
        w->EndStruct();
        break;
      case ParquetType::kDecimal:
        w->FieldI32(6, kDecimalCt);
        w->FieldI32(7, c.scale);
        w->FieldI32(8, kDecimalPrecision);
        w->FieldBeginStruct(10);
        w->FieldBeginStruct(5);  // DECIMAL
        w->FieldI32(1, c.scale);
        w->FieldI32(2, kDecimalPrecision);
        w->EndStruct();
        w->EndStruct();
        break;
      case ParquetType::kTimestampMillis:
        w->FieldI32(6, kTimestampMillisCt);
        w->FieldBeginStruct(10);
        w->FieldBeginStruct(8);  // TIMESTAMP
        w->FieldBool(1, true);   // isAdjustedToUTC
        w->FieldBeginStruct(2);  // unit
        w->FieldBeginStruct(1);  // MILLIS
        w->EndStruct();
        w->EndStruct();
        w->EndStruct();
        w->EndStruct();
        break;
      default:
        break;
    }
    w->EndStruct();
  }

  std::string Finish(const std::vector<ParquetColumn>& cols, size_t leaves,
                     const std::vector<RowGroupMeta>& groups, int64_t rows,
                     const std::vector<std::pair<std::string, std::string>>& kv) {
    size_t elements = 1;
    for (const ParquetColumn& c : cols) elements += SchemaElements(c);
    ThriftCompactWriter w;
    w.BeginStruct();
    w.FieldI32(1, 1);  // version
    w.FieldBeginList(2, ThriftCompactWriter::kStruct, static_cast<uint32_t>(elements));
    w.BeginStruct();
    w.FieldBinary(4, "schema");
    w.FieldI32(5, static_cast<int32_t>(cols.size()));
    w.EndStruct();
    for (const ParquetColumn& c : cols) WriteSchemaElement(c, &w);
    w.FieldI64(3, rows);
    w.FieldBeginList(4, ThriftCompactWriter::kStruct, static_cast<uint32_t>(groups.size()));
    for (size_t g = 0; g < groups.size(); ++g) {
      const RowGroupMeta& rg = groups[g];
      int64_t total_uncompressed = 0, total_compressed = 0;
      for (const ChunkMeta& m : rg.chunks) {
        total_uncompressed += m.uncompressed;
        total_compressed += m.compressed;
      }
      w.BeginStruct();
      w.FieldBeginList(1, ThriftCompactWriter::kStruct, static_cast<uint32_t>(rg.chunks.size()));
      for (const ChunkMeta& m : rg.chunks) {
        w.BeginStruct();
        w.FieldI64(2, m.start);  // file_offset
        w.FieldBeginStruct(3);   // meta_data
        w.FieldI32(1, Physical(m.type));
        if (m.dictionary) {
          w.FieldBeginList(2, ThriftCompactWriter::kI32, 3);
          w.ElementI32(kPlain);
          w.ElementI32(kRle);
          w.ElementI32(kRleDictionary);
        } else {
          w.FieldBeginList(2, ThriftCompactWriter::kI32, 2);
          w.ElementI32(kPlain);
          w.ElementI32(kRle);
        }
        w.FieldBeginList(3, ThriftCompactWriter::kBinary, static_cast<uint32_t>(m.path.size()));
        for (const std::string& part : m.path) w.ElementBinary(part);
        w.FieldI32(4, CodecId(o_.codec));
        w.FieldI64(5, m.num_values);
        w.FieldI64(6, m.uncompressed);
        w.FieldI64(7, m.compressed);
        w.FieldI64(9, m.data_page_offset);
        if (m.dictionary) w.FieldI64(11, m.dictionary_page_offset);
        w.FieldBeginStruct(12);  // statistics
        WriteStatisticsFields(m.stats, &w);
        w.EndStruct();
        w.EndStruct();  // meta_data
        w.EndStruct();  // ColumnChunk
      }
      w.FieldI64(2, total_uncompressed);
      w.FieldI64(3, rg.rows);
      if (!rg.chunks.empty()) w.FieldI64(5, rg.chunks.front().start);
      w.FieldI64(6, total_compressed);
      w.FieldI16(7, static_cast<int16_t>(std::min<size_t>(g, INT16_MAX)));
      w.EndStruct();
    }
    w.FieldBeginList(5, ThriftCompactWriter::kStruct, static_cast<uint32_t>(kv.size()));
    for (const auto& [k, v] : kv) {
      w.BeginStruct();
      w.FieldBinary(1, k);
      w.FieldBinary(2, v);
      w.EndStruct();
    }
    w.FieldBinary(6, o_.created_by);
    w.FieldBeginList(7, ThriftCompactWriter::kStruct, static_cast<uint32_t>(leaves));
    for (size_t i = 0; i < leaves; ++i) {
      w.BeginStruct();
      w.FieldBeginStruct(1);  // TYPE_ORDER
      w.EndStruct();
      w.EndStruct();
    }
    w.EndStruct();
    out_.append(w.bytes());
    PutU32(static_cast<uint32_t>(w.bytes().size()), &out_);
    out_.append("PAR1");
    return std::move(out_);
  }

 private:
  const ParquetOptions& o_;
  std::string out_;
};

// ---------------------------------------------------------------------------------
// Nested columns (NestedEncoding::kNative): the schema tree of one top-level column with
// each node's levels, and the Dremel shredding of values into its leaves.

struct ShredNode {
  const ParquetColumn* col = nullptr;
  int def = 0;  // the definition level of a non-null value here (every node is OPTIONAL)
  int rep = 0;  // kList: the repetition level of its repeated group
  size_t leaf = 0, leaf_end = 0;  // its leaves, [leaf, leaf_end) of the column's
  std::vector<ShredNode> children;
  absl::flat_hash_map<std::string_view, size_t, StringViewHash> index;  // kStruct: by name
};

void PlanNested(const ParquetColumn& c, int parent_def, int parent_rep,
                std::vector<std::string>* path, ShredNode* node, std::vector<Leaf>* leaves) {
  node->col = &c;
  node->def = parent_def + 1;
  node->leaf = leaves->size();
  path->push_back(c.name);
  if (c.type == ParquetType::kStruct) {
    node->children.resize(c.children.size());
    for (size_t i = 0; i < c.children.size(); ++i) {
      node->index.emplace(c.children[i].name, i);
      PlanNested(c.children[i], node->def, parent_rep, path, &node->children[i], leaves);
    }
  } else if (c.type == ParquetType::kList) {
    node->rep = parent_rep + 1;
    node->children.resize(1);
    path->push_back("list");
    // The repeated group adds a definition level: def + 1 is "has an element".
    PlanNested(c.children[0], node->def + 1, node->rep, path, &node->children[0], leaves);
    path->pop_back();
  } else {
    Leaf l;
    l.col = &c;
    l.path = *path;
    for (size_t i = 0; i < path->size(); ++i) {
      if (i > 0) l.dotted.push_back('.');
      l.dotted.append((*path)[i]);
    }
    l.max_def = node->def;
    l.value_def = node->def;
    l.max_rep = parent_rep;
    leaves->push_back(std::move(l));
  }
  path->pop_back();
  node->leaf_end = leaves->size();
}

// Writes the levels and values of one record's value into the leaves' chunks.
class Shredder {
 public:
  Shredder(std::vector<ChunkValues>* values, std::vector<Converter>* converters)
      : values_(*values), converters_(*converters) {}

  // `v` null: the value is absent or null. `rep`: the repetition level of its first entry.
  absl::Status Shred(const ShredNode& n, const JsonNode* v, int rep, int64_t row) {
    if (v == nullptr || v->value.kind == Value::kAbsent || v->value.kind == Value::kNull) {
      Empty(n, rep, n.def - 1);
      return absl::OkStatus();
    }
    switch (n.col->type) {
      case ParquetType::kStruct: {
        if (v->value.kind != Value::kNested || !v->object || !v->expanded)
          return Unexpected(n, row);
        std::vector<const JsonNode*> slots(n.children.size(), nullptr);
        for (size_t i = 0; i < v->names.size(); ++i) {
          auto it = n.index.find(v->names[i]);
          if (it != n.index.end()) slots[it->second] = &v->children[i];  // the last one wins
        }
        for (size_t k = 0; k < n.children.size(); ++k)
          RETURN_IF_ERROR(Shred(n.children[k], slots[k], rep, row));
        return absl::OkStatus();
      }
      case ParquetType::kList:
        if (v->value.kind != Value::kNested || v->object || !v->expanded) return Unexpected(n, row);
        if (v->children.empty()) {
          Empty(n, rep, n.def);  // an empty list: defined, no element
          return absl::OkStatus();
        }
        for (size_t i = 0; i < v->children.size(); ++i)
          RETURN_IF_ERROR(Shred(n.children[0], &v->children[i], i == 0 ? rep : n.rep, row));
        return absl::OkStatus();
      default: {
        ChunkValues& cv = values_[n.leaf];
        cv.rep.push_back(static_cast<uint8_t>(rep));
        cv.defined.push_back(static_cast<uint8_t>(n.def));
        return converters_[n.leaf].AddPresent(v->value, row, &cv);
      }
    }
  }

 private:
  // Every leaf under `n` gets one entry without a value.
  void Empty(const ShredNode& n, int rep, int def) {
    for (size_t l = n.leaf; l < n.leaf_end; ++l) {
      values_[l].rep.push_back(static_cast<uint8_t>(rep));
      values_[l].defined.push_back(static_cast<uint8_t>(def));
    }
  }
  static absl::Status Unexpected(const ShredNode& n, int64_t row) {
    return absl::InternalError(StrCat("parquet: record ", row, ": a value of \"", n.col->name,
                                      "\" does not match its inferred ",
                                      ParquetTypeName(n.col->type, 0)));
  }

  std::vector<ChunkValues>& values_;
  std::vector<Converter>& converters_;
};

// Appends the "type" member (and "fields" / "element" for groups) of `c`'s description.
void DescribeType(const ParquetColumn& c, std::string* out) {
  StrAppend(out, "\"type\":\"", ParquetTypeName(c.type, c.scale), "\"");
}

void DescribeChildren(const ParquetColumn& c, std::string* out) {
  if (c.type == ParquetType::kStruct) {
    out->append(",\"fields\":[");
    for (size_t i = 0; i < c.children.size(); ++i) {
      if (i > 0) out->push_back(',');
      out->append("{\"name\":");
      AppendValidJsonString(c.children[i].name, out);
      out->push_back(',');
      DescribeType(c.children[i], out);
      DescribeChildren(c.children[i], out);
      out->push_back('}');
    }
    out->push_back(']');
  } else if (c.type == ParquetType::kList) {
    out->append(",\"element\":{");
    DescribeType(c.children[0], out);
    DescribeChildren(c.children[0], out);
    out->push_back('}');
  }
}

}  // namespace

std::string ParquetTypeName(ParquetType type, int scale) {
  switch (type) {
    case ParquetType::kString:
      return "string";
    case ParquetType::kJson:
      return "json";
    case ParquetType::kInt64:
      return "int64";
    case ParquetType::kDecimal:
      return StrCat("decimal(38,", scale, ")");
    case ParquetType::kDouble:
      return "double";
    case ParquetType::kBool:
      return "bool";
    case ParquetType::kBinary:
      return "binary";
    case ParquetType::kTimestampMillis:
      return "timestamp_ms";
    case ParquetType::kStruct:
      return "struct";
    case ParquetType::kList:
      return "list";
  }
  return "string";
}

absl::StatusOr<std::pair<ParquetType, int>> ParseParquetTypeName(std::string_view name) {
  for (ParquetType t :
       {ParquetType::kString, ParquetType::kJson, ParquetType::kInt64, ParquetType::kDouble,
        ParquetType::kBool, ParquetType::kBinary, ParquetType::kTimestampMillis}) {
    if (name == ParquetTypeName(t, 0)) return std::make_pair(t, 0);
  }
  constexpr std::string_view kDec = "decimal(38,";
  if (name.size() > kDec.size() + 1 && name.substr(0, kDec.size()) == kDec && name.back() == ')') {
    std::string_view digits = name.substr(kDec.size(), name.size() - kDec.size() - 1);
    int scale = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), scale);
    if (ec == std::errc() && end == digits.data() + digits.size() && scale >= 0 &&
        scale <= kDecimalPrecision)
      return std::make_pair(ParquetType::kDecimal, scale);
  }
  return absl::InvalidArgumentError(
      StrCat("unknown Parquet type \"", name,
             "\" (string, json, int64, decimal(38,S), double, bool, binary, timestamp_ms)"));
}

std::vector<std::string_view> SplitJsonLines(std::string_view body) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.push_back(line);
    start = nl + 1;
  }
  return out;
}

absl::StatusOr<ParquetFile> EncodeParquetFile(const std::vector<std::string_view>& lines,
                                              const ParquetOptions& options) {
  if (options.row_group_rows < 1 || options.row_group_bytes < 1 || options.page_bytes < 1)
    return absl::InvalidArgumentError("parquet: row group and page sizes must be positive");
  std::deque<std::string> arena;  // unescaped strings and converted values (stable addresses)

  // Parse every line into column-major cells.
  std::vector<ParquetColumn> columns;
  std::vector<std::vector<Value>> cells;
  std::vector<ColumnStats> stats;
  absl::flat_hash_map<std::string, size_t, StringViewHash, std::equal_to<>> index;
  const bool declared = !options.schema.empty();
  if (declared) {
    for (const ParquetColumn& c : options.schema) {
      if (c.type == ParquetType::kStruct || c.type == ParquetType::kList || !c.children.empty())
        return absl::InvalidArgumentError(
            StrCat("parquet: column \"", c.name, "\" cannot be declared as a group or list"));
      if (!index.try_emplace(c.name, columns.size()).second)
        return absl::InvalidArgumentError(
            StrCat("parquet: column \"", c.name, "\" is declared twice"));
      columns.push_back(c);
      cells.emplace_back();
    }
  }
  const size_t rows = lines.size();
  for (size_t r = 0; r < rows; ++r) {
    std::string_view line = lines[r];
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    LineParser parser(line, &arena);
    size_t predicted = 0;  // records usually repeat the previous record's member order
    absl::Status s = parser.ParseObject([&](std::string_view name, const Value& v) {
      size_t c;
      auto it = index.end();
      if (predicted < columns.size() && columns[predicted].name == name) {
        c = predicted;
      } else if ((it = index.find(name)) != index.end()) {
        c = it->second;
      } else {
        if (declared) return;
        c = columns.size();
        index.emplace(std::string(name), c);
        columns.push_back(ParquetColumn{std::string(name)});
        cells.emplace_back();
      }
      predicted = c + 1;
      std::vector<Value>& col = cells[c];
      if (col.size() < r + 1) col.resize(r + 1);
      col[r] = v;  // a repeated member: the last one wins, as in JSON.parse
    });
    if (!s.ok()) return absl::InvalidArgumentError(StrCat(StatusMessage(s), " (record ", r, ")"));
  }
  for (auto& col : cells) col.resize(rows);

  if (!declared) {
    for (size_t c = 0; c < columns.size(); ++c) {
      ColumnStats st;
      for (const Value& v : cells[c]) {
        switch (v.kind) {
          case Value::kAbsent:
          case Value::kNull:
            ++st.nulls;
            break;
          case Value::kTrue:
          case Value::kFalse:
            ++st.bools;
            break;
          case Value::kString:
            ++st.strings;
            break;
          case Value::kNested:
            ++st.nested;
            break;
          case Value::kNumber: {
            ++st.numbers;
            if (FastInt64(v.text)) break;  // integral, scale 0: fits every choice
            std::optional<Significand> s = NumberText(v.text);
            if (!s) return absl::InvalidArgumentError("parquet: bad number");
            if (st.all_int64 && !ToInt64(*s)) st.all_int64 = false;
            if (!st.all_int64 && st.decimal_fits) {
              st.max_scale = std::max(st.max_scale, NeededScale(*s));
              st.decimal_fits = st.max_scale <= kMaxInferredScale;
            }
            break;
          }
        }
      }
      if (!st.all_int64 && st.decimal_fits) {
        // Every value must fit DECIMAL(38, max_scale).
        for (const Value& v : cells[c]) {
          if (v.kind != Value::kNumber || (st.max_scale <= 18 && FastInt64(v.text))) continue;
          if (!Unscaled(*NumberText(v.text), static_cast<int>(st.max_scale))) {
            st.decimal_fits = false;
            break;
          }
        }
      }
      columns[c] = Infer(columns[c].name, st, options.wide_numbers);
      if (options.nested == NestedEncoding::kNative && columns[c].type == ParquetType::kJson) {
        // Only objects and arrays (and nulls): look inside them.
        NestedStats nested;
        for (size_t r = 0; r < rows; ++r) {
          const Value& v = cells[c][r];
          if (v.kind != Value::kNested) continue;
          JsonNode tree;
          std::deque<std::string> scratch;  // Accumulate copies the member names it keeps
          LineParser parser(v.text, &scratch);
          absl::Status s = parser.ParseTree(kMaxParquetNativeDepth, &tree);
          if (s.ok()) s = Accumulate(tree, &nested);
          if (!s.ok())
            return absl::InvalidArgumentError(StrCat(StatusMessage(s), " (record ", r, ")"));
        }
        columns[c] = BuildNested(nested, columns[c].name, 1, options.wide_numbers);
      }
    }
  }

  // The leaf columns, and for groups and lists the tree their values are shredded by.
  std::vector<Leaf> leaves;
  std::vector<std::pair<size_t, size_t>> leaf_range(columns.size());  // per column
  std::vector<std::unique_ptr<ShredNode>> plans(columns.size());      // groups and lists
  for (size_t c = 0; c < columns.size(); ++c) {
    leaf_range[c].first = leaves.size();
    if (columns[c].type == ParquetType::kStruct || columns[c].type == ParquetType::kList) {
      std::vector<Leaf> own;
      std::vector<std::string> path;
      plans[c] = std::make_unique<ShredNode>();
      PlanNested(columns[c], 0, 0, &path, plans[c].get(), &own);
      for (Leaf& l : own) leaves.push_back(std::move(l));
    } else {
      leaves.push_back(FlatLeaf(columns[c]));
    }
    leaf_range[c].second = leaves.size();
  }

  // Row groups.
  FileBuilder file(options);
  std::vector<RowGroupMeta> groups;
  std::vector<ParquetChunkInfo> chunk_info;
  size_t begin = 0;
  while (begin < rows) {
    size_t end = begin;
    int64_t bytes = 0;
    while (end < rows && static_cast<int64_t>(end - begin) < options.row_group_rows &&
           (end == begin || bytes < options.row_group_bytes)) {
      bytes += static_cast<int64_t>(lines[end].size());
      ++end;
    }
    RowGroupMeta rg;
    rg.rows = static_cast<int64_t>(end - begin);
    for (size_t c = 0; c < columns.size(); ++c) {
      std::deque<std::string> converted;
      const auto [first_leaf, end_leaf] = leaf_range[c];
      std::vector<ChunkValues> values(end_leaf - first_leaf);
      if (plans[c] == nullptr) {
        Converter conv(columns[c], &converted);
        ChunkValues& v = values[0];
        v.defined.reserve(end - begin);
        for (size_t r = begin; r < end; ++r)
          RETURN_IF_ERROR(conv.Add(cells[c][r], static_cast<int64_t>(r), &v));
      } else {
        std::vector<Converter> convs;
        convs.reserve(values.size());
        for (size_t l = first_leaf; l < end_leaf; ++l)
          convs.emplace_back(*leaves[l].col, &converted);
        Shredder shredder(&values, &convs);
        for (size_t r = begin; r < end; ++r) {
          const Value& v = cells[c][r];
          if (v.kind != Value::kNested) {
            RETURN_IF_ERROR(shredder.Shred(*plans[c], nullptr, 0, static_cast<int64_t>(r)));
            continue;
          }
          JsonNode tree;  // strings of the tree live in `converted` until the chunk is written
          LineParser parser(v.text, &converted);
          if (absl::Status s = parser.ParseTree(kMaxParquetNativeDepth, &tree); !s.ok())
            return absl::InvalidArgumentError(StrCat(StatusMessage(s), " (record ", r, ")"));
          // Errors here are the writer's own (the schema was inferred from these values).
          RETURN_IF_ERROR(shredder.Shred(*plans[c], &tree, 0, static_cast<int64_t>(r)));
        }
      }
      for (size_t l = first_leaf; l < end_leaf; ++l) {
        ChunkMeta m;
        RETURN_IF_ERROR(file.WriteChunk(leaves[l], values[l - first_leaf], &m));
        chunk_info.push_back({static_cast<int64_t>(groups.size()), m.name, m.dictionary,
                              m.data_pages, m.stats.null_count, m.stats.has_min_max, m.stats.min,
                              m.stats.max, m.compressed});
        rg.chunks.push_back(std::move(m));
      }
    }
    groups.push_back(std::move(rg));
    begin = end;
  }

  std::string described = "[";
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) described.push_back(',');
    described.append("{\"name\":");
    AppendValidJsonString(columns[c].name, &described);
    StrAppend(&described, ",\"type\":\"", ParquetTypeName(columns[c].type, columns[c].scale),
              "\",\"required\":", columns[c].required ? "true" : "false", ",\"source\":\"",
              declared ? "declared" : "inferred", "\"");
    DescribeChildren(columns[c], &described);  // groups and lists only
    described.push_back('}');
  }
  described.push_back(']');
  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("lakehose.columns", std::move(described));
  for (const auto& p : options.key_value_metadata) kv.push_back(p);

  ParquetFile out;
  out.rows = static_cast<int64_t>(rows);
  out.row_groups = static_cast<int64_t>(groups.size());
  out.bytes = file.Finish(columns, leaves.size(), groups, out.rows, kv);
  out.columns = std::move(columns);
  out.chunks = std::move(chunk_info);
  return out;
}

absl::StatusOr<std::string> EncodeParquet(const std::vector<std::string_view>& lines,
                                          const ParquetOptions& options) {
  ASSIGN_OR_RETURN(ParquetFile f, EncodeParquetFile(lines, options));
  return std::move(f.bytes);
}

}  // namespace lakehose
