#include "service/rpc/library_logs.h"

#include <string>
#include <string_view>

#include "core/base/strings.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "service/platform/log.h"

namespace lakehose {
namespace {

void ProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                 const std::string& message) {
  LogLevel to = LogLevel::kError;
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      to = LogLevel::kInfo;
      break;
    case google::protobuf::LOGLEVEL_WARNING:
      to = LogLevel::kWarn;
      break;
    default:
      to = LogLevel::kError;
  }
  if (message.find("invalid UTF-8 data when parsing") != std::string::npos) to = LogLevel::kDebug;
  const std::string line_text = StrCat(line);
  Log(to, "protobuf.log",
      {{"file", filename ? filename : ""}, {"line", line_text}, {"message", message}});
}

void GrpcLog(gpr_log_func_args* args) {
  LogLevel to = LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) to = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) to = LogLevel::kInfo;
  const std::string line_text = StrCat(args->line);
  Log(to, "grpc.log",
      {{"file", args->file ? args->file : ""},
       {"line", line_text},
       {"message", args->message ? args->message : ""}});
}

}  // namespace

void RouteLibraryLogsToLog() {
  google::protobuf::SetLogHandler(&ProtobufLog);
  gpr_set_log_function(&GrpcLog);
}

}  // namespace lakehose
