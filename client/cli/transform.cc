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

// Offline: `pipeline` of the config file `config_path` applied here, as the server would.
// Returns an exit code, 0 with `*results` and `*key_names` (the declared partition keys).
int TransformOffline(const std::string& config_path, const std::string& pipeline,
                     const InputBatch& batch, std::vector<v1::RecordResult>* results,
                     std::vector<std::string>* key_names) {
  auto config = LoadConfigFile(config_path);
  if (!config.ok()) return Fail(StatusMessage(config.status()));
  const PipelineSpec* spec = config->FindPipeline(pipeline);
  if (!spec) return Fail(StrCat("unknown pipeline \"", pipeline, "\" in ", config_path));
  *key_names = spec->key_names;
  RecordTransformer transformer(*spec);
  TransformContext ctx;
  ctx.default_arrival_ms = NowMillis();
  ctx.random_string = "offline0000";
  RecordOutcome outcome;
  for (const OwnedRecord& r : batch.records) {
    transformer.Transform({r.record_id, r.data, r.arrival_ms}, ctx, &outcome);
    RefuseUnstorable(*spec, ctx, &outcome);  // as the server does
    v1::RecordResult& out = results->emplace_back();
    out.set_record_id(r.record_id);
    out.set_result(ToWire(outcome.result));
    out.set_operation(ToWire(outcome.operation));
    out.set_data(std::move(outcome.data));
    for (size_t k = 0; k < outcome.partition_values.size(); ++k)
      (*out.mutable_partition_keys())[spec->key_names[k]] = outcome.partition_values[k];
    out.set_key_prefix(std::move(outcome.key_prefix));
    out.set_error_code(std::string(outcome.error_code));
    out.set_error_message(std::move(outcome.error_message));
  }
  return 0;
}

// Through the server of --target, `batch_size` records per Transform call.
int TransformRemote(const ParsedFlags& flags, const std::string& pipeline, size_t batch_size,
                    const InputBatch& batch, std::vector<v1::RecordResult>* results) {
  int rc = 0;
  auto client = Connect(flags, &rc);
  if (!client) return rc;
  const size_t n = batch.records.size();
  const bool progress = isatty(2) && n > batch_size;
  for (size_t begin = 0; begin < n; begin += batch_size) {
    v1::TransformRequest request;
    request.set_pipeline(pipeline);
    const size_t end = std::min(n, begin + batch_size);
    AddRecords(batch, begin, end, request.mutable_records());
    auto response = client->Transform(request);
    if (!response.ok())
      return Fail(StrCat("records ", begin + 1, "-", end, ": ", RpcError(response.status())));
    if (static_cast<size_t>(response->records_size()) != end - begin)
      return Fail(StrCat("server answered ", response->records_size(), " results for ", end - begin,
                         " records"));
    for (auto& r : *response->mutable_records()) results->push_back(std::move(r));
    if (progress) std::fprintf(stderr, "\rtransform: %zu/%zu records", end, n);
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  return 0;
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

  auto text = ReadInput(flags.get("input", "-"));
  if (!text.ok()) return Fail(StatusMessage(text.status()));
  auto batch = ParseInputBatch(*text);
  if (!batch.ok()) return Fail(StatusMessage(batch.status()));

  // Results are kept as wire RecordResults in both modes so that rendering is shared.
  std::vector<v1::RecordResult> results;
  results.reserve(batch->records.size());
  std::vector<std::string> key_names;
  const auto start = std::chrono::steady_clock::now();
  if (int rc =
          offline
              ? TransformOffline(flags.get("config"), pipeline, *batch, &results, &key_names)
              : TransformRemote(flags, pipeline, static_cast<size_t>(batch_size), *batch, &results);
      rc != 0)
    return rc;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Counts counts;
  if (int rc = WriteResults(results, *batch, key_names, flags.get("output", "-"), &counts); rc != 0)
    return rc;
  PrintSummary("transform", batch->records.size(), counts, seconds);
  return 0;
}

}  // namespace lakehose::cli
