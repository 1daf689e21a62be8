#include "core/base/strings.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(StringsTest, StrCatAndJoin) {
  EXPECT_EQ(StrCat("a", std::string_view("b"), std::string("c"), 'd', 12, -3, 0.5), "abcd12-30.5");
  std::string s = "x";
  StrAppend(&s, "=", 1);
  EXPECT_EQ(s, "x=1");
  EXPECT_EQ(StrJoin(std::vector<std::string>{"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(StrJoin(std::vector<std::string>{}, ","), "");
}

TEST(StringsTest, StripAsciiWhitespace) {
  EXPECT_EQ(StripAsciiWhitespace(" \t\r\n\v\fx y\r\n"), "x y");
  EXPECT_EQ(StripAsciiWhitespace("   "), "");
  EXPECT_EQ(StripAsciiWhitespace(""), "");
  EXPECT_EQ(StripAsciiWhitespace("\xC2\xA0x"), "\xC2\xA0x");  // U+00A0 is not ASCII whitespace
}

TEST(StringsTest, AsciiStrToLower) {
  EXPECT_EQ(AsciiStrToLower("AWS_Access_Key_ID-09"), "aws_access_key_id-09");
  EXPECT_EQ(AsciiStrToLower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // only ASCII letters
  EXPECT_EQ(AsciiStrToLower(""), "");
}

TEST(StringsTest, HasAsciiControl) {
  EXPECT_FALSE(HasAsciiControl("text/plain; charset=utf-8 \xC3\xA9~"));
  EXPECT_FALSE(HasAsciiControl(""));
  EXPECT_TRUE(HasAsciiControl("a\r\nb"));
  EXPECT_TRUE(HasAsciiControl("tab\there"));
  EXPECT_TRUE(HasAsciiControl(std::string_view("nul\0", 4)));
  EXPECT_TRUE(HasAsciiControl("del\x7F"));
}

}  // namespace
}  // namespace lakehose
