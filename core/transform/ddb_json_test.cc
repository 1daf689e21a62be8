#include "core/transform/ddb_json.h"

#include <string>
#include <vector>

#include "core/base/limits.h"
#include "core/transform/record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Result {
  bool ok = false;
  std::string json;       // output when ok
  std::string_view code;  // error code when not ok
  std::string message;    // error message when not ok
};

// Converts the typed attribute value `typed` (JSON text) with path root "item".
Result Convert(std::string_view typed, NumberMode numbers = NumberMode::kNumber) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  Result r;
  if (auto e = parser.parse(typed.data(), typed.size()).get(root)) {
    r.message = std::string("test input is not JSON: ") + simdjson::error_message(e);
    return r;
  }
  DdbJsonConverter converter(numbers);
  converter.path().Reset("item");
  ConvertError error;
  std::string out;
  r.ok = converter.AppendValue(root, &out, &error);
  if (r.ok) {
    r.json = out;
  } else {
    r.code = error.code;
    r.message = error.message;
  }
  return r;
}

std::string Ok(std::string_view typed, NumberMode numbers = NumberMode::kNumber) {
  Result r = Convert(typed, numbers);
  if (!r.ok) return "<failed: " + r.message + ">";
  return r.json;
}

TEST(DdbJsonTest, String) {
  EXPECT_EQ(Ok(R"({"S":"hello"})"), R"("hello")");
  EXPECT_EQ(Ok(R"({"S":""})"), R"("")");
  // Escapes are decoded by the parser and re-escaped by the writer.
  EXPECT_EQ(Ok(R"({"S":"a\"b\\c\/d\n\u0001\u2028\u00e9\ud83d\ude00"})"),
            "\"a\\\"b\\\\c/d\\n\\u0001\\u2028\xC3\xA9\xF0\x9F\x98\x80\"");
}

TEST(DdbJsonTest, NumberKeepsExactDigits) {
  EXPECT_EQ(Ok(R"({"N":"123"})"), "123");
  EXPECT_EQ(Ok(R"({"N":"-0.10"})"), "-0.10");
  EXPECT_EQ(Ok(R"({"N":"99999999999999999999999999999999999999"})"),
            "99999999999999999999999999999999999999");
  EXPECT_EQ(Ok(R"({"N":"9.9999999999999999999999999999999999999E+125"})"),
            "9.9999999999999999999999999999999999999E+125");
  EXPECT_EQ(Ok(R"({"N":"1E-130"})"), "1E-130");
  EXPECT_EQ(Ok(R"({"N":"+5"})"), "5");
}

TEST(DdbJsonTest, NumbersAsStrings) {
  EXPECT_EQ(Ok(R"({"N":"12345678901234567890123456789"})", NumberMode::kString),
            R"("12345678901234567890123456789")");
  EXPECT_EQ(Ok(R"({"N":"1.10"})", NumberMode::kString), R"("1.10")");
  EXPECT_EQ(Ok(R"({"NS":["1","2.5","-3E+7"]})", NumberMode::kString), R"(["1","2.5","-3E+7"])");
  // Validation still applies in string mode.
  Result r = Convert(R"({"N":"abc"})", NumberMode::kString);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kInvalidNumber);
  EXPECT_EQ(r.message, R"(item: N value "abc" is not a number)");
  r = Convert(R"({"NS":["1","x"]})", NumberMode::kString);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kInvalidNumber);
  EXPECT_EQ(r.message, R"(item[1]: NS member "x" is not a number)");
}

TEST(DdbJsonTest, BinaryIsBase64TextAsGiven) {
  EXPECT_EQ(Ok(R"({"B":"AAEqQQ=="})"), R"("AAEqQQ==")");
  EXPECT_EQ(Ok(R"({"B":""})"), R"("")");
  EXPECT_EQ(Ok(R"({"B":"test"})"), R"("test")");
}

TEST(DdbJsonTest, BoolAndNull) {
  EXPECT_EQ(Ok(R"({"BOOL":true})"), "true");
  EXPECT_EQ(Ok(R"({"BOOL":false})"), "false");
  EXPECT_EQ(Ok(R"({"NULL":true})"), "null");
}

TEST(DdbJsonTest, MapAndList) {
  EXPECT_EQ(
      Ok(R"({"M":{"name":{"S":"Joe"},"age":{"N":"35"},"tags":{"L":[{"S":"a"},{"BOOL":true},{"NULL":true}]}}})"),
      R"({"name":"Joe","age":35,"tags":["a",true,null]})");
  // Keys are escaped too.
  EXPECT_EQ(Ok(R"({"M":{"a\"b\u2029":{"N":"1"}}})"), R"({"a\"b\u2029":1})");
}

TEST(DdbJsonTest, SetsAreArraysInTheGivenOrder) {
  EXPECT_EQ(Ok(R"({"SS":["Zebra","Giraffe","a\nb"]})"), R"(["Zebra","Giraffe","a\nb"])");
  EXPECT_EQ(Ok(R"({"NS":["567.8","1234","+1","007"]})"), R"([567.8,1234,1,7])");
  EXPECT_EQ(Ok(R"({"BS":["QSoBAA==","AAEqQQ=="]})"), R"(["QSoBAA==","AAEqQQ=="])");
}

TEST(DdbJsonTest, EmptyContainers) {
  EXPECT_EQ(Ok(R"({"SS":[]})"), "[]");
  EXPECT_EQ(Ok(R"({"NS":[]})"), "[]");
  EXPECT_EQ(Ok(R"({"BS":[]})"), "[]");
  EXPECT_EQ(Ok(R"({"L":[]})"), "[]");
  EXPECT_EQ(Ok(R"({"M":{}})"), "{}");
}

// `levels` maps and lists, alternating (a map first), around a string; `expected` gets the
// plain JSON.
std::string Nested(int levels, std::string* expected = nullptr) {
  std::string typed = R"({"S":"deep"})";
  std::string plain = R"("deep")";
  for (int i = 0; i < levels; ++i) {
    if (i % 2 == 0) {
      typed = R"({"M":{"k":)" + typed + "}}";
      plain = R"({"k":)" + plain + "}";
    } else {
      typed = R"({"L":[)" + typed + "]}";
      plain = "[" + plain + "]";
    }
  }
  if (expected) *expected = plain;
  return typed;
}

TEST(DdbJsonTest, DeepNesting) {
  // kMaxNestingDepth (32) levels alternating M and L around a string: what DynamoDB allows.
  std::string expected;
  const std::string typed = Nested(kMaxNestingDepth, &expected);
  EXPECT_EQ(Ok(typed), expected);
}

// Regression: AppendValue recursed once per level with no limit, so a deep enough item
// overflowed the stack (SIGSEGV in the server and the CLI). One level past the limit fails
// with NESTING_TOO_DEEP naming where the limit was crossed.
TEST(DdbJsonTest, NestingPastTheLimitIsNestingTooDeep) {
  // The path of the 33rd container of Nested(levels): 32 steps (".k" out of a map, "[0]"
  // out of a list) from the outermost container in.
  auto path_to_33rd = [](int levels) {
    std::string path = "item";
    for (int j = 0; j < kMaxNestingDepth; ++j) path += (levels - 1 - j) % 2 == 0 ? ".k" : "[0]";
    return path;
  };
  Result r = Convert(Nested(kMaxNestingDepth + 1));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kNestingTooDeep);
  EXPECT_EQ(r.message, path_to_33rd(33) + ": more than 32 levels of nested maps and lists");

  // As deep as simdjson's DOM parses (1,024 JSON levels; two per typed level): refused
  // at the same place, and the recursion stops there.
  r = Convert(Nested(500));
  ASSERT_FALSE(r.ok) << r.message;
  EXPECT_EQ(r.code, error_code::kNestingTooDeep);
  EXPECT_EQ(r.message, path_to_33rd(500) + ": more than 32 levels of nested maps and lists");
}

TEST(DdbJsonTest, NestingLimitCountsSetsAndEveryTypeOfContainer) {
  // Lists only, maps only, and a set as the innermost container (a set is a list).
  auto wrap = [](std::string_view kind, int levels, std::string inner) {
    for (int i = 0; i < levels; ++i)
      inner = kind == "M" ? R"({"M":{"k":)" + inner + "}}" : R"({"L":[)" + inner + "]}";
    return inner;
  };
  for (std::string_view kind : {"M", "L"}) {
    EXPECT_TRUE(Convert(wrap(kind, 32, R"({"S":"x"})")).ok) << kind;
    EXPECT_EQ(Convert(wrap(kind, 33, R"({"S":"x"})")).code, error_code::kNestingTooDeep) << kind;
    EXPECT_TRUE(Convert(wrap(kind, 31, R"({"SS":["a"]})")).ok) << kind;
    EXPECT_EQ(Convert(wrap(kind, 32, R"({"NS":["1"]})")).code, error_code::kNestingTooDeep) << kind;
  }
  // The general path (a null sibling type key) counts the same way.
  EXPECT_TRUE(Convert(wrap("L", 31, R"({"S":null,"L":[]})")).ok);
  EXPECT_EQ(Convert(wrap("L", 32, R"({"S":null,"M":{}})")).code, error_code::kNestingTooDeep);
}

// Regression: a name given twice in an M was written twice, and DuckDB refuses to read
// any column of an object with such a document.
TEST(DdbJsonTest, NameTwiceInAMapIsDuplicateKey) {
  Result r = Convert(R"({"M":{"a":{"S":"1"},"b":{"N":"2"},"a":{"S":"3"}}})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kDuplicateKey);
  EXPECT_EQ(r.message, R"(item.a: the name "a" appears twice in one map)");

  r = Convert(R"({"L":[{"M":{"x":{"M":{"q r":{"NULL":true},"q r":{"NULL":true}}}}}]})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kDuplicateKey);
  EXPECT_EQ(r.message, R"(item[0].x["q r"]: the name "q r" appears twice in one map)");
  // The general path (null sibling type keys) checks too.
  EXPECT_EQ(Convert(R"({"S":null,"M":{"a":{"S":"1"},"a":{"S":"1"}}})").code,
            error_code::kDuplicateKey);
}

TEST(DdbJsonTest, SameNameInDifferentMapsIsFine) {
  EXPECT_EQ(Ok(R"({"M":{"a":{"M":{"a":{"S":"x"},"b":{"S":"y"}}},"b":{"M":{"a":{"S":"z"}}}}})"),
            R"({"a":{"a":"x","b":"y"},"b":{"a":"z"}})");
  EXPECT_EQ(Ok(R"({"L":[{"M":{"a":{"N":"1"}}},{"M":{"a":{"N":"2"}}}]})"), R"([{"a":1},{"a":2}])");
}

TEST(DdbJsonTest, LargeMapsAreCheckedWholly) {
  // Past DuplicateKeys::kSmallObjectKeys (32) keys a map's keys move to a hash set; a
  // repeat is found on either side of the move, and nested maps inside still work.
  for (int n : {31, 32, 33, 40, 300}) {
    for (int repeat_at : {-1, 0, 31, 32, n - 1}) {
      if (repeat_at >= n) continue;
      std::string typed = R"({"M":{)";
      for (int i = 0; i < n; ++i)
        typed += "\"key" + std::to_string(i) + R"(":{"M":{"x":{"N":"1"},"y":{"N":"2"}}},)";
      if (repeat_at >= 0) typed += "\"key" + std::to_string(repeat_at) + R"(":{"N":"1"},)";
      typed += R"("last":{"N":"1"}}})";
      Result r = Convert(typed);
      if (repeat_at < 0) {
        EXPECT_TRUE(r.ok) << n << ": " << r.message;
      } else {
        ASSERT_FALSE(r.ok) << n << " " << repeat_at;
        EXPECT_EQ(r.code, error_code::kDuplicateKey);
        EXPECT_EQ(r.message, "item.key" + std::to_string(repeat_at) + ": the name \"key" +
                                 std::to_string(repeat_at) + "\" appears twice in one map");
      }
    }
  }
}

TEST(DuplicateKeysTest, FindsRepeatsPerObject) {
  DuplicateKeys keys;
  for (int round = 0; round < 2; ++round) {  // reusable after Reset
    keys.Reset();
    DuplicateKeys::Object outer = keys.Open();
    EXPECT_TRUE(keys.Add(&outer, "a"));
    EXPECT_TRUE(keys.Add(&outer, "b"));
    DuplicateKeys::Object inner = keys.Open();
    EXPECT_TRUE(keys.Add(&inner, "a"));  // another object
    EXPECT_TRUE(keys.Add(&inner, ""));
    EXPECT_FALSE(keys.Add(&inner, ""));
    keys.Close(inner);
    EXPECT_FALSE(keys.Add(&outer, "a"));
    EXPECT_TRUE(keys.Add(&outer, "c"));
    EXPECT_FALSE(keys.Add(&outer, "b"));
    keys.Close(outer);
  }
  // Many keys: distinct ones all pass (whatever their filter bits), and each repeats once.
  keys.Reset();
  DuplicateKeys::Object big = keys.Open();
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) names.push_back("n" + std::to_string(i * 7919));
  for (const std::string& n : names) EXPECT_TRUE(keys.Add(&big, n)) << n;
  for (const std::string& n : names) EXPECT_FALSE(keys.Add(&big, n)) << n;
}

TEST(DdbJsonTest, DeepNestingErrorNamesTheFullPath) {
  std::string typed = R"({"N":"oops"})";
  for (int i = 0; i < 6; ++i) {
    typed =
        (i % 2 == 0) ? R"({"M":{"k":)" + typed + "}}" : R"({"L":[{"NULL":true},)" + typed + "]}";
  }
  Result r = Convert(typed);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kInvalidNumber);
  EXPECT_EQ(r.message, R"(item[1].k[1].k[1].k: N value "oops" is not a number)");
}

TEST(DdbJsonTest, NullSiblingTypeKeysAreAccepted) {
  EXPECT_EQ(Ok(R"({"S":null,"N":"1"})"), "1");
  EXPECT_EQ(Ok(R"({"B":null,"BOOL":null,"S":"x","N":null,"NULL":null,"M":null,"L":null})"),
            R"("x")");
  EXPECT_EQ(Ok(R"({"SS":null,"NS":null,"BS":null,"L":[{"N":null,"S":"v"}]})"), R"(["v"])");
}

TEST(DdbJsonTest, TypeOfReportsTheSingleType) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(std::string_view(R"({"S":null,"NS":["1"]})")).value();
  DdbJsonConverter converter(NumberMode::kNumber);
  std::string_view type;
  simdjson::dom::element value;
  ConvertError error;
  ASSERT_TRUE(converter.TypeOf(root, &type, &value, &error)) << error.message;
  EXPECT_EQ(type, "NS");
  EXPECT_TRUE(value.is_array());
}

// Malformed values: the code and the exact message, whose path names the attribute.
struct ErrorCase {
  const char* typed;
  std::string_view code;
  const char* message;
};

TEST(DdbJsonTest, ErrorsNameTheAttributePath) {
  const ErrorCase cases[] = {
      {R"({"M":{"a":{"X":"1"}}})", error_code::kInvalidAttribute,
       R"(item.a: unknown attribute type "X" (expected S, N, B, BOOL, NULL, M, L, SS, NS or BS))"},
      {R"({"M":{"a":{"S":"x","N":"1"}}})", error_code::kInvalidAttribute,
       "item.a: attribute value has more than one type (S and N)"},
      {R"({"L":[{"N":"1"},{"N":"12abc"}]})", error_code::kInvalidNumber,
       R"(item[1]: N value "12abc" is not a number)"},
      {R"({"M":{"blob":{"B":"not base64!"}}})", error_code::kInvalidBinary,
       R"(item.blob: B value "not base64!" is not base64)"},
      {R"({"M":{"n":{"NULL":false}}})", error_code::kInvalidAttribute,
       "item.n: NULL value must be true"},
      {R"({"M":{"s":{"S":5}}})", error_code::kInvalidAttribute,
       "item.s: S value must be a string, got a number"},
      {R"({"M":{"ss":{"SS":["a",1]}}})", error_code::kInvalidAttribute,
       "item.ss[1]: SS members must be strings, got a number"},
      {R"({"M":{"ns":{"NS":["1","NaN"]}}})", error_code::kInvalidNumber,
       R"(item.ns[1]: NS member "NaN" is not a number)"},
      {R"({"M":{"bs":{"BS":["AAEqQQ==","QQ="]}}})", error_code::kInvalidBinary,
       R"(item.bs[1]: BS member "QQ=" is not base64)"},
      {R"({"M":{"odd key":{"BOOL":"yes"}}})", error_code::kInvalidAttribute,
       R"(item["odd key"]: BOOL value must be true or false, got a string)"},
      {R"({"M":{"e":{}}})", error_code::kInvalidAttribute,
       "item.e: attribute value is empty (no type key)"},
      {R"({"M":{"e":{"S":null}}})", error_code::kInvalidAttribute,
       "item.e: attribute value has only null type keys"},
      {R"({"M":{"v":"plain"}})", error_code::kInvalidAttribute,
       R"(item.v: expected a typed attribute value like {"S": ...}, got a string)"},
      {R"({"M":[]})", error_code::kInvalidAttribute,
       "item: M value must be an object, got an array"},
      {R"({"L":{}})", error_code::kInvalidAttribute,
       "item: L value must be an array, got an object"},
      {R"({"SS":"a"})", error_code::kInvalidAttribute,
       "item: SS value must be an array, got a string"},
      {R"({"N":12})", error_code::kInvalidAttribute,
       "item: N value must be a string of digits, got a number"},
      {R"({"NULL":null,"BOOL":null})", error_code::kInvalidAttribute,
       "item: attribute value has only null type keys"},
  };
  for (const ErrorCase& c : cases) {
    Result r = Convert(c.typed);
    EXPECT_FALSE(r.ok) << c.typed;
    EXPECT_EQ(r.code, c.code) << c.typed;
    EXPECT_EQ(r.message, c.message) << c.typed;
  }
}

TEST(DdbJsonTest, LongBadValuesAreShortenedInMessages) {
  const std::string long_value(500, '!');
  Result r = Convert(R"({"B":")" + long_value + R"("})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, error_code::kInvalidBinary);
  EXPECT_LT(r.message.size(), 120u) << r.message;
  EXPECT_THAT(r.message, StartsWith("item: B value \"!!!!"));
}

TEST(DdbJsonTest, AttributePathFormatting) {
  AttributePath p;
  p.Reset("dynamodb.NewImage");
  EXPECT_EQ(p.ToString(), "dynamodb.NewImage");
  p.PushKey("price");
  EXPECT_EQ(p.ToString(), "dynamodb.NewImage.price");
  p.PushIndex(3);
  p.PushKey("a b");
  EXPECT_EQ(p.ToString(), R"(dynamodb.NewImage.price[3]["a b"])");
  p.Pop();
  p.Pop();
  p.PushKey("x_y-z9");
  EXPECT_EQ(p.ToString(), "dynamodb.NewImage.price.x_y-z9");
  p.Reset("");
  p.PushKey("top");
  EXPECT_EQ(p.ToString(), "top");
  p.PushKey("");
  EXPECT_EQ(p.ToString(), R"(top[""])");
}

TEST(DdbJsonTest, ConverterIsReusableAfterAnError) {
  simdjson::dom::parser parser;
  DdbJsonConverter converter(NumberMode::kNumber);
  ConvertError error;
  std::string out;
  converter.path().Reset("item");
  simdjson::dom::element bad = parser.parse(std::string_view(R"({"M":{"a":{"N":"x"}}})")).value();
  EXPECT_FALSE(converter.AppendValue(bad, &out, &error));
  simdjson::dom::parser parser2;
  simdjson::dom::element good = parser2.parse(std::string_view(R"({"M":{"b":{"N":"y"}}})")).value();
  converter.path().Reset("item");
  out.clear();
  EXPECT_FALSE(converter.AppendValue(good, &out, &error));
  // After Reset the path starts again from the root: no leftover ".a".
  EXPECT_EQ(error.message, R"(item.b: N value "y" is not a number)");
}

}  // namespace
}  // namespace lakehose
