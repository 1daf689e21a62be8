#include "core/partition/prefix_template.h"

#include <algorithm>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace lakehose {

absl::StatusOr<PrefixTemplate> PrefixTemplate::Compile(std::string_view text,
                                                       const std::vector<std::string>& key_names) {
  PrefixTemplate t;
  t.text_ = std::string(text);
  t.key_names_ = key_names;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) t.parts_.push_back({Kind::kLiteral, std::move(literal)});
    literal.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "!{") != 0) {
      literal.push_back(text[i++]);
      continue;
    }
    const size_t end = text.find('}', i);
    if (end == std::string_view::npos)
      return absl::InvalidArgumentError(StrCat("unterminated '!{' at offset ", i));
    const std::string_view expr = text.substr(i + 2, end - i - 2);
    const size_t colon = expr.find(':');
    if (colon == std::string_view::npos)
      return absl::InvalidArgumentError(StrCat("expression '!{", expr, "}' has no ':'"));
    const std::string_view ns = expr.substr(0, colon);
    const std::string_view arg = expr.substr(colon + 1);
    flush();
    if (ns == "partitionKeyFromLambda" || ns == "partitionKeyFromQuery") {
      size_t k = 0;
      while (k < key_names.size() && key_names[k] != arg) ++k;
      if (k == key_names.size())
        return absl::InvalidArgumentError(
            StrCat("'!{", expr, "}' names partition key '", arg,
                   "', which the pipeline does not declare in partition_keys"));
      Part p{Kind::kPartitionKey, {}};
      p.key_index = k;
      t.parts_.push_back(std::move(p));
    } else if (ns == "timestamp") {
      auto format = TimeFormat::FromJavaPattern(arg);
      if (!format.ok())
        return absl::InvalidArgumentError(
            StrCat("'!{", expr, "}': ", StatusMessage(format.status())));
      Part p{Kind::kTimestamp, {}};
      p.format_index = static_cast<int>(t.formats_.size());
      t.formats_.push_back(*std::move(format));
      t.parts_.push_back(std::move(p));
    } else if (ns == "firehose" && arg == "error-output-type") {
      t.uses_error_output_type_ = true;
      t.parts_.push_back({Kind::kErrorOutputType, {}});
    } else if (ns == "firehose" && arg == "random-string") {
      t.uses_random_string_ = true;
      t.parts_.push_back({Kind::kRandom, {}});
    } else {
      return absl::InvalidArgumentError(
          StrCat("unknown expression '!{", expr,
                 "}' (known: partitionKeyFromLambda, partitionKeyFromQuery, timestamp, "
                 "firehose:error-output-type, firehose:random-string)"));
    }
    i = end + 1;
  }
  flush();
  return t;
}

void PrefixTemplate::Render(const PrefixValues& values, std::string* out) const {
  for (const Part& p : parts_) AppendPart(p, values, out);
}

void PrefixTemplate::AppendPart(const Part& p, const PrefixValues& values, std::string* out) const {
  switch (p.kind) {
    case Kind::kLiteral:
      out->append(p.literal);
      break;
    case Kind::kPartitionKey:
      if (values.partition_values && p.key_index < values.partition_values->size())
        out->append((*values.partition_values)[p.key_index]);
      break;
    case Kind::kTimestamp:
      formats_[p.format_index].Append(values.timestamp_ms, out);
      break;
    case Kind::kErrorOutputType:
      out->append(values.error_output_type);
      break;
    case Kind::kRandom:
      out->append(values.random_string);
      break;
  }
}

std::string PrefixTemplate::DescribeOverflow(const PrefixValues& values, std::string_view rendered,
                                             const KeyOverflow& overflow,
                                             const ObjectKeyLimits& limits) const {
  // Rendered again part by part (the slow path: only for records refused) to find which
  // key's value lies in the part that is too long.
  std::string out;
  size_t best_overlap = 0;
  const Part* best = nullptr;
  for (const Part& p : parts_) {
    const size_t begin = out.size();
    AppendPart(p, values, &out);
    if (p.kind != Kind::kPartitionKey) continue;
    const size_t lo = std::max(begin, overflow.begin);
    const size_t hi = std::min(out.size(), overflow.end);
    if (hi > lo && hi - lo > best_overlap) {
      best_overlap = hi - lo;
      best = &p;
    }
  }
  const std::string what = DescribeKeyOverflow(rendered, overflow, limits);
  if (!best || best->key_index >= key_names_.size())
    return StrCat("the rendered prefix is too long: ", what);
  const size_t value_bytes = (*values.partition_values)[best->key_index].size();
  return StrCat("partition key '", key_names_[best->key_index], "' is ", value_bytes,
                " bytes after escaping: ", what);
}

}  // namespace lakehose
