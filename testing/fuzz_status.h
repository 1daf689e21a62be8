// For fuzz targets of parsers whose contract is "refuse with INVALID_ARGUMENT, or
// succeed": any other code (or a crash) is a finding.
#ifndef LAKEHOSE_TESTING_FUZZ_STATUS_H_
#define LAKEHOSE_TESTING_FUZZ_STATUS_H_

#include <cstdlib>

#include "absl/status/status.h"

namespace lakehose {

inline void AbortUnlessOkOrInvalidArgument(const absl::Status& s) {
  if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) std::abort();
}

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_FUZZ_STATUS_H_
