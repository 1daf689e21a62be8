#include "core/backfill/unit_objects.h"

#include <memory>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/config/config.h"
#include "core/transform/transformer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/test_config.h"

namespace lakehose::backfill {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kYaml[] = R"yaml(
pipelines:
  - name: orders
    partition_keys:
      region: { attribute: region }
    prefix: "orders/region=!{partitionKeyFromLambda:region}/"
    error_prefix: "errors/!{firehose:error-output-type}/"
    destination: { kind: file, path: /tmp/lake, buffer: { size_mb: 0.001 } }
)yaml";

std::string Record(int i, std::string_view region, std::string_view amount = "1") {
  return StrCat(R"({"eventID":"e)", i, R"(","eventName":"INSERT","eventSource":"aws:dynamodb",)",
                R"("dynamodb":{"ApproximateCreationDateTime":1700000000,"NewImage":{"id":{"S":"o-)",
                i, R"("},"region":{"S":")", region, R"("},"amount":{"N":")", amount, R"("}}}})");
}

class UnitObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Config> c = ParseTestConfig(kYaml);
    ASSERT_TRUE(c.ok()) << c.status();
    config_ = std::make_unique<Config>(*std::move(c));
    spec_ = config_->FindPipeline("orders");
  }
  absl::StatusOr<UnitObjects> Plan(const std::vector<std::string>& recs, uint64_t unit) {
    RecordTransformer t(*spec_);
    std::vector<UnitRecord> in;
    for (const std::string& r : recs) in.push_back({r, 1700000000000});
    return PlanUnitObjects(t, *spec_, in,
                           {.pipeline = "orders",
                            .writer_id = "backfill-e1",
                            .unit = unit,
                            .random_string = "r",
                            .max_object_bytes = 1024});
  }
  std::unique_ptr<Config> config_;
  const PipelineSpec* spec_ = nullptr;
};

TEST_F(UnitObjectsTest, OneObjectPerPrefixNamedByUnitAndPart) {
  absl::StatusOr<UnitObjects> u =
      Plan({Record(1, "EU"), Record(2, "US"), Record(3, "EU"), Record(4, "EU", "x")}, 2);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->ok, 3);
  EXPECT_EQ(u->failed, 1);
  ASSERT_EQ(u->objects.size(), 3u);
  EXPECT_EQ(u->objects[0].key, "orders/region=EU/orders-backfill-e1-0000000003000000.jsonl.gz");
  EXPECT_EQ(u->objects[0].records, 2);
  EXPECT_EQ(u->objects[1].key, "orders/region=US/orders-backfill-e1-0000000003000001.jsonl.gz");
  EXPECT_TRUE(u->objects[2].error_documents);
  EXPECT_THAT(u->objects[2].key, StartsWith("errors/processing-failed/"));
  EXPECT_THAT(u->objects[2].body, HasSubstr("dynamodb.NewImage.amount"));
  EXPECT_THAT(u->objects[2].body, HasSubstr("\"arrivalTimestamp\":1700000000000"));
  // The same unit plans the same objects, byte for byte (what exactly-once rests on).
  absl::StatusOr<UnitObjects> again =
      Plan({Record(1, "EU"), Record(2, "US"), Record(3, "EU"), Record(4, "EU", "x")}, 2);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < u->objects.size(); ++i) {
    EXPECT_EQ(u->objects[i].key, again->objects[i].key);
    EXPECT_EQ(u->objects[i].body, again->objects[i].body);
  }
}

TEST_F(UnitObjectsTest, CutsAPrefixAtTheBufferSize) {
  std::vector<std::string> recs;
  for (int i = 0; i < 200; ++i) recs.push_back(Record(i, "EU"));
  absl::StatusOr<UnitObjects> u = Plan(recs, 0);
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_GT(u->objects.size(), 2u);
  int64_t records = 0;
  for (const PlannedObject& o : u->objects) {
    EXPECT_LE(o.body.size(), 1024u);
    records += o.records;
  }
  EXPECT_EQ(records, 200);
  EXPECT_EQ(u->objects[1].key, "orders/region=EU/orders-backfill-e1-0000000001000001.jsonl.gz");
}

TEST(UnitSequence, BoundsUnitsAndParts) {
  EXPECT_EQ(*UnitSequence(0, 0), 1000000u);
  EXPECT_EQ(UnitOfSequence(*UnitSequence(41, 999999)), 41u);
  EXPECT_THAT(UnitSequence(1, kPartsPerUnit).status().message(), HasSubstr("too many partitions"));
  EXPECT_THAT(UnitSequence(kMaxUnits, 0).status().message(), HasSubstr("at most"));
}

}  // namespace
}  // namespace lakehose::backfill
