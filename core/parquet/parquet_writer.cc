// The writer in pieces (core/parquet/): json_reader reads record lines, schema infers
// the columns, column_values converts values to their column's type, levels shreds
// nested values into leaves, column_writer writes each chunk's pages (with encoding and
// statistics), footer the FileMetaData. This file drives them: records into columns, then
// row group by row group, column by column.

#include "core/parquet/parquet_writer.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "core/base/status_macros.h"
#include "core/base/string_view_hash.h"
#include "core/base/strings.h"
#include "core/parquet/column_values.h"
#include "core/parquet/column_writer.h"
#include "core/parquet/field_metrics.h"
#include "core/parquet/footer.h"
#include "core/parquet/format.h"
#include "core/parquet/json_reader.h"
#include "core/parquet/levels.h"
#include "core/parquet/schema.h"

namespace lakehose {

using parquet_internal::ChunkMeta;
using parquet_internal::ChunkValues;
using parquet_internal::Converter;
using parquet_internal::FieldMetricsBuilder;
using parquet_internal::JsonNode;
using parquet_internal::Leaf;
using parquet_internal::LineParser;
using parquet_internal::RowGroupMeta;
using parquet_internal::Shredder;
using parquet_internal::ShredNode;
using parquet_internal::Value;

namespace {

// A declared column `c` at `depth` (1: top level) is one the writer can write: groups
// and lists only with NestedEncoding::kNative, of the shape levels.h plans (a kStruct
// with distinct members, a kList with one element, every node OPTIONAL), at most
// kMaxParquetNativeDepth deep; scalars without children.
absl::Status CheckDeclared(const ParquetColumn& c, int depth, const ParquetOptions& options) {
  const bool group = c.type == ParquetType::kStruct || c.type == ParquetType::kList;
  if (!group) {
    if (!c.children.empty())
      return absl::InvalidArgumentError(
          StrCat("parquet: column \"", c.name, "\" is not a group or list but has members"));
    if (depth > 1 && c.required)
      return absl::InvalidArgumentError(StrCat("parquet: column \"", c.name,
                                               "\" is inside a group or list: it cannot be "
                                               "required (nested columns are OPTIONAL)"));
    return absl::OkStatus();
  }
  if (options.nested != NestedEncoding::kNative)
    return absl::InvalidArgumentError(
        StrCat("parquet: column \"", c.name,
               "\" is declared as a group or list, which needs NestedEncoding::kNative"));
  if (depth > kMaxParquetNativeDepth)
    return absl::InvalidArgumentError(StrCat("parquet: column \"", c.name,
                                             "\" is nested deeper than ", kMaxParquetNativeDepth,
                                             " levels"));
  if (c.required)
    return absl::InvalidArgumentError(
        StrCat("parquet: group or list column \"", c.name, "\" cannot be required"));
  if (c.type == ParquetType::kList && (c.children.size() != 1 || c.children[0].name != "element"))
    return absl::InvalidArgumentError(StrCat("parquet: list column \"", c.name,
                                             "\" must have exactly one child, named \"element\""));
  if (c.type == ParquetType::kStruct && c.children.empty())
    return absl::InvalidArgumentError(
        StrCat("parquet: group column \"", c.name, "\" has no members"));
  for (size_t i = 0; i < c.children.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (c.children[j].name == c.children[i].name)
        return absl::InvalidArgumentError(StrCat("parquet: group column \"", c.name,
                                                 "\" declares \"", c.children[i].name, "\" twice"));
    RETURN_IF_ERROR(CheckDeclared(c.children[i], depth + 1, options));
  }
  return absl::OkStatus();
}

// Reads every line into column-major cells: `columns` in order of first appearance (or
// the declared ones, whose other members are dropped), cells[c][r] the value of column c
// in record r (kAbsent where it has none).
absl::Status ReadRecords(const std::vector<std::string_view>& lines, const ParquetOptions& options,
                         std::deque<std::string>* arena, std::vector<ParquetColumn>* columns,
                         std::vector<std::vector<Value>>* cells) {
  absl::flat_hash_map<std::string, size_t, StringViewHash, std::equal_to<>> index;
  const bool declared = !options.schema.empty();
  if (declared) {
    for (const ParquetColumn& c : options.schema) {
      RETURN_IF_ERROR(CheckDeclared(c, 1, options));
      if (!index.try_emplace(c.name, columns->size()).second)
        return absl::InvalidArgumentError(
            StrCat("parquet: column \"", c.name, "\" is declared twice"));
      columns->push_back(c);
      cells->emplace_back();
    }
  }
  const size_t rows = lines.size();
  for (size_t r = 0; r < rows; ++r) {
    std::string_view line = lines[r];
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    LineParser parser(line, arena);
    size_t predicted = 0;  // records usually repeat the previous record's member order
    absl::Status s = parser.ParseObject([&](std::string_view name, const Value& v) {
      size_t c;
      auto it = index.end();
      if (predicted < columns->size() && (*columns)[predicted].name == name) {
        c = predicted;
      } else if ((it = index.find(name)) != index.end()) {
        c = it->second;
      } else {
        if (declared) return;
        c = columns->size();
        index.emplace(std::string(name), c);
        columns->push_back(ParquetColumn{std::string(name)});
        cells->emplace_back();
      }
      predicted = c + 1;
      std::vector<Value>& col = (*cells)[c];
      if (col.size() < r + 1) col.resize(r + 1);
      col[r] = v;  // a repeated member: the last one wins, as in JSON.parse
    });
    if (!s.ok()) return absl::InvalidArgumentError(StrCat(StatusMessage(s), " (record ", r, ")"));
  }
  for (auto& col : *cells) col.resize(rows);
  return absl::OkStatus();
}

// The chunk of a scalar column for records [begin, end).
absl::Status FlatChunk(const ParquetColumn& column, const std::vector<Value>& cells, size_t begin,
                       size_t end, std::deque<std::string>* converted, ChunkValues* values) {
  Converter conv(column, converted);
  values->defined.reserve(end - begin);
  for (size_t r = begin; r < end; ++r)
    RETURN_IF_ERROR(conv.Add(cells[r], static_cast<int64_t>(r), values));
  return absl::OkStatus();
}

// Shreds record `row`'s value `v` of a STRUCT / LIST column (row -1: a record checked
// alone). The strings of its tree live in `arena` until the chunk is written.
absl::Status ShredValue(const ShredNode& plan, const Value& v, int64_t row,
                        std::deque<std::string>* arena, Shredder* shredder) {
  if (v.kind == Value::kAbsent || v.kind == Value::kNull)
    return shredder->Shred(plan, nullptr, 0, row);
  JsonNode tree;
  if (v.kind == Value::kNested) {
    LineParser parser(v.text, arena);
    if (absl::Status s = parser.ParseTree(kMaxParquetNativeDepth, &tree); !s.ok()) {
      return absl::InvalidArgumentError(row < 0 ? std::string(StatusMessage(s))
                                                : StrCat(StatusMessage(s), " (record ", row, ")"));
    }
  } else {
    tree.value = v;  // a scalar: only a declared plan meets one, and refuses it
  }
  // For an inferred plan errors here are the writer's own (it was inferred from these
  // values); a declared one refuses values of another shape (INVALID_ARGUMENT).
  return shredder->Shred(plan, &tree, 0, row);
}

// The chunks of the leaves of a STRUCT / LIST column for records [begin, end).
absl::Status ShredChunks(const ShredNode& plan, bool declared, const std::vector<Value>& cells,
                         size_t begin, size_t end, std::deque<std::string>* converted,
                         std::vector<Converter>* convs, std::vector<ChunkValues>* values) {
  Shredder shredder(values, convs, declared);
  for (size_t r = begin; r < end; ++r)
    RETURN_IF_ERROR(ShredValue(plan, cells[r], static_cast<int64_t>(r), converted, &shredder));
  return absl::OkStatus();
}

bool IsGroup(const ParquetColumn& c) {
  return c.type == ParquetType::kStruct || c.type == ParquetType::kList;
}

// The deepest nesting of objects and arrays in `line`, the line's own object counted
// (so a member's value is one less); strings skipped. Iterative: any input is fine.
int64_t BracketDepth(std::string_view line) {
  int64_t depth = 0, deepest = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i)
        if (line[i] == '\\') ++i;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// CheckParquetRecord; `grammar`: also check that the line is one JSON object as the
// writer reads it (the transformer's documents always are).
ParquetRecordCheck CheckRecord(std::string_view line, const ParquetOptions& options, bool grammar) {
  ParquetRecordCheck out;
  // A member's value deeper than kMaxParquetJsonDepth needs more brackets than that.
  if (line.size() > static_cast<size_t>(kMaxParquetJsonDepth) &&
      std::count_if(line.begin(), line.end(), [](char c) { return c == '{' || c == '['; }) >
          kMaxParquetJsonDepth) {
    if (const int64_t depth = BracketDepth(line) - 1; depth > kMaxParquetJsonDepth) {
      out.problem = ParquetRecordProblem::kTooDeep;
      out.message = StrCat("objects and arrays nested ", depth,
                           " levels deep; the Parquet writer takes at most ", kMaxParquetJsonDepth);
      return out;
    }
  }
  // Only a declared column can refuse a value, and string and json columns take any.
  const bool can_refuse =
      std::any_of(options.schema.begin(), options.schema.end(), [](const ParquetColumn& c) {
        return c.required || (c.type != ParquetType::kString && c.type != ParquetType::kJson);
      });  // groups and lists included
  if (!can_refuse && !grammar) return out;
  std::deque<std::string> arena;
  std::vector<Value> values(options.schema.size());
  LineParser parser(line, &arena);
  absl::Status s = parser.ParseObject([&](std::string_view name, const Value& v) {
    for (size_t c = 0; c < options.schema.size(); ++c)
      if (options.schema[c].name == name) values[c] = v;  // the last one wins, as when encoding
  });
  for (size_t c = 0; s.ok() && c < options.schema.size(); ++c) {
    const ParquetColumn& col = options.schema[c];
    if (IsGroup(col)) {
      // A declared group or list (its declaration itself is checked when encoding): shred
      // the value by it, as the encode will.
      if (s = CheckDeclared(col, 1, options); !s.ok()) break;
      ShredNode plan;
      const std::vector<Leaf> leaves = parquet_internal::PlanColumn(col, &plan);
      std::vector<ChunkValues> scratch(leaves.size());
      std::vector<Converter> convs;
      convs.reserve(leaves.size());
      for (const Leaf& l : leaves) convs.emplace_back(*l.col, &arena);
      Shredder shredder(&scratch, &convs, /*declared=*/true);
      s = ShredValue(plan, values[c], /*row=*/-1, &arena, &shredder);
      continue;
    }
    Converter conv(col, &arena);
    ChunkValues scratch;
    s = conv.Add(values[c], /*row=*/-1, &scratch);
  }
  if (!s.ok()) {
    out.problem = ParquetRecordProblem::kUnrepresentable;
    out.message = std::string(StatusMessage(s));
  }
  return out;
}

}  // namespace

ParquetRecordCheck CheckParquetRecord(std::string_view line, const ParquetOptions& options) {
  return CheckRecord(line, options, /*grammar=*/false);
}

absl::StatusOr<ParquetFile> EncodeParquetFileIsolating(
    const std::vector<std::string_view>& lines, const ParquetOptions& options,
    std::vector<ParquetRejectedRecord>* rejected) {
  rejected->clear();
  absl::StatusOr<ParquetFile> all = EncodeParquetFile(lines, options);
  if (all.ok() || all.status().code() != absl::StatusCode::kInvalidArgument) return all;
  // Some record (or the options) failed it: leave out the records that cannot be stored.
  std::vector<std::string_view> good;
  good.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    ParquetRecordCheck check = CheckRecord(line, options, /*grammar=*/true);
    if (check.ok()) {
      good.push_back(lines[i]);
    } else {
      rejected->push_back({i, std::move(check)});
    }
  }
  if (rejected->empty()) return all;  // not one record's fault
  return EncodeParquetFile(good, options);
}

std::string ParquetTypeName(ParquetType type, int scale) {
  switch (type) {
    case ParquetType::kString:
      return "string";
    case ParquetType::kJson:
      return "json";
    case ParquetType::kInt64:
      return "int64";
    case ParquetType::kDecimal:
      return StrCat("decimal(38,", scale, ")");
    case ParquetType::kDouble:
      return "double";
    case ParquetType::kBool:
      return "bool";
    case ParquetType::kBinary:
      return "binary";
    case ParquetType::kTimestampMillis:
      return "timestamp_ms";
    case ParquetType::kTimestampMicros:
      return "timestamptz";
    case ParquetType::kStruct:
      return "struct";
    case ParquetType::kList:
      return "list";
  }
  return "string";
}

absl::StatusOr<std::pair<ParquetType, int>> ParseParquetTypeName(std::string_view name) {
  for (ParquetType t : {ParquetType::kString, ParquetType::kJson, ParquetType::kInt64,
                        ParquetType::kDouble, ParquetType::kBool, ParquetType::kBinary,
                        ParquetType::kTimestampMillis, ParquetType::kTimestampMicros}) {
    if (name == ParquetTypeName(t, 0)) return std::make_pair(t, 0);
  }
  constexpr std::string_view kDec = "decimal(38,";
  if (name.size() > kDec.size() + 1 && name.substr(0, kDec.size()) == kDec && name.back() == ')') {
    std::string_view digits = name.substr(kDec.size(), name.size() - kDec.size() - 1);
    int scale = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), scale);
    if (ec == std::errc() && end == digits.data() + digits.size() && scale >= 0 &&
        scale <= parquet_internal::kDecimalPrecision)
      return std::make_pair(ParquetType::kDecimal, scale);
  }
  return absl::InvalidArgumentError(
      StrCat("unknown Parquet type \"", name,
             "\" (string, json, int64, decimal(38,S), double, bool, binary, timestamp_ms, "
             "timestamptz)"));
}

std::vector<std::string_view> SplitJsonLines(std::string_view body) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.push_back(line);
    start = nl + 1;
  }
  return out;
}

absl::StatusOr<std::vector<ParquetColumn>> InferParquetColumns(
    const std::vector<std::string_view>& lines, const ParquetOptions& options,
    std::vector<std::string>* all_null) {
  ParquetOptions inferred = options;
  inferred.schema.clear();
  std::deque<std::string> arena;
  std::vector<ParquetColumn> columns;
  std::vector<std::vector<Value>> cells;
  RETURN_IF_ERROR(ReadRecords(lines, inferred, &arena, &columns, &cells));
  for (size_t c = 0; c < columns.size(); ++c) {
    if (all_null != nullptr && std::all_of(cells[c].begin(), cells[c].end(), [](const Value& v) {
          return v.kind == Value::kAbsent || v.kind == Value::kNull;
        }))
      all_null->push_back(columns[c].name);
    ASSIGN_OR_RETURN(columns[c],
                     parquet_internal::InferColumn(columns[c].name, cells[c], inferred));
  }
  return columns;
}

absl::StatusOr<ParquetFile> EncodeParquetFile(const std::vector<std::string_view>& lines,
                                              const ParquetOptions& options) {
  if (options.row_group_rows < 1 || options.row_group_bytes < 1 || options.page_bytes < 1)
    return absl::InvalidArgumentError("parquet: row group and page sizes must be positive");
  std::deque<std::string> arena;  // unescaped strings (stable addresses)
  std::vector<ParquetColumn> columns;
  std::vector<std::vector<Value>> cells;
  RETURN_IF_ERROR(ReadRecords(lines, options, &arena, &columns, &cells));
  const bool declared = !options.schema.empty();
  if (!declared) {
    for (size_t c = 0; c < columns.size(); ++c) {
      ASSIGN_OR_RETURN(columns[c],
                       parquet_internal::InferColumn(columns[c].name, cells[c], options));
    }
  }

  // The leaf columns, and for groups and lists the tree their values are shredded by.
  std::vector<Leaf> leaves;
  std::vector<std::pair<size_t, size_t>> leaf_range(columns.size());  // per column
  std::vector<std::unique_ptr<ShredNode>> plans(columns.size());      // groups and lists
  for (size_t c = 0; c < columns.size(); ++c) {
    leaf_range[c].first = leaves.size();
    if (IsGroup(columns[c])) {
      plans[c] = std::make_unique<ShredNode>();
      for (Leaf& l : parquet_internal::PlanColumn(columns[c], plans[c].get()))
        leaves.push_back(std::move(l));
    } else {
      leaves.push_back(parquet_internal::FlatLeaf(columns[c]));
    }
    leaf_range[c].second = leaves.size();
  }
  // Iceberg metrics of the leaves with a field id.
  std::vector<std::optional<FieldMetricsBuilder>> metrics(leaves.size());
  for (size_t l = 0; l < leaves.size(); ++l)
    if (leaves[l].col->field_id >= 0) metrics[l].emplace(leaves[l]);

  // Row groups.
  std::string file = "PAR1";
  std::vector<RowGroupMeta> groups;
  std::vector<ParquetChunkInfo> chunk_info;
  const size_t rows = lines.size();
  size_t begin = 0;
  while (begin < rows) {
    size_t end = begin;
    int64_t bytes = 0;
    while (end < rows && static_cast<int64_t>(end - begin) < options.row_group_rows &&
           (end == begin || bytes < options.row_group_bytes)) {
      bytes += static_cast<int64_t>(lines[end].size());
      ++end;
    }
    RowGroupMeta rg;
    rg.rows = static_cast<int64_t>(end - begin);
    for (size_t c = 0; c < columns.size(); ++c) {
      std::deque<std::string> converted;  // values converted and strings of nested trees
      const auto [first_leaf, end_leaf] = leaf_range[c];
      std::vector<ChunkValues> values(end_leaf - first_leaf);
      if (plans[c] == nullptr) {
        RETURN_IF_ERROR(FlatChunk(columns[c], cells[c], begin, end, &converted, &values[0]));
      } else {
        std::vector<Converter> convs;
        convs.reserve(values.size());
        for (size_t l = first_leaf; l < end_leaf; ++l)
          convs.emplace_back(*leaves[l].col, &converted);
        RETURN_IF_ERROR(
            ShredChunks(*plans[c], declared, cells[c], begin, end, &converted, &convs, &values));
      }
      for (size_t l = first_leaf; l < end_leaf; ++l) {
        ChunkMeta m;
        RETURN_IF_ERROR(parquet_internal::WriteColumnChunk(leaves[l], values[l - first_leaf],
                                                           options, &file, &m));
        chunk_info.push_back({static_cast<int64_t>(groups.size()), m.name, m.dictionary,
                              m.data_pages, m.stats.null_count, m.stats.has_min_max, m.stats.min,
                              m.stats.max, m.compressed});
        if (metrics[l]) metrics[l]->AddChunk(values[l - first_leaf], m);
        rg.chunks.push_back(std::move(m));
      }
    }
    groups.push_back(std::move(rg));
    begin = end;
  }

  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("lakehose.columns", parquet_internal::DescribeColumns(columns, declared));
  for (const auto& p : options.key_value_metadata) kv.push_back(p);

  ParquetFile out;
  out.rows = static_cast<int64_t>(rows);
  out.row_groups = static_cast<int64_t>(groups.size());
  parquet_internal::AppendFooter(columns, leaves.size(), groups, out.rows, kv, options, &file);
  // Before `columns` moves: the builders' leaves point into it.
  for (const std::optional<FieldMetricsBuilder>& m : metrics)
    if (m) out.field_metrics.push_back(m->Finish());
  out.bytes = std::move(file);
  out.columns = std::move(columns);
  out.chunks = std::move(chunk_info);
  return out;
}

absl::StatusOr<std::string> EncodeParquet(const std::vector<std::string_view>& lines,
                                          const ParquetOptions& options) {
  ASSIGN_OR_RETURN(ParquetFile f, EncodeParquetFile(lines, options));
  return std::move(f.bytes);
}

}  // namespace lakehose
