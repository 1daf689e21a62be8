// Making partition values safe to use as one segment of an object key.
//
// The rule (documented in the README, "Partition values"): Hive's own escaping, so that
// Athena, Spark, Trino and DuckDB read the value back unchanged with hive_partitioning.
//  - these bytes are written as %XX (upper-case hex): control characters 0x00-0x1F, 0x7F,
//    and  " # % ' * / : = ? \ { [ ] ^   (Hive's FileUtils.escapePathName set, plus 0x00);
//  - a value that is "." or ".." has its dots escaped (%2E), so it can never walk the path;
//  - the empty value becomes __HIVE_DEFAULT_PARTITION__, as Hive writes NULL partitions;
//  - everything else, including spaces and non-ASCII UTF-8, is kept as is.
#ifndef LAKEHOSE_CORE_PARTITION_PATH_SAFE_H_
#define LAKEHOSE_CORE_PARTITION_PATH_SAFE_H_

#include <string>
#include <string_view>

namespace lakehose {

inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

// Appends the path-safe form of `value` to `out`.
void AppendPathSafe(std::string_view value, std::string* out);
std::string PathSafe(std::string_view value);

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARTITION_PATH_SAFE_H_
