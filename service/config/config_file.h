// Loading the YAML config from disk (the I/O half of core/config/config.h): reads the file and
// resolves named time zones from the system's tz database. Used by the server and the
// CLI's offline transform.
#ifndef LAKEHOSE_SERVICE_CONFIG_CONFIG_FILE_H_
#define LAKEHOSE_SERVICE_CONFIG_CONFIG_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/config/config.h"

namespace lakehose {

// The TimeZoneLoader that reads the system's tz database (Debian package tzdata).
TimeZoneLoader SystemTimeZoneLoader();
// Reads and validates a config file. Errors name the file, key path and reason.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);
// The embedded defaults (`lakehose-server` with no --config).
absl::StatusOr<Config> LoadEmbeddedConfig();

// The start-up checks that need the file system (README "Start-up checks"), for the
// server (the CLI's offline transform writes no lake): the path of every `kind: file`
// destination is a directory (created when missing, as the file lake would) in which a
// file can be created and removed (a hidden probe, `.lakehose-probe-<pid>.tmp`). Errors
// are FAILED_PRECONDITION naming `filename` (the config file, as in ParseConfig's
// errors), the key path and the reason:
//   cfg.yaml: pipelines[0].destination.path: /srv/lake is not a directory (...)
absl::Status CheckLakePaths(const Config& config, std::string_view filename);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_CONFIG_CONFIG_FILE_H_
