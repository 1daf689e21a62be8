#include "service/catalog/rest_catalog.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "service/platform/log.h"

namespace lakehose {

RestCatalog::RestCatalog(RestCatalogSpec spec, std::vector<std::string> ns, std::string table,
                         RestCatalogDeps deps)
    : spec_(std::move(spec)),
      ns_(std::move(ns)),
      table_(std::move(table)),
      deps_(std::move(deps)),
      name_(StrCat(StrJoin(ns_, "."), ".", table_, " in the REST catalog ", spec_.uri)),
      http_(spec_, deps_) {}

RestCatalogStats RestCatalog::Stats() const { return http_.Stats(); }

absl::Status RestCatalog::ErrorFor(std::string_view what, const Answer& answer) {
  const catalog::CatalogError e = catalog::ParseCatalogError(answer.status, answer.body);
  std::string msg = StrCat(what, " ", name_, ": HTTP ", answer.status, e.type.empty() ? "" : " ",
                           e.type, ": ", e.message);
  if (answer.status == 401 || answer.status == 403 || answer.status == 419)
    StrAppend(&msg, " (", http_.AuthName(),
              answer.status == 403 ? ": the identity is not allowed this operation" : "", ")");
  return CatalogAnswerStatus(answer.status, std::move(msg));
}

absl::StatusOr<catalog::CatalogConfig> RestCatalog::Config() {
  {
    absl::MutexLock lock(&mu_);
    if (config_) return *config_;
  }
  if (spec_.auth == RestCatalogSpec::Auth::kSigV4 && http_.region().empty())
    return absl::InvalidArgumentError(
        "destination.iceberg.catalog.auth.sigv4.region: not set, and the destination names no "
        "region");
  CatalogHttp::Query query;
  if (!spec_.warehouse.empty()) query.emplace_back("warehouse", spec_.warehouse);
  ASSIGN_OR_RETURN(Answer a, http_.Exchange("GET", "/v1/config", query, ""));
  if (a.status == 404) {
    return absl::NotFoundError(
        StrCat("the REST catalog ", spec_.uri, " has no warehouse \"", spec_.warehouse,
               "\": ", catalog::ParseCatalogError(a.status, a.body).message));
  }
  if (a.status != 200) return ErrorFor("configuration for", a);
  absl::StatusOr<catalog::CatalogConfig> c = catalog::ParseCatalogConfig(a.body);
  if (!c.ok())
    return absl::InvalidArgumentError(
        StrCat("the REST catalog ", spec_.uri, ": ", StatusMessage(c.status())));
  for (std::string_view needed : {catalog::kLoadTableEndpoint, catalog::kCommitTableEndpoint})
    if (!c->Supports(needed))
      return absl::FailedPreconditionError(StrCat(
          "the REST catalog ", spec_.uri, " does not serve ", needed, " (its config's endpoints)"));
  absl::MutexLock lock(&mu_);
  config_ = *c;
  return *c;
}

absl::Status RestCatalog::Connect() { return Config().status(); }

absl::StatusOr<LoadedTable> RestCatalog::Loaded(std::string_view what, const Answer& answer) {
  absl::StatusOr<catalog::LoadTableResult> r = catalog::ParseLoadTableResult(answer.body);
  if (!r.ok())
    return absl::FailedPreconditionError(StrCat(what, " ", name_, ": ", StatusMessage(r.status())));
  if (deps_.files != nullptr) RETURN_IF_ERROR(deps_.files->Bind(r->metadata.location));
  LoadedTable t;
  t.version = MetadataFileVersion(r->metadata_location, r->metadata.last_updated_ms);
  t.metadata_location = std::move(r->metadata_location);
  t.metadata = std::move(r->metadata);
  return t;
}

absl::StatusOr<std::optional<LoadedTable>> RestCatalog::Load() {
  ASSIGN_OR_RETURN(catalog::CatalogConfig config, Config());
  ASSIGN_OR_RETURN(Answer a,
                   http_.Exchange("GET", catalog::TablePath(config.Prefix(), ns_, table_), {}, ""));
  if (a.status == 404) return std::nullopt;
  if (a.status != 200) return ErrorFor("loading", a);
  ASSIGN_OR_RETURN(LoadedTable t, Loaded("loading", a));
  return std::optional<LoadedTable>(std::move(t));
}

absl::Status RestCatalog::Create(const iceberg::TableMetadata& metadata) {
  if (!spec_.create_table)
    return absl::FailedPreconditionError(
        StrCat("the table ", name_,
               " does not exist and destination.iceberg.catalog.create.table is false: "
               "create it (with your engine, or `aws s3tables create-table`)"));
  ASSIGN_OR_RETURN(catalog::CatalogConfig config, Config());
  const std::string body = catalog::CreateTableRequestJson(table_, metadata);
  const std::string path = catalog::TablesPath(config.Prefix(), ns_);
  ASSIGN_OR_RETURN(Answer a, http_.Exchange("POST", path, {}, body));
  if (a.status == 404) {
    // NoSuchNamespaceException.
    if (!spec_.create_namespace)
      return absl::FailedPreconditionError(
          StrCat("the namespace ", StrJoin(ns_, "."), " does not exist in the REST catalog ",
                 spec_.uri, " and destination.iceberg.catalog.create.namespace is false"));
    ASSIGN_OR_RETURN(Answer n, http_.Exchange("POST", catalog::NamespacesPath(config.Prefix()), {},
                                              catalog::CreateNamespaceRequestJson(ns_)));
    if (n.status != 200 && n.status != 409) return ErrorFor("creating the namespace of", n);
    if (n.status == 200)
      Log(LogLevel::kInfo, "iceberg.namespace_created",
          {{"namespace", StrJoin(ns_, ".")}, {"catalog", spec_.uri}});
    ASSIGN_OR_RETURN(a, http_.Exchange("POST", path, {}, body));
  }
  if (a.status == 409) return absl::AlreadyExistsError(StrCat(name_, " exists"));
  if (a.status != 200) return ErrorFor("creating", a);
  return Loaded("creating", a).status();
}

absl::Status RestCatalog::Commit(const LoadedTable& base, const catalog::TableChange& change) {
  ASSIGN_OR_RETURN(catalog::CatalogConfig config, Config());
  absl::StatusOr<Answer> a =
      http_.Exchange("POST", catalog::TablePath(config.Prefix(), ns_, table_), {},
                     catalog::CommitTableRequestJson(base.metadata, change),
                     /*may_resend=*/false);
  if (!a.ok()) return http_.CommitOutcome(a.status());
  if (a->status == 200) return absl::OkStatus();
  if (a->status == 404)
    return absl::FailedPreconditionError(
        StrCat("the table ", name_,
               " vanished: ", catalog::ParseCatalogError(a->status, a->body).message));
  // 500, 502, 504 (CommitStateUnknownException), and 503 alike: the change may have been
  // applied; the caller reloads and looks for it, nothing is deleted. 429 (throttled) is
  // refused before anything is applied: a known outcome, tried again.
  absl::Status st = ErrorFor("committing to", *a);
  return a->status == 429 ? st : http_.CommitOutcome(st);
}

}  // namespace lakehose
