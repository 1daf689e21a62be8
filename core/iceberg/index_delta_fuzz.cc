// Fuzz target for what a current-state table reads back from its files and its key index:
// an index delta (DecodeIndexDelta), a key index entry (DecodeKeyState), partition values
// (DecodePartition) and a transformed document's change (ReadDocumentChange). Arbitrary
// bytes must not crash and may only be refused: DATA_LOSS for a delta, INVALID_ARGUMENT
// for the others; what decodes encodes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/iceberg/current_state.h"

namespace ice = lakehose::iceberg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto delta = ice::DecodeIndexDelta(bytes);
  if (!delta.ok() && delta.status().code() != absl::StatusCode::kDataLoss) std::abort();
  if (delta.ok() && ice::EncodeIndexDelta(*delta) != bytes) std::abort();
  auto state = ice::DecodeKeyState(bytes);
  if (!state.ok() && state.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  auto partition = ice::DecodePartition(bytes);
  if (!partition.ok() && partition.status().code() != absl::StatusCode::kInvalidArgument)
    std::abort();
  if (partition.ok()) {
    auto again = ice::DecodePartition(ice::EncodePartition(*partition));
    if (!again.ok() || again->size() != partition->size()) std::abort();
  }
  auto change = ice::ReadDocumentChange(bytes, {"pk", "sk"});
  if (!change.ok() && change.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  return 0;
}
