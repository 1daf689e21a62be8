// FakeObjectSink: an ObjectSink (service/delivery/object_sink.h) that keeps objects in
// memory, for tests. It honours meta.if_none_match (ALREADY_EXISTS for an existing key),
// and SetFailure makes every Put fail until healed. The tests keep a pointer to it while
// the delivery engine owns it. Thread-safe.
#ifndef LAKEHOSE_TESTING_FAKE_OBJECT_SINK_H_
#define LAKEHOSE_TESTING_FAKE_OBJECT_SINK_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "service/delivery/object_sink.h"

namespace lakehose {

class FakeObjectSink : public ObjectSink {
 public:
  absl::Status Put(const std::string& key, std::string_view body, const ObjectMeta& meta) override;
  std::string Uri(const std::string& key) const override;  // "mem://<key>"

  // Makes every Put fail with `s` (OkStatus() to heal).
  void SetFailure(absl::Status s);
  // What DestinationDown() answers (default false).
  void SetDestinationDown(bool down);
  bool DestinationDown() const override;
  // Put calls so far (successful or not).
  int64_t puts() const;
  // Every object stored so far, by key, as stored (compressed).
  std::map<std::string, std::string> objects() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> objects_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int64_t puts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_FAKE_OBJECT_SINK_H_
