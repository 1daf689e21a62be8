// The pure half of the AWS credentials chain (service/s3/credentials.h): the credentials
// value, and the parsers of what the chain's sources read. The shared credentials and
// config files (INI with profiles), the JSON answers of the container credentials
// endpoint and of IMDS, STS AssumeRoleWithWebIdentity XML, their RFC 3339 expiration
// times, and the check of a container credentials URL live here; reading files and
// talking HTTP stay in the service.
//
//   absl::StatusOr<AwsCredentials> c = ParseCredentialsJson(response_body);
//   if (!c.ok()) return c.status();  // INVALID_ARGUMENT: not a credentials answer
//
// All input is untrusted (files anyone with access to the pod may have written, answers
// of network endpoints): any input yields a value or an error, never a crash, and input
// past kMaxCredentialsDocumentBytes is refused unread. Status messages never quote
// secrets. Nothing here recurses over the input; the one nested format (JSON) is parsed
// by simdjson with the explicit depth limit kMaxCredentialsJsonDepth.
//
// Pure (no I/O, no clock); thread-safe (no state).
#ifndef LAKEHOSE_CORE_S3_CREDENTIALS_PARSE_H_
#define LAKEHOSE_CORE_S3_CREDENTIALS_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/s3/sigv4.h"

namespace lakehose {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  // When temporary credentials stop working, ms since the epoch; 0 = never.
  int64_t expiration_ms = 0;
  std::string source;  // "environment", "web-identity", "shared-files", "container", "imds"

  SigV4Credentials ToSigV4() const { return {access_key_id, secret_access_key, session_token}; }
};

// Credentials files, token files and endpoint answers are a few hundred bytes; anything
// past 1 MiB is not one of them.
inline constexpr size_t kMaxCredentialsDocumentBytes = 1 << 20;

// How deeply the JSON answers may nest. They are flat objects of strings; the margin
// admits fields lakehose does not read, should an endpoint add structured ones.
inline constexpr size_t kMaxCredentialsJsonDepth = 16;

// "2019-11-09T13:34:41Z" (RFC 3339, any offset, optional fraction) -> ms since the epoch.
// INVALID_ARGUMENT otherwise.
absl::StatusOr<int64_t> ParseIso8601Ms(std::string_view text);

// A successful STS AssumeRoleWithWebIdentity answer. PERMISSION_DENIED for an
// <ErrorResponse> (naming its code), INVALID_ARGUMENT for anything else that is not one.
// `source` is left empty.
absl::StatusOr<AwsCredentials> ParseStsCredentialsXml(std::string_view xml);

// The error an STS answer with HTTP status `http_status` (not 200) means: UNAVAILABLE
// when retrying later may help (5xx, 429, IDPCommunicationError, Throttling),
// PERMISSION_DENIED otherwise. The message names the status and STS's error code.
absl::Status StsErrorStatus(int http_status, std::string_view body);

// A container or IMDS credentials answer: {"AccessKeyId", "SecretAccessKey", "Token",
// "Expiration"}; other fields are ignored. FAILED_PRECONDITION when its "Code" is
// present and not "Success", INVALID_ARGUMENT when it is not such an object. `source` is
// left empty.
absl::StatusOr<AwsCredentials> ParseCredentialsJson(std::string_view json);

// The session token of IMDSv2's PUT /latest/api/token answer (trimmed). INVALID_ARGUMENT
// when it is empty or holds a line break (it is sent back as a header).
absl::StatusOr<std::string> ParseImdsToken(std::string_view body);

// The role named by IMDS's security-credentials listing (its first line, trimmed).
// FAILED_PRECONDITION when there is none or it could not be a role name.
absl::StatusOr<std::string> ParseImdsRoleName(std::string_view listing);

// True if AWS_CONTAINER_CREDENTIALS_FULL_URI may be asked for credentials: https, or
// plain http only to a loopback address (localhost, 127.0.0.0/8, ::1) or the ECS/EKS
// agents (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the AWS SDKs allow.
bool IsAllowedContainerCredentialsUrl(std::string_view url);

// Keys of `profile` in an INI file's text, names lower-cased, in file order (a profile
// split over several sections is concatenated). `config_style` reads the config file's
// "[profile x]" sections (and "[default]"); otherwise sections are "[x]". Comments ('#',
// ';') and indented lines (nested settings such as "s3 =\n  max_concurrent_requests")
// are skipped. nullopt if the profile is absent.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseIniProfile(
    std::string_view text, std::string_view profile, bool config_style);

// The static credentials of a profile's keys (lower-cased names, as ParseIniProfile
// gives them). FAILED_PRECONDITION when only one of the key id and the secret is set;
// UNIMPLEMENTED for a profile that needs what lakehose does not do (role_arn,
// credential_process, SSO); NOT_FOUND when it holds no credentials at all. `source` is
// left empty.
absl::StatusOr<AwsCredentials> CredentialsFromProfile(
    const std::map<std::string, std::string>& keys, std::string_view profile);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_S3_CREDENTIALS_PARSE_H_
