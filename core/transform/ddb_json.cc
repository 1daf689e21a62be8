#include "core/transform/ddb_json.h"

#include <algorithm>

#include "core/base/base64.h"
#include "core/base/decimal.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/transform/record.h"

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
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

}  // namespace

bool DuplicateKeys::Contains(const Object& o, std::string_view key) const {
  for (uint32_t i = o.begin; i < o.begin + o.count; ++i)
    if (keys_[i] == key) return true;
  return false;
}

bool DuplicateKeys::AddLarge(Object* o, std::string_view key) {
  if (o->id == 0) {  // the object just outgrew the filter: its keys move to the set
    o->id = ++next_id_;
    for (uint32_t i = o->begin; i < o->begin + o->count; ++i) large_.insert({o->id, keys_[i]});
    top_ = o->begin;  // nested objects' keys go where its keys were
  }
  return large_.insert({o->id, key}).second;
}

void DuplicateKeys::Grow() {
  const uint32_t capacity = capacity_ * 2 + 64;
  auto keys = std::make_unique<std::string_view[]>(capacity);
  std::copy(keys_, keys_ + top_, keys.get());
  heap_ = std::move(keys);
  keys_ = heap_.get();
  capacity_ = capacity;
}

void DuplicateKeys::ResetLarge() {
  large_.clear();
  next_id_ = 0;
}

size_t DuplicateKeys::LargeKeyHash::operator()(const LargeKey& k) const {
  return absl::HashOf(k.first, absl::string_view(k.second.data(), k.second.size()));
}

void AttributePath::Grow() { segs_.resize(depth_ * 2 + 16); }

std::string AttributePath::ToString() const {
  std::string out(root_);
  for (size_t i = 0; i < depth_; ++i) {
    const Seg& s = segs_[i];
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

bool DdbJsonConverter::FailTooDeep(ConvertError* error) {
  return Fail(error_code::kNestingTooDeep,
              StrCat("more than ", kMaxNestingDepth, " levels of nested maps and lists"), error);
}

bool DdbJsonConverter::FailDuplicate(std::string_view key, ConvertError* error) {
  return Fail(error_code::kDuplicateKey,
              StrCat("the name ", QuoteForMessage(key), " appears twice in one map"), error);
}

bool DdbJsonConverter::TypeOf(element av, std::string_view* type, element* value,
                              ConvertError* error) {
  simdjson::dom::object obj;
  if (av.get_object().get(obj) != simdjson::SUCCESS)
    return Fail(
        error_code::kInvalidAttribute,
        StrCat("expected a typed attribute value like {\"S\": ...}, got ", TypeName(av.type())),
        error);
  bool found = false;
  for (auto field : obj) {
    if (field.value.is_null()) continue;  // {"S": null, "N": "1"} as in aws-lambda-go samples
    if (found)
      return Fail(
          error_code::kInvalidAttribute,
          StrCat("attribute value has more than one type (", *type, " and ", field.key, ")"),
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

// N values as JSON numbers: most are already valid JSON and are copied; the others are
// rewritten by AppendDecimalAsJson. False if `n` is not a number.
bool DdbJsonConverter::AppendNumber(std::string_view n, JsonBuffer* out) {
  if (IsJsonNumber(n)) {  // exactly the case where AppendDecimalAsJson copies n as is
    out->Append(n);
    return true;
  }
  number_scratch_.clear();
  if (!AppendDecimalAsJson(n, &number_scratch_)) return false;
  out->Append(number_scratch_);
  return true;
}

bool DdbJsonConverter::AppendValue(element av, std::string* out, ConvertError* error, int depth) {
  string_out_.Clear();
  const bool ok = AppendValue(av, &string_out_, error, depth);
  out->append(string_out_.view());
  return ok;
}

bool DdbJsonConverter::AppendValue(element av, JsonBuffer* out, ConvertError* error, int depth) {
  // The common case, decided without building anything: an object with one non-null
  // type key S, N, BOOL, NULL, M, L, SS, NS or BS of the right JSON type. Everything else (other
  // types, null siblings, errors) goes through AppendValueSlow, which checks it all again.
  simdjson::dom::object obj;
  if (av.get_object().get(obj) == simdjson::SUCCESS && obj.size() == 1) {
    const auto field = *obj.begin();
    const std::string_view type = field.key;
    const element value = field.value;
    const element_type vt = value.type();
    if (type.size() == 1) {
      switch (type[0]) {
        case 'S':
          if (vt != element_type::STRING) break;
          AppendValidJsonString(value.get_string().value_unsafe(), out);
          return true;
        case 'N':
          if (vt != element_type::STRING || numbers_ != NumberMode::kNumber) break;
          if (!AppendNumber(value.get_string().value_unsafe(), out)) break;
          return true;
        case 'M': {
          simdjson::dom::object m;
          if (value.get_object().get(m) != simdjson::SUCCESS) break;
          return AppendMap(m, out, error, depth);
        }
        case 'L': {
          simdjson::dom::array l;
          if (value.get_array().get(l) != simdjson::SUCCESS) break;
          return AppendList(l, out, error, depth);
        }
      }
    } else if (type.size() == 2) {
      // SS / NS / BS: AppendSet checks the members and reports their errors itself.
      if ((type == "SS" || type == "NS" || type == "BS") && vt == element_type::ARRAY)
        return AppendSet(type, value, out, error, depth);
    } else if (type == "BOOL" && vt == element_type::BOOL) {
      out->Append(value.get_bool().value_unsafe() ? "true" : "false");
      return true;
    } else if (type == "NULL" && vt == element_type::BOOL && value.get_bool().value_unsafe()) {
      out->Append("null");
      return true;
    }
  }
  return AppendValueSlow(av, out, error, depth);
}

bool DdbJsonConverter::AppendValueSlow(element av, JsonBuffer* out, ConvertError* error,
                                       int depth) {
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
          AppendValidJsonString(n, out);  // a decimal is ASCII
          return true;
        }
        if (!AppendNumber(n, out))
          return Fail(error_code::kInvalidNumber,
                      StrCat("N value ", QuoteForMessage(n), " is not a number"), error);
        return true;
      }
      if (type[0] == 'B') {
        if (!expect(element_type::STRING, "a base64 string")) return false;
        const std::string_view b = value.get_string().value_unsafe();
        if (!IsBase64(b))
          return Fail(error_code::kInvalidBinary,
                      StrCat("B value ", QuoteForMessage(b), " is not base64"), error);
        AppendValidJsonString(b, out);
        return true;
      }
      if (type[0] == 'M') {
        simdjson::dom::object m;
        if (value.get_object().get(m) != simdjson::SUCCESS) {
          expect(element_type::OBJECT, "an object");
          return false;
        }
        return AppendMap(m, out, error, depth);
      }
      if (type[0] == 'L') {
        simdjson::dom::array l;
        if (value.get_array().get(l) != simdjson::SUCCESS) {
          expect(element_type::ARRAY, "an array");
          return false;
        }
        return AppendList(l, out, error, depth);
      }
      break;
    case 2:
      if (type == "SS" || type == "NS" || type == "BS")
        return AppendSet(type, value, out, error, depth);
      break;
    case 4:
      if (type == "BOOL") {
        if (!expect(element_type::BOOL, "true or false")) return false;
        out->Append(value.get_bool().value_unsafe() ? "true" : "false");
        return true;
      }
      if (type == "NULL") {
        if (value.type() != element_type::BOOL || !value.get_bool().value_unsafe())
          return Fail(error_code::kInvalidAttribute, "NULL value must be true", error);
        out->Append("null");
        return true;
      }
      break;
  }
  if (type == "N")  // numbers: string mode with a malformed N
    return Fail(
        error_code::kInvalidNumber,
        StrCat("N value ", QuoteForMessage(value.get_string().value_unsafe()), " is not a number"),
        error);
  return Fail(error_code::kInvalidAttribute,
              StrCat("unknown attribute type ", QuoteForMessage(type),
                     " (expected S, N, B, BOOL, NULL, M, L, SS, NS or BS)"),
              error);
}

// A map, list or set is at level depth + 1 of the document; past kMaxNestingDepth the
// record fails before anything inside it is read, so recursion stops there.
bool DdbJsonConverter::AppendMap(simdjson::dom::object m, JsonBuffer* out, ConvertError* error,
                                 int depth) {
  if (depth >= kMaxNestingDepth) [[unlikely]]
    return FailTooDeep(error);
  DuplicateKeys::Object keys = keys_.Open();
  out->Put('{');
  bool first = true;
  for (auto f : m) {
    if (!first) out->Put(',');
    first = false;
    path_.PushKey(f.key);
    if (!keys_.Add(&keys, f.key)) [[unlikely]]
      return FailDuplicate(f.key, error);
    AppendValidJsonString(f.key, out);
    out->Put(':');
    if (!AppendValue(f.value, out, error, depth + 1)) return false;
    path_.Pop();
  }
  keys_.Close(keys);
  out->Put('}');
  return true;
}

bool DdbJsonConverter::AppendList(simdjson::dom::array l, JsonBuffer* out, ConvertError* error,
                                  int depth) {
  if (depth >= kMaxNestingDepth) [[unlikely]]
    return FailTooDeep(error);
  out->Put('[');
  int64_t i = 0;
  for (element item : l) {
    if (i != 0) out->Put(',');
    path_.PushIndex(i++);
    if (!AppendValue(item, out, error, depth + 1)) return false;
    path_.Pop();
  }
  out->Put(']');
  return true;
}

bool DdbJsonConverter::CheckPlainValue(element v, ConvertError* error, int depth) {
  simdjson::dom::object obj;
  simdjson::dom::array arr;
  if (v.get_object().get(obj) == simdjson::SUCCESS) {
    if (depth >= kMaxNestingDepth) return FailTooDeep(error);
    DuplicateKeys::Object keys = keys_.Open();
    for (auto f : obj) {
      path_.PushKey(f.key);
      if (!keys_.Add(&keys, f.key)) return FailDuplicate(f.key, error);
      if (!CheckPlainValue(f.value, error, depth + 1)) return false;
      path_.Pop();
    }
    keys_.Close(keys);
  } else if (v.get_array().get(arr) == simdjson::SUCCESS) {
    if (depth >= kMaxNestingDepth) return FailTooDeep(error);
    int64_t i = 0;
    for (element item : arr) {
      path_.PushIndex(i++);
      if (!CheckPlainValue(item, error, depth + 1)) return false;
      path_.Pop();
    }
  }
  return true;
}

bool DdbJsonConverter::AppendSet(std::string_view type, element value, JsonBuffer* out,
                                 ConvertError* error, int depth) {
  simdjson::dom::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS)
    return Fail(error_code::kInvalidAttribute,
                StrCat(type, " value must be an array, got ", TypeName(value.type())), error);
  if (depth >= kMaxNestingDepth) [[unlikely]]
    return FailTooDeep(error);
  out->Put('[');
  int64_t i = 0;
  for (element item : items) {
    if (i != 0) out->Put(',');
    path_.PushIndex(i++);
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS)
      return Fail(error_code::kInvalidAttribute,
                  StrCat(type, " members must be strings, got ", TypeName(item.type())), error);
    if (type[0] == 'S') {
      AppendValidJsonString(s, out);
    } else if (type[0] == 'N') {
      bool ok;
      if (numbers_ == NumberMode::kString) {
        ok = IsDecimal(s);
        if (ok) AppendValidJsonString(s, out);  // a decimal is ASCII
      } else {
        ok = AppendNumber(s, out);
      }
      if (!ok)
        return Fail(error_code::kInvalidNumber,
                    StrCat("NS member ", QuoteForMessage(s), " is not a number"), error);
    } else {
      if (!IsBase64(s))
        return Fail(error_code::kInvalidBinary,
                    StrCat("BS member ", QuoteForMessage(s), " is not base64"), error);
      AppendValidJsonString(s, out);  // base64 is ASCII
    }
    path_.Pop();
  }
  out->Put(']');
  return true;
}

}  // namespace lakehose
