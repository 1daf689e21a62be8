#include "client/cli/records.h"

#include <cstdio>
#include <fstream>
#include <map>
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

void AddRecords(const InputBatch& batch, size_t begin, size_t end,
                google::protobuf::RepeatedPtrField<v1::Record>* records) {
  for (size_t i = begin; i < end; ++i) {
    v1::Record* r = records->Add();
    r->set_record_id(batch.records[i].record_id);
    r->set_data(batch.records[i].data);
    r->set_approximate_arrival_timestamp(batch.records[i].arrival_ms);
  }
}

int WriteResults(const std::vector<v1::RecordResult>& results, const InputBatch& batch,
                 const std::vector<std::string>& key_names, const std::string& output,
                 Counts* counts) {
  const size_t n = batch.records.size();
  std::string out;
  std::vector<ResultView> views;
  views.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    const v1::RecordResult& r = results[i];
    ResultView v;
    v.record_id = r.record_id();
    v.result = FromWire(r.result());
    v.operation = FromWire(r.operation());
    v.data = r.data();
    v.key_prefix = r.key_prefix();
    v.error_code = r.error_code();
    v.error_message = r.error_message();
    v.input_data = i < n ? std::string_view(batch.records[i].data) : std::string_view();
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
    counts->Add(v.result);
    views.push_back(std::move(v));
  }
  if (output.empty()) return 0;
  if (batch.format == BatchFormat::kFirehoseEvent) {
    AppendFirehoseResponse(views, &out);
  } else {
    for (const ResultView& v : views) AppendResultJsonLine(v, &out);
  }
  if (output == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  } else {
    std::ofstream f(output, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(out.data(), static_cast<std::streamsize>(out.size())))
      return Fail(StrCat("cannot write --output ", output));
  }
  return 0;
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
