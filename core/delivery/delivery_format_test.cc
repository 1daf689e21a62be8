// What delivery writes (core/delivery/delivery_format.h): object keys, Firehose-style error
// documents and key-safe writer ids.
#include "core/delivery/delivery_format.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/base/base64.h"
#include "core/partition/object_key_limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testing/json_check.h"

namespace lakehose {
namespace {

using ::lakehose::testing::JsonChecker;
using ::testing::EndsWith;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

TEST(ObjectKeyTest, Format) {
  EXPECT_EQ(ObjectKey("transactions/region=EU/date=2023-11-14/hour=22/", "demo", "w1", 42,
                      Compression::kGzip),
            "transactions/region=EU/date=2023-11-14/hour=22/demo-w1-0000000000000042.jsonl.gz");
  EXPECT_EQ(ObjectKey("p/", "demo", "host-a", 0, Compression::kZstd),
            "p/demo-host-a-0000000000000000.jsonl.zst");
  EXPECT_EQ(ObjectKey("", "demo", "w", 1, Compression::kNone), "demo-w-0000000000000001.jsonl");
}

TEST(ObjectKeyTest, SequenceIsSixteenDigits) {
  const uint64_t seqs[] = {0, 1, 999, 1700000000000000ULL, 9999999999999999ULL};
  for (uint64_t seq : seqs) {
    const std::string key = ObjectKey("a/b=c/", "pipe", "writer", seq, Compression::kGzip);
    EXPECT_THAT(key, MatchesRegex("a/b=c/pipe-writer-[0-9]{16}\\.jsonl\\.gz")) << seq;
    EXPECT_THAT(key, EndsWith(std::to_string(seq) + ".jsonl.gz"));
  }
  // The sequences the engine hands out start at the clock in ms times 1000: 16 digits
  // until the year 2286.
  EXPECT_EQ(ObjectKey("", "p", "w", uint64_t{1700000000000} * 1000, Compression::kNone),
            "p-w-1700000000000000.jsonl");
}

// The transformer refuses records whose key would be too long by reserving, after the
// prefix, the longest object name (core/partition/object_key_limits.h): that reservation
// must cover every name ObjectKey writes.
TEST(ObjectKeyTest, NameNeverExceedsTheReservedLength) {
  const std::string pipeline(64, 'p');  // the longest pipeline name config accepts
  const std::string writer = SanitizeWriterId(std::string(200, 'w'));
  EXPECT_EQ(writer.size(), kMaxWriterIdBytes);
  size_t longest = 0;
  for (uint64_t seq : {uint64_t{0}, uint64_t{1700000000000000}, ~uint64_t{0}}) {
    for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
      const std::string key = ObjectKey("", pipeline, writer, seq, c);
      EXPECT_LE(key.size(), MaxObjectNameBytes(pipeline.size())) << key;
      longest = std::max(longest, key.size());
    }
    const std::string parquet = ObjectKey("", pipeline, writer, seq, ".parquet");
    EXPECT_LE(parquet.size(), MaxObjectNameBytes(pipeline.size())) << parquet;
    // Regression: the key of records left out of a Parquet object is 9 bytes longer than
    // the object's, and the reservation did not count them.
    const std::string rejected = RejectedRecordsKey(parquet);
    EXPECT_LE(rejected.size(), MaxObjectNameBytes(pipeline.size())) << rejected;
    longest = std::max(longest, rejected.size());
  }
  EXPECT_EQ(longest, MaxObjectNameBytes(pipeline.size()));  // the reservation is tight
}

TEST(ObjectKeyTest, KeysSortBySequence) {
  std::mt19937_64 rng(3);
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 1000; ++i) seqs.push_back(rng() % 10000000000000000ULL);
  for (uint64_t s : {0ULL, 9ULL, 10ULL, 99ULL, 100ULL, 9999999999999999ULL}) seqs.push_back(s);
  std::vector<std::string> keys;
  for (uint64_t s : seqs) keys.push_back(ObjectKey("x/", "demo", "w1", s, Compression::kGzip));
  std::sort(seqs.begin(), seqs.end());
  std::sort(keys.begin(), keys.end());
  ASSERT_EQ(keys.size(), seqs.size());
  for (size_t i = 0; i < keys.size(); ++i)
    EXPECT_EQ(keys[i], ObjectKey("x/", "demo", "w1", seqs[i], Compression::kGzip));
}

TEST(ObjectKeyTest, WritersAndSequencesGiveDistinctKeys) {
  EXPECT_NE(ObjectKey("p/", "demo", "w1", 5, Compression::kGzip),
            ObjectKey("p/", "demo", "w2", 5, Compression::kGzip));
  EXPECT_NE(ObjectKey("p/", "demo", "w1", 5, Compression::kGzip),
            ObjectKey("p/", "demo", "w1", 6, Compression::kGzip));
  EXPECT_EQ(ObjectKey("p/", "demo", "w1", 5, Compression::kGzip),
            ObjectKey("p/", "demo", "w1", 5, Compression::kGzip));
}

// Parses one error document (without its newline) and returns its fields.
struct ErrorDoc {
  int64_t attempts = -1;
  int64_t arrival = -1;
  std::string code, message, raw_b64;
};

ErrorDoc Parse(const std::string& line) {
  ErrorDoc d;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(line).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << line;
    return d;
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not an object: " << line;
    return d;
  }
  EXPECT_EQ(obj.size(), 5u) << line;
  std::string_view sv;
  EXPECT_EQ(obj["attemptsMade"].get(d.attempts), simdjson::SUCCESS) << line;
  EXPECT_EQ(obj["arrivalTimestamp"].get(d.arrival), simdjson::SUCCESS) << line;
  if (obj["errorCode"].get(sv) == simdjson::SUCCESS) d.code = std::string(sv);
  if (obj["errorMessage"].get(sv) == simdjson::SUCCESS) d.message = std::string(sv);
  if (obj["rawData"].get(sv) == simdjson::SUCCESS) d.raw_b64 = std::string(sv);
  return d;
}

TEST(ErrorDocumentTest, FirehoseShape) {
  std::string out;
  AppendErrorDocument(1, 1700000000123, "INVALID_NUMBER", "Image.amount: not a number",
                      "{\"raw\":1}", &out);
  EXPECT_EQ(
      out,
      "{\"attemptsMade\":1,\"arrivalTimestamp\":1700000000123,\"errorCode\":\"INVALID_NUMBER\","
      "\"errorMessage\":\"Image.amount: not a number\",\"rawData\":\"eyJyYXciOjF9\"}\n");
  ASSERT_THAT(out, EndsWith("\n"));
  const std::string line = out.substr(0, out.size() - 1);
  EXPECT_TRUE(JsonChecker::IsObject(line));
  const ErrorDoc d = Parse(line);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.arrival, 1700000000123);
  EXPECT_EQ(d.code, "INVALID_NUMBER");
  EXPECT_EQ(d.message, "Image.amount: not a number");
  EXPECT_EQ(Base64Decode(d.raw_b64), "{\"raw\":1}");
}

TEST(ErrorDocumentTest, MessageIsEscapedAndRawDataIsAnyBytes) {
  const std::string message =
      "bad \"value\" at a\\b\n\ttab \x01 ctl, caf\xc3\xa9, \xe2\x80\xa8 sep";
  std::string raw = "not json at all \"quotes\" \n newline ";
  raw.push_back('\0');
  raw += "\xff\xfe binary";
  std::string out;
  AppendErrorDocument(3, 0, "INVALID_JSON", message, raw, &out);
  ASSERT_THAT(out, EndsWith("}\n"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: newlines must be escaped";
  const std::string line = out.substr(0, out.size() - 1);
  EXPECT_TRUE(JsonChecker::IsObject(line)) << line;
  const ErrorDoc d = Parse(line);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.arrival, 0);
  EXPECT_EQ(d.code, "INVALID_JSON");
  EXPECT_EQ(d.message, message);
  EXPECT_TRUE(IsBase64(d.raw_b64));
  EXPECT_EQ(Base64Decode(d.raw_b64), raw);
}

TEST(ErrorDocumentTest, EmptyRawData) {
  std::string out;
  AppendErrorDocument(1, 5, "E", "", "", &out);
  EXPECT_THAT(out, ::testing::HasSubstr("\"rawData\":\"\"}"));
  EXPECT_TRUE(JsonChecker::IsObject(out.substr(0, out.size() - 1)));
}

TEST(ErrorDocumentTest, AppendsToWhatIsThere) {
  std::string out = "first\n";
  AppendErrorDocument(1, 1, "A", "m", "x", &out);
  AppendErrorDocument(1, 2, "B", "m", "y", &out);
  EXPECT_THAT(out, StartsWith("first\n{\"attemptsMade\":1,\"arrivalTimestamp\":1,"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

TEST(ErrorDocumentTest, RawDataRoundTripsEveryLengthModuloThree) {
  for (size_t n = 0; n < 10; ++n) {
    std::string raw;
    for (size_t i = 0; i < n; ++i) raw.push_back(static_cast<char>(0xf0 + i));
    std::string out;
    AppendErrorDocument(1, 1, "E", "m", raw, &out);
    const ErrorDoc d = Parse(out.substr(0, out.size() - 1));
    EXPECT_EQ(Base64Decode(d.raw_b64), raw) << n;
  }
}

// Regression: AppendJsonString used to append the opening quote before failing on
// invalid UTF-8, so AppendErrorDocument's fallbacks (core/delivery/delivery_format.cc:22,24) wrote
// `"errorCode":"""` and `"errorMessage":""(invalid UTF-8)"`, documents that are not JSON
// (fixed in ac4fa21: AppendJsonString appends nothing on invalid UTF-8).
TEST(ErrorDocumentTest, InvalidUtf8InCodeOrMessageStillGivesValidJson) {
  std::string out;
  AppendErrorDocument(1, 1, "CODE", "bad byte \xff here", "raw", &out);
  EXPECT_TRUE(JsonChecker::IsObject(out.substr(0, out.size() - 1))) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("\"errorMessage\":\"(invalid UTF-8)\""));

  out.clear();
  AppendErrorDocument(1, 1, "CODE\xc3", "message", "raw", &out);
  EXPECT_TRUE(JsonChecker::IsObject(out.substr(0, out.size() - 1))) << out;
}

TEST(SanitizeWriterIdTest, KeepsSafeCharacters) {
  EXPECT_EQ(SanitizeWriterId("host-1.example_A"), "host-1.example_A");
  EXPECT_EQ(SanitizeWriterId("ip-10-0-0-1.eu-west-1.compute.internal"),
            "ip-10-0-0-1.eu-west-1.compute.internal");
}

TEST(SanitizeWriterIdTest, ReplacesEverythingElseWithDash) {
  EXPECT_EQ(SanitizeWriterId("my host/1"), "my-host-1");
  EXPECT_EQ(SanitizeWriterId("a=b:c*d?e"), "a-b-c-d-e");
  EXPECT_EQ(SanitizeWriterId("caf\xc3\xa9"), "caf--");  // each byte of a multi-byte character
  EXPECT_EQ(SanitizeWriterId(std::string("a\0b", 3)), "a-b");
}

TEST(SanitizeWriterIdTest, AtMost64Characters) {
  const std::string longid(100, 'x');
  EXPECT_EQ(SanitizeWriterId(longid), std::string(64, 'x'));
  EXPECT_EQ(SanitizeWriterId(std::string(64, 'y')), std::string(64, 'y'));
  EXPECT_EQ(SanitizeWriterId(std::string(65, '/')), std::string(64, '-'));
}

TEST(SanitizeWriterIdTest, EmptyBecomesLakehose) { EXPECT_EQ(SanitizeWriterId(""), "lakehose"); }

TEST(SanitizeWriterIdTest, ResultIsAlwaysKeySafe) {
  std::mt19937 rng(11);
  for (int i = 0; i < 500; ++i) {
    std::string id(rng() % 80, '\0');
    for (char& c : id) c = static_cast<char>(rng());
    const std::string s = SanitizeWriterId(id);
    EXPECT_FALSE(s.empty());
    EXPECT_LE(s.size(), 64u);
    EXPECT_THAT(s, MatchesRegex("[A-Za-z0-9_.-]+"));
    // No path separator can sneak into a key's file name.
    EXPECT_EQ(s.find('/'), std::string::npos);
  }
}

}  // namespace
}  // namespace lakehose
