// Fuzz target for the record decoder: arbitrary bytes as a record's data, through a
// dynamodb-stream pipeline (both number modes, partition keys and projection) and a json
// pipeline, and through the CLI's batch parser. Nothing may crash, hang or leak, and every
// outcome must be one of the three verdicts with an error code when it failed. An OK
// document must be one its readers accept (README "Limits"): no deeper than
// kMaxNestingDepth levels, no name twice in an object. The seed corpus has deep inputs
// (33, 1,000 and 50,000 levels, typed and plain) and repeated names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string_view>

#include "core/base/limits.h"
#include "core/config/config.h"
#include "core/transform/batch_io.h"
#include "core/transform/transformer.h"

namespace {

constexpr std::string_view kConfig = R"yaml(
pipelines:
  - name: stream
    input: dynamodb-stream
    image: new-or-old
    metadata: [eventID, SequenceNumber, ApproximateCreationDateTime]
    partition_keys:
      k:  { attribute: pk, default: none }
      n:  { attribute: nested.inner }
      ts: { timestamp: createdAtTime, unit: ms, format: "%Y/%m/%d %H", fallback: approximate_creation_time }
  - name: strings
    input: dynamodb-stream
    filter: { event_names: [INSERT, MODIFY] }
    image: old
    numbers: string
    fields: [pk, a, b]
  - name: json
    input: json
    fields: [a, b, c, ts]
    partition_keys:
      a:  { attribute: a, default: x }
      ts: { timestamp: ts, unit: s, format: "%Y", fallback: arrival_time }
)yaml";

struct Pipelines {
  lakehose::Config config;
  std::unique_ptr<lakehose::RecordTransformer> t[3];
};

Pipelines* Get() {
  static Pipelines* p = [] {
    auto* p = new Pipelines;
    auto config = lakehose::ParseConfig(kConfig, "fuzz", [](const std::string&) {
      return absl::StatusOr<absl::TimeZone>(absl::UTCTimeZone());
    });
    if (!config.ok()) std::abort();
    p->config = *std::move(config);
    for (int i = 0; i < 3; ++i)
      p->t[i] = std::make_unique<lakehose::RecordTransformer>(*p->config.pipelines[i]);
    return p;
  }();
  return p;
}

// True if `v`, which `depth` objects and arrays enclose, is within the nesting limit and
// has no repeated name in an object. Recursion stops one level past the limit.
bool Readable(simdjson::dom::element v, int depth) {
  simdjson::dom::object obj;
  simdjson::dom::array arr;
  if (v.get_object().get(obj) == simdjson::SUCCESS) {
    if (depth >= lakehose::kMaxNestingDepth) return false;
    std::set<std::string_view> names;
    for (auto f : obj)
      if (!names.insert(f.key).second || !Readable(f.value, depth + 1)) return false;
  } else if (v.get_array().get(arr) == simdjson::SUCCESS) {
    if (depth >= lakehose::kMaxNestingDepth) return false;
    for (simdjson::dom::element item : arr)
      if (!Readable(item, depth + 1)) return false;
  }
  return true;
}

// The document as a reader sees it: its top-level object is level 0. (simdjson's DOM
// refuses integers past 64 bits, which an OK json document keeps exactly: such a
// document is not checked.)
bool ReadableDocument(std::string_view doc) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object top;
  const auto e = parser.parse(doc.data(), doc.size()).get(root);
  if (e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE) return true;
  if (e || root.get_object().get(top)) return false;
  std::set<std::string_view> names;
  for (auto f : top)
    if (!names.insert(f.key).second || !Readable(f.value, 0)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Pipelines* p = Get();
  lakehose::TransformContext ctx;
  ctx.default_arrival_ms = 1700000000000;
  ctx.random_string = "fuzzfuzzfuz";
  lakehose::RecordOutcome out;
  for (auto& t : p->t) {
    t->Transform({"id", input, 0}, ctx, &out);
    const bool failed = out.result == lakehose::Verdict::kProcessingFailed;
    if (out.result == lakehose::Verdict::kUnspecified) std::abort();
    if (failed != !out.error_code.empty()) std::abort();
    if (out.result == lakehose::Verdict::kOk &&
        (out.data.empty() || out.data.front() != '{' || out.data.back() != '}'))
      std::abort();
    if (out.result == lakehose::Verdict::kOk && !ReadableDocument(out.data)) std::abort();
  }
  auto batch = lakehose::ParseInputBatch(input);
  (void)batch;
  return 0;
}
