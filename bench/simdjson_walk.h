// The simdjson ceiling's "walk": visit every node of a parsed document, as the least a
// converter must do after parsing. Shared by transform_bench and bench_rows so both
// ceilings measure the same work.
#ifndef LAKEHOSE_BENCH_SIMDJSON_WALK_H_
#define LAKEHOSE_BENCH_SIMDJSON_WALK_H_

#include <cstddef>

#include "simdjson.h"

namespace lakehose {

// The number of nodes (values, objects, arrays) under and including `e`.
inline size_t SimdjsonWalk(simdjson::dom::element e) {
  size_t n = 1;
  simdjson::dom::object obj;
  simdjson::dom::array arr;
  if (e.get_object().get(obj) == simdjson::SUCCESS) {
    for (auto f : obj) n += SimdjsonWalk(f.value);
  } else if (e.get_array().get(arr) == simdjson::SUCCESS) {
    for (auto v : arr) n += SimdjsonWalk(v);
  }
  return n;
}

}  // namespace lakehose

#endif  // LAKEHOSE_BENCH_SIMDJSON_WALK_H_
