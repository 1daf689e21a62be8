#include "core/parquet/encoding.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "core/base/string_view_hash.h"
#include "core/parquet/thrift_compact.h"

namespace lakehose {
namespace parquet_internal {

void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void AppendPlainByteArray(std::string_view v, std::string* out) {
  PutU32(static_cast<uint32_t>(v.size()), out);
  out->append(v);
}

void AppendPlainInt64(int64_t v, std::string* out) { PutU64(static_cast<uint64_t>(v), out); }

void AppendPlainDouble(double v, std::string* out) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  PutU64(bits, out);
}

void AppendPlainDecimal(Int128 v, std::string* out) { out->append(Int128BigEndian(v)); }

std::string Int64Bytes(int64_t v) {
  std::string s;
  AppendPlainInt64(v, &s);
  return s;
}

std::string DoubleBytes(double v) {
  std::string s;
  AppendPlainDouble(v, &s);
  return s;
}

std::string Int128BigEndian(Int128 v) {
  std::string s(16, '\0');
  unsigned __int128 u = static_cast<unsigned __int128>(v);
  for (int i = 15; i >= 0; --i) {
    s[i] = static_cast<char>(u & 0xFF);
    u >>= 8;
  }
  return s;
}

void PlainBooleans::Append(bool v, std::string* out) {
  acc_ |= static_cast<uint8_t>(v << bits_);
  if (++bits_ == 8) {
    out->push_back(static_cast<char>(acc_));
    acc_ = 0;
    bits_ = 0;
  }
}

void PlainBooleans::Flush(std::string* out) {
  if (bits_ > 0) out->push_back(static_cast<char>(acc_));
  acc_ = 0;
  bits_ = 0;
}

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value > 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

void AppendRleHybrid(const std::vector<uint32_t>& values, int width, std::string* out) {
  const size_t n = values.size();
  const int value_bytes = (width + 7) / 8;
  size_t i = 0;
  auto run_at = [&](size_t j) {
    size_t k = j;
    while (k < n && values[k] == values[j]) ++k;
    return k - j;
  };
  while (i < n) {
    const size_t run = run_at(i);
    if (run >= 8) {
      ThriftCompactWriter::AppendVarint(static_cast<uint64_t>(run) << 1, out);
      for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>(values[i] >> (8 * b)));
      i += run;
      continue;
    }
    // Bit-packed groups of 8 until a long run starts at a group boundary (or the end,
    // where the last group is padded with zeros; the page's value count says where the
    // data stops).
    size_t j = i;
    do {
      j += 8;
    } while (j < n && run_at(j) < 8);
    const size_t groups = (j - i) / 8;
    ThriftCompactWriter::AppendVarint((static_cast<uint64_t>(groups) << 1) | 1, out);
    uint64_t acc = 0;
    int bits = 0;
    for (size_t k = i; k < j; ++k) {
      const uint64_t v = k < n ? values[k] : 0;
      acc |= v << bits;
      bits += width;
      while (bits >= 8) {
        out->push_back(static_cast<char>(acc & 0xFF));
        acc >>= 8;
        bits -= 8;
      }
    }
    if (bits > 0)
      out->push_back(static_cast<char>(acc & 0xFF));  // not reached: 8 * width bits per group
    i = std::min(j, n);
  }
}

std::optional<Dictionary> BuildDictionary(const std::vector<std::string_view>& values,
                                          int64_t max_entries, int64_t max_bytes) {
  if (values.empty()) return std::nullopt;
  Dictionary d;
  absl::flat_hash_map<std::string_view, uint32_t, StringViewHash> ids;
  int64_t bytes = 0;
  d.indices.reserve(values.size());
  for (std::string_view s : values) {
    auto [it, inserted] = ids.try_emplace(s, static_cast<uint32_t>(d.entries.size()));
    if (inserted) {
      d.entries.push_back(s);
      bytes += 4 + static_cast<int64_t>(s.size());
      // The dictionary only grows: once past a limit (or past half the values), stop.
      if (static_cast<int64_t>(d.entries.size()) > max_entries || bytes > max_bytes ||
          d.entries.size() * 2 > values.size())
        return std::nullopt;
    }
    d.indices.push_back(it->second);
  }
  return d;
}

}  // namespace parquet_internal
}  // namespace lakehose
