// DeadLetterQueue: what could not be delivered, kept on disk under data_dir/dlq until it
// is delivered, redriven or purged. Two kinds of entries:
//  - delivery: a sealed object (its key and uncompressed JSON Lines body) whose store ran
//    out of its retry budget; the retry worker keeps retrying it with backoff until it is
//    stored or reaches the maximum age (then it stays, marked expired);
//  - processing: the raw input of a PROCESSING_FAILED record; it waits for Redrive after
//    the operator fixed the pipeline config.
// Each entry records pipeline, attempts, first and last error, and timestamps (DeadLetter
// and its on-disk format: core/dlq/dead_letter_format.h). Entries are written durably
// (temp file, fsync, rename, directory fsync) before Add returns.
//
// Damaged entries. Every body is verified against its metadata (size, CRC-32, delivery:
// record count; VerifyDeadLetterBody) when the queue is opened and again each time it
// is read (ReadBody, i.e. before every delivery and redrive). An entry whose metadata
// cannot be read, whose body is missing, or whose body fails that check is damaged: it
// stays listed (DeadLetter::damage says why; its fields are those the id gives when the
// metadata is unreadable), is never due, never delivered or redriven, never rewritten,
// and never removed except by an explicit Remove (an operator's purge: by id, or of its
// pipeline with confirmation; one whose metadata is unreadable has no pipeline, so by
// id). Each is logged once as `dlq.damaged_entry` (id, reason) and counted in
// Stats::damaged. Damage is found again at every open, so a body repaired on disk is
// delivered after a restart.
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_QUEUE_H_
#define LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_QUEUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/dlq/dead_letter_format.h"
#include "core/dlq/dead_lettered_object.h"
#include "service/platform/clock.h"

namespace lakehose {

struct DeadLetterFilter {
  std::string pipeline;                // empty = any
  std::optional<DeadLetterKind> kind;  // nullopt = any
};

class DeadLetterQueue {
 public:
  virtual ~DeadLetterQueue() = default;

  // Adds a delivery entry for an object the delivery engine gave up on; it is due for
  // the retry worker at once. INVALID_ARGUMENT (nothing written) if the body does not hold
  // exactly `records` lines: a reader would refuse it as damaged. RESOURCE_EXHAUSTED
  // (nothing written) below the queue's free-space floor (OpenDeadLetterQueue) or on
  // ENOSPC.
  virtual absl::StatusOr<DeadLetter> AddDelivery(const DeadLetteredObject& object) = 0;
  // Adds processing entries, one per failed record, in one durable write; all or none
  // (RESOURCE_EXHAUSTED below the floor, as AddDelivery).
  struct FailedRecord {
    std::string record_id;
    std::string data;
    int64_t arrival_ms = 0;
    std::string error_code;
    std::string error_message;
  };
  virtual absl::StatusOr<std::vector<DeadLetter>> AddProcessing(
      const std::string& pipeline, const std::vector<FailedRecord>& records) = 0;

  // Entries matching `filter`, oldest first, at most `limit` after `after_id` (paging:
  // pass the last id of the previous page).
  virtual std::vector<DeadLetter> List(const DeadLetterFilter& filter, const std::string& after_id,
                                       size_t limit) const = 0;
  virtual std::optional<DeadLetter> Get(const std::string& id) const = 0;
  // The entry's body: the uncompressed object (delivery) or the raw record (processing),
  // verified against the metadata. NOT_FOUND if there is no such entry; FAILED_PRECONDITION
  // if the entry is damaged, found now (it is then marked damaged and logged) or before,
  // the message saying why; other errors (I/O) leave the entry as it was.
  virtual absl::StatusOr<std::string> ReadBody(const std::string& id) = 0;

  // Delivery entries whose next attempt is due at `now_ms` and that are neither expired
  // nor damaged, oldest first: in id order, i.e. creation order (not next-attempt order),
  // which the retry worker's drain relies on.
  virtual std::vector<DeadLetter> Due(int64_t now_ms) const = 0;
  // A page of Due(now_ms): only ids after `after_id` ("" = from the oldest), at most
  // `limit`, and no entry of a pipeline in `skip_pipelines`. The retry worker pages
  // through a backlog with it, so that a pass copies what it stores rather than every
  // waiting entry (during an outage the whole backlog stays due, pass after pass).
  virtual std::vector<DeadLetter> DuePage(int64_t now_ms, const std::string& after_id, size_t limit,
                                          const std::set<std::string>& skip_pipelines) const = 0;
  // Records a failed attempt (attempts+1, last error, next attempt time, expired flag).
  // FAILED_PRECONDITION for a damaged entry (its files are left as they are).
  virtual absl::Status RecordAttempt(const std::string& id, const std::string& error,
                                     int64_t next_attempt_ms, bool expired) = 0;
  // Removes an entry (delivered, redriven or purged). NOT_FOUND if absent.
  virtual absl::Status Remove(const std::string& id) = 0;

  struct Stats {
    int64_t depth = 0;
    int64_t delivery = 0;
    int64_t processing = 0;
    int64_t expired = 0;
    int64_t damaged = 0;    // entries with DeadLetter::damage set (counted in depth too)
    int64_t oldest_ms = 0;  // first_ms of the oldest entry, 0 if empty
    // Body bytes (uncompressed objects) of delivery entries the retry worker will still
    // store: neither expired nor damaged. The backlog on disk.
    int64_t delivery_backlog_bytes = 0;
  };
  virtual Stats GetStats() const = 0;
};

// The on-disk queue under `dir` (created if missing); existing entries are loaded.
// `min_free_bytes` (0: none): AddDelivery and AddProcessing refuse, RESOURCE_EXHAUSTED
// with nothing written, when the entry would leave the file system with less free space
// (CheckFreeSpace, service/platform/free_space.h). The server passes half of
// server.wal_min_free_mb: the queue shares data_dir with the WAL, and the space under
// the WAL's floor is what the WAL's own progress frames (seals, stores, hand-offs) need
// while Ingest is refused; without the floor an outage's hand-offs filled the disk to 0
// bytes. RecordAttempt and Remove are not refused: they do not grow the queue.
absl::StatusOr<std::unique_ptr<DeadLetterQueue>> OpenDeadLetterQueue(const std::string& dir,
                                                                     const Clock& clock,
                                                                     int64_t min_free_bytes = 0);

// The same queue kept in memory only (the server uses it when data_dir is empty, i.e.
// in-memory delivery for tests): nothing survives the process.
std::unique_ptr<DeadLetterQueue> NewInMemoryDeadLetterQueue(const Clock& clock);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DLQ_DEAD_LETTER_QUEUE_H_
