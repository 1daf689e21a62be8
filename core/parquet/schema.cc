#include "core/parquet/schema.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/string_view_hash.h"
#include "core/base/strings.h"
#include "core/parquet/format.h"
#include "core/parquet/number.h"

namespace lakehose {
namespace parquet_internal {
namespace {

struct ColumnStats {
  int64_t strings = 0, numbers = 0, bools = 0, nested = 0, nulls = 0;
  bool all_int64 = true;
  int64_t max_scale = 0;
  bool decimal_fits = true;
  // Every number is within DOUBLE's range (FitsDouble): else a DOUBLE column would hold
  // Infinity or 0 for it, and the column is STRING with the exact digits instead.
  bool double_fits = true;
};

ParquetColumn Infer(const std::string& name, const ColumnStats& st, WideNumbers wide) {
  ParquetColumn c;
  c.name = name;
  const int64_t kinds = (st.strings > 0) + (st.numbers > 0) + (st.bools > 0) + (st.nested > 0);
  if (kinds != 1) {
    c.type = ParquetType::kString;  // mixed, or always null
  } else if (st.bools > 0) {
    c.type = ParquetType::kBool;
  } else if (st.nested > 0) {
    c.type = ParquetType::kJson;
  } else if (st.strings > 0) {
    c.type = ParquetType::kString;
  } else if (st.all_int64) {
    c.type = ParquetType::kInt64;
  } else if (st.decimal_fits && st.max_scale <= kMaxInferredScale) {
    c.type = ParquetType::kDecimal;
    c.scale = static_cast<int>(st.max_scale);
  } else {
    c.type = wide == WideNumbers::kDouble && st.double_fits ? ParquetType::kDouble
                                                            : ParquetType::kString;
  }
  return c;
}

// What one position of a nested value (NestedEncoding::kNative) held across the records:
// kinds and number facts as ColumnStats, the union of object members, array elements.
struct NestedStats {
  int64_t strings = 0, numbers = 0, bools = 0, objects = 0, arrays = 0;
  bool all_int64 = true;
  int64_t max_scale = 0;
  // The most digits left of the point of a nonzero non-FastInt64 number: with
  // max_scale, decides DECIMAL(38, max_scale) in one pass (digits + pow + scale <= 38).
  int64_t max_int_digits = 0;
  bool double_fits = true;         // as ColumnStats::double_fits
  std::vector<std::string> names;  // object members, in order of first appearance
  std::vector<std::unique_ptr<NestedStats>> members;
  absl::flat_hash_map<std::string, size_t, StringViewHash, std::equal_to<>> index;
  std::unique_ptr<NestedStats> element;  // all elements of all arrays

  int Kinds() const {
    return (strings > 0) + (numbers > 0) + (bools > 0) + (objects > 0) + (arrays > 0);
  }
};

// For each member of object `n`, whether it is the last one of its name (JSON.parse
// keeps the last of repeated names).
std::vector<bool> LastOfName(const JsonNode& n) {
  std::vector<bool> last(n.names.size(), true);
  if (n.names.size() < 2) return last;
  absl::flat_hash_map<std::string_view, size_t, StringViewHash> seen;
  for (size_t i = n.names.size(); i-- > 0;)
    if (!seen.try_emplace(n.names[i], i).second) last[i] = false;
  return last;
}

absl::Status Accumulate(const JsonNode& n, NestedStats* st) {
  switch (n.value.kind) {
    case Value::kAbsent:
    case Value::kNull:
      return absl::OkStatus();
    case Value::kTrue:
    case Value::kFalse:
      ++st->bools;
      return absl::OkStatus();
    case Value::kString:
      ++st->strings;
      return absl::OkStatus();
    case Value::kNumber: {
      ++st->numbers;
      if (FastInt64(n.value.text)) return absl::OkStatus();  // fits every number type
      std::optional<Significand> s = NumberText(n.value.text);
      if (!s) return absl::InvalidArgumentError("parquet: bad number");
      if (st->all_int64 && !ToInt64(*s)) st->all_int64 = false;
      st->max_scale = std::max(st->max_scale, NeededScale(*s));
      if (st->double_fits && !FitsDouble(*s, n.value.text)) st->double_fits = false;
      if (!s->digits.empty())
        st->max_int_digits =
            std::max(st->max_int_digits, static_cast<int64_t>(s->digits.size()) + s->pow);
      return absl::OkStatus();
    }
    case Value::kNested:
      break;
  }
  if (!n.object) {
    ++st->arrays;
    if (!n.expanded || n.children.empty()) return absl::OkStatus();
    if (!st->element) st->element = std::make_unique<NestedStats>();
    for (const JsonNode& e : n.children) RETURN_IF_ERROR(Accumulate(e, st->element.get()));
    return absl::OkStatus();
  }
  ++st->objects;
  if (!n.expanded) return absl::OkStatus();
  const std::vector<bool> last = LastOfName(n);
  for (size_t i = 0; i < n.children.size(); ++i) {
    // A repeated name keeps its first position and its last value, as JSON.parse does.
    auto [it, inserted] = st->index.try_emplace(n.names[i], st->members.size());
    if (inserted) {
      st->names.emplace_back(n.names[i]);
      st->members.push_back(std::make_unique<NestedStats>());
    }
    if (last[i]) RETURN_IF_ERROR(Accumulate(n.children[i], st->members[it->second].get()));
  }
  return absl::OkStatus();
}

// The column for one position (see "Nested values" in the header); `depth` is 1 for a
// top-level member.
ParquetColumn BuildNested(const NestedStats& st, std::string name, int depth, WideNumbers wide) {
  if (st.Kinds() == 1 && depth <= kMaxParquetNativeDepth) {
    if (st.objects > 0 && !st.names.empty()) {
      ParquetColumn c;
      c.name = std::move(name);
      c.type = ParquetType::kStruct;
      c.children.reserve(st.names.size());
      for (size_t i = 0; i < st.names.size(); ++i)
        c.children.push_back(BuildNested(*st.members[i], st.names[i], depth + 1, wide));
      return c;
    }
    if (st.arrays > 0) {
      const NestedStats empty;
      const NestedStats& e = st.element ? *st.element : empty;
      if (e.Kinds() <= 1) {  // else: elements of mixed kinds, the array is JSON text
        ParquetColumn c;
        c.name = std::move(name);
        c.type = ParquetType::kList;
        c.children.push_back(BuildNested(e, "element", depth + 1, wide));
        return c;
      }
    }
  }
  ColumnStats cs;
  cs.strings = st.strings;
  cs.numbers = st.numbers;
  cs.bools = st.bools;
  cs.nested = st.objects + st.arrays;
  cs.all_int64 = st.all_int64;
  cs.max_scale = st.max_scale;
  cs.double_fits = st.double_fits;
  cs.decimal_fits =
      st.max_scale <= kMaxInferredScale && st.max_int_digits + st.max_scale <= kDecimalPrecision;
  return Infer(name, cs, wide);
}

// Appends the "type" member (and "fields" / "element" for groups) of `c`'s description.
void DescribeType(const ParquetColumn& c, std::string* out) {
  StrAppend(out, "\"type\":\"", ParquetTypeName(c.type, c.scale), "\"");
}

void DescribeChildren(const ParquetColumn& c, std::string* out) {
  if (c.type == ParquetType::kStruct) {
    out->append(",\"fields\":[");
    for (size_t i = 0; i < c.children.size(); ++i) {
      if (i > 0) out->push_back(',');
      out->append("{\"name\":");
      AppendValidJsonString(c.children[i].name, out);
      out->push_back(',');
      DescribeType(c.children[i], out);
      DescribeChildren(c.children[i], out);
      out->push_back('}');
    }
    out->push_back(']');
  } else if (c.type == ParquetType::kList) {
    out->append(",\"element\":{");
    DescribeType(c.children[0], out);
    DescribeChildren(c.children[0], out);
    out->push_back('}');
  }
}

}  // namespace

absl::StatusOr<ParquetColumn> InferColumn(std::string name, const std::vector<Value>& values,
                                          const ParquetOptions& options) {
  ColumnStats st;
  for (const Value& v : values) {
    switch (v.kind) {
      case Value::kAbsent:
      case Value::kNull:
        ++st.nulls;
        break;
      case Value::kTrue:
      case Value::kFalse:
        ++st.bools;
        break;
      case Value::kString:
        ++st.strings;
        break;
      case Value::kNested:
        ++st.nested;
        break;
      case Value::kNumber: {
        ++st.numbers;
        if (FastInt64(v.text)) break;  // integral, scale 0: fits every choice
        std::optional<Significand> s = NumberText(v.text);
        if (!s) return absl::InvalidArgumentError("parquet: bad number");
        if (st.all_int64 && !ToInt64(*s)) st.all_int64 = false;
        if (st.double_fits && !FitsDouble(*s, v.text)) st.double_fits = false;
        if (!st.all_int64 && st.decimal_fits) {
          st.max_scale = std::max(st.max_scale, NeededScale(*s));
          st.decimal_fits = st.max_scale <= kMaxInferredScale;
        }
        break;
      }
    }
  }
  if (!st.all_int64 && st.decimal_fits) {
    // Every value must fit DECIMAL(38, max_scale).
    for (const Value& v : values) {
      if (v.kind != Value::kNumber || (st.max_scale <= kMaxInferredScale && FastInt64(v.text)))
        continue;
      if (!Unscaled(*NumberText(v.text), static_cast<int>(st.max_scale))) {
        st.decimal_fits = false;
        break;
      }
    }
  }
  ParquetColumn column = Infer(name, st, options.wide_numbers);
  if (options.nested != NestedEncoding::kNative || column.type != ParquetType::kJson) return column;
  // Only objects and arrays (and nulls): look inside them.
  NestedStats nested;
  for (size_t r = 0; r < values.size(); ++r) {
    const Value& v = values[r];
    if (v.kind != Value::kNested) continue;
    JsonNode tree;
    std::deque<std::string> scratch;  // Accumulate copies the member names it keeps
    LineParser parser(v.text, &scratch);
    absl::Status s = parser.ParseTree(kMaxParquetNativeDepth, &tree);
    if (s.ok()) s = Accumulate(tree, &nested);
    if (!s.ok()) return absl::InvalidArgumentError(StrCat(StatusMessage(s), " (record ", r, ")"));
  }
  return BuildNested(nested, std::move(name), 1, options.wide_numbers);
}

std::string DescribeColumns(const std::vector<ParquetColumn>& columns, bool declared) {
  std::string described = "[";
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) described.push_back(',');
    described.append("{\"name\":");
    AppendValidJsonString(columns[c].name, &described);
    StrAppend(&described, ",\"type\":\"", ParquetTypeName(columns[c].type, columns[c].scale),
              "\",\"required\":", columns[c].required ? "true" : "false", ",\"source\":\"",
              declared ? "declared" : "inferred", "\"");
    DescribeChildren(columns[c], &described);  // groups and lists only
    described.push_back('}');
  }
  described.push_back(']');
  return described;
}

}  // namespace parquet_internal
}  // namespace lakehose
