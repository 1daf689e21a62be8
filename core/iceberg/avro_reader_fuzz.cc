// Fuzz target for the Avro container reader and the manifest decoders on top of it:
// arbitrary bytes as a container file. They must not crash, must end in bounded time and
// memory (kAvroMaxDepth, kAvroMaxBlockBytes, kAvroMaxZeroSizeValues), and may only refuse
// with INVALID_ARGUMENT or UNIMPLEMENTED (an unsupported codec).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/iceberg/avro.h"
#include "core/iceberg/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto file = lakehose::iceberg::ReadAvroContainer(bytes);
  if (!file.ok()) {
    const absl::StatusCode code = file.status().code();
    if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kUnimplemented)
      std::abort();
    return 0;
  }
  lakehose::iceberg::ManifestContext context;
  (void)lakehose::iceberg::DecodeManifest(bytes, &context);
  (void)lakehose::iceberg::DecodeManifestList(bytes);
  return 0;
}
