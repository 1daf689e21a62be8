// Structured logging: one JSON object per line on stderr (or `key=value` text), with
// level, time, event and fields. Thread-safe (one write(2) per line).
//
//   Log(LogLevel::kInfo, "server.started", {{"listen", addr}});
//
// No secret is ever written: the value of a field whose name says it holds one
// (authorization, token, secret, password, credentials, signature; any case) is replaced
// by [REDACTED], and in every value RedactSecrets hides what follows "Bearer ",
// "Credential=", "Signature=", "X-Amz-Security-Token=", "X-Amz-Signature=",
// "X-Amz-Credential=" and the AWS JSON/XML credential fields (SecretAccessKey,
// SessionToken, Token), so an error message that quotes a request or a credentials
// answer cannot leak one either.
#ifndef LAKEHOSE_SERVICE_PLATFORM_LOG_H_
#define LAKEHOSE_SERVICE_PLATFORM_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace lakehose {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kJson, kText };

void SetLogFormat(LogFormat format);
void SetMinLogLevel(LogLevel level);

using LogField = std::pair<std::string_view, std::string_view>;
void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// `text` with the secrets described above replaced by [REDACTED].
std::string RedactSecrets(std::string_view text);
// Whether a field named `name` holds a secret (its value is never logged).
bool IsSecretFieldName(std::string_view name);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_PLATFORM_LOG_H_
