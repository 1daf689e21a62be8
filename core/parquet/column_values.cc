#include "core/parquet/column_values.h"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/base/base64.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"

namespace lakehose {
namespace parquet_internal {
namespace {

// A number token, or (numbers: string pipelines) a string holding one.
std::optional<Significand> Number(const Value& v) {
  if (v.kind != Value::kNumber && v.kind != Value::kString) return std::nullopt;
  return NumberText(v.text);
}

// "record N: " before the rest of a message, or nothing for row -1 (one
// record checked alone, CheckParquetRecord).
std::string RecordName(int64_t row) {
  return row < 0 ? std::string() : StrCat("record ", row, ": ");
}

}  // namespace

absl::Status Converter::Add(const Value& v, int64_t row, ChunkValues* out) {
  if (v.kind == Value::kAbsent || v.kind == Value::kNull) {
    if (col_.required)
      return absl::InvalidArgumentError(StrCat(
          "parquet: ", RecordName(row), "has no value for required column \"", col_.name, "\""));
    out->defined.push_back(0);
    return absl::OkStatus();
  }
  out->defined.push_back(1);
  return AddPresent(v, row, out);
}

absl::Status Converter::AddPresent(const Value& v, int64_t row, ChunkValues* out) {
  switch (col_.type) {
    case ParquetType::kString:
      out->bytes.push_back(v.text);  // strings as is; other kinds as their JSON text
      if (v.kind == Value::kTrue) out->bytes.back() = "true";
      if (v.kind == Value::kFalse) out->bytes.back() = "false";
      return absl::OkStatus();
    case ParquetType::kJson:
      if (v.kind == Value::kString) {
        std::string quoted;
        AppendValidJsonString(v.text, &quoted);
        arena_->push_back(std::move(quoted));
        out->bytes.push_back(arena_->back());
      } else {
        out->bytes.push_back(v.kind == Value::kTrue    ? "true"
                             : v.kind == Value::kFalse ? "false"
                                                       : v.text);
      }
      return absl::OkStatus();
    case ParquetType::kBinary: {
      if (v.kind != Value::kString) return Mismatch(v, row);
      std::optional<std::string> raw = Base64Decode(v.text);
      if (!raw) return Mismatch(v, row);
      arena_->push_back(*std::move(raw));
      out->bytes.push_back(arena_->back());
      return absl::OkStatus();
    }
    case ParquetType::kInt64:
    case ParquetType::kTimestampMillis: {
      if (std::optional<int64_t> fast = FastInt64(v.text); fast && v.kind != Value::kNull) {
        out->ints.push_back(*fast);
        return absl::OkStatus();
      }
      std::optional<Significand> s = Number(v);
      std::optional<int64_t> i = s ? ToInt64(*s) : std::nullopt;
      if (!i) return Mismatch(v, row);
      out->ints.push_back(*i);
      return absl::OkStatus();
    }
    case ParquetType::kTimestampMicros: {
      std::optional<int64_t> ms = FastInt64(v.text);
      if (!ms || v.kind == Value::kNull) {
        std::optional<Significand> s = Number(v);
        ms = s ? ToInt64(*s) : std::nullopt;
      }
      int64_t us = 0;
      if (!ms || __builtin_mul_overflow(*ms, int64_t{1000}, &us)) return Mismatch(v, row);
      out->ints.push_back(us);
      return absl::OkStatus();
    }
    case ParquetType::kDecimal: {
      std::optional<Significand> s = Number(v);
      std::optional<Int128> d = s ? Unscaled(*s, col_.scale) : std::nullopt;
      if (!d) return Mismatch(v, row);
      out->decimals.push_back(*d);
      return absl::OkStatus();
    }
    case ParquetType::kDouble: {
      // The nearest double; a number beyond DOUBLE's range (it would read as Infinity,
      // or 0 without being 0) does not fit.
      std::optional<double> d = Number(v) ? DoubleValue(v.text) : std::nullopt;
      if (!d) return Mismatch(v, row);
      out->doubles.push_back(*d);
      return absl::OkStatus();
    }
    case ParquetType::kBool:
      if (v.kind != Value::kTrue && v.kind != Value::kFalse) return Mismatch(v, row);
      out->bools.push_back(v.kind == Value::kTrue);
      return absl::OkStatus();
    case ParquetType::kStruct:
    case ParquetType::kList:
      return absl::InternalError("parquet: a group column has no values of its own");
  }
  return absl::OkStatus();
}

absl::Status Converter::Mismatch(const Value& v, int64_t row) const {
  return absl::InvalidArgumentError(StrCat("parquet: ", RecordName(row), "column \"", col_.name,
                                           "\" (", ParquetTypeName(col_.type, col_.scale),
                                           ") cannot hold ", QuoteForMessage(v.text)));
}

}  // namespace parquet_internal
}  // namespace lakehose
