#include "core/parquet/footer.h"

#include <algorithm>

#include "core/parquet/encoding.h"
#include "core/parquet/format.h"
#include "core/parquet/thrift_compact.h"

namespace lakehose {
namespace parquet_internal {
namespace {

// The fields of a Statistics struct (the caller opens and closes it).
void WriteStatisticsFields(const Statistics& s, ThriftCompactWriter* w) {
  w->FieldI64(3, s.null_count);
  if (s.has_min_max) {
    w->FieldBinary(5, s.max);  // max_value
    w->FieldBinary(6, s.min);  // min_value
  }
}

// Schema elements of `c` and everything under it, depth first.
size_t SchemaElements(const ParquetColumn& c) {
  size_t n = c.type == ParquetType::kList ? 2 : 1;  // a LIST adds its repeated group
  for (const ParquetColumn& child : c.children) n += SchemaElements(child);
  return n;
}

void WriteSchemaElement(const ParquetColumn& c, ThriftCompactWriter* w) {
  if (c.type == ParquetType::kStruct || c.type == ParquetType::kList) {
    const bool list = c.type == ParquetType::kList;
    w->BeginStruct();
    w->FieldI32(3, kRepetitionOptional);
    w->FieldBinary(4, c.name);
    w->FieldI32(5, static_cast<int32_t>(list ? 1 : c.children.size()));
    if (list) w->FieldI32(6, kListCt);
    if (c.field_id >= 0) w->FieldI32(9, c.field_id);
    if (list) {
      w->FieldBeginStruct(10);
      w->FieldBeginStruct(3);  // LIST
      w->EndStruct();
      w->EndStruct();
      w->EndStruct();
      w->BeginStruct();  // repeated group list
      w->FieldI32(3, kRepetitionRepeated);
      w->FieldBinary(4, "list");
      w->FieldI32(5, 1);
    }
    w->EndStruct();
    for (const ParquetColumn& child : c.children) WriteSchemaElement(child, w);
    return;
  }
  w->BeginStruct();
  w->FieldI32(1, Physical(c.type));
  if (c.type == ParquetType::kDecimal) w->FieldI32(2, kDecimalBytes);
  w->FieldI32(3, c.required ? kRepetitionRequired : kRepetitionOptional);
  w->FieldBinary(4, c.name);
  // Fields 6-8 (converted type, scale, precision), then 9 (field_id), then 10 (logical
  // type): the compact protocol wants them in increasing order.
  switch (c.type) {
    case ParquetType::kString:
    case ParquetType::kJson:
      w->FieldI32(6, kUtf8);
      break;
    case ParquetType::kDecimal:
      w->FieldI32(6, kDecimalCt);
      w->FieldI32(7, c.scale);
      w->FieldI32(8, kDecimalPrecision);
      break;
    case ParquetType::kTimestampMillis:
      w->FieldI32(6, kTimestampMillisCt);
      break;
    case ParquetType::kTimestampMicros:
      w->FieldI32(6, kTimestampMicrosCt);
      break;
    default:
      break;
  }
  if (c.field_id >= 0) w->FieldI32(9, c.field_id);
  switch (c.type) {
    case ParquetType::kString:
    case ParquetType::kJson:
      w->FieldBeginStruct(10);
      w->FieldBeginStruct(1);  // STRING
      w->EndStruct();
      w->EndStruct();
      break;
    case ParquetType::kDecimal:
      w->FieldBeginStruct(10);
      w->FieldBeginStruct(5);  // DECIMAL
      w->FieldI32(1, c.scale);
      w->FieldI32(2, kDecimalPrecision);
      w->EndStruct();
      w->EndStruct();
      break;
    case ParquetType::kTimestampMillis:
    case ParquetType::kTimestampMicros:
      w->FieldBeginStruct(10);
      w->FieldBeginStruct(8);  // TIMESTAMP
      w->FieldBool(1, true);   // isAdjustedToUTC
      w->FieldBeginStruct(2);  // unit
      // TimeUnit: 1 MILLIS, 2 MICROS.
      w->FieldBeginStruct(c.type == ParquetType::kTimestampMillis ? 1 : 2);
      w->EndStruct();
      w->EndStruct();
      w->EndStruct();
      w->EndStruct();
      break;
    default:
      break;
  }
  w->EndStruct();
}

}  // namespace

void AppendFooter(const std::vector<ParquetColumn>& cols, size_t leaves,
                  const std::vector<RowGroupMeta>& groups, int64_t rows,
                  const std::vector<std::pair<std::string, std::string>>& kv,
                  const ParquetOptions& options, std::string* file) {
  size_t elements = 1;
  for (const ParquetColumn& c : cols) elements += SchemaElements(c);
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);  // version
  w.FieldBeginList(2, ThriftCompactWriter::kStruct, static_cast<uint32_t>(elements));
  w.BeginStruct();
  w.FieldBinary(4, "schema");
  w.FieldI32(5, static_cast<int32_t>(cols.size()));
  w.EndStruct();
  for (const ParquetColumn& c : cols) WriteSchemaElement(c, &w);
  w.FieldI64(3, rows);
  w.FieldBeginList(4, ThriftCompactWriter::kStruct, static_cast<uint32_t>(groups.size()));
  for (size_t g = 0; g < groups.size(); ++g) {
    const RowGroupMeta& rg = groups[g];
    int64_t total_uncompressed = 0, total_compressed = 0;
    for (const ChunkMeta& m : rg.chunks) {
      total_uncompressed += m.uncompressed;
      total_compressed += m.compressed;
    }
    w.BeginStruct();
    w.FieldBeginList(1, ThriftCompactWriter::kStruct, static_cast<uint32_t>(rg.chunks.size()));
    for (const ChunkMeta& m : rg.chunks) {
      w.BeginStruct();
      w.FieldI64(2, m.start);  // file_offset
      w.FieldBeginStruct(3);   // meta_data
      w.FieldI32(1, Physical(m.type));
      if (m.dictionary) {
        w.FieldBeginList(2, ThriftCompactWriter::kI32, 3);
        w.ElementI32(kPlain);
        w.ElementI32(kRle);
        w.ElementI32(kRleDictionary);
      } else {
        w.FieldBeginList(2, ThriftCompactWriter::kI32, 2);
        w.ElementI32(kPlain);
        w.ElementI32(kRle);
      }
      w.FieldBeginList(3, ThriftCompactWriter::kBinary, static_cast<uint32_t>(m.path.size()));
      for (const std::string& part : m.path) w.ElementBinary(part);
      w.FieldI32(4, CodecId(options.codec));
      w.FieldI64(5, m.num_values);
      w.FieldI64(6, m.uncompressed);
      w.FieldI64(7, m.compressed);
      w.FieldI64(9, m.data_page_offset);
      if (m.dictionary) w.FieldI64(11, m.dictionary_page_offset);
      w.FieldBeginStruct(12);  // statistics
      WriteStatisticsFields(m.stats, &w);
      w.EndStruct();
      w.EndStruct();  // meta_data
      w.EndStruct();  // ColumnChunk
    }
    w.FieldI64(2, total_uncompressed);
    w.FieldI64(3, rg.rows);
    if (!rg.chunks.empty()) w.FieldI64(5, rg.chunks.front().start);
    w.FieldI64(6, total_compressed);
    w.FieldI16(7, static_cast<int16_t>(std::min<size_t>(g, INT16_MAX)));
    w.EndStruct();
  }
  w.FieldBeginList(5, ThriftCompactWriter::kStruct, static_cast<uint32_t>(kv.size()));
  for (const auto& [k, v] : kv) {
    w.BeginStruct();
    w.FieldBinary(1, k);
    w.FieldBinary(2, v);
    w.EndStruct();
  }
  w.FieldBinary(6, options.created_by);
  w.FieldBeginList(7, ThriftCompactWriter::kStruct, static_cast<uint32_t>(leaves));
  for (size_t i = 0; i < leaves; ++i) {
    w.BeginStruct();
    w.FieldBeginStruct(1);  // TYPE_ORDER
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
  file->append(w.bytes());
  PutU32(static_cast<uint32_t>(w.bytes().size()), file);
  file->append("PAR1");
}

}  // namespace parquet_internal
}  // namespace lakehose
