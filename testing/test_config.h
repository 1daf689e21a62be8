// Configurations for tests: ParseConfig (core/config/config.h) with one time-zone loader,
// absl's (the tz database under /usr/share/zoneinfo, UTC always), so a test states only
// its YAML.
#ifndef LAKEHOSE_TESTING_TEST_CONFIG_H_
#define LAKEHOSE_TESTING_TEST_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/base/strings.h"
#include "core/config/config.h"

namespace lakehose {

// The TimeZoneLoader of tests.
inline absl::StatusOr<absl::TimeZone> TestTimeZone(const std::string& name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz))
    return absl::NotFoundError(StrCat("unknown time zone \"", name, "\""));
  return tz;
}

// `yaml` parsed as if read from a file named `filename`.
inline absl::StatusOr<Config> ParseTestConfig(std::string_view yaml,
                                              std::string_view filename = "test.yaml") {
  return ParseConfig(yaml, filename, TestTimeZone);
}

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_TEST_CONFIG_H_
