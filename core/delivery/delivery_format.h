// What delivery writes, as pure functions: object keys, object bodies (compressed JSON
// Lines or Parquet) and Firehose-style error documents.
#ifndef LAKEHOSE_CORE_DELIVERY_DELIVERY_FORMAT_H_
#define LAKEHOSE_CORE_DELIVERY_DELIVERY_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/config/pipeline.h"

namespace lakehose {

// `<prefix><pipeline>-<writer_id>-<sequence, 16 digits><extension>`: deterministic,
// sortable by sequence, unique per replica (writer_id) as long as sequences are.
std::string ObjectKey(std::string_view prefix, std::string_view pipeline,
                      std::string_view writer_id, uint64_t sequence, Compression codec);

// The same, with the extension given (ObjectExtensionFor).
std::string ObjectKey(std::string_view prefix, std::string_view pipeline,
                      std::string_view writer_id, uint64_t sequence, std::string_view extension);

// True if `body` (JSON Lines) holds Firehose-style error documents (its first line
// starts with {"attemptsMade":<digits>,"arrivalTimestamp":), which always stay JSON
// Lines whatever the destination's format.
bool IsErrorDocumentBody(std::string_view body);

// The extension of the object a sealed buffer `body` becomes: ".parquet" for documents
// of a format parquet destination, else ObjectExtension(dest.compression).
std::string_view ObjectExtensionFor(const DestinationSpec& dest, std::string_view body);

// Records of a sealed Parquet object that the writer cannot store (a record refused at
// Transform/Ingest never gets there; these are the last line of defence, e.g. records
// accepted by an older version and replayed from the WAL).
struct RejectedRecords {
  std::string lines;    // their JSON Lines, each with its newline, in order
  int64_t records = 0;  // how many
  std::string reason;   // the first one's ("line N: ...")
  // When records > 0: the other lines, each with its newline, in order (what the object
  // holds; what a dead letter of the object must hold, the rejected ones being stored
  // apart).
  std::string kept_lines;
};

// The bytes stored for a sealed object (`body` is its JSON Lines) under `key`: Parquet
// (dest.parquet options) when the key ends in ".parquet", else the JSON Lines compressed
// with dest.compression. Deciding by the key keeps the choice made at seal time, so an
// object rebuilt from the WAL after a crash encodes to the same bytes. With `rejected`,
// a record the Parquet writer cannot store is left out of the object and handed back
// in *rejected (EncodeParquetFileIsolating) instead of failing the whole object.
absl::StatusOr<std::string> EncodeObject(const DestinationSpec& dest, std::string_view key,
                                         std::string_view body,
                                         RejectedRecords* rejected = nullptr);

// Where the records left out of the object `key` go: `<key without .parquet>-rejected.parquet`
// (stored there once the pipeline's config lets the writer store them).
std::string RejectedRecordsKey(std::string_view key);

// Appends one Firehose-style error document and a newline:
// {"attemptsMade":1,"arrivalTimestamp":<ms>,"errorCode":"...","errorMessage":"...",
//  "rawData":"<base64 of the input>"}
void AppendErrorDocument(int attempts, int64_t arrival_ms, std::string_view error_code,
                         std::string_view error_message, std::string_view raw_data,
                         std::string* out);

// A writer_id made safe for object keys: [A-Za-z0-9_.-], others replaced by '-', at most
// 64 characters; "lakehose" if nothing is left.
std::string SanitizeWriterId(std::string_view id);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_DELIVERY_DELIVERY_FORMAT_H_
