// The column chunk writer: one leaf's values for one row group, as pages appended to the
// file. A BYTE_ARRAY chunk whose dictionary pays (BuildDictionary in encoding.h, with
// the ParquetOptions::max_dictionary_* limits) gets a dictionary page (PLAIN) and
// RLE_DICTIONARY data pages; every other chunk PLAIN data pages. Data pages are v1:
// repetition levels (when the leaf has any), definition levels (unless REQUIRED), each
// RLE/bit-packed with a 4-byte length, then the values. A page is cut once its values
// reach ParquetOptions::page_bytes (uncompressed), only where a record starts; each
// page is compressed on its own with ParquetOptions::codec behind its PageHeader.
//
// What it returns, ChunkMeta, is what the footer needs to describe the chunk.
// Not thread-safe (appends to the caller's file); pure.
#ifndef LAKEHOSE_CORE_PARQUET_COLUMN_WRITER_H_
#define LAKEHOSE_CORE_PARQUET_COLUMN_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/parquet/column_values.h"
#include "core/parquet/levels.h"
#include "core/parquet/parquet_writer.h"
#include "core/parquet/statistics.h"

namespace lakehose {
namespace parquet_internal {

// One written column chunk: its ColumnMetaData (offsets are into the file).
struct ChunkMeta {
  ParquetType type = ParquetType::kString;
  std::string name;  // dotted path
  std::vector<std::string> path;
  bool dictionary = false;
  int64_t num_values = 0;
  int64_t data_pages = 0;
  int64_t uncompressed = 0, compressed = 0;  // page headers included
  int64_t data_page_offset = 0, dictionary_page_offset = -1, start = 0;
  Statistics stats;
};

// Appends the chunk of `leaf` holding `values` to `file`. INVALID_ARGUMENT if a page
// would pass 1 GiB; a compression error as Compress's.
absl::Status WriteColumnChunk(const Leaf& leaf, const ChunkValues& values,
                              const ParquetOptions& options, std::string* file, ChunkMeta* meta);

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_COLUMN_WRITER_H_
