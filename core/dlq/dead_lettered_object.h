// DeadLetteredObject: a sealed object that the delivery engine gives up on (its store kept
// failing for the retry budget) and hands to the dead-letter queue: what the engine's
// DeliveryEngine::Options::dead_letter receives and DeadLetterQueue::AddDelivery takes.
// It lives here, in the pure half of the DLQ part, so that the engine and the queue
// share it without linking each other.
//
// A view: every string is borrowed from the caller and valid only during the call it is
// passed to (the queue copies what it keeps). Plain data.
#ifndef LAKEHOSE_CORE_DLQ_DEAD_LETTERED_OBJECT_H_
#define LAKEHOSE_CORE_DLQ_DEAD_LETTERED_OBJECT_H_

#include <cstdint>
#include <string_view>

namespace lakehose {

struct DeadLetteredObject {
  // The pipeline the object belongs to (its destination and compression).
  std::string_view pipeline;
  // The object key it must be stored under, relative to the destination's root; the
  // same key on every attempt, so a store that did land is not duplicated.
  std::string_view key;
  // The object's uncompressed JSON Lines; it is compressed again on each store.
  std::string_view body;
  // Lines in `body`.
  int64_t records = 0;
  // Stores tried so far, the one that used up the budget included.
  int attempts = 0;
  // The error of the first failed store, and of the last one (empty: the same).
  std::string_view first_error;
  std::string_view last_error;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_DLQ_DEAD_LETTERED_OBJECT_H_
