// Core transform on the transactions workload, one core: records/s and MB/s of input.
// The simdjson DOM parse + walk of the same input is measured beside it as the parsing
// ceiling (bench/README.md), so the ratio can be read off one run:
//   build/release/bench/transform_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/simdjson_walk.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "core/workload/workload.h"
#include "simdjson.h"

namespace lakehose {
namespace {

constexpr int kRecords = 20000;

const std::vector<std::string>& Records(Workload w) {
  static std::vector<std::string>* records[3] = {};
  auto& r = records[static_cast<int>(w)];
  if (!r) {
    r = new std::vector<std::string>;
    WorkloadGenerator gen(w, 42);
    for (int i = 0; i < kRecords; ++i) gen.Next(&r->emplace_back());
  }
  return *r;
}

const Config& DemoConfig() {
  static Config* config = [] {
    auto c = ParseConfig(EmbeddedDefaultConfigYaml(), "embedded", [](const std::string&) {
      return absl::StatusOr<absl::TimeZone>(absl::UTCTimeZone());
    });
    return new Config(*std::move(c));
  }();
  return *config;
}

void SetCounters(benchmark::State& state, const std::vector<std::string>& records) {
  int64_t bytes = 0;
  for (const auto& r : records) bytes += static_cast<int64_t>(r.size());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * records.size()), benchmark::Counter::kIsRate);
}

void BM_CoreTransform_Transactions(benchmark::State& state) {
  const auto& records = Records(Workload::kTransactions);
  RecordTransformer t(*DemoConfig().pipelines[0]);
  TransformContext ctx{1700000000000, "bench000000"};
  RecordOutcome out;
  for (auto _ : state) {
    for (const auto& r : records) {
      t.Transform({"id", r, 0}, ctx, &out);
      benchmark::DoNotOptimize(out.data.data());
    }
  }
  SetCounters(state, records);
}
BENCHMARK(BM_CoreTransform_Transactions)->Unit(benchmark::kMillisecond);

void BM_SimdjsonParseWalk_Transactions(benchmark::State& state) {
  const auto& records = Records(Workload::kTransactions);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    size_t nodes = 0;
    for (const auto& r : records) {
      simdjson::dom::element root;
      if (parser.parse(r).get(root) != simdjson::SUCCESS) state.SkipWithError("parse failed");
      nodes += SimdjsonWalk(root);
    }
    benchmark::DoNotOptimize(nodes);
  }
  SetCounters(state, records);
}
BENCHMARK(BM_SimdjsonParseWalk_Transactions)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lakehose

BENCHMARK_MAIN();
