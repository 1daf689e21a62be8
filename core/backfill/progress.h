// The progress file of a backfill, as pure functions: what a run has finished, so that a
// run started again after a kill (or a failure) skips it. JSON Lines, appended and
// fsynced as units finish:
//
//   {"lakehose_backfill":1,"source":"<export ARN | dynamodb:<table ARN>>","pipeline":"p",
//    "writer_id":"backfill-...","started_ms":1700000000000}            the header
//   {"unit":3,"records":5000}                    an export's data file 3 is stored (and
//                                                committed, for a table)
//   {"segment":1,"page":7,"records":1000,"next":<the page's LastEvaluatedKey, or null>}
//                                                a Scan's page 7 of segment 1 likewise;
//                                                next null: the segment is done
//
// The file is an optimisation and a record, never the only guard: every unit's objects
// have deterministic names and are stored with If-None-Match (a table's commits skip
// what the table holds), so a unit done again stores nothing twice. A Scan needs the
// file to resume (where each segment stopped, and the time its records carry).
//
// A line torn by a kill (the last, without its newline) or otherwise unreadable is
// skipped and counted: its unit is done again, which is safe.
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_BACKFILL_PROGRESS_H_
#define LAKEHOSE_CORE_BACKFILL_PROGRESS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lakehose::backfill {

struct ProgressHeader {
  std::string source;
  std::string pipeline;
  std::string writer_id;
  int64_t started_ms = 0;
};

struct SegmentProgress {
  int64_t pages = 0;     // pages done: the next page's number
  std::string next_key;  // raw JSON of the ExclusiveStartKey to resume from ("": start)
  bool done = false;     // the last page was done
  int64_t records = 0;
};

struct Progress {
  ProgressHeader header;
  std::map<uint64_t, int64_t> units;  // export data file -> records
  std::map<int64_t, SegmentProgress> segments;
  int64_t skipped_lines = 0;  // torn or unreadable: their units are done again
};

std::string ProgressHeaderLine(const ProgressHeader& h);
std::string ProgressUnitLine(uint64_t unit, int64_t records);
// `next_key`: the raw JSON of LastEvaluatedKey, or "" for the segment's last page.
std::string ProgressPageLine(int64_t segment, int64_t page, int64_t records,
                             std::string_view next_key);

// Reads a progress file's text. INVALID_ARGUMENT when its first line is not a header
// (not a progress file); other unreadable lines are skipped and counted. A page line
// counts only if it follows the segment's previous page (pages are done in order).
absl::StatusOr<Progress> ParseProgress(std::string_view text);

}  // namespace lakehose::backfill

#endif  // LAKEHOSE_CORE_BACKFILL_PROGRESS_H_
