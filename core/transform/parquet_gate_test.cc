#include "core/transform/parquet_gate.h"

#include <string>

#include "core/base/strings.h"
#include "core/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

// An `input: json` pipeline writing `format` (with `parquet`, its parquet: map).
Config JsonPipeline(std::string_view format, std::string_view parquet = "{}") {
  auto c = ParseConfig(StrCat("pipelines:\n  - name: p\n    input: json\n",
                              "    error_prefix: \"errors/!{firehose:error-output-type}/\"\n",
                              "    destination: { kind: file, path: ./lake, format: ", format,
                              format == "parquet" ? StrCat(", parquet: ", parquet) : "", " }\n"),
                       "test.yaml", TestTimeZone);
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

RecordOutcome Verdicts(const Config& config, std::string_view data) {
  RecordTransformer t(*config.pipelines[0]);
  TransformContext ctx;
  ctx.default_arrival_ms = 1700000000000;
  RecordOutcome out;
  t.Transform({.record_id = "r", .data = data}, ctx, &out);
  RefuseUnstorable(*config.pipelines[0], ctx, &out);
  return out;
}

std::string Deep(int levels) {
  return StrCat(R"({"a":)", std::string(levels, '['), "1", std::string(levels, ']'), "}");
}

// The record path refused nothing for Parquet: one such record failed the whole object
// at delivery (README "Parquet").
TEST(ParquetGateTest, RefusesWhatTheParquetWriterCannotStoreAlone) {
  const Config parquet = JsonPipeline("parquet");
  RecordOutcome deep = Verdicts(parquet, Deep(kMaxParquetJsonDepth + 1));
  // Today the transformer may already refuse it (NESTING_TOO_DEEP past kMaxNestingDepth);
  // either way it never reaches a buffer, with that code.
  EXPECT_EQ(deep.result, Verdict::kProcessingFailed);
  EXPECT_EQ(deep.error_code, error_code::kNestingTooDeep);
  EXPECT_EQ(deep.key_prefix, "errors/processing-failed/");
  EXPECT_TRUE(deep.data.empty());

  const Config declared = JsonPipeline(
      "parquet", "{ schema: [ { name: x, type: double }, { name: id, type: int64 } ] }");
  RecordOutcome huge = Verdicts(declared, R"({"x":1e999999,"id":1})");
  EXPECT_EQ(huge.result, Verdict::kProcessingFailed);
  EXPECT_EQ(huge.error_code, error_code::kUnrepresentableValue);
  EXPECT_THAT(huge.error_message, HasSubstr("column \"x\" (double) cannot hold \"1e999999\""));
  EXPECT_EQ(huge.key_prefix, "errors/processing-failed/");
  RecordOutcome text = Verdicts(declared, R"({"id":"seven"})");
  EXPECT_EQ(text.error_code, error_code::kUnrepresentableValue);

  // What it can store passes untouched, and so does everything for JSON Lines.
  RecordOutcome ok = Verdicts(declared, R"({"x":1.5,"id":7})");
  EXPECT_EQ(ok.result, Verdict::kOk);
  EXPECT_EQ(ok.data, R"({"x":1.5,"id":7})");
  EXPECT_EQ(Verdicts(parquet, R"({"x":1e999999})").result, Verdict::kOk);  // inferred: STRING
  EXPECT_EQ(Verdicts(parquet, Deep(kMaxNestingDepth)).result, Verdict::kOk);
  const Config jsonl = JsonPipeline("jsonl");
  EXPECT_EQ(Verdicts(jsonl, R"({"x":1e999999})").result, Verdict::kOk);
}

}  // namespace
}  // namespace lakehose
