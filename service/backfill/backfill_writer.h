// The writing half of `lakehose backfill`: each unit of the source (a data file of an
// export, a page of a Scan segment) through the pipeline's transform into objects with
// deterministic names (core/backfill/unit_objects.h), stored with If-None-Match in the
// pipeline's destination; for a format: iceberg pipeline the objects become data files
// of its table (the TableWriter) and a Commit makes the units written since the last one
// a single snapshot. And the progress file a run appends to as units finish.
//
// Exactly once. An object a killed run stored answers ALREADY_EXISTS and is counted as
// "existing" (its bytes are the same: same unit, same config). A table's commit skips
// the objects a snapshot of this writer holds (IcebergTable reads the table), so units
// stored and committed before a kill, but not yet in the progress file, are not
// committed twice. The progress file only lets a run skip what is done.
//
//   BackfillWriter writer(spec, sink, table, {.writer_id = ..., .random_string = ...});
//   for each unit: RETURN_IF_ERROR(writer.WriteUnit(n, records, "data file 3"));
//                  every few units: RETURN_IF_ERROR(writer.Commit()); progress.Append(...)
//
// Thread-safe: WriteUnit may run on several threads at once (one transformer each);
// Commit waits for none of them (it commits what was written before it was called).
#ifndef LAKEHOSE_SERVICE_BACKFILL_BACKFILL_WRITER_H_
#define LAKEHOSE_SERVICE_BACKFILL_BACKFILL_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/backfill/progress.h"
#include "core/backfill/unit_objects.h"
#include "core/config/pipeline.h"
#include "core/transform/transformer.h"
#include "service/delivery/object_sink.h"
#include "service/delivery/table_writer.h"

namespace lakehose {

struct BackfillStats {
  int64_t units = 0;             // written by this run
  int64_t records_ok = 0;        // documents
  int64_t records_failed = 0;    // error documents (PROCESSING_FAILED)
  int64_t records_dropped = 0;   // filtered out by the pipeline
  int64_t records_rejected = 0;  // a table's column could not hold them: stored apart
  int64_t objects_stored = 0;    // objects (a table's data files) this run stored
  int64_t objects_existing = 0;  // found stored by an earlier run: not stored again
  int64_t bytes_stored = 0;
  int64_t commits = 0;  // table snapshots this run's Commit calls made or found
};

class BackfillWriter {
 public:
  struct Options {
    std::string writer_id;      // SanitizeWriterId'd: names the objects (and table commits)
    std::string random_string;  // !{firehose:random-string}, fixed per source
  };
  // `table`: the pipeline's TableWriter when it is format: iceberg, else null. All
  // borrowed.
  BackfillWriter(const PipelineSpec& spec, ObjectSink& sink, TableWriter* table, Options options);

  // Transforms and stores unit `unit`'s records (`what` names it in errors: "data file 3
  // (data/….json.gz)"). A table's data files are stored and kept for the next Commit.
  // Errors name the unit and the object.
  absl::Status WriteUnit(uint64_t unit, const std::vector<backfill::UnitRecord>& records,
                         const std::string& what);

  // A table: makes everything written so far one snapshot (or finds an earlier commit
  // holds it). No-op for other formats or when nothing is pending.
  absl::Status Commit();

  BackfillStats Stats() const;

 private:
  // Stores `body` under `key` with If-None-Match; counts it stored or existing.
  absl::Status Store(const std::string& key, std::string_view body, const ObjectMeta& meta);

  const PipelineSpec& spec_;
  ObjectSink& sink_;
  TableWriter* const table_;
  const Options options_;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<RecordTransformer>> idle_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<TableObject>> pending_ ABSL_GUARDED_BY(mu_);
  BackfillStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Mutex commit_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one Commit at a time
};

// A backfill's progress file (core/backfill/progress.h) on local disk.
class ProgressFile {
 public:
  // Opens `path`: when it exists, reads what earlier runs did into *earlier after checking
  // it is this backfill's (same source, pipeline and writer: FAILED_PRECONDITION naming
  // both otherwise); when not, creates it with `header` (fsynced, and its directory).
  // *earlier's header is the file's (a resumed Scan keeps its first run's start time).
  static absl::StatusOr<std::unique_ptr<ProgressFile>> Open(const std::string& path,
                                                            const backfill::ProgressHeader& header,
                                                            backfill::Progress* earlier);
  ~ProgressFile();

  // Appends whole lines and fsyncs them. Thread-safe.
  absl::Status Append(std::string_view lines);
  const std::string& path() const { return path_; }

 private:
  ProgressFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  const std::string path_;
  absl::Mutex mu_;
  const int fd_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_BACKFILL_BACKFILL_WRITER_H_
