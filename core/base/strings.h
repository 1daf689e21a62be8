// String helpers over std::string_view: concatenation, trimming, ASCII case folding.
//
// Debian bookworm's abseil (20220623) is built with its own absl::string_view, distinct
// from std::string_view, so absl::StrCat rejects std::string_view arguments. These do the
// same job for the types this project uses: anything convertible to std::string_view,
// integers, floating point (shortest round-trip form) and bool-free char.
#ifndef LAKEHOSE_CORE_BASE_STRINGS_H_
#define LAKEHOSE_CORE_BASE_STRINGS_H_

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"

namespace lakehose {
namespace strings_internal {

inline void AppendOne(std::string* out, std::string_view s) { out->append(s); }
inline void AppendOne(std::string* out, char c) { out->push_back(c); }
template <typename T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, char> &&
         !std::is_same_v<T, bool>) void AppendOne(std::string* out, T v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

}  // namespace strings_internal

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (strings_internal::AppendOne(out, args), ...);
}

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  StrAppend(&out, args...);
  return out;
}

// Joins the items of `range` (each convertible to std::string_view) with `sep`.
template <typename Range>
std::string StrJoin(const Range& range, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& item : range) {
    if (!first) out.append(sep);
    first = false;
    out.append(std::string_view(item));
  }
  return out;
}

// `s` without leading and trailing characters that are in `chars`.
inline std::string_view TrimChars(std::string_view s, std::string_view chars) {
  const size_t begin = s.find_first_not_of(chars);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(chars) - begin + 1);
}
// The ASCII white space of isspace() in the C locale.
inline constexpr std::string_view kAsciiWhitespace = " \t\n\r\v\f";
// RFC 8259's white space, all that may surround a JSON value.
inline constexpr std::string_view kJsonWhitespace = " \t\n\r";
inline std::string_view TrimAsciiWhitespace(std::string_view s) {
  return TrimChars(s, kAsciiWhitespace);
}

// ASCII case folding (locale-independent; bytes >= 0x80 are left alone).
inline char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}
inline bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  return true;
}
inline bool StartsWithIgnoreAsciiCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreAsciiCase(s.substr(0, prefix.size()), prefix);
}
// The first position at or after `from` where `needle` occurs in `haystack` ignoring
// ASCII case, or npos.
inline size_t FindIgnoreAsciiCase(std::string_view haystack, std::string_view needle,
                                  size_t from = 0) {
  if (needle.size() > haystack.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= haystack.size(); ++i)
    if (EqualsIgnoreAsciiCase(haystack.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

// True if `s` holds an ASCII control character (below 0x20, or DEL): what must not reach
// a URL or an HTTP header.
inline bool HasAsciiControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// absl::Status::message() as a std::string_view.
inline std::string_view StatusMessage(const absl::Status& s) {
  return std::string_view(s.message().data(), s.message().size());
}

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_STRINGS_H_
