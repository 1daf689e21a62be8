// The credentials of the gRPC listening port, from server.tls and server.auth (README
// "Security"): reads the PEM files and the token file named in the config, checks them,
// and builds grpc::ServerCredentials:
//
//   no tls, no token   grpc::InsecureServerCredentials()
//   no tls, token      plaintext + the token check (auth.h)
//   tls                grpc::SslServerCredentials (+ the token check when configured);
//                      with client_ca_file: mutual TLS, clients must present a
//                      certificate signed by one of those CAs
//
//   ASSIGN_OR_RETURN(auto credentials, MakeServerCredentials(config.server));
//   builder.AddListeningPort(listen, credentials, &port);
//
// Called once at start-up: a file that is missing, unreadable or invalid stops it, with
// an error naming the config key and the file (never the token or key material).
// Thread-compatible (no state).
#ifndef LAKEHOSE_SERVICE_RPC_SERVER_CREDENTIALS_H_
#define LAKEHOSE_SERVICE_RPC_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/config/config.h"
#include "grpcpp/security/server_credentials.h"

namespace lakehose {

// What MakeServerCredentials set up, for the start-up log line.
struct TransportSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  bool tls = false;
  bool mutual_tls = false;
  bool token = false;
};

absl::StatusOr<TransportSecurity> MakeServerCredentials(const ServerOptions& options);

// The checks MakeServerCredentials applies, exposed for tests. `key` names the config
// key for errors ("server.tls.cert_file"). Each returns the file's contents.
// A PEM file with at least one certificate (a chain or a CA bundle).
absl::StatusOr<std::string> ReadPemCertificates(const std::string& key, const std::string& path);
// An unencrypted PEM private key that belongs to the first certificate of `cert_pem`.
absl::StatusOr<std::string> ReadPemPrivateKey(const std::string& key, const std::string& path,
                                              const std::string& cert_key,
                                              const std::string& cert_pem);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_SERVER_CREDENTIALS_H_
