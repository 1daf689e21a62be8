// Fuzz target for WAL replay: arbitrary bytes as a segment. The reader must stop at the
// first damaged frame without crashing, and every frame it accepts must decode or be
// refused cleanly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/wal/wal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view segment(reinterpret_cast<const char*>(data), size);
  lakehose::WalReader reader(segment);
  lakehose::WalType type;
  std::string_view payload;
  size_t last_offset = 0;
  while (reader.Next(&type, &payload) == lakehose::WalReader::Result::kFrame) {
    if (reader.offset() <= last_offset || reader.offset() > size) std::abort();
    last_offset = reader.offset();
    lakehose::WalAccept a;
    lakehose::WalSeal s;
    std::string_view key;
    switch (type) {
      case lakehose::WalType::kAccept:
        (void)lakehose::DecodeWalAccept(payload, &a);
        break;
      case lakehose::WalType::kSeal:
        (void)lakehose::DecodeWalSeal(payload, &s);
        break;
      default:
        (void)lakehose::DecodeWalKey(payload, &key);
        break;
    }
  }
  return 0;
}
