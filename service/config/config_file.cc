#include "service/config/config_file.h"

#include <fstream>
#include <sstream>

#include "core/base/strings.h"

namespace lakehose {

TimeZoneLoader SystemTimeZoneLoader() {
  return [](const std::string& name) -> absl::StatusOr<absl::TimeZone> {
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(name, &tz))
      return absl::InvalidArgumentError(
          StrCat("unknown time zone \"", name, "\" (is the tzdata package installed?)"));
    return tz;
  };
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot open config file"));
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path, SystemTimeZoneLoader());
}

absl::StatusOr<Config> LoadEmbeddedConfig() {
  return ParseConfig(EmbeddedDefaultConfigYaml(), "(embedded defaults)", SystemTimeZoneLoader());
}

}  // namespace lakehose
