// lakehose-server: serves the lakehose gRPC API.
//
//   lakehose-server [--config FILE] [--listen HOST:PORT] [--port-file PATH]
//                   [--metrics-listen HOST:PORT] [--metrics-port-file PATH]
//                   [--log-format json|text] [--print-default-config]
//
// Flags are parsed by core/base/flags.h, as the CLI's are.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/base/flags.h"
#include "core/base/host_port.h"
#include "core/base/strings.h"
#include "service/config/config_file.h"
#include "service/platform/log.h"
#include "service/rpc/library_logs.h"
#include "service/rpc/server.h"

namespace {

constexpr char kUsage[] = R"(usage: lakehose-server [options]

Serves the lakehose gRPC API (lakehose.v1.Transformer, lakehose.v1.Ingestor,
lakehose.v1.DeadLetters, lakehose.v1.ServerStatus, grpc.health.v1, reflection).
)";

constexpr std::string_view kLogFormats[] = {"json", "text"};
constexpr lakehose::Flag kFlags[] = {
    {.name = "config",
     .needs = "a file",
     .value = "FILE",
     .help = "pipeline configuration (YAML); without it the embedded demo\n"
             "pipeline `demo` runs (see `lakehose-server --print-default-config`)"},
    {.name = "listen",
     .needs = "HOST:PORT",
     .value = "HOST:PORT",
     .help = "overrides server.grpc_listen (port 0 picks a free port)"},
    {.name = "port-file",
     .needs = "a path",
     .value = "PATH",
     .help = "write the bound port to PATH once serving"},
    {.name = "metrics-listen",
     .needs = "HOST:PORT (or \"\" for none)",
     .value = "HOST:PORT",
     .help = "overrides server.metrics_listen, where Prometheus scrapes\n"
             "/metrics (port 0 picks a free port; \"\" turns it off)"},
    {.name = "metrics-port-file",
     .needs = "a path",
     .value = "PATH",
     .help = "write the bound metrics port to PATH once serving"},
    {.name = "log-format", .choices = kLogFormats, .help = "json (default) or text"},
    {.name = "print-default-config",
     .type = lakehose::FlagType::kStop,
     .help = "print the embedded configuration and exit"},
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "lakehose-server: %s\n", message.c_str());
  return 2;
}

bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Raises the soft descriptor limit to the hard one (README "Limits"): the default soft
// limit (often 1024) is what idle clients exhaust first. Logged either way, with what
// the server now has; the gRPC connection cap is derived from it.
void RaiseDescriptorLimit() {
  using lakehose::Log;
  using lakehose::LogLevel;
  using lakehose::StrCat;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = before;
  }
  auto text = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : StrCat(v); };
  Log(LogLevel::kInfo, "server.descriptor_limit",
      {{"soft", text(rl.rlim_cur)}, {"hard", text(rl.rlim_max)}, {"was", text(before)}});
}

// glibc gives each thread that contends for the allocator an arena of its own, up to 8
// per core; the server's threads (gRPC, 16 Ingest workers, upload and DLQ threads) then
// keep freed memory in many arenas, and RSS stays far above what is in use after a
// burst. Measured by durability.outage_load (64 MB buffer budget, 8 senders): peak RSS
// 218-229 MB with the default, 171 MB with MALLOC_ARENA_MAX=2. One arena per core keeps
// allocation uncontended (at most that many threads run at once). MALLOC_ARENA_MAX in
// the environment still wins (glibc reads it itself; we leave it alone then).
void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    ::mallopt(M_ARENA_MAX, static_cast<int>(std::clamp<long>(cores, 2, 64)));
  }
  // Objects (buffer_size_mb, 64 by default) and their encodings are large blocks: with a
  // fixed threshold they are always mapped and unmapped, so their memory goes back to
  // the system when freed. glibc's default threshold rises after each large free (up to
  // 32 MiB), after which such blocks come from the heap and stay resident.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lakehose;
  LimitMallocArenas();
  absl::StatusOr<ParsedFlags> flags = ParseFlags(kFlags, ArgsOf(argc, argv, 1));
  if (!flags.ok()) {
    const std::string_view message = StatusMessage(flags.status());
    return Fail(absl::IsNotFound(flags.status()) ? StrCat(message, " (see --help)")
                                                 : std::string(message));
  }
  if (flags->stopped_at() == "help") {
    std::string usage = StrCat(kUsage, "\noptions:\n");
    AppendFlagHelp(kFlags, &usage);
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return 0;
  }
  if (flags->stopped_at() == "print-default-config") {
    std::fwrite(EmbeddedDefaultConfigYaml().data(), 1, EmbeddedDefaultConfigYaml().size(), stdout);
    return 0;
  }
  if (flags->has("log-format"))
    SetLogFormat(flags->get("log-format") == "text" ? LogFormat::kText : LogFormat::kJson);
  RouteLibraryLogsToLog();  // protobuf's and gRPC's lines in the same format
  const std::string config_path = flags->get("config");
  std::string listen = flags->get("listen");
  const std::string port_file = flags->get("port-file");
  const std::string metrics_port_file = flags->get("metrics-port-file");

  // Start-up checks (README "Start-up checks"): the addresses given as flags are read as
  // the config's are (core/base/host_port.h); "" turns the metrics endpoint off.
  for (const std::string_view flag : {"listen", "metrics-listen"}) {
    const std::string value = flags->get(flag);
    if (!flags->has(flag) || (value.empty() && flag == "metrics-listen")) continue;
    if (auto parsed = ParseHostPort(value); !parsed.ok())
      return Fail(StrCat("--", flag, " ", value, ": ", StatusMessage(parsed.status())));
  }
  absl::StatusOr<Config> config =
      config_path.empty() ? LoadEmbeddedConfig() : LoadConfigFile(config_path);
  if (!config.ok()) return Fail(std::string(StatusMessage(config.status())));
  // The file lakes: directories that take a file, or start-up stops (not delivery later).
  if (absl::Status st =
          CheckLakePaths(*config, config_path.empty() ? "(embedded defaults)" : config_path);
      !st.ok())
    return Fail(std::string(StatusMessage(st)));
  for (const std::string& key : config->unknown_keys)
    Log(LogLevel::kWarn, "config.unknown_key", {{"key", key}});
  if (listen.empty()) listen = config->server.grpc_listen;
  if (flags->has("metrics-listen")) config->server.metrics_listen = flags->get("metrics-listen");

  // Block the shutdown signals in every thread (gRPC's included); main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RaiseDescriptorLimit();
  auto server = Server::Start(*config, listen, *RealClock::Get());
  if (!server.ok()) return Fail(std::string(StatusMessage(server.status())));
  const std::string port = StrCat((*server)->port());
  if (!metrics_port_file.empty() && !WritePortFile(metrics_port_file, (*server)->metrics_port()))
    return Fail(StrCat("cannot write --metrics-port-file ", metrics_port_file));
  // Last: tests and scripts wait for this file, and then everything is up.
  if (!port_file.empty() && !WritePortFile(port_file, (*server)->port()))
    return Fail(StrCat("cannot write --port-file ", port_file));
  Log(LogLevel::kInfo, "server.started",
      {{"listen", listen},
       {"port", port},
       {"metrics_port", StrCat((*server)->metrics_port())},
       {"config", config_path.empty() ? "(embedded defaults)" : config_path}});

  int sig = 0;
  sigwait(&signals, &sig);
  Log(LogLevel::kInfo, "server.draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  const absl::Duration grace = absl::Seconds(config->server.shutdown_grace_s);
  (*server)->Shutdown(grace, std::min(absl::Seconds(1), grace / 4));
  server->reset();
  Log(LogLevel::kInfo, "server.stopped");
  return 0;
}
