#include "core/iceberg/schema.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "core/base/base64.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace lakehose::iceberg {
namespace {

using Int128 = __int128;
using Id = PrimitiveType::Id;

constexpr int kMaxDecimalPrecision = 38;
constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

struct NamedId {
  std::string_view name;
  Id id;
};
constexpr NamedId kSimpleTypes[] = {
    {"boolean", Id::kBoolean},
    {"int", Id::kInt},
    {"long", Id::kLong},
    {"float", Id::kFloat},
    {"double", Id::kDouble},
    {"date", Id::kDate},
    {"time", Id::kTime},
    {"timestamp", Id::kTimestamp},
    {"timestamptz", Id::kTimestamptz},
    {"string", Id::kString},
    {"uuid", Id::kUuid},
    {"binary", Id::kBinary},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-negative decimal int (no sign, no spaces inside).
std::optional<int> SmallInt(std::string_view s) {
  s = TrimSpaces(s);
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "name[N]" or "name(A,B)": the text between the brackets, if `s` starts with `name` and
// `open` and ends with `close`.
std::optional<std::string_view> Bracketed(std::string_view s, std::string_view name, char open,
                                          char close) {
  if (s.size() < name.size() + 2 || s.substr(0, name.size()) != name) return std::nullopt;
  s.remove_prefix(name.size());
  if (s.front() != open || s.back() != close) return std::nullopt;
  return s.substr(1, s.size() - 2);
}

bool IsFloating(const PrimitiveType& p) { return p.id == Id::kFloat || p.id == Id::kDouble; }

// ---- little-endian / big-endian bytes

std::string LittleEndian(uint64_t v, int bytes) {
  std::string out(bytes, '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

// The two's complement big-endian bytes (at most 16) as a value.
Int128 FromBigEndian(std::string_view b) {
  if (b.empty()) return 0;
  Int128 v = static_cast<int8_t>(b[0]);  // sign-extends
  for (size_t i = 1; i < b.size() && i < 16; ++i) v = v * 256 + static_cast<uint8_t>(b[i]);
  return v;
}

std::string Int128ToString(Int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string digits;
  while (u > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Int128 Pow10(int n) {
  Int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// 10^38: one more than the largest 38-digit unscaled value.
const Int128 kDecimalLimit = Pow10(kMaxDecimalPrecision);

int DigitCount(Int128 v) {
  unsigned __int128 u =
      v < 0 ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  int n = 1;
  while (u >= 10) {
    u /= 10;
    ++n;
  }
  return n;
}

// ---- calendar (proleptic Gregorian, days since 1970-01-01)

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

Civil CivilFromDays(int64_t days) {
  const absl::CivilDay d = absl::CivilDay(1970, 1, 1) + days;
  return {d.year(), d.month(), d.day()};
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// java.time's year printing: 4 digits at least, '-' before negative years, '+' before
// years past 9999 (LocalDate.toString).
std::string JavaIsoYear(int64_t y) {
  char buf[32];
  if (y > 9999) {
    std::snprintf(buf, sizeof buf, "+%lld", static_cast<long long>(y));
  } else if (y < 0) {
    std::snprintf(buf, sizeof buf, "-%04lld", static_cast<long long>(-y));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(y));
  }
  return buf;
}

// LocalDate.toString: "2017-11-16" (a timestamp's date part).
std::string JavaDate(int64_t days) {
  const Civil c = CivilFromDays(days);
  char buf[16];
  std::snprintf(buf, sizeof buf, "-%02d-%02d", c.month, c.day);
  return JavaIsoYear(c.year) + buf;
}

// Iceberg's TransformUtil.humanDay, for day partitions and date values: printf's
// "%04d-%02d-%02d" (which differs from LocalDate.toString only before year 0 and after
// 9999).
std::string HumanDay(int64_t days) {
  const Civil c = CivilFromDays(days);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.year), c.month,
                c.day);
  return buf;
}

// LocalTime.toString: "HH:mm", then ":ss" if seconds or fraction, then the fraction in
// groups of three digits.
std::string JavaTime(int64_t micros_of_day) {
  const int64_t secs = micros_of_day / 1000000;
  const int64_t frac = micros_of_day % 1000000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60));
  std::string out = buf;
  if (secs % 60 != 0 || frac != 0) {
    std::snprintf(buf, sizeof buf, ":%02lld", static_cast<long long>(secs % 60));
    out += buf;
    if (frac != 0) {
      if (frac % 1000 == 0) {
        std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(frac / 1000));
      } else {
        std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
      }
      out += buf;
    }
  }
  return out;
}

std::string JavaTimestamp(int64_t micros, bool utc) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  return JavaDate(days) + "T" + JavaTime(FloorMod(micros, kMicrosPerDay)) + (utc ? "Z" : "");
}

// Double.toString / Float.toString: the shortest digits that read back, plain for
// 1e-3 <= |v| < 1e7 (with at least one digit after the point), else "d.dddE[-]n".
template <typename F>
std::string JavaFloating(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, end - buf);
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits.push_back(c);
  int exp = 0;
  std::string_view es = sci.substr(e + 1);
  if (!es.empty() && es.front() == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  const double mag = std::fabs(static_cast<double>(v));
  if (mag >= 1e-3 && mag < 1e7) {
    if (exp >= 0) {
      const size_t int_len = static_cast<size_t>(exp) + 1;
      while (digits.size() < int_len) digits.push_back('0');
      out += digits.substr(0, int_len);
      out.push_back('.');
      out += digits.size() > int_len ? digits.substr(int_len) : "0";
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    }
  } else {
    out.push_back(digits[0]);
    out.push_back('.');
    out += digits.size() > 1 ? digits.substr(1) : "0";
    out += StrCat("E", exp);
  }
  return out;
}

// BigDecimal.toString of unscaled * 10^-scale (scale >= 0).
std::string JavaBigDecimal(Int128 unscaled, int scale) {
  std::string digits = Int128ToString(unscaled);
  std::string sign;
  if (digits[0] == '-') {
    sign = "-";
    digits.erase(0, 1);
  }
  if (scale == 0) return sign + digits;
  const int64_t adjusted = -static_cast<int64_t>(scale) + static_cast<int64_t>(digits.size()) - 1;
  if (adjusted >= -6) {
    if (static_cast<int>(digits.size()) > scale) {
      return sign + digits.substr(0, digits.size() - scale) + "." +
             digits.substr(digits.size() - scale);
    }
    return sign + "0." + std::string(scale - digits.size(), '0') + digits;
  }
  std::string out = sign + digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  return out + StrCat("E", adjusted);
}

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case) as 16 bytes.
std::optional<std::string> UuidBytes(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out;
  int nibble = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return std::nullopt;
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<char>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return out;
}

std::string UuidText(std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[static_cast<uint8_t>(b[i]) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(b[i]) & 15]);
  }
  return out;
}

// The first `n` code points of UTF-8 text (continuation bytes follow their lead byte).
std::string_view TruncateUtf8(std::string_view s, int64_t n) {
  int64_t points = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<uint8_t>(s[i]) & 0xC0) == 0x80) continue;
    if (points == n) return s.substr(0, i);
    ++points;
  }
  return s;
}

// ---- typing a source value

// A value typed by its source column, before the transform.
struct Typed {
  bool null = true;
  int64_t i = 0;   // int, long, date (days), time, timestamp(tz) (micros), boolean
  double d = 0;    // float, double
  Int128 dec = 0;  // decimal, unscaled at the column's scale
  std::string s;   // string (UTF-8), binary, fixed, uuid (16 bytes)
};

std::string KindName(SourceValue::Kind k) {
  switch (k) {
    case SourceValue::Kind::kNull:
      return "null";
    case SourceValue::Kind::kLong:
      return "an integer";
    case SourceValue::Kind::kDouble:
      return "a number";
    case SourceValue::Kind::kString:
      return "a string";
    case SourceValue::Kind::kBoolean:
      return "a boolean";
    case SourceValue::Kind::kDecimal:
      return "a decimal";
    case SourceValue::Kind::kTimestampMicros:
      return "a timestamp";
  }
  return "?";
}

std::optional<Int128> ParseUnscaled(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 60) return std::nullopt;
  Int128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v >= kDecimalLimit) return std::nullopt;
  }
  return neg ? -v : v;
}

absl::StatusOr<Typed> TypeValue(const PrimitiveType& p, const SourceValue& v) {
  Typed t;
  if (v.kind == SourceValue::Kind::kNull) return t;
  t.null = false;
  auto refuse = [&]() {
    return absl::InvalidArgumentError(
        StrCat("iceberg: ", KindName(v.kind), " does not fit a ", PrimitiveTypeName(p), " column"));
  };
  using K = SourceValue::Kind;
  switch (p.id) {
    case Id::kBoolean:
      if (v.kind != K::kBoolean) return refuse();
      t.i = v.b ? 1 : 0;
      return t;
    case Id::kInt:
      if (v.kind != K::kLong || v.l < std::numeric_limits<int32_t>::min() ||
          v.l > std::numeric_limits<int32_t>::max())
        return refuse();
      t.i = v.l;
      return t;
    case Id::kLong:
    case Id::kDate:
    case Id::kTime:
      if (v.kind != K::kLong) return refuse();
      if (p.id == Id::kDate &&
          (v.l < std::numeric_limits<int32_t>::min() || v.l > std::numeric_limits<int32_t>::max()))
        return refuse();
      t.i = v.l;
      return t;
    case Id::kTimestamp:
    case Id::kTimestamptz:
      if (v.kind != K::kTimestampMicros) return refuse();
      t.i = v.l;
      return t;
    case Id::kFloat:
    case Id::kDouble:
      if (v.kind == K::kDouble)
        t.d = v.d;
      else if (v.kind == K::kLong)
        t.d = static_cast<double>(v.l);
      else
        return refuse();
      if (p.id == Id::kFloat) t.d = static_cast<float>(t.d);
      return t;
    case Id::kDecimal: {
      Int128 unscaled;
      int scale;
      if (v.kind == K::kLong) {
        unscaled = v.l;
        scale = 0;
      } else if (v.kind == K::kDecimal) {
        std::optional<Int128> u = ParseUnscaled(v.s);
        if (!u || v.scale < 0 || v.scale > kMaxDecimalPrecision) return refuse();
        unscaled = *u;
        scale = v.scale;
      } else {
        return refuse();
      }
      // Rescale exactly to the column's scale.
      while (scale > p.scale) {
        if (unscaled % 10 != 0) return refuse();
        unscaled /= 10;
        --scale;
      }
      while (scale < p.scale) {
        if (unscaled >= kDecimalLimit / 10 || unscaled <= -kDecimalLimit / 10) return refuse();
        unscaled *= 10;
        ++scale;
      }
      if (DigitCount(unscaled) > p.precision) return refuse();
      t.dec = unscaled;
      return t;
    }
    case Id::kString:
    case Id::kBinary:
      if (v.kind != K::kString) return refuse();
      t.s = v.s;
      return t;
    case Id::kFixed:
      if (v.kind != K::kString || static_cast<int>(v.s.size()) != p.length) return refuse();
      t.s = v.s;
      return t;
    case Id::kUuid: {
      if (v.kind != K::kString) return refuse();
      std::optional<std::string> b = UuidBytes(v.s);
      if (!b) return refuse();
      t.s = *std::move(b);
      return t;
    }
  }
  return refuse();
}

PartitionValue::Kind ValueKind(Id id) {
  switch (id) {
    case Id::kBoolean:
      return PartitionValue::Kind::kBoolean;
    case Id::kInt:
    case Id::kDate:
      return PartitionValue::Kind::kInt;
    case Id::kLong:
    case Id::kTime:
    case Id::kTimestamp:
    case Id::kTimestamptz:
      return PartitionValue::Kind::kLong;
    case Id::kFloat:
    case Id::kDouble:
      return PartitionValue::Kind::kDouble;
    case Id::kDecimal:
      return PartitionValue::Kind::kDecimal;
    case Id::kString:
      return PartitionValue::Kind::kString;
    case Id::kBinary:
    case Id::kFixed:
    case Id::kUuid:
      return PartitionValue::Kind::kBinary;
  }
  return PartitionValue::Kind::kNull;
}

// A typed value as a partition value of type `p` (the members a type does not use are
// their defaults in both).
PartitionValue ToPartitionValue(const PrimitiveType& p, const Typed& t) {
  PartitionValue out;
  if (t.null) return out;
  out.kind = ValueKind(p.id);
  out.i = t.i;
  out.d = t.d;
  out.s = p.id == Id::kDecimal ? MinimalBigEndian(t.dec) : t.s;
  return out;
}

PartitionValue IntValue(int64_t v) {
  PartitionValue out;
  out.kind = PartitionValue::Kind::kInt;
  out.i = v;
  return out;
}

// Appendix B's hash input of a typed value.
std::string HashBytes(const PrimitiveType& p, const Typed& t) {
  switch (p.id) {
    case Id::kInt:
    case Id::kLong:
    case Id::kDate:
    case Id::kTime:
    case Id::kTimestamp:
    case Id::kTimestamptz:
      return LongHashBytes(t.i);
    case Id::kDecimal:
      return MinimalBigEndian(t.dec);
    default:
      return t.s;
  }
}

bool IsTimeBased(Id id) { return id == Id::kTimestamp || id == Id::kTimestamptz; }

absl::Status Inapplicable(const Transform& t, const Type& source) {
  return absl::InvalidArgumentError(StrCat("iceberg: transform ", TransformName(t),
                                           " does not apply to a ", TypeToString(source),
                                           " column"));
}

// ---- schema resolution

struct Resolver {
  int next_id = 0;  // the last id assigned
  std::set<ColumnPath> all_null;
  bool changed = false;

  int NewId() { return ++next_id; }

  // Fresh ids for the nested fields of a new type: a struct's members first, then
  // their children (as Java's AssignFreshIds).
  void AssignIds(Type* t) {
    if (t->kind == Type::Kind::kStruct) {
      for (Field& f : t->fields) f.id = NewId();
      for (Field& f : t->fields) AssignIds(&f.type);
    } else if (t->kind == Type::Kind::kList) {
      t->element_id = NewId();
      Type e = *t->element;
      AssignIds(&e);
      t->element = std::make_shared<const Type>(std::move(e));
    } else if (t->kind == Type::Kind::kMap) {
      t->key_id = NewId();
      t->value_id = NewId();
      Type k = *t->key, v = *t->value;
      AssignIds(&k);
      AssignIds(&v);
      t->key = std::make_shared<const Type>(std::move(k));
      t->value = std::make_shared<const Type>(std::move(v));
    }
  }

  static std::string PathName(const ColumnPath& path) { return StrJoin(path, "."); }

  static absl::Status Mismatch(const ColumnPath& path, const ParquetColumn& c, const Type& table) {
    std::string record;
    if (c.type == ParquetType::kJson) {
      record = "json";
    } else {
      absl::StatusOr<Type> t = IcebergTypeOf(c);
      record = t.ok() ? TypeToString(*t) : ParquetTypeName(c.type, c.scale);
    }
    return absl::InvalidArgumentError(StrCat("SCHEMA_MISMATCH: attribute \"", PathName(path),
                                             "\" is ", record, " in this record but ",
                                             TypeToString(table), " in the table"));
  }

  // Whether a column of primitive type `p` holds every value of inferred column `c`.
  static bool Holds(const PrimitiveType& p, const ParquetColumn& c) {
    switch (p.id) {
      case Id::kString:
        return true;
      case Id::kInt:
      case Id::kLong:
        return c.type == ParquetType::kInt64;
      case Id::kFloat:
      case Id::kDouble:
        return c.type == ParquetType::kInt64 || c.type == ParquetType::kDecimal ||
               c.type == ParquetType::kDouble;
      case Id::kDecimal:
        return c.type == ParquetType::kInt64 ||
               (c.type == ParquetType::kDecimal && c.scale <= p.scale);
      case Id::kBoolean:
        return c.type == ParquetType::kBool;
      case Id::kBinary:
        return c.type == ParquetType::kBinary || c.type == ParquetType::kString;
      case Id::kTimestamptz:
        return c.type == ParquetType::kTimestampMillis || c.type == ParquetType::kTimestampMicros ||
               c.type == ParquetType::kInt64;
      default:
        return false;
    }
  }

  // The promotion the spec allows that the writer can write, if any.
  static std::optional<PrimitiveType> Promotion(const PrimitiveType& p) {
    if (p.id == Id::kInt) return PrimitiveType{.id = Id::kLong};
    if (p.id == Id::kFloat) return PrimitiveType{.id = Id::kDouble};
    return std::nullopt;
  }

  static bool Writable(const Type& t) {
    Field f;
    f.type = t;
    return ParquetColumnOf(f).ok();
  }

  // A new field for inferred column `c`.
  absl::StatusOr<Field> NewField(const ParquetColumn& c) {
    Field f;
    f.id = NewId();
    f.name = c.name;
    f.required = false;
    ASSIGN_OR_RETURN(f.type, IcebergTypeOf(c));
    ClearRequired(&f.type);
    AssignIds(&f.type);
    changed = true;
    return f;
  }

  static void ClearRequired(Type* t) {
    if (t->kind == Type::Kind::kStruct) {
      for (Field& f : t->fields) {
        f.required = false;
        ClearRequired(&f.type);
      }
    } else if (t->kind == Type::Kind::kList) {
      t->element_required = false;
      Type e = *t->element;
      ClearRequired(&e);
      t->element = std::make_shared<const Type>(std::move(e));
    }
  }

  // Resolves the members `cols` of a struct whose table fields are `fields` (updated in
  // place), appending the file's columns to `out`.
  absl::Status ResolveFields(std::vector<Field>* fields, const std::vector<ParquetColumn>& cols,
                             ColumnPath* path, std::vector<ParquetColumn>* out) {
    std::set<std::string> seen;
    for (const ParquetColumn& c : cols) {
      seen.insert(c.name);
      path->push_back(c.name);
      auto it = std::find_if(fields->begin(), fields->end(),
                             [&](const Field& f) { return f.name == c.name; });
      if (it == fields->end()) {
        ASSIGN_OR_RETURN(Field f, NewField(c));
        ASSIGN_OR_RETURN(ParquetColumn pc, ParquetColumnOf(f));
        fields->push_back(std::move(f));
        out->push_back(std::move(pc));
      } else if (all_null.count(*path) > 0) {
        // Nulls fit any type; a column the writer cannot declare is left out.
        absl::StatusOr<ParquetColumn> pc = ParquetColumnOf(*it);
        if (pc.ok()) out->push_back(*std::move(pc));
      } else {
        ASSIGN_OR_RETURN(ParquetColumn pc, ResolveField(&*it, c, path));
        out->push_back(std::move(pc));
      }
      path->pop_back();
    }
    for (const Field& f : *fields) {
      if (!f.required || seen.count(f.name) > 0) continue;
      path->push_back(f.name);
      absl::StatusOr<ParquetColumn> pc = ParquetColumnOf(f);
      if (!pc.ok())
        return absl::InvalidArgumentError(
            StrCat("iceberg: required column \"", PathName(*path), "\": ", pc.status().ToString()));
      out->push_back(*std::move(pc));
      path->pop_back();
    }
    return absl::OkStatus();
  }

  // An existing field `f` for the file's column `c`: its (possibly promoted or extended)
  // type and the file's column.
  absl::StatusOr<ParquetColumn> ResolveField(Field* f, const ParquetColumn& c, ColumnPath* path) {
    Type& t = f->type;
    if (t.kind == Type::Kind::kStruct) {
      if (c.type == ParquetType::kJson) return ParquetColumnOf(*f);
      if (c.type != ParquetType::kStruct) return Mismatch(*path, c, t);
      ParquetColumn out;
      out.name = f->name;
      out.type = ParquetType::kStruct;
      out.required = f->required;
      out.field_id = f->id;
      RETURN_IF_ERROR(ResolveFields(&t.fields, c.children, path, &out.children));
      return out;
    }
    if (t.kind == Type::Kind::kList) {
      if (c.type == ParquetType::kJson) return ParquetColumnOf(*f);
      if (c.type != ParquetType::kList || c.children.size() != 1) return Mismatch(*path, c, t);
      Field element;
      element.id = t.element_id;
      element.name = "element";
      element.required = t.element_required;
      element.type = *t.element;
      path->push_back("element");
      absl::StatusOr<ParquetColumn> e;
      if (all_null.count(*path) > 0) {
        e = ParquetColumnOf(element);
      } else {
        e = ResolveField(&element, c.children[0], path);
      }
      path->pop_back();
      if (!e.ok()) return e.status();
      t.element = std::make_shared<const Type>(std::move(element.type));
      ParquetColumn out;
      out.name = f->name;
      out.type = ParquetType::kList;
      out.required = f->required;
      out.field_id = f->id;
      out.children.push_back(*std::move(e));
      return out;
    }
    if (t.kind == Type::Kind::kMap) return Mismatch(*path, c, t);
    absl::StatusOr<PrimitiveType> p = PrimitiveOf(t);
    if (!p.ok()) return Mismatch(*path, c, t);
    if (p->id == Id::kString) return ParquetColumnOf(*f);  // JSON text for nested values
    if (c.type == ParquetType::kStruct || c.type == ParquetType::kList)
      return Mismatch(*path, c, t);
    if (Holds(*p, c) && Writable(t)) return ParquetColumnOf(*f);
    if (std::optional<PrimitiveType> q = Promotion(*p); q && Holds(*q, c)) {
      Type promoted = MakeType(*q);
      if (Writable(promoted)) {
        t = std::move(promoted);
        changed = true;
        return ParquetColumnOf(*f);
      }
    }
    return Mismatch(*path, c, t);
  }
};

// A leaf column of a Parquet file, in the writer's order (depth first).
struct LeafInfo {
  ColumnPath path;
  bool under_list = false;
  bool string = false;
};

void Leaves(const ParquetColumn& c, ColumnPath* path, bool under_list, std::vector<LeafInfo>* out) {
  path->push_back(c.name);
  if (c.type == ParquetType::kStruct || c.type == ParquetType::kList) {
    for (const ParquetColumn& m : c.children)
      Leaves(m, path, under_list || c.type == ParquetType::kList, out);
  } else {
    out->push_back({*path, under_list, c.type == ParquetType::kString});
  }
  path->pop_back();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Primitive types

absl::StatusOr<PrimitiveType> ParsePrimitiveType(std::string_view name) {
  const std::string lower = Lower(TrimSpaces(name));
  for (const NamedId& n : kSimpleTypes)
    if (lower == n.name) return PrimitiveType{.id = n.id};
  if (std::optional<std::string_view> in = Bracketed(lower, "fixed", '[', ']')) {
    std::optional<int> len = SmallInt(*in);
    if (len && *len >= 1) return PrimitiveType{.id = Id::kFixed, .length = *len};
  }
  if (std::optional<std::string_view> in = Bracketed(lower, "decimal", '(', ')')) {
    const size_t comma = in->find(',');
    if (comma != std::string_view::npos) {
      std::optional<int> p = SmallInt(in->substr(0, comma));
      std::optional<int> s = SmallInt(in->substr(comma + 1));
      if (p && s && *p >= 1 && *p <= kMaxDecimalPrecision && *s <= *p)
        return PrimitiveType{.id = Id::kDecimal, .precision = *p, .scale = *s};
    }
  }
  return absl::InvalidArgumentError(
      StrCat("iceberg: \"", name, "\" is not a primitive type of format version 2"));
}

std::string PrimitiveTypeName(const PrimitiveType& type) {
  if (type.id == Id::kDecimal) return StrCat("decimal(", type.precision, ",", type.scale, ")");
  if (type.id == Id::kFixed) return StrCat("fixed[", type.length, "]");
  for (const NamedId& n : kSimpleTypes)
    if (n.id == type.id) return std::string(n.name);
  return "?";
}

Type MakeType(const PrimitiveType& type) { return Type::Primitive(PrimitiveTypeName(type)); }

Type DecimalType(int precision, int scale) {
  return MakeType({.id = Id::kDecimal, .precision = precision, .scale = scale});
}

absl::StatusOr<PrimitiveType> PrimitiveOf(const Type& type) {
  if (!type.is_primitive())
    return absl::InvalidArgumentError(StrCat("iceberg: ", TypeToString(type), " is not primitive"));
  return ParsePrimitiveType(type.primitive);
}

std::string TypeToString(const Type& type) {
  switch (type.kind) {
    case Type::Kind::kPrimitive: {
      absl::StatusOr<PrimitiveType> p = ParsePrimitiveType(type.primitive);
      return p.ok() ? PrimitiveTypeName(*p) : type.primitive;
    }
    case Type::Kind::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        if (i > 0) out += ", ";
        out += type.fields[i].name + ": " + TypeToString(type.fields[i].type);
      }
      return out + ">";
    }
    case Type::Kind::kList:
      return "list<" + (type.element ? TypeToString(*type.element) : std::string("?")) + ">";
    case Type::Kind::kMap:
      return "map<" + (type.key ? TypeToString(*type.key) : std::string("?")) + ", " +
             (type.value ? TypeToString(*type.value) : std::string("?")) + ">";
  }
  return "?";
}

bool TypesEqual(const Type& a, const Type& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Type::Kind::kPrimitive: {
      absl::StatusOr<PrimitiveType> pa = ParsePrimitiveType(a.primitive);
      absl::StatusOr<PrimitiveType> pb = ParsePrimitiveType(b.primitive);
      if (pa.ok() && pb.ok()) return *pa == *pb;
      return a.primitive == b.primitive;
    }
    case Type::Kind::kStruct:
      if (a.fields.size() != b.fields.size()) return false;
      for (size_t i = 0; i < a.fields.size(); ++i) {
        const Field& x = a.fields[i];
        const Field& y = b.fields[i];
        if (x.id != y.id || x.name != y.name || x.required != y.required ||
            !TypesEqual(x.type, y.type))
          return false;
      }
      return true;
    case Type::Kind::kList:
      return a.element_id == b.element_id && a.element_required == b.element_required &&
             a.element && b.element && TypesEqual(*a.element, *b.element);
    case Type::Kind::kMap:
      return a.key_id == b.key_id && a.value_id == b.value_id &&
             a.value_required == b.value_required && a.key && b.key && a.value && b.value &&
             TypesEqual(*a.key, *b.key) && TypesEqual(*a.value, *b.value);
  }
  return false;
}

bool CanPromote(const Type& from, const Type& to) {
  absl::StatusOr<PrimitiveType> f = PrimitiveOf(from);
  absl::StatusOr<PrimitiveType> t = PrimitiveOf(to);
  if (!f.ok() || !t.ok()) return false;
  if (f->id == Id::kInt) return t->id == Id::kLong;
  if (f->id == Id::kFloat) return t->id == Id::kDouble;
  if (f->id == Id::kDecimal)
    return t->id == Id::kDecimal && t->scale == f->scale && t->precision > f->precision;
  return false;
}

// ---------------------------------------------------------------------------------------
// Transforms

namespace {
// Each transform's name; bucket and truncate take "[N]" after it.
constexpr std::pair<std::string_view, Transform::Kind> kTransformNames[] = {
    {"identity", Transform::Kind::kIdentity}, {"bucket", Transform::Kind::kBucket},
    {"truncate", Transform::Kind::kTruncate}, {"year", Transform::Kind::kYear},
    {"month", Transform::Kind::kMonth},       {"day", Transform::Kind::kDay},
    {"hour", Transform::Kind::kHour},         {"void", Transform::Kind::kVoid}};

bool HasParam(Transform::Kind k) {
  return k == Transform::Kind::kBucket || k == Transform::Kind::kTruncate;
}
}  // namespace

absl::StatusOr<Transform> ParseTransform(std::string_view transform) {
  const std::string s = Lower(TrimSpaces(transform));
  for (const auto& [name, kind] : kTransformNames) {
    if (!HasParam(kind)) {
      if (s == name) return Transform{.kind = kind};
    } else if (std::optional<std::string_view> in = Bracketed(s, name, '[', ']')) {
      std::optional<int> n = SmallInt(*in);
      if (n && *n >= 1) return Transform{.kind = kind, .param = *n};
    }
  }
  return absl::InvalidArgumentError(
      StrCat("iceberg: unknown partition transform \"", transform,
             "\" (identity, bucket[N], truncate[W], year, month, day, hour or void)"));
}

std::string TransformName(const Transform& t) {
  for (const auto& [name, kind] : kTransformNames) {
    if (kind != t.kind) continue;
    return HasParam(kind) ? StrCat(name, "[", t.param, "]") : std::string(name);
  }
  return "?";
}

absl::StatusOr<Type> TransformResultType(std::string_view transform, const Type& source) {
  ASSIGN_OR_RETURN(Transform t, ParseTransform(transform));
  if (t.kind == Transform::Kind::kVoid) return source;
  absl::StatusOr<PrimitiveType> ps = PrimitiveOf(source);
  if (!ps.ok()) return Inapplicable(t, source);
  const Id id = ps->id;
  const Type int_type = Type::Primitive("int");
  switch (t.kind) {
    case Transform::Kind::kIdentity:
      return source;
    case Transform::Kind::kBucket:
      if (id == Id::kBoolean || IsFloating(*ps)) return Inapplicable(t, source);
      return int_type;
    case Transform::Kind::kTruncate:
      if (id == Id::kInt || id == Id::kLong || id == Id::kDecimal || id == Id::kString ||
          id == Id::kBinary)
        return source;
      return Inapplicable(t, source);
    case Transform::Kind::kYear:
    case Transform::Kind::kMonth:
      if (id == Id::kDate || IsTimeBased(id)) return int_type;
      return Inapplicable(t, source);
    case Transform::Kind::kDay:
      if (id == Id::kDate || IsTimeBased(id)) return Type::Primitive("date");
      return Inapplicable(t, source);
    case Transform::Kind::kHour:
      if (IsTimeBased(id)) return int_type;
      return Inapplicable(t, source);
    case Transform::Kind::kVoid:
      break;
  }
  return source;
}

int32_t Murmur3Hash32(std::string_view bytes) {
  constexpr uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
  uint32_t h = 0;  // seed 0
  const size_t n = bytes.size();
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t blocks = n / 4;
  for (size_t i = 0; i < blocks; ++i) {
    uint32_t k = static_cast<uint32_t>(p[4 * i]) | static_cast<uint32_t>(p[4 * i + 1]) << 8 |
                 static_cast<uint32_t>(p[4 * i + 2]) << 16 |
                 static_cast<uint32_t>(p[4 * i + 3]) << 24;
    k *= c1;
    k = std::rotl(k, 15);
    k *= c2;
    h ^= k;
    h = std::rotl(h, 13);
    h = h * 5 + 0xe6546b64;
  }
  const uint8_t* tail = p + 4 * blocks;
  uint32_t k = 0;
  switch (n & 3) {
    case 3:
      k ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = std::rotl(k, 15);
      k *= c2;
      h ^= k;
  }
  h ^= static_cast<uint32_t>(n);
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return static_cast<int32_t>(h);
}

int32_t BucketOfHash(int32_t hash, int n) {
  return static_cast<int32_t>((static_cast<uint32_t>(hash) & 0x7fffffffu) %
                              static_cast<uint32_t>(n));
}

std::string LongHashBytes(int64_t v) { return LittleEndian(static_cast<uint64_t>(v), 8); }

std::string MinimalBigEndian(Int128 unscaled) {
  std::string be(16, '\0');
  auto u = static_cast<unsigned __int128>(unscaled);
  for (int i = 15; i >= 0; --i) {
    be[i] = static_cast<char>(static_cast<uint8_t>(u & 0xff));
    u >>= 8;
  }
  // Drop leading bytes that only repeat the sign of the next one.
  size_t start = 0;
  while (start < 15) {
    const auto b = static_cast<uint8_t>(be[start]);
    const auto next = static_cast<uint8_t>(be[start + 1]);
    if ((b == 0x00 && next < 0x80) || (b == 0xff && next >= 0x80)) {
      ++start;
    } else {
      break;
    }
  }
  return be.substr(start);
}

absl::StatusOr<PartitionValue> ApplyTransform(std::string_view transform, const Type& source,
                                              const SourceValue& value) {
  ASSIGN_OR_RETURN(Transform t, ParseTransform(transform));
  ASSIGN_OR_RETURN(Type result, TransformResultType(transform, source));
  if (t.kind == Transform::Kind::kVoid) return PartitionValue{};
  ASSIGN_OR_RETURN(PrimitiveType p, PrimitiveOf(source));
  ASSIGN_OR_RETURN(Typed v, TypeValue(p, value));
  if (v.null) return PartitionValue{};
  switch (t.kind) {
    case Transform::Kind::kIdentity:
      return ToPartitionValue(p, v);
    case Transform::Kind::kBucket:
      return IntValue(BucketOfHash(Murmur3Hash32(HashBytes(p, v)), t.param));
    case Transform::Kind::kTruncate: {
      const int64_t w = t.param;
      if (p.id == Id::kInt || p.id == Id::kLong) {
        const Int128 r = v.i - ((static_cast<Int128>(v.i) % w) + w) % w;
        const Int128 lo = p.id == Id::kInt ? std::numeric_limits<int32_t>::min()
                                           : std::numeric_limits<int64_t>::min();
        if (r < lo)
          return absl::InvalidArgumentError(
              StrCat("iceberg: ", TransformName(t), " of ", v.i, " is out of the column's range"));
        v.i = static_cast<int64_t>(r);
      } else if (p.id == Id::kDecimal) {
        v.dec = v.dec - ((v.dec % w) + w) % w;
      } else if (p.id == Id::kString) {
        v.s = std::string(TruncateUtf8(v.s, w));
      } else {
        v.s.resize(std::min<size_t>(v.s.size(), static_cast<size_t>(w)));
      }
      return ToPartitionValue(p, v);
    }
    case Transform::Kind::kYear:
    case Transform::Kind::kMonth:
    case Transform::Kind::kDay:
    case Transform::Kind::kHour: {
      if (t.kind == Transform::Kind::kHour) return IntValue(FloorDiv(v.i, kMicrosPerHour));
      const int64_t days = p.id == Id::kDate ? v.i : FloorDiv(v.i, kMicrosPerDay);
      if (t.kind == Transform::Kind::kDay) return IntValue(days);
      const Civil c = CivilFromDays(days);
      if (t.kind == Transform::Kind::kYear) return IntValue(c.year - 1970);
      return IntValue((c.year - 1970) * 12 + (c.month - 1));
    }
    case Transform::Kind::kVoid:
      break;
  }
  return PartitionValue{};
}

// ---------------------------------------------------------------------------------------
// Partition paths

std::string PartitionValueToHumanString(std::string_view transform, const Type& result_type,
                                        const PartitionValue& value) {
  if (value.kind == PartitionValue::Kind::kNull) return "null";
  absl::StatusOr<Transform> t = ParseTransform(transform);
  const Transform::Kind kind = t.ok() ? t->kind : Transform::Kind::kIdentity;
  char buf[64];
  switch (kind) {
    case Transform::Kind::kVoid:
      return "null";
    case Transform::Kind::kYear:
      std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(1970 + value.i));
      return buf;
    case Transform::Kind::kMonth: {
      const int64_t y = 1970 + FloorDiv(value.i, 12);
      std::snprintf(buf, sizeof buf, "%04lld-%02d", static_cast<long long>(y),
                    static_cast<int>(FloorMod(value.i, 12) + 1));
      return buf;
    }
    case Transform::Kind::kHour: {
      const Civil c = CivilFromDays(FloorDiv(value.i, 24));
      std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d-%02d", static_cast<long long>(c.year),
                    c.month, c.day, static_cast<int>(FloorMod(value.i, 24)));
      return buf;
    }
    case Transform::Kind::kDay:  // a date, or an int as older writers typed it
      return HumanDay(value.i);
    case Transform::Kind::kBucket:
      return StrCat(value.i);
    default:
      break;
  }
  // identity and truncate: by the result type.
  absl::StatusOr<PrimitiveType> p = PrimitiveOf(result_type);
  if (!p.ok()) return "null";
  switch (p->id) {
    case Id::kBoolean:
      return value.i != 0 ? "true" : "false";
    case Id::kInt:
    case Id::kLong:
      return StrCat(value.i);
    case Id::kDate:
      return HumanDay(value.i);
    case Id::kTime:
      return JavaTime(value.i);
    case Id::kTimestamp:
      return JavaTimestamp(value.i, false);
    case Id::kTimestamptz:
      return JavaTimestamp(value.i, true);
    case Id::kFloat:
      return JavaFloating(static_cast<float>(value.d));
    case Id::kDouble:
      return JavaFloating(value.d);
    case Id::kDecimal:
      return JavaBigDecimal(FromBigEndian(value.s), p->scale);
    case Id::kString:
      return value.s;
    case Id::kUuid:
      return UuidText(value.s);
    case Id::kBinary:
    case Id::kFixed:
      return Base64Encode(value.s);
  }
  return "null";
}

std::string JavaUrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '*' || c == '_') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {
const Field* FindFieldById(const std::vector<Field>& fields, int id) {
  for (const Field& f : fields) {
    if (f.id == id) return &f;
    if (f.type.kind == Type::Kind::kStruct)
      if (const Field* n = FindFieldById(f.type.fields, id)) return n;
  }
  return nullptr;
}
}  // namespace

std::string PartitionPath(const PartitionSpec& spec, const Schema& schema,
                          const std::vector<PartitionValue>& values) {
  std::string out;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    const PartitionField& pf = spec.fields[i];
    std::string human = "null";
    const Field* source = FindFieldById(schema.fields, pf.source_id);
    if (source != nullptr && i < values.size()) {
      absl::StatusOr<Type> rt = TransformResultType(pf.transform, source->type);
      if (rt.ok()) human = PartitionValueToHumanString(pf.transform, *rt, values[i]);
    }
    if (i > 0) out.push_back('/');
    out += JavaUrlEncode(pf.name);
    out.push_back('=');
    out += JavaUrlEncode(human);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Single values and summaries

std::string SerializeSingleValue(const Type& type, const PartitionValue& value) {
  if (value.kind == PartitionValue::Kind::kNull) return "";
  absl::StatusOr<PrimitiveType> p = PrimitiveOf(type);
  if (!p.ok()) return "";
  switch (p->id) {
    case Id::kBoolean:
      return std::string(1, value.i != 0 ? '\x01' : '\x00');
    case Id::kInt:
    case Id::kDate:
      return LittleEndian(static_cast<uint32_t>(value.i), 4);
    case Id::kLong:
    case Id::kTime:
    case Id::kTimestamp:
    case Id::kTimestamptz:
      return LittleEndian(static_cast<uint64_t>(value.i), 8);
    case Id::kFloat:
      return LittleEndian(std::bit_cast<uint32_t>(static_cast<float>(value.d)), 4);
    case Id::kDouble:
      return LittleEndian(std::bit_cast<uint64_t>(value.d), 8);
    case Id::kDecimal:
    case Id::kString:
    case Id::kUuid:
    case Id::kFixed:
    case Id::kBinary:
      return value.s;
  }
  return "";
}

int ComparePartitionValues(const Type& type, const PartitionValue& a, const PartitionValue& b) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  absl::StatusOr<PrimitiveType> p = PrimitiveOf(type);
  const Id id = p.ok() ? p->id : Id::kString;
  switch (id) {
    case Id::kFloat:
    case Id::kDouble: {
      // Double.compare: NaN above everything, -0.0 below 0.0.
      const bool an = std::isnan(a.d), bn = std::isnan(b.d);
      if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
      if (a.d == b.d) return sign(!std::signbit(a.d), !std::signbit(b.d));
      return sign(a.d, b.d);
    }
    case Id::kDecimal:
      return sign(FromBigEndian(a.s), FromBigEndian(b.s));
    case Id::kString:
    case Id::kUuid:
    case Id::kFixed:
    case Id::kBinary: {
      const int c = std::memcmp(a.s.data(), b.s.data(), std::min(a.s.size(), b.s.size()));
      if (c != 0) return c < 0 ? -1 : 1;
      return sign(a.s.size(), b.s.size());
    }
    default:
      return sign(a.i, b.i);
  }
}

FieldSummary SummarizePartitionField(const Type& result_type,
                                     const std::vector<const PartitionValue*>& values) {
  FieldSummary out;
  absl::StatusOr<PrimitiveType> p = PrimitiveOf(result_type);
  const bool floating = p.ok() && IsFloating(*p);
  if (floating) out.contains_nan = false;
  const PartitionValue* lo = nullptr;
  const PartitionValue* hi = nullptr;
  for (const PartitionValue* v : values) {
    if (v == nullptr || v->kind == PartitionValue::Kind::kNull) {
      out.contains_null = true;
      continue;
    }
    if (floating && std::isnan(v->d)) {
      out.contains_nan = true;
      continue;
    }
    if (lo == nullptr || ComparePartitionValues(result_type, *v, *lo) < 0) lo = v;
    if (hi == nullptr || ComparePartitionValues(result_type, *v, *hi) > 0) hi = v;
  }
  if (lo != nullptr) out.lower_bound = SerializeSingleValue(result_type, *lo);
  if (hi != nullptr) out.upper_bound = SerializeSingleValue(result_type, *hi);
  return out;
}

// ---------------------------------------------------------------------------------------
// Iceberg types <-> Parquet columns

absl::StatusOr<Type> IcebergTypeOf(const ParquetColumn& column) {
  switch (column.type) {
    case ParquetType::kString:
    case ParquetType::kJson:
      return Type::Primitive("string");
    case ParquetType::kInt64:
      return Type::Primitive("long");
    case ParquetType::kDecimal:
      if (column.scale < 0 || column.scale > kMaxDecimalPrecision)
        return absl::InvalidArgumentError(
            StrCat("iceberg: column \"", column.name, "\" has decimal scale ", column.scale));
      return DecimalType(kMaxDecimalPrecision, column.scale);
    case ParquetType::kDouble:
      return Type::Primitive("double");
    case ParquetType::kBool:
      return Type::Primitive("boolean");
    case ParquetType::kBinary:
      return Type::Primitive("binary");
    case ParquetType::kTimestampMillis:
    case ParquetType::kTimestampMicros:
      // Iceberg has no millisecond timestamp; the values are instants (UTC).
      return Type::Primitive("timestamptz");
    case ParquetType::kStruct: {
      Type t;
      t.kind = Type::Kind::kStruct;
      for (const ParquetColumn& m : column.children) {
        Field f;
        f.id = std::max(m.field_id, 0);
        f.name = m.name;
        f.required = m.required;
        ASSIGN_OR_RETURN(f.type, IcebergTypeOf(m));
        t.fields.push_back(std::move(f));
      }
      return t;
    }
    case ParquetType::kList: {
      if (column.children.size() != 1)
        return absl::InvalidArgumentError(
            StrCat("iceberg: list column \"", column.name, "\" must have one element column"));
      Type t;
      t.kind = Type::Kind::kList;
      t.element_id = std::max(column.children[0].field_id, 0);
      t.element_required = column.children[0].required;
      ASSIGN_OR_RETURN(Type e, IcebergTypeOf(column.children[0]));
      t.element = std::make_shared<const Type>(std::move(e));
      return t;
    }
  }
  return absl::InvalidArgumentError(StrCat("iceberg: column \"", column.name, "\" has no type"));
}

namespace {
// The writer's column type for each Iceberg primitive it writes: the one place Iceberg
// types map to the writer's, so that a new writer type is one case here.
std::optional<ParquetType> WriterType(Id id) {
  switch (id) {
    case Id::kString:
      return ParquetType::kString;
    case Id::kLong:
      return ParquetType::kInt64;
    case Id::kDouble:
      return ParquetType::kDouble;
    case Id::kBoolean:
      return ParquetType::kBool;
    case Id::kBinary:
      return ParquetType::kBinary;
    case Id::kDecimal:
      return ParquetType::kDecimal;  // DECIMAL(38,S); P is not enforced
    // INT64 TIMESTAMP(MICROS, UTC), as the spec requires; documents hold milliseconds.
    case Id::kTimestamptz:
      return ParquetType::kTimestampMicros;
    default:
      return std::nullopt;
  }
}
}  // namespace

absl::StatusOr<ParquetColumn> ParquetColumnOf(const Field& field) {
  ParquetColumn c;
  c.name = field.name;
  c.required = field.required;
  c.field_id = field.id;
  const Type& t = field.type;
  if (t.kind == Type::Kind::kStruct) {
    c.type = ParquetType::kStruct;
    for (const Field& m : t.fields) {
      ASSIGN_OR_RETURN(ParquetColumn mc, ParquetColumnOf(m));
      c.children.push_back(std::move(mc));
    }
    return c;
  }
  if (t.kind == Type::Kind::kList) {
    if (!t.element) return absl::InvalidArgumentError("iceberg: list without an element type");
    Field e;
    e.id = t.element_id;
    e.name = "element";
    e.required = t.element_required;
    e.type = *t.element;
    c.type = ParquetType::kList;
    ASSIGN_OR_RETURN(ParquetColumn ec, ParquetColumnOf(e));
    c.children.push_back(std::move(ec));
    return c;
  }
  auto unwritable = [&]() {
    return absl::UnimplementedError(StrCat("iceberg: column \"", field.name, "\" is ",
                                           TypeToString(t),
                                           ", a type lakehose's Parquet writer does not write"));
  };
  if (t.kind == Type::Kind::kMap) return unwritable();
  ASSIGN_OR_RETURN(PrimitiveType p, PrimitiveOf(t));
  std::optional<ParquetType> w = WriterType(p.id);
  if (!w) return unwritable();
  c.type = *w;
  if (p.id == Id::kDecimal) c.scale = p.scale;
  return c;
}

// ---------------------------------------------------------------------------------------
// Schemas

absl::StatusOr<Schema> SchemaFromDeclared(const std::vector<ParquetColumn>& declared,
                                          const std::vector<std::string>& required,
                                          const std::vector<std::string>& identifier,
                                          int* last_column_id) {
  Schema s;
  std::set<std::string> names;
  for (const ParquetColumn& c : declared)
    if (!names.insert(c.name).second)
      return absl::InvalidArgumentError(
          StrCat("iceberg: column \"", c.name, "\" is declared twice"));
  for (const std::vector<std::string>* list : {&required, &identifier})
    for (const std::string& n : *list)
      if (names.count(n) == 0)
        return absl::InvalidArgumentError(StrCat("iceberg: \"", n, "\" is listed as ",
                                                 list == &required ? "required" : "an identifier",
                                                 " but is not a column"));
  Resolver r;
  for (const ParquetColumn& c : declared) {
    Field f;
    f.id = r.NewId();
    f.name = c.name;
    f.required = c.required ||
                 std::find(required.begin(), required.end(), c.name) != required.end() ||
                 std::find(identifier.begin(), identifier.end(), c.name) != identifier.end();
    ASSIGN_OR_RETURN(f.type, IcebergTypeOf(c));
    s.fields.push_back(std::move(f));
  }
  for (Field& f : s.fields) r.AssignIds(&f.type);
  for (const std::string& n : identifier) {
    const Field& f = *std::find_if(s.fields.begin(), s.fields.end(),
                                   [&](const Field& x) { return x.name == n; });
    absl::StatusOr<PrimitiveType> p = PrimitiveOf(f.type);
    if (!p.ok() || IsFloating(*p))
      return absl::InvalidArgumentError(
          StrCat("iceberg: identifier column \"", n, "\" is ", TypeToString(f.type),
                 "; identifiers must be primitive, not float or double"));
    s.identifier_field_ids.push_back(f.id);
  }
  *last_column_id = r.next_id;
  return s;
}

std::vector<ColumnPath> AllNullColumns(const ParquetFile& file) {
  std::vector<LeafInfo> leaves;
  ColumnPath path;
  for (const ParquetColumn& c : file.columns) Leaves(c, &path, false, &leaves);
  std::vector<ColumnPath> out;
  if (leaves.empty() || file.rows == 0) return out;
  std::vector<int64_t> nulls(leaves.size(), 0);
  std::vector<bool> has_min_max(leaves.size(), false);
  for (size_t i = 0; i < file.chunks.size(); ++i) {
    nulls[i % leaves.size()] += file.chunks[i].null_count;
    if (file.chunks[i].has_min_max) has_min_max[i % leaves.size()] = true;
  }
  for (size_t l = 0; l < leaves.size(); ++l) {
    // Outside lists a leaf has one entry per row. Under a list the entry count is not
    // known; a string leaf without min/max in any row group has no value, unless every
    // chunk's strings were too long for statistics (kMaxStatisticsBytes), which is then
    // taken for nulls: the table's type is used and the writer refuses such a record.
    const bool none =
        leaves[l].under_list ? leaves[l].string && !has_min_max[l] : nulls[l] == file.rows;
    if (none) out.push_back(leaves[l].path);
  }
  return out;
}

absl::StatusOr<FileSchema> ResolveFileSchema(const Schema& table, int last_column_id,
                                             const std::vector<ParquetColumn>& inferred,
                                             int* new_last_column_id,
                                             const std::vector<ColumnPath>& all_null) {
  Resolver r;
  r.next_id = last_column_id;
  r.all_null.insert(all_null.begin(), all_null.end());
  FileSchema out;
  out.table_schema = table;
  ColumnPath path;
  RETURN_IF_ERROR(r.ResolveFields(&out.table_schema.fields, inferred, &path, &out.parquet_columns));
  out.table_changed = r.changed;
  if (r.changed) out.table_schema.schema_id = table.schema_id + 1;
  *new_last_column_id = r.next_id;
  return out;
}

}  // namespace lakehose::iceberg
