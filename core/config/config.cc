#include "core/config/config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <regex>
#include <set>

#include "absl/strings/str_split.h"
#include "core/base/host_port.h"
#include "core/base/limits.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "yaml-cpp/yaml.h"

namespace lakehose {
namespace {

class Parser {
 public:
  Parser(std::string_view filename, const TimeZoneLoader& load_tz,
         std::vector<std::string>* unknown)
      : filename_(filename), load_tz_(load_tz), unknown_(unknown) {}

  absl::Status Error(std::string_view path, std::string_view reason) const {
    return absl::InvalidArgumentError(StrCat(filename_, ": ", path, ": ", reason));
  }

  // Records keys of map `node` that are not in `known`.
  absl::Status CheckMap(const YAML::Node& node, const std::string& path,
                        std::initializer_list<std::string_view> known) {
    if (!node.IsMap()) return Error(path, "must be a mapping");
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (!found) unknown_->push_back(StrCat(filename_, ": ", Join(path, key)));
    }
    return absl::OkStatus();
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : StrCat(path, ".", key);
  }

  absl::StatusOr<std::string> String(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) return Error(path, "must be a string");
    return node.as<std::string>();
  }

  absl::StatusOr<std::string> OneOf(const YAML::Node& node, const std::string& path,
                                    std::initializer_list<std::string_view> allowed) {
    ASSIGN_OR_RETURN(std::string v, String(node, path));
    for (std::string_view a : allowed)
      if (a == v) return v;
    return Error(path, StrCat("must be one of ", StrJoin(allowed, ", "), " (got \"", v, "\")"));
  }

  absl::StatusOr<double> Number(const YAML::Node& node, const std::string& path, double lo,
                                double hi) {
    double v = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, v))
      return Error(path, "must be a number");
    if (!(v >= lo && v <= hi))
      return Error(path, StrCat("must be between ", lo, " and ", hi, " (got ", v, ")"));
    return v;
  }

  // A number that is a whole number: a thread count of 2.5 is a typo, not a request for 2.
  absl::StatusOr<int> Integer(const YAML::Node& node, const std::string& path, int lo, int hi) {
    ASSIGN_OR_RETURN(double v, Number(node, path, lo, hi));
    if (v != std::floor(v)) return Error(path, StrCat("must be a whole number (got ", v, ")"));
    return static_cast<int>(v);
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node, const std::string& path) {
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v))
      return Error(path, "must be true or false");
    return v;
  }

  absl::StatusOr<std::vector<std::string>> StringList(const YAML::Node& node,
                                                      const std::string& path) {
    if (!node.IsSequence()) return Error(path, "must be a list");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      ASSIGN_OR_RETURN(std::string s, String(node[i], StrCat(path, "[", i, "]")));
      out.push_back(std::move(s));
    }
    return out;
  }

  // server.tls and server.auth (README "Security"): file names only, read by the service.
  absl::Status ParseSecurity(const YAML::Node& node, ServerOptions* s) {
    auto file = [&](const YAML::Node& n, const std::string& key_path,
                    std::string* out) -> absl::Status {
      ASSIGN_OR_RETURN(*out, String(n, key_path));
      if (out->empty()) return Error(key_path, "must not be empty (omit the key instead)");
      return absl::OkStatus();
    };
    if (const YAML::Node t = node["tls"]) {
      RETURN_IF_ERROR(CheckMap(t, "server.tls", {"cert_file", "key_file", "client_ca_file"}));
      if (t["cert_file"])
        RETURN_IF_ERROR(file(t["cert_file"], "server.tls.cert_file", &s->tls.cert_file));
      if (t["key_file"])
        RETURN_IF_ERROR(file(t["key_file"], "server.tls.key_file", &s->tls.key_file));
      if (t["client_ca_file"])
        RETURN_IF_ERROR(
            file(t["client_ca_file"], "server.tls.client_ca_file", &s->tls.client_ca_file));
      if (s->tls.cert_file.empty())
        return Error("server.tls.cert_file",
                     "is required: TLS needs the server's certificate (PEM) and key_file");
      if (s->tls.key_file.empty())
        return Error("server.tls.key_file",
                     "is required: TLS needs the private key (PEM) of cert_file");
    }
    if (const YAML::Node a = node["auth"]) {
      RETURN_IF_ERROR(CheckMap(a, "server.auth", {"token_file"}));
      if (!a["token_file"]) return Error("server.auth.token_file", "is required in server.auth");
      RETURN_IF_ERROR(file(a["token_file"], "server.auth.token_file", &s->auth.token_file));
    }
    return absl::OkStatus();
  }

  absl::Status ParseServer(const YAML::Node& node, ServerOptions* s) {
    const std::string path = "server";
    RETURN_IF_ERROR(
        CheckMap(node, path,
                 {"grpc_listen", "metrics_listen", "data_dir", "writer_id", "shutdown_grace_s",
                  "limits", "buffer_budget_mb", "max_active_partitions", "upload_threads", "dlq",
                  "wal_min_free_mb", "tls", "auth", "destination_breaker"}));
    RETURN_IF_ERROR(ParseSecurity(node, s));  // server.tls, server.auth
    if (node["wal_min_free_mb"]) {
      ASSIGN_OR_RETURN(s->wal_min_free_mb,
                       Number(node["wal_min_free_mb"], "server.wal_min_free_mb", 0, 1 << 20));
    }
    if (const YAML::Node d = node["dlq"]) {
      RETURN_IF_ERROR(CheckMap(d, "server.dlq",
                               {"delivery_retry_budget_s", "max_age_s", "retry_base_ms",
                                "retry_max_ms", "drain_concurrency"}));
      if (d["delivery_retry_budget_s"]) {
        ASSIGN_OR_RETURN(s->delivery_retry_budget_s,
                         Number(d["delivery_retry_budget_s"], "server.dlq.delivery_retry_budget_s",
                                0, 86400 * 30));
      }
      if (d["max_age_s"]) {
        ASSIGN_OR_RETURN(s->dlq_max_age_s,
                         Number(d["max_age_s"], "server.dlq.max_age_s", 1, 86400 * 365));
      }
      if (d["retry_base_ms"]) {
        ASSIGN_OR_RETURN(double v,
                         Number(d["retry_base_ms"], "server.dlq.retry_base_ms", 1, 3600000));
        s->dlq_retry_base_ms = static_cast<int64_t>(v);
      }
      if (d["retry_max_ms"]) {
        ASSIGN_OR_RETURN(double v,
                         Number(d["retry_max_ms"], "server.dlq.retry_max_ms", 1, 86400000));
        s->dlq_retry_max_ms = static_cast<int64_t>(v);
      }
      if (d["drain_concurrency"]) {
        ASSIGN_OR_RETURN(s->dlq_drain_concurrency,
                         Integer(d["drain_concurrency"], "server.dlq.drain_concurrency", 1, 64));
      }
    }
    if (const YAML::Node b = node["destination_breaker"]) {
      RETURN_IF_ERROR(
          CheckMap(b, "server.destination_breaker",
                   {"failure_threshold", "min_down_s", "probe_base_ms", "probe_max_s"}));
      DestinationBreakerConfig& c = s->destination_breaker;
      // The ranges of DestinationBreakerOptions::Validate (core/delivery/destination_breaker.cc).
      if (b["failure_threshold"]) {
        ASSIGN_OR_RETURN(c.failure_threshold,
                         Integer(b["failure_threshold"],
                                 "server.destination_breaker.failure_threshold", 1, 1000));
      }
      if (b["min_down_s"]) {
        ASSIGN_OR_RETURN(c.min_down_s,
                         Number(b["min_down_s"], "server.destination_breaker.min_down_s", 0, 3600));
      }
      if (b["probe_base_ms"]) {
        ASSIGN_OR_RETURN(
            c.probe_base_ms,
            Integer(b["probe_base_ms"], "server.destination_breaker.probe_base_ms", 1, 3600000));
      }
      if (b["probe_max_s"]) {
        ASSIGN_OR_RETURN(
            c.probe_max_s,
            Number(b["probe_max_s"], "server.destination_breaker.probe_max_s", 0.001, 3600));
      }
    }
    if (node["buffer_budget_mb"]) {
      ASSIGN_OR_RETURN(s->buffer_budget_mb,
                       Number(node["buffer_budget_mb"], "server.buffer_budget_mb", 1, 1 << 20));
    }
    if (node["max_active_partitions"]) {
      ASSIGN_OR_RETURN(
          double v, Number(node["max_active_partitions"], "server.max_active_partitions", 1, 1e6));
      s->max_active_partitions = static_cast<int64_t>(v);
    }
    if (node["upload_threads"]) {
      ASSIGN_OR_RETURN(double v, Number(node["upload_threads"], "server.upload_threads", 1, 256));
      s->upload_threads = static_cast<int>(v);
    }
    if (node["grpc_listen"]) {
      ASSIGN_OR_RETURN(s->grpc_listen, String(node["grpc_listen"], "server.grpc_listen"));
    }
    if (node["metrics_listen"]) {
      ASSIGN_OR_RETURN(s->metrics_listen, String(node["metrics_listen"], "server.metrics_listen"));
    }
    if (node["data_dir"]) {
      ASSIGN_OR_RETURN(s->data_dir, String(node["data_dir"], "server.data_dir"));
      if (s->data_dir.empty())
        return Error("server.data_dir", "must not be empty (the WAL and DLQ live there)");
    }
    if (node["writer_id"]) {
      ASSIGN_OR_RETURN(s->writer_id, String(node["writer_id"], "server.writer_id"));
      static const std::regex kId("[A-Za-z0-9_.-]{1,64}");
      if (!std::regex_match(s->writer_id, kId))
        return Error("server.writer_id", "must be 1-64 characters from A-Z a-z 0-9 _ . -");
    }
    if (node["shutdown_grace_s"]) {
      ASSIGN_OR_RETURN(s->shutdown_grace_s,
                       Number(node["shutdown_grace_s"], "server.shutdown_grace_s", 0, 3600));
    }
    if (const YAML::Node l = node["limits"]) {
      RETURN_IF_ERROR(CheckMap(l, "server.limits",
                               {"max_message_bytes", "max_records_per_request", "max_record_bytes",
                                "max_record_id_bytes", "max_concurrent_streams", "memory_quota_mb",
                                "max_connections", "max_connection_idle_s", "listener_probe_ms"}));
      auto get = [&](const char* key, int64_t* field, double lo, double hi) -> absl::Status {
        if (!l[key]) return absl::OkStatus();
        ASSIGN_OR_RETURN(double v, Number(l[key], StrCat("server.limits.", key), lo, hi));
        *field = static_cast<int64_t>(v);
        return absl::OkStatus();
      };
      RETURN_IF_ERROR(get("max_message_bytes", &s->limits.max_message_bytes, 1024, 1 << 30));
      RETURN_IF_ERROR(get("max_records_per_request", &s->limits.max_records_per_request, 1, 1e6));
      RETURN_IF_ERROR(get("max_record_bytes", &s->limits.max_record_bytes, 1, 64 << 20));
      RETURN_IF_ERROR(get("max_record_id_bytes", &s->limits.max_record_id_bytes, 1, 4096));
      RETURN_IF_ERROR(get("max_concurrent_streams", &s->limits.max_concurrent_streams, 1, 1e6));
      RETURN_IF_ERROR(get("memory_quota_mb", &s->limits.memory_quota_mb, 16, 1 << 20));
      RETURN_IF_ERROR(get("max_connections", &s->limits.max_connections, 0, 1e6));
      RETURN_IF_ERROR(get("max_connection_idle_s", &s->limits.max_connection_idle_s, 1, 86400));
      RETURN_IF_ERROR(get("listener_probe_ms", &s->limits.listener_probe_ms, 0, 3600000));
    }
    return absl::OkStatus();
  }

  absl::Status ParsePartitionKey(const std::string& name, const YAML::Node& node,
                                 const std::string& path, InputKind input, PartitionKeySpec* k) {
    static const std::regex kName("[A-Za-z_][A-Za-z0-9_-]{0,63}");
    if (!std::regex_match(name, kName))
      return Error(path, "partition key names must match [A-Za-z_][A-Za-z0-9_-]*");
    RETURN_IF_ERROR(CheckMap(node, path,
                             {"attribute", "timestamp", "unit", "format", "timezone", "default",
                              "fallback", "fallback_on_invalid"}));
    k->name = name;
    const bool has_attr = static_cast<bool>(node["attribute"]);
    const bool has_ts = static_cast<bool>(node["timestamp"]);
    if (has_attr == has_ts) return Error(path, "needs exactly one of `attribute` or `timestamp`");
    k->is_timestamp = has_ts;
    const std::string src_key = has_ts ? "timestamp" : "attribute";
    ASSIGN_OR_RETURN(k->attribute, String(node[src_key], Join(path, src_key)));
    if (k->attribute.empty()) return Error(Join(path, src_key), "must not be empty");
    k->attribute_path = absl::StrSplit(k->attribute, '.');
    for (const auto& seg : k->attribute_path)
      if (seg.empty()) return Error(Join(path, src_key), "has an empty path segment");
    // The lookup walks the configured segments, one map per segment, so this bound (not
    // the record) limits it; a deeper path could never match an item DynamoDB accepts.
    constexpr size_t kMaxSegments = kMaxNestingDepth + 1;
    if (k->attribute_path.size() > kMaxSegments)
      return Error(Join(path, src_key),
                   StrCat("has ", k->attribute_path.size(), " segments; at most ", kMaxSegments,
                          " (a top-level attribute and ", kMaxNestingDepth,
                          " levels of nested maps, as DynamoDB allows)"));
    if (node["default"]) {
      ASSIGN_OR_RETURN(k->default_value, String(node["default"], Join(path, "default")));
    }
    if (!has_ts) {
      for (const char* key : {"unit", "format", "timezone", "fallback", "fallback_on_invalid"})
        if (node[key]) return Error(Join(path, key), "applies only to `timestamp` partition keys");
      return absl::OkStatus();
    }
    if (node["unit"]) {
      ASSIGN_OR_RETURN(std::string unit,
                       OneOf(node["unit"], Join(path, "unit"), {"s", "ms", "us"}));
      k->unit = unit == "s"    ? TimestampUnit::kSeconds
                : unit == "us" ? TimestampUnit::kMicros
                               : TimestampUnit::kMillis;
    }
    absl::TimeZone tz = absl::UTCTimeZone();
    if (node["timezone"]) {
      ASSIGN_OR_RETURN(k->timezone, String(node["timezone"], Join(path, "timezone")));
      if (k->timezone != "UTC") {
        auto loaded = load_tz_(k->timezone);
        if (!loaded.ok()) return Error(Join(path, "timezone"), StatusMessage(loaded.status()));
        tz = *loaded;
      }
    }
    if (!node["format"])
      return Error(Join(path, "format"),
                   "is required for `timestamp` partition keys (e.g. \"%Y\")");
    ASSIGN_OR_RETURN(std::string format, String(node["format"], Join(path, "format")));
    auto f = TimeFormat::FromStrftime(format, tz);
    if (!f.ok()) return Error(Join(path, "format"), StatusMessage(f.status()));
    k->format = *std::move(f);
    if (node["fallback"]) {
      ASSIGN_OR_RETURN(std::string fb, OneOf(node["fallback"], Join(path, "fallback"),
                                             {"none", "approximate_creation_time",
                                              "ApproximateCreationDateTime", "arrival_time"}));
      k->fallback = fb == "none"           ? TimestampFallback::kNone
                    : fb == "arrival_time" ? TimestampFallback::kArrivalTime
                                           : TimestampFallback::kApproximateCreationTime;
      if (k->fallback == TimestampFallback::kApproximateCreationTime && input == InputKind::kJson)
        return Error(Join(path, "fallback"),
                     "approximate_creation_time needs input: dynamodb-stream");
    }
    if (node["fallback_on_invalid"]) {
      const std::string key_path = Join(path, "fallback_on_invalid");
      ASSIGN_OR_RETURN(k->fallback_on_invalid, Bool(node["fallback_on_invalid"], key_path));
      if (k->fallback_on_invalid && k->fallback == TimestampFallback::kNone && !k->default_value)
        return Error(key_path,
                     "needs a `fallback` (other than none) or a `default` for invalid values to "
                     "take");
    }
    return absl::OkStatus();
  }

  // Refuses a pipeline whose prefixes can render keys its destination refuses, judged
  // without a record: `prefix` at its shortest (one-byte partition values, a four-digit
  // year), since longer values are refused per record (KEY_TOO_LONG); `error_prefix` at
  // its longest (a year of 10 characters), since failed records cannot be refused again.
  absl::Status CheckKeyLengths(const std::string& path, const PipelineSpec& p) {
    const ObjectKeyLimits& limits = p.key_limits;
    const std::string random(kFirehoseRandomStringBytes, 'x');
    const std::vector<std::string> one_byte(p.key_names.size(), "x");
    PrefixValues shortest;
    shortest.partition_values = &one_byte;
    shortest.timestamp_ms = 0;  // 1970: every field at its narrowest
    shortest.random_string = random;
    std::string rendered;
    p.prefix.Render(shortest, &rendered);
    if (auto o = FindKeyOverflow(rendered, limits))
      return Error(Join(path, "prefix"),
                   StrCat("too long for the destination even with one-byte partition values: ",
                          DescribeKeyOverflow(rendered, *o, limits)));
    PrefixValues longest;
    longest.timestamp_ms = std::numeric_limits<int64_t>::min();  // year -292275055
    longest.error_output_type = "processing-failed";
    longest.random_string = random;
    rendered.clear();
    p.error_prefix.Render(longest, &rendered);
    if (auto o = FindKeyOverflow(rendered, limits))
      return Error(Join(path, "error_prefix"),
                   StrCat("too long for the destination at its longest rendering: ",
                          DescribeKeyOverflow(rendered, *o, limits)));
    if (p.destination.kind == DestinationKind::kFile &&
        p.destination.path.size() > kMaxFileLakeRootBytes)
      return Error(Join(path, "destination.path"),
                   StrCat("is ", p.destination.path.size(), " bytes; at most ",
                          kMaxFileLakeRootBytes, " (so that the root, a ", kMaxS3KeyBytes,
                          "-byte key and the temporary file name stay under PATH_MAX)"));
    return absl::OkStatus();
  }

  absl::Status ParseParquet(const YAML::Node& node, const std::string& path, ParquetOptions* o) {
    RETURN_IF_ERROR(CheckMap(
        node, path,
        {"row_group_rows", "row_group_mb", "page_kb", "wide_numbers", "nested", "schema"}));
    if (node["row_group_rows"]) {
      ASSIGN_OR_RETURN(double v,
                       Number(node["row_group_rows"], Join(path, "row_group_rows"), 1, 1e9));
      o->row_group_rows = static_cast<int64_t>(v);
    }
    if (node["row_group_mb"]) {
      ASSIGN_OR_RETURN(double v,
                       Number(node["row_group_mb"], Join(path, "row_group_mb"), 0.001, 4096));
      o->row_group_bytes = static_cast<int64_t>(v * (1 << 20));
    }
    if (node["page_kb"]) {
      ASSIGN_OR_RETURN(double v, Number(node["page_kb"], Join(path, "page_kb"), 1, 1 << 20));
      o->page_bytes = static_cast<int64_t>(v * 1024);
    }
    if (node["wide_numbers"]) {
      ASSIGN_OR_RETURN(std::string w, OneOf(node["wide_numbers"], Join(path, "wide_numbers"),
                                            {"double", "string"}));
      o->wide_numbers = w == "string" ? WideNumbers::kString : WideNumbers::kDouble;
    }
    if (node["nested"]) {
      ASSIGN_OR_RETURN(std::string n,
                       OneOf(node["nested"], Join(path, "nested"), {"json", "native"}));
      o->nested = n == "native" ? NestedEncoding::kNative : NestedEncoding::kJson;
    }
    if (const YAML::Node schema = node["schema"]) {
      if (!schema.IsSequence() || schema.size() == 0)
        return Error(Join(path, "schema"), "must be a non-empty list");
      std::set<std::string> seen;
      for (size_t i = 0; i < schema.size(); ++i) {
        const std::string cpath = StrCat(path, ".schema[", i, "]");
        RETURN_IF_ERROR(CheckMap(schema[i], cpath, {"name", "type", "required"}));
        ParquetColumn c;
        if (!schema[i]["name"]) return Error(Join(cpath, "name"), "is required");
        ASSIGN_OR_RETURN(c.name, String(schema[i]["name"], Join(cpath, "name")));
        if (c.name.empty()) return Error(Join(cpath, "name"), "must not be empty");
        if (!seen.insert(c.name).second)
          return Error(Join(cpath, "name"), StrCat("\"", c.name, "\" is declared twice"));
        if (!schema[i]["type"]) return Error(Join(cpath, "type"), "is required");
        ASSIGN_OR_RETURN(std::string t, String(schema[i]["type"], Join(cpath, "type")));
        auto parsed = ParseParquetTypeName(t);
        if (!parsed.ok()) return Error(Join(cpath, "type"), StatusMessage(parsed.status()));
        c.type = parsed->first;
        c.scale = parsed->second;
        if (schema[i]["required"]) {
          ASSIGN_OR_RETURN(c.required, Bool(schema[i]["required"], Join(cpath, "required")));
        }
        o->schema.push_back(std::move(c));
      }
    }
    return absl::OkStatus();
  }

  // destination.iceberg.catalog of kind rest. Secrets are files (never in the config).
  absl::Status ParseRestCatalog(const YAML::Node& c, const std::string& path, RestCatalogSpec* r) {
    auto str = [&](const YAML::Node& n, const std::string& p, std::string* field) -> absl::Status {
      if (!n) return absl::OkStatus();
      ASSIGN_OR_RETURN(*field, String(n, p));
      return absl::OkStatus();
    };
    const bool s3tables = r->api == RestCatalogSpec::Api::kS3Tables;
    if (!c["uri"] && !s3tables)
      return Error(Join(path, "uri"),
                   "is required for kind: rest (e.g. https://s3tables.us-east-1.amazonaws.com/"
                   "iceberg)");
    RETURN_IF_ERROR(str(c["uri"], Join(path, "uri"), &r->uri));
    static const std::regex kUri("https?://[^/?#\\s]+(/[^?#\\s]*)?");
    if (c["uri"] && !std::regex_match(r->uri, kUri))
      return Error(Join(path, "uri"),
                   StrCat("\"", r->uri, "\" is not an http(s) URI without query or fragment"));
    while (r->uri.size() > 8 && r->uri.back() == '/') r->uri.pop_back();
    RETURN_IF_ERROR(str(c["warehouse"], Join(path, "warehouse"), &r->warehouse));
    if (s3tables) {
      // The API's own pattern (core/catalog/s3tables_protocol.h IsTableBucketArn).
      static const std::regex kArn(
          "arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:bucket/[a-z0-9_-]{3,63}");
      if (!std::regex_match(r->warehouse, kArn))
        return Error(Join(path, "warehouse"),
                     StrCat("\"", r->warehouse,
                            "\" is not a table bucket ARN "
                            "(arn:aws:s3tables:<region>:<account>:bucket/<name>); kind s3tables "
                            "needs one"));
      // S3 Tables' API is signed with SigV4, signing name s3tables (auth.sigv4.region may
      // still name the region).
      r->auth = RestCatalogSpec::Auth::kSigV4;
      r->sigv4_service = "s3tables";
    }
    if (c["request_timeout_s"]) {
      ASSIGN_OR_RETURN(r->request_timeout_s,
                       Number(c["request_timeout_s"], Join(path, "request_timeout_s"), 1, 600));
    }
    if (const YAML::Node create = c["create"]) {
      RETURN_IF_ERROR(CheckMap(create, Join(path, "create"), {"namespace", "table"}));
      if (create["namespace"]) {
        ASSIGN_OR_RETURN(r->create_namespace,
                         Bool(create["namespace"], Join(path, "create.namespace")));
      }
      if (create["table"]) {
        ASSIGN_OR_RETURN(r->create_table, Bool(create["table"], Join(path, "create.table")));
      }
    }
    const YAML::Node auth = c["auth"];
    if (!auth) return absl::OkStatus();
    const std::string apath = Join(path, "auth");
    if (s3tables) {
      RETURN_IF_ERROR(CheckMap(auth, apath, {"sigv4"}));
      if (auth["oauth2"] || auth["token_file"] || !auth["sigv4"])
        return Error(apath, "kind s3tables signs with SigV4 only (auth: { sigv4: { region } })");
      const YAML::Node s = auth["sigv4"];
      RETURN_IF_ERROR(CheckMap(s, Join(apath, "sigv4"), {"service", "region"}));
      RETURN_IF_ERROR(str(s["region"], Join(apath, "sigv4.region"), &r->sigv4_region));
      std::string service = "s3tables";
      RETURN_IF_ERROR(str(s["service"], Join(apath, "sigv4.service"), &service));
      if (service != "s3tables")
        return Error(Join(apath, "sigv4.service"), "must be s3tables for kind s3tables");
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(CheckMap(auth, apath, {"sigv4", "oauth2", "token_file"}));
    int modes = 0;
    if (const YAML::Node s = auth["sigv4"]) {
      ++modes;
      r->auth = RestCatalogSpec::Auth::kSigV4;
      RETURN_IF_ERROR(CheckMap(s, Join(apath, "sigv4"), {"service", "region"}));
      if (!s["service"])
        return Error(Join(apath, "sigv4.service"),
                     "is required: the signing name (s3tables for S3 Tables, glue for Glue)");
      RETURN_IF_ERROR(str(s["service"], Join(apath, "sigv4.service"), &r->sigv4_service));
      RETURN_IF_ERROR(str(s["region"], Join(apath, "sigv4.region"), &r->sigv4_region));
      static const std::regex kName("[a-z0-9-]{1,64}");
      if (!std::regex_match(r->sigv4_service, kName))
        return Error(Join(apath, "sigv4.service"),
                     StrCat("\"", r->sigv4_service, "\" is not a signing name ([a-z0-9-])"));
    }
    if (const YAML::Node o = auth["oauth2"]) {
      ++modes;
      r->auth = RestCatalogSpec::Auth::kOAuth2;
      const std::string opath = Join(apath, "oauth2");
      RETURN_IF_ERROR(
          CheckMap(o, opath, {"token_uri", "client_id", "client_secret_file", "scope"}));
      for (const char* key : {"client_id", "client_secret_file"})
        if (!o[key]) return Error(Join(opath, key), "is required");
      RETURN_IF_ERROR(str(o["token_uri"], Join(opath, "token_uri"), &r->oauth2_token_uri));
      RETURN_IF_ERROR(str(o["client_id"], Join(opath, "client_id"), &r->oauth2_client_id));
      RETURN_IF_ERROR(str(o["client_secret_file"], Join(opath, "client_secret_file"),
                          &r->oauth2_client_secret_file));
      RETURN_IF_ERROR(str(o["scope"], Join(opath, "scope"), &r->oauth2_scope));
      if (r->oauth2_token_uri.empty()) r->oauth2_token_uri = StrCat(r->uri, "/v1/oauth/tokens");
      static const std::regex kHttp("https?://[^\\s]+");
      if (!std::regex_match(r->oauth2_token_uri, kHttp))
        return Error(Join(opath, "token_uri"), "must be an http(s) URI");
    }
    if (auth["token_file"]) {
      ++modes;
      r->auth = RestCatalogSpec::Auth::kTokenFile;
      RETURN_IF_ERROR(str(auth["token_file"], Join(apath, "token_file"), &r->token_file));
    }
    if (modes != 1)
      return Error(apath, "give one of sigv4, oauth2 or token_file (or leave auth out: none)");
    return absl::OkStatus();
  }

  absl::Status ParseIceberg(const YAML::Node& node, const std::string& path, IcebergSpec* t) {
    RETURN_IF_ERROR(CheckMap(node, path,
                             {"table", "catalog", "commit_interval_s", "max_commit_records",
                              "partition_spec", "schema", "identifier", "mode"}));
    if (node["mode"]) {
      ASSIGN_OR_RETURN(std::string mode,
                       OneOf(node["mode"], Join(path, "mode"), {"changelog", "current"}));
      t->mode = mode == "current" ? IcebergSpec::Mode::kCurrent : IcebergSpec::Mode::kChangelog;
    }
    if (!node["table"]) return Error(Join(path, "table"), "is required (<namespace>.<name>)");
    ASSIGN_OR_RETURN(std::string table, String(node["table"], Join(path, "table")));
    // One namespace level; names as S3 Tables and Glue accept them (and as path segments).
    static const std::regex kTable("([a-z0-9_]{1,255})\\.([a-z0-9_]{1,255})");
    std::smatch m;
    if (!std::regex_match(table, m, kTable))
      return Error(
          Join(path, "table"),
          StrCat("\"", table,
                 "\" must be <namespace>.<name>, each of lowercase letters, digits and _"));
    t->table_namespace = m[1];
    t->table_name = m[2];
    if (const YAML::Node c = node["catalog"]) {
      const std::string cpath = Join(path, "catalog");
      RETURN_IF_ERROR(
          CheckMap(c, cpath, {"kind", "uri", "warehouse", "auth", "create", "request_timeout_s"}));
      if (c["kind"]) {
        ASSIGN_OR_RETURN(t->catalog,
                         OneOf(c["kind"], Join(cpath, "kind"), {"filesystem", "rest", "s3tables"}));
      }
      if (t->catalog != "filesystem") {
        RestCatalogSpec& r = t->rest.emplace();
        if (t->catalog == "s3tables") r.api = RestCatalogSpec::Api::kS3Tables;
        RETURN_IF_ERROR(ParseRestCatalog(c, cpath, &r));
      } else {
        for (const char* key : {"uri", "warehouse", "auth", "create", "request_timeout_s"})
          if (c[key]) return Error(Join(cpath, key), "applies to kind: rest or s3tables only");
      }
    }
    if (node["commit_interval_s"]) {
      ASSIGN_OR_RETURN(t->commit_interval_s, Number(node["commit_interval_s"],
                                                    Join(path, "commit_interval_s"), 1, 86400));
    }
    if (node["max_commit_records"]) {
      ASSIGN_OR_RETURN(
          double n, Number(node["max_commit_records"], Join(path, "max_commit_records"), 1, 1e9));
      t->max_commit_records = static_cast<int64_t>(n);
    }
    if (const YAML::Node spec = node["partition_spec"]) {
      if (!spec.IsSequence())
        return Error(Join(path, "partition_spec"), "must be a list of { source, transform }");
      static const std::regex kTransform(
          "identity|year|month|day|hour|void|bucket\\[[1-9][0-9]{0,8}\\]|truncate\\[[1-9][0-9]{0,8}"
          "\\]");
      for (size_t i = 0; i < spec.size(); ++i) {
        const std::string fpath = StrCat(path, ".partition_spec[", i, "]");
        RETURN_IF_ERROR(CheckMap(spec[i], fpath, {"source", "transform"}));
        IcebergPartitionFieldSpec f;
        if (!spec[i]["source"]) return Error(Join(fpath, "source"), "is required");
        ASSIGN_OR_RETURN(f.source, String(spec[i]["source"], Join(fpath, "source")));
        if (f.source.empty()) return Error(Join(fpath, "source"), "must not be empty");
        f.transform = "identity";
        if (spec[i]["transform"]) {
          ASSIGN_OR_RETURN(f.transform, String(spec[i]["transform"], Join(fpath, "transform")));
          if (!std::regex_match(f.transform, kTransform))
            return Error(Join(fpath, "transform"),
                         StrCat("\"", f.transform,
                                "\" is not one of identity, bucket[N], truncate[W], year, month, "
                                "day, hour, void"));
        }
        for (const IcebergPartitionFieldSpec& earlier : t->partition_spec)
          if (earlier.source == f.source && earlier.transform == f.transform)
            return Error(fpath, StrCat(f.transform, "(", f.source, ") is declared twice"));
        t->partition_spec.push_back(std::move(f));
      }
    }
    if (node["schema"]) {
      ParquetOptions declared;
      YAML::Node wrapper;
      wrapper["schema"] = node["schema"];
      RETURN_IF_ERROR(ParseParquet(wrapper, path, &declared));
      t->schema = std::move(declared.schema);
    }
    if (node["identifier"]) {
      ASSIGN_OR_RETURN(t->identifier, StringList(node["identifier"], Join(path, "identifier")));
      for (size_t i = 0; i < t->identifier.size(); ++i) {
        bool found = false;
        for (const ParquetColumn& c : t->schema)
          if (c.name == t->identifier[i]) {
            found = true;
            // Iceberg: identifier fields are required and of a primitive type.
            if (!c.required)
              return Error(StrCat(path, ".identifier[", i, "]"),
                           StrCat("column \"", c.name, "\" must be declared required: true"));
          }
        if (!found)
          return Error(StrCat(path, ".identifier[", i, "]"),
                       StrCat("\"", t->identifier[i], "\" is not a column of iceberg.schema"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseDestination(const YAML::Node& node, const std::string& path,
                                DestinationSpec* d) {
    RETURN_IF_ERROR(
        CheckMap(node, path,
                 {"kind", "path", "bucket", "region", "endpoint", "force_path_style", "sse",
                  "storage_class", "format", "compression", "compression_level", "buffering",
                  "part_size_mb", "retry", "request_timeout_s", "parquet", "iceberg"}));
    if (node["kind"]) {
      ASSIGN_OR_RETURN(std::string kind, OneOf(node["kind"], Join(path, "kind"), {"file", "s3"}));
      d->kind = kind == "s3" ? DestinationKind::kS3 : DestinationKind::kFile;
    }
    auto str = [&](const char* key, std::string* field) -> absl::Status {
      if (!node[key]) return absl::OkStatus();
      ASSIGN_OR_RETURN(*field, String(node[key], Join(path, key)));
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(str("path", &d->path));
    RETURN_IF_ERROR(str("bucket", &d->bucket));
    RETURN_IF_ERROR(str("region", &d->region));
    RETURN_IF_ERROR(str("endpoint", &d->endpoint));
    RETURN_IF_ERROR(str("storage_class", &d->storage_class));
    if (node["force_path_style"]) {
      ASSIGN_OR_RETURN(d->force_path_style,
                       Bool(node["force_path_style"], Join(path, "force_path_style")));
    }
    if (const YAML::Node sse = node["sse"]) {
      RETURN_IF_ERROR(CheckMap(sse, Join(path, "sse"), {"kms_key_id"}));
      if (sse["kms_key_id"]) {
        ASSIGN_OR_RETURN(d->kms_key_id, String(sse["kms_key_id"], Join(path, "sse.kms_key_id")));
      }
    }
    // A REST catalog places its tables: their files go to the location it gives.
    bool rest_catalog = false;
    if (const YAML::Node ice = node["iceberg"]; ice && ice.IsMap())
      if (const YAML::Node cat = ice["catalog"]; cat && cat.IsMap())
        if (const YAML::Node kind = cat["kind"]; kind && kind.IsScalar())
          rest_catalog = kind.Scalar() == "rest" || kind.Scalar() == "s3tables";
    if (rest_catalog && !d->bucket.empty())
      return Error(Join(path, "bucket"),
                   "is not used with a REST catalog: the catalog places the table, and its files "
                   "go to the table's location (its bucket), with this destination's region, "
                   "endpoint and credentials");
    if (d->kind == DestinationKind::kS3 && d->bucket.empty() && !rest_catalog)
      return Error(Join(path, "bucket"), "is required when kind is s3");
    if (d->kind == DestinationKind::kFile && d->path.empty())
      return Error(Join(path, "path"), "must not be empty");
    if (node["format"]) {
      ASSIGN_OR_RETURN(
          d->format, OneOf(node["format"], Join(path, "format"), {"jsonl", "parquet", "iceberg"}));
    }
    // An Iceberg table's data files are Parquet: the same codecs and `parquet` options,
    // zstd by default.
    const bool iceberg = d->format == "iceberg";
    const bool parquet = d->format == "parquet" || iceberg;
    std::string codec = iceberg ? "zstd" : parquet ? "snappy" : "gzip";
    if (node["compression"]) {
      ASSIGN_OR_RETURN(codec, String(node["compression"], Join(path, "compression")));
      if (codec == "snappy" && !parquet)
        return Error(
            Join(path, "compression"),
            "snappy is only for format: parquet (JSON Lines objects use none, gzip or zstd)");
      if (parquet) {
        ASSIGN_OR_RETURN(codec, OneOf(node["compression"], Join(path, "compression"),
                                      {"snappy", "zstd", "gzip", "none"}));
      } else {
        ASSIGN_OR_RETURN(
            codec, OneOf(node["compression"], Join(path, "compression"), {"none", "gzip", "zstd"}));
      }
    }
    d->compression = codec == "none"   ? Compression::kNone
                     : codec == "zstd" ? Compression::kZstd
                                       : Compression::kGzip;
    if (node["compression_level"]) {
      if (codec == "snappy" || codec == "none")
        return Error(Join(path, "compression_level"),
                     StrCat("does not apply to compression: ", codec));
      const double hi = codec == "zstd" ? 19 : 9;
      ASSIGN_OR_RETURN(double level,
                       Number(node["compression_level"], Join(path, "compression_level"), 1, hi));
      d->compression_level = static_cast<int>(level);
    }
    if (parquet) {
      d->parquet.codec = codec == "snappy" ? ParquetCodec::kSnappy
                         : codec == "zstd" ? ParquetCodec::kZstd
                         : codec == "gzip" ? ParquetCodec::kGzip
                                           : ParquetCodec::kNone;
      d->parquet.compression_level = d->compression_level;
      d->compression = Compression::kNone;  // pages are compressed inside the file
      if (node["parquet"])
        RETURN_IF_ERROR(ParseParquet(node["parquet"], Join(path, "parquet"), &d->parquet));
    } else if (node["parquet"]) {
      return Error(Join(path, "parquet"), "applies only to format: parquet");
    }
    if (iceberg) {
      if (!d->parquet.schema.empty())
        return Error(Join(path, "parquet.schema"),
                     "does not apply to format: iceberg (declare columns in iceberg.schema)");
      if (!node["iceberg"])
        return Error(Join(path, "iceberg"),
                     "is required for format: iceberg (at least `table: <namespace>.<name>`)");
      d->iceberg.emplace();
      RETURN_IF_ERROR(ParseIceberg(node["iceberg"], Join(path, "iceberg"), &*d->iceberg));
    } else if (node["iceberg"]) {
      return Error(Join(path, "iceberg"), "applies only to format: iceberg");
    }
    if (node["part_size_mb"]) {
      ASSIGN_OR_RETURN(d->part_size_mb,
                       Number(node["part_size_mb"], Join(path, "part_size_mb"), 5, 5120));
    }
    if (node["request_timeout_s"]) {
      ASSIGN_OR_RETURN(d->request_timeout_s,
                       Number(node["request_timeout_s"], Join(path, "request_timeout_s"), 1, 3600));
    }
    if (const YAML::Node r = node["retry"]) {
      RETURN_IF_ERROR(
          CheckMap(r, Join(path, "retry"), {"max_attempts", "base_delay_ms", "max_delay_ms"}));
      if (r["max_attempts"]) {
        ASSIGN_OR_RETURN(double v,
                         Number(r["max_attempts"], Join(path, "retry.max_attempts"), 1, 100));
        d->max_attempts = static_cast<int>(v);
      }
      if (r["base_delay_ms"]) {
        ASSIGN_OR_RETURN(double v,
                         Number(r["base_delay_ms"], Join(path, "retry.base_delay_ms"), 1, 60000));
        d->retry_base_delay_ms = static_cast<int64_t>(v);
      }
      if (r["max_delay_ms"]) {
        ASSIGN_OR_RETURN(double v,
                         Number(r["max_delay_ms"], Join(path, "retry.max_delay_ms"), 1, 600000));
        d->retry_max_delay_ms = static_cast<int64_t>(v);
      }
    }
    if (const YAML::Node b = node["buffering"]) {
      RETURN_IF_ERROR(CheckMap(b, Join(path, "buffering"), {"size_mb", "interval_s"}));
      if (b["size_mb"]) {
        ASSIGN_OR_RETURN(d->buffer_size_mb,
                         Number(b["size_mb"], Join(path, "buffering.size_mb"), 0.001, 4096));
      }
      if (b["interval_s"]) {
        ASSIGN_OR_RETURN(d->buffer_interval_s,
                         Number(b["interval_s"], Join(path, "buffering.interval_s"), 0, 86400));
      }
    }
    return absl::OkStatus();
  }

  // format: iceberg. Records are buffered per partition-key values under the table's data
  // directory (<ns>/<name>/data/<key>=<value>/...: a grouping, as Firehose's dynamic
  // partitioning buffers; data files are placed by the partition spec when encoded, so a
  // seal of a derived spec's table is as a rule one data file); documents get the
  // change-log columns; a partition spec not declared is derived from partition_keys:
  // an `attribute` key becomes identity(attribute), the `timestamp` keys (all of one
  // attribute, unit and fallback) one hour/day/month/year of _event_time, the finest
  // their formats show (a format with minutes or seconds: hour, Iceberg's finest).
  absl::Status SetUpIcebergPipeline(const YAML::Node& node, const std::string& path,
                                    PipelineSpec* p) {
    IcebergSpec& t = *p->destination.iceberg;
    if (node["prefix"])
      return Error(Join(path, "prefix"),
                   "does not apply to format: iceberg (data files are placed by the table's "
                   "partition spec under <namespace>/<name>/data/)");
    // (A REST catalog's table: keys relative to the table's location.)
    std::string grouping = t.rest ? "data/" : StrCat(t.RelativeLocation(), "/data/");
    std::vector<std::string> key_names;
    for (const PartitionKeySpec& k : p->partition_keys) {
      key_names.push_back(k.name);
      StrAppend(&grouping, k.name, "=!{partitionKeyFromLambda:", k.name, "}/");
    }
    auto data_prefix = PrefixTemplate::Compile(grouping, key_names);
    if (!data_prefix.ok())
      return Error(Join(path, "destination.iceberg.table"), StatusMessage(data_prefix.status()));
    p->prefix = *std::move(data_prefix);
    p->iceberg_columns = true;
    // Partition keys only choose the partition spec and the event time here (the Hive
    // values they render are not used): a missing attribute is a null partition value in
    // the table, not a failed record, and a timestamp without a value leaves the event
    // time to the stream's creation time (or the arrival time).
    for (PartitionKeySpec& k : p->partition_keys)
      if (!k.default_value) k.default_value = "";
    if (p->input == InputKind::kDynamoDbStream &&
        std::find(p->metadata.begin(), p->metadata.end(), "SequenceNumber") == p->metadata.end())
      p->metadata.push_back("SequenceNumber");
    if (t.mode == IcebergSpec::Mode::kCurrent) {
      // Current-state tables order each key's changes by the stream's SequenceNumber and
      // ApproximateCreationDateTime, which plain JSON documents do not have.
      if (p->input != InputKind::kDynamoDbStream)
        return Error(Join(path, "destination.iceberg.mode"),
                     "current needs input: dynamodb-stream (changes are applied per key in "
                     "stream order)");
      if (t.identifier.empty())
        return Error(Join(path, "destination.iceberg.identifier"),
                     "is required for mode: current: the DynamoDB table's key attributes "
                     "(declared in iceberg.schema, required: true)");
      if (p->image == ImageChoice::kOld)
        return Error(Join(path, "image"),
                     "old does not apply to mode: current (a row holds the item as it is now: "
                     "new or new-or-old)");
      for (const std::string& k : t.identifier)
        if (!p->fields.empty() && !p->field_set.contains(k))
          return Error(Join(path, "fields"), StrCat("must include the key attribute \"", k,
                                                    "\" of a mode: current table"));
      if (std::find(p->metadata.begin(), p->metadata.end(), "ApproximateCreationDateTime") ==
          p->metadata.end())
        p->metadata.push_back("ApproximateCreationDateTime");
    }
    // The event time is what the timestamp keys resolve to: one attribute, one fallback.
    t.partition_spec_derived = t.partition_spec.empty();
    const PartitionKeySpec* time_key = nullptr;
    int finest = 0;  // 1 year, 2 month, 3 day, 4 hour
    for (const PartitionKeySpec& k : p->partition_keys) {
      const std::string kpath = StrCat(path, ".partition_keys.", k.name);
      if (!k.is_timestamp) {
        if (k.attribute_path.size() > 1 && t.partition_spec_derived)
          return Error(kpath, StrCat("a nested attribute (", k.attribute,
                                     ") cannot partition an Iceberg table; declare "
                                     "destination.iceberg.partition_spec"));
        bool seen = false;
        for (const IcebergPartitionFieldSpec& f : t.partition_spec) seen |= f.source == k.attribute;
        if (!seen && t.partition_spec_derived)
          t.partition_spec.push_back({k.attribute, "identity"});
        continue;
      }
      if (time_key && (time_key->attribute != k.attribute || time_key->unit != k.unit ||
                       time_key->fallback != k.fallback))
        return Error(kpath, StrCat("timestamp keys of an Iceberg pipeline must read one attribute "
                                   "with one unit and fallback (",
                                   time_key->name, " reads ", time_key->attribute,
                                   "); declare "
                                   "destination.iceberg.partition_spec"));
      time_key = &k;
      const std::string& f = k.format->pattern();
      auto has = [&](std::initializer_list<const char*> codes) {
        for (const char* c : codes)
          if (f.find(c) != std::string::npos) return true;
        return false;
      };
      const int level = has({"%H", "%I", "%k", "%l", "%M", "%S", "%T", "%R", "%s"})   ? 4
                        : has({"%d", "%e", "%j", "%F", "%D", "%a", "%A", "%u", "%w"}) ? 3
                        : has({"%m", "%b", "%B", "%h"})                               ? 2
                                                                                      : 1;
      finest = std::max(finest, level);
    }
    if (time_key && t.partition_spec_derived) {
      static constexpr const char* kNames[] = {"", "year", "month", "day", "hour"};
      t.partition_spec.push_back({std::string(kIcebergEventTimeColumn), kNames[finest]});
    }
    return absl::OkStatus();
  }

  absl::Status ParsePipeline(const YAML::Node& node, const std::string& path, PipelineSpec* p) {
    RETURN_IF_ERROR(CheckMap(node, path,
                             {"name", "input", "filter", "image", "fields", "numbers", "metadata",
                              "partition_keys", "prefix", "error_prefix", "destination"}));
    if (!node["name"]) return Error(Join(path, "name"), "is required");
    ASSIGN_OR_RETURN(p->name, String(node["name"], Join(path, "name")));
    static const std::regex kName("[A-Za-z0-9_.-]{1,64}");
    if (!std::regex_match(p->name, kName))
      return Error(Join(path, "name"), "must be 1-64 characters from A-Z a-z 0-9 _ . -");
    if (node["input"]) {
      ASSIGN_OR_RETURN(std::string in,
                       OneOf(node["input"], Join(path, "input"), {"dynamodb-stream", "json"}));
      p->input = in == "json" ? InputKind::kJson : InputKind::kDynamoDbStream;
    }
    const bool stream = p->input == InputKind::kDynamoDbStream;
    if (const YAML::Node f = node["filter"]) {
      RETURN_IF_ERROR(CheckMap(f, Join(path, "filter"), {"event_names"}));
      if (f["event_names"]) {
        if (!stream)
          return Error(Join(path, "filter.event_names"), "applies only to input: dynamodb-stream");
        ASSIGN_OR_RETURN(auto names,
                         StringList(f["event_names"], Join(path, "filter.event_names")));
        if (names.empty()) return Error(Join(path, "filter.event_names"), "must not be empty");
        p->event_names = 0;
        for (size_t i = 0; i < names.size(); ++i) {
          if (names[i] == "INSERT")
            p->event_names |= kEventInsert;
          else if (names[i] == "MODIFY")
            p->event_names |= kEventModify;
          else if (names[i] == "REMOVE")
            p->event_names |= kEventRemove;
          else
            return Error(StrCat(path, ".filter.event_names[", i, "]"),
                         StrCat("must be one of INSERT, MODIFY, REMOVE (got \"", names[i], "\")"));
        }
      }
    }
    if (node["image"]) {
      if (!stream) return Error(Join(path, "image"), "applies only to input: dynamodb-stream");
      ASSIGN_OR_RETURN(std::string im,
                       OneOf(node["image"], Join(path, "image"), {"new", "old", "new-or-old"}));
      p->image = im == "old"          ? ImageChoice::kOld
                 : im == "new-or-old" ? ImageChoice::kNewOrOld
                                      : ImageChoice::kNew;
    }
    if (node["fields"]) {
      ASSIGN_OR_RETURN(p->fields, StringList(node["fields"], Join(path, "fields")));
      if (p->fields.empty())
        return Error(Join(path, "fields"), "must not be empty (omit it to keep all attributes)");
      p->field_set.insert(p->fields.begin(), p->fields.end());
    }
    if (node["numbers"]) {
      if (!stream)
        return Error(Join(path, "numbers"),
                     "applies only to input: dynamodb-stream (JSON numbers are copied exactly)");
      ASSIGN_OR_RETURN(std::string n,
                       OneOf(node["numbers"], Join(path, "numbers"), {"number", "string"}));
      p->numbers = n == "string" ? NumberMode::kString : NumberMode::kNumber;
    }
    if (node["metadata"]) {
      if (!stream) return Error(Join(path, "metadata"), "applies only to input: dynamodb-stream");
      ASSIGN_OR_RETURN(p->metadata, StringList(node["metadata"], Join(path, "metadata")));
      static const std::set<std::string> kKnown = {
          "eventID",        "eventName",     "eventSource",    "awsRegion",
          "eventSourceARN", "tableName",     "SequenceNumber", "ApproximateCreationDateTime",
          "SizeBytes",      "StreamViewType"};
      for (size_t i = 0; i < p->metadata.size(); ++i)
        if (!kKnown.count(p->metadata[i]))
          return Error(StrCat(path, ".metadata[", i, "]"),
                       StrCat("unknown stream metadata field \"", p->metadata[i],
                              "\" (known: ", StrJoin(kKnown, ", "), ")"));
    }
    if (const YAML::Node keys = node["partition_keys"]) {
      if (!keys.IsMap())
        return Error(Join(path, "partition_keys"), "must be a mapping of key name to definition");
      for (const auto& kv : keys) {
        const std::string name = kv.first.as<std::string>();
        PartitionKeySpec k;
        RETURN_IF_ERROR(ParsePartitionKey(name, kv.second, StrCat(path, ".partition_keys.", name),
                                          p->input, &k));
        p->key_names.push_back(k.name);
        p->partition_keys.push_back(std::move(k));
      }
    }
    std::string prefix;
    if (node["prefix"]) {
      ASSIGN_OR_RETURN(prefix, String(node["prefix"], Join(path, "prefix")));
    } else {
      // Default: Hive-style, one level per declared key; without keys, by arrival hour.
      prefix = "data/";
      for (const auto& k : p->key_names)
        StrAppend(&prefix, k, "=!{partitionKeyFromLambda:", k, "}/");
      if (p->key_names.empty()) prefix += "!{timestamp:yyyy/MM/dd/HH}/";
    }
    if (!prefix.empty() && prefix[0] == '/')
      return Error(Join(path, "prefix"), "must not start with '/'");
    auto compiled = PrefixTemplate::Compile(prefix, p->key_names);
    if (!compiled.ok()) return Error(Join(path, "prefix"), StatusMessage(compiled.status()));
    if (compiled->uses_error_output_type())
      return Error(Join(path, "prefix"),
                   "!{firehose:error-output-type} is only allowed in error_prefix");
    p->prefix = *std::move(compiled);
    std::string error_prefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/";
    if (node["error_prefix"]) {
      ASSIGN_OR_RETURN(error_prefix, String(node["error_prefix"], Join(path, "error_prefix")));
    }
    auto compiled_error = PrefixTemplate::Compile(error_prefix, {});
    if (!compiled_error.ok())
      return Error(Join(path, "error_prefix"),
                   StrCat(StatusMessage(compiled_error.status()),
                          " (error_prefix may use only !{timestamp:...} and !{firehose:...})"));
    p->error_prefix = *std::move(compiled_error);
    if (p->error_prefix.text() == p->prefix.text())
      return Error(Join(path, "error_prefix"),
                   "must differ from prefix, so failed records never mix with good ones");
    if (node["destination"])
      RETURN_IF_ERROR(
          ParseDestination(node["destination"], Join(path, "destination"), &p->destination));
    p->destination.parquet.key_value_metadata = {{"lakehose.pipeline", p->name}};
    if (p->destination.iceberg) RETURN_IF_ERROR(SetUpIcebergPipeline(node, path, p));
    p->key_limits = p->destination.kind == DestinationKind::kS3
                        ? ObjectKeyLimits::ForS3(p->name)
                        : ObjectKeyLimits::ForFileLake(p->name);
    return CheckKeyLengths(path, *p);
  }

 private:
  std::string filename_;
  const TimeZoneLoader& load_tz_;
  std::vector<std::string>* unknown_;
};

}  // namespace

// --- Start-up checks (README "Pipelines", "Start-up checks"): what would load and then
// fail later, found once the whole file is parsed so that defaults count as much as
// values written. Each error names the file, the key path and the reason. ---
namespace {

// What a prefix is rendered with to see what its keys look like. Partition values are
// path-safe (core/partition/path_safe.h), so no value can make or complete a `..`
// component; literal text and timestamp patterns can, and rendering shows them.
constexpr int64_t kSampleTimestampMs = 1704164645678;  // 2024-01-02T03:04:05.678Z
constexpr std::string_view kSamplePartitionValue = "sample";
constexpr std::string_view kSampleErrorOutputType = "processing-failed";  // as delivery writes
constexpr std::string_view kSampleRandomString = "abcdefghijk";

absl::Status CheckError(std::string_view filename, std::string_view path, std::string_view reason) {
  return absl::InvalidArgumentError(StrCat(filename, ": ", path, ": ", reason));
}

// A backoff whose base is above its cap: refused rather than silently capped.
absl::Status CheckBaseNotAboveMax(std::string_view filename, std::string_view base_path,
                                  int64_t base, std::string_view max_path, int64_t max) {
  if (base <= max) return absl::OkStatus();
  return CheckError(filename, base_path,
                    StrCat("must not exceed ", max_path, " (", base, " > ", max, ")"));
}

// The object keys of `prefix` are `<rendered prefix><object name>`. Delivery refuses a
// key that starts with '/' or has a `..` directory (service/delivery/file_sink.cc); so
// does this, on the prefix rendered with sample values.
absl::Status CheckRenderedPrefix(std::string_view filename, std::string_view path,
                                 const PrefixTemplate& prefix, size_t key_count) {
  const std::vector<std::string> values(key_count, std::string(kSamplePartitionValue));
  PrefixValues v;
  v.partition_values = &values;
  v.timestamp_ms = kSampleTimestampMs;
  v.error_output_type = kSampleErrorOutputType;
  v.random_string = kSampleRandomString;
  std::string rendered;
  prefix.Render(v, &rendered);
  const std::string renders_as = StrCat("renders as \"", rendered, "\": ");
  if (!rendered.empty() && rendered.front() == '/')
    return CheckError(filename, path, StrCat(renders_as, "an object key must not start with '/'"));
  // Every component up to the last '/' is a directory; the object's name follows it.
  size_t start = 0;
  for (size_t slash = rendered.find('/'); slash != std::string::npos;
       start = slash + 1, slash = rendered.find('/', start)) {
    if (std::string_view(rendered).substr(start, slash - start) == "..")
      return CheckError(filename, path,
                        StrCat(renders_as,
                               "an object key must not have a `..` component (the file lake "
                               "refuses it; S3 tools resolve it as a path)"));
  }
  return absl::OkStatus();
}

// gRPC and civetweb read a bad port differently (99999 became another port): HOST:PORT
// only, port 0-65535 (core/base/host_port.h). An empty metrics address turns it off.
absl::Status CheckListen(std::string_view filename, std::string_view path,
                         const std::string& address, bool empty_allowed) {
  if (empty_allowed && address.empty()) return absl::OkStatus();
  auto parsed = ParseHostPort(address);
  if (!parsed.ok()) return CheckError(filename, path, StatusMessage(parsed.status()));
  return absl::OkStatus();
}

absl::Status CheckWhatCannotWork(const Config& config, std::string_view filename) {
  const ServerOptions& s = config.server;
  RETURN_IF_ERROR(CheckListen(filename, "server.grpc_listen", s.grpc_listen, false));
  RETURN_IF_ERROR(CheckListen(filename, "server.metrics_listen", s.metrics_listen, true));
  RETURN_IF_ERROR(CheckBaseNotAboveMax(filename, "server.dlq.retry_base_ms", s.dlq_retry_base_ms,
                                       "server.dlq.retry_max_ms", s.dlq_retry_max_ms));
  // In milliseconds as the breaker holds it (probe_max_s 0.0014 is 1 ms).
  RETURN_IF_ERROR(CheckBaseNotAboveMax(filename, "server.destination_breaker.probe_base_ms",
                                       s.destination_breaker.probe_base_ms,
                                       "server.destination_breaker.probe_max_s (in ms)",
                                       std::llround(s.destination_breaker.probe_max_s * 1000)));
  for (size_t i = 0; i < config.pipelines.size(); ++i) {
    const PipelineSpec& p = *config.pipelines[i];
    const std::string path = StrCat("pipelines[", i, "]");
    RETURN_IF_ERROR(CheckBaseNotAboveMax(filename, StrCat(path, ".destination.retry.base_delay_ms"),
                                         p.destination.retry_base_delay_ms,
                                         StrCat(path, ".destination.retry.max_delay_ms"),
                                         p.destination.retry_max_delay_ms));
    RETURN_IF_ERROR(
        CheckRenderedPrefix(filename, StrCat(path, ".prefix"), p.prefix, p.key_names.size()));
    RETURN_IF_ERROR(CheckRenderedPrefix(filename, StrCat(path, ".error_prefix"), p.error_prefix,
                                        /*key_count=*/0));
  }
  return absl::OkStatus();
}

}  // namespace
// --- end start-up checks ---

const PipelineSpec* Config::FindPipeline(std::string_view name) const {
  for (const auto& p : pipelines)
    if (p->name == name) return p.get();
  return nullptr;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view filename,
                                   const TimeZoneLoader& load_tz) {
  Config config;
  Parser parser(filename, load_tz, &config.unknown_keys);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(filename, ":", e.mark.line + 1, ":", e.mark.column + 1,
                                             ": not valid YAML: ", e.msg));
  }
  try {
    if (!root.IsMap()) return parser.Error("(top level)", "must be a mapping with `pipelines`");
    RETURN_IF_ERROR(parser.CheckMap(root, "", {"server", "pipelines"}));
    if (root["server"]) RETURN_IF_ERROR(parser.ParseServer(root["server"], &config.server));
    const YAML::Node pipelines = root["pipelines"];
    if (!pipelines || !pipelines.IsSequence() || pipelines.size() == 0)
      return parser.Error("pipelines", "must be a non-empty list");
    for (size_t i = 0; i < pipelines.size(); ++i) {
      auto spec = std::make_unique<PipelineSpec>();
      const std::string path = StrCat("pipelines[", i, "]");
      RETURN_IF_ERROR(parser.ParsePipeline(pipelines[i], path, spec.get()));
      if (config.FindPipeline(spec->name))
        return parser.Error(path + ".name", StrCat("duplicate pipeline name \"", spec->name, "\""));
      config.pipelines.push_back(std::move(spec));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        StrCat(filename, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  RETURN_IF_ERROR(CheckWhatCannotWork(config, filename));  // start-up checks
  return config;
}

std::string_view EmbeddedDefaultConfigYaml() {
  return R"yaml(# lakehose embedded defaults: what `lakehose-server` runs with no --config.
server:
  grpc_listen: 127.0.0.1:50051
  metrics_listen: 127.0.0.1:9464
  data_dir: ./var/lakehose

pipelines:
  - name: demo                     # the transactions workload of `lakehose generate`
    input: dynamodb-stream
    image: new-or-old              # REMOVE records keep their last image
    metadata: [eventID, eventName, ApproximateCreationDateTime]
    numbers: number
    partition_keys:
      region: { attribute: region, default: unknown }
      date:   { timestamp: timestamp, unit: ms, format: "%Y-%m-%d", fallback: approximate_creation_time }
      hour:   { timestamp: timestamp, unit: ms, format: "%H", fallback: approximate_creation_time }
    prefix: "transactions/region=!{partitionKeyFromLambda:region}/date=!{partitionKeyFromLambda:date}/hour=!{partitionKeyFromLambda:hour}/"
    error_prefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    destination:
      kind: file
      path: ./lake
      format: jsonl
      compression: gzip
      buffering: { size_mb: 64, interval_s: 60 }
)yaml";
}

}  // namespace lakehose
