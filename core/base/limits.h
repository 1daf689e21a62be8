// Limits on untrusted input that several parts must agree on, so that what one part
// accepts the next can store (a writer never produces what its readers refuse).
//
//   kMaxNestingDepth  levels of maps and lists in a document. A top-level attribute whose
//                     value is a map or list is at level 1; a map or list inside it at
//                     level 2, and so on. DynamoDB itself allows 32 levels, so no real
//                     item is refused; every recursive walker (decoders, the document
//                     writer, partition-key lookup, Parquet shredding) is bounded by it
//                     and the stack it needs is small and fixed.
//   kMaxS3KeyBytes    an S3 object key is at most 1,024 bytes of UTF-8.
//   kMaxFileNameBytes a path component (file or directory name) on Linux file systems is
//                     at most 255 bytes (NAME_MAX).
#ifndef LAKEHOSE_CORE_BASE_LIMITS_H_
#define LAKEHOSE_CORE_BASE_LIMITS_H_

#include <cstddef>

namespace lakehose {

inline constexpr int kMaxNestingDepth = 32;
inline constexpr size_t kMaxS3KeyBytes = 1024;
inline constexpr size_t kMaxFileNameBytes = 255;

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_LIMITS_H_
