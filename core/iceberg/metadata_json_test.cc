#include "core/iceberg/metadata_json.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace lakehose::iceberg {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMaxId = std::numeric_limits<int64_t>::max();

// ---- equality: every field of types.h, with a message naming what differs

void ExpectSameSchema(const Schema& a, const Schema& b) {
  EXPECT_EQ(a.schema_id, b.schema_id);
  EXPECT_EQ(a.identifier_field_ids, b.identifier_field_ids);
  EXPECT_TRUE(SameSchemaStructure(a, b)) << SchemaToJson(a) << "\nvs\n" << SchemaToJson(b);
}

void ExpectSameSnapshot(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.snapshot_id, b.snapshot_id);
  EXPECT_EQ(a.parent_snapshot_id, b.parent_snapshot_id);
  EXPECT_EQ(a.sequence_number, b.sequence_number);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
  EXPECT_EQ(a.manifest_list, b.manifest_list);
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_EQ(a.schema_id, b.schema_id);
}

void ExpectSameMetadata(const TableMetadata& a, const TableMetadata& b) {
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.table_uuid, b.table_uuid);
  EXPECT_EQ(a.location, b.location);
  EXPECT_EQ(a.last_sequence_number, b.last_sequence_number);
  EXPECT_EQ(a.last_updated_ms, b.last_updated_ms);
  EXPECT_EQ(a.last_column_id, b.last_column_id);
  ASSERT_EQ(a.schemas.size(), b.schemas.size());
  for (size_t i = 0; i < a.schemas.size(); ++i) ExpectSameSchema(a.schemas[i], b.schemas[i]);
  EXPECT_EQ(a.current_schema_id, b.current_schema_id);
  ASSERT_EQ(a.partition_specs.size(), b.partition_specs.size());
  for (size_t i = 0; i < a.partition_specs.size(); ++i) {
    const PartitionSpec &x = a.partition_specs[i], &y = b.partition_specs[i];
    EXPECT_EQ(x.spec_id, y.spec_id);
    ASSERT_EQ(x.fields.size(), y.fields.size());
    for (size_t j = 0; j < x.fields.size(); ++j) {
      EXPECT_EQ(x.fields[j].source_id, y.fields[j].source_id);
      EXPECT_EQ(x.fields[j].field_id, y.fields[j].field_id);
      EXPECT_EQ(x.fields[j].name, y.fields[j].name);
      EXPECT_EQ(x.fields[j].transform, y.fields[j].transform);
    }
  }
  EXPECT_EQ(a.default_spec_id, b.default_spec_id);
  EXPECT_EQ(a.last_partition_id, b.last_partition_id);
  EXPECT_EQ(a.properties, b.properties);
  EXPECT_EQ(a.current_snapshot_id, b.current_snapshot_id);
  ASSERT_EQ(a.snapshots.size(), b.snapshots.size());
  for (size_t i = 0; i < a.snapshots.size(); ++i)
    ExpectSameSnapshot(a.snapshots[i], b.snapshots[i]);
  ASSERT_EQ(a.snapshot_log.size(), b.snapshot_log.size());
  for (size_t i = 0; i < a.snapshot_log.size(); ++i) {
    EXPECT_EQ(a.snapshot_log[i].timestamp_ms, b.snapshot_log[i].timestamp_ms);
    EXPECT_EQ(a.snapshot_log[i].snapshot_id, b.snapshot_log[i].snapshot_id);
  }
  ASSERT_EQ(a.metadata_log.size(), b.metadata_log.size());
  for (size_t i = 0; i < a.metadata_log.size(); ++i) {
    EXPECT_EQ(a.metadata_log[i].timestamp_ms, b.metadata_log[i].timestamp_ms);
    EXPECT_EQ(a.metadata_log[i].metadata_file, b.metadata_log[i].metadata_file);
  }
  ASSERT_EQ(a.sort_orders.size(), b.sort_orders.size());
  for (size_t i = 0; i < a.sort_orders.size(); ++i)
    EXPECT_EQ(a.sort_orders[i].order_id, b.sort_orders[i].order_id);
  EXPECT_EQ(a.default_sort_order_id, b.default_sort_order_id);
  ASSERT_EQ(a.refs.size(), b.refs.size());
  for (const auto& [name, ref] : a.refs) {
    auto it = b.refs.find(name);
    ASSERT_NE(it, b.refs.end()) << name;
    EXPECT_EQ(ref.snapshot_id, it->second.snapshot_id) << name;
    EXPECT_EQ(ref.type, it->second.type) << name;
  }
}

// ---- builders

Field F(int id, std::string name, bool required, Type type, std::string doc = "") {
  return Field{id, std::move(name), required, std::move(type), std::move(doc)};
}
Type P(std::string name) { return Type::Primitive(std::move(name)); }
Type ListOf(int element_id, bool required, Type element) {
  Type t;
  t.kind = Type::Kind::kList;
  t.element_id = element_id;
  t.element_required = required;
  t.element = std::make_shared<const Type>(std::move(element));
  return t;
}
Type MapOf(int key_id, Type key, int value_id, bool value_required, Type value) {
  Type t;
  t.kind = Type::Kind::kMap;
  t.key_id = key_id;
  t.key = std::make_shared<const Type>(std::move(key));
  t.value_id = value_id;
  t.value_required = value_required;
  t.value = std::make_shared<const Type>(std::move(value));
  return t;
}
Type StructOf(std::vector<Field> fields) {
  Type t;
  t.kind = Type::Kind::kStruct;
  t.fields = std::move(fields);
  return t;
}

// Every kind of type, nested, with a doc, identifier ids and a non-ASCII name.
Schema RichSchema() {
  Schema s;
  s.schema_id = 0;
  s.fields = {
      F(1, "pk", true, P("string"), "the DynamoDB partition key"),
      F(2, "sk", true, P("long")),
      F(3, "ts", false, P("timestamptz")),
      F(4, "price", false, P("decimal(38,2)")),
      F(5, "tags", false, ListOf(9, false, P("string"))),
      F(6, "attrs", false, MapOf(10, P("string"), 11, true, P("double"))),
      F(7, "addr", false,
        StructOf({F(12, "city", false, P("string")), F(13, "zip", false, P("fixed[5]"))})),
      F(8, "caf\xC3\xA9 \"q\"", false,
        ListOf(14, true, StructOf({F(15, "x", true, P("binary")), F(16, "d", false, P("date"))}))),
  };
  s.identifier_field_ids = {1, 2};
  return s;
}

PartitionSpec DaySpec() {
  PartitionSpec spec;
  spec.spec_id = 0;
  spec.fields = {PartitionField{3, 1000, "ts_day", "day"},
                 PartitionField{1, 1001, "pk_bucket", "bucket[16]"}};
  return spec;
}

Snapshot MakeSnapshot(int64_t id, std::optional<int64_t> parent, std::string list) {
  Snapshot s;
  s.snapshot_id = id;
  s.parent_snapshot_id = parent;
  s.manifest_list = std::move(list);
  s.summary = {{"operation", "append"}, {"added-data-files", "3"}, {"lakehose.writer", "w1"}};
  return s;
}

// A table with two schemas, two snapshots (ids at the int64 edge), both logs and a tag.
TableMetadata RichTable() {
  TableMetadata m = NewTableMetadata("9c12d441-03fe-4693-9a96-a0705ddf69c1", "s3://b/ns/t",
                                     RichSchema(), DaySpec(), {{"owner", "lakehose"}}, 1000);
  Schema s2 = RichSchema();
  s2.fields.push_back(F(17, "added", false, P("int")));
  EXPECT_TRUE(SetCurrentSchema(&m, s2, 17, 1500).ok());
  EXPECT_TRUE(AppendSnapshot(&m,
                             MakeSnapshot(kMaxId, std::nullopt, "s3://b/ns/t/metadata/snap-1.avro"),
                             "s3://b/ns/t/metadata/v1.metadata.json", 2000)
                  .ok());
  EXPECT_TRUE(AppendSnapshot(&m,
                             MakeSnapshot(kMaxId - 1, kMaxId, "s3://b/ns/t/metadata/snap-2.avro"),
                             "s3://b/ns/t/metadata/v2.metadata.json", 3000)
                  .ok());
  m.refs["audit"] = SnapshotRef{kMaxId, "tag"};
  return m;
}

// ---- round trips

TEST(MetadataJsonTest, RichTableRoundTrips) {
  const TableMetadata m = RichTable();
  const std::string json = TableMetadataToJson(m);
  auto back = ParseTableMetadata(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  ExpectSameMetadata(m, *back);
  // And the text is stable: writing what was read gives the same bytes.
  EXPECT_EQ(TableMetadataToJson(*back), json);
}

TEST(MetadataJsonTest, NewTableRoundTripsWithoutCurrentSnapshot) {
  const TableMetadata m =
      NewTableMetadata("u", "file:/tmp/t/", RichSchema(), PartitionSpec{}, {}, 5);
  const std::string json = TableMetadataToJson(m);
  EXPECT_THAT(json, ::testing::Not(HasSubstr("current-snapshot-id")));
  auto back = ParseTableMetadata(json);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameMetadata(m, *back);
  EXPECT_FALSE(back->current_snapshot_id.has_value());
  EXPECT_TRUE(back->refs.empty());
}

TEST(MetadataJsonTest, Int64IdsAreWrittenExactly) {
  const std::string json = TableMetadataToJson(RichTable());
  EXPECT_THAT(json, HasSubstr("\"current-snapshot-id\": 9223372036854775806"));
  EXPECT_THAT(json, HasSubstr("\"snapshot-id\":9223372036854775807"));
  EXPECT_THAT(json, HasSubstr("\"parent-snapshot-id\":9223372036854775807"));
  auto back = ParseTableMetadata(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->snapshots[0].snapshot_id, kMaxId);
  EXPECT_EQ(back->snapshots[1].snapshot_id, kMaxId - 1);  // a double would merge these two
  EXPECT_EQ(*back->current_snapshot_id, kMaxId - 1);
}

TEST(MetadataJsonTest, OutputIsValidJsonOneFieldPerLine) {
  const std::string json = TableMetadataToJson(RichTable());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  EXPECT_THAT(json, HasSubstr("\n  \"format-version\": 2,\n"));
  EXPECT_THAT(json, HasSubstr("\n  \"last-sequence-number\": 2,\n"));
  EXPECT_THAT(json, HasSubstr("\"sort-orders\": [\n    {\"order-id\":0,\"fields\":[]}\n  ]"));
  EXPECT_THAT(json,
              HasSubstr("\"main\":{\"snapshot-id\":9223372036854775806,\"type\":\"branch\"}"));
  // The summary starts with "operation".
  EXPECT_THAT(json, HasSubstr("\"summary\":{\"operation\":\"append\","));
}

TEST(MetadataJsonTest, SchemaJsonIsTheSpecsShape) {
  Schema s;
  s.schema_id = 3;
  s.fields = {F(1, "id", true, P("uuid")),
              F(2, "data", false, ListOf(3, true, P("string")), "some doc")};
  EXPECT_EQ(SchemaToJson(s),
            "{\"type\":\"struct\",\"schema-id\":3,\"fields\":["
            "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"uuid\"},"
            "{\"id\":2,\"name\":\"data\",\"required\":false,\"type\":{\"type\":\"list\","
            "\"element-id\":3,\"element-required\":true,\"element\":\"string\"},"
            "\"doc\":\"some doc\"}]}");
  s.identifier_field_ids = {1};
  EXPECT_THAT(SchemaToJson(s), HasSubstr("\"schema-id\":3,\"identifier-field-ids\":[1],"));
  EXPECT_EQ(TypeToJson(MapOf(4, P("string"), 5, false, P("double"))),
            "{\"type\":\"map\",\"key-id\":4,\"key\":\"string\",\"value-id\":5,"
            "\"value-required\":false,\"value\":\"double\"}");
}

TEST(MetadataJsonTest, SchemaRoundTripsAndCanonicalizesTypeNames) {
  const Schema s = RichSchema();
  auto back = ParseSchemaJson(SchemaToJson(s));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameSchema(s, *back);

  auto spaced = ParseSchemaJson(
      R"js({"type":"struct","fields":[{"id":1,"name":"a","required":false,"type":"decimal( 9 , 2 )"},
          {"id":2,"name":"b","required":false,"type":" fixed[ 16 ]","initial-default":"x"}]})js");
  ASSERT_TRUE(spaced.ok()) << spaced.status();
  EXPECT_EQ(spaced->schema_id, 0);  // absent in a standalone schema
  EXPECT_EQ(spaced->fields[0].type.primitive, "decimal(9,2)");
  EXPECT_EQ(spaced->fields[1].type.primitive, "fixed[16]");
}

TEST(MetadataJsonTest, PartitionSpecJsonBothWays) {
  const PartitionSpec spec = DaySpec();
  EXPECT_EQ(
      PartitionFieldsToJson(spec),
      "[{\"source-id\":3,\"field-id\":1000,\"name\":\"ts_day\",\"transform\":\"day\"},"
      "{\"source-id\":1,\"field-id\":1001,\"name\":\"pk_bucket\",\"transform\":\"bucket[16]\"}]");
  EXPECT_EQ(PartitionSpecToJson(PartitionSpec{}), "{\"spec-id\":0,\"fields\":[]}");
  auto back = ParsePartitionSpecJson(PartitionSpecToJson(spec));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->fields.size(), 2u);
  EXPECT_EQ(back->fields[1].transform, "bucket[16]");
  auto fields = ParsePartitionFieldsJson(PartitionFieldsToJson(spec), 7);
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ(fields->spec_id, 7);
  EXPECT_EQ(fields->fields[0].field_id, 1000);
  EXPECT_FALSE(ParsePartitionFieldsJson("{}", 0).ok());
  auto no_field_id =
      ParsePartitionFieldsJson(R"js([{"source-id":1,"name":"a","transform":"identity"}])js", 0);
  ASSERT_FALSE(no_field_id.ok());
  EXPECT_THAT(no_field_id.status().message(), HasSubstr("\"field-id\""));
}

TEST(MetadataJsonTest, InvalidUtf8IsWrittenAsReplacementCharacters) {
  Schema s;
  s.fields = {F(1, "bad\xFF", false, P("string"))};
  const std::string json = SchemaToJson(s);
  auto back = ParseSchemaJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->fields[0].name, "bad\xEF\xBF\xBD");
}

// ---- other writers' metadata

// In the style Java's TableMetadataParser writes (Jackson pretty printer), with fields
// lakehose does not model: statistics, partition-statistics, a sorted order, ref
// retention, a deprecated `partition-spec`, and -1-free current snapshot.
constexpr char kJavaStyle[] = R"js({
  "format-version" : 2,
  "table-uuid" : "fb072c92-a02b-11e9-ae9c-1bb7bc9eca94",
  "location" : "s3://b/wh/data.db/table",
  "last-sequence-number" : 2,
  "last-updated-ms" : 1515100955770,
  "last-column-id" : 3,
  "current-schema-id" : 1,
  "schemas" : [ {
    "type" : "struct",
    "schema-id" : 0,
    "fields" : [ {
      "id" : 1,
      "name" : "id",
      "required" : true,
      "type" : "long"
    } ]
  }, {
    "type" : "struct",
    "schema-id" : 1,
    "identifier-field-ids" : [ 1 ],
    "fields" : [ {
      "id" : 1,
      "name" : "id",
      "required" : true,
      "type" : "long"
    }, {
      "id" : 2,
      "name" : "ts",
      "required" : false,
      "type" : "timestamptz",
      "doc" : "event time"
    }, {
      "id" : 3,
      "name" : "amount",
      "required" : false,
      "type" : "decimal(9, 2)"
    } ]
  } ],
  "default-spec-id" : 0,
  "partition-specs" : [ {
    "spec-id" : 0,
    "fields" : [ {
      "name" : "ts_day",
      "transform" : "day",
      "source-id" : 2,
      "field-id" : 1000
    } ]
  } ],
  "last-partition-id" : 1000,
  "default-sort-order-id" : 1,
  "sort-orders" : [ {
    "order-id" : 0,
    "fields" : [ ]
  }, {
    "order-id" : 1,
    "fields" : [ {
      "transform" : "identity",
      "source-id" : 1,
      "direction" : "asc",
      "null-order" : "nulls-first"
    } ]
  } ],
  "properties" : {
    "write.format.default" : "parquet",
    "commit.retry.num-retries" : "4"
  },
  "current-snapshot-id" : 3051729675574597004,
  "refs" : {
    "main" : {
      "snapshot-id" : 3051729675574597004,
      "type" : "branch"
    },
    "v1-tag" : {
      "snapshot-id" : 3055729675574597004,
      "type" : "tag",
      "max-ref-age-ms" : 10000000
    }
  },
  "snapshots" : [ {
    "sequence-number" : 1,
    "snapshot-id" : 3055729675574597004,
    "timestamp-ms" : 1515100955770,
    "summary" : {
      "added-data-files" : "1",
      "operation" : "append",
      "spark.app.id" : "local-1"
    },
    "manifest-list" : "s3://b/wh/data.db/table/metadata/snap-3055729675574597004-1.avro",
    "schema-id" : 0
  }, {
    "sequence-number" : 2,
    "snapshot-id" : 3051729675574597004,
    "parent-snapshot-id" : 3055729675574597004,
    "timestamp-ms" : 1515100955770,
    "summary" : {
      "operation" : "append"
    },
    "manifest-list" : "s3://b/wh/data.db/table/metadata/snap-3051729675574597004-1.avro",
    "schema-id" : 1
  } ],
  "statistics" : [ {
    "snapshot-id" : 3051729675574597004,
    "statistics-path" : "s3://b/wh/data.db/table/metadata/stats.puffin",
    "file-size-in-bytes" : 413,
    "file-footer-size-in-bytes" : 42,
    "blob-metadata" : [ {
      "type" : "apache-datasketches-theta-v1",
      "snapshot-id" : 3051729675574597004,
      "sequence-number" : 2,
      "fields" : [ 1 ],
      "properties" : { "ndv" : "3" }
    } ]
  } ],
  "partition-statistics" : [ {
    "snapshot-id" : 3051729675574597004,
    "statistics-path" : "s3://b/wh/data.db/table/metadata/pstats.parquet",
    "file-size-in-bytes" : 43
  } ],
  "snapshot-log" : [ {
    "timestamp-ms" : 1515100955770,
    "snapshot-id" : 3055729675574597004
  }, {
    "timestamp-ms" : 1515100955770,
    "snapshot-id" : 3051729675574597004
  } ],
  "metadata-log" : [ {
    "timestamp-ms" : 1515100000000,
    "metadata-file" : "s3://b/wh/data.db/table/metadata/00000-a.metadata.json"
  } ]
})js";

TEST(MetadataJsonTest, JavaStyleMetadataParses) {
  auto m = ParseTableMetadata(kJavaStyle);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->table_uuid, "fb072c92-a02b-11e9-ae9c-1bb7bc9eca94");
  EXPECT_EQ(m->last_updated_ms, 1515100955770);
  ASSERT_NE(m->CurrentSchema(), nullptr);
  EXPECT_EQ(m->CurrentSchema()->fields.size(), 3u);
  EXPECT_EQ(m->CurrentSchema()->identifier_field_ids, std::vector<int>{1});
  EXPECT_EQ(m->CurrentSchema()->fields[1].doc, "event time");
  EXPECT_EQ(m->CurrentSchema()->fields[2].type.primitive, "decimal(9,2)");
  EXPECT_EQ(m->DefaultSpec()->fields[0].transform, "day");
  EXPECT_EQ(m->DefaultSpec()->fields[0].field_id, 1000);
  EXPECT_EQ(m->default_sort_order_id, 1);
  EXPECT_EQ(m->sort_orders.size(), 2u);
  ASSERT_NE(m->CurrentSnapshot(), nullptr);
  EXPECT_EQ(m->CurrentSnapshot()->snapshot_id, 3051729675574597004);
  EXPECT_EQ(m->CurrentSnapshot()->parent_snapshot_id, 3055729675574597004);
  EXPECT_EQ(m->CurrentSnapshot()->sequence_number, 2);
  // "operation" moved first; the rest in document order.
  const auto& summary = m->snapshots[0].summary;
  ASSERT_EQ(summary.size(), 3u);
  EXPECT_EQ(summary[0].first, "operation");
  EXPECT_EQ(summary[1].first, "added-data-files");
  EXPECT_EQ(m->refs.at("v1-tag").type, "tag");
  EXPECT_EQ(m->metadata_log.size(), 1u);
  EXPECT_EQ(m->properties.size(), 2u);
  // What we write of it reads back the same.
  auto again = ParseTableMetadata(TableMetadataToJson(*m));
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectSameMetadata(*m, *again);
}

TEST(MetadataJsonTest, MinusOneCurrentSnapshotIsNone) {
  TableMetadata m = NewTableMetadata("u", "file:/t", RichSchema(), PartitionSpec{}, {}, 1);
  std::string json = TableMetadataToJson(m);
  json.insert(json.find("  \"refs\""), "  \"current-snapshot-id\": -1,\n");
  auto back = ParseTableMetadata(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->current_snapshot_id.has_value());
  // Null (what v3 writers use) too.
  json.replace(json.find("-1"), 2, "null");
  back = ParseTableMetadata(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->current_snapshot_id.has_value());
}

TEST(MetadataJsonTest, MissingRefsGetsMainFromCurrentSnapshot) {
  std::string json = kJavaStyle;
  const size_t begin = json.find("  \"refs\"");
  const size_t end = json.find("  \"snapshots\"");
  json.erase(begin, end - begin);
  auto m = ParseTableMetadata(json);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->refs.size(), 1u);
  EXPECT_EQ(m->refs.at("main").snapshot_id, 3051729675574597004);
  EXPECT_EQ(m->refs.at("main").type, "branch");
}

TEST(MetadataJsonTest, SnapshotWithoutSequenceNumberIsZero) {
  std::string json = kJavaStyle;
  json.erase(json.find("\"sequence-number\" : 1,"), std::string("\"sequence-number\" : 1,").size());
  auto m = ParseTableMetadata(json);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->snapshots[0].sequence_number, 0);
}

// ---- errors

// kJavaStyle with `from` replaced by `to` (once); the result must fail with a message
// containing `want`.
void ExpectRefused(std::string_view from, std::string_view to, std::string_view want) {
  std::string json = kJavaStyle;
  const size_t at = json.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  json.replace(at, from.size(), to);
  auto m = ParseTableMetadata(json);
  ASSERT_FALSE(m.ok()) << "accepted with " << from << " -> " << to;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr(want)) << m.status();
}

TEST(MetadataJsonTest, MissingRequiredFieldsAreNamed) {
  ExpectRefused("\"table-uuid\"", "\"x-table-uuid\"", "missing required field \"table-uuid\"");
  ExpectRefused("\"location\"", "\"x-location\"", "\"location\"");
  ExpectRefused("\"last-sequence-number\"", "\"x\"", "\"last-sequence-number\"");
  ExpectRefused("\"last-updated-ms\"", "\"x\"", "\"last-updated-ms\"");
  ExpectRefused("\"last-column-id\"", "\"x\"", "\"last-column-id\"");
  ExpectRefused("\"current-schema-id\"", "\"x\"", "\"current-schema-id\"");
  ExpectRefused("\"schemas\"", "\"x\"", "\"schemas\"");
  ExpectRefused("\"default-spec-id\"", "\"x\"", "\"default-spec-id\"");
  ExpectRefused("\"partition-specs\"", "\"x\"", "\"partition-specs\"");
  ExpectRefused("\"last-partition-id\"", "\"x\"", "\"last-partition-id\"");
  ExpectRefused("\"sort-orders\"", "\"x\"", "\"sort-orders\"");
  ExpectRefused("\"default-sort-order-id\"", "\"x\"", "\"default-sort-order-id\"");
  ExpectRefused("\"format-version\"", "\"x\"", "\"format-version\"");
  ExpectRefused("\"schema-id\" : 0,", "", "schemas[0]: missing required field \"schema-id\"");
  ExpectRefused("\"manifest-list\" : \"s3://b/wh/data.db/table/metadata/snap-3055",
                "\"x\" : \"s3://b/wh/data.db/table/metadata/snap-3055",
                "snapshots[0]: missing required field \"manifest-list\"");
  ExpectRefused("\"timestamp-ms\" : 1515100000000", "\"x\" : 1", "metadata-log[0]");
  ExpectRefused("\"field-id\" : 1000", "\"x\" : 1000", "partition-specs[0].fields[0]");
}

TEST(MetadataJsonTest, OtherFormatVersionsAreRefused) {
  ExpectRefused("\"format-version\" : 2", "\"format-version\" : 1", "1 is not supported");
  ExpectRefused("\"format-version\" : 2", "\"format-version\" : 3", "3 is not supported");
  ExpectRefused("\"format-version\" : 2", "\"format-version\" : 4", "4 is not supported");
  ExpectRefused("\"format-version\" : 2", "\"format-version\" : \"2\"", "must be an integer");
}

TEST(MetadataJsonTest, BadTypesAreRefused) {
  ExpectRefused("\"last-column-id\" : 3", "\"last-column-id\" : \"3\"",
                "last-column-id: must be an integer, not a string");
  ExpectRefused("\"last-column-id\" : 3", "\"last-column-id\" : 3.5", "not a fraction");
  ExpectRefused("\"last-column-id\" : 3", "\"last-column-id\" : 4294967296",
                "must be an int (32 bits)");
  ExpectRefused("\"current-snapshot-id\" : 3051729675574597004",
                "\"current-snapshot-id\" : 9223372036854775808", "beyond the range of a long");
  ExpectRefused("\"required\" : true", "\"required\" : 1", "must be a boolean");
  ExpectRefused("\"type\" : \"long\"", "\"type\" : \"int64\"", "is not an Iceberg v2 type");
  ExpectRefused("\"type\" : \"long\"", "\"type\" : \"variant\"", "is not an Iceberg v2 type");
  ExpectRefused("\"decimal(9, 2)\"", "\"decimal(39, 2)\"", "not a valid decimal");
  ExpectRefused("\"commit.retry.num-retries\" : \"4\"", "\"commit.retry.num-retries\" : 4",
                "properties.commit.retry.num-retries: must be a string");
  ExpectRefused("\"type\" : \"tag\"", "\"type\" : \"label\"", "must be \"branch\" or \"tag\"");
  ExpectRefused("\"snapshots\" : [", "\"snapshots\" : {\"a\":1}, \"x\" : [",
                "snapshots: must be an array, not an object");
  ExpectRefused("\"id\" : 3,", "\"id\" : 2,", "field id 2 appears twice");
  ExpectRefused("\"identifier-field-ids\" : [ 1 ]", "\"identifier-field-ids\" : [ 9 ]",
                "identifier field id 9 is not a field");
}

TEST(MetadataJsonTest, InconsistenciesAreRefused) {
  ExpectRefused("\"current-schema-id\" : 1", "\"current-schema-id\" : 5",
                "schema 5 is not among \"schemas\"");
  ExpectRefused("\"default-spec-id\" : 0", "\"default-spec-id\" : 2",
                "partition spec 2 is not among");
  ExpectRefused("\"default-sort-order-id\" : 1", "\"default-sort-order-id\" : 7",
                "sort order 7 is not among");
  ExpectRefused("\"current-snapshot-id\" : 3051729675574597004", "\"current-snapshot-id\" : 5",
                "snapshot 5 is not among");
  ExpectRefused("\"snapshot-id\" : 3051729675574597004,\n      \"type\" : \"branch\"",
                "\"snapshot-id\" : 3055729675574597004,\n      \"type\" : \"branch\"",
                "refs.main: points at snapshot 3055729675574597004 but current-snapshot-id is "
                "3051729675574597004");
}

TEST(MetadataJsonTest, NotJsonOrNotAnObjectIsRefused) {
  for (std::string_view bad : {"", "{", "[]", "2", "{\"format-version\":2,}"}) {
    auto m = ParseTableMetadata(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// A list of lists nested `levels` deep, as schema JSON.
std::string DeepSchema(int levels) {
  std::string open, close;
  for (int i = 0; i < levels - 1; ++i) {
    open += "{\"type\":\"list\",\"element-id\":" + std::to_string(100 + i) +
            ",\"element-required\":false,\"element\":";
    close += "}";
  }
  return "{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":false,\"type\":" +
         open + "\"string\"" + close + "}]}";
}

TEST(MetadataJsonTest, TypeNestingIsBounded) {
  EXPECT_TRUE(ParseSchemaJson(DeepSchema(kMaxTypeDepth)).ok());
  auto deep = ParseSchemaJson(DeepSchema(kMaxTypeDepth + 1));
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), HasSubstr("nest deeper than 64"));
  // Far deeper than the limit: refused, not a stack overflow.
  EXPECT_FALSE(ParseSchemaJson(DeepSchema(5000)).ok());
}

// ---- updates

TEST(MetadataUpdateTest, NewTableDefaults) {
  const TableMetadata m =
      NewTableMetadata("u", "s3://b/t///", RichSchema(), DaySpec(), {{"owner", "x"}}, 42);
  EXPECT_EQ(m.format_version, 2);
  EXPECT_EQ(m.location, "s3://b/t");
  EXPECT_EQ(m.last_column_id, 16);  // nested ids count (struct members in a list element)
  EXPECT_EQ(m.last_partition_id, 1001);
  EXPECT_EQ(m.last_sequence_number, 0);
  EXPECT_EQ(m.last_updated_ms, 42);
  EXPECT_FALSE(m.current_snapshot_id.has_value());
  EXPECT_TRUE(m.snapshots.empty());
  EXPECT_TRUE(m.refs.empty());
  ASSERT_EQ(m.properties.size(), 2u);
  EXPECT_EQ(m.properties[1],
            std::make_pair(std::string("write.format.default"), std::string("parquet")));
  const TableMetadata unpartitioned = NewTableMetadata("u", "s3://b/t", Schema{}, PartitionSpec{},
                                                       {{"write.format.default", "avro"}}, 1);
  EXPECT_EQ(unpartitioned.last_partition_id, 999);
  EXPECT_EQ(unpartitioned.last_column_id, 0);
  EXPECT_EQ(unpartitioned.properties.size(), 1u);  // a given format is kept
}

TEST(MetadataUpdateTest, SetCurrentSchemaAddsOrReuses) {
  TableMetadata m = NewTableMetadata("u", "s3://b/t", RichSchema(), DaySpec(), {}, 1);
  Schema s1 = RichSchema();
  s1.fields.push_back(F(17, "new", false, P("string")));
  ASSERT_TRUE(SetCurrentSchema(&m, s1, 17, 10).ok());
  EXPECT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.last_column_id, 17);
  EXPECT_EQ(m.last_updated_ms, 10);

  // The first schema again (its id in the argument is ignored): reused, not added.
  Schema again = RichSchema();
  again.schema_id = 99;
  ASSERT_TRUE(SetCurrentSchema(&m, again, 16, 20).ok());
  EXPECT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 0);
  EXPECT_EQ(m.last_column_id, 17);  // never goes down
  EXPECT_EQ(m.last_updated_ms, 20);

  // Nothing changes: last-updated-ms stays.
  ASSERT_TRUE(SetCurrentSchema(&m, RichSchema(), 0, 30).ok());
  EXPECT_EQ(m.last_updated_ms, 20);

  // Different identifier ids make a different schema.
  Schema ident = RichSchema();
  ident.identifier_field_ids = {1};
  ASSERT_TRUE(SetCurrentSchema(&m, ident, 0, 40).ok());
  EXPECT_EQ(m.schemas.size(), 3u);
  EXPECT_EQ(m.current_schema_id, 2);
}

TEST(MetadataUpdateTest, SetCurrentSchemaRefusesBadSchemas) {
  TableMetadata m = NewTableMetadata("u", "s3://b/t", RichSchema(), DaySpec(), {}, 1);
  Schema dup = RichSchema();
  dup.fields.push_back(F(14, "dup", false, P("int")));  // 14 is a list element id
  EXPECT_EQ(SetCurrentSchema(&m, dup, 20, 2).code(), absl::StatusCode::kInvalidArgument);
  Schema above = RichSchema();
  above.fields.push_back(F(30, "x", false, P("int")));
  absl::Status st = SetCurrentSchema(&m, above, 20, 2);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("above the last column id 20"));
  Schema ident = RichSchema();
  ident.identifier_field_ids = {77};
  EXPECT_EQ(SetCurrentSchema(&m, ident, 20, 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.schemas.size(), 1u);  // untouched
  EXPECT_EQ(m.last_column_id, 16);
  EXPECT_EQ(m.last_updated_ms, 1);
}

TEST(MetadataUpdateTest, AppendSnapshotSetsSequenceLogsAndRefs) {
  TableMetadata m = NewTableMetadata("u", "s3://b/t", RichSchema(), DaySpec(), {}, 100);
  Snapshot s = MakeSnapshot(11, std::nullopt, "s3://b/t/metadata/snap-11.avro");
  s.summary = {{"added-records", "5"}, {"operation", "append"}};
  s.sequence_number = 77;  // overwritten
  ASSERT_TRUE(AppendSnapshot(&m, s, "s3://b/t/metadata/v1.metadata.json", 200).ok());
  EXPECT_EQ(m.last_sequence_number, 1);
  EXPECT_EQ(m.current_snapshot_id, 11);
  EXPECT_EQ(m.last_updated_ms, 200);
  ASSERT_EQ(m.snapshots.size(), 1u);
  EXPECT_EQ(m.snapshots[0].sequence_number, 1);
  EXPECT_EQ(m.snapshots[0].timestamp_ms, 200);
  EXPECT_EQ(m.snapshots[0].schema_id, 0);
  EXPECT_EQ(m.snapshots[0].summary[0].first, "operation");
  EXPECT_EQ(m.refs.at("main").snapshot_id, 11);
  EXPECT_EQ(m.refs.at("main").type, "branch");
  ASSERT_EQ(m.snapshot_log.size(), 1u);
  EXPECT_EQ(m.snapshot_log[0].snapshot_id, 11);
  EXPECT_EQ(m.snapshot_log[0].timestamp_ms, 200);
  ASSERT_EQ(m.metadata_log.size(), 1u);
  EXPECT_EQ(m.metadata_log[0].metadata_file, "s3://b/t/metadata/v1.metadata.json");
  EXPECT_EQ(m.metadata_log[0].timestamp_ms, 100);  // when v1 was written

  Schema s2 = RichSchema();
  s2.fields.push_back(F(17, "n", false, P("int")));
  ASSERT_TRUE(SetCurrentSchema(&m, s2, 17, 250).ok());
  ASSERT_TRUE(AppendSnapshot(&m, MakeSnapshot(12, 11, "l2"), "v2", 300).ok());
  EXPECT_EQ(m.last_sequence_number, 2);
  EXPECT_EQ(m.snapshots[1].sequence_number, 2);
  EXPECT_EQ(m.snapshots[1].schema_id, 1);
  EXPECT_EQ(m.refs.at("main").snapshot_id, 12);
  EXPECT_EQ(m.snapshot_log.size(), 2u);
  ASSERT_EQ(m.metadata_log.size(), 2u);
  EXPECT_EQ(m.metadata_log[1].timestamp_ms, 250);

  // Empty previous file (the first commit of a table made in the same step): no entry.
  ASSERT_TRUE(AppendSnapshot(&m, MakeSnapshot(13, 12, "l3"), "", 400).ok());
  EXPECT_EQ(m.metadata_log.size(), 2u);
}

TEST(MetadataUpdateTest, AppendSnapshotRefusesStaleParentAndDuplicates) {
  TableMetadata m = NewTableMetadata("u", "s3://b/t", RichSchema(), DaySpec(), {}, 100);
  ASSERT_TRUE(AppendSnapshot(&m, MakeSnapshot(11, std::nullopt, "l1"), "v1", 200).ok());
  const std::string before = TableMetadataToJson(m);

  absl::Status st = AppendSnapshot(&m, MakeSnapshot(12, std::nullopt, "l2"), "v2", 300);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("rebase"));
  st = AppendSnapshot(&m, MakeSnapshot(12, 99, "l2"), "v2", 300);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  st = AppendSnapshot(&m, MakeSnapshot(11, 11, "l2"), "v2", 300);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  Snapshot no_op = MakeSnapshot(12, 11, "l2");
  no_op.summary = {{"added-records", "1"}};
  EXPECT_EQ(AppendSnapshot(&m, no_op, "v2", 300).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TableMetadataToJson(m), before);  // untouched by every refusal
}

TEST(MetadataUpdateTest, MetadataLogKeepsPreviousVersionsMax) {
  TableMetadata m = NewTableMetadata("u", "s3://b/t", Schema{}, PartitionSpec{},
                                     {{"write.metadata.previous-versions-max", "3"}}, 0);
  std::optional<int64_t> parent;
  for (int64_t v = 1; v <= 6; ++v) {
    ASSERT_TRUE(AppendSnapshot(&m, MakeSnapshot(v, parent, "l"), MetadataFileName(v), v * 10).ok());
    parent = v;
  }
  ASSERT_EQ(m.metadata_log.size(), 3u);
  EXPECT_EQ(m.metadata_log[0].metadata_file, "v4.metadata.json");
  EXPECT_EQ(m.metadata_log[2].metadata_file, "v6.metadata.json");
  EXPECT_EQ(m.snapshot_log.size(), 6u);  // not bounded by this property

  TableMetadata d = NewTableMetadata("u", "s3://b/t", Schema{}, PartitionSpec{}, {}, 0);
  parent.reset();
  for (int64_t v = 1; v <= 105; ++v) {
    ASSERT_TRUE(AppendSnapshot(&d, MakeSnapshot(v, parent, "l"), MetadataFileName(v), v).ok());
    parent = v;
  }
  ASSERT_EQ(d.metadata_log.size(), 100u);  // Java's default
  EXPECT_EQ(d.metadata_log[0].metadata_file, "v6.metadata.json");
}

TEST(MetadataUpdateTest, SnapshotsSinceWalksParentsNewestFirst) {
  TableMetadata m = NewTableMetadata("u", "s3://b/t", Schema{}, PartitionSpec{}, {}, 0);
  EXPECT_TRUE(SnapshotsSince(m, std::nullopt).empty());
  std::optional<int64_t> parent;
  for (int64_t id : {10, 20, 30, 40}) {
    ASSERT_TRUE(AppendSnapshot(&m, MakeSnapshot(id, parent, "l"), "", id).ok());
    parent = id;
  }
  auto ids = [](const std::vector<const Snapshot*>& v) {
    std::vector<int64_t> out;
    for (const Snapshot* s : v) out.push_back(s->snapshot_id);
    return out;
  };
  EXPECT_EQ(ids(SnapshotsSince(m, 20)), (std::vector<int64_t>{40, 30}));
  EXPECT_EQ(ids(SnapshotsSince(m, 40)), (std::vector<int64_t>{}));
  EXPECT_EQ(ids(SnapshotsSince(m, std::nullopt)), (std::vector<int64_t>{40, 30, 20, 10}));
  EXPECT_EQ(ids(SnapshotsSince(m, 999)), (std::vector<int64_t>{40, 30, 20, 10}));

  // An expired ancestor ends the walk; a parent cycle (a corrupt table) cannot loop.
  TableMetadata expired = m;
  expired.snapshots.erase(expired.snapshots.begin() + 1);  // 20
  EXPECT_EQ(ids(SnapshotsSince(expired, std::nullopt)), (std::vector<int64_t>{40, 30}));
  TableMetadata cycle = m;
  cycle.snapshots[0].parent_snapshot_id = 40;
  EXPECT_EQ(SnapshotsSince(cycle, std::nullopt).size(), 4u);
}

TEST(MetadataUpdateTest, VersionFileNamesAndHints) {
  EXPECT_EQ(MetadataFileName(1), "v1.metadata.json");
  EXPECT_EQ(MetadataFileName(123456789012), "v123456789012.metadata.json");
  EXPECT_EQ(*ParseVersionHint("7"), 7);
  EXPECT_EQ(*ParseVersionHint(" 42\n"), 42);
  EXPECT_EQ(*ParseVersionHint("9223372036854775807"), kMaxId);
  for (std::string_view bad :
       {"", " ", "-1", "+1", "1.5", "v1", "1 2", "0x10", "9223372036854775808", "12abc"}) {
    auto v = ParseVersionHint(bad);
    EXPECT_FALSE(v.ok()) << "accepted " << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace lakehose::iceberg
