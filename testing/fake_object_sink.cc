#include "testing/fake_object_sink.h"

#include <algorithm>
#include <utility>

#include "core/base/strings.h"

namespace lakehose {

absl::Status FakeObjectSink::Put(const std::string& key, std::string_view body,
                                 const ObjectMeta& meta) {
  absl::MutexLock lock(&mu_);
  ++puts_;
  put_records_.push_back({.key = key,
                          .failures_before = meta.failures_before,
                          .max_failures = meta.max_failures,
                          .deadline = meta.deadline});
  if (!fail_with_.ok()) {
    // As a retrying sink would: the failures it was given, at most.
    const int spent =
        meta.max_failures > 0 ? std::min(failures_per_put_, meta.max_failures) : failures_per_put_;
    if (meta.failures_spent != nullptr) *meta.failures_spent += spent;
    return fail_with_;
  }
  if (meta.if_none_match && objects_.count(key)) return absl::AlreadyExistsError(key);
  objects_[key] = std::string(body);
  return absl::OkStatus();
}

absl::StatusOr<std::string> FakeObjectSink::Get(const std::string& key) {
  absl::MutexLock lock(&mu_);
  ++gets_;
  if (!get_fails_with_.ok()) return get_fails_with_;
  auto it = objects_.find(key);
  if (it == objects_.end()) return absl::NotFoundError(StrCat("mem://", key, " does not exist"));
  if (it->second.size() > kMaxObjectGetBytes) {
    return absl::FailedPreconditionError(StrCat("mem://", key, " is larger than a read takes"));
  }
  return it->second;
}

void FakeObjectSink::SetGetFailure(absl::Status s) {
  absl::MutexLock lock(&mu_);
  get_fails_with_ = std::move(s);
}

int64_t FakeObjectSink::gets() const {
  absl::MutexLock lock(&mu_);
  return gets_;
}

std::string FakeObjectSink::Uri(const std::string& key) const { return "mem://" + key; }

void FakeObjectSink::SetFailure(absl::Status s, int failures_per_put) {
  absl::MutexLock lock(&mu_);
  fail_with_ = std::move(s);
  failures_per_put_ = failures_per_put;
}

std::vector<FakeObjectSink::PutRecord> FakeObjectSink::put_records() const {
  absl::MutexLock lock(&mu_);
  return put_records_;
}

void FakeObjectSink::SetDestinationDown(bool down) {
  absl::MutexLock lock(&mu_);
  down_ = down;
}

bool FakeObjectSink::DestinationDown() const {
  absl::MutexLock lock(&mu_);
  return down_;
}

void FakeObjectSink::SetDestinationFailing(bool failing) {
  absl::MutexLock lock(&mu_);
  failing_ = failing;
}

bool FakeObjectSink::DestinationFailing() const {
  absl::MutexLock lock(&mu_);
  return failing_ || down_;
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
