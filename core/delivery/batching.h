// The batching policy of delivery, as pure decisions over numbers: when a partition
// buffer is sealed (size, age), and which buffers to seal early under memory pressure
// (a global byte budget and a cap on active partitions). Time is passed in.
// The delivery engine (service/delivery/delivery_engine.h) applies the decisions.
#ifndef LAKEHOSE_CORE_DELIVERY_BATCHING_H_
#define LAKEHOSE_CORE_DELIVERY_BATCHING_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace lakehose {

enum class FlushReason { kNone, kSize, kAge, kRequested, kShutdown, kPressure, kPartitionCap };
std::string_view FlushReasonName(FlushReason r);

struct BufferStats {
  int64_t bytes = 0;
  int64_t records = 0;
  int64_t oldest_ms = 0;  // when the first record entered the buffer
};

struct BufferLimits {
  int64_t max_bytes = 64 << 20;  // buffering.size_mb
  int64_t max_age_ms = 60000;    // buffering.interval_s
};

// After a record was added: kSize once the buffer reached max_bytes, else kNone.
FlushReason AfterAdd(const BufferStats& b, const BufferLimits& limits);
// kAge once the oldest record has waited max_age_ms, else kNone.
FlushReason OnTick(const BufferStats& b, const BufferLimits& limits, int64_t now_ms);

struct PressureLimits {
  int64_t budget_bytes = 512 << 20;  // buffered + sealed-not-yet-stored bytes
  size_t max_partitions = 1000;      // open buffers
};

// Which buffers to seal early so that `incoming_bytes` more can be buffered: the largest
// first until the buffered bytes fit in half the budget (sealing starts their upload,
// which is what frees memory), and the oldest ones so that `new_partitions` more buffers
// fit under max_partitions. Returns indices into `buffers`, each once.
std::vector<size_t> ChooseEarlySeals(const std::vector<BufferStats>& buffers,
                                     int64_t incoming_bytes, size_t new_partitions,
                                     const PressureLimits& limits);

// True if the request must be refused (RESOURCE_EXHAUSTED): buffered and in-flight bytes
// plus the incoming ones would exceed the budget.
bool OverBudget(int64_t buffered_bytes, int64_t in_flight_bytes, int64_t incoming_bytes,
                const PressureLimits& limits);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_DELIVERY_BATCHING_H_
