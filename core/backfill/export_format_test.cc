#include "core/backfill/export_format.h"

#include <memory>
#include <string>

#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testing/test_config.h"

namespace lakehose::backfill {
namespace {

using ::testing::HasSubstr;

constexpr char kFullSummary[] = R"({"version":"2020-06-30",
  "exportArn":"arn:aws:dynamodb:us-east-1:111122223333:table/orders/export/01700000000000-1a2b3c4d",
  "startTime":"2023-11-14T22:13:00.000Z","endTime":"2023-11-14T22:20:00.000Z",
  "tableArn":"arn:aws:dynamodb:us-east-1:111122223333:table/orders","tableId":"t-1",
  "exportTime":"2023-11-14T22:13:20.500Z","s3Bucket":"exports","s3Prefix":null,
  "s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,
  "manifestFilesS3Key":"AWSDynamoDB/01700000000000-1a2b3c4d/manifest-files.json",
  "billedSizeBytes":300,"itemCount":3,"outputFormat":"DYNAMODB_JSON","exportType":"FULL_EXPORT"})";

ExportSummary FullSummary() {
  absl::StatusOr<ExportSummary> s = ParseExportSummary(kFullSummary);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : ExportSummary{};
}

TEST(ExportSummary, FullExport) {
  const ExportSummary s = FullSummary();
  EXPECT_EQ(s.type, ExportType::kFull);
  EXPECT_EQ(s.item_count, 3);
  EXPECT_EQ(s.export_time_ms, 1700000000500);
  EXPECT_EQ(s.ExportId(), "01700000000000-1a2b3c4d");
  EXPECT_EQ(s.manifest_files_key, "AWSDynamoDB/01700000000000-1a2b3c4d/manifest-files.json");
}

TEST(ExportSummary, IncrementalUsesExportToTime) {
  absl::StatusOr<ExportSummary> s = ParseExportSummary(
      R"({"exportArn":"arn:x/export/e2","manifestFilesS3Key":"AWSDynamoDB/e2/manifest-files.json",
          "itemCount":"7","outputFormat":"DYNAMODB_JSON","exportType":"INCREMENTAL_EXPORT",
          "exportFromTime":"2023-11-14T00:00:00Z","exportToTime":"2023-11-14T01:00:00Z"})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->type, ExportType::kIncremental);
  EXPECT_EQ(s->item_count, 7);
  EXPECT_EQ(s->export_time_ms, 1699923600000);
}

TEST(ExportSummary, RefusesIonAndDamage) {
  EXPECT_THAT(ParseExportSummary(R"({"outputFormat":"ION"})").status().message(),
              HasSubstr("export the table again with --export-format DYNAMODB_JSON"));
  EXPECT_THAT(ParseExportSummary(R"({"exportType":"PARTIAL"})").status().message(),
              HasSubstr("neither FULL_EXPORT nor INCREMENTAL_EXPORT"));
  EXPECT_THAT(ParseExportSummary(R"({"exportArn":"a","manifestFilesS3Key":"k","itemCount":-1})")
                  .status()
                  .message(),
              HasSubstr("itemCount"));
  EXPECT_THAT(ParseExportSummary(R"({"exportArn":"a","manifestFilesS3Key":"k","itemCount":1,
                                     "exportTime":"yesterday"})")
                  .status()
                  .message(),
              HasSubstr("exportTime \"yesterday\" is not an RFC 3339 time"));
  EXPECT_FALSE(ParseExportSummary("[1]").ok());
}

TEST(ManifestFiles, EveryLineNamesADataFileWithCountAndMd5) {
  absl::StatusOr<std::vector<ExportDataFile>> files = ParseManifestFiles(
      "{\"itemCount\":2,\"md5Checksum\":\"q1w2e3==\",\"etag\":\"abc-1\",\"dataFileS3Key\":"
      "\"AWSDynamoDB/e1/data/a.json.gz\"}\n\n"
      "{\"itemCount\":1,\"md5Checksum\":\"z9x8==\",\"dataFileS3Key\":\"AWSDynamoDB/e1/data/"
      "b.json.gz\"}\n");
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].key, "AWSDynamoDB/e1/data/a.json.gz");
  EXPECT_EQ((*files)[0].item_count, 2);
  EXPECT_EQ((*files)[0].md5_base64, "q1w2e3==");
  EXPECT_EQ((*files)[0].etag, "abc-1");
  EXPECT_EQ((*files)[1].etag, "");
  EXPECT_THAT(ParseManifestFiles("{\"itemCount\":1,\"dataFileS3Key\":\"AWSDynamoDB/e1/data/a\"}\n")
                  .status()
                  .message(),
              HasSubstr("manifest-files.json line 1: missing \"md5Checksum\""));
  EXPECT_THAT(ParseManifestFiles("\n{\"itemCount\":1,\"md5Checksum\":\"x\",\"dataFileS3Key\":"
                                 "\"../../etc/passwd\"}\n")
                  .status()
                  .message(),
              HasSubstr("line 2: dataFileS3Key \"../../etc/passwd\" is not under data/"));
}

// The record, read back.
simdjson::dom::element Parsed(simdjson::dom::parser& p, const std::string& text) {
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(text).get(e), simdjson::SUCCESS) << text;
  return e;
}

TEST(ExportLines, AFullExportItemIsAnInsertAtTheExportTime) {
  absl::StatusOr<std::string> r = ExportLineToStreamRecord(
      R"({"Item":{"id":{"S":"o-1"},"amount":{"N":"12.50"},"tags":{"SS":["a","b"]}}})",
      ExportType::kFull, FullSummary(), 3, 17);
  ASSERT_TRUE(r.ok()) << r.status();
  simdjson::dom::parser p;
  simdjson::dom::element e = Parsed(p, *r);
  EXPECT_EQ(std::string_view(e["eventID"]), "01700000000000-1a2b3c4d:3:17");
  EXPECT_EQ(std::string_view(e["eventName"]), "INSERT");
  EXPECT_EQ(double(e["dynamodb"]["ApproximateCreationDateTime"]), 1700000000.5);
  EXPECT_EQ(std::string_view(e["dynamodb"]["NewImage"]["amount"]["N"]), "12.50");
  EXPECT_EQ(e["dynamodb"]["OldImage"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_THAT(ExportLineToStreamRecord(R"({"Keys":{}})", ExportType::kFull, FullSummary(), 0, 1)
                  .status()
                  .message(),
              HasSubstr("data file 0 line 1: missing \"Item\""));
  EXPECT_THAT(ExportLineToStreamRecord(R"({"Item":[1]})", ExportType::kFull, FullSummary(), 0, 2)
                  .status()
                  .message(),
              HasSubstr("Item: not an object of attributes"));
}

TEST(ExportLines, IncrementalLinesAreInsertModifyOrRemoveAtTheirWriteTime) {
  const ExportSummary s = FullSummary();
  const std::string meta = R"("Metadata":{"WriteTimestampMicros":{"N":"1700000001234567"}})";
  const std::string keys = R"("Keys":{"id":{"S":"o-1"}})";
  simdjson::dom::parser p;
  auto name_of = [&](const std::string& line) {
    absl::StatusOr<std::string> r =
        ExportLineToStreamRecord(line, ExportType::kIncremental, s, 0, 1);
    EXPECT_TRUE(r.ok()) << r.status();
    simdjson::dom::element e = Parsed(p, r.ok() ? *r : "{}");
    EXPECT_EQ(double(e["dynamodb"]["ApproximateCreationDateTime"]), 1700000001.234567);
    EXPECT_EQ(std::string_view(e["dynamodb"]["Keys"]["id"]["S"]), "o-1");
    return std::string(std::string_view(e["eventName"]));
  };
  EXPECT_EQ(name_of(StrCat("{", meta, ",", keys, R"(,"NewImage":{"id":{"S":"o-1"}}})")), "INSERT");
  EXPECT_EQ(name_of(StrCat("{", meta, ",", keys,
                           R"(,"NewImage":{"id":{"S":"o-1"}},"OldImage":{"id":{"S":"o-1"}}})")),
            "MODIFY");
  EXPECT_EQ(name_of(StrCat("{", meta, ",", keys, "}")), "REMOVE");
  EXPECT_THAT(ExportLineToStreamRecord(StrCat("{", keys, "}"), ExportType::kIncremental, s, 0, 9)
                  .status()
                  .message(),
              HasSubstr("line 9: missing \"Metadata\".\"WriteTimestampMicros\""));
  EXPECT_THAT(
      ExportLineToStreamRecord(R"({"Metadata":{"WriteTimestampMicros":{"N":"-5"}},"Keys":{}})",
                               ExportType::kIncremental, s, 0, 1)
          .status()
          .message(),
      HasSubstr("is not a count of microseconds"));
}

// The records go through a pipeline's transform as stream records do.
TEST(ExportLines, TheTransformTakesThem) {
  auto config = ParseConfig(
      "pipelines:\n  - name: p\n    input: dynamodb-stream\n    image: new-or-old\n"
      "    metadata: [eventID, ApproximateCreationDateTime]\n",
      "t.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  RecordTransformer transformer(*config->pipelines[0]);
  const ExportSummary s = FullSummary();
  absl::StatusOr<std::string> insert = ExportLineToStreamRecord(
      R"({"Item":{"id":{"S":"o-1"},"n":{"N":"38"}}})", ExportType::kFull, s, 0, 1);
  ASSERT_TRUE(insert.ok());
  RecordOutcome out;
  transformer.Transform({.record_id = "1", .data = *insert}, TransformContext{}, &out);
  EXPECT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.operation, Operation::kInsert);
  EXPECT_THAT(out.data, HasSubstr(R"("id":"o-1")"));
  EXPECT_THAT(out.data, HasSubstr(R"("_eventID":"01700000000000-1a2b3c4d:0:1")"));
  EXPECT_THAT(out.data, HasSubstr(R"("_ApproximateCreationDateTime":1700000000500)"));
  absl::StatusOr<std::string> remove = ExportLineToStreamRecord(
      R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000002000000"}},"Keys":{"id":{"S":"o-1"}},"OldImage":{"id":{"S":"o-1"},"n":{"N":"38"}}})",
      ExportType::kIncremental, s, 0, 2);
  ASSERT_TRUE(remove.ok());
  transformer.Transform({.record_id = "2", .data = *remove}, TransformContext{}, &out);
  EXPECT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.operation, Operation::kDelete);
  EXPECT_THAT(out.data, HasSubstr(R"("n":38)"));
}

}  // namespace
}  // namespace lakehose::backfill
