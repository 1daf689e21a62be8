#include "core/config/config.h"

#include <string>

#include "absl/time/time.h"
#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

absl::StatusOr<Config> Parse(std::string_view yaml) {
  return ParseConfig(yaml, "cfg.yaml", TestTimeZone);
}

// The error message of parsing `yaml`, or "<ok>".
std::string ErrorOf(std::string_view yaml) {
  auto c = Parse(yaml);
  if (c.ok()) return "<ok>";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(StatusMessage(c.status()));
}

// A minimal valid pipeline, with `extra` lines (indented by 4) appended.
std::string Pipeline(std::string_view extra) { return StrCat("pipelines:\n  - name: p\n", extra); }

TEST(ConfigTest, DesignExampleLoadsAsWritten) {
  auto c = Parse(kSeedPipelineYaml);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->unknown_keys, IsEmpty());
  EXPECT_EQ(c->server.grpc_listen, "0.0.0.0:50051");
  EXPECT_EQ(c->server.metrics_listen, "0.0.0.0:9464");
  EXPECT_EQ(c->server.data_dir, "./var/lakehose");
  ASSERT_EQ(c->pipelines.size(), 1u);
  const PipelineSpec* p = c->FindPipeline("analytics");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(c->FindPipeline("other"), nullptr);
  EXPECT_EQ(p->input, InputKind::kDynamoDbStream);
  EXPECT_EQ(p->event_names, kEventInsert | kEventModify);
  EXPECT_EQ(p->image, ImageChoice::kNew);
  EXPECT_THAT(p->fields,
              ElementsAre("createdAtTime", "siteId", "id", "name", "valueOne", "valueTwo"));
  EXPECT_TRUE(p->field_set.contains("valueTwo"));
  EXPECT_EQ(p->numbers, NumberMode::kNumber);
  EXPECT_THAT(p->key_names, ElementsAre("siteId", "year", "month", "day", "hour", "minute"));
  ASSERT_EQ(p->partition_keys.size(), 6u);
  EXPECT_FALSE(p->partition_keys[0].is_timestamp);
  EXPECT_EQ(p->partition_keys[0].attribute, "siteId");
  EXPECT_TRUE(p->partition_keys[1].is_timestamp);
  EXPECT_EQ(p->partition_keys[1].unit, TimestampUnit::kMillis);
  ASSERT_TRUE(p->partition_keys[1].format.has_value());
  EXPECT_EQ(p->partition_keys[1].format->Format(1700000000000), "2023");
  EXPECT_EQ(p->partition_keys[5].format->Format(1700000000000), "13");
  EXPECT_THAT(p->prefix.text(), HasSubstr("minute=!{partitionKeyFromLambda:minute}/"));
  EXPECT_TRUE(p->error_prefix.uses_error_output_type());
  EXPECT_EQ(p->destination.kind, DestinationKind::kFile);
  EXPECT_EQ(p->destination.path, "./lake");
  EXPECT_EQ(p->destination.format, "jsonl");
  EXPECT_EQ(p->destination.compression, Compression::kGzip);
  EXPECT_EQ(p->destination.buffer_size_mb, 64);
  EXPECT_EQ(p->destination.buffer_interval_s, 60);
}

TEST(ConfigTest, EmbeddedDefaultConfigParses) {
  auto c = ParseConfig(EmbeddedDefaultConfigYaml(), "<embedded>", TestTimeZone);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->unknown_keys, IsEmpty());
  const PipelineSpec* demo = c->FindPipeline("demo");
  ASSERT_NE(demo, nullptr);
  EXPECT_EQ(demo->image, ImageChoice::kNewOrOld);
  EXPECT_THAT(demo->key_names, ElementsAre("region", "date", "hour"));
  EXPECT_EQ(demo->partition_keys[1].fallback, TimestampFallback::kApproximateCreationTime);
  EXPECT_EQ(demo->partition_keys[0].default_value, "unknown");
}

TEST(ConfigTest, DefaultsWhenOmitted) {
  auto c = Parse(Pipeline(""));
  ASSERT_TRUE(c.ok()) << c.status();
  const PipelineSpec& p = *c->pipelines[0];
  EXPECT_EQ(c->server.grpc_listen, "127.0.0.1:50051");
  EXPECT_EQ(p.input, InputKind::kDynamoDbStream);
  EXPECT_EQ(p.event_names, kEventInsert | kEventModify | kEventRemove);
  EXPECT_EQ(p.image, ImageChoice::kNew);
  EXPECT_THAT(p.fields, IsEmpty());
  EXPECT_EQ(p.numbers, NumberMode::kNumber);
  // No keys: the default prefix is by arrival hour; the error prefix by error type and day.
  EXPECT_EQ(p.prefix.text(), "data/!{timestamp:yyyy/MM/dd/HH}/");
  EXPECT_EQ(p.error_prefix.text(), "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/");
  EXPECT_EQ(p.destination.compression, Compression::kGzip);
}

TEST(ConfigTest, DefaultPrefixIsHiveStyleOverDeclaredKeys) {
  auto c =
      Parse(Pipeline("    partition_keys:\n      region: { attribute: region }\n"
                     "      day: { timestamp: ts, format: \"%Y-%m-%d\" }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipelines[0]->prefix.text(),
            "data/region=!{partitionKeyFromLambda:region}/day=!{partitionKeyFromLambda:day}/");
}

TEST(ConfigTest, PartitionKeyOptions) {
  auto c = Parse(
      Pipeline("    partition_keys:\n"
               "      a: { attribute: customer.region, default: none }\n"
               "      s: { timestamp: ts, unit: s, format: \"%H\", fallback: arrival_time }\n"
               "      u: { timestamp: ts, unit: us, format: \"%H\", fallback: "
               "ApproximateCreationDateTime }\n"
               "      n: { timestamp: ts, format: \"%H\", fallback: none, timezone: UTC }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& k = c->pipelines[0]->partition_keys;
  ASSERT_EQ(k.size(), 4u);
  EXPECT_THAT(k[0].attribute_path, ElementsAre("customer", "region"));
  EXPECT_EQ(k[0].default_value, "none");
  EXPECT_EQ(k[1].unit, TimestampUnit::kSeconds);
  EXPECT_EQ(k[1].fallback, TimestampFallback::kArrivalTime);
  EXPECT_EQ(k[2].unit, TimestampUnit::kMicros);
  EXPECT_EQ(k[2].fallback, TimestampFallback::kApproximateCreationTime);
  EXPECT_EQ(k[3].unit, TimestampUnit::kMillis);
  EXPECT_EQ(k[3].fallback, TimestampFallback::kNone);
}

// Regression (README "Pipelines", partition keys): a present but invalid timestamp used
// to take the fallback silently; taking it now needs this opt-in, parsed per key.
TEST(ConfigTest, FallbackOnInvalidIsAnOptInOfTimestampKeys) {
  auto c = Parse(Pipeline(
      "    partition_keys:\n"
      "      day: { timestamp: ts, format: \"%Y\", fallback: arrival_time }\n"
      "      hour: { timestamp: ts, format: \"%H\", fallback: arrival_time,"
      " fallback_on_invalid: true }\n"
      "      min: { timestamp: ts, format: \"%M\", default: none, fallback_on_invalid: true }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->unknown_keys, IsEmpty());
  const PipelineSpec& p = *c->pipelines[0];
  EXPECT_FALSE(p.partition_keys[0].fallback_on_invalid);  // the default: invalid fails
  EXPECT_TRUE(p.partition_keys[1].fallback_on_invalid);
  EXPECT_TRUE(p.partition_keys[2].fallback_on_invalid);
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n"
                             "      k: { attribute: a, fallback_on_invalid: true }\n")),
            "cfg.yaml: pipelines[0].partition_keys.k.fallback_on_invalid: applies only to "
            "`timestamp` partition keys");
  EXPECT_EQ(
      ErrorOf(Pipeline("    partition_keys:\n"
                       "      k: { timestamp: a, format: \"%Y\", fallback_on_invalid: true }\n")),
      "cfg.yaml: pipelines[0].partition_keys.k.fallback_on_invalid: needs a `fallback` "
      "(other than none) or a `default` for invalid values to take");
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n"
                             "      k: { timestamp: a, format: \"%Y\", default: x,"
                             " fallback_on_invalid: maybe }\n")),
            "cfg.yaml: pipelines[0].partition_keys.k.fallback_on_invalid: must be true or false");
}

// A key's attribute path is walked one configured segment at a time, so its length, not
// the record, bounds the walk; a path deeper than a DynamoDB item can nest (32 levels of
// maps) could never match, and is refused.
TEST(ConfigTest, AttributePathIsAtMostAsDeepAsDynamoDbNests) {
  std::string path33 = "a1";
  for (int i = 2; i <= 33; ++i) path33 += StrCat(".a", i);
  EXPECT_EQ(
      ErrorOf(Pipeline(StrCat("    partition_keys:\n      k: { attribute: ", path33, " }\n"))),
      "<ok>");
  EXPECT_EQ(ErrorOf(Pipeline(StrCat("    partition_keys:\n      k: { timestamp: ", path33,
                                    ".a34, format: \"%Y\" }\n"))),
            "cfg.yaml: pipelines[0].partition_keys.k.timestamp: has 34 segments; at most 33 "
            "(a top-level attribute and 32 levels of nested maps, as DynamoDB allows)");
}

TEST(ConfigTest, ObjectKeyLimitsFollowTheDestination) {
  auto c = Parse(Pipeline("    destination: { kind: file, path: /lake }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  const ObjectKeyLimits& file = c->pipelines[0]->key_limits;
  EXPECT_TRUE(file.file_lake);
  EXPECT_EQ(file.max_component_bytes, kMaxFileNameBytes);
  EXPECT_EQ(file.object_name_bytes, MaxObjectNameBytes(1));  // pipeline "p"
  c = Parse(Pipeline("    destination: { kind: s3, bucket: b }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  const ObjectKeyLimits& s3 = c->pipelines[0]->key_limits;
  EXPECT_FALSE(s3.file_lake);
  EXPECT_EQ(s3.max_component_bytes, 0u);
  EXPECT_EQ(s3.max_key_bytes, kMaxS3KeyBytes);
}

// Regression: a prefix whose literal text alone is too long for the store loaded, and
// every object of the pipeline then failed at delivery.
TEST(ConfigTest, PrefixWhoseFixedPartsAreTooLongIsRefused) {
  const std::string long_dir(300, 'd');
  EXPECT_EQ(
      ErrorOf(Pipeline(StrCat("    prefix: \"data/", long_dir, "/\"\n"))),
      StrCat("cfg.yaml: pipelines[0].prefix: too long for the destination even with "
             "one-byte partition values: path component \"",
             std::string(48, 'd'), "...\" is 300 bytes; a file lake allows 255 per component"));
  // S3 has no component limit...
  EXPECT_EQ(ErrorOf(Pipeline(StrCat("    prefix: \"data/", long_dir,
                                    "/\"\n"
                                    "    destination: { kind: s3, bucket: b }\n"))),
            "<ok>");
  // ... but the whole key: 1,024 less the object name (p-<64>-<20><17> = 104 bytes).
  const std::string fits(1024 - 104, 'x');
  EXPECT_EQ(ErrorOf(Pipeline(StrCat("    prefix: \"", fits,
                                    "\"\n"
                                    "    destination: { kind: s3, bucket: b }\n"))),
            "<ok>");
  EXPECT_THAT(ErrorOf(Pipeline(StrCat("    prefix: \"", fits,
                                      "x\"\n"
                                      "    destination: { kind: s3, bucket: b }\n"))),
              HasSubstr("pipelines[0].prefix: too long for the destination even with one-byte "
                        "partition values: the object key would be up to 1025 bytes"));
  // Partition values count as at least one byte each.
  EXPECT_THAT(
      ErrorOf(Pipeline(StrCat("    partition_keys:\n      k: { attribute: k }\n"
                              "    prefix: \"data/",
                              std::string(254, 'k'),
                              "!{partitionKeyFromLambda:k}!{partitionKeyFromLambda:k}/\"\n"))),
      HasSubstr("is 256 bytes; a file lake allows 255 per component"));
  // The file name: a prefix not ending in '/' runs on into the object name.
  EXPECT_THAT(ErrorOf(Pipeline(StrCat("    prefix: \"data/", std::string(200, 'f'), "\"\n"))),
              HasSubstr("pipelines[0].prefix: too long for the destination even with one-byte "
                        "partition values: the file name starting"));
}

// Failed records cannot be refused any further: their error_prefix must fit however long
// it renders (a year of 10 characters, the random string).
TEST(ConfigTest, ErrorPrefixThatCanBeTooLongIsRefused) {
  EXPECT_EQ(
      ErrorOf(Pipeline(StrCat("    error_prefix: \"errors/", std::string(250, 'e'), "/\"\n"))),
      "<ok>");
  EXPECT_THAT(ErrorOf(Pipeline(StrCat("    error_prefix: \"errors/", std::string(250, 'e'),
                                      "!{timestamp:yyyy}/\"\n"))),
              HasSubstr("pipelines[0].error_prefix: too long for the destination at its longest "
                        "rendering: path component \""));
  EXPECT_THAT(ErrorOf(Pipeline(StrCat("    error_prefix: \"", std::string(1000, 'e'),
                                      "\"\n"
                                      "    destination: { kind: s3, bucket: b }\n"))),
              HasSubstr("pipelines[0].error_prefix: too long for the destination"));
}

TEST(ConfigTest, FileLakeRootLengthIsBounded) {
  EXPECT_EQ(ErrorOf(Pipeline(
                StrCat("    destination: { kind: file, path: /", std::string(2999, 'r'), " }\n"))),
            "<ok>");
  EXPECT_EQ(ErrorOf(Pipeline(
                StrCat("    destination: { kind: file, path: /", std::string(3000, 'r'), " }\n"))),
            "cfg.yaml: pipelines[0].destination.path: is 3001 bytes; at most 3000 (so that "
            "the root, a 1024-byte key and the temporary file name stay under PATH_MAX)");
}

TEST(ConfigTest, NamedTimeZoneIsLoaded) {
  absl::TimeZone probe;
  if (!absl::LoadTimeZone("America/New_York", &probe))
    GTEST_SKIP() << "tzdata absent: skipping named zone test";
  auto c =
      Parse(Pipeline("    partition_keys:\n"
                     "      h: { timestamp: ts, format: \"%H\", timezone: America/New_York }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipelines[0]->partition_keys[0].timezone, "America/New_York");
  EXPECT_EQ(c->pipelines[0]->partition_keys[0].format->Format(1700000000000), "17");
}

TEST(ConfigTest, ErrorsNameFileKeyPathAndReason) {
  EXPECT_EQ(
      ErrorOf(Pipeline(
          "    partition_keys:\n      year: { timestamp: t, unit: sec, format: \"%Y\" }\n")),
      "cfg.yaml: pipelines[0].partition_keys.year.unit: must be one of s, ms, us (got \"sec\")");
  EXPECT_EQ(ErrorOf(Pipeline("    image: newest\n")),
            "cfg.yaml: pipelines[0].image: must be one of new, old, new-or-old (got \"newest\")");
  EXPECT_EQ(ErrorOf(Pipeline("    input: csv\n")),
            "cfg.yaml: pipelines[0].input: must be one of dynamodb-stream, json (got \"csv\")");
  EXPECT_EQ(ErrorOf(Pipeline("    numbers: decimal\n")),
            "cfg.yaml: pipelines[0].numbers: must be one of number, string (got \"decimal\")");
  EXPECT_EQ(ErrorOf(Pipeline("    filter:\n      event_names: [INSERT, DELETE]\n")),
            "cfg.yaml: pipelines[0].filter.event_names[1]: must be one of INSERT, MODIFY, REMOVE "
            "(got \"DELETE\")");
  EXPECT_EQ(ErrorOf(Pipeline("    fields: []\n")),
            "cfg.yaml: pipelines[0].fields: must not be empty (omit it to keep all attributes)");
  EXPECT_EQ(ErrorOf(Pipeline("    fields: a\n")), "cfg.yaml: pipelines[0].fields: must be a list");
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n      y: { timestamp: t }\n")),
            "cfg.yaml: pipelines[0].partition_keys.y.format: is required for `timestamp` partition "
            "keys (e.g. \"%Y\")");
  EXPECT_EQ(
      ErrorOf(Pipeline("    partition_keys:\n      y: { default: x }\n")),
      "cfg.yaml: pipelines[0].partition_keys.y: needs exactly one of `attribute` or `timestamp`");
  EXPECT_EQ(
      ErrorOf(Pipeline(
          "    partition_keys:\n      y: { attribute: a, timestamp: b, format: \"%Y\" }\n")),
      "cfg.yaml: pipelines[0].partition_keys.y: needs exactly one of `attribute` or `timestamp`");
  EXPECT_EQ(
      ErrorOf(Pipeline("    partition_keys:\n      y: { attribute: a, unit: ms }\n")),
      "cfg.yaml: pipelines[0].partition_keys.y.unit: applies only to `timestamp` partition keys");
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n      y: { attribute: a..b }\n")),
            "cfg.yaml: pipelines[0].partition_keys.y.attribute: has an empty path segment");
  EXPECT_EQ(ErrorOf(Pipeline(
                "    partition_keys:\n      y: { timestamp: t, format: \"%Y\", fallback: now }\n")),
            "cfg.yaml: pipelines[0].partition_keys.y.fallback: must be one of none, "
            "approximate_creation_time, "
            "ApproximateCreationDateTime, arrival_time (got \"now\")");
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n      y: { timestamp: t, format: \"%Y%\" }\n")),
            "cfg.yaml: pipelines[0].partition_keys.y.format: format ends with a lone '%'");
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n      \"bad key\": { attribute: a }\n")),
            "cfg.yaml: pipelines[0].partition_keys.bad key: partition key names must match "
            "[A-Za-z_][A-Za-z0-9_-]*");
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys: [a]\n")),
            "cfg.yaml: pipelines[0].partition_keys: must be a mapping of key name to definition");
  EXPECT_THAT(ErrorOf(Pipeline("    metadata: [eventID, color]\n")),
              ::testing::StartsWith(
                  "cfg.yaml: pipelines[0].metadata[1]: unknown stream metadata field \"color\""));
  EXPECT_EQ(ErrorOf("pipelines:\n  - input: json\n"), "cfg.yaml: pipelines[0].name: is required");
  EXPECT_EQ(ErrorOf("pipelines:\n  - name: \"a b\"\n"),
            "cfg.yaml: pipelines[0].name: must be 1-64 characters from A-Z a-z 0-9 _ . -");
  EXPECT_EQ(ErrorOf("pipelines: []\n"), "cfg.yaml: pipelines: must be a non-empty list");
  EXPECT_EQ(ErrorOf("server: {}\n"), "cfg.yaml: pipelines: must be a non-empty list");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "cfg.yaml: (top level): must be a mapping with `pipelines`");
}

TEST(ConfigTest, PrefixErrors) {
  EXPECT_THAT(ErrorOf(Pipeline("    prefix: \"x/!{partitionKeyFromLambda:nope}/\"\n")),
              MatchesRegex("cfg\\.yaml: pipelines\\[0\\]\\.prefix: .*nope.*"));
  EXPECT_THAT(ErrorOf(Pipeline("    prefix: \"x/!{partitionKeyFromLambda:k\"\n")),
              MatchesRegex("cfg\\.yaml: pipelines\\[0\\]\\.prefix: unterminated.*"));
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"/abs/\"\n")),
            "cfg.yaml: pipelines[0].prefix: must not start with '/'");
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"x/!{firehose:error-output-type}/\"\n")),
            "cfg.yaml: pipelines[0].prefix: !{firehose:error-output-type} is only allowed in "
            "error_prefix");
  // error_prefix cannot use partition keys (they are unknown for failed records).
  EXPECT_THAT(ErrorOf(Pipeline("    partition_keys:\n      k: { attribute: k }\n"
                               "    error_prefix: \"e/!{partitionKeyFromLambda:k}/\"\n")),
              MatchesRegex("cfg\\.yaml: pipelines\\[0\\]\\.error_prefix: .*"));
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"same/\"\n    error_prefix: \"same/\"\n")),
            "cfg.yaml: pipelines[0].error_prefix: must differ from prefix, so failed records never "
            "mix with good ones");
}

TEST(ConfigTest, JsonInputRejectsStreamOnlyOptions) {
  EXPECT_EQ(ErrorOf(Pipeline("    input: json\n    image: old\n")),
            "cfg.yaml: pipelines[0].image: applies only to input: dynamodb-stream");
  EXPECT_EQ(
      ErrorOf(Pipeline(
          "    input: json\n    partition_keys:\n"
          "      d: { timestamp: t, format: \"%d\", fallback: approximate_creation_time }\n")),
      "cfg.yaml: pipelines[0].partition_keys.d.fallback: approximate_creation_time needs input: "
      "dynamodb-stream");
  EXPECT_THAT(ErrorOf(Pipeline("    input: json\n    numbers: string\n")),
              ::testing::StartsWith(
                  "cfg.yaml: pipelines[0].numbers: applies only to input: dynamodb-stream"));
}

TEST(ConfigTest, UnknownTimeZoneNamesTheKey) {
  EXPECT_THAT(
      ErrorOf(Pipeline("    partition_keys:\n      h: { timestamp: t, format: \"%H\", timezone: "
                       "Mars/Olympus }\n")),
      MatchesRegex(
          "cfg\\.yaml: pipelines\\[0\\]\\.partition_keys\\.h\\.timezone: .*Mars/Olympus.*"));
}

TEST(ConfigTest, ServerAndDestinationErrors) {
  EXPECT_EQ(ErrorOf("server:\n  shutdown_grace_s: -1\n" + Pipeline("")),
            "cfg.yaml: server.shutdown_grace_s: must be between 0 and 3600 (got -1)");
  EXPECT_EQ(ErrorOf("server:\n  limits:\n    max_record_bytes: lots\n" + Pipeline("")),
            "cfg.yaml: server.limits.max_record_bytes: must be a number");
  EXPECT_EQ(ErrorOf("server:\n  writer_id: \"a/b\"\n" + Pipeline("")),
            "cfg.yaml: server.writer_id: must be 1-64 characters from A-Z a-z 0-9 _ . -");
  EXPECT_EQ(ErrorOf("server: 5\n" + Pipeline("")), "cfg.yaml: server: must be a mapping");
  EXPECT_EQ(ErrorOf(Pipeline("    destination:\n      kind: s3\n")),
            "cfg.yaml: pipelines[0].destination.bucket: is required when kind is s3");
  EXPECT_EQ(ErrorOf(Pipeline("    destination:\n      compression: lz4\n")),
            "cfg.yaml: pipelines[0].destination.compression: must be one of none, gzip, zstd (got "
            "\"lz4\")");
  EXPECT_EQ(
      ErrorOf(Pipeline("    destination:\n      compression: gzip\n      compression_level: 12\n")),
      "cfg.yaml: pipelines[0].destination.compression_level: must be between 1 and 9 (got 12)");
  EXPECT_EQ(ErrorOf(Pipeline("    destination:\n      force_path_style: maybe\n")),
            "cfg.yaml: pipelines[0].destination.force_path_style: must be true or false");
  EXPECT_EQ(ErrorOf(Pipeline("    destination:\n      buffering: { size_mb: 0 }\n")),
            "cfg.yaml: pipelines[0].destination.buffering.size_mb: must be between 0.001 and 4096 "
            "(got 0)");
}

TEST(ConfigTest, ServerOptionsAndLimits) {
  auto c = Parse(
      "server:\n  writer_id: w-1\n  shutdown_grace_s: 5\n  limits:\n    max_records_per_request: "
      "500\n" +
      Pipeline("    destination:\n      kind: s3\n      bucket: b\n      region: eu-west-1\n"
               "      force_path_style: true\n      sse: { kms_key_id: k1 }\n"
               "      compression: zstd\n      compression_level: 19\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.writer_id, "w-1");
  EXPECT_EQ(c->server.shutdown_grace_s, 5);
  EXPECT_EQ(c->server.limits.max_records_per_request, 500);
  EXPECT_EQ(c->server.limits.max_record_bytes, 1 << 20);  // default kept
  const DestinationSpec& d = c->pipelines[0]->destination;
  EXPECT_EQ(d.kind, DestinationKind::kS3);
  EXPECT_EQ(d.bucket, "b");
  EXPECT_EQ(d.region, "eu-west-1");
  EXPECT_TRUE(d.force_path_style);
  EXPECT_EQ(d.kms_key_id, "k1");
  EXPECT_EQ(d.compression, Compression::kZstd);
  EXPECT_EQ(d.compression_level, 19);
}

TEST(ConfigTest, TransportLimits) {
  auto c = Parse(
      "server:\n  limits:\n    max_concurrent_streams: 8\n    memory_quota_mb: 64\n"
      "    max_connections: 200\n    max_connection_idle_s: 30\n    listener_probe_ms: 0\n" +
      Pipeline(""));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.limits.max_concurrent_streams, 8);
  EXPECT_EQ(c->server.limits.memory_quota_mb, 64);
  EXPECT_EQ(c->server.limits.max_connections, 200);
  EXPECT_EQ(c->server.limits.max_connection_idle_s, 30);
  EXPECT_EQ(c->server.limits.listener_probe_ms, 0);
  auto d = Parse(Pipeline(""));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->server.limits.max_concurrent_streams, 100);
  EXPECT_EQ(d->server.limits.memory_quota_mb, 512);
  EXPECT_EQ(d->server.limits.max_connections, 0);
  EXPECT_EQ(d->server.limits.max_connection_idle_s, 300);
  EXPECT_EQ(d->server.limits.listener_probe_ms, 5000);
  EXPECT_EQ(ErrorOf("server:\n  limits:\n    memory_quota_mb: 1\n" + Pipeline("")),
            "cfg.yaml: server.limits.memory_quota_mb: must be between 16 and 1048576 (got 1)");
}

TEST(ConfigTest, NotYamlGivesLineAndColumn) {
  const std::string msg = ErrorOf("pipelines:\n  - name: p\n    fields: [a, b\n");
  EXPECT_THAT(msg, MatchesRegex("cfg\\.yaml:[0-9]+:[0-9]+: .+")) << msg;
  EXPECT_THAT(msg, HasSubstr("not valid YAML")) << msg;
  const std::string msg2 = ErrorOf("{pipelines: [{name: p}]\n");
  EXPECT_THAT(msg2, MatchesRegex("cfg\\.yaml:[0-9]+:[0-9]+: .+")) << msg2;
  const std::string tabs = ErrorOf("pipelines:\n\t- name: p\n");
  EXPECT_THAT(tabs, MatchesRegex("cfg\\.yaml:[0-9]+:[0-9]+: .+")) << tabs;
}

TEST(ConfigTest, NotYamlReportsTheRightLine) {
  // The unclosed flow sequence opens on line 3.
  const std::string msg = ErrorOf("pipelines:\n  - name: p\n    fields: [a, b\n    image: new\n");
  EXPECT_THAT(msg, ContainsRegex("^cfg\\.yaml:[345]:")) << msg;
}

TEST(ConfigTest, DuplicatePipelineNames) {
  EXPECT_EQ(ErrorOf("pipelines:\n  - name: a\n  - name: b\n  - name: a\n"),
            "cfg.yaml: pipelines[2].name: duplicate pipeline name \"a\"");
}

TEST(ConfigTest, UnknownKeysAreCollectedNotFatal) {
  auto c = Parse(
      "extra_top: 1\n"
      "server:\n  grpc_listen: 127.0.0.1:1\n  colour: blue\n"
      "pipelines:\n  - name: p\n    owner: team-a\n"
      "    partition_keys:\n      r: { attribute: r, note: x }\n"
      "    destination:\n      kind: file\n      retention: 7d\n      buffering: { size_mb: 1, "
      "jitter: 2 }\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->unknown_keys,
              ::testing::UnorderedElementsAre(
                  "cfg.yaml: extra_top", "cfg.yaml: server.colour", "cfg.yaml: pipelines[0].owner",
                  "cfg.yaml: pipelines[0].partition_keys.r.note",
                  "cfg.yaml: pipelines[0].destination.retention",
                  "cfg.yaml: pipelines[0].destination.buffering.jitter"));
  EXPECT_EQ(c->server.grpc_listen, "127.0.0.1:1");
}

TEST(ConfigTest, SeveralPipelinesAreKeptInOrder) {
  auto c = Parse("pipelines:\n  - name: one\n  - name: two\n    input: json\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->pipelines.size(), 2u);
  EXPECT_EQ(c->pipelines[0]->name, "one");
  EXPECT_EQ(c->pipelines[1]->name, "two");
  EXPECT_EQ(c->FindPipeline("two")->input, InputKind::kJson);
}

// --- server.tls and server.auth (README "Security") ---

TEST(ConfigTest, SecurityIsOffByDefault) {
  auto c = Parse(Pipeline(""));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->server.tls.enabled());
  EXPECT_THAT(c->server.tls.client_ca_file, IsEmpty());
  EXPECT_THAT(c->server.auth.token_file, IsEmpty());
}

TEST(ConfigTest, TlsMutualTlsAndTokenFileAreParsed) {
  auto c = Parse(
      StrCat("server:\n  tls:\n    cert_file: /etc/lakehose/server.pem\n"
             "    key_file: /etc/lakehose/server.key\n    client_ca_file: /etc/lakehose/ca.pem\n"
             "  auth:\n    token_file: /run/secrets/token\n",
             Pipeline("")));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->server.tls.enabled());
  EXPECT_EQ(c->server.tls.cert_file, "/etc/lakehose/server.pem");
  EXPECT_EQ(c->server.tls.key_file, "/etc/lakehose/server.key");
  EXPECT_EQ(c->server.tls.client_ca_file, "/etc/lakehose/ca.pem");
  EXPECT_EQ(c->server.auth.token_file, "/run/secrets/token");
  EXPECT_THAT(c->unknown_keys, IsEmpty());
}

TEST(ConfigTest, TlsCertAndKeyComeTogether) {
  EXPECT_EQ(
      ErrorOf(StrCat("server:\n  tls:\n    cert_file: c.pem\n", Pipeline(""))),
      "cfg.yaml: server.tls.key_file: is required: TLS needs the private key (PEM) of cert_file");
  EXPECT_EQ(ErrorOf(StrCat("server:\n  tls:\n    key_file: k.pem\n", Pipeline(""))),
            "cfg.yaml: server.tls.cert_file: is required: TLS needs the server's certificate (PEM) "
            "and key_file");
  // A client CA alone is not mutual TLS: the server needs its own certificate first.
  EXPECT_THAT(ErrorOf(StrCat("server:\n  tls:\n    client_ca_file: ca.pem\n", Pipeline(""))),
              HasSubstr("cfg.yaml: server.tls.cert_file: is required"));
}

TEST(ConfigTest, SecurityErrorsNameTheKeyPath) {
  EXPECT_EQ(ErrorOf(StrCat("server:\n  tls: on\n", Pipeline(""))),
            "cfg.yaml: server.tls: must be a mapping");
  EXPECT_EQ(
      ErrorOf(StrCat("server:\n  tls:\n    cert_file: \"\"\n    key_file: k\n", Pipeline(""))),
      "cfg.yaml: server.tls.cert_file: must not be empty (omit the key instead)");
  EXPECT_EQ(ErrorOf(StrCat("server:\n  tls:\n    cert_file: c\n    key_file: [k]\n", Pipeline(""))),
            "cfg.yaml: server.tls.key_file: must be a string");
  EXPECT_EQ(ErrorOf(StrCat(
                "server:\n  tls:\n    cert_file: c\n    key_file: k\n    client_ca_file: \"\"\n",
                Pipeline(""))),
            "cfg.yaml: server.tls.client_ca_file: must not be empty (omit the key instead)");
  EXPECT_EQ(ErrorOf(StrCat("server:\n  auth: {}\n", Pipeline(""))),
            "cfg.yaml: server.auth.token_file: is required in server.auth");
  EXPECT_EQ(ErrorOf(StrCat("server:\n  auth:\n    token_file: {a: 1}\n", Pipeline(""))),
            "cfg.yaml: server.auth.token_file: must be a string");
}

TEST(ConfigTest, UnknownSecurityKeysAreCollected) {
  // A token in the config itself is not supported (configs get committed): reported as
  // unknown, and the server logs it.
  auto c =
      Parse(StrCat("server:\n  tls:\n    cert_file: c\n    key_file: k\n    ciphers: x\n"
                   "  auth:\n    token_file: t\n    token: s3cret\n",
                   Pipeline("")));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->unknown_keys,
              ElementsAre("cfg.yaml: server.tls.ciphers", "cfg.yaml: server.auth.token"));
}

// --- What start-up refuses because it could never work (README "Pipelines", "Start-up
// checks"): each of these configs used to load, and failed later. ---

TEST(ConfigTest, DlqRetryBaseAboveMaxIsRefused) {
  EXPECT_EQ(
      ErrorOf("server:\n  dlq:\n    retry_base_ms: 5000\n    retry_max_ms: 1000\n" + Pipeline("")),
      "cfg.yaml: server.dlq.retry_base_ms: must not exceed server.dlq.retry_max_ms (5000 > "
      "1000)");
  // Against the default maximum (300000) too.
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    retry_base_ms: 600000\n" + Pipeline("")),
            "cfg.yaml: server.dlq.retry_base_ms: must not exceed server.dlq.retry_max_ms (600000 > "
            "300000)");
  EXPECT_EQ(
      ErrorOf("server:\n  dlq:\n    retry_base_ms: 1000\n    retry_max_ms: 1000\n" + Pipeline("")),
      "<ok>");
}

TEST(ConfigTest, DestinationBreakerKeys) {
  {
    auto c = Parse(Pipeline(""));
    ASSERT_TRUE(c.ok()) << c.status();
    const DestinationBreakerConfig& d = c->server.destination_breaker;
    EXPECT_EQ(d.failure_threshold, 5);
    EXPECT_EQ(d.min_down_s, 5);
    EXPECT_EQ(d.probe_base_ms, 1000);
    EXPECT_EQ(d.probe_max_s, 60);
  }
  auto c = Parse(
      "server:\n  destination_breaker: { failure_threshold: 3, min_down_s: 0.5, probe_base_ms: "
      "250, probe_max_s: 10 }\n" +
      Pipeline(""));
  ASSERT_TRUE(c.ok()) << c.status();
  const DestinationBreakerConfig& d = c->server.destination_breaker;
  EXPECT_EQ(d.failure_threshold, 3);
  EXPECT_EQ(d.min_down_s, 0.5);
  EXPECT_EQ(d.probe_base_ms, 250);
  EXPECT_EQ(d.probe_max_s, 10);
}

TEST(ConfigTest, DestinationBreakerOutOfRangeIsRefused) {
  auto breaker = [](std::string_view body) {
    return ErrorOf(StrCat("server:\n  destination_breaker: { ", body, " }\n", Pipeline("")));
  };
  EXPECT_EQ(breaker("failure_threshold: 0"),
            "cfg.yaml: server.destination_breaker.failure_threshold: must be between 1 and 1000 "
            "(got 0)");
  EXPECT_EQ(breaker("min_down_s: 3601"),
            "cfg.yaml: server.destination_breaker.min_down_s: must be between 0 and 3600 (got "
            "3601)");
  EXPECT_EQ(breaker("probe_base_ms: 0"),
            "cfg.yaml: server.destination_breaker.probe_base_ms: must be between 1 and 3600000 "
            "(got 0)");
  EXPECT_EQ(breaker("probe_max_s: 0"),
            "cfg.yaml: server.destination_breaker.probe_max_s: must be between 0.001 and 3600 "
            "(got 0)");
  EXPECT_EQ(breaker("probe_base_ms: 5000, probe_max_s: 2"),
            "cfg.yaml: server.destination_breaker.probe_base_ms: must not exceed "
            "server.destination_breaker.probe_max_s (in ms) (5000 > 2000)");
  EXPECT_EQ(breaker("probe_base_ms: 2000, probe_max_s: 2"), "<ok>");
  EXPECT_EQ(breaker("failure_threshold: 2.5"),
            "cfg.yaml: server.destination_breaker.failure_threshold: must be a whole number (got "
            "2.5)");
  EXPECT_EQ(breaker("probe_base_ms: 100.5"),
            "cfg.yaml: server.destination_breaker.probe_base_ms: must be a whole number (got "
            "100.5)");
  // A misspelt key is reported as unknown (the server logs it), as everywhere else.
  auto c = Parse("server:\n  destination_breaker: { threshold: 3 }\n" + Pipeline(""));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->unknown_keys, ElementsAre("cfg.yaml: server.destination_breaker.threshold"));
}

TEST(ConfigTest, DlqDrainConcurrency) {
  auto d = Parse(Pipeline(""));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->server.dlq_drain_concurrency, 4);
  auto c = Parse("server:\n  dlq:\n    drain_concurrency: 16\n" + Pipeline(""));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.dlq_drain_concurrency, 16);
  EXPECT_THAT(c->unknown_keys, IsEmpty());
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    drain_concurrency: 1\n" + Pipeline("")), "<ok>");
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    drain_concurrency: 64\n" + Pipeline("")), "<ok>");
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    drain_concurrency: 0\n" + Pipeline("")),
            "cfg.yaml: server.dlq.drain_concurrency: must be between 1 and 64 (got 0)");
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    drain_concurrency: 65\n" + Pipeline("")),
            "cfg.yaml: server.dlq.drain_concurrency: must be between 1 and 64 (got 65)");
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    drain_concurrency: 2.5\n" + Pipeline("")),
            "cfg.yaml: server.dlq.drain_concurrency: must be a whole number (got 2.5)");
  EXPECT_EQ(ErrorOf("server:\n  dlq:\n    drain_concurrency: many\n" + Pipeline("")),
            "cfg.yaml: server.dlq.drain_concurrency: must be a number");
}

TEST(ConfigTest, DestinationRetryBaseAboveMaxIsRefused) {
  EXPECT_EQ(ErrorOf(Pipeline(
                "    destination:\n      retry: { base_delay_ms: 30000, max_delay_ms: 1000 }\n")),
            "cfg.yaml: pipelines[0].destination.retry.base_delay_ms: must not exceed "
            "pipelines[0].destination.retry.max_delay_ms (30000 > 1000)");
  EXPECT_EQ(ErrorOf(Pipeline("    destination:\n      retry: { base_delay_ms: 30000 }\n")),
            "cfg.yaml: pipelines[0].destination.retry.base_delay_ms: must not exceed "
            "pipelines[0].destination.retry.max_delay_ms (30000 > 20000)");
}

// A prefix with a `..` component loaded, and every object of the pipeline was then refused
// by the file lake ("would leave the lake root"): acked records went to the DLQ.
TEST(ConfigTest, PrefixWithDotDotComponentIsRefused) {
  const std::string kWhy =
      "an object key must not have a `..` component (the file lake refuses it; S3 tools "
      "resolve it as a path)";
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"data/../other/\"\n")),
            StrCat("cfg.yaml: pipelines[0].prefix: renders as \"data/../other/\": ", kWhy));
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"../up/\"\n")),
            StrCat("cfg.yaml: pipelines[0].prefix: renders as \"../up/\": ", kWhy));
  // Rendered with sample values: quoted text of a timestamp pattern is a component too.
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"d/!{timestamp:'..'}/x/\"\n")),
            StrCat("cfg.yaml: pipelines[0].prefix: renders as \"d/../x/\": ", kWhy));
  EXPECT_EQ(ErrorOf(Pipeline("    error_prefix: \"e/../!{firehose:error-output-type}/\"\n")),
            StrCat("cfg.yaml: pipelines[0].error_prefix: renders as "
                   "\"e/../processing-failed/\": ",
                   kWhy));
}

TEST(ConfigTest, PrefixesThatStayInsideTheLakeStillLoad) {
  // `..` inside a component, or before the object name, never walks the path.
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"a..b/..c/\"\n")), "<ok>");
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"data/..\"\n")), "<ok>");
  // A partition value is path-safe: ".." is written %2E%2E, so a key alone is fine.
  EXPECT_EQ(ErrorOf(Pipeline("    partition_keys:\n      k: { attribute: k }\n"
                             "    prefix: \"!{partitionKeyFromLambda:k}/\"\n")),
            "<ok>");
}

TEST(ConfigTest, ErrorPrefixStartingWithSlashIsRefused) {
  // prefix had this check; error_prefix did not, and its objects were refused at delivery.
  EXPECT_EQ(ErrorOf(Pipeline("    error_prefix: \"/errors/\"\n")),
            "cfg.yaml: pipelines[0].error_prefix: renders as \"/errors/\": an object key must "
            "not start with '/'");
  EXPECT_EQ(ErrorOf(Pipeline("    prefix: \"!{timestamp:'/'}x/\"\n")),
            "cfg.yaml: pipelines[0].prefix: renders as \"/x/\": an object key must not start "
            "with '/'");
}

// `--listen 127.0.0.1:99999` (and the same in the file) listened on another port.
TEST(ConfigTest, ListenAddressesMustBeHostAndPort) {
  EXPECT_EQ(ErrorOf("server:\n  grpc_listen: 127.0.0.1:99999\n" + Pipeline("")),
            "cfg.yaml: server.grpc_listen: port 99999 is out of range (0-65535)");
  EXPECT_EQ(ErrorOf("server:\n  metrics_listen: 127.0.0.1:70000\n" + Pipeline("")),
            "cfg.yaml: server.metrics_listen: port 70000 is out of range (0-65535)");
  EXPECT_EQ(ErrorOf("server:\n  grpc_listen: \"50051\"\n" + Pipeline("")),
            "cfg.yaml: server.grpc_listen: must be HOST:PORT (e.g. 127.0.0.1:50051 or "
            "[::1]:50051)");
  EXPECT_EQ(ErrorOf("server:\n  grpc_listen: \"\"\n" + Pipeline("")),
            "cfg.yaml: server.grpc_listen: must be HOST:PORT (e.g. 127.0.0.1:50051 or "
            "[::1]:50051)");
  // An empty metrics_listen turns the endpoint off; port 0 picks a free port.
  EXPECT_EQ(ErrorOf("server:\n  metrics_listen: \"\"\n  grpc_listen: 127.0.0.1:0\n" + Pipeline("")),
            "<ok>");
}

TEST(ConfigTest, IcebergTableWithADerivedPartitionSpec) {
  auto c = Parse(Pipeline(
      "    partition_keys:\n"
      "      region: { attribute: region }\n"
      "      date: { timestamp: ts, format: \"%Y-%m-%d\", fallback: approximate_creation_time }\n"
      "      hour: { timestamp: ts, format: \"%H\", fallback: approximate_creation_time }\n"
      "    destination:\n"
      "      format: iceberg\n"
      "      iceberg: { table: sales.transactions }\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  const PipelineSpec& p = *c->pipelines[0];
  ASSERT_TRUE(p.destination.iceberg.has_value());
  const IcebergSpec& t = *p.destination.iceberg;
  EXPECT_EQ(t.table_namespace, "sales");
  EXPECT_EQ(t.table_name, "transactions");
  EXPECT_EQ(t.catalog, "filesystem");
  EXPECT_EQ(t.commit_interval_s, 60);
  EXPECT_TRUE(t.partition_spec_derived);
  ASSERT_EQ(t.partition_spec.size(), 2u);
  EXPECT_EQ(t.partition_spec[0].source, "region");
  EXPECT_EQ(t.partition_spec[0].transform, "identity");
  EXPECT_EQ(t.partition_spec[1].source, "_event_time");
  EXPECT_EQ(t.partition_spec[1].transform, "hour");  // the finest of %Y-%m-%d and %H
  // Data files are Parquet, zstd by default; records buffer under the table's data/, one
  // buffer per partition-key values.
  EXPECT_EQ(p.destination.parquet.codec, ParquetCodec::kZstd);
  EXPECT_EQ(p.prefix.text(),
            "sales/transactions/data/region=!{partitionKeyFromLambda:region}/"
            "date=!{partitionKeyFromLambda:date}/hour=!{partitionKeyFromLambda:hour}/");
  EXPECT_TRUE(p.iceberg_columns);
  EXPECT_THAT(p.metadata, ElementsAre("SequenceNumber"));
  // A missing key attribute is a null partition value, not a failed record.
  for (const PartitionKeySpec& k : p.partition_keys) EXPECT_TRUE(k.default_value.has_value());
}

TEST(ConfigTest, IcebergDeclaredSpecSchemaAndInterval) {
  auto c =
      Parse(Pipeline("    input: json\n"
                     "    destination:\n"
                     "      format: iceberg\n"
                     "      compression: snappy\n"
                     "      iceberg:\n"
                     "        table: a.b\n"
                     "        catalog: { kind: filesystem }\n"
                     "        commit_interval_s: 5\n"
                     "        max_commit_records: 250000\n"
                     "        partition_spec:\n"
                     "          - { source: id, transform: \"bucket[16]\" }\n"
                     "          - { source: _event_time, transform: day }\n"
                     "        schema:\n"
                     "          - { name: id, type: string, required: true }\n"
                     "          - { name: amount, type: \"decimal(38,2)\" }\n"
                     "        identifier: [id]\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  const IcebergSpec& t = *c->pipelines[0]->destination.iceberg;
  EXPECT_FALSE(t.partition_spec_derived);
  ASSERT_EQ(t.partition_spec.size(), 2u);
  EXPECT_EQ(t.partition_spec[0].transform, "bucket[16]");
  EXPECT_EQ(t.commit_interval_s, 5);
  EXPECT_EQ(t.max_commit_records, 250000);
  ASSERT_EQ(t.schema.size(), 2u);
  EXPECT_TRUE(t.schema[0].required);
  EXPECT_EQ(t.schema[1].scale, 2);
  EXPECT_THAT(t.identifier, ElementsAre("id"));
  EXPECT_EQ(c->pipelines[0]->destination.parquet.codec, ParquetCodec::kSnappy);
  EXPECT_THAT(c->pipelines[0]->metadata, IsEmpty());  // json input: no stream metadata
}

TEST(ConfigTest, IcebergErrorsNameTheKey) {
  const std::string dest = "    destination:\n      format: iceberg\n";
  EXPECT_EQ(ErrorOf(Pipeline(dest)),
            "cfg.yaml: pipelines[0].destination.iceberg: is required for format: iceberg (at "
            "least `table: <namespace>.<name>`)");
  EXPECT_THAT(ErrorOf(Pipeline(dest + "      iceberg: { table: Sales }\n")),
              HasSubstr("destination.iceberg.table: \"Sales\" must be <namespace>.<name>"));
  EXPECT_THAT(ErrorOf(Pipeline(dest + "      iceberg: { table: a.b, catalog: { kind: rest } }\n")),
              HasSubstr("destination.iceberg.catalog.uri: is required for kind: rest"));
  EXPECT_THAT(ErrorOf(Pipeline(dest + "      iceberg: { table: a.b, catalog: { kind: hive } }\n")),
              HasSubstr("catalog.kind"));
  EXPECT_THAT(
      ErrorOf(Pipeline(dest + "      iceberg: { table: a.b, catalog: { uri: http://x } }\n")),
      HasSubstr("catalog.uri: applies to kind: rest or s3tables only"));
  EXPECT_THAT(
      ErrorOf(Pipeline(dest + "      iceberg:\n        table: a.b\n"
                              "        partition_spec: [{ source: x, transform: minute }]\n")),
      HasSubstr("partition_spec[0].transform: \"minute\" is not one of identity"));
  EXPECT_THAT(ErrorOf(Pipeline(dest + "      iceberg:\n        table: a.b\n"
                                      "        schema: [{ name: id, type: string }]\n"
                                      "        identifier: [id]\n")),
              HasSubstr("identifier[0]: column \"id\" must be declared required: true"));
  EXPECT_THAT(ErrorOf(Pipeline("    prefix: \"x/\"\n" + dest + "      iceberg: { table: a.b }\n")),
              HasSubstr("pipelines[0].prefix: does not apply to format: iceberg"));
  EXPECT_THAT(ErrorOf(Pipeline("    destination:\n      iceberg: { table: a.b }\n")),
              HasSubstr("destination.iceberg: applies only to format: iceberg"));
  EXPECT_THAT(ErrorOf(Pipeline("    partition_keys:\n      a: { timestamp: x, format: \"%Y\" }\n"
                               "      b: { timestamp: y, format: \"%H\" }\n" +
                               dest + "      iceberg: { table: a.b }\n")),
              HasSubstr("timestamp keys of an Iceberg pipeline must read one attribute"));
  EXPECT_THAT(ErrorOf(Pipeline("    partition_keys:\n      r: { attribute: c.region }\n" + dest +
                               "      iceberg: { table: a.b }\n")),
              HasSubstr("a nested attribute (c.region) cannot partition an Iceberg table"));
}

TEST(ConfigTest, IcebergCurrentMode) {
  const std::string current =
      "    destination:\n"
      "      format: iceberg\n"
      "      iceberg:\n"
      "        table: a.b\n"
      "        mode: current\n"
      "        schema: [{ name: pk, type: string, required: true }]\n";
  auto c = Parse(Pipeline(current + "        identifier: [pk]\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipelines[0]->destination.iceberg->mode, IcebergSpec::Mode::kCurrent);
  // The versions changes are ordered by come with every document.
  EXPECT_THAT(c->pipelines[0]->metadata,
              ElementsAre("SequenceNumber", "ApproximateCreationDateTime"));
  auto changelog = Parse(Pipeline(
      "    destination:\n      format: iceberg\n      iceberg: { table: a.b, mode: changelog }\n"));
  ASSERT_TRUE(changelog.ok()) << changelog.status();
  EXPECT_EQ(changelog->pipelines[0]->destination.iceberg->mode, IcebergSpec::Mode::kChangelog);
  EXPECT_THAT(changelog->pipelines[0]->metadata, ElementsAre("SequenceNumber"));

  EXPECT_THAT(ErrorOf(Pipeline(current)),
              HasSubstr("destination.iceberg.identifier: is required for mode: current"));
  EXPECT_THAT(ErrorOf(Pipeline("    input: json\n" + current + "        identifier: [pk]\n")),
              HasSubstr("destination.iceberg.mode: current needs input: dynamodb-stream"));
  EXPECT_THAT(ErrorOf(Pipeline("    image: old\n" + current + "        identifier: [pk]\n")),
              HasSubstr("image: old does not apply to mode: current"));
  EXPECT_THAT(ErrorOf(Pipeline("    fields: [a]\n" + current + "        identifier: [pk]\n")),
              HasSubstr("fields: must include the key attribute \"pk\""));
  EXPECT_THAT(ErrorOf(Pipeline("    destination:\n      format: iceberg\n"
                               "      iceberg: { table: a.b, mode: upsert }\n")),
              HasSubstr("destination.iceberg.mode"));
}

TEST(ConfigTest, IcebergRestCatalog) {
  const std::string head =
      "    destination:\n      kind: s3\n      region: us-east-1\n      format: iceberg\n"
      "      iceberg:\n        table: sales.orders\n        catalog:\n          kind: rest\n"
      "          uri: https://s3tables.us-east-1.amazonaws.com/iceberg/\n";
  absl::StatusOr<Config> c = ParseConfig(
      Pipeline(head + "          warehouse: arn:aws:s3tables:us-east-1:111122223333:bucket/lake\n"
                      "          auth: { sigv4: { service: s3tables } }\n"
                      "          create: { namespace: false }\n"),
      "cfg.yaml", TestTimeZone);
  ASSERT_TRUE(c.ok()) << c.status();
  const IcebergSpec& t = *c->pipelines[0]->destination.iceberg;
  ASSERT_TRUE(t.rest.has_value());
  EXPECT_EQ(t.catalog, "rest");
  EXPECT_EQ(t.rest->uri, "https://s3tables.us-east-1.amazonaws.com/iceberg");
  EXPECT_EQ(t.rest->warehouse, "arn:aws:s3tables:us-east-1:111122223333:bucket/lake");
  EXPECT_EQ(t.rest->auth, RestCatalogSpec::Auth::kSigV4);
  EXPECT_EQ(t.rest->sigv4_service, "s3tables");
  EXPECT_FALSE(t.rest->create_namespace);
  EXPECT_TRUE(t.rest->create_table);
  EXPECT_EQ(t.RelativeLocation(), "");  // keys are relative to the catalog's location

  absl::StatusOr<Config> o = ParseConfig(
      Pipeline(head + "          auth:\n            oauth2: { client_id: lakehose, "
                      "client_secret_file: /run/secret, scope: \"PRINCIPAL_ROLE:ALL\" }\n"),
      "cfg.yaml", TestTimeZone);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->pipelines[0]->destination.iceberg->rest->oauth2_token_uri,
            "https://s3tables.us-east-1.amazonaws.com/iceberg/v1/oauth/tokens");

  EXPECT_THAT(ErrorOf(Pipeline(head + "          auth: { sigv4: {} }\n")),
              HasSubstr("auth.sigv4.service: is required: the signing name"));
  EXPECT_THAT(ErrorOf(Pipeline(head + "          auth: { oauth2: { client_id: a } }\n")),
              HasSubstr("auth.oauth2.client_secret_file: is required"));
  EXPECT_THAT(ErrorOf(Pipeline(head + "          auth: { token_file: /t, sigv4: { service: "
                                      "glue } }\n")),
              HasSubstr("give one of sigv4, oauth2 or token_file"));
  EXPECT_THAT(ErrorOf(Pipeline(head + "          auth: { password: x }\n")),
              HasSubstr("auth: give one of sigv4, oauth2 or token_file"));
  EXPECT_THAT(ErrorOf(Pipeline("    destination:\n      kind: s3\n      bucket: b\n"
                               "      format: iceberg\n      iceberg:\n        table: a.b\n"
                               "        catalog: { kind: rest, uri: \"http://127.0.0.1:1\" }\n")),
              HasSubstr("destination.bucket: is not used with a REST catalog"));
  EXPECT_THAT(ErrorOf(Pipeline("    destination:\n      format: iceberg\n      iceberg:\n"
                               "        table: a.b\n"
                               "        catalog: { kind: rest, uri: \"ftp://x\" }\n")),
              HasSubstr("is not an http(s) URI"));
}

TEST(ConfigTest, IcebergS3TablesApiCatalog) {
  const std::string head =
      "    destination:\n      kind: s3\n      region: us-east-1\n      format: iceberg\n"
      "      iceberg:\n        table: sales.orders\n        catalog:\n          kind: s3tables\n";
  absl::StatusOr<Config> c = ParseConfig(
      Pipeline(head + "          warehouse: arn:aws:s3tables:us-east-1:111122223333:bucket/lake\n"),
      "cfg.yaml", TestTimeZone);
  ASSERT_TRUE(c.ok()) << c.status();
  const IcebergSpec& t = *c->pipelines[0]->destination.iceberg;
  ASSERT_TRUE(t.rest.has_value());
  EXPECT_EQ(t.catalog, "s3tables");
  EXPECT_EQ(t.rest->api, RestCatalogSpec::Api::kS3Tables);
  EXPECT_EQ(t.rest->uri, "");  // https://s3tables.<region>.amazonaws.com at run time
  EXPECT_EQ(t.rest->auth, RestCatalogSpec::Auth::kSigV4);
  EXPECT_EQ(t.rest->sigv4_service, "s3tables");
  EXPECT_THAT(ErrorOf(Pipeline(head + "          warehouse: orders-lake\n")),
              HasSubstr("catalog.warehouse: \"orders-lake\" is not a table bucket ARN"));
  EXPECT_THAT(
      ErrorOf(Pipeline(head +
                       "          warehouse: arn:aws:s3tables:us-east-1:111122223333:bucket/lake\n"
                       "          auth: { token_file: /t }\n")),
      HasSubstr("kind s3tables signs with SigV4 only"));
}

}  // namespace
}  // namespace lakehose
