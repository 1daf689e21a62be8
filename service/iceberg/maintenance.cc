// IcebergTable's maintenance (README "Current-state tables", Maintenance):
//   - Compact, `lakehose table compact` of a current-state table: the pure choices are
//     core/iceberg/compaction.h's; this reads the current snapshot's manifests, delete
//     files and the data files worth rewriting, writes their live rows again, and commits
//     one `replace` snapshot;
//   - ExpireSnapshots, `lakehose table expire`: snapshots leave the metadata, a current-
//     state table's key index is checkpointed first, and the files no kept snapshot names
//     are listed.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/iceberg/compaction.h"
#include "core/iceberg/current_state.h"
#include "core/iceberg/manifest.h"
#include "core/iceberg/position_deletes.h"
#include "core/parquet/parquet_reader.h"
#include "service/iceberg/iceberg_table.h"
#include "service/iceberg/iceberg_table_internal.h"
#include "service/platform/log.h"

namespace lakehose {

using iceberg::KeyState;
using iceberg::ManifestEntry;
using iceberg::ManifestFile;
using iceberg::PositionDelete;
using iceberg::Snapshot;
using iceberg::TableMetadata;

namespace {

// A delete file of the current snapshot and its deletes.
struct LiveDeleteFile {
  ManifestEntry entry;  // inherited values resolved
  std::vector<PositionDelete> deletes;
};

// Rows of one partition and file schema waiting to be written into a new data file, and
// the key index entries that move with them (row i's key is moves[i]).
struct PendingFile {
  std::vector<ParquetColumn> columns;
  std::string iceberg_schema;  // the files' iceberg.schema key-value metadata
  std::vector<std::string> rows;
  std::vector<iceberg::IndexUpdate> moves;
};

}  // namespace

absl::StatusOr<IcebergTable::CompactResult> IcebergTable::Compact(const CompactOptions& o) {
  if (!current_mode())
    return absl::FailedPreconditionError(
        StrCat(catalog_.Name(),
               ": compaction rewrites a mode: current table (a change-log "
               "table has no deleted rows)"));
  if (options_.key_index == nullptr)
    return absl::FailedPreconditionError(StrCat(catalog_.Name(), ": no key index"));
  KeyIndex& index = *options_.key_index;
  absl::MutexLock one_at_a_time(&current_commit_mu_);
  CompactResult result;
  ASSIGN_OR_RETURN(std::optional<Loaded> loaded, LoadLatest());
  if (!loaded) return result;
  const std::shared_ptr<const Table> table = Remember(*std::move(loaded));
  const TableMetadata& m = table->loaded.metadata;
  // The index must say where every live row is now: the rows are found in it below.
  RETURN_IF_ERROR(CatchUpIndexTo(m));
  const Snapshot* current = m.CurrentSnapshot();
  if (current == nullptr) return result;

  auto read = [&](const std::string& uri) -> absl::StatusOr<std::string> {
    const std::optional<std::string> key = KeyOf(uri);
    if (!key) return absl::FailedPreconditionError(StrCat(uri, ": a file outside ", Uri("")));
    absl::StatusOr<std::string> bytes = sink_.Get(*key);
    if (!bytes.ok())
      return absl::Status(bytes.status().code(), StrCat(uri, ": ", StatusMessage(bytes.status())));
    return bytes;
  };
  ASSIGN_OR_RETURN(const std::string list_bytes, read(current->manifest_list));
  absl::StatusOr<std::vector<ManifestFile>> list = iceberg::DecodeManifestList(list_bytes);
  if (!list.ok())
    return absl::DataLossError(StrCat(current->manifest_list, ": ", StatusMessage(list.status())));
  std::vector<std::vector<ManifestEntry>> manifests;
  std::map<std::string, ManifestEntry> data;  // live data files by path, resolved
  std::vector<LiveDeleteFile> delete_files;
  for (const ManifestFile& mf : *list) {
    ASSIGN_OR_RETURN(const std::string bytes, read(mf.manifest_path));
    absl::StatusOr<std::vector<ManifestEntry>> entries = iceberg::DecodeManifest(bytes, nullptr);
    if (!entries.ok())
      return absl::DataLossError(StrCat(mf.manifest_path, ": ", StatusMessage(entries.status())));
    for (const ManifestEntry& e : *entries) {
      if (e.status == 2) continue;
      ManifestEntry r = iceberg::ResolveInherited(e, mf);
      if (r.data_file.content == 0) {
        data.emplace(r.data_file.file_path, std::move(r));
        continue;
      }
      ASSIGN_OR_RETURN(const std::string delete_bytes, read(r.data_file.file_path));
      absl::StatusOr<std::vector<PositionDelete>> deletes =
          iceberg::DecodePositionDeletes(delete_bytes);
      if (!deletes.ok())
        return absl::DataLossError(
            StrCat(r.data_file.file_path, ": ", StatusMessage(deletes.status())));
      delete_files.push_back({.entry = std::move(r), .deletes = *std::move(deletes)});
    }
    manifests.push_back(*std::move(entries));
  }
  // The deleted positions of each live data file: a position delete applies to a data file
  // of a data sequence number at most its own (the spec's rule).
  std::map<std::string, std::set<int64_t>> deleted;
  for (const LiveDeleteFile& f : delete_files)
    for (const PositionDelete& d : f.deletes)
      if (auto it = data.find(d.file_path);
          it != data.end() && *it->second.sequence_number <= *f.entry.sequence_number)
        deleted[d.file_path].insert(d.pos);

  // The files to rewrite, by partition (their live rows are written together).
  std::set<std::string> removed;
  std::map<std::string, std::vector<const ManifestEntry*>> by_partition;
  for (const auto& [path, e] : data) {
    const auto it = deleted.find(path);
    const int64_t gone = it == deleted.end() ? 0 : static_cast<int64_t>(it->second.size());
    if (!iceberg::CompactionWanted(e.data_file.record_count, gone, o.min_deleted_fraction))
      continue;
    removed.insert(path);
    by_partition[iceberg::EncodePartition(e.data_file.partition)].push_back(&e);
    result.data_files_rewritten += 1;
    result.rows_dropped += gone;
  }
  if (removed.empty()) return result;

  int64_t snapshot_id = 0;
  do {
    absl::MutexLock lock(&mu_);
    snapshot_id = static_cast<int64_t>(random64_() >> 11);  // below 2^53, as Commit's
  } while (snapshot_id == 0 || m.FindSnapshot(snapshot_id) != nullptr);
  const int64_t sequence_number = m.last_sequence_number + 1;
  const std::vector<std::string>& identifier = spec_.destination.iceberg->identifier;
  auto put = [&](const std::string& key, std::string_view bytes) -> absl::Status {
    if (o.dry_run) return absl::OkStatus();
    ObjectMeta meta;
    meta.content_type = "application/octet-stream";
    meta.if_none_match = true;
    absl::Status st = sink_.Put(key, bytes, meta);
    // The names are this run's own (its snapshot id is new): "exists" is a retried write.
    return absl::IsAlreadyExists(st) ? absl::OkStatus() : st;
  };

  // The new data files: each partition's live rows of the chosen files, by file schema.
  std::vector<ManifestEntry> added_data;
  std::vector<iceberg::IndexUpdate> updates;
  int file_number = 0;
  int64_t added_size = 0;  // data and delete files, as added-files-size counts them
  int64_t added_data_size = 0;
  auto write = [&](PendingFile& p, const std::vector<iceberg::PartitionValue>& partition,
                   const std::string& partition_path) -> absl::Status {
    if (p.rows.empty()) return absl::OkStatus();
    ParquetOptions po = spec_.destination.parquet;
    po.schema = p.columns;
    po.key_value_metadata.emplace_back("iceberg.schema", p.iceberg_schema);
    std::vector<std::string_view> lines(p.rows.begin(), p.rows.end());
    absl::StatusOr<ParquetFile> file = EncodeParquetFile(lines, po);
    if (!file.ok())
      return absl::InternalError(
          StrCat("compaction: the live rows of ", partition_path,
                 " could not be written again: ", StatusMessage(file.status())));
    const std::string key =
        TableKey(StrCat("data/", partition_path.empty() ? "" : partition_path + "/", spec_.name,
                        "-compact-", snapshot_id, "-", file_number++, ".parquet"));
    RETURN_IF_ERROR(put(key, file->bytes));
    ManifestEntry e;
    e.status = 1;  // ADDED: this snapshot's id and sequence number, inherited
    e.data_file = DataFileOf(*file, Uri(key), partition);
    for (size_t i = 0; i < p.moves.size(); ++i) {
      p.moves[i].state.file_path = e.data_file.file_path;
      p.moves[i].state.pos = static_cast<int64_t>(i);
      updates.push_back(std::move(p.moves[i]));
    }
    result.data_files_added += 1;
    result.rows_kept += file->rows;
    added_size += e.data_file.file_size_in_bytes;
    added_data_size += e.data_file.file_size_in_bytes;
    added_data.push_back(std::move(e));
    p.rows.clear();
    p.moves.clear();
    return absl::OkStatus();
  };
  for (const auto& [partition_bytes, files] : by_partition) {
    const std::vector<iceberg::PartitionValue>& partition = files.front()->data_file.partition;
    const std::string partition_path =
        iceberg::PartitionPath(*table->spec, *table->schema, partition);
    std::map<std::string, PendingFile> pending;  // by file schema
    for (const ManifestEntry* e : files) {
      const std::string& path = e->data_file.file_path;
      const std::set<int64_t>& gone = deleted[path];
      if (static_cast<int64_t>(gone.size()) >= e->data_file.record_count) continue;  // all gone
      ASSIGN_OR_RETURN(const std::string bytes, read(path));
      absl::StatusOr<ParquetContents> contents = ReadParquetFile(bytes);
      if (!contents.ok())
        return absl::DataLossError(StrCat(path, ": ", StatusMessage(contents.status())));
      std::string schema_kv;
      for (const auto& [k, v] : contents->key_value_metadata)
        if (k == "iceberg.schema") schema_kv = v;
      std::string signature = schema_kv;
      for (const ParquetColumn& c : contents->columns) StrAppend(&signature, "\x1f", c.name);
      PendingFile& p = pending[signature];
      if (p.columns.empty()) {
        p.columns = contents->columns;
        p.iceberg_schema = schema_kv;
      }
      for (size_t pos = 0; pos < contents->rows.size(); ++pos) {
        if (gone.count(static_cast<int64_t>(pos))) continue;
        std::string& row = contents->rows[pos];
        absl::StatusOr<std::string> key = iceberg::DocumentKeyText(row, identifier);
        if (!key.ok())
          return absl::DataLossError(
              StrCat(path, ": row ", pos, ": ", StatusMessage(key.status())));
        ASSIGN_OR_RETURN(std::optional<KeyState> state, index.Get(*key));
        // A live row is its key's row in the index: anything else means the index and
        // the table disagree, and moving the row would make it worse.
        if (!state || !state->live || state->file_path != path ||
            state->pos != static_cast<int64_t>(pos))
          return absl::FailedPreconditionError(StrCat(
              path, ": row ", pos, " is live in the table but the key index in ", index.dir(),
              " does not point to it; rebuild it with `lakehose table reindex`"));
        p.moves.push_back({.key = *std::move(key), .state = *std::move(state)});
        p.rows.push_back(std::move(row));
        if (static_cast<int64_t>(p.rows.size()) >= o.max_rows_per_file)
          RETURN_IF_ERROR(write(p, partition, partition_path));
      }
    }
    for (auto& [signature, p] : pending) RETURN_IF_ERROR(write(p, partition, partition_path));
  }
  result.keys_moved = static_cast<int64_t>(updates.size());

  // The delete files: those pointing into removed files go; the deletes they hold for
  // files that stay are written again.
  std::vector<ManifestEntry> added_deletes;
  int64_t removed_delete_rows = 0, added_delete_rows = 0, removed_delete_size = 0;
  ParquetOptions delete_options = spec_.destination.parquet;
  delete_options.schema.clear();
  delete_options.key_value_metadata.clear();
  // The deletes they hold for files that stay, one new file per partition (however many
  // old files they came from: a reader opens each delete file).
  std::map<std::string,
           std::pair<std::vector<iceberg::PartitionValue>, std::vector<PositionDelete>>>
      remaining_by_partition;
  for (const LiveDeleteFile& f : delete_files) {
    std::vector<PositionDelete> remaining;
    for (const PositionDelete& d : f.deletes)
      if (!removed.count(d.file_path)) remaining.push_back(d);
    if (remaining.size() == f.deletes.size()) continue;
    removed.insert(f.entry.data_file.file_path);
    result.delete_files_removed += 1;
    result.position_deletes_removed += static_cast<int64_t>(f.deletes.size() - remaining.size());
    removed_delete_rows += f.entry.data_file.record_count;
    removed_delete_size += f.entry.data_file.file_size_in_bytes;
    if (remaining.empty()) continue;
    auto& [values, deletes] =
        remaining_by_partition[iceberg::EncodePartition(f.entry.data_file.partition)];
    values = f.entry.data_file.partition;
    deletes.insert(deletes.end(), remaining.begin(), remaining.end());
  }
  for (auto& [bytes, group] : remaining_by_partition) {
    auto& [values, deletes] = group;
    ASSIGN_OR_RETURN(iceberg::PositionDeleteFile file,
                     iceberg::EncodePositionDeletes(std::move(deletes), delete_options));
    const std::string path = iceberg::PartitionPath(*table->spec, *table->schema, values);
    const std::string key =
        TableKey(StrCat("data/", path.empty() ? "" : path + "/", spec_.name, "-deletes-",
                        snapshot_id, "-c", result.delete_files_added, ".parquet"));
    RETURN_IF_ERROR(put(key, file.bytes));
    ManifestEntry e;
    e.status = 1;
    e.data_file = std::move(file.data_file);
    e.data_file.file_path = Uri(key);
    e.data_file.partition = values;
    added_delete_rows += e.data_file.record_count;
    added_size += e.data_file.file_size_in_bytes;
    result.delete_files_added += 1;
    added_deletes.push_back(std::move(e));
  }
  if (o.dry_run) return result;

  // The manifests: those holding a removed file rewritten, the others kept as they are,
  // then the new data and delete files'.
  std::vector<ManifestFile> out_list;
  int64_t removed_data_size = 0;
  for (size_t i = 0; i < list->size(); ++i) {
    const ManifestFile& mf = (*list)[i];
    std::optional<iceberg::RewrittenManifest> rw =
        iceberg::RewriteManifest(mf, manifests[i], removed, snapshot_id, sequence_number);
    if (!rw) {
      out_list.push_back(mf);
      continue;
    }
    for (const ManifestEntry& e : rw->entries)
      if (e.status == 2 && e.data_file.content == 0)
        removed_data_size += e.data_file.file_size_in_bytes;
    ASSIGN_OR_RETURN(ManifestFile stored, PutManifest(*table, mf.content, rw->entries));
    ManifestFile entry = std::move(rw->list_entry);
    entry.manifest_path = std::move(stored.manifest_path);
    entry.manifest_length = stored.manifest_length;
    entry.partitions = std::move(stored.partitions);
    out_list.push_back(std::move(entry));
  }
  for (auto* added : {&added_data, &added_deletes}) {
    if (added->empty()) continue;
    const int content = added == &added_deletes ? 1 : 0;
    ASSIGN_OR_RETURN(ManifestFile stored, PutManifest(*table, content, *added));
    stored.sequence_number = sequence_number;
    stored.min_sequence_number = sequence_number;
    stored.added_snapshot_id = snapshot_id;
    stored.added_files_count = static_cast<int>(added->size());
    for (const ManifestEntry& e : *added) stored.added_rows_count += e.data_file.record_count;
    out_list.push_back(std::move(stored));
  }
  std::string delta_uri = std::string(kNoIndexDelta);
  if (!updates.empty()) {
    const std::string key = MetadataKey(StrCat("index-delta-", snapshot_id, ".bin"));
    RETURN_IF_ERROR(put(key, iceberg::EncodeIndexDelta(updates)));
    delta_uri = Uri(key);
  }
  absl::StatusOr<std::string> new_list = iceberg::EncodeManifestList(
      out_list, snapshot_id, current->snapshot_id, sequence_number, RandomHex(8).substr(0, 16),
      iceberg::AvroContainerOptions::Codec::kDeflate);
  if (!new_list.ok()) return new_list.status();
  const std::string list_key =
      MetadataKey(StrCat("snap-", snapshot_id, "-1-", RandomHex(16), ".avro"));
  RETURN_IF_ERROR(put(list_key, *new_list));

  // The summary: Iceberg's counts of a rewrite, totals on from the parent's.
  auto total = [&](const char* key, int64_t change) {
    int64_t before = 0;
    if (std::optional<std::string> v = current->SummaryValue(key)) {
      uint64_t n = 0;
      if (ParseUint64(*v, &n)) before = static_cast<int64_t>(n);
    }
    return StrCat(std::max<int64_t>(0, before + change));
  };
  const int64_t deleted_records = result.rows_kept + result.rows_dropped;
  Snapshot snap;
  snap.snapshot_id = snapshot_id;
  snap.parent_snapshot_id = current->snapshot_id;
  snap.sequence_number = sequence_number;
  snap.timestamp_ms = clock_.NowMillis();
  snap.schema_id = m.current_schema_id;
  snap.manifest_list = Uri(list_key);
  snap.summary = {
      {"operation", "replace"},
      {"added-data-files", StrCat(result.data_files_added)},
      {"deleted-data-files", StrCat(result.data_files_rewritten)},
      {"added-records", StrCat(result.rows_kept)},
      {"deleted-records", StrCat(deleted_records)},
      {"added-files-size", StrCat(added_size)},
      {"removed-files-size", StrCat(removed_data_size + removed_delete_size)},
      {"added-delete-files", StrCat(result.delete_files_added)},
      {"added-position-delete-files", StrCat(result.delete_files_added)},
      {"removed-delete-files", StrCat(result.delete_files_removed)},
      {"removed-position-delete-files", StrCat(result.delete_files_removed)},
      {"added-position-deletes", StrCat(added_delete_rows)},
      {"removed-position-deletes", StrCat(removed_delete_rows)},
      {"changed-partition-count", StrCat(by_partition.size())},
      {"total-records", total("total-records", result.rows_kept - deleted_records)},
      // Data files only, as the commits' totals count them.
      {"total-files-size", total("total-files-size", added_data_size - removed_data_size)},
      {"total-data-files",
       total("total-data-files", result.data_files_added - result.data_files_rewritten)},
      {"total-delete-files",
       total("total-delete-files", result.delete_files_added - result.delete_files_removed)},
      {"total-position-deletes",
       total("total-position-deletes", added_delete_rows - removed_delete_rows)},
      {"total-equality-deletes", "0"},
      {std::string(kSummaryWriter), options_.writer_id},
      {std::string(kSummaryPipeline), spec_.name},
      {std::string(kSummaryIndexDelta), delta_uri},
      {"lakehose.compaction.min-deleted-fraction", StrCat(o.min_deleted_fraction)}};
  catalog::TableChange change;
  change.snapshot = std::move(snap);
  absl::Status st = catalog_.Commit(table->loaded, change);
  if (absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) {
    // No answer: the table says whether the snapshot is in it.
    absl::StatusOr<std::optional<Loaded>> after = LoadLatest();
    if (after.ok() && *after && (*after)->metadata.FindSnapshot(snapshot_id) != nullptr)
      st = absl::OkStatus();
  }
  if (absl::IsAlreadyExists(st))
    return absl::UnavailableError(StrCat(catalog_.Name(),
                                         ": another writer committed while compacting (is a server "
                                         "running for this table?); nothing of this run is in the "
                                         "table: run it again"));
  if (!st.ok())
    return absl::Status(st.code(),
                        StrCat("compaction of ", catalog_.Name(), ": ", StatusMessage(st)));
  RETURN_IF_ERROR(index.Apply(updates, snapshot_id));
  result.snapshot_id = snapshot_id;
  Log(LogLevel::kInfo, "iceberg.compacted",
      {{"pipeline", spec_.name},
       {"snapshot_id", StrCat(snapshot_id)},
       {"data_files_rewritten", StrCat(result.data_files_rewritten)},
       {"data_files_added", StrCat(result.data_files_added)},
       {"rows_dropped", StrCat(result.rows_dropped)},
       {"delete_files_removed", StrCat(result.delete_files_removed)}});
  return result;
}

absl::StatusOr<IcebergTable::ExpireResult> IcebergTable::ExpireSnapshots(const ExpireOptions& o) {
  const bool current_mode = this->current_mode();
  if (current_mode && options_.key_index == nullptr)
    return absl::FailedPreconditionError(StrCat(catalog_.Name(), ": no key index"));
  absl::MutexLock one_at_a_time(&current_commit_mu_);
  ExpireResult result;
  ASSIGN_OR_RETURN(std::optional<Loaded> loaded, LoadLatest());
  if (!loaded) return result;
  const std::shared_ptr<const Table> table = Remember(*std::move(loaded));
  const TableMetadata& m = table->loaded.metadata;
  const Snapshot* current = m.CurrentSnapshot();
  if (current == nullptr) return result;
  // The checkpoint must be the table's state as of the current snapshot.
  if (current_mode) RETURN_IF_ERROR(CatchUpIndexTo(m));

  // Kept: the newest retain_last of the current snapshot's history, and every snapshot
  // at or after the cutoff.
  std::set<int64_t> keep;
  const Snapshot* s = current;
  for (int n = 0;
       s != nullptr && n < std::max(1, o.retain_last) && n <= static_cast<int>(m.snapshots.size());
       ++n) {
    keep.insert(s->snapshot_id);
    s = s->parent_snapshot_id ? m.FindSnapshot(*s->parent_snapshot_id) : nullptr;
  }
  std::vector<int64_t> expire;
  for (const Snapshot& snap : m.snapshots) {
    if (snap.timestamp_ms >= o.older_than_ms) keep.insert(snap.snapshot_id);
    if (!keep.count(snap.snapshot_id)) expire.push_back(snap.snapshot_id);
  }
  result.snapshots_kept = static_cast<int64_t>(keep.size());
  result.snapshots_expired = static_cast<int64_t>(expire.size());
  if (expire.empty()) return result;

  // The files each side names (manifests read once, however many snapshots list them).
  std::map<std::string, std::vector<ManifestEntry>> manifest_cache;
  // A file an expired snapshot names that is already gone (an earlier cleanup) names
  // nothing more; one a kept snapshot needs is an error (nothing may be listed then).
  auto files_of = [&](const Snapshot& snap, bool kept,
                      std::map<std::string, int64_t>* out) -> absl::Status {
    (*out)[snap.manifest_list] += 0;
    if (std::optional<std::string> d = snap.SummaryValue(std::string(kSummaryIndexDelta));
        d && *d != kNoIndexDelta)
      (*out)[*d] += 0;
    const std::optional<std::string> list_key = KeyOf(snap.manifest_list);
    if (!list_key)
      return absl::FailedPreconditionError(
          StrCat(snap.manifest_list, ": a manifest list outside ", Uri("")));
    absl::StatusOr<std::string> bytes = sink_.Get(*list_key);
    if (!kept && absl::IsNotFound(bytes.status())) return absl::OkStatus();
    if (!bytes.ok())
      return absl::Status(bytes.status().code(),
                          StrCat(snap.manifest_list, ": ", StatusMessage(bytes.status())));
    absl::StatusOr<std::vector<ManifestFile>> list = iceberg::DecodeManifestList(*bytes);
    if (!list.ok())
      return absl::DataLossError(StrCat(snap.manifest_list, ": ", StatusMessage(list.status())));
    for (const ManifestFile& mf : *list) {
      (*out)[mf.manifest_path] = mf.manifest_length;
      auto it = manifest_cache.find(mf.manifest_path);
      if (it == manifest_cache.end()) {
        const std::optional<std::string> key = KeyOf(mf.manifest_path);
        absl::StatusOr<std::string> mb =
            key ? sink_.Get(*key)
                : absl::StatusOr<std::string>(absl::FailedPreconditionError("outside the table"));
        if (!kept && absl::IsNotFound(mb.status())) continue;
        if (!mb.ok())
          return absl::Status(mb.status().code(),
                              StrCat(mf.manifest_path, ": ", StatusMessage(mb.status())));
        absl::StatusOr<std::vector<ManifestEntry>> entries = iceberg::DecodeManifest(*mb, nullptr);
        if (!entries.ok())
          return absl::DataLossError(
              StrCat(mf.manifest_path, ": ", StatusMessage(entries.status())));
        it = manifest_cache.emplace(mf.manifest_path, *std::move(entries)).first;
      }
      for (const ManifestEntry& e : it->second)
        if (e.status != 2) (*out)[e.data_file.file_path] = e.data_file.file_size_in_bytes;
    }
    return absl::OkStatus();
  };
  std::map<std::string, int64_t> kept_files, expired_files;
  // Data and delete files by the snapshots they are live in: a file only DELETED in an
  // expired snapshot's manifests (removed by an earlier snapshot, carried over in a
  // rewritten manifest) was live in an earlier one, already expired or expiring now.
  for (const Snapshot& snap : m.snapshots)
    RETURN_IF_ERROR(keep.count(snap.snapshot_id) ? files_of(snap, true, &kept_files)
                                                 : files_of(snap, false, &expired_files));

  catalog::TableChange change;
  change.remove_snapshots = expire;
  if (current_mode) {
    ASSIGN_OR_RETURN(KeyIndex::Snapshot all, options_.key_index->ReadAll());
    if (all.applied != current->snapshot_id)
      return absl::InternalError(StrCat("the key index is at snapshot ", all.applied.value_or(0),
                                        ", not the current ", current->snapshot_id));
    const std::string key = MetadataKey(StrCat("index-checkpoint-", current->snapshot_id, ".bin"));
    result.checkpoint = Uri(key);
    if (!o.dry_run) {
      ObjectMeta meta;
      meta.content_type = "application/octet-stream";
      absl::Status st = sink_.Put(key, iceberg::EncodeIndexDelta(all.entries), meta);
      RETURN_IF_ERROR(st);
    }
    kept_files[result.checkpoint] += 0;
    // The checkpoint it replaces, if any, is no longer needed.
    for (const auto& [k, v] : m.properties)
      if (k == kPropertyCheckpoint && v != result.checkpoint) expired_files[v] += 0;
    change.set_properties = {
        {std::string(kPropertyCheckpoint), result.checkpoint},
        {std::string(kPropertyCheckpointSnapshot), StrCat(current->snapshot_id)}};
  }
  for (const auto& [uri, size] : expired_files) {
    if (kept_files.count(uri)) continue;
    result.unreferenced.push_back(uri);
    result.unreferenced_bytes += size;
  }
  if (o.dry_run) return result;

  absl::Status st = catalog_.Commit(table->loaded, change);
  if (absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) {
    // No answer: the table says whether the snapshots are gone.
    absl::StatusOr<std::optional<Loaded>> after = LoadLatest();
    if (after.ok() && *after && (*after)->metadata.FindSnapshot(expire.front()) == nullptr)
      st = absl::OkStatus();
  }
  if (absl::IsAlreadyExists(st))
    return absl::UnavailableError(
        StrCat(catalog_.Name(),
               ": another writer committed while expiring snapshots; nothing "
               "was expired: run it again"));
  if (!st.ok())
    return absl::Status(st.code(),
                        StrCat("expiring snapshots of ", catalog_.Name(), ": ", StatusMessage(st)));
  Log(LogLevel::kInfo, "iceberg.snapshots_expired",
      {{"pipeline", spec_.name},
       {"expired", StrCat(result.snapshots_expired)},
       {"kept", StrCat(result.snapshots_kept)},
       {"unreferenced_files", StrCat(result.unreferenced.size())}});
  return result;
}

}  // namespace lakehose
