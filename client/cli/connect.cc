#include "client/cli/connect.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>

#include "client/cli/common.h"
#include "core/base/strings.h"

namespace lakehose::cli {
namespace {

// Below this a connection is quick enough to go unannounced.
constexpr absl::Duration kAnnounceAfter = absl::Milliseconds(500);
// --deadline's bounds: above 0, at most an hour (a typo rather than a wish beyond that).
constexpr double kMaxDeadlineSeconds = 3600;

std::unique_ptr<Client> MakeClient(const ParsedFlags& flags) {
  ClientOptions options;
  if (flags.has("token-file")) {
    auto token = ReadTokenFile(flags.get("token-file"));
    if (!token.ok()) {
      std::cerr << "lakehose: " << StatusMessage(token.status()) << "\n";
      return nullptr;
    }
    options.bearer_token = *std::move(token);
  } else if (const char* env = std::getenv("LAKEHOSE_TOKEN"); env != nullptr && *env != '\0') {
    options.bearer_token = env;
  }
  const bool tls = flags.has("tls") || flags.has("tls-ca") || flags.has("tls-cert") ||
                   flags.has("tls-key") || flags.has("tls-server-name");
  if (!tls) return Client::ConnectInsecure(flags.get("target"), options);
  auto tls_options =
      LoadClientTlsFiles(flags.get("tls-ca"), flags.get("tls-cert"), flags.get("tls-key"));
  if (tls_options.ok()) {
    tls_options->server_name_override = flags.get("tls-server-name");
    auto client = Client::ConnectTls(flags.get("target"), *tls_options, options);
    if (client.ok()) return *std::move(client);
    tls_options = client.status();
  }
  std::cerr << "lakehose: " << StatusMessage(tls_options.status()) << "\n";
  return nullptr;
}

}  // namespace

std::unique_ptr<Client> Connect(const ParsedFlags& flags, int* exit_code,
                                absl::Duration default_deadline) {
  *exit_code = 2;
  absl::Duration deadline = default_deadline;
  if (flags.has("deadline")) {
    const std::string text = flags.get("deadline");
    char* end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(seconds > 0 && seconds <= kMaxDeadlineSeconds)) {
      UsageError("--deadline must be a number of seconds, above 0 and at most 3600");
      return nullptr;
    }
    deadline = absl::Seconds(seconds);
  }
  std::unique_ptr<Client> client = MakeClient(flags);
  if (!client) return nullptr;
  const std::string target = flags.get("target");
  const absl::Time start = absl::Now();
  absl::Status status = client->WaitForConnected(std::min(deadline, kAnnounceAfter));
  if (!status.ok() && deadline > kAnnounceAfter) {
    std::cerr << "lakehose: connecting to " << target << " (up to "
              << absl::FormatDuration(deadline) << ", see --deadline)\n";
    status = client->WaitForConnected(deadline - (absl::Now() - start));
  }
  if (!status.ok()) {
    *exit_code = 1;
    Fail(StrCat("cannot connect to ", target, " within ", absl::FormatDuration(deadline), ": ",
                RpcError(status)));
    return nullptr;
  }
  *exit_code = 0;
  return client;
}

}  // namespace lakehose::cli
