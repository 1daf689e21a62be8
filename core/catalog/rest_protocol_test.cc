#include "core/catalog/rest_protocol.h"

#include <string>

#include "core/base/strings.h"
#include "core/catalog/s3tables_protocol.h"
#include "core/iceberg/metadata_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace lakehose::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

iceberg::TableMetadata SampleTable() {
  iceberg::Schema schema;
  iceberg::Field id;
  id.id = 1;
  id.name = "order_id";
  id.required = true;
  id.type = iceberg::Type::Primitive("string");
  iceberg::Field region;
  region.id = 2;
  region.name = "region";
  region.type = iceberg::Type::Primitive("string");
  schema.fields = {id, region};
  iceberg::PartitionSpec spec;
  iceberg::PartitionField pf;
  pf.source_id = 2;
  pf.field_id = 1000;
  pf.name = "region";
  pf.transform = "identity";
  spec.fields.push_back(pf);
  return iceberg::NewTableMetadata("9c12d441-03fe-4693-9a96-a0705ddf69c1", "s3://b/wh/sales/orders",
                                   schema, spec, {{"write.parquet.compression-codec", "zstd"}},
                                   1700000000000);
}

TEST(RestRoutes, NamespaceLevelsJoinWithAnEncodedUnitSeparator) {
  EXPECT_EQ(NamespaceParam({"sales"}), "sales");
  EXPECT_EQ(NamespaceParam({"a", "b c", "d/e"}), "a%1Fb%20c%1Fd%2Fe");
}

TEST(RestRoutes, PrefixIsUsedAsTheServerGaveIt) {
  EXPECT_EQ(NamespacesPath(""), "/v1/namespaces");
  EXPECT_EQ(TablePath("catalogs/123456789012", {"sales"}, "orders"),
            "/v1/catalogs/123456789012/namespaces/sales/tables/orders");
  // S3 Tables' prefix is the bucket ARN, already encoded by the server.
  EXPECT_EQ(TablesPath("arn%3Aaws%3As3tables%3Aus-east-1%3A1%3Abucket%2Fb", {"sales"}),
            "/v1/arn%3Aaws%3As3tables%3Aus-east-1%3A1%3Abucket%2Fb/namespaces/sales/tables");
  EXPECT_EQ(TablePath("/p/", {"n"}, "t x"), "/v1/p/namespaces/n/tables/t%20x");
  EXPECT_EQ(ConfigPath(""), "/v1/config");
  EXPECT_EQ(ConfigPath("arn:aws:s3tables:us-east-1:1:bucket/b"),
            "/v1/config?warehouse=arn%3Aaws%3As3tables%3Aus-east-1%3A1%3Abucket%2Fb");
}

TEST(RestConfig, OverridesThenClientThenDefaults) {
  absl::StatusOr<CatalogConfig> c = ParseCatalogConfig(
      R"({"defaults":{"a":"d","b":"d","prefix":"dp"},"overrides":{"a":"o","prefix":"op"}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Get("a", {{"a", "c"}}), "o");
  EXPECT_EQ(c->Get("b", {{"b", "c"}}), "c");
  EXPECT_EQ(c->Get("b"), "d");
  EXPECT_EQ(c->Get("z"), std::nullopt);
  EXPECT_EQ(c->Prefix(), "op");
  EXPECT_TRUE(c->Supports(kCommitTableEndpoint));  // no list: the spec's default set
}

TEST(RestConfig, EndpointsListLimitsWhatIsSupported) {
  absl::StatusOr<CatalogConfig> c = ParseCatalogConfig(
      R"({"defaults":{},"overrides":{},"endpoints":["GET /v1/{prefix}/namespaces/{namespace}/tables/{table}"]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->Supports(kLoadTableEndpoint));
  EXPECT_FALSE(c->Supports(kCommitTableEndpoint));
}

TEST(RestConfig, RefusesWhatIsNotAConfig) {
  EXPECT_FALSE(ParseCatalogConfig("[]").ok());
  EXPECT_THAT(ParseCatalogConfig(R"({"defaults":{"a":1}})").status().message(),
              HasSubstr("defaults.a: not a string"));
  EXPECT_FALSE(ParseCatalogConfig(R"({"endpoints":"x"})").ok());
}

TEST(RestTables, LoadTableResultCarriesMetadataAndLocation) {
  const std::string body =
      StrCat(R"({"metadata-location":"s3://b/wh/sales/orders/metadata/00001-a.metadata.json",)",
             R"("config":{"s3.endpoint":"http://x"},"metadata":)",
             iceberg::TableMetadataToJson(SampleTable()), "}");
  absl::StatusOr<LoadTableResult> r = ParseLoadTableResult(body);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metadata_location, "s3://b/wh/sales/orders/metadata/00001-a.metadata.json");
  EXPECT_EQ(r->metadata.location, "s3://b/wh/sales/orders");
  EXPECT_EQ(r->metadata.table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
  EXPECT_THAT(r->config, ElementsAre(Pair("s3.endpoint", "http://x")));
  EXPECT_THAT(ParseLoadTableResult(R"({"metadata-location":"x"})").status().message(),
              HasSubstr("missing \"metadata\""));
  EXPECT_THAT(ParseLoadTableResult(R"({"metadata":{"format-version":3}})").status().message(),
              HasSubstr("table response: metadata"));
}

// The request bodies, read back as JSON.
simdjson::dom::element Parse(simdjson::dom::parser& p, const std::string& text) {
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(text).get(e), simdjson::SUCCESS) << text;
  return e;
}

TEST(RestRequests, CreateTableSendsSchemaSpecAndPropertiesButNoLocation) {
  simdjson::dom::parser p;
  const std::string body = CreateTableRequestJson("orders", SampleTable());
  simdjson::dom::element e = Parse(p, body);
  EXPECT_EQ(std::string_view(e["name"]), "orders");
  EXPECT_EQ(e["location"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(std::string_view(e["schema"]["type"]), "struct");
  EXPECT_EQ(int64_t(e["schema"]["fields"].at(0)["id"]), 1);
  EXPECT_EQ(std::string_view(e["partition-spec"]["fields"].at(0)["transform"]), "identity");
  EXPECT_EQ(int64_t(e["partition-spec"]["fields"].at(0)["source-id"]), 2);
  EXPECT_FALSE(bool(e["stage-create"]));
  EXPECT_EQ(std::string_view(e["properties"]["write.parquet.compression-codec"]), "zstd");
  EXPECT_EQ(CreateNamespaceRequestJson({"sales"}), R"({"namespace":["sales"],"properties":{}})");
}

TEST(RestRequests, AppendAssertsTheTableAndMainThenAddsAndPointsMain) {
  iceberg::TableMetadata base = SampleTable();
  TableChange change;
  change.snapshot.emplace();
  change.snapshot->snapshot_id = 42;
  change.snapshot->sequence_number = 1;
  change.snapshot->timestamp_ms = 1700000001000;
  change.snapshot->manifest_list = "s3://b/wh/sales/orders/metadata/snap-42-1-x.avro";
  change.snapshot->summary = {{"operation", "append"}, {"lakehose.objects", "1..3"}};
  change.snapshot->schema_id = 0;
  simdjson::dom::parser p;
  simdjson::dom::element e = Parse(p, CommitTableRequestJson(base, change));
  simdjson::dom::array req = e["requirements"];
  ASSERT_EQ(req.size(), 2u);
  EXPECT_EQ(std::string_view(req.at(0)["type"]), "assert-table-uuid");
  EXPECT_EQ(std::string_view(req.at(0)["uuid"]), base.table_uuid);
  EXPECT_EQ(std::string_view(req.at(1)["type"]), "assert-ref-snapshot-id");
  EXPECT_EQ(std::string_view(req.at(1)["ref"]), "main");
  EXPECT_TRUE(req.at(1)["snapshot-id"].is_null());  // no snapshot yet: main must not exist
  simdjson::dom::array upd = e["updates"];
  ASSERT_EQ(upd.size(), 2u);
  EXPECT_EQ(std::string_view(upd.at(0)["action"]), "add-snapshot");
  EXPECT_EQ(int64_t(upd.at(0)["snapshot"]["snapshot-id"]), 42);
  EXPECT_EQ(int64_t(upd.at(0)["snapshot"]["sequence-number"]), 1);
  EXPECT_EQ(std::string_view(upd.at(0)["snapshot"]["summary"]["operation"]), "append");
  EXPECT_EQ(std::string_view(upd.at(1)["action"]), "set-snapshot-ref");
  EXPECT_EQ(std::string_view(upd.at(1)["ref-name"]), "main");
  EXPECT_EQ(std::string_view(upd.at(1)["type"]), "branch");
  EXPECT_EQ(int64_t(upd.at(1)["snapshot-id"]), 42);

  // On a table with a snapshot, main must still be at it.
  ASSERT_TRUE(ApplyTableChange(&base, change, "s3://b/v1.json", 1700000001000).ok());
  change.snapshot->snapshot_id = 43;
  change.snapshot->parent_snapshot_id = 42;
  simdjson::dom::element again = Parse(p, CommitTableRequestJson(base, change));
  EXPECT_EQ(int64_t(again["requirements"].at(1)["snapshot-id"]), 42);
}

TEST(RestRequests, ExpiryAssertsMainRemovesSnapshotsAndSetsProperties) {
  iceberg::TableMetadata base = SampleTable();
  for (int64_t id : {42, 43}) {
    TableChange append;
    append.snapshot.emplace();
    append.snapshot->snapshot_id = id;
    if (id == 43) append.snapshot->parent_snapshot_id = 42;
    append.snapshot->sequence_number = id - 41;
    append.snapshot->timestamp_ms = 1700000000000 + id;
    append.snapshot->manifest_list = StrCat("s3://b/wh/sales/orders/metadata/snap-", id, ".avro");
    append.snapshot->summary = {{"operation", "append"}};
    absl::Status st = ApplyTableChange(&base, append, "s3://b/v.json", 1700000000000 + id);
    ASSERT_TRUE(st.ok()) << st;
  }
  TableChange change;
  change.remove_snapshots = {42};
  change.set_properties = {{"lakehose.index-checkpoint", "s3://b/c.bin"}};
  simdjson::dom::parser p;
  simdjson::dom::element e = Parse(p, CommitTableRequestJson(base, change));
  simdjson::dom::array req = e["requirements"];
  ASSERT_EQ(req.size(), 2u);
  EXPECT_EQ(std::string_view(req.at(1)["type"]), "assert-ref-snapshot-id");
  EXPECT_EQ(int64_t(req.at(1)["snapshot-id"]), 43);  // no commit raced
  simdjson::dom::array upd = e["updates"];
  ASSERT_EQ(upd.size(), 2u);
  EXPECT_EQ(std::string_view(upd.at(0)["action"]), "remove-snapshots");
  EXPECT_EQ(int64_t(upd.at(0)["snapshot-ids"].at(0)), 42);
  EXPECT_EQ(std::string_view(upd.at(1)["action"]), "set-properties");
  EXPECT_EQ(std::string_view(upd.at(1)["updates"]["lakehose.index-checkpoint"]), "s3://b/c.bin");

  // The file-system catalog's application of it.
  iceberg::TableMetadata m = base;
  ASSERT_TRUE(ApplyTableChange(&m, change, "s3://b/v3.json", 1700000009999).ok());
  ASSERT_EQ(m.snapshots.size(), 1u);
  EXPECT_EQ(m.snapshots[0].snapshot_id, 43);
  ASSERT_EQ(m.snapshot_log.size(), 1u);  // the log is the current snapshot's history
  EXPECT_EQ(m.snapshot_log[0].snapshot_id, 43);
  EXPECT_EQ(m.current_snapshot_id, 43);
  EXPECT_EQ(m.last_updated_ms, 1700000009999);
  EXPECT_EQ(m.metadata_log.back().metadata_file, "s3://b/v3.json");
  bool found = false;
  for (const auto& [k, v] : m.properties)
    found |= k == "lakehose.index-checkpoint" && v == "s3://b/c.bin";
  EXPECT_TRUE(found);
  // Never the current snapshot, never one the table lacks.
  TableChange current;
  current.remove_snapshots = {43};
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyTableChange(&m, current, "", 1)));
  TableChange unknown;
  unknown.remove_snapshots = {42};
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyTableChange(&m, unknown, "", 1)));
}

TEST(RestRequests, SchemaChangeAssertsTheCurrentSchemaAndLastFieldId) {
  iceberg::TableMetadata base = SampleTable();
  TableChange change;
  change.schema = *base.CurrentSchema();
  iceberg::Field amount;
  amount.id = 3;
  amount.name = "amount";
  amount.type = iceberg::Type::Primitive("double");
  change.schema->fields.push_back(amount);
  change.last_column_id = 3;
  simdjson::dom::parser p;
  simdjson::dom::element e = Parse(p, CommitTableRequestJson(base, change));
  simdjson::dom::array req = e["requirements"];
  ASSERT_EQ(req.size(), 3u);
  EXPECT_EQ(std::string_view(req.at(1)["type"]), "assert-current-schema-id");
  EXPECT_EQ(int64_t(req.at(1)["current-schema-id"]), 0);
  EXPECT_EQ(std::string_view(req.at(2)["type"]), "assert-last-assigned-field-id");
  EXPECT_EQ(int64_t(req.at(2)["last-assigned-field-id"]), 2);
  simdjson::dom::array upd = e["updates"];
  ASSERT_EQ(upd.size(), 2u);
  EXPECT_EQ(std::string_view(upd.at(0)["action"]), "add-schema");
  EXPECT_EQ(int64_t(upd.at(0)["schema"]["fields"].at(2)["id"]), 3);
  EXPECT_EQ(int64_t(upd.at(0)["last-column-id"]), 3);
  EXPECT_EQ(std::string_view(upd.at(1)["action"]), "set-current-schema");
  EXPECT_EQ(int64_t(upd.at(1)["schema-id"]), -1);

  // The file-system catalog applies the same change.
  ASSERT_TRUE(ApplyTableChange(&base, change, "file:///t/metadata/v1.metadata.json", 5).ok());
  EXPECT_EQ(base.current_schema_id, 1);
  EXPECT_EQ(base.last_column_id, 3);
  ASSERT_EQ(base.metadata_log.size(), 1u);
  EXPECT_EQ(base.metadata_log[0].metadata_file, "file:///t/metadata/v1.metadata.json");
}

TEST(RestLocations, S3AndLocalLocations) {
  absl::StatusOr<TableLocation> s3 = ParseTableLocation("s3://b--table-s3");
  ASSERT_TRUE(s3.ok()) << s3.status();
  EXPECT_FALSE(s3->local);
  EXPECT_EQ(s3->bucket, "b--table-s3");
  EXPECT_EQ(s3->prefix, "");
  absl::StatusOr<TableLocation> deep = ParseTableLocation("s3a://lake/wh/sales/orders/");
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->bucket, "lake");
  EXPECT_EQ(deep->prefix, "wh/sales/orders/");
  absl::StatusOr<TableLocation> local = ParseTableLocation("file:///var/lake/sales/orders/");
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(local->local);
  EXPECT_EQ(local->dir, "/var/lake/sales/orders");
  EXPECT_FALSE(ParseTableLocation("gs://b/x").ok());
  EXPECT_FALSE(ParseTableLocation("s3:///x").ok());
  EXPECT_FALSE(ParseTableLocation("relative/dir").ok());
}

TEST(RestErrors, IcebergErrorResponseOrTheBodysStart) {
  CatalogError e = ParseCatalogError(
      409,
      R"({"error":{"message":"branch main changed","type":"CommitFailedException","code":409}})");
  EXPECT_EQ(e.type, "CommitFailedException");
  EXPECT_EQ(e.message, "branch main changed");
  CatalogError proxy = ParseCatalogError(502, "  <html>Bad Gateway</html>\n");
  EXPECT_EQ(proxy.type, "");
  EXPECT_EQ(proxy.message, "<html>Bad Gateway</html>");
  EXPECT_EQ(ParseCatalogError(503, "").message, "HTTP 503");
}

TEST(RestOAuth, ClientCredentialsFormIsEncoded) {
  EXPECT_EQ(ClientCredentialsForm("lake hose", "s&c=t", "PRINCIPAL_ROLE:ALL"),
            "grant_type=client_credentials&client_id=lake%20hose&client_secret=s%26c%3Dt"
            "&scope=PRINCIPAL_ROLE%3AALL");
  EXPECT_EQ(ClientCredentialsForm("a", "b", ""),
            "grant_type=client_credentials&client_id=a&client_secret=b");
}

TEST(RestOAuth, TokenResponse) {
  absl::StatusOr<OAuthToken> t =
      ParseTokenResponse(R"({"access_token":"abc","token_type":"Bearer","expires_in":3600})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->access_token, "abc");
  EXPECT_EQ(t->expires_in_s, 3600);
  EXPECT_EQ(ParseTokenResponse(R"({"access_token":"abc"})")->expires_in_s, std::nullopt);
  EXPECT_FALSE(ParseTokenResponse(R"({"token_type":"bearer"})").ok());
  EXPECT_THAT(ParseTokenResponse(R"({"access_token":"a","token_type":"mac"})").status().message(),
              HasSubstr("not bearer"));
  EXPECT_EQ(ParseOAuthError(401, R"({"error":"invalid_client","error_description":"bad secret"})"),
            "invalid_client: bad secret");
}

TEST(S3TablesApi, PathsBodiesAndAnswers) {
  const std::string arn = "arn:aws:s3tables:us-east-1:111122223333:bucket/orders-lake";
  EXPECT_TRUE(IsTableBucketArn(arn));
  EXPECT_FALSE(IsTableBucketArn("arn:aws:s3:::orders-lake"));
  EXPECT_FALSE(IsTableBucketArn("arn:aws:s3tables:us-east-1:1111:bucket/orders-lake"));
  EXPECT_EQ(S3TablesNamespacesPath(arn),
            "/namespaces/arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Forders-lake");
  EXPECT_EQ(S3TablesMetadataLocationPath(arn, "sales", "orders"),
            "/tables/arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Forders-lake/sales/"
            "orders/metadata-location");
  EXPECT_EQ(S3TablesCreateNamespaceJson("sales"), R"({"namespace":["sales"]})");
  EXPECT_EQ(S3TablesCreateTableJson("orders"), R"({"name":"orders","format":"ICEBERG"})");
  EXPECT_EQ(S3TablesUpdateMetadataLocationJson("s3://b/metadata/00001-a.metadata.json", "t1"),
            R"({"metadataLocation":"s3://b/metadata/00001-a.metadata.json","versionToken":"t1"})");
  absl::StatusOr<S3TablesMetadataLocation> fresh = ParseS3TablesMetadataLocation(
      R"({"versionToken":"t0","warehouseLocation":"s3://63a8--table-s3"})");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->version_token, "t0");
  EXPECT_EQ(fresh->metadata_location, std::nullopt);
  EXPECT_EQ(fresh->warehouse_location, "s3://63a8--table-s3");
  EXPECT_FALSE(ParseS3TablesMetadataLocation(R"({"metadataLocation":"x"})").ok());
  S3TablesError e = ParseS3TablesError(
      409, "ConflictException:http://internal.amazon.com/coral/com.amazon.s3tables/",
      R"({"message":"The version token is stale"})");
  EXPECT_EQ(e.type, "ConflictException");
  EXPECT_EQ(e.message, "The version token is stale");
  EXPECT_EQ(ParseS3TablesError(500, "", "").message, "HTTP 500");
}

}  // namespace
}  // namespace lakehose::catalog
