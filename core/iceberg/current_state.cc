#include "core/iceberg/current_state.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "core/base/decimal.h"
#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/parquet/json_reader.h"
#include "simdjson.h"
#include "zlib.h"

namespace lakehose::iceberg {
namespace {

// Digits-only text compared as a number (no leading zeros on either side).
int CompareDigits(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// A DynamoDB number's value as "[-]<digits>e<exponent>" (digits without leading or
// trailing zeros; "0" for zero), so that two spellings of one value are one text.
std::optional<std::string> CanonicalNumber(std::string_view n) {
  DecimalParts p;
  if (!SplitDecimal(n, &p)) return std::nullopt;
  std::string digits = StrCat(p.int_digits, p.frac_digits);
  int64_t exponent = DecimalExponent(p) - static_cast<int64_t>(p.frac_digits.size());
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return std::string("0");
  digits.erase(0, first);
  const size_t last = digits.find_last_not_of('0');
  exponent += static_cast<int64_t>(digits.size() - last - 1);
  digits.erase(last + 1);
  return StrCat(p.negative ? "-" : "", digits, "e", exponent);
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

bool GetBytes(std::string_view* in, std::string* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

// Zigzag, so that negative times (before 1970) stay short and exact.
uint64_t Zig(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t Zag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

constexpr char kKeyStateFormat = 1;

}  // namespace

std::string EncodeKeyState(const KeyState& state) {
  std::string out(1, kKeyStateFormat);
  out.push_back(state.live ? 1 : 0);
  PutBytes(state.version.sequence, &out);
  PutVarint(Zig(state.version.time_ms), &out);
  if (state.live) {
    PutBytes(state.file_path, &out);
    PutVarint(static_cast<uint64_t>(state.pos), &out);
    PutBytes(state.partition, &out);
  }
  return out;
}

absl::StatusOr<KeyState> DecodeKeyState(std::string_view in) {
  const auto bad = [] { return absl::InvalidArgumentError("a damaged key index entry"); };
  if (in.size() < 2 || in[0] != kKeyStateFormat || (in[1] != 0 && in[1] != 1)) return bad();
  KeyState s;
  s.live = in[1] == 1;
  in.remove_prefix(2);
  uint64_t time = 0, pos = 0;
  if (!GetBytes(&in, &s.version.sequence) || !GetVarint(&in, &time)) return bad();
  s.version.time_ms = Zag(time);
  if (s.live) {
    if (!GetBytes(&in, &s.file_path) || !GetVarint(&in, &pos) ||
        pos > static_cast<uint64_t>(INT64_MAX) || !GetBytes(&in, &s.partition))
      return bad();
    s.pos = static_cast<int64_t>(pos);
  }
  if (!in.empty()) return bad();
  return s;
}

std::string EncodePartition(const std::vector<PartitionValue>& values) {
  std::string out;
  PutVarint(values.size(), &out);
  for (const PartitionValue& v : values) {
    out.push_back(static_cast<char>(v.kind));
    switch (v.kind) {
      case PartitionValue::Kind::kNull:
        break;
      case PartitionValue::Kind::kInt:
      case PartitionValue::Kind::kLong:
      case PartitionValue::Kind::kBoolean:
        PutVarint(Zig(v.i), &out);
        break;
      case PartitionValue::Kind::kDouble: {
        uint64_t bits = 0;
        std::memcpy(&bits, &v.d, sizeof(bits));
        PutVarint(bits, &out);
        break;
      }
      case PartitionValue::Kind::kString:
      case PartitionValue::Kind::kBinary:
      case PartitionValue::Kind::kDecimal:
        PutBytes(v.s, &out);
        break;
    }
  }
  return out;
}

absl::StatusOr<std::vector<PartitionValue>> DecodePartition(std::string_view in) {
  const auto bad = [] { return absl::InvalidArgumentError("damaged partition values"); };
  uint64_t n = 0;
  if (!GetVarint(&in, &n) || n > in.size()) return bad();
  std::vector<PartitionValue> out(n);
  for (PartitionValue& v : out) {
    if (in.empty() || static_cast<unsigned char>(in[0]) >
                          static_cast<unsigned char>(PartitionValue::Kind::kDecimal))
      return bad();
    v.kind = static_cast<PartitionValue::Kind>(in[0]);
    in.remove_prefix(1);
    uint64_t u = 0;
    switch (v.kind) {
      case PartitionValue::Kind::kNull:
        break;
      case PartitionValue::Kind::kInt:
      case PartitionValue::Kind::kLong:
      case PartitionValue::Kind::kBoolean:
        if (!GetVarint(&in, &u)) return bad();
        v.i = Zag(u);
        break;
      case PartitionValue::Kind::kDouble:
        if (!GetVarint(&in, &u)) return bad();
        std::memcpy(&v.d, &u, sizeof(u));
        break;
      case PartitionValue::Kind::kString:
      case PartitionValue::Kind::kBinary:
      case PartitionValue::Kind::kDecimal:
        if (!GetBytes(&in, &v.s)) return bad();
        break;
    }
  }
  if (!in.empty()) return bad();
  return out;
}

namespace {
constexpr std::string_view kDeltaMagic = "LHIDX";
constexpr char kDeltaFormat = 2;  // 1: the paths in every entry (never released)
}  // namespace

std::string EncodeIndexDelta(const std::vector<IndexUpdate>& updates) {
  // Each data file's path and each partition once (a commit's rows share a few files:
  // written per key, the paths made the deltas larger than the table's data).
  std::map<std::string_view, uint64_t> paths, partitions;
  for (const IndexUpdate& u : updates)
    if (u.state.live) {
      paths.try_emplace(u.state.file_path, paths.size());
      partitions.try_emplace(u.state.partition, partitions.size());
    }
  std::vector<std::string_view> path_list(paths.size()), partition_list(partitions.size());
  for (const auto& [p, n] : paths) path_list[n] = p;
  for (const auto& [p, n] : partitions) partition_list[n] = p;
  std::string out(kDeltaMagic);
  out.push_back(kDeltaFormat);
  PutVarint(path_list.size(), &out);
  for (std::string_view p : path_list) PutBytes(p, &out);
  PutVarint(partition_list.size(), &out);
  for (std::string_view p : partition_list) PutBytes(p, &out);
  PutVarint(updates.size(), &out);
  for (const IndexUpdate& u : updates) {
    PutBytes(u.key, &out);
    out.push_back(u.state.live ? 1 : 0);
    PutBytes(u.state.version.sequence, &out);
    PutVarint(Zig(u.state.version.time_ms), &out);
    if (!u.state.live) continue;
    PutVarint(paths.at(u.state.file_path), &out);
    PutVarint(static_cast<uint64_t>(u.state.pos), &out);
    PutVarint(partitions.at(u.state.partition), &out);
  }
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size())));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

absl::StatusOr<std::vector<IndexUpdate>> DecodeIndexDelta(std::string_view in) {
  if (in.size() < kDeltaMagic.size() + 1 + 3 + 4 || in.substr(0, kDeltaMagic.size()) != kDeltaMagic)
    return absl::DataLossError("not an index delta (no LHIDX header)");
  if (in[kDeltaMagic.size()] != kDeltaFormat)
    return absl::DataLossError(
        StrCat("index delta format ", static_cast<int>(in[kDeltaMagic.size()]),
               " (this lakehose reads ", static_cast<int>(kDeltaFormat), ")"));
  const std::string_view body = in.substr(0, in.size() - 4);
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= static_cast<uint32_t>(static_cast<unsigned char>(in[in.size() - 4 + i])) << (8 * i);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  if (crc != stored) return absl::DataLossError("index delta damaged (CRC-32 mismatch)");
  std::string_view rest = body.substr(kDeltaMagic.size() + 1);
  // A table of strings, each at least one byte long in the input: counts beyond the
  // bytes left are damage, not allocations.
  auto table = [&](std::vector<std::string>* out) {
    uint64_t n = 0;
    if (!GetVarint(&rest, &n) || n > rest.size()) return false;
    out->resize(n);
    for (std::string& s : *out)
      if (!GetBytes(&rest, &s)) return false;
    return true;
  };
  std::vector<std::string> paths, partitions;
  if (!table(&paths) || !table(&partitions))
    return absl::DataLossError("index delta damaged (its tables)");
  uint64_t n = 0;
  if (!GetVarint(&rest, &n) || n > rest.size())
    return absl::DataLossError("index delta damaged (entry count)");
  std::vector<IndexUpdate> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const auto bad = [i] {
      return absl::DataLossError(StrCat("index delta damaged (entry ", i, ")"));
    };
    IndexUpdate u;
    uint64_t time = 0;
    if (!GetBytes(&rest, &u.key) || rest.empty() || (rest[0] != 0 && rest[0] != 1)) return bad();
    u.state.live = rest[0] == 1;
    rest.remove_prefix(1);
    if (!GetBytes(&rest, &u.state.version.sequence) || !GetVarint(&rest, &time)) return bad();
    u.state.version.time_ms = Zag(time);
    if (u.state.live) {
      uint64_t path = 0, pos = 0, partition = 0;
      if (!GetVarint(&rest, &path) || path >= paths.size() || !GetVarint(&rest, &pos) ||
          pos > static_cast<uint64_t>(INT64_MAX) || !GetVarint(&rest, &partition) ||
          partition >= partitions.size())
        return bad();
      u.state.file_path = paths[path];
      u.state.pos = static_cast<int64_t>(pos);
      u.state.partition = partitions[partition];
    }
    out.push_back(std::move(u));
  }
  if (!rest.empty()) return absl::DataLossError("index delta damaged (bytes after its entries)");
  return out;
}

int CompareVersions(const ChangeVersion& a, const ChangeVersion& b) {
  if (!a.sequence.empty() && !b.sequence.empty()) return CompareDigits(a.sequence, b.sequence);
  if (a.sequence.empty() != b.sequence.empty()) {
    // A DynamoDB Streams record's time is rounded down to the second: against a change
    // without a sequence number (an export's or a scan's row), whole seconds decide, and
    // within one second the stream record wins. Right either way: if the stream record is
    // in fact older, every later change of that second is in the stream too, and the
    // last of them is what the export saw.
    const auto seconds = [](int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); };
    const int64_t sa = seconds(a.time_ms), sb = seconds(b.time_ms);
    if (sa != sb) return sa < sb ? -1 : 1;
    return a.sequence.empty() ? -1 : 1;
  }
  if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms ? -1 : 1;
  return 0;
}

absl::StatusOr<ChangeVersion> MakeVersion(std::string_view sequence_number, int64_t time_ms) {
  ChangeVersion v;
  v.time_ms = time_ms;
  if (sequence_number.size() > 64)
    return absl::InvalidArgumentError(
        StrCat("SequenceNumber of ", sequence_number.size(), " characters (at most 64)"));
  for (char c : sequence_number)
    if (c < '0' || c > '9')
      return absl::InvalidArgumentError(
          StrCat("SequenceNumber ", QuoteForMessage(sequence_number), " is not decimal digits"));
  const size_t first = sequence_number.find_first_not_of('0');
  v.sequence = first == std::string_view::npos ? std::string(sequence_number.empty() ? "" : "0")
                                               : std::string(sequence_number.substr(first));
  return v;
}

absl::StatusOr<std::string> ItemKeyText(std::string_view image_json,
                                        const std::vector<std::string>& key_names) {
  simdjson::dom::parser parser;
  simdjson::dom::object image;
  if (parser.parse(image_json.data(), image_json.size()).get_object().get(image) !=
      simdjson::SUCCESS)
    return absl::InvalidArgumentError("the item's image is not a JSON object of attributes");
  std::string out;
  for (size_t i = 0; i < key_names.size(); ++i) {
    const std::string& name = key_names[i];
    simdjson::dom::object value;
    if (image.at_key(name).get_object().get(value) != simdjson::SUCCESS)
      return absl::InvalidArgumentError(
          StrCat("key attribute ", QuoteForMessage(name), " is missing from the item"));
    std::string_view text;
    if (value.at_key("S").get_string().get(text) == simdjson::SUCCESS) {
      StrAppend(&out, i ? "\x1f" : "", "S", text);
    } else if (value.at_key("B").get_string().get(text) == simdjson::SUCCESS) {
      StrAppend(&out, i ? "\x1f" : "", "B", text);
    } else if (value.at_key("N").get_string().get(text) == simdjson::SUCCESS) {
      std::optional<std::string> n = CanonicalNumber(text);
      if (!n)
        return absl::InvalidArgumentError(StrCat("key attribute ", QuoteForMessage(name), ": N ",
                                                 QuoteForMessage(text), " is not a number"));
      StrAppend(&out, i ? "\x1f" : "", "N", *n);
    } else {
      return absl::InvalidArgumentError(
          StrCat("key attribute ", QuoteForMessage(name), " is not an S, N or B value"));
    }
  }
  return out;
}

namespace {

// The key text of `values` (the key attributes' values, in key_names' order).
absl::StatusOr<std::string> KeyTextOf(const std::vector<parquet_internal::Value>& values,
                                      const std::vector<std::string>& key_names) {
  std::string out;
  for (size_t i = 0; i < key_names.size(); ++i) {
    const std::string& name = key_names[i];
    const parquet_internal::Value& v = values[i];
    if (v.kind == parquet_internal::Value::kString) {
      StrAppend(&out, i ? "\x1f" : "", "S", v.text);
    } else if (v.kind == parquet_internal::Value::kNumber) {
      std::optional<std::string> n = CanonicalNumber(v.text);
      if (!n)
        return absl::InvalidArgumentError(StrCat("key attribute ", QuoteForMessage(name), ": ",
                                                 QuoteForMessage(v.text), " is not a number"));
      StrAppend(&out, i ? "\x1f" : "", "N", *n);
    } else if (v.kind == parquet_internal::Value::kAbsent ||
               v.kind == parquet_internal::Value::kNull) {
      return absl::InvalidArgumentError(
          StrCat("key attribute ", QuoteForMessage(name), " is missing from the document"));
    } else {
      return absl::InvalidArgumentError(
          StrCat("key attribute ", QuoteForMessage(name), " is not a string or a number"));
    }
  }
  return out;
}

// A whole number token (an optional '-' and digits, at most 18 of them) into *out.
bool WholeMillis(std::string_view text, int64_t* out) {
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 18) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = negative ? -v : v;
  return true;
}

}  // namespace

absl::StatusOr<std::string> DocumentKeyText(std::string_view document_json,
                                            const std::vector<std::string>& key_names) {
  std::deque<std::string> arena;
  std::vector<parquet_internal::Value> values(key_names.size());
  parquet_internal::LineParser reader(document_json, &arena);
  absl::Status parsed =
      reader.ParseObject([&](std::string_view name, const parquet_internal::Value& v) {
        for (size_t i = 0; i < key_names.size(); ++i)
          if (key_names[i] == name) values[i] = v;
      });
  if (!parsed.ok())
    return absl::InvalidArgumentError(
        StrCat("the document is not a JSON object: ", StatusMessage(parsed)));
  return KeyTextOf(values, key_names);
}

absl::StatusOr<DocumentChange> ReadDocumentChange(std::string_view document_json,
                                                  const std::vector<std::string>& key_names) {
  // The Parquet writer's reader keeps numbers as their exact token (simdjson's DOM
  // refuses integers past 64 bits, which a 38-digit N key is).
  std::deque<std::string> arena;
  std::vector<parquet_internal::Value> values(key_names.size());
  parquet_internal::Value op, sequence, created, event;
  parquet_internal::LineParser reader(document_json, &arena);
  absl::Status parsed =
      reader.ParseObject([&](std::string_view name, const parquet_internal::Value& v) {
        for (size_t i = 0; i < key_names.size(); ++i)
          if (key_names[i] == name) values[i] = v;
        if (name == "_op") op = v;
        if (name == "_SequenceNumber") sequence = v;
        if (name == "_ApproximateCreationDateTime") created = v;
        if (name == "_event_time") event = v;
      });
  if (!parsed.ok())
    return absl::InvalidArgumentError(
        StrCat("the document is not a JSON object: ", StatusMessage(parsed)));
  DocumentChange out;
  ASSIGN_OR_RETURN(out.key, KeyTextOf(values, key_names));
  out.remove = op.kind == parquet_internal::Value::kString && op.text == "DELETE";
  int64_t time_ms = 0;
  if (!(created.kind == parquet_internal::Value::kNumber && WholeMillis(created.text, &time_ms)) &&
      !(event.kind == parquet_internal::Value::kNumber && WholeMillis(event.text, &time_ms)))
    return absl::InvalidArgumentError(
        "the document has no change time (_ApproximateCreationDateTime or _event_time)");
  const std::string_view seq =
      sequence.kind == parquet_internal::Value::kString ? sequence.text : std::string_view();
  ASSIGN_OR_RETURN(out.version, MakeVersion(seq, time_ms));
  return out;
}

ChangePlan PlanChanges(const std::vector<KeyChange>& changes,
                       const std::function<std::optional<KeyState>(const std::string&)>& lookup) {
  ChangePlan plan;
  // Per key: the state before the batch (looked up once) and the batch's newest change.
  struct Slot {
    std::optional<KeyState> before;
    std::optional<size_t> newest;  // index of the newest change that beats `before`
  };
  std::map<std::string, Slot, std::less<>> slots;
  for (size_t i = 0; i < changes.size(); ++i) {
    const KeyChange& c = changes[i];
    auto [it, fresh] = slots.try_emplace(c.key);
    Slot& s = it->second;
    if (fresh) s.before = lookup(c.key);
    const ChangeVersion* current = s.newest   ? &changes[*s.newest].version
                                   : s.before ? &s.before->version
                                              : nullptr;
    if (current != nullptr && CompareVersions(c.version, *current) <= 0) {
      // Not newer than what the key (or a change of this batch) reflects.
      // Newer than the table but older than the batch's newest: superseded; an equal one
      // is the same change again.
      if (s.newest && CompareVersions(c.version, *current) < 0 &&
          (!s.before || CompareVersions(c.version, s.before->version) > 0))
        ++plan.superseded;
      else
        ++plan.stale;
      continue;
    }
    if (s.newest) ++plan.superseded;
    s.newest = i;
  }
  std::vector<std::pair<size_t, const std::string*>> order;
  for (const auto& [key, s] : slots) {
    if (!s.newest) continue;
    if (s.before && s.before->live) plan.deletes.emplace_back(key, *s.before);
    const KeyChange& c = changes[*s.newest];
    if (c.remove)
      plan.removed.emplace_back(key, c.version);
    else
      order.emplace_back(*s.newest, &key);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [i, key] : order) plan.write.push_back(i);
  return plan;
}

}  // namespace lakehose::iceberg
