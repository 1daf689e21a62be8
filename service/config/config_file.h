// Loading the YAML config from disk (the I/O half of core/config/config.h): reads the file and
// resolves named time zones from the system's tz database. Used by the server and the
// CLI's offline transform.
#ifndef LAKEHOSE_SERVICE_CONFIG_CONFIG_FILE_H_
#define LAKEHOSE_SERVICE_CONFIG_CONFIG_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/config/config.h"

namespace lakehose {

// The TimeZoneLoader that reads the system's tz database (Debian package tzdata).
TimeZoneLoader SystemTimeZoneLoader();
// Reads and validates a config file. Errors name the file, key path and reason.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);
// The embedded defaults (`lakehose-server` with no --config).
absl::StatusOr<Config> LoadEmbeddedConfig();

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CONFIG_CONFIG_FILE_H_
