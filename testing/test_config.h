// Configurations for tests: ParseConfig (core/config/config.h) with one time-zone loader,
// absl's (the tz database under /usr/share/zoneinfo, UTC always), so a test states only
// its YAML.
#ifndef LAKEHOSE_TESTING_TEST_CONFIG_H_
#define LAKEHOSE_TESTING_TEST_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/base/strings.h"
#include "core/config/config.h"

namespace lakehose {

// The seed pipeline of "Partitioned S3 Bucket from DynamoDB", exactly as the README
// shows it (deploy/examples/analytics.yaml): the config and transformer tests load it.
inline constexpr std::string_view kSeedPipelineYaml = R"yaml(server:
  grpc_listen: 0.0.0.0:50051
  metrics_listen: 0.0.0.0:9464
  data_dir: ./var/lakehose          # WAL and dead-letter queue live here

pipelines:
  - name: analytics
    input: dynamodb-stream          # dynamodb-stream | json
    filter:
      event_names: [INSERT, MODIFY] # others -> DROPPED
    image: new                      # new | old | new-or-old (REMOVE falls back to OldImage/Keys)
    fields: [createdAtTime, siteId, id, name, valueOne, valueTwo]   # projection; omit for all
    numbers: number                 # number | string
    partition_keys:
      siteId: { attribute: siteId }
      year:   { timestamp: createdAtTime, unit: ms, format: "%Y" }
      month:  { timestamp: createdAtTime, unit: ms, format: "%m" }
      day:    { timestamp: createdAtTime, unit: ms, format: "%d" }
      hour:   { timestamp: createdAtTime, unit: ms, format: "%H" }
      minute: { timestamp: createdAtTime, unit: ms, format: "%M" }
    prefix: "data/siteId=!{partitionKeyFromLambda:siteId}/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/minute=!{partitionKeyFromLambda:minute}/"
    error_prefix: "errors/!{firehose:error-output-type}/"
    destination:
      kind: file                    # file | s3
      path: ./lake                  # file: the lake's root directory
      # s3: bucket, region, endpoint (or AWS_ENDPOINT_URL_S3), force_path_style,
      #     sse: { kms_key_id }, storage_class
      format: jsonl
      compression: gzip             # none | gzip | zstd
      buffering: { size_mb: 64, interval_s: 60 }
)yaml";

// The TimeZoneLoader of tests.
inline absl::StatusOr<absl::TimeZone> TestTimeZone(const std::string& name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz))
    return absl::NotFoundError(StrCat("unknown time zone \"", name, "\""));
  return tz;
}

// `yaml` parsed as if read from a file named `filename`.
inline absl::StatusOr<Config> ParseTestConfig(std::string_view yaml,
                                              std::string_view filename = "test.yaml") {
  return ParseConfig(yaml, filename, TestTimeZone);
}

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_TEST_CONFIG_H_
