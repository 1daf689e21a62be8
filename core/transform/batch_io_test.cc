#include "core/transform/batch_io.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/base/base64.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/json_check.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Ids(const InputBatch& b) {
  std::vector<std::string> ids;
  for (const auto& r : b.records) ids.push_back(r.record_id);
  return ids;
}
std::vector<std::string> Datas(const InputBatch& b) {
  std::vector<std::string> d;
  for (const auto& r : b.records) d.push_back(r.data);
  return d;
}

// ----- Input -----

TEST(BatchIoTest, JsonLinesSkipBlankLinesAndTrim) {
  auto b = ParseInputBatch("{\"a\":1}\n\n  {\"b\":2}  \r\n\t\n{\"c\":3}");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kJsonLines);
  EXPECT_THAT(Ids(*b), ::testing::ElementsAre("1", "2", "3"));
  EXPECT_THAT(Datas(*b), ::testing::ElementsAre("{\"a\":1}", "{\"b\":2}", "{\"c\":3}"));
  for (const auto& r : b->records) EXPECT_EQ(r.arrival_ms, 0);
}

TEST(BatchIoTest, MalformedLinesBecomeRecordsNotErrors) {
  auto b = ParseInputBatch("{\"a\":1}\nnot json\n{\"c\":\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kJsonLines);
  EXPECT_THAT(Datas(*b), ::testing::ElementsAre("{\"a\":1}", "not json", "{\"c\":"));
  auto text = ParseInputBatch("hello\nworld\n");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->records.size(), 2u);
}

TEST(BatchIoTest, EmptyInputIsAnEmptyBatch) {
  auto b = ParseInputBatch("");
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->records, IsEmpty());
  b = ParseInputBatch("\n \n");
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->records, IsEmpty());
}

TEST(BatchIoTest, SinglePrettyPrintedRecordIsKeptWhole) {
  auto b =
      ParseInputBatch("{\n  \"eventName\": \"INSERT\",\n  \"n\": 1.10,\n  \"s\": \"a b\"\n}\n");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0].record_id, "1");
  EXPECT_EQ(b->records[0].data, "{\"eventName\":\"INSERT\",\"n\":1.10,\"s\":\"a b\"}");
}

// Regression: ParseInputBatch used to parse the whole text with simdjson's DOM, which
// rejects integers beyond 64 bits, so a pretty-printed document holding one was cut into
// one broken record per line.
TEST(BatchIoTest, SinglePrettyPrintedDocumentWithBigNumberIsKeptWhole) {
  auto b = ParseInputBatch("{\n  \"id\": 123456789012345678901234567890,\n  \"x\": 1\n}\n");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0].data, "{\"id\":123456789012345678901234567890,\"x\":1}");
}

// Regression: a JSON Lines file whose first line held an integer beyond 2^64 was read as
// one record (the whole file minified into one line): simdjson's DOM refused the number,
// on the whole text and on the first line alike, and the big-number fallback took the text
// for one document.
TEST(BatchIoTest, JsonLinesWithBigIntegerOnFirstLineAreReadLineByLine) {
  for (const std::string first :
       {"{\"n\": 18446744073709551616}", "{\"n\": -18446744073709551617}", "{\"n\": 1.5e400}",
        "{\"a\": [1, {\"n\": 123456789012345678901234567890}], \"s\": \"1e999 \\\" 2\"}"}) {
    auto b = ParseInputBatch(StrCat(first, "\n{\"n\": 1}\n{\"n\": 2}\n"));
    ASSERT_TRUE(b.ok()) << first << ": " << b.status();
    EXPECT_EQ(b->format, BatchFormat::kJsonLines);
    EXPECT_THAT(Datas(*b), ::testing::ElementsAre(first, "{\"n\": 1}", "{\"n\": 2}"));
  }
  // A big integer on a later line only, too.
  auto later = ParseInputBatch("{\"n\": 1}\n{\"n\": 18446744073709551616}\n");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->records.size(), 2u);
}

// Lines with a malformed number are still lines (each fails alone in the transform).
TEST(BatchIoTest, JsonLinesWithMalformedNumberOnFirstLineAreReadLineByLine) {
  auto b = ParseInputBatch("{\"n\": 01}\n{\"n\": 1}\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(Datas(*b), ::testing::ElementsAre("{\"n\": 01}", "{\"n\": 1}"));
}

// The big integer is valid JSON and the transformer keeps it digit for digit (house rule
// 12: no number changed to fit a type).
TEST(BatchIoTest, BigIntegerLineIsTransformedLosslessly) {
  auto b = ParseInputBatch(
      "{\"n\": 18446744073709551616, \"f\": 1.5e400}\n{\"n\": -99999999999999999999.5}\n");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->records.size(), 2u);
  auto config =
      ParseConfig("pipelines:\n  - name: p\n    input: json\n", "test.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  RecordTransformer t(*config->pipelines[0]);
  RecordOutcome out;
  t.Transform({.record_id = "1", .data = b->records[0].data}, {}, &out);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"n":18446744073709551616,"f":1.5e400})");
  t.Transform({.record_id = "2", .data = b->records[1].data}, {}, &out);
  ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
  EXPECT_EQ(out.data, R"({"n":-99999999999999999999.5})");
}

// A Lambda event holding a number the DOM cannot hold is still an event, and its records
// keep their digits.
TEST(BatchIoTest, LambdaEventWithBigNumberKeepsItsDigits) {
  auto b = ParseInputBatch(R"({"Records":[
      {"eventName":"INSERT","big":18446744073709551616,"dynamodb":{"NewImage":{"a":{"N":"1"}}}},
      {"eventName": "REMOVE", "dynamodb": {"Keys": {"a": {"S": "x y"}}}}
  ]})");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kLambdaEvent);
  EXPECT_THAT(
      Datas(*b),
      ::testing::ElementsAre(
          R"({"eventName":"INSERT","big":18446744073709551616,"dynamodb":{"NewImage":{"a":{"N":"1"}}}})",
          R"({"eventName":"REMOVE","dynamodb":{"Keys":{"a":{"S":"x y"}}}})"));
}

TEST(BatchIoTest, LambdaEvent) {
  auto b = ParseInputBatch(R"({"Records":[
      {"eventName":"INSERT","dynamodb":{"NewImage":{"a":{"N":"1.10"}}}},
      {"eventName":"REMOVE", "dynamodb": {"Keys": {"a": {"S": "x y"}}}}
  ]})");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kLambdaEvent);
  EXPECT_THAT(Ids(*b), ::testing::ElementsAre("1", "2"));
  EXPECT_THAT(Datas(*b), ::testing::ElementsAre(
                             R"({"eventName":"INSERT","dynamodb":{"NewImage":{"a":{"N":"1.10"}}}})",
                             R"({"eventName":"REMOVE","dynamodb":{"Keys":{"a":{"S":"x y"}}}})"));
}

TEST(BatchIoTest, TruncatedEventIsAnError) {
  auto b = ParseInputBatch("{\"Records\":[\n  {\"eventName\":\"INSERT\",\n   \"dynamodb\":{");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  auto f = ParseInputBatch("{\"records\":[\n {\"recordId\":\"1\",\"data\":\"e30=\"},\n");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BatchIoTest, FirehoseEvent) {
  const std::string doc1 = R"({"a":1})";
  const std::string doc2 = "{\"b\":\"\xC3\xA9\"}";
  const std::string text = StrCat(
      R"({"invocationId":"inv","deliveryStreamArn":"arn","region":"us-east-1","records":[)",
      R"({"recordId":"r-1","approximateArrivalTimestamp":1700000000123,"data":")",
      Base64Encode(doc1), R"("},)", R"({"recordId":"r-2","data":")", Base64Encode(doc2), R"("}]})");
  auto b = ParseInputBatch(text);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kFirehoseEvent);
  ASSERT_EQ(b->records.size(), 2u);
  EXPECT_EQ(b->records[0].record_id, "r-1");
  EXPECT_EQ(b->records[0].data, doc1);
  EXPECT_EQ(b->records[0].arrival_ms, 1700000000123);
  EXPECT_EQ(b->records[1].record_id, "r-2");
  EXPECT_EQ(b->records[1].data, doc2);
  EXPECT_EQ(b->records[1].arrival_ms, 0);
}

TEST(BatchIoTest, FirehoseEventErrors) {
  auto bad64 = ParseInputBatch(
      R"({"records":[{"recordId":"a","data":"e30="},{"recordId":"b","data":"!!"}]})");
  ASSERT_FALSE(bad64.ok());
  EXPECT_EQ(bad64.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(StatusMessage(bad64.status())), HasSubstr("records[1].data"));
  auto no_id = ParseInputBatch(R"({"records":[{"data":"e30="}]})");
  ASSERT_FALSE(no_id.ok());
  EXPECT_THAT(std::string(StatusMessage(no_id.status())), HasSubstr("records[0].recordId"));
  auto no_data = ParseInputBatch(R"({"records":[{"recordId":"x"}]})");
  ASSERT_FALSE(no_data.ok());
  EXPECT_THAT(std::string(StatusMessage(no_data.status())), HasSubstr("records[0].data"));
}

// ----- Output -----

TEST(BatchIoTest, ResultJsonLineOk) {
  ResultView r;
  r.record_id = "id\"1";
  r.result = Verdict::kOk;
  r.operation = Operation::kUpdate;
  r.data = R"({"n":12345678901234567890123456789})";
  r.partition_keys = {{"region", "EU"}, {"day", "2023-11-14"}};
  r.key_prefix = "data/region=EU/";
  std::string out = "prev\n";
  AppendResultJsonLine(r, &out);
  EXPECT_EQ(
      out,
      "prev\n"
      R"({"record_id":"id\"1","result":"OK","operation":"UPDATE","partition_keys":{"region":"EU","day":"2023-11-14"},)"
      R"("key_prefix":"data/region=EU/","data":{"n":12345678901234567890123456789}})"
      "\n");
  EXPECT_TRUE(testing::JsonChecker::IsObject(out.substr(5)));
}

TEST(BatchIoTest, ResultJsonLineFailedAndDropped) {
  ResultView f;
  f.record_id = "2";
  f.result = Verdict::kProcessingFailed;
  f.operation = Operation::kInsert;
  f.key_prefix = "errors/processing-failed/";
  f.error_code = "INVALID_NUMBER";
  f.error_message = "dynamodb.NewImage.price: N value \"x\" is not a number";
  f.data = "ignored";
  std::string out;
  AppendResultJsonLine(f, &out);
  EXPECT_EQ(
      out,
      R"({"record_id":"2","result":"PROCESSING_FAILED","operation":"INSERT","key_prefix":"errors/processing-failed/",)"
      R"("error_code":"INVALID_NUMBER","error_message":"dynamodb.NewImage.price: N value \"x\" is not a number"})"
      "\n");
  EXPECT_TRUE(testing::JsonChecker::IsObject(out));

  ResultView d;
  d.record_id = "3";
  d.result = Verdict::kDropped;
  d.operation = Operation::kDelete;
  out.clear();
  AppendResultJsonLine(d, &out);
  EXPECT_EQ(out, R"({"record_id":"3","result":"DROPPED","operation":"DELETE"})"
                 "\n");
}

TEST(BatchIoTest, FirehoseResponse) {
  ResultView ok;
  ok.record_id = "r-1";
  ok.result = Verdict::kOk;
  ok.data = R"({"a":1})";
  ok.partition_keys = {{"region", "EU"}};
  ok.input_data = "ignored for OK";
  ResultView dropped;
  dropped.record_id = "r-2";
  dropped.result = Verdict::kDropped;
  dropped.input_data = "in2";
  ResultView failed;
  failed.record_id = "r-3";
  failed.result = Verdict::kProcessingFailed;
  failed.input_data = "in3";
  failed.error_code = "INVALID_JSON";
  ResultView ok_no_keys;
  ok_no_keys.record_id = "r-4";
  ok_no_keys.result = Verdict::kOk;
  ok_no_keys.data = "{}";
  std::string out;
  AppendFirehoseResponse({ok, dropped, failed, ok_no_keys}, &out);
  EXPECT_EQ(
      out,
      StrCat(R"({"records":[)", R"({"recordId":"r-1","result":"Ok","data":")",
             Base64Encode("{\"a\":1}\n"), R"(","metadata":{"partitionKeys":{"region":"EU"}}},)",
             R"({"recordId":"r-2","result":"Dropped","data":")", Base64Encode("in2"), R"("},)",
             R"({"recordId":"r-3","result":"ProcessingFailed","data":")", Base64Encode("in3"),
             R"("},)", R"({"recordId":"r-4","result":"Ok","data":")", Base64Encode("{}\n"),
             R"("}]})", "\n"));
  EXPECT_TRUE(testing::JsonChecker::IsObject(out));
  std::string empty;
  AppendFirehoseResponse({}, &empty);
  EXPECT_EQ(empty, "{\"records\":[]}\n");
}

// ----- aws-lambda-go samples (../shared/vectors/lambda-events) -----

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::filesystem::path kEvents = LAKEHOSE_SHARED_DIR "/vectors/lambda-events/";

TEST(BatchIoVectorsTest, DynamoDbEventTransformsEveryRecord) {
  if (!std::filesystem::is_directory(kEvents))
    GTEST_SKIP() << "../shared/vectors absent: skipping aws-lambda-go samples";
  auto b = ParseInputBatch(ReadFile(kEvents / "dynamodb-event.json"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kLambdaEvent);
  ASSERT_EQ(b->records.size(), 2u);
  auto config = ParseConfig(
      "pipelines:\n  - name: p\n    metadata: [eventID, ApproximateCreationDateTime]\n"
      "    partition_keys:\n      key: { attribute: key }\n",
      "test.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  RecordTransformer t(*config->pipelines[0]);
  std::vector<RecordOutcome> outs(b->records.size());
  for (size_t i = 0; i < b->records.size(); ++i) {
    const OwnedRecord& r = b->records[i];
    t.Transform({.record_id = r.record_id, .data = r.data, .arrival_ms = r.arrival_ms}, {},
                &outs[i]);
    EXPECT_EQ(outs[i].result, Verdict::kOk) << r.record_id << ": " << outs[i].error_message;
    EXPECT_EQ(outs[i].operation, Operation::kInsert);
    EXPECT_TRUE(testing::JsonChecker::IsObject(outs[i].data)) << outs[i].data;
    EXPECT_EQ(outs[i].key_prefix, "data/key=binary/");
  }
  EXPECT_EQ(
      outs[0].data,
      R"({"_eventID":"f07f8ca4b0b26cb9c4e5e77e69f274ee","_ApproximateCreationDateTime":1480642020000,)"
      R"("val":"data","asdf1":"AAEqQQ==","asdf2":["AAEqQQ==","QSoBAA=="],"key":"binary"})");
  const std::string& d = outs[1].data;
  EXPECT_THAT(d, HasSubstr(R"("b2":"test")"));
  EXPECT_THAT(d, HasSubstr(R"("Binary":"AAEqQQ==")"));
  EXPECT_THAT(d, HasSubstr(R"("BinarySet":["AAEqQQ==","AAEqQQ=="])"));
  EXPECT_THAT(d, HasSubstr(R"("List":["Cookies","Coffee",3.14159])"));
  EXPECT_THAT(d, HasSubstr(R"("Map":{"Name":"Joe","Age":35})"));
  EXPECT_THAT(d, HasSubstr(R"("FloatNumber":123.45)"));
  EXPECT_THAT(d, HasSubstr(R"("NumberSet":[1234,567.8])"));
  EXPECT_THAT(d, HasSubstr(R"("Null":null)"));
  EXPECT_THAT(d, HasSubstr(R"("StringSet":["Giraffe","Zebra"])"));
  EXPECT_THAT(d, HasSubstr(R"("EmptyStringSet":[])"));
}

TEST(BatchIoVectorsTest, MalformedDynamoDbEventIsAnError) {
  if (!std::filesystem::is_directory(kEvents))
    GTEST_SKIP() << "../shared/vectors absent: skipping aws-lambda-go samples";
  auto b = ParseInputBatch(ReadFile(kEvents / "dynamodb-event-malformed.2.json"));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BatchIoVectorsTest, FirehoseSampleEvent) {
  if (!std::filesystem::is_directory(kEvents))
    GTEST_SKIP() << "../shared/vectors absent: skipping aws-lambda-go samples";
  auto b = ParseInputBatch(ReadFile(kEvents / "kinesis-firehose-event.json"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kFirehoseEvent);
  ASSERT_EQ(b->records.size(), 2u);
  EXPECT_EQ(b->records[0].record_id, "record1");
  EXPECT_EQ(b->records[0].data, "Hello World");
  EXPECT_EQ(b->records[0].arrival_ms, 1507217624302);
  EXPECT_EQ(b->records[1].record_id, "record2");
}

// The issue's reproducer ({"a": then 50,000 '[' and ']', 100 KB) as a line of input: past
// simdjson's depth the DOM parse refuses it (iteratively), and the line is one record for
// the transform to fail alone. A Lambda event holding such a record is refused whole, with
// the parser's reason, not a crash.
TEST(BatchIoTest, DeepRecordsAreParsedWithoutRecursion) {
  const std::string deep = "{\"a\":" + std::string(50000, '[') + std::string(50000, ']') + "}";
  auto b = ParseInputBatch(deep + "\n{\"b\":1}\n");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->records.size(), 2u);
  EXPECT_EQ(b->records[0].data, deep);
  auto lambda = ParseInputBatch("{\"Records\":[" + deep + "]}");
  ASSERT_FALSE(lambda.ok());
  EXPECT_THAT(std::string(StatusMessage(lambda.status())), HasSubstr("too deep"));
  // Within the parser's depth, a deep record in an event is extracted as it is.
  const std::string d500 = "{\"a\":" + std::string(500, '[') + std::string(500, ']') + "}";
  auto ok = ParseInputBatch("{\"Records\":[" + d500 + "]}");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->records.size(), 1u);
  EXPECT_EQ(ok->records[0].data, d500);
}

// ----- InputSplitter: the same inputs in chunks -----

// `text` through an InputSplitter in chunks of `chunk` bytes: the records, the format, and
// the first error (records before it kept in `*before_error`).
absl::StatusOr<InputBatch> SplitInChunks(std::string_view text, size_t chunk,
                                         std::vector<OwnedRecord>* before_error) {
  InputSplitter splitter;
  InputBatch batch;
  absl::Status s;
  for (size_t at = 0; at < text.size() && s.ok(); at += chunk)
    s = splitter.Feed(text.substr(at, chunk), &batch.records);
  if (s.ok()) s = splitter.Finish(&batch.records);
  if (!s.ok()) {
    *before_error = std::move(batch.records);
    return s;
  }
  batch.format = splitter.format().value_or(BatchFormat::kJsonLines);
  return batch;
}

// Every input of the tests above, and a few more around the format decision.
std::vector<std::string> SplitterCorpus() {
  const std::string deep = "{\"a\":" + std::string(2000, '[') + std::string(2000, ']') + "}";
  std::vector<std::string> c = {
      "{\"a\":1}\n\n  {\"b\":2}  \r\n\t\n{\"c\":3}",
      "{\"a\":1}\nnot json\n{\"c\":\n",
      "hello\nworld\n",
      "",
      "\n \n",
      "{\n  \"eventName\": \"INSERT\",\n  \"n\": 1.10,\n  \"s\": \"a b\"\n}\n",
      "{\n  \"id\": 123456789012345678901234567890,\n  \"x\": 1\n}\n",
      "{\"n\": 18446744073709551616}\n{\"n\": 1}\n{\"n\": 2}\n",
      "{\"n\": -18446744073709551617}\n{\"n\": 1}\n{\"n\": 2}\n",
      "{\"n\": 1.5e400}\n{\"n\": 1}\n{\"n\": 2}\n",
      "{\"a\": [1, {\"n\": 123456789012345678901234567890}], \"s\": \"1e999 \\\" 2\"}\n{\"n\": "
      "1}\n",
      "{\"n\": 1}\n{\"n\": 18446744073709551616}\n",
      "{\"n\": 01}\n{\"n\": 1}\n",
      "{\"n\": 18446744073709551616, \"f\": 1.5e400}\n{\"n\": -99999999999999999999.5}\n",
      R"({"Records":[
      {"eventName":"INSERT","big":18446744073709551616,"dynamodb":{"NewImage":{"a":{"N":"1"}}}},
      {"eventName": "REMOVE", "dynamodb": {"Keys": {"a": {"S": "x y"}}}}
  ]})",
      R"({"Records":[
      {"eventName":"INSERT","dynamodb":{"NewImage":{"a":{"N":"1.10"}}}},
      {"eventName":"REMOVE", "dynamodb": {"Keys": {"a": {"S": "x y"}}}}
  ]})",
      "{\"Records\":[\n  {\"eventName\":\"INSERT\",\n   \"dynamodb\":{",
      "{\"records\":[\n {\"recordId\":\"1\",\"data\":\"e30=\"},\n",
      StrCat(R"({"invocationId":"inv","deliveryStreamArn":"arn","region":"us-east-1","records":[)",
             R"({"recordId":"r-1","approximateArrivalTimestamp":1700000000123,"data":")",
             Base64Encode("{\"a\":1}"), R"("},)", R"({"recordId":"r-2","data":")",
             Base64Encode("{\"b\":\"\xC3\xA9\"}"), R"("}]})"),
      R"({"records":[{"recordId":"a","data":"e30="},{"recordId":"b","data":"!!"}]})",
      R"({"records":[{"data":"e30="}]})",
      R"({"records":[{"recordId":"x"}]})",
      deep + "\n{\"b\":1}\n",
      "{\"Records\":[" + deep + "]}",
      // Around the decision: keys that only look like the records, an event on one line
      // with text after the array, events cut anywhere, strings holding brackets.
      "{\"Records\": 5}",
      "{\"x\": {\"Records\": [1]}, \"y\": \"Records\"}",
      "{\"s\": \"\\\"Records\\\": [\", \"n\": 1}\n{\"n\": 2}\n",
      "{ \"invocationId\" : \"i\" , \"records\" : [ ] , \"region\" : \"r\" }\n",
      "{\"Records\":[{\"a\":\"]}\\\"[{\"}, [1, 2], \"s\", 3, true, null]}",
      "{\"Records\":[{\"a\":1}]}\n{\"b\":2}\n",
      "{\"Records\":[{\"a\":1} {\"b\":2}]}",
      "{\"Records\":[{\"a\":1},]}",
      "{\"Records\":[{\"a\":1}], \"x\": }",
      "{\"Records\"",
      "{\n  \"Records\": [\n    {\"eventName\": \"INSERT\",\n",
      "{\"a\":1} {\"b\":2}\n{\"c\":3}",
      "{\n\"a\": 1,\nbad\n}\n{\"b\":1}\n",
      "{\n\"a\": 1,\n\"records\"\n}\n{\"b\":1}\n",
      "[1, 2]\n{\"a\":1}\n",
      "   \n  {\"a\": 1}  \n\n",
  };
  for (const char* name :
       {"dynamodb-event.json", "dynamodb-event-malformed.2.json", "kinesis-firehose-event.json"}) {
    if (std::filesystem::is_regular_file(kEvents / name)) c.push_back(ReadFile(kEvents / name));
  }
  return c;
}

// The property the CLI's streaming rests on: fed whole or in chunks of any size, an input
// gives the same records, format and error; and an error comes after the records before
// the damage.
TEST(InputSplitterTest, ChunkedEqualsWhole) {
  const std::vector<std::string> corpus = SplitterCorpus();
  size_t errors = 0, lambda = 0, firehose = 0, lines = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string& text = corpus[i];
    std::vector<OwnedRecord> whole_before;
    auto whole = SplitInChunks(text, std::max<size_t>(text.size(), 1), &whole_before);
    auto via_parse = ParseInputBatch(text);
    ASSERT_EQ(whole.ok(), via_parse.ok()) << i;
    if (!whole.ok()) {
      ++errors;
    } else {
      ++(whole->format == BatchFormat::kLambdaEvent     ? lambda
         : whole->format == BatchFormat::kFirehoseEvent ? firehose
                                                        : lines);
    }
    for (size_t chunk = 1; chunk <= 17; ++chunk) {
      SCOPED_TRACE(StrCat("input ", i, " in chunks of ", chunk, ": ", text.substr(0, 60)));
      std::vector<OwnedRecord> before;
      auto got = SplitInChunks(text, chunk, &before);
      ASSERT_EQ(got.ok(), whole.ok()) << (got.ok() ? whole.status() : got.status());
      if (!got.ok()) {
        EXPECT_EQ(got.status(), whole.status());
        std::vector<std::string> a, b;
        for (const auto& r : before) a.push_back(r.data);
        for (const auto& r : whole_before) b.push_back(r.data);
        EXPECT_EQ(a, b);
        continue;
      }
      EXPECT_EQ(got->format, whole->format);
      EXPECT_EQ(Ids(*got), Ids(*whole));
      EXPECT_EQ(Datas(*got), Datas(*whole));
      ASSERT_EQ(got->records.size(), whole->records.size());
      for (size_t r = 0; r < got->records.size(); ++r)
        EXPECT_EQ(got->records[r].arrival_ms, whole->records[r].arrival_ms);
    }
  }
  // The corpus covers every outcome.
  EXPECT_GE(errors, 10u);
  EXPECT_GE(lambda, 3u);
  EXPECT_GE(firehose, 2u);
  EXPECT_GE(lines, 10u);
}

// The same property on damaged inputs: corpus texts cut, spliced and with bytes replaced
// by the characters that steer the scanner, fed whole and in chunks of random sizes.
// Deterministic (fixed seed); 3,000 cases.
TEST(InputSplitterTest, ChunkedEqualsWholeOnMutatedInputs) {
  const std::vector<std::string> corpus = SplitterCorpus();
  std::mt19937 rng(18);
  const std::string steer = "{}[]\",:\\\n \"Records\"\"records\"";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text = corpus[rng() % corpus.size()];
    if (text.size() > 4000) text.resize(4000);
    switch (rng() % 3) {
      case 0:
        text.resize(text.empty() ? 0 : rng() % text.size());
        break;
      case 1:
        text += corpus[rng() % corpus.size()].substr(0, 200);
        break;
      default:
        for (int k = 0; k < 3 && !text.empty(); ++k)
          text[rng() % text.size()] = steer[rng() % steer.size()];
    }
    std::vector<OwnedRecord> whole_before, before;
    auto whole = SplitInChunks(text, std::max<size_t>(text.size(), 1), &whole_before);
    const size_t chunk = 1 + rng() % 64;
    auto got = SplitInChunks(text, chunk, &before);
    ASSERT_EQ(got.ok(), whole.ok()) << "chunk " << chunk << ": " << text;
    if (!got.ok()) {
      EXPECT_EQ(got.status(), whole.status()) << text;
      EXPECT_EQ(before.size(), whole_before.size()) << text;
      continue;
    }
    EXPECT_EQ(got->format, whole->format) << text;
    EXPECT_EQ(Datas(*got), Datas(*whole)) << "chunk " << chunk << ": " << text;
    EXPECT_EQ(Ids(*got), Ids(*whole)) << text;
  }
}

// What the streaming changed, pinned: the records before an event's damage come out
// before the error, and text after a complete event is an error.
TEST(InputSplitterTest, RecordsBeforeTheDamageComeFirst) {
  std::vector<OwnedRecord> before;
  auto b = SplitInChunks("{\"Records\":[{\"a\":1},{\"b\":2},{\"c\":", 4, &before);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(StatusMessage(b.status())), HasSubstr("Records[2]"));
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[1].data, "{\"b\":2}");
  EXPECT_EQ(before[1].record_id, "2");
  auto trailing = SplitInChunks("{\"Records\":[{\"a\":1}]}\n{\"b\":2}\n", 3, &before);
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(std::string(StatusMessage(trailing.status())), HasSubstr("after the event"));
  EXPECT_EQ(before.size(), 1u);
  auto bad_skeleton = SplitInChunks("{\"Records\":[{\"a\":1}], \"x\": }", 5, &before);
  ASSERT_FALSE(bad_skeleton.ok());
  EXPECT_EQ(before.size(), 1u);
}

// An element of a Lambda event is not parsed by the splitter (the transform parses it):
// one that is not JSON is a record that fails alone, like a malformed line of JSON Lines;
// the event around it still has to be well-formed.
TEST(InputSplitterTest, LambdaElementThatIsNotJsonIsARecord) {
  auto b = ParseInputBatch("{\"Records\":[{\"a\": tru}, {\"b\" 1}, {\"c\":1}]}");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->format, BatchFormat::kLambdaEvent);
  ASSERT_EQ(b->records.size(), 3u);
  EXPECT_EQ(b->records[2].data, "{\"c\":1}");
  auto config =
      ParseConfig("pipelines:\n  - name: p\n    input: json\n", "test.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  RecordTransformer t(*config->pipelines[0]);
  RecordOutcome out;
  t.Transform({.record_id = "1", .data = b->records[0].data}, {}, &out);
  EXPECT_EQ(out.result, Verdict::kProcessingFailed);
  t.Transform({.record_id = "3", .data = b->records[2].data}, {}, &out);
  EXPECT_EQ(out.result, Verdict::kOk);
}

// Memory: the splitter holds one record (plus a chunk), not the input.
TEST(InputSplitterTest, HoldsOneRecordAtATime) {
  const std::string rec = R"({"eventName":"INSERT","dynamodb":{"NewImage":{"a":{"S":"x"}}}})";
  for (const bool event : {false, true}) {
    InputSplitter splitter;
    std::vector<OwnedRecord> out;
    if (event) {
      ASSERT_TRUE(splitter.Feed("{\"Records\":[", &out).ok());
    }
    size_t n = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::string piece = event ? (i ? "," : "") + rec : rec + "\n";
      ASSERT_TRUE(splitter.Feed(piece, &out).ok());
      n += out.size();
      out.clear();
    }
    ASSERT_TRUE(splitter.Feed(event ? "]}" : "", &out).ok());
    ASSERT_TRUE(splitter.Finish(&out).ok());
    n += out.size();
    EXPECT_EQ(n, 20000u);
    EXPECT_EQ(splitter.records(), 20000u);
    EXPECT_EQ(*splitter.format(), event ? BatchFormat::kLambdaEvent : BatchFormat::kJsonLines);
  }
}

TEST(BatchIoTest, FirehoseResponseInPiecesIsTheWhole) {
  ResultView a, b;
  a.record_id = "a";
  a.result = Verdict::kOk;
  a.data = "{\"x\":1}";
  b.record_id = "b";
  b.result = Verdict::kDropped;
  b.input_data = "in";
  std::string whole, pieces;
  AppendFirehoseResponse({a, b}, &whole);
  AppendFirehoseResponseStart(&pieces);
  AppendFirehoseResponseRecord(a, true, &pieces);
  AppendFirehoseResponseRecord(b, false, &pieces);
  AppendFirehoseResponseEnd(&pieces);
  EXPECT_EQ(pieces, whole);
}

}  // namespace
}  // namespace lakehose
