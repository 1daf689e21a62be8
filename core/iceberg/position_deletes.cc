#include "core/iceberg/position_deletes.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/parquet/parquet_reader.h"
#include "simdjson.h"

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

absl::StatusOr<std::vector<PositionDelete>> DecodePositionDeletes(std::string_view bytes) {
  absl::StatusOr<ParquetContents> file = ReadParquetFile(bytes);
  if (!file.ok())
    return absl::DataLossError(StrCat("position delete file: ", StatusMessage(file.status())));
  // The columns by the spec's field ids (a writer may name them otherwise), else by name.
  std::string path_name, pos_name;
  for (const ParquetColumn& c : file->columns) {
    if (c.field_id == kDeleteFilePathFieldId || (path_name.empty() && c.name == "file_path"))
      path_name = c.name;
    if (c.field_id == kDeletePosFieldId || (pos_name.empty() && c.name == "pos")) pos_name = c.name;
  }
  if (path_name.empty() || pos_name.empty())
    return absl::DataLossError("position delete file: no file_path and pos columns");
  std::vector<PositionDelete> out;
  out.reserve(file->rows.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < file->rows.size(); ++i) {
    simdjson::dom::object row;
    std::string_view path;
    int64_t pos = -1;
    if (parser.parse(file->rows[i]).get_object().get(row) != simdjson::SUCCESS ||
        row[path_name].get_string().get(path) != simdjson::SUCCESS ||
        row[pos_name].get_int64().get(pos) != simdjson::SUCCESS || pos < 0 || path.empty())
      return absl::DataLossError(
          StrCat("position delete file: row ", i, " has no data file path or position"));
    out.push_back({.file_path = std::string(path), .pos = pos});
  }
  return out;
}

}  // namespace lakehose::iceberg
