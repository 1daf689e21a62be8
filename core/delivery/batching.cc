#include "core/delivery/batching.h"

#include <algorithm>
#include <numeric>

namespace lakehose {

std::string_view FlushReasonName(FlushReason r) {
  switch (r) {
    case FlushReason::kNone:
      return "none";
    case FlushReason::kSize:
      return "size";
    case FlushReason::kAge:
      return "age";
    case FlushReason::kRequested:
      return "flush";
    case FlushReason::kShutdown:
      return "shutdown";
    case FlushReason::kPressure:
      return "pressure";
    case FlushReason::kPartitionCap:
      return "partition_cap";
  }
  return "none";
}

FlushReason AfterAdd(const BufferStats& b, const BufferLimits& limits) {
  return b.bytes >= limits.max_bytes ? FlushReason::kSize : FlushReason::kNone;
}

FlushReason OnTick(const BufferStats& b, const BufferLimits& limits, int64_t now_ms) {
  if (b.records > 0 && now_ms - b.oldest_ms >= limits.max_age_ms) return FlushReason::kAge;
  return FlushReason::kNone;
}

std::vector<size_t> ChooseEarlySeals(const std::vector<BufferStats>& buffers,
                                     int64_t incoming_bytes, size_t new_partitions,
                                     const PressureLimits& limits) {
  std::vector<size_t> chosen;
  std::vector<bool> taken(buffers.size(), false);
  int64_t buffered = 0;
  for (const auto& b : buffers) buffered += b.bytes;

  // Partition cap: seal the oldest buffers until a new one fits.
  if (new_partitions > 0 && buffers.size() + new_partitions > limits.max_partitions) {
    std::vector<size_t> by_age(buffers.size());
    std::iota(by_age.begin(), by_age.end(), 0);
    std::sort(by_age.begin(), by_age.end(),
              [&](size_t a, size_t b) { return buffers[a].oldest_ms < buffers[b].oldest_ms; });
    const size_t excess = buffers.size() + new_partitions - limits.max_partitions;
    for (size_t i = 0; i < excess && i < by_age.size(); ++i) {
      taken[by_age[i]] = true;
      chosen.push_back(by_age[i]);
      buffered -= buffers[by_age[i]].bytes;
    }
  }
  // Byte budget: keep buffered bytes (with the incoming ones) under half the budget.
  const int64_t soft = limits.budget_bytes / 2;
  if (buffered + incoming_bytes > soft) {
    std::vector<size_t> by_size(buffers.size());
    std::iota(by_size.begin(), by_size.end(), 0);
    std::sort(by_size.begin(), by_size.end(),
              [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
    for (size_t i : by_size) {
      if (buffered + incoming_bytes <= soft) break;
      if (taken[i] || buffers[i].bytes == 0) continue;
      taken[i] = true;
      chosen.push_back(i);
      buffered -= buffers[i].bytes;
    }
  }
  return chosen;
}

bool OverBudget(int64_t buffered_bytes, int64_t in_flight_bytes, int64_t incoming_bytes,
                const PressureLimits& limits) {
  return buffered_bytes + in_flight_bytes + incoming_bytes > limits.budget_bytes;
}

}  // namespace lakehose
