// AWS Signature Version 4, as a pure function of (request, credentials, time).
//
// Stage by stage, so each can be tested against the AWS suite
// (../shared/vectors/aws-sigv4-v4) and AWS's published S3 examples:
//   CanonicalRequest -> StringToSign -> Signature -> Authorization header.
//
//   SigV4Request req{.method = "PUT", .path = "/bucket/key", ...};
//   SigV4Signed s = SignV4(req, creds, {.region = "us-east-1", .service = "s3",
//                                       .time_unix_s = now, .s3_rules = true});
//   // add s.headers_to_add (x-amz-date, x-amz-security-token, Authorization) to the request
//
// Path rules: `path` is the request path as decoded text ("/my key=1/a.txt"). With
// s3_rules (service s3) it is percent-encoded once and never normalised (S3 keys may hold
// "//" and "."); otherwise it is normalised (RFC 3986 dot segments, repeated slashes)
// and encoded twice, as the generic AWS suite expects. Query parameters are given
// decoded and are encoded once, sorted by name then value.
//
// Pure (SHA-256 and HMAC from OpenSSL's libcrypto, no I/O, no clock); thread-safe.
#ifndef LAKEHOSE_CORE_SIGV4_H_
#define LAKEHOSE_CORE_SIGV4_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakehose {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // decoded, starts with '/'
  std::vector<std::pair<std::string, std::string>> query;    // decoded name, value
  std::vector<std::pair<std::string, std::string>> headers;  // as sent; must include Host
  // Lower-case hex SHA-256 of the payload, or "UNSIGNED-PAYLOAD". When empty, the hash of
  // the empty payload is used.
  std::string payload_hash;
};

struct SigV4Params {
  std::string region;
  std::string service;
  int64_t time_unix_s = 0;  // the signing time (the caller reads the clock)
  bool s3_rules = false;    // encode the path once, never normalise (S3)
  // Sign X-Amz-Security-Token (true for S3 and most services; the AWS suite's
  // get-vanilla-with-session-token case adds it after signing when false).
  bool sign_session_token = true;
};

struct SigV4Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lower-case hex
  std::string authorization;  // the Authorization header's value
  // Headers to add to the request: X-Amz-Date, X-Amz-Security-Token (if any),
  // Authorization.
  std::vector<std::pair<std::string, std::string>> headers_to_add;
};

// Signs `request`. X-Amz-Date (and X-Amz-Security-Token when signed) are added to the
// signed headers by this function; the caller must not add them itself.
SigV4Signed SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   const SigV4Params& params);

// Building blocks, exposed for tests and the S3 client.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
// RFC 3986 percent-encoding as SigV4 wants: unreserved A-Z a-z 0-9 - _ . ~ kept,
// everything else %XX (upper-case); '/' kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);
// "20130524T000000Z" for a Unix time.
std::string AmzDate(int64_t unix_s);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_SIGV4_H_
