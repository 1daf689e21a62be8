// ObjectSink: where sealed objects go. One implementation per destination kind (the
// local lake directory, S3); tests use testing/fake_object_sink.h.
//
// Contract: Put stores `body` under `key` (relative to the destination's root, e.g.
// "transactions/region=EU/date=2023-11-15/hour=00/demo-w1-000000000001.jsonl.gz") and
// returns OK only once the object is durably stored and complete (a reader never sees a
// partial object). With meta.if_none_match, an existing key is ALREADY_EXISTS and left
// untouched. It may retry internally (S3: capped exponential backoff with jitter);
// a non-OK status means it gave up: UNAVAILABLE for transient failures that outlasted the
// retries, FAILED_PRECONDITION / PERMISSION_DENIED / NOT_FOUND / INVALID_ARGUMENT for
// configuration errors that retrying cannot fix. Putting the same key again replaces the
// object. With a meta.deadline, internal retries stop at it: no retry whose wait would
// end past the deadline is made (the first try always goes), and the last error is
// returned as when the retries run out. The object's failure budget (one retry policy for
// the sink's retries and the caller's re-tries; README, `destination.retry`): a Put spends
// at most meta.max_failures failures (S3: failed HTTP exchanges over every request of the
// upload; a sink that does not retry: 1 for a failed Put) and adds what it spent to
// *meta.failures_spent; its backoff resumes after meta.failures_before. Thread-safe: the
// delivery engine calls Put from several threads at once.
//
// Get reads back a whole object (the Iceberg table writer reads the table's metadata:
// version-hint.text, vN.metadata.json, manifest lists). `key` as for Put. It returns the
// object's bytes as stored (no Content-Encoding undone), never a part of one: an object
// being replaced reads as the old or the new one. NOT_FOUND when no object has the key:
// an answer, not a failure (not logged, not counted as a failed request, no breaker
// signal). An object larger than kMaxObjectGetBytes is FAILED_PRECONDITION naming the
// limit (none is read whole into memory). Other errors as Put's: UNAVAILABLE for
// transient failures that outlasted the sink's retries (destination.retry.max_attempts, no
// deadline), PERMISSION_DENIED / FAILED_PRECONDITION / INVALID_ARGUMENT for what retrying
// cannot fix. Thread-safe; may run while Puts of other keys run. Sinks that cannot read
// (the default): UNIMPLEMENTED.
#ifndef LAKEHOSE_SERVICE_DELIVERY_OBJECT_SINK_H_
#define LAKEHOSE_SERVICE_DELIVERY_OBJECT_SINK_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lakehose {

// The largest object ObjectSink::Get reads. Metadata files are kilobytes to a few
// megabytes (a manifest list grows by one entry per manifest); the cap keeps a huge or
// wrong object from exhausting memory.
inline constexpr size_t kMaxObjectGetBytes = size_t{256} << 20;

struct ObjectMeta {
  std::string content_type = "application/x-ndjson";
  std::string content_encoding;  // "gzip", "zstd" or empty
  // Store only if no object has the key (S3: If-None-Match: *); ALREADY_EXISTS otherwise.
  // Re-uploads of sealed objects after a crash use it so they never duplicate data.
  bool if_none_match = false;
  // When the caller stops waiting for this store (wall time, as the Clock reads it): the
  // delivery engine passes the object's seal time plus server.dlq.delivery_retry_budget_s,
  // after which the object goes to the dead-letter queue. InfiniteFuture(): no deadline.
  // A sink that does not retry (the file sink) ignores it.
  absl::Time deadline = absl::InfiniteFuture();
  // The object's failure budget: the failures it spent in earlier Puts (a retrying sink's
  // backoff ladder resumes there) and how many this Put may spend before it gives up
  // (UNAVAILABLE naming the budget; 0: the sink's own limit, destination.retry.max_attempts).
  int failures_before = 0;
  int max_failures = 0;
  // Optional out: the sink adds the failures this Put spent, also when it then succeeded
  // (a Put refused without sending anything, IsDestinationDown, spends none).
  int* failures_spent = nullptr;
};

class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  virtual absl::Status Put(const std::string& key, std::string_view body,
                           const ObjectMeta& meta) = 0;
  // The whole object under `key` (the contract above). Default: UNIMPLEMENTED.
  virtual absl::StatusOr<std::string> Get(const std::string& key) {
    return absl::UnimplementedError("this destination cannot read objects back (Get " + key + ")");
  }
  // Where `key` lives, for responses and logs: file:///abs/path/key, s3://bucket/key.
  virtual std::string Uri(const std::string& key) const = 0;
  // Whether a Put now would be refused without sending anything because the destination
  // is known to be down (its circuit breaker, core/delivery/destination_breaker.h): the
  // engine then skips encoding the object. A hint: Put decides, and answers such a
  // refusal with DestinationDownError. Sinks without a breaker: never.
  virtual bool DestinationDown() const { return false; }
  // Whether the destination is failing now: down, or answering with failures and no
  // success since (its breaker's run of down-signals). The engine then moves sealed
  // objects waiting for it to the dead-letter queue rather than refuse Ingest for the
  // buffer budget. Sinks without a breaker: never.
  virtual bool DestinationFailing() const { return false; }
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DELIVERY_OBJECT_SINK_H_
