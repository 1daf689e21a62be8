// A pipeline's destination opened by a command that works without a server (`table
// inspect`, `backfill`): its ObjectSink (the lake directory, or S3 with the usual
// credentials chain), and for a format: iceberg pipeline its IcebergTable, in the
// file-system catalog on the destination or in the configured REST / S3 Tables catalog
// (whose table location the sink is then bound to). Also any other place a command reads
// from (an export's directory): OpenLocation.
#ifndef LAKEHOSE_CLIENT_CLI_DESTINATION_H_
#define LAKEHOSE_CLIENT_CLI_DESTINATION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/config/pipeline.h"
#include "service/catalog/catalog.h"
#include "service/delivery/object_sink.h"
#include "service/iceberg/iceberg_table.h"
#include "service/s3/credentials.h"
#include "service/s3/http_client.h"

namespace lakehose::cli {

struct OpenedDestination {
  std::shared_ptr<HttpClient> http;
  std::shared_ptr<CredentialsProvider> credentials;
  std::unique_ptr<ObjectSink> sink;
  std::unique_ptr<RemoteCatalog> catalog;  // a REST or S3 Tables catalog, else null
  std::unique_ptr<KeyIndex> key_index;     // mode: current, when asked for
  std::unique_ptr<IcebergTable> table;     // format: iceberg, else null
};

// Opens `spec`'s destination (and table, with `table_options`). Nothing is sent yet. A
// mode: current table that will be committed to needs its key index: `data_dir` (the
// config's server.data_dir) opens it (FAILED_PRECONDITION while a server holds it).
absl::StatusOr<OpenedDestination> OpenDestination(const PipelineSpec& spec,
                                                  IcebergTable::Options table_options = {},
                                                  const std::string& data_dir = "");

// The sink of `location` (s3://bucket/prefix or an absolute or relative local directory),
// keys relative to it; S3 with `base`'s region, endpoint and retries, through `opened`'s
// HTTP client and credentials.
absl::StatusOr<std::unique_ptr<ObjectSink>> OpenLocation(const std::string& location,
                                                         const DestinationSpec& base,
                                                         const OpenedDestination& opened);

}  // namespace lakehose::cli

#endif  // LAKEHOSE_CLIENT_CLI_DESTINATION_H_
