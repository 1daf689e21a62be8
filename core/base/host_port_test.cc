#include "core/base/host_port.h"

#include <string>
#include <string_view>

#include "core/base/strings.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

// The reason ParseHostPort gives, or "<ok>".
std::string ErrorOf(std::string_view address) {
  auto p = ParseHostPort(address);
  if (p.ok()) return "<ok>";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(StatusMessage(p.status()));
}

TEST(HostPortTest, AcceptsHostsAndPortsBothServersBind) {
  auto v4 = ParseHostPort("127.0.0.1:50051");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 50051);
  auto any = ParseHostPort("0.0.0.0:0");  // port 0: any free port
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(any->port, 0);
  auto name = ParseHostPort("metrics.internal:65535");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "metrics.internal");
  EXPECT_EQ(name->port, 65535);
  auto v6 = ParseHostPort("[::1]:9464");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 9464);
}

// `--listen 127.0.0.1:99999` used to listen on another port (gRPC kept the low 16 bits).
TEST(HostPortTest, PortOutOfRangeIsRefusedNotWrapped) {
  EXPECT_EQ(ErrorOf("127.0.0.1:99999"), "port 99999 is out of range (0-65535)");
  EXPECT_EQ(ErrorOf("127.0.0.1:65536"), "port 65536 is out of range (0-65535)");
  EXPECT_EQ(ErrorOf("127.0.0.1:123456789012345678901"),
            "port 123456789012345678901 is out of range (0-65535)");
}

TEST(HostPortTest, AnythingButHostColonPortIsRefused) {
  const std::string kShape = "must be HOST:PORT (e.g. 127.0.0.1:50051 or [::1]:50051)";
  EXPECT_EQ(ErrorOf(""), kShape);
  EXPECT_EQ(ErrorOf("50051"), kShape);
  EXPECT_EQ(ErrorOf("127.0.0.1"), kShape);
  EXPECT_EQ(ErrorOf(":50051"), "the host is empty (0.0.0.0 or [::] for every interface)");
  EXPECT_EQ(ErrorOf("127.0.0.1:"), "the port is empty");
  EXPECT_EQ(ErrorOf("127.0.0.1:+80"), "the port must be decimal digits (got \"+80\")");
  EXPECT_EQ(ErrorOf("127.0.0.1:80s"), "the port must be decimal digits (got \"80s\")");
  EXPECT_EQ(ErrorOf("127.0.0.1: 80"), "the port must be decimal digits (got \" 80\")");
  EXPECT_EQ(ErrorOf("::1:80"), "an IPv6 host must be in brackets, as [::1]:PORT");
  EXPECT_EQ(ErrorOf("[::1:80"), kShape);
  EXPECT_EQ(ErrorOf("[]:80"), "the host is empty (0.0.0.0 or [::] for every interface)");
  EXPECT_EQ(ErrorOf("a b:80"), "the host \"a b\" has a character other than A-Z a-z 0-9 . - _");
  // civetweb would read a list of ports, gRPC a URI: neither is an address.
  EXPECT_EQ(ErrorOf("1.2.3.4:80,5.6.7.8:81"),
            "the host \"1.2.3.4:80,5.6.7.8\" has a character other than A-Z a-z 0-9 . - _");
  EXPECT_EQ(ErrorOf("unix:/tmp/sock"), "the port must be decimal digits (got \"/tmp/sock\")");
}

}  // namespace
}  // namespace lakehose
