// How long an object key may be, and the check of a rendered prefix against it, so that
// a record whose key the destination would refuse is refused itself, at Transform /
// Ingest time (KEY_TOO_LONG), instead of failing the delivery of a whole object later.
//
// An object key is `<rendered prefix><object name>`; delivery appends the object name
// (ObjectKey in core/delivery/delivery_format.h):
//
//   <pipeline>-<writer_id>-<sequence><extension>
//
// whose length is bounded: the pipeline name is known, writer_id is at most
// kMaxWriterIdBytes, the sequence at most kMaxSequenceDigits, the extension at most
// kMaxObjectExtensionBytes. The check reserves that maximum, so the prefix is judged
// before the object exists.
//
//   S3:        the whole key at most kMaxS3KeyBytes (1,024).
//   file lake: the same 1,024 for the whole key (so a file lake can be copied to S3 as
//              it is, and root + key stays under PATH_MAX with a root of up to
//              kMaxFileLakeRootBytes), and every path component at most
//              kMaxFileNameBytes (255). The last component (the file name) also holds
//              the temporary name the file sink writes first:
//              `.<name>.<pid>-<counter>.tmp` (service/delivery/file_sink.cc).
//
// Pure; plain data; safe to share.
#ifndef LAKEHOSE_CORE_PARTITION_OBJECT_KEY_LIMITS_H_
#define LAKEHOSE_CORE_PARTITION_OBJECT_KEY_LIMITS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/limits.h"

namespace lakehose {

inline constexpr size_t kMaxWriterIdBytes = 64;  // server.writer_id, SanitizeWriterId
// A uint64 sequence: written with 16 digits at least, 20 at most.
inline constexpr size_t kMaxSequenceDigits = 20;
// The longest of .jsonl.zst, .jsonl.gz, .parquet, .jsonl, and -rejected.parquet: records
// the Parquet writer leaves out of an object are dead-lettered under a key beside it
// (RejectedRecordsKey), which must fit the same limits.
inline constexpr size_t kMaxObjectExtensionBytes = 17;
// What the file sink's temporary name adds to a file name: "." in front, then
// ".<pid>-<counter>.tmp" (pid up to 10 digits, counter up to 20).
inline constexpr size_t kFileTempNameExtraBytes = 1 + 1 + 10 + 1 + 20 + 4;
// The longest lake root (destination.path) a file lake accepts: PATH_MAX (4,096 with its
// NUL) less the key, its '/' and the temporary name's extra bytes, rounded down.
inline constexpr size_t kMaxFileLakeRootBytes = 3000;
static_assert(kMaxFileLakeRootBytes + 1 + kMaxS3KeyBytes + kFileTempNameExtraBytes < 4096);

// The longest object name delivery appends for a pipeline named with `pipeline_bytes`.
constexpr size_t MaxObjectNameBytes(size_t pipeline_bytes) {
  return pipeline_bytes + 1 + kMaxWriterIdBytes + 1 + kMaxSequenceDigits + kMaxObjectExtensionBytes;
}

struct ObjectKeyLimits {
  bool file_lake = false;                 // names the store in messages
  size_t max_key_bytes = kMaxS3KeyBytes;  // the whole key, object name included
  size_t max_component_bytes = 0;         // each '/'-separated component; 0 = no bound (S3)
  size_t object_name_bytes = 0;           // reserved after the prefix: MaxObjectNameBytes
  size_t file_name_extra_bytes = 0;       // reserved in the last component (temporary name)

  static ObjectKeyLimits ForS3(std::string_view pipeline);
  static ObjectKeyLimits ForFileLake(std::string_view pipeline);
};

// Where a prefix breaks the limits: bytes [begin, end) of the prefix are the part that
// is too long (the whole prefix for the key, one component otherwise), `bytes` what it
// would measure with the reserved bytes, `limit` what the store allows.
struct KeyOverflow {
  enum class What { kKey, kComponent, kFileName };
  What what = What::kKey;
  size_t begin = 0, end = 0;
  size_t bytes = 0;     // with the reserved bytes counted
  size_t reserved = 0;  // of `bytes`, those delivery adds (object name, temporary name)
  size_t limit = 0;
};

// The first limit `prefix` (a rendered prefix) breaks, or nullopt if every key it can
// start fits: its components first (the more precise message), then the whole key.
std::optional<KeyOverflow> FindKeyOverflow(std::string_view prefix, const ObjectKeyLimits& limits);

// "path component \"site=aaa…\" would be 305 bytes; a file lake allows 255", and the like:
// the overflow in words, quoting (shortened) the part of `prefix` that is too long.
std::string DescribeKeyOverflow(std::string_view prefix, const KeyOverflow& overflow,
                                const ObjectKeyLimits& limits);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARTITION_OBJECT_KEY_LIMITS_H_
