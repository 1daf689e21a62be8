// IcebergTable: one pipeline's Apache Iceberg v2 table. The TableWriter the delivery
// engine uses for a `format: iceberg` pipeline: it writes data files, manifests and
// manifest lists through the pipeline's ObjectSink and commits through its catalog
// (service/catalog: the file-system catalog on the destination, by default, or a REST
// catalog, whose table location the sink is then bound to).
//
// Layout, under <destination root>/<namespace>/<name>/ (a REST catalog: under the
// location it gives the table, which also keeps the metadata files):
//   data/<partition path>/<pipeline>-<writer>-<sequence>-<crc>.parquet data files: one
//                                                                     per partition of a
//                                                                     sealed object
//   metadata/v<N>.metadata.json                                       table metadata
//   metadata/version-hint.text                                        N, for readers
//   metadata/<uuid>-m0.avro, metadata/snap-<id>-<attempt>-<uuid>.avro  manifests, lists
//
// Commits. The catalog replaces the table's current metadata atomically (file-system:
// v<N+1> created without replacing; REST: requirements the catalog checks): when another
// writer committed first (ALREADY_EXISTS), the commit reloads, rebases (a new manifest
// list over the new parent) and tries again; when the outcome is unknown (no answer, a
// 5xx), it reloads and looks for its own objects before deciding. Nothing is deleted,
// ever: a file whose outcome is unknown may be part of the table.
//
// Exactly once. Every snapshot's summary names the writer (`lakehose.writer-id`), the
// pipeline and the objects it holds (`lakehose.objects`: their sequence numbers, the
// durable names the WAL gives them). Before committing, Commit reads the table and leaves
// out the objects a snapshot of this writer already holds. Schema changes are committed
// (as metadata versions without a snapshot) before a file uses the new field ids, so two
// writers never give one id two meanings.
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_ICEBERG_ICEBERG_TABLE_H_
#define LAKEHOSE_SERVICE_ICEBERG_ICEBERG_TABLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/config/pipeline.h"
#include "core/iceberg/types.h"
#include "service/catalog/catalog.h"
#include "service/catalog/filesystem_catalog.h"
#include "service/delivery/object_sink.h"
#include "service/delivery/table_writer.h"
#include "service/iceberg/key_index.h"
#include "service/platform/clock.h"

namespace lakehose {

// What a table's writers count (metrics; tests).
struct IcebergTableStats {
  int64_t commits = 0;           // snapshots this writer added
  int64_t commit_conflicts = 0;  // v<N+1> existed: reloaded and retried
  int64_t commit_failures = 0;   // Commit calls that returned an error
  int64_t schema_updates = 0;    // schema versions this writer added
  int64_t files_committed = 0;
  int64_t records_committed = 0;
  int64_t objects_already_committed = 0;  // found in the table: not committed again
  int64_t last_commit_ms = 0;             // Clock time of the last commit (0: none yet)
  int64_t snapshots = 0;                  // in the table, as last read
  // mode: current (README "Current-state tables"): changes that became a key's row or
  // removed it, changes older than or as old as what the key reflected (dropped: replays,
  // duplicates), changes a newer one of the same commit replaced; position deletes and
  // delete files committed; index deltas replayed into the key index (a crash between a
  // commit and the index's update, or a rebuilt index).
  int64_t changes_applied = 0;
  int64_t changes_stale = 0;
  int64_t changes_superseded = 0;
  int64_t position_deletes = 0;
  int64_t delete_files = 0;
  int64_t index_deltas_replayed = 0;
  // The snapshot of the key index checkpoint a new index started from (0: none).
  int64_t index_checkpoint_loaded = 0;
};

class IcebergTable : public TableWriter {
 public:
  struct Options {
    std::string writer_id = "lakehose";
    const Clock* clock = nullptr;  // default RealClock::Get()
    // Random bits for snapshot ids, file names and Avro sync markers. Default: a PRNG
    // seeded from std::random_device.
    std::function<uint64_t()> random64;
    // Tries of one Commit (conflicts and transient errors), with this backoff between.
    int max_commit_attempts = 10;
    absl::Duration retry_base = absl::Milliseconds(50);
    absl::Duration retry_max = absl::Seconds(2);
    std::function<void(absl::Duration)> sleep;  // default: the thread sleeps
    // Added to every snapshot's summary this writer commits (e.g. a backfill's source:
    // lakehose.backfill.source), after lakehose's own keys.
    std::vector<std::pair<std::string, std::string>> snapshot_properties;
    // mode: current: the table's key index (borrowed; required: Commit refuses without).
    KeyIndex* key_index = nullptr;
  };

  // `spec` must be a format: iceberg pipeline; `sink` its destination. Both borrowed. The
  // table is in a file-system catalog on `sink`.
  IcebergTable(const PipelineSpec& spec, ObjectSink& sink, Options options);
  // The table in `catalog` (borrowed); `sink` holds its files (keys relative to the
  // table's location when the catalog places it: a LocationSink).
  IcebergTable(const PipelineSpec& spec, ObjectSink& sink, IcebergCatalog& catalog,
               Options options);

  absl::StatusOr<TableObject> Encode(const std::string& object_key, std::string_view body,
                                     RejectedRecords* rejected) override;
  absl::Status Commit(const std::vector<const TableObject*>& objects) override;

  // The table as it is now (reads the catalog); nullopt when it does not exist yet.
  using Loaded = LoadedTable;
  absl::StatusOr<std::optional<Loaded>> Load();

  // mode: current: brings the key index up to the table's current snapshot, replaying the
  // index deltas of the snapshots it has not applied (all of them into a new index: how
  // `lakehose table reindex` rebuilds one). FAILED_PRECONDITION when a snapshot after the
  // index's has no delta (another writer committed to the table).
  absl::Status CatchUpIndex();
  bool current_mode() const {
    return spec_.destination.iceberg->mode == IcebergSpec::Mode::kCurrent;
  }

  // mode: current: `lakehose table compact` (service/iceberg/maintenance.cc). Rewrites the
  // current snapshot's data files whose deleted fraction is at least
  // min_deleted_fraction into new files of their live rows, in one `replace` snapshot
  // that also removes the delete files that only pointed into them (and replaces those
  // that partly did by files of the remaining deletes), and moves the key index to the
  // rows' new positions (an index delta, as a commit's). Run with the server stopped:
  // the index is this process's. FAILED_PRECONDITION for a change-log table, or a live
  // row the index does not know there (rebuild it with `lakehose table reindex`);
  // UNAVAILABLE when another writer committed meanwhile (nothing of this run is in the
  // table; run it again).
  struct CompactOptions {
    double min_deleted_fraction = 0.2;
    int64_t max_rows_per_file = 1'000'000;  // a partition's live rows beyond: more files
    bool dry_run = false;                   // plan and count, write nothing
  };
  struct CompactResult {
    int64_t snapshot_id = 0;  // 0: nothing to do (or a dry run)
    int64_t data_files_rewritten = 0, data_files_added = 0;
    int64_t rows_kept = 0, rows_dropped = 0;
    int64_t delete_files_removed = 0, delete_files_added = 0;
    int64_t position_deletes_removed = 0;
    int64_t keys_moved = 0;
  };
  absl::StatusOr<CompactResult> Compact(const CompactOptions& options);

  // `lakehose table expire` (maintenance.cc): removes from the table's metadata the
  // snapshots older than `older_than_ms` (Clock time), except the newest `retain_last`
  // of the current snapshot's history (the current one always stays). A mode: current
  // table first gets a checkpoint of its key index as of the current snapshot
  // (metadata/index-checkpoint-<snapshot>.bin, named by the table properties
  // lakehose.index-checkpoint and lakehose.index-checkpoint-snapshot), from which a new
  // index starts (CatchUpIndex) once the older snapshots' deltas are gone. No file is
  // deleted: the files only the expired snapshots named are listed. UNAVAILABLE when
  // another writer committed meanwhile (run it again).
  struct ExpireOptions {
    int64_t older_than_ms = 0;
    int retain_last = 1;
    bool dry_run = false;
  };
  struct ExpireResult {
    int64_t snapshots_expired = 0, snapshots_kept = 0;
    std::string checkpoint;  // its URI (mode current, when snapshots expired)
    // Files named by the expired snapshots and by no kept one (manifest lists,
    // manifests, data and delete files, index deltas): what a user may delete. Bytes
    // of those whose size the metadata gives (manifests, data and delete files).
    std::vector<std::string> unreferenced;
    int64_t unreferenced_bytes = 0;
  };
  absl::StatusOr<ExpireResult> ExpireSnapshots(const ExpireOptions& options);

  IcebergTableStats Stats() const;
  const std::string& pipeline() const { return spec_.name; }
  // "<namespace>/<name>" relative to the destination root ("" in a REST catalog), and
  // the table for messages (its location, or its name in the REST catalog).
  const std::string& relative_location() const { return relative_location_; }
  std::string location() const { return catalog_.Name(); }
  // The data and metadata files' URIs and keys (public for `lakehose table inspect`).
  std::string FileUri(const std::string& key) const { return Uri(key); }
  std::optional<std::string> FileKey(std::string_view uri) const { return KeyOf(uri); }

  // The identity of an object in a snapshot's lakehose.objects: its sequence number,
  // with "r" for the records rejected from it (RejectedRecordsKey); nullopt for a key
  // that is not a sealed object's.
  static std::optional<std::string> ObjectIdentity(std::string_view object_key);

 private:
  struct Table;          // the current metadata and what is derived from it
  struct CommitData;     // a TableObject's data files (and mode current: its changes)
  struct CurrentCommit;  // mode current: one commit try's deletes and index updates
  IcebergTable(const PipelineSpec& spec, ObjectSink& sink, IcebergCatalog* catalog,
               Options options);
  absl::StatusOr<std::optional<Loaded>> LoadLatest();
  // Encode against the table as last read; *mismatch set when a record did not fit a
  // column (Encode then reads the table again and tries once more).
  absl::StatusOr<TableObject> EncodeOnce(const std::string& object_key, std::string_view body,
                                         RejectedRecords* rejected, bool* mismatch);
  // The table, created (v1) when it does not exist, with the columns of `first_lines`
  // (the records about to be written; may be null).
  absl::StatusOr<std::shared_ptr<const Table>> EnsureTable(
      const std::vector<std::string_view>* first_lines = nullptr);
  absl::StatusOr<std::shared_ptr<const Table>> CreateTable(
      const std::vector<ParquetColumn>& inferred,
      const std::vector<std::vector<std::string>>& all_null);
  std::shared_ptr<const Table> Remember(Loaded loaded);
  // Commits a schema that adds `inferred`'s new columns, unless the table has them by now.
  absl::StatusOr<std::shared_ptr<const Table>> EvolveSchema(
      const std::vector<ParquetColumn>& inferred,
      const std::vector<std::vector<std::string>>& all_null);
  // The columns a file declares for `inferred`: the table's types and field ids, new
  // columns committed to the table first (*table is then the new version).
  absl::StatusOr<std::vector<ParquetColumn>> ResolveColumns(
      const std::vector<ParquetColumn>& inferred,
      const std::vector<std::vector<std::string>>& all_null, std::shared_ptr<const Table>* table);
  // The key of `sub` ("data/...", "metadata/...") under the table's location.
  std::string TableKey(std::string_view sub) const;
  std::string MetadataKey(std::string_view name) const;
  std::string CodecName() const;  // write.parquet.compression-codec of the pipeline's codec
  // Where `key` is, as the table's metadata names it (TableFileUri).
  std::string Uri(const std::string& key) const;
  // The key of a path the table's metadata names (under the destination's root), or
  // nullopt for a path elsewhere.
  std::optional<std::string> KeyOf(std::string_view uri) const;
  absl::Status CatchUpIndexTo(const iceberg::TableMetadata& metadata);
  // Plans `todo`'s changes against the index, stores the position delete files and the
  // index delta for snapshot `snapshot_id` of `table`.
  absl::StatusOr<CurrentCommit> PrepareCurrent(const std::vector<const CommitData*>& todo,
                                               const Table& table, int64_t snapshot_id);
  // Stores a manifest of `entries` (content 0 data, 1 deletes) under metadata/: its list
  // entry with path, length, content, spec and partition summaries (the rest the caller's).
  absl::StatusOr<iceberg::ManifestFile> PutManifest(
      const Table& table, int content, const std::vector<iceberg::ManifestEntry>& entries);
  std::string RandomHex(int bytes);
  void Backoff(int attempt);

  const PipelineSpec& spec_;
  ObjectSink& sink_;
  const Options options_;
  const Clock& clock_;
  const std::string relative_location_;
  const std::unique_ptr<IcebergCatalog> own_catalog_;  // file-system, when none was given
  IcebergCatalog& catalog_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Table> table_ ABSL_GUARDED_BY(mu_);
  IcebergTableStats stats_ ABSL_GUARDED_BY(mu_);
  std::function<uint64_t()> random64_ ABSL_GUARDED_BY(mu_);
  absl::Mutex schema_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one schema change at a time
  // mode: current: one commit at a time (the committer's and the dead-letter retry
  // worker's), so that no commit plans against the index while another's update of it
  // is still to come.
  absl::Mutex current_commit_mu_ ABSL_ACQUIRED_BEFORE(schema_mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_ICEBERG_ICEBERG_TABLE_H_
