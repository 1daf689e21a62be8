#include "core/parquet/json_reader.h"

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/parquet/parquet_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

using ::testing::HasSubstr;

struct Member {
  std::string name;
  Value::Kind kind;
  std::string text;
  bool operator==(const Member& o) const {
    return name == o.name && kind == o.kind && text == o.text;
  }
};

absl::Status Members(std::string_view line, std::deque<std::string>* arena,
                     std::vector<Member>* out) {
  LineParser p(line, arena);
  return p.ParseObject([&](std::string_view name, const Value& v) {
    out->push_back({std::string(name), v.kind, std::string(v.text)});
  });
}

TEST(LineParserTest, MembersKeepTheirText) {
  std::deque<std::string> arena;
  std::vector<Member> m;
  ASSERT_TRUE(Members(R"( {"a" : 1.50e2, "b":"x\ty", "c":[1, {"d":2}],"e" :null,)"
                      R"("f":true,"g":false,"a":-0} )",
                      &arena, &m)
                  .ok());
  EXPECT_EQ(m, (std::vector<Member>{{"a", Value::kNumber, "1.50e2"},
                                    {"b", Value::kString, "x\ty"},
                                    {"c", Value::kNested, R"([1, {"d":2}])"},
                                    {"e", Value::kNull, ""},
                                    {"f", Value::kTrue, ""},
                                    {"g", Value::kFalse, ""},
                                    {"a", Value::kNumber, "-0"}}));  // repeats are reported
}

TEST(LineParserTest, OnlyEscapedStringsUseTheArena) {
  std::deque<std::string> arena;
  const std::string line = R"({"plain":"abc","esc":"caf\u00e9 \ud83d\ude00"})";
  LineParser p(line, &arena);
  std::vector<std::string_view> texts;
  ASSERT_TRUE(
      p.ParseObject([&](std::string_view, const Value& v) { texts.push_back(v.text); }).ok());
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0].data(), line.data() + line.find("abc"));  // a view of the line
  EXPECT_EQ(texts[1], "caf\xc3\xa9 \xf0\x9f\x98\x80");
  ASSERT_EQ(arena.size(), 1u);
  EXPECT_EQ(texts[1].data(), arena[0].data());
}

TEST(LineParserTest, ErrorsSayWhere) {
  std::deque<std::string> arena;
  std::vector<Member> m;
  absl::Status s = Members(R"({"a":tru})", &arena, &m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "parquet: expected a JSON value at byte 5");
  EXPECT_THAT(std::string(Members("[1]", &arena, &m).message()),
              HasSubstr("a line is not a JSON object"));
  EXPECT_THAT(std::string(Members(R"({"a":"\ud800"})", &arena, &m).message()),
              HasSubstr("lone surrogate"));
  EXPECT_THAT(std::string(Members("{\"a\":\"\xff\"}", &arena, &m).message()),
              HasSubstr("invalid UTF-8"));
  EXPECT_THAT(std::string(Members(R"({"a":[1,]})", &arena, &m).message()),
              HasSubstr("expected a JSON value"));
  const std::string deep =
      std::string(kMaxParquetJsonDepth + 1, '[') + std::string(kMaxParquetJsonDepth + 1, ']');
  EXPECT_THAT(std::string(Members(R"({"a":)" + deep + "}", &arena, &m).message()),
              HasSubstr("nesting too deep"));
  const std::string ok_depth =
      std::string(kMaxParquetJsonDepth, '[') + std::string(kMaxParquetJsonDepth, ']');
  EXPECT_TRUE(Members(R"({"a":)" + ok_depth + "}", &arena, &m).ok());
}

TEST(LineParserTest, TreesExpandToTheDepthAsked) {
  std::deque<std::string> arena;
  const std::string text = R"({"a":[1,[2,[3]]],"b":{},"a":"s"})";
  LineParser p(text, &arena);
  JsonNode root;
  ASSERT_TRUE(p.ParseTree(3, &root).ok());
  EXPECT_TRUE(root.object && root.expanded);
  EXPECT_EQ(root.value.kind, Value::kNested);
  EXPECT_EQ(root.value.text, text);
  EXPECT_EQ(root.names, (std::vector<std::string_view>{"a", "b", "a"}));
  ASSERT_EQ(root.children.size(), 3u);
  const JsonNode& a = root.children[0];  // depth 2
  EXPECT_TRUE(!a.object && a.expanded);
  ASSERT_EQ(a.children.size(), 2u);
  EXPECT_EQ(a.children[0].value.kind, Value::kNumber);
  const JsonNode& inner = a.children[1];  // depth 3: expanded, its child is not
  EXPECT_TRUE(inner.expanded);
  ASSERT_EQ(inner.children.size(), 2u);
  EXPECT_FALSE(inner.children[1].expanded);
  EXPECT_EQ(inner.children[1].value.kind, Value::kNested);
  EXPECT_EQ(inner.children[1].value.text, "[3]");
  EXPECT_TRUE(root.children[1].expanded);
  EXPECT_TRUE(root.children[1].children.empty());
  EXPECT_EQ(root.children[2].value.text, "s");
  // A scalar is a tree of one node.
  LineParser scalar(" 12 ", &arena);
  JsonNode n;
  ASSERT_TRUE(scalar.ParseTree(3, &n).ok());
  EXPECT_EQ(n.value.kind, Value::kNumber);
  EXPECT_EQ(n.value.text, "12");
  LineParser trailing("[1] x", &arena);
  EXPECT_FALSE(trailing.ParseTree(3, &n).ok());
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
