#include "core/catalog/s3tables_protocol.h"

#include <regex>

#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/base/uri_encode.h"
#include "simdjson.h"

namespace lakehose::catalog {
namespace {

std::string Label(std::string_view s) { return UriEncode(s, /*keep_slash=*/false); }

void AppendStr(std::string_view s, std::string* out) {
  if (!AppendJsonString(s, out)) AppendJsonString("\xEF\xBF\xBD", out);
}

}  // namespace

bool IsTableBucketArn(std::string_view arn) {
  static const std::regex kArn(
      "arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:bucket/[a-z0-9_-]{3,63}");
  return std::regex_match(arn.begin(), arn.end(), kArn);
}

std::string S3TablesNamespacesPath(std::string_view bucket_arn) {
  return StrCat("/namespaces/", Label(bucket_arn));
}

std::string S3TablesTablesPath(std::string_view bucket_arn, std::string_view ns) {
  return StrCat("/tables/", Label(bucket_arn), "/", Label(ns));
}

std::string S3TablesMetadataLocationPath(std::string_view bucket_arn, std::string_view ns,
                                         std::string_view name) {
  return StrCat(S3TablesTablesPath(bucket_arn, ns), "/", Label(name), "/metadata-location");
}

std::string S3TablesCreateNamespaceJson(std::string_view ns) {
  std::string out = "{\"namespace\":[";
  AppendStr(ns, &out);
  out += "]}";
  return out;
}

std::string S3TablesCreateTableJson(std::string_view name) {
  std::string out = "{\"name\":";
  AppendStr(name, &out);
  out += ",\"format\":\"ICEBERG\"}";
  return out;
}

std::string S3TablesUpdateMetadataLocationJson(std::string_view metadata_location,
                                               std::string_view version_token) {
  std::string out = "{\"metadataLocation\":";
  AppendStr(metadata_location, &out);
  out += ",\"versionToken\":";
  AppendStr(version_token, &out);
  out.push_back('}');
  return out;
}

absl::StatusOr<S3TablesMetadataLocation> ParseS3TablesMetadataLocation(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(json.data(), json.size()).get_object().get(top) != simdjson::SUCCESS)
    return absl::InvalidArgumentError("S3 Tables answer: not a JSON object");
  S3TablesMetadataLocation out;
  std::string_view s;
  if (top.at_key("versionToken").get_string().get(s) != simdjson::SUCCESS || s.empty())
    return absl::InvalidArgumentError("S3 Tables answer: missing \"versionToken\"");
  out.version_token = std::string(s);
  simdjson::dom::element e;
  if (top.at_key("metadataLocation").get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get_string().get(s) != simdjson::SUCCESS)
      return absl::InvalidArgumentError("S3 Tables answer: \"metadataLocation\" is not a string");
    if (!s.empty()) out.metadata_location = std::string(s);
  }
  if (top.at_key("warehouseLocation").get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get_string().get(s) != simdjson::SUCCESS)
      return absl::InvalidArgumentError("S3 Tables answer: \"warehouseLocation\" is not a string");
    out.warehouse_location = std::string(s);
  }
  return out;
}

S3TablesError ParseS3TablesError(int http_status, std::string_view error_type_header,
                                 std::string_view body) {
  S3TablesError err;
  err.type = std::string(error_type_header.substr(0, error_type_header.find(':')));
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  std::string_view s;
  if (parser.parse(body.data(), body.size()).get_object().get(top) == simdjson::SUCCESS) {
    if (top.at_key("message").get_string().get(s) == simdjson::SUCCESS ||
        top.at_key("Message").get_string().get(s) == simdjson::SUCCESS)
      err.message = std::string(s);
    if (err.type.empty() && top.at_key("__type").get_string().get(s) == simdjson::SUCCESS)
      err.type = std::string(s.substr(s.rfind('#') + 1));
  }
  if (err.message.empty()) {
    const std::string_view text = TrimAsciiWhitespace(body.substr(0, 200));
    err.message = text.empty() ? StrCat("HTTP ", http_status) : std::string(text);
  }
  return err;
}

}  // namespace lakehose::catalog
