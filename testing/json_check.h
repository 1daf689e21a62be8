// Test helper: a strict RFC 8259 validator that, unlike simdjson's DOM, accepts numbers of
// any size and precision (38-digit integers, 1E+125), so transformed output can be checked
// for well-formedness without losing the cases that matter most.
#ifndef LAKEHOSE_TESTING_JSON_CHECK_H_
#define LAKEHOSE_TESTING_JSON_CHECK_H_

#include <string_view>

#include "core/base/json_writer.h"

namespace lakehose::testing {

class JsonChecker {
 public:
  // True if `text` is exactly one JSON value (whitespace around it allowed), valid UTF-8.
  static bool IsValid(std::string_view text) {
    if (!IsValidUtf8(text)) return false;
    JsonChecker c(text);
    c.Ws();
    if (!c.Value(0)) return false;
    c.Ws();
    return c.i_ == text.size();
  }
  // True if `text` is one JSON object.
  static bool IsObject(std::string_view text) {
    size_t i = 0;
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
      ++i;
    return i < text.size() && text[i] == '{' && IsValid(text);
  }

 private:
  explicit JsonChecker(std::string_view s) : s_(s) {}
  bool Eof() const { return i_ >= s_.size(); }
  char Peek() const { return Eof() ? '\0' : s_[i_]; }
  void Ws() {
    while (!Eof() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool Lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool Digits() {
    const size_t start = i_;
    while (!Eof() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool Number() {
    if (Peek() == '-') ++i_;
    if (Peek() == '0')
      ++i_;
    else if (!Digits())
      return false;
    if (Peek() == '.') {
      ++i_;
      if (!Digits()) return false;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!Digits()) return false;
    }
    return true;
  }
  bool String() {
    if (Peek() != '"') return false;
    ++i_;
    while (!Eof()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        const char e = Peek();
        ++i_;
        if (e == 'u') {
          for (int k = 0; k < 4; ++k, ++i_) {
            const char h = Peek();
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
              return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos || e == '\0') {
          return false;
        }
      }
    }
    return false;
  }
  bool Value(int depth) {
    if (depth > 2000) return false;
    switch (Peek()) {
      case '{': {
        ++i_;
        Ws();
        if (Peek() == '}') return ++i_, true;
        for (;;) {
          Ws();
          if (!String()) return false;
          Ws();
          if (Peek() != ':') return false;
          ++i_;
          Ws();
          if (!Value(depth + 1)) return false;
          Ws();
          if (Peek() == ',') {
            ++i_;
            continue;
          }
          if (Peek() == '}') return ++i_, true;
          return false;
        }
      }
      case '[': {
        ++i_;
        Ws();
        if (Peek() == ']') return ++i_, true;
        for (;;) {
          Ws();
          if (!Value(depth + 1)) return false;
          Ws();
          if (Peek() == ',') {
            ++i_;
            continue;
          }
          if (Peek() == ']') return ++i_, true;
          return false;
        }
      }
      case '"':
        return String();
      case 't':
        return Lit("true");
      case 'f':
        return Lit("false");
      case 'n':
        return Lit("null");
      default:
        return Number();
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace lakehose::testing

#endif  // LAKEHOSE_TESTING_JSON_CHECK_H_
