// DynamoDB's export to S3 (full and incremental, DYNAMODB_JSON), the pure half of
// `lakehose backfill` (issue 16, first part): the export's manifests read and checked,
// and each exported line turned into the DynamoDB Streams record (Lambda's shape) that a
// pipeline's transform already takes, so a backfill goes through the same transform,
// partition keys and destination as the stream.
//
// Layout of an export (AWS's documentation, "DynamoDB table export output format"):
//   AWSDynamoDB/<export id>/manifest-summary.json   one JSON object (ParseExportSummary)
//   AWSDynamoDB/<export id>/manifest-files.json     JSON Lines, one per data file
//                                                   (ParseManifestFiles)
//   AWSDynamoDB/<export id>/data/<name>.json.gz     gzip JSON Lines: full exports
//       {"Item": {...}}; incremental exports {"Metadata": {"WriteTimestampMicros":
//       {"N": ...}}, "Keys": {...}, "NewImage": {...}?, "OldImage": {...}?}
//
// Records: a full export's item is an INSERT of its image at the export time; an
// incremental line is an INSERT (NewImage only), MODIFY (NewImage and OldImage) or REMOVE
// (no NewImage) at its write time (microseconds kept as fractional seconds). With a
// NEW_IMAGE export view an update has no OldImage and reads as an INSERT. Records carry
// eventID "<export id>:<file>:<line>" (deterministic: the same line is the same record
// on every run) and no SequenceNumber (an export has none).
//
// Parsers take untrusted input: errors are INVALID_ARGUMENT naming the field (and the
// line). ION exports are refused with how to export as DYNAMODB_JSON. Pure; thread-safe.
#ifndef LAKEHOSE_CORE_BACKFILL_EXPORT_FORMAT_H_
#define LAKEHOSE_CORE_BACKFILL_EXPORT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose::backfill {

enum class ExportType { kFull, kIncremental };

struct ExportSummary {
  std::string export_arn;
  std::string table_arn;
  std::string manifest_files_key;  // manifestFilesS3Key
  ExportType type = ExportType::kFull;
  int64_t item_count = 0;
  // The time the export's items are as of (exportTime, or an incremental export's
  // exportToTime), ms since the epoch.
  int64_t export_time_ms = 0;
  // The id in the ARN (…/export/<id>), used to name records.
  std::string ExportId() const;
};
absl::StatusOr<ExportSummary> ParseExportSummary(std::string_view json);

struct ExportDataFile {
  std::string key;         // dataFileS3Key, relative to the bucket
  int64_t item_count = 0;  // itemCount
  std::string md5_base64;  // md5Checksum: of the gzip file as stored
  std::string etag;
};
// manifest-files.json. Every line must name a data file under "/data/" with a count
// and an MD5 (checked before anything is read from it).
absl::StatusOr<std::vector<ExportDataFile>> ParseManifestFiles(std::string_view json_lines);

// The stream record of line `line_number` (1-based) of data file `file_index` of the
// export (see the top). INVALID_ARGUMENT (naming the line) for a line that is not an
// export line of `type`.
absl::StatusOr<std::string> ExportLineToStreamRecord(std::string_view line, ExportType type,
                                                     const ExportSummary& summary,
                                                     size_t file_index, size_t line_number);

}  // namespace lakehose::backfill

#endif  // LAKEHOSE_CORE_BACKFILL_EXPORT_FORMAT_H_
