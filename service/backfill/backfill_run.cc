#include "service/backfill/backfill_run.h"

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/backfill/scan_protocol.h"
#include "core/base/strings.h"

namespace lakehose {
namespace {

// What the workers of a run share: the first error, the counts, and the progress lines
// of units done but not yet settled (committed, for a table, and appended). Drive runs
// the workers and, on the calling thread, settles and reports.
class Run {
 public:
  Run(BackfillWriter& writer, ProgressFile& progress, const BackfillRunOptions& options,
      const BackfillTick& start)
      : writer_(writer), progress_(progress), options_(options), counts_(start) {}

  bool Stopped() {
    absl::MutexLock lock(&mu_);
    return !failure_.ok();
  }
  void Fail(absl::Status st) {
    absl::MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = std::move(st);
  }
  void Read(int64_t items, int64_t bytes) {
    absl::MutexLock lock(&mu_);
    counts_.items += items;
    counts_.source_bytes += bytes;
  }
  // A unit is written: its progress line waits for the next settle.
  void Written(std::string progress_line) {
    absl::MutexLock lock(&mu_);
    ++counts_.units_done;
    written_.push_back(std::move(progress_line));
  }

  // Runs `threads` copies of `worker` to their end, settling every commit_every_units
  // units written and reporting every tick; then settles what is left (what was written
  // before a failure is whole: it is committed and recorded too).
  absl::StatusOr<BackfillTick> Drive(int threads, const std::function<void()>& worker) {
    threads = std::clamp(threads, 1, 1024);
    {
      absl::MutexLock lock(&mu_);
      running_ = threads;
    }
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
      pool.emplace_back([this, &worker] {
        worker();
        absl::MutexLock lock(&mu_);
        --running_;
      });
    const size_t batch = static_cast<size_t>(std::max(1, options_.commit_every_units));
    absl::Status settled;
    absl::Time next_tick = absl::Now() + options_.tick;
    for (;;) {
      bool done = false;
      BackfillTick tick;
      {
        absl::MutexLock lock(&mu_);
        auto wake = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return running_ == 0 || written_.size() >= batch;
        };
        mu_.AwaitWithDeadline(absl::Condition(&wake), next_tick);
        done = running_ == 0;
        tick = counts_;
      }
      if (settled.ok()) settled = Settle(batch);
      if (!settled.ok()) Fail(settled);
      if (done) break;  // the final tick is the caller's
      if (absl::Now() >= next_tick) {
        next_tick = absl::Now() + options_.tick;
        if (options_.on_progress) options_.on_progress(tick);
      }
    }
    for (std::thread& t : pool) t.join();
    absl::Status failed;
    {
      absl::MutexLock lock(&mu_);
      failed = failure_;
    }
    if (absl::Status st = Settle(1); !st.ok() && failed.ok()) failed = st;
    if (!failed.ok()) return failed;
    absl::MutexLock lock(&mu_);
    return counts_;
  }

 private:
  // Commits (a table) and appends the progress of the units written before it, once at
  // least `at_least` wait.
  absl::Status Settle(size_t at_least) {
    std::vector<std::string> lines;
    {
      absl::MutexLock lock(&mu_);
      if (written_.size() < at_least) return absl::OkStatus();
      lines.swap(written_);
    }
    if (lines.empty()) return absl::OkStatus();
    if (absl::Status st = writer_.Commit(); !st.ok()) return st;
    std::string text;
    for (const std::string& l : lines) text += l;
    return progress_.Append(text);
  }

  BackfillWriter& writer_;
  ProgressFile& progress_;
  const BackfillRunOptions& options_;
  absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> written_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  BackfillTick counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<BackfillTick> RunBackfillUnits(std::vector<BackfillUnitSource> units,
                                              const backfill::Progress& earlier,
                                              BackfillWriter& writer, ProgressFile& progress,
                                              const BackfillRunOptions& options) {
  BackfillTick start;
  start.units_total = static_cast<int64_t>(units.size());
  std::deque<BackfillUnitSource> todo;
  for (BackfillUnitSource& u : units) {
    start.items_total += u.items;
    if (earlier.units.count(u.unit)) {
      ++start.units_skipped;
      start.items_skipped += u.items;
    } else {
      todo.push_back(std::move(u));
    }
  }
  Run run(writer, progress, options, start);
  absl::Mutex todo_mu;
  auto worker = [&] {
    std::vector<std::string> records;
    for (;;) {
      BackfillUnitSource u;
      {
        absl::MutexLock lock(&todo_mu);
        if (todo.empty() || run.Stopped()) return;
        u = std::move(todo.front());
        todo.pop_front();
      }
      records.clear();
      int64_t bytes = 0;
      absl::Status st = u.read(&records, &bytes);
      if (!st.ok()) st = absl::Status(st.code(), StrCat(u.what, ": ", StatusMessage(st)));
      if (st.ok()) {
        run.Read(static_cast<int64_t>(records.size()), bytes);
        std::vector<backfill::UnitRecord> in;
        in.reserve(records.size());
        for (const std::string& r : records) in.push_back({r, u.arrival_ms});
        st = writer.WriteUnit(u.unit, in, u.what);
      }
      if (!st.ok()) return run.Fail(st);
      run.Written(backfill::ProgressUnitLine(u.unit, static_cast<int64_t>(records.size())));
    }
  };
  return run.Drive(options.threads, worker);
}

absl::StatusOr<BackfillTick> RunScanBackfill(DynamoDbClient& ddb,
                                             const backfill::TableDescription& table,
                                             const ScanBackfillOptions& scan,
                                             const backfill::Progress& earlier,
                                             BackfillWriter& writer, ProgressFile& progress,
                                             const BackfillRunOptions& options) {
  // Units are pages here: how many a segment has is known only at its end.
  BackfillTick start;
  start.items_total = table.item_count;  // DynamoDB's estimate
  std::deque<int64_t> todo;
  for (int64_t s = 0; s < scan.segments; ++s) {
    auto it = earlier.segments.find(s);
    if (it != earlier.segments.end()) {
      start.items_skipped += it->second.records;
      start.units_skipped += it->second.pages;
    }
    if (it == earlier.segments.end() || !it->second.done) todo.push_back(s);
  }
  Run run(writer, progress, options, start);
  absl::Mutex todo_mu;
  auto worker = [&] {
    std::vector<std::string> records;
    for (;;) {
      int64_t segment = 0;
      {
        absl::MutexLock lock(&todo_mu);
        if (todo.empty() || run.Stopped()) return;
        segment = todo.front();
        todo.pop_front();
      }
      backfill::ScanRequest req;
      req.table = table.table_name;
      req.segment = segment;
      req.total_segments = scan.segments;
      req.limit = scan.page_items;
      req.consistent_read = scan.consistent_read;
      int64_t page = 0;
      if (auto it = earlier.segments.find(segment); it != earlier.segments.end()) {
        page = it->second.pages;
        req.exclusive_start_key = it->second.next_key;
      }
      for (;; ++page) {
        if (run.Stopped()) return;
        const std::string what = StrCat("segment ", segment, " page ", page);
        if (static_cast<uint64_t>(page) >= kScanPagesPerSegment)
          return run.Fail(
              absl::ResourceExhaustedError(StrCat(what, ": more than ", kScanPagesPerSegment,
                                                  " pages in one segment: use more --segments")));
        absl::StatusOr<backfill::ScanPage> got = ddb.Scan(req);
        if (!got.ok())
          return run.Fail(
              absl::Status(got.status().code(), StrCat(what, ": ", StatusMessage(got.status()))));
        records.clear();
        for (size_t i = 0; i < got->items.size(); ++i) {
          absl::StatusOr<std::string> r = backfill::ScanItemToStreamRecord(
              got->items[i], table.key_names, table.table_name, segment, page, i, scan.started_ms);
          if (!r.ok())
            return run.Fail(
                absl::Status(r.status().code(), StrCat(what, ": ", StatusMessage(r.status()))));
          records.push_back(*std::move(r));
        }
        int64_t bytes = 0;
        for (const std::string& item : got->items) bytes += static_cast<int64_t>(item.size());
        run.Read(static_cast<int64_t>(records.size()), bytes);
        std::vector<backfill::UnitRecord> in;
        in.reserve(records.size());
        for (const std::string& r : records) in.push_back({r, scan.started_ms});
        const uint64_t unit =
            static_cast<uint64_t>(segment) * kScanPagesPerSegment + static_cast<uint64_t>(page);
        if (absl::Status st = writer.WriteUnit(unit, in, what); !st.ok()) return run.Fail(st);
        run.Written(backfill::ProgressPageLine(segment, page, static_cast<int64_t>(records.size()),
                                               got->last_evaluated_key));
        if (got->last_evaluated_key.empty()) break;
        req.exclusive_start_key = got->last_evaluated_key;
      }
    }
  };
  return run.Drive(options.threads, worker);
}

}  // namespace lakehose
