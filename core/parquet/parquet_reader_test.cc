#include "core/parquet/parquet_reader.h"

#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/parquet/thrift_compact.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

absl::StatusOr<ParquetFile> Encode(const std::vector<std::string>& lines, const ParquetOptions& o) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  return EncodeParquetFile(views, o);
}

// Writes `lines`, reads the file back, and checks that writing the rows read with the
// columns read gives a file that reads back the same (what compaction relies on).
std::vector<std::string> RoundTrip(const std::vector<std::string>& lines, const ParquetOptions& o,
                                   std::vector<ParquetColumn>* columns = nullptr) {
  absl::StatusOr<ParquetFile> f = Encode(lines, o);
  EXPECT_TRUE(f.ok()) << f.status();
  if (!f.ok()) return {};
  absl::StatusOr<ParquetContents> read = ReadParquetFile(f->bytes);
  EXPECT_TRUE(read.ok()) << read.status();
  if (!read.ok()) return {};
  EXPECT_EQ(read->row_groups, f->row_groups);
  ParquetOptions again = o;
  again.schema = read->columns;
  absl::StatusOr<ParquetFile> g = Encode(read->rows, again);
  EXPECT_TRUE(g.ok()) << g.status();
  if (g.ok()) {
    absl::StatusOr<ParquetContents> reread = ReadParquetFile(g->bytes);
    EXPECT_TRUE(reread.ok()) << reread.status();
    if (reread.ok()) {
      EXPECT_EQ(reread->rows, read->rows);
      EXPECT_EQ(reread->columns.size(), read->columns.size());
    }
    // The same data pages: the chunks hold the same encodings, counts and statistics.
    EXPECT_EQ(g->chunks.size(), f->chunks.size());
    for (size_t i = 0; i < std::min(g->chunks.size(), f->chunks.size()); ++i) {
      EXPECT_EQ(g->chunks[i].column, f->chunks[i].column);
      EXPECT_EQ(g->chunks[i].dictionary, f->chunks[i].dictionary);
      EXPECT_EQ(g->chunks[i].null_count, f->chunks[i].null_count);
      EXPECT_EQ(g->chunks[i].min, f->chunks[i].min);
      EXPECT_EQ(g->chunks[i].max, f->chunks[i].max);
    }
  }
  if (columns != nullptr) *columns = read->columns;
  return read->rows;
}

std::string TypeName(const ParquetColumn& c) { return ParquetTypeName(c.type, c.scale); }

TEST(ParquetReaderTest, FlatTypesEveryCodec) {
  const std::vector<std::string> lines = {
      R"({"s":"h\u00e9llo \"q\"\n","i":-42,"d":1.50,"f":1e300,"b":true})",
      R"({"s":null,"i":9223372036854775807,"d":-0.05,"f":0.1,"b":false,"x":"only here"})",
      R"({"i":-9223372036854775808,"d":0,"f":-2.5e-300,"s":"","b":null})",
  };
  const std::vector<std::string> want = {
      // "h\u00e9llo" comes back as the UTF-8 character itself.
      R"({"s":"héllo \"q\"\n","i":-42,"d":1.50,"f":1e+300,"b":true,"x":null})",
      R"({"s":null,"i":9223372036854775807,"d":-0.05,"f":0.1,"b":false,"x":"only here"})",
      R"({"s":"","i":-9223372036854775808,"d":0.00,"f":-2.5e-300,"b":null,"x":null})",
  };
  for (ParquetCodec codec :
       {ParquetCodec::kNone, ParquetCodec::kSnappy, ParquetCodec::kGzip, ParquetCodec::kZstd}) {
    ParquetOptions o;
    o.codec = codec;
    std::vector<ParquetColumn> columns;
    std::vector<std::string> rows = RoundTrip(lines, o, &columns);
    EXPECT_THAT(rows, ElementsAreArray(want)) << static_cast<int>(codec);
    ASSERT_EQ(columns.size(), 6u);
    EXPECT_EQ(TypeName(columns[0]), "string");
    EXPECT_EQ(TypeName(columns[1]), "int64");
    EXPECT_EQ(TypeName(columns[2]), "decimal(38,2)");
    EXPECT_EQ(TypeName(columns[3]), "double");
    EXPECT_EQ(TypeName(columns[4]), "bool");
  }
}

TEST(ParquetReaderTest, DictionaryAndPlainStrings) {
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i)
    lines.push_back(StrCat(R"({"few":")", i % 3 == 0 ? "a" : "b", R"(","many":"v)", i, R"("})"));
  ParquetOptions o;
  absl::StatusOr<ParquetFile> f = Encode(lines, o);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->chunks.size(), 2u);
  EXPECT_TRUE(f->chunks[0].dictionary);
  EXPECT_FALSE(f->chunks[1].dictionary);
  std::vector<std::string> rows = RoundTrip(lines, o);
  ASSERT_EQ(rows.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(rows[i], lines[i]);
}

TEST(ParquetReaderTest, NestedStructsAndLists) {
  const std::vector<std::string> lines = {
      R"({"id":1,"o":{"a":1,"b":"x"},"l":[1,2,3],"ll":[[1],[],null,[2,3]],"ls":[{"k":"a"},{"k":null},null]})",
      R"({"id":2,"o":null,"l":[],"ll":null,"ls":[]})",
      R"({"id":3,"o":{"a":null,"b":"y"},"l":null,"ll":[[null]],"ls":null})",
      R"({"id":4})",
      R"({"id":5,"o":{"b":"z","a":7},"l":[null,4],"ll":[],"ls":[{"k":"b","n":{"t":[true,false]}}]})",
  };
  const std::vector<std::string> want = {
      R"({"id":1,"o":{"a":1,"b":"x"},"l":[1,2,3],"ll":[[1],[],null,[2,3]],"ls":[{"k":"a","n":null},{"k":null,"n":null},null]})",
      R"({"id":2,"o":null,"l":[],"ll":null,"ls":[]})",
      R"({"id":3,"o":{"a":null,"b":"y"},"l":null,"ll":[[null]],"ls":null})",
      R"({"id":4,"o":null,"l":null,"ll":null,"ls":null})",
      R"({"id":5,"o":{"a":7,"b":"z"},"l":[null,4],"ll":[],"ls":[{"k":"b","n":{"t":[true,false]}}]})",
  };
  for (ParquetCodec codec : {ParquetCodec::kNone, ParquetCodec::kZstd}) {
    ParquetOptions o;
    o.codec = codec;
    o.nested = NestedEncoding::kNative;
    std::vector<ParquetColumn> columns;
    EXPECT_THAT(RoundTrip(lines, o, &columns), ElementsAreArray(want));
    ASSERT_EQ(columns.size(), 5u);
    EXPECT_EQ(columns[1].type, ParquetType::kStruct);
    EXPECT_EQ(columns[2].type, ParquetType::kList);
    ASSERT_EQ(columns[3].children.size(), 1u);
    EXPECT_EQ(columns[3].children[0].type, ParquetType::kList);
    EXPECT_EQ(columns[3].children[0].name, "element");
  }
}

TEST(ParquetReaderTest, JsonColumnsComeBackAsJson) {
  // A column of objects and arrays is "json" (kJson, and kNative when they mix), as is
  // one of {} only: both read back as the JSON value, not a string. A column mixing
  // arrays and strings is "string": the array comes back as its text.
  const std::vector<std::string> lines = {
      R"({"mixed":[1,"a",{"b":null}],"empty":{},"text":{"x":[1,2]}})",
      R"({"mixed":"plain","empty":{},"text":[3,{"y":"\u0000"}]})",
  };
  const std::vector<std::string> want = {
      R"({"mixed":"[1,\"a\",{\"b\":null}]","empty":{},"text":{"x":[1,2]}})",
      R"({"mixed":"plain","empty":{},"text":[3,{"y":"\u0000"}]})",
  };
  for (NestedEncoding nested : {NestedEncoding::kJson, NestedEncoding::kNative}) {
    ParquetOptions o;
    o.nested = nested;
    std::vector<ParquetColumn> columns;
    EXPECT_THAT(RoundTrip(lines, o, &columns), ElementsAreArray(want));
    ASSERT_EQ(columns.size(), 3u);
    EXPECT_EQ(TypeName(columns[0]), "string");
    EXPECT_EQ(TypeName(columns[1]), "json");
    EXPECT_EQ(TypeName(columns[2]), "json");
  }
}

TEST(ParquetReaderTest, DeclaredColumnsComeBackAsDeclared) {
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  o.codec = ParquetCodec::kGzip;
  ParquetColumn list{.name = "tags", .type = ParquetType::kList, .field_id = 9};
  list.children.push_back({.name = "element", .type = ParquetType::kString, .field_id = 10});
  ParquetColumn st{.name = "addr", .type = ParquetType::kStruct, .field_id = 11};
  st.children.push_back({.name = "zip", .type = ParquetType::kInt64, .field_id = 12});
  st.children.push_back({.name = "raw", .type = ParquetType::kJson, .field_id = 13});
  o.schema = {
      {.name = "id", .type = ParquetType::kString, .required = true, .field_id = 1},
      {.name = "_event_time", .type = ParquetType::kTimestampMillis, .field_id = 2},
      {.name = "ts", .type = ParquetType::kTimestampMicros, .field_id = 3},
      {.name = "big", .type = ParquetType::kDecimal, .scale = 0, .field_id = 4},
      {.name = "frac", .type = ParquetType::kDecimal, .scale = 10, .field_id = 5},
      {.name = "blob", .type = ParquetType::kBinary, .field_id = 6},
      {.name = "doc", .type = ParquetType::kJson, .field_id = 7},
      {.name = "n", .type = ParquetType::kInt64, .required = true, .field_id = 8},
      list,
      st,
  };
  const std::vector<std::string> lines = {
      R"({"id":"a","_event_time":1700000000123,"ts":1700000000456,"big":12345678901234567890123456789012345678,"frac":-1234567890123456789012345678.0123456789,"blob":"AAEC/w==","doc":{"k":[1,2]},"n":0,"tags":["x",null],"addr":{"zip":123,"raw":"s"}})",
      R"({"id":"b","_event_time":-5,"big":-99999999999999999999999999999999999999,"frac":0.5,"doc":"str","n":-1,"tags":[],"addr":{"raw":[true]}})",
  };
  const std::vector<std::string> want = {
      R"({"id":"a","_event_time":1700000000123,"ts":1700000000456,"big":12345678901234567890123456789012345678,"frac":-1234567890123456789012345678.0123456789,"blob":"AAEC/w==","doc":{"k":[1,2]},"n":0,"tags":["x",null],"addr":{"zip":123,"raw":"s"}})",
      R"({"id":"b","_event_time":-5,"ts":null,"big":-99999999999999999999999999999999999999,"frac":0.5000000000,"blob":null,"doc":"str","n":-1,"tags":[],"addr":{"zip":null,"raw":[true]}})",
  };
  std::vector<ParquetColumn> columns;
  EXPECT_THAT(RoundTrip(lines, o, &columns), ElementsAreArray(want));
  ASSERT_EQ(columns.size(), o.schema.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    SCOPED_TRACE(columns[i].name);
    EXPECT_EQ(columns[i].name, o.schema[i].name);
    EXPECT_EQ(TypeName(columns[i]), TypeName(o.schema[i]));
    EXPECT_EQ(columns[i].required, o.schema[i].required);
    EXPECT_EQ(columns[i].field_id, o.schema[i].field_id);
    ASSERT_EQ(columns[i].children.size(), o.schema[i].children.size());
    for (size_t j = 0; j < columns[i].children.size(); ++j) {
      EXPECT_EQ(columns[i].children[j].name, o.schema[i].children[j].name);
      EXPECT_EQ(TypeName(columns[i].children[j]), TypeName(o.schema[i].children[j]));
      EXPECT_EQ(columns[i].children[j].field_id, o.schema[i].children[j].field_id);
    }
  }
}

TEST(ParquetReaderTest, WideNumbersKeptAsStrings) {
  ParquetOptions o;
  o.wide_numbers = WideNumbers::kString;
  const std::vector<std::string> lines = {
      R"({"w":123456789012345678901234567890123456789012})",
      R"({"w":1.5})",
  };
  std::vector<ParquetColumn> columns;
  EXPECT_THAT(
      RoundTrip(lines, o, &columns),
      ElementsAreArray({std::string(R"({"w":"123456789012345678901234567890123456789012"})"),
                        std::string(R"({"w":"1.5"})")}));
  EXPECT_EQ(TypeName(columns[0]), "string");
}

// A value per row, nested values, over many row groups and pages.
TEST(ParquetReaderTest, ManyRowsRowGroupsAndPages) {
  std::vector<std::string> lines;
  for (int i = 0; i < 5000; ++i) {
    std::string l = StrCat(R"({"i":)", i, R"(,"s":"row )", i % 7, R"(","l":[)");
    for (int j = 0; j < i % 4; ++j) StrAppend(&l, j > 0 ? "," : "", R"({"v":)", i * j, "}");
    StrAppend(&l, R"(],"b":)", i % 2 ? "true" : "false", R"(,"o":{"x":)", i % 5 ? "1" : "null",
              "}}");
    lines.push_back(l);
  }
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  o.row_group_rows = 1000;
  o.page_bytes = 256;
  absl::StatusOr<ParquetFile> f = Encode(lines, o);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->row_groups, 5);
  EXPECT_GT(f->chunks[0].data_pages, 5);
  std::vector<std::string> rows = RoundTrip(lines, o);
  ASSERT_EQ(rows.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(rows[i], lines[i]) << i;
}

TEST(ParquetReaderTest, DeepestNativeNesting) {
  std::string v = "1";
  for (int d = 0; d < kMaxParquetNativeDepth; ++d)
    v = d % 2 ? StrCat("[", v, "]") : StrCat(R"({"k":)", v, "}");
  const std::vector<std::string> lines = {StrCat(R"({"deep":)", v, "}")};
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  std::vector<ParquetColumn> columns;
  EXPECT_THAT(RoundTrip(lines, o, &columns), ElementsAreArray(lines));
  EXPECT_EQ(columns[0].type, ParquetType::kList);  // the outermost of 32 levels
}

// JSON text as deep as the writer takes it, top level and inside a STRUCT, reads back
// (and would be written again); the reader's own walk is not recursive over it.
TEST(ParquetReaderTest, JsonAtTheWritersDepthLimit) {
  auto nested = [](int depth) {
    std::string v = "1";
    for (int d = 0; d < depth; ++d) v = StrCat("[", v, "]");
    return v;
  };
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  ParquetColumn st{.name = "o", .type = ParquetType::kStruct};
  st.children.push_back({.name = "j", .type = ParquetType::kJson});
  o.schema = {{.name = "top", .type = ParquetType::kJson}, st};
  const std::vector<std::string> lines = {StrCat(R"({"top":)", nested(kMaxParquetJsonDepth),
                                                 R"(,"o":{"j":)", nested(kMaxParquetJsonDepth - 1),
                                                 "}}")};
  EXPECT_THAT(RoundTrip(lines, o), ElementsAreArray(lines));
}

TEST(ParquetReaderTest, KeyValueMetadataAndEmptyFile) {
  ParquetOptions o;
  o.key_value_metadata = {{"lakehose.pipeline", "p1"}};
  absl::StatusOr<ParquetFile> f = Encode({}, o);
  ASSERT_TRUE(f.ok());
  absl::StatusOr<ParquetContents> r = ReadParquetFile(f->bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->rows.empty());
  EXPECT_EQ(r->created_by, "lakehose");
  bool found = false;
  for (const auto& [k, v] : r->key_value_metadata) found |= k == "lakehose.pipeline" && v == "p1";
  EXPECT_TRUE(found);
}

TEST(ParquetReaderTest, NotParquet) {
  for (std::string_view s :
       {std::string_view(""), std::string_view("PAR1"), std::string_view("PAR1\0\0\0\0PAR2", 12)}) {
    absl::StatusOr<ParquetContents> r = ReadParquetFile(s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  }
  absl::StatusOr<ParquetContents> r = ReadParquetFile(std::string_view("PAR1\xff\0\0\0PAR1", 12));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("footer"));
}

// Every truncation and every single-byte change of a small nested file: refused with a
// damaged-file code, or read as JSON objects; never a crash (run under ASan in CI).
TEST(ParquetReaderTest, DamagedFilesAreRefusedNotCrashes) {
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  o.codec = ParquetCodec::kNone;
  absl::StatusOr<ParquetFile> f =
      Encode({R"({"a":"x","l":[1,null],"o":{"b":true}})", R"({"a":"x","l":[],"o":null})",
              R"({"a":"y","l":null,"d":1.25})"},
             o);
  ASSERT_TRUE(f.ok());
  const std::string& good = f->bytes;
  auto check = [](const std::string& bytes) {
    absl::StatusOr<ParquetContents> r = ReadParquetFile(bytes);
    if (r.ok()) {
      for (const std::string& row : r->rows) EXPECT_EQ(row.front(), '{');
      return;
    }
    const absl::StatusCode c = r.status().code();
    EXPECT_TRUE(c == absl::StatusCode::kDataLoss || c == absl::StatusCode::kInvalidArgument ||
                c == absl::StatusCode::kUnimplemented || c == absl::StatusCode::kResourceExhausted)
        << r.status();
  };
  int refused = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    check(good.substr(0, n));
    for (uint8_t x : {0x01, 0x80, 0xFF}) {
      std::string bad = good;
      bad[n] = static_cast<char>(bad[n] ^ x);
      check(bad);
      refused += !ReadParquetFile(bad).ok();
    }
  }
  EXPECT_GT(refused, static_cast<int>(good.size()));  // most changes are noticed
}

TEST(ParquetReaderTest, LimitsAreResourceExhausted) {
  std::vector<std::string> lines(100, R"({"a":1})");
  absl::StatusOr<ParquetFile> f = Encode(lines, {});
  ASSERT_TRUE(f.ok());
  ParquetReadOptions small;
  small.max_entries = 150;  // 100 rows + 100 values
  absl::StatusOr<ParquetContents> r = ReadParquetFile(f->bytes, small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("max_entries"));
  small.max_entries = 200;
  EXPECT_TRUE(ReadParquetFile(f->bytes, small).ok());
  small.max_page_bytes = 10;
  r = ReadParquetFile(f->bytes, small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

// ---- Files lakehose does not write, built here by hand: one INT64 column ----

// A file of one optional INT64 column "v" holding `values` (all present) in one data
// page v1 with `encoding`, whose values are `payload`.
std::string HandFile(int32_t encoding, const std::string& payload, int32_t rows,
                     int32_t codec = 0) {
  std::string page;
  // Definition levels: a 4-byte length, then one RLE run of `rows` ones (width 1).
  std::string levels;
  ThriftCompactWriter::AppendVarint(static_cast<uint64_t>(rows) << 1, &levels);
  levels.push_back(1);
  for (int i = 0; i < 4; ++i) page.push_back(static_cast<char>(levels.size() >> (8 * i)));
  page += levels + payload;
  ThriftCompactWriter h;
  h.BeginStruct();
  h.FieldI32(1, 0);  // DATA_PAGE
  h.FieldI32(2, static_cast<int32_t>(page.size()));
  h.FieldI32(3, static_cast<int32_t>(page.size()));
  h.FieldBeginStruct(5);
  h.FieldI32(1, rows);
  h.FieldI32(2, encoding);
  h.FieldI32(3, 3);
  h.FieldI32(4, 3);
  h.EndStruct();
  h.EndStruct();
  std::string file = "PAR1" + h.bytes() + page;
  const int64_t chunk = static_cast<int64_t>(h.bytes().size() + page.size());
  ThriftCompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldBeginList(2, ThriftCompactWriter::kStruct, 2);
  w.BeginStruct();
  w.FieldBinary(4, "schema");
  w.FieldI32(5, 1);
  w.EndStruct();
  w.BeginStruct();
  w.FieldI32(1, 2);  // INT64
  w.FieldI32(3, 1);  // OPTIONAL
  w.FieldBinary(4, "v");
  w.EndStruct();
  w.FieldI64(3, rows);
  w.FieldBeginList(4, ThriftCompactWriter::kStruct, 1);
  w.BeginStruct();
  w.FieldBeginList(1, ThriftCompactWriter::kStruct, 1);
  w.BeginStruct();
  w.FieldI64(2, 4);
  w.FieldBeginStruct(3);
  w.FieldI32(1, 2);
  w.FieldBeginList(2, ThriftCompactWriter::kI32, 1);
  w.ElementI32(encoding);
  w.FieldBeginList(3, ThriftCompactWriter::kBinary, 1);
  w.ElementBinary("v");
  w.FieldI32(4, codec);
  w.FieldI64(5, rows);
  w.FieldI64(6, chunk);
  w.FieldI64(7, chunk);
  w.FieldI64(9, 4);
  w.EndStruct();
  w.EndStruct();
  w.FieldI64(2, chunk);
  w.FieldI64(3, rows);
  w.EndStruct();
  w.EndStruct();
  file += w.bytes();
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>(w.bytes().size() >> (8 * i)));
  return file + "PAR1";
}

TEST(ParquetReaderTest, HandBuiltPlainFileReads) {
  std::string payload;
  for (int64_t v : {int64_t{7}, int64_t{-1}})
    for (int i = 0; i < 8; ++i)
      payload.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
  absl::StatusOr<ParquetContents> r = ReadParquetFile(HandFile(0, payload, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->rows, ElementsAreArray({std::string(R"({"v":7})"), std::string(R"({"v":-1})")}));
}

TEST(ParquetReaderTest, UnsupportedEncodingsAndCodecsAreUnimplemented) {
  for (auto [encoding, name] : std::vector<std::pair<int32_t, std::string>>{
           {5, "DELTA_BINARY_PACKED"}, {9, "BYTE_STREAM_SPLIT"}, {7, "DELTA_BYTE_ARRAY"}}) {
    absl::StatusOr<ParquetContents> r = ReadParquetFile(HandFile(encoding, "xxxxxxxxxxxxxxxx", 2));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented) << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr(name));
    EXPECT_THAT(r.status().message(), HasSubstr("\"v\""));
  }
  absl::StatusOr<ParquetContents> r = ReadParquetFile(HandFile(0, std::string(16, '\0'), 2, 5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(r.status().message(), HasSubstr("LZ4"));
}

TEST(ParquetReaderTest, ValuesShortOfTheLevelsAreDataLoss) {
  absl::StatusOr<ParquetContents> r = ReadParquetFile(HandFile(0, std::string(8, '\0'), 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("\"v\""));
}

}  // namespace
}  // namespace lakehose
