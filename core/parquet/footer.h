// The end of a Parquet file: the FileMetaData struct in Thrift's compact protocol
// (core/parquet/thrift_compact.h), its 4-byte little-endian length and "PAR1".
//
// What it holds: format version 1; the schema as a depth-first list of SchemaElements
// (a root "schema" group, then each column: a scalar with its physical type, repetition
// and logical type; a STRUCT an optional group; a LIST the standard three levels
// `optional group name (LIST) { repeated group list { <element> } }`; a column's field_id
// on its element when it has one, for a LIST on the LIST group); the row count;
// each row group's ColumnChunks (ColumnMetaData with encodings, path, codec, sizes,
// offsets and statistics); the key-value metadata; created_by; and a TypeDefinedOrder
// column order per leaf, which tells readers the statistics may be used.
//
// Pure; not thread-safe (appends to the caller's file).
#ifndef LAKEHOSE_CORE_PARQUET_FOOTER_H_
#define LAKEHOSE_CORE_PARQUET_FOOTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/parquet/column_writer.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

struct RowGroupMeta {
  std::vector<ChunkMeta> chunks;  // one per leaf, in schema order
  int64_t rows = 0;
};

// Appends the footer of a file with top-level `columns` (`leaves` leaf columns in all),
// `groups` and `rows` records in all. Of `options`, only codec and created_by are read.
void AppendFooter(const std::vector<ParquetColumn>& columns, size_t leaves,
                  const std::vector<RowGroupMeta>& groups, int64_t rows,
                  const std::vector<std::pair<std::string, std::string>>& key_value_metadata,
                  const ParquetOptions& options, std::string* file);

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_FOOTER_H_
