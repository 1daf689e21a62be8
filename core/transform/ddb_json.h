// DynamoDB typed JSON ({"S": "x"}, {"N": "1.5"}, {"M": {...}}, ...) to plain JSON,
// losslessly (README.md, "Pipelines"):
//   S -> string; N -> number with the exact digits received (or a string, NumberMode);
//   B -> its base64 text; BOOL; NULL -> null; M -> object; L -> array;
//   SS/NS/BS -> arrays in the order given (empty sets allowed).
// An attribute value whose other type keys are JSON null ({"S": null, "N": "1"}, as in the
// aws-lambda-go samples) is accepted. Anything else fails with the attribute path.
//
// Not thread-safe (keeps a path stack); one converter per thread.
#ifndef LAKEHOSE_CORE_TRANSFORM_DDB_JSON_H_
#define LAKEHOSE_CORE_TRANSFORM_DDB_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/json_writer.h"
#include "core/config/pipeline.h"
#include "simdjson.h"

namespace lakehose {

struct ConvertError {
  std::string_view code;  // error_code::k*
  std::string message;    // "<path>: <reason>"
};

// A path into a document, for error messages: root.key[3]["odd key"].
class AttributePath {
 public:
  void Reset(std::string_view root) {
    root_ = root;
    depth_ = 0;
  }
  // Pushed on every attribute of every record, so a push is a store into storage kept
  // from earlier records (not a vector::push_back, which the compiler left out of line).
  void PushKey(std::string_view key) { Push({key, -1}); }
  void PushIndex(int64_t index) { Push({{}, index}); }
  void Pop() { --depth_; }
  std::string ToString() const;

 private:
  struct Seg {
    std::string_view key;
    int64_t index;
  };
  void Push(Seg s) {
    if (depth_ == segs_.size()) [[unlikely]]
      Grow();
    segs_[depth_++] = s;
  }
  void Grow();
  std::string_view root_;
  std::vector<Seg> segs_;  // segs_[0, depth_) is the path
  size_t depth_ = 0;
};

class DdbJsonConverter {
 public:
  explicit DdbJsonConverter(NumberMode numbers) : numbers_(numbers) {}

  // Appends the plain JSON of typed attribute value `av`, whose path is `path()`.
  // On failure returns false and fills *error; `out` then holds partial output.
  bool AppendValue(simdjson::dom::element av, JsonBuffer* out, ConvertError* error);
  // The same onto a std::string (tools and tests; the transformer uses the JsonBuffer).
  bool AppendValue(simdjson::dom::element av, std::string* out, ConvertError* error);

  // Finds the single non-null type key of `av`. False (and *error) if there is none or
  // more than one, or `av` is not an object.
  bool TypeOf(simdjson::dom::element av, std::string_view* type, simdjson::dom::element* value,
              ConvertError* error);

  AttributePath& path() { return path_; }

 private:
  bool Fail(std::string_view code, std::string_view reason, ConvertError* error);
  // The general case of AppendValue (any shape, every error); AppendValue handles the
  // common one (an object with exactly one type key) itself.
  bool AppendValueSlow(simdjson::dom::element av, JsonBuffer* out, ConvertError* error);
  bool AppendSet(std::string_view type, simdjson::dom::element value, JsonBuffer* out,
                 ConvertError* error);
  bool AppendNumber(std::string_view n, JsonBuffer* out);

  std::string number_scratch_;  // a rewritten N value (leading '+', zeros, bare '.')
  JsonBuffer string_out_;       // for the std::string overload of AppendValue

  NumberMode numbers_;
  AttributePath path_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_CORE_TRANSFORM_DDB_JSON_H_
