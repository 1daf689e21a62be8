#include "core/parquet/levels.h"

#include <utility>

#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace lakehose {
namespace parquet_internal {
namespace {

// `c` under a node at parent_def / parent_rep, its path so far in `path`.
void PlanNested(const ParquetColumn& c, int parent_def, int parent_rep,
                std::vector<std::string>* path, ShredNode* node, std::vector<Leaf>* leaves) {
  node->col = &c;
  node->def = parent_def + 1;
  node->leaf = leaves->size();
  path->push_back(c.name);
  if (c.type == ParquetType::kStruct) {
    node->children.resize(c.children.size());
    for (size_t i = 0; i < c.children.size(); ++i) {
      node->index.emplace(c.children[i].name, i);
      PlanNested(c.children[i], node->def, parent_rep, path, &node->children[i], leaves);
    }
  } else if (c.type == ParquetType::kList) {
    node->rep = parent_rep + 1;
    node->children.resize(1);
    path->push_back("list");
    // The repeated group adds a definition level: def + 1 is "has an element".
    PlanNested(c.children[0], node->def + 1, node->rep, path, &node->children[0], leaves);
    path->pop_back();
  } else {
    Leaf l;
    l.col = &c;
    l.path = *path;
    for (size_t i = 0; i < path->size(); ++i) {
      if (i > 0) l.dotted.push_back('.');
      l.dotted.append((*path)[i]);
    }
    l.max_def = node->def;
    l.value_def = node->def;
    l.max_rep = parent_rep;
    leaves->push_back(std::move(l));
  }
  path->pop_back();
  node->leaf_end = leaves->size();
}

}  // namespace

Leaf FlatLeaf(const ParquetColumn& c) {
  Leaf l;
  l.col = &c;
  l.path = {c.name};
  l.dotted = c.name;
  l.max_def = c.required ? 0 : 1;
  return l;
}

std::vector<Leaf> PlanColumn(const ParquetColumn& c, ShredNode* root) {
  std::vector<Leaf> leaves;
  std::vector<std::string> path;
  PlanNested(c, 0, 0, &path, root, &leaves);
  return leaves;
}

absl::Status Shredder::Shred(const ShredNode& n, const JsonNode* v, int rep, int64_t row) {
  if (v == nullptr || v->value.kind == Value::kAbsent || v->value.kind == Value::kNull) {
    Empty(n, rep, n.def - 1);
    return absl::OkStatus();
  }
  switch (n.col->type) {
    case ParquetType::kStruct: {
      if (v->value.kind != Value::kNested || !v->object || !v->expanded)
        return Unexpected(n, *v, row);
      std::vector<const JsonNode*> slots(n.children.size(), nullptr);
      for (size_t i = 0; i < v->names.size(); ++i) {
        auto it = n.index.find(v->names[i]);
        if (it != n.index.end()) slots[it->second] = &v->children[i];  // the last one wins
      }
      for (size_t k = 0; k < n.children.size(); ++k)
        RETURN_IF_ERROR(Shred(n.children[k], slots[k], rep, row));
      return absl::OkStatus();
    }
    case ParquetType::kList:
      if (v->value.kind != Value::kNested || v->object || !v->expanded)
        return Unexpected(n, *v, row);
      if (v->children.empty()) {
        Empty(n, rep, n.def);  // an empty list: defined, no element
        return absl::OkStatus();
      }
      for (size_t i = 0; i < v->children.size(); ++i)
        RETURN_IF_ERROR(Shred(n.children[0], &v->children[i], i == 0 ? rep : n.rep, row));
      return absl::OkStatus();
    default: {
      ChunkValues& cv = values_[n.leaf];
      cv.rep.push_back(static_cast<uint8_t>(rep));
      cv.defined.push_back(static_cast<uint8_t>(n.def));
      return converters_[n.leaf].AddPresent(v->value, row, &cv);
    }
  }
}

void Shredder::Empty(const ShredNode& n, int rep, int def) {
  for (size_t l = n.leaf; l < n.leaf_end; ++l) {
    values_[l].rep.push_back(static_cast<uint8_t>(rep));
    values_[l].defined.push_back(static_cast<uint8_t>(def));
  }
}

absl::Status Shredder::Unexpected(const ShredNode& n, const JsonNode& v, int64_t row) const {
  if (declared_) {
    return absl::InvalidArgumentError(
        StrCat("parquet: ", row < 0 ? std::string() : StrCat("record ", row, ": "), "column \"",
               n.col->name, "\" (", ParquetTypeName(n.col->type, n.col->scale), ") cannot hold ",
               QuoteForMessage(v.value.text)));
  }
  return absl::InternalError(StrCat("parquet: record ", row, ": a value of \"", n.col->name,
                                    "\" does not match its inferred ",
                                    ParquetTypeName(n.col->type, 0)));
}

}  // namespace parquet_internal
}  // namespace lakehose
