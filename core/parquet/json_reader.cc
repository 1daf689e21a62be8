#include "core/parquet/json_reader.h"

#include <utility>

#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/parquet/parquet_writer.h"

namespace lakehose {
namespace parquet_internal {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::Status LineParser::ParseTree(int max_depth, JsonNode* out) {
  SkipWs();
  RETURN_IF_ERROR(ParseNode(1, max_depth, out));
  SkipWs();
  if (pos_ != s_.size()) return Fail("trailing characters after a value");
  return absl::OkStatus();
}

absl::Status LineParser::ParseNode(int depth, int max_depth, JsonNode* node) {
  const char c = Peek();
  node->object = c == '{';
  if ((c != '{' && c != '[') || depth > max_depth) return ParseValue(&node->value);
  const size_t start = pos_;
  const char close = node->object ? '}' : ']';
  node->value.kind = Value::kNested;
  node->expanded = true;
  ++pos_;
  SkipWs();
  if (!Eat(close)) {
    for (;;) {
      SkipWs();
      if (node->object) {
        std::string_view name;
        if (Peek() != '"') return Fail("expected a member name");
        RETURN_IF_ERROR(ParseString(&name));
        SkipWs();
        if (!Eat(':')) return Fail("expected ':'");
        SkipWs();
        node->names.push_back(name);
      }
      node->children.emplace_back();
      RETURN_IF_ERROR(ParseNode(depth + 1, max_depth, &node->children.back()));
      SkipWs();
      if (Eat(',')) continue;
      if (Eat(close)) break;
      return Fail("expected ',' or a closing bracket");
    }
  }
  node->value.text = s_.substr(start, pos_ - start);
  return absl::OkStatus();
}

absl::Status LineParser::Fail(std::string_view what) const {
  return absl::InvalidArgumentError(StrCat("parquet: ", what, " at byte ", pos_));
}

absl::Status LineParser::ParseValue(Value* v) {
  const size_t start = pos_;
  const char c = Peek();
  if (c == '"') {
    v->kind = Value::kString;
    return ParseString(&v->text);
  }
  if (c == '{' || c == '[') {
    RETURN_IF_ERROR(SkipNested());
    v->kind = Value::kNested;
    v->text = s_.substr(start, pos_ - start);
    return absl::OkStatus();
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    RETURN_IF_ERROR(SkipNumber());
    v->kind = Value::kNumber;
    v->text = s_.substr(start, pos_ - start);
    return absl::OkStatus();
  }
  if (s_.substr(pos_, 4) == "null") {
    v->kind = Value::kNull;
    pos_ += 4;
    return absl::OkStatus();
  }
  if (s_.substr(pos_, 4) == "true") {
    v->kind = Value::kTrue;
    pos_ += 4;
    return absl::OkStatus();
  }
  if (s_.substr(pos_, 5) == "false") {
    v->kind = Value::kFalse;
    pos_ += 5;
    return absl::OkStatus();
  }
  return Fail("expected a JSON value");
}

absl::Status LineParser::SkipNumber() {
  Eat('-');
  if (Eat('0')) {
  } else if (Peek() >= '1' && Peek() <= '9') {
    while (Peek() >= '0' && Peek() <= '9' && pos_ < s_.size()) ++pos_;
  } else {
    return Fail("bad number");
  }
  if (Eat('.')) {
    if (!(Peek() >= '0' && Peek() <= '9')) return Fail("bad number");
    while (Peek() >= '0' && Peek() <= '9' && pos_ < s_.size()) ++pos_;
  }
  if (Peek() == 'e' || Peek() == 'E') {
    ++pos_;
    if (Peek() == '+' || Peek() == '-') ++pos_;
    if (!(Peek() >= '0' && Peek() <= '9')) return Fail("bad number");
    while (Peek() >= '0' && Peek() <= '9' && pos_ < s_.size()) ++pos_;
  }
  return absl::OkStatus();
}

absl::Status LineParser::SkipNested() {
  std::vector<char> stack;  // expected closers
  do {
    const char c = Peek();
    if (pos_ >= s_.size()) return Fail("unterminated object or array");
    if (c == '{' || c == '[') {
      if (stack.size() >= kMaxParquetJsonDepth) return Fail("nesting too deep");
      stack.push_back(c == '{' ? '}' : ']');
      ++pos_;
      SkipWs();
      if (Eat(stack.back())) {
        stack.pop_back();
      } else {
        if (stack.back() == '}') {
          std::string_view ignored;
          if (Peek() != '"') return Fail("expected a member name");
          RETURN_IF_ERROR(ParseString(&ignored, /*keep=*/false));
          SkipWs();
          if (!Eat(':')) return Fail("expected ':'");
          SkipWs();
        }
        continue;  // the first element
      }
    } else {
      Value ignored;
      if (c == '"') {
        RETURN_IF_ERROR(ParseString(&ignored.text, /*keep=*/false));
      } else {
        RETURN_IF_ERROR(ParseValue(&ignored));
      }
    }
    // After an element: ',' and the next one, or closers.
    for (;;) {
      SkipWs();
      if (stack.empty()) break;
      if (Eat(stack.back())) {
        stack.pop_back();
        continue;
      }
      if (!Eat(',')) return Fail("expected ',' or a closing bracket");
      SkipWs();
      if (stack.back() == '}') {
        std::string_view ignored;
        if (Peek() != '"') return Fail("expected a member name");
        RETURN_IF_ERROR(ParseString(&ignored, /*keep=*/false));
        SkipWs();
        if (!Eat(':')) return Fail("expected ':'");
        SkipWs();
      }
      break;
    }
  } while (!stack.empty());
  return absl::OkStatus();
}

bool LineParser::Hex4(uint32_t* out) {
  if (pos_ + 4 > s_.size()) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = Hex(s_[pos_ + i]);
    if (h < 0) return false;
    v = v * 16 + h;
  }
  pos_ += 4;
  *out = v;
  return true;
}

absl::Status LineParser::ParseString(std::string_view* out, bool keep) {
  ++pos_;
  const size_t start = pos_;
  bool high = false;
  while (pos_ < s_.size() && s_[pos_] != '"' && s_[pos_] != '\\') {
    if (static_cast<unsigned char>(s_[pos_]) < 0x20) return Fail("control character in a string");
    high |= static_cast<unsigned char>(s_[pos_]) >= 0x80;
    ++pos_;
  }
  if (pos_ >= s_.size()) return Fail("unterminated string");
  if (s_[pos_] == '"') {
    *out = s_.substr(start, pos_ - start);
    ++pos_;
    if (high && !IsValidUtf8(*out)) return Fail("invalid UTF-8 in a string");
    return absl::OkStatus();
  }
  std::string tmp(s_.substr(start, pos_ - start));
  while (pos_ < s_.size() && s_[pos_] != '"') {
    const char c = s_[pos_];
    if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
    if (c != '\\') {
      high |= static_cast<unsigned char>(c) >= 0x80;
      tmp.push_back(c);
      ++pos_;
      continue;
    }
    if (++pos_ >= s_.size()) break;
    const char e = s_[pos_++];
    switch (e) {
      case '"':
        tmp.push_back('"');
        break;
      case '\\':
        tmp.push_back('\\');
        break;
      case '/':
        tmp.push_back('/');
        break;
      case 'b':
        tmp.push_back('\b');
        break;
      case 'f':
        tmp.push_back('\f');
        break;
      case 'n':
        tmp.push_back('\n');
        break;
      case 'r':
        tmp.push_back('\r');
        break;
      case 't':
        tmp.push_back('\t');
        break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(&cp)) return Fail("bad \\u escape");
        if (cp >= 0xD800 && cp < 0xDC00) {
          uint32_t lo;
          if (s_.substr(pos_, 2) != "\\u") return Fail("lone surrogate");
          pos_ += 2;
          if (!Hex4(&lo) || lo < 0xDC00 || lo >= 0xE000) return Fail("lone surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          return Fail("lone surrogate");
        }
        if (cp < 0x80) {
          tmp.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          tmp.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          tmp.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          tmp.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          tmp.push_back(static_cast<char>(0xF0 | (cp >> 18)));
          tmp.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          tmp.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          tmp.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default:
        return Fail("bad escape");
    }
  }
  if (pos_ >= s_.size()) return Fail("unterminated string");
  ++pos_;
  if (high && !IsValidUtf8(tmp)) return Fail("invalid UTF-8 in a string");
  if (keep) {
    arena_->push_back(std::move(tmp));
    *out = arena_->back();
  }
  return absl::OkStatus();
}

}  // namespace parquet_internal
}  // namespace lakehose
