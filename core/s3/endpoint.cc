#include "core/s3/endpoint.h"

#include <algorithm>

#include "core/base/strings.h"
#include "core/base/uri_encode.h"

namespace lakehose {
namespace {

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    StrAppend(&out, out.empty() ? "?" : "&", UriEncode(name, false));
    if (!value.empty()) StrAppend(&out, "=", UriEncode(value, false));
  }
  return out;
}

}  // namespace

absl::StatusOr<S3Endpoint> ParseS3Endpoint(std::string_view endpoint, std::string_view region) {
  if (endpoint.empty()) {
    return S3Endpoint{"https", StrCat("s3.", region, ".amazonaws.com"), ""};
  }
  S3Endpoint e;
  std::string_view rest = endpoint;
  if (const size_t sep = rest.find("://"); sep != std::string_view::npos) {
    e.scheme = AsciiLower(rest.substr(0, sep));
    rest = rest.substr(sep + 3);
  } else {
    e.scheme = "https";
  }
  if (e.scheme != "http" && e.scheme != "https") {
    return absl::InvalidArgumentError(
        StrCat("s3 endpoint '", endpoint, "': scheme must be http or https"));
  }
  const size_t slash = rest.find('/');
  e.host_port = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) e.base_path = std::string(rest.substr(slash));
  while (e.base_path.ends_with('/')) e.base_path.pop_back();
  if (e.host_port.empty() || e.host_port.find_first_of("@?# ") != std::string::npos ||
      e.base_path.find_first_of("?#") != std::string::npos || HasAsciiControl(endpoint)) {
    return absl::InvalidArgumentError(
        StrCat("s3 endpoint '", endpoint, "' is not scheme://host[:port][/path]"));
  }
  return e;
}

bool IsValidS3Region(std::string_view region) {
  return !region.empty() && std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string_view AuthorityHost(std::string_view authority) {
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

std::string_view UrlHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = AuthorityHost(authority);
  if (host.starts_with('[')) {
    host.remove_prefix(1);
    if (host.ends_with(']')) host.remove_suffix(1);
  }
  return host;
}

bool IsIpOrLocalhost(std::string_view host) {
  if (host == "localhost" || host.starts_with('[')) return true;
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool IsDnsCompatibleBucket(std::string_view bucket, bool tls) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
  if (bucket.find("..") != std::string_view::npos) return false;
  if (tls && bucket.find('.') != std::string_view::npos) return false;
  if (IsIpOrLocalhost(bucket)) return false;  // "192.168.5.4"
  return std::all_of(bucket.begin(), bucket.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool UsePathStyle(const S3Endpoint& endpoint, std::string_view bucket, bool force_path_style) {
  return force_path_style || IsIpOrLocalhost(AuthorityHost(endpoint.host_port)) ||
         !IsDnsCompatibleBucket(bucket, endpoint.scheme == "https");
}

S3Address S3AddressOf(const S3Endpoint& endpoint, std::string_view bucket, bool path_style,
                      std::string_view key,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  S3Address a;
  a.path = endpoint.base_path;
  if (path_style) StrAppend(&a.path, "/", bucket);
  StrAppend(&a.path, "/", key);
  a.host = path_style ? endpoint.host_port : StrCat(bucket, ".", endpoint.host_port);
  a.url = StrCat(endpoint.scheme, "://", a.host, UriEncode(a.path, /*keep_slash=*/true),
                 QueryString(query));
  return a;
}

}  // namespace lakehose
