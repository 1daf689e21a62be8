#include "core/parquet/field_metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/parquet/encoding.h"
#include "core/parquet/format.h"

namespace lakehose {
namespace parquet_internal {
namespace {

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The length of the first `n` code points (bytes when !utf8) of `s`.
size_t PrefixLength(std::string_view s, size_t n, bool utf8) {
  if (!utf8) return std::min(n, s.size());
  size_t i = 0, count = 0;
  while (i < s.size()) {
    if (!IsContinuation(s[i])) {
      if (count == n) return i;
      ++count;
    }
    ++i;
  }
  return s.size();
}

// The code point encoded in `s` (one whole UTF-8 sequence), or nullopt.
std::optional<uint32_t> DecodeOne(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.size() == 1 && b(0) < 0x80) return b(0);
  uint32_t cp;
  size_t len;
  if ((b(0) & 0xE0) == 0xC0) {
    cp = b(0) & 0x1F;
    len = 2;
  } else if ((b(0) & 0xF0) == 0xE0) {
    cp = b(0) & 0x0F;
    len = 3;
  } else if ((b(0) & 0xF8) == 0xF0) {
    cp = b(0) & 0x07;
    len = 4;
  } else {
    return std::nullopt;
  }
  if (s.size() != len) return std::nullopt;
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (b(i) & 0x3F);
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// `prefix` with its last code point (byte) incremented, dropping those that cannot be.
std::optional<std::string> Increment(std::string_view prefix, bool utf8) {
  size_t end = prefix.size();
  while (end > 0) {
    size_t start = end - 1;
    if (!utf8) {
      const auto byte = static_cast<unsigned char>(prefix[start]);
      if (byte != 0xFF) {
        std::string out(prefix.substr(0, start));
        out.push_back(static_cast<char>(byte + 1));
        return out;
      }
    } else {
      while (start > 0 && IsContinuation(prefix[start])) --start;
      std::optional<uint32_t> cp = DecodeOne(prefix.substr(start, end - start));
      if (!cp) return std::nullopt;
      uint32_t next = *cp + 1;
      if (next >= 0xD800 && next <= 0xDFFF) next = 0xE000;  // surrogates are not characters
      if (next <= 0x10FFFF) {
        std::string out(prefix.substr(0, start));
        AppendUtf8(next, &out);
        return out;
      }
    }
    end = start;
  }
  return std::nullopt;
}

}  // namespace

std::string_view TruncatedLowerBound(std::string_view s, size_t n, bool utf8) {
  return s.substr(0, PrefixLength(s, n, utf8));
}

std::optional<std::string> TruncatedUpperBound(std::string_view s, size_t n, bool utf8) {
  const size_t len = PrefixLength(s, n, utf8);
  if (len == s.size()) return std::string(s);
  return Increment(s.substr(0, len), utf8);
}

std::string MinimalBigEndian(Int128 v) {
  const std::string full = Int128BigEndian(v);
  size_t i = 0;
  // A leading 0x00 (0xFF) byte is redundant when the next byte's top bit says the same.
  while (i + 1 < full.size()) {
    const auto b = static_cast<unsigned char>(full[i]);
    const bool next_negative = (static_cast<unsigned char>(full[i + 1]) & 0x80) != 0;
    if ((b == 0x00 && !next_negative) || (b == 0xFF && next_negative)) {
      ++i;
    } else {
      break;
    }
  }
  return full.substr(i);
}

FieldMetricsBuilder::FieldMetricsBuilder(const Leaf& leaf)
    : leaf_(leaf), bounds_(leaf.max_rep == 0) {
  m_.field_id = leaf.col->field_id;
  if (leaf.col->type == ParquetType::kDouble) m_.nan_count = 0;
}

void FieldMetricsBuilder::AddChunk(const ChunkValues& v, const ChunkMeta& meta) {
  m_.column_size += meta.compressed;
  m_.value_count += static_cast<int64_t>(v.defined.size());
  m_.null_count += meta.stats.null_count;
  const ParquetType type = leaf_.col->type;
  if (type == ParquetType::kDouble)
    for (double d : v.doubles) m_.nan_count += std::isnan(d) ? 1 : 0;
  if (!bounds_) return;
  switch (Physical(type)) {
    case kByteArray: {
      if (v.bytes.empty()) break;
      const bool utf8 = type != ParquetType::kBinary;
      const auto [lo, hi] = std::minmax_element(v.bytes.begin(), v.bytes.end());
      const std::string_view lower = TruncatedLowerBound(*lo, kIcebergBoundTruncateLength, utf8);
      const std::string_view upper = TruncatedLowerBound(*hi, kIcebergBoundTruncateLength, utf8);
      const bool truncated = upper.size() < hi->size();
      if (!any_ || lower < bytes_min_) bytes_min_ = std::string(lower);
      // Of two values with the same prefix, the longer (truncated) one is the larger.
      if (!any_ || upper > bytes_max_prefix_ ||
          (upper == bytes_max_prefix_ && truncated && !bytes_max_truncated_)) {
        bytes_max_prefix_ = std::string(upper);
        bytes_max_truncated_ = truncated;
      }
      any_ = true;
      break;
    }
    case kInt64Type: {
      if (v.ints.empty()) break;
      const auto [lo, hi] = std::minmax_element(v.ints.begin(), v.ints.end());
      int_min_ = any_ ? std::min(int_min_, *lo) : *lo;
      int_max_ = any_ ? std::max(int_max_, *hi) : *hi;
      any_ = true;
      break;
    }
    case kDoubleType:
      for (double d : v.doubles) {
        if (std::isnan(d)) continue;  // NaN is never a bound (the spec's rule)
        double_min_ = any_ ? std::min(double_min_, d) : d;
        double_max_ = any_ ? std::max(double_max_, d) : d;
        any_ = true;
      }
      break;
    case kFixedLenByteArray: {
      if (v.decimals.empty()) break;
      const auto [lo, hi] = std::minmax_element(v.decimals.begin(), v.decimals.end());
      decimal_min_ = any_ ? std::min(decimal_min_, *lo) : *lo;
      decimal_max_ = any_ ? std::max(decimal_max_, *hi) : *hi;
      any_ = true;
      break;
    }
    case kBoolean: {
      if (v.bools.empty()) break;
      const auto [lo, hi] = std::minmax_element(v.bools.begin(), v.bools.end());
      bool_min_ = any_ ? (bool_min_ && *lo != 0) : *lo != 0;
      bool_max_ = any_ ? (bool_max_ || *hi != 0) : *hi != 0;
      any_ = true;
      break;
    }
    case kInt32Type:  // types the reader reads and the writer never writes
    case kInt96Type:
    case kFloatType:
      break;
  }
}

ParquetFieldMetrics FieldMetricsBuilder::Finish() const {
  ParquetFieldMetrics out = m_;
  if (!bounds_ || !any_) return out;
  switch (Physical(leaf_.col->type)) {
    case kByteArray:
      out.lower_bound = bytes_min_;
      if (!bytes_max_truncated_) {
        out.upper_bound = bytes_max_prefix_;
      } else {
        out.upper_bound = Increment(bytes_max_prefix_, leaf_.col->type != ParquetType::kBinary);
      }
      break;
    case kInt64Type:
      out.lower_bound = Int64Bytes(int_min_);
      out.upper_bound = Int64Bytes(int_max_);
      break;
    case kDoubleType:
      // Zeros as Parquet's statistics write them: -0.0 is the lower, +0.0 the upper bound,
      // so a reader comparing either zero finds it inside.
      out.lower_bound = DoubleBytes(double_min_ == 0 ? -0.0 : double_min_);
      out.upper_bound = DoubleBytes(double_max_ == 0 ? 0.0 : double_max_);
      break;
    case kFixedLenByteArray:
      out.lower_bound = MinimalBigEndian(decimal_min_);
      out.upper_bound = MinimalBigEndian(decimal_max_);
      break;
    case kBoolean:
      out.lower_bound = std::string(1, bool_min_ ? '\x01' : '\x00');
      out.upper_bound = std::string(1, bool_max_ ? '\x01' : '\x00');
      break;
    case kInt32Type:  // types the reader reads and the writer never writes
    case kInt96Type:
    case kFloatType:
      break;
  }
  return out;
}

}  // namespace parquet_internal
}  // namespace lakehose
