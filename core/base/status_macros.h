// Small status helpers. The abseil on Debian bookworm (20220623) has no status macros,
// so they live here, once, for the whole project.
#ifndef LAKEHOSE_CORE_BASE_STATUS_MACROS_H_
#define LAKEHOSE_CORE_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LAKEHOSE_CONCAT_INNER_(a, b) a##b
#define LAKEHOSE_CONCAT_(a, b) LAKEHOSE_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::absl::Status lakehose_status_ = (expr);            \
    if (!lakehose_status_.ok()) return lakehose_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MaybeX());` assigns the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(LAKEHOSE_CONCAT_(lakehose_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // LAKEHOSE_CORE_BASE_STATUS_MACROS_H_
