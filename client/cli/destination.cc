#include "client/cli/destination.h"

#include <filesystem>
#include <utility>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/catalog/rest_protocol.h"
#include "service/catalog/location_sink.h"
#include "service/catalog/rest_catalog.h"
#include "service/catalog/s3tables_catalog.h"
#include "service/delivery/file_sink.h"
#include "service/platform/clock.h"
#include "service/s3/s3_sink.h"

namespace lakehose::cli {
namespace {

// The sink of `dest`. Takes the shared pointers (not the OpenedDestination, which moves).
absl::StatusOr<std::unique_ptr<ObjectSink>> SinkOf(
    const DestinationSpec& dest, const std::shared_ptr<HttpClient>& http,
    const std::shared_ptr<CredentialsProvider>& credentials) {
  if (dest.kind == DestinationKind::kFile) return std::make_unique<FileSink>(dest.path);
  S3ClientDeps deps;
  deps.http = http;
  deps.credentials = credentials;
  return MakeS3Sink(dest, std::move(deps));
}

}  // namespace

absl::StatusOr<OpenedDestination> OpenDestination(const PipelineSpec& spec,
                                                  IcebergTable::Options table_options,
                                                  const std::string& data_dir) {
  OpenedDestination out;
  if (spec.destination.iceberg && spec.destination.iceberg->mode == IcebergSpec::Mode::kCurrent &&
      !data_dir.empty()) {
    absl::StatusOr<std::unique_ptr<KeyIndex>> index =
        KeyIndex::Open(KeyIndexDir(data_dir, spec.name));
    if (!index.ok())
      return absl::Status(index.status().code(),
                          StrCat(StatusMessage(index.status()),
                                 absl::IsFailedPrecondition(index.status())
                                     ? " (stop lakehose-server for this pipeline first)"
                                     : ""));
    out.key_index = *std::move(index);
    table_options.key_index = out.key_index.get();
  }
  out.http = NewCurlHttpClient();
  out.credentials = NewDefaultCredentialsChain(out.http, RealClock::Get(), ProcessGetenv());
  const std::optional<IcebergSpec>& ice = spec.destination.iceberg;
  if (ice && ice->rest) {
    // The files are where the catalog placed the table (bound when it is loaded).
    auto located =
        std::make_unique<LocationSink>([&spec, http = out.http, credentials = out.credentials](
                                           const catalog::TableLocation& where) {
          return SinkOf(DestinationAt(spec.destination, where), http, credentials);
        });
    RestCatalogDeps deps;
    deps.http = out.http;
    deps.credentials = out.credentials;
    deps.files = located.get();
    deps.default_region = DefaultCatalogRegion(spec.destination);
    out.catalog = MakeRemoteCatalog(*ice, std::move(deps));
    out.sink = std::move(located);
  } else {
    absl::StatusOr<std::unique_ptr<ObjectSink>> made =
        SinkOf(spec.destination, out.http, out.credentials);
    if (!made.ok()) return made.status();
    out.sink = *std::move(made);
  }
  if (ice)
    out.table = out.catalog
                    ? std::make_unique<IcebergTable>(spec, *out.sink, *out.catalog,
                                                     std::move(table_options))
                    : std::make_unique<IcebergTable>(spec, *out.sink, std::move(table_options));
  return out;
}

absl::StatusOr<std::unique_ptr<ObjectSink>> OpenLocation(const std::string& location,
                                                         const DestinationSpec& base,
                                                         const OpenedDestination& opened) {
  std::string uri = location;
  if (uri.find("://") == std::string::npos) {
    std::error_code ec;
    uri = std::filesystem::absolute(location, ec).lexically_normal().string();
  }
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  absl::StatusOr<catalog::TableLocation> where = catalog::ParseTableLocation(uri);
  if (!where.ok()) return where.status();
  auto sink =
      std::make_unique<LocationSink>([base, http = opened.http, credentials = opened.credentials](
                                         const catalog::TableLocation& w) {
        return SinkOf(DestinationAt(base, w), http, credentials);
      });
  if (absl::Status st = sink->Bind(uri); !st.ok()) return st;
  return sink;
}

}  // namespace lakehose::cli
