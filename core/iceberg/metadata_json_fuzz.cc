// Fuzz target for the table metadata parser: arbitrary bytes as a metadata JSON file
// (another writer's, or one damaged on disk). Parsing must refuse with INVALID_ARGUMENT or
// return metadata whose JSON parses again to the same text (write -> read -> write is a
// fixed point); the same for a standalone schema, and version-hint.text must parse only
// to a number that prints back as its trimmed text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/iceberg/metadata_json.h"
#include "testing/fuzz_status.h"

namespace {

using namespace lakehose::iceberg;  // NOLINT: a fuzz target's local shorthand

constexpr auto CheckStatus = lakehose::AbortUnlessOkOrInvalidArgument;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<TableMetadata> m = ParseTableMetadata(text);
  CheckStatus(m.status());
  if (m.ok()) {
    const std::string once = TableMetadataToJson(*m);
    absl::StatusOr<TableMetadata> again = ParseTableMetadata(once);
    if (!again.ok() || TableMetadataToJson(*again) != once) std::abort();
  }

  absl::StatusOr<Schema> s = ParseSchemaJson(text);
  CheckStatus(s.status());
  if (s.ok()) {
    const std::string once = SchemaToJson(*s);
    absl::StatusOr<Schema> again = ParseSchemaJson(once);
    if (!again.ok() || SchemaToJson(*again) != once) std::abort();
  }

  absl::StatusOr<int64_t> v = ParseVersionHint(text);
  CheckStatus(v.status());
  if (v.ok()) {
    std::string want = "v";
    want.append(std::to_string(*v)).append(".metadata.json");
    if (MetadataFileName(*v) != want) std::abort();
  }
  return 0;
}
