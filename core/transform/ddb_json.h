// DynamoDB typed JSON ({"S": "x"}, {"N": "1.5"}, {"M": {...}}, ...) to plain JSON,
// losslessly (README.md, "Pipelines"):
//   S -> string; N -> number with the exact digits received (or a string, NumberMode);
//   B -> its base64 text; BOOL; NULL -> null; M -> object; L -> array;
//   SS/NS/BS -> arrays in the order given (empty sets allowed).
// An attribute value whose other type keys are JSON null ({"S": null, "N": "1"}, as in the
// aws-lambda-go samples) is accepted. Anything else fails with the attribute path.
//
// What it writes, its readers accept (core/base/limits.h, README "Error codes of
// PROCESSING_FAILED"): a map, list or set deeper than kMaxNestingDepth levels fails with
// NESTING_TOO_DEEP (so the recursion, and the stack it needs, are bounded), and a name
// given twice in one M fails with DUPLICATE_KEY, both naming the path.
//
// Not thread-safe (keeps a path stack); one converter per thread.
#ifndef LAKEHOSE_CORE_TRANSFORM_DDB_JSON_H_
#define LAKEHOSE_CORE_TRANSFORM_DDB_JSON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "core/base/json_writer.h"
#include "core/base/limits.h"
#include "core/config/pipeline.h"
#include "simdjson.h"

namespace lakehose {

struct ConvertError {
  std::string_view code;  // error_code::k*
  std::string message;    // "<path>: <reason>"
};

// A path into a document, for error messages: root.key[3]["odd key"].
class AttributePath {
 public:
  void Reset(std::string_view root) {
    root_ = root;
    depth_ = 0;
  }
  // Pushed on every attribute of every record, so a push is a store into storage kept
  // from earlier records (not a vector::push_back, which the compiler left out of line).
  void PushKey(std::string_view key) { Push({key, -1}); }
  void PushIndex(int64_t index) { Push({{}, index}); }
  void Pop() { --depth_; }
  std::string ToString() const;

 private:
  struct Seg {
    std::string_view key;
    int64_t index;
  };
  void Push(Seg s) {
    if (depth_ == segs_.size()) [[unlikely]]
      Grow();
    segs_[depth_++] = s;
  }
  void Grow();
  std::string_view root_;
  std::vector<Seg> segs_;  // segs_[0, depth_) is the path
  size_t depth_ = 0;
};

// DuplicateKeys: finds a name given twice among the keys of one JSON object, for every
// object of a document in one pass over it (objects nest: a map's values are written, and
// their own maps checked, while the map is still open). Each open object is an Object on
// the caller's stack.
//
// Cheap on the hot path (the transform benchmark, bench/README.md): a key costs a few
// arithmetic operations and a store. Each object keeps a 256-bit filter of its keys'
// hashes; only a key whose bit is already set is compared with the object's earlier keys.
// An object past kSmallObjectKeys keys moves to a hash set (absl's hash is seeded per
// process), so many keys, or keys chosen to collide in the filter, stay linear.
//
//   DuplicateKeys keys;
//   keys.Reset();                           // per document
//   DuplicateKeys::Object o = keys.Open();  // per object
//   for (field : object) if (!keys.Add(&o, field.key)) Fail(...);
//   keys.Close(o);
//
// Keys are borrowed: each must stay valid until the next Reset(). Not thread-safe; not
// copyable.
class DuplicateKeys {
 public:
  DuplicateKeys() = default;
  DuplicateKeys(const DuplicateKeys&) = delete;
  DuplicateKeys& operator=(const DuplicateKeys&) = delete;

  static constexpr uint32_t kSmallObjectKeys = 32;

  struct Object {
    uint64_t filter[4] = {0, 0, 0, 0};
    uint32_t begin = 0;  // its keys are keys_[begin, begin + count) until it is large
    uint32_t count = 0;
    uint32_t id = 0;  // nonzero once large: its keys are in large_ as {id, key}
  };

  // Forgets every key (start of a document).
  void Reset() {
    top_ = 0;
    if (next_id_ != 0) ResetLarge();
  }
  Object Open() {
    Object o;
    o.begin = top_;
    return o;
  }
  // False if `key` was already added to `o`. (Forced inline: it runs for every key of
  // every record, and as a call it cost more than its body.)
  [[gnu::always_inline]] bool Add(Object* o, std::string_view key) {
    if (o->id != 0) [[unlikely]]
      return AddLarge(o, key);
    const uint32_t h = FilterBits(key);
    uint64_t& word = o->filter[h >> 6];
    const uint64_t bit = uint64_t{1} << (h & 63);
    if ((word & bit) != 0 && Contains(*o, key)) return false;
    word |= bit;
    if (o->count == kSmallObjectKeys) [[unlikely]]
      return AddLarge(o, key);
    if (top_ == capacity_) [[unlikely]]
      Grow();
    keys_[top_++] = key;
    ++o->count;
    return true;
  }
  // Ends `o` (its nested objects are all closed).
  void Close(const Object& o) { top_ = o.begin; }

 private:
  // 8 bits from the length and three bytes: equal keys give equal bits.
  static uint32_t FilterBits(std::string_view k) {
    const size_t n = k.size();
    uint32_t x = static_cast<uint32_t>(n) * 0x9E3779B1u;
    if (n != 0)
      x ^= static_cast<uint8_t>(k[0]) * 0x85EBCA6Bu ^ static_cast<uint8_t>(k[n - 1]) * 0xC2B2AE35u ^
           static_cast<uint8_t>(k[n / 2]) * 0x27D4EB2Fu;
    return x >> 24;
  }
  bool Contains(const Object& o, std::string_view key) const;
  bool AddLarge(Object* o, std::string_view key);
  void ResetLarge();
  void Grow();

  // keys_[0, top_): the keys of the open objects that are still small. In inline_ until
  // they outgrow it: a heap block allocated between the parser's buffers made simdjson's
  // stage 2 measurably slower (+10% on the core row of the sites workload).
  std::string_view inline_[64];
  std::string_view* keys_ = inline_;
  std::unique_ptr<std::string_view[]> heap_;
  uint32_t top_ = 0;
  uint32_t capacity_ = 64;
  uint32_t next_id_ = 0;
  using LargeKey = std::pair<uint32_t, std::string_view>;  // {object id, key}
  struct LargeKeyHash {
    size_t operator()(const LargeKey& k) const;
  };
  absl::flat_hash_set<LargeKey, LargeKeyHash> large_;
};

class DdbJsonConverter {
 public:
  explicit DdbJsonConverter(NumberMode numbers) : numbers_(numbers) {}

  // Appends the plain JSON of typed attribute value `av`, whose path is `path()`.
  // `depth` is the number of maps and lists that enclose `av` in the document (0 for a
  // top-level attribute). On failure returns false and fills *error; `out` then holds
  // partial output.
  bool AppendValue(simdjson::dom::element av, JsonBuffer* out, ConvertError* error, int depth = 0);
  // The same onto a std::string (tools and tests; the transformer uses the JsonBuffer).
  bool AppendValue(simdjson::dom::element av, std::string* out, ConvertError* error, int depth = 0);

  // Checks plain JSON `v` (a metadata value copied into a document as it is), whose path
  // is `path()` and which `depth` maps and lists enclose: no deeper than kMaxNestingDepth,
  // no name twice in an object. False (and *error) if it is not.
  bool CheckPlainValue(simdjson::dom::element v, ConvertError* error, int depth = 0);

  // The duplicate check of the document being written; the caller resets it per document.
  DuplicateKeys& keys() { return keys_; }

  // Finds the single non-null type key of `av`. False (and *error) if there is none or
  // more than one, or `av` is not an object.
  bool TypeOf(simdjson::dom::element av, std::string_view* type, simdjson::dom::element* value,
              ConvertError* error);

  AttributePath& path() { return path_; }

 private:
  bool Fail(std::string_view code, std::string_view reason, ConvertError* error);
  bool FailTooDeep(ConvertError* error);
  bool FailDuplicate(std::string_view key, ConvertError* error);
  // The general case of AppendValue (any shape, every error); AppendValue handles the
  // common one (an object with exactly one type key) itself.
  bool AppendValueSlow(simdjson::dom::element av, JsonBuffer* out, ConvertError* error, int depth);
  bool AppendMap(simdjson::dom::object m, JsonBuffer* out, ConvertError* error, int depth);
  bool AppendList(simdjson::dom::array l, JsonBuffer* out, ConvertError* error, int depth);
  bool AppendSet(std::string_view type, simdjson::dom::element value, JsonBuffer* out,
                 ConvertError* error, int depth);
  bool AppendNumber(std::string_view n, JsonBuffer* out);

  std::string number_scratch_;  // a rewritten N value (leading '+', zeros, bare '.')
  JsonBuffer string_out_;       // for the std::string overload of AppendValue

  NumberMode numbers_;
  AttributePath path_;
  DuplicateKeys keys_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_DDB_JSON_H_
