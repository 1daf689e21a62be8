#include "service/catalog/rest_catalog.h"

#include <memory>
#include <string>

#include "core/base/strings.h"
#include "core/iceberg/metadata_json.h"
#include "core/s3/sigv4.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"
#include "testing/fake_http_client.h"
#include "testing/fake_object_sink.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kUri[] = "https://s3tables.us-east-1.amazonaws.com/iceberg";
constexpr char kPrefix[] = "arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Flake";
constexpr char kSecret[] = "very-secret-value";

std::string ConfigAnswer() {
  return StrCat(R"({"defaults":{},"overrides":{"prefix":")", kPrefix, R"("}})");
}

iceberg::TableMetadata Table(std::string location = "s3://0a1b--table-s3") {
  iceberg::Schema schema;
  iceberg::Field f;
  f.id = 1;
  f.name = "id";
  f.type = iceberg::Type::Primitive("string");
  schema.fields.push_back(f);
  return iceberg::NewTableMetadata("6a1c39b4-9a3e-4b47-a8de-2e8e0a4b1c11", std::move(location),
                                   schema, {}, {}, 1700000000000);
}

std::string TableAnswer(int version = 1, std::string location = "s3://0a1b--table-s3") {
  char name[64];
  std::snprintf(name, sizeof(name), "%05d-5f0e.metadata.json", version);
  return StrCat(R"({"metadata-location":")", location, "/metadata/", name, R"(","metadata":)",
                iceberg::TableMetadataToJson(Table(location)), "}");
}

struct Fixture {
  std::shared_ptr<FakeHttpClient> http = std::make_shared<FakeHttpClient>();
  FakeClock clock;
  FakeObjectSink* bucket_sink = nullptr;  // what the LocationSink made
  std::string made_for;
  LocationSink files{
      [this](const catalog::TableLocation& l) -> absl::StatusOr<std::unique_ptr<ObjectSink>> {
        made_for = StrCat(l.bucket, "|", l.prefix);
        auto s = std::make_unique<FakeObjectSink>();
        bucket_sink = s.get();
        return std::unique_ptr<ObjectSink>(std::move(s));
      }};

  std::unique_ptr<RestCatalog> Make(RestCatalogSpec spec) {
    clock.SetMillis(1700000000000);
    RestCatalogDeps deps;
    deps.http = http;
    deps.credentials = std::make_shared<StaticCredentialsProvider>(
        AwsCredentials{.access_key_id = "AKIDTEST", .secret_access_key = "secret/key"});
    deps.clock = &clock;
    deps.files = &files;
    deps.default_region = "us-east-1";
    deps.read_file = [](const std::string& path) -> absl::StatusOr<std::string> {
      if (path == "/run/secret") return std::string(kSecret) + "\n";
      if (path == "/run/token") return std::string("file-token\n");
      return absl::NotFoundError(StrCat("cannot read ", path));
    };
    return std::make_unique<RestCatalog>(std::move(spec), std::vector<std::string>{"sales"},
                                         "orders", std::move(deps));
  }
};

RestCatalogSpec SigV4Spec() {
  RestCatalogSpec s;
  s.uri = kUri;
  s.warehouse = "arn:aws:s3tables:us-east-1:111122223333:bucket/lake";
  s.auth = RestCatalogSpec::Auth::kSigV4;
  s.sigv4_service = "s3tables";
  return s;
}

RestCatalogSpec OAuthSpec() {
  RestCatalogSpec s;
  s.uri = "http://127.0.0.1:8181/api/catalog";
  s.auth = RestCatalogSpec::Auth::kOAuth2;
  s.oauth2_token_uri = "http://127.0.0.1:8181/api/catalog/v1/oauth/tokens";
  s.oauth2_client_id = "lakehose";
  s.oauth2_client_secret_file = "/run/secret";
  s.oauth2_scope = "PRINCIPAL_ROLE:ALL";
  return s;
}

TEST(RestCatalog, ConfigThenLoadSignedForTheServiceWithThePrefix) {
  Fixture fx;
  auto cat = fx.Make(SigV4Spec());
  fx.http->Push(200, ConfigAnswer());
  fx.http->Push(200, TableAnswer(7));
  absl::StatusOr<std::optional<LoadedTable>> t = cat->Load();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->version, 7);  // from 00007-....metadata.json
  EXPECT_EQ((*t)->metadata_location, "s3://0a1b--table-s3/metadata/00007-5f0e.metadata.json");
  const auto reqs = fx.http->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].url,
            "https://s3tables.us-east-1.amazonaws.com/iceberg/v1/config?warehouse="
            "arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Flake");
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].url, StrCat(kUri, "/v1/", kPrefix, "/namespaces/sales/tables/orders"));
  for (const RecordedHttpRequest& r : reqs) {
    EXPECT_THAT(std::string(r.Header("authorization")),
                StartsWith("AWS4-HMAC-SHA256 Credential=AKIDTEST/20231114/us-east-1/s3tables/"
                           "aws4_request"));
    EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(""));
    EXPECT_EQ(r.Header("host"), "s3tables.us-east-1.amazonaws.com");
  }
  // The signature is the one SignV4 gives for the path as sent, twice-encoded (not S3).
  const RecordedHttpRequest& r = reqs[1];
  SigV4Request again{.method = "GET",
                     .path = StrCat("/iceberg/v1/", kPrefix, "/namespaces/sales/tables/orders"),
                     .headers = {{"Accept", "application/json"},
                                 {"Host", "s3tables.us-east-1.amazonaws.com"},
                                 {"x-amz-content-sha256", Sha256Hex("")}},
                     .payload_hash = Sha256Hex("")};
  const SigV4Signed want = SignV4(
      again, {"AKIDTEST", "secret/key"},
      {.region = "us-east-1", .service = "s3tables", .time_unix_s = 1700000000, .s3_rules = false});
  EXPECT_EQ(r.Header("authorization"), want.authorization);
  EXPECT_THAT(want.canonical_request, HasSubstr("arn%253Aaws%253As3tables"));
  // The table's location bound the files' sink.
  EXPECT_EQ(fx.made_for, "0a1b--table-s3|");
  EXPECT_EQ(fx.files.Uri("data/x.parquet"), "mem://data/x.parquet");
}

TEST(RestCatalog, MissingTableIsNoTableAndConfigIsAskedOnce) {
  Fixture fx;
  auto cat = fx.Make(SigV4Spec());
  fx.http->Push(200, ConfigAnswer());
  fx.http->Push(404,
                R"({"error":{"message":"no table","type":"NoSuchTableException","code":404}})");
  fx.http->Push(404,
                R"({"error":{"message":"no table","type":"NoSuchTableException","code":404}})");
  EXPECT_FALSE(cat->Load()->has_value());
  EXPECT_FALSE(cat->Load()->has_value());
  EXPECT_EQ(fx.http->request_count(), 3u);
}

TEST(RestCatalog, CreateMakesTheMissingNamespaceThenTheTable) {
  Fixture fx;
  auto cat = fx.Make(SigV4Spec());
  fx.http->Push(200, ConfigAnswer());
  fx.http->Push(404,
                R"({"error":{"message":"no ns","type":"NoSuchNamespaceException","code":404}})");
  fx.http->Push(200, R"({"namespace":["sales"],"properties":{}})");
  fx.http->Push(200, TableAnswer(1));
  ASSERT_TRUE(cat->Create(Table("")).ok());
  const auto reqs = fx.http->requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].url, StrCat(kUri, "/v1/", kPrefix, "/namespaces/sales/tables"));
  EXPECT_THAT(reqs[1].body, HasSubstr(R"("name":"orders")"));
  EXPECT_THAT(reqs[1].body, Not(HasSubstr("location")));
  EXPECT_EQ(reqs[1].Header("content-type"), "application/json");
  EXPECT_EQ(reqs[1].Header("x-amz-content-sha256"), Sha256Hex(reqs[1].body));
  EXPECT_EQ(reqs[2].url, StrCat(kUri, "/v1/", kPrefix, "/namespaces"));
  EXPECT_EQ(reqs[2].body, R"({"namespace":["sales"],"properties":{}})");
  EXPECT_EQ(reqs[3].url, reqs[1].url);
  EXPECT_EQ(fx.made_for, "0a1b--table-s3|");
}

TEST(RestCatalog, CreateRespectsTheCreateSwitches) {
  Fixture fx;
  RestCatalogSpec spec = SigV4Spec();
  spec.create_namespace = false;
  auto cat = fx.Make(spec);
  fx.http->Push(200, ConfigAnswer());
  fx.http->Push(404,
                R"({"error":{"message":"no ns","type":"NoSuchNamespaceException","code":404}})");
  EXPECT_THAT(cat->Create(Table("")).message(), HasSubstr("create.namespace is false"));
  spec.create_table = false;
  auto no_tables = fx.Make(spec);
  absl::Status st = no_tables->Create(Table(""));
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("create.table is false"));
  fx.http->Push(200, ConfigAnswer());
  fx.http->Push(409,
                R"({"error":{"message":"exists","type":"AlreadyExistsException","code":409}})");
  EXPECT_TRUE(absl::IsAlreadyExists(fx.Make(SigV4Spec())->Create(Table(""))));
}

TEST(RestCatalog, CommitOutcomes) {
  Fixture fx;
  auto cat = fx.Make(SigV4Spec());
  LoadedTable base;
  base.metadata = Table();
  catalog::TableChange change;
  change.snapshot.emplace();
  change.snapshot->snapshot_id = 5;
  change.snapshot->sequence_number = 1;
  change.snapshot->summary = {{"operation", "append"}};
  change.snapshot->manifest_list = "s3://0a1b--table-s3/metadata/snap-5.avro";
  fx.http->Push(200, ConfigAnswer());
  fx.http->Push(200, TableAnswer(2));
  EXPECT_TRUE(cat->Commit(base, change).ok());
  EXPECT_THAT(fx.http->requests().back().body, HasSubstr(R"("type":"assert-ref-snapshot-id")"));
  EXPECT_EQ(fx.http->requests().back().method, "POST");

  fx.http->Push(
      409, R"({"error":{"message":"main changed","type":"CommitFailedException","code":409}})");
  EXPECT_TRUE(absl::IsAlreadyExists(cat->Commit(base, change)));

  for (int status : {500, 502, 503, 504}) {
    fx.http->Push(status,
                  R"({"error":{"message":"?","type":"CommitStateUnknownException","code":500}})");
    absl::Status st = cat->Commit(base, change);
    EXPECT_TRUE(absl::IsUnavailable(st)) << status << " " << st;
    EXPECT_THAT(st.message(), HasSubstr("commit state unknown"));
  }
  fx.http->Push(absl::UnavailableError("connection reset"));
  absl::Status reset = cat->Commit(base, change);
  EXPECT_TRUE(absl::IsUnavailable(reset));
  EXPECT_THAT(reset.message(), HasSubstr("commit state unknown"));
  fx.http->Push(absl::DeadlineExceededError("timed out"));
  EXPECT_TRUE(absl::IsDeadlineExceeded(cat->Commit(base, change)));
  EXPECT_EQ(cat->Stats().unknown_commits, 6);

  fx.http->Push(403,
                R"({"error":{"message":"not allowed","type":"ForbiddenException","code":403}})");
  absl::Status denied = cat->Commit(base, change);
  EXPECT_TRUE(absl::IsPermissionDenied(denied)) << denied;
  EXPECT_THAT(denied.message(), HasSubstr(kUri));
  EXPECT_THAT(denied.message(), HasSubstr("SigV4 for service s3tables in us-east-1"));
  fx.http->Push(
      400, R"({"error":{"message":"unknown update","type":"BadRequestException","code":400}})");
  EXPECT_TRUE(absl::IsInvalidArgument(cat->Commit(base, change)));
}

TEST(RestCatalog, EndpointsWithoutCommitStopTheStart) {
  Fixture fx;
  auto cat = fx.Make(SigV4Spec());
  fx.http->Push(
      200,
      R"({"defaults":{},"overrides":{},"endpoints":["GET /v1/{prefix}/namespaces/{namespace}/tables/{table}"]})");
  absl::Status st = cat->Connect();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("does not serve POST /v1/{prefix}/namespaces/{namespace}"));
  fx.http->Push(
      404,
      R"({"error":{"message":"no such warehouse","type":"NoSuchWarehouseException","code":404}})");
  EXPECT_TRUE(absl::IsNotFound(fx.Make(SigV4Spec())->Connect()));
}

TEST(RestCatalog, OAuthTokenIsFetchedRefreshedBeforeExpiryAndAfterA401) {
  Fixture fx;
  auto cat = fx.Make(OAuthSpec());
  fx.http->Push(200, R"({"access_token":"t1","token_type":"bearer","expires_in":100})");
  fx.http->Push(200, R"({"defaults":{},"overrides":{}})");
  ASSERT_TRUE(cat->Connect().ok());
  auto reqs = fx.http->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:8181/api/catalog/v1/oauth/tokens");
  EXPECT_EQ(reqs[0].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(reqs[0].body, StrCat("grant_type=client_credentials&client_id=lakehose&client_secret=",
                                 kSecret, "&scope=PRINCIPAL_ROLE%3AALL"));
  EXPECT_EQ(reqs[1].url, "http://127.0.0.1:8181/api/catalog/v1/config");
  EXPECT_EQ(reqs[1].Header("authorization"), "Bearer t1");
  // Before 80% of its life: the same token; after: a new one first.
  fx.clock.AdvanceMillis(79'000);
  fx.http->Push(404, "");
  ASSERT_TRUE(cat->Load().ok());
  EXPECT_EQ(fx.http->requests().back().Header("authorization"), "Bearer t1");
  fx.clock.AdvanceMillis(2'000);
  fx.http->Push(200, R"({"access_token":"t2","token_type":"bearer","expires_in":100})");
  fx.http->Push(404, "");
  ASSERT_TRUE(cat->Load().ok());
  EXPECT_EQ(fx.http->requests().back().Header("authorization"), "Bearer t2");
  // Revoked early: a 401 gets one new token and one more try.
  fx.http->Push(401,
                R"({"error":{"message":"expired","type":"NotAuthorizedException","code":401}})");
  fx.http->Push(200, R"({"access_token":"t3","token_type":"bearer","expires_in":100})");
  fx.http->Push(404, "");
  ASSERT_TRUE(cat->Load().ok());
  EXPECT_EQ(fx.http->requests().back().Header("authorization"), "Bearer t3");
  EXPECT_EQ(cat->Stats().token_refreshes, 3);
}

TEST(RestCatalog, WrongSecretIsAClearErrorWithoutTheSecret) {
  Fixture fx;
  auto cat = fx.Make(OAuthSpec());
  fx.http->Push(401, R"({"error":"invalid_client","error_description":"bad credentials"})");
  absl::Status st = cat->Connect();
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("client lakehose refused: HTTP 401: invalid_client"));
  EXPECT_THAT(st.message(), HasSubstr("/run/secret"));
  EXPECT_THAT(st.message(), Not(HasSubstr(kSecret)));
}

TEST(RestCatalog, TokenFileIsABearerToken) {
  Fixture fx;
  RestCatalogSpec spec = OAuthSpec();
  spec.auth = RestCatalogSpec::Auth::kTokenFile;
  spec.token_file = "/run/token";
  auto cat = fx.Make(spec);
  fx.http->Push(200, R"({"defaults":{},"overrides":{}})");
  ASSERT_TRUE(cat->Connect().ok());
  EXPECT_EQ(fx.http->requests().back().Header("authorization"), "Bearer file-token");
  spec.token_file = "/run/missing";
  absl::Status st = fx.Make(spec)->Connect();
  EXPECT_TRUE(absl::IsFailedPrecondition(st));
  EXPECT_THAT(st.message(), HasSubstr("token_file: cannot read /run/missing"));
}

TEST(LocationSink, BindsOnceToOnePlace) {
  Fixture fx;
  EXPECT_TRUE(absl::IsUnavailable(fx.files.Put("data/x", "b", {})));
  ASSERT_TRUE(fx.files.Bind("s3://lake/wh/sales/orders/").ok());
  EXPECT_EQ(fx.made_for, "lake|wh/sales/orders/");
  ASSERT_TRUE(fx.files.Bind("s3://lake/wh/sales/orders").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(fx.files.Bind("s3://other/x")));
  ASSERT_TRUE(fx.files.Put("data/x", "b", {}).ok());
  EXPECT_EQ(*fx.bucket_sink->Get("wh/sales/orders/data/x"), "b");
  EXPECT_EQ(*fx.files.Get("data/x"), "b");
}

}  // namespace
}  // namespace lakehose
