// Fuzz target for DynamoDB export files (untrusted: a bucket anyone may have written):
// manifest-summary.json, manifest-files.json and data lines of both export types. Each
// parser refuses with INVALID_ARGUMENT or returns; a converted line is a JSON object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/backfill/export_format.h"
#include "simdjson.h"
#include "testing/fuzz_status.h"

namespace {

constexpr auto CheckStatus = lakehose::AbortUnlessOkOrInvalidArgument;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace b = lakehose::backfill;
  CheckStatus(b::ParseExportSummary(text).status());
  CheckStatus(b::ParseManifestFiles(text).status());
  b::ExportSummary summary;
  summary.export_arn = "arn:x/export/e";
  summary.export_time_ms = 1700000000000;
  for (b::ExportType type : {b::ExportType::kFull, b::ExportType::kIncremental}) {
    absl::StatusOr<std::string> r = b::ExportLineToStreamRecord(text, type, summary, 0, 1);
    CheckStatus(r.status());
    if (r.ok()) {
      simdjson::dom::parser p;
      simdjson::dom::object o;
      if (p.parse(*r).get_object().get(o) != simdjson::SUCCESS) std::abort();
    }
  }
  return 0;
}
