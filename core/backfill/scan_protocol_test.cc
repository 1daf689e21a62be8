#include "core/backfill/scan_protocol.h"

#include <string>
#include <vector>

#include "core/backfill/export_format.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testing/test_config.h"

namespace lakehose::backfill {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

simdjson::dom::element Parsed(simdjson::dom::parser& p, const std::string& text) {
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(text).get(e), simdjson::SUCCESS) << text;
  return e;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// `levels` nested {"M":{"k": ...}} around a string: 2 JSON levels per DynamoDB level.
std::string DeepAttribute(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += R"({"M":{"k":)";
  out += R"({"S":"x"})";
  for (int i = 0; i < levels; ++i) out += "}}";
  return out;
}

TEST(ScanRequestBody, FirstPageOfASegment) {
  absl::StatusOr<std::string> body =
      ScanRequestBody({.table = "orders", .segment = 2, .total_segments = 8});
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"TableName":"orders","Segment":2,"TotalSegments":8,"ConsistentRead":false,)"
                   R"("ReturnConsumedCapacity":"TOTAL"})");
}

TEST(ScanRequestBody, ResumesAfterTheKeyWithALimitAndStrongReads) {
  absl::StatusOr<std::string> body =
      ScanRequestBody({.table = "t\"x",
                       .exclusive_start_key = R"( {"pk": {"S":"a"}} )",
                       .limit = 100,
                       .consistent_read = true});
  ASSERT_TRUE(body.ok()) << body.status();
  // One segment: no Segment/TotalSegments; the key minified; the name escaped.
  EXPECT_EQ(*body, R"({"TableName":"t\"x","ExclusiveStartKey":{"pk":{"S":"a"}},"Limit":100,)"
                   R"("ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"})");
  simdjson::dom::parser p;
  Parsed(p, *body);
}

TEST(ScanRequestBody, RefusesWhatDynamoDbWould) {
  EXPECT_THAT(Message(ScanRequestBody({.table = ""}).status()), HasSubstr("no table name"));
  EXPECT_THAT(Message(ScanRequestBody({.table = "t", .segment = 4, .total_segments = 4}).status()),
              HasSubstr("segment 4 is not in 0..3"));
  EXPECT_THAT(Message(ScanRequestBody({.table = "t", .total_segments = 0}).status()),
              HasSubstr("total_segments 0"));
  EXPECT_THAT(Message(ScanRequestBody({.table = "t", .total_segments = 1000001}).status()),
              HasSubstr("total_segments 1000001"));
  EXPECT_THAT(Message(ScanRequestBody({.table = "t", .limit = -1}).status()),
              HasSubstr("limit -1 is negative"));
  EXPECT_THAT(Message(ScanRequestBody({.table = "t", .exclusive_start_key = "[1]"}).status()),
              HasSubstr("exclusive_start_key: not a JSON object"));
  EXPECT_THAT(Message(ScanRequestBody({.table = "t", .exclusive_start_key = "{\"pk\":"}).status()),
              HasSubstr("exclusive_start_key: not JSON"));
  EXPECT_EQ(ScanRequestBody({.table = "t", .exclusive_start_key = "{"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseScanResponse, ItemsAsReceivedInOrderWithTheKeyAndCost) {
  // Spacing and escapes kept as sent (the DOM would re-escape "\u00e9" and "\/").
  const std::string body =
      R"({"Items":[{"pk":{"S":"b"}, "v":{"S":"caf\u00e9\/x"}},{"pk":{"S":"a"},"n":{"N":"1E+2"}}],)"
      R"("Count":2,"ScannedCount":5,"LastEvaluatedKey":{"pk":{"S":"a"}},)"
      R"("ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}})";
  absl::StatusOr<ScanPage> page = ParseScanResponse(body);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->items, ElementsAre(R"({"pk":{"S":"b"}, "v":{"S":"caf\u00e9\/x"}})",
                                       R"({"pk":{"S":"a"},"n":{"N":"1E+2"}})"));
  EXPECT_EQ(page->last_evaluated_key, R"({"pk":{"S":"a"}})");
  EXPECT_EQ(page->count, 2);
  EXPECT_EQ(page->scanned_count, 5);
  EXPECT_EQ(page->consumed_capacity_units, 0.5);
}

TEST(ParseScanResponse, TheLastPageHasNoKeyAndMayBeEmpty) {
  absl::StatusOr<ScanPage> page = ParseScanResponse(R"({"Items":[],"Count":0,"ScannedCount":0})");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->last_evaluated_key, "");
  EXPECT_EQ(page->consumed_capacity_units, 0);
  // An empty page that is not the last (a filtered or sparse segment) keeps the key.
  page = ParseScanResponse(R"({"Count":0,"ScannedCount":0,"LastEvaluatedKey":{"k":{"N":"7"}}})");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->last_evaluated_key, R"({"k":{"N":"7"}})");
}

TEST(ParseScanResponse, MalformedAnswersNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "not JSON"},
      {"[]", "not a JSON object"},
      {R"({"Items":{},"Count":0})", "\"Items\" is not an array"},
      {R"({"Items":[1],"Count":1})", "\"Items\"[0] is not an object"},
      {R"({"Items":[]})", "missing \"Count\""},
      {R"({"Items":[],"Count":-1})", "\"Count\" is negative"},
      {R"({"Items":[],"Count":"0"})", "\"Count\" is not a count"},
      {R"({"Items":[{}],"Count":2})", "\"Count\" is 2 but \"Items\" holds 1"},
      {R"({"Items":[],"Count":0,"LastEvaluatedKey":"k"})", "\"LastEvaluatedKey\" is not an object"},
      {R"({"Items":[],"Count":0,"ConsumedCapacity":{"CapacityUnits":-1}})", "ConsumedCapacity"},
      {R"({"Items":[],"Count":0,"ConsumedCapacity":5})", "ConsumedCapacity"},
      {R"({"Items":[{"a":{"S":"x"}}],"Count":1)", "not JSON"},
  };
  for (const auto& [body, want] : cases) {
    absl::StatusOr<ScanPage> page = ParseScanResponse(body);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(Message(page.status()), HasSubstr(want)) << body;
    EXPECT_THAT(Message(page.status()), HasSubstr("Scan answer")) << body;
  }
}

TEST(ParseScanResponse, DeepNestingIsBounded) {
  // As deep as DynamoDB allows (32 levels) goes through...
  std::string body = StrCat(R"({"Items":[{"pk":)", DeepAttribute(32), "}],\"Count\":1}");
  absl::StatusOr<ScanPage> page = ParseScanResponse(body);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->items[0], StrCat(R"({"pk":)", DeepAttribute(32), "}"));
  // ...and a hostile answer 100,000 levels deep is refused, not a stack overflow.
  body =
      StrCat(R"({"Items":[)", std::string(100000, '['), std::string(100000, ']'), "],\"Count\":1}");
  EXPECT_THAT(Message(ParseScanResponse(body).status()), HasSubstr("nested deeper than 128"));
  body = StrCat(R"({"Items":[{"pk":)", DeepAttribute(70), "}],\"Count\":1}");
  EXPECT_THAT(Message(ParseScanResponse(body).status()), HasSubstr("nested deeper than"));
}

TEST(ParseScanResponse, DuplicateMembersReadTheFirst) {
  absl::StatusOr<ScanPage> page = ParseScanResponse(
      R"({"Items":[{"a":{"S":"1"}}],"Items":[],"Count":1,"LastEvaluatedKey":{"a":{"S":"1"}},)"
      R"("LastEvaluatedKey":{"b":{"S":"2"}}})");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->items, ElementsAre(R"({"a":{"S":"1"}})"));
  EXPECT_EQ(page->last_evaluated_key, R"({"a":{"S":"1"}})");
}

TEST(ParseScanResponse, EscapedMemberNamesReadAsTheDomReadsThem) {
  // "It\u0065ms" is "Items": the first, as the DOM finds it; its text is then minified.
  absl::StatusOr<ScanPage> page =
      ParseScanResponse(R"({"It\u0065ms":[{"a": {"S":"1"}}],"Items":[{"b":{"S":"2"}}],"Count":1,)"
                        R"("LastEvaluatedKey":{"a": {"S":"1"}}})");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->items, ElementsAre(R"({"a":{"S":"1"}})"));
  EXPECT_EQ(page->last_evaluated_key, R"({"a":{"S":"1"}})");
  // Regression (found by the fuzz target): an escaped name and no "Items" at all.
  page = ParseScanResponse(R"({"Itq\\dKe4":[{"pk":{"S":"1"}}],"Count":0,"LastEvaluatedKey":{}})");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->last_evaluated_key, "{}");
  // Strings holding brackets, quotes and backslashes do not confuse the spans.
  page =
      ParseScanResponse(R"({"Items":[{"s":{"S":"}]{[\"\\"}}, {"t":{"S":"x"}}],"Count":2,"z":"]}",)"
                        R"("LastEvaluatedKey" : {"s":{"S":"}]\""}} })");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->items, ElementsAre(R"({"s":{"S":"}]{[\"\\"}})", R"({"t":{"S":"x"}})"));
  EXPECT_EQ(page->last_evaluated_key, R"({"s":{"S":"}]\""}})");
}

TEST(DescribeTable, RequestAndAnswer) {
  EXPECT_EQ(DescribeTableRequestBody("orders"), R"({"TableName":"orders"})");
  absl::StatusOr<TableDescription> d = ParseDescribeTable(R"({"Table":{
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
                              {"AttributeName":"sk","AttributeType":"N"}],
      "TableName":"orders","KeySchema":[{"AttributeName":"sk","KeyType":"RANGE"},
                                        {"AttributeName":"pk","KeyType":"HASH"}],
      "TableStatus":"ACTIVE","CreationDateTime":1.7E9,
      "ProvisionedThroughput":{"NumberOfDecreasesToday":0,"ReadCapacityUnits":25,
                               "WriteCapacityUnits":5},
      "TableSizeBytes":123456,"ItemCount":50000,
      "TableArn":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->table_name, "orders");
  EXPECT_EQ(d->table_arn, "arn:aws:dynamodb:us-east-1:111122223333:table/orders");
  EXPECT_EQ(d->status, "ACTIVE");
  EXPECT_THAT(d->key_names, ElementsAre("pk", "sk"));  // HASH first
  EXPECT_EQ(d->item_count, 50000);
  EXPECT_EQ(d->table_size_bytes, 123456);
  EXPECT_EQ(d->billing_mode, "PROVISIONED");
  EXPECT_EQ(d->read_capacity_units, 25);

  d = ParseDescribeTable(R"({"Table":{"TableName":"t","KeySchema":[{"AttributeName":"id",
      "KeyType":"HASH"}],"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"},
      "ProvisionedThroughput":{"ReadCapacityUnits":0}}})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->key_names, ElementsAre("id"));
  EXPECT_EQ(d->billing_mode, "PAY_PER_REQUEST");
  EXPECT_EQ(d->item_count, 0);
}

TEST(DescribeTable, MalformedAnswersNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {"{}", "missing \"Table\""},
      {R"({"Table":{"KeySchema":[]}})", "TableName"},
      {R"({"Table":{"TableName":"t"}})", "KeySchema"},
      {R"({"Table":{"TableName":"t","KeySchema":[]}})", "no HASH key"},
      {R"({"Table":{"TableName":"t","KeySchema":[{"AttributeName":"a"}]}})", "KeyType"},
      {R"({"Table":{"TableName":"t","KeySchema":[{"AttributeName":"a","KeyType":"X"}]}})",
       "KeyType \"X\" is neither HASH nor RANGE"},
      {R"({"Table":{"TableName":"t","KeySchema":[{"AttributeName":"a","KeyType":"HASH"},
          {"AttributeName":"b","KeyType":"HASH"}]}})",
       "two HASH keys"},
      {R"({"Table":{"TableName":"t","KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],
          "ItemCount":-3}})",
       "\"ItemCount\" is negative"},
  };
  for (const auto& [body, want] : cases) {
    absl::StatusOr<TableDescription> d = ParseDescribeTable(body);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(Message(d.status()), HasSubstr(want)) << body;
  }
}

TEST(ScanItemToStreamRecord, AnInsertOfTheItemWithItsKeys) {
  const std::string item = R"({"sk":{"N":"7"},"pk":{"S":"o-1"},"amount":{"N":"12.50"}})";
  absl::StatusOr<std::string> r =
      ScanItemToStreamRecord(item, {"pk", "sk"}, "orders", 3, 12, 40, 1700000000500);
  ASSERT_TRUE(r.ok()) << r.status();
  // The exact shape, as ExportLineToStreamRecord writes (Keys before NewImage).
  EXPECT_EQ(*r,
            R"({"eventID":"scan:orders:3:12:40","eventName":"INSERT","eventSource":"aws:dynamodb",)"
            R"("dynamodb":{"ApproximateCreationDateTime":1700000000.500000,)"
            R"("Keys":{"pk":{"S":"o-1"},"sk":{"N":"7"}},"NewImage":)" +
                item + R"(,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
}

TEST(ScanItemToStreamRecord, SameShapeAsAnExportedItem) {
  // The same item from a full export and from a Scan differ only in eventID and Keys.
  const std::string item = R"({"id":{"S":"o-1"},"n":{"N":"38"}})";
  absl::StatusOr<ExportSummary> summary =
      ParseExportSummary(R"({"exportArn":"arn:x/export/e1","manifestFilesS3Key":"k","itemCount":1,)"
                         R"("exportTime":"2023-11-14T22:13:20.500Z"})");
  ASSERT_TRUE(summary.ok()) << summary.status();
  absl::StatusOr<std::string> exported =
      ExportLineToStreamRecord(StrCat(R"({"Item":)", item, "}"), ExportType::kFull, *summary, 0, 1);
  absl::StatusOr<std::string> scanned =
      ScanItemToStreamRecord(item, {"id"}, "t", 0, 0, 0, 1700000000500);
  ASSERT_TRUE(exported.ok() && scanned.ok());
  std::string want = *exported;
  want.replace(want.find("e1:0:1"), 6, "scan:t:0:0:0");
  want.insert(want.find(",\"NewImage\""), R"(,"Keys":{"id":{"S":"o-1"}})");
  EXPECT_EQ(*scanned, want);
}

TEST(ScanPageToStreamRecords, EveryItemInOrderOrTheFirstFailure) {
  absl::StatusOr<ScanPage> page = ParseScanResponse(
      R"({"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}},{"pk":{"S":"c"}}],"Count":3})");
  ASSERT_TRUE(page.ok()) << page.status();
  absl::StatusOr<std::vector<std::string>> records =
      ScanPageToStreamRecords(*page, {"pk"}, "t", 2, 9, 1000);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    absl::StatusOr<std::string> one =
        ScanItemToStreamRecord(page->items[i], {"pk"}, "t", 2, 9, i, 1000);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ((*records)[i], *one);
  }
  EXPECT_THAT((*records)[2], HasSubstr(R"("eventID":"scan:t:2:9:2")"));
  page->items[1] = R"({"other":{"S":"b"}})";
  EXPECT_THAT(Message(ScanPageToStreamRecords(*page, {"pk"}, "t", 2, 9, 1000).status()),
              HasSubstr("segment 2 page 9 item 1: the item has no key attribute \"pk\""));
}

TEST(ScanItemToStreamRecord, AMultiLineItemIsMinified) {
  absl::StatusOr<std::string> r =
      ScanItemToStreamRecord("{\n \"pk\": {\"S\": \"a\"}\n}\n", {"pk"}, "t", 0, 0, 0, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, HasSubstr(R"("NewImage":{"pk":{"S":"a"}},)"));
  EXPECT_EQ(r->find('\n'), std::string::npos);
  EXPECT_THAT(*r, HasSubstr(R"("ApproximateCreationDateTime":0.000000,)"));
}

TEST(ScanItemToStreamRecord, RefusesItemsWithoutTheirKeys) {
  EXPECT_THAT(
      Message(
          ScanItemToStreamRecord(R"({"pk":{"S":"a"}})", {"pk", "sk"}, "t", 1, 2, 3, 0).status()),
      HasSubstr("segment 1 page 2 item 3: the item has no key attribute \"sk\""));
  EXPECT_THAT(Message(ScanItemToStreamRecord(R"({"pk":"a"})", {"pk"}, "t", 0, 0, 0, 0).status()),
              HasSubstr("no key attribute \"pk\""));
  EXPECT_THAT(Message(ScanItemToStreamRecord("[]", {"pk"}, "t", 0, 0, 0, 0).status()),
              HasSubstr("not a JSON object of attributes"));
  EXPECT_THAT(Message(ScanItemToStreamRecord("{", {"pk"}, "t", 0, 0, 0, 0).status()),
              HasSubstr("not JSON"));
  EXPECT_THAT(Message(ScanItemToStreamRecord("{}", {}, "t", 0, 0, 0, 0).status()),
              HasSubstr("key attribute names are not known"));
  EXPECT_THAT(Message(ScanItemToStreamRecord(StrCat("{\"pk\":", DeepAttribute(200), "}"), {"pk"},
                                             "t", 0, 0, 0, 0)
                          .status()),
              HasSubstr("nested deeper than"));
}

// The records go through a pipeline's transform as stream records do.
TEST(ScanItemToStreamRecord, TheTransformTakesThem) {
  auto config = ParseConfig(
      "pipelines:\n  - name: p\n    input: dynamodb-stream\n    image: new-or-old\n"
      "    metadata: [eventID, ApproximateCreationDateTime]\n",
      "t.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  RecordTransformer transformer(*config->pipelines[0]);
  absl::StatusOr<std::string> rec = ScanItemToStreamRecord(
      R"({"id":{"S":"o-1"},"n":{"N":"38"},"b":{"B":"AAE="},"s":{"NS":["1","2"]}})", {"id"},
      "orders", 1, 2, 3, 1700000000500);
  ASSERT_TRUE(rec.ok()) << rec.status();
  RecordOutcome out;
  transformer.Transform({.record_id = "1", .data = *rec}, TransformContext{}, &out);
  EXPECT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.operation, Operation::kInsert);
  EXPECT_THAT(out.data, HasSubstr(R"("id":"o-1")"));
  EXPECT_THAT(out.data, HasSubstr(R"("_eventID":"scan:orders:1:2:3")"));
  EXPECT_THAT(out.data, HasSubstr(R"("_ApproximateCreationDateTime":1700000000500)"));
}

TEST(ParseDynamoDbError, ClassifiesByTypeThenStatus) {
  struct Case {
    int status;
    std::string body;
    DynamoDbErrorKind kind;
    std::string type;
  };
  const Case cases[] = {
      {400,
       R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
       R"("message":"The level of configured provisioned throughput for the table was exceeded."})",
       DynamoDbErrorKind::kThrottled, "ProvisionedThroughputExceededException"},
      {400, R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate"})",
       DynamoDbErrorKind::kThrottled, "ThrottlingException"},
      {400, R"({"__type":"com.amazonaws.dynamodb.v20120810#RequestLimitExceeded"})",
       DynamoDbErrorKind::kThrottled, "RequestLimitExceeded"},
      {500, R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"})",
       DynamoDbErrorKind::kTransient, "InternalServerError"},
      {503, R"({"__type":"com.amazon.coral.service#ServiceUnavailable"})",
       DynamoDbErrorKind::kTransient, "ServiceUnavailable"},
      {400,
       R"({"__type":"com.amazon.coral.service#UnrecognizedClientException",)"
       R"("message":"The security token included in the request is invalid."})",
       DynamoDbErrorKind::kAuth, "UnrecognizedClientException"},
      {400, R"({"__type":"com.amazon.coral.service#InvalidSignatureException","Message":"x"})",
       DynamoDbErrorKind::kAuth, "InvalidSignatureException"},
      {400, R"({"__type":"com.amazon.coral.service#AccessDeniedException"})",
       DynamoDbErrorKind::kAuth, "AccessDeniedException"},
      {403, R"({"__type":"com.amazon.coral.service#MissingAuthenticationTokenException"})",
       DynamoDbErrorKind::kAuth, "MissingAuthenticationTokenException"},
      {400, R"({"__type":"com.amazon.coral.service#ExpiredTokenException"})",
       DynamoDbErrorKind::kAuth, "ExpiredTokenException"},
      {400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"})",
       DynamoDbErrorKind::kClient, "ResourceNotFoundException"},
      {400, R"({"__type":"com.amazon.coral.validate#ValidationException"})",
       DynamoDbErrorKind::kClient, "ValidationException"},
      {502, "<html>Bad Gateway</html>", DynamoDbErrorKind::kTransient, ""},
      {500, R"({"__type":"com.example#SomethingNew"})", DynamoDbErrorKind::kTransient,
       "SomethingNew"},
      {429, "", DynamoDbErrorKind::kThrottled, ""},
      {403, "Forbidden", DynamoDbErrorKind::kAuth, ""},
      {400, "not json", DynamoDbErrorKind::kClient, ""},
      {400, R"({"__type":"NoHashException"})", DynamoDbErrorKind::kClient, "NoHashException"},
  };
  for (const Case& c : cases) {
    const DynamoDbError e = ParseDynamoDbError(c.status, c.body);
    EXPECT_EQ(DynamoDbErrorKindName(e.kind), DynamoDbErrorKindName(c.kind)) << c.body;
    EXPECT_EQ(e.type, c.type) << c.body;
  }
  const DynamoDbError e = ParseDynamoDbError(
      400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
           R"("message":"Requested resource not found"})");
  EXPECT_EQ(e.ToString(400), "ResourceNotFoundException: Requested resource not found (HTTP 400)");
  EXPECT_EQ(ParseDynamoDbError(502, "<html>Bad Gateway</html>").ToString(502),
            "error: \"<html>Bad Gateway</html>\" (HTTP 502)");
  // A long message is cut on a character boundary (512 bytes: 255 'x' then 2-byte 'é's).
  const DynamoDbError cut = ParseDynamoDbError(
      400, StrCat(R"({"__type":"x#ValidationException","message":")", std::string(255, 'x'),
                  [] {
                    std::string e;
                    for (int i = 0; i < 300; ++i) e += "\u00e9";
                    return e;
                  }(),
                  "\"}"));
  EXPECT_EQ(cut.message.size(), 511u);
  EXPECT_TRUE(IsValidUtf8(cut.message));
  // A huge body is quoted cut short.
  EXPECT_LT(ParseDynamoDbError(500, std::string(100000, 'x')).message.size(), 300u);
}

TEST(CheckAnswerCrc32, MatchesWhatDynamoDbSends) {
  // crc32("{}") = 2745614147 (zlib, the same CRC-32 DynamoDB and dynalite send).
  EXPECT_TRUE(CheckAnswerCrc32("2745614147", "{}").ok());
  EXPECT_TRUE(CheckAnswerCrc32("", "anything").ok());  // not sent: nothing to check
  EXPECT_EQ(CheckAnswerCrc32("2745614147", "{ }").code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(CheckAnswerCrc32("12ab", "{}")), HasSubstr("is not a CRC32"));
  EXPECT_EQ(CheckAnswerCrc32("4294967296", "{}").code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace lakehose::backfill
