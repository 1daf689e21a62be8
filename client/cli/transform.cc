// `lakehose transform`: runs records through a pipeline, offline from a config file or
// through a server's Transform call, and prints a verdict per record.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/connect.h"
#include "client/cli/flags.h"
#include "client/cli/records.h"
#include "core/base/strings.h"
#include "core/transform/batch_io.h"
#include "core/transform/parquet_gate.h"
#include "core/transform/transformer.h"
#include "proto/wire.h"
#include "service/config/config_file.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose transform (--config FILE | --target HOST:PORT) --pipeline NAME
                          [--input FILE|-] [--output FILE|-] [--batch N]

Transforms records with a pipeline and prints a verdict per record.

input (detected): one DynamoDB stream record (or JSON document) per line; a Lambda
DynamoDB event file ({"Records": [...]}); or a Firehose transformation event
({"records": [{"recordId", "data": base64}]}).
output: one RecordResult as JSON per line; for a Firehose event, a Firehose
transformation response. A summary goes to stderr. The connection options apply with
--target only.

The input is streamed: read a megabyte at a time, each record's result written as it
comes, so memory does not grow with the input. A damaged event file (cut short,
brackets out of place, a Firehose record that is not JSON): the records before the
damage are transformed and written, then the error, exit 1.
)";

constexpr Flag kFlags[] = {
    {.name = "config",
     .value = "FILE",
     .help = "run offline with this pipeline configuration (no server)"},
    {.name = "target", .value = "HOST:PORT", .help = "send to a lakehose server instead"},
    {.name = "pipeline", .value = "NAME", .help = "the pipeline to use (required)"},
    {.name = "input", .value = "FILE|-", .help = "records to read (default: stdin)"},
    {.name = "output", .value = "FILE|-", .help = "where to write results (default: stdout)"},
    {.name = "batch", .value = "N", .help = "records per request with --target (default 500)"},
};

// Offline: `spec` applied here, as the server would, to each record as it comes; the
// results written as they come. `*seconds` = the time spent in the transform.
int TransformOffline(const PipelineSpec& spec, InputFile* in, ResultWriter* writer,
                     InputSplitter* splitter, double* seconds, absl::Status* input_error) {
  RecordTransformer transformer(spec);
  TransformContext ctx;
  ctx.default_arrival_ms = NowMillis();
  ctx.random_string = "offline0000";
  RecordOutcome outcome;
  ResultView v;
  return StreamRecords(
      in, splitter,
      [&](std::vector<OwnedRecord>* pending, bool at_end, BatchFormat format) {
        const auto start = std::chrono::steady_clock::now();
        for (const OwnedRecord& r : *pending) {
          transformer.Transform({r.record_id, r.data, r.arrival_ms}, ctx, &outcome);
          RefuseUnstorable(spec, ctx, &outcome);  // as the server does
          v.record_id = r.record_id;
          v.result = outcome.result;
          v.operation = outcome.operation;
          v.data = outcome.data;
          v.partition_keys.clear();
          for (size_t k = 0; k < outcome.partition_values.size(); ++k)
            v.partition_keys.emplace_back(spec.key_names[k], outcome.partition_values[k]);
          v.key_prefix = outcome.key_prefix;
          v.error_code = outcome.error_code;
          v.error_message = outcome.error_message;
          v.input_data = r.data;
          if (int rc = writer->Add(v, format); rc != 0) return rc;
        }
        *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        pending->clear();
        return writer->Flush(format, at_end);
      },
      input_error);
}

// Through the server of --target, `batch_size` records per Transform call. `*seconds` =
// the time spent in the calls.
int TransformRemote(const ParsedFlags& flags, const std::string& pipeline, size_t batch_size,
                    InputFile* in, ResultWriter* writer, InputSplitter* splitter, double* seconds,
                    absl::Status* input_error) {
  int rc = 0;
  auto client = Connect(flags, &rc);
  if (!client) return rc;
  const bool progress = isatty(2);
  size_t done = 0;
  return StreamRecords(
      in, splitter,
      [&](std::vector<OwnedRecord>* pending, bool at_end, BatchFormat format) {
        size_t begin = 0;
        while (pending->size() - begin >= batch_size || (at_end && begin < pending->size())) {
          const size_t end = std::min(pending->size(), begin + batch_size);
          v1::TransformRequest request;
          request.set_pipeline(pipeline);
          AddRecords(*pending, begin, end, request.mutable_records());
          const auto start = std::chrono::steady_clock::now();
          auto response = client->Transform(request);
          *seconds +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          if (!response.ok())
            return Fail(StrCat("records ", done + 1, "-", done + end - begin, ": ",
                               RpcError(response.status())));
          if (static_cast<size_t>(response->records_size()) != end - begin)
            return Fail(StrCat("server answered ", response->records_size(), " results for ",
                               end - begin, " records"));
          for (int i = 0; i < response->records_size(); ++i)
            if (int rc = writer->Add(ViewOf(response->records(i), (*pending)[begin + i].data, {}),
                                     format);
                rc != 0)
              return rc;
          done += end - begin;
          begin = end;
          if (progress && done > batch_size) std::fprintf(stderr, "\rtransform: %zu records", done);
        }
        pending->erase(pending->begin(), pending->begin() + static_cast<ptrdiff_t>(begin));
        if (at_end && progress && done > batch_size) std::fprintf(stderr, "\r\033[K");
        return writer->Flush(format, at_end);
      },
      input_error);
}

}  // namespace

int TransformCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags, .connection = true}, argc,
                                  argv, 2, &flags))
    return *rc;
  const bool offline = flags.has("config");
  if (offline == flags.has("target")) return UsageError("give exactly one of --config or --target");
  if (offline && AnyConnectionFlag(flags))
    return UsageError("--deadline, --tls* and --token-file need --target");
  if (!flags.has("pipeline")) return UsageError("--pipeline is required");
  int64_t batch_size = 500;
  if (flags.has("batch") && !ParseCount(flags.get("batch"), 1, &batch_size))
    return UsageError("--batch must be a positive integer");
  const std::string pipeline = flags.get("pipeline");

  InputFile in;
  if (absl::Status s = in.Open(flags.get("input", "-")); !s.ok()) return Fail(StatusMessage(s));
  const PipelineSpec* spec = nullptr;
  absl::StatusOr<Config> config;
  if (offline) {
    config = LoadConfigFile(flags.get("config"));
    if (!config.ok()) return Fail(StatusMessage(config.status()));
    spec = config->FindPipeline(pipeline);
    if (!spec) return Fail(StrCat("unknown pipeline \"", pipeline, "\" in ", flags.get("config")));
  }

  // The input is read a chunk at a time and each record's result written as it comes:
  // memory holds a window of records, whatever the input's size.
  InputSplitter splitter;
  ResultWriter writer(flags.get("output", "-"));
  double seconds = 0;
  absl::Status input_error;
  if (int rc = offline ? TransformOffline(*spec, &in, &writer, &splitter, &seconds, &input_error)
                       : TransformRemote(flags, pipeline, static_cast<size_t>(batch_size), &in,
                                         &writer, &splitter, &seconds, &input_error);
      rc != 0)
    return rc;
  if (!input_error.ok())
    return FailAfterInputError(input_error, splitter.records(),
                               "transformed and their results written");
  PrintSummary("transform", splitter.records(), writer.counts(), seconds);
  return 0;
}

}  // namespace lakehose::cli
