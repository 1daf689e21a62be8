#include "client/cli/records.h"

#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/cli/common.h"
#include "core/base/strings.h"
#include "proto/wire.h"

namespace lakehose::cli {

void Counts::Add(Verdict v) {
  if (v == Verdict::kOk)
    ++ok;
  else if (v == Verdict::kDropped)
    ++dropped;
  else
    ++failed;
}

void AddRecords(const std::vector<OwnedRecord>& records, size_t begin, size_t end,
                google::protobuf::RepeatedPtrField<v1::Record>* out) {
  out->Reserve(static_cast<int>(end - begin));
  for (size_t i = begin; i < end; ++i) {
    v1::Record* r = out->Add();
    r->set_record_id(records[i].record_id);
    r->set_data(records[i].data);
    r->set_approximate_arrival_timestamp(records[i].arrival_ms);
  }
}

ResultView ViewOf(const v1::RecordResult& r, std::string_view input,
                  const std::vector<std::string>& key_names) {
  ResultView v;
  v.record_id = r.record_id();
  v.result = FromWire(r.result());
  v.operation = FromWire(r.operation());
  v.data = r.data();
  v.key_prefix = r.key_prefix();
  v.error_code = r.error_code();
  v.error_message = r.error_message();
  v.input_data = input;
  if (!key_names.empty()) {
    for (const auto& k : key_names) {
      auto it = r.partition_keys().find(k);
      if (it != r.partition_keys().end()) v.partition_keys.emplace_back(it->first, it->second);
    }
  } else {
    std::map<std::string_view, std::string_view> sorted;
    for (const auto& [k, val] : r.partition_keys()) sorted[k] = val;
    for (const auto& kv : sorted) v.partition_keys.push_back(kv);
  }
  return v;
}

int ResultWriter::Add(const ResultView& r, BatchFormat format) {
  counts_.Add(r.result);
  if (!enabled_) return 0;
  if (format == BatchFormat::kFirehoseEvent) {
    if (!started_) AppendFirehoseResponseStart(&buf_);
    started_ = true;
    AppendFirehoseResponseRecord(r, rendered_ == 0, &buf_);
  } else {
    AppendResultJsonLine(r, &buf_);
  }
  ++rendered_;
  return 0;
}

int ResultWriter::Flush(BatchFormat format, bool last) {
  // A megabyte a write: few system calls, and the buffer's pages reused.
  constexpr size_t kWriteAt = 1 << 20;
  if (!enabled_) return 0;
  if (last && format == BatchFormat::kFirehoseEvent) {
    if (!started_) AppendFirehoseResponseStart(&buf_);
    started_ = true;
    AppendFirehoseResponseEnd(&buf_);
  }
  if (!last && buf_.size() < kWriteAt) return 0;
  // At the end, written even when empty: an empty input still creates --output.
  if (!output_.Write(buf_)) return Fail(output_.error());
  buf_.clear();
  return 0;
}

namespace {

// One read chunk's records, as the splitter left them.
struct Window {
  std::vector<OwnedRecord> records;
  BatchFormat format = BatchFormat::kJsonLines;
  absl::Status status;  // a read or splitter error: the input's end
  bool end = false;
};

// Reads and splits the input on a thread of its own, up to kAhead windows ahead of the
// caller, so that reading, splitting and the caller's transforming (or sending) and
// writing overlap. The splitter is the thread's alone until it is joined.
class ReadAhead {
 public:
  ReadAhead(InputFile* in, InputSplitter* splitter)
      : thread_([this, in, splitter] { Run(in, splitter); }) {}
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  ~ReadAhead() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // The next window, waiting for it; the last one has `end` set.
  Window Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::deque<Window>* q) { return !q->empty(); }, &queue_));
    Window w = std::move(queue_.front());
    queue_.pop_front();
    return w;
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  static constexpr size_t kAhead = 4;

  void Run(InputFile* in, InputSplitter* splitter) {
    std::unique_ptr<char[]> chunk(new char[kChunk]);
    for (bool end = false; !end;) {
      Window w;
      absl::StatusOr<size_t> n = in->Read(chunk.get(), kChunk, [this] {
        absl::MutexLock lock(&mu_);
        return stop_;
      });
      w.status = n.status();
      if (n.ok())
        w.status = *n > 0 ? splitter->Feed(std::string_view(chunk.get(), *n), &w.records)
                          : splitter->Finish(&w.records);
      end = w.end = !w.status.ok() || *n == 0;
      w.format = splitter->format().value_or(BatchFormat::kJsonLines);
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ReadAhead::RoomOrStop));
      if (stop_) return;
      queue_.push_back(std::move(w));
    }
  }
  bool RoomOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.size() < kAhead || stop_;
  }

  absl::Mutex mu_;
  std::deque<Window> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace

int StreamRecords(InputFile* in, InputSplitter* splitter, const TakeRecords& take,
                  absl::Status* input_error) {
  std::vector<OwnedRecord> pending;
  ReadAhead reader(in, splitter);
  for (;;) {
    Window w = reader.Next();
    if (pending.empty()) {
      pending.swap(w.records);
    } else {
      pending.insert(pending.end(), std::make_move_iterator(w.records.begin()),
                     std::make_move_iterator(w.records.end()));
    }
    if (int rc = take(&pending, w.end, w.format); rc != 0) return rc;
    if (!w.status.ok()) *input_error = w.status;
    if (w.end) return 0;
  }
}

int FailAfterInputError(const absl::Status& error, size_t records, std::string_view done) {
  return Fail(StrCat(StatusMessage(error), "; ", records, records == 1 ? " record" : " records",
                     " before it ", records == 1 ? "was " : "were ", done));
}

void PrintSummary(std::string_view command, size_t records, const Counts& counts, double seconds) {
  std::fprintf(stderr,
               "lakehose %.*s: %zu records: %lld ok, %lld dropped, %lld failed (%.2f s, %.0f "
               "records/s)\n",
               static_cast<int>(command.size()), command.data(), records,
               static_cast<long long>(counts.ok), static_cast<long long>(counts.dropped),
               static_cast<long long>(counts.failed), seconds,
               seconds > 0 ? records / seconds : 0.0);
}

}  // namespace lakehose::cli
