// String concatenation over std::string_view, and small ASCII helpers (trimming, case
// folding, control characters).
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

// `s` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
inline std::string_view StripAsciiWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// `s` with 'A'-'Z' lowered; other bytes (UTF-8 included) unchanged.
inline std::string AsciiStrToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
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
