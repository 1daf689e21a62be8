#include "core/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace lakehose {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------
// Building blocks.

TEST(Sha256HexTest, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

std::string Hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

TEST(HmacSha256Test, Rfc4231TestCase2) {
  const std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(mac.size(), 32u);
  EXPECT_EQ(Hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  // HMAC-SHA256("", "") is well defined; OpenSSL must not choke on empty inputs.
  EXPECT_EQ(Hex(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(AmzDateTest, FormatsUtc) {
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(AmzDate(951782400), "20000229T000000Z");  // leap day
  EXPECT_EQ(AmzDate(951782400 - 1), "20000228T235959Z");
  EXPECT_EQ(AmzDate(-1), "19691231T235959Z");
  EXPECT_EQ(AmzDate(4102444799), "20991231T235959Z");
}

// ---------------------------------------------------------------------------------------
// AWS's published S3 examples (Signature Version 4, "Examples: Signature Calculations"),
// written out here so the project's own tests do not depend on ../shared.

constexpr char kS3AccessKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kS3SecretKey[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr int64_t kS3Time = 1369353600;  // 20130524T000000Z
constexpr char kS3Host[] = "examplebucket.s3.amazonaws.com";
constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Signed SignS3Example(SigV4Request req) {
  return SignV4(req, {.access_key_id = kS3AccessKey, .secret_access_key = kS3SecretKey},
                {.region = "us-east-1", .service = "s3", .time_unix_s = kS3Time, .s3_rules = true});
}

std::string S3Authorization(std::string_view signed_headers, std::string_view signature) {
  return std::string(
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
             "aws4_request, SignedHeaders=") +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

TEST(SigV4S3ExampleTest, GetObject) {
  SigV4Request req{
      .method = "GET",
      .path = "/test.txt",
      .headers = {{"Host", kS3Host}, {"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmptySha}},
      .payload_hash = kEmptySha};
  const SigV4Signed s = SignS3Example(req);
  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/test.txt\n"
            "\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            S3Authorization("host;range;x-amz-content-sha256;x-amz-date",
                            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  const Headers want = {{"X-Amz-Date", "20130524T000000Z"}, {"Authorization", s.authorization}};
  EXPECT_EQ(s.headers_to_add, want);
}

TEST(SigV4S3ExampleTest, PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string sha = Sha256Hex(body);
  SigV4Request req{.method = "PUT",
                   .path = "/test$file.text",
                   .headers = {{"Host", kS3Host},
                               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                               {"x-amz-content-sha256", sha}},
                   .payload_hash = sha};
  const SigV4Signed s = SignS3Example(req);
  EXPECT_EQ(s.canonical_request,
            "PUT\n"
            "/test%24file.text\n"
            "\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\n"
            "x-amz-storage-class:REDUCED_REDUNDANCY\n"
            "\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(s.authorization,
            S3Authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

TEST(SigV4S3ExampleTest, GetBucketLifecycle) {
  SigV4Request req{.method = "GET",
                   .path = "/",
                   .query = {{"lifecycle", ""}},
                   .headers = {{"Host", kS3Host}, {"x-amz-content-sha256", kEmptySha}},
                   .payload_hash = kEmptySha};
  const SigV4Signed s = SignS3Example(req);
  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/\n"
            "lifecycle=\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3ExampleTest, ListObjects) {
  // Given out of order: parameters are sorted by encoded name.
  SigV4Request req{.method = "GET",
                   .path = "/",
                   .query = {{"prefix", "J"}, {"max-keys", "2"}},
                   .headers = {{"Host", kS3Host}, {"x-amz-content-sha256", kEmptySha}},
                   .payload_hash = kEmptySha};
  const SigV4Signed s = SignS3Example(req);
  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/\n"
            "max-keys=2&prefix=J\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// ---------------------------------------------------------------------------------------
// Path, query and header rules beyond the published examples.

std::string CanonicalUriLine(const SigV4Signed& s) {
  const size_t a = s.canonical_request.find('\n');
  const size_t b = s.canonical_request.find('\n', a + 1);
  return s.canonical_request.substr(a + 1, b - a - 1);
}

SigV4Signed SignPath(std::string path, bool s3_rules) {
  SigV4Request req{.method = "PUT", .path = std::move(path), .headers = {{"Host", kS3Host}}};
  return SignV4(req, {.access_key_id = kS3AccessKey, .secret_access_key = kS3SecretKey},
                {.region = "us-east-1",
                 .service = s3_rules ? "s3" : "service",
                 .time_unix_s = kS3Time,
                 .s3_rules = s3_rules});
}

TEST(SigV4PathTest, S3HiveKeyIsEncodedOnce) {
  EXPECT_EQ(CanonicalUriLine(SignPath("/data/siteId=1/my file.txt", true)),
            "/data/siteId%3D1/my%20file.txt");
}

TEST(SigV4PathTest, S3KeyIsNeverNormalised) {
  EXPECT_EQ(CanonicalUriLine(SignPath("/a//b/./c/../d", true)), "/a//b/./c/../d");
  EXPECT_EQ(CanonicalUriLine(SignPath("/bucket/", true)), "/bucket/");
}

TEST(SigV4PathTest, GenericPathIsNormalisedAndEncodedAgain) {
  // The generic path is the wire path; encoding it again double-encodes the decoded text.
  EXPECT_EQ(CanonicalUriLine(SignPath("/my%20key", false)), "/my%2520key");
  EXPECT_EQ(CanonicalUriLine(SignPath("/a//b/./c/../d", false)), "/a/b/d");
  EXPECT_EQ(CanonicalUriLine(SignPath("/a/b/..", false)), "/a/");
  EXPECT_EQ(CanonicalUriLine(SignPath("/../..", false)), "/");
  EXPECT_EQ(CanonicalUriLine(SignPath("", false)), "/");
}

TEST(SigV4QueryTest, EncodedOnceAndSortedByEncodedNameThenValue) {
  SigV4Request req{.method = "GET",
                   .path = "/",
                   .query = {{"b", "2"}, {"a b", "x=y"}, {"b", "1"}, {"\xE1\x88\xB4", ""}},
                   .headers = {{"Host", kS3Host}}};
  const SigV4Signed s =
      SignV4(req, {.access_key_id = "AK", .secret_access_key = "SK"},
             {.region = "us-east-1", .service = "s3", .time_unix_s = kS3Time, .s3_rules = true});
  EXPECT_NE(s.canonical_request.find("\n%E1%88%B4=&a%20b=x%3Dy&b=1&b=2\n"), std::string::npos)
      << s.canonical_request;
}

TEST(SigV4HeaderTest, UnsignableHeadersAreLeftOut) {
  SigV4Request req{.method = "GET",
                   .path = "/k",
                   .headers = {{"Host", kS3Host},
                               {"User-Agent", "lakehose/1"},
                               {"Expect", "100-continue"},
                               {"Proxy-Authorization", "x"},
                               {"Content-Type", "application/gzip"}}};
  const SigV4Signed s =
      SignV4(req, {.access_key_id = "AK", .secret_access_key = "SK"},
             {.region = "us-east-1", .service = "s3", .time_unix_s = kS3Time, .s3_rules = true});
  EXPECT_NE(s.authorization.find("SignedHeaders=content-type;host;x-amz-date,"), std::string::npos)
      << s.authorization;
}

TEST(SigV4HeaderTest, SigningAgainWithOldHeadersGivesTheSameSignature) {
  // A retry re-signs the request with the headers of the previous attempt still on it.
  SigV4Request req{.method = "PUT",
                   .path = "/k",
                   .headers = {{"Host", kS3Host}, {"x-amz-content-sha256", kEmptySha}},
                   .payload_hash = kEmptySha};
  const SigV4Credentials creds{
      .access_key_id = "AK", .secret_access_key = "SK", .session_token = "TOKEN"};
  const SigV4Params params{
      .region = "us-east-1", .service = "s3", .time_unix_s = kS3Time, .s3_rules = true};
  const SigV4Signed first = SignV4(req, creds, params);
  SigV4Request again = req;
  for (const auto& h : first.headers_to_add) again.headers.push_back(h);
  const SigV4Signed second = SignV4(again, creds, params);
  EXPECT_EQ(second.canonical_request, first.canonical_request);
  EXPECT_EQ(second.signature, first.signature);
  EXPECT_NE(first.canonical_request.find("x-amz-security-token:TOKEN\n"), std::string::npos);
  const Headers want = {{"X-Amz-Date", "20130524T000000Z"},
                        {"X-Amz-Security-Token", "TOKEN"},
                        {"Authorization", first.authorization}};
  EXPECT_EQ(first.headers_to_add, want);
}

TEST(SigV4HeaderTest, SessionTokenSentButUnsignedWhenAsked) {
  SigV4Request req{.method = "GET", .path = "/", .headers = {{"Host", kS3Host}}};
  const SigV4Signed s =
      SignV4(req, {.access_key_id = "AK", .secret_access_key = "SK", .session_token = "TOKEN"},
             {.region = "us-east-1",
              .service = "s3",
              .time_unix_s = kS3Time,
              .s3_rules = true,
              .sign_session_token = false});
  EXPECT_EQ(s.canonical_request.find("x-amz-security-token"), std::string::npos);
  ASSERT_EQ(s.headers_to_add.size(), 3u);
  EXPECT_EQ(s.headers_to_add[1],
            (std::pair<std::string, std::string>{"X-Amz-Security-Token", "TOKEN"}));
}

// ---------------------------------------------------------------------------------------
// The official AWS SigV4 suite (../shared/vectors/aws-sigv4-v4, from awslabs/aws-c-auth),
// read at test time and checked stage by stage.

const std::filesystem::path kSuiteDir = LAKEHOSE_SHARED_DIR "/vectors/aws-sigv4-v4/";
constexpr char kSuiteAbsent[] = "<absent>";

std::string ReadFileOrDie(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A request as the suite writes it: "METHOD target HTTP/1.1", header lines (a line
// starting with whitespace continues the previous value), a blank line, the body.
struct HttpText {
  std::string method;
  std::string target;  // path and query as written (may hold spaces and raw UTF-8)
  Headers headers;
  std::string body;
};

HttpText ParseHttpText(std::string_view text) {
  HttpText out;
  size_t pos = 0;
  auto next_line = [&](std::string_view* line) {
    if (pos >= text.size()) return false;
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    *line = text.substr(pos, eol - pos);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos = eol + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(&line)) return out;
  // The target may contain spaces ("/example space/"): method up to the first space,
  // version after the last.
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  out.method = std::string(line.substr(0, first));
  out.target = std::string(line.substr(first + 1, last - first - 1));
  while (next_line(&line)) {
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      // obs-fold: the line break becomes a space; the signer folds the whitespace run.
      if (!out.headers.empty()) out.headers.back().second += " " + std::string(line);
      continue;
    }
    const size_t colon = line.find(':');
    out.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
  }
  if (pos < text.size()) out.body = std::string(text.substr(pos));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// True when RFC 3986 normalisation leaves `path` as it is (no empty, "." or ".."
// segments), so S3's rules and the generic rules must sign it alike.
bool NormalisationKeeps(std::string_view path) {
  std::vector<std::string_view> segs;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    segs.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i] == "." || segs[i] == "..") return false;
    if (segs[i].empty() && i + 1 != segs.size()) return false;  // "//"
  }
  return true;
}

struct SuiteCase {
  std::string name;
  SigV4Credentials credentials;
  std::string region;
  std::string service;
  int64_t time_unix_s = 0;
  bool normalize = true;
  bool sign_body = false;
  bool omit_session_token = false;
  HttpText request;
};

SuiteCase LoadCase(const std::string& name) {
  SuiteCase c;
  c.name = name;
  const std::filesystem::path dir = kSuiteDir / name;
  simdjson::dom::parser parser;
  const simdjson::padded_string json(ReadFileOrDie(dir / "context.json"));
  simdjson::dom::element ctx;
  const auto err = parser.parse(json).get(ctx);
  EXPECT_EQ(err, simdjson::SUCCESS) << name << ": context.json is not JSON";
  if (err != simdjson::SUCCESS) return c;
  auto str = [](simdjson::dom::element e, const char* key) {
    std::string_view v;
    return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  auto flag = [](simdjson::dom::element e, const char* key) {
    bool v = false;
    return e[key].get(v) == simdjson::SUCCESS && v;
  };
  const simdjson::dom::element creds = ctx["credentials"].value();
  c.credentials.access_key_id = str(creds, "access_key_id");
  c.credentials.secret_access_key = str(creds, "secret_access_key");
  c.credentials.session_token = str(creds, "token");
  c.region = str(ctx, "region");
  c.service = str(ctx, "service");
  c.normalize = flag(ctx, "normalize");
  c.sign_body = flag(ctx, "sign_body");
  c.omit_session_token = flag(ctx, "omit_session_token");
  absl::Time t;
  std::string parse_err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, str(ctx, "timestamp"), &t, &parse_err))
      << name << ": " << parse_err;
  c.time_unix_s = absl::ToUnixSeconds(t);
  c.request = ParseHttpText(ReadFileOrDie(dir / "request.txt"));
  return c;
}

// Signs the case with the given rules and checks every stage against the suite's files.
void CheckCase(const SuiteCase& c, bool s3_rules) {
  SCOPED_TRACE(c.name + (s3_rules ? " with S3 rules" : " with generic rules"));
  const std::filesystem::path dir = kSuiteDir / c.name;
  SigV4Request req;
  req.method = c.request.method;
  const size_t q = c.request.target.find('?');
  const std::string raw_path = c.request.target.substr(0, q);
  // Generic rules take the wire path; S3 rules take the decoded key.
  req.path = s3_rules ? PercentDecode(raw_path) : raw_path;
  if (q != std::string::npos) {
    std::string_view qs = std::string_view(c.request.target).substr(q + 1);
    while (!qs.empty()) {
      const size_t amp = qs.find('&');
      const std::string_view param = qs.substr(0, amp);
      const size_t eq = param.find('=');
      req.query.emplace_back(
          PercentDecode(param.substr(0, eq)),
          eq == std::string_view::npos ? std::string() : PercentDecode(param.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      qs.remove_prefix(amp + 1);
    }
  }
  req.headers = c.request.headers;
  req.payload_hash = Sha256Hex(c.request.body);
  Headers added_by_harness;
  if (c.sign_body) added_by_harness.emplace_back("x-amz-content-sha256", req.payload_hash);
  for (const auto& h : added_by_harness) req.headers.push_back(h);

  const SigV4Signed s = SignV4(req, c.credentials,
                               {.region = c.region,
                                .service = c.service,
                                .time_unix_s = c.time_unix_s,
                                .s3_rules = s3_rules,
                                .sign_session_token = !c.omit_session_token});

  EXPECT_EQ(s.canonical_request, ReadFileOrDie(dir / "header-canonical-request.txt"));
  EXPECT_EQ(s.string_to_sign, ReadFileOrDie(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(s.signature, ReadFileOrDie(dir / "header-signature.txt"));

  // The signed request: its Authorization header, and the whole header set (the
  // request's own, what the harness added, and what SignV4 asks to add), order aside.
  const HttpText signed_request = ParseHttpText(ReadFileOrDie(dir / "header-signed-request.txt"));
  std::vector<std::pair<std::string, std::string>> want, got;
  std::string want_authorization;
  for (const auto& [name, value] : signed_request.headers) {
    want.emplace_back(ToLower(name), value);
    if (ToLower(name) == "authorization") want_authorization = value;
  }
  EXPECT_EQ(s.authorization, want_authorization);
  for (const auto& [name, value] : req.headers) got.emplace_back(ToLower(name), value);
  for (const auto& [name, value] : s.headers_to_add) got.emplace_back(ToLower(name), value);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(signed_request.body, c.request.body);
}

std::vector<std::string> ListSuiteCases() {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::is_directory(kSuiteDir, ec)) return {kSuiteAbsent};
  for (const auto& entry : std::filesystem::directory_iterator(kSuiteDir, ec)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "context.json")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class AwsSigV4SuiteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AwsSigV4SuiteTest, EveryStageMatches) {
  if (GetParam() == kSuiteAbsent) {
    GTEST_SKIP() << "../shared/vectors/aws-sigv4-v4 absent: skipping the AWS suite";
  }
  const SuiteCase c = LoadCase(GetParam());
  // The suite's "normalize" cases are the generic rules. The "*-unnormalized" ones are
  // S3's (encode once, never normalise); S3's rules must also agree wherever the path is
  // one normalisation leaves alone.
  const std::string raw_path = c.request.target.substr(0, c.request.target.find('?'));
  bool checked = false;
  if (c.normalize) {
    CheckCase(c, /*s3_rules=*/false);
    checked = true;
  }
  if (!c.normalize || NormalisationKeeps(raw_path)) {
    CheckCase(c, /*s3_rules=*/true);
    checked = true;
  }
  EXPECT_TRUE(checked) << c.name << " was checked under no rules";
}

INSTANTIATE_TEST_SUITE_P(Aws, AwsSigV4SuiteTest, ::testing::ValuesIn(ListSuiteCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param == kSuiteAbsent ? "absent" : info.param;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(AwsSigV4SuiteInventoryTest, HasAll38Cases) {
  const std::vector<std::string> names = ListSuiteCases();
  if (names.size() == 1 && names[0] == kSuiteAbsent) {
    GTEST_SKIP() << "../shared/vectors/aws-sigv4-v4 absent: skipping the AWS suite";
  }
  EXPECT_EQ(names.size(), 38u);
  const auto unnormalized = std::count_if(names.begin(), names.end(), [](const std::string& n) {
    return n.ends_with("-unnormalized");
  });
  EXPECT_EQ(unnormalized, 7);
}

}  // namespace
}  // namespace lakehose
