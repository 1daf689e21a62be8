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

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/partition/object_key_limits.h"
#include "core/partition/time_format.h"

namespace lakehose {

// The length of !{firehose:random-string}'s text (the service draws it, as Firehose, from
// lowercase letters and digits); config-time length checks assume it.
inline constexpr size_t kFirehoseRandomStringBytes = 11;

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

  // The reason for a KEY_TOO_LONG verdict: `rendered` is Render(values) and `overflow`
  // what FindKeyOverflow found in it. Names the partition key whose value takes the most
  // of the part that is too long, with that value's length (after escaping), then the
  // overflow (DescribeKeyOverflow); without such a key, says the prefix is too long.
  std::string DescribeOverflow(const PrefixValues& values, std::string_view rendered,
                               const KeyOverflow& overflow, const ObjectKeyLimits& limits) const;

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
  void AppendPart(const Part& p, const PrefixValues& values, std::string* out) const;

  std::string text_;
  std::vector<std::string> key_names_;  // as given to Compile, for messages
  std::vector<Part> parts_;
  std::vector<TimeFormat> formats_;
  bool uses_error_output_type_ = false;
  bool uses_random_string_ = false;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARTITION_PREFIX_TEMPLATE_H_
