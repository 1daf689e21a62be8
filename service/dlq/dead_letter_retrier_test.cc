// The dead-letter retry worker: backoff between attempts, removal on success, expiry at
// the maximum age, and a worker thread that stops promptly. Time is a FakeClock; the
// thread's own waits are a few milliseconds.
#include "service/dlq/dead_letter_retrier.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/base/backoff.h"
#include "core/base/strings.h"
#include "core/delivery/destination_breaker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000000;

// A store that fails its first `failures` calls, then stores. Thread-safe.
class FlakyStore {
 public:
  explicit FlakyStore(int failures) : failures_left_(failures) {}
  absl::Status Store(const std::string& pipeline, const std::string& key, std::string_view body) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::UnavailableError("503 SlowDown");
    }
    stored_[pipeline + "/" + key] = std::string(body);
    return absl::OkStatus();
  }
  DeadLetterRetrier::StoreFn Fn() {
    return [this](const std::string& p, const std::string& k, std::string_view b) {
      return Store(p, k, b);
    };
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::map<std::string, std::string> stored() const {
    absl::MutexLock lock(&mu_);
    return stored_;
  }
  void FailForever() {
    absl::MutexLock lock(&mu_);
    failures_left_ = 1 << 30;
  }

 private:
  mutable absl::Mutex mu_;
  int failures_left_;
  int calls_ = 0;
  std::map<std::string, std::string> stored_;
};

class DeadLetterRetrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto q = OpenDeadLetterQueue(dir_.path() + "/dlq", clock_);
    ASSERT_TRUE(q.ok()) << q.status();
    dlq_ = *std::move(q);
    options_.retry_base_ms = 100;
    options_.retry_max_ms = 1000;
    options_.max_age_s = 60;
    options_.tick = absl::Hours(1);  // the thread never ticks on its own: RunOnce drives
  }
  void TearDown() override { dlq_.reset(); }

  // A delivery entry of `pipeline` under `key`, one millisecond after the previous one.
  DeadLetter Add(const std::string& pipeline, const std::string& key) {
    clock_.AdvanceMillis(1);
    auto e = dlq_->AddDelivery({pipeline, key, "x\n", 1, 1, "e", "e"});
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *e : DeadLetter{};
  }
  // `n` of them, keys prefix0, prefix1, ..., oldest first.
  std::vector<DeadLetter> AddMany(const std::string& pipeline, const std::string& prefix, int n) {
    std::vector<DeadLetter> out;
    for (int i = 0; i < n; ++i) out.push_back(Add(pipeline, StrCat(prefix, i)));
    return out;
  }

  const TempDir dir_{"dlq_retrier_test"};
  FakeClock clock_{kNow};
  std::unique_ptr<DeadLetterQueue> dlq_;
  DeadLetterRetrier::Options options_;
};

TEST_F(DeadLetterRetrierTest, FailsWithBackoffThenDeliversAndRemoves) {
  FlakyStore store(3);
  auto e = dlq_->AddDelivery(
      {"demo", "p/obj.gz", "{\"a\":1}\n", 1, 1, "UNAVAILABLE: down", "UNAVAILABLE: down"});
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(dlq_->AddProcessing("demo", {{"r", "bad", kNow, "C", "m"}}).ok());
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);

  int64_t last_next = kNow;
  for (int failure = 0; failure < 3; ++failure) {
    const int attempts_before = dlq_->Get(e->id)->attempts;
    EXPECT_EQ(retrier.RunOnce(), 1);
    auto after = dlq_->Get(e->id);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->attempts, attempts_before + 1);
    EXPECT_THAT(after->last_error, HasSubstr("503 SlowDown"));
    EXPECT_EQ(after->first_error, "UNAVAILABLE: down");
    EXPECT_FALSE(after->expired);
    // Full jitter: somewhere in [now, now + min(max, base * 2^attempts)].
    const BackoffPolicy policy{.base_delay_ms = 100, .max_delay_ms = 1000};
    EXPECT_GE(after->next_attempt_ms, clock_.NowMillis());
    EXPECT_LE(after->next_attempt_ms,
              clock_.NowMillis() + BackoffCeilingMs(policy, attempts_before));
    last_next = after->next_attempt_ms;
    // Not due before its time: nothing happens.
    if (after->next_attempt_ms > clock_.NowMillis()) {
      clock_.SetMillis(after->next_attempt_ms - 1);
      EXPECT_EQ(retrier.RunOnce(), 0);
    }
    clock_.SetMillis(last_next);
  }
  EXPECT_EQ(retrier.RunOnce(), 1);
  EXPECT_FALSE(dlq_->Get(e->id).has_value());
  EXPECT_EQ(store.stored().at("demo/p/obj.gz"), "{\"a\":1}\n");
  EXPECT_EQ(store.calls(), 4);
  const auto c = retrier.counts();
  EXPECT_EQ(c.retried, 4);
  EXPECT_EQ(c.delivered, 1);
  EXPECT_EQ(c.expired, 0);
  // The processing entry was never touched.
  EXPECT_EQ(dlq_->GetStats().processing, 1);
  EXPECT_EQ(dlq_->GetStats().depth, 1);
}

TEST_F(DeadLetterRetrierTest, ExpiresAtMaxAgeAndStopsRetrying) {
  FlakyStore store(0);
  store.FailForever();
  auto e = dlq_->AddDelivery({"demo", "k", "x\n", 1, 5, "e", "e"});
  ASSERT_TRUE(e.ok());
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  EXPECT_EQ(retrier.RunOnce(), 1);
  EXPECT_FALSE(dlq_->Get(e->id)->expired);
  clock_.SetMillis(kNow + 59000);  // short of 60 s, and due (the backoff is at most 1 s)
  EXPECT_EQ(retrier.RunOnce(), 1);
  EXPECT_FALSE(dlq_->Get(e->id)->expired);
  // Due again at or after the maximum age.
  clock_.SetMillis(std::max(dlq_->Get(e->id)->next_attempt_ms, kNow + 60000));
  EXPECT_EQ(retrier.RunOnce(), 1);
  auto after = dlq_->Get(e->id);
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->expired);
  EXPECT_EQ(after->attempts, 8);
  EXPECT_EQ(retrier.counts().expired, 1);
  clock_.AdvanceMillis(3600 * 1000);
  EXPECT_EQ(retrier.RunOnce(), 0);  // kept, not retried
  EXPECT_EQ(store.calls(), 3);
  EXPECT_EQ(dlq_->GetStats().expired, 1);
}

TEST_F(DeadLetterRetrierTest, EntryRemovedMeanwhileIsSkipped) {
  FlakyStore store(0);
  auto e = dlq_->AddDelivery({"demo", "k", "x\n", 1, 1, "e", "e"});
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(dlq_->Remove(e->id).ok());
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  EXPECT_EQ(retrier.RunOnce(), 0);
  EXPECT_EQ(store.calls(), 0);
}

TEST_F(DeadLetterRetrierTest, WorkerThreadRetriesOnItsOwnAndStopsPromptly) {
  FlakyStore store(2);
  options_.tick = absl::Milliseconds(2);
  options_.retry_base_ms = 0;  // no backoff: every tick retries
  auto e = dlq_->AddDelivery({"demo", "k", "x\n", 1, 1, "e", "e"});
  ASSERT_TRUE(e.ok());
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (retrier.counts().delivered < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(retrier.counts().delivered, 1);
  EXPECT_EQ(retrier.counts().retried, 3);
  EXPECT_FALSE(dlq_->Get(e->id).has_value());

  // A long tick does not hold Stop up.
  options_.tick = absl::Hours(1);
  DeadLetterRetrier idle(*dlq_, store.Fn(), clock_, options_);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it reach its wait
  const auto start = std::chrono::steady_clock::now();
  idle.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  idle.Stop();  // idempotent
}

// The reported bug: delivery entries whose body files were truncated while the server
// was stopped were "delivered" on restart (partial lines in the lake) and removed.
TEST_F(DeadLetterRetrierTest, DamagedBodiesAreNotDeliveredAndTheirEntriesStay) {
  std::string body;
  for (int i = 0; i < 200; ++i) body += StrCat("{\"_eventID\":\"e", i, "\"}\n");
  auto intact = dlq_->AddDelivery({"demo", "k1", body, 200, 1, "e", "e"});
  auto truncated = dlq_->AddDelivery({"demo", "k2", body, 200, 1, "e", "e"});
  auto flipped = dlq_->AddDelivery({"demo", "k3", body, 200, 1, "e", "e"});
  ASSERT_TRUE(intact.ok() && truncated.ok() && flipped.ok());
  dlq_.reset();
  const std::string dir = dir_.path() + "/dlq/";
  std::filesystem::resize_file(dir + truncated->id + ".body", body.size() / 2);
  {
    std::fstream f(dir + flipped->id + ".body", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(body.size() / 3));
    f.put('#');
  }
  auto q = OpenDeadLetterQueue(dir_.path() + "/dlq", clock_);
  ASSERT_TRUE(q.ok()) << q.status();
  dlq_ = *std::move(q);

  FlakyStore store(0);
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  retrier.RunOnce();
  clock_.AdvanceMillis(3600 * 1000);
  retrier.RunOnce();
  EXPECT_EQ(store.stored(), (std::map<std::string, std::string>{{"demo/k1", body}}));
  EXPECT_EQ(retrier.counts().delivered, 1);
  EXPECT_FALSE(dlq_->Get(intact->id).has_value());
  ASSERT_TRUE(dlq_->Get(truncated->id).has_value());
  ASSERT_TRUE(dlq_->Get(flipped->id).has_value());
  EXPECT_TRUE(std::filesystem::exists(dir + truncated->id + ".body"));
  EXPECT_TRUE(std::filesystem::exists(dir + flipped->id + ".json"));
  EXPECT_THAT(dlq_->Get(truncated->id)->damage, HasSubstr("body is "));
  EXPECT_THAT(dlq_->Get(flipped->id)->damage, HasSubstr("CRC-32"));
  EXPECT_EQ(dlq_->Get(flipped->id)->attempts, 1);  // not retried, nothing recorded
  EXPECT_EQ(dlq_->GetStats().damaged, 2);
}

// Damage that appears while the server runs is found by the read before the store.
TEST_F(DeadLetterRetrierTest, BodyDamagedWhileQueuedIsNotStored) {
  FlakyStore store(1);
  auto e = dlq_->AddDelivery({"demo", "k", "{\"a\":1}\n{\"b\":2}\n", 2, 1, "e", "e"});
  ASSERT_TRUE(e.ok());
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  EXPECT_EQ(retrier.RunOnce(), 1);  // fails: 503
  std::filesystem::resize_file(dir_.path() + "/dlq/" + e->id + ".body", 8);
  clock_.AdvanceMillis(3600 * 1000);
  EXPECT_EQ(retrier.RunOnce(), 0);
  EXPECT_EQ(store.calls(), 1);
  ASSERT_TRUE(dlq_->Get(e->id).has_value());
  EXPECT_THAT(dlq_->Get(e->id)->damage, HasSubstr("body is 8 bytes"));
  EXPECT_EQ(dlq_->Get(e->id)->attempts, 2);
  EXPECT_THAT(dlq_->Due(clock_.NowMillis()), ::testing::IsEmpty());
}

// A queue that forwards to `inner` but whose RecordAttempt fails while `full` is set, as
// on a full disk (the metadata is rewritten through a temp file).
class FullDiskQueue : public DeadLetterQueue {
 public:
  explicit FullDiskQueue(DeadLetterQueue& inner) : inner_(inner) {}
  std::atomic<bool> full{true};
  std::atomic<int> record_calls{0};

  absl::StatusOr<DeadLetter> AddDelivery(const DeadLetteredObject& o) override {
    return inner_.AddDelivery(o);
  }
  absl::StatusOr<std::vector<DeadLetter>> AddProcessing(
      const std::string& pipeline, const std::vector<FailedRecord>& records) override {
    return inner_.AddProcessing(pipeline, records);
  }
  std::vector<DeadLetter> List(const DeadLetterFilter& f, const std::string& after,
                               size_t limit) const override {
    return inner_.List(f, after, limit);
  }
  std::optional<DeadLetter> Get(const std::string& id) const override { return inner_.Get(id); }
  absl::StatusOr<std::string> ReadBody(const std::string& id) override {
    return inner_.ReadBody(id);
  }
  std::vector<DeadLetter> Due(int64_t now_ms) const override { return inner_.Due(now_ms); }
  std::vector<DeadLetter> DuePage(int64_t now_ms, const std::string& after, size_t limit,
                                  const std::set<std::string>& skip) const override {
    return inner_.DuePage(now_ms, after, limit, skip);
  }
  absl::Status RecordAttempt(const std::string& id, const std::string& error, int64_t next_ms,
                             bool expired) override {
    ++record_calls;
    if (full.load())
      return absl::ResourceExhaustedError(
          StrCat("write ", id, ".json.tmp: No space left on device"));
    return inner_.RecordAttempt(id, error, next_ms, expired);
  }
  absl::Status Remove(const std::string& id) override { return inner_.Remove(id); }
  Stats GetStats() const override { return inner_.GetStats(); }

 private:
  DeadLetterQueue& inner_;
};

// Regression (issue 13, a disk full during an S3 outage): when the queue could not record
// a failed attempt, the entry stayed due, so it was stored again and an error logged at
// every tick (462 dlq.record_attempt_failed in 6 s for 75 entries). The backoff is now
// kept in memory: the entry waits it out, and its failure is logged once.
TEST_F(DeadLetterRetrierTest, AnAttemptTheQueueCannotRecordStillBacksOffAndIsLoggedOnce) {
  FlakyStore store(1 << 30);
  FullDiskQueue full(*dlq_);
  const std::vector<DeadLetter> entries = AddMany("demo", "k", 3);
  options_.uniform01 = [] { return 0.5; };  // every delay is half its ceiling: at least 100 ms
  DeadLetterRetrier retrier(full, store.Fn(), clock_, options_);

  testing::internal::CaptureStderr();
  EXPECT_EQ(retrier.RunOnce(), 3);  // each tried once, none recorded
  EXPECT_EQ(full.record_calls.load(), 3);
  // Ticks within the first backoff: nothing is due.
  for (int tick = 0; tick < 5; ++tick) EXPECT_EQ(retrier.RunOnce(), 0) << "tick " << tick;
  EXPECT_EQ(store.calls(), 3);
  // Past the longest backoff the entries are tried again; the exponent grew with the
  // attempts not recorded, the log did not.
  int64_t attempts = 3;
  for (int round = 0; round < 4; ++round) {
    clock_.AdvanceMillis(options_.retry_max_ms + 1);
    attempts += retrier.RunOnce();
    EXPECT_EQ(retrier.RunOnce(), 0) << "round " << round;
  }
  EXPECT_EQ(attempts, 15);
  EXPECT_EQ(store.calls(), 15);
  const std::string log = testing::internal::GetCapturedStderr();
  size_t lines = 0;
  for (size_t at = log.find("\"event\":\"dlq.record_attempt_failed\""); at != std::string::npos;
       at = log.find("\"event\":\"dlq.record_attempt_failed\"", at + 1))
    ++lines;
  EXPECT_EQ(lines, 3u) << log;  // one per entry
  // On disk nothing moved; the queue still has them as they were.
  for (const DeadLetter& e : entries) EXPECT_EQ(dlq_->Get(e.id)->attempts, e.attempts);

  // Room again: the next failed attempt is recorded, and the backoff is the queue's.
  full.full = false;
  clock_.AdvanceMillis(options_.retry_max_ms + 1);
  EXPECT_EQ(retrier.RunOnce(), 3);
  for (const DeadLetter& e : entries) {
    const std::optional<DeadLetter> after = dlq_->Get(e.id);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->attempts, e.attempts + 1);
    EXPECT_GT(after->next_attempt_ms, clock_.NowMillis());
  }
  EXPECT_EQ(retrier.RunOnce(), 0);
}

TEST(DeadLetterRetrierOptionsTest, FromServerOptions) {
  ServerOptions s;
  s.dlq_retry_base_ms = 7;
  s.dlq_retry_max_ms = 70;
  s.dlq_max_age_s = 700;
  s.dlq_drain_concurrency = 9;
  const auto o = DeadLetterRetrier::OptionsFrom(s);
  EXPECT_EQ(o.retry_base_ms, 7);
  EXPECT_EQ(o.retry_max_ms, 70);
  EXPECT_EQ(o.max_age_s, 700);
  EXPECT_EQ(o.drain_concurrency, 9);
  EXPECT_EQ(DeadLetterRetrier::OptionsFrom(ServerOptions{}).drain_concurrency, 4);
}

// --- A down destination, and the drain after it (issue 13) ---

// A store whose answer depends on the pipeline: refused as destination-down while the
// pipeline is in `down`, else stored. Each call can be held at a gate until the test
// opens it, so that a test sees which stores are in flight together. Thread-safe.
class GatedStore {
 public:
  absl::Status Store(const std::string& pipeline, const std::string& key, std::string_view body) {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    started_.push_back(key);
    // Bounded: a test that forgets to open the gate fails, it does not hang.
    mu_.AwaitWithTimeout(absl::Condition(&open_), absl::Seconds(10));
    --in_flight_;
    if (down_.count(pipeline) != 0)
      return DestinationDownError(StrCat("destination of ", pipeline, " is down (circuit open)"),
                                  retry_after_ms_);
    stored_[pipeline + "/" + key] = std::string(body);
    return absl::OkStatus();
  }
  DeadLetterRetrier::StoreFn Fn() {
    return [this](const std::string& p, const std::string& k, std::string_view b) {
      return Store(p, k, b);
    };
  }
  void SetDown(const std::string& pipeline, bool down) {
    absl::MutexLock lock(&mu_);
    if (down) {
      down_.insert(pipeline);
    } else {
      down_.erase(pipeline);
    }
  }
  // What refusals say about the next probe (-1: nothing).
  void SetRetryAfterMs(int64_t ms) {
    absl::MutexLock lock(&mu_);
    retry_after_ms_ = ms;
  }
  void SetOpen(bool open) {
    absl::MutexLock lock(&mu_);
    open_ = open;
  }
  // Waits (at most 10 s) until at least `n` stores are in flight; false if they never were.
  bool AwaitInFlight(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10));
  }
  // Whether more than `n` stores get in flight within `within` (the test expects not).
  bool ExceedsInFlight(int n, absl::Duration within) {
    absl::MutexLock lock(&mu_);
    auto exceeded = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ > n; };
    return mu_.AwaitWithTimeout(absl::Condition(&exceeded), within);
  }
  int max_in_flight() const {
    absl::MutexLock lock(&mu_);
    return max_in_flight_;
  }
  std::vector<std::string> started() const {
    absl::MutexLock lock(&mu_);
    return started_;
  }
  std::map<std::string, std::string> stored() const {
    absl::MutexLock lock(&mu_);
    return stored_;
  }

 private:
  mutable absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int64_t retry_after_ms_ ABSL_GUARDED_BY(mu_) = -1;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> down_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> started_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> stored_ ABSL_GUARDED_BY(mu_);
};

// Entries that the retrier must leave exactly as they were.
void ExpectUntouched(const DeadLetterQueue& dlq, const DeadLetter& before) {
  auto after = dlq.Get(before.id);
  ASSERT_TRUE(after.has_value()) << before.id;
  EXPECT_EQ(after->attempts, before.attempts) << before.key;
  EXPECT_EQ(after->next_attempt_ms, before.next_attempt_ms) << before.key;
  EXPECT_EQ(after->last_ms, before.last_ms) << before.key;
  EXPECT_EQ(after->last_error, before.last_error) << before.key;
  EXPECT_FALSE(after->expired) << before.key;
}

TEST_F(DeadLetterRetrierTest, DownDestinationRecordsNothingAndStopsOnlyItsPipelinesPass) {
  options_.drain_concurrency = 1;  // one thread: the order of stores is Due() order
  GatedStore store;
  store.SetDown("down", true);
  std::vector<DeadLetter> down;
  std::vector<DeadLetter> up;
  for (int i = 0; i < 3; ++i) {  // interleaved: d0 u0 d1 u1 d2 u2
    down.push_back(Add("down", StrCat("d", i)));
    up.push_back(Add("up", StrCat("u", i)));
  }
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);

  // Past the maximum age as well: a refusal is no attempt, so it expires nothing either.
  clock_.AdvanceMillis(3600 * 1000);
  EXPECT_EQ(retrier.RunOnce(), 3);  // the three of "up"; the refusal is not an attempt
  EXPECT_THAT(store.started(), ::testing::ElementsAre("d0", "u0", "u1", "u2"));
  for (const DeadLetter& e : down) ExpectUntouched(*dlq_, e);
  for (const DeadLetter& e : up) EXPECT_FALSE(dlq_->Get(e.id).has_value());
  auto c = retrier.counts();
  EXPECT_EQ(c.retried, 3);
  EXPECT_EQ(c.delivered, 3);
  EXPECT_EQ(c.expired, 0);
  EXPECT_EQ(c.skipped_destination_down, 1);  // d0 refused; d1 and d2 not tried

  // Still down: the next pass knocks once more (that is how the breaker gets its probe).
  EXPECT_EQ(retrier.RunOnce(), 0);
  EXPECT_EQ(store.started().size(), 5u);
  EXPECT_EQ(retrier.counts().skipped_destination_down, 2);
  for (const DeadLetter& e : down) ExpectUntouched(*dlq_, e);

  // Back: everything due goes, oldest first, each stored once.
  store.SetDown("down", false);
  EXPECT_EQ(retrier.RunOnce(), 3);
  EXPECT_THAT(store.started(),
              ::testing::ElementsAre("d0", "u0", "u1", "u2", "d0", "d0", "d1", "d2"));
  EXPECT_EQ(store.stored().size(), 6u);
  EXPECT_EQ(dlq_->GetStats().depth, 0);
  c = retrier.counts();
  EXPECT_EQ(c.retried, 6);
  EXPECT_EQ(c.delivered, 6);
  EXPECT_EQ(c.expired, 0);
}

// A knock reads and encodes a whole object before the breaker refuses it: when the
// refusal says when the next probe may go, the pipeline rests until then.
TEST_F(DeadLetterRetrierTest, ADownPipelineRestsUntilTheBreakersNextProbe) {
  options_.drain_concurrency = 1;
  GatedStore store;
  store.SetDown("down", true);
  store.SetRetryAfterMs(5000);
  const std::vector<DeadLetter> down = AddMany("down", "d", 2);
  Add("up", "u0");
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  EXPECT_EQ(retrier.RunOnce(), 1);
  EXPECT_THAT(store.started(), ::testing::ElementsAre("d0", "u0"));
  Add("up", "u1");
  clock_.AdvanceMillis(4998);  // 4999 ms after the refusal: still resting
  EXPECT_EQ(retrier.RunOnce(), 1);
  EXPECT_THAT(store.started(), ::testing::ElementsAre("d0", "u0", "u1"));
  EXPECT_EQ(retrier.counts().skipped_destination_down, 1);
  for (const DeadLetter& e : down) ExpectUntouched(*dlq_, e);
  clock_.AdvanceMillis(1);  // the probe time: one knock (refused again: rests again)
  EXPECT_EQ(retrier.RunOnce(), 0);
  EXPECT_THAT(store.started(), ::testing::ElementsAre("d0", "u0", "u1", "d0"));
  EXPECT_EQ(retrier.counts().skipped_destination_down, 2);
  store.SetDown("down", false);
  clock_.AdvanceMillis(4999);
  EXPECT_EQ(retrier.RunOnce(), 0);
  clock_.AdvanceMillis(1);
  EXPECT_EQ(retrier.RunOnce(), 2);  // back: both, oldest first
  EXPECT_THAT(store.started(), ::testing::ElementsAre("d0", "u0", "u1", "d0", "d0", "d1"));
  EXPECT_EQ(dlq_->GetStats().depth, 0);
}

TEST_F(DeadLetterRetrierTest, DownDestinationWithConcurrencyRefusesAtMostOneStorePerThread) {
  options_.drain_concurrency = 4;
  GatedStore store;
  store.SetDown("down", true);
  const std::vector<DeadLetter> down = AddMany("down", "d", 20);
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  EXPECT_EQ(retrier.RunOnce(), 0);
  // Each thread may take one entry before the first refusal is known; none takes two.
  EXPECT_GE(store.started().size(), 1u);
  EXPECT_LE(store.started().size(), 4u);
  EXPECT_EQ(retrier.counts().skipped_destination_down,
            static_cast<int64_t>(store.started().size()));
  EXPECT_EQ(retrier.counts().retried, 0);
  for (const DeadLetter& e : down) ExpectUntouched(*dlq_, e);
}

TEST_F(DeadLetterRetrierTest, DrainRunsAtMostDrainConcurrencyStoresAtOnceOldestFirst) {
  options_.drain_concurrency = 3;
  GatedStore store;
  AddMany("demo", "k", 12);
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  store.SetOpen(false);
  int attempts = -1;
  std::thread pass([&] { attempts = retrier.RunOnce(); });
  ASSERT_TRUE(store.AwaitInFlight(3));
  // Held at the gate, the first three are the three oldest, and no fourth store starts.
  EXPECT_FALSE(store.ExceedsInFlight(3, absl::Milliseconds(100)));
  std::vector<std::string> first = store.started();
  std::sort(first.begin(), first.end());
  EXPECT_THAT(first, ::testing::ElementsAre("k0", "k1", "k2"));
  store.SetOpen(true);
  pass.join();
  EXPECT_EQ(attempts, 12);
  EXPECT_EQ(store.max_in_flight(), 3);
  EXPECT_EQ(store.stored().size(), 12u);
  EXPECT_EQ(dlq_->GetStats().depth, 0);
  EXPECT_EQ(retrier.counts().delivered, 12);
}

// A backlog of several pages (the pass fetches entries a page at a time): every entry is
// stored once, while a down pipeline's entries, spread over every page, cost at most one
// refused store per thread and stay as they were. (Order: the tests above, on one thread.)
TEST(DeadLetterRetrierBacklogTest, ABacklogOfManyPagesDrainsOnceAroundADownPipeline) {
  FakeClock clock(kNow);
  auto dlq = NewInMemoryDeadLetterQueue(clock);
  std::vector<DeadLetter> down;
  for (int i = 0; i < 1000; ++i) {
    clock.AdvanceMillis(1);
    const bool is_down = i % 3 == 0;
    auto e = dlq->AddDelivery(
        {is_down ? "down" : "up", StrCat(is_down ? "d" : "u", 1000 + i), "x\n", 1, 1, "e", "e"});
    ASSERT_TRUE(e.ok());
    if (is_down) down.push_back(*e);
  }
  GatedStore store;
  store.SetDown("down", true);
  DeadLetterRetrier::Options options;
  options.tick = absl::Hours(1);
  options.drain_concurrency = 4;
  DeadLetterRetrier retrier(*dlq, store.Fn(), clock, options);
  EXPECT_EQ(retrier.RunOnce(), 666);
  EXPECT_EQ(store.stored().size(), 666u);
  EXPECT_EQ(dlq->GetStats().depth, 334);
  int down_calls = 0;
  int up_calls = 0;
  for (const std::string& key : store.started()) (key[0] == 'd' ? down_calls : up_calls)++;
  EXPECT_GE(down_calls, 1);
  EXPECT_LE(down_calls, 4);
  EXPECT_EQ(up_calls, 666);  // each once
  for (const DeadLetter& e : down) ExpectUntouched(*dlq, e);
}

TEST_F(DeadLetterRetrierTest, OldestFirstIsCreationOrderAcrossAClockStepAndAReopen) {
  options_.drain_concurrency = 1;
  // Created in this order; the clock steps back between the first and the second.
  clock_.SetMillis(kNow + 5000);
  auto a = dlq_->AddDelivery({"demo", "a", "x\n", 1, 1, "e", "e"});
  clock_.SetMillis(kNow + 1000);
  auto b = dlq_->AddDelivery({"other", "b", "x\n", 1, 1, "e", "e"});
  auto c = dlq_->AddDelivery({"demo", "c", "x\n", 1, 1, "e", "e"});  // same millisecond
  clock_.SetMillis(kNow + 2000);
  auto d = dlq_->AddDelivery({"demo", "d", "x\n", 1, 1, "e", "e"});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  // An earlier failure of "a" does not move it back in the line once it is due again.
  ASSERT_TRUE(dlq_->RecordAttempt(a->id, "503", kNow + 3000, false).ok());
  dlq_.reset();
  auto q = OpenDeadLetterQueue(dir_.path() + "/dlq", clock_);
  ASSERT_TRUE(q.ok()) << q.status();
  dlq_ = *std::move(q);

  GatedStore store;
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  clock_.SetMillis(kNow + 10000);
  EXPECT_EQ(retrier.RunOnce(), 4);
  EXPECT_THAT(store.started(), ::testing::ElementsAre("a", "b", "c", "d"));
}

TEST_F(DeadLetterRetrierTest, StopDuringAPassWaitsForStoresInProgressAndStartsNoMore) {
  options_.drain_concurrency = 2;
  options_.tick = absl::Milliseconds(2);
  GatedStore store;
  store.SetOpen(false);
  const std::vector<DeadLetter> entries = AddMany("demo", "k", 6);
  DeadLetterRetrier retrier(*dlq_, store.Fn(), clock_, options_);
  ASSERT_TRUE(store.AwaitInFlight(2));  // the worker's own pass, two stores at the gate

  absl::Notification stopped;
  std::thread stopper([&] {
    retrier.Stop();
    stopped.Notify();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!retrier.StopRequestedForTest() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(retrier.StopRequestedForTest());
  EXPECT_FALSE(stopped.HasBeenNotified()) << "Stop returned while two stores were in flight";
  store.SetOpen(true);
  EXPECT_TRUE(stopped.WaitForNotificationWithTimeout(absl::Seconds(10)));
  stopper.join();

  // The two in flight ended (stored and removed); nothing else was started.
  EXPECT_EQ(store.started().size(), 2u);
  EXPECT_EQ(retrier.counts().delivered, 2);
  EXPECT_EQ(dlq_->GetStats().depth, 4);
  for (const DeadLetter& e : entries)
    if (dlq_->Get(e.id).has_value()) ExpectUntouched(*dlq_, e);
  EXPECT_EQ(retrier.RunOnce(), 0);  // stopped: no more passes
  EXPECT_EQ(store.started().size(), 2u);
}

}  // namespace
}  // namespace lakehose
