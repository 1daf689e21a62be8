#include "core/base/base64.h"

#include <array>
#include <cstdint>
#include <cstring>

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
// When `out` is non-null the bytes are appended to it. The output is sized once and
// written through a pointer, four characters (three bytes) a step: an append per step
// cost more than the decoding (the CLI's Firehose input, bench/README.md).
long DecodeInto(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return -1;
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  const size_t n = in.size();
  if (n == 0) return 0;
  const size_t total = n / 4 * 3 - pad;
  const size_t old_size = out ? out->size() : 0;
  char scratch[3];
  char* dst = nullptr;
  if (out) {
    out->resize(old_size + total);
    dst = out->data() + old_size;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t full = n - 4;  // every quad but the last, which may hold padding
  for (size_t i = 0; i < full; i += 4) {
    const int8_t a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]],
                 d = kDecode[p[i + 3]];
    if ((a | b | c | d) < 0) {
      if (out) out->resize(old_size);
      return -1;
    }
    const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    char* w = dst ? dst : scratch;
    w[0] = static_cast<char>(v >> 16);
    w[1] = static_cast<char>(v >> 8);
    w[2] = static_cast<char>(v);
    if (dst) dst += 3;
  }
  uint32_t v = 0;
  for (size_t j = 0; j < 4; ++j) {
    if (j >= 4 - pad) {
      v <<= 6;
      continue;
    }
    const int8_t d = kDecode[p[full + j]];
    if (d < 0) {
      if (out) out->resize(old_size);
      return -1;
    }
    v = (v << 6) | static_cast<uint32_t>(d);
  }
  const char last[3] = {static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                        static_cast<char>(v)};
  if (dst) std::memcpy(dst, last, 3 - pad);
  return static_cast<long>(total);
}

}  // namespace

void Base64Encode(std::string_view in, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  // Sized once, written through a pointer (see DecodeInto).
  const size_t old_size = out->size();
  out->resize(old_size + (n + 2) / 3 * 4);
  char* w = out->data() + old_size;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    w[0] = kAlphabet[v >> 18];
    w[1] = kAlphabet[(v >> 12) & 63];
    w[2] = kAlphabet[(v >> 6) & 63];
    w[3] = kAlphabet[v & 63];
    w += 4;
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    w[0] = kAlphabet[v >> 18];
    w[1] = kAlphabet[(v >> 12) & 63];
    w[2] = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    w[3] = '=';
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
