#include "service/catalog/s3tables_catalog.h"

#include <memory>
#include <string>

#include "core/base/strings.h"
#include "core/iceberg/metadata_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testing/fake_clock.h"
#include "testing/fake_http_client.h"
#include "testing/fake_object_sink.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kArn[] = "arn:aws:s3tables:us-east-1:111122223333:bucket/orders-lake";
constexpr char kEncodedArn[] =
    "arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Forders-lake";
constexpr char kWarehouse[] = "s3://63a8e430--table-s3";

iceberg::TableMetadata Table() {
  iceberg::Schema schema;
  iceberg::Field f;
  f.id = 1;
  f.name = "id";
  f.type = iceberg::Type::Primitive("string");
  schema.fields.push_back(f);
  return iceberg::NewTableMetadata("6a1c39b4-9a3e-4b47-a8de-2e8e0a4b1c11", kWarehouse, schema, {},
                                   {}, 1700000000000);
}

struct Fixture {
  std::shared_ptr<FakeHttpClient> http = std::make_shared<FakeHttpClient>();
  FakeClock clock;
  FakeObjectSink* bucket = nullptr;
  LocationSink files{
      [this](const catalog::TableLocation& l) -> absl::StatusOr<std::unique_ptr<ObjectSink>> {
        EXPECT_EQ(l.bucket, "63a8e430--table-s3");
        auto s = std::make_unique<FakeObjectSink>();
        bucket = s.get();
        return std::unique_ptr<ObjectSink>(std::move(s));
      }};
  std::unique_ptr<RemoteCatalog> catalog;

  Fixture() {
    clock.SetMillis(1700000000000);
    IcebergSpec ice;
    ice.table_namespace = "sales";
    ice.table_name = "orders";
    RestCatalogSpec spec;
    spec.api = RestCatalogSpec::Api::kS3Tables;
    spec.warehouse = kArn;
    spec.auth = RestCatalogSpec::Auth::kSigV4;
    spec.sigv4_service = "s3tables";
    ice.rest = spec;
    RestCatalogDeps deps;
    deps.http = http;
    deps.credentials = std::make_shared<StaticCredentialsProvider>(
        AwsCredentials{.access_key_id = "AKIDTEST", .secret_access_key = "secret/key"});
    deps.clock = &clock;
    deps.files = &files;
    deps.default_region = "eu-west-1";
    catalog = MakeRemoteCatalog(ice, std::move(deps));
  }
};

std::string LocationAnswer(std::string token, std::string metadata = "") {
  return StrCat(R"({"versionToken":")", token, R"(","warehouseLocation":")", kWarehouse, "\"",
                metadata.empty() ? "" : StrCat(R"(,"metadataLocation":")", metadata, "\""), "}");
}

TEST(S3TablesCatalog, LoadsThroughThePointerAndTheWarehouse) {
  Fixture fx;
  fx.http->Push(404, R"({"message":"The specified table could not be found."})",
                {{"x-amzn-errortype", "NotFoundException"}});
  EXPECT_FALSE(fx.catalog->Load()->has_value());
  const auto first = fx.http->requests().at(0);
  EXPECT_EQ(first.url, StrCat("https://s3tables.eu-west-1.amazonaws.com/tables/", kEncodedArn,
                              "/sales/orders/metadata-location"));
  EXPECT_THAT(std::string(first.Header("authorization")),
              HasSubstr("/eu-west-1/s3tables/aws4_request"));
  // Created but never given metadata: still no table (Create finishes it).
  fx.http->Push(200, LocationAnswer("t0"));
  EXPECT_FALSE(fx.catalog->Load()->has_value());
  ASSERT_NE(fx.bucket, nullptr);
  const std::string name = "metadata/00003-9b2f.metadata.json";
  ASSERT_TRUE(fx.bucket->Put(name, iceberg::TableMetadataToJson(Table()), {}).ok());
  fx.http->Push(200, LocationAnswer("t3", StrCat(kWarehouse, "/", name)));
  absl::StatusOr<std::optional<LoadedTable>> t = fx.catalog->Load();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->version, 3);
  EXPECT_EQ((*t)->version_token, "t3");
  EXPECT_EQ((*t)->metadata.table_uuid, "6a1c39b4-9a3e-4b47-a8de-2e8e0a4b1c11");
  // A pointer outside the warehouse, or to a missing file, is an error, not "no table".
  fx.http->Push(200, LocationAnswer("t4", "s3://elsewhere/metadata/00004-x.metadata.json"));
  EXPECT_TRUE(absl::IsFailedPrecondition(fx.catalog->Load().status()));
  fx.http->Push(200,
                LocationAnswer("t4", StrCat(kWarehouse, "/metadata/00004-gone.metadata.json")));
  EXPECT_TRUE(absl::IsDataLoss(fx.catalog->Load().status()));
}

TEST(S3TablesCatalog, CreateMakesNamespaceTableAndFirstMetadata) {
  Fixture fx;
  fx.http->Push(404, R"({"message":"namespace"})", {{"x-amzn-errortype", "NotFoundException"}});
  fx.http->Push(200, R"({"tableBucketARN":"x","namespace":["sales"]})");
  fx.http->Push(200, R"({"tableARN":"arn:t","versionToken":"t0"})");
  fx.http->Push(200, LocationAnswer("t0"));
  fx.http->Push(200, R"({"versionToken":"t1"})");
  ASSERT_TRUE(fx.catalog->Create(Table()).ok());
  const auto reqs = fx.http->requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_THAT(reqs[0].url, HasSubstr(StrCat("/tables/", kEncodedArn, "/sales")));
  EXPECT_EQ(reqs[0].body, R"({"name":"orders","format":"ICEBERG"})");
  EXPECT_THAT(reqs[1].url, HasSubstr(StrCat("/namespaces/", kEncodedArn)));
  EXPECT_EQ(reqs[1].body, R"({"namespace":["sales"]})");
  EXPECT_EQ(reqs[4].method, "PUT");
  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(reqs[4].body);
  EXPECT_EQ(std::string_view(body["versionToken"]), "t0");
  const std::string location{std::string_view(body["metadataLocation"])};
  EXPECT_THAT(location, StartsWith(StrCat(kWarehouse, "/metadata/00000-")));
  // The metadata file is in the warehouse, naming it as the table's location.
  absl::StatusOr<std::string> written =
      fx.bucket->Get(location.substr(std::string(kWarehouse).size() + 1));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(iceberg::ParseTableMetadata(*written)->location, kWarehouse);
}

TEST(S3TablesCatalog, CommitPresentsTheTokenItLoaded) {
  Fixture fx;
  fx.http->Push(200, LocationAnswer("t0"));
  ASSERT_TRUE(fx.catalog->Connect().ok());  // binds the warehouse
  LoadedTable base;
  base.metadata = Table();
  base.version = 5;
  base.version_token = "t5";
  base.metadata_location = StrCat(kWarehouse, "/metadata/00005-a.metadata.json");
  catalog::TableChange change;
  change.snapshot.emplace();
  change.snapshot->snapshot_id = 9;
  change.snapshot->sequence_number = 1;
  change.snapshot->timestamp_ms = 1700000001000;
  change.snapshot->summary = {{"operation", "append"}};
  change.snapshot->manifest_list = StrCat(kWarehouse, "/metadata/snap-9.avro");
  fx.http->Push(200, R"({"versionToken":"t6"})");
  ASSERT_TRUE(fx.catalog->Commit(base, change).ok());
  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(fx.http->requests().back().body);
  EXPECT_EQ(std::string_view(body["versionToken"]), "t5");
  const std::string location{std::string_view(body["metadataLocation"])};
  EXPECT_THAT(location, StartsWith(StrCat(kWarehouse, "/metadata/00006-")));
  absl::StatusOr<iceberg::TableMetadata> next = iceberg::ParseTableMetadata(
      *fx.bucket->Get(location.substr(std::string(kWarehouse).size() + 1)));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->current_snapshot_id, 9);
  ASSERT_EQ(next->metadata_log.size(), 1u);
  EXPECT_EQ(next->metadata_log[0].metadata_file, base.metadata_location);

  fx.http->Push(409, R"({"message":"stale token"})", {{"x-amzn-errortype", "ConflictException"}});
  EXPECT_TRUE(absl::IsAlreadyExists(fx.catalog->Commit(base, change)));
  fx.http->Push(500, R"({"message":"oops"})",
                {{"x-amzn-errortype", "InternalServerErrorException"}});
  absl::Status unknown = fx.catalog->Commit(base, change);
  EXPECT_TRUE(absl::IsUnavailable(unknown));
  EXPECT_THAT(unknown.message(), HasSubstr("commit state unknown"));
  fx.http->Push(absl::UnavailableError("reset"));
  EXPECT_TRUE(absl::IsUnavailable(fx.catalog->Commit(base, change)));
  EXPECT_EQ(fx.catalog->Stats().unknown_commits, 2);
  fx.http->Push(403, R"({"message":"no"})", {{"x-amzn-errortype", "AccessDeniedException"}});
  absl::Status denied = fx.catalog->Commit(base, change);
  EXPECT_TRUE(absl::IsPermissionDenied(denied));
  EXPECT_THAT(denied.message(), HasSubstr("s3tables:"));
  EXPECT_THAT(denied.message(), HasSubstr("AccessDeniedException"));
}

}  // namespace
}  // namespace lakehose
