// TableWriter: a pipeline whose sealed objects become data files of a table (format
// iceberg) rather than objects of their own. The delivery engine encodes a sealed object
// through it, stores the files it returns (If-None-Match, as every object), and then
// hands the stored object back for a commit; the object is done (the WAL says so, Flush
// counts it) only once Commit has made it part of the table. service/iceberg implements
// it; the engine knows nothing of Iceberg.
//
// Exactly once: Encode is deterministic (the same object encodes to the same files under
// the same keys, so a re-store after a crash answers "exists"), and Commit skips the
// objects that an earlier commit of this writer already holds (it reads the table), so an
// object replayed from the WAL after a crash between commit and log is not committed
// twice.
//
// Thread-safe: Encode runs on upload threads concurrently; Commit on one thread at a time
// per table (the engine's committer).
#ifndef LAKEHOSE_SERVICE_DELIVERY_TABLE_WRITER_H_
#define LAKEHOSE_SERVICE_DELIVERY_TABLE_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/delivery/delivery_format.h"

namespace lakehose {

// What one sealed object became.
struct TableObject {
  struct File {
    std::string key;    // relative to the destination's root
    std::string bytes;  // to store (released once stored)
    int64_t records = 0;
    int64_t size = 0;
  };
  std::string object_key;  // the sealed object's key (logged in the WAL)
  std::vector<File> files;
  // The writer's own description of the files, given back to Commit.
  std::shared_ptr<const void> commit_data;
  // About how much memory commit_data holds until the object is committed (a
  // current-state table keeps every change's key and version): counted in the buffer
  // budget while the object waits for its commit, so that slow commits push back on
  // Ingest instead of growing the server without bound.
  int64_t held_bytes = 0;
};

class TableWriter {
 public:
  virtual ~TableWriter() = default;

  // The data files of the sealed object `object_key` holding the JSON Lines `body`.
  // Records the table cannot hold (a value that does not fit its column) are left out
  // and listed in `rejected` (may be null: then they fail the object). May commit a
  // schema change to the table first (new columns), so files are written with the
  // table's field ids. UNAVAILABLE and other errors: retried by the engine as a failed
  // store.
  virtual absl::StatusOr<TableObject> Encode(const std::string& object_key, std::string_view body,
                                             RejectedRecords* rejected) = 0;

  // Makes the stored `objects` part of the table in one snapshot (or finds that an earlier
  // commit holds them). OK: every one of them is in the table. An error leaves the table
  // as it was or with all of them (never some); the engine tries again later.
  virtual absl::Status Commit(const std::vector<const TableObject*>& objects) = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DELIVERY_TABLE_WRITER_H_
