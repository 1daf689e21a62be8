// parquet_iceberg_fixture DIR: writes DIR/records.jsonl and DIR/iceberg.parquet, the
// records encoded by lakehose's Parquet writer as the Iceberg writer will call it (a
// declared schema with field ids on every column, STRUCT and LIST columns, timestamptz,
// NestedEncoding::kNative, zstd, small row groups, an "iceberg.schema" key-value entry),
// and prints the file's ParquetFile::field_metrics as JSON (bounds in hex) on stdout.
// tests/parquet/iceberg_fields.test.mjs checks the file with DuckDB. Test-only: never
// shipped.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/parquet/parquet_writer.h"

namespace {

using lakehose::ParquetColumn;
using lakehose::ParquetType;

ParquetColumn Col(std::string name, ParquetType type, int id,
                  std::vector<ParquetColumn> children = {}, int scale = 0) {
  ParquetColumn c;
  c.name = std::move(name);
  c.type = type;
  c.field_id = id;
  c.children = std::move(children);
  c.scale = scale;
  return c;
}

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// Record i: every column set in most records, nulls, empty lists and long strings in some.
std::string Record(int i) {
  using lakehose::StrCat;
  std::string r = StrCat("{\"id\":", i + 1);
  if (i % 7 != 3) {
    // Long names (past kMaxStatisticsBytes for one) exercise the truncated bounds.
    std::string name = i == 5 ? std::string(300, 'z') : StrCat("name-", 1000 + i * 37 % 500);
    if (i == 9) name = "\xc3\xa9t\xc3\xa9 caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9s";
    r += StrCat(",\"name\":\"", name, "\"");
  }
  if (i % 5 != 2)
    r += StrCat(",\"amount\":\"", (i * 1234) % 100000 - 30000, ".", 10 + i % 90, "\"");
  if (i % 6 != 1) r += StrCat(",\"score\":", i % 4 == 0 ? "-0.5" : StrCat(i, ".25"));
  if (i % 3 != 0) r += StrCat(",\"active\":", i % 2 == 0 ? "true" : "false");
  if (i % 4 == 1) r += ",\"payload\":\"AAEC/w==\"";
  if (i % 4 == 2) r += ",\"payload\":\"aGVsbG8=\"";
  if (i % 8 != 7) r += StrCat(",\"ts\":", int64_t{1700000000000} + int64_t{i} * 3600001);
  if (i % 5 == 0) {
    r += ",\"addr\":null";
  } else if (i % 5 == 1) {
    r += StrCat(",\"addr\":{\"city\":\"c", i, "\"}");
  } else {
    r += StrCat(",\"addr\":{\"city\":\"city-", i % 3, "\",\"zip\":", 10000 + i, ",\"extra\":1}");
  }
  if (i % 4 == 0) {
    r += ",\"tags\":[]";
  } else if (i % 4 == 1) {
    r += StrCat(",\"tags\":[\"t", i, "\",null,\"u\"]");
  } else if (i % 4 == 2) {
    r += StrCat(",\"tags\":[\"only", i, "\"]");
  }
  if (i % 3 == 0) {
    r += StrCat(",\"items\":[{\"sku\":\"s", i, "\",\"qty\":", i, "},{\"qty\":2},null]");
  } else if (i % 3 == 1) {
    r += ",\"items\":[]";
  }
  return r + "}";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  lakehose::ParquetOptions o;
  o.codec = lakehose::ParquetCodec::kZstd;
  o.nested = lakehose::NestedEncoding::kNative;
  o.row_group_rows = 16;
  o.page_bytes = 256;
  ParquetColumn id = Col("id", ParquetType::kInt64, 1);
  id.required = true;
  o.schema = {
      id,
      Col("name", ParquetType::kString, 2),
      Col("amount", ParquetType::kDecimal, 3, {}, 2),
      Col("score", ParquetType::kDouble, 4),
      Col("active", ParquetType::kBool, 5),
      Col("payload", ParquetType::kBinary, 6),
      Col("ts", ParquetType::kTimestampMicros, 7),
      Col("addr", ParquetType::kStruct, 8,
          {Col("city", ParquetType::kString, 9), Col("zip", ParquetType::kInt64, 10)}),
      Col("tags", ParquetType::kList, 11, {Col("element", ParquetType::kString, 12)}),
      Col("items", ParquetType::kList, 13,
          {Col("element", ParquetType::kStruct, 14,
               {Col("sku", ParquetType::kString, 15), Col("qty", ParquetType::kInt64, 16)})}),
  };
  // A long "iceberg.schema" value, as the Iceberg writer adds (here only its size matters).
  std::string schema_json = R"({"type":"struct","schema-id":0,"fields":[)";
  for (int i = 0; i < 3000; ++i) {
    if (i > 0) schema_json += ",";
    schema_json += lakehose::StrCat(R"({"id":)", i + 1, R"(,"name":"column_)", i,
                                    R"(","required":false,"type":"string"})");
  }
  schema_json += "]}";
  o.key_value_metadata = {{"iceberg.schema", schema_json}};

  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) lines.push_back(Record(i));
  std::vector<std::string_view> views(lines.begin(), lines.end());
  absl::StatusOr<lakehose::ParquetFile> f = lakehose::EncodeParquetFile(views, o);
  if (!f.ok()) {
    std::fprintf(stderr, "encode: %s\n", std::string(f.status().message()).c_str());
    return 1;
  }
  std::ofstream records(dir + "/records.jsonl", std::ios::binary);
  for (const std::string& l : lines) records << l << "\n";
  std::ofstream parquet(dir + "/iceberg.parquet", std::ios::binary);
  parquet.write(f->bytes.data(), static_cast<std::streamsize>(f->bytes.size()));
  std::ofstream kv(dir + "/iceberg.schema.json", std::ios::binary);
  kv << schema_json;
  if (!records || !parquet || !kv) {
    std::fprintf(stderr, "cannot write to %s\n", dir.c_str());
    return 1;
  }
  std::string out = "[";
  for (size_t i = 0; i < f->field_metrics.size(); ++i) {
    const lakehose::ParquetFieldMetrics& m = f->field_metrics[i];
    out += lakehose::StrCat(i ? "," : "", "{\"field_id\":", m.field_id,
                            ",\"column_size\":", m.column_size, ",\"value_count\":", m.value_count,
                            ",\"null_count\":", m.null_count, ",\"nan_count\":", m.nan_count);
    if (m.lower_bound) out += lakehose::StrCat(",\"lower\":\"", Hex(*m.lower_bound), "\"");
    if (m.upper_bound) out += lakehose::StrCat(",\"upper\":\"", Hex(*m.upper_bound), "\"");
    out += "}";
  }
  out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}
