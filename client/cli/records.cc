#include "client/cli/records.h"

#include <cstdio>
#include <map>
#include <memory>
#include <utility>

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

int StreamRecords(InputFile* in, InputSplitter* splitter,
                  const std::function<int(std::vector<OwnedRecord>*, bool)>& take,
                  absl::Status* input_error) {
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<char[]> chunk(new char[kChunk]);
  std::vector<OwnedRecord> pending;
  for (;;) {
    absl::StatusOr<size_t> n = in->Read(chunk.get(), kChunk);
    absl::Status status = n.status();
    if (n.ok())
      status = *n > 0 ? splitter->Feed(std::string_view(chunk.get(), *n), &pending)
                      : splitter->Finish(&pending);
    const bool at_end = !status.ok() || *n == 0;
    if (int rc = take(&pending, at_end); rc != 0) return rc;
    if (!status.ok()) *input_error = status;
    if (at_end) return 0;
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
