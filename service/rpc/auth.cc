#include "service/rpc/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "core/base/strings.h"
#include "grpc/grpc.h"
#include "grpc/grpc_security.h"

namespace lakehose {
namespace {

constexpr std::string_view kAuthorization = "authorization";
constexpr std::string_view kPathKey = ":path";

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

// The metadata of one call that the check needs. Views into gRPC's metadata, valid
// during the processor call only.
struct CallAuthMetadata {
  std::string_view path;
  std::vector<std::string_view> authorization;
};

void Collect(std::string_view key, std::string_view value, CallAuthMetadata* out) {
  if (key == kPathKey) {
    out->path = value;
  } else if (key == kAuthorization) {
    out->authorization.push_back(value);
  }
}

// The token check as an AuthMetadataProcessor: set directly on TLS credentials
// (grpc::SslServerCredentials), and through InsecureWithAuth on plaintext ones.
class TokenProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenProcessor(std::string token) : authenticator_(std::move(token)) {}

  bool IsBlocking() const override { return false; }  // a hash and a compare: inline

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* /*context*/,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* /*response_metadata*/) override {
    CallAuthMetadata md;
    for (const auto& [key, value] : auth_metadata)
      Collect(std::string_view(key.data(), key.size()),
              std::string_view(value.data(), value.size()), &md);
    grpc::Status status = authenticator_.Check(md.path, md.authorization);
    if (status.ok())
      for (std::string_view v : md.authorization)
        consumed_auth_metadata->emplace(kAuthorization, v);
    return status;
  }

 private:
  const TokenAuthenticator authenticator_;
};

// Plaintext credentials built on gRPC core's insecure credentials, which, unlike the C++
// InsecureServerCredentials of gRPC 1.51, accept an auth metadata processor. The
// processor is adapted to gRPC core's C interface here. This overrides
// ServerCredentials::AddPortToServer, a private virtual of gRPC 1.51's C++ API (as
// gRPC's own SecureServerCredentials does); should a gRPC upgrade remove it, `override`
// makes the build fail here rather than the token check go missing.
class InsecureWithAuth final : public grpc::ServerCredentials {
 public:
  explicit InsecureWithAuth(std::shared_ptr<grpc::AuthMetadataProcessor> processor)
      : creds_(grpc_insecure_server_credentials_create()) {
    SetAuthMetadataProcessor(std::move(processor));
  }
  ~InsecureWithAuth() override { grpc_server_credentials_release(creds_); }

  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>& processor) override {
    // gRPC core owns `state` from here on and frees it through Destroy, so the processor
    // lives as long as any server using these credentials.
    auto* state = new std::shared_ptr<grpc::AuthMetadataProcessor>(processor);
    grpc_server_credentials_set_auth_metadata_processor(creds_, {&Process, &Destroy, state});
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  static std::string_view View(const grpc_slice& s) {
    return std::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)),
                            GRPC_SLICE_LENGTH(s));
  }

  // gRPC core's processor interface: answer through `cb`, here always before returning.
  static void Process(void* state, grpc_auth_context* /*context*/, const grpc_metadata* md,
                      size_t num_md, grpc_process_auth_metadata_done_cb cb, void* user_data) {
    auto& processor = *static_cast<std::shared_ptr<grpc::AuthMetadataProcessor>*>(state);
    grpc::AuthMetadataProcessor::InputMetadata input;
    for (size_t i = 0; i < num_md; ++i) {
      const std::string_view k = View(md[i].key), v = View(md[i].value);
      input.emplace(grpc::string_ref(k.data(), k.size()), grpc::string_ref(v.data(), v.size()));
    }
    grpc::AuthMetadataProcessor::OutputMetadata consumed, response;
    // The processors of this file ignore the AuthContext (there is no peer identity
    // without TLS), and gRPC's C++ wrapper of grpc_auth_context is not public.
    const grpc::Status status = processor->Process(input, nullptr, &consumed, &response);
    std::vector<grpc_metadata> consumed_md;
    for (size_t i = 0; i < num_md; ++i)
      if (consumed.count(std::string(View(md[i].key)))) consumed_md.push_back(md[i]);
    if (status.ok()) {
      cb(user_data, consumed_md.data(), consumed_md.size(), nullptr, 0, GRPC_STATUS_OK, nullptr);
    } else {
      cb(user_data, nullptr, 0, nullptr, 0, static_cast<grpc_status_code>(status.error_code()),
         status.error_message().c_str());
    }
  }

  static void Destroy(void* state) {
    delete static_cast<std::shared_ptr<grpc::AuthMetadataProcessor>*>(state);
  }

  grpc_server_credentials* const creds_;
};

}  // namespace

absl::StatusOr<std::string> ParseTokenFile(std::string_view contents) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!contents.empty() && space(contents.front())) contents.remove_prefix(1);
  while (!contents.empty() && space(contents.back())) contents.remove_suffix(1);
  if (contents.empty()) return absl::InvalidArgumentError("is empty (want one bearer token)");
  if (contents.size() < kMinTokenBytes)
    return absl::InvalidArgumentError(StrCat("holds a token of ", contents.size(),
                                             " characters; at least ", kMinTokenBytes,
                                             " are required (e.g. `openssl rand -hex 32`)"));
  if (contents.size() > kMaxTokenBytes)
    return absl::InvalidArgumentError(StrCat("holds more than ", kMaxTokenBytes, " characters"));
  size_t end = contents.size();
  while (end > 0 && contents[end - 1] == '=') --end;  // b64token's trailing padding
  for (size_t i = 0; i < end; ++i) {
    if (!IsTokenChar(contents[i]))
      return absl::InvalidArgumentError(
          StrCat("has a character not allowed in a bearer token at offset ", i,
                 " (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =; one token, no spaces)"));
  }
  return std::string(contents);
}

absl::StatusOr<std::string_view> ParseBearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !StartsWithIgnoreAsciiCase(authorization, kScheme) || authorization[kScheme.size()] != ' ')
    return absl::InvalidArgumentError("authorization metadata must be \"Bearer <token>\"");
  std::string_view token = TrimChars(authorization.substr(kScheme.size()), " ");
  if (token.empty())
    return absl::InvalidArgumentError("authorization metadata has \"Bearer\" but no token");
  return token;
}

bool ConstantTimeEquals(std::string_view presented, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

bool IsExemptFromAuth(std::string_view path) {
  return path == "/grpc.health.v1.Health/Check" || path == "/grpc.health.v1.Health/Watch";
}

grpc::Status TokenAuthenticator::Check(std::string_view path,
                                       const std::vector<std::string_view>& authorization) const {
  // Before the exemption: a call with two credentials is malformed whatever it asks for
  // (health included), and which one a proxy or a handler would read is anyone's guess.
  if (authorization.size() > 1)
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "more than one authorization metadata value (send exactly one: "
                        "\"authorization: Bearer <token>\")");
  if (IsExemptFromAuth(path)) return grpc::Status::OK;
  if (authorization.empty())
    return grpc::Status(
        grpc::StatusCode::UNAUTHENTICATED,
        "missing bearer token: this server needs the metadata \"authorization: Bearer <token>\" "
        "(the token in its server.auth.token_file)");
  auto token = ParseBearerToken(authorization[0]);
  if (!token.ok())
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        std::string(StatusMessage(token.status())));
  // Oversized tokens are refused before hashing; the bound is public, so this leaks nothing.
  if (token->size() > kMaxTokenBytes || !ConstantTimeEquals(*token, token_))
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid bearer token");
  return grpc::Status::OK;
}

std::shared_ptr<grpc::AuthMetadataProcessor> NewTokenAuthMetadataProcessor(std::string token) {
  return std::make_shared<TokenProcessor>(std::move(token));
}

std::shared_ptr<grpc::ServerCredentials> InsecureServerCredentialsWithAuth(
    std::shared_ptr<grpc::AuthMetadataProcessor> processor) {
  return std::make_shared<InsecureWithAuth>(std::move(processor));
}

}  // namespace lakehose
