// ExportReader: a DynamoDB export to S3 (full or incremental, DYNAMODB_JSON) read from
// where it is stored, through an ObjectSink that can Get, rooted at the export's directory
// (the one holding manifest-summary.json: `AWSDynamoDB/<export id>/` in the export's
// bucket, or a local copy of it). Every data file is checked against manifest-files.json
// (the MD5 of its bytes as stored, then its item count) before any of its records is
// handed on, so a damaged or truncated file stops the backfill naming the file, with
// nothing of it written (issue 16; the command around it is not written yet).
//
//   ExportReader export_dir(sink);
//   RETURN_IF_ERROR(export_dir.Open());
//   for (size_t i = 0; i < export_dir.files().size(); ++i) {
//     ASSIGN_OR_RETURN(std::vector<std::string> records, export_dir.ReadFile(i));
//     ... each a DynamoDB Streams record for the pipeline's transform ...
//   }
//
// Open is not thread-safe; once it returned, ReadFile may run on several threads at once
// (it reads the manifests' lists only).
#ifndef LAKEHOSE_SERVICE_BACKFILL_EXPORT_READER_H_
#define LAKEHOSE_SERVICE_BACKFILL_EXPORT_READER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/backfill/export_format.h"
#include "service/delivery/object_sink.h"

namespace lakehose {

class ExportReader {
 public:
  explicit ExportReader(ObjectSink& export_dir) : dir_(export_dir) {}

  // Reads manifest-summary.json and manifest-files.json. INVALID_ARGUMENT for a manifest
  // that is not one (ION exports included), NOT_FOUND when there is none, DATA_LOSS when
  // the files' counts do not add up to the summary's itemCount.
  absl::Status Open();
  const backfill::ExportSummary& summary() const { return summary_; }
  const std::vector<backfill::ExportDataFile>& files() const { return files_; }

  // The stream records of data file `index` (manifest order), after checking its MD5 and
  // item count: DATA_LOSS naming the file on a mismatch (nothing returned), and for a line
  // that is not an export line (INVALID_ARGUMENT naming the file and line).
  // Adds the bytes read (the file as stored) to *bytes_read when given.
  absl::StatusOr<std::vector<std::string>> ReadFile(size_t index, int64_t* bytes_read = nullptr);

  // The key of a manifest's data file under the export directory ("data/<name>").
  static std::string RelativeKey(const std::string& manifest_key);

 private:
  ObjectSink& dir_;
  backfill::ExportSummary summary_;
  std::vector<backfill::ExportDataFile> files_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_BACKFILL_EXPORT_READER_H_
