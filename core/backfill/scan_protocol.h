// DynamoDB's Scan and DescribeTable over the JSON 1.0 protocol, the pure half of
// `lakehose backfill --scan` (issue 16): request bodies, answer parsers, the error
// answers classified once (throttled, transient, auth, client), and each scanned item as
// the DynamoDB Streams record (Lambda's shape) a pipeline's transform takes, in the shape
// ExportLineToStreamRecord (export_format.h) gives an export's item.
//
//   ASSIGN_OR_RETURN(std::string body, ScanRequestBody({.table = "orders", .segment = 2,
//                                                       .total_segments = 8}));
//   ... POST it with X-Amz-Target: DynamoDB_20120810.Scan ...
//   ASSIGN_OR_RETURN(ScanPage page, ParseScanResponse(answer_body));
//   for (size_t i = 0; i < page.items.size(); ++i)
//     ScanItemToStreamRecord(page.items[i], keys, "orders", 2, page_number, i, now_ms);
//   // next page: ExclusiveStartKey = page.last_evaluated_key, until it is empty.
//
// Answers are untrusted (any endpoint the user names): parsers return INVALID_ARGUMENT
// naming the field, never crash, refuse answers past kMaxDynamoDbAnswerBytes unread, and
// parse with simdjson's DOM parser (no recursion) under the depth limit
// kMaxDynamoDbJsonDepth.
//
// Pure (no I/O, no clock); thread-safe (no state).
#ifndef LAKEHOSE_CORE_BACKFILL_SCAN_PROTOCOL_H_
#define LAKEHOSE_CORE_BACKFILL_SCAN_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose::backfill {

// A Scan page holds at most 1 MB of items as DynamoDB sizes them; as JSON (type tags,
// base64 binaries, escapes) that stays within a few MB. 32 MiB leaves room for
// DynamoDB-compatible servers that cut pages less exactly, and refuses anything else.
inline constexpr size_t kMaxDynamoDbAnswerBytes = size_t{32} << 20;

// DynamoDB nests maps and lists at most 32 levels deep; DynamoDB JSON spends two JSON
// levels per level ({"M": {...}}) and the answer three more (answer, Items, item): 67.
// The margin lets a deeper item through to the transform, which refuses it alone
// (NESTING_TOO_DEEP) rather than failing the page.
inline constexpr size_t kMaxDynamoDbJsonDepth = 128;

// The largest TotalSegments DynamoDB accepts.
inline constexpr int64_t kMaxScanSegments = 1000000;

struct ScanRequest {
  std::string table = {};
  int64_t segment = 0;
  int64_t total_segments = 1;  // 1..kMaxScanSegments; 1: no Segment/TotalSegments sent
  // The page to start after: the raw JSON text of a LastEvaluatedKey (a map of
  // attributes), or empty for the segment's first page.
  std::string exclusive_start_key = {};
  int64_t limit = 0;             // items evaluated per page; 0: none (DynamoDB's 1 MB)
  bool consistent_read = false;  // eventually consistent reads cost half
};

// The body of a Scan request (ReturnConsumedCapacity TOTAL, so the answer says what the
// page cost). INVALID_ARGUMENT for an empty table name, a segment outside
// [0, total_segments), total_segments outside [1, kMaxScanSegments], a negative limit, or
// an exclusive_start_key that is not a JSON object.
absl::StatusOr<std::string> ScanRequestBody(const ScanRequest& request);

struct ScanPage {
  // Each item's DynamoDB JSON map ({"pk":{"S":"a"},...}) as the answer's text holds it,
  // in the answer's order.
  std::vector<std::string> items;
  // The raw JSON text of LastEvaluatedKey; empty when the segment is done.
  std::string last_evaluated_key;
  int64_t count = 0;          // Count: items returned (after any filter)
  int64_t scanned_count = 0;  // ScannedCount: items read
  // ConsumedCapacity.CapacityUnits (read units the page cost); 0 when absent.
  double consumed_capacity_units = 0;
};

// A Scan answer (HTTP 200). INVALID_ARGUMENT naming the field for anything else,
// including Count disagreeing with the number of Items.
absl::StatusOr<ScanPage> ParseScanResponse(std::string_view body);

std::string DescribeTableRequestBody(std::string_view table);

struct TableDescription {
  std::string table_name;
  std::string table_arn;
  std::string status;  // TableStatus: ACTIVE, CREATING, UPDATING, ...
  // The key schema's attribute names: the partition (HASH) key, then the sort (RANGE)
  // key when the table has one.
  std::vector<std::string> key_names;
  int64_t item_count = 0;           // ItemCount: DynamoDB's estimate, updated ~6 hourly
  int64_t table_size_bytes = 0;     // TableSizeBytes, as estimated
  std::string billing_mode;         // "PROVISIONED" (also when absent) or "PAY_PER_REQUEST"
  int64_t read_capacity_units = 0;  // ProvisionedThroughput.ReadCapacityUnits; 0 on demand
};

// A DescribeTable answer. INVALID_ARGUMENT naming the field when there is no Table, no
// name, or a key schema without exactly one HASH key (and at most one RANGE key).
absl::StatusOr<TableDescription> ParseDescribeTable(std::string_view body);

// The stream record of item `index_in_page` of page `page` (0-based, counted from the
// segment's first page) of segment `segment`, read at `time_ms`: an INSERT whose
// NewImage is the item and whose Keys are its `key_names` attributes (in that order),
// eventID "scan:<table>:<segment>:<page>:<index_in_page>" (deterministic: the same page
// of the same scan gives the same records), ApproximateCreationDateTime `time_ms` in
// seconds with six decimals, StreamViewType NEW_AND_OLD_IMAGES, no SequenceNumber.
// INVALID_ARGUMENT when the item is not a JSON object of attributes or lacks a key.
absl::StatusOr<std::string> ScanItemToStreamRecord(std::string_view item_json,
                                                   const std::vector<std::string>& key_names,
                                                   std::string_view table_name, int64_t segment,
                                                   int64_t page, size_t index_in_page,
                                                   int64_t time_ms);

// ScanItemToStreamRecord of every item of `page` (page number `page_number`), in order,
// with one parser for the page. The first item that fails fails the page.
absl::StatusOr<std::vector<std::string>> ScanPageToStreamRecords(
    const ScanPage& page, const std::vector<std::string>& key_names, std::string_view table_name,
    int64_t segment, int64_t page_number, int64_t time_ms);

// What an error answer asks of the caller.
enum class DynamoDbErrorKind {
  kThrottled,  // slow down and retry: ProvisionedThroughputExceededException,
               // ThrottlingException, RequestLimitExceeded, HTTP 429
  kTransient,  // retry: InternalServerError, ServiceUnavailable, any other 5xx
  kAuth,       // fix the credentials or the policy: UnrecognizedClientException,
               // AccessDeniedException, InvalidSignatureException, ExpiredToken..., 401/403
  kClient,     // the request is wrong, do not retry: ResourceNotFoundException,
               // ValidationException, anything else
};

std::string_view DynamoDbErrorKindName(DynamoDbErrorKind kind);  // "throttled", ...

struct DynamoDbError {
  DynamoDbErrorKind kind = DynamoDbErrorKind::kClient;
  // __type after its '#' ("ResourceNotFoundException"); empty when the body has none.
  std::string type;
  // "message" (or "Message"); for a body that is not a JSON error, its start, quoted.
  std::string message;
  // "ResourceNotFoundException: Requested resource not found (HTTP 400)".
  std::string ToString(int http_status) const;
};

// Classifies an error answer (any status but 200). Never fails: an unreadable body is
// classified by its HTTP status alone.
DynamoDbError ParseDynamoDbError(int http_status, std::string_view body);

// DynamoDB sends the CRC32 of every answer's body in x-amz-crc32 (decimal); the SDKs
// retry an answer that does not match. OK when `header_value` is empty (not sent) or
// matches; DATA_LOSS otherwise (a body damaged or cut on the way: retry).
absl::Status CheckAnswerCrc32(std::string_view header_value, std::string_view body);

}  // namespace lakehose::backfill

#endif  // LAKEHOSE_CORE_BACKFILL_SCAN_PROTOCOL_H_
