#include "core/parquet/schema.h"

#include <deque>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

// A column's type tree, e.g. "struct<a:int64,l:list<string>>".
std::string Shape(const ParquetColumn& c) {
  if (c.type == ParquetType::kList) return StrCat("list<", Shape(c.children[0]), ">");
  if (c.type != ParquetType::kStruct) return ParquetTypeName(c.type, c.scale);
  std::string out = "struct<";
  for (size_t i = 0; i < c.children.size(); ++i)
    StrAppend(&out, i ? "," : "", c.children[i].name, ":", Shape(c.children[i]));
  return out + ">";
}

// The shape inferred for a column holding `values` (JSON texts; "" for absent).
std::string Infer(const std::vector<std::string>& values, ParquetOptions o = {}) {
  std::vector<std::string> lines;
  for (const std::string& v : values)
    lines.push_back(v.empty() ? "{}" : StrCat(R"({"v":)", v, "}"));
  std::deque<std::string> arena;
  std::vector<Value> cells;
  for (const std::string& line : lines) {
    Value got;  // kAbsent unless the line has "v"
    LineParser p(line, &arena);
    EXPECT_TRUE(p.ParseObject([&](std::string_view, const Value& v) { got = v; }).ok()) << line;
    cells.push_back(got);
  }
  absl::StatusOr<ParquetColumn> c = InferColumn("v", cells, o);
  if (!c.ok()) return std::string(c.status().message());
  EXPECT_EQ(c->name, "v");
  EXPECT_FALSE(c->required);
  return Shape(*c);
}

ParquetOptions Native() {
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  return o;
}

TEST(InferColumnTest, Scalars) {
  EXPECT_EQ(Infer({"1", "-2", ""}), "int64");
  EXPECT_EQ(Infer({"1", "2.25", "-0.5"}), "decimal(38,2)");
  EXPECT_EQ(Infer({"9223372036854775808"}), "decimal(38,0)");
  EXPECT_EQ(Infer({"0.1234567890123456789"}), "double");  // scale 19
  EXPECT_EQ(Infer({"1e125"}), "double");                  // 126 digits
  ParquetOptions wide;
  wide.wide_numbers = WideNumbers::kString;
  EXPECT_EQ(Infer({"1e125"}, wide), "string");
  EXPECT_EQ(Infer({R"("x")", "null"}), "string");
  EXPECT_EQ(Infer({"true", "false"}), "bool");
  EXPECT_EQ(Infer({"1", R"("x")"}), "string");  // mixed kinds
  EXPECT_EQ(Infer({"null", ""}), "string");     // always null
  EXPECT_EQ(Infer({}), "string");
  EXPECT_EQ(Infer({R"({"a":1})", "[1]"}), "json");  // objects and arrays as JSON text
}

TEST(InferColumnTest, NativeGroupsAndLists) {
  EXPECT_EQ(Infer({R"({"a":1,"b":{"c":"x"}})", R"({"d":[true],"a":2.5})", "null"}, Native()),
            "struct<a:decimal(38,1),b:struct<c:string>,d:list<bool>>");
  EXPECT_EQ(Infer({"[[1],[]]", "[]", "[null,[2]]"}, Native()), "list<list<int64>>");
  EXPECT_EQ(Infer({"[]"}, Native()), "list<string>");  // elements never seen: null column
  EXPECT_EQ(Infer({"{}", "{}"}, Native()), "json");    // no member, no group
  EXPECT_EQ(Infer({R"([1,"x"])"}, Native()), "json");  // elements of mixed kinds
  EXPECT_EQ(Infer({R"({"a":1})", "[1]"}, Native()), "json");
  EXPECT_EQ(Infer({R"({"a":{"k":1}})", R"({"a":"s"})"}, Native()), "struct<a:string>");
  // A repeated member name: its first position, its last value.
  EXPECT_EQ(Infer({R"({"a":"x","b":1,"a":2})"}, Native()), "struct<a:int64,b:int64>");
  // Scalars are as without kNative.
  EXPECT_EQ(Infer({"1", "2.5"}, Native()), "decimal(38,1)");
}

TEST(InferColumnTest, NativeDepthIsBounded) {
  const std::string deep = std::string(kMaxParquetNativeDepth + 1, '[') + "1" +
                           std::string(kMaxParquetNativeDepth + 1, ']');
  std::string want;
  for (int i = 0; i < kMaxParquetNativeDepth; ++i) want += "list<";
  want += "json";
  for (int i = 0; i < kMaxParquetNativeDepth; ++i) want += ">";
  EXPECT_EQ(Infer({deep}, Native()), want);
}

TEST(InferColumnTest, MalformedNumbersAreErrors) {
  absl::StatusOr<ParquetColumn> c = InferColumn("v", {Value{Value::kNumber, "1.2.3"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "parquet: bad number");
  absl::StatusOr<ParquetColumn> n =
      InferColumn("v", {Value{}, Value{Value::kNested, "[1,"}}, Native());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("(record 1)"), std::string_view::npos);
}

TEST(DescribeColumnsTest, NamesTypesAndTrees) {
  ParquetColumn id{"id", ParquetType::kString, 0, true};
  ParquetColumn amount{"amount", ParquetType::kDecimal, 2};
  EXPECT_EQ(DescribeColumns({id, amount}, /*declared=*/true),
            R"([{"name":"id","type":"string","required":true,"source":"declared"},)"
            R"x({"name":"amount","type":"decimal(38,2)","required":false,"source":"declared"}])x");
  ParquetColumn list{"l", ParquetType::kList, 0, false, {{"element", ParquetType::kInt64}}};
  ParquetColumn s{"s\"q", ParquetType::kStruct, 0, false, {list, {"b", ParquetType::kBool}}};
  EXPECT_EQ(
      DescribeColumns({s}, /*declared=*/false),
      R"([{"name":"s\"q","type":"struct","required":false,"source":"inferred","fields":[)"
      R"({"name":"l","type":"list","element":{"type":"int64"}},{"name":"b","type":"bool"}]}])");
  EXPECT_EQ(DescribeColumns({}, false), "[]");
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
