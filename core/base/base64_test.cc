#include "core/base/base64.h"

#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode(""), "");
}

TEST(Base64Test, RoundTripsLengthsZeroToTenWithAllByteValues) {
  for (size_t len = 0; len <= 10; ++len) {
    for (int seed = 0; seed < 256; seed += 37) {
      std::string bytes;
      for (size_t i = 0; i < len; ++i) bytes.push_back(static_cast<char>((seed + i * 101) & 0xFF));
      const std::string enc = Base64Encode(bytes);
      EXPECT_EQ(enc.size(), (len + 2) / 3 * 4) << "len " << len;
      // Padding: 3 - len % 3 '=' unless len is a multiple of 3.
      const size_t pad = len % 3 == 0 ? 0 : 3 - len % 3;
      EXPECT_EQ(enc.find('='), pad == 0 ? std::string::npos : enc.size() - pad) << enc;
      EXPECT_TRUE(IsBase64(enc)) << enc;
      auto dec = Base64Decode(enc);
      ASSERT_TRUE(dec.has_value()) << enc;
      EXPECT_EQ(*dec, bytes) << "len " << len;
    }
  }
}

TEST(Base64Test, AppendingEncodeKeepsExistingOutput) {
  std::string out = "x=";
  Base64Encode("\xFF\xFE", &out);
  EXPECT_EQ(out, "x=//4=");
  EXPECT_EQ(Base64Encode("\xFB\xFF"), "+/8=");  // both alphabet extremes
}

TEST(Base64Test, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_FALSE(Base64Decode("Zm9v!A==").has_value());
  EXPECT_FALSE(Base64Decode("Zm-_").has_value());  // URL-safe alphabet is not standard
  EXPECT_FALSE(Base64Decode("Zm 9").has_value());
  EXPECT_FALSE(Base64Decode("Zm9\n").has_value());
  EXPECT_FALSE(IsBase64("ab\xC3\xA9"));
}

TEST(Base64Test, RejectsLengthsNotAMultipleOfFour) {
  EXPECT_FALSE(Base64Decode("Z").has_value());
  EXPECT_FALSE(Base64Decode("Zg").has_value());
  EXPECT_FALSE(Base64Decode("Zg=").has_value());
  EXPECT_FALSE(Base64Decode("Zm9vY").has_value());
  EXPECT_FALSE(IsBase64("Zm9vYmF"));
}

TEST(Base64Test, RejectsMisplacedPadding) {
  EXPECT_FALSE(Base64Decode("=AAA").has_value());
  EXPECT_FALSE(Base64Decode("A=AA").has_value());
  EXPECT_FALSE(Base64Decode("AA=A").has_value());
  EXPECT_FALSE(Base64Decode("A===").has_value());
  EXPECT_FALSE(Base64Decode("====").has_value());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").has_value());  // padding mid-text
  EXPECT_FALSE(Base64Decode("Zm8=Zm9v").has_value());
  EXPECT_FALSE(IsBase64("Zg==="));
  EXPECT_TRUE(IsBase64("Zg=="));
  EXPECT_TRUE(IsBase64("test"));  // the aws-lambda-go sample's B value
}

}  // namespace
}  // namespace lakehose
