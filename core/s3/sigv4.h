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
// Path rules: with s3_rules (service s3) `path` is the object path as decoded text
// ("/my key=1/a.txt"); it is percent-encoded once and never normalised (S3 keys may hold
// "//" and "."). Otherwise `path` is the path as sent on the wire (already percent-encoded,
// "/my%20key"); it is normalised (RFC 3986 dot segments, repeated slashes) and encoded
// once more, so decoded text ends up encoded twice ("/my%2520key") as AWS requires for
// every service but S3. (That is also how botocore and aws-c-auth read it, and what the
// generic AWS suite expects: its request lines hold "/example space/" and expect
// "/example%20space/".) Query parameters are given decoded and are encoded once, sorted
// by encoded name then encoded value.
//
// Headers: names are matched case-insensitively, values trimmed with inner runs of
// whitespace folded to one space, repeated headers joined with ',' in order. Every
// header given is signed except those a proxy or HTTP stack may add or rewrite and that
// @smithy/signature-v4 never signs (authorization, user-agent, expect, connection,
// transfer-encoding, x-amzn-trace-id, ...). A caller's X-Amz-Date, and its
// X-Amz-Security-Token when `credentials` hold a session token, are replaced by this
// function's own, so a request can be signed again (a retry) with its old headers.
//
// Pure (SHA-256 and HMAC from OpenSSL's libcrypto, no I/O, no clock); thread-safe.
#ifndef LAKEHOSE_CORE_S3_SIGV4_H_
#define LAKEHOSE_CORE_S3_SIGV4_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakehose {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token = {};  // empty unless temporary credentials
};

struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // starts with '/'; decoded with s3_rules, else as sent (see above)
  std::vector<std::pair<std::string, std::string>> query = {};  // decoded name, value
  std::vector<std::pair<std::string, std::string>> headers;     // as sent; must include Host
  // Lower-case hex SHA-256 of the payload, or "UNSIGNED-PAYLOAD". When empty, the hash of
  // the empty payload is used.
  std::string payload_hash = {};
};

struct SigV4Params {
  std::string region;
  std::string service;
  int64_t time_unix_s = 0;  // the signing time (the caller reads the clock)
  bool s3_rules = false;    // encode the path once, never normalise (S3)
  // Sign X-Amz-Security-Token (true for S3 and most services). When false it is still
  // returned in headers_to_add but left out of the signature, as the AWS suite's
  // post-sts-header-after case (context "omit_session_token": true) expects.
  bool sign_session_token = true;
};

struct SigV4Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
  // Headers to add to the request: X-Amz-Date, X-Amz-Security-Token (if any),
  // Authorization.
  std::vector<std::pair<std::string, std::string>> headers_to_add;
};

// Signs `request`. X-Amz-Date (and X-Amz-Security-Token when signed) are added to the
// signed headers by this function; the caller need not add them (any it passes are
// replaced, see above). x-amz-content-sha256 is the caller's to add (S3 requires it).
SigV4Signed SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   const SigV4Params& params);

// Building blocks, exposed for tests and the S3 client.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
// "20130524T000000Z" for a Unix time.
std::string AmzDate(int64_t unix_s);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_S3_SIGV4_H_
