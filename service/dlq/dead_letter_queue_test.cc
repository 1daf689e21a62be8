// The on-disk dead-letter queue: adding, listing and paging, due entries and attempts,
// removal, what survives a reopen, and damaged entries (torn or garbage metadata,
// truncated or changed bodies): kept, listed, reported, never read as whole.
#include "service/dlq/dead_letter_queue.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
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
using ::testing::Not;
using ::testing::SizeIs;

constexpr int64_t kNow = 1700000000000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void FlipByte(const std::string& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  const char c = static_cast<char>(f.get());
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x20));
}

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
  EXPECT_EQ(stats.delivery_backlog_bytes, 5 * 2) << "delivery bodies only (\"x\\n\")";
}

TEST_F(DeadLetterQueueTest, IdsSortByCreationWithinOneMillisecond) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto d = dlq_->AddDelivery({"a", StrCat("k", i), "x\n", 1, 1, "e", "e"});
    ASSERT_TRUE(d.ok());
    ids.push_back(d->id);
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  // The clock going back does not reorder ids.
  clock_.AdvanceMillis(-1000);
  auto d = dlq_->AddDelivery({"a", "k", "x\n", 1, 1, "e", "e"});
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
    auto d = dlq_->AddDelivery({"a", StrCat("k", i), "x\n", 1, 1, "e", "e"});
    ASSERT_TRUE(d.ok());
    ids.push_back(d->id);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(Ids(dlq_->List({}, "", 100)), ids);
}

TEST_F(DeadLetterQueueTest, DueAttemptsAndExpiry) {
  auto d = dlq_->AddDelivery({"a", "k", "x\n", 1, 3, "e1", "e3"});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(dlq_->AddProcessing("a", {Failed("r", "bad")}).ok());
  EXPECT_THAT(Ids(dlq_->Due(kNow)), ElementsAre(d->id));  // processing entries are never due
  EXPECT_THAT(dlq_->Due(kNow - 1), IsEmpty());
  EXPECT_EQ(dlq_->GetStats().delivery_backlog_bytes, 2);

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
  EXPECT_EQ(dlq_->GetStats().delivery_backlog_bytes, 0) << "expired: no longer waiting";

  EXPECT_EQ(dlq_->RecordAttempt("0000000000000000-d-00000000", "e", 0, false).code(),
            absl::StatusCode::kNotFound);
}

// The retry worker drains oldest first by taking Due() in order: creation order (ids),
// not next-attempt order, also when the clock stepped back and after a reopen. The
// in-memory queue answers the same (the same class).
TEST_F(DeadLetterQueueTest, DueIsOldestFirstByCreation) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    clock_.SetMillis(i == 2 ? kNow - 5000 : kNow + i);  // the third one after a step back
    auto d = dlq_->AddDelivery({i % 2 ? "a" : "b", StrCat("k", i), "x\n", 1, 1, "e", "e"});
    ASSERT_TRUE(d.ok());
    ids.push_back(d->id);
  }
  // The oldest failed since and is due again later than the others.
  ASSERT_TRUE(dlq_->RecordAttempt(ids[0], "e", kNow + 500, false).ok());
  EXPECT_THAT(Ids(dlq_->Due(kNow + 499)), ElementsAre(ids[1], ids[2], ids[3]));
  EXPECT_THAT(Ids(dlq_->Due(kNow + 500)), ElementsAre(ids[0], ids[1], ids[2], ids[3]));
  Open();
  EXPECT_THAT(Ids(dlq_->Due(kNow + 500)), ElementsAre(ids[0], ids[1], ids[2], ids[3]));
  // Pages of it: after an id, at most a limit, without the pipelines to skip.
  EXPECT_THAT(Ids(dlq_->DuePage(kNow + 500, "", 2, {})), ElementsAre(ids[0], ids[1]));
  EXPECT_THAT(Ids(dlq_->DuePage(kNow + 500, ids[1], 2, {})), ElementsAre(ids[2], ids[3]));
  EXPECT_THAT(dlq_->DuePage(kNow + 500, ids[3], 2, {}), IsEmpty());
  EXPECT_THAT(Ids(dlq_->DuePage(kNow + 500, "", 10, {"b"})), ElementsAre(ids[1], ids[3]));
  EXPECT_THAT(Ids(dlq_->DuePage(kNow + 499, ids[0], 1, {"a"})), ElementsAre(ids[2]));
}

TEST_F(DeadLetterQueueTest, RemoveDeletesTheFiles) {
  auto d = dlq_->AddDelivery({"a", "k", "body\n", 1, 1, "e", "e"});
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
      dlq_->AddDelivery({"a", "p/k.gz", body, 1, 2, "first \"quoted\"\n", "last \xff bad utf-8"});
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
  auto more = dlq_->AddDelivery({"a", "k2", "x\n", 1, 1, "e", "e"});
  ASSERT_TRUE(more.ok());
  EXPECT_GT(more->id, after.back().id);
}

// Damaged metadata used to be skipped: the entry vanished from every listing although
// its files (an acked object) were still on disk. It is kept, listed and reported now.
TEST_F(DeadLetterQueueTest, TornOrGarbageMetadataOrAMissingBodyIsKeptAsDamaged) {
  auto good = dlq_->AddDelivery({"a", "k1", "good\n", 1, 1, "e", "e"});
  auto torn = dlq_->AddDelivery({"a", "k2", "torn\n", 1, 1, "e", "e"});
  auto garbage = dlq_->AddDelivery({"a", "k3", "garbage\n", 1, 1, "e", "e"});
  auto headless = dlq_->AddDelivery({"a", "k4", "no body\n", 1, 1, "e", "e"});
  auto empty = dlq_->AddProcessing("a", {Failed("r", "raw")});
  ASSERT_TRUE(good.ok() && torn.ok() && garbage.ok() && headless.ok() && empty.ok());
  const std::string empty_id = (*empty)[0].id;
  dlq_.reset();
  // A metadata file cut in half, one overwritten with noise, one cut to nothing, one
  // whose body is gone, an orphan body (an Add that never finished), a leftover temp file
  // and a file that is not the queue's.
  const std::string torn_meta = Dir() + "/" + torn->id + ".json";
  const std::string torn_text = ReadFile(torn_meta);
  std::filesystem::resize_file(torn_meta, torn_text.size() / 2);
  std::ofstream(Dir() + "/" + garbage->id + ".json", std::ios::trunc) << "\x01\x02 not json at all";
  std::filesystem::resize_file(Dir() + "/" + empty_id + ".json", 0);
  std::filesystem::remove(Dir() + "/" + headless->id + ".body");
  std::ofstream(Dir() + "/0001699999999999-d-0000abcd.body") << "orphan";
  std::ofstream(Dir() + "/0001699999999999-d-0000abce.json.tmp") << "{";
  std::ofstream(Dir() + "/unrelated.json") << "{}";

  testing::internal::CaptureStderr();
  Open();
  const std::string log = testing::internal::GetCapturedStderr();
  const auto listed = dlq_->List({}, "", 100);
  ASSERT_THAT(Ids(listed), ElementsAre(good->id, torn->id, garbage->id, headless->id, empty_id));
  EXPECT_EQ(listed[0].damage, "");
  EXPECT_THAT(listed[1].damage, HasSubstr("metadata: not a JSON object"));
  EXPECT_THAT(listed[2].damage, HasSubstr("metadata: not a JSON object"));
  EXPECT_EQ(listed[3].damage, "body file is missing");
  EXPECT_EQ(listed[3].key, "k4");  // its metadata is intact
  EXPECT_THAT(listed[4].damage, HasSubstr("metadata: "));
  // Unreadable metadata: what the id tells (kind, creation time), nothing more.
  EXPECT_EQ(listed[1].kind, DeadLetterKind::kDelivery);
  EXPECT_EQ(listed[1].first_ms, kNow);
  EXPECT_EQ(listed[1].pipeline, "");
  EXPECT_EQ(listed[4].kind, DeadLetterKind::kProcessing);
  for (const std::string& id : {torn->id, garbage->id, headless->id, empty_id}) {
    EXPECT_THAT(log, HasSubstr(StrCat("\"event\":\"dlq.damaged_entry\",\"id\":\"", id, "\"")));
    EXPECT_EQ(dlq_->ReadBody(id).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_THAT(log, HasSubstr("\"damaged\":\"4\""));
  EXPECT_EQ(dlq_->GetStats().damaged, 4);
  EXPECT_EQ(dlq_->GetStats().depth, 5);
  EXPECT_EQ(dlq_->GetStats().delivery_backlog_bytes, 5) << "only the good entry's \"good\\n\"";
  EXPECT_THAT(Ids(dlq_->Due(kNow + 1000)), ElementsAre(good->id));
  EXPECT_EQ(*dlq_->ReadBody(good->id), "good\n");
  // Never rewritten: a recorded attempt would replace the damaged metadata.
  EXPECT_EQ(dlq_->RecordAttempt(torn->id, "e", kNow, false).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(torn_meta), torn_text.substr(0, torn_text.size() / 2));
  // An orphan body is moved aside, never deleted (its metadata may be what was lost).
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/0001699999999999-d-0000abcd.body"));
  EXPECT_EQ(ReadFile(Dir() + "/orphans/0001699999999999-d-0000abcd.body"), "orphan");
  EXPECT_THAT(log, HasSubstr("\"event\":\"dlq.orphan_body_kept\""));
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/0001699999999999-d-0000abce.json.tmp"));
  EXPECT_TRUE(std::filesystem::exists(Dir() + "/unrelated.json"));
  EXPECT_TRUE(std::filesystem::exists(Dir() + "/" + torn->id + ".body"));

  // Still there after another restart; an operator's purge by id removes one.
  Open();
  EXPECT_EQ(dlq_->GetStats().damaged, 4);
  ASSERT_TRUE(dlq_->Remove(torn->id).ok());
  EXPECT_FALSE(std::filesystem::exists(torn_meta));
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/" + torn->id + ".body"));
  EXPECT_EQ(dlq_->GetStats().damaged, 3);
}

// The reported bug: a body truncated (or changed) on disk while the server was stopped
// was read back as if whole.
TEST_F(DeadLetterQueueTest, TruncatedOrFlippedBodiesAreDamagedOnOpen) {
  const std::string body = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
  auto truncated = dlq_->AddDelivery({"a", "k1", body, 3, 1, "e", "e"});
  auto flipped = dlq_->AddDelivery({"a", "k2", body, 3, 1, "e", "e"});
  auto raw = dlq_->AddProcessing("a", {Failed("r", "raw record")});
  auto intact = dlq_->AddDelivery({"a", "k3", body, 3, 1, "e", "e"});
  ASSERT_TRUE(truncated.ok() && flipped.ok() && raw.ok() && intact.ok());
  const std::string raw_id = (*raw)[0].id;
  dlq_.reset();
  std::filesystem::resize_file(Dir() + "/" + truncated->id + ".body", body.size() - 4);
  FlipByte(Dir() + "/" + flipped->id + ".body", 3);
  FlipByte(Dir() + "/" + raw_id + ".body", 0);

  Open();
  EXPECT_THAT(dlq_->Get(truncated->id)->damage,
              HasSubstr("body: body is 20 bytes, the metadata says 24"));
  EXPECT_THAT(dlq_->Get(flipped->id)->damage, HasSubstr("body: body CRC-32 is "));
  EXPECT_THAT(dlq_->Get(raw_id)->damage, HasSubstr("body: body CRC-32 is "));
  EXPECT_EQ(dlq_->Get(intact->id)->damage, "");
  EXPECT_THAT(Ids(dlq_->Due(kNow + 1000)), ElementsAre(intact->id));
  auto refused = dlq_->ReadBody(flipped->id);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(StatusMessage(refused.status())),
              HasSubstr(StrCat("dead letter ", flipped->id, " is damaged (body: body CRC-32")));
  EXPECT_EQ(dlq_->ReadBody(raw_id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*dlq_->ReadBody(intact->id), body);
  EXPECT_EQ(dlq_->GetStats().damaged, 3);
  // The bytes are left exactly as found.
  EXPECT_EQ(std::filesystem::file_size(Dir() + "/" + truncated->id + ".body"), body.size() - 4);
}

// Damage that happens while the queue is open is found by the read before delivery.
TEST_F(DeadLetterQueueTest, DamageFoundOnReadMarksTheEntry) {
  auto d = dlq_->AddDelivery({"a", "k", "{\"a\":1}\n", 1, 1, "e", "e"});
  auto gone = dlq_->AddDelivery({"a", "k2", "{\"a\":2}\n", 1, 1, "e", "e"});
  ASSERT_TRUE(d.ok() && gone.ok());
  FlipByte(Dir() + "/" + d->id + ".body", 2);
  std::filesystem::remove(Dir() + "/" + gone->id + ".body");
  EXPECT_THAT(dlq_->Due(kNow), SizeIs(2));
  testing::internal::CaptureStderr();
  EXPECT_EQ(dlq_->ReadBody(d->id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(dlq_->ReadBody(d->id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(dlq_->ReadBody(gone->id).status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_THAT(dlq_->Get(d->id)->damage, HasSubstr("CRC-32"));
  EXPECT_EQ(dlq_->Get(gone->id)->damage, "body file is missing");
  EXPECT_THAT(dlq_->Due(kNow), IsEmpty());
  EXPECT_EQ(dlq_->GetStats().damaged, 2);
  // Logged once per entry, not once per read.
  size_t events = 0;
  for (size_t at = log.find("dlq.damaged_entry"); at != std::string::npos;
       at = log.find("dlq.damaged_entry", at + 1))
    ++events;
  EXPECT_EQ(events, 2u) << log;
}

// A writer never produces what its readers refuse.
TEST_F(DeadLetterQueueTest, AddDeliveryRefusesABodyThatDoesNotHoldItsRecords) {
  auto e = dlq_->AddDelivery({"a", "k", "{\"a\":1}\n{\"b\":2}", 2, 1, "e", "e"});
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(StatusMessage(e.status())), HasSubstr("1 lines"));
  EXPECT_THAT(dlq_->List({}, "", 100), IsEmpty());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(Dir()), {}), 1);  // LOCK only
}

// Entries written before bodies had a checksum: verified by size and record count.
// Regression (issue 13, a disk full during an S3 outage): the queue wrote below the
// free-space floor (only the WAL checked it), so the outage's hand-offs took the disk to
// 0 bytes and the WAL could no longer log its seals and stores. Below its floor the queue
// refuses new entries, RESOURCE_EXHAUSTED, with nothing written; an entry it holds can
// still be updated and removed (neither grows the queue). The floor is more than any disk
// has, so every Add is below it.
TEST_F(DeadLetterQueueTest, RefusesNewEntriesBelowItsFreeSpaceFloorAndWritesNothing) {
  auto held = dlq_->AddDelivery({"demo", "p/held.gz", "x\n", 1, 1, "e", "e"});
  ASSERT_TRUE(held.ok()) << held.status();
  dlq_.reset();
  auto q = OpenDeadLetterQueue(Dir(), clock_, int64_t{1} << 62);
  ASSERT_TRUE(q.ok()) << q.status();
  dlq_ = *std::move(q);
  const auto files = [&] {
    std::set<std::string> out;
    for (const auto& f : std::filesystem::directory_iterator(Dir()))
      out.insert(f.path().filename().string());
    return out;
  };
  const std::set<std::string> before = files();

  auto added = dlq_->AddDelivery({"demo", "p/obj.gz", "{\"a\":1}\n", 1, 1, "e", "e"});
  ASSERT_EQ(added.status().code(), absl::StatusCode::kResourceExhausted) << added.status();
  EXPECT_THAT(std::string(StatusMessage(added.status())), HasSubstr(StrCat("disk under ", Dir())));
  EXPECT_THAT(std::string(StatusMessage(added.status())), HasSubstr("MiB free"));
  EXPECT_THAT(std::string(StatusMessage(added.status())), HasSubstr("kept for the WAL"));
  auto processing = dlq_->AddProcessing("demo", {Failed("r1", "bad")});
  EXPECT_EQ(processing.status().code(), absl::StatusCode::kResourceExhausted)
      << processing.status();
  EXPECT_EQ(files(), before);
  EXPECT_EQ(dlq_->GetStats().depth, 1);

  EXPECT_TRUE(dlq_->RecordAttempt(held->id, "503", kNow + 1000, false).ok());
  EXPECT_EQ(dlq_->Get(held->id)->attempts, 2);
  EXPECT_TRUE(dlq_->Remove(held->id).ok());
  EXPECT_EQ(dlq_->GetStats().depth, 0);
}

TEST_F(DeadLetterQueueTest, EntriesWithoutAChecksumAreVerifiedBySizeAndRecordCount) {
  const std::string body = "{\"a\":1}\n{\"b\":2}\n";
  auto kept = dlq_->AddDelivery({"a", "k1", body, 2, 1, "e", "e"});
  auto cut = dlq_->AddDelivery({"a", "k2", body, 2, 1, "e", "e"});
  ASSERT_TRUE(kept.ok() && cut.ok());
  dlq_.reset();
  for (const std::string& id : {kept->id, cut->id}) {
    const std::string meta = Dir() + "/" + id + ".json";
    std::string text = ReadFile(meta);
    const size_t at = text.find(",\"body_crc32\":");
    ASSERT_NE(at, std::string::npos) << text;
    text.erase(at, text.find(',', at + 1) - at);
    std::ofstream(meta, std::ios::trunc) << text;
  }
  FlipByte(Dir() + "/" + kept->id + ".body", 2);  // same size, same newlines: unnoticed
  std::filesystem::resize_file(Dir() + "/" + cut->id + ".body", body.size() - 1);

  testing::internal::CaptureStderr();
  Open();
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("\"without_checksum\":\"1\""));
  EXPECT_FALSE(dlq_->Get(kept->id)->body_crc32.has_value());
  EXPECT_TRUE(dlq_->ReadBody(kept->id).ok());
  EXPECT_THAT(dlq_->Get(cut->id)->damage, HasSubstr("body is 15 bytes, the metadata says 16"));
  // Rewritten metadata (an attempt) stays without one: nothing vouches for the body now.
  ASSERT_TRUE(dlq_->RecordAttempt(kept->id, "e2", kNow, false).ok());
  EXPECT_THAT(ReadFile(Dir() + "/" + kept->id + ".json"), Not(HasSubstr("body_crc32")));
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
  auto d = q->AddDelivery({"a", "k", "body\n", 1, 1, "e", "e"});
  ASSERT_TRUE(d.ok());
  auto p = q->AddProcessing("a", {Failed("r", "raw")});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*q->ReadBody(d->id), "body\n");
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
