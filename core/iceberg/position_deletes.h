// Iceberg v2 position delete files (the spec's "Position Delete Files"): the rows of data
// files a table no longer holds, by data file path and row position, as a Parquet file of
// `file_path` (string, field id 2147483546) and `pos` (long, 2147483545), both required,
// sorted by path then position, and the DataFile (content 1) a delete manifest lists for
// it. The first part of current-state tables (issue 17): an update adds the new image and
// a position delete of the old row; every Iceberg v2 reader applies them.
//
//   ASSIGN_OR_RETURN(PositionDeleteFile f, EncodePositionDeletes(deletes, parquet_options));
//   f.data_file.file_path = <where f.bytes is stored>;  f.data_file.partition = <the rows'>;
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_ICEBERG_POSITION_DELETES_H_
#define LAKEHOSE_CORE_ICEBERG_POSITION_DELETES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/iceberg/types.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose::iceberg {

inline constexpr int kDeleteFilePathFieldId = 2147483546;
inline constexpr int kDeletePosFieldId = 2147483545;

struct PositionDelete {
  std::string file_path;  // the data file's path exactly as its manifest entry has it
  int64_t pos = 0;        // the row's position in it, from 0
  bool operator<(const PositionDelete& o) const {
    return file_path != o.file_path ? file_path < o.file_path : pos < o.pos;
  }
  bool operator==(const PositionDelete& o) const {
    return file_path == o.file_path && pos == o.pos;
  }
};

struct PositionDeleteFile {
  std::string bytes;  // the Parquet file
  // content 1, file_format PARQUET, record_count (distinct deletes), file_size_in_bytes,
  // the metrics of both columns, referenced_data_file when every delete is in one data
  // file; file_path and partition are the caller's.
  DataFile data_file;
};

// The delete file of `deletes` (any order; a repeated delete is written once).
// INVALID_ARGUMENT for none, a negative position or an empty path. `options`' codec,
// level, row groups and pages apply; its schema is the delete file's own.
absl::StatusOr<PositionDeleteFile> EncodePositionDeletes(std::vector<PositionDelete> deletes,
                                                         const ParquetOptions& options);

// The deletes of a position delete file (its Parquet bytes), in file order: what
// compaction reads to know which rows of a data file are gone. DATA_LOSS for a file that
// is damaged or lacks the file_path and pos columns (by the spec's field ids, else by
// name), or a row with a null or negative position.
absl::StatusOr<std::vector<PositionDelete>> DecodePositionDeletes(std::string_view bytes);

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_POSITION_DELETES_H_
