#include "service/config/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

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

namespace {

// Creates and removes a hidden file in `dir`: the file lake writes its objects through
// temporary files beside them (service/delivery/file_sink.cc), so this is what it needs.
absl::Status ProbeWritable(const std::string& dir) {
  const std::string probe = StrCat(dir, "/.lakehose-probe-", ::getpid(), ".tmp");
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(probe.c_str(), kFlags, 0600);
  if (fd < 0 && errno == EEXIST) {  // left by a crash of an earlier process with this pid
    ::unlink(probe.c_str());
    fd = ::open(probe.c_str(), kFlags, 0600);
  }
  if (fd < 0)
    return absl::FailedPreconditionError(
        StrCat("cannot create a file in ", dir, ": ", ::strerror(errno)));
  ::close(fd);
  if (::unlink(probe.c_str()) != 0)
    return absl::FailedPreconditionError(
        StrCat("cannot remove a file from ", dir, ": ", ::strerror(errno)));
  return absl::OkStatus();
}

absl::Status CheckLakePath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    return absl::FailedPreconditionError(
        StrCat(path, " is not a directory (the file lake writes objects under it)"));
  if (!fs::exists(st)) {
    ec.clear();
    fs::create_directories(path, ec);
    if (ec)
      return absl::FailedPreconditionError(
          StrCat("cannot create the directory ", path, ": ", ec.message()));
  }
  return ProbeWritable(path);
}

}  // namespace

absl::Status CheckLakePaths(const Config& config, std::string_view filename) {
  for (size_t i = 0; i < config.pipelines.size(); ++i) {
    const DestinationSpec& d = config.pipelines[i]->destination;
    if (d.kind != DestinationKind::kFile) continue;
    if (absl::Status st = CheckLakePath(d.path); !st.ok())
      return absl::Status(st.code(), StrCat(filename, ": pipelines[", i,
                                            "].destination.path: ", StatusMessage(st)));
  }
  return absl::OkStatus();
}

}  // namespace lakehose
