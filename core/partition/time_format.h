// Formatting of instants for partition keys and object key prefixes.
//
// A TimeFormat is compiled once from either a strftime pattern (partition keys:
// `format: "%Y-%m-%d"`) or a Java DateTimeFormatter-style pattern (Firehose's
// `!{timestamp:yyyy/MM/dd}`), then applied per record without allocation beyond the
// output. Common fields are formatted directly from civil time; any other strftime
// conversion falls back to absl::FormatTime, so every strftime pattern works.
//
// Pure: the time zone is passed in (loading it is the caller's business).
// Immutable after construction; safe to share between threads.
#ifndef LAKEHOSE_CORE_PARTITION_TIME_FORMAT_H_
#define LAKEHOSE_CORE_PARTITION_TIME_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lakehose {

class TimeFormat {
 public:
  // strftime-style: %Y %y %m %d %H %M %S %j %% are formatted directly; other
  // conversions go through absl::FormatTime.
  static absl::StatusOr<TimeFormat> FromStrftime(std::string_view pattern, absl::TimeZone tz);
  // Java-style, as Firehose's !{timestamp:...}: yyyy yy MM dd HH mm ss SSS, text in
  // single quotes ('' is a quote), other non-letters literal. Always UTC, as in Firehose.
  static absl::StatusOr<TimeFormat> FromJavaPattern(std::string_view pattern);

  // Appends the formatted instant (milliseconds since the Unix epoch) to `out`.
  void Append(int64_t unix_ms, std::string* out) const;
  std::string Format(int64_t unix_ms) const;

  const std::string& pattern() const { return pattern_; }

 private:
  enum class Field : uint8_t {
    kLiteral,
    kYear4,
    kYear2,
    kMonth,
    kDay,
    kHour,
    kMinute,
    kSecond,
    kMillis,
    kDayOfYear
  };
  struct Token {
    Field field;
    std::string literal;
  };
  TimeFormat() = default;

  std::string pattern_;
  absl::TimeZone tz_ = absl::UTCTimeZone();
  bool utc_ = true;
  bool use_absl_ = false;  // the pattern has conversions only absl::FormatTime knows
  std::vector<Token> tokens_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARTITION_TIME_FORMAT_H_
