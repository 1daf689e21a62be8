// FileSink: the lake as a directory tree. Each object is written to a temporary file in
// its final directory and fsync'd, then put in place and the directory fsync'd, so a
// reader (or a crash) never sees a partial object. With meta.if_none_match (which the
// delivery engine always sets) it is put in place with link(), which fails on an existing
// object as S3's If-None-Match does, and the temporary name is unlinked; without, rename()
// replaces whatever was there. It does not retry, so meta.deadline and meta.max_failures
// are ignored; a failed Put counts as one failure (meta.failures_spent).
//
// Get reads <root>/<key> (keys as Put's: relative, no ".." segment). Since a Put only ever
// puts a whole, synced file in place (link or rename), a Get running beside a Put of the
// same key reads the old object or the new one, never a mix or a part. NOT_FOUND when no
// file has the key (also when a directory on its path is a file); FAILED_PRECONDITION for
// a directory at the key or a file over kMaxObjectGetBytes; PERMISSION_DENIED when it may
// not be read; UNAVAILABLE for other I/O errors. No retries. Thread-safe.
#ifndef LAKEHOSE_SERVICE_DELIVERY_FILE_SINK_H_
#define LAKEHOSE_SERVICE_DELIVERY_FILE_SINK_H_

#include <string>

#include "service/delivery/object_sink.h"

namespace lakehose {

class FileSink : public ObjectSink {
 public:
  // `root` is created on first use; relative roots are taken from the working directory.
  explicit FileSink(std::string root);

  absl::Status Put(const std::string& key, std::string_view body, const ObjectMeta& meta) override;
  absl::StatusOr<std::string> Get(const std::string& key) override;
  std::string Uri(const std::string& key) const override;

  const std::string& root() const { return root_; }

 private:
  absl::Status Write(const std::string& key, std::string_view body, const ObjectMeta& meta);

  std::string root_;  // absolute
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_DELIVERY_FILE_SINK_H_
