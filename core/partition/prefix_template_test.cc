#include "core/partition/prefix_template.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using Keys = std::vector<std::string>;

constexpr int64_t kT = 1700000000000;  // 2023-11-14T22:13:20Z

std::string Render(const PrefixTemplate& t, const std::vector<std::string>* values, int64_t ts = kT,
                   std::string_view error_type = "", std::string_view random = "") {
  PrefixValues v;
  v.partition_values = values;
  v.timestamp_ms = ts;
  v.error_output_type = error_type;
  v.random_string = random;
  std::string out;
  t.Render(v, &out);
  return out;
}

TEST(PrefixTemplateTest, LiteralOnly) {
  auto t = PrefixTemplate::Compile("data/plain/", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Render(*t, nullptr), "data/plain/");
  EXPECT_EQ(t->text(), "data/plain/");
  EXPECT_FALSE(t->uses_error_output_type());
  EXPECT_FALSE(t->uses_random_string());
}

TEST(PrefixTemplateTest, PartitionKeyFromLambdaAndFromQuery) {
  const Keys keys = {"region", "date", "hour"};
  auto t = PrefixTemplate::Compile(
      "tx/region=!{partitionKeyFromLambda:region}/date=!{partitionKeyFromQuery:date}/"
      "hour=!{partitionKeyFromLambda:hour}/",
      keys);
  ASSERT_TRUE(t.ok()) << t.status();
  const std::vector<std::string> values = {"EU", "2023-11-14", "22"};
  EXPECT_EQ(Render(*t, &values), "tx/region=EU/date=2023-11-14/hour=22/");
}

TEST(PrefixTemplateTest, KeysMayBeUsedInAnyOrderAndTwice) {
  const Keys keys = {"a", "b"};
  auto t = PrefixTemplate::Compile(
      "!{partitionKeyFromQuery:b}-!{partitionKeyFromLambda:a}-!{partitionKeyFromLambda:b}", keys);
  ASSERT_TRUE(t.ok()) << t.status();
  const std::vector<std::string> values = {"A", "B"};
  EXPECT_EQ(Render(*t, &values), "B-A-B");
}

TEST(PrefixTemplateTest, UnknownKeyIsRejected) {
  auto t = PrefixTemplate::Compile("x=!{partitionKeyFromLambda:nope}/", {"region"});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("nope"), absl::string_view::npos) << t.status();
  EXPECT_FALSE(PrefixTemplate::Compile("!{partitionKeyFromQuery:Region}", {"region"}).ok());
}

TEST(PrefixTemplateTest, Timestamp) {
  auto t = PrefixTemplate::Compile("raw/!{timestamp:yyyy/MM/dd/HH}/", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Render(*t, nullptr), "raw/2023/11/14/22/");
  EXPECT_EQ(Render(*t, nullptr, 0), "raw/1970/01/01/00/");
  auto two = PrefixTemplate::Compile("!{timestamp:yyyy}/!{timestamp:'h'HH}", {});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(Render(*two, nullptr), "2023/h22");
}

TEST(PrefixTemplateTest, BadTimestampPatternIsRejected) {
  auto t = PrefixTemplate::Compile("!{timestamp:yyyy-EEE}", {});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("EEE"), absl::string_view::npos) << t.status();
}

TEST(PrefixTemplateTest, ErrorOutputType) {
  auto t = PrefixTemplate::Compile("errors/!{firehose:error-output-type}/!{timestamp:yyyy}/", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->uses_error_output_type());
  EXPECT_FALSE(t->uses_random_string());
  EXPECT_EQ(Render(*t, nullptr, kT, "processing-failed"), "errors/processing-failed/2023/");
}

TEST(PrefixTemplateTest, RandomString) {
  auto t = PrefixTemplate::Compile("r/!{firehose:random-string}/", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->uses_random_string());
  EXPECT_FALSE(t->uses_error_output_type());
  EXPECT_EQ(Render(*t, nullptr, kT, "", "a1b2c3"), "r/a1b2c3/");
}

TEST(PrefixTemplateTest, UnknownNamespaceOrArgumentIsRejected) {
  EXPECT_FALSE(PrefixTemplate::Compile("!{partitionKeyFromQueries:k}", {"k"}).ok());
  EXPECT_FALSE(PrefixTemplate::Compile("!{firehose:other}", {}).ok());
  EXPECT_FALSE(PrefixTemplate::Compile("!{env:HOME}", {}).ok());
  EXPECT_FALSE(PrefixTemplate::Compile("!{nocolon}", {}).ok());
  auto t = PrefixTemplate::Compile("a/!{env:HOME}/", {});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("env:HOME"), absl::string_view::npos) << t.status();
}

TEST(PrefixTemplateTest, UnterminatedExpressionIsRejected) {
  auto t = PrefixTemplate::Compile("data/!{partitionKeyFromLambda:k", {"k"});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("unterminated"), absl::string_view::npos) << t.status();
  EXPECT_FALSE(PrefixTemplate::Compile("!{", {}).ok());
}

TEST(PrefixTemplateTest, BangAndBracesWithoutExpressionAreLiteral) {
  auto t = PrefixTemplate::Compile("a!b/{c}/!/x}", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Render(*t, nullptr), "a!b/{c}/!/x}");
}

TEST(PrefixTemplateTest, RenderAppends) {
  auto t = PrefixTemplate::Compile("k=!{partitionKeyFromLambda:k}/", {"k"});
  ASSERT_TRUE(t.ok());
  const std::vector<std::string> values = {"v"};
  PrefixValues v;
  v.partition_values = &values;
  std::string out = "bucket/";
  t->Render(v, &out);
  EXPECT_EQ(out, "bucket/k=v/");
}

// KEY_TOO_LONG messages name the partition key whose value makes the key too long.
TEST(PrefixTemplateTest, DescribeOverflowNamesTheLongestKeyInThePart) {
  auto t = PrefixTemplate::Compile(
      "data/site=!{partitionKeyFromLambda:site}-!{partitionKeyFromLambda:zone}/"
      "day=!{partitionKeyFromLambda:day}/",
      {"site", "zone", "day"});
  ASSERT_TRUE(t.ok()) << t.status();
  const std::vector<std::string> values = {std::string(300, 'a'), "eu", std::string(20, 'd')};
  const std::string rendered = Render(*t, &values);
  const ObjectKeyLimits limits = ObjectKeyLimits::ForFileLake("demo");
  const auto o = FindKeyOverflow(rendered, limits);
  ASSERT_TRUE(o.has_value());
  PrefixValues v;
  v.partition_values = &values;
  EXPECT_EQ(t->DescribeOverflow(v, rendered, *o, limits),
            "partition key 'site' is 300 bytes after escaping: path component \"site=" +
                std::string(43, 'a') + "...\" is 308 bytes; a file lake allows 255 per component");
}

TEST(PrefixTemplateTest, DescribeOverflowWithoutAKeyBlamesThePrefix) {
  auto t = PrefixTemplate::Compile("!{timestamp:yyyy}/" + std::string(1000, 'x'), {});
  ASSERT_TRUE(t.ok()) << t.status();
  const std::string rendered = Render(*t, nullptr);
  const ObjectKeyLimits limits = ObjectKeyLimits::ForS3("demo");
  const auto o = FindKeyOverflow(rendered, limits);
  ASSERT_TRUE(o.has_value());
  PrefixValues v;
  v.timestamp_ms = kT;
  EXPECT_THAT(t->DescribeOverflow(v, rendered, *o, limits),
              ::testing::StartsWith("the rendered prefix is too long: the object key would be up "
                                    "to 1112 bytes"));
}

}  // namespace
}  // namespace lakehose
