#include "service/rpc/server_credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "grpcpp/security/server_credentials.h"
#include "service/platform/log.h"
#include "service/rpc/auth.h"

namespace lakehose {
namespace {

// Bounds what start-up reads: certificate bundles and tokens are a few KiB.
constexpr std::streamsize kMaxFileBytes = 1 << 20;

absl::Status FileError(const std::string& key, const std::string& path, std::string_view reason,
                       absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  return absl::Status(code, StrCat(key, " ", path, ": ", reason));
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return FileError(
        key, path, StrCat("cannot read: ", std::strerror(err)),
        err == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kFailedPrecondition);
  }
  std::string data(static_cast<size_t>(kMaxFileBytes) + 1, '\0');
  in.read(data.data(), kMaxFileBytes + 1);
  if (in.bad())
    return FileError(key, path, "cannot read (I/O error)", absl::StatusCode::kFailedPrecondition);
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > static_cast<size_t>(kMaxFileBytes))
    return FileError(key, path, StrCat("is larger than ", kMaxFileBytes, " bytes"));
  return data;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

BioPtr MemBio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Refuses to prompt for a pass phrase (OpenSSL's default callback reads the terminal).
int NoPassphrase(char*, int, int, void*) { return 0; }

// The certificates of `pem`, in order (empty if none parse).
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemBio(pem);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr))
    certs.emplace_back(x);
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  return certs;
}

}  // namespace

absl::StatusOr<std::string> ReadPemCertificates(const std::string& key, const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(key, path));
  if (ParseCertificates(pem).empty())
    return FileError(key, path, "holds no PEM certificate (want -----BEGIN CERTIFICATE-----)");
  return pem;
}

absl::StatusOr<std::string> ReadPemPrivateKey(const std::string& key, const std::string& path,
                                              const std::string& cert_key,
                                              const std::string& cert_pem) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(key, path));
  BioPtr bio = MemBio(pem);
  KeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!pkey)
    return FileError(key, path,
                     "holds no unencrypted PEM private key (encrypted keys are not supported: "
                     "decrypt with `openssl pkey -in KEY -out KEY.plain`)");
  std::vector<X509Ptr> certs = ParseCertificates(cert_pem);
  if (certs.empty())
    return FileError(key, path,
                     StrCat("cannot be checked: ", cert_key, " holds no PEM certificate"));
  const int match = X509_check_private_key(certs[0].get(), pkey.get());
  ERR_clear_error();
  if (match != 1)
    return FileError(key, path, StrCat("does not belong to the (first) certificate in ", cert_key));
  return pem;
}

absl::StatusOr<TransportSecurity> MakeServerCredentials(const ServerOptions& options) {
  TransportSecurity out;
  std::shared_ptr<grpc::AuthMetadataProcessor> processor;
  if (!options.auth.token_file.empty()) {
    const std::string key = "server.auth.token_file";
    ASSIGN_OR_RETURN(std::string contents, ReadSmallFile(key, options.auth.token_file));
    auto token = ParseTokenFile(contents);
    if (!token.ok()) return FileError(key, options.auth.token_file, StatusMessage(token.status()));
    processor = NewTokenAuthMetadataProcessor(*std::move(token));
    out.token = true;
  }
  const TlsOptions& tls = options.tls;
  if (!tls.enabled()) {
    out.credentials = processor ? InsecureServerCredentialsWithAuth(processor)
                                : grpc::InsecureServerCredentials();
    if (processor)
      Log(LogLevel::kWarn, "server.token_without_tls",
          {{"reason",
            "server.auth.token_file is set but server.tls is not: the token travels in clear "
            "text"}});
    Log(LogLevel::kInfo, "server.transport_security",
        {{"tls", "off"}, {"auth", out.token ? "bearer" : "none"}});
    return out;
  }
  ASSIGN_OR_RETURN(std::string cert, ReadPemCertificates("server.tls.cert_file", tls.cert_file));
  ASSIGN_OR_RETURN(std::string private_key, ReadPemPrivateKey("server.tls.key_file", tls.key_file,
                                                              "server.tls.cert_file", cert));
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({std::move(private_key), std::move(cert)});
  if (!tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPemCertificates("server.tls.client_ca_file", tls.client_ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    out.mutual_tls = true;
  }
  out.credentials = grpc::SslServerCredentials(ssl);
  if (processor) out.credentials->SetAuthMetadataProcessor(processor);
  out.tls = true;
  Log(LogLevel::kInfo, "server.transport_security",
      {{"tls", out.mutual_tls ? "mutual" : "on"}, {"auth", out.token ? "bearer" : "none"}});
  return out;
}

}  // namespace lakehose
