// Fuzz target for DynamoDB's answers (untrusted: any endpoint the user names): Scan and
// DescribeTable answers, error answers, and scanned items turned into stream records. Each
// parser refuses with INVALID_ARGUMENT or returns; every item of a parsed page is a JSON
// object holding what the DOM reads there, and a converted item is a JSON object too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/backfill/scan_protocol.h"
#include "simdjson.h"
#include "testing/fuzz_status.h"

namespace {

constexpr auto CheckStatus = lakehose::AbortUnlessOkOrInvalidArgument;

void CheckObject(std::string_view text) {
  simdjson::dom::parser p;
  simdjson::dom::object o;
  if (p.parse(text.data(), text.size()).get_object().get(o) != simdjson::SUCCESS) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace b = lakehose::backfill;
  absl::StatusOr<b::ScanPage> page = b::ParseScanResponse(text);
  CheckStatus(page.status());
  if (page.ok()) {
    if (page->items.size() != static_cast<size_t>(page->count)) std::abort();
    // The items' text is found apart from the DOM: it must hold the DOM's values.
    if (page->count > 0) {
      simdjson::dom::parser whole;
      simdjson::dom::array dom_items;
      if (whole.parse(text.data(), text.size())["Items"].get(dom_items) != simdjson::SUCCESS)
        std::abort();
      size_t k = 0;
      for (simdjson::dom::element e : dom_items) {
        simdjson::dom::parser one;
        simdjson::dom::element item;
        if (k >= page->items.size() ||
            one.parse(page->items[k].data(), page->items[k].size()).get(item) !=
                simdjson::SUCCESS ||
            simdjson::minify(item) != simdjson::minify(e))
          std::abort();
        ++k;
      }
    }
    for (size_t i = 0; i < page->items.size(); ++i) {
      CheckObject(page->items[i]);
      absl::StatusOr<std::string> r =
          b::ScanItemToStreamRecord(page->items[i], {"pk"}, "t", 0, 0, i, 1700000000000);
      CheckStatus(r.status());
      if (r.ok()) CheckObject(*r);
    }
    if (!page->last_evaluated_key.empty()) {
      CheckObject(page->last_evaluated_key);
      simdjson::dom::parser whole, one;
      simdjson::dom::element dom_key, key;
      if (whole.parse(text.data(), text.size())["LastEvaluatedKey"].get(dom_key) !=
              simdjson::SUCCESS ||
          one.parse(page->last_evaluated_key).get(key) != simdjson::SUCCESS ||
          simdjson::minify(key) != simdjson::minify(dom_key))
        std::abort();
      CheckStatus(
          b::ScanRequestBody({.table = "t", .exclusive_start_key = page->last_evaluated_key})
              .status());
    }
  }
  CheckStatus(b::ParseDescribeTable(text).status());
  (void)b::ParseDynamoDbError(400, text);
  absl::StatusOr<std::string> r = b::ScanItemToStreamRecord(text, {"pk"}, "t", 0, 0, 0, 0);
  CheckStatus(r.status());
  if (r.ok()) CheckObject(*r);
  return 0;
}
