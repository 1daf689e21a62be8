// Test helper: verifies a request's SigV4 signature the way S3 does, from what was sent
// (method, path and query as on the wire, the headers named in SignedHeaders), so a test
// proves the URL and headers sent are the ones that were signed.
#ifndef LAKEHOSE_TESTING_SIGV4_CHECK_H_
#define LAKEHOSE_TESTING_SIGV4_CHECK_H_

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/s3/sigv4.h"

namespace lakehose {

inline std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

inline std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "" when the signature in `headers`' Authorization is right for `secret`, else why not.
// `target` is the request's path and query as sent ("/b/k%20x?uploadId=1").
inline std::string CheckS3Signature(std::string_view method, std::string_view target,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::string_view secret, std::string_view region) {
  auto header = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : headers) {
      if (LowerAscii(k) == name) return v;
    }
    return "";
  };
  const std::string auth = header("authorization");
  const size_t cred_at = auth.find("Credential=");
  const size_t sh_at = auth.find("SignedHeaders=");
  if (cred_at == std::string::npos || sh_at == std::string::npos) return "no Authorization";
  const std::string credential = auth.substr(cred_at + 11, auth.find('/', cred_at) - cred_at - 11);
  std::set<std::string> signed_names;
  {
    const std::string list = auth.substr(sh_at + 14, auth.find(',', sh_at) - sh_at - 14);
    size_t start = 0;
    while (start <= list.size()) {
      const size_t semi = std::min(list.find(';', start), list.size());
      signed_names.insert(list.substr(start, semi - start));
      start = semi + 1;
    }
  }
  SigV4Request req;
  req.method = std::string(method);
  const size_t q = target.find('?');
  const std::string_view raw_path = target.substr(0, q);
  req.path = PercentDecode(raw_path);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      req.query.emplace_back(
          PercentDecode(pair.substr(0, eq)),
          eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  for (const auto& [k, v] : headers) {
    const std::string lower = LowerAscii(k);
    if (signed_names.count(lower) && lower != "x-amz-date" && lower != "x-amz-security-token") {
      req.headers.emplace_back(k, v);
    }
  }
  if (!signed_names.count("host")) return "Host not signed";
  if (!signed_names.count("x-amz-content-sha256")) return "x-amz-content-sha256 not signed";
  req.payload_hash = header("x-amz-content-sha256");
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%E4Y%m%dT%H%M%SZ", header("x-amz-date"), absl::UTCTimeZone(), &t, &err)) {
    return "bad X-Amz-Date";
  }
  const SigV4Credentials creds{credential, std::string(secret), header("x-amz-security-token")};
  const SigV4Signed s = SignV4(req, creds,
                               {.region = std::string(region),
                                .service = "s3",
                                .time_unix_s = absl::ToUnixSeconds(t),
                                .s3_rules = true});
  // S3 takes the path as sent as the canonical URI: what was sent must be what was signed.
  const size_t l1 = s.canonical_request.find('\n');
  const std::string canonical_uri =
      s.canonical_request.substr(l1 + 1, s.canonical_request.find('\n', l1 + 1) - l1 - 1);
  if (canonical_uri != raw_path)
    return "path sent '" + std::string(raw_path) + "' != signed '" + canonical_uri + "'";
  if (s.authorization != auth) return "signature mismatch:\n" + s.canonical_request;
  return "";
}

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_SIGV4_CHECK_H_
