// Structured logging: one JSON object per line on stderr (or `key=value` text), with
// level, time, event and fields. Thread-safe (one write(2) per line).
//
//   Log(LogLevel::kInfo, "server.started", {{"listen", addr}});
#ifndef LAKEHOSE_SERVICE_LOG_H_
#define LAKEHOSE_SERVICE_LOG_H_

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

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_LOG_H_
