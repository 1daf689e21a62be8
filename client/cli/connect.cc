#include "client/cli/connect.h"

#include <cstdlib>
#include <iostream>
#include <utility>

#include "core/base/strings.h"

namespace lakehose::cli {

std::unique_ptr<Client> Connect(const ParsedFlags& flags) {
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

}  // namespace lakehose::cli
