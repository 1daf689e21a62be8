// JsonWriter: a small, fast appender of RFC 8259 JSON text onto a std::string.
//
// It does no structural bookkeeping (the caller writes commas and braces); it exists so
// that string escaping, which dominates the transform's cost, is done once and well.
// Escaping: '"' and '\\' and every control character below U+0020 are escaped (short
// forms \b \f \n \r \t where JSON has them, \u00XX otherwise); U+2028 and U+2029 are
// written as \u2028 / \u2029 so the output is also safe as JavaScript. Everything else,
// including non-ASCII UTF-8, is copied as is.
//
// Not thread-safe; borrows the output string.
#ifndef LAKEHOSE_CORE_BASE_JSON_WRITER_H_
#define LAKEHOSE_CORE_BASE_JSON_WRITER_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace lakehose {

// JsonBuffer: where the transformer writes a document. A growable byte buffer written
// through a raw pointer, so that appending a byte is a store rather than a capacity check
// and a call, and a short string can be copied with one 16-byte store (measured with
// callgrind: std::string::push_back and append were about 10% of the transform's
// instructions; bench/README.md). Keeps its capacity across Clear(); not thread-safe.
//
//   JsonBuffer b;
//   b.Put('{'); AppendValidJsonString("k", &b); b.Put(':'); b.Append("1"); b.Put('}');
//   std::string doc(b.view());
class JsonBuffer {
 public:
  JsonBuffer() = default;
  JsonBuffer(const JsonBuffer&) = delete;
  JsonBuffer& operator=(const JsonBuffer&) = delete;

  void Clear() { cur_ = begin_; }
  size_t size() const { return static_cast<size_t>(cur_ - begin_); }
  std::string_view view() const { return {begin_, size()}; }

  // Ensures room for `n` more bytes; cursor() stays valid for writing that many.
  void Reserve(size_t n) {
    if (static_cast<size_t>(end_ - cur_) < n) Grow(n);
  }
  void Put(char c) {
    Reserve(1);
    *cur_++ = c;
  }
  void Append(std::string_view s) {
    Reserve(s.size());
    if (!s.empty()) std::memcpy(cur_, s.data(), s.size());
    cur_ += s.size();
  }
  size_t available() const { return static_cast<size_t>(end_ - cur_); }
  // Raw writing: Reserve(n), write at most n bytes from cursor(), then set_cursor().
  char* cursor() { return cur_; }
  void set_cursor(char* p) { cur_ = p; }

 private:
  void Grow(size_t n);

  std::unique_ptr<char[]> storage_;
  char* begin_ = nullptr;
  char* cur_ = nullptr;
  char* end_ = nullptr;
};

// As AppendValidJsonString below, onto a JsonBuffer (the transformer's hot path).
void AppendValidJsonString(std::string_view s, JsonBuffer* out);

// Appends `s` as a quoted JSON string. Returns false, appending nothing, if `s` is not
// valid UTF-8; the caller decides whether that is an error.
bool AppendJsonString(std::string_view s, std::string* out);

// Appends the escaped body of `s` without the surrounding quotes (nothing if `s` is not
// valid UTF-8, returning false).
bool AppendJsonStringBody(std::string_view s, std::string* out);

// As AppendJsonString, for text already known to be valid UTF-8 (everything a simdjson
// parser returns: it validates the whole document). Skips the validation pass, which is
// a measurable share of the transform (bench/transform_bench).
void AppendValidJsonString(std::string_view s, std::string* out);

// `s` as a JSON string for an error message, cut (at a character boundary) after
// `max_bytes` with "..." so that a huge value cannot flood a message.
std::string QuoteForMessage(std::string_view s, size_t max_bytes = 64);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates, or code points > U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_JSON_WRITER_H_
