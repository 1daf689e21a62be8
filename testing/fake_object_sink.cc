#include "testing/fake_object_sink.h"

#include <utility>

namespace lakehose {

absl::Status FakeObjectSink::Put(const std::string& key, std::string_view body,
                                 const ObjectMeta& meta) {
  absl::MutexLock lock(&mu_);
  ++puts_;
  if (!fail_with_.ok()) return fail_with_;
  if (meta.if_none_match && objects_.count(key)) return absl::AlreadyExistsError(key);
  objects_[key] = std::string(body);
  return absl::OkStatus();
}

std::string FakeObjectSink::Uri(const std::string& key) const { return "mem://" + key; }

void FakeObjectSink::SetFailure(absl::Status s) {
  absl::MutexLock lock(&mu_);
  fail_with_ = std::move(s);
}

void FakeObjectSink::SetDestinationDown(bool down) {
  absl::MutexLock lock(&mu_);
  down_ = down;
}

bool FakeObjectSink::DestinationDown() const {
  absl::MutexLock lock(&mu_);
  return down_;
}

int64_t FakeObjectSink::puts() const {
  absl::MutexLock lock(&mu_);
  return puts_;
}

std::map<std::string, std::string> FakeObjectSink::objects() const {
  absl::MutexLock lock(&mu_);
  return objects_;
}

}  // namespace lakehose
