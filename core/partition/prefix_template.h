// PrefixTemplate: a Firehose-style S3 prefix expression, compiled once and rendered per
// record or object.
//
// Supported expressions (as in Firehose, so a Firehose user can paste theirs):
//   !{partitionKeyFromLambda:k}, !{partitionKeyFromQuery:k}  -> partition key k
//   !{timestamp:<Java pattern>}                               -> arrival time, UTC
//   !{firehose:error-output-type}                             -> e.g. processing-failed
//   !{firehose:random-string}                                 -> caller-supplied random text
// Everything else is literal text. Immutable after Compile; safe to share.
#ifndef LAKEHOSE_CORE_PARTITION_PREFIX_TEMPLATE_H_
#define LAKEHOSE_CORE_PARTITION_PREFIX_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/partition/time_format.h"

namespace lakehose {

struct PrefixValues {
  // Partition key values, already path-safe, indexed as the template's key_names().
  const std::vector<std::string>* partition_values = nullptr;
  int64_t timestamp_ms = 0;            // arrival time of the (oldest) record
  std::string_view error_output_type;  // "processing-failed" for error prefixes
  std::string_view random_string;
};

class PrefixTemplate {
 public:
  // `key_names` lists the partition keys the pipeline declares, in declaration order;
  // a reference to any other key is an error.
  static absl::StatusOr<PrefixTemplate> Compile(std::string_view text,
                                                const std::vector<std::string>& key_names);

  void Render(const PrefixValues& values, std::string* out) const;

  const std::string& text() const { return text_; }
  bool uses_error_output_type() const { return uses_error_output_type_; }
  bool uses_random_string() const { return uses_random_string_; }

 private:
  enum class Kind : uint8_t { kLiteral, kPartitionKey, kTimestamp, kErrorOutputType, kRandom };
  struct Part {
    Kind kind;
    std::string literal;
    size_t key_index = 0;
    int format_index = -1;
  };
  std::string text_;
  std::vector<Part> parts_;
  std::vector<TimeFormat> formats_;
  bool uses_error_output_type_ = false;
  bool uses_random_string_ = false;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARTITION_PREFIX_TEMPLATE_H_
