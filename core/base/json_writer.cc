#include "core/base/json_writer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "simdjson.h"

namespace lakehose {
namespace {

// 1 for bytes that stop the fast copy loop: '"', '\\', control characters, and 0xE2
// (the lead byte of U+2028/U+2029, checked precisely in the slow path).
constexpr std::array<uint8_t, 256> MakeStopTable() {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 0x20; ++i) t[i] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  t[0xE2] = 1;
  return t;
}
constexpr std::array<uint8_t, 256> kStop = MakeStopTable();

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

bool IsValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

namespace {

// Handles the stop byte p[i] of `s`: appends the pending run and the escape (if it needs
// one), moves *run past what was consumed; returns the index to continue scanning from.
inline size_t HandleStop(std::string_view s, size_t i, size_t* run, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[i];
  if (c == 0xE2) {
    // U+2028 is E2 80 A8, U+2029 is E2 80 A9; other E2 sequences copy through.
    if (i + 2 < s.size() && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
      out->append(s.data() + *run, i - *run);
      out->append(p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
      *run = i + 3;
      return i + 3;
    }
    return i + 1;
  }
  out->append(s.data() + *run, i - *run);
  switch (c) {
    case '"':
      out->append("\\\"");
      break;
    case '\\':
      out->append("\\\\");
      break;
    case '\b':
      out->append("\\b");
      break;
    case '\f':
      out->append("\\f");
      break;
    case '\n':
      out->append("\\n");
      break;
    case '\r':
      out->append("\\r");
      break;
    case '\t':
      out->append("\\t");
      break;
    default: {
      char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(esc, 6);
    }
  }
  *run = i + 1;
  return i + 1;
}

#if defined(__SSE2__)
// Bit k is set if byte k of the 16 at `p` is a stop byte. Not instrumented by ASan: the
// caller may deliberately read past the end of a string (see AppendEscaped).
__attribute__((no_sanitize_address, always_inline)) inline unsigned StopMask16(
    const unsigned char* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ctrl = _mm_cmpeq_epi8(_mm_max_epu8(b, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
  const __m128i quote = _mm_cmpeq_epi8(b, _mm_set1_epi8('"'));
  const __m128i slash = _mm_cmpeq_epi8(b, _mm_set1_epi8('\\'));
  const __m128i e2 = _mm_cmpeq_epi8(b, _mm_set1_epi8(static_cast<char>(0xE2)));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ctrl, quote), _mm_or_si128(slash, e2))));
}
#endif

// Appends `s` escaped. Most strings of a record are short (keys, enum-like values), so
// the scan for stop bytes is 16 bytes at a time including the tail: a tail of fewer than
// 16 bytes is read with one 16-byte load when those 16 bytes lie within one 4 KiB page
// (such a read cannot fault, whatever follows the string), and the bytes past the end
// are masked off. Measured with callgrind on the transactions workload: the byte loop
// over short strings was 18% of the transform's instructions (bench/README.md).
__attribute__((no_sanitize_address)) void AppendEscaped(std::string_view s, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  size_t i = 0;
  for (;;) {
#if defined(__SSE2__)
    unsigned mask = 0;
    while (i + 16 <= n) {
      mask = StopMask16(p + i);
      if (mask != 0) break;
      i += 16;
    }
    if (mask == 0) {
      if (i >= n) break;
      if ((reinterpret_cast<uintptr_t>(p + i) & 4095) <= 4096 - 16) {
        mask = StopMask16(p + i) & ((1u << (n - i)) - 1);
        if (mask == 0) break;
      } else {
        while (i < n && !kStop[p[i]]) ++i;
        if (i >= n) break;
      }
    }
    if (mask != 0) i += static_cast<size_t>(__builtin_ctz(mask));
#else
    while (i < n && !kStop[p[i]]) ++i;
    if (i >= n) break;
#endif
    i = HandleStop(s, i, &run, out);
  }
  out->append(s.data() + run, n - run);
}

}  // namespace

void JsonBuffer::Grow(size_t n) {
  const size_t used = size();
  const size_t capacity = static_cast<size_t>(end_ - begin_);
  const size_t want = std::max({capacity * 2, used + n, size_t{4096}});
  auto bigger = std::make_unique<char[]>(want);
  if (used != 0) std::memcpy(bigger.get(), begin_, used);
  storage_ = std::move(bigger);
  begin_ = storage_.get();
  cur_ = begin_ + used;
  end_ = begin_ + want;
}

namespace {

// Writes the escape of the stop byte p[*i] (of a string of n bytes) at d; advances *i
// past what it consumed; returns the new write position.
inline char* WriteEscape(const unsigned char* p, size_t n, size_t* i, char* d) {
  const unsigned char c = p[*i];
  if (c == 0xE2) {
    // U+2028 is E2 80 A8, U+2029 is E2 80 A9; other E2 sequences copy through.
    if (*i + 2 < n && p[*i + 1] == 0x80 && (p[*i + 2] == 0xA8 || p[*i + 2] == 0xA9)) {
      std::memcpy(d, p[*i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
      *i += 3;
      return d + 6;
    }
    *d = static_cast<char>(c);
    *i += 1;
    return d + 1;
  }
  *i += 1;
  char second;
  switch (c) {
    case '"':
      second = '"';
      break;
    case '\\':
      second = '\\';
      break;
    case '\b':
      second = 'b';
      break;
    case '\f':
      second = 'f';
      break;
    case '\n':
      second = 'n';
      break;
    case '\r':
      second = 'r';
      break;
    case '\t':
      second = 't';
      break;
    default: {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      std::memcpy(d, esc, 6);
      return d + 6;
    }
  }
  d[0] = '\\';
  d[1] = second;
  return d + 2;
}

}  // namespace

namespace {

// The general case of AppendValidJsonString(JsonBuffer): any length, escapes. Kept out of
// line so that the common case (a short string without escapes) stays a small function.
__attribute__((no_sanitize_address, noinline)) void AppendValidJsonStringSlow(std::string_view s,
                                                                              JsonBuffer* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  // Worst case 6 output bytes per input byte, the quotes, and 16 bytes of overshoot.
  out->Reserve(6 * n + 2 + 16);
  char* d = out->cursor();
  *d++ = '"';
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    const size_t avail = n - i;
    if (avail >= 16 || (reinterpret_cast<uintptr_t>(p + i) & 4095) <= 4096 - 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      unsigned mask = StopMask16(p + i);
      if (avail < 16) mask &= (1u << avail) - 1;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d), b);
      if (mask == 0) {
        const size_t k = avail < 16 ? avail : 16;
        d += k;
        i += k;
        continue;
      }
      const size_t k = static_cast<size_t>(__builtin_ctz(mask));
      d += k;
      i += k;
    } else {
      while (i < n && !kStop[p[i]]) *d++ = static_cast<char>(p[i++]);
      if (i >= n) break;
    }
#else
    while (i < n && !kStop[p[i]]) *d++ = static_cast<char>(p[i++]);
    if (i >= n) break;
#endif
    d = WriteEscape(p, n, &i, d);
  }
  *d++ = '"';
  out->set_cursor(d);
}

}  // namespace

// Same escaping as AppendEscaped, written straight into the buffer: 16 bytes are loaded,
// checked and stored at a time (the buffer has room for the overshoot), so a short
// string without escapes costs one load, one store and a few compares. Tails are read
// as in AppendEscaped (a 16-byte load within one page, masked), hence no ASan.
__attribute__((no_sanitize_address)) void AppendValidJsonString(std::string_view s,
                                                                JsonBuffer* out) {
#if defined(__SSE2__)
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  if (out->available() >= 34) {
    if (n < 16 && (reinterpret_cast<uintptr_t>(p) & 4095) <= 4096 - 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if ((StopMask16(p) & ((1u << n) - 1)) == 0) {
        char* d = out->cursor();
        *d = '"';
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 1), b);
        d[n + 1] = '"';
        out->set_cursor(d + n + 2);
        return;
      }
    } else if (n >= 16 && n <= 32) {
      // Two overlapping loads cover the string exactly: no read past its end.
      const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i tail = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16));
      if ((StopMask16(p) | StopMask16(p + n - 16)) == 0) {
        char* d = out->cursor();
        *d = '"';
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 1), head);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 1 + n - 16), tail);
        d[n + 1] = '"';
        out->set_cursor(d + n + 2);
        return;
      }
    }
  }
#endif
  AppendValidJsonStringSlow(s, out);
}

std::string QuoteForMessage(std::string_view s, size_t max_bytes) {
  bool cut = false;
  if (s.size() > max_bytes) {
    size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s = s.substr(0, end);
    cut = true;
  }
  std::string out;
  if (!AppendJsonString(s, &out)) {
    out = "(invalid UTF-8)";
    return out;
  }
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

bool AppendJsonStringBody(std::string_view s, std::string* out) {
  if (!IsValidUtf8(s)) return false;
  AppendEscaped(s, out);
  return true;
}

void AppendValidJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendEscaped(s, out);
  out->push_back('"');
}

bool AppendJsonString(std::string_view s, std::string* out) {
  if (!IsValidUtf8(s)) return false;
  AppendValidJsonString(s, out);
  return true;
}

}  // namespace lakehose
