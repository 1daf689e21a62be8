// LocationSink: the ObjectSink of a pipeline whose table a REST catalog places. Where its
// files go (the table's location: "s3://<bucket>/<path>", S3 Tables'
// "s3://<id>--table-s3") is known only once the catalog has loaded or created the table,
// so the sink is bound then (Bind), and keys are relative to that location ("data/...",
// "metadata/..."). Until bound, a Put or Get first asks the binder (the catalog loads the
// table, which binds) and fails UNAVAILABLE if the table is still unknown.
//
//   LocationSink sink([&](const catalog::TableLocation& l) { return MakeS3SinkFor(l); });
//   sink.SetBinder([&] { return rest_catalog.Load().status(); });
//   RETURN_IF_ERROR(sink.Bind("s3://lake/wh/sales/orders"));
//   sink.Put("data/x.parquet", ...);  // s3://lake/wh/sales/orders/data/x.parquet
//
// Thread-safe.
#ifndef LAKEHOSE_SERVICE_CATALOG_LOCATION_SINK_H_
#define LAKEHOSE_SERVICE_CATALOG_LOCATION_SINK_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/catalog/rest_protocol.h"
#include "core/config/pipeline.h"
#include "service/delivery/object_sink.h"

namespace lakehose {

class LocationSink : public ObjectSink {
 public:
  // Makes the sink of a location's bucket or directory (keys relative to its root).
  using Factory =
      std::function<absl::StatusOr<std::unique_ptr<ObjectSink>>(const catalog::TableLocation&)>;
  explicit LocationSink(Factory factory);

  // Called (without locks held) by Put and Get while unbound; expected to Bind.
  void SetBinder(std::function<absl::Status()> binder);

  // Binds to `location`. Binding again to the same location is OK; to another one
  // FAILED_PRECONDITION (the table moved: its files would be split between two places).
  absl::Status Bind(const std::string& location);
  // The location bound to ("" while unbound).
  std::string location() const;

  absl::Status Put(const std::string& key, std::string_view body, const ObjectMeta& meta) override;
  absl::StatusOr<std::string> Get(const std::string& key) override;
  // "<location>/<key>" once bound; "<unbound table>/<key>" before.
  std::string Uri(const std::string& key) const override;
  bool DestinationDown() const override;
  bool DestinationFailing() const override;

 private:
  struct Bound {
    std::string location;  // as the catalog gave it, without a trailing '/'
    std::string prefix;    // prepended to keys
    std::unique_ptr<ObjectSink> sink;
  };
  // The bound sink, binding first if needed; UNAVAILABLE when the table is still unknown.
  absl::StatusOr<std::shared_ptr<const Bound>> Target();

  const Factory factory_;
  mutable absl::Mutex mu_;
  std::function<absl::Status()> binder_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Bound> bound_ ABSL_GUARDED_BY(mu_);
};

// The destination settings `base` (region, endpoint, retries, credentials) pointed at
// `where`: its bucket (kind s3) or its directory (kind file).
DestinationSpec DestinationAt(const DestinationSpec& base, const catalog::TableLocation& where);

// The region a REST catalog's SigV4 signs for when auth.sigv4.region is not set: the
// destination's, else AWS_REGION, else AWS_DEFAULT_REGION (the process environment).
std::string DefaultCatalogRegion(const DestinationSpec& destination);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CATALOG_LOCATION_SINK_H_
