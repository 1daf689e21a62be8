#include "service/catalog/location_sink.h"

#include <cstdlib>
#include <utility>

#include "core/base/strings.h"

namespace lakehose {

DestinationSpec DestinationAt(const DestinationSpec& base, const catalog::TableLocation& where) {
  DestinationSpec at = base;
  if (where.local) {
    at.kind = DestinationKind::kFile;
    at.path = where.dir;
  } else {
    at.kind = DestinationKind::kS3;
    at.bucket = where.bucket;
  }
  return at;
}

std::string DefaultCatalogRegion(const DestinationSpec& destination) {
  if (!destination.region.empty()) return destination.region;
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  return "";
}

LocationSink::LocationSink(Factory factory) : factory_(std::move(factory)) {}

void LocationSink::SetBinder(std::function<absl::Status()> binder) {
  absl::MutexLock lock(&mu_);
  binder_ = std::move(binder);
}

absl::Status LocationSink::Bind(const std::string& location) {
  std::string_view trimmed = location;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
  {
    absl::MutexLock lock(&mu_);
    if (bound_) {
      if (bound_->location == trimmed) return absl::OkStatus();
      return absl::FailedPreconditionError(
          StrCat("the table's location changed from ", bound_->location, " to ", trimmed,
                 ": lakehose keeps writing one table in one place (restart to follow it)"));
    }
  }
  absl::StatusOr<catalog::TableLocation> parsed = catalog::ParseTableLocation(trimmed);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<std::unique_ptr<ObjectSink>> sink = factory_(*parsed);
  if (!sink.ok())
    return absl::Status(sink.status().code(), StrCat("the table's location ", trimmed, ": ",
                                                     StatusMessage(sink.status())));
  auto b = std::make_shared<Bound>();
  b->location = std::string(trimmed);
  b->prefix = parsed->local ? "" : parsed->prefix;
  b->sink = *std::move(sink);
  absl::MutexLock lock(&mu_);
  if (!bound_) bound_ = std::move(b);  // a concurrent Bind to the same place won
  return bound_->location == trimmed
             ? absl::OkStatus()
             : absl::FailedPreconditionError(
                   StrCat("the table's location changed from ", bound_->location, " to ", trimmed));
}

std::string LocationSink::location() const {
  absl::MutexLock lock(&mu_);
  return bound_ ? bound_->location : "";
}

absl::StatusOr<std::shared_ptr<const LocationSink::Bound>> LocationSink::Target() {
  std::function<absl::Status()> binder;
  {
    absl::MutexLock lock(&mu_);
    if (bound_) return bound_;
    binder = binder_;
  }
  absl::Status st = binder ? binder() : absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (bound_) return bound_;
  return absl::UnavailableError(
      StrCat("the table's location is not known yet (the catalog has not loaded it)",
             st.ok() ? "" : StrCat(": ", StatusMessage(st))));
}

absl::Status LocationSink::Put(const std::string& key, std::string_view body,
                               const ObjectMeta& meta) {
  absl::StatusOr<std::shared_ptr<const Bound>> b = Target();
  if (!b.ok()) return b.status();
  return (*b)->sink->Put(StrCat((*b)->prefix, key), body, meta);
}

absl::StatusOr<std::string> LocationSink::Get(const std::string& key) {
  absl::StatusOr<std::shared_ptr<const Bound>> b = Target();
  if (!b.ok()) return b.status();
  return (*b)->sink->Get(StrCat((*b)->prefix, key));
}

std::string LocationSink::Uri(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  if (!bound_) return StrCat("<unbound table>/", key);
  return bound_->sink->Uri(StrCat(bound_->prefix, key));
}

bool LocationSink::DestinationDown() const {
  absl::MutexLock lock(&mu_);
  return bound_ && bound_->sink->DestinationDown();
}

bool LocationSink::DestinationFailing() const {
  absl::MutexLock lock(&mu_);
  return bound_ && bound_->sink->DestinationFailing();
}

}  // namespace lakehose
