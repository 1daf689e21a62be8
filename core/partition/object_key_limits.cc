#include "core/partition/object_key_limits.h"

#include "core/base/json_writer.h"
#include "core/base/strings.h"

namespace lakehose {

ObjectKeyLimits ObjectKeyLimits::ForS3(std::string_view pipeline) {
  ObjectKeyLimits l;
  l.max_key_bytes = kMaxS3KeyBytes;
  l.object_name_bytes = MaxObjectNameBytes(pipeline.size());
  return l;
}

ObjectKeyLimits ObjectKeyLimits::ForFileLake(std::string_view pipeline) {
  ObjectKeyLimits l;
  l.file_lake = true;
  l.max_key_bytes = kMaxS3KeyBytes;
  l.max_component_bytes = kMaxFileNameBytes;
  l.object_name_bytes = MaxObjectNameBytes(pipeline.size());
  l.file_name_extra_bytes = kFileTempNameExtraBytes;
  return l;
}

std::optional<KeyOverflow> FindKeyOverflow(std::string_view prefix, const ObjectKeyLimits& limits) {
  if (limits.max_component_bytes > 0) {
    size_t begin = 0;
    for (;;) {
      const size_t slash = prefix.find('/', begin);
      const bool last = slash == std::string_view::npos;
      const size_t end = last ? prefix.size() : slash;
      // The last component runs on into the object name (and the temporary name).
      const size_t reserved = last ? limits.object_name_bytes + limits.file_name_extra_bytes : 0;
      const size_t bytes = end - begin + reserved;
      if (bytes > limits.max_component_bytes) {
        KeyOverflow o;
        o.what = last ? KeyOverflow::What::kFileName : KeyOverflow::What::kComponent;
        o.begin = begin;
        o.end = end;
        o.bytes = bytes;
        o.reserved = reserved;
        o.limit = limits.max_component_bytes;
        return o;
      }
      if (last) break;
      begin = slash + 1;
    }
  }
  const size_t bytes = prefix.size() + limits.object_name_bytes;
  if (bytes > limits.max_key_bytes) {
    KeyOverflow o;
    o.what = KeyOverflow::What::kKey;
    o.begin = 0;
    o.end = prefix.size();
    o.bytes = bytes;
    o.reserved = limits.object_name_bytes;
    o.limit = limits.max_key_bytes;
    return o;
  }
  return std::nullopt;
}

std::string DescribeKeyOverflow(std::string_view prefix, const KeyOverflow& o,
                                const ObjectKeyLimits& limits) {
  const std::string_view store = limits.file_lake ? "a file lake" : "S3";
  const std::string_view part = prefix.substr(o.begin, o.end - o.begin);
  switch (o.what) {
    case KeyOverflow::What::kComponent:
      return StrCat("path component ", QuoteForMessage(part, 48), " is ", o.bytes, " bytes; ",
                    store, " allows ", o.limit, " per component");
    case KeyOverflow::What::kFileName:
      return StrCat("the file name starting ", QuoteForMessage(part, 48), " would be up to ",
                    o.bytes, " bytes (", o.end - o.begin, " from the prefix and ", o.reserved,
                    " reserved for the object name and its temporary name); ", store, " allows ",
                    o.limit, " per file name");
    case KeyOverflow::What::kKey:
      break;
  }
  return StrCat("the object key would be up to ", o.bytes, " bytes (a prefix of ", prefix.size(),
                " and ", o.reserved, " reserved for the object name); ", store, " allows ",
                o.limit);
}

}  // namespace lakehose
