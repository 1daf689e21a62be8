#include "core/parquet/parquet_writer.h"

#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/delivery/delivery_format.h"
#include "core/parquet/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/test_config.h"

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

// ---- what one record can do to an object (README "Parquet": numbers, limits) ---------

// {"a": <depth levels of arrays around 1>}, or of objects {"k": ...}.
std::string DeepRecord(int depth, bool objects = false) {
  std::string s = R"({"a":)";
  for (int i = 0; i < depth; ++i) s += objects ? R"({"k":)" : "[";
  s += "1";
  for (int i = 0; i < depth; ++i) s += objects ? "}" : "]";
  return s + "}";
}

TEST(ParquetNumberTest, InferredDoubleColumnNeverHoldsInfinityOrZeroForOtherNumbers) {
  // Before: DOUBLE holding Infinity, Infinity and 0.
  const std::string digits400(400, '7');
  auto f = Encode({R"({"big":1e999999,"tiny":1E-999999,"n":1.5,"neg":-1e999999})",
                   StrCat(R"({"big":)", digits400, R"(,"tiny":2.5,"n":1e+125,"neg":-5})")});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "big"), "string");  // the exact digits, as wide_numbers: string
  EXPECT_EQ(TypeOf(*f, "tiny"), "string");
  EXPECT_EQ(TypeOf(*f, "n"), "double");         // within range: unchanged
  EXPECT_FALSE(Chunk(*f, "big")->has_min_max);  // 400 bytes: past kMaxStatisticsBytes
  EXPECT_EQ(Chunk(*f, "neg")->min, "-1e999999");
  EXPECT_EQ(Chunk(*f, "neg")->max, "-5");
  EXPECT_EQ(Chunk(*f, "tiny")->min, "1E-999999");
  EXPECT_EQ(Chunk(*f, "tiny")->max, "2.5");
  // The same at a nested position.
  auto g = Encode({R"({"l":[1.5,1e999999]})"}, [] {
    ParquetOptions o;
    o.nested = NestedEncoding::kNative;
    return o;
  }());
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->columns.size(), 1u);
  ASSERT_EQ(g->columns[0].children.size(), 1u);
  EXPECT_EQ(ParquetTypeName(g->columns[0].children[0].type, 0), "string");
}

TEST(ParquetNumberTest, DeclaredDoubleRefusesNumbersBeyondItsRange) {
  ParquetOptions o;
  o.schema = {{"x", ParquetType::kDouble}};
  for (const std::string& bad :
       std::vector<std::string>{"1e999999", "-1e999999", "1E-999999", std::string(400, '9')}) {
    auto f = Encode({StrCat(R"({"x":)", bad, "}")}, o);  // before: written as +-Infinity / 0
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_EQ(CheckParquetRecord(StrCat(R"({"x":)", bad, "}"), o).problem,
              ParquetRecordProblem::kUnrepresentable)
        << bad;
  }
  auto ok = Encode({R"({"x":1e308})", R"({"x":0.1})", R"({"x":"2.5"})", R"({"x":0e-999999})"}, o);
  ASSERT_TRUE(ok.ok()) << ok.status();
}

TEST(ParquetDepthTest, EveryDepthEncodesOrIsRefusedAloneWithoutCrashing) {
  for (bool native : {false, true}) {
    ParquetOptions o;
    if (native) o.nested = NestedEncoding::kNative;
    for (int depth : {kMaxNestingDepth, kMaxNestingDepth + 1, kMaxParquetJsonDepth,
                      kMaxParquetJsonDepth + 1, 50000}) {
      for (bool objects : {false, true}) {
        const std::string line = DeepRecord(depth, objects);
        const ParquetRecordCheck check = CheckParquetRecord(line, o);
        auto f = Encode({line}, o);
        EXPECT_EQ(check.ok(), f.ok()) << depth << " " << native;
        if (depth <= kMaxParquetJsonDepth) {
          EXPECT_TRUE(f.ok()) << depth << " " << native << " " << f.status();
        } else {
          EXPECT_EQ(check.problem, ParquetRecordProblem::kTooDeep) << depth;
          EXPECT_THAT(check.message, HasSubstr(StrCat(depth, " levels")));
        }
      }
    }
  }
}

TEST(ParquetDepthTest, NativeNestingStopsAtTheSharedLimit) {
  EXPECT_EQ(kMaxParquetNativeDepth, kMaxNestingDepth);  // DynamoDB's 32 levels
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  auto f = Encode({DeepRecord(kMaxNestingDepth + 1, /*objects=*/true)}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  // 32 STRUCTs, the 33rd level as JSON text.
  const ParquetColumn* c = &f->columns[0];
  int groups = 0;
  while (c->type == ParquetType::kStruct) {
    ++groups;
    c = &c->children[0];
  }
  EXPECT_EQ(groups, kMaxNestingDepth);
  EXPECT_EQ(c->type, ParquetType::kJson);
}

TEST(ParquetIsolationTest, OneBadRecordDoesNotTakeTheOthersWithIt) {
  ParquetOptions o;
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) lines.push_back(StrCat(R"({"id":)", i, R"(,"a":[1]})"));
  lines.insert(lines.begin() + 50, DeepRecord(kMaxParquetJsonDepth + 1));
  lines.push_back(DeepRecord(50000, /*objects=*/true));
  std::vector<std::string_view> views(lines.begin(), lines.end());
  ASSERT_FALSE(EncodeParquetFile(views, o).ok());  // one record fails the whole
  std::vector<ParquetRejectedRecord> rejected;
  auto f = EncodeParquetFileIsolating(views, o, &rejected);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->rows, 100);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].line, 50u);
  EXPECT_EQ(rejected[1].line, 101u);
  EXPECT_EQ(rejected[1].why.problem, ParquetRecordProblem::kTooDeep);
  // Declared columns: a value that does not convert, and a missing required one.
  o.schema = {{"id", ParquetType::kInt64, 0, true}};
  std::vector<std::string_view> declared = {R"({"id":1})", R"({"id":"x"})", R"({"other":1})",
                                            R"({"id":2})"};
  f = EncodeParquetFileIsolating(declared, o, &rejected);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->rows, 2);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].why.problem, ParquetRecordProblem::kUnrepresentable);
  EXPECT_THAT(rejected[0].why.message, HasSubstr("column \"id\" (int64) cannot hold \"x\""));
  EXPECT_THAT(rejected[1].why.message, HasSubstr("no value for required column \"id\""));
  // Nothing is left out when every record encodes; an error of the options stays one.
  f = EncodeParquetFileIsolating({R"({"id":1})"}, o, &rejected);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(rejected.empty());
  o.page_bytes = 0;
  EXPECT_FALSE(EncodeParquetFileIsolating({R"({"id":1})"}, o, &rejected).ok());
}

TEST(ParquetIsolationTest, CheckAgreesWithTheEncoderOnDeclaredColumns) {
  ParquetOptions o;
  o.schema = {{"i", ParquetType::kInt64},           {"d", ParquetType::kDecimal, 2},
              {"f", ParquetType::kDouble},          {"b", ParquetType::kBool},
              {"t", ParquetType::kTimestampMillis}, {"bin", ParquetType::kBinary}};
  for (const char* line :
       {R"({"i":1})", R"({"i":1.5})", R"({"i":99999999999999999999})", R"({"d":1.234})",
        R"({"d":"1.23"})", R"({"f":1e999999})", R"({"f":true})", R"({"b":1})", R"({"b":false})",
        R"({"t":"x"})", R"({"bin":"!!"})", R"({"bin":"AAEC"})", R"({"i":1,"i":"x"})",
        R"({"i":"x","i":1})"}) {
    const bool encodes = Encode({line}, o).ok();
    EXPECT_EQ(CheckParquetRecord(line, o).ok(), encodes) << line;
  }
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

// ---- nested: native --------------------------------------------------------------------

ParquetOptions Native() {
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  o.codec = ParquetCodec::kNone;
  return o;
}

const ParquetColumn* Column(const ParquetFile& f, std::string_view name) {
  for (const ParquetColumn& c : f.columns)
    if (c.name == name) return &c;
  return nullptr;
}

// A column's type tree, e.g. "struct<a:int64,l:list<string>>".
std::string Shape(const ParquetColumn& c) {
  if (c.type == ParquetType::kList) return StrCat("list<", Shape(c.children[0]), ">");
  if (c.type != ParquetType::kStruct) return ParquetTypeName(c.type, c.scale);
  std::string out = "struct<";
  for (size_t i = 0; i < c.children.size(); ++i)
    StrAppend(&out, i ? "," : "", c.children[i].name, ":", Shape(c.children[i]));
  return out + ">";
}

std::string ShapeOf(const ParquetFile& f, std::string_view name) {
  const ParquetColumn* c = Column(f, name);
  return c ? Shape(*c) : "(absent)";
}

// Levels as a data page v1 holds them: a 4-byte little-endian length, then RLE/bit-packed.
std::string Levels(const std::vector<uint32_t>& levels, int width) {
  std::string rle;
  parquet_internal::AppendRleHybrid(levels, width, &rle);
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(rle.size() >> (8 * i)));
  return out + rle;
}

TEST(ParquetNestedTest, SchemaIsTheUnionOfTheRecords) {
  auto f = Encode(
      {R"({"o":{"a":1,"b":"x","l":[1,2]},"tags":["a","b"],"n":1})",
       R"({"o":{"a":2.5,"c":true,"d":{"e":[{"f":"g"}]}},"tags":[]})", R"({"o":null,"tags":null})"},
      Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(
      ShapeOf(*f, "o"),
      "struct<a:decimal(38,1),b:string,l:list<int64>,c:bool,d:struct<e:list<struct<f:string>>>>");
  EXPECT_EQ(ShapeOf(*f, "tags"), "list<string>");
  EXPECT_EQ(ShapeOf(*f, "n"), "int64");
  // One chunk per leaf, named by its path.
  std::vector<std::string> names;
  for (const ParquetChunkInfo& c : f->chunks) names.push_back(c.column);
  EXPECT_EQ(names, (std::vector<std::string>{"o.a", "o.b", "o.l.list.element", "o.c",
                                             "o.d.e.list.element.f", "tags.list.element", "n"}));
  // The schema elements: the three-level LIST (a repeated group "list", an element).
  EXPECT_THAT(f->bytes, HasSubstr("list"));
  EXPECT_THAT(f->bytes, HasSubstr("element"));
  // lakehose.columns records the tree.
  EXPECT_THAT(
      f->bytes,
      HasSubstr(
          R"x({"name":"o","type":"struct","required":false,"source":"inferred","fields":[{"name":"a","type":"decimal(38,1)"},{"name":"b","type":"string"},{"name":"l","type":"list","element":{"type":"int64"}},{"name":"c","type":"bool"},{"name":"d","type":"struct","fields":[{"name":"e","type":"list","element":{"type":"struct","fields":[{"name":"f","type":"string"}]}}]}]})x"));
  EXPECT_THAT(
      f->bytes,
      HasSubstr(
          R"x({"name":"tags","type":"list","required":false,"source":"inferred","element":{"type":"string"}})x"));
  // Statistics per leaf.
  EXPECT_EQ(Chunk(*f, "o.l.list.element")->min, Le64(1));
  EXPECT_EQ(Chunk(*f, "o.l.list.element")->max, Le64(2));
  EXPECT_EQ(Chunk(*f, "tags.list.element")->min, "a");
  EXPECT_EQ(Chunk(*f, "tags.list.element")->max, "b");
  // Entries without a value: [] and null tags (the two values are not nulls).
  EXPECT_EQ(Chunk(*f, "tags.list.element")->null_count, 2);
}

TEST(ParquetNestedTest, JsonModeIsUnchanged) {
  const std::vector<std::string> lines = {R"({"o":{"a":1},"l":[1,2],"s":"x","n":1.5})",
                                          R"({"o":{"a":2},"l":[],"s":"y"})"};
  ParquetOptions json;
  json.codec = ParquetCodec::kNone;
  auto f = Encode(lines, json);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(TypeOf(*f, "o"), "json");
  EXPECT_EQ(TypeOf(*f, "l"), "json");
  EXPECT_EQ(Chunk(*f, "o")->min, R"({"a":1})");
  // Without objects or arrays, native writes the same bytes as json.
  const std::vector<std::string> flat = {R"({"s":"x","n":1.5,"b":true})", R"({"s":"y","z":null})"};
  auto a = Encode(flat, json);
  auto b = Encode(flat, Native());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bytes, b->bytes);
}

TEST(ParquetNestedTest, StructLevelsTellNullFromMissing) {
  // o.a: max definition level 2, no repetition levels.
  auto f = Encode({R"({"o":{"a":1}})", R"({"o":{"a":null}})", R"({"o":{}, "p":1})", R"({"o":null})",
                   R"({})", R"({"o":{"a":7,"a":9}})"},
                  Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(ShapeOf(*f, "o"), "struct<a:int64>");
  const std::string page = Levels({2, 1, 1, 0, 0, 2}, 2) + Le64(1) + Le64(9);  // the last wins
  EXPECT_NE(f->bytes.find(page), std::string::npos);
  EXPECT_EQ(Chunk(*f, "o.a")->null_count, 4);
  EXPECT_EQ(Chunk(*f, "o.a")->min, Le64(1));
  EXPECT_EQ(Chunk(*f, "o.a")->max, Le64(9));
}

TEST(ParquetNestedTest, ListLevelsForEmptyNullAndNullElements) {
  // l.list.element: max repetition level 1, max definition level 3:
  // 0 l null or absent, 1 empty list, 2 null element, 3 a value.
  auto f = Encode({R"({"l":[1,2]})", R"({"l":[]})", R"({"l":null})", R"({})", R"({"l":[null,3]})",
                   R"({"l":[null]})"},
                  Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(ShapeOf(*f, "l"), "list<int64>");
  const std::string page = Levels({0, 1, 0, 0, 0, 0, 1, 0}, 1) +
                           Levels({3, 3, 1, 0, 0, 2, 3, 2}, 2) + Le64(1) + Le64(2) + Le64(3);
  EXPECT_NE(f->bytes.find(page), std::string::npos);
  EXPECT_EQ(Chunk(*f, "l.list.element")->null_count, 5);
}

TEST(ParquetNestedTest, ListOfObjectsWithMissingFields) {
  auto f =
      Encode({R"({"l":[{"a":1},{"b":"x"},{}]})", R"({"l":[{"a":2,"b":"y"}]})", R"({"l":[null]})"},
             Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(ShapeOf(*f, "l"), "list<struct<a:int64,b:string>>");
  // l.list.element.a: l 1, list 2, element 3, a 4.
  const std::string a = Levels({0, 1, 1, 0, 0}, 1) + Levels({4, 3, 3, 4, 2}, 3) + Le64(1) + Le64(2);
  EXPECT_NE(f->bytes.find(a), std::string::npos);
  EXPECT_EQ(Chunk(*f, "l.list.element.b")->min, "x");
  EXPECT_EQ(Chunk(*f, "l.list.element.b")->null_count, 3);
}

TEST(ParquetNestedTest, NestedListLevels) {
  // m.list.element.list.element: m 1, list 2 (rep 1), element 3, its list 4 (rep 2),
  // its element 5.
  auto f = Encode(
      {R"({"m":[[1],[],[2,3]]})", R"({"m":[]})", R"({"m":[[]]})", R"({"m":[null,[4]]})"}, Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(ShapeOf(*f, "m"), "list<list<int64>>");
  const std::string page = Levels({0, 1, 1, 2, 0, 0, 0, 1}, 2) +
                           Levels({5, 3, 5, 5, 1, 3, 2, 5}, 3) + Le64(1) + Le64(2) + Le64(3) +
                           Le64(4);
  EXPECT_NE(f->bytes.find(page), std::string::npos);
  EXPECT_EQ(Chunk(*f, "m.list.element.list.element")->max, Le64(4));
}

TEST(ParquetNestedTest, AlwaysEmptyListsAndObjects) {
  auto f = Encode({R"({"l":[],"o":{},"e":[{}]})", R"({"l":[null],"o":{}})"}, Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(ShapeOf(*f, "l"), "list<string>");  // elements always null: as a null column
  EXPECT_EQ(ShapeOf(*f, "o"), "json");          // no member ever: no group to write
  EXPECT_EQ(ShapeOf(*f, "e"), "list<json>");
  EXPECT_EQ(Chunk(*f, "o")->min, "{}");
  EXPECT_EQ(Chunk(*f, "e.list.element")->min, "{}");
}

TEST(ParquetNestedTest, MixedKindsFallBackToJsonText) {
  auto f = Encode(
      {R"({"mixed_list":[1,"x"],"obj_or_str":{"k":1},"o":{"k":1},"lists":[[1],{"a":1}],"top":{"a":1}})",
       R"({"mixed_list":[2],"obj_or_str":"s","o":{"k":"x"},"lists":[],"top":[1]})"},
      Native());
  ASSERT_TRUE(f.ok()) << f.status();
  // An array whose elements mix kinds is one JSON text.
  EXPECT_EQ(ShapeOf(*f, "mixed_list"), "json");
  EXPECT_EQ(Chunk(*f, "mixed_list")->min, "[1,\"x\"]");
  EXPECT_EQ(Chunk(*f, "mixed_list")->max, "[2]");
  // A member that is an object in one record and a string in another: as with json.
  EXPECT_EQ(ShapeOf(*f, "obj_or_str"), "string");
  EXPECT_EQ(Chunk(*f, "obj_or_str")->min, "s");
  EXPECT_EQ(Chunk(*f, "obj_or_str")->max, R"({"k":1})");
  // The same inside an object: only that member falls back.
  EXPECT_EQ(ShapeOf(*f, "o"), "struct<k:string>");
  EXPECT_EQ(Chunk(*f, "o.k")->min, "1");
  EXPECT_EQ(Chunk(*f, "o.k")->max, "x");
  // Elements that are arrays and objects; a member that is both: JSON text.
  EXPECT_EQ(ShapeOf(*f, "lists"), "json");
  EXPECT_EQ(ShapeOf(*f, "top"), "json");
}

TEST(ParquetNestedTest, DepthIsBounded) {
  const int depth = kMaxParquetNativeDepth + 8;
  const std::string deep =
      StrCat(R"({"d":)", std::string(depth, '['), "1", std::string(depth, ']'), "}");
  auto f = Encode({deep}, Native());
  ASSERT_TRUE(f.ok()) << f.status();
  std::string want;
  for (int i = 0; i < kMaxParquetNativeDepth; ++i) want += "list<";
  want += "json";
  for (int i = 0; i < kMaxParquetNativeDepth; ++i) want += ">";
  EXPECT_EQ(ShapeOf(*f, "d"), want);
  const std::string rest = std::string(depth - kMaxParquetNativeDepth, '[') + "1" +
                           std::string(depth - kMaxParquetNativeDepth, ']');
  ASSERT_EQ(f->chunks.size(), 1u);
  EXPECT_EQ(f->chunks[0].min, rest);
  // Past the parser's limit, as in json mode, the record is an error.
  auto too_deep =
      Encode({StrCat(R"({"a":)", std::string(5000, '['), std::string(5000, ']'), "}")}, Native());
  EXPECT_FALSE(too_deep.ok());
}

TEST(ParquetNestedTest, StringLeavesUseADictionary) {
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i)
    lines.push_back(StrCat(R"({"tags":[")", i % 2 ? "vip" : "new", R"(","promo"],"o":{"r":")",
                           i % 3 ? "EU" : "US", R"(","id":"id-)", i, R"("}})"));
  auto f = Encode(lines, Native());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(Chunk(*f, "tags.list.element")->dictionary);
  EXPECT_TRUE(Chunk(*f, "o.r")->dictionary);
  EXPECT_FALSE(Chunk(*f, "o.id")->dictionary);
  EXPECT_EQ(Chunk(*f, "tags.list.element")->min, "new");
  EXPECT_EQ(Chunk(*f, "tags.list.element")->max, "vip");
}

TEST(ParquetNestedTest, PagesAndRowGroupsEndAtRecordBoundaries) {
  std::vector<std::string> lines;
  for (int i = 0; i < 60; ++i) {
    std::string l = R"({"l":[)";
    for (int j = 0; j < 10; ++j) StrAppend(&l, j ? "," : "", i * 10 + j);
    lines.push_back(l + "]}");
  }
  ParquetOptions o = Native();
  o.page_bytes = 100;  // under one record's 80 value bytes plus levels: a page per record or two
  o.row_group_rows = 25;
  auto f = Encode(lines, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->row_groups, 3);
  EXPECT_GE(Chunk(*f, "l.list.element", 0)->data_pages, 12);
  EXPECT_EQ(Chunk(*f, "l.list.element", 1)->min, Le64(250));
  EXPECT_EQ(Chunk(*f, "l.list.element", 2)->max, Le64(599));
  // A page never ends inside a record: with a 1-byte target, a page is one record.
  o.page_bytes = 1;
  auto one = Encode(lines, o);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Chunk(*one, "l.list.element", 0)->data_pages, 25);
}

TEST(ParquetNestedTest, Deterministic) {
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i)
    lines.push_back(StrCat(R"({"i":)", i, R"(,"o":{"k":)", i, R"(,"l":[)", i, ",", i % 7,
                           R"(],"m":{"x":")", i % 3, R"("}},"s":[[")", i, R"("]]})"));
  for (ParquetCodec c : {ParquetCodec::kNone, ParquetCodec::kSnappy, ParquetCodec::kZstd}) {
    ParquetOptions o = Native();
    o.codec = c;
    auto a = Encode(lines, o);
    auto b = Encode(lines, o);
    ASSERT_TRUE(a.ok() && b.ok()) << a.status();
    EXPECT_EQ(a->bytes, b->bytes);
  }
}

TEST(ParquetNestedTest, DeclaredSchemasAreWrittenAsDeclared) {
  ParquetOptions o = Native();
  o.schema = {{"doc", ParquetType::kJson, 0, false}};
  auto f = Encode({R"({"doc":{"a":[1]}})"}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(ShapeOf(*f, "doc"), "json");
  o.schema = {{"doc", ParquetType::kStruct, 0, false}};
  auto bad = Encode({R"({"doc":{"a":[1]}})"}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseParquetTypeName("struct").ok());
  EXPECT_FALSE(ParseParquetTypeName("list").ok());
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

TEST(ParquetDeliveryTest, EncodeObjectLeavesOutWhatItCannotStore) {
  DestinationSpec d;
  d.format = "parquet";
  d.parquet.schema = {{"a", ParquetType::kInt64}};
  const std::string body = "{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":2}\n";
  EXPECT_FALSE(EncodeObject(d, "x/a.parquet", body).ok());  // without `rejected`: the whole
  RejectedRecords rejected;
  auto p = EncodeObject(d, "x/a.parquet", body, &rejected);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rejected.records, 1);
  EXPECT_EQ(rejected.lines, "{\"a\":\"x\"}\n");
  EXPECT_THAT(rejected.reason, HasSubstr("line 2: "));
  EXPECT_EQ(RejectedRecordsKey("x/p-w-0000000000000001.parquet"),
            "x/p-w-0000000000000001-rejected.parquet");
}

// ---- config ----------------------------------------------------------------------------

absl::StatusOr<Config> ParseYaml(const std::string& destination) {
  return ParseConfig(
      StrCat("pipelines:\n  - name: p\n    input: json\n    destination: ", destination, "\n"),
      "cfg.yaml", TestTimeZone);
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
  EXPECT_EQ(o.nested, NestedEncoding::kJson);
  ASSERT_EQ(o.schema.size(), 2u);
  EXPECT_TRUE(o.schema[0].required);
  EXPECT_EQ(o.schema[1].type, ParquetType::kDecimal);
  EXPECT_EQ(o.schema[1].scale, 2);
}

TEST(ParquetConfigTest, NestedNative) {
  auto c = ParseYaml("{ format: parquet, parquet: { nested: native } }");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipelines[0]->destination.parquet.nested, NestedEncoding::kNative);
  auto d = ParseYaml("{ format: parquet }");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pipelines[0]->destination.parquet.nested, NestedEncoding::kJson);
}

TEST(ParquetConfigTest, TimestamptzCanBeDeclared) {
  auto c =
      ParseYaml("{ format: parquet, parquet: { schema: [ { name: at, type: timestamptz } ] } }");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->pipelines[0]->destination.parquet.schema.size(), 1u);
  EXPECT_EQ(c->pipelines[0]->destination.parquet.schema[0].type, ParquetType::kTimestampMicros);
  auto f = Encode({R"({"at":1700000000123})"}, c->pipelines[0]->destination.parquet);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(Chunk(*f, "at")->min, Le64(int64_t{1700000000123000}));
}

TEST(ParquetConfigTest, Errors) {
  auto snappy_jsonl = ParseYaml("{ format: jsonl, compression: snappy }");
  ASSERT_FALSE(snappy_jsonl.ok());
  EXPECT_EQ(StatusMessage(snappy_jsonl.status()),
            "cfg.yaml: pipelines[0].destination.compression: snappy is only for format: parquet "
            "(JSON Lines "
            "objects use none, gzip or zstd)");
  auto nested = ParseYaml("{ format: parquet, parquet: { nested: arrow } }");
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(std::string(StatusMessage(nested.status())), HasSubstr("parquet.nested"));
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
