// Deterministic generators of DynamoDB Streams records (one JSON document per line), for
// the demo, tests and benchmarks (`lakehose generate`). Pure: the same workload, seed and
// start time always give the same bytes.
//
//  transactions: the financial-transactions shape of the S3 Tables sample (22 attributes,
//                about 1.3 KB per stream record), INSERT/MODIFY/REMOVE mixed.
//  sites:        the small siteId/createdAtTime shape of the Firehose dynamic
//                partitioning sample.
//  edge:         every DynamoDB type with the hard cases: 38-digit numbers, exponents to
//                1e+125 / 1e-130, escapes, control characters, U+2028, non-BMP text,
//                nested maps and lists, empty sets, lists and maps, binary, null siblings.
// Not thread-safe.
#ifndef LAKEHOSE_CORE_WORKLOAD_WORKLOAD_H_
#define LAKEHOSE_CORE_WORKLOAD_WORKLOAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lakehose {

enum class Workload { kTransactions, kSites, kEdge };

std::optional<Workload> ParseWorkload(std::string_view name);

class WorkloadGenerator {
 public:
  // Records carry event times from start_ms to start_ms + 6 hours.
  WorkloadGenerator(Workload workload, uint64_t seed, int64_t start_ms = 1700000000000);

  // Appends the next stream record (no trailing newline) to `out`.
  void Next(std::string* out);

 private:
  uint64_t Rand();  // splitmix64: portable and deterministic
  uint64_t Below(uint64_t n) { return Rand() % n; }
  template <size_t N>
  const char* Pick(const char* const (&options)[N]) {
    return options[Below(N)];
  }
  void Item(int64_t ts, std::string* out, bool old_image);
  void EdgeValue(int depth, std::string* out);
  void EdgeString(std::string* out);
  void EdgeNumber(std::string* out);

  Workload workload_;
  uint64_t state_;
  int64_t start_ms_;
  uint64_t sequence_ = 0;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_WORKLOAD_WORKLOAD_H_
