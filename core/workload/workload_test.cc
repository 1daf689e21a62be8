#include "core/workload/workload.h"

#include <set>
#include <string>

#include "absl/time/time.h"
#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testing/json_check.h"
#include "testing/test_config.h"

namespace lakehose {
namespace {

std::string Generate(Workload w, uint64_t seed, int n, int64_t start_ms = 1700000000000) {
  WorkloadGenerator g(w, seed, start_ms);
  std::string out;
  for (int i = 0; i < n; ++i) {
    g.Next(&out);
    out.push_back('\n');
  }
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

TEST(WorkloadTest, ParseWorkload) {
  EXPECT_EQ(ParseWorkload("transactions"), Workload::kTransactions);
  EXPECT_EQ(ParseWorkload("sites"), Workload::kSites);
  EXPECT_EQ(ParseWorkload("edge"), Workload::kEdge);
  EXPECT_EQ(ParseWorkload("Transactions"), std::nullopt);
  EXPECT_EQ(ParseWorkload(""), std::nullopt);
}

TEST(WorkloadTest, DeterministicForASeed) {
  for (Workload w : {Workload::kTransactions, Workload::kSites, Workload::kEdge}) {
    EXPECT_EQ(Generate(w, 42, 50), Generate(w, 42, 50));
    EXPECT_NE(Generate(w, 42, 50), Generate(w, 43, 50));
    EXPECT_NE(Generate(w, 42, 5, 1700000000000), Generate(w, 42, 5, 1800000000000));
  }
}

TEST(WorkloadTest, EveryRecordParsesAsJsonWithTheStreamShape) {
  simdjson::dom::parser parser;
  for (Workload w : {Workload::kTransactions, Workload::kSites, Workload::kEdge}) {
    std::set<std::string> names;
    std::set<std::string> event_ids;
    const std::string text = Generate(w, 7, 500);
    for (const std::string& line : Lines(text)) {
      EXPECT_EQ(line.find('\n'), std::string::npos);
      simdjson::dom::element rec;
      ASSERT_EQ(parser.parse(line).get(rec), simdjson::SUCCESS) << line;
      ASSERT_TRUE(rec.is_object()) << line;
      EXPECT_TRUE(testing::JsonChecker::IsObject(line)) << line;
      std::string_view name;
      ASSERT_EQ(rec["eventName"].get_string().get(name), simdjson::SUCCESS) << line;
      names.insert(std::string(name));
      std::string_view id;
      ASSERT_EQ(rec["eventID"].get_string().get(id), simdjson::SUCCESS) << line;
      event_ids.insert(std::string(id));
      simdjson::dom::object ddb;
      ASSERT_EQ(rec["dynamodb"].get_object().get(ddb), simdjson::SUCCESS) << line;
      EXPECT_EQ(ddb["Keys"].error(), simdjson::SUCCESS) << line;
      // INSERT has only NewImage, MODIFY both, REMOVE only OldImage (or, from a KEYS_ONLY
      // stream, only Keys).
      std::string_view view;
      ASSERT_EQ(ddb["StreamViewType"].get_string().get(view), simdjson::SUCCESS) << line;
      const bool keys_only = view == "KEYS_ONLY";
      EXPECT_TRUE(!keys_only || name == "REMOVE") << line;
      EXPECT_EQ(ddb["NewImage"].error() == simdjson::SUCCESS, name != "REMOVE") << line;
      EXPECT_EQ(ddb["OldImage"].error() == simdjson::SUCCESS, name != "INSERT" && !keys_only)
          << line;
    }
    EXPECT_EQ(names, (std::set<std::string>{"INSERT", "MODIFY", "REMOVE"}));
    EXPECT_EQ(event_ids.size(), 500u);
  }
}

TEST(WorkloadTest, TransactionsRecordsAverageOneToTwoKilobytes) {
  const int n = 400;
  const std::string text = Generate(Workload::kTransactions, 1, n);
  const double avg = static_cast<double>(text.size() - n) / n;
  EXPECT_GE(avg, 1000) << avg;
  EXPECT_LE(avg, 2000) << avg;
}

TEST(WorkloadTest, EventTimesStayInTheSixHourWindow) {
  const int64_t start = 1700000000000;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(Generate(Workload::kSites, 3, 300, start))) {
    simdjson::dom::element rec = parser.parse(line).value();
    int64_t act = 0;
    ASSERT_EQ(rec["dynamodb"]["ApproximateCreationDateTime"].get_int64().get(act),
              simdjson::SUCCESS);
    EXPECT_GE(act, start / 1000);
    EXPECT_LT(act, (start + 6 * 3600 * 1000) / 1000);
  }
}

TEST(WorkloadTest, AllWorkloadsTransformWithoutFailures) {
  auto config = ParseConfig(
      "pipelines:\n"
      "  - name: any\n"
      "    image: new-or-old\n"
      "    metadata: [eventID, eventName, ApproximateCreationDateTime, SizeBytes]\n"
      "    partition_keys:\n"
      "      hour: { timestamp: createdAtTime, unit: ms, format: \"%Y-%m-%d-%H\","
      " fallback: approximate_creation_time }\n"
      "  - name: strings\n"
      "    image: new-or-old\n"
      "    numbers: string\n",
      "test.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  for (const auto& spec : config->pipelines) {
    RecordTransformer t(*spec);
    for (Workload w : {Workload::kTransactions, Workload::kSites, Workload::kEdge}) {
      int ok = 0;
      RecordOutcome out;
      const std::vector<std::string> lines = Lines(Generate(w, 11, 600));
      for (size_t i = 0; i < lines.size(); ++i) {
        t.Transform({.record_id = "x", .data = lines[i]}, {}, &out);
        ASSERT_EQ(out.result, Verdict::kOk)
            << spec->name << " workload " << static_cast<int>(w) << " record " << i << ": "
            << out.error_code << " " << out.error_message << "\n"
            << lines[i];
        EXPECT_NE(out.operation, Operation::kUnspecified);
        ASSERT_TRUE(testing::JsonChecker::IsObject(out.data)) << out.data;
        ++ok;
      }
      EXPECT_EQ(ok, 600);
    }
  }
}

TEST(WorkloadTest, SitesRecordsPartitionByCreatedAtTime) {
  auto config = ParseConfig(
      "pipelines:\n  - name: s\n    image: new-or-old\n"
      "    partition_keys:\n      siteId: { attribute: siteId, default: none }\n"
      "      day: { timestamp: createdAtTime, unit: ms, format: \"%Y-%m-%d\","
      " fallback: approximate_creation_time }\n",
      "test.yaml", TestTimeZone);
  ASSERT_TRUE(config.ok()) << config.status();
  RecordTransformer t(*config->pipelines[0]);
  RecordOutcome out;
  std::set<std::string> days;
  for (const std::string& line : Lines(Generate(Workload::kSites, 5, 200, 1700000000000))) {
    t.Transform({.record_id = "x", .data = line}, {}, &out);
    ASSERT_EQ(out.result, Verdict::kOk) << out.error_message;
    ASSERT_EQ(out.partition_values.size(), 2u);
    days.insert(out.partition_values[1]);
  }
  // Keys-only REMOVE records carry no siteId.
  // 22:13 UTC plus up to six hours crosses midnight.
  EXPECT_EQ(days, (std::set<std::string>{"2023-11-14", "2023-11-15"}));
}

}  // namespace
}  // namespace lakehose
