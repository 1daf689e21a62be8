// The dead-letter entry format: ids, text cleaning, metadata that reads back exactly or
// is refused (torn, mistyped, out of range, mismatched with its file name), and bodies
// checked against it (truncated, a byte flipped, a line lost).
#include "core/dlq/dead_letter_format.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

DeadLetter Delivery() {
  DeadLetter e;
  e.id = "0001700000000123-d-1a2b3c4d";
  e.kind = DeadLetterKind::kDelivery;
  e.pipeline = "demo";
  e.attempts = 7;
  e.first_error = "UNAVAILABLE: \"quoted\"\n and \\ and \x01";
  e.last_error = "UNAVAILABLE: r\xc3\xa9set";
  e.first_ms = 1700000000123;
  e.last_ms = 1700000000456;
  e.next_attempt_ms = 1700000001000;
  e.expired = true;
  e.key = "t/region=EU/demo-w-0000000000000001.jsonl.gz";
  e.records = 12;
  e.bytes = 3456;
  e.body_crc32 = 0xcbf43926;
  return e;
}

DeadLetter Processing() {
  DeadLetter e;
  e.id = "0001700000000123-p-00000000";
  e.kind = DeadLetterKind::kProcessing;
  e.pipeline = "demo";
  e.attempts = 1;
  e.first_error = "not JSON";
  e.last_error = "not JSON";
  e.first_ms = 1700000000123;
  e.last_ms = 1700000000123;
  e.bytes = 9;
  e.record_id = "r-1";
  e.arrival_ms = 1699999999000;
  e.error_code = "Decode.InvalidJson";
  return e;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(DeadLetterIdTest, FormatsAndParsesBack) {
  const DeadLetterId id{1700000000123, DeadLetterKind::kProcessing, 0xdeadbeef};
  EXPECT_EQ(FormatDeadLetterId(id), "0001700000000123-p-deadbeef");
  auto back = ParseDeadLetterId("0001700000000123-p-deadbeef");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ms, 1700000000123);
  EXPECT_EQ(back->kind, DeadLetterKind::kProcessing);
  EXPECT_EQ(back->suffix, 0xdeadbeefu);
  EXPECT_EQ(FormatDeadLetterId({0, DeadLetterKind::kDelivery, 0}), "0000000000000000-d-00000000");
  auto max = ParseDeadLetterId("9999999999999999-d-ffffffff");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->ms, 9999999999999999);
  EXPECT_EQ(max->suffix, UINT32_MAX);
}

TEST(DeadLetterIdTest, IdsSortByTimeThenKindThenSuffix) {
  EXPECT_LT(FormatDeadLetterId({999, DeadLetterKind::kProcessing, UINT32_MAX}),
            FormatDeadLetterId({1000, DeadLetterKind::kDelivery, 0}));
  EXPECT_LT(FormatDeadLetterId({5, DeadLetterKind::kDelivery, 0xf}),
            FormatDeadLetterId({5, DeadLetterKind::kDelivery, 0x10}));
  EXPECT_LT(FormatDeadLetterId({5, DeadLetterKind::kDelivery, UINT32_MAX}),
            FormatDeadLetterId({5, DeadLetterKind::kProcessing, 0}));
}

TEST(DeadLetterIdTest, OnlyTheExactShapeParses) {
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "",
           "0001700000000123-d-1a2b3c4",                          // short suffix
           "0001700000000123-d-1a2b3c4d0",                        // long suffix
           "001700000000123-d-1a2b3c4d",                          // 15 digits
           "0001700000000123-x-1a2b3c4d",                         // unknown kind
           "0001700000000123-D-1a2b3c4d",                         // upper-case kind
           "0001700000000123-d-1A2B3C4D",                         // upper-case hex
           "0001700000000123_d-1a2b3c4d",                         // separator
           "0001700000000123-d_1a2b3c4d",                         // separator
           "000170000000012x-d-1a2b3c4d",                         // not a digit
           "-001700000000123-d-1a2b3c4d",                         // a sign
           "0001700000000123-d-1a2b3c4g",                         // not hex
           "../../../etc/passwd-d-1a2b3c",                        // a path
           std::string_view("0001700000000123-d-1a2b3c4\0", 27),  // NUL
       }) {
    EXPECT_FALSE(ParseDeadLetterId(bad).has_value()) << bad;
  }
}

TEST(CleanDeadLetterTextTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(CleanDeadLetterText("plain", SIZE_MAX), "plain");
  EXPECT_EQ(CleanDeadLetterText("caf\xc3\xa9 \xf0\x9f\x98\x80", SIZE_MAX),
            "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(CleanDeadLetterText("a\xff"
                                "b",
                                SIZE_MAX),
            "a\xEF\xBF\xBD"
            "b");
  // A truncated sequence: each byte of it is replaced.
  EXPECT_EQ(CleanDeadLetterText("a\xe2\x82", SIZE_MAX), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  // Overlong and surrogate encodings are not valid UTF-8.
  EXPECT_EQ(CleanDeadLetterText("\xc0\xaf", SIZE_MAX), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(CleanDeadLetterText("\xed\xa0\x80", SIZE_MAX), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(CleanDeadLetterText(std::string_view("a\0b", 3), SIZE_MAX), std::string("a\0b", 3));
}

TEST(CleanDeadLetterTextTest, CutsAtACharacterBoundary) {
  EXPECT_EQ(CleanDeadLetterText("abcdef", 3), "abc");
  EXPECT_EQ(CleanDeadLetterText("ab\xc3\xa9", 3), "ab");          // é would cross the cut
  EXPECT_EQ(CleanDeadLetterText("ab\xff", 4), "ab");              // so would U+FFFD
  EXPECT_EQ(CleanDeadLetterText("ab\xff", 5), "ab\xEF\xBF\xBD");  // it fits
  EXPECT_EQ(CleanDeadLetterText("abc", 0), "");
  const std::string long_error(10000, 'e');
  EXPECT_EQ(CleanDeadLetterText(long_error, kDeadLetterMaxErrorBytes).size(),
            kDeadLetterMaxErrorBytes);
}

TEST(DeadLetterMetadataTest, FieldsInOrderOnOneLine) {
  const std::string json = DeadLetterMetadataJson(Processing());
  EXPECT_EQ(json,
            "{\"version\":1,\"id\":\"0001700000000123-p-00000000\",\"kind\":\"processing\","
            "\"pipeline\":\"demo\",\"attempts\":1,\"first_error\":\"not JSON\","
            "\"last_error\":\"not JSON\",\"first_ms\":1700000000123,\"last_ms\":1700000000123,"
            "\"next_attempt_ms\":0,\"expired\":false,\"key\":\"\",\"records\":0,\"bytes\":9,"
            "\"record_id\":\"r-1\",\"arrival_ms\":1699999999000,"
            "\"error_code\":\"Decode.InvalidJson\"}\n");
}

TEST(DeadLetterMetadataTest, EveryFieldReadsBack) {
  for (const DeadLetter& e : {Delivery(), Processing()}) {
    auto back = ParseDeadLetterMetadata(DeadLetterMetadataJson(e));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, e);
  }
  DeadLetter extremes = Delivery();
  extremes.first_ms = INT64_MIN;
  extremes.last_ms = INT64_MAX;
  extremes.records = -1;
  extremes.attempts = INT32_MAX;
  extremes.pipeline = "";
  auto back = ParseDeadLetterMetadata(DeadLetterMetadataJson(extremes));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, extremes);
}

TEST(DeadLetterMetadataTest, UnknownFieldsAreIgnoredAndAttemptsClamped) {
  const std::string json = DeadLetterMetadataJson(Delivery());
  auto extra =
      ParseDeadLetterMetadata(Replace(json, "{\"version\":1,", "{\"version\":1,\"x\":[{}],"));
  ASSERT_TRUE(extra.ok()) << extra.status();
  EXPECT_EQ(*extra, Delivery());
  auto negative = ParseDeadLetterMetadata(Replace(json, "\"attempts\":7", "\"attempts\":-5"));
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->attempts, 0);
  auto huge = ParseDeadLetterMetadata(Replace(json, "\"attempts\":7", "\"attempts\":99999999999"));
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->attempts, INT32_MAX);
}

TEST(DeadLetterMetadataTest, DamagedMetadataIsDataLoss) {
  const std::string json = DeadLetterMetadataJson(Delivery());
  struct Case {
    std::string text;
    std::string why;
  };
  const Case cases[] = {
      {"", "not a JSON object"},
      {json.substr(0, json.size() / 2), "not a JSON object"},  // torn
      {"[1,2,3]", "not a JSON object"},
      {"\x01\x02 not json at all", "not a JSON object"},
      {std::string(2000, '[') + std::string(2000, ']'), "not a JSON object"},  // too deep
      {"{}", "field version"},
      {Replace(json, "\"version\":1", "\"version\":2"), "unknown version 2"},
      {Replace(json, "\"kind\":\"delivery\"", "\"kind\":\"other\""), "unknown kind"},
      {Replace(json, "\"pipeline\":\"demo\"", "\"pipeline\":7"), "field pipeline"},
      {Replace(json, "\"records\":12", "\"records\":\"12\""), "field records"},
      {Replace(json, "\"records\":12", "\"records\":1.5"), "field records"},
      {Replace(json, "\"records\":12", "\"records\":18446744073709551615"), "field records"},
      {Replace(json, "\"records\":12", "\"records\":99999999999999999999"), "not a JSON object"},
      {Replace(json, "\"first_ms\":1700000000123", "\"first_ms\":1e400"), "not a JSON object"},
      {Replace(json, "\"expired\":true", "\"expired\":1"), "field expired"},
      {Replace(json, ",\"error_code\":\"\"", ""), "field error_code"},
      {Replace(json, "\"key\":\"t/", "\"key\":\"\xff"), "not a JSON object"},  // not UTF-8
  };
  for (const Case& c : cases) {
    auto e = ParseDeadLetterMetadata(c.text);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss) << c.text;
    EXPECT_THAT(std::string(StatusMessage(e.status())), HasSubstr(c.why)) << c.text;
  }
}

TEST(DeadLetterMetadataTest, TheBodyChecksumIsWrittenAfterBytesAndMayBeAbsent) {
  const std::string json = DeadLetterMetadataJson(Delivery());
  EXPECT_THAT(json, HasSubstr("\"bytes\":3456,\"body_crc32\":3421780262,\"record_id\""));
  // An entry written before the checksum existed reads back without one, and is written
  // back without one (a checksum of whatever the body is now would vouch for it).
  const std::string old = Replace(json, ",\"body_crc32\":3421780262", "");
  auto back = ParseDeadLetterMetadata(old);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->body_crc32.has_value());
  EXPECT_EQ(DeadLetterMetadataJson(*back), old);
  DeadLetter zero = Delivery();
  zero.body_crc32 = 0;
  EXPECT_EQ(*ParseDeadLetterMetadata(DeadLetterMetadataJson(zero)), zero);
  zero.body_crc32 = UINT32_MAX;
  EXPECT_EQ(*ParseDeadLetterMetadata(DeadLetterMetadataJson(zero)), zero);
  for (std::string_view bad : {"-1", "4294967296", "\"1\"", "1.5", "null"}) {
    auto e = ParseDeadLetterMetadata(Replace(json, "3421780262", bad));
    EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(std::string(StatusMessage(e.status())), HasSubstr("body_crc32")) << bad;
  }
}

DeadLetter ForBody(DeadLetter e, std::string_view body, int64_t records) {
  e.bytes = static_cast<int64_t>(body.size());
  e.records = records;
  e.body_crc32 = DeadLetterBodyCrc32(body);
  return e;
}

TEST(DeadLetterBodyTest, Crc32IsZlibs) {
  EXPECT_EQ(DeadLetterBodyCrc32(""), 0u);
  EXPECT_EQ(DeadLetterBodyCrc32("123456789"), 0xcbf43926u);  // the CRC-32 check value
}

TEST(DeadLetterBodyTest, TheBodyItWasWrittenWithPasses) {
  const std::string body = "{\"a\":1}\n{\"b\":2}\n";
  EXPECT_TRUE(VerifyDeadLetterBody(ForBody(Delivery(), body, 2), body).ok());
  EXPECT_TRUE(VerifyDeadLetterBody(ForBody(Delivery(), "", 0), "").ok());
  // A processing body is any bytes, newlines or not.
  const std::string raw = std::string("not json\n\0\xff", 12);
  EXPECT_TRUE(VerifyDeadLetterBody(ForBody(Processing(), raw, 0), raw).ok());
}

// The reported bug: bodies truncated on disk were delivered as if whole.
TEST(DeadLetterBodyTest, TruncatedFlippedOrRecountedBodiesAreDataLoss) {
  std::string body;
  for (int i = 0; i < 100; ++i) body += StrCat("{\"_eventID\":\"e", i, "\",\"v\":", i, "}\n");
  const DeadLetter e = ForBody(Delivery(), body, 100);
  struct Case {
    std::string body;
    std::string why;
  };
  std::string flipped = body;
  flipped[body.size() / 2] ^= 0x01;
  std::string line_for_line = body;  // same size, one newline fewer
  line_for_line[body.find('\n')] = ' ';
  const Case cases[] = {
      {body.substr(0, body.size() / 2), "body is "},                        // torn mid-line
      {body.substr(0, body.rfind('\n', body.size() - 2) + 1), "body is "},  // a line lost
      {"", "body is 0 bytes"},
      {body + "{\"x\":1}\n", "body is "},
      {flipped, "CRC-32"},
      {line_for_line, "CRC-32"},
  };
  for (const Case& c : cases) {
    const absl::Status s = VerifyDeadLetterBody(e, c.body);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.why;
    EXPECT_THAT(std::string(StatusMessage(s)), HasSubstr(c.why));
  }
  // Without a checksum (an entry written before it was kept): size and record count.
  DeadLetter old = e;
  old.body_crc32.reset();
  EXPECT_TRUE(VerifyDeadLetterBody(old, body).ok());
  EXPECT_THAT(std::string(StatusMessage(VerifyDeadLetterBody(old, body.substr(0, 10)))),
              HasSubstr("body is 10 bytes, the metadata says"));
  EXPECT_THAT(std::string(StatusMessage(VerifyDeadLetterBody(old, line_for_line))),
              HasSubstr("body holds 99 lines, the metadata says 100 records"));
  // A flipped byte that keeps the size and the newlines goes unnoticed without one.
  EXPECT_TRUE(VerifyDeadLetterBody(old, flipped).ok());
}

TEST(DeadLetterEntryTest, TheFileNameMustMatchTheMetadata) {
  const DeadLetter d = Delivery();
  const std::string json = DeadLetterMetadataJson(d);
  auto ok = ParseDeadLetterEntry(d.id, json);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, d);

  auto other = ParseDeadLetterEntry("0001700000000123-d-1a2b3c4e", json);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(StatusMessage(other.status())), HasSubstr("metadata names id"));

  auto not_an_id = ParseDeadLetterEntry("unrelated", json);
  EXPECT_EQ(not_an_id.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(StatusMessage(not_an_id.status())), HasSubstr("not a dead-letter id"));

  // The kind letter of the id and the kind field disagree.
  DeadLetter swapped = d;
  swapped.kind = DeadLetterKind::kProcessing;
  auto kind = ParseDeadLetterEntry(d.id, DeadLetterMetadataJson(swapped));
  EXPECT_EQ(kind.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(StatusMessage(kind.status())), HasSubstr("kind does not match"));

  auto torn = ParseDeadLetterEntry(d.id, json.substr(0, 40));
  EXPECT_EQ(torn.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace lakehose
