#include "core/s3/s3_xml.h"

#include <cstdint>

#include "core/base/strings.h"

namespace lakehose {
namespace {

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

// True if `xml[pos]` starts `<name` (or `</name` when `closing`) followed by a character
// that ends a tag name.
bool TagAt(std::string_view xml, size_t pos, std::string_view name, bool closing) {
  const std::string_view lead = closing ? "</" : "<";
  if (xml.substr(pos, lead.size()) != lead) return false;
  const size_t name_at = pos + lead.size();
  if (xml.substr(name_at, name.size()) != name) return false;
  const size_t after = name_at + name.size();
  if (after >= xml.size()) return false;
  const char c = xml[after];
  return c == '>' || IsXmlSpace(c) || (!closing && c == '/');
}

// Index just past the '>' that ends the tag whose name ends before `from`, honouring
// quoted attribute values; npos if the tag is never closed.
size_t EndOfTag(std::string_view xml, size_t from) {
  char quote = 0;
  for (size_t i = from; i < xml.size(); ++i) {
    const char c = xml[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the character reference body ("#65", "#x41"); false if it is not a valid one.
bool DecodeCharRef(std::string_view ref, std::string* out) {
  if (ref.size() < 2 || ref[0] != '#') return false;
  const bool hex = ref[1] == 'x' || ref[1] == 'X';
  const std::string_view digits = ref.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return false;
  uint32_t cp = 0;
  for (char c : digits) {
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (hex && c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else if (hex && c >= 'A' && c <= 'F') {
      d = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    cp = cp * (hex ? 16 : 10) + d;
  }
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  AppendUtf8(cp, out);
  return true;
}

// Appends the entity at `text[0]` == '&' decoded and returns how many bytes it used;
// an unknown or unterminated entity is kept literally (one byte used).
size_t DecodeEntity(std::string_view text, std::string* out) {
  const size_t semi = text.substr(0, 12).find(';');
  if (semi != std::string_view::npos) {
    const std::string_view ref = text.substr(1, semi - 1);
    static constexpr std::pair<std::string_view, char> kNamed[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    for (const auto& [name, c] : kNamed) {
      if (ref == name) {
        out->push_back(c);
        return semi + 1;
      }
    }
    if (DecodeCharRef(ref, out)) return semi + 1;
  }
  out->push_back('&');
  return 1;
}

std::string DecodeText(std::string_view raw) {
  static constexpr std::string_view kCdataOpen = "<![CDATA[";
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] == '&') {
      i += DecodeEntity(raw.substr(i), &out);
    } else if (raw.substr(i, kCdataOpen.size()) == kCdataOpen) {
      const size_t start = i + kCdataOpen.size();
      const size_t end = raw.find("]]>", start);
      if (end == std::string_view::npos) {
        out.append(raw.substr(start));
        break;
      }
      out.append(raw.substr(start, end - start));
      i = end + 3;
    } else {
      out.push_back(raw[i++]);
    }
  }
  return out;
}

// Index past the end of the markup starting at `pos` that ends with `terminator`;
// npos if it never ends.
size_t SkipPast(std::string_view xml, size_t pos, std::string_view terminator) {
  const size_t end = xml.find(terminator, pos);
  return end == std::string_view::npos ? end : end + terminator.size();
}

absl::Status CheckSize(std::string_view xml, std::string_view what) {
  if (xml.size() > kMaxS3XmlBytes) {
    return absl::InvalidArgumentError(StrCat(what, ": answer of ", xml.size(),
                                             " bytes exceeds the ", kMaxS3XmlBytes, "-byte limit"));
  }
  return absl::OkStatus();
}

S3Error ErrorFields(std::string_view xml) {
  S3Error e;
  e.code = XmlElementText(xml, "Code").value_or("");
  e.message = XmlElementText(xml, "Message").value_or("");
  e.request_id = XmlElementText(xml, "RequestId").value_or("");
  return e;
}

}  // namespace

std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name) {
  if (name.empty()) return std::nullopt;
  size_t open = xml.find('<');
  while (open != std::string_view::npos && !TagAt(xml, open, name, /*closing=*/false)) {
    open = xml.find('<', open + 1);
  }
  if (open == std::string_view::npos) return std::nullopt;
  const size_t content = EndOfTag(xml, open + 1 + name.size());
  if (content == std::string_view::npos) return std::nullopt;
  if (xml[content - 2] == '/') return std::string();  // <Name/>
  size_t close = xml.find("</", content);
  while (close != std::string_view::npos && !TagAt(xml, close, name, /*closing=*/true)) {
    close = xml.find("</", close + 2);
  }
  if (close == std::string_view::npos) return std::nullopt;
  return DecodeText(xml.substr(content, close - content));
}

std::optional<std::string_view> XmlRootElementName(std::string_view xml) {
  size_t i = 0;
  if (xml.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark
  while (i < xml.size()) {
    if (IsXmlSpace(xml[i])) {
      ++i;
    } else if (xml.substr(i, 2) == "<?") {
      i = SkipPast(xml, i + 2, "?>");
    } else if (xml.substr(i, 4) == "<!--") {
      i = SkipPast(xml, i + 4, "-->");
    } else if (xml.substr(i, 2) == "<!") {
      i = SkipPast(xml, i + 2, ">");
    } else if (xml[i] == '<') {
      size_t end = i + 1;
      while (end < xml.size() && IsNameChar(xml[end])) ++end;
      if (end == i + 1) return std::nullopt;
      return xml.substr(i + 1, end - i - 1);
    } else {
      return std::nullopt;  // text before the root element: not XML
    }
  }
  return std::nullopt;
}

absl::StatusOr<S3Error> ParseS3Error(std::string_view xml) {
  if (absl::Status s = CheckSize(xml, "S3 error"); !s.ok()) return s;
  if (XmlRootElementName(xml) != "Error") {
    return absl::InvalidArgumentError("S3 error: the body is not an <Error> document");
  }
  return ErrorFields(xml);
}

absl::StatusOr<std::string> ParseInitiateMultipartUploadResult(std::string_view xml) {
  if (absl::Status s = CheckSize(xml, "CreateMultipartUpload"); !s.ok()) return s;
  if (XmlRootElementName(xml) != "InitiateMultipartUploadResult") {
    return absl::InvalidArgumentError(
        "CreateMultipartUpload: the body is not an <InitiateMultipartUploadResult>");
  }
  std::optional<std::string> id = XmlElementText(xml, "UploadId");
  if (!id.has_value() || id->empty()) {
    return absl::InvalidArgumentError("CreateMultipartUpload: the answer has no UploadId");
  }
  return *std::move(id);
}

absl::StatusOr<CompleteMultipartUploadOutcome> ParseCompleteMultipartUploadResult(
    std::string_view xml) {
  if (absl::Status s = CheckSize(xml, "CompleteMultipartUpload"); !s.ok()) return s;
  const std::optional<std::string_view> root = XmlRootElementName(xml);
  CompleteMultipartUploadOutcome outcome;
  if (root == "Error") {
    outcome.failed = true;
    outcome.error = ErrorFields(xml);
    return outcome;
  }
  if (root != "CompleteMultipartUploadResult") {
    return absl::InvalidArgumentError(
        "CompleteMultipartUpload: the body is neither a result nor an <Error> (truncated?)");
  }
  outcome.etag = XmlElementText(xml, "ETag").value_or("");
  return outcome;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string BuildCompleteMultipartUploadXml(const std::vector<CompletedPart>& parts) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const CompletedPart& p : parts) {
    StrAppend(&xml, "<Part><ETag>", XmlEscape(p.etag), "</ETag><PartNumber>", p.part_number,
              "</PartNumber></Part>");
  }
  xml += "</CompleteMultipartUpload>";
  return xml;
}

}  // namespace lakehose
