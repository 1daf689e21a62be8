// FakeTableWriter: a TableWriter (service/delivery/table_writer.h) without a table. Each
// object becomes one file, "<object key without .parquet>-0.parquet", holding the object's
// JSON Lines as they are; Commit records which objects a commit made part of the "table"
// and, like a real writer, leaves out those already committed. Commits can be made to
// fail. Thread-safe.
#ifndef LAKEHOSE_TESTING_FAKE_TABLE_WRITER_H_
#define LAKEHOSE_TESTING_FAKE_TABLE_WRITER_H_

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "core/base/strings.h"
#include "service/delivery/table_writer.h"

namespace lakehose {

class FakeTableWriter : public TableWriter {
 public:
  absl::StatusOr<TableObject> Encode(const std::string& object_key, std::string_view body,
                                     RejectedRecords* /*rejected*/) override {
    TableObject out;
    out.object_key = object_key;
    std::string_view base = object_key;
    constexpr std::string_view kExt = ".parquet";
    if (base.size() >= kExt.size() && base.substr(base.size() - kExt.size()) == kExt)
      base.remove_suffix(kExt.size());
    TableObject::File f;
    f.key = StrCat(base, "-0.parquet");
    f.bytes = std::string(body);
    for (char c : body) f.records += c == '\n';
    f.size = static_cast<int64_t>(body.size());
    out.files.push_back(std::move(f));
    out.commit_data = std::make_shared<const std::string>(object_key);
    absl::MutexLock lock(&mu_);
    out.held_bytes = held_bytes_;
    encodes_ += 1;
    return out;
  }

  absl::Status Commit(const std::vector<const TableObject*>& objects) override {
    absl::MutexLock lock(&mu_);
    commit_calls_ += 1;
    if (fail_commits_ > 0) {
      --fail_commits_;
      return absl::UnavailableError("injected commit failure");
    }
    std::vector<std::string> added;
    for (const TableObject* o : objects) {
      const std::string& key = *static_cast<const std::string*>(o->commit_data.get());
      if (committed_set_.insert(key).second)
        added.push_back(key);
      else
        already_ += 1;
    }
    if (!added.empty()) commits_.push_back(std::move(added));
    return absl::OkStatus();
  }

  // What each encoded object says its commit data holds (TableObject::held_bytes).
  void SetHeldBytes(int64_t n) {
    absl::MutexLock lock(&mu_);
    held_bytes_ = n;
  }
  void FailCommits(int n) {
    absl::MutexLock lock(&mu_);
    fail_commits_ = n;
  }
  // Each commit that added objects: their keys.
  std::vector<std::vector<std::string>> commits() const {
    absl::MutexLock lock(&mu_);
    return commits_;
  }
  int commit_calls() const {
    absl::MutexLock lock(&mu_);
    return commit_calls_;
  }
  int already_committed() const {
    absl::MutexLock lock(&mu_);
    return already_;
  }
  int encodes() const {
    absl::MutexLock lock(&mu_);
    return encodes_;
  }

 private:
  mutable absl::Mutex mu_;
  int fail_commits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t held_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int commit_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int already_ ABSL_GUARDED_BY(mu_) = 0;
  int encodes_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> committed_set_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> commits_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_FAKE_TABLE_WRITER_H_
