#include "core/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/strings.h"
#include "core/base/uri_encode.h"

namespace lakehose {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kHexLower[] = "0123456789abcdef";

std::string HexLower(const unsigned char* data, size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHexLower[data[i] >> 4]);
    out.push_back(kHexLower[data[i] & 0xF]);
  }
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Trims the value and folds every inner run of whitespace (including the line breaks of
// an obs-folded header) to one space, as botocore and aws-c-auth do.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers never signed: hop-by-hop or rewritten by proxies and HTTP stacks. The same set
// as @smithy/signature-v4's ALWAYS_UNSIGNABLE_HEADERS plus its proxy-* and sec-* patterns,
// so a verifier built on it agrees with us.
bool IsUnsignable(std::string_view lower_name) {
  static constexpr std::string_view kUnsignable[] = {
      "authorization", "cache-control",     "connection", "expect",     "from",
      "keep-alive",    "max-forwards",      "pragma",     "referer",    "te",
      "trailer",       "transfer-encoding", "upgrade",    "user-agent", "x-amzn-trace-id"};
  for (std::string_view u : kUnsignable) {
    if (lower_name == u) return true;
  }
  return lower_name.starts_with("proxy-") || lower_name.starts_with("sec-");
}

// RFC 3986 section 5.2.4 dot-segment removal, plus collapsing of empty segments ("//").
// Always returns an absolute path; a trailing slash survives (and "/a/b/.." is "/a/").
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const bool last = slash == std::string_view::npos;
    const std::string_view seg = path.substr(start, last ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == ".") {
      // skip
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else {
      segments.push_back(seg);
    }
    if (last) {
      trailing_slash = seg.empty() || seg == "." || seg == "..";
      break;
    }
    start = slash + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  if (trailing_slash && !segments.empty()) out.push_back('/');
  return out;
}

std::string CanonicalUri(std::string_view path, bool s3_rules) {
  if (s3_rules) {
    if (path.empty()) return "/";
    return UriEncode(path, /*keep_slash=*/true);
  }
  return UriEncode(NormalizePath(path), /*keep_slash=*/true);
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    StrAppend(&out, name, "=", value);
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char kNothing = 0;
  const void* p = data.empty() ? &kNothing : static_cast<const void*>(data.data());
  if (EVP_Digest(p, data.size(), md, &len, EVP_sha256(), nullptr) != 1) return std::string();
  return HexLower(md, len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // OpenSSL 3 refuses a null key pointer even with length 0; point at a dummy byte.
  static const unsigned char kNothing = 0;
  const void* k = key.empty() ? &kNothing : static_cast<const void*>(key.data());
  const unsigned char* d =
      data.empty() ? &kNothing : reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()), d, data.size(), md, &len) == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string AmzDate(int64_t unix_s) {
  // Floor division, so instants before 1970 land on the right day.
  int64_t days = unix_s / 86400;
  int64_t secs = unix_s % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[96];  // room for any int64 year, so no truncation
  std::snprintf(buf, sizeof(buf), "%04lld%02lld%02lldT%02lld%02lld%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

SigV4Signed SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   const SigV4Params& params) {
  const std::string amz_date = AmzDate(params.time_unix_s);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const bool has_token = !credentials.session_token.empty();

  // Lower-case name -> values in the order given. std::map sorts the names.
  std::map<std::string, std::vector<std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    if (IsUnsignable(lower) || lower == "x-amz-date") continue;
    if (lower == "x-amz-security-token" && has_token) continue;
    headers[std::move(lower)].push_back(CanonicalHeaderValue(value));
  }
  headers["x-amz-date"].push_back(amz_date);
  if (has_token && params.sign_session_token) {
    headers["x-amz-security-token"].push_back(CanonicalHeaderValue(credentials.session_token));
  }

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, values] : headers) {
    StrAppend(&canonical_headers, name, ":", StrJoin(values, ","), "\n");
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers.append(name);
  }

  SigV4Signed out;
  const std::string_view payload_hash =
      request.payload_hash.empty() ? kEmptyPayloadHash : std::string_view(request.payload_hash);
  out.canonical_request = StrCat(request.method, "\n", CanonicalUri(request.path, params.s3_rules),
                                 "\n", CanonicalQuery(request.query), "\n", canonical_headers, "\n",
                                 signed_headers, "\n", payload_hash);

  const std::string scope = StrCat(date, "/", params.region, "/", params.service, "/aws4_request");
  out.string_to_sign =
      StrCat(kAlgorithm, "\n", amz_date, "\n", scope, "\n", Sha256Hex(out.canonical_request));

  const std::string k_date = HmacSha256(StrCat("AWS4", credentials.secret_access_key), date);
  const std::string k_region = HmacSha256(k_date, params.region);
  const std::string k_service = HmacSha256(k_region, params.service);
  const std::string k_signing = HmacSha256(k_service, "aws4_request");
  const std::string sig = HmacSha256(k_signing, out.string_to_sign);
  out.signature = HexLower(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());

  out.authorization = StrCat(kAlgorithm, " Credential=", credentials.access_key_id, "/", scope,
                             ", SignedHeaders=", signed_headers, ", Signature=", out.signature);

  out.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  if (has_token) out.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  out.headers_to_add.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace lakehose
