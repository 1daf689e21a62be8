// PipelineSpec: one validated pipeline definition, built by ParseConfig (config.h) and
// read by the transformer, the delivery engine and the sinks.
// Plain data; immutable once built; safe to share between threads.
#ifndef LAKEHOSE_CORE_CONFIG_PIPELINE_H_
#define LAKEHOSE_CORE_CONFIG_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "core/base/compress.h"
#include "core/base/string_view_hash.h"
#include "core/parquet/parquet_writer.h"
#include "core/partition/object_key_limits.h"
#include "core/partition/prefix_template.h"
#include "core/partition/time_format.h"

namespace lakehose {

enum class InputKind { kDynamoDbStream, kJson };
enum class ImageChoice { kNew, kOld, kNewOrOld };
enum class NumberMode { kNumber, kString };

// Event names as a bit set.
enum EventBits : uint8_t { kEventInsert = 1, kEventModify = 2, kEventRemove = 4 };

enum class TimestampUnit { kSeconds, kMillis, kMicros };
// Where a timestamp partition key looks when its attribute is absent or unusable.
enum class TimestampFallback { kNone, kApproximateCreationTime, kArrivalTime };

struct PartitionKeySpec {
  std::string name;
  // Attribute path in the chosen image (or the JSON document), dot-separated for nested
  // maps: "customer.region".
  std::vector<std::string> attribute_path;
  std::string attribute;  // the path as written, for messages
  bool is_timestamp = false;
  TimestampUnit unit = TimestampUnit::kMillis;
  std::optional<TimeFormat> format;  // set iff is_timestamp
  std::string timezone = "UTC";
  TimestampFallback fallback = TimestampFallback::kNone;
  std::optional<std::string> default_value;  // used when the value is missing
  // A value that is present but not a timestamp: false (the default) fails the record
  // with INVALID_TIMESTAMP; true treats it as missing (the fallback, then the default).
  bool fallback_on_invalid = false;
};

enum class DestinationKind { kFile, kS3 };

// A partition field of an Iceberg table: a transform of a source column ("identity",
// "bucket[N]", "truncate[W]", "year", "month", "day", "hour").
struct IcebergPartitionFieldSpec {
  std::string source;
  std::string transform;
};

// destination.iceberg.catalog with kind: rest: an Iceberg REST catalog (Amazon S3 Tables,
// Glue's Iceberg endpoint, Polaris, Nessie, Lakekeeper, ...).
struct RestCatalogSpec {
  // kind: rest (the Iceberg REST protocol) or kind: s3tables (S3 Tables' own API:
  // GetTableMetadataLocation / UpdateTableMetadataLocation; lakehose writes the metadata
  // files; always SigV4 with the signing name s3tables).
  enum class Api { kRest, kS3Tables };
  Api api = Api::kRest;
  // The catalog's base URI (REST routes are <uri>/v1/...). s3tables: empty means
  // https://s3tables.<region>.amazonaws.com.
  std::string uri;
  std::string warehouse;  // sent to GET /v1/config; s3tables: the table bucket's ARN
  enum class Auth { kNone, kSigV4, kOAuth2, kTokenFile };
  Auth auth = Auth::kNone;
  std::string sigv4_service;     // signing name: s3tables, glue, ...
  std::string sigv4_region;      // default: the destination's region
  std::string oauth2_token_uri;  // default: <uri>/v1/oauth/tokens (the spec's, deprecated)
  std::string oauth2_client_id;
  std::string oauth2_client_secret_file;  // read at each token request (rotations apply)
  std::string oauth2_scope;
  std::string token_file;        // a bearer token, read at each request
  bool create_namespace = true;  // create what is missing (with the pipeline's schema/spec)
  bool create_table = true;
  double request_timeout_s = 30;
};

// destination.iceberg (format: iceberg): the table the pipeline commits to.
struct IcebergSpec {
  std::string table_namespace;          // "sales" of table "sales.transactions"
  std::string table_name;               // "transactions"
  std::string catalog = "filesystem";   // filesystem | rest
  std::optional<RestCatalogSpec> rest;  // catalog: rest
  double commit_interval_s = 60;
  // Records (changes) in one commit at most: the objects waiting beyond it are committed
  // in the next one, at once. Bounds a commit's time and memory (mode current plans every
  // change against the key index in it).
  int64_t max_commit_records = 1'000'000;
  // Declared, or derived from the pipeline's partition_keys (partition_spec_derived).
  std::vector<IcebergPartitionFieldSpec> partition_spec;
  bool partition_spec_derived = false;
  // Declared columns (optional): written with these types; others are inferred.
  std::vector<ParquetColumn> schema;
  std::vector<std::string> identifier;  // identifier-field-ids by column name
  // changelog: every change a row. current: one row per live item (README "Current-state
  // tables"), keyed by `identifier` (the DynamoDB table's key attributes), kept with
  // position deletes from a key index under server.data_dir.
  enum class Mode { kChangelog, kCurrent };
  Mode mode = Mode::kChangelog;
  // The table's location relative to the destination's root: "<namespace>/<name>" in the
  // file-system catalog; "" with a REST catalog (its files are under the location the
  // catalog gives, and keys are relative to it).
  std::string RelativeLocation() const {
    return rest ? std::string() : table_namespace + "/" + table_name;
  }
};

// Columns every Iceberg change-log table has (README, "Iceberg tables"): the change's
// operation (INSERT, UPDATE, DELETE), its event time (timestamptz: the time the
// pipeline's timestamp partition keys resolve to, else the stream record's
// ApproximateCreationDateTime, else the arrival time) and, for dynamodb-stream input,
// the stream's SequenceNumber (the metadata field, "_SequenceNumber").
inline constexpr std::string_view kIcebergOpColumn = "_op";
inline constexpr std::string_view kIcebergEventTimeColumn = "_event_time";
inline constexpr std::string_view kIcebergSequenceColumn = "_SequenceNumber";
// mode: current also orders changes by the stream record's ApproximateCreationDateTime
// (the metadata field, in milliseconds).
inline constexpr std::string_view kIcebergCreationTimeColumn = "_ApproximateCreationDateTime";

// Where OK records go: read by the delivery engine (buffering, encoding) and by the sink
// built for the pipeline (file or S3).
struct DestinationSpec {
  DestinationKind kind = DestinationKind::kFile;
  std::string path = "./lake";  // file: root directory of the lake
  std::string bucket, region, endpoint, storage_class, kms_key_id;
  bool force_path_style = false;
  std::string format = "jsonl";  // jsonl | parquet | iceberg
  // Whole-object compression of JSON Lines objects. For format parquet it is kNone (pages
  // are compressed inside the file with parquet.codec); error documents of a parquet
  // pipeline are then plain .jsonl.
  Compression compression = Compression::kGzip;
  int compression_level = -1;  // -1 = the codec's default (gzip 6, zstd 3)
  double buffer_size_mb = 64;
  double buffer_interval_s = 60;
  // s3: objects larger than one part go up with multipart upload (part size >= 5 MiB).
  double part_size_mb = 8;
  // destination.retry, the one retry policy of a sealed object (README, "Retries"): the
  // failures it may spend in all (S3: failed exchanges over every store; file: failed
  // stores) and the capped exponential backoff with full jitter between its tries, inside
  // the S3 client and between the delivery engine's re-queues alike.
  int max_attempts = 10;
  int64_t retry_base_delay_ms = 100;
  int64_t retry_max_delay_ms = 20000;
  double request_timeout_s = 60;
  // format parquet: codec (from `compression`, default snappy), level, row groups, pages,
  // declared schema, and the key-value metadata naming the pipeline.
  ParquetOptions parquet;
  // format iceberg: the table (data files are Parquet, with `parquet` as above).
  std::optional<IcebergSpec> iceberg;
};

struct PipelineSpec {
  std::string name;
  InputKind input = InputKind::kDynamoDbStream;
  uint8_t event_names = kEventInsert | kEventModify | kEventRemove;
  ImageChoice image = ImageChoice::kNew;
  // Projection: empty means all attributes.
  std::vector<std::string> fields;
  absl::flat_hash_set<std::string, StringViewHash, std::equal_to<>> field_set;
  NumberMode numbers = NumberMode::kNumber;
  // Stream-record metadata written into the document as "_<name>" (dynamodb-stream only):
  // eventID, eventName, eventSource, awsRegion, eventSourceARN, tableName,
  // SequenceNumber, ApproximateCreationDateTime (ms), SizeBytes, StreamViewType.
  std::vector<std::string> metadata;
  std::vector<PartitionKeySpec> partition_keys;
  std::vector<std::string> key_names;  // partition_keys[i].name, for the templates
  PrefixTemplate prefix;
  PrefixTemplate error_prefix;
  DestinationSpec destination;
  // format iceberg: documents get the change-log columns (kIcebergOpColumn,
  // kIcebergEventTimeColumn; kIcebergSequenceColumn through `metadata`).
  bool iceberg_columns = false;
  // What the destination accepts as an object key; a record whose rendered prefix breaks
  // it is refused (KEY_TOO_LONG). Set from the destination and the pipeline name.
  ObjectKeyLimits key_limits;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_CONFIG_PIPELINE_H_
