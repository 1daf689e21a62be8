#include "service/iceberg/key_index.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "leveldb/db.h"
#include "leveldb/write_batch.h"

namespace lakehose {
namespace {

// Keys: "k" + the item key; the applied snapshot under a key no item key can have.
constexpr std::string_view kItemPrefix = "k";
constexpr std::string_view kAppliedKey =
    "\x01"
    "applied-snapshot";

absl::Status FromLevelDb(const leveldb::Status& s, std::string_view what, const std::string& dir) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = StrCat("key index ", dir, ": ", what, ": ", s.ToString());
  if (s.IsCorruption())
    return absl::DataLossError(
        StrCat(message, " (the index is damaged: rebuild it from the table)"));
  if (s.IsIOError()) return absl::UnavailableError(message);
  if (s.IsNotFound()) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

}  // namespace

KeyIndex::KeyIndex(std::string dir, std::unique_ptr<leveldb::DB> db)
    : dir_(std::move(dir)), db_(std::move(db)) {}

KeyIndex::~KeyIndex() = default;

std::string KeyIndexDir(const std::string& data_dir, const std::string& pipeline) {
  return StrCat(data_dir, "/index/", pipeline);
}

absl::StatusOr<std::unique_ptr<KeyIndex>> KeyIndex::Open(const std::string& dir) {
  // LevelDB makes the last directory only.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    // LevelDB reports a directory locked by another process as an IO error on LOCK.
    if (s.IsIOError() && s.ToString().find("LOCK") != std::string::npos)
      return absl::FailedPreconditionError(
          StrCat("key index ", dir, " is in use by another process: ", s.ToString()));
    return FromLevelDb(s, "open", dir);
  }
  return std::unique_ptr<KeyIndex>(new KeyIndex(dir, std::unique_ptr<leveldb::DB>(raw)));
}

absl::StatusOr<std::optional<iceberg::KeyState>> KeyIndex::Get(const std::string& key) const {
  std::string value;
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  leveldb::Status s = db_->Get(ro, StrCat(kItemPrefix, key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (absl::Status st = FromLevelDb(s, "read", dir_); !st.ok()) return st;
  absl::StatusOr<iceberg::KeyState> state = iceberg::DecodeKeyState(value);
  if (!state.ok())
    return absl::DataLossError(StrCat("key index ", dir_, ": ", StatusMessage(state.status()),
                                      " (rebuild it from the table)"));
  return *std::move(state);
}

absl::Status KeyIndex::Apply(const std::vector<Update>& updates, int64_t snapshot_id) {
  leveldb::WriteBatch batch;
  for (const Update& u : updates)
    batch.Put(StrCat(kItemPrefix, u.key), iceberg::EncodeKeyState(u.state));
  batch.Put(std::string(kAppliedKey), StrCat(snapshot_id));
  leveldb::WriteOptions wo;
  wo.sync = true;
  return FromLevelDb(db_->Write(wo, &batch), "write", dir_);
}

absl::StatusOr<KeyIndex::Snapshot> KeyIndex::ReadAll() const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  // One LevelDB snapshot: the entries and the applied snapshot id of the same moment.
  const leveldb::Snapshot* at = db_->GetSnapshot();
  ro.snapshot = at;
  Snapshot out;
  absl::Status st = absl::OkStatus();
  {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    const leveldb::Slice prefix(kItemPrefix.data(), kItemPrefix.size());
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      absl::StatusOr<iceberg::KeyState> state =
          iceberg::DecodeKeyState(std::string_view(it->value().data(), it->value().size()));
      if (!state.ok()) {
        st = absl::DataLossError(StrCat("key index ", dir_, ": ", StatusMessage(state.status()),
                                        " (rebuild it from the table)"));
        break;
      }
      out.entries.push_back({.key = std::string(it->key().data() + kItemPrefix.size(),
                                                it->key().size() - kItemPrefix.size()),
                             .state = *std::move(state)});
    }
    if (st.ok()) st = FromLevelDb(it->status(), "read", dir_);
    std::string value;
    if (st.ok()) {
      leveldb::Status s = db_->Get(ro, std::string(kAppliedKey), &value);
      if (!s.IsNotFound()) st = FromLevelDb(s, "read", dir_);
      int64_t id = 0;
      if (st.ok() && !s.IsNotFound()) {
        if (absl::SimpleAtoi(value, &id))
          out.applied = id;
        else
          st = absl::DataLossError(
              StrCat("key index ", dir_, ": the applied snapshot reads ", QuoteForMessage(value)));
      }
    }
  }
  db_->ReleaseSnapshot(at);
  if (!st.ok()) return st;
  return out;
}

void KeyIndex::CompactStorage() { db_->CompactRange(nullptr, nullptr); }

absl::StatusOr<std::optional<int64_t>> KeyIndex::AppliedSnapshot() const {
  std::string value;
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  leveldb::Status s = db_->Get(ro, std::string(kAppliedKey), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (absl::Status st = FromLevelDb(s, "read", dir_); !st.ok()) return st;
  int64_t id = 0;
  if (!absl::SimpleAtoi(value, &id))
    return absl::DataLossError(
        StrCat("key index ", dir_, ": the applied snapshot reads ", QuoteForMessage(value)));
  return id;
}

}  // namespace lakehose
