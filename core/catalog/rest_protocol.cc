#include "core/catalog/rest_protocol.h"

#include <algorithm>

#include "core/base/json_writer.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/uri_encode.h"
#include "core/iceberg/metadata_json.h"
#include "simdjson.h"

namespace lakehose::catalog {
namespace {

// Answers are small (table metadata grows with snapshots: a few MB at most); the HTTP
// client bounds the body (16 MiB by default).
absl::Status Invalid(std::string_view what, std::string_view why) {
  return absl::InvalidArgumentError(StrCat(what, ": ", why));
}

void AppendStr(std::string_view s, std::string* out) {
  if (!AppendJsonString(s, out)) AppendJsonString("\xEF\xBF\xBD", out);  // not UTF-8: never ours
}

void AppendProperties(const Properties& props, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < props.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendStr(props[i].first, out);
    out->push_back(':');
    AppendStr(props[i].second, out);
  }
  out->push_back('}');
}

// A JSON object of string values into `out` (other value types: an error naming `what`).
absl::Status ReadStringMap(simdjson::dom::element e, std::string_view what, Properties* out) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return Invalid(what, "not an object");
  for (auto [key, value] : obj) {
    std::string_view v;
    if (value.get_string().get(v) != simdjson::SUCCESS)
      return Invalid(StrCat(what, ".", key), "not a string");
    out->emplace_back(std::string(key), std::string(v));
  }
  return absl::OkStatus();
}

std::string PathWithPrefix(std::string_view prefix, std::string_view rest) {
  std::string p = "/v1/";
  if (!prefix.empty()) {
    // Slashes around the server's prefix are its separators, not part of it.
    while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) StrAppend(&p, prefix, "/");
  }
  StrAppend(&p, rest);
  return p;
}

}  // namespace

std::string NamespaceParam(const std::vector<std::string>& levels) {
  std::string joined;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) joined.push_back('\x1f');
    joined += levels[i];
  }
  return UriEncode(joined, /*keep_slash=*/false);
}

std::string ConfigPath(std::string_view warehouse) {
  if (warehouse.empty()) return "/v1/config";
  return StrCat("/v1/config?warehouse=", UriEncode(warehouse, /*keep_slash=*/false));
}

std::string NamespacesPath(std::string_view prefix) { return PathWithPrefix(prefix, "namespaces"); }

std::string TablesPath(std::string_view prefix, const std::vector<std::string>& ns) {
  return PathWithPrefix(prefix, StrCat("namespaces/", NamespaceParam(ns), "/tables"));
}

std::string TablePath(std::string_view prefix, const std::vector<std::string>& ns,
                      std::string_view table) {
  return StrCat(TablesPath(prefix, ns), "/", UriEncode(table, /*keep_slash=*/false));
}

std::optional<std::string> CatalogConfig::Get(std::string_view key,
                                              const Properties& client) const {
  for (const Properties* props : {&overrides, &client, &defaults})
    for (const auto& [k, v] : *props)
      if (k == key) return v;
  return std::nullopt;
}

bool CatalogConfig::Supports(std::string_view endpoint) const {
  if (!endpoints) return true;
  return std::find(endpoints->begin(), endpoints->end(), endpoint) != endpoints->end();
}

absl::StatusOr<CatalogConfig> ParseCatalogConfig(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(json.data(), json.size()).get_object().get(top) != simdjson::SUCCESS)
    return Invalid("config response", "not a JSON object");
  CatalogConfig c;
  // Both are required by the spec; a missing one is an empty set rather than a refusal,
  // as Java's client reads it.
  simdjson::dom::element e;
  if (top.at_key("defaults").get(e) == simdjson::SUCCESS && !e.is_null())
    RETURN_IF_ERROR(ReadStringMap(e, "config response: defaults", &c.defaults));
  if (top.at_key("overrides").get(e) == simdjson::SUCCESS && !e.is_null())
    RETURN_IF_ERROR(ReadStringMap(e, "config response: overrides", &c.overrides));
  if (top.at_key("endpoints").get(e) == simdjson::SUCCESS && !e.is_null()) {
    simdjson::dom::array arr;
    if (e.get_array().get(arr) != simdjson::SUCCESS)
      return Invalid("config response: endpoints", "not an array");
    c.endpoints.emplace();
    for (simdjson::dom::element item : arr) {
      std::string_view s;
      if (item.get_string().get(s) != simdjson::SUCCESS)
        return Invalid("config response: endpoints", "an element is not a string");
      c.endpoints->emplace_back(s);
    }
  }
  return c;
}

absl::StatusOr<LoadTableResult> ParseLoadTableResult(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(json.data(), json.size()).get_object().get(top) != simdjson::SUCCESS)
    return Invalid("table response", "not a JSON object");
  LoadTableResult r;
  simdjson::dom::element e;
  if (top.at_key("metadata-location").get(e) == simdjson::SUCCESS && !e.is_null()) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS)
      return Invalid("table response: metadata-location", "not a string");
    r.metadata_location = std::string(s);
  }
  simdjson::dom::element metadata;
  if (top.at_key("metadata").get(metadata) != simdjson::SUCCESS || !metadata.is_object())
    return Invalid("table response", "missing \"metadata\" (an object)");
  absl::StatusOr<iceberg::TableMetadata> m =
      iceberg::ParseTableMetadata(simdjson::minify(metadata));
  if (!m.ok()) return Invalid("table response: metadata", StatusMessage(m.status()));
  r.metadata = *std::move(m);
  if (top.at_key("config").get(e) == simdjson::SUCCESS && !e.is_null())
    RETURN_IF_ERROR(ReadStringMap(e, "table response: config", &r.config));
  return r;
}

std::string CreateNamespaceRequestJson(const std::vector<std::string>& ns) {
  std::string out = "{\"namespace\":[";
  for (size_t i = 0; i < ns.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendStr(ns[i], &out);
  }
  out += "],\"properties\":{}}";
  return out;
}

std::string CreateTableRequestJson(std::string_view name, const iceberg::TableMetadata& m) {
  std::string out = "{\"name\":";
  AppendStr(name, &out);
  out += ",\"schema\":";
  if (const iceberg::Schema* s = m.CurrentSchema()) out += iceberg::SchemaToJson(*s);
  if (const iceberg::PartitionSpec* spec = m.DefaultSpec())
    StrAppend(&out, ",\"partition-spec\":", iceberg::PartitionSpecToJson(*spec));
  out += ",\"write-order\":{\"order-id\":0,\"fields\":[]},\"stage-create\":false,\"properties\":";
  AppendProperties(m.properties, &out);
  out.push_back('}');
  return out;
}

std::string CommitTableRequestJson(const iceberg::TableMetadata& base, const TableChange& change) {
  std::string req = "{\"type\":\"assert-table-uuid\",\"uuid\":";
  AppendStr(base.table_uuid, &req);
  req.push_back('}');
  std::string upd;
  if (change.schema) {
    StrAppend(&req, ",{\"type\":\"assert-current-schema-id\",\"current-schema-id\":",
              base.current_schema_id, "}");
    StrAppend(&req, ",{\"type\":\"assert-last-assigned-field-id\",\"last-assigned-field-id\":",
              base.last_column_id, "}");
    // last-column-id is deprecated (the server can compute it) but older servers require
    // it; -1 in set-current-schema is "the schema added by this commit".
    StrAppend(&upd, "{\"action\":\"add-schema\",\"schema\":", iceberg::SchemaToJson(*change.schema),
              ",\"last-column-id\":", change.last_column_id, "}");
    upd += ",{\"action\":\"set-current-schema\",\"schema-id\":-1}";
  }
  if (change.snapshot) {
    // main must still be where this snapshot's parent is (null: main must not exist).
    StrAppend(&req, ",{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":",
              base.current_snapshot_id ? StrCat(*base.current_snapshot_id) : "null", "}");
    if (!upd.empty()) upd.push_back(',');
    StrAppend(&upd, "{\"action\":\"add-snapshot\",\"snapshot\":",
              iceberg::SnapshotToJson(*change.snapshot), "}");
    StrAppend(&upd,
              ",{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":\"branch\","
              "\"snapshot-id\":",
              change.snapshot->snapshot_id, "}");
  }
  if (!change.remove_snapshots.empty() || !change.set_properties.empty()) {
    // Expiry: against the table as read (main where it was), so that no commit of
    // another writer is raced.
    if (!change.snapshot)
      StrAppend(&req, ",{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":",
                base.current_snapshot_id ? StrCat(*base.current_snapshot_id) : "null", "}");
    if (!change.remove_snapshots.empty()) {
      if (!upd.empty()) upd.push_back(',');
      upd += "{\"action\":\"remove-snapshots\",\"snapshot-ids\":[";
      for (size_t i = 0; i < change.remove_snapshots.size(); ++i)
        StrAppend(&upd, i ? "," : "", change.remove_snapshots[i]);
      upd += "]}";
    }
    if (!change.set_properties.empty()) {
      if (!upd.empty()) upd.push_back(',');
      upd += "{\"action\":\"set-properties\",\"updates\":{";
      for (size_t i = 0; i < change.set_properties.size(); ++i) {
        if (i) upd.push_back(',');
        AppendStr(change.set_properties[i].first, &upd);
        upd.push_back(':');
        AppendStr(change.set_properties[i].second, &upd);
      }
      upd += "}}";
    }
  }
  return StrCat("{\"requirements\":[", req, "],\"updates\":[", upd, "]}");
}

absl::StatusOr<TableLocation> ParseTableLocation(std::string_view location) {
  TableLocation out;
  for (std::string_view scheme : {"s3://", "s3a://", "s3n://"}) {
    if (location.substr(0, scheme.size()) != scheme) continue;
    std::string_view rest = location.substr(scheme.size());
    const size_t slash = rest.find('/');
    out.bucket = std::string(rest.substr(0, slash));
    if (out.bucket.empty()) return Invalid(StrCat("table location ", location), "no bucket");
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (!path.empty()) out.prefix = StrCat(path, "/");
    return out;
  }
  std::string_view path = location;
  if (path.substr(0, 7) == "file://") path.remove_prefix(7);
  if (path.empty() || path.front() != '/')
    return Invalid(StrCat("table location ", location),
                   "neither s3://bucket/path nor file:///path (an absolute directory)");
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  out.local = true;
  out.dir = std::string(path);
  return out;
}

CatalogError ParseCatalogError(int http_status, std::string_view body) {
  CatalogError err;
  err.status = http_status;
  simdjson::dom::parser parser;
  simdjson::dom::object top, inner;
  if (parser.parse(body.data(), body.size()).get_object().get(top) == simdjson::SUCCESS &&
      top.at_key("error").get_object().get(inner) == simdjson::SUCCESS) {
    std::string_view s;
    if (inner.at_key("type").get_string().get(s) == simdjson::SUCCESS) err.type = std::string(s);
    if (inner.at_key("message").get_string().get(s) == simdjson::SUCCESS)
      err.message = std::string(s);
  }
  if (err.message.empty()) {
    // Not an IcebergErrorResponse (a proxy's page, a gateway's text): its start.
    std::string_view text = TrimAsciiWhitespace(body.substr(0, 200));
    err.message = text.empty() ? StrCat("HTTP ", http_status) : std::string(text);
  }
  return err;
}

std::string ClientCredentialsForm(std::string_view client_id, std::string_view client_secret,
                                  std::string_view scope) {
  std::string out = StrCat("grant_type=client_credentials&client_id=", UriEncode(client_id, false),
                           "&client_secret=", UriEncode(client_secret, false));
  if (!scope.empty()) StrAppend(&out, "&scope=", UriEncode(scope, false));
  return out;
}

absl::StatusOr<OAuthToken> ParseTokenResponse(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(json.data(), json.size()).get_object().get(top) != simdjson::SUCCESS)
    return Invalid("token response", "not a JSON object");
  OAuthToken t;
  std::string_view s;
  if (top.at_key("access_token").get_string().get(s) != simdjson::SUCCESS || s.empty())
    return Invalid("token response", "missing \"access_token\"");
  t.access_token = std::string(s);
  if (top.at_key("token_type").get_string().get(s) == simdjson::SUCCESS &&
      AsciiLower(s) != "bearer")
    return Invalid("token response", StrCat("token_type ", QuoteForMessage(s), " is not bearer"));
  simdjson::dom::element e;
  if (top.at_key("expires_in").get(e) == simdjson::SUCCESS && !e.is_null()) {
    int64_t n = 0;
    double d = 0;
    if (e.get_int64().get(n) == simdjson::SUCCESS)
      t.expires_in_s = n;
    else if (e.get_double().get(d) == simdjson::SUCCESS)
      t.expires_in_s = static_cast<int64_t>(d);
    else
      return Invalid("token response: expires_in", "not a number");
  }
  return t;
}

std::string ParseOAuthError(int http_status, std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  std::string_view error, description;
  if (parser.parse(body.data(), body.size()).get_object().get(top) == simdjson::SUCCESS &&
      top.at_key("error").get_string().get(error) == simdjson::SUCCESS) {
    if (top.at_key("error_description").get_string().get(description) != simdjson::SUCCESS)
      description = {};
    return description.empty() ? std::string(error) : StrCat(error, ": ", description);
  }
  return ParseCatalogError(http_status, body).message;
}

}  // namespace lakehose::catalog
