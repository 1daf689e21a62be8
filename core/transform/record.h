// The per-record vocabulary shared by the transformer, the service and the CLI: what
// comes in (InputRecord) and the verdict that goes out (RecordOutcome), mirroring the
// wire messages Record and RecordResult without depending on protobuf.
#ifndef LAKEHOSE_CORE_TRANSFORM_RECORD_H_
#define LAKEHOSE_CORE_TRANSFORM_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lakehose {

enum class Verdict { kUnspecified, kOk, kDropped, kProcessingFailed };
enum class Operation { kUnspecified, kInsert, kUpdate, kDelete };

// Stable error codes of PROCESSING_FAILED verdicts. Callers may switch on them; the
// list only grows.
namespace error_code {
inline constexpr std::string_view kInvalidJson = "INVALID_JSON";      // not JSON / not UTF-8
inline constexpr std::string_view kInvalidRecord = "INVALID_RECORD";  // envelope shape
inline constexpr std::string_view kUnsupportedEventName = "UNSUPPORTED_EVENT_NAME";
inline constexpr std::string_view kMissingImage = "MISSING_IMAGE";          // no image, no Keys
inline constexpr std::string_view kInvalidAttribute = "INVALID_ATTRIBUTE";  // typed value shape
inline constexpr std::string_view kInvalidNumber = "INVALID_NUMBER";        // N not a decimal
inline constexpr std::string_view kInvalidBinary = "INVALID_BINARY";        // B not base64
inline constexpr std::string_view kMissingPartitionKey = "MISSING_PARTITION_KEY";
inline constexpr std::string_view kInvalidPartitionKey = "INVALID_PARTITION_KEY";
// Added by the hardening work; each owner documents it in README "Error codes".
inline constexpr std::string_view kNestingTooDeep = "NESTING_TOO_DEEP";  // > kMaxNestingDepth
inline constexpr std::string_view kDuplicateKey = "DUPLICATE_KEY";  // a name twice in a document
inline constexpr std::string_view kInvalidTimestamp = "INVALID_TIMESTAMP";  // present, not a time
inline constexpr std::string_view kKeyTooLong = "KEY_TOO_LONG";  // object key/path too long
inline constexpr std::string_view kUnrepresentableValue = "UNREPRESENTABLE_VALUE";  // format
}  // namespace error_code

struct InputRecord {
  std::string_view record_id;
  std::string_view data;
  int64_t arrival_ms = 0;  // 0 = unknown: the transform context's default applies
};

struct RecordOutcome {
  Verdict result = Verdict::kUnspecified;
  Operation operation = Operation::kUnspecified;
  std::string data;  // OK: one JSON object, no trailing newline
  // OK: path-safe partition values, parallel to PipelineSpec::key_names.
  std::vector<std::string> partition_values;
  // OK: the rendered prefix; PROCESSING_FAILED: the rendered error_prefix.
  std::string key_prefix;
  std::string_view error_code;  // one of error_code::k*, empty unless PROCESSING_FAILED
  std::string error_message;    // names the attribute path
  int64_t arrival_ms = 0;       // the arrival time used for !{timestamp:...}
  // A REMOVE that DynamoDB's TTL made (userIdentity: {type: Service, principalId:
  // dynamodb.amazonaws.com}): counted apart (lakehose_ttl_deletes_total).
  bool ttl_delete = false;

  void Clear() {
    result = Verdict::kUnspecified;
    operation = Operation::kUnspecified;
    data.clear();
    partition_values.clear();
    key_prefix.clear();
    error_code = {};
    error_message.clear();
    arrival_ms = 0;
    ttl_delete = false;
  }
};

std::string_view VerdictName(Verdict v);      // "OK", "DROPPED", "PROCESSING_FAILED"
std::string_view OperationName(Operation o);  // "INSERT", "UPDATE", "DELETE", ""

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_RECORD_H_
