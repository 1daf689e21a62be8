// Bearer-token authentication of gRPC calls (README "Security", server.auth.token_file).
//
// Every call must carry the metadata `authorization: Bearer <token>` with the server's
// token, or it ends with UNAUTHENTICATED before any handler runs. Exempt:
// grpc.health.v1.Health (Check, Watch), because Kubernetes gRPC probes and Docker
// HEALTHCHECKs cannot send a token and health reveals nothing; but a call carrying more
// than one `authorization` value is refused on every method, health included. Server reflection is
// NOT exempt: it describes the API to whoever asks, so it needs the token like the rest.
//
//   ASSIGN_OR_RETURN(std::string token, ParseTokenFile(contents));
//   auto processor = NewTokenAuthMetadataProcessor(token);
//   tls_credentials->SetAuthMetadataProcessor(processor);              // TLS, or
//   auto plaintext = InsecureServerCredentialsWithAuth(processor);     // plaintext
//
// (service/rpc/server_credentials.h assembles this from the config.)
//
// The check runs in gRPC's server auth filter (an AuthMetadataProcessor), not in an
// interceptor: in gRPC 1.51 a server interceptor cannot end a call with a status before
// the handler runs, and the processor can. gRPC's C++ InsecureServerCredentials refuses
// a processor (it asserts), so plaintext servers use InsecureServerCredentialsWithAuth
// below, which sets the same processor on gRPC core's insecure credentials.
//
// Thread-safe: the processor and TokenAuthenticator are immutable after construction.
#ifndef LAKEHOSE_SERVICE_RPC_AUTH_H_
#define LAKEHOSE_SERVICE_RPC_AUTH_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/security/server_credentials.h"

namespace lakehose {

// Tokens are RFC 6750 `b64token`s (A-Z a-z 0-9 - . _ ~ + / and trailing =), so they
// travel in gRPC metadata unchanged. The minimum keeps guessable tokens out; generate
// one with `openssl rand -hex 32`.
inline constexpr size_t kMinTokenBytes = 16;
inline constexpr size_t kMaxTokenBytes = 4096;  // far beyond any real secret; bounds the compare

// The token in a token file's `contents`: surrounding white space (the trailing newline
// editors add) is removed; the rest must be one valid token. Errors say what is wrong,
// never the token itself.
absl::StatusOr<std::string> ParseTokenFile(std::string_view contents);

// The token of an `authorization` metadata value "Bearer <token>" (scheme
// case-insensitive, as RFC 7235; one or more spaces). INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string_view> ParseBearerToken(std::string_view authorization);

// Compares two byte strings in time that depends on neither content nor the length of
// `presented`: both are hashed with SHA-256 and the digests compared without an early
// exit, so a caller probing byte by byte learns nothing from timing.
bool ConstantTimeEquals(std::string_view presented, std::string_view expected);

// True for the methods callable without a token (`path` is the HTTP/2 :path,
// "/package.Service/Method"): grpc.health.v1.Health's.
bool IsExemptFromAuth(std::string_view path);

// The check itself, apart from gRPC's plumbing so that it can be tested directly.
class TokenAuthenticator {
 public:
  explicit TokenAuthenticator(std::string token) : token_(std::move(token)) {}

  // `path` is the call's :path ("" if unknown: then the token is required);
  // `authorization` every value of its `authorization` metadata. OK, or
  // UNAUTHENTICATED with a message that says what to send (never the token).
  grpc::Status Check(std::string_view path,
                     const std::vector<std::string_view>& authorization) const;

 private:
  const std::string token_;
};

// An AuthMetadataProcessor running TokenAuthenticator::Check on every call. Non-blocking
// (runs inline in gRPC's auth filter). On success the `authorization` metadata is
// consumed, so handlers, logs and interceptors never see the token.
std::shared_ptr<grpc::AuthMetadataProcessor> NewTokenAuthMetadataProcessor(std::string token);

// Plaintext server credentials that run `processor` on every call (see the overview for
// why this is not grpc::InsecureServerCredentials()). SetAuthMetadataProcessor on the
// result replaces the processor.
std::shared_ptr<grpc::ServerCredentials> InsecureServerCredentialsWithAuth(
    std::shared_ptr<grpc::AuthMetadataProcessor> processor);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_AUTH_H_
