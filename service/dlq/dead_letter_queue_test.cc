// The on-disk dead-letter queue: adding, listing and paging, due entries and attempts,
// removal, and what survives a reopen (including a torn metadata file).
#include "service/dlq/dead_letter_queue.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kNow = 1700000000000;

std::vector<std::string> Ids(const std::vector<DeadLetter>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.id);
  return out;
}

DeadLetterQueue::FailedRecord Failed(std::string id, std::string data) {
  DeadLetterQueue::FailedRecord r;
  r.record_id = std::move(id);
  r.data = std::move(data);
  r.arrival_ms = kNow - 5;
  r.error_code = "Decode.InvalidJson";
  r.error_message = "not JSON";
  return r;
}

class DeadLetterQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    dlq_.reset();
    auto q = OpenDeadLetterQueue(dir_.path() + "/dlq", clock_);
    ASSERT_TRUE(q.ok()) << q.status();
    dlq_ = *std::move(q);
  }
  std::string Dir() const { return dir_.path() + "/dlq"; }

  const TempDir dir_{"dlq_test"};
  FakeClock clock_{kNow};
  std::unique_ptr<DeadLetterQueue> dlq_;
};

TEST_F(DeadLetterQueueTest, AddDeliveryKeepsEverythingAndTheBodyExactly) {
  std::string body = "{\"a\":1}\n{\"b\":\"\xc3\xa9\"}\n";
  body.push_back('\0');  // bodies are bytes, not text
  body += std::string(100000, 'x');
  auto e = dlq_->AddDelivery({"demo", "t/region=EU/demo-w-0000000000000001.jsonl.gz", body, 2, 7,
                              "UNAVAILABLE: 503", "UNAVAILABLE: reset"});
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(e->id, ::testing::MatchesRegex("[0-9]{16}-d-[0-9a-f]{8}"));
  EXPECT_EQ(e->id.substr(0, 16), "0001700000000000");
  EXPECT_EQ(e->kind, DeadLetterKind::kDelivery);
  EXPECT_EQ(e->attempts, 7);
  EXPECT_EQ(e->first_error, "UNAVAILABLE: 503");
  EXPECT_EQ(e->last_error, "UNAVAILABLE: reset");
  EXPECT_EQ(e->first_ms, kNow);
  EXPECT_EQ(e->next_attempt_ms, kNow);  // due at once
  EXPECT_EQ(e->records, 2);
  EXPECT_EQ(e->bytes, static_cast<int64_t>(body.size()));
  auto read = dlq_->ReadBody(e->id);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, body);
  auto got = dlq_->Get(e->id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->key, "t/region=EU/demo-w-0000000000000001.jsonl.gz");
}

TEST_F(DeadLetterQueueTest, AddProcessingMakesOneEntryPerRecordInOrder) {
  std::string binary = "\xff\xfe not utf-8 \x00";
  binary.push_back('\0');
  auto added = dlq_->AddProcessing(
      "demo", {Failed("r1", "not json"), Failed("r2", binary), Failed("r3", "")});
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_THAT(*added, SizeIs(3));
  EXPECT_THAT((*added)[0].id, ::testing::MatchesRegex("[0-9]{16}-p-[0-9a-f]{8}"));
  EXPECT_LT((*added)[0].id, (*added)[1].id);
  EXPECT_LT((*added)[1].id, (*added)[2].id);
  EXPECT_EQ((*added)[1].record_id, "r2");
  EXPECT_EQ((*added)[1].error_code, "Decode.InvalidJson");
  EXPECT_EQ((*added)[1].first_error, "not JSON");
  EXPECT_EQ((*added)[1].arrival_ms, kNow - 5);
  EXPECT_EQ((*added)[1].bytes, static_cast<int64_t>(binary.size()));
  EXPECT_EQ(*dlq_->ReadBody((*added)[1].id), binary);
  EXPECT_EQ(*dlq_->ReadBody((*added)[2].id), "");
  EXPECT_THAT(Ids(dlq_->List({}, "", 100)),
              ElementsAre((*added)[0].id, (*added)[1].id, (*added)[2].id));
}

TEST_F(DeadLetterQueueTest, ListFiltersAndPages) {
  std::vector<std::string> all;
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceMillis(1);
    auto d = dlq_->AddDelivery({i % 2 ? "a" : "b", StrCat("k", i), "x\n", 1, 1, "e", "e"});
    ASSERT_TRUE(d.ok());
    all.push_back(d->id);
    auto p = dlq_->AddProcessing(i % 2 ? "a" : "b", {Failed(StrCat("r", i), "bad")});
    ASSERT_TRUE(p.ok());
    all.push_back((*p)[0].id);
  }
  EXPECT_EQ(Ids(dlq_->List({}, "", 100)), all);
  // Pages of 3 cover everything once, in order.
  std::vector<std::string> paged;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    auto v = dlq_->List({}, after, 3);
    if (v.empty()) break;
    EXPECT_LE(v.size(), 3u);
    for (const auto& e : v) paged.push_back(e.id);
    after = v.back().id;
  }
  EXPECT_EQ(paged, all);

  DeadLetterFilter a;
  a.pipeline = "a";
  for (const auto& e : dlq_->List(a, "", 100)) EXPECT_EQ(e.pipeline, "a");
  EXPECT_THAT(dlq_->List(a, "", 100), SizeIs(4));
  DeadLetterFilter processing_b;
  processing_b.pipeline = "b";
  processing_b.kind = DeadLetterKind::kProcessing;
  auto pb = dlq_->List(processing_b, "", 100);
  ASSERT_THAT(pb, SizeIs(3));
  for (const auto& e : pb) {
    EXPECT_EQ(e.kind, DeadLetterKind::kProcessing);
    EXPECT_EQ(e.pipeline, "b");
  }
  DeadLetterFilter nothing;
  nothing.pipeline = "c";
  EXPECT_THAT(dlq_->List(nothing, "", 100), IsEmpty());

  const auto stats = dlq_->GetStats();
  EXPECT_EQ(stats.depth, 10);
  EXPECT_EQ(stats.delivery, 5);
  EXPECT_EQ(stats.processing, 5);
  EXPECT_EQ(stats.expired, 0);
  EXPECT_EQ(stats.oldest_ms, kNow + 1);
}

TEST_F(DeadLetterQueueTest, IdsSortByCreationWithinOneMillisecond) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto d = dlq_->AddDelivery({"a", StrCat("k", i), "x", 1, 1, "e", "e"});
    ASSERT_TRUE(d.ok());
    ids.push_back(d->id);
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  // The clock going back does not reorder ids.
  clock_.AdvanceMillis(-1000);
  auto d = dlq_->AddDelivery({"a", "k", "x", 1, 1, "e", "e"});
  ASSERT_TRUE(d.ok());
  EXPECT_GT(d->id, ids.back());
}

// Regression: the kind letter sorts before the suffix, so a delivery entry made after a
// processing one in the same millisecond used to sort before it.
TEST_F(DeadLetterQueueTest, IdsSortByCreationAcrossKindsWithinOneMillisecond) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    auto p = dlq_->AddProcessing("a", {Failed(StrCat("r", i), "bad")});
    ASSERT_TRUE(p.ok());
    ids.push_back((*p)[0].id);
    auto d = dlq_->AddDelivery({"a", StrCat("k", i), "x", 1, 1, "e", "e"});
    ASSERT_TRUE(d.ok());
    ids.push_back(d->id);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(Ids(dlq_->List({}, "", 100)), ids);
}

TEST_F(DeadLetterQueueTest, DueAttemptsAndExpiry) {
  auto d = dlq_->AddDelivery({"a", "k", "x", 1, 3, "e1", "e3"});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(dlq_->AddProcessing("a", {Failed("r", "bad")}).ok());
  EXPECT_THAT(Ids(dlq_->Due(kNow)), ElementsAre(d->id));  // processing entries are never due
  EXPECT_THAT(dlq_->Due(kNow - 1), IsEmpty());

  clock_.AdvanceMillis(10);
  ASSERT_TRUE(dlq_->RecordAttempt(d->id, "e4", kNow + 1000, false).ok());
  auto e = dlq_->Get(d->id);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->attempts, 4);
  EXPECT_EQ(e->first_error, "e1");
  EXPECT_EQ(e->last_error, "e4");
  EXPECT_EQ(e->last_ms, kNow + 10);
  EXPECT_EQ(e->next_attempt_ms, kNow + 1000);
  EXPECT_THAT(dlq_->Due(kNow + 999), IsEmpty());
  EXPECT_THAT(dlq_->Due(kNow + 1000), SizeIs(1));

  ASSERT_TRUE(dlq_->RecordAttempt(d->id, "e5", kNow + 2000, true).ok());
  EXPECT_TRUE(dlq_->Get(d->id)->expired);
  EXPECT_THAT(dlq_->Due(kNow + 1000000), IsEmpty());  // expired: kept, not retried
  EXPECT_EQ(dlq_->GetStats().expired, 1);
  EXPECT_EQ(dlq_->GetStats().depth, 2);

  EXPECT_EQ(dlq_->RecordAttempt("0000000000000000-d-00000000", "e", 0, false).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DeadLetterQueueTest, RemoveDeletesTheFiles) {
  auto d = dlq_->AddDelivery({"a", "k", "body", 1, 1, "e", "e"});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(std::filesystem::exists(Dir() + "/" + d->id + ".body"));
  EXPECT_TRUE(std::filesystem::exists(Dir() + "/" + d->id + ".json"));
  ASSERT_TRUE(dlq_->Remove(d->id).ok());
  EXPECT_FALSE(dlq_->Get(d->id).has_value());
  EXPECT_EQ(dlq_->ReadBody(d->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dlq_->Remove(d->id).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/" + d->id + ".body"));
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/" + d->id + ".json"));
  EXPECT_EQ(dlq_->GetStats().depth, 0);
  EXPECT_EQ(dlq_->GetStats().oldest_ms, 0);
}

TEST_F(DeadLetterQueueTest, EverythingSurvivesAReopen) {
  const std::string body = std::string("line\n", 5) + std::string(3, '\0') + "\xff";
  auto d =
      dlq_->AddDelivery({"a", "p/k.gz", body, 9, 2, "first \"quoted\"\n", "last \xff bad utf-8"});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(dlq_->RecordAttempt(d->id, "third", kNow + 500, false).ok());
  auto p = dlq_->AddProcessing("b", {Failed("r1", "raw 1"), Failed("r2", "raw 2")});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(dlq_->Remove((*p)[0].id).ok());
  const auto before = dlq_->List({}, "", 100);

  Open();
  const auto after = dlq_->List({}, "", 100);
  ASSERT_EQ(Ids(after), Ids(before));
  for (size_t i = 0; i < after.size(); ++i) {
    const DeadLetter& x = before[i];
    const DeadLetter& y = after[i];
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.pipeline, y.pipeline);
    EXPECT_EQ(x.attempts, y.attempts);
    EXPECT_EQ(x.first_error, y.first_error);
    EXPECT_EQ(x.last_error, y.last_error);
    EXPECT_EQ(x.first_ms, y.first_ms);
    EXPECT_EQ(x.last_ms, y.last_ms);
    EXPECT_EQ(x.next_attempt_ms, y.next_attempt_ms);
    EXPECT_EQ(x.expired, y.expired);
    EXPECT_EQ(x.key, y.key);
    EXPECT_EQ(x.records, y.records);
    EXPECT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(x.record_id, y.record_id);
    EXPECT_EQ(x.arrival_ms, y.arrival_ms);
    EXPECT_EQ(x.error_code, y.error_code);
  }
  EXPECT_EQ(after[0].first_error, "first \"quoted\"\n");
  EXPECT_EQ(after[0].last_error, "third");
  EXPECT_EQ(after[0].attempts, 3);
  EXPECT_EQ(*dlq_->ReadBody(d->id), body);
  EXPECT_EQ(*dlq_->ReadBody((*p)[1].id), "raw 2");
  // New ids keep sorting after the loaded ones even at the same clock reading.
  auto more = dlq_->AddDelivery({"a", "k2", "x", 1, 1, "e", "e"});
  ASSERT_TRUE(more.ok());
  EXPECT_GT(more->id, after.back().id);
}

TEST_F(DeadLetterQueueTest, TornOrGarbageMetadataIsSkippedNotFatal) {
  auto good = dlq_->AddDelivery({"a", "k1", "good", 1, 1, "e", "e"});
  auto torn = dlq_->AddDelivery({"a", "k2", "torn", 1, 1, "e", "e"});
  auto garbage = dlq_->AddDelivery({"a", "k3", "garbage", 1, 1, "e", "e"});
  auto headless = dlq_->AddDelivery({"a", "k4", "no body", 1, 1, "e", "e"});
  ASSERT_TRUE(good.ok() && torn.ok() && garbage.ok() && headless.ok());
  dlq_.reset();
  // A metadata file cut in half, one overwritten with noise, one whose body is gone, an
  // orphan body (an Add that never finished) and a leftover temp file.
  const std::string torn_meta = Dir() + "/" + torn->id + ".json";
  const auto size = std::filesystem::file_size(torn_meta);
  std::filesystem::resize_file(torn_meta, size / 2);
  std::ofstream(Dir() + "/" + garbage->id + ".json", std::ios::trunc) << "\x01\x02 not json at all";
  std::filesystem::remove(Dir() + "/" + headless->id + ".body");
  std::ofstream(Dir() + "/0001699999999999-d-0000abcd.body") << "orphan";
  std::ofstream(Dir() + "/0001699999999999-d-0000abce.json.tmp") << "{";
  std::ofstream(Dir() + "/unrelated.json") << "{}";

  Open();
  EXPECT_THAT(Ids(dlq_->List({}, "", 100)), ElementsAre(good->id));
  EXPECT_EQ(*dlq_->ReadBody(good->id), "good");
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/0001699999999999-d-0000abcd.body"));
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/0001699999999999-d-0000abce.json.tmp"));
  // The damaged entries' files are left for an operator to look at.
  EXPECT_TRUE(std::filesystem::exists(torn_meta));
  EXPECT_TRUE(std::filesystem::exists(Dir() + "/" + torn->id + ".body"));
}

TEST_F(DeadLetterQueueTest, OneProcessAtATime) {
  auto second = OpenDeadLetterQueue(Dir(), clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(StatusMessage(second.status())), HasSubstr("in use"));
}

TEST(DeadLetterQueueOpenTest, UnusableDirectoryIsAnError) {
  FakeClock clock(kNow);
  const TempDir dir("dlq_test");
  const std::string file = dir.path() + "/file";
  std::ofstream(file) << "x";
  auto q = OpenDeadLetterQueue(file + "/dlq", clock);
  EXPECT_FALSE(q.ok());
  EXPECT_FALSE(OpenDeadLetterQueue("", clock).ok());
}

TEST(InMemoryDeadLetterQueueTest, BehavesLikeTheDiskOne) {
  FakeClock clock(kNow);
  auto q = NewInMemoryDeadLetterQueue(clock);
  auto d = q->AddDelivery({"a", "k", "body", 1, 1, "e", "e"});
  ASSERT_TRUE(d.ok());
  auto p = q->AddProcessing("a", {Failed("r", "raw")});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*q->ReadBody(d->id), "body");
  EXPECT_EQ(*q->ReadBody((*p)[0].id), "raw");
  EXPECT_THAT(q->Due(kNow), SizeIs(1));
  ASSERT_TRUE(q->RecordAttempt(d->id, "e2", kNow + 5, true).ok());
  EXPECT_TRUE(q->Get(d->id)->expired);
  ASSERT_TRUE(q->Remove(d->id).ok());
  EXPECT_EQ(q->ReadBody(d->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(q->GetStats().depth, 1);
}

}  // namespace
}  // namespace lakehose
