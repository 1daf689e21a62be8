#include "core/ddb_json.h"

#include "core/strings.h"
#include "core/base64.h"
#include "core/decimal.h"
#include "core/json_writer.h"
#include "core/record.h"

namespace lakehose {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  }
  return true;
}

std::string_view TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

}  // namespace

std::string AttributePath::ToString() const {
  std::string out(root_);
  for (const Seg& s : segs_) {
    if (s.index >= 0) {
      StrAppend(&out, "[", s.index, "]");
    } else if (IsIdentifier(s.key)) {
      if (!out.empty()) out.push_back('.');
      out.append(s.key);
    } else {
      out.push_back('[');
      AppendJsonString(s.key, &out);
      out.push_back(']');
    }
  }
  return out;
}

bool DdbJsonConverter::Fail(std::string_view code, std::string_view reason, ConvertError* error) {
  error->code = code;
  error->message = StrCat(path_.ToString(), ": ", reason);
  return false;
}

bool DdbJsonConverter::TypeOf(element av, std::string_view* type, element* value,
                              ConvertError* error) {
  simdjson::dom::object obj;
  if (av.get_object().get(obj) != simdjson::SUCCESS)
    return Fail(error_code::kInvalidAttribute,
                StrCat("expected a typed attribute value like {\"S\": ...}, got ",
                             TypeName(av.type())),
                error);
  bool found = false;
  for (auto field : obj) {
    if (field.value.is_null()) continue;  // {"S": null, "N": "1"} as in aws-lambda-go samples
    if (found)
      return Fail(error_code::kInvalidAttribute,
                  StrCat("attribute value has more than one type (", *type, " and ",
                               field.key, ")"),
                  error);
    found = true;
    *type = field.key;
    *value = field.value;
  }
  if (!found)
    return Fail(error_code::kInvalidAttribute,
                obj.size() == 0 ? "attribute value is empty (no type key)"
                                : "attribute value has only null type keys",
                error);
  return true;
}

bool DdbJsonConverter::AppendValue(element av, std::string* out, ConvertError* error) {
  std::string_view type;
  element value;
  if (!TypeOf(av, &type, &value, error)) return false;
  auto expect = [&](element_type want, std::string_view what) {
    if (value.type() == want) return true;
    Fail(error_code::kInvalidAttribute,
         StrCat(type, " value must be ", what, ", got ", TypeName(value.type())), error);
    return false;
  };
  switch (type.size()) {
    case 1:
      if (type[0] == 'S') {
        if (!expect(element_type::STRING, "a string")) return false;
        AppendValidJsonString(value.get_string().value_unsafe(), out);
        return true;
      }
      if (type[0] == 'N') {
        if (!expect(element_type::STRING, "a string of digits")) return false;
        const std::string_view n = value.get_string().value_unsafe();
        if (numbers_ == NumberMode::kString) {
          if (!IsDecimal(n)) break;
          AppendJsonString(n, out);
          return true;
        }
        if (!AppendDecimalAsJson(n, out))
          return Fail(error_code::kInvalidNumber, StrCat("N value ", QuoteForMessage(n), " is not a number"),
                      error);
        return true;
      }
      if (type[0] == 'B') {
        if (!expect(element_type::STRING, "a base64 string")) return false;
        const std::string_view b = value.get_string().value_unsafe();
        if (!IsBase64(b))
          return Fail(error_code::kInvalidBinary, StrCat("B value ", QuoteForMessage(b), " is not base64"),
                      error);
        AppendValidJsonString(b, out);
        return true;
      }
      if (type[0] == 'M') {
        simdjson::dom::object m;
        if (value.get_object().get(m) != simdjson::SUCCESS) {
          expect(element_type::OBJECT, "an object");
          return false;
        }
        out->push_back('{');
        bool first = true;
        for (auto field : m) {
          if (!first) out->push_back(',');
          first = false;
          AppendValidJsonString(field.key, out);
          out->push_back(':');
          path_.PushKey(field.key);
          if (!AppendValue(field.value, out, error)) return false;
          path_.Pop();
        }
        out->push_back('}');
        return true;
      }
      if (type[0] == 'L') {
        simdjson::dom::array l;
        if (value.get_array().get(l) != simdjson::SUCCESS) {
          expect(element_type::ARRAY, "an array");
          return false;
        }
        out->push_back('[');
        int64_t i = 0;
        for (element item : l) {
          if (i != 0) out->push_back(',');
          path_.PushIndex(i++);
          if (!AppendValue(item, out, error)) return false;
          path_.Pop();
        }
        out->push_back(']');
        return true;
      }
      break;
    case 2:
      if (type == "SS" || type == "NS" || type == "BS") return AppendSet(type, value, out, error);
      break;
    case 4:
      if (type == "BOOL") {
        if (!expect(element_type::BOOL, "true or false")) return false;
        out->append(value.get_bool().value_unsafe() ? "true" : "false");
        return true;
      }
      if (type == "NULL") {
        if (value.type() != element_type::BOOL || !value.get_bool().value_unsafe())
          return Fail(error_code::kInvalidAttribute, "NULL value must be true", error);
        out->append("null");
        return true;
      }
      break;
  }
  if (type == "N")  // numbers: string mode with a malformed N
    return Fail(error_code::kInvalidNumber,
                StrCat("N value ", QuoteForMessage(value.get_string().value_unsafe()), " is not a number"),
                error);
  return Fail(error_code::kInvalidAttribute,
              StrCat("unknown attribute type ", QuoteForMessage(type),
                           " (expected S, N, B, BOOL, NULL, M, L, SS, NS or BS)"),
              error);
}

bool DdbJsonConverter::AppendSet(std::string_view type, element value, std::string* out,
                                 ConvertError* error) {
  simdjson::dom::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS)
    return Fail(error_code::kInvalidAttribute,
                StrCat(type, " value must be an array, got ", TypeName(value.type())), error);
  out->push_back('[');
  int64_t i = 0;
  for (element item : items) {
    if (i != 0) out->push_back(',');
    path_.PushIndex(i++);
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS)
      return Fail(error_code::kInvalidAttribute,
                  StrCat(type, " members must be strings, got ", TypeName(item.type())), error);
    if (type[0] == 'S') {
      AppendValidJsonString(s, out);
    } else if (type[0] == 'N') {
      const bool ok = numbers_ == NumberMode::kString ? (IsDecimal(s) && AppendJsonString(s, out))
                                                      : AppendDecimalAsJson(s, out);
      if (!ok)
        return Fail(error_code::kInvalidNumber, StrCat("NS member ", QuoteForMessage(s), " is not a number"),
                    error);
    } else {
      if (!IsBase64(s))
        return Fail(error_code::kInvalidBinary, StrCat("BS member ", QuoteForMessage(s), " is not base64"),
                    error);
      AppendJsonString(s, out);
    }
    path_.Pop();
  }
  out->push_back(']');
  return true;
}

}  // namespace lakehose
