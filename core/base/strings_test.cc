#include "core/base/strings.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(StrCatTest, MixesViewsNumbersAndChars) {
  EXPECT_EQ(StrCat("a", std::string_view("b"), 12, '-', -3, 1.5), "ab12--31.5");
  std::string s = "x";
  StrAppend(&s, "y", 7u);
  EXPECT_EQ(s, "xy7");
}

TEST(StrJoinTest, JoinsWithSeparator) {
  EXPECT_EQ(StrJoin(std::vector<std::string>{"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(StrJoin(std::vector<std::string>{}, ","), "");
}

TEST(TrimTest, TrimsOnlyTheGivenCharacters) {
  EXPECT_EQ(TrimAsciiWhitespace(" \t\v\fa b\r\n"), "a b");
  EXPECT_EQ(TrimAsciiWhitespace(" \t "), "");
  EXPECT_EQ(TrimAsciiWhitespace(""), "");
  EXPECT_EQ(TrimChars("\f{}\n", kJsonWhitespace), "\f{}");  // \f is not JSON white space
  EXPECT_EQ(TrimChars("xxaxx", "x"), "a");
}

TEST(AsciiCaseTest, FoldsAsciiOnly) {
  EXPECT_EQ(AsciiLower("AbC-Z\xC3\x89"), "abc-z\xC3\x89");
  EXPECT_TRUE(EqualsIgnoreAsciiCase("Content-Type", "content-type"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("abc", "abd"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("abc", "ab"));
  EXPECT_TRUE(StartsWithIgnoreAsciiCase("Bearer xyz", "bearer"));
  EXPECT_FALSE(StartsWithIgnoreAsciiCase("Bear", "bearer"));
}

TEST(AsciiCaseTest, FindIgnoresCase) {
  EXPECT_EQ(FindIgnoreAsciiCase("x-Amz-Signature=abc", "signature="), 6u);
  EXPECT_EQ(FindIgnoreAsciiCase("aaa", "A", 1), 1u);
  EXPECT_EQ(FindIgnoreAsciiCase("abc", "abcd"), std::string_view::npos);
  EXPECT_EQ(FindIgnoreAsciiCase("abc", "x"), std::string_view::npos);
  EXPECT_EQ(FindIgnoreAsciiCase("abc", "c", 5), std::string_view::npos);
  EXPECT_EQ(FindIgnoreAsciiCase("abc", "", 1), 1u);
}

TEST(TrimTest, AsciiWhitespaceOnly) {
  EXPECT_EQ(TrimAsciiWhitespace(" \t\r\n\v\fx y\r\n"), "x y");
  EXPECT_EQ(TrimAsciiWhitespace("   "), "");
  EXPECT_EQ(TrimAsciiWhitespace(""), "");
  EXPECT_EQ(TrimAsciiWhitespace("\xC2\xA0x"), "\xC2\xA0x");  // U+00A0 is not ASCII whitespace
}

TEST(AsciiCaseTest, LowersAsciiLettersOnly) {
  EXPECT_EQ(AsciiLower("AWS_Access_Key_ID-09"), "aws_access_key_id-09");
  EXPECT_EQ(AsciiLower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // only ASCII letters
  EXPECT_EQ(AsciiLower(""), "");
}

TEST(AsciiControlTest, FindsControlCharacters) {
  EXPECT_FALSE(HasAsciiControl("text/plain; charset=utf-8 \xC3\xA9~"));
  EXPECT_FALSE(HasAsciiControl(""));
  EXPECT_TRUE(HasAsciiControl("a\r\nb"));
  EXPECT_TRUE(HasAsciiControl("tab\there"));
  EXPECT_TRUE(HasAsciiControl(std::string_view("nul\0", 4)));
  EXPECT_TRUE(HasAsciiControl("del\x7F"));
}

}  // namespace
}  // namespace lakehose
