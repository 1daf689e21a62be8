#include "core/s3/endpoint.h"

#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

S3Endpoint Parsed(std::string_view endpoint, std::string_view region = "us-east-1") {
  absl::StatusOr<S3Endpoint> e = ParseS3Endpoint(endpoint, region);
  EXPECT_TRUE(e.ok()) << endpoint << ": " << e.status();
  return e.ok() ? *e : S3Endpoint{};
}

// ---- parsing --------------------------------------------------------------------------

TEST(S3EndpointTest, EmptyIsAwsInTheRegion) {
  const S3Endpoint e = Parsed("", "eu-west-1");
  EXPECT_EQ(e.scheme, "https");
  EXPECT_EQ(e.host_port, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(e.base_path, "");
}

TEST(S3EndpointTest, SchemeHostPortAndBasePath) {
  S3Endpoint e = Parsed("http://127.0.0.1:9000");
  EXPECT_EQ(e.scheme, "http");
  EXPECT_EQ(e.host_port, "127.0.0.1:9000");
  EXPECT_EQ(e.base_path, "");

  e = Parsed("HTTPS://minio.example.com:9000/");  // scheme case-folded, trailing '/' dropped
  EXPECT_EQ(e.scheme, "https");
  EXPECT_EQ(e.host_port, "minio.example.com:9000");
  EXPECT_EQ(e.base_path, "");

  e = Parsed("minio.internal");  // no scheme: https
  EXPECT_EQ(e.scheme, "https");
  EXPECT_EQ(e.host_port, "minio.internal");

  e = Parsed("http://gw.example.com/storage/s3///");
  EXPECT_EQ(e.host_port, "gw.example.com");
  EXPECT_EQ(e.base_path, "/storage/s3");

  e = Parsed("http://[::1]:4568");
  EXPECT_EQ(e.host_port, "[::1]:4568");
}

TEST(S3EndpointTest, RefusesWhatIsNotSchemeHostPortPath) {
  for (std::string_view bad :
       {"ftp://x", "s3://bucket", "://host", "http://", "https:///path", "http://u@host",
        "http://u:p@host:9000", "http://host?x=1", "http://host/p?x=1", "http://host#f",
        "http://host/p#f", "http://ho st", "http://host/\r\nX: y", "http://host\t",
        "http://host/\x7F"}) {
    EXPECT_EQ(ParseS3Endpoint(bad, "us-east-1").status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(S3EndpointTest, Regions) {
  for (std::string_view good : {"us-east-1", "eu-central-2", "cn-north-1", "local"}) {
    EXPECT_TRUE(IsValidS3Region(good)) << good;
  }
  for (std::string_view bad : {"", "US-East-1", "us east 1", "us-east-1.", "us_east_1", "a/b"}) {
    EXPECT_FALSE(IsValidS3Region(bad)) << bad;
  }
}

// ---- hosts ------------------------------------------------------------------------------

TEST(S3EndpointTest, AuthorityHost) {
  EXPECT_EQ(AuthorityHost("host"), "host");
  EXPECT_EQ(AuthorityHost("host:9000"), "host");
  EXPECT_EQ(AuthorityHost("127.0.0.1:9000"), "127.0.0.1");
  EXPECT_EQ(AuthorityHost("[::1]:9000"), "[::1]");
  EXPECT_EQ(AuthorityHost("[::1]"), "[::1]");
  EXPECT_EQ(AuthorityHost("[::1"), "[::1");  // unclosed: all of it
  EXPECT_EQ(AuthorityHost(""), "");
}

TEST(S3EndpointTest, UrlHost) {
  EXPECT_EQ(UrlHost("http://[::1]:80/x"), "::1");
  EXPECT_EQ(UrlHost("http://u@[::1]:80/x"), "::1");
  EXPECT_EQ(UrlHost("http://a@b@127.0.0.1:8080/c"), "127.0.0.1");  // the last '@' ends userinfo
  EXPECT_EQ(UrlHost("https://host.example.com?q=@evil"), "host.example.com");
  EXPECT_EQ(UrlHost("http://host#@evil"), "host");
  EXPECT_EQ(UrlHost("http://[fd00:ec2::23]/v1"), "fd00:ec2::23");
  EXPECT_EQ(UrlHost("http://[::1/x"), "::1");
  EXPECT_EQ(UrlHost("http://"), "");
  EXPECT_EQ(UrlHost("host/x"), "");
}

TEST(S3EndpointTest, IpOrLocalhost) {
  for (std::string_view yes : {"localhost", "127.0.0.1", "10.1.2.3", "[::1]", "[fd00::2]"}) {
    EXPECT_TRUE(IsIpOrLocalhost(yes)) << yes;
  }
  for (std::string_view no : {"", "minio", "s3.amazonaws.com", "localhost.localdomain", "::1"}) {
    EXPECT_FALSE(IsIpOrLocalhost(no)) << no;
  }
}

TEST(S3EndpointTest, DnsCompatibleBuckets) {
  EXPECT_TRUE(IsDnsCompatibleBucket("my-bucket-1", true));
  EXPECT_TRUE(IsDnsCompatibleBucket("my.bucket", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("my.bucket", true));
  EXPECT_FALSE(IsDnsCompatibleBucket("My_Bucket", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("ab", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("-abc", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("a..b", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("192.168.1.1", false));
  EXPECT_TRUE(IsDnsCompatibleBucket(std::string(63, 'a'), true));
  EXPECT_FALSE(IsDnsCompatibleBucket(std::string(64, 'a'), true));
}

// ---- addressing -------------------------------------------------------------------------

TEST(S3EndpointTest, PathStyleWhenForcedLocalOrNotADnsLabel) {
  EXPECT_FALSE(UsePathStyle(Parsed(""), "lake-bucket", false));
  EXPECT_TRUE(UsePathStyle(Parsed(""), "lake-bucket", true));
  EXPECT_FALSE(UsePathStyle(Parsed("https://minio.example.com:9000"), "lake-bucket", false));
  EXPECT_TRUE(UsePathStyle(Parsed("http://127.0.0.1:9000"), "lake-bucket", false));
  EXPECT_TRUE(UsePathStyle(Parsed("http://localhost:4568"), "lake-bucket", false));
  EXPECT_TRUE(UsePathStyle(Parsed("http://[::1]:4568"), "lake-bucket", false));
  EXPECT_TRUE(UsePathStyle(Parsed(""), "dotted.bucket", false));  // TLS: the certificate
  EXPECT_FALSE(UsePathStyle(Parsed("http://minio"), "dotted.bucket", false));
  EXPECT_TRUE(UsePathStyle(Parsed("http://minio"), "Upper_Case", false));
}

TEST(S3EndpointTest, VirtualHostedAddress) {
  const S3Address a = S3AddressOf(Parsed("", "eu-west-1"), "lake-bucket", false, "a/b.gz", {});
  EXPECT_EQ(a.url, "https://lake-bucket.s3.eu-west-1.amazonaws.com/a/b.gz");
  EXPECT_EQ(a.host, "lake-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.path, "/a/b.gz");
}

TEST(S3EndpointTest, PathStyleAddressUnderABasePath) {
  const S3Address a =
      S3AddressOf(Parsed("http://gw:8080/s3/"), "b1", true, "k", {{"partNumber", "1"}});
  EXPECT_EQ(a.url, "http://gw:8080/s3/b1/k?partNumber=1");
  EXPECT_EQ(a.host, "gw:8080");
  EXPECT_EQ(a.path, "/s3/b1/k");
}

TEST(S3EndpointTest, KeysAndQueriesAreEncodedOnce) {
  const S3Address a = S3AddressOf(Parsed("http://127.0.0.1:9000"), "lake-bucket", true,
                                  "data/siteId=a b/caf\xC3\xA9%2F+x~y(1).gz",
                                  {{"uploads", ""}, {"uploadId", "a/b+c="}});
  EXPECT_EQ(a.url,
            "http://127.0.0.1:9000/lake-bucket/data/siteId%3Da%20b/caf%C3%A9%252F%2Bx~y%281%29.gz"
            "?uploads&uploadId=a%2Fb%2Bc%3D");
  EXPECT_EQ(a.path, "/lake-bucket/data/siteId=a b/caf\xC3\xA9%2F+x~y(1).gz");  // as signed
}

}  // namespace
}  // namespace lakehose
