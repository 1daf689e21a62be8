// Leaf columns and their repetition and definition levels (the Dremel encoding Parquet
// uses for nested data).
//
// A top-level scalar column is one leaf with no repetition level and a definition level
// of 1 (OPTIONAL) or none (REQUIRED). A STRUCT / LIST column (NestedEncoding::kNative)
// has one leaf per scalar under it; every node on the way is OPTIONAL and adds a
// definition level, a LIST also its repeated group "list", which adds one definition
// level ("has an element") and one repetition level. Shredding a record's value writes
// one entry (rep, def and, when def is the leaf's, a value) into every leaf under it
// for each place the value has or lacks: an absent or null value, an empty list, a null
// element each take one entry at the level where the path stops. An entry with
// repetition level 0 starts a record.
//
// Example, `optional group l (LIST) { repeated group list { optional int64 element } }`
// (max rep 1, max def 3): [1,2] -> (r0,d3,1) (r1,d3,2); [] -> (r0,d1); null -> (r0,d0);
// [null] -> (r0,d2).
//
// Ownership: leaves and plans borrow the columns they were made from; a Shredder borrows
// the chunks and converters it fills. Not thread-safe; pure.
#ifndef LAKEHOSE_CORE_PARQUET_LEVELS_H_
#define LAKEHOSE_CORE_PARQUET_LEVELS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/base/string_view_hash.h"
#include "core/parquet/column_values.h"
#include "core/parquet/json_reader.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {

// One leaf column of the schema: a top-level scalar column, or a scalar under groups and
// lists (NestedEncoding::kNative).
struct Leaf {
  const ParquetColumn* col = nullptr;  // its type (borrowed from the file's columns)
  std::vector<std::string> path;       // path_in_schema
  std::string dotted;                  // path joined by '.'
  int max_def = 1;                     // 0: REQUIRED flat column, no definition levels
  int max_rep = 0;                     // > 0 under a LIST
  int value_def = 1;                   // the definition level of an entry that holds a value
};

// The leaf of a top-level scalar column.
Leaf FlatLeaf(const ParquetColumn& c);

// A STRUCT / LIST column's tree with each node's levels, as shredding walks it.
struct ShredNode {
  const ParquetColumn* col = nullptr;
  int def = 0;  // the definition level of a non-null value here (every node is OPTIONAL)
  int rep = 0;  // kList: the repetition level of its repeated group
  size_t leaf = 0, leaf_end = 0;  // its leaves, [leaf, leaf_end) of the column's
  std::vector<ShredNode> children;
  absl::flat_hash_map<std::string_view, size_t, StringViewHash> index;  // kStruct: by name
};

// Plans the top-level STRUCT / LIST column `c` into `root`; returns its leaves, depth
// first (ShredNode::leaf indexes them).
std::vector<Leaf> PlanColumn(const ParquetColumn& c, ShredNode* root);

// Writes the levels and values of one record's value into the leaves' chunks:
// values[i] and converters[i] belong to the column's i-th leaf.
class Shredder {
 public:
  // `declared`: the plan is a declared schema's (ParquetOptions::schema), which a record's
  // value may not fit; else it was inferred from the values it shreds.
  Shredder(std::vector<ChunkValues>* values, std::vector<Converter>* converters,
           bool declared = false)
      : values_(*values), converters_(*converters), declared_(declared) {}

  // `v` null: the value is absent or null. `rep`: the repetition level of its first entry
  // (0 for a record's value). If `v` does not have the plan's shape (an array for a
  // STRUCT, a scalar for a LIST, an object or array for a scalar leaf that is not a
  // string / json one): INVALID_ARGUMENT naming the column and value for a declared
  // plan, INTERNAL (the writer's own error) for an inferred one; a leaf's conversion
  // error as Converter::AddPresent's.
  absl::Status Shred(const ShredNode& n, const JsonNode* v, int rep, int64_t row);

 private:
  // Every leaf under `n` gets one entry without a value.
  void Empty(const ShredNode& n, int rep, int def);
  absl::Status Unexpected(const ShredNode& n, const JsonNode& v, int64_t row) const;

  std::vector<ChunkValues>& values_;
  std::vector<Converter>& converters_;
  bool declared_ = false;
};

}  // namespace parquet_internal
}  // namespace lakehose

#endif  // LAKEHOSE_CORE_PARQUET_LEVELS_H_
