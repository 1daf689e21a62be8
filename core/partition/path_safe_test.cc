#include "core/partition/path_safe.h"

#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(PathSafeTest, OrdinaryValuesAreKept) {
  EXPECT_EQ(PathSafe("US_EAST"), "US_EAST");
  EXPECT_EQ(PathSafe("2024-02-29"), "2024-02-29");
  EXPECT_EQ(PathSafe("a.b-c_d~e+f,g;h@i!j$k&l(m)n"), "a.b-c_d~e+f,g;h@i!j$k&l(m)n");
}

TEST(PathSafeTest, SpacesAndUtf8AreKept) {
  EXPECT_EQ(PathSafe("New York"), "New York");
  EXPECT_EQ(PathSafe("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80");
}

TEST(PathSafeTest, SlashEqualsAndPercentAreEscaped) {
  EXPECT_EQ(PathSafe("a/b"), "a%2Fb");
  EXPECT_EQ(PathSafe("k=v"), "k%3Dv");
  EXPECT_EQ(PathSafe("100%"), "100%25");
  EXPECT_EQ(PathSafe("%2F"), "%252F");  // escaping is not idempotent on purpose: reversible
  EXPECT_EQ(PathSafe("../etc/passwd"), "..%2Fetc%2Fpasswd");
}

TEST(PathSafeTest, HiveEscapeSetUsesUpperCaseHex) {
  EXPECT_EQ(PathSafe("\"#%'*/:=?\\{[]^"), "%22%23%25%27%2A%2F%3A%3D%3F%5C%7B%5B%5D%5E");
  // Not in Hive's set: kept.
  EXPECT_EQ(PathSafe("}<>|`"), "}<>|`");
}

TEST(PathSafeTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(PathSafe(std::string_view("a\0b", 3)), "a%00b");
  EXPECT_EQ(PathSafe("\x01\t\n\r\x1F"), "%01%09%0A%0D%1F");
  EXPECT_EQ(PathSafe("\x7F"), "%7F");
}

TEST(PathSafeTest, DotAndDotDotCannotWalkThePath) {
  EXPECT_EQ(PathSafe("."), "%2E");
  EXPECT_EQ(PathSafe(".."), "%2E%2E");
  EXPECT_EQ(PathSafe("..."), "...");  // not a path component with meaning
  EXPECT_EQ(PathSafe(".hidden"), ".hidden");
}

TEST(PathSafeTest, EmptyBecomesHiveDefaultPartition) {
  EXPECT_EQ(PathSafe(""), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(kHiveDefaultPartition, "__HIVE_DEFAULT_PARTITION__");
}

TEST(PathSafeTest, AppendKeepsExistingOutput) {
  std::string out = "region=";
  AppendPathSafe("eu/west", &out);
  AppendPathSafe("", &out);
  EXPECT_EQ(out, "region=eu%2Fwest__HIVE_DEFAULT_PARTITION__");
}

TEST(PathSafeTest, NoOutputByteIsEverASeparatorOrControl) {
  for (int c = 0; c < 256; ++c) {
    const std::string in(1, static_cast<char>(c));
    const std::string out = PathSafe(in);
    EXPECT_EQ(out.find('/'), std::string::npos) << c;
    EXPECT_EQ(out.find('='), std::string::npos) << c;
    for (unsigned char o : out) EXPECT_FALSE(o < 0x20 || o == 0x7F) << c;
  }
}

}  // namespace
}  // namespace lakehose
