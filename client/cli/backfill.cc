// `lakehose backfill`: a table's history into a pipeline's destination, without a server:
// a DynamoDB export to S3 (full or incremental, read from S3 or a local copy) or a
// parallel Scan of the table, through the pipeline's transform, partition keys and
// destination (JSON Lines, Parquet, or its Iceberg table), with deterministic object
// names and a progress file so that a killed run, run again, ends with every item once
// (service/backfill/backfill_writer.h). Progress goes to stderr: a bar on a terminal,
// JSON lines otherwise; the summary to stdout.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/destination.h"
#include "client/cli/flags.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/delivery/delivery_format.h"
#include "service/backfill/backfill_run.h"
#include "service/backfill/backfill_writer.h"
#include "service/backfill/export_reader.h"
#include "service/catalog/location_sink.h"
#include "service/config/config_file.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose backfill --config FILE --pipeline NAME --export LOCATION [options]

Loads a DynamoDB table's history into the pipeline's destination (its lake, or its
Iceberg table), through the pipeline's transform and partition keys, in this process:
no server is needed, and none is used.

  --export LOCATION   a DynamoDB export to S3 in DYNAMODB_JSON: its directory, the one
                      holding manifest-summary.json (s3://bucket/prefix/AWSDynamoDB/<id>/
                      or a local copy). Full exports are INSERTs at the export time;
                      incremental exports INSERT/MODIFY/REMOVE at each write's time. Every
                      data file is checked against the manifests (MD5, item count) before
                      anything of it is written.

Exactly once: each data file's objects have names fixed by the export and the file
(stored with If-None-Match), a table's snapshots say which objects they hold, and
--progress records what is done. Killed, or failed, and run again with the same
command: every item ends up in the lake once.
)";

constexpr Flag kFlags[] = {
    {.name = "config", .value = "FILE", .help = "the configuration file (required)"},
    {.name = "pipeline", .value = "NAME", .help = "the pipeline to load (required)"},
    {.name = "export", .value = "LOCATION", .help = "the export's directory (see above)"},
    {.name = "region",
     .value = "REGION",
     .help = "the region of the export's bucket (default: the destination's,\n"
             "else AWS_REGION)"},
    {.name = "endpoint",
     .value = "URL",
     .help = "the S3 endpoint of the export's bucket (default: the destination's)"},
    {.name = "progress",
     .value = "FILE",
     .help = "the progress file (default: <server.data_dir>/backfill/<pipeline>-\n"
             "<writer>.progress)"},
    {.name = "threads", .value = "N", .help = "data files read and written at once (default 2)"},
    {.name = "commit-every", .value = "N", .help = "Iceberg: data files per snapshot (default 16)"},
    {.name = "progress-format",
     .value = "bar|json",
     .help = "progress on stderr: a bar (default on a terminal) or JSON lines"},
    {.name = "progress-interval",
     .value = "SECONDS",
     .help = "JSON progress: seconds between lines (default 10)"},
    {.name = "json", .type = FlagType::kBool, .help = "print the summary as one JSON object"},
    {.name = "target",
     .value = "HOST:PORT",
     .help = "not supported: a backfill runs in this process (see the README)"},
};

std::string Thousands(int64_t n) {
  std::string digits = StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Bytes(int64_t b) {
  char buf[32];
  if (b >= (int64_t{1} << 30))
    std::snprintf(buf, sizeof(buf), "%.1f GiB", b / double(int64_t{1} << 30));
  else if (b >= (1 << 20))
    std::snprintf(buf, sizeof(buf), "%.1f MiB", b / double(1 << 20));
  else
    std::snprintf(buf, sizeof(buf), "%.1f KiB", b / 1024.0);
  return buf;
}

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  else
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return buf;
}

// Progress on stderr: a bar redrawn in place, or a JSON line every `interval`.
class ProgressReporter {
 public:
  ProgressReporter(bool bar, absl::Duration interval) : bar_(bar), interval_(interval) {}

  void Tick(const BackfillTick& t, bool final) {
    const absl::Time now = absl::Now();
    if (!bar_ && !final && now - last_ < interval_) return;
    last_ = now;
    const double elapsed = absl::ToDoubleSeconds(now - start_);
    const double rate = elapsed > 0 ? t.items / elapsed : 0;
    const int64_t total = t.items_total - t.items_skipped;
    const double eta = total > 0 && rate > 0 ? (total - t.items) / rate : NAN;
    const double fraction =
        t.units_total > 0 ? double(t.units_done + t.units_skipped) / t.units_total : 0;
    if (bar_) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(fraction * kWidth);
      std::string line = "\r[";
      for (int i = 0; i < kWidth; ++i) line += i < filled ? '#' : '.';
      line += StrCat("] ", static_cast<int>(fraction * 100), "%  ", Thousands(t.items), "/",
                     Thousands(total), " items  ", Bytes(t.source_bytes), "  ",
                     Thousands(static_cast<int64_t>(rate)), " items/s  ETA ", Duration(eta), "   ");
      if (final) line += "\n";
      std::fputs(line.c_str(), stderr);
    } else {
      std::string line = "{\"event\":\"backfill.progress\"";
      StrAppend(
          &line, ",\"units_done\":", t.units_done, ",\"units_skipped\":", t.units_skipped,
          ",\"units_total\":", t.units_total, ",\"items\":", t.items, ",\"items_total\":", total,
          ",\"source_bytes\":", t.source_bytes, ",\"items_per_s\":", static_cast<int64_t>(rate),
          ",\"elapsed_s\":", static_cast<int64_t>(elapsed), ",\"eta_s\":",
          std::isfinite(eta) ? StrCat(static_cast<int64_t>(eta)) : std::string("null"), "}\n");
      std::fputs(line.c_str(), stderr);
    }
    std::fflush(stderr);
  }
  double Elapsed() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

 private:
  const bool bar_;
  const absl::Duration interval_;
  const absl::Time start_ = absl::Now();
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace

int BackfillCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags}, argc, argv, 2, &flags))
    return *rc;
  if (flags.has("target"))
    return UsageError(
        "--target: a backfill runs in this process, not through a server (its objects are "
        "named by the export so that a re-run stores nothing twice; a server names objects "
        "by its own sequence). Run it where the config and credentials are");
  const std::string config_path = flags.get("config");
  const std::string pipeline = flags.get("pipeline");
  const std::string export_location = flags.get("export");
  if (config_path.empty() || pipeline.empty())
    return UsageError("--config and --pipeline are required");
  if (export_location.empty()) return UsageError("say where the export is: --export LOCATION");
  int64_t threads = 2, commit_every = 16, interval_s = 10;
  if (flags.has("threads") && !ParseCount(flags.get("threads"), 1, &threads))
    return UsageError("--threads: a whole number >= 1");
  if (flags.has("commit-every") && !ParseCount(flags.get("commit-every"), 1, &commit_every))
    return UsageError("--commit-every: a whole number >= 1");
  if (flags.has("progress-interval") && !ParseCount(flags.get("progress-interval"), 1, &interval_s))
    return UsageError("--progress-interval: a whole number of seconds >= 1");
  const std::string progress_format = flags.get("progress-format");
  if (!progress_format.empty() && progress_format != "bar" && progress_format != "json")
    return UsageError("--progress-format: bar or json");
  const bool bar = progress_format.empty() ? ::isatty(2) == 1 : progress_format == "bar";

  absl::StatusOr<Config> config = LoadConfigFile(config_path);
  if (!config.ok()) return Fail(StatusMessage(config.status()));
  const PipelineSpec* spec = config->FindPipeline(pipeline);
  if (!spec) return Fail(StrCat("unknown pipeline \"", pipeline, "\" in ", config_path));
  if (spec->input != InputKind::kDynamoDbStream)
    return Fail(StrCat("pipeline ", pipeline,
                       " takes input: json; a backfill writes DynamoDB items (input: "
                       "dynamodb-stream)"));

  // The export, read through the destination's HTTP client and credentials.
  absl::StatusOr<OpenedDestination> probe = OpenDestination(*spec, {});
  if (!probe.ok()) return Fail(StatusMessage(probe.status()));
  DestinationSpec export_base = spec->destination;
  if (flags.has("region")) export_base.region = flags.get("region");
  if (flags.has("endpoint")) export_base.endpoint = flags.get("endpoint");
  if (export_base.region.empty()) export_base.region = DefaultCatalogRegion(export_base);
  absl::StatusOr<std::unique_ptr<ObjectSink>> export_dir =
      OpenLocation(export_location, export_base, *probe);
  if (!export_dir.ok())
    return Fail(StrCat("--export ", export_location, ": ", StatusMessage(export_dir.status())));
  ExportReader reader(**export_dir);
  if (absl::Status st = reader.Open(); !st.ok())
    return Fail(StrCat("--export ", export_location, ": ", StatusMessage(st)));
  const backfill::ExportSummary& summary = reader.summary();
  const std::string writer_id = SanitizeWriterId(StrCat("backfill-", summary.ExportId()));

  IcebergTable::Options table_options;
  table_options.writer_id = writer_id;
  table_options.snapshot_properties = {{"lakehose.backfill.source", summary.export_arn}};
  absl::StatusOr<OpenedDestination> dest = OpenDestination(*spec, std::move(table_options));
  if (!dest.ok()) return Fail(StatusMessage(dest.status()));

  const std::string progress_path =
      flags.has("progress")
          ? flags.get("progress")
          : StrCat(config->server.data_dir, "/backfill/", spec->name, "-", writer_id, ".progress");
  backfill::Progress earlier;
  absl::StatusOr<std::unique_ptr<ProgressFile>> progress =
      ProgressFile::Open(progress_path,
                         {.source = summary.export_arn,
                          .pipeline = spec->name,
                          .writer_id = writer_id,
                          .started_ms = NowMillis()},
                         &earlier);
  if (!progress.ok()) return Fail(StatusMessage(progress.status()));

  BackfillWriter writer(*spec, *dest->sink, dest->table.get(),
                        {.writer_id = writer_id, .random_string = summary.ExportId()});
  std::vector<BackfillUnitSource> units;
  for (size_t i = 0; i < reader.files().size(); ++i) {
    const backfill::ExportDataFile& f = reader.files()[i];
    units.push_back({.unit = i,
                     .what = StrCat("data file ", i, " (", ExportReader::RelativeKey(f.key), ")"),
                     .read =
                         [&reader, i](std::vector<std::string>* records, int64_t* bytes) {
                           absl::StatusOr<std::vector<std::string>> r = reader.ReadFile(i, bytes);
                           if (!r.ok()) return r.status();
                           *records = *std::move(r);
                           return absl::OkStatus();
                         },
                     .arrival_ms = summary.export_time_ms,
                     .items = f.item_count});
  }
  std::fprintf(
      stderr,
      "lakehose backfill: %s export %s (%s items in %zu data files) into pipeline %s "
      "(%s)%s\n",
      summary.type == backfill::ExportType::kFull ? "full" : "incremental",
      summary.ExportId().c_str(), Thousands(summary.item_count).c_str(), reader.files().size(),
      spec->name.c_str(),
      dest->table ? dest->table->location().c_str() : dest->sink->Uri("").c_str(),
      earlier.units.empty()
          ? ""
          : StrCat("; resuming: ", earlier.units.size(), " data files done earlier").c_str());
  ProgressReporter reporter(bar, absl::Seconds(interval_s));
  absl::StatusOr<BackfillTick> done =
      RunBackfillUnits(std::move(units), earlier, writer, **progress,
                       {.threads = static_cast<int>(threads),
                        .commit_every_units = dest->table ? static_cast<int>(commit_every) : 1,
                        .tick = absl::Milliseconds(bar ? 250 : 1000),
                        .on_progress = [&](const BackfillTick& t) { reporter.Tick(t, false); }});
  const BackfillStats s = writer.Stats();
  if (!done.ok()) {
    if (bar) std::fputs("\n", stderr);
    return Fail(StrCat(StatusMessage(done.status()), "\nwhat was done is kept (progress: ",
                       progress_path, "); run the same command again to go on"));
  }
  reporter.Tick(*done, true);
  const double elapsed = reporter.Elapsed();
  if (flags.has("json")) {
    std::string out = "{\"source\":";
    AppendJsonString(summary.export_arn, &out);
    StrAppend(&out, ",\"pipeline\":");
    AppendJsonString(spec->name, &out);
    StrAppend(&out, ",\"writer_id\":");
    AppendJsonString(writer_id, &out);
    StrAppend(&out, ",\"units_total\":", done->units_total,
              ",\"units_skipped\":", done->units_skipped, ",\"units_done\":", done->units_done,
              ",\"items\":", done->items, ",\"items_skipped\":", done->items_skipped,
              ",\"source_bytes\":", done->source_bytes, ",\"records_ok\":", s.records_ok,
              ",\"records_failed\":", s.records_failed, ",\"records_dropped\":", s.records_dropped,
              ",\"records_rejected\":", s.records_rejected,
              ",\"objects_stored\":", s.objects_stored,
              ",\"objects_existing\":", s.objects_existing, ",\"bytes_stored\":", s.bytes_stored,
              ",\"commits\":", s.commits, ",\"elapsed_s\":", elapsed, ",\"progress\":");
    AppendJsonString(progress_path, &out);
    out += "}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::printf(
      "backfill of %s into %s: done in %s\n"
      "  data files  %s written, %s done earlier (of %s)\n"
      "  items       %s read (%s), %s done earlier\n"
      "  records     %s written, %s failed (error documents), %s dropped by the pipeline, "
      "%s kept apart (a column could not hold them)\n"
      "  objects     %s stored (%s), %s found stored by an earlier run%s\n"
      "  progress    %s\n",
      summary.ExportId().c_str(), spec->name.c_str(), Duration(elapsed).c_str(),
      Thousands(done->units_done).c_str(), Thousands(done->units_skipped).c_str(),
      Thousands(done->units_total).c_str(), Thousands(done->items).c_str(),
      Bytes(done->source_bytes).c_str(), Thousands(done->items_skipped).c_str(),
      Thousands(s.records_ok).c_str(), Thousands(s.records_failed).c_str(),
      Thousands(s.records_dropped).c_str(), Thousands(s.records_rejected).c_str(),
      Thousands(s.objects_stored).c_str(), Bytes(s.bytes_stored).c_str(),
      Thousands(s.objects_existing).c_str(),
      dest->table ? StrCat("; ", s.commits, " table snapshots").c_str() : "",
      progress_path.c_str());
  return 0;
}

}  // namespace lakehose::cli
