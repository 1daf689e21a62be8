// The Parquet writer's reader of record JSON: one JSON Lines record (a JSON object) into
// its top-level members, and (NestedEncoding::kNative) one member's value into a tree.
//
// Values keep their text rather than a parsed value: strings unescaped, numbers as
// their exact token (a DECIMAL column needs every digit), objects and arrays as their
// raw JSON text (what a JSON-text column writes). The reader checks the whole grammar
// (RFC 8259, UTF-8 in strings, no lone surrogates) to kMaxParquetJsonDepth; an input it
// rejects fails the encode with INVALID_ARGUMENT "parquet: ... at byte N".
//
// Ownership: values view the input, except strings with escapes, which are unescaped
// into the caller's arena (a deque, so their addresses stay put); both must outlive the
// values. Not thread-safe (one reader per input); pure.
#ifndef LAKEHOSE_CORE_PARQUET_JSON_READER_H_
#define LAKEHOSE_CORE_PARQUET_JSON_READER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/base/status_macros.h"

namespace lakehose {
namespace parquet_internal {

// One JSON value as text.
struct Value {
  enum Kind : uint8_t { kAbsent, kNull, kFalse, kTrue, kNumber, kString, kNested };
  Kind kind = kAbsent;
  std::string_view text;  // kNumber: the token; kString: unescaped; kNested: raw JSON
};

// One JSON value as a tree (NestedEncoding::kNative). `value` is what a flat column
// would see (kNested with the raw text for objects and arrays); `expanded` objects and
// arrays also hold their members/elements in `children` (object member names in
// `names`, same order; a repeated name is kept twice, the last one wins where read).
struct JsonNode {
  Value value;
  bool object = false;    // kNested: '{' rather than '['
  bool expanded = false;  // children parsed (false below the depth asked for)
  std::vector<std::string_view> names;
  std::vector<JsonNode> children;
};

class LineParser {
 public:
  LineParser(std::string_view s, std::deque<std::string>* arena) : s_(s), arena_(arena) {}

  // The input is one JSON object: calls member(name, value) for each member, in order.
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
  absl::Status ParseTree(int max_depth, JsonNode* out);

 private:
  absl::Status ParseNode(int depth, int max_depth, JsonNode* node);

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
  absl::Status Fail(std::string_view what) const;

  absl::Status ParseValue(Value* v);
  absl::Status SkipNumber();
  // Skips an object or array, checking its structure (strings, numbers, literals).
  absl::Status SkipNested();
  bool Hex4(uint32_t* out);
  // At '"': the unescaped string (a view of the input when it has no escapes; else, if
  // `keep`, of the arena).
  absl::Status ParseString(std::string_view* out, bool keep = true);

  std::string_view s_;
  size_t pos_ = 0;
  std::deque<std::string>* arena_;
};

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_JSON_READER_H_
