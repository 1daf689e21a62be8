#include "core/s3/s3_xml.h"

#include <random>
#include <string>

#include "core/s3/s3_outcome.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

constexpr std::string_view kSlowDown =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
    "<RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</HostId></Error>";

TEST(S3XmlTest, ParsesAnErrorDocument) {
  absl::StatusOr<S3Error> e = ParseS3Error(kSlowDown);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->code, "SlowDown");
  EXPECT_EQ(e->message, "Please reduce your request rate.");
  EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
}

TEST(S3XmlTest, DecodesEntitiesCharacterReferencesAndCdata) {
  const std::string xml =
      "<Error><Code>AccessDenied</Code><Message>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; "
      "&#65;&#x42;&#xe9; &bogus; &#xD800; <![CDATA[<raw & kept>]]></Message></Error>";
  absl::StatusOr<S3Error> e = ParseS3Error(xml);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->message, "a <b> & \"c\" 'd' AB\xC3\xA9 &bogus; &#xD800; <raw & kept>");
}

TEST(S3XmlTest, ElementsWithAttributesAndSelfClosingOnes) {
  EXPECT_EQ(
      XmlElementText("<R xmlns=\"http://s3/\"><UploadId a='x>y'>id-1</UploadId></R>", "UploadId"),
      "id-1");
  EXPECT_EQ(XmlElementText("<R><UploadId/></R>", "UploadId"), "");
  EXPECT_EQ(XmlElementText("<R><UploadId /></R>", "UploadId"), "");
  // A longer name that starts the same is not a match.
  EXPECT_EQ(
      XmlElementText("<R><UploadIdMarker>m</UploadIdMarker><UploadId>u</UploadId></R>", "UploadId"),
      "u");
  EXPECT_EQ(XmlElementText("<R><Code>x</Code  ></R>", "Code"), "x");
  EXPECT_EQ(XmlElementText("<R><Code>x</R>", "Code"), std::nullopt);  // never closed
  EXPECT_EQ(XmlElementText("<R></R>", "Code"), std::nullopt);
  EXPECT_EQ(XmlElementText("<R><Code>x</Code></R>", ""), std::nullopt);
}

TEST(S3XmlTest, RootElementSkipsDeclarationCommentsAndPadding) {
  EXPECT_EQ(XmlRootElementName("  \n\n  <?xml version=\"1.0\"?><!-- hi --><Error/>"), "Error");
  EXPECT_EQ(XmlRootElementName("\xEF\xBB\xBF<A>"), "A");
  EXPECT_EQ(XmlRootElementName("<!DOCTYPE x><B x='1'>"), "B");
  EXPECT_EQ(XmlRootElementName("text<A>"), std::nullopt);
  EXPECT_EQ(XmlRootElementName(""), std::nullopt);
  EXPECT_EQ(XmlRootElementName("<?xml never ends"), std::nullopt);
  EXPECT_EQ(XmlRootElementName("<"), std::nullopt);
}

TEST(S3XmlTest, InitiateMultipartUploadResult) {
  constexpr std::string_view kXml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>example-bucket</Bucket><Key>example-object</Key>"
      "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
      "</InitiateMultipartUploadResult>";
  absl::StatusOr<std::string> id = ParseInitiateMultipartUploadResult(kXml);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  EXPECT_FALSE(ParseInitiateMultipartUploadResult("<InitiateMultipartUploadResult>"
                                                  "<UploadId></UploadId>"
                                                  "</InitiateMultipartUploadResult>")
                   .ok());
  EXPECT_FALSE(ParseInitiateMultipartUploadResult(kSlowDown).ok());
}

TEST(S3XmlTest, CompleteResultSuccess) {
  constexpr std::string_view kXml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Location>http://b.s3.amazonaws.com/k</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
      "</CompleteMultipartUploadResult>";
  auto o = ParseCompleteMultipartUploadResult(kXml);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->failed);
  EXPECT_EQ(o->etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
}

TEST(S3XmlTest, CompleteAnswered200WithAnErrorInside) {
  // S3 sends whitespace while it works, then the outcome; an error then still comes as 200.
  const std::string xml =
      std::string(4000, ' ') +
      "\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try "
      "again.</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>";
  auto o = ParseCompleteMultipartUploadResult(xml);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->failed);
  EXPECT_EQ(o->error.code, "InternalError");
  EXPECT_EQ(o->error.request_id, "656c76696e6727732072657175657374");
  EXPECT_EQ(ClassifyS3Error(200, o->error.code), S3Outcome::kServerError);
}

TEST(S3XmlTest, CompleteTruncatedIsAnErrorNotASuccess) {
  EXPECT_FALSE(ParseCompleteMultipartUploadResult("      ").ok());
  EXPECT_FALSE(ParseCompleteMultipartUploadResult("").ok());
  EXPECT_FALSE(ParseCompleteMultipartUploadResult("<Other/>").ok());
}

TEST(S3XmlTest, BuildsTheCompleteRequestBody) {
  const std::string xml = BuildCompleteMultipartUploadXml(
      {{.part_number = 1, .etag = "\"a54357aff0632cce46d942af68356b38\""},
       {.part_number = 2, .etag = "\"0c78aef83f66abc1fa1e8477f296d394\""}});
  EXPECT_NE(xml.find("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                     "<Part><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag>"
                     "<PartNumber>1</PartNumber></Part><Part><ETag>&quot;"
                     "0c78aef83f66abc1fa1e8477f296d394&quot;</ETag><PartNumber>2</PartNumber>"
                     "</Part></CompleteMultipartUpload>"),
            std::string::npos)
      << xml;
  // What we write, we read back.
  EXPECT_EQ(XmlElementText(xml, "ETag"), "\"a54357aff0632cce46d942af68356b38\"");
}

TEST(S3XmlTest, RefusesOversizedDocuments) {
  const std::string big = "<Error><Code>X</Code>" + std::string(kMaxS3XmlBytes, 'a') + "</Error>";
  EXPECT_EQ(ParseS3Error(big).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseCompleteMultipartUploadResult(big).ok());
}

TEST(S3XmlTest, GarbageNeverCrashesAndIsNeverAnError) {
  const std::string_view cases[] = {
      "",
      "<",
      "<<<<>>>>",
      "<Error",
      "<Error>",
      "<Error><Code>",
      "<Error><Code>x</Co",
      "</Error>",
      "<Error><Code>&#xFFFFFFFFFF;&#;&#x;&;&amp</Code></Error>",
      "<Error><Code><![CDATA[unterminated</Code></Error>",
      "<Error a=\"unterminated><Code>x</Code></Error>",
      "<html><body>502 Bad Gateway</body></html>",
      "{\"json\": true}",
      std::string_view("\0\0\0<Error>\0</Error>", 19),
  };
  for (std::string_view c : cases) {
    (void)ParseS3Error(c);
    (void)ParseInitiateMultipartUploadResult(c);
    (void)ParseCompleteMultipartUploadResult(c);
    (void)XmlRootElementName(c);
    (void)XmlElementText(c, "Code");
  }
  EXPECT_FALSE(ParseS3Error("<html><body>502 Bad Gateway</body></html>").ok());
  EXPECT_FALSE(ParseS3Error("{\"json\": true}").ok());
  // A non-<Error> root is not an error document even if it holds a <Code>.
  EXPECT_FALSE(ParseS3Error("<Other><Code>SlowDown</Code></Other>").ok());
}

TEST(S3XmlTest, RandomBytesAndMutationsNeverCrash) {
  std::mt19937 rng(1234);
  const std::string seed(kSlowDown);
  for (int i = 0; i < 5000; ++i) {
    std::string s = seed;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (at < s.size()) s.erase(at, 1 + rng() % 10);
          break;
        case 1:
          s.insert(at, 1, "<>/&;#x[]!-?\"'"[rng() % 14]);
          break;
        default:
          if (at < s.size()) s[at] = static_cast<char>(rng());
          break;
      }
    }
    (void)ParseS3Error(s);
    (void)ParseCompleteMultipartUploadResult(s);
    (void)XmlElementText(s, "Message");
  }
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 200, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    (void)ParseS3Error(s);
    (void)ParseInitiateMultipartUploadResult(s);
    (void)XmlElementText(s, "Code");
  }
  SUCCEED();
}

TEST(S3XmlTest, EscapesTheFiveCharacters) {
  EXPECT_EQ(XmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
}

}  // namespace
}  // namespace lakehose
