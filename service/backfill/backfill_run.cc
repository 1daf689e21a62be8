#include "service/backfill/backfill_run.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/strings.h"

namespace lakehose {

absl::StatusOr<BackfillTick> RunBackfillUnits(std::vector<BackfillUnitSource> units,
                                              const backfill::Progress& earlier,
                                              BackfillWriter& writer, ProgressFile& progress,
                                              const BackfillRunOptions& options) {
  BackfillTick tick;
  tick.units_total = static_cast<int64_t>(units.size());
  std::vector<BackfillUnitSource> todo;
  for (BackfillUnitSource& u : units) {
    tick.items_total += u.items;
    if (earlier.units.count(u.unit)) {
      ++tick.units_skipped;
      tick.items_skipped += u.items;
    } else {
      todo.push_back(std::move(u));
    }
  }

  absl::Mutex mu;
  size_t next = 0;                   // GUARDED_BY(mu): the next unit of `todo` to take
  absl::Status failure;              // GUARDED_BY(mu): the first error
  std::vector<std::string> written;  // GUARDED_BY(mu): progress lines not yet appended
  int running = 0;                   // GUARDED_BY(mu)
  BackfillTick counts = tick;        // GUARDED_BY(mu)

  auto worker = [&] {
    std::vector<std::string> records;
    for (;;) {
      const BackfillUnitSource* u = nullptr;
      {
        absl::MutexLock lock(&mu);
        if (!failure.ok() || next >= todo.size()) break;
        u = &todo[next++];
      }
      records.clear();
      int64_t bytes = 0;
      absl::Status st = u->read(&records, &bytes);
      if (!st.ok()) st = absl::Status(st.code(), StrCat(u->what, ": ", StatusMessage(st)));
      if (st.ok()) {
        {
          absl::MutexLock lock(&mu);
          counts.items += static_cast<int64_t>(records.size());
          counts.source_bytes += bytes;
        }
        std::vector<backfill::UnitRecord> in;
        in.reserve(records.size());
        for (const std::string& r : records) in.push_back({r, u->arrival_ms});
        st = writer.WriteUnit(u->unit, in, u->what);
      }
      absl::MutexLock lock(&mu);
      if (!st.ok()) {
        if (failure.ok()) failure = st;
        break;
      }
      ++counts.units_done;
      written.push_back(backfill::ProgressUnitLine(u->unit, static_cast<int64_t>(records.size())));
    }
    absl::MutexLock lock(&mu);
    --running;
  };

  const int threads = std::clamp(options.threads, 1, 64);
  std::vector<std::thread> pool;
  {
    absl::MutexLock lock(&mu);
    running = threads;
  }
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker);

  // Commits (a table) and appends the progress of the units written before it.
  auto settle = [&](bool all) -> absl::Status {
    std::vector<std::string> lines;
    {
      absl::MutexLock lock(&mu);
      if (!all && static_cast<int>(written.size()) < std::max(1, options.commit_every_units))
        return absl::OkStatus();
      lines.swap(written);
    }
    if (lines.empty()) return absl::OkStatus();
    if (absl::Status st = writer.Commit(); !st.ok()) return st;
    std::string text;
    for (const std::string& l : lines) text += l;
    return progress.Append(text);
  };

  // Wakes when the workers are done or enough units wait for their commit (and progress
  // line), else every tick for the progress report.
  const size_t batch = static_cast<size_t>(std::max(1, options.commit_every_units));
  absl::Status settled;
  absl::Time next_tick = absl::Now() + options.tick;
  for (;;) {
    bool done = false;
    {
      absl::MutexLock lock(&mu);
      auto wake = [&] { return running == 0 || written.size() >= batch; };
      mu.AwaitWithDeadline(absl::Condition(&wake), next_tick);
      done = running == 0;
      tick = counts;
    }
    if (settled.ok()) settled = settle(false);
    if (!settled.ok()) {
      absl::MutexLock lock(&mu);
      if (failure.ok()) failure = settled;
    }
    if (done) break;  // the final tick is the caller's
    if (absl::Now() >= next_tick) {
      next_tick = absl::Now() + options.tick;
      if (options.on_progress) options.on_progress(tick);
    }
  }
  for (std::thread& t : pool) t.join();
  absl::Status failed;
  {
    absl::MutexLock lock(&mu);
    failed = failure;
  }
  // What was written before a failure is still committed and recorded: it is whole.
  if (absl::Status st = settle(true); !st.ok() && failed.ok()) failed = st;
  if (!failed.ok()) return failed;
  absl::MutexLock lock(&mu);
  return counts;
}

}  // namespace lakehose
