// S3Sink: the ObjectSink (service/delivery/object_sink.h) of an `s3` destination.
//
//   std::shared_ptr<HttpClient> http = NewCurlHttpClient();
//   std::shared_ptr<CredentialsProvider> creds =
//       NewDefaultCredentialsChain(http, RealClock::Get(), ProcessGetenv());  // RealClock:
//       service/platform/clock.h
//   absl::StatusOr<std::unique_ptr<ObjectSink>> sink =
//       MakeS3Sink(pipeline.destination, {.http = http, .credentials = creds});
//
// A body that fits in one part (destination.part_size_mb, >= 5 MiB) goes up with one
// PutObject; a larger one with a multipart upload in parts of that size (aborted on
// failure), so a reader never sees a partial object. Both retry inside the S3 client,
// every step only until meta.deadline, and all steps together within the object's failure
// budget (meta.max_failures; S3PutOptions), reporting the failures spent
// (meta.failures_spent).
//
// Status codes follow the ObjectSink contract: OK once S3 has the whole object;
// UNAVAILABLE for transient failures that outlasted the retries (also credentials
// endpoints that could not be reached); PERMISSION_DENIED, NOT_FOUND (no such bucket),
// INVALID_ARGUMENT and FAILED_PRECONDITION (wrong region, missing credentials, features
// the endpoint lacks) for what retrying cannot fix.
//
// Get is S3Client::GetObject within the destination's retry policy
// (destination.retry.max_attempts, destination.request_timeout_s per exchange, no
// deadline) and kMaxObjectGetBytes, its status mapped as Put's. A missing key reads as
// NOT_FOUND only when the credentials may s3:ListBucket (S3 answers 403 otherwise).
//
// Thread-safe: Put and Get may be called from several threads at once. The sink shares the
// HttpClient and CredentialsProvider (several sinks may share one of each).
#ifndef LAKEHOSE_SERVICE_S3_S3_SINK_H_
#define LAKEHOSE_SERVICE_S3_S3_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/config/pipeline.h"
#include "service/delivery/object_sink.h"
#include "service/s3/s3_client.h"

namespace lakehose {

class S3Sink : public ObjectSink {
 public:
  // Bodies up to `part_bytes` go up with one PutObject, larger ones in parts of that size.
  S3Sink(std::unique_ptr<S3Client> client, int64_t part_bytes)
      : client_(std::move(client)), part_bytes_(part_bytes) {}

  absl::Status Put(const std::string& key, std::string_view body, const ObjectMeta& meta) override;
  // As Put, but with If-None-Match: * — ALREADY_EXISTS when the key exists. For
  // re-uploading a sealed object after a crash without duplicating it (docs/ARCHITECTURE.md);
  // a retry whose earlier try landed also answers ALREADY_EXISTS.
  absl::Status PutIfAbsent(const std::string& key, std::string_view body, const ObjectMeta& meta);
  absl::StatusOr<std::string> Get(const std::string& key) override;
  std::string Uri(const std::string& key) const override { return client_->Uri(key); }
  bool DestinationDown() const override { return client_->DestinationDown(); }
  bool DestinationFailing() const override { return client_->DestinationFailing(); }

  S3Stats stats() const { return client_->stats(); }

 private:
  absl::Status Upload(const std::string& key, std::string_view body, const ObjectMeta& meta,
                      bool if_none_match);

  const std::unique_ptr<S3Client> client_;
  const int64_t part_bytes_;
};

// The sink of an `s3` destination. INVALID_ARGUMENT when `spec` is not a valid s3
// destination (no bucket or region, part_size_mb outside [5, 5120], bad endpoint) or
// `deps` lacks the HttpClient or CredentialsProvider. Reads the environment through
// deps.getenv (default the process's) for AWS_ENDPOINT_URL_S3 and the region only.
absl::StatusOr<std::unique_ptr<ObjectSink>> MakeS3Sink(const DestinationSpec& spec,
                                                       S3ClientDeps deps);

// Maps an S3 client status onto the ObjectSink contract's codes (see above).
absl::Status ToSinkStatus(const absl::Status& s);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_S3_S3_SINK_H_
