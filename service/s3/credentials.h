// AWS credentials for signing: a provider interface, the sources of the standard AWS
// chain, and a cache that refreshes temporary credentials before they expire.
//
//   std::shared_ptr<HttpClient> http = NewCurlHttpClient();
//   std::shared_ptr<CredentialsProvider> creds =
//       NewDefaultCredentialsChain(http, RealClock::Get(), ProcessGetenv());
//   absl::StatusOr<AwsCredentials> c = creds->GetCredentials();
//
// The default chain tries, in order (as the AWS SDKs do):
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
//   2. web identity (EKS IRSA): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//      [+ AWS_ROLE_SESSION_NAME], exchanged with STS AssumeRoleWithWebIdentity at
//      AWS_ENDPOINT_URL_STS or https://sts.<AWS_REGION|AWS_DEFAULT_REGION|us-east-1>.amazonaws.com;
//   3. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) then AWS_CONFIG_FILE
//      (~/.aws/config, "[profile x]" sections), profile AWS_PROFILE (default "default");
//      static keys only (role_arn, sso and credential_process profiles are refused with
//      UNIMPLEMENTED rather than silently skipped);
//   4. container (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
//      http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a
//      loopback or the ECS/EKS agent addresses), Authorization from
//      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN;
//   5. EC2 IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254),
//      unless AWS_EC2_METADATA_DISABLED=true; 1 s timeouts.
// The first source that is configured answers: if it fails, that error is returned
// rather than falling through (a pod must not quietly sign as its node's role). A source
// that is not configured answers NOT_FOUND internally and the chain moves on.
//
// Errors: FAILED_PRECONDITION when no source has credentials or one is misconfigured
// (fix the deployment), PERMISSION_DENIED when STS/the agent refuses, UNAVAILABLE when an
// endpoint could not be reached (retry later), INVALID_ARGUMENT for an unparseable answer.
//
// Secrets never appear in status messages or logs; only access key ids' first characters.
// What the sources read is parsed by core/s3/credentials_parse.h (AwsCredentials too).
//
// Thread-safety: every provider here is thread-safe. Ownership: providers share the
// HttpClient they are given and borrow the Clock, which must outlive them.
#ifndef LAKEHOSE_SERVICE_S3_CREDENTIALS_H_
#define LAKEHOSE_SERVICE_S3_CREDENTIALS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/s3/credentials_parse.h"
#include "service/platform/clock.h"
#include "service/s3/http_client.h"

namespace lakehose {

// Reads an environment variable; "" when unset. Injected so tests never touch the
// process environment.
using GetenvFunction = std::function<std::string(std::string_view name)>;
// The process environment (std::getenv).
GetenvFunction ProcessGetenv();
// Each name maps to its value; everything else is unset.
GetenvFunction MapGetenv(std::vector<std::pair<std::string, std::string>> vars);

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials, or an error as described at the top of this file. Thread-safe.
  virtual absl::StatusOr<AwsCredentials> GetCredentials() = 0;
};

// Always the same credentials (tests, or keys from a secret store).
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials c) : credentials_(std::move(c)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override { return credentials_; }

 private:
  const AwsCredentials credentials_;
};

// What the sources of the chain need.
struct CredentialsEnv {
  std::shared_ptr<HttpClient> http;  // required by web identity, container and IMDS
  const Clock* clock = nullptr;      // borrowed; required (session names, expiry)
  GetenvFunction getenv;             // required
};

// The sources, one by one (each answers NOT_FOUND when it is not configured).
std::unique_ptr<CredentialsProvider> NewEnvironmentCredentialsProvider(CredentialsEnv env);
std::unique_ptr<CredentialsProvider> NewWebIdentityCredentialsProvider(CredentialsEnv env);
std::unique_ptr<CredentialsProvider> NewSharedFilesCredentialsProvider(CredentialsEnv env);
std::unique_ptr<CredentialsProvider> NewContainerCredentialsProvider(CredentialsEnv env);
std::unique_ptr<CredentialsProvider> NewImdsCredentialsProvider(CredentialsEnv env);

// Tries `sources` in order, as described at the top of this file. Not cached.
std::unique_ptr<CredentialsProvider> NewChainCredentialsProvider(
    std::vector<std::unique_ptr<CredentialsProvider>> sources);

// How early cached temporary credentials are refreshed: 5 minutes before they expire.
inline constexpr int64_t kCredentialsRefreshMarginMs = 5 * 60 * 1000;

// Caches what `inner` returns. Long-term credentials (expiration 0) are kept forever;
// temporary ones until kCredentialsRefreshMarginMs before they expire (at least 30 s
// after they were fetched, so short-lived ones do not cause a fetch per request). When a
// refresh fails while the cached credentials have not yet expired, those are returned.
// Errors are not cached: the next call tries again. One refresh at a time.
class CachingCredentialsProvider : public CredentialsProvider {
 public:
  // `clock` is borrowed and must outlive this provider.
  CachingCredentialsProvider(std::unique_ptr<CredentialsProvider> inner, const Clock* clock)
      : inner_(std::move(inner)), clock_(clock) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override;

 private:
  const std::unique_ptr<CredentialsProvider> inner_;
  const Clock* const clock_;
  absl::Mutex mu_;
  std::optional<AwsCredentials> cached_ ABSL_GUARDED_BY(mu_);
  int64_t refresh_at_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

// The standard chain (environment, web identity, shared files, container, IMDSv2),
// cached. `clock` is borrowed and must outlive the provider.
std::shared_ptr<CredentialsProvider> NewDefaultCredentialsChain(std::shared_ptr<HttpClient> http,
                                                                const Clock* clock,
                                                                GetenvFunction getenv);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_S3_CREDENTIALS_H_
