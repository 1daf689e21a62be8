// Fuzz target for the REST catalog's answers (untrusted: any server, proxy or gateway):
// the config, table, error and token responses, and S3 Tables' API answers. Each parser refuses
// with INVALID_ARGUMENT or returns; an error body always gives a non-empty message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/catalog/rest_protocol.h"
#include "core/catalog/s3tables_protocol.h"
#include "testing/fuzz_status.h"

namespace {

constexpr auto CheckStatus = lakehose::AbortUnlessOkOrInvalidArgument;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace c = lakehose::catalog;
  absl::StatusOr<c::CatalogConfig> config = c::ParseCatalogConfig(text);
  CheckStatus(config.status());
  if (config.ok()) (void)config->Prefix();
  CheckStatus(c::ParseLoadTableResult(text).status());
  CheckStatus(c::ParseTokenResponse(text).status());
  if (c::ParseCatalogError(500, text).message.empty()) std::abort();
  (void)c::ParseOAuthError(401, text);
  CheckStatus(c::ParseS3TablesMetadataLocation(text).status());
  if (c::ParseS3TablesError(409, "ConflictException:x", text).message.empty()) std::abort();
  return 0;
}
