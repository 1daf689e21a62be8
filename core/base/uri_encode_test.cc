#include "core/base/uri_encode.h"

#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(UriEncodeTest, KeepsUnreservedAndEncodesTheRestUpperCase) {
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b", false), "a%20b");
  EXPECT_EQ(UriEncode("a=b", false), "a%3Db");
  EXPECT_EQ(UriEncode("a+b&c", false), "a%2Bb%26c");
  EXPECT_EQ(UriEncode("100%", false), "100%25");
  EXPECT_EQ(UriEncode("$", false), "%24");
  EXPECT_EQ(UriEncode("", false), "");
  // UTF-8 is encoded byte by byte, upper-case hex.
  EXPECT_EQ(UriEncode("\xE1\x88\xB4", false), "%E1%88%B4");
  EXPECT_EQ(UriEncode("caf\xC3\xA9", false), "caf%C3%A9");
  EXPECT_EQ(UriEncode(std::string_view("\0\xFF", 2), false), "%00%FF");
}

TEST(UriEncodeTest, SlashKeptOnlyWithKeepSlash) {
  EXPECT_EQ(UriEncode("/a/b/", true), "/a/b/");
  EXPECT_EQ(UriEncode("/a/b/", false), "%2Fa%2Fb%2F");
}

TEST(UriEncodeTest, HiveKeyWithEqualsAndSpaceIsEncodedOnce) {
  EXPECT_EQ(UriEncode("data/siteId=1/my file.txt", true), "data/siteId%3D1/my%20file.txt");
  EXPECT_EQ(UriEncode("data/dt=2024-01-02 03:04/part-0.jsonl.gz", true),
            "data/dt%3D2024-01-02%2003%3A04/part-0.jsonl.gz");
}

}  // namespace
}  // namespace lakehose
