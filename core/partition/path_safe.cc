#include "core/partition/path_safe.h"

#include <array>
#include <cstdint>

namespace lakehose {
namespace {

constexpr std::array<uint8_t, 256> MakeEscapeTable() {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 0x20; ++i) t[i] = 1;
  t[0x7F] = 1;
  for (unsigned char c : std::string_view("\"#%'*/:=?\\{[]^")) t[c] = 1;
  return t;
}
constexpr std::array<uint8_t, 256> kEscape = MakeEscapeTable();
constexpr char kHex[] = "0123456789ABCDEF";

}  // namespace

void AppendPathSafe(std::string_view value, std::string* out) {
  if (value.empty()) {
    out->append(kHiveDefaultPartition);
    return;
  }
  if (value == "." || value == "..") {
    for (size_t i = 0; i < value.size(); ++i) out->append("%2E");
    return;
  }
  // Runs of bytes that need no escaping are appended whole (most values are one run).
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (!kEscape[c]) continue;
    out->append(value.data() + run, i - run);
    const char esc[3] = {'%', kHex[c >> 4], kHex[c & 0xF]};
    out->append(esc, 3);
    run = i + 1;
  }
  out->append(value.data() + run, value.size() - run);
}

std::string PathSafe(std::string_view value) {
  std::string out;
  AppendPathSafe(value, &out);
  return out;
}

}  // namespace lakehose
