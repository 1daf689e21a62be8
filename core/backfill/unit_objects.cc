#include "core/backfill/unit_objects.h"

#include <map>
#include <utility>

#include "absl/status/status.h"
#include "core/base/strings.h"
#include "core/delivery/delivery_format.h"
#include "core/transform/parquet_gate.h"

namespace lakehose::backfill {

absl::StatusOr<uint64_t> UnitSequence(uint64_t unit, uint64_t part) {
  if (unit >= kMaxUnits)
    return absl::InvalidArgumentError(
        StrCat("unit ", unit, ": a backfill has at most ", kMaxUnits, " units"));
  if (part >= kPartsPerUnit)
    return absl::InvalidArgumentError(StrCat("unit ", unit, " needs more than ", kPartsPerUnit,
                                             " objects (one per partition and ",
                                             "buffer.size_mb): too many partitions in one unit"));
  return (unit + 1) * kPartsPerUnit + part;
}

absl::StatusOr<UnitObjects> PlanUnitObjects(RecordTransformer& transformer,
                                            const PipelineSpec& spec,
                                            const std::vector<UnitRecord>& records,
                                            const UnitNaming& naming) {
  UnitObjects out;
  // The open object of each prefix (an index into out.objects).
  std::map<std::string, size_t, std::less<>> open;
  TransformContext ctx;
  ctx.random_string = naming.random_string;
  RecordOutcome outcome;
  std::string line;
  const size_t max_bytes = std::max<size_t>(naming.max_object_bytes, 1);
  for (const UnitRecord& r : records) {
    InputRecord in;
    in.data = r.data;
    in.arrival_ms = r.arrival_ms;
    ctx.default_arrival_ms = r.arrival_ms;
    transformer.Transform(in, ctx, &outcome);
    RefuseUnstorable(spec, ctx, &outcome);
    line.clear();
    if (outcome.result == Verdict::kOk) {
      line.append(outcome.data);
      line.push_back('\n');
      ++out.ok;
    } else if (outcome.result == Verdict::kProcessingFailed) {
      AppendErrorDocument(1, r.arrival_ms, outcome.error_code, outcome.error_message, r.data,
                          &line);
      ++out.failed;
    } else {
      ++out.dropped;
      continue;
    }
    const bool error_doc = outcome.result == Verdict::kProcessingFailed;
    // Error documents and documents never share an object (they are different formats
    // in a Parquet pipeline), even under one prefix.
    std::string slot = StrCat(error_doc ? "e" : "d", outcome.key_prefix);
    auto it = open.find(slot);
    if (it != open.end() && out.objects[it->second].body.size() + line.size() > max_bytes &&
        !out.objects[it->second].body.empty()) {
      open.erase(it);
      it = open.end();
    }
    if (it == open.end()) {
      PlannedObject& o = out.objects.emplace_back();
      o.prefix = outcome.key_prefix;
      o.error_documents = error_doc;
      it = open.emplace(std::move(slot), out.objects.size() - 1).first;
    }
    PlannedObject& o = out.objects[it->second];
    o.body.append(line);
    ++o.records;
  }
  for (size_t part = 0; part < out.objects.size(); ++part) {
    PlannedObject& o = out.objects[part];
    absl::StatusOr<uint64_t> sequence = UnitSequence(naming.unit, part);
    if (!sequence.ok()) return sequence.status();
    o.key = ObjectKey(o.prefix, naming.pipeline, naming.writer_id, *sequence,
                      ObjectExtensionFor(spec.destination, o.body));
    out.bytes += static_cast<int64_t>(o.body.size());
  }
  return out;
}

}  // namespace lakehose::backfill
