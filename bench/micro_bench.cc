// Micro-benchmarks of the hot pieces under the transform and delivery: number
// conversion, string escaping, Hive path escaping, prefix rendering and timestamp
// formatting, SigV4 signing, compression and WAL framing. Figures belong here, never in
// tests (bench.smoke runs this binary briefly so it cannot rot):
//   build/release/bench/micro_bench [--benchmark_filter=Escape]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/base/compress.h"
#include "core/base/decimal.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/partition/path_safe.h"
#include "core/partition/prefix_template.h"
#include "core/partition/time_format.h"
#include "core/s3/sigv4.h"
#include "core/transform/transformer.h"
#include "core/wal/wal_format.h"
#include "core/workload/workload.h"

namespace lakehose {
namespace {

// ---- number conversion (DynamoDB N -> JSON number) --------------------------------

const std::vector<std::string>& Numbers() {
  static const auto* v =
      new std::vector<std::string>{"13.45",
                                   "1700000000123",
                                   "0",
                                   "-42",
                                   "987654.000001",
                                   "12345678901234567890123456789012345678",
                                   "9.9999999999999999999999999999999999999E+125",
                                   "1E-130",
                                   "+7",
                                   "007.50"};
  return *v;
}

void BM_AppendDecimalAsJson(benchmark::State& state) {
  std::string out;
  int64_t bytes = 0;
  for (const auto& n : Numbers()) bytes += static_cast<int64_t>(n.size());
  for (auto _ : state) {
    out.clear();
    for (const auto& n : Numbers()) AppendDecimalAsJson(n, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(Numbers().size()));
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_AppendDecimalAsJson);

void BM_DecimalToInt64(benchmark::State& state) {
  const std::string_view ms = "1700000000123";
  for (auto _ : state) benchmark::DoNotOptimize(DecimalToInt64(ms, 0));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecimalToInt64);

// ---- string escaping ------------------------------------------------------------------

std::string PlainText(size_t n) {
  std::string s;
  while (s.size() < n) s.append("Payment for order 12345 at merchant MERCH_0042 ");
  s.resize(n);
  return s;
}

std::string EscapeHeavyText(size_t n) {
  std::string s;
  while (s.size() < n) s.append("a\"b\\c\nd\te\x01 \xE2\x80\xA8 \xC3\xA9");
  s.resize(n);
  return s;
}

void BM_AppendValidJsonString_Plain(benchmark::State& state) {
  const std::string s = PlainText(static_cast<size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendValidJsonString(s, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendValidJsonString_Plain)->Arg(8)->Arg(24)->Arg(256)->Arg(4096);

void BM_AppendValidJsonString_Escapes(benchmark::State& state) {
  const std::string s = EscapeHeavyText(static_cast<size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendValidJsonString(s, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendValidJsonString_Escapes)->Arg(256)->Arg(4096);

void BM_AppendJsonString_ValidatesUtf8(benchmark::State& state) {
  const std::string s = PlainText(static_cast<size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendJsonString(s, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendJsonString_ValidatesUtf8)->Arg(24)->Arg(4096);

void BM_AppendPathSafe(benchmark::State& state) {
  const std::vector<std::string> values = {"EU", "2023-11-15", "12", "a/b:c=d", "ACME Corp"};
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& v : values) AppendPathSafe(v, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(values.size()));
}
BENCHMARK(BM_AppendPathSafe);

// ---- prefixes and timestamps ----------------------------------------------------------

void BM_PrefixRender_Demo(benchmark::State& state) {
  const std::vector<std::string> names = {"region", "date", "hour"};
  auto t = PrefixTemplate::Compile(
      "transactions/region=!{partitionKeyFromLambda:region}/date=!{partitionKeyFromLambda:date}/"
      "hour=!{partitionKeyFromLambda:hour}/",
      names);
  const std::vector<std::string> values = {"EU", "2023-11-15", "00"};
  PrefixValues v;
  v.partition_values = &values;
  v.timestamp_ms = 1700000000123;
  std::string out;
  for (auto _ : state) {
    out.clear();
    t->Render(v, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PrefixRender_Demo);

void BM_PrefixRender_Timestamp(benchmark::State& state) {
  auto t = PrefixTemplate::Compile(
      "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/", {});
  PrefixValues v;
  v.timestamp_ms = 1700000000123;
  v.error_output_type = "processing-failed";
  std::string out;
  for (auto _ : state) {
    out.clear();
    t->Render(v, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PrefixRender_Timestamp);

void BM_TimeFormat_Strftime(benchmark::State& state) {
  auto f = TimeFormat::FromStrftime("%Y-%m-%d", absl::UTCTimeZone());
  std::string out;
  int64_t ms = 1700000000123;
  for (auto _ : state) {
    out.clear();
    f->Append(ms += 1000, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimeFormat_Strftime);

// ---- SigV4 ----------------------------------------------------------------------------

void BM_SignV4_PutObject(benchmark::State& state) {
  SigV4Request req;
  req.method = "PUT";
  req.path =
      "/lake/transactions/region=EU/date=2023-11-15/hour=00/"
      "demo-replica-0-0000000000000042.jsonl.zst";
  req.headers = {
      {"Host", "127.0.0.1:9000"},
      {"Content-Length", "8388608"},
      {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
      {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"If-None-Match", "*"}};
  req.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const SigV4Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
  SigV4Params params{"us-east-1", "s3", 1700000000, true};
  for (auto _ : state) benchmark::DoNotOptimize(SignV4(req, creds, params).signature.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignV4_PutObject);

void BM_Sha256Hex_1MiB(benchmark::State& state) {
  const std::string data = PlainText(1 << 20);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Hex(data).data());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Sha256Hex_1MiB);

// ---- compression and framing ----------------------------------------------------------

// About `n` bytes of the transform's output (JSON Lines of the transactions workload).
const std::string& Jsonl(size_t n) {
  static std::string* out = [] {
    auto* s = new std::string;
    auto c = ParseConfig(EmbeddedDefaultConfigYaml(), "embedded", [](const std::string&) {
      return absl::StatusOr<absl::TimeZone>(absl::UTCTimeZone());
    });
    RecordTransformer t(*c->pipelines[0]);
    WorkloadGenerator gen(Workload::kTransactions, 7);
    RecordOutcome o;
    std::string rec;
    while (s->size() < (8u << 20)) {
      rec.clear();
      gen.Next(&rec);
      t.Transform({"id", rec, 0}, {1700000000000, "bench000000"}, &o);
      s->append(o.data);
      s->push_back('\n');
    }
    return s;
  }();
  static std::string cut;
  cut.assign(*out, 0, std::min(n, out->size()));
  return cut;
}

void BM_Compress(benchmark::State& state, Compression codec) {
  const std::string data = Jsonl(static_cast<size_t>(state.range(0)));
  size_t out = 0;
  for (auto _ : state) {
    auto c = Compress(codec, -1, data);
    out = c->size();
    benchmark::DoNotOptimize(c->data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(out);
}
BENCHMARK_CAPTURE(BM_Compress, zstd3, Compression::kZstd)
    ->Arg(64 << 10)
    ->Arg(4 << 20)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Compress, gzip6, Compression::kGzip)
    ->Arg(64 << 10)
    ->Arg(4 << 20)
    ->Unit(benchmark::kMicrosecond);

void BM_WalFrame_Accept500(benchmark::State& state) {
  const std::string& data = Jsonl(1 << 20);
  std::vector<std::pair<std::string_view, std::string_view>> lines;
  size_t pos = 0;
  while (lines.size() < 500 && pos < data.size()) {
    const size_t end = data.find('\n', pos);
    lines.emplace_back("transactions/region=EU/date=2023-11-15/hour=00/",
                       std::string_view(data).substr(pos, end - pos));
    pos = end + 1;
  }
  int64_t bytes = 0;
  for (const auto& l : lines) bytes += static_cast<int64_t>(l.second.size());
  std::string payload, frame;
  for (auto _ : state) {
    payload.clear();
    frame.clear();
    EncodeWalAccept("demo", 1700000000000, lines, &payload);
    AppendWalFrame(/*segment=*/1, WalPosition{}, WalType::kAccept, payload, &frame);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_WalFrame_Accept500)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lakehose

BENCHMARK_MAIN();
