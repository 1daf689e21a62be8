#include "service/rpc/record_processor.h"

#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "core/base/string_view_hash.h"
#include "core/base/strings.h"
#include "core/transform/parquet_gate.h"
#include "proto/wire.h"

namespace lakehose {
namespace {

// 11 lowercase alphanumerics, like Firehose's !{firehose:random-string}.
std::string RandomString() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s(kFirehoseRandomStringBytes, 'a');
  for (char& c : s) c = kAlphabet[rng() % 36];
  return s;
}

}  // namespace

absl::Status ValidateRecords(const google::protobuf::RepeatedPtrField<v1::Record>& records,
                             const Limits& limits) {
  if (records.size() > limits.max_records_per_request)
    return absl::InvalidArgumentError(StrCat("request has ", records.size(),
                                             " records; the limit (max_records_per_request) is ",
                                             limits.max_records_per_request));
  absl::flat_hash_set<std::string_view, StringViewHash, std::equal_to<>> ids;
  ids.reserve(records.size());
  for (int i = 0; i < records.size(); ++i) {
    const v1::Record& r = records[i];
    if (r.record_id().empty())
      return absl::InvalidArgumentError(StrCat("records[", i, "].record_id is empty"));
    if (static_cast<int64_t>(r.record_id().size()) > limits.max_record_id_bytes)
      return absl::InvalidArgumentError(
          StrCat("records[", i, "].record_id is ", r.record_id().size(),
                 " bytes; the limit (max_record_id_bytes) is ", limits.max_record_id_bytes));
    if (static_cast<int64_t>(r.data().size()) > limits.max_record_bytes)
      return absl::InvalidArgumentError(
          StrCat("records[", i, "] (record_id \"", r.record_id(), "\") is ", r.data().size(),
                 " bytes; the limit (max_record_bytes) is ", limits.max_record_bytes));
    if (!ids.insert(r.record_id()).second)
      return absl::InvalidArgumentError(
          StrCat("records[", i, "].record_id \"", r.record_id(), "\" appears more than once"));
  }
  return absl::OkStatus();
}

RecordProcessor::RecordProcessor(const Config& config, const Clock& clock, Metrics* metrics)
    : config_(config), clock_(clock), metrics_(metrics) {
  if (metrics_ == nullptr) {
    own_metrics_ = std::make_unique<Metrics>(config);
    metrics_ = own_metrics_.get();
  }
}

absl::StatusOr<const PipelineSpec*> RecordProcessor::Process(
    const std::string& pipeline, const google::protobuf::RepeatedPtrField<v1::Record>& records,
    size_t message_bytes, google::protobuf::RepeatedPtrField<v1::RecordResult>* results) {
  const PipelineSpec* spec = config_.FindPipeline(pipeline);
  if (spec == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& p : config_.pipelines) names.push_back(p->name);
    return absl::InvalidArgumentError(
        StrCat("unknown pipeline \"", pipeline, "\" (configured: ", StrJoin(names, ", "), ")"));
  }
  const Limits& limits = config_.server.limits;
  // gRPC itself refuses messages past twice the limit (RESOURCE_EXHAUSTED, before any
  // memory is spent on them); between the two the caller gets a reason.
  if (static_cast<int64_t>(message_bytes) > limits.max_message_bytes)
    return absl::InvalidArgumentError(StrCat("request is ", message_bytes,
                                             " bytes; the limit (max_message_bytes) is ",
                                             limits.max_message_bytes));
  if (absl::Status s = ValidateRecords(records, limits); !s.ok()) return s;

  const std::string random = RandomString();
  TransformContext ctx;
  ctx.default_arrival_ms = clock_.NowMillis();
  ctx.random_string = random;
  TransformerPool::Lease transformer = pool_.Acquire(spec);
  RecordOutcome outcome;
  int64_t ttl_deletes = 0;
  results->Reserve(records.size());
  for (const v1::Record& r : records) {
    InputRecord in;
    in.record_id = r.record_id();
    in.data = r.data();
    in.arrival_ms = r.approximate_arrival_timestamp();
    transformer->Transform(in, ctx, &outcome);
    RefuseUnstorable(*spec, ctx, &outcome);  // what the Parquet writer cannot store
    v1::RecordResult* out = results->Add();
    out->set_record_id(r.record_id());
    out->set_result(ToWire(outcome.result));
    out->set_operation(ToWire(outcome.operation));
    if (outcome.result == Verdict::kOk) {
      ttl_deletes += outcome.ttl_delete ? 1 : 0;
      out->set_data(std::move(outcome.data));
      auto* keys = out->mutable_partition_keys();
      for (size_t k = 0; k < spec->key_names.size(); ++k)
        (*keys)[spec->key_names[k]] = std::move(outcome.partition_values[k]);
    } else if (outcome.result == Verdict::kProcessingFailed) {
      out->set_error_code(std::string(outcome.error_code));
      out->set_error_message(std::move(outcome.error_message));
    }
    out->set_key_prefix(std::move(outcome.key_prefix));
  }
  if (ttl_deletes > 0)
    metrics_->ForPipeline(*spec).ttl_deletes->Increment(static_cast<double>(ttl_deletes));
  return spec;
}

}  // namespace lakehose
