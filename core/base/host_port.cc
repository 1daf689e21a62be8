#include "core/base/host_port.h"

#include "core/base/strings.h"

namespace lakehose {
namespace {

constexpr int kMaxPort = 65535;

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

absl::Status EmptyHost() {
  return absl::InvalidArgumentError("the host is empty (0.0.0.0 or [::] for every interface)");
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(std::string_view address) {
  const absl::Status shape =
      absl::InvalidArgumentError("must be HOST:PORT (e.g. 127.0.0.1:50051 or [::1]:50051)");
  HostPort out;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':')
      return shape;
    const std::string_view inside = address.substr(1, close - 1);
    if (inside.empty()) return EmptyHost();
    for (char c : inside)
      if (!IsIpv6Char(c))
        return absl::InvalidArgumentError(StrCat(
            "the IPv6 host \"", inside, "\" has a character other than hex digits, : and ."));
    out.host = std::string(address.substr(0, close + 1));
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return shape;
    const std::string_view host = address.substr(0, colon);
    if (host.empty()) return EmptyHost();
    bool name = true, ipv6 = true;
    for (char c : host) {
      name = name && IsNameChar(c);
      ipv6 = ipv6 && IsIpv6Char(c);
    }
    if (!name) {
      if (ipv6)
        return absl::InvalidArgumentError("an IPv6 host must be in brackets, as [::1]:PORT");
      return absl::InvalidArgumentError(
          StrCat("the host \"", host, "\" has a character other than A-Z a-z 0-9 . - _"));
    }
    out.host = std::string(host);
    port = address.substr(colon + 1);
  }
  if (port.empty()) return absl::InvalidArgumentError("the port is empty");
  int64_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return absl::InvalidArgumentError(
          StrCat("the port must be decimal digits (got \"", port, "\")"));
    if (value <= kMaxPort) value = value * 10 + (c - '0');  // stops growing once too large
  }
  if (value > kMaxPort)
    return absl::InvalidArgumentError(StrCat("port ", port, " is out of range (0-", kMaxPort, ")"));
  out.port = static_cast<int>(value);
  return out;
}

}  // namespace lakehose
