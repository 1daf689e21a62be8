#include "core/partition/object_key_limits.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using What = KeyOverflow::What;

// "demo": the object name is demo-<64>-<20><17> = 4 + 1 + 64 + 1 + 20 + 17 = 107 bytes.
constexpr size_t kDemoName = 107;

TEST(ObjectKeyLimitsTest, ReservesTheLongestObjectName) {
  EXPECT_EQ(MaxObjectNameBytes(4), kDemoName);
  EXPECT_EQ(ObjectKeyLimits::ForS3("demo").object_name_bytes, kDemoName);
  const ObjectKeyLimits file = ObjectKeyLimits::ForFileLake("demo");
  EXPECT_EQ(file.object_name_bytes, kDemoName);
  EXPECT_EQ(file.file_name_extra_bytes, kFileTempNameExtraBytes);
  EXPECT_EQ(file.max_component_bytes, kMaxFileNameBytes);
  EXPECT_EQ(file.max_key_bytes, kMaxS3KeyBytes);
  // Even the longest pipeline name leaves room for a file name after a '/'.
  EXPECT_LT(MaxObjectNameBytes(64) + kFileTempNameExtraBytes, kMaxFileNameBytes);
}

// Regression: a 300-byte partition value was answered OK; the file lake then failed the
// whole object with "File name too long" at delivery.
TEST(ObjectKeyLimitsTest, FileLakeComponentOver255) {
  const ObjectKeyLimits limits = ObjectKeyLimits::ForFileLake("demo");
  const std::string prefix = "data/site=" + std::string(300, 'a') + "/day=2024-01-01/";
  const auto o = FindKeyOverflow(prefix, limits);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->what, What::kComponent);
  EXPECT_EQ(prefix.substr(o->begin, o->end - o->begin), "site=" + std::string(300, 'a'));
  EXPECT_EQ(o->bytes, 305u);
  EXPECT_EQ(o->limit, 255u);
  EXPECT_EQ(o->reserved, 0u);
  EXPECT_THAT(DescribeKeyOverflow(prefix, *o, limits),
              HasSubstr("is 305 bytes; a file lake allows 255 per component"));
}

TEST(ObjectKeyLimitsTest, FileLakeComponentAtTheLimitFits) {
  const ObjectKeyLimits limits = ObjectKeyLimits::ForFileLake("demo");
  EXPECT_EQ(FindKeyOverflow("data/" + std::string(255, 'a') + "/", limits), std::nullopt);
  EXPECT_TRUE(FindKeyOverflow("data/" + std::string(256, 'a') + "/", limits).has_value());
}

TEST(ObjectKeyLimitsTest, FileLakeLastComponentRunsIntoTheObjectName) {
  const ObjectKeyLimits limits = ObjectKeyLimits::ForFileLake("demo");
  const size_t room = 255 - kDemoName - kFileTempNameExtraBytes;
  EXPECT_EQ(FindKeyOverflow("data/" + std::string(room, 'a'), limits), std::nullopt);
  const std::string prefix = "data/" + std::string(room + 1, 'a');
  const auto o = FindKeyOverflow(prefix, limits);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->what, What::kFileName);
  EXPECT_EQ(o->bytes, 256u);
  EXPECT_EQ(o->reserved, kDemoName + kFileTempNameExtraBytes);
  EXPECT_THAT(
      DescribeKeyOverflow(prefix, *o, limits),
      HasSubstr("would be up to 256 bytes (" + std::to_string(room + 1) + " from the prefix and " +
                std::to_string(kDemoName + kFileTempNameExtraBytes) + " reserved"));
}

TEST(ObjectKeyLimitsTest, S3HasNoComponentLimitButTheWholeKey) {
  const ObjectKeyLimits limits = ObjectKeyLimits::ForS3("demo");
  EXPECT_EQ(FindKeyOverflow("data/site=" + std::string(300, 'a') + "/", limits), std::nullopt);
  const std::string fits(1024 - kDemoName, 'a');
  EXPECT_EQ(FindKeyOverflow(fits, limits), std::nullopt);
  const std::string over = fits + "b";
  const auto o = FindKeyOverflow(over, limits);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->what, What::kKey);
  EXPECT_EQ(o->bytes, 1025u);
  EXPECT_EQ(o->limit, 1024u);
  EXPECT_EQ(DescribeKeyOverflow(over, *o, limits),
            "the object key would be up to 1025 bytes (a prefix of 918 and 107 reserved for the "
            "object name); S3 allows 1024");
}

TEST(ObjectKeyLimitsTest, FileLakeWholeKeyIsBoundedLikeS3) {
  const ObjectKeyLimits limits = ObjectKeyLimits::ForFileLake("demo");
  std::string prefix;
  while (prefix.size() + 200 < 1024 - kDemoName) prefix += std::string(199, 'c') + "/";
  prefix += std::string(1024 - kDemoName - prefix.size(), 'c');
  prefix.back() = '/';  // every component short, the whole key exactly at the limit
  EXPECT_EQ(FindKeyOverflow(prefix, limits), std::nullopt) << prefix.size();
  const auto o = FindKeyOverflow(prefix + "d/", limits);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->what, What::kKey);
}

TEST(ObjectKeyLimitsTest, MessagesQuoteAtMostAShortenedValidPart) {
  const ObjectKeyLimits limits = ObjectKeyLimits::ForFileLake("demo");
  std::string prefix = "k=";
  for (int i = 0; i < 200; ++i) prefix += "\xC3\xA9";  // é, two bytes
  prefix += "/";
  const auto o = FindKeyOverflow(prefix, limits);
  ASSERT_TRUE(o.has_value());
  const std::string message = DescribeKeyOverflow(prefix, *o, limits);
  EXPECT_LT(message.size(), 200u) << message;
  EXPECT_THAT(message, HasSubstr("...\""));
  EXPECT_THAT(message, HasSubstr("402 bytes"));
}

}  // namespace
}  // namespace lakehose
