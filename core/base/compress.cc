#include "core/base/compress.h"

#include <zlib.h>
#include <zstd.h>

#include "core/base/strings.h"

namespace lakehose {
namespace {

absl::StatusOr<std::string> Gzip(int level, std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, level < 0 ? 6 : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return absl::InternalError("gzip: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return absl::InternalError(StrCat("gzip: deflate returned ", rc));
  return out;
}

absl::StatusOr<std::string> Gunzip(std::string_view data, size_t max_size) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return absl::InternalError("gzip: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  for (;;) {
    if (rc == Z_STREAM_END) {
      // A gzip file may be several members end to end (RFC 1952, 2.2; `cat a.gz b.gz`),
      // read as one stream, as gunzip does; anything else after a member is damage.
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) {
        inflateEnd(&z);
        return absl::InternalError("gzip: inflateReset failed");
      }
    }
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return absl::InvalidArgumentError(StrCat("gzip: corrupt input (", rc, ")"));
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (out.size() > max_size) {
      inflateEnd(&z);
      return absl::ResourceExhaustedError("gzip: output larger than the limit");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return absl::InvalidArgumentError("gzip: truncated input");
    }
  }
  inflateEnd(&z);
  return out;
}

absl::StatusOr<std::string> Zstd(int level, std::string_view data) {
  std::string out;
  out.resize(ZSTD_compressBound(data.size()));
  const size_t n =
      ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level < 0 ? 3 : level);
  if (ZSTD_isError(n)) return absl::InternalError(StrCat("zstd: ", ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> Unzstd(std::string_view data, size_t max_size) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::string out;
  char buf[1 << 16];
  size_t rc = 1;
  while (in.pos < in.size || rc != 0) {
    ZSTD_outBuffer o{buf, sizeof(buf), 0};
    rc = ZSTD_decompressStream(ctx, &o, &in);
    if (ZSTD_isError(rc)) {
      ZSTD_freeDCtx(ctx);
      return absl::InvalidArgumentError(StrCat("zstd: ", ZSTD_getErrorName(rc)));
    }
    out.append(buf, o.pos);
    if (out.size() > max_size) {
      ZSTD_freeDCtx(ctx);
      return absl::ResourceExhaustedError("zstd: output larger than the limit");
    }
    if (in.pos == in.size && o.pos == 0 && rc != 0) {
      ZSTD_freeDCtx(ctx);
      return absl::InvalidArgumentError("zstd: truncated input");
    }
  }
  ZSTD_freeDCtx(ctx);
  return out;
}

}  // namespace

absl::StatusOr<std::string> Compress(Compression codec, int level, std::string_view data) {
  switch (codec) {
    case Compression::kGzip:
      return Gzip(level, data);
    case Compression::kZstd:
      return Zstd(level, data);
    case Compression::kNone:
      break;
  }
  return std::string(data);
}

absl::StatusOr<std::string> Decompress(Compression codec, std::string_view data, size_t max_size) {
  switch (codec) {
    case Compression::kGzip:
      return Gunzip(data, max_size);
    case Compression::kZstd:
      return Unzstd(data, max_size);
    case Compression::kNone:
      break;
  }
  return std::string(data);
}

std::string_view ObjectExtension(Compression codec) {
  switch (codec) {
    case Compression::kGzip:
      return ".jsonl.gz";
    case Compression::kZstd:
      return ".jsonl.zst";
    case Compression::kNone:
      break;
  }
  return ".jsonl";
}

std::string_view ContentEncoding(Compression codec) {
  switch (codec) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "";
}

}  // namespace lakehose
