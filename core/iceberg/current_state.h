// Current-state tables (issue 17), the pure planning half: which rows of a batch of
// changes a table that mirrors the DynamoDB table adds, and which of its live rows it
// deletes (position deletes, core/iceberg/position_deletes.h), given where each key's
// live row is (the key index, service side).
//
// Keys: an item's key attributes (the table's HASH and RANGE keys) in one canonical text
// (ItemKeyText): "1.0" and "1" are one number key, as in DynamoDB.
// Versions: a change is applied to a key only if it is newer than what the key reflects
// (CompareVersions): by SequenceNumber when both changes have one (DynamoDB Streams order
// changes of an item by it), else by ApproximateCreationDateTime (Kinesis-delivered
// records, exports and scans): in milliseconds between two changes without a sequence
// number; in whole seconds between a stream record (whose time DynamoDB rounds down to
// the second) and one without, the stream record winning within its second (a stream
// record over a backfill's of the same second). A change older than
// or equal to the key's state is dropped (counted): replays and duplicates are no-ops.
// A removed key keeps its version (a tombstone), so an older change arriving late does
// not bring it back.
//
// Pure; thread-safe.
#ifndef LAKEHOSE_CORE_ICEBERG_CURRENT_STATE_H_
#define LAKEHOSE_CORE_ICEBERG_CURRENT_STATE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/iceberg/types.h"

namespace lakehose::iceberg {

struct ChangeVersion {
  std::string sequence;  // SequenceNumber's digits, leading zeros removed; "" when none
  int64_t time_ms = 0;   // ApproximateCreationDateTime
};

// <0, 0, >0 as `a` is older than, as old as, or newer than `b` (see the top).
int CompareVersions(const ChangeVersion& a, const ChangeVersion& b);

// The version of a SequenceNumber text and a time: INVALID_ARGUMENT for a sequence number
// that is not decimal digits (at most 64).
absl::StatusOr<ChangeVersion> MakeVersion(std::string_view sequence_number, int64_t time_ms);

// The canonical text of an item's key: for each of `key_names` (in that order) its type
// and value from `image_json` (DynamoDB JSON: {"pk":{"S":"a"},"sk":{"N":"1.50"}}): S and B
// as given, N as its normalised value ("1.50", "1.5" and "15E-1" are one key). Other
// attributes are ignored. INVALID_ARGUMENT naming the attribute when one is missing or
// not S, N or B (DynamoDB keys are only those).
absl::StatusOr<std::string> ItemKeyText(std::string_view image_json,
                                        const std::vector<std::string>& key_names);

// The same text from a transformed document (plain JSON, as the table's rows hold it): a
// string key attribute is S (B keys arrive as their base64 text, and a table's key has
// one type, so S and B never meet), a number is N by value. INVALID_ARGUMENT naming the
// attribute when one is missing, null or neither a string nor a number.
absl::StatusOr<std::string> DocumentKeyText(std::string_view document_json,
                                            const std::vector<std::string>& key_names);

// What a current-state table's writer reads from a transformed document (a line of a
// sealed object): the item's key (DocumentKeyText), its version (_SequenceNumber, else
// none; _ApproximateCreationDateTime in milliseconds, else _event_time) and whether it is
// a remove (_op DELETE). INVALID_ARGUMENT naming what is missing or wrong.
struct DocumentChange {
  std::string key;
  ChangeVersion version;
  bool remove = false;
};
absl::StatusOr<DocumentChange> ReadDocumentChange(std::string_view document_json,
                                                  const std::vector<std::string>& key_names);

// Where a key's live row is, or that it was removed.
struct KeyState {
  ChangeVersion version;
  bool live = false;
  std::string file_path;  // live: the data file holding its row
  int64_t pos = 0;        // live: the row's position in it
  // live: the row's partition (opaque to the planner: what its delete must carry).
  std::string partition;
};

// A KeyState as the key index stores it (compact binary, a format version first), and
// back: INVALID_ARGUMENT for bytes that are not one (a damaged index entry).
std::string EncodeKeyState(const KeyState& state);
absl::StatusOr<KeyState> DecodeKeyState(std::string_view bytes);

// A row's partition values (one per field of the table's spec) as KeyState::partition
// holds them (compact binary), and back: INVALID_ARGUMENT for bytes that are not one.
std::string EncodePartition(const std::vector<PartitionValue>& values);
absl::StatusOr<std::vector<PartitionValue>> DecodePartition(std::string_view bytes);

// An index delta: the key index's updates of one commit (each key's state after it), the
// object a current-state table's snapshot names in its summary (lakehose.index-delta), so
// that an index left behind by a crash, or lost, is brought up to date from the table.
// A magic, a format version, the data file paths and the partitions (each once), the
// entries (a live one names its path and partition by number), then a CRC-32 of all
// before it.
struct IndexUpdate {
  std::string key;
  KeyState state;
};
std::string EncodeIndexDelta(const std::vector<IndexUpdate>& updates);
// DATA_LOSS for bytes that are not a whole delta (truncated, damaged: the CRC, or an entry).
absl::StatusOr<std::vector<IndexUpdate>> DecodeIndexDelta(std::string_view bytes);

// One change of a batch, in the order the batch holds them.
struct KeyChange {
  std::string key;  // ItemKeyText
  ChangeVersion version;
  bool remove = false;  // REMOVE (TTL deletions included); else the change's new image
};

struct ChangePlan {
  // Indexes into the batch of the changes whose image becomes the key's live row, in
  // batch order (one per key at most: its newest).
  std::vector<size_t> write;
  // The live rows this batch ends (a newer image or a remove): their state before it.
  std::vector<std::pair<std::string, KeyState>> deletes;
  // Keys the batch removes, with the remove's version (their tombstones).
  std::vector<std::pair<std::string, ChangeVersion>> removed;
  int64_t stale = 0;       // changes older than or as old as the key's state: dropped
  int64_t superseded = 0;  // changes a newer change of the same batch replaces
};

// Plans `changes` against `lookup` (the key's state before the batch, or nullopt for a
// key never seen). Each key's newest change wins; older ones are stale or superseded.
ChangePlan PlanChanges(const std::vector<KeyChange>& changes,
                       const std::function<std::optional<KeyState>(const std::string&)>& lookup);

}  // namespace lakehose::iceberg

#endif  // LAKEHOSE_CORE_ICEBERG_CURRENT_STATE_H_
