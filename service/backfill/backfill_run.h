// A whole backfill run: the units of a source read on a few threads, each written by
// the BackfillWriter, a table committed every few units, and the progress file appended
// as units are done (stored; for a table, committed). The units an earlier run finished
// (the progress file) are skipped. The first error stops the run: units already done
// stay done (whole), the failing unit has stored nothing or only objects a re-run finds
// "existing", and the error names it.
//
// The caller reports progress: `on_progress` runs on the calling thread about every
// `tick` with the counts so far (not at the end: the caller has the result).
#ifndef LAKEHOSE_SERVICE_BACKFILL_BACKFILL_RUN_H_
#define LAKEHOSE_SERVICE_BACKFILL_BACKFILL_RUN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/backfill/progress.h"
#include "core/backfill/scan_protocol.h"
#include "service/backfill/backfill_writer.h"
#include "service/backfill/dynamodb_client.h"

namespace lakehose {

// What a run has done so far (the units and items of this run; skipped: done earlier).
struct BackfillTick {
  int64_t units_total = 0;
  int64_t units_skipped = 0;
  int64_t units_done = 0;
  int64_t items = 0;          // read from the source by this run
  int64_t items_total = 0;    // of the whole source (0: unknown, e.g. a Scan's estimate)
  int64_t items_skipped = 0;  // in units done earlier
  int64_t source_bytes = 0;   // read from the source by this run
};

// One unit of a source: read (and checked) on a worker thread.
struct BackfillUnitSource {
  uint64_t unit = 0;
  std::string what;  // for messages: "data file 3 (data/….json.gz)"
  // Reads the unit's records (stream records) and their arrival time; adds the bytes
  // read to *bytes.
  std::function<absl::Status(std::vector<std::string>* records, int64_t* bytes)> read;
  int64_t arrival_ms = 0;
  int64_t items = 0;  // expected, for progress
};

struct BackfillRunOptions {
  int threads = 2;
  int commit_every_units = 16;  // a table: units per snapshot (the last one: the rest)
  absl::Duration tick = absl::Milliseconds(500);
  std::function<void(const BackfillTick&)> on_progress;
};

// Runs the units not in `earlier.units`, appending a ProgressUnitLine for each as it is
// done. Returns the final tick.
absl::StatusOr<BackfillTick> RunBackfillUnits(std::vector<BackfillUnitSource> units,
                                              const backfill::Progress& earlier,
                                              BackfillWriter& writer, ProgressFile& progress,
                                              const BackfillRunOptions& options);

// A parallel Scan: segment s's page p is unit s * kScanPagesPerSegment + p (its objects'
// names), so a Scan has at most kMaxScanSegmentsForBackfill segments.
inline constexpr uint64_t kScanPagesPerSegment = 9'000'000;
inline constexpr int64_t kMaxScanSegmentsForBackfill = 1000;

struct ScanBackfillOptions {
  int64_t segments = 4;       // TotalSegments
  int64_t page_items = 1000;  // Limit: items per page (DynamoDB also stops at 1 MB)
  bool consistent_read = false;
  // The time the records carry (their ApproximateCreationDateTime and arrival): the
  // first run's start, kept in the progress file, so that a resumed Scan writes the same
  // documents under the same prefixes.
  int64_t started_ms = 0;
};

// Scans `table`'s segments (`options.threads` at a time), each from where `earlier` says
// it stopped, page by page: each page's items as INSERTs through the writer, its
// ProgressPageLine (with its LastEvaluatedKey) appended once settled. A page read again
// after a kill is the same page (same ExclusiveStartKey and Limit): the same objects.
// Units are pages in the ticks (units_total 0: unknown; items_total: DynamoDB's item
// count estimate).
absl::StatusOr<BackfillTick> RunScanBackfill(DynamoDbClient& ddb,
                                             const backfill::TableDescription& table,
                                             const ScanBackfillOptions& scan,
                                             const backfill::Progress& earlier,
                                             BackfillWriter& writer, ProgressFile& progress,
                                             const BackfillRunOptions& options);

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_BACKFILL_BACKFILL_RUN_H_
