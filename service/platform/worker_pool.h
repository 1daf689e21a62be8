// WorkerPool: a fixed set of threads that run submitted work in order of submission,
// with a bounded queue. The gRPC services hand blocking work (a WAL fsync, a DLQ write)
// to it so that no callback reactor thread ever waits on a disk.
//
//   WorkerPool pool(8, 1024);
//   if (!pool.Submit([=] { reactor->Finish(Handle(request)); })) reactor->Finish(busy);
//   ...
//   pool.Stop();  // runs what is queued, then joins
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_PLATFORM_WORKER_POOL_H_
#define LAKEHOSE_SERVICE_PLATFORM_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace lakehose {

class WorkerPool {
 public:
  // `threads` >= 1; at most `max_queued` tasks wait (beyond those running).
  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` is not run) when the queue is full or the pool is
  // stopped.
  bool Submit(std::function<void()> task);

  // Runs every queued task, then joins the threads. Later Submits return false.
  // Idempotent.
  void Stop();

 private:
  void Loop();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
  absl::Mutex stop_mu_;  // one Stop at a time
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_PLATFORM_WORKER_POOL_H_
