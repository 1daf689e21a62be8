#include "core/transform/transformer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "core/base/limits.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testing/json_check.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr int64_t kT = 1700000000000;  // 2023-11-14T22:13:20Z

// One pipeline (the first of `yaml`) and a transformer for it.
class Harness {
 public:
  explicit Harness(std::string_view yaml) {
    auto c = ParseConfig(yaml, "test.yaml", TestTimeZone);
    status_ = c.status();
    if (!c.ok()) return;
    config_ = *std::move(c);
    transformer_ = std::make_unique<RecordTransformer>(*config_.pipelines[0]);
  }
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

  RecordOutcome Run(std::string_view data, int64_t arrival_ms = 0, TransformContext ctx = {}) {
    RecordOutcome out;
    transformer_->Transform({.record_id = "r1", .data = data, .arrival_ms = arrival_ms}, ctx, &out);
    return out;
  }
  // Reuses one outcome, as the service does.
  void Run(std::string_view data, RecordOutcome* out) {
    transformer_->Transform({.record_id = "r", .data = data}, TransformContext{}, out);
  }

 private:
  absl::Status status_;
  Config config_;
  std::unique_ptr<RecordTransformer> transformer_;
};

#define ASSERT_HARNESS(h) ASSERT_TRUE((h).ok()) << (h).status()

std::string PipelineYaml(std::string_view body) {
  return StrCat("pipelines:\n  - name: p\n", body);
}

// A Lambda-shaped DynamoDB stream record.
std::string Rec(std::string_view event_name, std::string_view dynamodb_body,
                std::string_view extra = "") {
  return StrCat(R"({"eventID":"e1","eventName":")", event_name,
                R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",)",
                extra, R"("dynamodb":{)", dynamodb_body,
                R"(},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x"})");
}

constexpr std::string_view kKeys = R"("Keys":{"id":{"S":"k1"}})";
constexpr std::string_view kNew = R"("NewImage":{"id":{"S":"k1"},"v":{"S":"new"}})";
constexpr std::string_view kOld = R"("OldImage":{"id":{"S":"k1"},"v":{"S":"old"}})";

std::string Join3(std::string_view a, std::string_view b = "", std::string_view c = "") {
  std::string out(a);
  if (!b.empty()) StrAppend(&out, ",", b);
  if (!c.empty()) StrAppend(&out, ",", c);
  return out;
}

void ExpectFailed(const RecordOutcome& out, std::string_view code, std::string_view message) {
  EXPECT_EQ(out.result, Verdict::kProcessingFailed) << out.data;
  EXPECT_EQ(out.error_code, code) << out.error_message;
  EXPECT_EQ(out.error_message, message);
  EXPECT_THAT(out.data, IsEmpty());
  EXPECT_THAT(out.partition_values, IsEmpty());
}

// True if `json` is one valid JSON object (numbers of any size allowed).
bool IsJsonObject(std::string_view json) { return testing::JsonChecker::IsObject(json); }

// ----- The seed pipeline example (README.md, "Pipelines") -----

constexpr std::string_view kSiteImage =
    R"("NewImage":{"valueOne":{"N":"42"},"siteId":{"S":"7"},"createdAtTime":{"N":"1700000000000"},)"
    R"("valueTwo":{"N":"1.10"},"id":{"S":"abc"},"name":{"S":"Name one"},"secret":{"S":"dropme"}})";

TEST(TransformerTest, DesignExamplePipelineTransformsASitesRecord) {
  Harness h(kSeedPipelineYaml);
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", Join3(R"("Keys":{"id":{"S":"abc"}})", kSiteImage)));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.operation, Operation::kInsert);
  EXPECT_EQ(
      out.data,
      R"({"valueOne":42,"siteId":"7","createdAtTime":1700000000000,"valueTwo":1.10,"id":"abc","name":"Name one"})");
  EXPECT_THAT(out.partition_values, ElementsAre("7", "2023", "11", "14", "22", "13"));
  EXPECT_EQ(out.key_prefix, "data/siteId=7/year=2023/month=11/day=14/minute=13/");

  RecordOutcome removed = h.Run(Rec("REMOVE", Join3(R"("Keys":{"id":{"S":"abc"}})")));
  EXPECT_EQ(removed.result, Verdict::kDropped);
  EXPECT_EQ(removed.operation, Operation::kDelete);
  EXPECT_THAT(removed.data, IsEmpty());
  EXPECT_THAT(removed.key_prefix, IsEmpty());

  RecordOutcome bad =
      h.Run(Rec("MODIFY", R"("NewImage":{"siteId":{"S":"7"},"createdAtTime":{"N":"soon"}})"));
  ExpectFailed(bad, error_code::kInvalidNumber,
               R"(dynamodb.NewImage.createdAtTime: N value "soon" is not a number)");
  EXPECT_EQ(bad.key_prefix, "errors/processing-failed/");
}

// ----- Event names, filter, image choice -----

TEST(TransformerTest, EventNamesMapToOperations) {
  Harness h(PipelineYaml("    image: new-or-old\n"));
  ASSERT_HARNESS(h);
  RecordOutcome ins = h.Run(Rec("INSERT", Join3(kKeys, kNew)));
  EXPECT_EQ(ins.result, Verdict::kOk) << ins.error_message;
  EXPECT_EQ(ins.operation, Operation::kInsert);
  RecordOutcome mod = h.Run(Rec("MODIFY", Join3(kKeys, kNew, kOld)));
  EXPECT_EQ(mod.result, Verdict::kOk) << mod.error_message;
  EXPECT_EQ(mod.operation, Operation::kUpdate);
  RecordOutcome rem = h.Run(Rec("REMOVE", Join3(kKeys, kOld)));
  EXPECT_EQ(rem.result, Verdict::kOk) << rem.error_message;
  EXPECT_EQ(rem.operation, Operation::kDelete);
  EXPECT_EQ(OperationName(rem.operation), "DELETE");
  EXPECT_EQ(VerdictName(rem.result), "OK");
}

TEST(TransformerTest, FilterDropsOtherEventNames) {
  Harness h(PipelineYaml("    filter: { event_names: [REMOVE] }\n"));
  ASSERT_HARNESS(h);
  EXPECT_EQ(h.Run(Rec("INSERT", Join3(kKeys, kNew))).result, Verdict::kDropped);
  EXPECT_EQ(h.Run(Rec("MODIFY", Join3(kKeys, kNew, kOld))).result, Verdict::kDropped);
  EXPECT_EQ(h.Run(Rec("REMOVE", Join3(kKeys, kOld))).result, Verdict::kOk);
  // A dropped record is not decoded further: a bad image does not make it fail.
  EXPECT_EQ(h.Run(Rec("INSERT", R"("NewImage":{"x":{"N":"bad"}})")).result, Verdict::kDropped);
  EXPECT_EQ(VerdictName(Verdict::kDropped), "DROPPED");
}

TEST(TransformerTest, ImageNew) {
  Harness h(PipelineYaml("    image: new\n"));
  ASSERT_HARNESS(h);
  EXPECT_EQ(h.Run(Rec("INSERT", Join3(kKeys, kNew))).data, R"({"id":"k1","v":"new"})");
  EXPECT_EQ(h.Run(Rec("MODIFY", Join3(kKeys, kNew, kOld))).data, R"({"id":"k1","v":"new"})");
  // REMOVE has no NewImage: falls back to OldImage, then to Keys.
  EXPECT_EQ(h.Run(Rec("REMOVE", Join3(kKeys, kOld))).data, R"({"id":"k1","v":"old"})");
  EXPECT_EQ(h.Run(Rec("REMOVE", Join3(kKeys))).data, R"({"id":"k1"})");
  // MODIFY without NewImage (KEYS_ONLY stream): Keys, never the old image.
  EXPECT_EQ(h.Run(Rec("MODIFY", Join3(kKeys, kOld))).data, R"({"id":"k1"})");
}

TEST(TransformerTest, ImageOld) {
  Harness h(PipelineYaml("    image: old\n"));
  ASSERT_HARNESS(h);
  EXPECT_EQ(h.Run(Rec("MODIFY", Join3(kKeys, kNew, kOld))).data, R"({"id":"k1","v":"old"})");
  EXPECT_EQ(h.Run(Rec("REMOVE", Join3(kKeys, kOld))).data, R"({"id":"k1","v":"old"})");
  EXPECT_EQ(h.Run(Rec("INSERT", Join3(kKeys, kNew))).data, R"({"id":"k1"})");
}

TEST(TransformerTest, ImageNewOrOld) {
  Harness h(PipelineYaml("    image: new-or-old\n"));
  ASSERT_HARNESS(h);
  EXPECT_EQ(h.Run(Rec("INSERT", Join3(kKeys, kNew))).data, R"({"id":"k1","v":"new"})");
  EXPECT_EQ(h.Run(Rec("MODIFY", Join3(kKeys, kNew, kOld))).data, R"({"id":"k1","v":"new"})");
  EXPECT_EQ(h.Run(Rec("MODIFY", Join3(kKeys, kOld))).data, R"({"id":"k1","v":"old"})");
  EXPECT_EQ(h.Run(Rec("REMOVE", Join3(kKeys, kOld))).data, R"({"id":"k1","v":"old"})");
  EXPECT_EQ(h.Run(Rec("REMOVE", Join3(kKeys))).data, R"({"id":"k1"})");
}

TEST(TransformerTest, NoImageAndNoKeysIsMissingImage) {
  Harness h(PipelineYaml("    image: new-or-old\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", R"("SequenceNumber":"1")"));
  ExpectFailed(out, error_code::kMissingImage,
               "dynamodb: has none of NewImage, OldImage or Keys for the configured image choice");
}

// ----- Projection, metadata, numbers -----

TEST(TransformerTest, ProjectionKeepsOnlyListedFieldsInImageOrder) {
  Harness h(PipelineYaml("    fields: [c, a, missing]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(Rec("INSERT", R"("NewImage":{"a":{"N":"1"},"b":{"N":"2"},"c":{"M":{"d":{"S":"x"}}}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"a":1,"c":{"d":"x"}})");
  // A projected-away attribute is not converted, so its malformation does not matter.
  out = h.Run(Rec("INSERT", R"("NewImage":{"a":{"N":"1"},"b":{"N":"not a number"}})"));
  EXPECT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"a":1})");
}

TEST(TransformerTest, MetadataFields) {
  Harness h(
      PipelineYaml("    metadata: [eventID, eventName, eventSource, awsRegion, eventSourceARN, "
                   "tableName, SequenceNumber,"
                   " ApproximateCreationDateTime, SizeBytes, StreamViewType]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec(
      "INSERT", StrCat(R"("ApproximateCreationDateTime":1700000000,)", kNew,
                       R"(,"SequenceNumber":"111","SizeBytes":26,"StreamViewType":"NEW_IMAGE")")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(
      out.data,
      R"({"_eventID":"e1","_eventName":"INSERT","_eventSource":"aws:dynamodb","_awsRegion":"us-east-1",)"
      R"("_eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x","_tableName":null,)"
      R"("_SequenceNumber":"111","_ApproximateCreationDateTime":1700000000000,"_SizeBytes":26,)"
      R"("_StreamViewType":"NEW_IMAGE","id":"k1","v":"new"})");
  EXPECT_TRUE(IsJsonObject(out.data));
}

TEST(TransformerTest, MetadataWithEmptyImageIsStillValidJson) {
  Harness h(PipelineYaml("    metadata: [eventID]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"_eventID":"e1"})");
  Harness plain(PipelineYaml(""));
  ASSERT_HARNESS(plain);
  EXPECT_EQ(plain.Run(Rec("INSERT", R"("NewImage":{})")).data, "{}");
}

TEST(TransformerTest, EveryTypeIsConvertedLosslessly) {
  Harness h(PipelineYaml(""));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec(
      "INSERT",
      R"("NewImage":{"s":{"S":"a\u2028b\u0007"},"n":{"N":"12345678901234567890123456789012345678"},)"
      R"("e":{"N":"-9.9999999999999999999999999999999999999E+125"},"b":{"B":"AAEqQQ=="},"t":{"BOOL":true},)"
      R"("z":{"NULL":true},"m":{"M":{"x":{"L":[{"N":"1E-130"},{"SS":[]}]}}},"ss":{"SS":["x","y"]},)"
      R"("ns":{"NS":["1.10","2"]},"bs":{"BS":["QSoBAA=="]},"sib":{"S":null,"N":"5"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data,
            R"({"s":"a\u2028b\u0007","n":12345678901234567890123456789012345678,)"
            R"("e":-9.9999999999999999999999999999999999999E+125,"b":"AAEqQQ==","t":true,"z":null,)"
            R"("m":{"x":[1E-130,[]]},"ss":["x","y"],"ns":[1.10,2],"bs":["QSoBAA=="],"sib":5})");
  EXPECT_TRUE(IsJsonObject(out.data));
}

TEST(TransformerTest, NumbersAsStrings) {
  Harness h(PipelineYaml("    numbers: string\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(Rec("INSERT", R"("NewImage":{"n":{"N":"1.10"},"ns":{"NS":["1E+125"]}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"n":"1.10","ns":["1E+125"]})");
}

// ----- Partition keys -----

constexpr std::string_view kKeyPipeline = R"(    image: new-or-old
    partition_keys:
      region: { attribute: region }
      city:   { attribute: address.city, default: nowhere }
      day:    { timestamp: ts, unit: ms, format: "%Y-%m-%d" }
    prefix: "r=!{partitionKeyFromLambda:region}/c=!{partitionKeyFromQuery:city}/d=!{partitionKeyFromLambda:day}/"
)";

TEST(TransformerTest, PartitionKeysFromAttributeNestedPathAndTimestamp) {
  Harness h(PipelineYaml(kKeyPipeline));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec(
      "INSERT",
      R"("NewImage":{"region":{"S":"EU"},"address":{"M":{"city":{"S":"Paris"}}},"ts":{"N":"1700000000000"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("EU", "Paris", "2023-11-14"));
  EXPECT_EQ(out.key_prefix, "r=EU/c=Paris/d=2023-11-14/");
}

TEST(TransformerTest, PartitionValuesArePathSafeInKeyPrefix) {
  Harness h(PipelineYaml(kKeyPipeline));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec(
      "INSERT",
      R"("NewImage":{"region":{"S":"eu/west=1"},"address":{"M":{"city":{"S":".."}}},"ts":{"N":"1700000000000"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "r=eu%2Fwest%3D1/c=%2E%2E/d=2023-11-14/");
  out = h.Run(Rec(
      "INSERT",
      R"("NewImage":{"region":{"S":""},"address":{"M":{"city":{"S":"S\u00e3o Paulo\n"}}},"ts":{"N":"1700000000000"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "r=__HIVE_DEFAULT_PARTITION__/c=S\xC3\xA3o Paulo%0A/d=2023-11-14/");
}

TEST(TransformerTest, PartitionKeyDefaultWhenMissing) {
  Harness h(PipelineYaml(kKeyPipeline));
  ASSERT_HARNESS(h);
  // address missing entirely, then address present without city, then address not a map.
  for (std::string_view address :
       {"", R"("address":{"M":{"zip":{"S":"1"}}},)", R"("address":{"S":"flat"},)",
        R"("address":{"M":{"city":{"NULL":true}}},)"}) {
    RecordOutcome out = h.Run(Rec("INSERT", StrCat(R"("NewImage":{"region":{"S":"EU"},)", address,
                                                   R"("ts":{"N":"1700000000000"}})")));
    ASSERT_EQ(out.result, Verdict::kOk) << address << ": " << out.error_message;
    EXPECT_EQ(out.partition_values[1], "nowhere") << address;
  }
}

TEST(TransformerTest, MissingPartitionKeyFails) {
  Harness h(PipelineYaml(kKeyPipeline));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{"ts":{"N":"1700000000000"}})"));
  ExpectFailed(out, error_code::kMissingPartitionKey,
               "partition key 'region': attribute region is missing from dynamodb.NewImage");
  out = h.Run(Rec("REMOVE", R"("OldImage":{"region":{"S":"EU"}})"));
  ExpectFailed(out, error_code::kMissingPartitionKey,
               "partition key 'day': attribute ts is missing from dynamodb.OldImage");
}

TEST(TransformerTest, PartitionKeyScalarTypes) {
  Harness h(PipelineYaml("    partition_keys:\n      k: { attribute: k }\n"));
  ASSERT_HARNESS(h);
  auto key = [&](std::string_view typed) {
    RecordOutcome out = h.Run(Rec("INSERT", StrCat(R"("NewImage":{"k":)", typed, "}")));
    if (out.result != Verdict::kOk)
      return StrCat("<", out.error_code, ": ", out.error_message, ">");
    return out.partition_values.at(0);
  };
  EXPECT_EQ(key(R"({"S":"x"})"), "x");
  EXPECT_EQ(key(R"({"N":"1.10"})"), "1.10");  // exact digits, not 1.1
  EXPECT_EQ(key(R"({"N":"12345678901234567890123456789"})"), "12345678901234567890123456789");
  EXPECT_EQ(key(R"({"B":"AAEqQQ=="})"), "AAEqQQ%3D%3D");
  EXPECT_EQ(key(R"({"BOOL":false})"), "false");
  EXPECT_EQ(key(R"({"S":null,"N":"7"})"), "7");
  EXPECT_EQ(key(R"({"M":{}})"),
            "<INVALID_PARTITION_KEY: partition key 'k': dynamodb.NewImage.k is of type M, not a "
            "scalar (S, N, B or BOOL)>");
  EXPECT_EQ(key(R"({"SS":["a"]})"),
            "<INVALID_PARTITION_KEY: partition key 'k': dynamodb.NewImage.k is of type SS, not a "
            "scalar (S, N, B or BOOL)>");
  EXPECT_EQ(
      key(R"({"NULL":true})"),
      "<MISSING_PARTITION_KEY: partition key 'k': attribute k is missing from dynamodb.NewImage>");
}

TEST(TransformerTest, TimestampUnits) {
  Harness h(
      PipelineYaml("    partition_keys:\n"
                   "      s:  { timestamp: sec, unit: s, format: \"%Y-%m-%dT%H:%M:%S\" }\n"
                   "      ms: { timestamp: milli, unit: ms, format: \"%Y-%m-%dT%H:%M:%S\" }\n"
                   "      us: { timestamp: micro, unit: us, format: \"%Y-%m-%dT%H:%M:%S\" }\n"
                   "      fs: { timestamp: fsec, unit: s, format: \"%S\" }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(Rec("INSERT", R"("NewImage":{"sec":{"N":"1700000000"},"milli":{"N":"1700000000000"},)"
                          R"("micro":{"N":"1700000000000000"},"fsec":{"N":"1700000009.999"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values,
              ElementsAre("2023-11-14T22%3A13%3A20", "2023-11-14T22%3A13%3A20",
                          "2023-11-14T22%3A13%3A20", "29"));
}

TEST(TransformerTest, TimestampFromNamedTimeZone) {
  absl::TimeZone probe;
  if (!absl::LoadTimeZone("America/New_York", &probe))
    GTEST_SKIP() << "tzdata absent: skipping named zone test";
  Harness h(PipelineYaml(
      "    partition_keys:\n"
      "      hour: { timestamp: ts, format: \"%Y-%m-%d-%H\", timezone: America/New_York }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{"ts":{"N":"1700000000000"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("2023-11-14-17"));
}

TEST(TransformerTest, Rfc3339StringTimestamps) {
  Harness h(
      PipelineYaml("    partition_keys:\n      day: { timestamp: ts, format: \"%Y-%m-%d %H\" }\n"));
  ASSERT_HARNESS(h);
  auto day = [&](std::string_view ts) {
    RecordOutcome out = h.Run(Rec("INSERT", StrCat(R"("NewImage":{"ts":{"S":")", ts, R"("}})")));
    if (out.result != Verdict::kOk)
      return StrCat("<", out.error_code, ": ", out.error_message, ">");
    return out.partition_values.at(0);
  };
  EXPECT_EQ(day("2024-02-29T12:34:56Z"), "2024-02-29 12");
  EXPECT_EQ(day("2024-02-29T12:34:56.789Z"), "2024-02-29 12");
  EXPECT_EQ(day("2024-02-29T23:30:00-05:00"), "2024-03-01 04");  // formatted in UTC
  EXPECT_EQ(day("1700000000000"), "2023-11-14 22");              // digits in an S: the unit applies
  EXPECT_EQ(day("yesterday"),
            "<INVALID_TIMESTAMP: partition key 'day': attribute ts value \"yesterday\" is not "
            "a timestamp "
            "(a number in the configured unit or RFC 3339)>");
  // An N is never parsed as RFC 3339.
  RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{"ts":{"N":"1E+125"}})"));
  EXPECT_EQ(out.error_code, error_code::kInvalidTimestamp) << out.error_message;
}

TEST(TransformerTest, TimestampDefault) {
  Harness h(PipelineYaml(
      "    partition_keys:\n      day: { timestamp: ts, format: \"%Y\", default: unknown }\n"));
  ASSERT_HARNESS(h);
  EXPECT_THAT(h.Run(Rec("INSERT", R"("NewImage":{})")).partition_values, ElementsAre("unknown"));
  // Present but not a timestamp: the default is for missing values only.
  EXPECT_EQ(h.Run(Rec("INSERT", R"("NewImage":{"ts":{"S":"garbage"}})")).error_code,
            error_code::kInvalidTimestamp);
  EXPECT_THAT(h.Run(Rec("INSERT", R"("NewImage":{"ts":{"N":"0"}})")).partition_values,
              ElementsAre("1970"));
}

constexpr std::string_view kFallbackPipeline = R"(    partition_keys:
      hour: { timestamp: ts, unit: ms, format: "%Y-%m-%d-%H", fallback: approximate_creation_time }
    prefix: "h=!{partitionKeyFromLambda:hour}/"
)";

TEST(TransformerTest, FallbackToApproximateCreationTimeLambdaShapeInSeconds) {
  Harness h(PipelineYaml(kFallbackPipeline));
  ASSERT_HARNESS(h);
  // 1699999200 s = 2023-11-14T22:00:00Z (an attribute, when present, wins).
  RecordOutcome out = h.Run(
      Rec("INSERT", R"("ApproximateCreationDateTime":1699999200,"NewImage":{"x":{"S":"y"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "h=2023-11-14-22/");
  out = h.Run(
      Rec("INSERT", R"("ApproximateCreationDateTime":1699999200,"NewImage":{"ts":{"N":"0"}})"));
  EXPECT_EQ(out.key_prefix, "h=1970-01-01-00/");
  // A value that is present but not a timestamp fails (fallback_on_invalid opts in).
  out = h.Run(
      Rec("INSERT", R"("ApproximateCreationDateTime":1699999200,"NewImage":{"ts":{"S":"n/a"}})"));
  EXPECT_EQ(out.error_code, error_code::kInvalidTimestamp) << out.error_message;
}

TEST(TransformerTest, FallbackToApproximateCreationTimeKinesisShapeInMillis) {
  Harness h(PipelineYaml(kFallbackPipeline));
  ASSERT_HARNESS(h);
  const std::string kinesis =
      R"({"awsRegion":"us-east-1","eventID":"e1","eventName":"INSERT","userIdentity":null,)"
      R"("recordFormat":"application/json","tableName":"Sites","dynamodb":{"ApproximateCreationDateTime":1699999200123,)"
      R"("Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}},"SizeBytes":10},"eventSource":"aws:dynamodb"})";
  RecordOutcome out = h.Run(kinesis);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "h=2023-11-14-22/");
  EXPECT_EQ(out.data, R"({"id":"1"})");
}

TEST(TransformerTest, ApproximateCreationTimeMetadataIsMillisInBothShapes) {
  Harness h(PipelineYaml("    metadata: [ApproximateCreationDateTime, tableName]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome lambda =
      h.Run(Rec("INSERT", R"("ApproximateCreationDateTime":1699999200,"NewImage":{})"));
  EXPECT_EQ(lambda.data, R"({"_ApproximateCreationDateTime":1699999200000,"_tableName":null})");
  RecordOutcome kinesis =
      h.Run(Rec("INSERT", R"("ApproximateCreationDateTime":1699999200123,"NewImage":{})",
                R"("tableName":"Sites",)"));
  EXPECT_EQ(kinesis.data, R"({"_ApproximateCreationDateTime":1699999200123,"_tableName":"Sites"})");
  RecordOutcome none = h.Run(Rec("INSERT", R"("NewImage":{})"));
  EXPECT_EQ(none.data, R"({"_ApproximateCreationDateTime":null,"_tableName":null})");
}

TEST(TransformerTest, FallbackWithoutCreationTimeFails) {
  Harness h(PipelineYaml(kFallbackPipeline));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{"x":{"S":"y"}})"));
  ExpectFailed(out, error_code::kMissingPartitionKey,
               "partition key 'hour': attribute ts is missing and the fallback has no value");
}

TEST(TransformerTest, FallbackToArrivalTime) {
  Harness h(PipelineYaml(
      "    partition_keys:\n"
      "      hour: { timestamp: ts, format: \"%H\", fallback: arrival_time }\n"
      "    prefix: \"h=!{partitionKeyFromLambda:hour}/a=!{timestamp:yyyy/MM/dd/HH/mm}/\"\n"));
  ASSERT_HARNESS(h);
  // The record's arrival time...
  RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{})"), /*arrival_ms=*/kT);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "h=22/a=2023/11/14/22/13/");
  EXPECT_EQ(out.arrival_ms, kT);
  // ... or, when the record has none, the context's default.
  out = h.Run(Rec("INSERT", R"("NewImage":{})"), 0,
              TransformContext{.default_arrival_ms = kT + 3600000, .random_string = ""});
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "h=23/a=2023/11/14/23/13/");
  EXPECT_EQ(out.arrival_ms, kT + 3600000);
}

// Regression (README "Pipelines", partition keys): a timestamp attribute that was present
// but invalid silently took the fallback (the creation time), although only a missing
// value should; now it fails with INVALID_TIMESTAMP.
TEST(TransformerTest, PresentButInvalidTimestampFailsInsteadOfTakingTheFallback) {
  Harness h(PipelineYaml(kFallbackPipeline));
  ASSERT_HARNESS(h);
  struct Case {
    std::string_view type, value;
  };
  for (const Case& c : {Case{"S", "2023-02-30T00:00:00Z"}, Case{"S", "yesterday"},
                        Case{"N", "1e30"}, Case{"N", "12345678901234567890123"},
                        Case{"S", "infinite-future"}, Case{"S", " 2024-02-29T12:34:56Z"}}) {
    RecordOutcome out =
        h.Run(Rec("INSERT", StrCat(R"("ApproximateCreationDateTime":1699999200,)",
                                   R"("NewImage":{"ts":{")", c.type, R"(":")", c.value, R"("}})")),
              /*arrival_ms=*/kT);
    ExpectFailed(out, error_code::kInvalidTimestamp,
                 StrCat("partition key 'hour': attribute ts value \"", c.value,
                        "\" is not a timestamp (a number in the configured unit or RFC 3339)"));
    EXPECT_EQ(out.key_prefix, "errors/processing-failed/2023/11/14/") << c.value;
  }
  // Missing (absent or NULL) still takes the fallback.
  for (std::string_view image : {R"("NewImage":{})", R"("NewImage":{"ts":{"NULL":true}})"}) {
    RecordOutcome out =
        h.Run(Rec("INSERT", StrCat(R"("ApproximateCreationDateTime":1699999200,)", image)));
    ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
    EXPECT_EQ(out.key_prefix, "h=2023-11-14-22/");
  }
}

TEST(TransformerTest, FallbackOnInvalidOptsInToTheFallbackForInvalidValues) {
  Harness h(PipelineYaml(
      "    partition_keys:\n"
      "      hour: { timestamp: ts, format: \"%Y-%m-%d-%H\", fallback: approximate_creation_time,"
      " fallback_on_invalid: true }\n"
      "      day: { timestamp: ts, format: \"%d\", default: none, fallback_on_invalid: true }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec(
      "INSERT",
      R"("ApproximateCreationDateTime":1699999200,"NewImage":{"ts":{"S":"2023-02-30T00:00:00Z"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("2023-11-14-22", "none"));
  // A valid value is used as ever.
  out = h.Run(Rec("INSERT", R"("NewImage":{"ts":{"S":"2024-02-29T12:00:00Z"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("2024-02-29-12", "29"));
}

TEST(TransformerTest, JsonInputInvalidTimestampFails) {
  Harness h(
      PipelineYaml("    input: json\n"
                   "    partition_keys:\n"
                   "      day: { timestamp: ts, format: \"%Y-%m-%d\", fallback: arrival_time }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"ts":"yesterday"})", kT);
  ExpectFailed(out, error_code::kInvalidTimestamp,
               "partition key 'day': attribute ts value \"yesterday\" is not a timestamp (a "
               "number in the configured unit or RFC 3339)");
  out = h.Run(R"({"ts":1e30})", kT);
  EXPECT_EQ(out.error_code, error_code::kInvalidTimestamp) << out.error_message;
  out = h.Run(R"({"other":1})", kT);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("2023-11-14"));
}

// Regression: a record whose partition value made a path component longer than a file
// name can be was answered OK; the file lake then failed the whole object ("File name too
// long") at every Flush and the object ended in the DLQ. It is refused alone now.
TEST(TransformerTest, PartitionValueTooLongForTheFileLakeIsRefusedPerRecord) {
  Harness h(
      PipelineYaml("    partition_keys:\n      site: { attribute: site }\n"
                   "    prefix: \"data/site=!{partitionKeyFromLambda:site}/\"\n"
                   "    error_prefix: \"errors/!{firehose:error-output-type}/\"\n"
                   "    destination: { kind: file, path: /lake }\n"));
  ASSERT_HARNESS(h);
  auto with_site = [](std::string_view site) {
    return Rec("INSERT", StrCat(R"("NewImage":{"id":{"S":"1"},"site":{"S":")", site, R"("}})"));
  };
  RecordOutcome out = h.Run(with_site(std::string(300, 's')));
  ExpectFailed(
      out, error_code::kKeyTooLong,
      StrCat("partition key 'site' is 300 bytes after escaping: path component \"site=",
             std::string(43, 's'), "...\" is 305 bytes; a file lake allows 255 per component"));
  EXPECT_EQ(out.key_prefix, "errors/processing-failed/");
  // At the limit: 250 bytes and "site=" make 255.
  out = h.Run(with_site(std::string(250, 's')));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, StrCat("data/site=", std::string(250, 's'), "/"));
  // Escaping counts: 100 '/' become 300 bytes of %2F.
  out = h.Run(with_site(std::string(100, '/')));
  EXPECT_EQ(out.error_code, error_code::kKeyTooLong) << out.error_message;
  EXPECT_THAT(out.error_message, HasSubstr("partition key 'site' is 300 bytes after escaping"));
  // The same transformer goes on with good records.
  out = h.Run(with_site("ok"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.key_prefix, "data/site=ok/");
}

TEST(TransformerTest, ObjectKeyTooLongForS3IsRefusedPerRecord) {
  Harness h(
      PipelineYaml("    partition_keys:\n      a: { attribute: a }\n      b: { attribute: b }\n"
                   "    prefix: \"!{partitionKeyFromLambda:a}/!{partitionKeyFromLambda:b}/\"\n"
                   "    destination: { kind: s3, bucket: lake }\n"));
  ASSERT_HARNESS(h);
  // S3 has no component limit: a 500-byte value is fine...
  const std::string a(500, 'a');
  RecordOutcome out =
      h.Run(Rec("INSERT", StrCat(R"("NewImage":{"a":{"S":")", a, R"("},"b":{"S":"b"}})")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  // ... but the whole key (prefix + the object name: p-<64>-<20><17>, 104 bytes) is at
  // most 1,024 bytes: 500 + 1 + 418 + 1 = 920 fits, one more byte does not.
  out = h.Run(Rec("INSERT", StrCat(R"("NewImage":{"a":{"S":")", a, R"("},"b":{"S":")",
                                   std::string(418, 'b'), R"("}})")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  out = h.Run(Rec("INSERT", StrCat(R"("NewImage":{"a":{"S":")", a, R"("},"b":{"S":")",
                                   std::string(419, 'b'), R"("}})")));
  ExpectFailed(out, error_code::kKeyTooLong,
               "partition key 'a' is 500 bytes after escaping: the object key would be up to 1025 "
               "bytes (a prefix of 921 and 104 reserved for the object name); S3 allows 1024");
}

// Partition-key lookup walks the configured path (at most 33 segments, config.cc), never
// the record's depth: a record nested deeper than its key path does not make it recurse.
TEST(TransformerTest, PartitionKeyLookupIsBoundedByTheConfiguredPath) {
  std::string path = "a1";
  for (int i = 2; i <= 33; ++i) StrAppend(&path, ".a", i);
  Harness h(PipelineYaml(
      StrCat("    fields: [id]\n    partition_keys:\n      k: { attribute: ", path, " }\n")));
  ASSERT_HARNESS(h);
  // 32 levels of maps (as deep as DynamoDB nests) with the value inside the last one.
  std::string image = R"({"S":"deep"})";
  for (int i = 33; i >= 2; --i) image = StrCat(R"({"M":{"a)", i, R"(":)", image, "}}");
  RecordOutcome out =
      h.Run(Rec("INSERT", StrCat(R"("NewImage":{"id":{"S":"1"},"a1":)", image, "}")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("deep"));

  // 400 levels under a three-segment path (the attribute is projected away, so only the
  // lookup reads it): the lookup stops at the third map.
  Harness shallow(
      PipelineYaml("    fields: [id]\n    partition_keys:\n      k: { attribute: a.a.a }\n"));
  ASSERT_HARNESS(shallow);
  std::string deep = R"({"S":"x"})";
  for (int i = 0; i < 400; ++i) deep = StrCat(R"({"M":{"a":)", deep, "}}");
  out = shallow.Run(Rec("INSERT", StrCat(R"("NewImage":{"id":{"S":"1"},"a":)", deep, "}")));
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  // The lookup finds a map where the value should be; decoders that validate every
  // attribute may refuse the depth first.
  EXPECT_TRUE(out.error_code == error_code::kInvalidPartitionKey ||
              out.error_code == error_code::kNestingTooDeep)
      << out.error_code << ": " << out.error_message;
}

TEST(TransformerTest, JsonInputPartitionKeyAtTheDeepestPath) {
  std::string path = "a1";
  for (int i = 2; i <= 33; ++i) StrAppend(&path, ".a", i);
  Harness h(PipelineYaml(
      StrCat("    input: json\n    partition_keys:\n      k: { attribute: ", path, " }\n")));
  ASSERT_HARNESS(h);
  std::string doc = R"("deep")";
  for (int i = 33; i >= 2; --i) doc = StrCat(R"({"a)", i, R"(":)", doc, "}");
  RecordOutcome out = h.Run(StrCat(R"({"a1":)", doc, "}"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("deep"));
}

TEST(TransformerTest, RandomStringComesFromTheContext) {
  Harness h(PipelineYaml("    prefix: \"x/!{firehose:random-string}/\"\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", kNew), 0, TransformContext{.random_string = "r4nd"});
  EXPECT_EQ(out.key_prefix, "x/r4nd/");
}

// ----- Failures -----

TEST(TransformerTest, MalformedAttributesFailWithPathAndCode) {
  Harness h(PipelineYaml(
      "    error_prefix: \"errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/\"\n"));
  ASSERT_HARNESS(h);
  struct Case {
    std::string_view image;
    std::string_view code;
    std::string_view message;
  };
  const Case cases[] = {
      {R"({"price":{"N":"12,50"}})", error_code::kInvalidNumber,
       R"(dynamodb.NewImage.price: N value "12,50" is not a number)"},
      {R"({"blob":{"B":"%%%%"}})", error_code::kInvalidBinary,
       R"(dynamodb.NewImage.blob: B value "%%%%" is not base64)"},
      {R"({"m":{"M":{"list":{"L":[{"S":"ok"},{"Q":"1"}]}}}})", error_code::kInvalidAttribute,
       R"(dynamodb.NewImage.m.list[1]: unknown attribute type "Q" (expected S, N, B, BOOL, NULL, M, L, SS, NS or BS))"},
      {R"({"two":{"S":"a","N":"1"}})", error_code::kInvalidAttribute,
       "dynamodb.NewImage.two: attribute value has more than one type (S and N)"},
      {R"({"n":{"NULL":false}})", error_code::kInvalidAttribute,
       "dynamodb.NewImage.n: NULL value must be true"},
      {R"({"s":{"S":1}})", error_code::kInvalidAttribute,
       "dynamodb.NewImage.s: S value must be a string, got a number"},
      {R"({"ss":{"SS":["a",null]}})", error_code::kInvalidAttribute,
       "dynamodb.NewImage.ss[1]: SS members must be strings, got null"},
      {R"({"plain":"value"})", error_code::kInvalidAttribute,
       R"(dynamodb.NewImage.plain: expected a typed attribute value like {"S": ...}, got a string)"},
  };
  for (const Case& c : cases) {
    RecordOutcome out = h.Run(Rec("INSERT", StrCat(R"("NewImage":)", c.image)), kT);
    ExpectFailed(out, c.code, c.message);
    EXPECT_EQ(out.key_prefix, "errors/processing-failed/2023/11/14/") << c.image;
    EXPECT_EQ(out.operation, Operation::kInsert);
  }
}

TEST(TransformerTest, EnvelopeFailures) {
  Harness h(PipelineYaml(""));
  ASSERT_HARNESS(h);
  struct Case {
    std::string data;
    std::string_view code;
    std::string_view message_prefix;
  };
  const Case cases[] = {
      {"{", error_code::kInvalidJson, "data: not valid JSON ("},
      {"", error_code::kInvalidJson, "data: not valid JSON ("},
      {"not json", error_code::kInvalidJson, "data: not valid JSON ("},
      {Rec("INSERT", kNew) + " trailing", error_code::kInvalidJson, "data: not valid JSON ("},
      {Rec("INSERT", R"("NewImage":{"s":{"S":"caf)"
                     "\xC3"
                     R"("}})"),
       error_code::kInvalidJson, "data: not valid JSON ("},
      {"\xFF\xFE{}", error_code::kInvalidJson, "data: not valid JSON ("},
      {"[1,2]", error_code::kInvalidRecord,
       "data: expected a DynamoDB stream record (a JSON object), got an array"},
      {"\"INSERT\"", error_code::kInvalidRecord,
       "data: expected a DynamoDB stream record (a JSON object), got a scalar"},
      {R"({"dynamodb":{}})", error_code::kInvalidRecord, "eventName: missing or not a string"},
      {R"({"eventName":1,"dynamodb":{}})", error_code::kInvalidRecord,
       "eventName: missing or not a string"},
      {R"({"eventName":"UPSERT","dynamodb":{}})", error_code::kUnsupportedEventName,
       R"(eventName: unsupported value "UPSERT" (expected INSERT, MODIFY or REMOVE))"},
      {R"({"eventName":"INSERT"})", error_code::kInvalidRecord,
       "dynamodb: missing or not an object"},
      {R"({"eventName":"INSERT","dynamodb":[]})", error_code::kInvalidRecord,
       "dynamodb: missing or not an object"},
      {Rec("INSERT", R"("NewImage":[])"), error_code::kInvalidAttribute,
       "dynamodb.NewImage: expected an object of attributes, got an array"},
      {Rec("INSERT", R"("Keys":"k")"), error_code::kInvalidAttribute,
       "dynamodb.Keys: expected an object of attributes, got a scalar"},
  };
  for (const Case& c : cases) {
    RecordOutcome out = h.Run(c.data, kT);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << c.data;
    EXPECT_EQ(out.error_code, c.code) << c.data << " -> " << out.error_message;
    EXPECT_THAT(out.error_message, StartsWith(c.message_prefix)) << c.data;
    EXPECT_THAT(out.data, IsEmpty());
    // The default error_prefix: errors/<type>/<arrival day>/.
    EXPECT_EQ(out.key_prefix, "errors/processing-failed/2023/11/14/") << c.data;
  }
}

TEST(TransformerTest, OutcomeIsResetBetweenRecords) {
  Harness h(PipelineYaml("    partition_keys:\n      id: { attribute: id }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out;
  h.Run(Rec("INSERT", kNew), &out);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  h.Run(Rec("INSERT", R"("NewImage":{"x":{"N":"bad"}})"), &out);
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  EXPECT_THAT(out.partition_values, IsEmpty());
  h.Run(Rec("INSERT", kNew), &out);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.error_code, IsEmpty());
  EXPECT_THAT(out.error_message, IsEmpty());
  EXPECT_EQ(out.data, R"({"id":"k1","v":"new"})");
  EXPECT_THAT(out.partition_values, ElementsAre("k1"));
  EXPECT_EQ(out.key_prefix, "data/id=k1/");
}

// ----- input: json -----

TEST(TransformerTest, JsonInputKeepsExactNumberText) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(R"({"big":12345678901234567890123456789,"dec":1.10,"e":-1.5E+300,"z":0,)"
            R"("arr":[1.0,{"x":1e-400}],"s":"a\u2028\"b","t":true,"f":false,"n":null})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.operation, Operation::kInsert);
  EXPECT_EQ(out.data, R"({"big":12345678901234567890123456789,"dec":1.10,"e":-1.5E+300,"z":0,)"
                      R"("arr":[1.0,{"x":1e-400}],"s":"a\u2028\"b","t":true,"f":false,"n":null})");
}

TEST(TransformerTest, JsonInputIsReformattedCompactly) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(" {\n  \"a\" : [ 1 , 2 ] ,\n  \"b\" : { } , \"c\":\"\\u00e9\\/\" }\n");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, "{\"a\":[1,2],\"b\":{},\"c\":\"\xC3\xA9/\"}");
}

TEST(TransformerTest, JsonInputProjectionAndPartitionKeys) {
  Harness h(
      PipelineYaml("    input: json\n"
                   "    fields: [id, amount]\n"
                   "    partition_keys:\n"
                   "      region: { attribute: region }\n"
                   "      city:   { attribute: addr.city }\n"
                   "      amount: { attribute: amount }\n"
                   "      day:    { timestamp: ts, unit: ms, format: \"%Y-%m-%d\" }\n"
                   "      when:   { timestamp: at, format: \"%H\" }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(R"({"id":"x1","region":"eu/1","addr":{"city":"Lyon","zip":"69000"},)"
            R"("amount":1.10,"ts":1700000000000,"at":"2024-02-29T12:34:56Z","junk":[1,2,3]})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"id":"x1","amount":1.10})");
  EXPECT_THAT(out.partition_values, ElementsAre("eu%2F1", "Lyon", "1.10", "2023-11-14", "12"));
  EXPECT_EQ(out.key_prefix, "data/region=eu%2F1/city=Lyon/amount=1.10/day=2023-11-14/when=12/");
}

TEST(TransformerTest, JsonInputPartitionKeyFailures) {
  Harness h(
      PipelineYaml("    input: json\n"
                   "    partition_keys:\n"
                   "      region: { attribute: region }\n"
                   "    error_prefix: \"bad/!{firehose:error-output-type}/\"\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"id":1})");
  ExpectFailed(out, error_code::kMissingPartitionKey,
               "partition key 'region': data.region is missing");
  EXPECT_EQ(out.key_prefix, "bad/processing-failed/");
  out = h.Run(R"({"region":{"a":1}})");
  ExpectFailed(out, error_code::kInvalidPartitionKey,
               "partition key 'region': data.region is an object, not a scalar");
  out = h.Run(R"({"region":null})");
  EXPECT_EQ(out.error_code, error_code::kMissingPartitionKey) << out.error_message;
  out = h.Run(R"({"region":true})");
  EXPECT_THAT(out.partition_values, ElementsAre("true"));
}

TEST(TransformerTest, JsonInputMalformed) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  struct Case {
    std::string data;
    std::string_view code;
  };
  const Case cases[] = {
      {R"({"a":1}{"b":2})", error_code::kInvalidJson},
      {R"({"a":1,})", error_code::kInvalidJson},
      {R"({"a":tru})", error_code::kInvalidJson},
      {R"({"a":"x)"
       "\xC3"
       R"("})",
       error_code::kInvalidJson},
      {"{\"a\":\"\xED\xA0\x80\"}", error_code::kInvalidJson},  // surrogate code point
      {"", error_code::kInvalidJson},
      {"[1,2]", error_code::kInvalidRecord},
      {"42", error_code::kInvalidRecord},
  };
  for (const Case& c : cases) {
    RecordOutcome out = h.Run(c.data, kT);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << c.data;
    EXPECT_EQ(out.error_code, c.code) << c.data << " -> " << out.error_message;
    EXPECT_THAT(out.data, IsEmpty()) << c.data;
    EXPECT_EQ(out.key_prefix, "errors/processing-failed/2023/11/14/") << c.data;
  }
  // Trailing whitespace is fine.
  EXPECT_EQ(h.Run("{\"a\":1}\n\t ").result, Verdict::kOk);
}

// Regression: for input: json, every error of simdjson's get_object() used to be reported
// as INVALID_RECORD "data: expected a JSON object"; a truncated object, trailing content
// and a bare string are INVALID_JSON.
TEST(TransformerTest, JsonInputThatIsNotJsonAtAllIsInvalidJson) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  for (std::string_view data : {"hello", "{", "{\"a\":"}) {
    RecordOutcome out = h.Run(data);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << data;
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << data << " -> " << out.error_message;
  }
}

// Regression: same cause as JsonInputThatIsNotJsonAtAllIsInvalidJson; trailing content
// after the object was INVALID_RECORD.
TEST(TransformerTest, JsonInputTrailingGarbageIsInvalidJson) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  for (std::string_view data :
       {"{\"a\":1} garbage", "{\"a\":1}]", "{\"a\":1} 2", "{\"a\":1}{\"b\":2}"}) {
    RecordOutcome out = h.Run(data);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << data;
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << data << " -> " << out.error_message;
    EXPECT_THAT(out.error_message, StartsWith("data: not valid JSON (")) << data;
  }
}

// Regression: for input: json, partition-key values used to be re-parsed with simdjson's
// DOM, so a nested number lost its exact text (1.10 -> "1.1") and a number beyond 64 bits
// failed a valid record with INVALID_JSON.
TEST(TransformerTest, JsonInputNumberPartitionKeyKeepsExactText) {
  Harness h(PipelineYaml("    input: json\n    partition_keys:\n      v: { attribute: v }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"v":123456789012345678901234567890})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("123456789012345678901234567890"));
  EXPECT_EQ(out.data, R"({"v":123456789012345678901234567890})");
}

TEST(TransformerTest, JsonInputNestedNumberPartitionKeyKeepsExactText) {
  Harness h(PipelineYaml("    input: json\n    partition_keys:\n      v: { attribute: a.b }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"a":{"b":1.10}})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("1.10"));
  out = h.Run(R"({"a":{"b":123456789012345678901234567890}})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_THAT(out.partition_values, ElementsAre("123456789012345678901234567890"));
}

TEST(TransformerTest, JsonInputEscapedKeysAreUnescapedForProjection) {
  Harness h(PipelineYaml("    input: json\n    fields: [ab]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"a\u0062":2,"a":1})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"ab":2})");
}

TEST(TransformerTest, JsonInputBadValueNamesItsPath) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"a":{"b":[1,2e]}})");
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  EXPECT_EQ(out.error_code, error_code::kInvalidJson);
  EXPECT_THAT(out.error_message, HasSubstr("a.b[1]")) << out.error_message;
}

// Regression: for input: json, numbers that RFC 8259 forbids (leading zeros, a bare '.'
// at either end) used to be accepted and rewritten, because number tokens were checked
// against DynamoDB's wider N grammar; they are INVALID_JSON.
TEST(TransformerTest, JsonInputRejectsNonJsonNumbers) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  for (std::string_view data : {R"({"a":01})", R"({"a":1.})", R"({"a":-.5})", R"({"a":-01.5})"}) {
    RecordOutcome out = h.Run(data);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << data << " -> " << out.data;
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << data;
  }
}

// Regression: for input: json with `fields`, values of projected-away fields used to be
// skipped without validation, so a document that is not valid JSON was accepted as OK.
TEST(TransformerTest, JsonInputValidatesProjectedAwayFields) {
  Harness h(PipelineYaml("    input: json\n    fields: [a]\n"));
  ASSERT_HARNESS(h);
  for (std::string_view data :
       {R"({"a":1,"junk":[1,tru]})", R"({"a":1,"junk":{"x" 1}})", R"({"a":1,"j":"\x"})"}) {
    RecordOutcome out = h.Run(data);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << data << " -> " << out.data;
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << data;
  }
}

TEST(TransformerTest, UnicodeEscapesInInput) {
  Harness stream(PipelineYaml(""));
  Harness json(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(stream);
  ASSERT_HARNESS(json);
  // A valid surrogate pair becomes the UTF-8 of U+10FFFF; \u0000 is escaped again.
  RecordOutcome out = stream.Run(
      Rec("INSERT",
          R"("NewImage":{"s":{"S":"\udbff\udfff\u0000"},"k\u00e9":{"SS":["\ud83d\ude00"]}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, "{\"s\":\"\xF4\x8F\xBF\xBF\\u0000\",\"k\xC3\xA9\":[\"\xF0\x9F\x98\x80\"]}");
  out = json.Run(R"({"s":"\udbff\udfff\u0000","k\u00e9":"\ud83d\ude00"})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, "{\"s\":\"\xF4\x8F\xBF\xBF\\u0000\",\"k\xC3\xA9\":\"\xF0\x9F\x98\x80\"}");
  // Lone surrogates cannot be written as UTF-8: the record fails, output never holds them.
  for (std::string_view esc : {R"(\udc00)", R"(\ud800)", R"(\ud800\u0041)", R"(\ud800x)"}) {
    out = stream.Run(Rec("INSERT", StrCat(R"("NewImage":{"s":{"S":"a)", esc, R"("}})")));
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << esc << ": " << out.data;
    out = stream.Run(Rec("INSERT", StrCat(R"("NewImage":{"k)", esc, R"(":{"S":"a"}})")));
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << esc << ": " << out.data;
    out = json.Run(StrCat(R"({"s":"a)", esc, R"("})"));
    EXPECT_EQ(out.error_code, error_code::kInvalidJson) << esc << ": " << out.data;
  }
}

// Runs `body` (true when the outcome is right) in a child process, so that a sanitizer abort
// (UBSan is fatal in the sanitizer build) fails only the calling test.
#define EXPECT_IN_CHILD(body) \
  EXPECT_EXIT({ std::exit((body) ? 0 : 1); }, ::testing::ExitedWithCode(0), "")

// Regression: TimeFormat::Append overflowed int64 for instants within 808 ms of
// INT64_MIN (a timestamp attribute N "-9223372036854775808", or an arrival time of
// INT64_MIN from the wire): signed-overflow UB, fatal under UBSan.
TEST(TransformerTest, ExtremeTimestampsDoNotOverflow) {
  const std::string kMinYear =
      absl::FormatTime("%Y", absl::FromUnixMillis(INT64_MIN), absl::UTCTimeZone());
  EXPECT_IN_CHILD(([&] {
    Harness h(PipelineYaml(
        "    partition_keys:\n      y: { timestamp: ts, unit: ms, format: \"%Y\" }\n"));
    if (!h.ok()) return false;
    RecordOutcome out = h.Run(Rec("INSERT", R"("NewImage":{"ts":{"N":"-9223372036854775808"}})"));
    std::fprintf(stderr, "%s %s\n", out.key_prefix.c_str(), out.error_message.c_str());
    return out.result == Verdict::kOk && out.partition_values == std::vector<std::string>{kMinYear};
  }()));
  EXPECT_IN_CHILD(([&] {
    Harness h(PipelineYaml("    prefix: \"x/!{timestamp:yyyy}/\"\n"));
    if (!h.ok()) return false;
    RecordOutcome out = h.Run(Rec("INSERT", kNew), /*arrival_ms=*/INT64_MIN);
    std::fprintf(stderr, "%s %s\n", out.key_prefix.c_str(), out.error_message.c_str());
    return out.result == Verdict::kOk && out.key_prefix == StrCat("x/", kMinYear, "/");
  }()));
}

// Regression: an ApproximateCreationDateTime far outside int64 milliseconds (1e300) went
// through std::llround unchecked and then overflowed in TimeFormat. Any verdict is
// acceptable here; a crash is not.
TEST(TransformerTest, AbsurdApproximateCreationTimeDoesNotCrash) {
  EXPECT_IN_CHILD(([] {
    Harness h(PipelineYaml(kFallbackPipeline));
    if (!h.ok()) return false;
    for (std::string_view act : {"1e300", "-1e300", "9.3e18"}) {
      RecordOutcome out = h.Run(
          Rec("INSERT", StrCat(R"("ApproximateCreationDateTime":)", act, R"(,"NewImage":{})")));
      if (out.result != Verdict::kOk && out.result != Verdict::kProcessingFailed) return false;
    }
    return true;
  }()));
}

// ----- nesting limit and duplicate keys (README "Error codes of PROCESSING_FAILED") -----

// The issue's reproducer: {"a": followed by `depth` '[' and as many ']', then '}'
// (depth 50,000 is 100 KB).
std::string DeepJsonArrays(int depth) {
  return StrCat(R"({"a":)", std::string(depth, '['), std::string(depth, ']'), "}");
}

// A typed attribute value `levels` maps deep ({"M":{"k":...}}) around a string.
std::string DeepTypedMaps(int levels) {
  // Built front to back: wrapping the value level by level is quadratic (140 s at 50,000
  // levels under ASan).
  std::string v;
  v.reserve(static_cast<size_t>(levels) * 13 + 9);
  for (int i = 0; i < levels; ++i) v += R"({"M":{"k":)";
  v += R"({"S":"x"})";
  for (int i = 0; i < levels; ++i) v += "}}";
  return v;
}

// The path of the 33rd level, `root` then 32 `step`s.
std::string PathTo33rd(std::string_view root, std::string_view step) {
  std::string path(root);
  for (int i = 0; i < kMaxNestingDepth; ++i) path += step;
  return path;
}

// Regression: RenderOnDemand recursed once per level with no limit, and simdjson's
// on-demand parser has none either, so this 100 KB record killed lakehose-server and
// `lakehose transform` with SIGSEGV (stack overflow). Run in a child: a crash fails only
// this test.
TEST(TransformerTest, JsonInputReproducer50000DeepIsNestingTooDeep) {
  EXPECT_IN_CHILD(([] {
    Harness h(PipelineYaml("    input: json\n"));
    if (!h.ok()) return false;
    const std::string data = DeepJsonArrays(50000);
    if (data.size() != 100006) return false;
    RecordOutcome out = h.Run(data);
    std::fprintf(stderr, "%s %s\n", std::string(out.error_code).c_str(),
                 out.error_message.substr(0, 200).c_str());
    if (out.result != Verdict::kProcessingFailed || out.error_code != error_code::kNestingTooDeep ||
        out.error_message !=
            PathTo33rd("data.a", "[0]") + ": more than 32 levels of nested maps and lists")
      return false;
    // The transformer is fine afterwards.
    out = h.Run(R"({"b":[[1]]})");
    return out.result == Verdict::kOk && out.data == R"({"b":[[1]]})";
  }()));
}

TEST(TransformerTest, JsonInputNestingLimit) {
  Harness h(PipelineYaml("    input: json\n    fields: [a]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(DeepJsonArrays(kMaxNestingDepth));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, DeepJsonArrays(kMaxNestingDepth));
  for (int depth : {kMaxNestingDepth + 1, 1000}) {
    out = h.Run(DeepJsonArrays(depth));
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << depth;
    EXPECT_EQ(out.error_code, error_code::kNestingTooDeep) << depth;
    EXPECT_EQ(out.error_message,
              PathTo33rd("data.a", "[0]") + ": more than 32 levels of nested maps and lists");
  }
  // Objects count as arrays do; a field that `fields` drops is read (validated) all the same.
  std::string objects = "1";
  for (int i = 0; i < kMaxNestingDepth; ++i) objects = StrCat(R"({"o":)", objects, "}");
  out = h.Run(StrCat(R"({"a":1,"b":)", objects, "}"));
  EXPECT_EQ(out.result, Verdict::kOk) << out.error_message;
  out = h.Run(StrCat(R"({"a":1,"b":{"o":)", objects, "}}"));
  EXPECT_EQ(out.error_code, error_code::kNestingTooDeep);
  EXPECT_EQ(out.error_message,
            PathTo33rd("data.b", ".o") + ": more than 32 levels of nested maps and lists");
}

TEST(TransformerTest, StreamNestingLimit) {
  Harness h(PipelineYaml(""));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(Rec("INSERT", StrCat(R"("NewImage":{"a":)", DeepTypedMaps(kMaxNestingDepth), "}")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_TRUE(IsJsonObject(out.data));
  for (int levels : {kMaxNestingDepth + 1, 400}) {
    out = h.Run(Rec("INSERT", StrCat(R"("NewImage":{"a":)", DeepTypedMaps(levels), "}")));
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << levels;
    EXPECT_EQ(out.error_code, error_code::kNestingTooDeep) << levels;
    EXPECT_EQ(out.error_message, PathTo33rd("dynamodb.NewImage.a", ".k") +
                                     ": more than 32 levels of nested maps and lists");
  }
}

// Past simdjson's DOM depth (1,024 JSON levels) the parse itself refuses the record,
// iteratively: the typed reproducer at 50,000 and 1,000 levels, and the plain one given to a
// dynamodb-stream pipeline.
TEST(TransformerTest, StreamInputBeyondTheParsersDepthIsNestingTooDeep) {
  EXPECT_IN_CHILD(([] {
    Harness h(PipelineYaml(""));
    if (!h.ok()) return false;
    for (const std::string& data :
         {Rec("INSERT", StrCat(R"("NewImage":{"a":)", DeepTypedMaps(50000), "}")),
          Rec("INSERT", StrCat(R"("NewImage":{"a":)", DeepTypedMaps(1000), "}")),
          DeepJsonArrays(50000)}) {
      RecordOutcome out = h.Run(data);
      std::fprintf(stderr, "%s\n", out.error_message.c_str());
      if (out.result != Verdict::kProcessingFailed ||
          out.error_code != error_code::kNestingTooDeep ||
          out.error_message !=
              "data: nested deeper than 1024 JSON levels, far more than the limit of 32 levels "
              "of nested maps and lists")
        return false;
    }
    return h.Run(Rec("INSERT", kNew)).result == Verdict::kOk;
  }()));
}

// A TTL deletion (a REMOVE by DynamoDB's service principal) is marked for its metric;
// another REMOVE, an INSERT with that identity, or a malformed identity is not.
TEST(TransformerTest, TtlDeletionsAreMarked) {
  Harness h(PipelineYaml(""));
  ASSERT_HARNESS(h);
  const std::string ttl =
      R"("userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},)";
  const std::string remove = R"("eventName":"REMOVE","dynamodb":{"Keys":{"id":{"S":"k1"}}}})";
  RecordOutcome out = h.Run(StrCat("{", ttl, remove));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_TRUE(out.ttl_delete);
  EXPECT_FALSE(h.Run(StrCat("{", remove)).ttl_delete);
  EXPECT_FALSE(
      h.Run(StrCat(R"({"userIdentity":{"type":"Service","principalId":"someone"},)", remove))
          .ttl_delete);
  EXPECT_FALSE(h.Run(StrCat(R"({"userIdentity":"dynamodb.amazonaws.com",)", remove)).ttl_delete);
  EXPECT_FALSE(h.Run(StrCat("{", ttl, R"("eventName":"INSERT","dynamodb":{"NewImage":)",
                            R"({"id":{"S":"k1"}}}})"))
                   .ttl_delete);
}

// Regression: an item with an attribute twice was written with the key twice.
TEST(TransformerTest, AttributeTwiceIsDuplicateKey) {
  Harness h(PipelineYaml(""));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(Rec("INSERT", R"("NewImage":{"id":{"S":"k1"},"v":{"S":"a"},"v":{"S":"b"}})"));
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  EXPECT_EQ(out.error_code, error_code::kDuplicateKey);
  EXPECT_EQ(out.error_message,
            R"(dynamodb.NewImage.v: the name "v" appears twice in dynamodb.NewImage)");
  EXPECT_TRUE(out.data.empty());
  out = h.Run(
      Rec("INSERT", R"("NewImage":{"id":{"S":"k1"},"m":{"M":{"x":{"N":"1"},"x":{"N":"2"}}}})"));
  EXPECT_EQ(out.error_code, error_code::kDuplicateKey);
  EXPECT_EQ(out.error_message, R"(dynamodb.NewImage.m.x: the name "x" appears twice in one map)");
  // Keys fall back the same way.
  out = h.Run(Rec("REMOVE", R"("Keys":{"id":{"S":"k1"},"id":{"S":"k2"}})"));
  EXPECT_EQ(out.error_code, error_code::kDuplicateKey);
  // The next record is fine.
  out = h.Run(Rec("INSERT", kNew));
  EXPECT_EQ(out.result, Verdict::kOk) << out.error_message;
}

// Regression: an attribute named like a metadata field ("_eventID" while metadata lists
// eventID) gave {"_eventID":"real",...,"_eventID":"attacker"}.
TEST(TransformerTest, AttributeNamedLikeMetadataIsDuplicateKey) {
  Harness h(PipelineYaml("    metadata: [eventName, eventID]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out =
      h.Run(Rec("INSERT", R"("NewImage":{"id":{"S":"k1"},"_eventID":{"S":"attacker"}})"));
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  EXPECT_EQ(out.error_code, error_code::kDuplicateKey);
  EXPECT_EQ(out.error_message,
            R"(dynamodb.NewImage._eventID: the attribute "_eventID" has the name that metadata )"
            R"(field eventID is written under)");
  // Names that only look alike are fine: other metadata, no underscore, a double one.
  out = h.Run(Rec(
      "INSERT",
      R"("NewImage":{"_awsRegion":{"S":"a"},"eventID":{"S":"b"},"__eventID":{"S":"c"},"_":{"S":"d"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(
      out.data,
      R"({"_eventName":"INSERT","_eventID":"e1","_awsRegion":"a","eventID":"b","__eventID":"c","_":"d"})");
  // Without metadata the attribute is just an attribute.
  Harness plain(PipelineYaml(""));
  ASSERT_HARNESS(plain);
  out = plain.Run(Rec("INSERT", R"("NewImage":{"_eventID":{"S":"x"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"_eventID":"x"})");
}

TEST(TransformerTest, MetadataListedTwiceIsWrittenOnce) {
  Harness h(PipelineYaml("    metadata: [eventID, eventName, eventID]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(Rec("INSERT", kNew));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"_eventID":"e1","_eventName":"INSERT","id":"k1","v":"new"})");
}

// A metadata value that is not a string is copied as it is, so it obeys the same rules.
TEST(TransformerTest, ObjectMetadataValuesAreChecked) {
  Harness h(PipelineYaml("    metadata: [eventID, SizeBytes]\n"));
  ASSERT_HARNESS(h);
  std::string deep = "1";
  for (int i = 0; i < kMaxNestingDepth + 1; ++i) deep = StrCat("[", deep, "]");
  const std::string rec = R"({"eventName":"INSERT","eventID":EID,"dynamodb":{"SizeBytes":SB,)"
                          R"("NewImage":{"id":{"S":"k1"}}}})";
  auto with = [&](std::string_view eid, std::string_view sb) {
    std::string r = rec;
    r.replace(r.find("EID"), 3, eid);
    r.replace(r.find("SB"), 2, sb);
    return h.Run(r);
  };
  RecordOutcome out = with(R"({"x":[1,{"y":2}]})", "26");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"_eventID":{"x":[1,{"y":2}]},"_SizeBytes":26,"id":"k1"})");
  out = with(R"({"x":1,"x":2})", "26");
  EXPECT_EQ(out.error_code, error_code::kDuplicateKey);
  EXPECT_EQ(out.error_message, R"(data.eventID.x: the name "x" appears twice in one map)");
  out = with("1", deep);
  EXPECT_EQ(out.error_code, error_code::kNestingTooDeep);
  EXPECT_EQ(out.error_message, PathTo33rd("data.dynamodb.SizeBytes", "[0]") +
                                   ": more than 32 levels of nested maps and lists");
}

// Projection: attributes that `fields` drops are not read, so a repeat among them (or
// inside one) does not matter; a kept attribute that repeats fails.
TEST(TransformerTest, DuplicatesInDroppedAttributesAreIgnored) {
  Harness h(PipelineYaml("    fields: [id]\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(
      Rec("INSERT",
          R"("NewImage":{"id":{"S":"k1"},"v":{"S":"a"},"v":{"M":{"x":{"N":"1"},"x":{"N":"1"}}}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"id":"k1"})");
  out = h.Run(Rec("INSERT", R"("NewImage":{"id":{"S":"k1"},"v":{"S":"a"},"id":{"S":"k2"}})"));
  EXPECT_EQ(out.error_code, error_code::kDuplicateKey);
}

TEST(TransformerTest, JsonInputRepeatedKeysAreDuplicateKey) {
  Harness h(PipelineYaml("    input: json\n"));
  ASSERT_HARNESS(h);
  struct Case {
    std::string_view data, message;
  } cases[] = {
      {R"({"a":1,"b":2,"a":3})", R"(data.a: the name "a" appears twice in the document)"},
      // Keys are compared unescaped.
      {R"({"a":1,"\u0061":3})", R"(data.a: the name "a" appears twice in the document)"},
      {R"({"a":{"b":[{"c":1,"d":2,"c":3}]}})",
       R"(data.a.b[0].c: the name "c" appears twice in one object)"},
  };
  for (const Case& c : cases) {
    RecordOutcome out = h.Run(c.data);
    EXPECT_EQ(out.result, Verdict::kProcessingFailed) << c.data;
    EXPECT_EQ(out.error_code, error_code::kDuplicateKey) << c.data;
    EXPECT_EQ(out.error_message, c.message);
  }
  RecordOutcome out = h.Run(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})");
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  // For input: json every field is read (projected-away ones are validated), so a repeat
  // anywhere fails, kept or not.
  Harness projected(PipelineYaml("    input: json\n    fields: [a]\n"));
  ASSERT_HARNESS(projected);
  for (std::string_view data : {R"({"a":1,"z":1,"z":2})", R"({"a":1,"z":{"y":1,"y":2}})"}) {
    out = projected.Run(data);
    EXPECT_EQ(out.error_code, error_code::kDuplicateKey) << data;
  }
}

TEST(TransformerTest, IcebergPipelinesWriteTheChangeLogColumns) {
  Harness h(
      PipelineYaml("    image: new-or-old\n"
                   "    partition_keys:\n"
                   "      hour: { timestamp: ts, unit: ms, format: \"%H\", fallback: "
                   "approximate_creation_time }\n"
                   "    destination: { format: iceberg, iceberg: { table: a.b } }\n"));
  ASSERT_HARNESS(h);
  // The event time is what the timestamp key resolves to: the attribute...
  RecordOutcome out = h.Run(
      Rec("MODIFY", StrCat(R"("ApproximateCreationDateTime":1700000000,"SequenceNumber":"42",)",
                           R"("NewImage":{"id":{"S":"k1"},"ts":{"N":"1700000123456"}})")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"_SequenceNumber":"42","id":"k1","ts":1700000123456,"_op":"UPDATE",)"
                      R"("_event_time":1700000123456})");
  EXPECT_EQ(out.key_prefix, "a/b/data/hour=22/");  // the buffer: one per key values
  // ... else its fallback (the stream's creation time); REMOVE is a DELETE.
  out = h.Run(Rec("REMOVE", StrCat(R"("ApproximateCreationDateTime":1700000000,)",
                                   R"("OldImage":{"id":{"S":"k1"}})")));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data,
            R"({"_SequenceNumber":null,"id":"k1","_op":"DELETE","_event_time":1700000000000})");
  // An attribute named like a change-log column fails alone, naming it.
  out = h.Run(Rec("INSERT", R"("NewImage":{"_op":{"S":"x"}})"));
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  EXPECT_EQ(out.error_code, "DUPLICATE_KEY");
  EXPECT_THAT(out.error_message, HasSubstr("dynamodb.NewImage._op"));
}

TEST(TransformerTest, IcebergPartitionKeysWithoutAValueDoNotFailTheRecord) {
  Harness h(
      PipelineYaml("    partition_keys:\n"
                   "      region: { attribute: region }\n"
                   "      hour: { timestamp: ts, unit: ms, format: \"%H\" }\n"
                   "    destination: { format: iceberg, iceberg: { table: a.b } }\n"));
  ASSERT_HARNESS(h);
  // No region (a null partition value in the table) and no ts: the event time is the
  // stream's creation time.
  RecordOutcome out = h.Run(
      Rec("INSERT", R"("ApproximateCreationDateTime":1700000000,"NewImage":{"id":{"S":"k"}})"));
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data,
            R"({"_SequenceNumber":null,"id":"k","_op":"INSERT","_event_time":1700000000000})");
}

TEST(TransformerTest, IcebergJsonInputUsesTheArrivalTime) {
  Harness h(
      PipelineYaml("    input: json\n"
                   "    destination: { format: iceberg, iceberg: { table: a.b } }\n"));
  ASSERT_HARNESS(h);
  RecordOutcome out = h.Run(R"({"id":1,"nested":{"_op":2}})", kT);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"id":1,"nested":{"_op":2},"_op":"INSERT","_event_time":1700000000000})");
  out = h.Run(R"({"_event_time":1})", kT);
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  EXPECT_EQ(out.error_code, "DUPLICATE_KEY");
  EXPECT_THAT(out.error_message, HasSubstr("data._event_time"));
  out = h.Run("{}", kT);
  EXPECT_EQ(out.data, R"({"_op":"INSERT","_event_time":1700000000000})");
}

}  // namespace
}  // namespace lakehose
