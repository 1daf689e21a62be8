// The Iceberg REST catalog protocol, the pure half: the routes lakehose calls, the request
// bodies it sends and the responses it reads. Written from apache/iceberg's
// open-api/rest-catalog-open-api.yaml; service/catalog's RestCatalog sends them over HTTP.
//
//   ASSIGN_OR_RETURN(CatalogConfig config, ParseCatalogConfig(body_of_GET_v1_config));
//   std::string path = TablePath(config.Prefix(), {"sales"}, "orders");
//   std::string body = CommitTableRequestJson(base_metadata, change);  // POST path
//
// What lakehose uses of the protocol: GET /v1/config (defaults, overrides, the prefix,
// endpoints), POST /v1/{prefix}/namespaces (create), GET and POST
// /v1/{prefix}/namespaces/{ns}/tables/{table} (load, commit), POST
// /v1/{prefix}/namespaces/{ns}/tables (create), and the OAuth2 client-credentials token
// request. Commits carry the requirements that make them safe against other writers:
// assert-table-uuid always; assert-ref-snapshot-id (main at the base's snapshot, null
// when it has none) with a snapshot; assert-current-schema-id and
// assert-last-assigned-field-id with a schema. A failed requirement is the catalog's 409
// CommitFailedException: the writer reloads and rebuilds on the new state.
//
// Parsers take untrusted input (the catalog's answers): strict about what lakehose needs
// (INVALID_ARGUMENT naming the field), tolerant of fields it does not use. Pure;
// thread-safe.
#ifndef LAKEHOSE_CORE_CATALOG_REST_PROTOCOL_H_
#define LAKEHOSE_CORE_CATALOG_REST_PROTOCOL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/catalog/table_change.h"
#include "core/iceberg/types.h"

namespace lakehose::catalog {

using Properties = std::vector<std::pair<std::string, std::string>>;

// ---- Routes (paths under the catalog's URI, percent-encoded as sent) ----

// A namespace as a path parameter: its levels joined with the unit separator (0x1F),
// every byte outside RFC 3986's unreserved set percent-encoded (so 0x1F is "%1F").
std::string NamespaceParam(const std::vector<std::string>& levels);

// "/v1/config" with "?warehouse=<encoded>" when warehouse is non-empty.
std::string ConfigPath(std::string_view warehouse);
// `prefix` is the catalog's (CatalogConfig::Prefix), used as the server gave it (it is
// already a path: Glue's "catalogs/<id>", S3 Tables' encoded bucket ARN); empty: no
// segment ("/v1/namespaces").
std::string NamespacesPath(std::string_view prefix);
std::string TablesPath(std::string_view prefix, const std::vector<std::string>& ns);
std::string TablePath(std::string_view prefix, const std::vector<std::string>& ns,
                      std::string_view table);

// The endpoint names of the config response's `endpoints` ("POST
// /v1/{prefix}/namespaces/{namespace}/tables/{table}"), for the routes lakehose needs.
inline constexpr std::string_view kLoadTableEndpoint =
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}";
inline constexpr std::string_view kCommitTableEndpoint =
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}";
inline constexpr std::string_view kCreateTableEndpoint =
    "POST /v1/{prefix}/namespaces/{namespace}/tables";
inline constexpr std::string_view kCreateNamespaceEndpoint = "POST /v1/{prefix}/namespaces";

// ---- GET /v1/config ----

struct CatalogConfig {
  Properties defaults;
  Properties overrides;
  // Absent from the answer: the spec's default set (which has every route above).
  std::optional<std::vector<std::string>> endpoints;

  // A property as the spec resolves them: overrides, then the client's own (`client`),
  // then defaults.
  std::optional<std::string> Get(std::string_view key, const Properties& client = {}) const;
  // The "prefix" property, or empty.
  std::string Prefix() const { return Get("prefix").value_or(""); }
  // Whether the server says it serves `endpoint` (always when it lists none).
  bool Supports(std::string_view endpoint) const;
};
absl::StatusOr<CatalogConfig> ParseCatalogConfig(std::string_view json);

// ---- Tables ----

// LoadTableResult (load, create and commit answers; a commit's has no config).
struct LoadTableResult {
  std::string metadata_location;  // may be empty (a staged create)
  iceberg::TableMetadata metadata;
  Properties config;
};
absl::StatusOr<LoadTableResult> ParseLoadTableResult(std::string_view json);

// CreateNamespaceRequest: {"namespace":[...],"properties":{}}.
std::string CreateNamespaceRequestJson(const std::vector<std::string>& ns);

// CreateTableRequest for `name` with the schema, partition spec and properties of
// `metadata` (its location is not sent: the catalog places the table). Not staged.
std::string CreateTableRequestJson(std::string_view name, const iceberg::TableMetadata& metadata);

// CommitTableRequest (without the optional identifier: the route names the table):
// requirements and updates of `change` made on `base` (see the top of this file).
std::string CommitTableRequestJson(const iceberg::TableMetadata& base, const TableChange& change);

// ---- Table locations ----

// Where a catalog placed a table (the metadata's `location`): an S3 location
// ("s3://bucket/path", also s3a:// and s3n://, as Java's writers accept them) or a local
// directory ("file:///path", or an absolute path). Data and metadata files go under it.
struct TableLocation {
  bool local = false;
  std::string bucket;  // S3
  std::string prefix;  // S3: the key prefix, "" or ending in '/'
  std::string dir;     // local: the directory, without a trailing '/'
};
// INVALID_ARGUMENT for any other scheme, an empty bucket or a relative path.
absl::StatusOr<TableLocation> ParseTableLocation(std::string_view location);

// ---- Errors ----

// An error answer: the IcebergErrorResponse's type and message when the body is one
// ({"error":{"message","type","code"}}), else the start of the body as the message.
struct CatalogError {
  int status = 0;
  std::string type;     // "CommitFailedException", ...; empty when the body was not one
  std::string message;  // never empty
};
CatalogError ParseCatalogError(int http_status, std::string_view body);

// ---- OAuth2 (client credentials, RFC 6749 section 4.4) ----

// The form body of a client-credentials token request (application/x-www-form-urlencoded).
std::string ClientCredentialsForm(std::string_view client_id, std::string_view client_secret,
                                  std::string_view scope);
struct OAuthToken {
  std::string access_token;
  std::optional<int64_t> expires_in_s;  // absent: the token does not say
};
// The token endpoint's answer (OAuthTokenResponse): access_token required; token_type
// must be bearer (case-insensitive) when present.
absl::StatusOr<OAuthToken> ParseTokenResponse(std::string_view json);
// The OAuthError of a refused token request: "<error>: <error_description>".
std::string ParseOAuthError(int http_status, std::string_view body);

}  // namespace lakehose::catalog

#endif  // LAKEHOSE_CORE_CATALOG_REST_PROTOCOL_H_
