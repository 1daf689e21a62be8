#include "service/iceberg/key_index.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using iceberg::KeyState;
using ::testing::HasSubstr;

KeyState Live(const char* file, int64_t pos) {
  return {.version = *iceberg::MakeVersion("7", 1), .live = true, .file_path = file, .pos = pos};
}

TEST(KeyIndex, AppliesBatchesDurablyAndReopens) {
  TempDir dir("key_index_test");
  const std::string path = dir.path() + "/index";
  {
    auto index = KeyIndex::Open(path);
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_EQ(*(*index)->AppliedSnapshot(), std::nullopt);
    EXPECT_EQ(*(*index)->Get("a"), std::nullopt);
    ASSERT_TRUE((*index)->Apply({{"a", Live("f1", 3)}, {"b", Live("f1", 4)}}, 101).ok());
    ASSERT_TRUE((*index)
                    ->Apply({{"b", {.version = *iceberg::MakeVersion("9", 2), .live = false}}}, 102)
                    .ok());
    // Another process (here: another handle) cannot open it meanwhile.
    EXPECT_EQ(KeyIndex::Open(path).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  auto index = KeyIndex::Open(path);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*(*index)->AppliedSnapshot(), 102);
  auto a = (*index)->Get("a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->file_path, "f1");
  EXPECT_EQ((*a)->pos, 3);
  auto b = (*index)->Get("b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_FALSE((*b)->live);
  EXPECT_EQ((*b)->version.sequence, "9");
}

TEST(KeyIndex, ItemKeysNeverCollideWithTheAppliedSnapshot) {
  TempDir dir("key_index_test");
  auto index = KeyIndex::Open(dir.path() + "/index");
  ASSERT_TRUE(index.ok());
  // An item key spelled like the bookkeeping key is still an item key.
  ASSERT_TRUE((*index)
                  ->Apply({{"\x01"
                            "applied-snapshot",
                            Live("f", 1)}},
                          5)
                  .ok());
  EXPECT_EQ(*(*index)->AppliedSnapshot(), 5);
  EXPECT_TRUE((*(*index)->Get("\x01"
                              "applied-snapshot"))
                  .has_value());
}

TEST(KeyIndex, ADamagedIndexIsDataLossNamingIt) {
  TempDir dir("key_index_test");
  const std::string path = dir.path() + "/index";
  {
    auto index = KeyIndex::Open(path);
    ASSERT_TRUE(index.ok());
    std::vector<KeyIndex::Update> updates;
    for (int i = 0; i < 200; ++i) updates.push_back({"key-" + std::to_string(i), Live("f", i)});
    ASSERT_TRUE((*index)->Apply(updates, 1).ok());
  }
  // Damage the middle of every log file (where the batch is).
  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().extension() != ".log" || e.file_size() < 64) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(e.file_size() / 2));
    f.write("\xff\xfe\xfd\xfc", 4);
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  auto index = KeyIndex::Open(path);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kDataLoss) << index.status();
  EXPECT_THAT(index.status().message(), HasSubstr(path));
  EXPECT_THAT(index.status().message(), HasSubstr("rebuild it from the table"));
}

TEST(KeyIndex, ReadAllReturnsEveryKeyInOrderWithTheAppliedSnapshot) {
  TempDir dir("key_index_test");
  auto index = KeyIndex::Open(dir.path() + "/index");
  ASSERT_TRUE(index.ok()) << index.status();
  auto empty = (*index)->ReadAll();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  EXPECT_EQ(empty->applied, std::nullopt);
  // Keys with bytes below and above the prefix's, and the empty key.
  ASSERT_TRUE(
      (*index)->Apply({{"b", Live("f", 1)}, {"", Live("f", 0)}, {"\xff", Live("g", 2)}}, 5).ok());
  ASSERT_TRUE(
      (*index)->Apply({{"a", {.version = *iceberg::MakeVersion("9", 2), .live = false}}}, 6).ok());
  auto all = (*index)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->applied, 6);
  ASSERT_EQ(all->entries.size(), 4u);
  EXPECT_EQ(all->entries[0].key, "");
  EXPECT_EQ(all->entries[1].key, "a");
  EXPECT_FALSE(all->entries[1].state.live);
  EXPECT_EQ(all->entries[2].key, "b");
  EXPECT_EQ(all->entries[2].state.pos, 1);
  EXPECT_EQ(all->entries[3].key, "\xff");
  EXPECT_EQ(all->entries[3].state.file_path, "g");
}

}  // namespace
}  // namespace lakehose
