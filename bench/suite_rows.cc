// The in-process rows of bench/run.sh: one measurement per invocation, on one core, of a
// file of DynamoDB stream records (one per line, `lakehose generate`):
//
//   bench_rows --row ROW --input RECORDS.jsonl [--min-seconds S]
//
//   core      lakehose's core transform (RecordTransformer, the embedded demo pipeline)
//   simdjson  simdjson DOM parse + walk of every record (the parsing ceiling)
//   memcpy    copying every record into a buffer (the memory ceiling)
//   zstd      zstd -3 of the transform's output, one object per key prefix, as delivery
//   gzip      gzip -6 of the same (the delivery's Compress())
//
// Prints one JSON object: {"row", "records", "bytes" (input bytes), "out_bytes",
// "seconds" (wall), "cpu_seconds" (this thread's), "passes", "pass_records",
// "pass_bytes", "best_pass_cpu_seconds"}. The input is read and prepared first; only the
// loop is timed, repeated until --min-seconds of CPU time; bench/report.py rates a row
// by its fastest pass (on a shared machine, noise only ever slows a pass down). For the compression
// rows, "records" and "bytes" are the input records whose output was compressed, so every row reads
// as "input records per second"; "out_bytes" is what was compressed.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/simdjson_walk.h"
#include "core/base/compress.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "simdjson.h"

namespace lakehose {
namespace {

const Config& DemoConfig() {
  static Config* config = [] {
    auto c = ParseConfig(EmbeddedDefaultConfigYaml(), "embedded", [](const std::string&) {
      return absl::StatusOr<absl::TimeZone>(absl::UTCTimeZone());
    });
    if (!c.ok()) {
      std::cerr << "bench_rows: embedded config: " << c.status() << "\n";
      std::exit(1);
    }
    return new Config(*std::move(c));
  }();
  return *config;
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  int passes = 0;
  double wall = 0;           // seconds
  double cpu = 0;            // this thread's CPU seconds (what a shared machine does not inflate)
  double best_pass_cpu = 0;  // the fastest pass: noise only ever slows a pass down
};

// Runs `pass` (one pass over the input) until min_seconds of CPU time have passed.
template <typename F>
Timing Timed(double min_seconds, F pass) {
  Timing t;
  while (t.passes == 0 || t.cpu < min_seconds) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuSeconds();
    pass();
    const double used = ThreadCpuSeconds() - cpu_start;
    if (t.passes == 0 || used < t.best_pass_cpu) t.best_pass_cpu = used;
    t.cpu += used;
    t.wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++t.passes;
  }
  return t;
}

int Main(int argc, char** argv) {
  std::string row, input;
  double min_seconds = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--row" && i + 1 < argc)
      row = argv[++i];
    else if (a == "--input" && i + 1 < argc)
      input = argv[++i];
    else if (a == "--min-seconds" && i + 1 < argc)
      min_seconds = std::atof(argv[++i]);
    else {
      std::cerr << "usage: bench_rows --row core|simdjson|memcpy|zstd|gzip --input FILE "
                   "[--min-seconds S]\n";
      return 2;
    }
  }
  std::ifstream f(input, std::ios::binary);
  if (!f) {
    std::cerr << "bench_rows: cannot read " << input << "\n";
    return 1;
  }
  std::vector<std::string> records;
  int64_t bytes = 0;
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    bytes += static_cast<int64_t>(line.size());
    records.push_back(std::move(line));
  }
  if (records.empty()) {
    std::cerr << "bench_rows: no records in " << input << "\n";
    return 1;
  }

  const PipelineSpec& spec = *DemoConfig().pipelines[0];
  const TransformContext ctx{1700000000000, "bench000000"};
  int64_t out_bytes = 0;
  Timing t;
  if (row == "core") {
    RecordTransformer transformer(spec);
    RecordOutcome out;
    t = Timed(min_seconds, [&] {
      out_bytes = 0;
      for (const auto& r : records) {
        transformer.Transform({"id", r, 0}, ctx, &out);
        out_bytes += static_cast<int64_t>(out.data.size());
      }
    });
  } else if (row == "simdjson") {
    simdjson::dom::parser parser;
    size_t nodes = 0;
    t = Timed(min_seconds, [&] {
      for (const auto& r : records) {
        simdjson::dom::element root;
        if (parser.parse(r).get(root) != simdjson::SUCCESS) std::abort();
        nodes += SimdjsonWalk(root);
      }
    });
    std::cerr << "bench_rows: simdjson: " << nodes << " nodes walked\n";
  } else if (row == "memcpy") {
    std::string buf(static_cast<size_t>(bytes), '\0');
    t = Timed(min_seconds, [&] {
      char* p = buf.data();
      for (const auto& r : records) {
        std::memcpy(p, r.data(), r.size());
        p += r.size();
      }
      asm volatile("" : : "r"(buf.data()) : "memory");
    });
    out_bytes = bytes;
  } else if (row == "zstd" || row == "gzip") {
    // The transform's output as delivery buffers it: JSON Lines per key prefix.
    std::map<std::string, std::string> objects;
    RecordTransformer transformer(spec);
    RecordOutcome out;
    for (const auto& r : records) {
      transformer.Transform({"id", r, 0}, ctx, &out);
      if (out.result != Verdict::kOk) continue;
      std::string& o = objects[out.key_prefix];
      o.append(out.data);
      o.push_back('\n');
    }
    const Compression codec = row == "zstd" ? Compression::kZstd : Compression::kGzip;
    int64_t compressed = 0;
    t = Timed(min_seconds, [&] {
      compressed = 0;
      for (const auto& [prefix, data] : objects) {
        auto c = Compress(codec, -1, data);
        if (!c.ok()) std::abort();
        compressed += static_cast<int64_t>(c->size());
      }
    });
    for (const auto& [prefix, data] : objects) out_bytes += static_cast<int64_t>(data.size());
    std::cerr << "bench_rows: " << row << ": " << objects.size() << " objects, " << out_bytes
              << " bytes -> " << compressed << "\n";
  } else {
    std::cerr << "bench_rows: unknown row '" << row << "'\n";
    return 2;
  }
  const int64_t n = static_cast<int64_t>(records.size());
  std::cout << "{\"row\":\"" << row << "\",\"records\":" << n * t.passes
            << ",\"bytes\":" << bytes * t.passes << ",\"out_bytes\":" << out_bytes * t.passes
            << ",\"seconds\":" << t.wall << ",\"cpu_seconds\":" << t.cpu
            << ",\"passes\":" << t.passes << ",\"pass_records\":" << n
            << ",\"pass_bytes\":" << bytes << ",\"best_pass_cpu_seconds\":" << t.best_pass_cpu
            << "}\n";
  return 0;
}

}  // namespace
}  // namespace lakehose

int main(int argc, char** argv) { return lakehose::Main(argc, argv); }
