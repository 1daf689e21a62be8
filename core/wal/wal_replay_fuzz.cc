// Fuzz target for WAL replay: arbitrary bytes as segment number 1. The reader must not
// crash, must end in a bounded number of steps, and must account for every byte once:
// frames and damaged stretches tile the segment (after its header) in order, every frame
// it accepts decodes or is refused cleanly, and a count of what damage lost is never
// negative.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/wal/wal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view segment(reinterpret_cast<const char*>(data), size);
  lakehose::WalReader reader(segment, 1);
  size_t offset = reader.offset();
  if (offset > size) std::abort();
  lakehose::WalFrame frame;
  lakehose::WalDamage damage;
  // Each step consumes at least one byte, so size + 2 steps always suffice.
  for (size_t steps = 0;; ++steps) {
    if (steps > size + 2) std::abort();
    const lakehose::WalReader::Result r = reader.Next(&frame, &damage);
    if (r == lakehose::WalReader::Result::kEnd) break;
    if (r == lakehose::WalReader::Result::kDamage) {
      if (damage.begin != offset || damage.end <= damage.begin || damage.end > size) std::abort();
      if (damage.tail != (damage.end == size && reader.offset() == size)) std::abort();
      if (damage.frames_lost < -1 || damage.records_lost < -1) std::abort();
      if (reader.format() == 1 && (damage.frames_lost != -1 || damage.records_lost != -1))
        std::abort();
      offset = damage.end;
      continue;
    }
    const size_t header =
        reader.format() == 1 ? lakehose::kWalV1FrameHeader : lakehose::kWalFrameHeader;
    if (frame.end != offset + header + frame.payload.size() || frame.end > size ||
        frame.payload.data() != segment.data() + offset + header)
      std::abort();
    offset = frame.end;
    lakehose::WalAccept a;
    lakehose::WalSeal s;
    std::string_view key;
    switch (frame.type) {
      case lakehose::WalType::kAccept:
        (void)lakehose::DecodeWalAccept(frame.payload, &a);
        break;
      case lakehose::WalType::kSeal:
        (void)lakehose::DecodeWalSeal(frame.payload, &s);
        break;
      default:
        (void)lakehose::DecodeWalKey(frame.payload, &key);
        break;
    }
  }
  if (offset != size && !segment.empty()) std::abort();
  return 0;
}
