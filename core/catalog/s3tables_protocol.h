// Amazon S3 Tables' own API (service s3tables, restJson1), the pure half: the four
// operations lakehose uses to keep an Iceberg table in a table bucket without the Iceberg
// REST endpoint, writing the metadata files itself and moving the table's pointer with
// UpdateTableMetadataLocation under the version token (optimistic concurrency: a stale
// token is 409 ConflictException).
//
//   PUT /namespaces/{tableBucketARN}                                  CreateNamespace
//   PUT /tables/{tableBucketARN}/{namespace}                          CreateTable
//   GET /tables/{tableBucketARN}/{namespace}/{name}/metadata-location GetTableMetadataLocation
//   PUT /tables/{tableBucketARN}/{namespace}/{name}/metadata-location UpdateTableMetadataLocation
//
// Path labels are percent-encoded (the ARN's ':' and '/' too). Pure; thread-safe.
#ifndef LAKEHOSE_CORE_CATALOG_S3TABLES_PROTOCOL_H_
#define LAKEHOSE_CORE_CATALOG_S3TABLES_PROTOCOL_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lakehose::catalog {

// arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:<12 digits>:bucket/<[a-z0-9_-]{3,63}>, as the
// API's pattern says.
bool IsTableBucketArn(std::string_view arn);

std::string S3TablesNamespacesPath(std::string_view bucket_arn);
std::string S3TablesTablesPath(std::string_view bucket_arn, std::string_view ns);
std::string S3TablesMetadataLocationPath(std::string_view bucket_arn, std::string_view ns,
                                         std::string_view name);

std::string S3TablesCreateNamespaceJson(std::string_view ns);
std::string S3TablesCreateTableJson(std::string_view name);
std::string S3TablesUpdateMetadataLocationJson(std::string_view metadata_location,
                                               std::string_view version_token);

// GetTableMetadataLocation's answer (and the token of UpdateTableMetadataLocation's).
struct S3TablesMetadataLocation {
  std::string version_token;
  std::optional<std::string> metadata_location;  // absent until the table's first metadata
  std::string warehouse_location;                // empty in an update's answer
};
absl::StatusOr<S3TablesMetadataLocation> ParseS3TablesMetadataLocation(std::string_view json);

// An error answer's name (the x-amzn-ErrorType header, without what follows ':') and
// message (the body's "message", else its start).
struct S3TablesError {
  std::string type;
  std::string message;
};
S3TablesError ParseS3TablesError(int http_status, std::string_view error_type_header,
                                 std::string_view body);

}  // namespace lakehose::catalog

#endif  // LAKEHOSE_CORE_CATALOG_S3TABLES_PROTOCOL_H_
