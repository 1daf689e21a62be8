#include "core/iceberg/current_state.h"

#include <map>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose::iceberg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ChangeVersion Seq(const char* s, int64_t t = 0) { return *MakeVersion(s, t); }
ChangeVersion At(int64_t t) { return *MakeVersion("", t); }

TEST(CompareVersions, SequenceNumbersThenTimesThenStreamOverBackfill) {
  EXPECT_LT(CompareVersions(Seq("900", 5), Seq("1000", 1)), 0);  // by sequence, not time
  EXPECT_EQ(CompareVersions(Seq("0042"), Seq("42")), 0);         // leading zeros
  EXPECT_GT(CompareVersions(Seq("123456789012345678901234567890123456789", 0),
                            Seq("99999999999999999999999999999999999999", 0)),
            0);
  EXPECT_LT(CompareVersions(At(5), At(6)), 0);        // no sequence: by time
  EXPECT_LT(CompareVersions(At(5), Seq("1", 5)), 0);  // same ms: the stream's record wins
  EXPECT_GT(CompareVersions(Seq("1", 6), At(5)), 0);
  EXPECT_EQ(CompareVersions(At(5), At(5)), 0);
  // A stream record (time rounded down to the second) against an export's row: whole
  // seconds, the stream record winning within its second.
  EXPECT_GT(CompareVersions(Seq("7", 1700000000000), At(1700000000999)), 0);
  EXPECT_LT(CompareVersions(Seq("7", 1699999999000), At(1700000000000)), 0);
  EXPECT_GT(CompareVersions(Seq("7", 1700000001000), At(1700000000999)), 0);
  EXPECT_LT(CompareVersions(At(-1), Seq("1", -1000)), 0);  // before 1970: the same second
  EXPECT_GT(CompareVersions(At(0), Seq("1", -1000)), 0);
  EXPECT_LT(CompareVersions(At(1700000000001), At(1700000000999)), 0);  // ms without one
  EXPECT_THAT(MakeVersion("12a", 0).status().message(), HasSubstr("not decimal digits"));
}

TEST(ItemKeyText, OneTextPerDynamoDbKey) {
  const std::vector<std::string> keys = {"pk", "sk"};
  auto a = ItemKeyText(R"({"sk":{"N":"1.50"},"pk":{"S":"a"},"x":{"L":[]}})", keys);
  auto b = ItemKeyText(R"({"pk":{"S":"a"},"sk":{"N":"15E-1"}})", keys);
  auto c = ItemKeyText(R"({"pk":{"S":"a"},"sk":{"N":"1.5"}})", keys);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status() << b.status() << c.status();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_NE(*a, *ItemKeyText(R"({"pk":{"S":"a"},"sk":{"N":"-1.5"}})", keys));
  EXPECT_EQ(*ItemKeyText(R"({"pk":{"N":"0.000"}})", {"pk"}),
            *ItemKeyText(R"({"pk":{"N":"-0"}})", {"pk"}));
  // S "1" and N 1 are different keys; B is its base64 text.
  EXPECT_NE(*ItemKeyText(R"({"pk":{"S":"1"}})", {"pk"}),
            *ItemKeyText(R"({"pk":{"N":"1"}})", {"pk"}));
  EXPECT_TRUE(ItemKeyText(R"({"pk":{"B":"AAE="}})", {"pk"}).ok());
  EXPECT_THAT(ItemKeyText(R"({"pk":{"S":"a"}})", keys).status().message(),
              HasSubstr("\"sk\" is missing"));
  EXPECT_THAT(ItemKeyText(R"({"pk":{"BOOL":true}})", {"pk"}).status().message(),
              HasSubstr("not an S, N or B value"));
}

TEST(DocumentKeyText, TheSameKeyAsTheItemsFromATransformedDocument) {
  const std::vector<std::string> keys = {"pk", "sk"};
  auto from_item = ItemKeyText(R"({"pk":{"S":"a"},"sk":{"N":"1.50"}})", keys);
  auto from_doc = DocumentKeyText(R"({"_op":"U","sk":1.50,"pk":"a","x":[1]})", keys);
  ASSERT_TRUE(from_item.ok() && from_doc.ok()) << from_item.status() << from_doc.status();
  EXPECT_EQ(*from_item, *from_doc);
  // A 38-digit number keeps every digit (no double in between).
  EXPECT_NE(*DocumentKeyText(R"({"pk":12345678901234567890123456789012345678})", {"pk"}),
            *DocumentKeyText(R"({"pk":12345678901234567890123456789012345679})", {"pk"}));
  EXPECT_EQ(*DocumentKeyText(R"({"pk":1e2})", {"pk"}), *DocumentKeyText(R"({"pk":100})", {"pk"}));
  EXPECT_THAT(DocumentKeyText(R"({"pk":null})", {"pk"}).status().message(), HasSubstr("missing"));
  EXPECT_THAT(DocumentKeyText(R"({"pk":true})", {"pk"}).status().message(),
              HasSubstr("not a string or a number"));
}

TEST(PlanChanges, NewestPerKeyWinsStaleAreDroppedLiveRowsDeleted) {
  std::map<std::string, KeyState> index;
  index["a"] = {
      .version = Seq("100"), .live = true, .file_path = "f1", .pos = 3, .partition = "p1"};
  index["b"] = {
      .version = Seq("100"), .live = true, .file_path = "f1", .pos = 4, .partition = "p1"};
  index["gone"] = {.version = Seq("200"), .live = false};
  auto lookup = [&](const std::string& k) -> std::optional<KeyState> {
    auto it = index.find(k);
    return it == index.end() ? std::nullopt : std::optional<KeyState>(it->second);
  };
  const std::vector<KeyChange> batch = {
      {.key = "a", .version = Seq("90")},                   // 0: stale (a is at 100)
      {.key = "a", .version = Seq("100")},                  // 1: a duplicate: stale
      {.key = "a", .version = Seq("110")},                  // 2: superseded by 3
      {.key = "a", .version = Seq("120")},                  // 3: a's new row
      {.key = "b", .version = Seq("150"), .remove = true},  // 4: b removed
      {.key = "gone", .version = Seq("150")},               // 5: older than its tombstone
      {.key = "new", .version = At(5)},                     // 6: a new key
      {.key = "new", .version = At(5)},                     // 7: the same change again
  };
  const ChangePlan p = PlanChanges(batch, lookup);
  EXPECT_THAT(p.write, ElementsAre(3, 6));
  ASSERT_EQ(p.deletes.size(), 2u);
  EXPECT_EQ(p.deletes[0].first, "a");
  EXPECT_EQ(p.deletes[0].second.pos, 3);
  EXPECT_EQ(p.deletes[1].first, "b");
  EXPECT_EQ(p.deletes[1].second.partition, "p1");
  ASSERT_EQ(p.removed.size(), 1u);
  EXPECT_EQ(p.removed[0].first, "b");
  EXPECT_EQ(p.stale, 4);       // 0, 1, 5 and 7
  EXPECT_EQ(p.superseded, 1);  // 2
}

TEST(PlanChanges, ReplayingAnAppliedBatchChangesNothing) {
  std::map<std::string, KeyState> index;
  auto lookup = [&](const std::string& k) -> std::optional<KeyState> {
    auto it = index.find(k);
    return it == index.end() ? std::nullopt : std::optional<KeyState>(it->second);
  };
  const std::vector<KeyChange> batch = {{.key = "x", .version = Seq("5")},
                                        {.key = "y", .version = Seq("6"), .remove = true}};
  const ChangePlan first = PlanChanges(batch, lookup);
  EXPECT_THAT(first.write, ElementsAre(0));
  // Applied: x live, y a tombstone.
  index["x"] = {.version = Seq("5"), .live = true, .file_path = "f", .pos = 0};
  index["y"] = {.version = Seq("6"), .live = false};
  const ChangePlan again = PlanChanges(batch, lookup);
  EXPECT_TRUE(again.write.empty());
  EXPECT_TRUE(again.deletes.empty());
  EXPECT_TRUE(again.removed.empty());
  EXPECT_EQ(again.stale, 2);
}

TEST(KeyStateEncoding, RoundTripsAndRefusesDamage) {
  const KeyState live{.version = Seq("1234567890123456789012345678901234567890", -5),
                      .live = true,
                      .file_path = "s3://b/t/data/region=EU/f.parquet",
                      .pos = int64_t{1} << 40,
                      .partition = std::string("EU\0x", 4)};
  auto back = DecodeKeyState(EncodeKeyState(live));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version.sequence, live.version.sequence);
  EXPECT_EQ(back->version.time_ms, -5);
  EXPECT_TRUE(back->live);
  EXPECT_EQ(back->file_path, live.file_path);
  EXPECT_EQ(back->pos, live.pos);
  EXPECT_EQ(back->partition, live.partition);
  const KeyState tomb{.version = At(1700000000000), .live = false};
  auto t = DecodeKeyState(EncodeKeyState(tomb));
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->live);
  EXPECT_EQ(t->version.time_ms, 1700000000000);
  // Every truncation of an entry, and a byte more, is refused, never misread.
  const std::string bytes = EncodeKeyState(live);
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(DecodeKeyState(bytes.substr(0, n)).ok()) << n;
  EXPECT_FALSE(DecodeKeyState(bytes + "x").ok());
  EXPECT_FALSE(DecodeKeyState("\x02\x00").ok());  // another format
}

TEST(ReadDocumentChange, KeyVersionAndRemoveFromTheChangeLogColumns) {
  const std::vector<std::string> keys = {"pk"};
  auto up = ReadDocumentChange(
      R"({"_SequenceNumber":"000120","_ApproximateCreationDateTime":1700000000000,"pk":"a",)"
      R"("_op":"UPDATE","_event_time":5})",
      keys);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->key, *DocumentKeyText(R"({"pk":"a"})", keys));
  EXPECT_EQ(up->version.sequence, "120");
  EXPECT_EQ(up->version.time_ms, 1700000000000);
  EXPECT_FALSE(up->remove);
  // Kinesis-delivered: no sequence number; a missing creation time falls to _event_time.
  auto rm = ReadDocumentChange(
      R"({"_SequenceNumber":null,"pk":"a","_op":"DELETE","_event_time":-7})", keys);
  ASSERT_TRUE(rm.ok()) << rm.status();
  EXPECT_TRUE(rm->remove);
  EXPECT_EQ(rm->version.sequence, "");
  EXPECT_EQ(rm->version.time_ms, -7);
  EXPECT_THAT(ReadDocumentChange(R"({"pk":"a","_op":"INSERT"})", keys).status().message(),
              HasSubstr("no change time"));
  EXPECT_THAT(ReadDocumentChange(R"({"_op":"INSERT","_event_time":1})", keys).status().message(),
              HasSubstr("key attribute \"pk\" is missing"));
  EXPECT_THAT(ReadDocumentChange(R"({"pk":"a","_SequenceNumber":"12x","_event_time":1})", keys)
                  .status()
                  .message(),
              HasSubstr("is not decimal digits"));
}

TEST(PartitionEncoding, EveryKindRoundTripsAndDamageIsRefused) {
  std::vector<PartitionValue> values(7);
  values[1].kind = PartitionValue::Kind::kInt;
  values[1].i = -19700;
  values[2].kind = PartitionValue::Kind::kLong;
  values[2].i = INT64_MIN;
  values[3].kind = PartitionValue::Kind::kString;
  values[3].s = std::string("EU\0x", 4);
  values[4].kind = PartitionValue::Kind::kBoolean;
  values[4].i = 1;
  values[5].kind = PartitionValue::Kind::kDouble;
  values[5].d = -0.1;
  values[6].kind = PartitionValue::Kind::kDecimal;
  values[6].s = "\x01\x02";
  const std::string bytes = EncodePartition(values);
  auto back = DecodePartition(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, values);
  EXPECT_TRUE(DecodePartition(EncodePartition({})).ok());
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(DecodePartition(bytes.substr(0, n)).ok()) << n;
  EXPECT_FALSE(DecodePartition(bytes + "x").ok());
  std::string bad_kind = EncodePartition({PartitionValue()});
  bad_kind[1] = 99;
  EXPECT_FALSE(DecodePartition(bad_kind).ok());
}

TEST(IndexDelta, RoundTripsAndAnyDamageIsDataLoss) {
  const std::vector<IndexUpdate> updates = {
      {"S:a", KeyState{.version = Seq("42", 1000),
                       .live = true,
                       .file_path = "file:/l/t/data/f.parquet",
                       .pos = 7,
                       .partition = EncodePartition({})}},
      {"S:b", KeyState{.version = At(2000), .live = false}}};
  const std::string bytes = EncodeIndexDelta(updates);
  auto back = DecodeIndexDelta(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].key, "S:a");
  EXPECT_EQ((*back)[0].state.file_path, "file:/l/t/data/f.parquet");
  EXPECT_EQ((*back)[0].state.pos, 7);
  EXPECT_EQ((*back)[0].state.version.sequence, "42");
  EXPECT_FALSE((*back)[1].state.live);
  EXPECT_EQ((*back)[1].state.version.time_ms, 2000);
  // A commit's keys share a few files: each path is stored once.
  std::vector<IndexUpdate> many;
  for (int i = 0; i < 1000; ++i)
    many.push_back({StrCat("S:key-", i),
                    KeyState{.version = Seq("42", 1000),
                             .live = true,
                             .file_path = StrCat("s3://lake/ns/tbl/data/region=EU/orders-writer-",
                                                 i % 3, "-0123abcd.parquet"),
                             .pos = i,
                             .partition = EncodePartition({})}});
  const std::string packed = EncodeIndexDelta(many);
  EXPECT_LT(packed.size(), 20u * 1000);
  auto unpacked = DecodeIndexDelta(packed);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  ASSERT_EQ(unpacked->size(), 1000u);
  EXPECT_EQ((*unpacked)[998].state.file_path, many[998].state.file_path);
  EXPECT_EQ((*unpacked)[998].state.pos, 998);
  auto empty = DecodeIndexDelta(EncodeIndexDelta({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto cut = DecodeIndexDelta(bytes.substr(0, n));
    EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss) << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    EXPECT_EQ(DecodeIndexDelta(flipped).status().code(), absl::StatusCode::kDataLoss) << i;
  }
}

}  // namespace
}  // namespace lakehose::iceberg
