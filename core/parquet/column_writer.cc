#include "core/parquet/column_writer.h"

#include <snappy.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

#include "core/base/compress.h"
#include "core/base/status_macros.h"
#include "core/parquet/encoding.h"
#include "core/parquet/format.h"
#include "core/parquet/thrift_compact.h"

namespace lakehose {
namespace parquet_internal {
namespace {

absl::StatusOr<std::string> CompressPage(ParquetCodec codec, int level, std::string_view page) {
  switch (codec) {
    case ParquetCodec::kNone:
      return std::string(page);
    case ParquetCodec::kSnappy: {
      std::string out;
      snappy::Compress(page.data(), page.size(), &out);
      return out;
    }
    case ParquetCodec::kGzip:
      return Compress(Compression::kGzip, level, page);
    case ParquetCodec::kZstd:
      return Compress(Compression::kZstd, level, page);
  }
  return absl::InternalError("parquet: unknown codec");
}

// Appends one page (its PageHeader, then its compressed body) to `file`.
absl::Status WritePage(PageType type, int32_t num_values, std::string_view page,
                       const ParquetOptions& options, std::string* file, ChunkMeta* m) {
  if (page.size() > static_cast<size_t>(INT32_MAX) / 2)
    return absl::InvalidArgumentError("parquet: a page is larger than 1 GiB");
  ASSIGN_OR_RETURN(std::string body, CompressPage(options.codec, options.compression_level, page));
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, type);
  w.FieldI32(2, static_cast<int32_t>(page.size()));
  w.FieldI32(3, static_cast<int32_t>(body.size()));
  if (type == kDataPage) {
    w.FieldBeginStruct(5);
    w.FieldI32(1, num_values);
    w.FieldI32(2, m->dictionary ? kRleDictionary : kPlain);
    w.FieldI32(3, kRle);  // definition levels
    w.FieldI32(4, kRle);  // repetition levels
    w.EndStruct();
  } else {
    w.FieldBeginStruct(7);
    w.FieldI32(1, num_values);
    w.FieldI32(2, kPlain);
    w.EndStruct();
  }
  w.EndStruct();
  file->append(w.bytes());
  file->append(body);
  m->uncompressed += static_cast<int64_t>(w.bytes().size() + page.size());
  m->compressed += static_cast<int64_t>(w.bytes().size() + body.size());
  return absl::OkStatus();
}

// Levels as a data page v1 holds them: a 4-byte length, then RLE/bit-packed.
void AppendLevels(const std::vector<uint32_t>& levels, int max_level, std::string* page) {
  std::string rle;
  AppendRleHybrid(levels, BitWidth(max_level), &rle);
  PutU32(static_cast<uint32_t>(rle.size()), page);
  page->append(rle);
}

}  // namespace

absl::Status WriteColumnChunk(const Leaf& leaf, const ChunkValues& v, const ParquetOptions& options,
                              std::string* file, ChunkMeta* m) {
  const ParquetColumn& col = *leaf.col;
  m->type = col.type;
  m->name = leaf.dotted;
  m->path = leaf.path;
  m->num_values = static_cast<int64_t>(v.defined.size());
  m->start = static_cast<int64_t>(file->size());
  m->stats = ComputeStatistics(col.type, leaf.value_def, v);

  std::optional<Dictionary> dict;
  if (IsByteArray(col.type))
    dict = BuildDictionary(v.bytes, options.max_dictionary_entries, options.max_dictionary_bytes);
  m->dictionary = dict.has_value();
  if (dict) {
    std::string page;
    for (std::string_view s : dict->entries) AppendPlainByteArray(s, &page);
    m->dictionary_page_offset = static_cast<int64_t>(file->size());
    RETURN_IF_ERROR(WritePage(kDictionaryPage, static_cast<int32_t>(dict->entries.size()), page,
                              options, file, m));
  }
  m->data_page_offset = static_cast<int64_t>(file->size());
  const int index_width = std::max(1, BitWidth(dict ? dict->entries.size() - 1 : 0));

  // Data pages of about page_bytes each, ending at record boundaries (an entry with
  // repetition level 0 starts a record). `row` counts entries: rows of a flat column.
  const size_t rows = v.defined.size();
  const bool repeated = leaf.max_rep > 0;
  const PhysicalType physical = Physical(col.type);
  size_t row = 0, value = 0;
  std::vector<uint32_t> levels, rep_levels, page_indices;
  do {
    std::string values;
    levels.clear();
    rep_levels.clear();
    page_indices.clear();
    const size_t first_row = row;
    PlainBooleans booleans;
    while (row < rows &&
           (row == first_row || (repeated && v.rep[row] != 0) ||
            static_cast<int64_t>(values.size() + page_indices.size()) < options.page_bytes)) {
      levels.push_back(v.defined[row]);
      if (repeated) rep_levels.push_back(v.rep[row]);
      if (v.defined[row] == leaf.value_def) {
        switch (physical) {
          case kByteArray:
            if (dict) {
              page_indices.push_back(dict->indices[value]);
            } else {
              AppendPlainByteArray(v.bytes[value], &values);
            }
            break;
          case kInt64Type:
            AppendPlainInt64(v.ints[value], &values);
            break;
          case kDoubleType:
            AppendPlainDouble(v.doubles[value], &values);
            break;
          case kFixedLenByteArray:
            AppendPlainDecimal(v.decimals[value], &values);
            break;
          case kBoolean:
            booleans.Append(v.bools[value] != 0, &values);
            break;
          case kInt32Type:  // types the reader reads and the writer never writes
          case kInt96Type:
          case kFloatType:
            break;
        }
        ++value;
      }
      ++row;
    }
    booleans.Flush(&values);
    std::string page;
    if (repeated) AppendLevels(rep_levels, leaf.max_rep, &page);
    if (leaf.max_def > 0) AppendLevels(levels, leaf.max_def, &page);
    if (dict) {
      page.push_back(static_cast<char>(index_width));
      AppendRleHybrid(page_indices, index_width, &page);
    } else {
      page.append(values);
    }
    RETURN_IF_ERROR(
        WritePage(kDataPage, static_cast<int32_t>(row - first_row), page, options, file, m));
    ++m->data_pages;
  } while (row < rows);
  return absl::OkStatus();
}

}  // namespace parquet_internal
}  // namespace lakehose
