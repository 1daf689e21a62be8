// Whole-object compression (core/base/compress.h): round trips for every codec and level,
// the framing other readers rely on (RFC 1952 gzip, zstd frames), and the decoder's
// refusal of truncated, corrupt and oversized input.
#include "core/base/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

// Deterministic text that looks like JSON Lines (compressible, but not trivially).
std::string JsonLines(size_t bytes, uint64_t seed = 1) {
  std::string out;
  out.reserve(bytes + 128);
  uint64_t x = seed;
  int64_t i = 0;
  while (out.size() < bytes) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    StrAppend(&out, "{\"id\":", i++, ",\"amount\":", static_cast<int64_t>(x >> 40),
              ",\"region\":\"", (x >> 20) % 2 ? "EU" : "US", "\"}\n");
  }
  out.resize(bytes);
  return out;
}

// Incompressible bytes.
std::string RandomBytes(size_t n, uint64_t seed = 7) {
  std::string out(n, '\0');
  uint64_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

struct Case {
  Compression codec;
  int level;
};

std::string Name(const ::testing::TestParamInfo<Case>& info) {
  const char* codec = info.param.codec == Compression::kGzip   ? "gzip"
                      : info.param.codec == Compression::kZstd ? "zstd"
                                                               : "none";
  return StrCat(codec, "_level_",
                info.param.level < 0 ? std::string("default") : StrCat(info.param.level));
}

class RoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTripTest, EmptyInput) {
  auto c = Compress(GetParam().codec, GetParam().level, "");
  ASSERT_TRUE(c.ok()) << c.status();
  auto d = Decompress(GetParam().codec, *c);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, "");
}

TEST_P(RoundTripTest, SmallInputs) {
  for (const std::string& in : {std::string("x"), std::string("{\"a\":1}\n"), std::string(1, '\0'),
                                std::string("\xff\xfe\x00\x01", 4), JsonLines(65535),
                                JsonLines(65536), JsonLines(65537), RandomBytes(100000)}) {
    auto c = Compress(GetParam().codec, GetParam().level, in);
    ASSERT_TRUE(c.ok()) << c.status();
    auto d = Decompress(GetParam().codec, *c);
    ASSERT_TRUE(d.ok()) << d.status() << " for " << in.size() << " bytes";
    EXPECT_EQ(*d, in);
  }
}

TEST_P(RoundTripTest, TenMegabytes) {
  // zstd's high levels take seconds per MB: 1 MB is enough for them.
  const bool slow = GetParam().codec == Compression::kZstd && GetParam().level >= 10;
  const std::string in = JsonLines(slow ? 1 << 20 : 10 << 20);
  auto c = Compress(GetParam().codec, GetParam().level, in);
  ASSERT_TRUE(c.ok()) << c.status();
  if (GetParam().codec != Compression::kNone && GetParam().level != 0) {
    EXPECT_LT(c->size(), in.size() / 2) << "JSON Lines should compress";
  }
  auto d = Decompress(GetParam().codec, *c);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->size(), in.size());
  EXPECT_TRUE(*d == in);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTripTest,
                         ::testing::Values(Case{Compression::kNone, -1},
                                           Case{Compression::kGzip, -1},
                                           Case{Compression::kGzip, 0}, Case{Compression::kGzip, 1},
                                           Case{Compression::kGzip, 6}, Case{Compression::kGzip, 9},
                                           Case{Compression::kZstd, -1},
                                           Case{Compression::kZstd, 1}, Case{Compression::kZstd, 3},
                                           Case{Compression::kZstd, 19}),
                         Name);

TEST(CompressTest, NoneIsTheIdentity) {
  const std::string in = JsonLines(1000);
  auto c = Compress(Compression::kNone, -1, in);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, in);
}

TEST(CompressTest, GzipIsRfc1952AndReadableByZlib) {
  const std::string in = JsonLines(200000);
  auto c = Compress(Compression::kGzip, -1, in);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_GE(c->size(), 18u);
  // ID1 ID2 CM (deflate).
  EXPECT_EQ(static_cast<unsigned char>((*c)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*c)[1]), 0x8b);
  EXPECT_EQ(static_cast<unsigned char>((*c)[2]), 8);
  // The trailer: CRC32 and ISIZE of the input, little-endian.
  auto le32 = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>((*c)[at + i]);
    return v;
  };
  const uint32_t crc =
      crc32(0L, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size()));
  EXPECT_EQ(le32(c->size() - 8), crc);
  EXPECT_EQ(le32(c->size() - 4), static_cast<uint32_t>(in.size()));

  // An independent reader: zlib with gzip-only framing (windowBits 16 + 15).
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 16 + 15), Z_OK);
  std::string out(in.size() + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(c->data());
  z.avail_in = static_cast<uInt>(c->size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(out, in);
}

TEST(CompressTest, GzipLevelChangesTheOutputNotTheContent) {
  const std::string in = JsonLines(300000);
  auto fast = Compress(Compression::kGzip, 1, in);
  auto best = Compress(Compression::kGzip, 9, in);
  auto stored = Compress(Compression::kGzip, 0, in);
  ASSERT_TRUE(fast.ok() && best.ok() && stored.ok());
  EXPECT_LE(best->size(), fast->size());
  EXPECT_GT(stored->size(), in.size());  // level 0 stores
  EXPECT_EQ(*Decompress(Compression::kGzip, *stored), in);
}

TEST(CompressTest, InvalidGzipLevelIsAnError) {
  EXPECT_FALSE(Compress(Compression::kGzip, 10, "abc").ok());
}

TEST(CompressTest, ZstdIsOneFrameWithTheContentSize) {
  const std::string in = JsonLines(200000);
  auto c = Compress(Compression::kZstd, -1, in);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_GE(c->size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>((*c)[0]), 0x28);
  EXPECT_EQ(static_cast<unsigned char>((*c)[1]), 0xb5);
  EXPECT_EQ(static_cast<unsigned char>((*c)[2]), 0x2f);
  EXPECT_EQ(static_cast<unsigned char>((*c)[3]), 0xfd);
  EXPECT_EQ(ZSTD_getFrameContentSize(c->data(), c->size()), in.size());
  EXPECT_EQ(ZSTD_findFrameCompressedSize(c->data(), c->size()), c->size());
  // An independent reader: the one-shot decoder.
  std::string out(in.size(), '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), c->data(), c->size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  EXPECT_EQ(n, in.size());
  EXPECT_EQ(out, in);
}

TEST(CompressTest, DecompressRejectsTruncatedGzip) {
  const std::string in = JsonLines(300000);
  auto c = Compress(Compression::kGzip, -1, in);
  ASSERT_TRUE(c.ok());
  for (size_t keep : {size_t{0}, size_t{1}, size_t{5}, size_t{10}, c->size() / 2, c->size() - 8,
                      c->size() - 4, c->size() - 1}) {
    auto d = Decompress(Compression::kGzip, std::string_view(*c).substr(0, keep));
    EXPECT_FALSE(d.ok()) << "kept " << keep << " of " << c->size();
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
    }
  }
}

TEST(CompressTest, GzipMembersEndToEndReadAsOneStream) {
  // RFC 1952 2.2: a gzip file is a series of members (what `cat a.gz b.gz` makes, and
  // what some writers of DynamoDB exports' data files may make). Every member is read.
  const std::string a = JsonLines(2000), b = JsonLines(3000);
  auto ca = Compress(Compression::kGzip, -1, a);
  auto cb = Compress(Compression::kGzip, -1, b);
  ASSERT_TRUE(ca.ok() && cb.ok());
  auto d = Decompress(Compression::kGzip, *ca + *cb);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, a + b);
  // Bytes after a member that are not another member are damage, not ignored.
  EXPECT_EQ(Decompress(Compression::kGzip, *ca + "garbage!").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A second member cut short is truncated input.
  EXPECT_EQ(Decompress(Compression::kGzip, *ca + cb->substr(0, cb->size() / 2)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompressTest, DecompressRejectsTruncatedZstd) {
  const std::string in = JsonLines(300000);
  auto c = Compress(Compression::kZstd, -1, in);
  ASSERT_TRUE(c.ok());
  for (size_t keep :
       {size_t{0}, size_t{1}, size_t{4}, size_t{10}, c->size() / 2, c->size() - 3, c->size() - 1}) {
    auto d = Decompress(Compression::kZstd, std::string_view(*c).substr(0, keep));
    EXPECT_FALSE(d.ok()) << "kept " << keep << " of " << c->size();
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
    }
  }
}

TEST(CompressTest, DecompressRejectsCorruptInput) {
  const std::string in = JsonLines(100000);
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    auto c = Compress(codec, -1, in);
    ASSERT_TRUE(c.ok());
    // Not compressed at all.
    EXPECT_FALSE(Decompress(codec, "this is not compressed data at all, just text\n").ok());
    EXPECT_FALSE(Decompress(codec, RandomBytes(5000)).ok());
    // Bad magic.
    std::string bad = *c;
    bad[0] ^= 0xff;
    EXPECT_FALSE(Decompress(codec, bad).ok());
  }
  // gzip carries a CRC-32: a flipped bit in the body or in the trailer is caught. (zstd
  // frames written without a content checksum cannot promise that, so it is not asserted.)
  auto g = Compress(Compression::kGzip, -1, in);
  ASSERT_TRUE(g.ok());
  std::string bad = *g;
  bad[bad.size() / 2] ^= 0x10;
  EXPECT_FALSE(Decompress(Compression::kGzip, bad).ok());
  bad = *g;
  bad[bad.size() - 6] ^= 0x01;
  EXPECT_FALSE(Decompress(Compression::kGzip, bad).ok());
  bad = *g;
  bad[bad.size() - 2] ^= 0x01;  // ISIZE
  EXPECT_FALSE(Decompress(Compression::kGzip, bad).ok());
}

TEST(CompressTest, ZstdTrailingGarbageIsRejected) {
  auto c = Compress(Compression::kZstd, -1, JsonLines(1000));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(Decompress(Compression::kZstd, *c + "garbage!").ok());
}

TEST(CompressTest, DecompressHonoursMaxSize) {
  const std::string in = JsonLines(1 << 20);
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    auto c = Compress(codec, -1, in);
    ASSERT_TRUE(c.ok());
    auto exact = Decompress(codec, *c, in.size());
    ASSERT_TRUE(exact.ok()) << exact.status();
    EXPECT_EQ(*exact, in);
    auto under = Decompress(codec, *c, in.size() - 1);
    EXPECT_EQ(under.status().code(), absl::StatusCode::kResourceExhausted) << under.status();
    auto tiny = Decompress(codec, *c, 10);
    EXPECT_EQ(tiny.status().code(), absl::StatusCode::kResourceExhausted) << tiny.status();
  }
}

TEST(CompressTest, DecompressBoundsAZipBomb) {
  // 64 MiB of zeros compresses to under 100 KB; a 1 MiB limit must stop it early.
  const std::string zeros(64 << 20, '\0');
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    auto c = Compress(codec, 1, zeros);
    ASSERT_TRUE(c.ok());
    ASSERT_LT(c->size(), size_t{2} << 20);
    auto d = Decompress(codec, *c, 1 << 20);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);
  }
}

TEST(CompressTest, ExtensionsAndEncodings) {
  EXPECT_EQ(ObjectExtension(Compression::kNone), ".jsonl");
  EXPECT_EQ(ObjectExtension(Compression::kGzip), ".jsonl.gz");
  EXPECT_EQ(ObjectExtension(Compression::kZstd), ".jsonl.zst");
  EXPECT_EQ(ContentEncoding(Compression::kNone), "");
  EXPECT_EQ(ContentEncoding(Compression::kGzip), "gzip");
  EXPECT_EQ(ContentEncoding(Compression::kZstd), "zstd");
}

}  // namespace
}  // namespace lakehose
