// lakehose: the command-line tool.
//
//   lakehose transform --config FILE --pipeline NAME [--input FILE|-] [--output FILE|-]
//   lakehose transform --target HOST:PORT --pipeline NAME [--batch N] [...]
//   lakehose generate --workload transactions|sites|edge --records N [--seed S]
//   lakehose dlq list|redrive|purge --target HOST:PORT [...]
//   lakehose health --target HOST:PORT [--service NAME]
//
// Every command that talks to a server takes the connection flags (TLS, mutual TLS,
// bearer token): kConnectionUsage.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "core/base/strings.h"
#include "core/transform/batch_io.h"
#include "core/transform/transformer.h"
#include "core/workload/workload.h"
#include "proto/wire.h"
#include "service/config/config_file.h"

namespace lakehose {
namespace {

constexpr char kMainUsage[] = R"(usage: lakehose <command> [options]

commands:
  transform   transform DynamoDB stream records offline (--config) or through a server (--target)
  send        ingest records through a server (delivered to the pipeline's lake)
  flush       make a server seal and store its buffers now; lists the objects written
  generate    print sample DynamoDB stream records as JSON lines
  dlq         list, redrive or purge a server's dead-letter queue
  health      ask a server's grpc.health.v1 service whether it is serving (exit 0 if so)
  help        this text; `lakehose <command> --help` for a command's options
)";

constexpr char kTransformUsage[] =
    R"(usage: lakehose transform (--config FILE | --target HOST:PORT) --pipeline NAME
                          [--input FILE|-] [--output FILE|-] [--batch N]

Transforms records with a pipeline and prints a verdict per record.

input (detected): one DynamoDB stream record (or JSON document) per line; a Lambda
DynamoDB event file ({"Records": [...]}); or a Firehose transformation event
({"records": [{"recordId", "data": base64}]}).
output: one RecordResult as JSON per line; for a Firehose event, a Firehose
transformation response. A summary goes to stderr.

options:
  --config FILE        run offline with this pipeline configuration (no server)
  --target HOST:PORT   send to a lakehose server instead
  --pipeline NAME      the pipeline to use (required)
  --input FILE|-       records to read (default: stdin)
  --output FILE|-      where to write results (default: stdout)
  --batch N            records per request with --target (default 500)
)";

constexpr char kSendUsage[] =
    R"(usage: lakehose send --target HOST:PORT --pipeline NAME [--input FILE|-] [--batch N]
                     [--stream] [--output FILE|-]

Sends records to a server's Ingest (or, with --stream, IngestStream): each batch is
transformed and its OK records accepted for delivery before the server answers. Input
formats as for `lakehose transform`. A request refused with RESOURCE_EXHAUSTED or
UNAVAILABLE is retried with backoff (up to 2 minutes). Progress on a terminal and a
summary on stderr.

options:
  --target HOST:PORT   the server (required)
  --pipeline NAME      the pipeline (required)
  --input FILE|-       records to read (default: stdin)
  --batch N            records per request (default 500)
  --stream             one IngestStream for all batches instead of one Ingest each
  --output FILE|-      also write each record's result, as `lakehose transform` does
)";

constexpr char kFlushUsage[] = R"(usage: lakehose flush --target HOST:PORT [--pipeline NAME]

Seals every buffer (of one pipeline, or all) and waits until the objects are stored.
Prints one line per object written: URI, records, bytes (tab-separated).
)";

constexpr char kGenerateUsage[] =
    R"(usage: lakehose generate --workload transactions|sites|edge [--records N] [--seed S]
                         [--start-ms MS]

Prints DynamoDB Streams records (as Lambda receives them), one JSON per line,
INSERT/MODIFY/REMOVE mixed. The same seed always gives the same records.

  transactions  financial transactions, ~1.3 KB per record (the demo pipeline's input)
  sites         the small siteId/createdAtTime shape of the Firehose sample
  edge          every DynamoDB type and the hard cases (for correctness tests)

options:
  --records N    how many (default 1000)
  --seed S       random seed (default 1)
  --start-ms MS  earliest event time, ms since the epoch (default 1700000000000)
)";

constexpr char kHealthUsage[] =
    R"(usage: lakehose health --target HOST:PORT [--service NAME] [--timeout SECONDS]

Calls grpc.health.v1.Health/Check and prints the status: SERVING, NOT_SERVING (e.g.
while the server drains), SERVICE_UNKNOWN or UNKNOWN. Health needs no token. For
container HEALTHCHECKs and scripts.

exit status: 0 SERVING; 1 any other status; 2 usage error, or the server cannot be
reached (connection refused, TLS handshake failed, timeout).

options:
  --target HOST:PORT   the server (required)
  --service NAME       a service name ("" = the server as a whole, the default)
  --timeout SECONDS    how long to wait for the answer (default 5)
)";

int Fail(std::string_view message) {
  std::cerr << "lakehose: " << message << "\n";
  return 1;
}

int UsageError(std::string_view message) {
  std::cerr << "lakehose: " << message << " (see --help)\n";
  return 2;
}

constexpr char kConnectionUsage[] = R"(
connection (every command that talks to a server):
  --tls                  use TLS, trusting the system's CAs (implied by the --tls-* flags)
  --tls-ca FILE          PEM CA certificates that sign the server's certificate
  --tls-cert FILE        mutual TLS: this client's certificate chain (PEM), with --tls-key
  --tls-key FILE         the private key (PEM) of --tls-cert
  --tls-server-name NAME the name the server's certificate must carry, when it differs
                         from the host of --target (e.g. --target 127.0.0.1:50051)
  --token-file FILE      bearer token to send (default: the LAKEHOSE_TOKEN environment
                         variable, if set)
)";

// The flags of one command. Each takes a value ("--name VALUE") unless it is in
// `booleans`; those in `repeated` may be given several times (the others: the last wins).
struct FlagSpec {
  std::vector<std::string_view> values = {};
  std::vector<std::string_view> booleans = {};
  std::vector<std::string_view> repeated = {};
  bool connection = false;  // the command talks to a server: it also takes kConnectionUsage's flags
};

// Parsed flags, by name without the leading "--"; booleans hold "true".
class Flags {
 public:
  bool has(const std::string& name) const {
    return values_.count(name) > 0 || lists_.count(name) > 0;
  }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  const std::vector<std::string>& list(const std::string& name) const {
    static const std::vector<std::string> kNone;
    auto it = lists_.find(name);
    return it == lists_.end() ? kNone : it->second;
  }
  // Any flag of kConnectionUsage given.
  bool any_connection_flag() const {
    for (const char* f : {"tls", "tls-ca", "tls-cert", "tls-key", "tls-server-name", "token-file"})
      if (has(f)) return true;
    return false;
  }

 private:
  friend int ParseFlags(int argc, char** argv, int start, const FlagSpec& spec,
                        std::string_view usage, Flags* flags);
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> lists_;
};

// Parses argv[start..] by `spec`. Returns -1 when the command should go on; otherwise the
// exit code to return at once: 0 after printing `usage` for --help, 2 after a usage error.
int ParseFlags(int argc, char** argv, int start, const FlagSpec& spec, std::string_view usage,
               Flags* flags) {
  auto in = [](const std::vector<std::string_view>& list, std::string_view arg) {
    return std::find(list.begin(), list.end(), arg) != list.end();
  };
  const std::vector<std::string_view> connection_values = {"--tls-ca", "--tls-cert", "--tls-key",
                                                           "--tls-server-name", "--token-file"};
  for (int i = start; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(usage.data(), 1, usage.size(), stdout);
      if (spec.connection) std::fputs(kConnectionUsage, stdout);
      return 0;
    }
    if (in(spec.booleans, arg) || (spec.connection && arg == "--tls")) {
      flags->values_[arg.substr(2)] = "true";
      continue;
    }
    const bool repeated = in(spec.repeated, arg);
    if (!repeated && !in(spec.values, arg) && !(spec.connection && in(connection_values, arg)))
      return UsageError(StrCat("unknown option ", arg));
    if (i + 1 >= argc) return UsageError(StrCat(arg, " needs a value"));
    if (repeated) {
      flags->lists_[arg.substr(2)].push_back(argv[++i]);
    } else {
      flags->values_[arg.substr(2)] = argv[++i];
    }
  }
  return -1;
}

// A client for --target with the connection flags: TLS when --tls or any --tls-* flag is
// given; the token from --token-file, else $LAKEHOSE_TOKEN. Prints the error and returns
// nullptr when a file cannot be used (the caller exits 2: the command line is at fault).
std::unique_ptr<Client> Connect(const Flags& flags) {
  ClientOptions options;
  if (flags.has("token-file")) {
    auto token = ReadTokenFile(flags.get("token-file"));
    if (!token.ok()) {
      std::cerr << "lakehose: " << StatusMessage(token.status()) << "\n";
      return nullptr;
    }
    options.bearer_token = *std::move(token);
  } else if (const char* env = std::getenv("LAKEHOSE_TOKEN"); env != nullptr && *env != '\0') {
    options.bearer_token = env;
  }
  const bool tls = flags.has("tls") || flags.has("tls-ca") || flags.has("tls-cert") ||
                   flags.has("tls-key") || flags.has("tls-server-name");
  if (!tls) return Client::ConnectInsecure(flags.get("target"), options);
  auto tls_options =
      LoadClientTlsFiles(flags.get("tls-ca"), flags.get("tls-cert"), flags.get("tls-key"));
  if (tls_options.ok()) {
    tls_options->server_name_override = flags.get("tls-server-name");
    auto client = Client::ConnectTls(flags.get("target"), *tls_options, options);
    if (client.ok()) return *std::move(client);
    tls_options = client.status();
  }
  std::cerr << "lakehose: " << StatusMessage(tls_options.status()) << "\n";
  return nullptr;
}

bool ParseCount(const std::string& s, int64_t lo, int64_t* out) {
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size() || v < lo) return false;
    *out = v;
    return true;
  } catch (...) {
    return false;
  }
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::stringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(StrCat("cannot open --input ", path));
    buf << in.rdbuf();
  }
  return buf.str();
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Counts {
  int64_t ok = 0, dropped = 0, failed = 0;
  void Add(Verdict v) {
    if (v == Verdict::kOk)
      ++ok;
    else if (v == Verdict::kDropped)
      ++dropped;
    else
      ++failed;
  }
};

// Renders results (JSON lines, or a Firehose response for a Firehose event) to `output`
// ("-" = stdout) and counts verdicts.
int WriteResults(const std::vector<v1::RecordResult>& results, const InputBatch& batch,
                 const std::vector<std::string>& key_names, const std::string& output,
                 Counts* counts) {
  const size_t n = batch.records.size();
  std::string out;
  std::vector<ResultView> views;
  views.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    const v1::RecordResult& r = results[i];
    ResultView v;
    v.record_id = r.record_id();
    v.result = FromWire(r.result());
    v.operation = FromWire(r.operation());
    v.data = r.data();
    v.key_prefix = r.key_prefix();
    v.error_code = r.error_code();
    v.error_message = r.error_message();
    v.input_data = i < n ? std::string_view(batch.records[i].data) : std::string_view();
    // Declared order when known (offline), else sorted by name.
    if (!key_names.empty()) {
      for (const auto& k : key_names) {
        auto it = r.partition_keys().find(k);
        if (it != r.partition_keys().end()) v.partition_keys.emplace_back(it->first, it->second);
      }
    } else {
      std::map<std::string_view, std::string_view> sorted;
      for (const auto& [k, val] : r.partition_keys()) sorted[k] = val;
      for (const auto& kv : sorted) v.partition_keys.push_back(kv);
    }
    counts->Add(v.result);
    views.push_back(std::move(v));
  }
  if (output.empty()) return 0;
  if (batch.format == BatchFormat::kFirehoseEvent) {
    AppendFirehoseResponse(views, &out);
  } else {
    for (const ResultView& v : views) AppendResultJsonLine(v, &out);
  }
  if (output == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  } else {
    std::ofstream f(output, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(out.data(), static_cast<std::streamsize>(out.size())))
      return Fail(StrCat("cannot write --output ", output));
  }
  return 0;
}

int Transform(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(
          argc, argv, 2,
          {.values = {"--config", "--target", "--pipeline", "--input", "--output", "--batch"},
           .connection = true},
          kTransformUsage, &flags);
      rc >= 0)
    return rc;
  const bool offline = flags.has("config");
  if (offline == (flags.has("target")))
    return UsageError("give exactly one of --config or --target");
  if (offline && flags.any_connection_flag())
    return UsageError("--tls* and --token-file need --target");
  if (!flags.has("pipeline")) return UsageError("--pipeline is required");
  int64_t batch_size = 500;
  if (flags.has("batch") && !ParseCount(flags.get("batch"), 1, &batch_size))
    return UsageError("--batch must be a positive integer");
  const std::string pipeline = flags.get("pipeline");

  auto text = ReadInput(flags.get("input", "-"));
  if (!text.ok()) return Fail(StatusMessage(text.status()));
  auto batch = ParseInputBatch(*text);
  if (!batch.ok()) return Fail(StatusMessage(batch.status()));
  const size_t n = batch->records.size();

  // Results are kept as wire RecordResults in both modes so that rendering is shared.
  std::vector<v1::RecordResult> results;
  results.reserve(n);
  std::vector<std::string> key_names;
  const auto start = std::chrono::steady_clock::now();

  if (offline) {
    auto config = LoadConfigFile(flags.get("config"));
    if (!config.ok()) return Fail(StatusMessage(config.status()));
    const PipelineSpec* spec = config->FindPipeline(pipeline);
    if (!spec) return Fail(StrCat("unknown pipeline \"", pipeline, "\" in ", flags.get("config")));
    key_names = spec->key_names;
    RecordTransformer transformer(*spec);
    TransformContext ctx;
    ctx.default_arrival_ms = NowMillis();
    ctx.random_string = "offline0000";
    RecordOutcome outcome;
    for (const OwnedRecord& r : batch->records) {
      transformer.Transform({r.record_id, r.data, r.arrival_ms}, ctx, &outcome);
      v1::RecordResult& out = results.emplace_back();
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
  } else {
    auto client = Connect(flags);
    if (!client) return 2;
    const bool progress = isatty(2) && n > static_cast<size_t>(batch_size);
    for (size_t begin = 0; begin < n; begin += batch_size) {
      v1::TransformRequest request;
      request.set_pipeline(pipeline);
      const size_t end = std::min(n, begin + static_cast<size_t>(batch_size));
      for (size_t i = begin; i < end; ++i) {
        v1::Record* r = request.add_records();
        r->set_record_id(batch->records[i].record_id);
        r->set_data(batch->records[i].data);
        r->set_approximate_arrival_timestamp(batch->records[i].arrival_ms);
      }
      auto response = client->Transform(request);
      if (!response.ok())
        return Fail(StrCat("records ", begin + 1, "-", end, ": ",
                           absl::StatusCodeToString(response.status().code()), ": ",
                           StatusMessage(response.status())));
      if (static_cast<size_t>(response->records_size()) != end - begin)
        return Fail(StrCat("server answered ", response->records_size(), " results for ",
                           end - begin, " records"));
      for (auto& r : *response->mutable_records()) results.push_back(std::move(r));
      if (progress) std::fprintf(stderr, "\rtransform: %zu/%zu records", end, n);
    }
    if (progress) std::fprintf(stderr, "\r\033[K");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Counts counts;
  if (int rc = WriteResults(results, *batch, key_names, flags.get("output", "-"), &counts); rc != 0)
    return rc;
  std::fprintf(stderr,
               "lakehose transform: %zu records: %lld ok, %lld dropped, %lld failed (%.2f s, %.0f "
               "records/s)\n",
               n, static_cast<long long>(counts.ok), static_cast<long long>(counts.dropped),
               static_cast<long long>(counts.failed), seconds, seconds > 0 ? n / seconds : 0.0);
  return 0;
}

// Retries `call` while it fails with RESOURCE_EXHAUSTED or UNAVAILABLE, up to ~2 minutes.
template <typename Call>
auto WithRetry(Call call) -> decltype(call()) {
  auto result = call();
  int64_t delay_ms = 100, waited_ms = 0;
  while (!result.ok() &&
         (result.status().code() == absl::StatusCode::kResourceExhausted ||
          result.status().code() == absl::StatusCode::kUnavailable) &&
         waited_ms < 120000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    waited_ms += delay_ms;
    delay_ms = std::min<int64_t>(delay_ms * 2, 2000);
    result = call();
  }
  return result;
}

int Send(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, 2,
                          {.values = {"--target", "--pipeline", "--input", "--batch", "--output"},
                           .booleans = {"--stream"},
                           .connection = true},
                          kSendUsage, &flags);
      rc >= 0)
    return rc;
  if (!flags.has("target")) return UsageError("--target is required");
  if (!flags.has("pipeline")) return UsageError("--pipeline is required");
  int64_t batch_size = 500;
  if (flags.has("batch") && !ParseCount(flags.get("batch"), 1, &batch_size))
    return UsageError("--batch must be a positive integer");
  auto text = ReadInput(flags.get("input", "-"));
  if (!text.ok()) return Fail(StatusMessage(text.status()));
  auto batch = ParseInputBatch(*text);
  if (!batch.ok()) return Fail(StatusMessage(batch.status()));
  const size_t n = batch->records.size();

  std::vector<v1::IngestRequest> requests;
  for (size_t begin = 0; begin < n; begin += static_cast<size_t>(batch_size)) {
    v1::IngestRequest& request = requests.emplace_back();
    request.set_pipeline(flags.get("pipeline"));
    const size_t end = std::min(n, begin + static_cast<size_t>(batch_size));
    for (size_t i = begin; i < end; ++i) {
      v1::Record* r = request.add_records();
      r->set_record_id(batch->records[i].record_id);
      r->set_data(batch->records[i].data);
      r->set_approximate_arrival_timestamp(batch->records[i].arrival_ms);
    }
  }

  auto client = Connect(flags);
  if (!client) return 2;
  std::vector<v1::RecordResult> results;
  results.reserve(n);
  const bool progress = isatty(2) && requests.size() > 1;
  size_t sent = 0;
  auto take = [&](v1::IngestResponse& response, size_t expected) -> bool {
    if (static_cast<size_t>(response.records_size()) != expected) return false;
    for (auto& r : *response.mutable_records()) results.push_back(std::move(r));
    sent += expected;
    if (progress) std::fprintf(stderr, "\rsend: %zu/%zu records", sent, n);
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  if (!flags.has("stream")) {
    for (const v1::IngestRequest& request : requests) {
      auto response = WithRetry([&] { return client->Ingest(request); });
      if (!response.ok())
        return Fail(StrCat("after ", sent, " records were accepted: ",
                           absl::StatusCodeToString(response.status().code()), ": ",
                           StatusMessage(response.status())));
      if (!take(*response, request.records_size()))
        return Fail("server answered the wrong number of results");
    }
  } else {
    auto stream = client->OpenIngestStream();
    constexpr size_t kWindow = 8;  // requests in flight
    size_t written = 0, read = 0;
    v1::IngestResponse response;
    bool broken = false;
    while (read < requests.size() && !broken) {
      while (written < requests.size() && written - read < kWindow) {
        if (!stream->Write(requests[written])) {
          broken = true;
          break;
        }
        if (++written == requests.size()) stream->WritesDone();
      }
      if (broken) break;
      if (!stream->Read(&response)) {
        broken = true;
        break;
      }
      if (!take(response, requests[read].records_size()))
        return Fail("server answered the wrong number of results");
      ++read;
    }
    if (broken) {
      while (stream->Read(&response)) {
        if (read < requests.size() && take(response, requests[read].records_size())) ++read;
      }
    }
    const absl::Status status = stream->Finish();
    if (!status.ok() || read < requests.size())
      return Fail(StrCat("stream ended after ", sent, " records were accepted: ",
                         absl::StatusCodeToString(status.code()), ": ", StatusMessage(status)));
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Counts counts;
  if (int rc = WriteResults(results, *batch, {}, flags.get("output"), &counts); rc != 0) return rc;
  std::fprintf(
      stderr,
      "lakehose send: %zu records: %lld ok, %lld dropped, %lld failed (%.2f s, %.0f records/s)\n",
      n, static_cast<long long>(counts.ok), static_cast<long long>(counts.dropped),
      static_cast<long long>(counts.failed), seconds, seconds > 0 ? n / seconds : 0.0);
  return 0;
}

int FlushCommand(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, 2, {.values = {"--target", "--pipeline"}, .connection = true},
                          kFlushUsage, &flags);
      rc >= 0)
    return rc;
  if (!flags.has("target")) return UsageError("--target is required");
  auto client = Connect(flags);
  if (!client) return 2;
  auto response = client->Flush(flags.get("pipeline"));
  if (!response.ok())
    return Fail(StrCat(absl::StatusCodeToString(response.status().code()), ": ",
                       StatusMessage(response.status())));
  int64_t records = 0, bytes = 0;
  for (const auto& o : response->objects()) {
    std::printf("%s\t%lld\t%lld\n", o.uri().c_str(), static_cast<long long>(o.records()),
                static_cast<long long>(o.bytes()));
    records += o.records();
    bytes += o.bytes();
  }
  std::fprintf(stderr, "lakehose flush: %d objects, %lld records, %lld bytes\n",
               response->objects_size(), static_cast<long long>(records),
               static_cast<long long>(bytes));
  return 0;
}

int Generate(int argc, char** argv) {
  Flags flags;
  if (int rc =
          ParseFlags(argc, argv, 2, {.values = {"--workload", "--records", "--seed", "--start-ms"}},
                     kGenerateUsage, &flags);
      rc >= 0)
    return rc;
  auto workload = ParseWorkload(flags.get("workload", "transactions"));
  if (!workload) return UsageError("--workload must be transactions, sites or edge");
  int64_t records = 1000, seed = 1, start_ms = 1700000000000;
  if (flags.has("records") && !ParseCount(flags.get("records"), 0, &records))
    return UsageError("--records must be a non-negative integer");
  if (flags.has("seed") && !ParseCount(flags.get("seed"), 0, &seed))
    return UsageError("--seed must be a non-negative integer");
  if (flags.has("start-ms") && !ParseCount(flags.get("start-ms"), 0, &start_ms))
    return UsageError("--start-ms must be a non-negative integer");
  WorkloadGenerator gen(*workload, static_cast<uint64_t>(seed), start_ms);
  std::string buf;
  for (int64_t i = 0; i < records; ++i) {
    gen.Next(&buf);
    buf.push_back('\n');
    if (buf.size() > (1 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size())
        return Fail("cannot write to stdout");
      buf.clear();
    }
  }
  if (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size() || std::fflush(stdout) != 0)
    return Fail("cannot write to stdout");
  return 0;
}

// --- lakehose dlq: the dead-letter queue (service DeadLetters) -------------------------

constexpr char kDlqUsage[] =
    R"(usage: lakehose dlq <list|redrive|purge> --target HOST:PORT [options]

The server's dead-letter queue: objects whose delivery ran out of its retry budget
(kind delivery; retried in the background until they reach the maximum age) and the raw
input of records that failed processing (kind processing; they wait for a redrive
after the pipeline config is fixed).

  list      show entries, oldest first
  redrive   deliver / re-transform entries now
  purge     delete entries (explicit ids, or a whole pipeline with --yes)

`lakehose dlq <command> --help` for a command's options.
)";

constexpr char kDlqListUsage[] =
    R"(usage: lakehose dlq list --target HOST:PORT [--pipeline P] [--kind delivery|processing]
                        [--limit N]

Prints the dead-letter queue as a table, oldest first: id, kind, pipeline, attempts,
age, next attempt (delivery: when the retry worker tries again, "expired" once past
the maximum age; processing: waits for a redrive) and the last error.

options:
  --target HOST:PORT   the server (required)
  --pipeline P         only this pipeline's entries
  --kind K             only delivery or processing entries
  --limit N            at most N entries (default: all)
)";

constexpr char kDlqRedriveUsage[] =
    R"(usage: lakehose dlq redrive --target HOST:PORT (--id ID ... | --pipeline P | --all)

Redrives entries now: delivery entries are stored again; processing entries are
transformed again with the server's current config and, if they pass now, delivered.
Prints one line per entry: id, then "ok" or "failed" and why (the entry stays).
Exits 1 if any entry failed.

options:
  --target HOST:PORT   the server (required)
  --id ID              an entry to redrive (repeat for several)
  --pipeline P         every entry of pipeline P
  --all                every entry
)";

constexpr char kDlqPurgeUsage[] =
    R"(usage: lakehose dlq purge --target HOST:PORT (--id ID ... | --pipeline P --yes)

Deletes entries for good (their data is lost). Prints the ids purged.

options:
  --target HOST:PORT   the server (required)
  --id ID              an entry to purge (repeat for several); an unknown id purges nothing
  --pipeline P         every entry of pipeline P (needs --yes)
  --yes                confirm purging a whole pipeline
)";

// "42s", "5m", "3h", "2d" (floor; "0s" for anything not positive).
std::string ShortDuration(int64_t ms) {
  const int64_t s = std::max<int64_t>(ms, 0) / 1000;
  if (s < 120) return StrCat(s, "s");
  if (s < 2 * 3600) return StrCat(s / 60, "m");
  if (s < 2 * 86400) return StrCat(s / 3600, "h");
  return StrCat(s / 86400, "d");
}

// One line, at most `max` bytes, not cut inside a UTF-8 character.
std::string OneLine(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (out.size() > max) {
    size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out.append("...");
  }
  return out;
}

std::string RpcError(const absl::Status& s) {
  return StrCat(absl::StatusCodeToString(s.code()), ": ", StatusMessage(s));
}

int DlqList(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(
          argc, argv, 3,
          {.values = {"--target", "--pipeline", "--kind", "--limit"}, .connection = true},
          kDlqListUsage, &flags);
      rc >= 0)
    return rc;
  if (!flags.has("target")) return UsageError("--target is required");
  v1::ListDeadLettersRequest request;
  if (flags.has("pipeline")) request.set_pipeline(flags.get("pipeline"));
  if (flags.has("kind")) {
    if (flags.get("kind") == "delivery") {
      request.set_kind(v1::DeadLetter::DELIVERY);
    } else if (flags.get("kind") == "processing") {
      request.set_kind(v1::DeadLetter::PROCESSING);
    } else {
      return UsageError("--kind must be delivery or processing");
    }
  }
  int64_t limit = INT64_MAX;
  if (flags.has("limit") && !ParseCount(flags.get("limit"), 1, &limit))
    return UsageError("--limit must be a positive integer");

  auto client = Connect(flags);
  if (!client) return 2;
  std::vector<v1::DeadLetter> entries;
  while (static_cast<int64_t>(entries.size()) < limit) {
    request.set_page_size(static_cast<int32_t>(
        std::min<int64_t>(1000, limit - static_cast<int64_t>(entries.size()))));
    auto response = client->ListDeadLetters(request);
    if (!response.ok()) return Fail(RpcError(response.status()));
    for (const v1::DeadLetter& e : response->entries()) entries.push_back(e);
    if (response->next_page_token().empty() || response->entries_size() == 0) break;
    request.set_page_token(response->next_page_token());
  }
  if (static_cast<int64_t>(entries.size()) > limit) entries.resize(static_cast<size_t>(limit));

  const int64_t now = NowMillis();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "KIND", "PIPELINE", "ATTEMPTS", "AGE", "NEXT", "LAST ERROR"});
  for (const v1::DeadLetter& e : entries) {
    const bool delivery = e.kind() == v1::DeadLetter::DELIVERY;
    std::string next;
    if (!delivery) {
      next = "redrive";
    } else if (e.expired()) {
      next = "expired";
    } else if (e.next_attempt_ms() <= now) {
      next = "due";
    } else {
      next = StrCat("in ", ShortDuration(e.next_attempt_ms() - now));
    }
    rows.push_back({e.id(), delivery ? "delivery" : "processing", e.pipeline(),
                    StrCat(e.attempts()), ShortDuration(now - e.first_time_ms()), next,
                    OneLine(e.last_error(), 100)});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c + 1 < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out.append(row[c]);
      if (c + 1 < row.size()) out.append(widths[c] - row[c].size() + 2, ' ');
    }
    out.push_back('\n');
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "lakehose dlq list: %zu entries\n", entries.size());
  return 0;
}

int DlqRedrive(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, 3,
                          {.values = {"--target", "--pipeline"},
                           .booleans = {"--all"},
                           .repeated = {"--id"},
                           .connection = true},
                          kDlqRedriveUsage, &flags);
      rc >= 0)
    return rc;
  if (!flags.has("target")) return UsageError("--target is required");
  const int selectors = !flags.list("id").empty() + (flags.has("pipeline")) + (flags.has("all"));
  if (selectors != 1) return UsageError("give exactly one of --id, --pipeline or --all");
  v1::RedriveRequest request;
  for (const std::string& id : flags.list("id")) request.add_ids(id);
  if (flags.has("pipeline")) request.set_pipeline(flags.get("pipeline"));
  request.set_all(flags.has("all"));
  auto client = Connect(flags);
  if (!client) return 2;
  auto response = client->Redrive(request);
  if (!response.ok()) return Fail(RpcError(response.status()));
  int ok = 0, failed = 0;
  for (const v1::RedriveResult& r : response->results()) {
    if (r.ok()) {
      std::printf("%s\tok\n", r.id().c_str());
      ++ok;
    } else {
      std::printf("%s\tfailed\t%s\n", r.id().c_str(), OneLine(r.error(), 1000).c_str());
      ++failed;
    }
  }
  std::fflush(stdout);
  std::fprintf(stderr, "lakehose dlq redrive: %d ok, %d failed\n", ok, failed);
  return failed > 0 ? 1 : 0;
}

int DlqPurge(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, 3,
                          {.values = {"--target", "--pipeline"},
                           .booleans = {"--yes"},
                           .repeated = {"--id"},
                           .connection = true},
                          kDlqPurgeUsage, &flags);
      rc >= 0)
    return rc;
  if (!flags.has("target")) return UsageError("--target is required");
  const bool by_pipeline = flags.has("pipeline");
  if (flags.list("id").empty() == !by_pipeline)
    return UsageError("give either --id or --pipeline (not both)");
  if (by_pipeline && !flags.has("yes")) return UsageError("purging a whole pipeline needs --yes");
  v1::PurgeRequest request;
  for (const std::string& id : flags.list("id")) request.add_ids(id);
  if (by_pipeline) {
    request.set_pipeline(flags.get("pipeline"));
    request.set_confirm(true);
  }
  auto client = Connect(flags);
  if (!client) return 2;
  auto response = client->Purge(request);
  if (!response.ok()) return Fail(RpcError(response.status()));
  for (const std::string& id : response->purged()) std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "lakehose dlq purge: %d entries purged\n", response->purged_size());
  return 0;
}

int Health(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, 2,
                          {.values = {"--target", "--service", "--timeout"}, .connection = true},
                          kHealthUsage, &flags);
      rc >= 0)
    return rc;
  if (!flags.has("target")) return UsageError("--target is required");
  double timeout_s = 5;
  if (flags.has("timeout")) {
    char* end = nullptr;
    const std::string t = flags.get("timeout");
    timeout_s = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !(timeout_s > 0 && timeout_s <= 3600))
      return UsageError("--timeout must be a number of seconds, above 0 and at most 3600");
  }
  auto client = Connect(flags);
  if (!client) return 2;
  auto status = client->CheckHealth(flags.get("service"), absl::Seconds(timeout_s));
  if (!status.ok()) {
    std::cerr << "lakehose: health: cannot get an answer from " << flags.get("target") << ": "
              << RpcError(status.status()) << "\n";
    return 2;
  }
  const std::string_view name = HealthStatusName(*status);
  std::fwrite(name.data(), 1, name.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  return *status == HealthStatus::kServing ? 0 : 1;
}

int Dlq(int argc, char** argv) {
  const std::string sub = argc >= 3 ? argv[2] : "";
  if (sub == "list") return DlqList(argc, argv);
  if (sub == "redrive") return DlqRedrive(argc, argv);
  if (sub == "purge") return DlqPurge(argc, argv);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::fputs(kDlqUsage, stdout);
    return 0;
  }
  if (sub.empty()) return UsageError("dlq needs a command: list, redrive or purge");
  return UsageError(StrCat("unknown dlq command ", sub));
}

}  // namespace
}  // namespace lakehose

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(lakehose::kMainUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "transform") return lakehose::Transform(argc, argv);
  if (command == "generate") return lakehose::Generate(argc, argv);
  if (command == "send") return lakehose::Send(argc, argv);
  if (command == "flush") return lakehose::FlushCommand(argc, argv);
  if (command == "dlq") return lakehose::Dlq(argc, argv);
  if (command == "health") return lakehose::Health(argc, argv);
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(lakehose::kMainUsage, stdout);
    return 0;
  }
  return lakehose::UsageError(lakehose::StrCat("unknown command ", command));
}
