#include "core/base/flags.h"

#include <optional>

#include "core/base/strings.h"

namespace lakehose {
namespace {

// "A", "A or B", "A, B or C".
std::string OneOf(std::span<const std::string_view> choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out.append(i + 1 == choices.size() ? " or " : ", ");
    out.append(choices[i]);
  }
  return out;
}

const Flag* Find(std::span<const Flag> flags, std::string_view name) {
  for (const Flag& flag : flags)
    if (flag.name == name) return &flag;
  return nullptr;
}

}  // namespace

bool ParsedFlags::has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::string ParsedFlags::get(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(name);
  return std::string(it == values_.end() || it->second.empty() ? fallback : it->second.back());
}

const std::vector<std::string>& ParsedFlags::list(std::string_view name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

absl::StatusOr<ParsedFlags> ParseFlags(std::span<const Flag> flags,
                                       std::span<const std::string_view> args) {
  static constexpr Flag kHelp = {.name = "help", .type = FlagType::kStop};
  ParsedFlags parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const Flag* flag = nullptr;
    std::optional<std::string_view> inline_value;  // from "--name=VALUE"
    if (arg == "-h") {
      flag = &kHelp;
    } else if (arg.starts_with("--")) {
      std::string_view name = arg.substr(2);
      if (const size_t eq = name.find('='); eq != std::string_view::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      flag = name == kHelp.name ? &kHelp : Find(flags, name);
    }
    if (flag == nullptr) return absl::NotFoundError(StrCat("unknown option ", arg));
    const std::string dashed = StrCat("--", flag->name);
    if (flag->type != FlagType::kValue) {
      if (inline_value) return absl::InvalidArgumentError(StrCat(dashed, " takes no value"));
      if (flag->type == FlagType::kStop) {
        parsed.stopped_at_ = std::string(flag->name);
        return parsed;
      }
      parsed.values_[std::string(flag->name)].push_back("true");
      continue;
    }
    std::optional<std::string_view> value = inline_value;
    if (!value && i + 1 < args.size()) value = args[++i];
    if (!flag->choices.empty()) {
      bool listed = false;
      for (std::string_view choice : flag->choices) listed |= value == choice;
      if (!listed)
        return absl::InvalidArgumentError(StrCat(dashed, " must be ", OneOf(flag->choices)));
    }
    if (!value) return absl::InvalidArgumentError(StrCat(dashed, " needs ", flag->needs));
    parsed.values_[std::string(flag->name)].emplace_back(*value);
  }
  return parsed;
}

void AppendFlagHelp(std::span<const Flag> flags, std::string* out) {
  constexpr size_t kHelpColumn = 23;
  auto entry = [out](std::string_view name, std::string_view value, std::string_view help) {
    const size_t begin = out->size();
    StrAppend(out, "  --", name);
    if (!value.empty()) StrAppend(out, " ", value);
    const size_t width = out->size() - begin;
    if (width + 2 <= kHelpColumn) {
      out->append(kHelpColumn - width, ' ');
    } else {
      out->push_back('\n');
      out->append(kHelpColumn, ' ');
    }
    for (size_t pos = 0;;) {
      const size_t nl = help.find('\n', pos);
      out->append(help.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
      out->push_back('\n');
      if (nl == std::string_view::npos) break;
      out->append(kHelpColumn, ' ');
      pos = nl + 1;
    }
  };
  for (const Flag& flag : flags) {
    std::string value(flag.value);
    if (value.empty() && !flag.choices.empty()) {
      for (std::string_view choice : flag.choices)
        StrAppend(&value, value.empty() ? "" : "|", choice);
    }
    entry(flag.name, flag.type == FlagType::kValue ? std::string_view(value) : "", flag.help);
  }
  entry("help", "", "this text");
}

std::vector<std::string_view> ArgsOf(int argc, const char* const* argv, int first) {
  std::vector<std::string_view> args;
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
  return args;
}

}  // namespace lakehose
