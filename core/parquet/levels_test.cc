#include "core/parquet/levels.h"

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

// Shreds the records `json` (one value each; "" for absent) of column `c` and returns
// its leaves' chunks, which view `json` and `arena`.
std::vector<ChunkValues> Shred(const ParquetColumn& c, const std::vector<std::string>& json,
                               std::deque<std::string>* arena, std::vector<Leaf>* leaves_out) {
  ShredNode root;
  std::vector<Leaf> leaves = PlanColumn(c, &root);
  std::vector<ChunkValues> values(leaves.size());
  std::vector<Converter> convs;
  for (const Leaf& l : leaves) convs.emplace_back(*l.col, arena);
  Shredder shredder(&values, &convs);
  for (size_t r = 0; r < json.size(); ++r) {
    if (json[r].empty()) {
      EXPECT_TRUE(shredder.Shred(root, nullptr, 0, static_cast<int64_t>(r)).ok());
      continue;
    }
    JsonNode tree;
    LineParser p(json[r], arena);
    EXPECT_TRUE(p.ParseTree(kMaxParquetNativeDepth, &tree).ok()) << json[r];
    absl::Status s = shredder.Shred(root, &tree, 0, static_cast<int64_t>(r));
    EXPECT_TRUE(s.ok()) << s;
  }
  *leaves_out = std::move(leaves);
  return values;
}

TEST(LevelsTest, FlatLeaves) {
  const ParquetColumn opt{"n", ParquetType::kInt64};
  const Leaf l = FlatLeaf(opt);
  EXPECT_EQ(l.dotted, "n");
  EXPECT_EQ(l.path, (std::vector<std::string>{"n"}));
  EXPECT_EQ(l.max_def, 1);
  EXPECT_EQ(l.max_rep, 0);
  EXPECT_EQ(l.value_def, 1);
  const ParquetColumn req{"r", ParquetType::kInt64, 0, true};
  EXPECT_EQ(FlatLeaf(req).max_def, 0);  // REQUIRED: no definition levels
}

// struct s { a: int64, t: struct { b: string } }: no repetition; a's definition levels
// are 0 (s null), 1 (a null), 2 (a value); b's add one for t.
TEST(LevelsTest, StructLevels) {
  const ParquetColumn s{"s",
                        ParquetType::kStruct,
                        0,
                        false,
                        {{"a", ParquetType::kInt64},
                         {"t", ParquetType::kStruct, 0, false, {{"b", ParquetType::kString}}}}};
  const std::vector<std::string> records = {
      R"({"a":1,"t":{"b":"x"}})",         R"({"t":{}})", R"({"t":null})", "null", "",
      R"({"a":null,"t":{"b":"y"},"a":2})"};
  std::deque<std::string> arena;
  std::vector<Leaf> leaves;
  std::vector<ChunkValues> v = Shred(s, records, &arena, &leaves);
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_EQ(leaves[0].dotted, "s.a");
  EXPECT_EQ(leaves[1].dotted, "s.t.b");
  EXPECT_EQ(leaves[1].path, (std::vector<std::string>{"s", "t", "b"}));
  EXPECT_EQ(leaves[0].max_def, 2);
  EXPECT_EQ(leaves[1].max_def, 3);
  EXPECT_EQ(leaves[0].max_rep, 0);
  EXPECT_EQ(leaves[1].max_rep, 0);
  EXPECT_EQ(v[0].defined, (std::vector<uint8_t>{2, 1, 1, 0, 0, 2}));
  EXPECT_EQ(v[0].ints, (std::vector<int64_t>{1, 2}));  // a repeated member: the last wins
  EXPECT_EQ(v[1].defined, (std::vector<uint8_t>{3, 2, 1, 0, 0, 3}));
  EXPECT_EQ(v[1].bytes, (std::vector<std::string_view>{"x", "y"}));
  EXPECT_EQ(v[0].rep, (std::vector<uint8_t>(6, 0)));
}

// list<struct<a: int64, b: list<string>>>, worked by hand:
//   l 1, its repeated group (rep 1) 2, the element 3, a 4;
//   b 4, b's repeated group (rep 2) 5, b's element 6.
TEST(LevelsTest, ListOfStructsWithALists) {
  const ParquetColumn b{"b", ParquetType::kList, 0, false, {{"element", ParquetType::kString}}};
  const ParquetColumn l{
      "l",
      ParquetType::kList,
      0,
      false,
      {{"element", ParquetType::kStruct, 0, false, {{"a", ParquetType::kInt64}, b}}}};
  const std::vector<std::string> records = {R"([{"a":1,"b":["x","y"]},{"b":[]}])", "null", "[]",
                                            R"([null,{"a":2,"b":[null]}])"};
  std::deque<std::string> arena;
  std::vector<Leaf> leaves;
  std::vector<ChunkValues> v = Shred(l, records, &arena, &leaves);
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_EQ(leaves[0].dotted, "l.list.element.a");
  EXPECT_EQ(leaves[0].max_def, 4);
  EXPECT_EQ(leaves[0].max_rep, 1);
  EXPECT_EQ(leaves[1].dotted, "l.list.element.b.list.element");
  EXPECT_EQ(leaves[1].max_def, 6);
  EXPECT_EQ(leaves[1].max_rep, 2);
  // a: 1 | a missing (element defined) | l null | l empty | null element | 2.
  EXPECT_EQ(v[0].rep, (std::vector<uint8_t>{0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(v[0].defined, (std::vector<uint8_t>{4, 3, 0, 1, 2, 4}));
  EXPECT_EQ(v[0].ints, (std::vector<int64_t>{1, 2}));
  // b's elements: "x" | "y" (repeated at b's level) | b empty | l null | l empty |
  // null element of l | null element of b.
  EXPECT_EQ(v[1].rep, (std::vector<uint8_t>{0, 2, 1, 0, 0, 0, 1}));
  EXPECT_EQ(v[1].defined, (std::vector<uint8_t>{6, 6, 4, 0, 1, 2, 5}));
  EXPECT_EQ(v[1].bytes, (std::vector<std::string_view>{"x", "y"}));
}

TEST(LevelsTest, AValueOfTheWrongShapeIsTheWritersError) {
  const ParquetColumn s{"s", ParquetType::kStruct, 0, false, {{"a", ParquetType::kInt64}}};
  ShredNode root;
  std::vector<Leaf> leaves = PlanColumn(s, &root);
  std::deque<std::string> arena;
  std::vector<ChunkValues> values(leaves.size());
  std::vector<Converter> convs;
  convs.emplace_back(*leaves[0].col, &arena);
  Shredder shredder(&values, &convs);
  JsonNode list;
  LineParser p("[1]", &arena);
  ASSERT_TRUE(p.ParseTree(kMaxParquetNativeDepth, &list).ok());
  EXPECT_EQ(shredder.Shred(root, &list, 0, 7).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
