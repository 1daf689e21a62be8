// ParseFlags: the one command-line flag parser of the `lakehose` CLI and of
// lakehose-server. A caller declares its flags, hands over argv, and gets either every
// value given or one error naming the offending argument; printing usage or errors and
// choosing exit codes stay with the caller.
//
//   constexpr Flag kFlags[] = {{.name = "config", .needs = "a file"},
//                              {.name = "verbose", .type = FlagType::kBool}};
//   ASSIGN_OR_RETURN(ParsedFlags flags, ParseFlags(kFlags, ArgsOf(argc, argv, 1)));
//   if (flags.stopped_at() == "help") ...
//
// Syntax: "--name VALUE" or "--name=VALUE" for value flags; "--name" alone for booleans.
// In the spaced form the next argument is the value even when it starts with '-', so
// "--input -" (stdin) works. A value flag given more than once keeps every value (for
// "--id A --id B"); get() returns the last one. There are no positional arguments.
// "--help" and "-h" are always known: they stop parsing, like a kStop flag named "help",
// so "--help" before a bad flag still prints the usage, and after it the error wins.
//
// Each Flag also carries its --help text, and AppendFlagHelp renders the options section
// from the same declarations that ParseFlags parses, so the two cannot disagree.
//
// Pure (no I/O). ParsedFlags is a value; thread-compatible.
#ifndef LAKEHOSE_CORE_BASE_FLAGS_H_
#define LAKEHOSE_CORE_BASE_FLAGS_H_

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose {

enum class FlagType {
  kValue,  // --name VALUE or --name=VALUE
  kBool,   // --name; "--name=VALUE" is an error
  kStop,   // --name; parsing ends there: the command does this one thing and exits
};

struct Flag {
  std::string_view name;  // without the leading "--"
  FlagType type = FlagType::kValue;
  // Completes "--NAME needs ..." when the value is missing.
  std::string_view needs = "a value";
  // When not empty, the only values accepted; a missing or other value is the error
  // "--NAME must be A, B or C".
  std::span<const std::string_view> choices = {};
  // For --help (AppendFlagHelp): the value's placeholder ("FILE", "HOST:PORT"; for a flag
  // with choices, "" shows them as A|B) and what the flag does, continuation lines after
  // '\n'.
  std::string_view value = "";
  std::string_view help = "";
};

// What ParseFlags found, by flag name (without "--").
class ParsedFlags {
 public:
  // The flag was given (a boolean, or a value flag with any value, "" included).
  bool has(std::string_view name) const;
  // The last value given, else `fallback`.
  std::string get(std::string_view name, std::string_view fallback = "") const;
  // Every value given, in order (empty if none).
  const std::vector<std::string>& list(std::string_view name) const;
  // The kStop flag that ended parsing ("help" for --help and -h), else "". Flags after
  // it were not looked at.
  const std::string& stopped_at() const { return stopped_at_; }

 private:
  friend absl::StatusOr<ParsedFlags> ParseFlags(std::span<const Flag> flags,
                                                std::span<const std::string_view> args);
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::string stopped_at_;
};

// Parses `args` (argv without the program name and any command words) by `flags`.
// Errors name the argument as given: NotFoundError "unknown option --x" for a flag not in
// `flags` (or a positional argument); InvalidArgumentError "--x needs a value" (see
// Flag::needs), "--x takes no value" or "--x must be A or B" for a bad use of a known one.
absl::StatusOr<ParsedFlags> ParseFlags(std::span<const Flag> flags,
                                       std::span<const std::string_view> args);

// Appends the options section of a --help text: one entry per flag, in order, then --help
// (which every parser knows), so that no usage can lack one:
//   "  --target HOST:PORT   the server (required)\n"
// Help starts at column 23, on the next line when the name and value are longer.
void AppendFlagHelp(std::span<const Flag> flags, std::string* out);

// argv[first..argc) as string_views, for ParseFlags.
std::vector<std::string_view> ArgsOf(int argc, const char* const* argv, int first);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_FLAGS_H_
