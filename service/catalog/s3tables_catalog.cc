#include "service/catalog/s3tables_catalog.h"

#include <cstdio>
#include <utility>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/iceberg/metadata_json.h"
#include "service/catalog/rest_catalog.h"
#include "service/platform/log.h"

namespace lakehose {
namespace {

// spec with the endpoint of the region when none is given.
RestCatalogSpec WithEndpoint(RestCatalogSpec spec, const RestCatalogDeps& deps) {
  if (spec.uri.empty()) {
    const std::string region = spec.sigv4_region.empty() ? deps.default_region : spec.sigv4_region;
    spec.uri = StrCat("https://s3tables.", region.empty() ? "us-east-1" : region, ".amazonaws.com");
  }
  return spec;
}

std::string TrimSlashes(std::string_view s) {
  while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

S3TablesCatalog::S3TablesCatalog(RestCatalogSpec spec, std::string ns, std::string table,
                                 RestCatalogDeps deps)
    : spec_(WithEndpoint(std::move(spec), deps)),
      ns_(std::move(ns)),
      table_(std::move(table)),
      deps_(std::move(deps)),
      name_(StrCat(ns_, ".", table_, " in the table bucket ", spec_.warehouse)),
      http_(spec_, deps_),
      random_(std::random_device{}()) {}

absl::Status S3TablesCatalog::ErrorFor(std::string_view what, const Answer& answer) {
  const catalog::S3TablesError e = catalog::ParseS3TablesError(
      answer.status, FindHttpHeader(answer.headers, "x-amzn-errortype"), answer.body);
  std::string msg = StrCat(what, " ", name_, " (", spec_.uri, "): HTTP ", answer.status,
                           e.type.empty() ? "" : " ", e.type, ": ", e.message);
  if (answer.status == 401 || answer.status == 403)
    StrAppend(&msg, " (", http_.AuthName(),
              ": the identity needs s3tables:GetTable, GetTableMetadataLocation, "
              "UpdateTableMetadataLocation, CreateTable, CreateNamespace and "
              "GetTableData/PutTableData)");
  return CatalogAnswerStatus(answer.status, std::move(msg));
}

absl::StatusOr<std::optional<catalog::S3TablesMetadataLocation>> S3TablesCatalog::Locate() {
  if (http_.region().empty())
    return absl::InvalidArgumentError(
        "destination.iceberg.catalog.auth.sigv4.region: not set, and the destination names no "
        "region");
  ASSIGN_OR_RETURN(
      Answer a,
      http_.Exchange("GET", catalog::S3TablesMetadataLocationPath(spec_.warehouse, ns_, table_), {},
                     ""));
  if (a.status == 404) return std::nullopt;
  if (a.status != 200) return ErrorFor("loading", a);
  absl::StatusOr<catalog::S3TablesMetadataLocation> loc =
      catalog::ParseS3TablesMetadataLocation(a.body);
  if (!loc.ok())
    return absl::FailedPreconditionError(
        StrCat("loading ", name_, ": ", StatusMessage(loc.status())));
  if (loc->warehouse_location.empty())
    return absl::FailedPreconditionError(
        StrCat("loading ", name_, ": the answer has no warehouseLocation"));
  if (deps_.files == nullptr) return absl::InternalError("S3TablesCatalog: no files sink");
  RETURN_IF_ERROR(deps_.files->Bind(loc->warehouse_location));
  return std::optional<catalog::S3TablesMetadataLocation>(*std::move(loc));
}

absl::Status S3TablesCatalog::Connect() { return Locate().status(); }

absl::StatusOr<std::optional<LoadedTable>> S3TablesCatalog::Load() {
  ASSIGN_OR_RETURN(std::optional<catalog::S3TablesMetadataLocation> loc, Locate());
  // No table, or one created but never given metadata (Create finishes it).
  if (!loc || !loc->metadata_location) return std::nullopt;
  const std::string warehouse = TrimSlashes(loc->warehouse_location);
  const std::string& location = *loc->metadata_location;
  if (location.size() <= warehouse.size() + 1 ||
      location.compare(0, warehouse.size(), warehouse) != 0 || location[warehouse.size()] != '/')
    return absl::FailedPreconditionError(StrCat(name_, ": its metadata location ", location,
                                                " is not under its warehouse location ",
                                                warehouse));
  absl::StatusOr<std::string> text = deps_.files->Get(location.substr(warehouse.size() + 1));
  if (absl::IsNotFound(text.status()))
    return absl::DataLossError(StrCat(name_, ": its metadata file ", location, " is missing"));
  if (!text.ok()) return text.status();
  absl::StatusOr<iceberg::TableMetadata> parsed = iceberg::ParseTableMetadata(*text);
  if (!parsed.ok())
    return absl::DataLossError(StrCat(location, ": ", StatusMessage(parsed.status())));
  LoadedTable t;
  t.metadata = *std::move(parsed);
  t.metadata_location = location;
  t.version = MetadataFileVersion(location, t.metadata.last_updated_ms);
  t.version_token = loc->version_token;
  return std::optional<LoadedTable>(std::move(t));
}

absl::Status S3TablesCatalog::Publish(const iceberg::TableMetadata& metadata, int64_t version,
                                      const std::string& token) {
  std::string uuid;
  {
    absl::MutexLock lock(&mu_);
    char buf[40];
    const uint64_t a = random_(), b = random_();
    std::snprintf(buf, sizeof(buf), "%08llx-%04llx-4%03llx-a%03llx-%012llx",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xffff),
                  static_cast<unsigned long long>(a & 0xfff),
                  static_cast<unsigned long long>((b >> 48) & 0xfff),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    uuid = buf;
  }
  char number[24];
  std::snprintf(number, sizeof(number), "%05lld", static_cast<long long>(version));
  const std::string key = StrCat("metadata/", number, "-", uuid, ".metadata.json");
  const std::string location = StrCat(deps_.files->location(), "/", key);
  ObjectMeta meta;
  meta.content_type = "application/json";
  meta.if_none_match = true;
  absl::Status put = deps_.files->Put(key, iceberg::TableMetadataToJson(metadata), meta);
  // A new name: "exists" is this write's own earlier try, which the client retried.
  if (!put.ok() && !absl::IsAlreadyExists(put)) return put;
  absl::StatusOr<Answer> a =
      http_.Exchange("PUT", catalog::S3TablesMetadataLocationPath(spec_.warehouse, ns_, table_), {},
                     catalog::S3TablesUpdateMetadataLocationJson(location, token),
                     /*may_resend=*/false);
  if (!a.ok()) return http_.CommitOutcome(a.status());
  if (a->status == 200) return absl::OkStatus();
  // 429 (throttled) is refused before anything is applied: a known outcome, tried again;
  // 5xx may have been applied (CommitOutcome: unknown).
  absl::Status st = ErrorFor("committing to", *a);
  return a->status == 429 ? st : http_.CommitOutcome(st);
}

absl::Status S3TablesCatalog::Create(const iceberg::TableMetadata& metadata) {
  if (!spec_.create_table)
    return absl::FailedPreconditionError(
        StrCat("the table ", name_,
               " does not exist and destination.iceberg.catalog.create.table is false: create "
               "it (`aws s3tables create-table`)"));
  const std::string path = catalog::S3TablesTablesPath(spec_.warehouse, ns_);
  const std::string body = catalog::S3TablesCreateTableJson(table_);
  ASSIGN_OR_RETURN(Answer a, http_.Exchange("PUT", path, {}, body));
  if (a.status == 404) {
    if (!spec_.create_namespace)
      return absl::FailedPreconditionError(
          StrCat("the namespace ", ns_, " does not exist in the table bucket ", spec_.warehouse,
                 " and destination.iceberg.catalog.create.namespace is false"));
    ASSIGN_OR_RETURN(Answer n,
                     http_.Exchange("PUT", catalog::S3TablesNamespacesPath(spec_.warehouse), {},
                                    catalog::S3TablesCreateNamespaceJson(ns_)));
    if (n.status != 200 && n.status != 409) return ErrorFor("creating the namespace of", n);
    if (n.status == 200)
      Log(LogLevel::kInfo, "iceberg.namespace_created",
          {{"namespace", ns_}, {"table_bucket", spec_.warehouse}});
    ASSIGN_OR_RETURN(a, http_.Exchange("PUT", path, {}, body));
  }
  if (a.status != 200 && a.status != 409) return ErrorFor("creating", a);
  // The table exists (ours, or another writer's): its first metadata, unless it has one.
  ASSIGN_OR_RETURN(std::optional<catalog::S3TablesMetadataLocation> loc, Locate());
  if (!loc) return absl::UnavailableError(StrCat(name_, ": created but not found yet"));
  if (loc->metadata_location) return absl::AlreadyExistsError(StrCat(name_, " exists"));
  iceberg::TableMetadata first = metadata;
  first.location = TrimSlashes(loc->warehouse_location);
  return Publish(first, 0, loc->version_token);
}

absl::Status S3TablesCatalog::Commit(const LoadedTable& base, const catalog::TableChange& change) {
  iceberg::TableMetadata next = base.metadata;
  const int64_t now_ms =
      change.snapshot ? change.snapshot->timestamp_ms
                      : (deps_.clock ? deps_.clock->NowMillis() : RealClock::Get()->NowMillis());
  RETURN_IF_ERROR(catalog::ApplyTableChange(&next, change, base.metadata_location, now_ms));
  return Publish(next, base.version + 1, base.version_token);
}

std::unique_ptr<RemoteCatalog> MakeRemoteCatalog(const IcebergSpec& iceberg, RestCatalogDeps deps) {
  if (iceberg.rest->api == RestCatalogSpec::Api::kS3Tables)
    return std::make_unique<S3TablesCatalog>(*iceberg.rest, iceberg.table_namespace,
                                             iceberg.table_name, std::move(deps));
  return std::make_unique<RestCatalog>(*iceberg.rest,
                                       std::vector<std::string>{iceberg.table_namespace},
                                       iceberg.table_name, std::move(deps));
}

}  // namespace lakehose
