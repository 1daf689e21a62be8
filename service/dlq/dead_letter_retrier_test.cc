// The dead-letter retry worker: backoff between attempts, removal on success, expiry at
// the maximum age, and a worker thread that stops promptly. Time is a FakeClock; the
// thread's own waits are a few milliseconds.
#include "service/dlq/dead_letter_retrier.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "core/base/backoff.h"
#include "core/base/strings.h"
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

TEST(DeadLetterRetrierOptionsTest, FromServerOptions) {
  ServerOptions s;
  s.dlq_retry_base_ms = 7;
  s.dlq_retry_max_ms = 70;
  s.dlq_max_age_s = 700;
  const auto o = DeadLetterRetrier::OptionsFrom(s);
  EXPECT_EQ(o.retry_base_ms, 7);
  EXPECT_EQ(o.retry_max_ms, 70);
  EXPECT_EQ(o.max_age_s, 700);
}

}  // namespace
}  // namespace lakehose
