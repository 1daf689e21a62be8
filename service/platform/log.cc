#include "service/platform/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "absl/time/time.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "service/platform/clock.h"

namespace lakehose {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};
std::atomic<LogLevel> g_min_level{LogLevel::kInfo};

std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

constexpr std::string_view kRedacted = "[REDACTED]";

// Where a secret that starts at `at` ends: the first separator (space, comma, quote,
// ampersand, angle bracket, semicolon) or the end.
size_t SecretEnd(std::string_view text, size_t at) {
  while (at < text.size()) {
    const char c = text[at];
    if (c == ' ' || c == ',' || c == '"' || c == '\'' || c == '&' || c == '<' || c == ';' ||
        c == '\n' || c == '\r' || c == '\t')
      break;
    ++at;
  }
  return at;
}

}  // namespace

bool IsSecretFieldName(std::string_view name) {
  for (std::string_view word :
       {"authorization", "token", "secret", "password", "credential", "signature"})
    if (FindIgnoreAsciiCase(name, word) != std::string_view::npos) return true;
  return false;
}

std::string RedactSecrets(std::string_view text) {
  // Markers after which a secret value starts (case-insensitive). JSON and XML forms of
  // AWS credential answers are covered by their field names followed by '":"' or '>'.
  static constexpr std::string_view kMarkers[] = {
      "Bearer ",
      "Credential=",
      "Signature=",
      "X-Amz-Security-Token=",
      "X-Amz-Signature=",
      "X-Amz-Credential=",
      "x-amz-security-token: ",
      "\"SecretAccessKey\":\"",
      "\"SessionToken\":\"",
      "\"Token\":\"",
      "<SecretAccessKey>",
      "<SessionToken>",
      "\"secret_access_key\":\"",
      "\"session_token\":\"",
      "aws_secret_access_key=",
      "aws_session_token=",
  };
  std::string out(text);
  for (std::string_view marker : kMarkers) {
    size_t at = 0;
    while ((at = FindIgnoreAsciiCase(out, marker, at)) != std::string::npos) {
      size_t start = at + marker.size();
      while (start < out.size() && out[start] == ' ') ++start;
      const size_t end = SecretEnd(out, start);
      if (end > start && std::string_view(out).substr(start, end - start) != kRedacted)
        out.replace(start, end - start, kRedacted);
      at = start + kRedacted.size();
    }
  }
  return out;
}

void SetLogFormat(LogFormat format) { g_format.store(format); }
void SetMinLogLevel(LogLevel level) { g_min_level.store(level); }

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < g_min_level.load()) return;
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(RealClock::Get()->NowMillis()),
                       absl::UTCTimeZone());
  std::string line;
  if (g_format.load() == LogFormat::kJson) {
    line.append("{\"level\":\"").append(LevelName(level)).append("\",\"time\":\"").append(time);
    line.append("\",\"event\":");
    AppendJsonString(event, &line);
    for (const auto& [k, v] : fields) {
      line.push_back(',');
      AppendJsonString(k, &line);
      line.push_back(':');
      AppendJsonString(IsSecretFieldName(k) ? std::string(kRedacted) : RedactSecrets(v), &line);
    }
    line.append("}\n");
  } else {
    line.append(time).append(" ").append(LevelName(level)).append(" ").append(event);
    for (const auto& [k, v] : fields) {
      line.append(" ").append(k).append("=");
      AppendJsonString(IsSecretFieldName(k) ? std::string(kRedacted) : RedactSecrets(v), &line);
    }
    line.push_back('\n');
  }
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

}  // namespace lakehose
