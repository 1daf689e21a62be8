#include "client/cli/flags.h"

#include <cstdio>
#include <iterator>
#include <vector>

#include "client/cli/common.h"
#include "core/base/strings.h"

namespace lakehose::cli {

std::optional<int> ParseCommandFlags(const CommandFlags& command, int argc, char** argv, int first,
                                     ParsedFlags* out) {
  std::vector<Flag> flags(command.flags.begin(), command.flags.end());
  if (command.connection)
    flags.insert(flags.end(), std::begin(kConnectionFlags), std::end(kConnectionFlags));
  absl::StatusOr<ParsedFlags> parsed = ParseFlags(flags, ArgsOf(argc, argv, first));
  if (!parsed.ok()) return UsageError(StatusMessage(parsed.status()));
  if (parsed->stopped_at() == "help") {
    std::string usage(command.usage);
    usage.append("\noptions:\n");
    AppendFlagHelp(flags, &usage);
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return 0;
  }
  *out = *std::move(parsed);
  return std::nullopt;
}

bool AnyConnectionFlag(const ParsedFlags& flags) {
  for (const Flag& flag : kConnectionFlags)
    if (flags.has(flag.name)) return true;
  return false;
}

bool ParseCount(const std::string& text, int64_t lo, int64_t* out) {
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size() || v < lo) return false;
    *out = v;
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace lakehose::cli
