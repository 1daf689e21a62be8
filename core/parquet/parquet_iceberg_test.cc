// The Parquet writer's Iceberg side: field ids in the footer, timestamptz, declared
// STRUCT / LIST columns, and the per-field metrics of ParquetFile::field_metrics.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/parquet/parquet_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using absl::BytesToHexString;
using ::testing::HasSubstr;

absl::StatusOr<ParquetFile> Encode(const std::vector<std::string>& lines, const ParquetOptions& o) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  return EncodeParquetFile(views, o);
}

std::string Le64(int64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
  return s;
}

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

// An Iceberg-like table: id, a struct s {a, b}, a list l of doubles, a timestamptz.
ParquetOptions TableOptions() {
  ParquetOptions o;
  o.codec = ParquetCodec::kNone;
  o.nested = NestedEncoding::kNative;
  o.schema = {Col("id", ParquetType::kInt64, 1),
              Col("s", ParquetType::kStruct, 2,
                  {Col("a", ParquetType::kInt64, 3), Col("b", ParquetType::kString, 4)}),
              Col("l", ParquetType::kList, 5, {Col("element", ParquetType::kDouble, 6)}),
              Col("t", ParquetType::kTimestampMicros, 7)};
  return o;
}

const std::vector<std::string> kTableRecords = {
    R"({"id":1,"s":{"a":5,"b":"x"},"l":[1.5,null],"t":1700000000123})",
    R"({"id":2,"s":null,"l":[],"t":"5"})",
    R"({"id":3,"s":{"a":-2,"zzz":[1]},"l":null})",
    R"({"id":4,"extra":"ignored"})",
};

const ParquetFieldMetrics* Metrics(const ParquetFile& f, int id) {
  for (const ParquetFieldMetrics& m : f.field_metrics)
    if (m.field_id == id) return &m;
  return nullptr;
}

TEST(ParquetIcebergTest, FieldIdsAreWrittenOnEveryElementButTheRepeatedGroup) {
  auto f = Encode(kTableRecords, TableOptions());
  ASSERT_TRUE(f.ok()) << f.status();
  const std::string hex = BytesToHexString(f->bytes);
  // id: INT64, OPTIONAL, "id", 9: field_id 1.
  EXPECT_THAT(hex, HasSubstr("1504"
                             "2502"
                             "18026964"
                             "5502"
                             "00"));
  // s: an optional group of 2 with field_id 2; its members a (3) and b (4, STRING: UTF8
  // converted type, then the id, then the logical type).
  EXPECT_THAT(hex, HasSubstr("3502"
                             "180173"
                             "1504"
                             "4504"
                             "00"));
  EXPECT_THAT(hex, HasSubstr("1504"
                             "2502"
                             "180161"
                             "5506"
                             "00"));
  EXPECT_THAT(hex, HasSubstr("150c"
                             "2502"
                             "180162"
                             "2500"
                             "3508"
                             "1c1c0000"
                             "00"));
  // l: LIST with field_id 5 between converted_type and logicalType; the repeated group
  // "list" without one; the element with 6.
  EXPECT_THAT(hex, HasSubstr("3502"
                             "18016c"
                             "1502"
                             "1506"
                             "350a"
                             "1c3c0000"
                             "00"
                             "3504"
                             "18046c697374"
                             "1502"
                             "00"
                             "150a"
                             "2502"
                             "1807656c656d656e74"
                             "550c"
                             "00"));
  // t: INT64 TIMESTAMP_MICROS (converted type 10), field_id 7, TIMESTAMP(UTC, MICROS).
  EXPECT_THAT(hex, HasSubstr("1504"
                             "2502"
                             "180174"
                             "2514"
                             "350e"
                             "1c"
                             "8c"
                             "11"
                             "1c2c0000"
                             "000000"));
}

TEST(ParquetIcebergTest, WithoutFieldIdsNothingIsWritten) {
  ParquetOptions o = TableOptions();
  o.schema[0].field_id = -1;
  auto f = Encode(kTableRecords, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(BytesToHexString(f->bytes), HasSubstr("1504"
                                                    "2502"
                                                    "18026964"
                                                    "00"));
  EXPECT_EQ(Metrics(*f, 1), nullptr);
  EXPECT_EQ(f->field_metrics.size(), 4u);  // s.a, s.b, l.list.element, t
}

TEST(ParquetIcebergTest, DeclaredGroupsAndListsAreShreddedAsInferredOnes) {
  ParquetOptions declared = TableOptions();
  declared.schema.pop_back();  // t is declared only
  declared.schema[2].children[0].type = ParquetType::kInt64;
  for (ParquetColumn& c : declared.schema) {
    c.field_id = -1;
    for (ParquetColumn& child : c.children) child.field_id = -1;
  }
  ParquetOptions inferred = declared;
  inferred.schema.clear();
  // The same records with the members inference would see: then the chunks are the same
  // bytes.
  const std::vector<std::string> records = {
      R"({"id":1,"s":{"a":5,"b":"x"},"l":[1,null]})",
      R"({"id":2,"s":null,"l":[]})",
      R"({"id":3,"s":{"a":-2},"l":null})",
      R"({"id":4})",
  };
  auto d = Encode(records, declared);
  auto i = Encode(records, inferred);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(i.ok()) << i.status();
  ASSERT_EQ(d->chunks.size(), 4u);
  ASSERT_EQ(i->chunks.size(), 4u);
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(d->chunks[c].column, i->chunks[c].column);
    EXPECT_EQ(d->chunks[c].null_count, i->chunks[c].null_count);
    EXPECT_EQ(d->chunks[c].min, i->chunks[c].min);
    EXPECT_EQ(d->chunks[c].max, i->chunks[c].max);
    EXPECT_EQ(d->chunks[c].compressed_bytes, i->chunks[c].compressed_bytes);
  }
  EXPECT_EQ(d->chunks[3].column, "l.list.element");
  // The pages (everything before the footer) are the same bytes.
  int64_t data = 4;
  for (const ParquetChunkInfo& c : i->chunks) data += c.compressed_bytes;
  EXPECT_EQ(d->bytes.substr(0, static_cast<size_t>(data)),
            i->bytes.substr(0, static_cast<size_t>(data)));
}

TEST(ParquetIcebergTest, ValuesOfTheWrongShapeAreRefusedPerRecord) {
  const ParquetOptions o = TableOptions();
  for (const char* bad :
       {R"({"s":"text"})", R"({"s":[1]})", R"({"l":{"a":1}})", R"({"l":7})", R"({"s":{"a":"x"}})",
        R"({"s":{"a":{"deep":1}}})", R"({"l":[[1]]})", R"({"l":["x"]})", R"({"t":1.5})",
        R"({"t":9223372036854776})", R"({"t":-9223372036854776})"}) {
    auto f = Encode({R"({"id":1})", bad}, o);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("record 1")) << bad;
    const ParquetRecordCheck check = CheckParquetRecord(bad, o);
    EXPECT_EQ(check.problem, ParquetRecordProblem::kUnrepresentable) << bad;
    EXPECT_THAT(check.message, HasSubstr("cannot hold")) << bad;
    std::vector<ParquetRejectedRecord> rejected;
    const std::vector<std::string_view> lines = {R"({"id":1})", bad};
    auto isolated = EncodeParquetFileIsolating(lines, o, &rejected);
    ASSERT_TRUE(isolated.ok()) << bad << ": " << isolated.status();
    EXPECT_EQ(isolated->rows, 1);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(rejected[0].line, 1u);
  }
  for (const std::string& good : kTableRecords)
    EXPECT_TRUE(CheckParquetRecord(good, o).ok()) << good;
  // The largest timestamps that fit in microseconds.
  EXPECT_TRUE(Encode({R"({"t":9223372036854775})", R"({"t":-9223372036854775})"}, o).ok());
}

TEST(ParquetIcebergTest, DeclaredGroupsMustBeWritable) {
  ParquetOptions o = TableOptions();
  o.nested = NestedEncoding::kJson;
  EXPECT_EQ(Encode(kTableRecords, o).status().code(), absl::StatusCode::kInvalidArgument);
  o = TableOptions();
  o.schema[2].children[0].name = "item";
  EXPECT_EQ(Encode(kTableRecords, o).status().code(), absl::StatusCode::kInvalidArgument);
  o = TableOptions();
  o.schema[1].children[1].required = true;
  EXPECT_EQ(Encode(kTableRecords, o).status().code(), absl::StatusCode::kInvalidArgument);
  o = TableOptions();
  o.schema[1].children.push_back(o.schema[1].children[0]);
  EXPECT_EQ(Encode(kTableRecords, o).status().code(), absl::StatusCode::kInvalidArgument);
  o = TableOptions();
  o.schema[0].children.push_back(Col("x", ParquetType::kInt64, 9));
  EXPECT_EQ(Encode(kTableRecords, o).status().code(), absl::StatusCode::kInvalidArgument);
  // Depth: a chain of kMaxParquetNativeDepth structs is fine, one more is not.
  ParquetColumn deep = Col("leaf", ParquetType::kInt64, 100);
  for (int d = 0; d <= kMaxParquetNativeDepth; ++d)
    deep = Col("g", ParquetType::kStruct, d, {deep});
  o = TableOptions();
  o.schema = {deep};
  EXPECT_EQ(Encode(kTableRecords, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.schema = {deep.children[0]};
  EXPECT_TRUE(Encode(kTableRecords, o).ok());
}

TEST(ParquetIcebergTest, TimestamptzStoresMicroseconds) {
  auto f = Encode(kTableRecords, TableOptions());
  ASSERT_TRUE(f.ok()) << f.status();
  const ParquetChunkInfo& t = f->chunks.back();
  EXPECT_EQ(t.column, "t");
  EXPECT_EQ(t.null_count, 2);
  EXPECT_EQ(t.min, Le64(5000));
  EXPECT_EQ(t.max, Le64(int64_t{1700000000123} * 1000));
  EXPECT_EQ(ParquetTypeName(ParquetType::kTimestampMicros, 0), "timestamptz");
  auto parsed = ParseParquetTypeName("timestamptz");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, ParquetType::kTimestampMicros);
}

TEST(ParquetIcebergTest, MetricsCountValuesNullsAndSizes) {
  ParquetOptions o = TableOptions();
  o.row_group_rows = 2;  // two row groups: the metrics sum them
  auto f = Encode(kTableRecords, o);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->row_groups, 2);
  ASSERT_EQ(f->field_metrics.size(), 5u);  // id, s.a, s.b, l.element, t: leaves only
  const std::vector<int> order = {1, 3, 4, 6, 7};
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(f->field_metrics[i].field_id, order[i]);
  // Sizes: each leaf's chunks, both row groups.
  const std::vector<std::string> paths = {"id", "s.a", "s.b", "l.list.element", "t"};
  for (size_t i = 0; i < paths.size(); ++i) {
    int64_t size = 0;
    for (const ParquetChunkInfo& c : f->chunks)
      if (c.column == paths[i]) size += c.compressed_bytes;
    EXPECT_GT(size, 0);
    EXPECT_EQ(f->field_metrics[i].column_size, size) << paths[i];
  }
  const ParquetFieldMetrics* id = Metrics(*f, 1);
  EXPECT_EQ(id->value_count, 4);
  EXPECT_EQ(id->null_count, 0);
  EXPECT_EQ(id->nan_count, -1);
  EXPECT_EQ(id->lower_bound, Le64(1));
  EXPECT_EQ(id->upper_bound, Le64(4));
  const ParquetFieldMetrics* a = Metrics(*f, 3);
  EXPECT_EQ(a->value_count, 4);
  EXPECT_EQ(a->null_count, 2);  // s null, s absent
  EXPECT_EQ(a->lower_bound, Le64(-2));
  EXPECT_EQ(a->upper_bound, Le64(5));
  const ParquetFieldMetrics* b = Metrics(*f, 4);
  EXPECT_EQ(b->null_count, 3);
  EXPECT_EQ(b->lower_bound, "x");
  EXPECT_EQ(b->upper_bound, "x");
  // The list's element: [1.5, null] two values, [] / null / absent one null each; no
  // bounds under a LIST.
  const ParquetFieldMetrics* e = Metrics(*f, 6);
  EXPECT_EQ(e->value_count, 5);
  EXPECT_EQ(e->null_count, 4);
  EXPECT_EQ(e->nan_count, 0);
  EXPECT_FALSE(e->lower_bound.has_value());
  EXPECT_FALSE(e->upper_bound.has_value());
  const ParquetFieldMetrics* t = Metrics(*f, 7);
  EXPECT_EQ(t->value_count, 4);
  EXPECT_EQ(t->null_count, 2);
  EXPECT_EQ(t->lower_bound, Le64(5000));
  EXPECT_EQ(t->upper_bound, Le64(int64_t{1700000000123} * 1000));
}

TEST(ParquetIcebergTest, BoundsOfEveryScalarType) {
  ParquetOptions o;
  o.codec = ParquetCodec::kNone;
  o.row_group_rows = 2;
  o.schema = {Col("s", ParquetType::kString, 1), Col("d", ParquetType::kDecimal, 2, {}, 2),
              Col("f", ParquetType::kDouble, 3), Col("b", ParquetType::kBool, 4),
              Col("x", ParquetType::kBinary, 5), Col("j", ParquetType::kJson, 6),
              Col("n", ParquetType::kString, 7)};
  const std::string long_a(300, 'a');  // past kMaxStatisticsBytes: no Parquet min/max
  auto f =
      Encode({R"({"s":"zzzzzzzzzzzzzzzzzzz","d":1.28,"f":2.5,"b":true,"x":"AQI=","j":{"k":1}})",
              R"({"s":"b","d":-1.28,"f":0,"b":true,"x":"/w==","j":"q"})",
              "{\"s\":\"" + long_a + "\",\"d\":1,\"f\":-0.5}"},
             o);
  ASSERT_TRUE(f.ok()) << f.status();
  const ParquetFieldMetrics* s = Metrics(*f, 1);
  EXPECT_EQ(s->lower_bound, std::string(16, 'a'));
  EXPECT_EQ(s->upper_bound, std::string(15, 'z') + "{");  // 'z' + 1
  const ParquetFieldMetrics* d = Metrics(*f, 2);
  EXPECT_EQ(d->lower_bound, "\x80");                      // -128
  EXPECT_EQ(d->upper_bound, std::string("\x00\x80", 2));  // 128
  const ParquetFieldMetrics* fl = Metrics(*f, 3);
  EXPECT_EQ(fl->lower_bound, Le64(static_cast<int64_t>(0xBFE0000000000000)));  // -0.5
  EXPECT_EQ(fl->upper_bound, Le64(0x4004000000000000));                        // 2.5
  EXPECT_EQ(fl->nan_count, 0);
  const ParquetFieldMetrics* b = Metrics(*f, 4);
  EXPECT_EQ(b->lower_bound, "\x01");
  EXPECT_EQ(b->upper_bound, "\x01");
  EXPECT_EQ(b->null_count, 1);
  const ParquetFieldMetrics* x = Metrics(*f, 5);
  EXPECT_EQ(x->lower_bound, "\x01\x02");
  EXPECT_EQ(x->upper_bound, "\xff");
  const ParquetFieldMetrics* j = Metrics(*f, 6);
  EXPECT_EQ(j->lower_bound, "\"q\"");
  EXPECT_EQ(j->upper_bound, "{\"k\":1}");
  const ParquetFieldMetrics* n = Metrics(*f, 7);  // always null: counts, no bounds
  EXPECT_EQ(n->value_count, 3);
  EXPECT_EQ(n->null_count, 3);
  EXPECT_FALSE(n->lower_bound.has_value());
}

TEST(ParquetIcebergTest, ZerosBoundAsParquetWritesThem) {
  ParquetOptions o;
  o.schema = {Col("f", ParquetType::kDouble, 1)};
  auto f = Encode({R"({"f":0})", R"({"f":0.0})"}, o);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->field_metrics[0].lower_bound, Le64(static_cast<int64_t>(0x8000000000000000)));
  EXPECT_EQ(f->field_metrics[0].upper_bound, Le64(0));
}

TEST(ParquetIcebergTest, LongKeyValueMetadataIsKept) {
  ParquetOptions o = TableOptions();
  std::string schema_json = R"({"type":"struct","schema-id":0,"fields":[)";
  for (int i = 0; i < 5000; ++i) {
    if (i > 0) schema_json += ",";
    schema_json += R"({"id":)";
    schema_json += std::to_string(i + 1);
    schema_json += R"(,"name":"column_)";
    schema_json += std::to_string(i);
    schema_json += R"(","required":false,"type":"string"})";
  }
  schema_json += "]}";
  ASSERT_GT(schema_json.size(), size_t{200000});
  o.key_value_metadata = {{"iceberg.schema", schema_json}};
  auto f = Encode(kTableRecords, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NE(f->bytes.find("iceberg.schema"), std::string::npos);
  EXPECT_NE(f->bytes.find(schema_json), std::string::npos);
  // The footer length (before the trailing "PAR1") covers it.
  const std::string& b = f->bytes;
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<unsigned char>(b[b.size() - 8 + i])) << (8 * i);
  EXPECT_GT(len, schema_json.size());
  EXPECT_LT(len, b.size());
}

}  // namespace
}  // namespace lakehose
