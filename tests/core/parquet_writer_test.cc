#include "core/parquet_writer.h"

#include <string>
#include <vector>

#include "core/config.h"
#include "core/delivery_format.h"
#include "core/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ParquetFile> Encode(const std::vector<std::string>& lines, ParquetOptions o = {}) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  return EncodeParquetFile(views, o);
}

// The type chosen for column `name`.
std::string TypeOf(const ParquetFile& f, std::string_view name) {
  for (const ParquetColumn& c : f.columns)
    if (c.name == name) return ParquetTypeName(c.type, c.scale);
  return "(absent)";
}

const ParquetChunkInfo* Chunk(const ParquetFile& f, std::string_view name, int64_t group = 0) {
  for (const ParquetChunkInfo& c : f.chunks)
    if (c.column == name && c.row_group == group) return &c;
  return nullptr;
}

std::string Le64(int64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
  return s;
}

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(ParquetWriterTest, FileFraming) {
  auto f = Encode({R"({"a":1})"});
  ASSERT_TRUE(f.ok()) << f.status();
  const std::string& b = f->bytes;
  ASSERT_GT(b.size(), 12u);
  EXPECT_EQ(b.substr(0, 4), "PAR1");
  EXPECT_EQ(b.substr(b.size() - 4), "PAR1");
  uint32_t footer = 0;
  for (int i = 0; i < 4; ++i)
    footer |= static_cast<uint32_t>(static_cast<unsigned char>(b[b.size() - 8 + i])) << (8 * i);
  EXPECT_LT(footer, b.size() - 12);
  // The footer is the FileMetaData struct: it ends with a stop byte.
  EXPECT_EQ(b[b.size() - 9], '\0');
  EXPECT_EQ(f->rows, 1);
  EXPECT_EQ(f->row_groups, 1);
}

TEST(ParquetWriterTest, IntegersBecomeInt64) {
  auto f = Encode({R"({"n":1,"e":1E2,"big":9223372036854775807})",
                   R"({"n":-20,"e":5,"big":-9223372036854775808})", R"({"n":null})"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "n"), "int64");
  EXPECT_EQ(TypeOf(*f, "e"), "int64");  // 1E2 is integral
  EXPECT_EQ(TypeOf(*f, "big"), "int64");
  const ParquetChunkInfo* n = Chunk(*f, "n");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->null_count, 1);
  EXPECT_EQ(n->min, Le64(-20));
  EXPECT_EQ(n->max, Le64(1));
  EXPECT_EQ(Chunk(*f, "e")->max, Le64(100));
}

TEST(ParquetWriterTest, FractionsBecomeDecimalWithTheLargestScale) {
  auto f =
      Encode({R"({"d":1.5})", R"({"d":2})", R"({"d":-0.25})", R"({"d":1.50})", R"({"d":12.3e-1})"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "d"), "decimal(38,2)");
  const ParquetChunkInfo* d = Chunk(*f, "d");
  // Unscaled values, 16 bytes big-endian two's complement: min -25, max 200.
  EXPECT_EQ(Hex(d->min), "ffffffffffffffffffffffffffffffe7");
  EXPECT_EQ(Hex(d->max), "000000000000000000000000000000c8");
}

TEST(ParquetWriterTest, Int64OverflowBecomesDecimal) {
  auto f = Encode({R"({"n":9223372036854775808})", R"({"n":1})"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "n"), "decimal(38,0)");
}

TEST(ParquetWriterTest, UnboundedScaleOrRangeBecomesDouble) {
  auto f = Encode({R"({"s":0.1234567890123456789,"r":1e+125,"ok":0.123456789012345678})"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "s"), "double");  // scale 19 > 18
  EXPECT_EQ(TypeOf(*f, "r"), "double");  // 126 digits
  EXPECT_EQ(TypeOf(*f, "ok"), "decimal(38,18)");
  // 39 significant digits do not fit DECIMAL(38, s).
  auto g = Encode({R"({"x":123456789012345678901234567890.123456789})"});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(TypeOf(*g, "x"), "double");
}

TEST(ParquetWriterTest, WideNumbersCanStayExactStrings) {
  ParquetOptions o;
  o.wide_numbers = WideNumbers::kString;
  auto f = Encode({R"({"r":1e+125})", R"({"r":1})"}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "r"), "string");
  EXPECT_EQ(Chunk(*f, "r")->min, "1");
  EXPECT_EQ(Chunk(*f, "r")->max, "1e+125");
}

TEST(ParquetWriterTest, OtherKinds) {
  auto f = Encode({R"({"s":"x","b":true,"o":{"k":[1,2]},"l":[1],"m":1,"z":null})",
                   R"({"s":"y","b":false,"o":null,"l":[],"m":"one"})"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "s"), "string");
  EXPECT_EQ(TypeOf(*f, "b"), "bool");
  EXPECT_EQ(TypeOf(*f, "o"), "json");
  EXPECT_EQ(TypeOf(*f, "l"), "json");
  EXPECT_EQ(TypeOf(*f, "m"), "string");  // mixed kinds
  EXPECT_EQ(TypeOf(*f, "z"), "string");  // always null
  EXPECT_EQ(Chunk(*f, "z")->null_count, 2);
  EXPECT_FALSE(Chunk(*f, "z")->has_min_max);
  // Mixed: the number is written as its JSON text.
  EXPECT_EQ(Chunk(*f, "m")->min, "1");
  EXPECT_EQ(Chunk(*f, "m")->max, "one");
  EXPECT_EQ(Chunk(*f, "o")->min, R"({"k":[1,2]})");
  EXPECT_EQ(Chunk(*f, "b")->min, std::string(1, '\0'));
  EXPECT_EQ(Chunk(*f, "b")->max, std::string(1, '\1'));
  // Columns in order of first appearance.
  ASSERT_EQ(f->columns.size(), 6u);
  EXPECT_EQ(f->columns[0].name, "s");
  EXPECT_EQ(f->columns[5].name, "z");
  for (const ParquetColumn& c : f->columns) EXPECT_FALSE(c.required);
}

TEST(ParquetWriterTest, StringsAreUnescaped) {
  auto f = Encode({R"({"s":"caf\u00e9 \"q\" \ud83d\ude00\n"})"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(Chunk(*f, "s")->min, "caf\xc3\xa9 \"q\" \xf0\x9f\x98\x80\n");
}

TEST(ParquetWriterTest, NumbersAsStringsStayStrings) {  // pipelines with `numbers: string`
  auto f = Encode({R"({"n":"12"})", R"({"n":"7"})"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(TypeOf(*f, "n"), "string");
}

TEST(ParquetWriterTest, DictionaryForLowCardinalityStrings) {
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i)
    lines.push_back(StrCat(R"({"region":")",
                           i % 3 == 0   ? "EU"
                           : i % 3 == 1 ? "US"
                                        : "APAC",
                           R"(","id":"id-)", i, R"("})"));
  auto f = Encode(lines);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(Chunk(*f, "region")->dictionary);
  EXPECT_FALSE(Chunk(*f, "id")->dictionary);  // every value distinct
  EXPECT_EQ(Chunk(*f, "region")->min, "APAC");
  EXPECT_EQ(Chunk(*f, "region")->max, "US");
  // The dictionary makes the column smaller than the plain one would be.
  ParquetOptions no_dict;
  no_dict.max_dictionary_entries = 0;
  no_dict.codec = ParquetCodec::kNone;
  ParquetOptions dict;
  dict.codec = ParquetCodec::kNone;
  auto plain = Encode(lines, no_dict);
  auto dicted = Encode(lines, dict);
  ASSERT_TRUE(plain.ok() && dicted.ok());
  EXPECT_FALSE(Chunk(*plain, "region")->dictionary);
  EXPECT_LT(Chunk(*dicted, "region")->compressed_bytes, Chunk(*plain, "region")->compressed_bytes);
}

TEST(ParquetWriterTest, LongStringsHaveNoMinMax) {
  const std::string big(kMaxStatisticsBytes + 1, 'x');
  auto f = Encode({StrCat(R"({"s":")", big, R"("})"), R"({"s":"a"})", R"({})"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(Chunk(*f, "s")->has_min_max);
  EXPECT_EQ(Chunk(*f, "s")->null_count, 1);
}

TEST(ParquetWriterTest, RleHybridEncodings) {
  auto enc = [](std::vector<uint32_t> v, int width) {
    std::string s;
    parquet_internal::AppendRleHybrid(v, width, &s);
    return Hex(s);
  };
  // Ten ones: one RLE run (header 10 << 1 = 0x14, then the value in one byte).
  EXPECT_EQ(enc(std::vector<uint32_t>(10, 1), 1), "1401");
  // Short: one bit-packed group (header 1 << 1 | 1), LSB first, padded.
  EXPECT_EQ(enc({1, 0, 1}, 1), "0305");
  EXPECT_EQ(enc({1, 0, 1, 0, 1, 0, 1, 0, 1}, 1),
            "05"
            "5501");
  // Width 2: 0,1,2,3 -> 0b11100100.
  EXPECT_EQ(enc({0, 1, 2, 3}, 2),
            "03"
            "e400");
  // A literal group then a long run.
  std::vector<uint32_t> mixed = {1, 0, 1, 0, 1, 0, 1, 0};
  mixed.insert(mixed.end(), 20, 1);
  EXPECT_EQ(enc(mixed, 1),
            "0355"
            "2801");
  // Values above one byte take two bytes in a run.
  EXPECT_EQ(enc(std::vector<uint32_t>(8, 300), 9),
            "10"
            "2c01");
}

TEST(ParquetWriterTest, DefinitionLevelsPrecedeValues) {
  ParquetOptions o;
  o.codec = ParquetCodec::kNone;
  auto f = Encode({R"({"n":7})", R"({})", R"({"n":9})"}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  // Levels 1,0,1: length 2 (LE u32), bit-packed header 0x03, bits 0b101; then the two
  // INT64 values, PLAIN.
  const std::string page = std::string("\x02\x00\x00\x00\x03\x05", 6) + Le64(7) + Le64(9);
  EXPECT_NE(f->bytes.find(page), std::string::npos);
}

TEST(ParquetWriterTest, RequiredColumnsHaveNoLevels) {
  ParquetOptions o;
  o.codec = ParquetCodec::kNone;
  o.schema = {{"n", ParquetType::kInt64, 0, true}};
  auto f = Encode({R"({"n":7})", R"({"n":9})"}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  const std::string values = Le64(7) + Le64(9);
  const size_t at = f->bytes.find(values);
  ASSERT_NE(at, std::string::npos);
  // No level bytes right before the values: the page header's stop byte is.
  EXPECT_EQ(f->bytes[at - 1], '\0');
  auto missing = Encode({R"({"n":7})", R"({"x":1})"}, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(StatusMessage(missing.status())), HasSubstr("required column \"n\""));
}

TEST(ParquetWriterTest, DeclaredSchemaConvertsAndRejects) {
  ParquetOptions o;
  o.schema = {{"id", ParquetType::kString, 0, true},
              {"amount", ParquetType::kDecimal, 4, false},
              {"ts", ParquetType::kTimestampMillis, 0, false},
              {"blob", ParquetType::kBinary, 0, false},
              {"doc", ParquetType::kJson, 0, false}};
  auto f = Encode(
      {R"({"id":"a","amount":"1.5","ts":1700000000000,"blob":"AAEC","doc":"hi","extra":1})"}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->columns.size(), 5u);  // "extra" is not declared
  EXPECT_EQ(Hex(Chunk(*f, "amount")->min), "00000000000000000000000000003a98");  // 15000
  EXPECT_EQ(Chunk(*f, "blob")->min, std::string("\x00\x01\x02", 3));
  EXPECT_EQ(Chunk(*f, "doc")->min, "\"hi\"");  // a string as JSON text
  EXPECT_EQ(Chunk(*f, "ts")->min, Le64(1700000000000));
  auto too_precise = Encode({R"({"id":"a","amount":1.23456})"}, o);
  EXPECT_FALSE(too_precise.ok());
  auto not_a_number = Encode({R"({"id":"a","ts":"soon"})"}, o);
  ASSERT_FALSE(not_a_number.ok());
  EXPECT_THAT(std::string(StatusMessage(not_a_number.status())), HasSubstr("\"ts\""));
}

TEST(ParquetWriterTest, RowGroupsAndPages) {
  std::vector<std::string> lines;
  for (int i = 0; i < 25; ++i)
    lines.push_back(StrCat(R"({"i":)", i, R"(,"s":"value-)", i, R"("})"));
  ParquetOptions o;
  o.row_group_rows = 10;
  auto f = Encode(lines, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->row_groups, 3);
  EXPECT_EQ(f->chunks.size(), 6u);
  EXPECT_EQ(Chunk(*f, "i", 0)->max, Le64(9));
  EXPECT_EQ(Chunk(*f, "i", 2)->min, Le64(20));
  EXPECT_EQ(Chunk(*f, "i", 2)->max, Le64(24));
  o.row_group_rows = 1000;
  o.page_bytes = 40;
  auto paged = Encode(lines, o);
  ASSERT_TRUE(paged.ok());
  EXPECT_EQ(paged->row_groups, 1);
  EXPECT_GT(Chunk(*paged, "s")->data_pages, 3);
  o.page_bytes = 1 << 20;
  o.row_group_bytes = 100;  // about 5 lines
  auto by_bytes = Encode(lines, o);
  ASSERT_TRUE(by_bytes.ok());
  EXPECT_GE(by_bytes->row_groups, 5);
}

TEST(ParquetWriterTest, DeterministicAcrossRunsAndCodecs) {
  std::vector<std::string> lines;
  for (int i = 0; i < 500; ++i)
    lines.push_back(
        StrCat(R"({"i":)", i, R"(,"d":)", i, R"(.25,"r":")", i % 4, R"(","o":{"k":)", i, "}}"));
  size_t sizes[4];
  int k = 0;
  for (ParquetCodec c :
       {ParquetCodec::kNone, ParquetCodec::kSnappy, ParquetCodec::kGzip, ParquetCodec::kZstd}) {
    ParquetOptions o;
    o.codec = c;
    o.key_value_metadata = {{"lakehose.pipeline", "demo"}};
    auto a = Encode(lines, o);
    auto b = Encode(lines, o);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->bytes, b->bytes);
    EXPECT_THAT(a->bytes, HasSubstr("lakehose.pipeline"));
    EXPECT_THAT(
        a->bytes,
        HasSubstr(R"x({"name":"d","type":"decimal(38,2)","required":false,"source":"inferred"})x"));
    sizes[k++] = a->bytes.size();
  }
  EXPECT_LT(sizes[1], sizes[0]);
  EXPECT_LT(sizes[2], sizes[1]);
  EXPECT_LT(sizes[3], sizes[0]);
}

TEST(ParquetWriterTest, BadLinesAreErrors) {
  for (const char* bad :
       {"[1]", "{", R"({"a":})", R"({"a":1,})", R"({"a":01})", R"({"a":"\x"})", R"({"a":tru})",
        R"({"a":[1,}])", R"({"a":"\ud800"})", "{} x", R"({"a":{"b" 1}})"}) {
    auto f = Encode({bad});
    EXPECT_FALSE(f.ok()) << bad;
    if (!f.ok()) EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  auto deep = Encode({StrCat(R"({"a":)", std::string(5000, '['), std::string(5000, ']'), "}")});
  EXPECT_FALSE(deep.ok());
}

TEST(ParquetWriterTest, SplitJsonLines) {
  EXPECT_EQ(SplitJsonLines("{}\n\n{\"a\":1}\r\n{}"),
            (std::vector<std::string_view>{"{}", "{\"a\":1}", "{}"}));
  EXPECT_TRUE(SplitJsonLines("").empty());
}

TEST(ParquetWriterTest, TypeNamesRoundTrip) {
  for (const char* name : {"string", "json", "int64", "decimal(38,0)", "decimal(38,18)", "double",
                           "bool", "binary", "timestamp_ms"}) {
    auto t = ParseParquetTypeName(name);
    ASSERT_TRUE(t.ok()) << name;
    EXPECT_EQ(ParquetTypeName(t->first, t->second), name);
  }
  EXPECT_FALSE(ParseParquetTypeName("decimal(38,39)").ok());
  EXPECT_FALSE(ParseParquetTypeName("int").ok());
}

// ---- delivery: which objects are Parquet ----------------------------------------------

TEST(ParquetDeliveryTest, ErrorDocumentsStayJsonLines) {
  DestinationSpec d;
  d.format = "parquet";
  d.compression = Compression::kNone;
  std::string err;
  AppendErrorDocument(1, 1700000000000, "INVALID_NUMBER", "bad", "raw", &err);
  EXPECT_TRUE(IsErrorDocumentBody(err));
  EXPECT_FALSE(IsErrorDocumentBody(R"({"attemptsMade":"x"})"));
  EXPECT_EQ(ObjectExtensionFor(d, err), ".jsonl");
  EXPECT_EQ(ObjectExtensionFor(d, "{\"a\":1}\n"), ".parquet");
  d.format = "jsonl";
  d.compression = Compression::kGzip;
  EXPECT_EQ(ObjectExtensionFor(d, "{\"a\":1}\n"), ".jsonl.gz");
  EXPECT_EQ(ObjectKey("p/", "demo", "w", 3, ".parquet"), "p/demo-w-0000000000000003.parquet");
}

TEST(ParquetDeliveryTest, EncodeObjectFollowsTheKey) {
  DestinationSpec d;
  d.format = "parquet";
  d.compression = Compression::kNone;
  auto p = EncodeObject(d, "x/a.parquet", "{\"a\":1}\n{\"a\":2}\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->substr(0, 4), "PAR1");
  auto j = EncodeObject(d, "x/a.jsonl", "{\"a\":1}\n");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, "{\"a\":1}\n");
}

// ---- config ----------------------------------------------------------------------------

absl::StatusOr<Config> ParseYaml(const std::string& destination) {
  return ParseConfig(
      StrCat("pipelines:\n  - name: p\n    input: json\n    destination: ", destination, "\n"),
      "cfg.yaml",
      [](const std::string&) -> absl::StatusOr<absl::TimeZone> { return absl::UTCTimeZone(); });
}

TEST(ParquetConfigTest, Defaults) {
  auto c = ParseYaml("{ format: parquet }");
  ASSERT_TRUE(c.ok()) << c.status();
  const DestinationSpec& d = c->pipelines[0]->destination;
  EXPECT_EQ(d.format, "parquet");
  EXPECT_EQ(d.parquet.codec, ParquetCodec::kSnappy);
  EXPECT_EQ(d.compression, Compression::kNone);
  ASSERT_EQ(d.parquet.key_value_metadata.size(), 1u);
  EXPECT_EQ(d.parquet.key_value_metadata[0].second, "p");
}

TEST(ParquetConfigTest, Options) {
  auto c = ParseYaml(R"x({ format: parquet, compression: zstd, compression_level: 7,
      parquet: { row_group_rows: 5000, row_group_mb: 16, page_kb: 256, wide_numbers: string, nested: json,
                 schema: [ { name: id, type: string, required: true }, { name: amount, type: "decimal(38,2)" } ] } })x");
  ASSERT_TRUE(c.ok()) << c.status();
  const ParquetOptions& o = c->pipelines[0]->destination.parquet;
  EXPECT_EQ(o.codec, ParquetCodec::kZstd);
  EXPECT_EQ(o.compression_level, 7);
  EXPECT_EQ(o.row_group_rows, 5000);
  EXPECT_EQ(o.row_group_bytes, 16 << 20);
  EXPECT_EQ(o.page_bytes, 256 * 1024);
  EXPECT_EQ(o.wide_numbers, WideNumbers::kString);
  ASSERT_EQ(o.schema.size(), 2u);
  EXPECT_TRUE(o.schema[0].required);
  EXPECT_EQ(o.schema[1].type, ParquetType::kDecimal);
  EXPECT_EQ(o.schema[1].scale, 2);
}

TEST(ParquetConfigTest, Errors) {
  auto snappy_jsonl = ParseYaml("{ format: jsonl, compression: snappy }");
  ASSERT_FALSE(snappy_jsonl.ok());
  EXPECT_EQ(StatusMessage(snappy_jsonl.status()),
            "cfg.yaml: pipelines[0].destination.compression: snappy is only for format: parquet "
            "(JSON Lines "
            "objects use none, gzip or zstd)");
  auto native = ParseYaml("{ format: parquet, parquet: { nested: native } }");
  ASSERT_FALSE(native.ok());
  EXPECT_THAT(std::string(StatusMessage(native.status())), HasSubstr("parquet.nested"));
  EXPECT_FALSE(ParseYaml("{ format: jsonl, parquet: { row_group_rows: 5 } }").ok());
  EXPECT_FALSE(ParseYaml("{ format: parquet, compression: snappy, compression_level: 3 }").ok());
  EXPECT_FALSE(
      ParseYaml("{ format: parquet, parquet: { schema: [ { name: a, type: int } ] } }").ok());
  EXPECT_FALSE(ParseYaml("{ format: parquet, parquet: { schema: [ { name: a, type: bool }, { name: "
                         "a, type: bool } ] } }")
                   .ok());
  EXPECT_FALSE(ParseYaml("{ format: csv }").ok());
}

}  // namespace
}  // namespace lakehose
