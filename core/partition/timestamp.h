// Reading the value of a timestamp partition key (README "Pipelines", partition keys): a
// decimal number in the key's unit (an N, or digits in an S), or an RFC 3339 string.
//
// A value that is present but is none of these (`yesterday`, `2023-02-30T00:00:00Z`,
// `1e30`, 23 digits, `infinite-future`) has no instant: the caller refuses the record
// (INVALID_TIMESTAMP) unless the key opted in to its fallback for invalid values. Pure;
// no state.
#ifndef LAKEHOSE_CORE_PARTITION_TIMESTAMP_H_
#define LAKEHOSE_CORE_PARTITION_TIMESTAMP_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace lakehose {

// Milliseconds since the Unix epoch for `text`, or nullopt if it is not a timestamp.
//  - decimal text (sign, digits, fraction, exponent) is the number times 10^shift10 ms
//    (3 for seconds, 0 for milliseconds, -3 for microseconds), truncated toward zero,
//    if that fits in int64;
//  - otherwise, when `is_string` (an S, or a JSON string), RFC 3339 with a 'T' (or 't')
//    and an offset: `2024-02-29T12:34:56.789Z`, `2024-02-29T23:30:00-05:00`. Fields must
//    be in range (no February 30, no hour 24, no month 13); no surrounding whitespace.
// An N is never read as RFC 3339 (is_string false).
std::optional<int64_t> ParseTimestampMillis(std::string_view text, bool is_string, int shift10);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARTITION_TIMESTAMP_H_
