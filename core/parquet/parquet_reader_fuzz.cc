// Fuzz target for the Parquet reader: arbitrary bytes as a Parquet file. It must not
// crash, must end in bounded time and memory (kMaxParquetReadDepth, kMaxThriftDepth, the
// limits below), and may only refuse with INVALID_ARGUMENT (not Parquet), DATA_LOSS
// (damaged), UNIMPLEMENTED (a feature it does not read) or RESOURCE_EXHAUSTED (a limit).
// What it reads must be JSON objects that lakehose's writer takes back with the columns
// it reports (a damaged file may read as other values, never as what cannot be written).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/parquet/parquet_reader.h"
#include "core/parquet/parquet_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  lakehose::ParquetReadOptions options;
  options.max_entries = 1 << 20;  // small enough for the fuzzer's memory limit
  options.max_page_bytes = 1 << 24;
  auto file = lakehose::ReadParquetFile(bytes, options);
  if (!file.ok()) {
    switch (file.status().code()) {
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kDataLoss:
      case absl::StatusCode::kUnimplemented:
      case absl::StatusCode::kResourceExhausted:
        return 0;
      default:
        std::abort();
    }
  }
  // Every document is a JSON object the writer's parser accepts; re-encoding with the
  // columns read may still refuse a value (a damaged DOUBLE read as "NaN", a decimal
  // wider than 38 digits), but only with INVALID_ARGUMENT.
  std::vector<std::string_view> lines(file->rows.begin(), file->rows.end());
  lakehose::ParquetOptions o;
  o.nested = lakehose::NestedEncoding::kNative;
  o.schema = file->columns;
  if (lines.size() > 4096) lines.resize(4096);
  auto again = lakehose::EncodeParquetFile(lines, o);
  if (!again.ok() && again.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  o.schema.clear();
  auto inferred = lakehose::EncodeParquetFile(lines, o);
  if (!inferred.ok()) std::abort();  // inference takes every JSON object
  return 0;
}
