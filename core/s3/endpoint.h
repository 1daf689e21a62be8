// Where S3 requests go: a destination's endpoint URL parsed once, the choice between
// virtual-hosted and path-style addressing, and the address (URL, Host header, signed
// path) of an object under them.
//
//   ASSIGN_OR_RETURN(S3Endpoint e, ParseS3Endpoint(options.endpoint, options.region));
//   const bool path_style = UsePathStyle(e, options.bucket, options.force_path_style);
//   S3Address a = S3AddressOf(e, options.bucket, path_style, "x/siteId=a b/1.gz", {});
//   // a.url == "https://bucket.s3.eu-west-1.amazonaws.com/x/siteId%3Da%20b/1.gz"
//
// Addressing follows the AWS SDKs: virtual-hosted (bucket.host) unless forced to
// path-style (host/bucket), the endpoint's host is an IP address or localhost, or the
// bucket name cannot be a DNS label (upper case, '_', or '.' over https, where the
// endpoint's wildcard certificate would not match).
//
// Pure (no I/O); thread-safe (no state).
#ifndef LAKEHOSE_CORE_S3_ENDPOINT_H_
#define LAKEHOSE_CORE_S3_ENDPOINT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose {

struct S3Endpoint {
  std::string scheme;     // "http" or "https"
  std::string host_port;  // "host", "host:port" or "[v6]:port", as written
  std::string base_path;  // "" or "/prefix", without a trailing '/'
};

// An endpoint as configured (destination.endpoint or AWS_ENDPOINT_URL_S3):
// "scheme://host[:port][/path]", where no scheme means https. "" means AWS,
// https://s3.<region>.amazonaws.com. INVALID_ARGUMENT for a scheme other than http(s),
// no host, userinfo, a query or fragment, spaces or control characters.
absl::StatusOr<S3Endpoint> ParseS3Endpoint(std::string_view endpoint, std::string_view region);

// True for a region name S3 can be addressed with: non-empty, [a-z0-9-] only.
bool IsValidS3Region(std::string_view region);

// The host of an authority ("host", "host:port", "[v6]:port"); an IPv6 literal keeps its
// brackets ("[::1]").
std::string_view AuthorityHost(std::string_view authority);

// The host of an absolute URL without userinfo, port or IPv6 brackets
// ("http://u@[::1]:80/x" -> "::1"); empty when `url` has no "://".
std::string_view UrlHost(std::string_view url);

// True for "localhost", a bracketed IPv6 literal, or digits and dots (an IPv4 address).
bool IsIpOrLocalhost(std::string_view host);

// True if `bucket` can be a DNS label for virtual-hosted addressing (`tls`: no dots).
bool IsDnsCompatibleBucket(std::string_view bucket, bool tls);

// Whether requests for `bucket` at `endpoint` use path-style addressing (see the top of
// this file).
bool UsePathStyle(const S3Endpoint& endpoint, std::string_view bucket, bool force_path_style);

// Where one request goes.
struct S3Address {
  std::string url;   // scheme://host/path?query, percent-encoded once
  std::string host;  // the Host header, as signed
  std::string path;  // decoded, as SigV4 signs it
};

// The address of `key` (used as given, decoded) in `bucket`, with `query` (name, value;
// an empty value is written as the bare name, as in "?uploads").
S3Address S3AddressOf(const S3Endpoint& endpoint, std::string_view bucket, bool path_style,
                      std::string_view key,
                      const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_S3_ENDPOINT_H_
