// `lakehose table inspect`: what a format: iceberg pipeline's table holds, read from its
// destination with the pipeline's config (no server): the current version and snapshot,
// its summary, the schema and partition spec, every snapshot, and the live data files
// of the current snapshot with their row counts.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/destination.h"
#include "client/cli/flags.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/iceberg/manifest.h"
#include "core/iceberg/metadata_json.h"
#include "service/config/config_file.h"
#include "service/iceberg/iceberg_table.h"
#include "service/iceberg/key_index.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose table inspect --config FILE --pipeline NAME [--json]
       lakehose table reindex --config FILE --pipeline NAME
       lakehose table compact --config FILE --pipeline NAME [--min-deleted FRACTION]
                              [--max-rows N] [--dry-run] [--json]
       lakehose table expire --config FILE --pipeline NAME [--older-than AGE]
                             [--retain-last N] [--list] [--dry-run] [--json]

Reads the Iceberg table of a `format: iceberg` pipeline from its destination (the lake
directory, or S3 with the usual credentials chain; a REST catalog's table from the
catalog, with the configured auth, and its files from its location) and prints its current snapshot, the
snapshot's summary, schema, partition spec, every snapshot, and the current snapshot's
data files with their row counts. --json prints one JSON object instead.

reindex rebuilds the key index of a `mode: current` table (under the config's
server.data_dir) from the table: the index deltas its snapshots name, oldest first. Run it
with lakehose-server stopped for the pipeline (the index is one process's at a time).

compact rewrites the data files of a `mode: current` table where at least FRACTION of
the rows are deleted (default 0.2) into new files of their live rows, and drops the
position deletes that pointed into them, in one `replace` snapshot; the key index follows
the moved rows. Run it with lakehose-server stopped for the pipeline, as reindex.
--dry-run reads and counts without writing.

expire removes from the table's metadata the snapshots older than AGE (default 5d;
s, m, h or d) except the newest N of the current history (default 1). A `mode: current`
table first gets a checkpoint of its key index (so reindex still works; server stopped,
as for compact). No file is deleted: it counts the files only the expired snapshots named
(--list prints them, one URI per line, for your own cleanup).
)";

constexpr Flag kFlags[] = {
    {.name = "config", .value = "FILE", .help = "the configuration file (required)"},
    {.name = "pipeline", .value = "NAME", .help = "a format: iceberg pipeline (required)"},
    {.name = "json", .type = FlagType::kBool, .help = "print one JSON object"},
    {.name = "min-deleted",
     .needs = "a fraction from 0 to 1",
     .value = "FRACTION",
     .help = "compact: rewrite files with at least this fraction of rows deleted\n"
             "(default 0.2; files whose rows are all deleted always go)"},
    {.name = "max-rows",
     .needs = "a whole number >= 1",
     .value = "N",
     .help = "compact: rows per new data file at most (default 1000000)"},
    {.name = "dry-run", .type = FlagType::kBool, .help = "compact, expire: count, write nothing"},
    {.name = "older-than",
     .needs = "an age such as 30s, 90m, 12h or 5d",
     .value = "AGE",
     .help = "expire: snapshots older than this (default 5d)"},
    {.name = "retain-last",
     .needs = "a whole number >= 1",
     .value = "N",
     .help = "expire: keep at least the newest N snapshots (default 1)"},
    {.name = "list",
     .type = FlagType::kBool,
     .help = "expire: print the files no kept snapshot names, one per line"},
};

// "30s", "90m", "12h", "5d" in milliseconds; nullopt otherwise.
std::optional<int64_t> ParseAge(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  int64_t n = 0;
  if (!ParseCount(text.substr(0, text.size() - 1), 0, &n) || n > (int64_t{1} << 40))
    return std::nullopt;
  switch (text.back()) {
    case 's':
      return n * 1000;
    case 'm':
      return n * 60'000;
    case 'h':
      return n * 3'600'000;
    case 'd':
      return n * 86'400'000;
    default:
      return std::nullopt;
  }
}

// RFC 3339, UTC, milliseconds.
std::string TimeText(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string TypeText(const iceberg::Type& t) {
  if (t.is_primitive()) return t.primitive;
  return iceberg::TypeToJson(t);
}

// `table reindex`: the index removed and replayed from every snapshot's index delta.
int Reindex(const Config& config, const PipelineSpec& spec) {
  if (spec.destination.iceberg->mode != IcebergSpec::Mode::kCurrent)
    return Fail(StrCat("pipeline ", spec.name, " is not mode: current (it has no key index)"));
  const std::string dir = KeyIndexDir(config.server.data_dir, spec.name);
  {
    // Taken first, so that a running server's index is never removed under it.
    absl::StatusOr<std::unique_ptr<KeyIndex>> held = KeyIndex::Open(dir);
    if (!held.ok() && absl::IsFailedPrecondition(held.status()))
      return Fail(
          StrCat(StatusMessage(held.status()), " (stop lakehose-server for this pipeline first)"));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Fail(StrCat("removing ", dir, ": ", ec.message()));
  absl::StatusOr<OpenedDestination> opened = OpenDestination(spec, {}, config.server.data_dir);
  if (!opened.ok()) return Fail(StatusMessage(opened.status()));
  if (absl::Status st = opened->table->CatchUpIndex(); !st.ok())
    return Fail(StrCat("reindex of ", opened->table->location(), ": ", StatusMessage(st)));
  opened->key_index->CompactStorage();
  absl::StatusOr<std::optional<int64_t>> at = opened->key_index->AppliedSnapshot();
  const IcebergTableStats stats = opened->table->Stats();
  std::printf(
      "rebuilt %s from %s%lld snapshot(s) of %s%s\n", dir.c_str(),
      stats.index_checkpoint_loaded
          ? StrCat("the checkpoint at snapshot ", stats.index_checkpoint_loaded, " and ").c_str()
          : "",
      static_cast<long long>(stats.index_deltas_replayed), opened->table->location().c_str(),
      at.ok() && *at ? StrCat(" (at snapshot ", **at, ")").c_str() : "");
  return 0;
}

// Opens the pipeline's table with its key index (OpenDestination refuses while a server
// holds it, saying so).
absl::StatusOr<OpenedDestination> OpenWithIndex(const Config& config, const PipelineSpec& spec) {
  if (spec.destination.iceberg->mode != IcebergSpec::Mode::kCurrent)
    return absl::FailedPreconditionError(
        StrCat("pipeline ", spec.name, " is not mode: current (it has no key index)"));
  return OpenDestination(spec, {}, config.server.data_dir);
}

// `table compact`: IcebergTable::Compact, its counts printed.
int Compact(const Config& config, const PipelineSpec& spec, const ParsedFlags& flags) {
  IcebergTable::CompactOptions o;
  o.dry_run = flags.has("dry-run");
  if (flags.has("min-deleted")) {
    const std::string text = flags.get("min-deleted");
    char* end = nullptr;
    o.min_deleted_fraction = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(o.min_deleted_fraction >= 0) ||
        o.min_deleted_fraction > 1)
      return UsageError("--min-deleted: a fraction from 0 to 1");
  }
  if (flags.has("max-rows") && !ParseCount(flags.get("max-rows"), 1, &o.max_rows_per_file))
    return UsageError("--max-rows: a whole number >= 1");
  absl::StatusOr<OpenedDestination> opened = OpenWithIndex(config, spec);
  if (!opened.ok()) return Fail(StatusMessage(opened.status()));
  absl::StatusOr<IcebergTable::CompactResult> r = opened->table->Compact(o);
  if (r.ok() && r->keys_moved > 0) opened->key_index->CompactStorage();
  if (!r.ok())
    return Fail(StrCat("compact ", opened->table->location(), ": ", StatusMessage(r.status())));
  if (flags.has("json")) {
    std::printf(
        "{\"snapshot_id\":%lld,\"dry_run\":%s,\"data_files_rewritten\":%lld,"
        "\"data_files_added\":%lld,\"rows_kept\":%lld,\"rows_dropped\":%lld,"
        "\"delete_files_removed\":%lld,\"delete_files_added\":%lld,"
        "\"position_deletes_removed\":%lld,\"keys_moved\":%lld}\n",
        static_cast<long long>(r->snapshot_id), o.dry_run ? "true" : "false",
        static_cast<long long>(r->data_files_rewritten),
        static_cast<long long>(r->data_files_added), static_cast<long long>(r->rows_kept),
        static_cast<long long>(r->rows_dropped), static_cast<long long>(r->delete_files_removed),
        static_cast<long long>(r->delete_files_added),
        static_cast<long long>(r->position_deletes_removed), static_cast<long long>(r->keys_moved));
    return 0;
  }
  if (r->data_files_rewritten == 0) {
    std::printf("%s: no data file has %g or more of its rows deleted: nothing to compact\n",
                opened->table->location().c_str(), o.min_deleted_fraction);
    return 0;
  }
  std::printf(
      "%s%s: %lld data file(s) rewritten into %lld (%lld live rows kept, %lld deleted rows "
      "dropped), %lld delete file(s) removed and %lld written again, %lld position deletes "
      "dropped, %lld key(s) moved%s\n",
      o.dry_run ? "dry run: " : "", opened->table->location().c_str(),
      static_cast<long long>(r->data_files_rewritten), static_cast<long long>(r->data_files_added),
      static_cast<long long>(r->rows_kept), static_cast<long long>(r->rows_dropped),
      static_cast<long long>(r->delete_files_removed),
      static_cast<long long>(r->delete_files_added),
      static_cast<long long>(r->position_deletes_removed), static_cast<long long>(r->keys_moved),
      r->snapshot_id ? StrCat("; snapshot ", r->snapshot_id, " (replace)").c_str() : "");
  return 0;
}

// `table expire`: IcebergTable::ExpireSnapshots, its counts (and with --list the files).
int Expire(const Config& config, const PipelineSpec& spec, const ParsedFlags& flags) {
  IcebergTable::ExpireOptions o;
  o.dry_run = flags.has("dry-run");
  std::optional<int64_t> age = ParseAge(flags.has("older-than") ? flags.get("older-than") : "5d");
  if (!age) return UsageError("--older-than: an age such as 30s, 90m, 12h or 5d");
  int64_t retain = 1;
  if (flags.has("retain-last") &&
      (!ParseCount(flags.get("retain-last"), 1, &retain) || retain > 1'000'000))
    return UsageError("--retain-last: a whole number >= 1");
  o.retain_last = static_cast<int>(retain);
  o.older_than_ms = absl::ToUnixMillis(absl::Now()) - *age;
  const bool current = spec.destination.iceberg->mode == IcebergSpec::Mode::kCurrent;
  absl::StatusOr<OpenedDestination> opened =
      current ? OpenWithIndex(config, spec) : OpenDestination(spec);
  if (!opened.ok()) return Fail(StatusMessage(opened.status()));
  absl::StatusOr<IcebergTable::ExpireResult> r = opened->table->ExpireSnapshots(o);
  if (!r.ok())
    return Fail(StrCat("expire ", opened->table->location(), ": ", StatusMessage(r.status())));
  if (flags.has("list"))
    for (const std::string& uri : r->unreferenced) std::printf("%s\n", uri.c_str());
  if (flags.has("json")) {
    std::string out;
    StrAppend(&out, "{\"dry_run\":", o.dry_run ? "true" : "false",
              ",\"snapshots_expired\":", r->snapshots_expired,
              ",\"snapshots_kept\":", r->snapshots_kept, ",\"checkpoint\":");
    if (r->checkpoint.empty())
      out += "null";
    else
      AppendJsonString(r->checkpoint, &out);
    StrAppend(&out, ",\"unreferenced_files\":", r->unreferenced.size(),
              ",\"unreferenced_bytes\":", r->unreferenced_bytes, "}\n");
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::fprintf(
      flags.has("list") ? stderr : stdout,
      "%s%s: %lld snapshot(s) expired, %lld kept%s; %zu file(s) (%lld bytes of data, "
      "delete and manifest files) no kept snapshot names, left in place\n",
      o.dry_run ? "dry run: " : "", opened->table->location().c_str(),
      static_cast<long long>(r->snapshots_expired), static_cast<long long>(r->snapshots_kept),
      r->checkpoint.empty() ? "" : StrCat("; key index checkpoint ", r->checkpoint).c_str(),
      r->unreferenced.size(), static_cast<long long>(r->unreferenced_bytes));
  return 0;
}

}  // namespace

int TableCommand(int argc, char** argv) {
  const std::string sub = argc >= 3 ? argv[2] : "";
  ParsedFlags flags;
  // `lakehose table --help` is `table inspect --help`: the one subcommand's options.
  if (sub == "--help" || sub == "-h")
    return ParseCommandFlags({.usage = kUsage, .flags = kFlags}, argc, argv, 2, &flags).value_or(0);
  if (sub != "inspect" && sub != "reindex" && sub != "compact" && sub != "expire")
    return UsageError(sub.empty() ? "table: say `inspect`, `reindex`, `compact` or `expire`"
                                  : StrCat("table: unknown subcommand ", sub));
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags}, argc, argv, 3, &flags))
    return *rc;
  const std::string config_path = flags.get("config");
  const std::string pipeline = flags.get("pipeline");
  if (config_path.empty() || pipeline.empty())
    return UsageError("--config and --pipeline are required");
  auto config = LoadConfigFile(config_path);
  if (!config.ok()) return Fail(StatusMessage(config.status()));
  const PipelineSpec* spec = config->FindPipeline(pipeline);
  if (!spec) return Fail(StrCat("unknown pipeline \"", pipeline, "\" in ", config_path));
  if (!spec->destination.iceberg)
    return Fail(StrCat("pipeline ", pipeline, " is not format: iceberg"));
  if (sub == "reindex") return Reindex(*config, *spec);
  if (sub == "compact") return Compact(*config, *spec, flags);
  if (sub == "expire") return Expire(*config, *spec, flags);

  absl::StatusOr<OpenedDestination> opened = OpenDestination(*spec);
  if (!opened.ok()) return Fail(StatusMessage(opened.status()));
  const bool rest = opened->catalog != nullptr;
  ObjectSink* const sink = opened->sink.get();
  IcebergTable& table = *opened->table;
  auto loaded = table.Load();
  if (!loaded.ok()) return Fail(StatusMessage(loaded.status()));
  if (!loaded->has_value()) {
    if (rest)
      std::printf("table %s: not created yet\n", table.location().c_str());
    else
      std::printf("table %s.%s: not created yet (no metadata under %s/metadata/)\n",
                  spec->destination.iceberg->table_namespace.c_str(),
                  spec->destination.iceberg->table_name.c_str(), table.location().c_str());
    return 0;
  }
  const iceberg::TableMetadata& m = (*loaded)->metadata;
  const iceberg::Snapshot* current = m.CurrentSnapshot();
  // The live data files of the current snapshot: every manifest of its list.
  struct LiveFile {
    std::string path;
    int64_t records = 0;
    int64_t bytes = 0;
  };
  std::vector<LiveFile> files;
  std::string files_error;
  if (current != nullptr) {
    auto key_of = [&](const std::string& uri) { return table.FileKey(uri).value_or(""); };
    auto list = sink->Get(key_of(current->manifest_list));
    auto manifests = list.ok() ? iceberg::DecodeManifestList(*list)
                               : absl::StatusOr<std::vector<iceberg::ManifestFile>>(list.status());
    if (!manifests.ok()) files_error = std::string(StatusMessage(manifests.status()));
    for (const iceberg::ManifestFile& mf :
         manifests.ok() ? *manifests : std::vector<iceberg::ManifestFile>{}) {
      auto bytes = sink->Get(key_of(mf.manifest_path));
      auto entries = bytes.ok()
                         ? iceberg::DecodeManifest(*bytes, nullptr)
                         : absl::StatusOr<std::vector<iceberg::ManifestEntry>>(bytes.status());
      if (!entries.ok()) {
        files_error = StrCat(mf.manifest_path, ": ", StatusMessage(entries.status()));
        continue;
      }
      // Data files only: a delete manifest's position delete files hold no rows.
      for (const iceberg::ManifestEntry& e : *entries)
        if (e.status != 2 && e.data_file.content == 0)
          files.push_back(
              {e.data_file.file_path, e.data_file.record_count, e.data_file.file_size_in_bytes});
    }
  }
  int64_t rows = 0;
  for (const LiveFile& f : files) rows += f.records;

  if (flags.has("json")) {
    std::string out = "{\"location\":";
    AppendJsonString(m.location, &out);
    out += ",\"metadata_location\":";
    AppendJsonString((*loaded)->metadata_location, &out);
    StrAppend(&out, ",\"version\":", (*loaded)->version, ",\"format_version\":", m.format_version,
              ",\"current_snapshot_id\":",
              current ? StrCat(current->snapshot_id) : std::string("null"), ",\"snapshots\":[");
    for (size_t i = 0; i < m.snapshots.size(); ++i) {
      const iceberg::Snapshot& s = m.snapshots[i];
      StrAppend(&out, i ? "," : "", "{\"snapshot_id\":", s.snapshot_id,
                ",\"sequence_number\":", s.sequence_number, ",\"timestamp_ms\":", s.timestamp_ms,
                ",\"summary\":{");
      for (size_t k = 0; k < s.summary.size(); ++k) {
        if (k) out += ",";
        AppendJsonString(s.summary[k].first, &out);
        out += ":";
        AppendJsonString(s.summary[k].second, &out);
      }
      out += "}}";
    }
    StrAppend(&out, "],\"schema\":", iceberg::SchemaToJson(*m.CurrentSchema()),
              ",\"partition_spec\":", iceberg::PartitionSpecToJson(*m.DefaultSpec()),
              ",\"files\":[");
    for (size_t i = 0; i < files.size(); ++i) {
      StrAppend(&out, i ? "," : "", "{\"path\":");
      AppendJsonString(files[i].path, &out);
      StrAppend(&out, ",\"records\":", files[i].records, ",\"bytes\":", files[i].bytes, "}");
    }
    StrAppend(&out, "],\"records\":", rows, "}\n");
    std::fputs(out.c_str(), stdout);
    return files_error.empty() ? 0 : Fail(files_error);
  }

  const std::string title = rest ? table.location()
                                 : StrCat(spec->destination.iceberg->table_namespace, ".",
                                          spec->destination.iceberg->table_name);
  std::printf("table      %s\nlocation   %s\nmetadata   %s\nversion    v%lld (format %d)\n",
              title.c_str(), m.location.c_str(), (*loaded)->metadata_location.c_str(),
              static_cast<long long>((*loaded)->version), m.format_version);
  if (current == nullptr) {
    std::printf("snapshot   none yet\n");
  } else {
    std::printf(
        "snapshot   %lld (sequence %lld, %s)\n", static_cast<long long>(current->snapshot_id),
        static_cast<long long>(current->sequence_number), TimeText(current->timestamp_ms).c_str());
    for (const auto& [k, v] : current->summary) std::printf("  %-28s %s\n", k.c_str(), v.c_str());
  }
  std::printf("schema     id %d\n", m.current_schema_id);
  for (const iceberg::Field& f : m.CurrentSchema()->fields)
    std::printf("  %4d  %-32s %s%s\n", f.id, f.name.c_str(), TypeText(f.type).c_str(),
                f.required ? " (required)" : "");
  std::printf("partition  spec %d\n", m.default_spec_id);
  for (const iceberg::PartitionField& f : m.DefaultSpec()->fields)
    std::printf("  %4d  %-32s %s(source %d)\n", f.field_id, f.name.c_str(), f.transform.c_str(),
                f.source_id);
  std::printf("snapshots  %zu\n", m.snapshots.size());
  for (const iceberg::Snapshot& s : m.snapshots) {
    auto added = s.SummaryValue("added-records");
    std::printf("  %-20lld seq %-6lld %s  +%s records\n", static_cast<long long>(s.snapshot_id),
                static_cast<long long>(s.sequence_number), TimeText(s.timestamp_ms).c_str(),
                added ? added->c_str() : "?");
  }
  std::printf("files      %zu live, %lld records\n", files.size(), static_cast<long long>(rows));
  for (const LiveFile& f : files)
    std::printf("  %8lld rows %10lld bytes  %s\n", static_cast<long long>(f.records),
                static_cast<long long>(f.bytes), f.path.c_str());
  return files_error.empty() ? 0 : Fail(files_error);
}

}  // namespace lakehose::cli
