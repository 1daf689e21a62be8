#include "core/iceberg/schema.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose::iceberg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2017-11-16 as days since 1970-01-01, and 22:31:08 as microseconds from midnight.
constexpr int64_t kDays20171116 = 17486;
constexpr int64_t kMicros223108 = (int64_t{22} * 3600 + 31 * 60 + 8) * 1000000;
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

Type T(const char* name) { return Type::Primitive(name); }

Field F(int id, const char* name, bool required, Type type) {
  Field f;
  f.id = id;
  f.name = name;
  f.required = required;
  f.type = std::move(type);
  return f;
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

int32_t BucketHash(const Type& type, const SourceValue& v) {
  // bucket[2^31-1] is the hash without its sign bit: enough to compare with the spec's
  // values through the public transform.
  absl::StatusOr<PartitionValue> p = ApplyTransform("bucket[2147483647]", type, v);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? static_cast<int32_t>(p->i) : 0;
}

int32_t Positive(int32_t h) { return static_cast<int32_t>(h & 0x7fffffff) % 2147483647; }

// ---- types

TEST(PrimitiveTypeTest, ParsesAndPrintsTheSpecNames) {
  for (const char* n : {"boolean", "int", "long", "float", "double", "date", "time", "timestamp",
                        "timestamptz", "string", "uuid", "binary", "decimal(9,2)", "fixed[16]"}) {
    absl::StatusOr<PrimitiveType> p = ParsePrimitiveType(n);
    ASSERT_TRUE(p.ok()) << n;
    EXPECT_EQ(PrimitiveTypeName(*p), n);
  }
  absl::StatusOr<PrimitiveType> d = ParsePrimitiveType("decimal(38, 2)");  // Java's form
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->precision, 38);
  EXPECT_EQ(d->scale, 2);
  EXPECT_EQ(PrimitiveTypeName(*d), "decimal(38,2)");
  EXPECT_EQ(ParsePrimitiveType("fixed[ 4 ]")->length, 4);
  for (const char* bad : {"decimal(39,2)", "decimal(5,6)", "decimal(5)", "fixed[0]", "text",
                          "timestamp_ns", "unknown", "decimal(-1,0)", "fixed[]", ""})
    EXPECT_FALSE(ParsePrimitiveType(bad).ok()) << bad;
  EXPECT_TRUE(TypesEqual(T("decimal(9, 2)"), T("decimal(9,2)")));
  EXPECT_FALSE(TypesEqual(T("decimal(9,2)"), T("decimal(10,2)")));
}

TEST(PrimitiveTypeTest, PromotionsOfFormatVersion2) {
  EXPECT_TRUE(CanPromote(T("int"), T("long")));
  EXPECT_TRUE(CanPromote(T("float"), T("double")));
  EXPECT_TRUE(CanPromote(T("decimal(9,2)"), T("decimal(18,2)")));
  EXPECT_FALSE(CanPromote(T("decimal(9,2)"), T("decimal(9,2)")));
  EXPECT_FALSE(CanPromote(T("decimal(18,2)"), T("decimal(9,2)")));
  EXPECT_FALSE(CanPromote(T("decimal(9,2)"), T("decimal(18,3)")));
  EXPECT_FALSE(CanPromote(T("date"), T("timestamp")));  // v3 only
  EXPECT_FALSE(CanPromote(T("long"), T("int")));
  EXPECT_FALSE(CanPromote(T("int"), T("string")));
  EXPECT_FALSE(CanPromote(T("long"), T("long")));
}

// ---- hash and bucket (Appendix B)

TEST(BucketTest, SpecHashValues) {
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(34)), 2017239379);
  EXPECT_EQ(Murmur3Hash32("iceberg"), 1210000089);
  EXPECT_EQ(Murmur3Hash32(Bytes({0, 1, 2, 3})), -188683207);
  EXPECT_EQ(Murmur3Hash32(MinimalBigEndian(1420)), -500754589);        // 14.20
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(kDays20171116)), -653330422);  // date
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(kMicros223108)), -662762989);  // time
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(kDays20171116 * kMicrosPerDay + kMicros223108)),
            -2047944441);
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(kDays20171116 * kMicrosPerDay + kMicros223108 + 1)),
            -1207196810);
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(1)), 1392991556);                   // true as hashInt(1)
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(0x3ff0000000000000)), -142385009);  // 1.0D
  EXPECT_EQ(Murmur3Hash32(LongHashBytes(0)), 1669671676);                   // 0.0D
  EXPECT_EQ(Murmur3Hash32(Bytes({0xF7, 0x9C, 0x3E, 0x09, 0x67, 0x7C, 0x4B, 0xBD, 0xA4, 0x79, 0x3F,
                                 0x34, 0x9C, 0xB7, 0x85, 0xE7})),
            1488055340);
}

TEST(BucketTest, TransformHashesEachTypeAsTheSpecSays) {
  EXPECT_EQ(BucketHash(T("int"), SourceValue::Long(34)), Positive(2017239379));
  EXPECT_EQ(BucketHash(T("long"), SourceValue::Long(34)), Positive(2017239379));
  EXPECT_EQ(BucketHash(T("decimal(9,2)"), SourceValue::Decimal("1420", 2)), Positive(-500754589));
  // The scale of the value is the column's: 14.2 is rescaled to 14.20 first.
  EXPECT_EQ(BucketHash(T("decimal(9,2)"), SourceValue::Decimal("142", 1)), Positive(-500754589));
  EXPECT_EQ(BucketHash(T("date"), SourceValue::Long(kDays20171116)), Positive(-653330422));
  EXPECT_EQ(BucketHash(T("time"), SourceValue::Long(kMicros223108)), Positive(-662762989));
  const int64_t ts = kDays20171116 * kMicrosPerDay + kMicros223108;
  EXPECT_EQ(BucketHash(T("timestamp"), SourceValue::TimestampMicros(ts)), Positive(-2047944441));
  EXPECT_EQ(BucketHash(T("timestamptz"), SourceValue::TimestampMicros(ts + 1)),
            Positive(-1207196810));
  EXPECT_EQ(BucketHash(T("string"), SourceValue::String("iceberg")), Positive(1210000089));
  EXPECT_EQ(BucketHash(T("uuid"), SourceValue::String("f79c3e09-677c-4bbd-a479-3f349cb785e7")),
            Positive(1488055340));
  EXPECT_EQ(BucketHash(T("binary"), SourceValue::String(Bytes({0, 1, 2, 3}))),
            Positive(-188683207));
  EXPECT_EQ(BucketHash(T("fixed[4]"), SourceValue::String(Bytes({0, 1, 2, 3}))),
            Positive(-188683207));
  // The spec's example of a promotion that would change buckets: "34" != 34.
  EXPECT_EQ(Murmur3Hash32("34"), -427558391);

  absl::StatusOr<PartitionValue> b =
      ApplyTransform("bucket[16]", T("string"), SourceValue::String("iceberg"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, PartitionValue::Kind::kInt);
  EXPECT_EQ(b->i, 1210000089 % 16);
  // Negative hashes lose their sign bit before the modulo.
  EXPECT_EQ(BucketOfHash(-188683207, 16), (-188683207 & 0x7fffffff) % 16);
}

TEST(BucketTest, MinimalBigEndian) {
  EXPECT_EQ(MinimalBigEndian(0), Bytes({0}));
  EXPECT_EQ(MinimalBigEndian(127), Bytes({0x7f}));
  EXPECT_EQ(MinimalBigEndian(128), Bytes({0x00, 0x80}));
  EXPECT_EQ(MinimalBigEndian(-1), Bytes({0xff}));
  EXPECT_EQ(MinimalBigEndian(-128), Bytes({0x80}));
  EXPECT_EQ(MinimalBigEndian(-129), Bytes({0xff, 0x7f}));
  EXPECT_EQ(MinimalBigEndian(1420), Bytes({0x05, 0x8c}));
}

// ---- transforms

TEST(TransformTest, ResultTypes) {
  EXPECT_EQ(TransformResultType("identity", T("string"))->primitive, "string");
  EXPECT_EQ(TransformResultType("bucket[16]", T("long"))->primitive, "int");
  EXPECT_EQ(TransformResultType("truncate[4]", T("decimal(9,2)"))->primitive, "decimal(9,2)");
  EXPECT_EQ(TransformResultType("year", T("timestamptz"))->primitive, "int");
  EXPECT_EQ(TransformResultType("month", T("date"))->primitive, "int");
  EXPECT_EQ(TransformResultType("day", T("timestamptz"))->primitive, "date");
  EXPECT_EQ(TransformResultType("hour", T("timestamp"))->primitive, "int");
  EXPECT_EQ(TransformResultType("void", T("double"))->primitive, "double");

  absl::StatusOr<Type> bad = TransformResultType("hour", T("date"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("hour does not apply to a date column"));
  EXPECT_FALSE(TransformResultType("bucket[8]", T("double")).ok());
  EXPECT_FALSE(TransformResultType("bucket[8]", T("boolean")).ok());
  EXPECT_FALSE(TransformResultType("truncate[8]", T("timestamptz")).ok());
  EXPECT_FALSE(TransformResultType("day", T("string")).ok());
  Type st;
  st.kind = Type::Kind::kStruct;
  EXPECT_FALSE(TransformResultType("identity", st).ok());
  for (const char* t : {"bucket[0]", "bucket", "truncate[-1]", "days", "bucket[x]"})
    EXPECT_FALSE(ParseTransform(t).ok()) << t;
}

TEST(TransformTest, TruncateExamplesFromTheSpec) {
  EXPECT_EQ(ApplyTransform("truncate[10]", T("int"), SourceValue::Long(1))->i, 0);
  EXPECT_EQ(ApplyTransform("truncate[10]", T("int"), SourceValue::Long(-1))->i, -10);
  EXPECT_EQ(ApplyTransform("truncate[10]", T("long"), SourceValue::Long(1))->i, 0);
  EXPECT_EQ(ApplyTransform("truncate[10]", T("long"), SourceValue::Long(-1))->i, -10);
  absl::StatusOr<PartitionValue> d =
      ApplyTransform("truncate[50]", T("decimal(9,2)"), SourceValue::Decimal("1065", 2));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, PartitionValue::Kind::kDecimal);
  EXPECT_EQ(d->s, MinimalBigEndian(1050));  // 10.50
  EXPECT_EQ(PartitionValueToHumanString("truncate[50]", T("decimal(9,2)"), *d), "10.50");
  EXPECT_EQ(ApplyTransform("truncate[3]", T("string"), SourceValue::String("iceberg"))->s, "ice");
  EXPECT_EQ(
      ApplyTransform("truncate[3]", T("binary"), SourceValue::String(Bytes({1, 2, 3, 4, 5})))->s,
      Bytes({1, 2, 3}));
  // Strings by code points, not bytes.
  EXPECT_EQ(ApplyTransform("truncate[2]", T("string"), SourceValue::String("\u00e9t\u00e9"))->s,
            "\u00e9t");
  EXPECT_EQ(ApplyTransform("truncate[1]", T("string"), SourceValue::String("\u20ac1"))->s,
            "\u20ac");
  EXPECT_EQ(ApplyTransform("truncate[5]", T("string"), SourceValue::String("ab"))->s, "ab");
  // The int64 range is not left.
  EXPECT_FALSE(ApplyTransform("truncate[10]", T("long"),
                              SourceValue::Long(std::numeric_limits<int64_t>::min()))
                   .ok());
}

TEST(TransformTest, IdentityTypesTheValueByItsColumn) {
  absl::StatusOr<PartitionValue> s =
      ApplyTransform("identity", T("string"), SourceValue::String("a b"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, PartitionValue::Kind::kString);
  EXPECT_EQ(ApplyTransform("identity", T("int"), SourceValue::Long(7))->kind,
            PartitionValue::Kind::kInt);
  EXPECT_EQ(ApplyTransform("identity", T("long"), SourceValue::Long(7))->kind,
            PartitionValue::Kind::kLong);
  EXPECT_EQ(ApplyTransform("identity", T("boolean"), SourceValue::Boolean(true))->i, 1);
  EXPECT_EQ(ApplyTransform("identity", T("double"), SourceValue::Long(2))->d, 2.0);
  EXPECT_EQ(ApplyTransform("identity", T("string"), SourceValue::Null())->kind,
            PartitionValue::Kind::kNull);
  EXPECT_EQ(ApplyTransform("void", T("string"), SourceValue::String("x"))->kind,
            PartitionValue::Kind::kNull);
  // Values that do not fit the column.
  EXPECT_FALSE(ApplyTransform("identity", T("int"), SourceValue::Long(int64_t{1} << 40)).ok());
  EXPECT_FALSE(ApplyTransform("identity", T("long"), SourceValue::String("7")).ok());
  EXPECT_FALSE(ApplyTransform("identity", T("decimal(9,2)"), SourceValue::Decimal("1001", 3)).ok());
  EXPECT_TRUE(ApplyTransform("identity", T("decimal(9,2)"), SourceValue::Decimal("1000", 3)).ok());
  EXPECT_FALSE(ApplyTransform("identity", T("decimal(3,2)"), SourceValue::Decimal("1000", 2)).ok());
  EXPECT_FALSE(ApplyTransform("identity", T("timestamptz"), SourceValue::Long(1)).ok());
  EXPECT_FALSE(ApplyTransform("identity", T("fixed[4]"), SourceValue::String("abc")).ok());
  EXPECT_FALSE(ApplyTransform("hour", T("string"), SourceValue::String("x")).ok());
}

// ---- time transforms and human strings

struct TimeCase {
  int64_t micros;
  const char* year;
  const char* month;
  const char* day;
  const char* hour;
};

TEST(TransformTest, TimeTransformsAndTheirHumanStrings) {
  const TimeCase cases[] = {
      // 2023-11-15T00:30:00Z
      {int64_t{1700008200} * 1000000, "2023", "2023-11", "2023-11-15", "2023-11-15-00"},
      {0, "1970", "1970-01", "1970-01-01", "1970-01-01-00"},
      // One microsecond before the epoch: every unit is -1, not 0.
      {-1, "1969", "1969-12", "1969-12-31", "1969-12-31-23"},
      // 1900-03-01T05:00:00Z
      {int64_t{-2203873200} * 1000000, "1900", "1900-03", "1900-03-01", "1900-03-01-05"},
      // 2000-02-29T23:59:59.999999Z
      {int64_t{951868799} * 1000000 + 999999, "2000", "2000-02", "2000-02-29", "2000-02-29-23"},
  };
  const Type tz = T("timestamptz");
  for (const TimeCase& c : cases) {
    SCOPED_TRACE(c.micros);
    const SourceValue v = SourceValue::TimestampMicros(c.micros);
    for (auto [transform, want] :
         {std::pair{"year", c.year}, {"month", c.month}, {"day", c.day}, {"hour", c.hour}}) {
      absl::StatusOr<PartitionValue> p = ApplyTransform(transform, tz, v);
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_EQ(p->kind, PartitionValue::Kind::kInt);
      EXPECT_EQ(PartitionValueToHumanString(transform, *TransformResultType(transform, tz), *p),
                want)
          << transform;
    }
  }
  EXPECT_EQ(ApplyTransform("year", tz, SourceValue::TimestampMicros(-1))->i, -1);
  EXPECT_EQ(ApplyTransform("month", tz, SourceValue::TimestampMicros(-1))->i, -1);
  EXPECT_EQ(ApplyTransform("day", tz, SourceValue::TimestampMicros(-1))->i, -1);
  EXPECT_EQ(ApplyTransform("hour", tz, SourceValue::TimestampMicros(-1))->i, -1);
  EXPECT_EQ(
      ApplyTransform("month", tz, SourceValue::TimestampMicros(int64_t{1700008200} * 1000000))->i,
      (2023 - 1970) * 12 + 10);
  // Dates too.
  EXPECT_EQ(ApplyTransform("day", T("date"), SourceValue::Long(kDays20171116))->i, kDays20171116);
  EXPECT_EQ(ApplyTransform("year", T("date"), SourceValue::Long(kDays20171116))->i, 47);
}

TEST(HumanStringTest, IdentityValuesAsJavaPrintsThem) {
  PartitionValue v;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("string"), v), "null");
  v = *ApplyTransform("identity", T("timestamptz"),
                      SourceValue::TimestampMicros(int64_t{1510871468} * 1000000));
  EXPECT_EQ(PartitionValueToHumanString("identity", T("timestamptz"), v), "2017-11-16T22:31:08Z");
  v.i += 1;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("timestamptz"), v),
            "2017-11-16T22:31:08.000001Z");
  v.i = int64_t{1510871460} * 1000000;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("timestamp"), v), "2017-11-16T22:31");
  v.i = int64_t{1510871468} * 1000000 + 120000;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("timestamptz"), v),
            "2017-11-16T22:31:08.120Z");
  v = *ApplyTransform("identity", T("decimal(38,7)"), SourceValue::Decimal("1", 7));
  EXPECT_EQ(PartitionValueToHumanString("identity", T("decimal(38,7)"), v), "1E-7");
  v = *ApplyTransform("identity", T("decimal(38,2)"), SourceValue::Decimal("-5", 2));
  EXPECT_EQ(PartitionValueToHumanString("identity", T("decimal(38,2)"), v), "-0.05");
  v = *ApplyTransform("identity", T("double"), SourceValue::Double(1.0));
  EXPECT_EQ(PartitionValueToHumanString("identity", T("double"), v), "1.0");
  v.d = 1e10;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("double"), v), "1.0E10");
  v.d = 0.001;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("double"), v), "0.001");
  v.d = 123.25;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("double"), v), "123.25");
  v.d = -1.5e-5;
  EXPECT_EQ(PartitionValueToHumanString("identity", T("double"), v), "-1.5E-5");
  v = *ApplyTransform("identity", T("binary"), SourceValue::String("hi"));
  EXPECT_EQ(PartitionValueToHumanString("identity", T("binary"), v), "aGk=");
  v = *ApplyTransform("identity", T("date"), SourceValue::Long(-719528));  // 0000-01-01
  EXPECT_EQ(PartitionValueToHumanString("identity", T("date"), v), "0000-01-01");
  v = *ApplyTransform("bucket[16]", T("string"), SourceValue::String("iceberg"));
  EXPECT_EQ(PartitionValueToHumanString("bucket[16]", T("int"), v), "9");
  v = PartitionValue{};
  v.kind = PartitionValue::Kind::kInt;
  v.i = -1;
  EXPECT_EQ(PartitionValueToHumanString("day", T("int"), v), "1969-12-31");
}

TEST(PartitionPathTest, NamesAndValuesEncodedAsJavaDoes) {
  Schema schema;
  schema.fields = {F(1, "customer id", false, T("string")), F(2, "ts", false, T("timestamptz")),
                   F(3, "n", false, T("long"))};
  PartitionSpec spec;
  spec.fields = {{1, 1000, "customer id", "identity"},
                 {2, 1001, "ts_hour", "hour"},
                 {3, 1002, "n_bucket", "bucket[4]"}};
  std::vector<PartitionValue> values = {
      *ApplyTransform("identity", T("string"), SourceValue::String("a/b c~\u00e9*")),
      *ApplyTransform("hour", T("timestamptz"),
                      SourceValue::TimestampMicros(int64_t{1700008200} * 1000000)),
      PartitionValue{}};
  EXPECT_EQ(PartitionPath(spec, schema, values),
            "customer+id=a%2Fb+c%7E%C3%A9*/ts_hour=2023-11-15-00/n_bucket=null");
  EXPECT_EQ(PartitionPath(PartitionSpec{}, schema, {}), "");
  EXPECT_EQ(JavaUrlEncode("A-z_0.9 +%"), "A-z_0.9+%2B%25");
}

// ---- single values (Appendix D) and summaries

TEST(SingleValueTest, Serialization) {
  PartitionValue v;
  v.kind = PartitionValue::Kind::kInt;
  v.i = 34;
  EXPECT_EQ(SerializeSingleValue(T("int"), v), Bytes({0x22, 0, 0, 0}));
  v.i = -1;
  EXPECT_EQ(SerializeSingleValue(T("date"), v), Bytes({0xff, 0xff, 0xff, 0xff}));
  v.kind = PartitionValue::Kind::kLong;
  v.i = 34;
  EXPECT_EQ(SerializeSingleValue(T("long"), v), Bytes({0x22, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(SerializeSingleValue(T("timestamptz"), v), Bytes({0x22, 0, 0, 0, 0, 0, 0, 0}));
  v.kind = PartitionValue::Kind::kDouble;
  v.d = 1.0;
  EXPECT_EQ(SerializeSingleValue(T("double"), v), Bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  EXPECT_EQ(SerializeSingleValue(T("float"), v), Bytes({0, 0, 0x80, 0x3f}));
  v.kind = PartitionValue::Kind::kBoolean;
  v.i = 1;
  EXPECT_EQ(SerializeSingleValue(T("boolean"), v), Bytes({1}));
  v.i = 0;
  EXPECT_EQ(SerializeSingleValue(T("boolean"), v), Bytes({0}));
  v = *ApplyTransform("identity", T("string"), SourceValue::String("iceberg"));
  EXPECT_EQ(SerializeSingleValue(T("string"), v), "iceberg");
  v = *ApplyTransform("identity", T("decimal(9,2)"), SourceValue::Decimal("1420", 2));
  EXPECT_EQ(SerializeSingleValue(T("decimal(9,2)"), v), Bytes({0x05, 0x8c}));
  v = *ApplyTransform("identity", T("decimal(9,2)"), SourceValue::Decimal("-1", 2));
  EXPECT_EQ(SerializeSingleValue(T("decimal(9,2)"), v), Bytes({0xff}));
  v = *ApplyTransform("identity", T("uuid"),
                      SourceValue::String("f79c3e09-677c-4bbd-a479-3f349cb785e7"));
  EXPECT_EQ(SerializeSingleValue(T("uuid"), v),
            Bytes({0xF7, 0x9C, 0x3E, 0x09, 0x67, 0x7C, 0x4B, 0xBD, 0xA4, 0x79, 0x3F, 0x34, 0x9C,
                   0xB7, 0x85, 0xE7}));
  EXPECT_EQ(SerializeSingleValue(T("string"), PartitionValue{}), "");
}

TEST(SummaryTest, BoundsNullsAndNans) {
  auto str = [](const char* s) {
    return *ApplyTransform("identity", T("string"), SourceValue::String(s));
  };
  const PartitionValue b = str("b"), a = str("a"), c = str("c\u00e9"), null;
  FieldSummary s = SummarizePartitionField(T("string"), {&b, &null, &c, &a});
  EXPECT_TRUE(s.contains_null);
  EXPECT_FALSE(s.contains_nan.has_value());
  EXPECT_EQ(s.lower_bound, "a");
  EXPECT_EQ(s.upper_bound, "c\u00e9");

  // Decimals by value, not by bytes: -1 (0xff) < 2 (0x02).
  const PartitionValue m1 = *ApplyTransform("identity", T("decimal(9,0)"), SourceValue::Long(-1));
  const PartitionValue p2 = *ApplyTransform("identity", T("decimal(9,0)"), SourceValue::Long(2));
  s = SummarizePartitionField(T("decimal(9,0)"), {&p2, &m1});
  EXPECT_FALSE(s.contains_null);
  EXPECT_EQ(s.lower_bound, Bytes({0xff}));
  EXPECT_EQ(s.upper_bound, Bytes({0x02}));

  // Ints by value (the serialized bytes are little-endian and do not sort).
  const PartitionValue h1 =
      *ApplyTransform("hour", T("timestamptz"), SourceValue::TimestampMicros(-1));
  const PartitionValue h2 =
      *ApplyTransform("hour", T("timestamptz"), SourceValue::TimestampMicros(kMicrosPerDay * 300));
  s = SummarizePartitionField(T("int"), {&h2, &h1});
  EXPECT_EQ(s.lower_bound, Bytes({0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(s.upper_bound, SerializeSingleValue(T("int"), h2));

  PartitionValue nan, one;
  nan.kind = one.kind = PartitionValue::Kind::kDouble;
  nan.d = std::numeric_limits<double>::quiet_NaN();
  one.d = 1.0;
  s = SummarizePartitionField(T("double"), {&nan, &one});
  EXPECT_EQ(s.contains_nan, true);
  EXPECT_EQ(s.lower_bound, SerializeSingleValue(T("double"), one));
  s = SummarizePartitionField(T("double"), {&one});
  EXPECT_EQ(s.contains_nan, false);
  s = SummarizePartitionField(T("double"), {&nan, nullptr});
  EXPECT_TRUE(s.contains_null);
  EXPECT_FALSE(s.lower_bound.has_value());
  EXPECT_FALSE(s.upper_bound.has_value());
}

// ---- Parquet columns

ParquetColumn Col(const char* name, ParquetType type, int scale = 0) {
  ParquetColumn c;
  c.name = name;
  c.type = type;
  c.scale = scale;
  return c;
}
ParquetColumn StructCol(const char* name, std::vector<ParquetColumn> children) {
  ParquetColumn c = Col(name, ParquetType::kStruct);
  c.children = std::move(children);
  return c;
}
ParquetColumn ListCol(const char* name, ParquetColumn element) {
  ParquetColumn c = Col(name, ParquetType::kList);
  element.name = "element";
  c.children.push_back(std::move(element));
  return c;
}

TEST(ParquetMappingTest, BothWays) {
  EXPECT_EQ(IcebergTypeOf(Col("a", ParquetType::kJson))->primitive, "string");
  EXPECT_EQ(IcebergTypeOf(Col("a", ParquetType::kInt64))->primitive, "long");
  EXPECT_EQ(IcebergTypeOf(Col("a", ParquetType::kDecimal, 3))->primitive, "decimal(38,3)");
  EXPECT_EQ(IcebergTypeOf(Col("a", ParquetType::kBool))->primitive, "boolean");
  EXPECT_EQ(IcebergTypeOf(Col("a", ParquetType::kTimestampMillis))->primitive, "timestamptz");
  absl::StatusOr<Type> l = IcebergTypeOf(ListCol("l", Col("", ParquetType::kDouble)));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(TypeToString(*l), "list<double>");

  Field f = F(5, "amount", true, T("decimal(10,2)"));
  absl::StatusOr<ParquetColumn> c = ParquetColumnOf(f);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->type, ParquetType::kDecimal);
  EXPECT_EQ(c->scale, 2);
  EXPECT_EQ(c->field_id, 5);
  EXPECT_TRUE(c->required);
  absl::StatusOr<ParquetColumn> i = ParquetColumnOf(F(6, "i", false, T("int")));
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(SchemaFromDeclaredTest, IdsInOrderRequiredAndIdentifiers) {
  int last = 0;
  absl::StatusOr<Schema> s = SchemaFromDeclared(
      {Col("pk", ParquetType::kString), Col("sk", ParquetType::kInt64),
       Col("amount", ParquetType::kDecimal, 2), Col("ts", ParquetType::kTimestampMillis)},
      {"amount"}, {"pk", "sk"}, &last);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(last, 4);
  ASSERT_EQ(s->fields.size(), 4u);
  EXPECT_EQ(s->fields[0].id, 1);
  EXPECT_TRUE(s->fields[0].required);  // an identifier
  EXPECT_TRUE(s->fields[2].required);
  EXPECT_FALSE(s->fields[3].required);
  EXPECT_EQ(s->fields[3].type.primitive, "timestamptz");
  EXPECT_THAT(s->identifier_field_ids, ElementsAre(1, 2));

  EXPECT_FALSE(SchemaFromDeclared({Col("a", ParquetType::kString)}, {"b"}, {}, &last).ok());
  EXPECT_FALSE(SchemaFromDeclared({Col("d", ParquetType::kDouble)}, {}, {"d"}, &last).ok());
  EXPECT_FALSE(SchemaFromDeclared({Col("a", ParquetType::kString), Col("a", ParquetType::kInt64)},
                                  {}, {}, &last)
                   .ok());
}

// ---- resolution

Schema Table(std::vector<Field> fields, int id = 0) {
  Schema s;
  s.schema_id = id;
  s.fields = std::move(fields);
  return s;
}

TEST(ResolveTest, NewTopLevelAndNestedColumnsGetFreshIds) {
  const Schema table = Table({F(1, "pk", true, T("string")), F(2, "n", false, T("long"))});
  const std::vector<ParquetColumn> inferred = {
      Col("n", ParquetType::kInt64),
      StructCol("o", {Col("a", ParquetType::kString),
                      ListCol("l", StructCol("", {Col("x", ParquetType::kDouble)}))}),
      Col("pk", ParquetType::kString), Col("t", ParquetType::kBool)};
  int last = 0;
  absl::StatusOr<FileSchema> r = ResolveFileSchema(table, 2, inferred, &last);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->table_changed);
  EXPECT_EQ(r->table_schema.schema_id, 1);
  // o=3, its members a=4 l=5, then l's element 6, its member x=7, then t=8.
  EXPECT_EQ(last, 8);
  const std::vector<Field>& f = r->table_schema.fields;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].name, "pk");  // existing fields first, in their order
  EXPECT_EQ(f[1].name, "n");
  EXPECT_EQ(f[2].name, "o");
  EXPECT_EQ(f[2].id, 3);
  EXPECT_FALSE(f[2].required);
  EXPECT_EQ(TypeToString(f[2].type), "struct<a: string, l: list<struct<x: double>>>");
  EXPECT_EQ(f[2].type.fields[1].id, 5);
  EXPECT_EQ(f[2].type.fields[1].type.element_id, 6);
  EXPECT_FALSE(f[2].type.fields[1].type.element_required);
  EXPECT_EQ(f[2].type.fields[1].type.element->fields[0].id, 7);
  EXPECT_EQ(f[3].name, "t");
  EXPECT_EQ(f[3].id, 8);

  // The file's columns in the file's order, every one with its id.
  const std::vector<ParquetColumn>& pc = r->parquet_columns;
  ASSERT_EQ(pc.size(), 4u);
  EXPECT_EQ(pc[0].name, "n");
  EXPECT_EQ(pc[0].field_id, 2);
  EXPECT_EQ(pc[1].field_id, 3);
  EXPECT_EQ(pc[1].children[0].field_id, 4);
  EXPECT_EQ(pc[1].children[1].field_id, 5);
  EXPECT_EQ(pc[1].children[1].children[0].field_id, 6);
  EXPECT_EQ(pc[1].children[1].children[0].children[0].field_id, 7);
  EXPECT_EQ(pc[2].name, "pk");
  EXPECT_EQ(pc[2].field_id, 1);
  EXPECT_TRUE(pc[2].required);
  EXPECT_EQ(pc[3].field_id, 8);

  // Stability: the same columns against the evolved schema change nothing.
  int last2 = 0;
  absl::StatusOr<FileSchema> again = ResolveFileSchema(r->table_schema, last, inferred, &last2);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->table_changed);
  EXPECT_EQ(last2, last);
  EXPECT_EQ(again->table_schema.schema_id, 1);
  ASSERT_EQ(again->table_schema.fields.size(), f.size());
  for (size_t i = 0; i < f.size(); ++i)
    EXPECT_TRUE(TypesEqual(again->table_schema.fields[i].type, f[i].type)) << i;
  EXPECT_EQ(again->parquet_columns.size(), pc.size());
  EXPECT_EQ(again->parquet_columns[1].children[1].children[0].children[0].field_id, 7);
}

TEST(ResolveTest, NewMembersOfAnExistingStructAndListElement) {
  int last = 0;
  absl::StatusOr<FileSchema> first =
      ResolveFileSchema(Table({}), 0,
                        {StructCol("o", {Col("a", ParquetType::kInt64)}),
                         ListCol("l", StructCol("", {Col("x", ParquetType::kString)}))},
                        &last);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(last, 5);  // o=1 l=2, a=3, element=4, x=5
  absl::StatusOr<FileSchema> second = ResolveFileSchema(
      first->table_schema, last,
      {ListCol("l", StructCol("", {Col("y", ParquetType::kBool), Col("x", ParquetType::kString)})),
       StructCol("o", {Col("b", ParquetType::kDouble)})},
      &last);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->table_changed);
  EXPECT_EQ(last, 7);
  const std::vector<Field>& f = second->table_schema.fields;
  EXPECT_EQ(TypeToString(f[0].type), "struct<a: long, b: double>");
  EXPECT_EQ(f[0].type.fields[1].id, 7);
  EXPECT_EQ(TypeToString(f[1].type), "list<struct<x: string, y: boolean>>");
  EXPECT_EQ(f[1].type.element->fields[1].id, 6);
  // The file's struct has only the members the file has.
  EXPECT_EQ(second->parquet_columns[1].children.size(), 1u);
  EXPECT_EQ(second->parquet_columns[0].children[0].children[0].field_id, 6);
  EXPECT_EQ(second->parquet_columns[0].children[0].children[1].field_id, 5);
}

TEST(ResolveTest, TableTypesThatHoldTheInferredValues) {
  const Schema table = Table({F(1, "d", false, T("double")), F(2, "s", false, T("string")),
                              F(3, "m", false, T("decimal(38,4)")), F(4, "j", false, T("string")),
                              F(5, "ts", false, T("timestamptz")), F(6, "o", false, T("string"))});
  int last = 0;
  absl::StatusOr<FileSchema> r = ResolveFileSchema(
      table, 6,
      {Col("d", ParquetType::kInt64), Col("s", ParquetType::kInt64),
       Col("m", ParquetType::kDecimal, 2), Col("j", ParquetType::kJson),
       Col("ts", ParquetType::kInt64), StructCol("o", {Col("a", ParquetType::kInt64)})},
      &last);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->table_changed);
  EXPECT_EQ(last, 6);
  const std::vector<ParquetColumn>& pc = r->parquet_columns;
  EXPECT_EQ(pc[0].type, ParquetType::kDouble);
  EXPECT_EQ(pc[1].type, ParquetType::kString);
  EXPECT_EQ(pc[2].type, ParquetType::kDecimal);
  EXPECT_EQ(pc[2].scale, 4);  // the writer rescales 2 -> 4
  EXPECT_EQ(pc[3].type, ParquetType::kString);
  EXPECT_EQ(pc[4].type, ParquetType::kTimestampMicros);  // timestamptz: micros
  EXPECT_EQ(pc[5].type, ParquetType::kString);           // the object as JSON text
  EXPECT_TRUE(pc[5].children.empty());
}

TEST(ResolveTest, PromotesIntToLongAndFloatToDouble) {
  const Schema table = Table({F(1, "i", false, T("int")), F(2, "f", false, T("float"))}, 3);
  int last = 0;
  absl::StatusOr<FileSchema> r = ResolveFileSchema(
      table, 2, {Col("i", ParquetType::kInt64), Col("f", ParquetType::kDecimal, 1)}, &last);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->table_changed);
  EXPECT_EQ(r->table_schema.schema_id, 4);
  EXPECT_EQ(r->table_schema.fields[0].type.primitive, "long");
  EXPECT_EQ(r->table_schema.fields[0].id, 1);  // same field, same id
  EXPECT_EQ(r->table_schema.fields[1].type.primitive, "double");
  EXPECT_TRUE(CanPromote(table.fields[0].type, r->table_schema.fields[0].type));
  EXPECT_EQ(r->parquet_columns[0].type, ParquetType::kInt64);
  EXPECT_EQ(r->parquet_columns[1].type, ParquetType::kDouble);
  EXPECT_EQ(last, 2);
}

TEST(ResolveTest, MismatchNamesTheAttributeAndBothTypes) {
  struct Case {
    Schema table;
    std::vector<ParquetColumn> inferred;
    const char* message;
  };
  const Case cases[] = {
      {Table({F(1, "amount", false, T("long"))}),
       {Col("amount", ParquetType::kDecimal, 2)},
       "SCHEMA_MISMATCH: attribute \"amount\" is decimal(38,2) in this record but long in the "
       "table"},
      {Table({F(1, "amount", false, T("decimal(38,2)"))}),
       {Col("amount", ParquetType::kString)},
       "SCHEMA_MISMATCH: attribute \"amount\" is string in this record but decimal(38,2) in "
       "the table"},
      {Table({F(1, "amount", false, T("decimal(38,2)"))}),
       {Col("amount", ParquetType::kDecimal, 3)},
       "attribute \"amount\" is decimal(38,3) in this record but decimal(38,2) in the table"},
      {Table({F(1, "n", false, T("long"))}),
       {Col("n", ParquetType::kDecimal, 0)},
       "attribute \"n\" is decimal(38,0) in this record but long in the table"},
      {Table({F(1, "b", false, T("boolean"))}),
       {Col("b", ParquetType::kInt64)},
       "attribute \"b\" is long in this record but boolean in the table"},
      {Table({F(1, "o", false,
                [] {
                  Type t;
                  t.kind = Type::Kind::kStruct;
                  t.fields = {F(2, "a", false, T("long"))};
                  return t;
                }())}),
       {StructCol("o", {Col("a", ParquetType::kDouble)})},
       "attribute \"o.a\" is double in this record but long in the table"},
      {Table({F(1, "n", false, T("long"))}),
       {StructCol("n", {Col("a", ParquetType::kDouble)})},
       "attribute \"n\" is struct<a: double> in this record but long in the table"},
      {Table({F(1, "d", false, T("date"))}),
       {Col("d", ParquetType::kString)},
       "attribute \"d\" is string in this record but date in the table"},
  };
  for (const Case& c : cases) {
    int last = 0;
    absl::StatusOr<FileSchema> r = ResolveFileSchema(c.table, 5, c.inferred, &last);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
  }
  // A list element.
  Type list;
  list.kind = Type::Kind::kList;
  list.element_id = 2;
  list.element = std::make_shared<const Type>(T("long"));
  int last = 0;
  absl::StatusOr<FileSchema> r = ResolveFileSchema(
      Table({F(1, "l", false, list)}), 2, {ListCol("l", Col("", ParquetType::kBool))}, &last);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("attribute \"l.element\" is boolean in this record but long in the table"));
}

TEST(ResolveTest, AllNullColumnsTakeTheTableType) {
  const Schema table = Table({F(1, "n", false, T("long")), F(2, "d", false, T("date"))});
  int last = 0;
  // The writer infers an always-null column as string.
  const std::vector<ParquetColumn> inferred = {Col("n", ParquetType::kString),
                                               Col("d", ParquetType::kString),
                                               Col("z", ParquetType::kString)};
  EXPECT_FALSE(ResolveFileSchema(table, 2, inferred, &last).ok());
  absl::StatusOr<FileSchema> r =
      ResolveFileSchema(table, 2, inferred, &last, {{"n"}, {"d"}, {"z"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->table_changed);             // z is new
  ASSERT_EQ(r->parquet_columns.size(), 2u);  // d (a date: not written) is left out
  EXPECT_EQ(r->parquet_columns[0].type, ParquetType::kInt64);
  EXPECT_EQ(r->parquet_columns[1].name, "z");
  EXPECT_EQ(r->table_schema.fields[2].type.primitive, "string");
  EXPECT_EQ(last, 3);
}

TEST(ResolveTest, RequiredTableColumnsMissingFromTheFileAreDeclared) {
  const Schema table = Table({F(1, "pk", true, T("string")), F(2, "x", false, T("long"))});
  int last = 0;
  absl::StatusOr<FileSchema> r =
      ResolveFileSchema(table, 2, {Col("x", ParquetType::kInt64)}, &last);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->parquet_columns.size(), 2u);
  EXPECT_EQ(r->parquet_columns[1].name, "pk");
  EXPECT_TRUE(r->parquet_columns[1].required);
  EXPECT_FALSE(r->table_changed);
}

TEST(ResolveTest, AllNullColumnsFromTheWritersStatistics) {
  ParquetOptions o;
  o.nested = NestedEncoding::kNative;
  o.row_group_rows = 1;  // two row groups: the counts add up across them
  absl::StatusOr<ParquetFile> f =
      EncodeParquetFile({R"({"a":1,"b":null,"o":{"x":null,"y":2},"l":[null],"e":[],"s":["x"]})",
                         R"({"a":2,"o":{"y":3},"l":[],"e":[],"s":[]})"},
                        o);
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<ColumnPath> nulls = AllNullColumns(*f);
  EXPECT_THAT(nulls, ElementsAre(ColumnPath{"b"}, ColumnPath{"o", "x"}, ColumnPath{"l", "element"},
                                 ColumnPath{"e", "element"}));

  // Empty lists against a table list<long>: no mismatch with the null columns given.
  Type list;
  list.kind = Type::Kind::kList;
  list.element_id = 2;
  list.element = std::make_shared<const Type>(T("long"));
  const Schema table = Table({F(1, "e", false, list)});
  const std::vector<ParquetColumn> inferred = {f->columns[4]};
  ASSERT_EQ(inferred[0].name, "e");
  int last = 0;
  EXPECT_FALSE(ResolveFileSchema(table, 2, inferred, &last).ok());
  absl::StatusOr<FileSchema> r = ResolveFileSchema(table, 2, inferred, &last, nulls);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->table_changed);
  EXPECT_EQ(r->parquet_columns[0].children[0].type, ParquetType::kInt64);
  EXPECT_EQ(r->parquet_columns[0].children[0].field_id, 2);
}

TEST(ResolveTest, TheWriterEncodesWithTheResolvedColumns) {
  // Infer, resolve against a declared table, encode again with the table's columns.
  const std::vector<std::string_view> lines = {R"({"pk":"a","amount":1.5,"n":7,"flag":true})",
                                               R"({"pk":"b","amount":2,"n":null,"new":"x"})"};
  absl::StatusOr<ParquetFile> inferred = EncodeParquetFile(lines, ParquetOptions{});
  ASSERT_TRUE(inferred.ok()) << inferred.status();
  int last = 0;
  absl::StatusOr<Schema> table =
      SchemaFromDeclared({Col("pk", ParquetType::kString), Col("amount", ParquetType::kDecimal, 4),
                          Col("n", ParquetType::kDouble)},
                         {}, {"pk"}, &last);
  ASSERT_TRUE(table.ok()) << table.status();
  int new_last = 0;
  absl::StatusOr<FileSchema> r =
      ResolveFileSchema(*table, last, inferred->columns, &new_last, AllNullColumns(*inferred));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->table_changed);  // flag and new
  EXPECT_EQ(new_last, 5);
  ParquetOptions declared;
  declared.schema = r->parquet_columns;
  absl::StatusOr<ParquetFile> file = EncodeParquetFile(lines, declared);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->columns.size(), 5u);
  std::vector<int> ids;
  for (const ParquetColumn& c : file->columns) ids.push_back(c.field_id);
  EXPECT_THAT(ids, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(file->columns[1].type, ParquetType::kDecimal);
  EXPECT_EQ(file->columns[1].scale, 4);
  EXPECT_EQ(file->columns[2].type, ParquetType::kDouble);
  EXPECT_TRUE(file->columns[0].required);
}

}  // namespace
}  // namespace lakehose::iceberg
