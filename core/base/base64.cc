#include "core/base/base64.h"

#include <array>
#include <cstdint>

namespace lakehose {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

// Returns the number of decoded bytes, or -1 if `in` is not valid padded base64.
// When `out` is non-null the bytes are appended to it.
long DecodeInto(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return -1;
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  const size_t n = in.size();
  long written = 0;
  for (size_t i = 0; i < n; i += 4) {
    const bool last = i + 4 == n;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const unsigned char c = in[i + j];
      if (last && j >= 4 - pad) {
        v <<= 6;
        continue;
      }
      const int8_t d = kDecode[c];
      if (d < 0) return -1;
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    const size_t bytes = last ? 3 - pad : 3;
    const char b[3] = {static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
    if (out) out->append(b, bytes);
    written += static_cast<long>(bytes);
  }
  return written;
}

}  // namespace

void Base64Encode(std::string_view in, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  out->reserve(out->size() + (n + 2) / 3 * 4);
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    const char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                       kAlphabet[v & 63]};
    out->append(q, 4);
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    const char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63],
                       i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=', '='};
    out->append(q, 4);
  }
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  Base64Encode(in, &out);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  if (DecodeInto(in, &out) < 0) return std::nullopt;
  return out;
}

bool IsBase64(std::string_view in) { return DecodeInto(in, nullptr) >= 0; }

}  // namespace lakehose
