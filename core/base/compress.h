// Whole-object compression for delivery: gzip (zlib, RFC 1952 framing, so zcat and
// every reader of .gz reads it) and zstd (one frame, with the content size). Pure.
#ifndef LAKEHOSE_CORE_BASE_COMPRESS_H_
#define LAKEHOSE_CORE_BASE_COMPRESS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lakehose {

enum class Compression { kNone, kGzip, kZstd };

// `level` -1 picks the codec's default (gzip 6, zstd 3).
absl::StatusOr<std::string> Compress(Compression codec, int level, std::string_view data);
// Inverse of Compress (for tests and tools); `max_size` bounds the output.
absl::StatusOr<std::string> Decompress(Compression codec, std::string_view data,
                                       size_t max_size = size_t{1} << 32);

// ".jsonl.gz", ".jsonl.zst" or ".jsonl".
std::string_view ObjectExtension(Compression codec);
// The Content-Encoding of such an object: "gzip", "zstd" or "".
std::string_view ContentEncoding(Compression codec);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_COMPRESS_H_
