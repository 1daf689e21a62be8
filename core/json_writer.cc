#include "core/json_writer.h"

#include <array>
#include <cstdint>

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

void AppendEscaped(std::string_view s, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < n; ++i) {
#if defined(__SSE2__)
    // Skip 16 bytes at a time while none of them is a stop byte (measured: the escape
    // scan was 14% of the transform with the byte loop alone).
    while (i + 16 <= n) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      const __m128i ctrl = _mm_cmpeq_epi8(_mm_max_epu8(b, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
      const __m128i quote = _mm_cmpeq_epi8(b, _mm_set1_epi8('"'));
      const __m128i slash = _mm_cmpeq_epi8(b, _mm_set1_epi8('\\'));
      const __m128i e2 = _mm_cmpeq_epi8(b, _mm_set1_epi8(static_cast<char>(0xE2)));
      const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ctrl, quote), _mm_or_si128(slash, e2)));
      if (mask != 0) {
        i += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        break;
      }
      i += 16;
    }
    if (i >= n) break;
#endif
    const unsigned char c = p[i];
    if (!kStop[c]) continue;
    if (c == 0xE2) {
      // U+2028 is E2 80 A8, U+2029 is E2 80 A9; other E2 sequences copy through.
      if (i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
        out->append(s.data() + run, i - run);
        out->append(p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
        i += 2;
        run = i + 1;
      }
      continue;
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(esc, 6);
      }
    }
    run = i + 1;
  }
  out->append(s.data() + run, n - run);
}

}  // namespace

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
