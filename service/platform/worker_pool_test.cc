// WorkerPool: runs what is submitted, refuses past its queue bound, and Stop runs what
// was queued before joining.
#include "service/platform/worker_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(WorkerPoolTest, RunsEverySubmittedTask) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(4, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
    pool.Stop();
    EXPECT_EQ(ran.load(), 500);
  }
}

TEST(WorkerPoolTest, RefusesPastTheQueueBoundAndAfterStop) {
  absl::Notification release;
  absl::Notification started;
  WorkerPool pool(1, 2);
  ASSERT_TRUE(pool.Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();  // the only worker is busy
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  EXPECT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  EXPECT_FALSE(pool.Submit([&] { ran.fetch_add(100); }));  // third waiting task: refused, never run
  release.Notify();
  pool.Stop();  // the two queued ones still run
  EXPECT_EQ(ran.load(), 2);
  EXPECT_FALSE(pool.Submit([&] { ran.fetch_add(1); }));
  pool.Stop();  // idempotent
}

}  // namespace
}  // namespace lakehose
