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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
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
#include "service/backfill/dynamodb_client.h"
#include "service/backfill/export_reader.h"
#include "service/catalog/location_sink.h"
#include "service/config/config_file.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose backfill --config FILE --pipeline NAME --export LOCATION [options]
       lakehose backfill --config FILE --pipeline NAME --scan --table NAME [options]

Loads a DynamoDB table's history into the pipeline's destination (its lake, or its
Iceberg table), through the pipeline's transform and partition keys, in this process:
no server is needed, and none is used.

  --export LOCATION   a DynamoDB export to S3 in DYNAMODB_JSON: its directory, the one
                      holding manifest-summary.json (s3://bucket/prefix/AWSDynamoDB/<id>/
                      or a local copy). Full exports are INSERTs at the export time;
                      incremental exports INSERT/MODIFY/REMOVE at each write's time. Every
                      data file is checked against the manifests (MD5, item count) before
                      anything of it is written.
  --scan --table NAME a parallel Scan of the table (--segments), eventually consistent
                      unless --consistent, read no faster than --max-rcu, retried with
                      backoff when throttled. Items are INSERTs at the scan's start.

Exactly once: each data file's (or page's) objects have names fixed by the source
(stored with If-None-Match), a table's snapshots say which objects they hold, and
--progress records what is done (and where each segment of a Scan stopped). Killed, or
failed, and run again with the same command: every item ends up in the lake once.
)";

constexpr Flag kFlags[] = {
    {.name = "config", .value = "FILE", .help = "the configuration file (required)"},
    {.name = "pipeline", .value = "NAME", .help = "the pipeline to load (required)"},
    {.name = "export", .value = "LOCATION", .help = "the export's directory (see above)"},
    {.name = "scan", .type = FlagType::kBool, .help = "scan the table (with --table)"},
    {.name = "table", .value = "NAME", .help = "--scan: the DynamoDB table"},
    {.name = "region",
     .value = "REGION",
     .help = "the region of the export's bucket or of the table (default: the\n"
             "destination's, else AWS_REGION)"},
    {.name = "segments",
     .value = "N",
     .help = "--scan: parallel segments (default 4, at most 1000)"},
    {.name = "max-rcu",
     .value = "UNITS",
     .help = "--scan: read capacity units per second, all segments together\n"
             "(default: no limit)"},
    {.name = "page-items", .value = "N", .help = "--scan: items per Scan page (default 1000)"},
    {.name = "consistent", .type = FlagType::kBool, .help = "--scan: strongly consistent reads"},
    {.name = "dynamodb-endpoint",
     .value = "URL",
     .help = "--scan: DynamoDB's endpoint (default AWS_ENDPOINT_URL_DYNAMODB, else\n"
             "https://dynamodb.<region>.amazonaws.com)"},
    {.name = "endpoint",
     .value = "URL",
     .help = "the S3 endpoint of the export's bucket (default: the destination's)"},
    {.name = "progress",
     .value = "FILE",
     .help = "the progress file (default: <server.data_dir>/backfill/<pipeline>-\n"
             "<writer>.progress)"},
    {.name = "threads",
     .value = "N",
     .help = "data files (or segments) read and written at once (default 2)"},
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
    // Data files of an export; a Scan's items against DynamoDB's estimate (below 100%
    // until the end: the estimate is hours old).
    const double fraction =
        final               ? 1.0
        : t.units_total > 0 ? double(t.units_done + t.units_skipped) / t.units_total
        : t.items_total > 0 ? std::min(0.99, double(t.items + t.items_skipped) / t.items_total)
                            : 0;
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

// What a run is about, for the summary.
struct Source {
  std::string id;   // the export id, or the table's name
  std::string arn;  // the export's ARN, or dynamodb:<table ARN>
  std::string unit_name = "data files";
};

// The summary on stdout (text, or one JSON object with --json).
void PrintSummary(const Source& src, const PipelineSpec& spec, const std::string& writer_id,
                  const BackfillTick& done, const BackfillStats& s, bool table, double elapsed,
                  const std::string& progress_path, const std::string& scan_json,
                  const std::string& scan_text, bool json) {
  if (json) {
    std::string out = "{\"source\":";
    AppendJsonString(src.arn, &out);
    out += ",\"pipeline\":";
    AppendJsonString(spec.name, &out);
    out += ",\"writer_id\":";
    AppendJsonString(writer_id, &out);
    StrAppend(&out, ",\"units_total\":", done.units_total,
              ",\"units_skipped\":", done.units_skipped, ",\"units_done\":", done.units_done,
              ",\"items\":", done.items, ",\"items_skipped\":", done.items_skipped,
              ",\"source_bytes\":", done.source_bytes, ",\"records_ok\":", s.records_ok,
              ",\"records_failed\":", s.records_failed, ",\"records_dropped\":", s.records_dropped,
              ",\"records_rejected\":", s.records_rejected,
              ",\"objects_stored\":", s.objects_stored,
              ",\"objects_existing\":", s.objects_existing, ",\"bytes_stored\":", s.bytes_stored,
              ",\"commits\":", s.commits, scan_json, ",\"elapsed_s\":", elapsed, ",\"progress\":");
    AppendJsonString(progress_path, &out);
    out += "}\n";
    std::fputs(out.c_str(), stdout);
    return;
  }
  std::string out =
      StrCat("backfill of ", src.id, " into ", spec.name, ": done in ", Duration(elapsed), "\n");
  StrAppend(&out, "  ", src.unit_name, "  ", Thousands(done.units_done), " written, ",
            Thousands(done.units_skipped), " done earlier",
            done.units_total > 0 ? StrCat(" (of ", Thousands(done.units_total), ")") : "", "\n");
  StrAppend(&out, "  items       ", Thousands(done.items), " read (", Bytes(done.source_bytes),
            "), ", Thousands(done.items_skipped), " done earlier\n");
  StrAppend(&out, "  records     ", Thousands(s.records_ok), " written, ",
            Thousands(s.records_failed), " failed (error documents), ",
            Thousands(s.records_dropped), " dropped by the pipeline, ",
            Thousands(s.records_rejected), " kept apart (a column could not hold them)\n");
  StrAppend(&out, "  objects     ", Thousands(s.objects_stored), " stored (", Bytes(s.bytes_stored),
            "), ", Thousands(s.objects_existing), " found stored by an earlier run",
            table ? StrCat("; ", s.commits, " table snapshots") : "", "\n");
  out += scan_text;
  StrAppend(&out, "  progress    ", progress_path, "\n");
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int BackfillCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags}, argc, argv, 2, &flags))
    return *rc;
  if (flags.has("target"))
    return UsageError(
        "--target: a backfill runs in this process, not through a server (its objects are "
        "named by the export or the scan so that a re-run stores nothing twice; a server "
        "names objects by its own sequence). Run it where the config and credentials are");
  const std::string config_path = flags.get("config");
  const std::string pipeline = flags.get("pipeline");
  const std::string export_location = flags.get("export");
  const bool scan = flags.has("scan");
  if (config_path.empty() || pipeline.empty())
    return UsageError("--config and --pipeline are required");
  if (scan == !export_location.empty())
    return UsageError("say what to load: --export LOCATION, or --scan --table NAME");
  if (scan && flags.get("table").empty()) return UsageError("--scan needs --table NAME");
  int64_t threads = 2, commit_every = 16, interval_s = 10, segments = 4, page_items = 1000;
  if (flags.has("threads") && !ParseCount(flags.get("threads"), 1, &threads))
    return UsageError("--threads: a whole number >= 1");
  if (flags.has("commit-every") && !ParseCount(flags.get("commit-every"), 1, &commit_every))
    return UsageError("--commit-every: a whole number >= 1");
  if (flags.has("progress-interval") && !ParseCount(flags.get("progress-interval"), 1, &interval_s))
    return UsageError("--progress-interval: a whole number of seconds >= 1");
  if (flags.has("segments") &&
      (!ParseCount(flags.get("segments"), 1, &segments) || segments > kMaxScanSegmentsForBackfill))
    return UsageError(StrCat("--segments: 1 to ", kMaxScanSegmentsForBackfill));
  if (flags.has("page-items") &&
      (!ParseCount(flags.get("page-items"), 1, &page_items) || page_items > 10000))
    return UsageError("--page-items: 1 to 10000");
  double max_rcu = 0;
  if (flags.has("max-rcu")) {
    const std::string v = flags.get("max-rcu");
    char* end = nullptr;
    max_rcu = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || !(max_rcu > 0) || !std::isfinite(max_rcu))
      return UsageError("--max-rcu: read capacity units per second, a number > 0");
  }
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

  // The source, read through the destination's HTTP client and credentials.
  absl::StatusOr<OpenedDestination> probe = OpenDestination(*spec, {});
  if (!probe.ok()) return Fail(StatusMessage(probe.status()));
  Source src;
  std::string writer_id;
  std::string progress_path = flags.get("progress");
  int64_t started_ms = NowMillis();
  std::unique_ptr<ObjectSink> export_dir;
  std::unique_ptr<ExportReader> reader;
  std::unique_ptr<DynamoDbClient> ddb;
  backfill::TableDescription described;
  if (!scan) {
    DestinationSpec export_base = spec->destination;
    if (flags.has("region")) export_base.region = flags.get("region");
    if (flags.has("endpoint")) export_base.endpoint = flags.get("endpoint");
    if (export_base.region.empty()) export_base.region = DefaultCatalogRegion(export_base);
    absl::StatusOr<std::unique_ptr<ObjectSink>> opened =
        OpenLocation(export_location, export_base, *probe);
    if (!opened.ok())
      return Fail(StrCat("--export ", export_location, ": ", StatusMessage(opened.status())));
    export_dir = *std::move(opened);
    reader = std::make_unique<ExportReader>(*export_dir);
    if (absl::Status st = reader->Open(); !st.ok())
      return Fail(StrCat("--export ", export_location, ": ", StatusMessage(st)));
    src = {.id = reader->summary().ExportId(), .arn = reader->summary().export_arn};
    writer_id = SanitizeWriterId(StrCat("backfill-", src.id));
    if (progress_path.empty())
      progress_path =
          StrCat(config->server.data_dir, "/backfill/", spec->name, "-", writer_id, ".progress");
  } else {
    DynamoDbClientOptions o;
    o.region = flags.has("region") ? flags.get("region") : DefaultCatalogRegion(spec->destination);
    o.endpoint = flags.get("dynamodb-endpoint");
    if (o.endpoint.empty())
      if (const char* e = std::getenv("AWS_ENDPOINT_URL_DYNAMODB"); e != nullptr) o.endpoint = e;
    o.max_read_units_per_second = max_rcu;
    if (absl::Status st = o.Validate(); !st.ok())
      return UsageError(StrCat("--scan: ", StatusMessage(st)));
    ddb = std::make_unique<DynamoDbClient>(
        o, DynamoDbClientDeps{.http = probe->http, .credentials = probe->credentials});
    absl::StatusOr<backfill::TableDescription> t = ddb->DescribeTable(flags.get("table"));
    if (!t.ok()) return Fail(StatusMessage(t.status()));
    described = *std::move(t);
    // The source names the scan's layout: pages are the same pages only with the same
    // segments and page size, so a resume with others is refused.
    src = {.id = described.table_name,
           .arn = StrCat("dynamodb:", described.table_arn, "?segments=", segments,
                         "&page_items=", page_items, flags.has("consistent") ? "&consistent" : ""),
           .unit_name = "pages     "};
    if (progress_path.empty())
      progress_path = StrCat(config->server.data_dir, "/backfill/", spec->name, "-scan-",
                             SanitizeWriterId(described.table_name), ".progress");
    // A scan is named by its first run's start (a later scan of the same table is another
    // backfill): resuming takes it from the progress file.
    writer_id = SanitizeWriterId(StrCat("backfill-scan-", described.table_name, "-", started_ms));
    std::error_code ec;
    if (std::filesystem::exists(progress_path, ec)) {
      std::ifstream in(progress_path);
      std::stringstream text;
      text << in.rdbuf();
      absl::StatusOr<backfill::Progress> was = backfill::ParseProgress(text.str());
      if (was.ok() && was->header.source == src.arn && was->header.pipeline == spec->name) {
        writer_id = was->header.writer_id;
        started_ms = was->header.started_ms;
      }
    }
  }

  IcebergTable::Options table_options;
  table_options.writer_id = writer_id;
  table_options.snapshot_properties = {{"lakehose.backfill.source", src.arn}};
  // A mode: current table's key index is the server's (under its data_dir): seeded here.
  absl::StatusOr<OpenedDestination> dest =
      OpenDestination(*spec, std::move(table_options), config->server.data_dir);
  if (!dest.ok()) return Fail(StatusMessage(dest.status()));
  backfill::Progress earlier;
  absl::StatusOr<std::unique_ptr<ProgressFile>> progress = ProgressFile::Open(
      progress_path,
      {.source = src.arn, .pipeline = spec->name, .writer_id = writer_id, .started_ms = started_ms},
      &earlier);
  if (!progress.ok()) return Fail(StatusMessage(progress.status()));
  BackfillWriter writer(*spec, *dest->sink, dest->table.get(),
                        {.writer_id = writer_id, .random_string = writer_id});
  ProgressReporter reporter(bar, absl::Seconds(interval_s));
  const BackfillRunOptions run_options{
      .threads = static_cast<int>(threads),
      .commit_every_units = dest->table ? static_cast<int>(commit_every) : 1,
      .tick = absl::Milliseconds(bar ? 250 : 1000),
      .on_progress = [&](const BackfillTick& t) { reporter.Tick(t, false); }};
  const std::string where = dest->table ? dest->table->location() : dest->sink->Uri("");
  absl::StatusOr<BackfillTick> done;
  if (!scan) {
    const backfill::ExportSummary& summary = reader->summary();
    std::vector<BackfillUnitSource> units;
    for (size_t i = 0; i < reader->files().size(); ++i) {
      const backfill::ExportDataFile& f = reader->files()[i];
      units.push_back(
          {.unit = i,
           .what = StrCat("data file ", i, " (", ExportReader::RelativeKey(f.key), ")"),
           .read =
               [r = reader.get(), i](std::vector<std::string>* records, int64_t* bytes) {
                 absl::StatusOr<std::vector<std::string>> got = r->ReadFile(i, bytes);
                 if (!got.ok()) return got.status();
                 *records = *std::move(got);
                 return absl::OkStatus();
               },
           .arrival_ms = summary.export_time_ms,
           .items = f.item_count});
    }
    std::fprintf(
        stderr, "lakehose backfill: %s export %s (%s items in %zu data files) into %s (%s)%s\n",
        summary.type == backfill::ExportType::kFull ? "full" : "incremental", src.id.c_str(),
        Thousands(summary.item_count).c_str(), reader->files().size(), spec->name.c_str(),
        where.c_str(),
        earlier.units.empty()
            ? ""
            : StrCat("; resuming: ", earlier.units.size(), " data files done earlier").c_str());
    done = RunBackfillUnits(std::move(units), earlier, writer, **progress, run_options);
  } else {
    std::fprintf(stderr,
                 "lakehose backfill: scan of %s (about %s items, %lld segments, %s) into %s "
                 "(%s)%s\n",
                 described.table_name.c_str(), Thousands(described.item_count).c_str(),
                 static_cast<long long>(segments),
                 max_rcu > 0 ? StrCat("at most ", max_rcu, " RCU/s").c_str() : "no read limit",
                 spec->name.c_str(), where.c_str(),
                 earlier.segments.empty() ? "" : "; resuming where the last run stopped");
    done = RunScanBackfill(*ddb, described,
                           {.segments = segments,
                            .page_items = page_items,
                            .consistent_read = flags.has("consistent"),
                            .started_ms = started_ms},
                           earlier, writer, **progress, run_options);
  }
  if (!done.ok()) {
    if (bar) std::fputs("\n", stderr);
    return Fail(StrCat(StatusMessage(done.status()), "\nwhat was done is kept (progress: ",
                       progress_path, "); run the same command again to go on"));
  }
  reporter.Tick(*done, true);
  std::string scan_json, scan_text;
  if (ddb) {
    const DynamoDbClientStats d = ddb->Stats();
    scan_json = StrCat(
        ",\"scan\":{\"requests\":", d.requests, ",\"throttled_retries\":", d.throttled_retries,
        ",\"transient_retries\":", d.transient_retries, ",\"consumed_units\":", d.consumed_units,
        ",\"rate_waits\":", d.rate_waits, ",\"rate_wait_ms\":", d.rate_wait_ms, "}");
    scan_text = StrCat("  dynamodb    ", Thousands(d.requests), " requests, ",
                       Thousands(d.throttled_retries), " retried after throttling, ",
                       Thousands(d.transient_retries), " after server errors; ",
                       static_cast<int64_t>(d.consumed_units), " read units consumed; waited ",
                       d.rate_wait_ms, " ms for --max-rcu\n");
  }
  PrintSummary(src, *spec, writer_id, *done, writer.Stats(), dest->table != nullptr,
               reporter.Elapsed(), progress_path, scan_json, scan_text, flags.has("json"));
  return 0;
}

}  // namespace lakehose::cli
