#include "core/iceberg/position_deletes.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"

namespace lakehose::iceberg {

absl::StatusOr<PositionDeleteFile> EncodePositionDeletes(std::vector<PositionDelete> deletes,
                                                         const ParquetOptions& options) {
  if (deletes.empty()) return absl::InvalidArgumentError("a position delete file of no deletes");
  for (const PositionDelete& d : deletes) {
    if (d.file_path.empty())
      return absl::InvalidArgumentError("a position delete without a data file path");
    if (d.pos < 0)
      return absl::InvalidArgumentError(
          StrCat("a position delete of row ", d.pos, " of ", d.file_path));
  }
  // The spec: sorted by file_path, then pos (readers may stream them).
  std::sort(deletes.begin(), deletes.end());
  deletes.erase(std::unique(deletes.begin(), deletes.end()), deletes.end());

  ParquetOptions o = options;
  o.schema = {
      {.name = "file_path",
       .type = ParquetType::kString,
       .required = true,
       .field_id = kDeleteFilePathFieldId},
      {.name = "pos", .type = ParquetType::kInt64, .required = true, .field_id = kDeletePosFieldId},
  };
  o.nested = NestedEncoding::kJson;
  std::string text;
  std::vector<size_t> ends;
  ends.reserve(deletes.size());
  for (const PositionDelete& d : deletes) {
    text += "{\"file_path\":";
    if (!AppendJsonString(d.file_path, &text))
      return absl::InvalidArgumentError(
          StrCat("a data file path that is not UTF-8: ", QuoteForMessage(d.file_path)));
    StrAppend(&text, ",\"pos\":", d.pos, "}");
    ends.push_back(text.size());
  }
  std::vector<std::string_view> lines;
  lines.reserve(ends.size());
  size_t begin = 0;
  for (size_t end : ends) {
    lines.emplace_back(text.data() + begin, end - begin);
    begin = end;
  }
  absl::StatusOr<ParquetFile> file = EncodeParquetFile(lines, o);
  if (!file.ok()) return file.status();

  PositionDeleteFile out;
  DataFile& df = out.data_file;
  df.content = 1;
  df.file_format = "PARQUET";
  df.record_count = file->rows;
  df.file_size_in_bytes = static_cast<int64_t>(file->bytes.size());
  for (const ParquetFieldMetrics& m : file->field_metrics) {
    df.column_sizes[m.field_id] = m.column_size;
    df.value_counts[m.field_id] = m.value_count;
    df.null_value_counts[m.field_id] = m.null_count;
    if (m.lower_bound) df.lower_bounds[m.field_id] = *m.lower_bound;
    if (m.upper_bound) df.upper_bounds[m.field_id] = *m.upper_bound;
  }
  // Bounds of file_path are truncated to 16 code points, which tells a reader little;
  // the one data file, when there is one, tells it exactly which file the deletes touch.
  if (deletes.front().file_path == deletes.back().file_path)
    df.referenced_data_file = deletes.front().file_path;
  out.bytes = std::move(file->bytes);
  return out;
}

}  // namespace lakehose::iceberg
