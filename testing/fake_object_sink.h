// FakeObjectSink: an ObjectSink (service/delivery/object_sink.h) that keeps objects in
// memory, for tests. It honours meta.if_none_match (ALREADY_EXISTS for an existing key),
// and SetFailure makes every Put fail until healed, spending as many failures of the
// object's budget as it says (meta.failures_spent). It records every Put's budget. Get
// reads the stored objects back (NOT_FOUND when absent; FAILED_PRECONDITION over
// kMaxObjectGetBytes, as the real sinks), and SetGetFailure makes every Get fail until
// healed, apart from Put's failure. The tests keep a pointer to it while the delivery
// engine owns it. Thread-safe.
#ifndef LAKEHOSE_TESTING_FAKE_OBJECT_SINK_H_
#define LAKEHOSE_TESTING_FAKE_OBJECT_SINK_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/delivery/object_sink.h"

namespace lakehose {

class FakeObjectSink : public ObjectSink {
 public:
  absl::Status Put(const std::string& key, std::string_view body, const ObjectMeta& meta) override;
  absl::StatusOr<std::string> Get(const std::string& key) override;
  std::string Uri(const std::string& key) const override;  // "mem://<key>"

  // Makes every Put fail with `s` (OkStatus() to heal); each failed Put spends
  // `failures_per_put` failures (at most meta.max_failures), as a sink that retries inside
  // the call does.
  void SetFailure(absl::Status s, int failures_per_put = 1);
  // Makes every Get fail with `s` (OkStatus() to heal); Puts are not affected.
  void SetGetFailure(absl::Status s);
  // What DestinationDown() answers (default false).
  void SetDestinationDown(bool down);
  bool DestinationDown() const override;
  // What DestinationFailing() answers (default false; also true while down).
  void SetDestinationFailing(bool failing);
  bool DestinationFailing() const override;
  // Put calls so far (successful or not).
  int64_t puts() const;
  // Get calls so far (successful or not).
  int64_t gets() const;
  // Every object stored so far, by key, as stored (compressed).
  std::map<std::string, std::string> objects() const;

  // What each Put was given, in call order.
  struct PutRecord {
    std::string key;
    int failures_before = 0;
    int max_failures = 0;
    absl::Time deadline;
  };
  std::vector<PutRecord> put_records() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> objects_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
  absl::Status get_fails_with_ ABSL_GUARDED_BY(mu_);
  int failures_per_put_ ABSL_GUARDED_BY(mu_) = 1;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t puts_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t gets_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<PutRecord> put_records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_FAKE_OBJECT_SINK_H_
