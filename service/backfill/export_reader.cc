#include "service/backfill/export_reader.h"

#include "core/base/compress.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "service/s3/s3_client.h"

namespace lakehose {
namespace {

// A data file's lines once inflated (DynamoDB writes files of about 100 MB or less of
// JSON before compression); larger is damage, not an export.
constexpr size_t kMaxInflatedBytes = size_t{2} << 30;

}  // namespace

std::string ExportReader::RelativeKey(const std::string& manifest_key) {
  const size_t at = manifest_key.rfind("/data/");
  return at == std::string::npos ? manifest_key : manifest_key.substr(at + 1);
}

absl::Status ExportReader::Open() {
  absl::StatusOr<std::string> summary = dir_.Get("manifest-summary.json");
  if (!summary.ok())
    return absl::Status(
        summary.status().code(),
        StrCat(dir_.Uri("manifest-summary.json"), ": ", StatusMessage(summary.status()),
               " (give the export's directory: .../AWSDynamoDB/<export id>/)"));
  ASSIGN_OR_RETURN(summary_, backfill::ParseExportSummary(*summary));
  absl::StatusOr<std::string> files = dir_.Get("manifest-files.json");
  if (!files.ok())
    return absl::Status(files.status().code(), StrCat(dir_.Uri("manifest-files.json"), ": ",
                                                      StatusMessage(files.status())));
  ASSIGN_OR_RETURN(files_, backfill::ParseManifestFiles(*files));
  int64_t total = 0;
  for (const backfill::ExportDataFile& f : files_) total += f.item_count;
  if (total != summary_.item_count)
    return absl::DataLossError(StrCat("the export's data files hold ", total,
                                      " items by manifest-files.json, manifest-summary.json says ",
                                      summary_.item_count));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ExportReader::ReadFile(size_t index, int64_t* bytes_read) {
  if (index >= files_.size())
    return absl::OutOfRangeError(StrCat("data file ", index, " of ", files_.size()));
  const backfill::ExportDataFile& f = files_[index];
  const std::string key = RelativeKey(f.key);
  const std::string where = dir_.Uri(key);
  ASSIGN_OR_RETURN(std::string bytes, dir_.Get(key));
  if (bytes_read != nullptr) *bytes_read += static_cast<int64_t>(bytes.size());
  const std::string md5 = ContentMd5(bytes);
  if (md5 != f.md5_base64)
    return absl::DataLossError(StrCat(where, ": MD5 ", md5, " but manifest-files.json says ",
                                      f.md5_base64, " (damaged or not this export's file)"));
  // An empty object is an empty data file (a partition with no items; AWS writes those
  // too), not a damaged gzip stream.
  absl::StatusOr<std::string> text =
      bytes.empty() ? std::string() : Decompress(Compression::kGzip, bytes, kMaxInflatedBytes);
  if (!text.ok())
    return absl::DataLossError(StrCat(where, ": not gzip: ", StatusMessage(text.status())));
  std::vector<std::string> records;
  std::string_view rest = *text;
  size_t line_number = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_number;
    if (TrimAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<std::string> r =
        backfill::ExportLineToStreamRecord(line, summary_.type, summary_, index, line_number);
    if (!r.ok())
      return absl::Status(r.status().code(), StrCat(where, ": ", StatusMessage(r.status())));
    records.push_back(*std::move(r));
  }
  if (static_cast<int64_t>(records.size()) != f.item_count)
    return absl::DataLossError(
        StrCat(where, ": ", records.size(), " items, manifest-files.json says ", f.item_count));
  return records;
}

}  // namespace lakehose
