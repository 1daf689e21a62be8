// StringViewHash: a transparent hash, so that hash sets and maps keyed by std::string
// can be probed with a std::string_view without building a string. Use it with
// std::equal_to<> as the key-equal.
//
//   absl::flat_hash_set<std::string, StringViewHash, std::equal_to<>> names;
//   names.contains(std::string_view("id"));
#ifndef LAKEHOSE_CORE_BASE_STRING_VIEW_HASH_H_
#define LAKEHOSE_CORE_BASE_STRING_VIEW_HASH_H_

#include <cstddef>
#include <functional>
#include <string_view>

namespace lakehose {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_BASE_STRING_VIEW_HASH_H_
