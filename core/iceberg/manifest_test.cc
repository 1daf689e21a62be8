#include "core/iceberg/manifest.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/base/json_writer.h"
#include "core/base/strings.h"
#include "core/iceberg/position_deletes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace lakehose::iceberg {
namespace {

const std::string kSync = "lakehose-sync-16";
constexpr int64_t kBig = (int64_t{1} << 60) + 3;  // beyond 2^53: a double cannot hold it
using ::testing::HasSubstr;
using Codec = AvroContainerOptions::Codec;
using PK = PartitionValue::Kind;

Field PField(int id, std::string name, std::string type, bool required = false) {
  Field f;
  f.id = id;
  f.name = std::move(name);
  f.required = required;
  f.type = Type::Primitive(std::move(type));
  return f;
}

PartitionValue PV(PK kind, int64_t i = 0, std::string s = "", double d = 0) {
  PartitionValue v;
  v.kind = kind;
  v.i = i;
  v.s = std::move(s);
  v.d = d;
  return v;
}

// A partition of every kind of result type, two fields sharing one named fixed type
// (decimal_9_2), one required field, and names Avro would refuse as they are.
ManifestContext PartitionedContext() {
  ManifestContext c;
  c.schema_json =
      R"({"type":"struct","schema-id":3,"fields":[{"id":1,"name":"ts","required":false,"type":"timestamptz"}]})";
  c.schema_id = 3;
  c.partition_spec_json = R"([{"name":"ts_day","transform":"day","source-id":1,"field-id":1000}])";
  c.partition_spec_id = 2;
  c.partition_type = {PField(1000, "ts_day", "date"),
                      PField(1001, "region", "string"),
                      PField(1002, "id_bucket", "int", true),
                      PField(1003, "big", "long"),
                      PField(1004, "at", "timestamptz"),
                      PField(1005, "flag", "boolean"),
                      PField(1006, "score", "double"),
                      PField(1007, "raw", "binary"),
                      PField(1008, "amount", "decimal(9,2)"),
                      PField(1009, "amount_neg", "decimal(9,2)"),
                      PField(1010, "u", "uuid"),
                      PField(1011, "fx", "fixed[3]"),
                      PField(1012, "local", "timestamp"),
                      PField(1013, "9-lives", "string")};
  return c;
}

std::vector<ManifestEntry> PartitionedEntries() {
  std::vector<ManifestEntry> entries(3);
  {
    ManifestEntry& e = entries[0];  // ADDED: sequence numbers inherited (null)
    e.status = 1;
    e.snapshot_id = kBig;
    DataFile& f = e.data_file;
    f.file_path = "s3://bucket/t/data/ts_day=2026-12-07/w1-00001.parquet";
    f.partition = {PV(PK::kInt, 20794),
                   PV(PK::kString, 0, "eu-west-1"),
                   PV(PK::kInt, 7),
                   PV(PK::kLong, kBig),
                   PV(PK::kLong, 1796601600000000),
                   PV(PK::kBoolean, 1),
                   PV(PK::kDouble, 0, "", 12.75),
                   PV(PK::kBinary, 0, std::string("\0\xff\x01", 3)),
                   PV(PK::kDecimal, 0, std::string("\x30\x39", 2)),  // 123.45
                   PV(PK::kDecimal, 0, std::string("\xcf\xc7", 2)),  // -123.45
                   PV(PK::kBinary, 0, std::string(16, '\x5a')),
                   PV(PK::kBinary, 0, "abc"),
                   PV(PK::kLong, -1),
                   PV(PK::kString, 0, "x")};
    f.record_count = kBig;
    f.file_size_in_bytes = 4096;
    f.column_sizes = {{1, 100}, {2, kBig}};
    f.value_counts = {{1, 10}, {2, 10}};
    f.null_value_counts = {{1, 0}, {2, 3}};
    f.lower_bounds = {{1, std::string("\0\x01\x02\xff", 4)}, {2, "a"}};
    f.upper_bounds = {{1, std::string("\xff\xfe", 2)}, {2, "zz"}};
    f.sort_order_id = 0;
  }
  {
    ManifestEntry& e = entries[1];  // EXISTING: explicit sequence numbers, null partitions
    e.status = 0;
    e.snapshot_id = 5;
    e.sequence_number = 4;
    e.file_sequence_number = kBig;
    DataFile& f = e.data_file;
    f.file_path = "file:/tmp/t/data/w2-00002.parquet";
    f.partition.assign(14, PartitionValue{});
    f.partition[2] = PV(PK::kInt, -1);  // the required one
    f.record_count = 1;
    f.file_size_in_bytes = 10;
  }
  {
    ManifestEntry& e = entries[2];  // DELETED, snapshot id inherited
    e.status = 2;
    e.sequence_number = 1;
    e.file_sequence_number = 1;
    DataFile& f = e.data_file;
    f.file_path = "s3://bucket/t/data/w3-00003.parquet";
    f.partition.assign(14, PartitionValue{});
    f.partition[2] = PV(PK::kInt, 0);
    f.partition[8] = PV(PK::kDecimal, 0, std::string("\0", 1));
    f.record_count = 0;
    f.file_size_in_bytes = 1;
  }
  return entries;
}

std::vector<ManifestFile> ManifestFiles() {
  std::vector<ManifestFile> m(2);
  m[0].manifest_path = "s3://bucket/t/metadata/snap-1-m0.avro";
  m[0].manifest_length = 5123;
  m[0].partition_spec_id = 2;
  m[0].sequence_number = 7;
  m[0].min_sequence_number = 1;
  m[0].added_snapshot_id = kBig;
  m[0].added_files_count = 3;
  m[0].existing_files_count = 1;
  m[0].deleted_files_count = 2;
  m[0].added_rows_count = kBig;
  m[0].existing_rows_count = 5;
  m[0].deleted_rows_count = 6;
  FieldSummary s1;
  s1.contains_null = true;
  s1.lower_bound = std::string("\x3a\x51\x00\x00", 4);
  s1.upper_bound = std::string("\x3b\x51\x00\x00", 4);
  FieldSummary s2;
  s2.contains_nan = false;
  FieldSummary s3;
  s3.contains_null = false;
  s3.contains_nan = true;
  s3.lower_bound = "";
  m[0].partitions = {s1, s2, s3};
  m[1].manifest_path = "file:/tmp/t/metadata/m1.avro";
  m[1].manifest_length = 1;
  m[1].content = 0;
  m[1].added_snapshot_id = -7;
  return m;
}

TEST(ManifestTest, RoundTripPreservesEveryField) {
  const ManifestContext c = PartitionedContext();
  const std::vector<ManifestEntry> entries = PartitionedEntries();
  for (Codec codec : {Codec::kNull, Codec::kDeflate}) {
    auto bytes = EncodeManifest(c, entries, kSync, codec);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ManifestContext back;
    auto decoded = DecodeManifest(*bytes, &back);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(back.schema_json, c.schema_json);
    EXPECT_EQ(back.schema_id, 3);
    EXPECT_EQ(back.partition_spec_json, c.partition_spec_json);
    EXPECT_EQ(back.partition_spec_id, 2);
    ASSERT_EQ(back.partition_type.size(), c.partition_type.size());
    for (size_t i = 0; i < c.partition_type.size(); ++i) {
      const Field& want = c.partition_type[i];
      const Field& got = back.partition_type[i];
      EXPECT_EQ(got.id, want.id);
      // "9-lives" is no Avro name: written as Java's AvroSchemaUtil spells it.
      EXPECT_EQ(got.name, want.name == "9-lives" ? "_9_x2Dlives" : want.name);
      EXPECT_EQ(got.required, want.required) << want.name;
      EXPECT_EQ(got.type.primitive, want.type.primitive);
    }
    ASSERT_EQ(decoded->size(), entries.size());
    for (size_t n = 0; n < entries.size(); ++n) {
      const ManifestEntry& w = entries[n];
      const ManifestEntry& g = (*decoded)[n];
      EXPECT_EQ(g.status, w.status);
      EXPECT_EQ(g.snapshot_id, w.snapshot_id);
      EXPECT_EQ(g.sequence_number, w.sequence_number);
      EXPECT_EQ(g.file_sequence_number, w.file_sequence_number);
      EXPECT_EQ(g.data_file.file_path, w.data_file.file_path);
      EXPECT_EQ(g.data_file.file_format, w.data_file.file_format);
      EXPECT_EQ(g.data_file.partition, w.data_file.partition) << n;
      EXPECT_EQ(g.data_file.record_count, w.data_file.record_count);
      EXPECT_EQ(g.data_file.file_size_in_bytes, w.data_file.file_size_in_bytes);
      EXPECT_EQ(g.data_file.column_sizes, w.data_file.column_sizes);
      EXPECT_EQ(g.data_file.value_counts, w.data_file.value_counts);
      EXPECT_EQ(g.data_file.null_value_counts, w.data_file.null_value_counts);
      EXPECT_EQ(g.data_file.lower_bounds, w.data_file.lower_bounds);
      EXPECT_EQ(g.data_file.upper_bounds, w.data_file.upper_bounds);
      EXPECT_EQ(g.data_file.sort_order_id, w.data_file.sort_order_id);
    }
  }
}

TEST(ManifestTest, HeaderMetadataAndFieldIds) {
  auto bytes = EncodeManifest(PartitionedContext(), PartitionedEntries(), kSync, Codec::kNull);
  ASSERT_TRUE(bytes.ok());
  auto file = ReadAvroContainer(*bytes);
  ASSERT_TRUE(file.ok());
  std::vector<std::string> keys;
  for (const auto& [k, v] : file->metadata) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"schema", "schema-id", "partition-spec",
                                            "partition-spec-id", "format-version", "content"}));
  EXPECT_EQ(file->metadata[4].second, "2");
  EXPECT_EQ(file->metadata[5].second, "data");
  // Every record field carries a field-id; the named decimal is defined once.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(file->schema_json).get(root), simdjson::SUCCESS);
  int fields = 0;
  std::function<void(simdjson::dom::element)> walk = [&](simdjson::dom::element e) {
    simdjson::dom::array a;
    if (e.get(a) == simdjson::SUCCESS) {
      for (auto x : a) walk(x);
      return;
    }
    simdjson::dom::object o;
    if (e.get(o) != simdjson::SUCCESS) return;
    simdjson::dom::array fs;
    if (o["fields"].get(fs) == simdjson::SUCCESS) {
      for (auto f : fs) {
        int64_t id = -1;
        EXPECT_EQ(f["field-id"].get(id), simdjson::SUCCESS) << simdjson::to_string(f);
        ++fields;
        walk(f["type"].value());
      }
    }
    std::string_view type;
    if (o["type"].get(type) == simdjson::SUCCESS && type == "array") {
      std::string_view logical;
      if (o["logicalType"].get(logical) != simdjson::SUCCESS) {
        int64_t id = -1;
        EXPECT_EQ(o["element-id"].get(id), simdjson::SUCCESS) << simdjson::to_string(e);
      }
      walk(o["items"].value());
    }
  };
  walk(root);
  EXPECT_EQ(fields, 5 + 17 + 14 + 6 * 2);
  size_t first = file->schema_json.find("\"name\":\"decimal_9_2\"");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(file->schema_json.find("\"name\":\"decimal_9_2\"", first + 1), std::string::npos);
}

TEST(ManifestTest, RefusesValuesThatDoNotFit) {
  ManifestContext c;
  c.partition_type = {PField(1000, "d", "date", true)};
  ManifestEntry e;
  e.data_file.partition = {PartitionValue{}};  // null in a required field
  EXPECT_EQ(EncodeManifest(c, {e}, kSync, Codec::kNull).status().code(),
            absl::StatusCode::kInvalidArgument);
  e.data_file.partition = {PV(PK::kString, 0, "2026-01-01")};  // wrong kind
  EXPECT_FALSE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
  e.data_file.partition = {PV(PK::kInt, int64_t{1} << 40)};  // not an int
  EXPECT_FALSE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
  e.data_file.partition = {};  // one value per field
  EXPECT_FALSE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
  c.partition_type = {PField(1000, "d", "decimal(2,1)")};
  e.data_file.partition = {PV(PK::kDecimal, 0, std::string("\x01\x00", 2))};  // 256: 2 bytes
  EXPECT_FALSE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
  c.partition_type = {};
  e.data_file.partition = {};
  e.status = 3;  // no such status: readers refuse it
  EXPECT_FALSE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
  e.status = 1;
  EXPECT_TRUE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
  c.partition_type = {PField(1000, "d", "varchar")};
  EXPECT_FALSE(EncodeManifest(c, {e}, kSync, Codec::kNull).ok());
}

TEST(ManifestTest, DecimalsAreSignExtendedAndReadBackMinimal) {
  // decimal(20,0) is a fixed of 9 bytes: -1 is 9 bytes of 0xff on the wire.
  ManifestContext c;
  c.partition_type = {PField(1000, "d", "decimal(20,0)")};
  ManifestEntry e;
  e.data_file.partition = {PV(PK::kDecimal, 0, "\xff")};
  auto bytes = EncodeManifest(c, {e}, kSync, Codec::kNull);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_NE(bytes->find(std::string(9, '\xff')), std::string::npos);
  auto back = DecodeManifest(*bytes, nullptr);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].data_file.partition[0], e.data_file.partition[0]);
}

// A delete manifest of two position delete files (one referencing a single data file).
std::vector<ManifestEntry> DeleteEntries() {
  std::vector<ManifestEntry> d(2);
  for (int i = 0; i < 2; ++i) {
    d[i].snapshot_id = kBig + i;
    DataFile& f = d[i].data_file;
    f.content = 1;
    f.file_path = StrCat("file:/t/data/deletes-", i, ".parquet");
    f.record_count = 3 + i;
    f.file_size_in_bytes = 700 + i;
    f.value_counts = {{2147483546, 3 + i}, {2147483545, 3 + i}};
    f.lower_bounds = {{2147483545, std::string("\x00\x00\x00\x00\x00\x00\x00\x00", 8)}};
  }
  d[0].data_file.referenced_data_file = "file:/t/data/a.parquet";
  return d;
}

TEST(ManifestTest, DeleteManifestsRoundTrip) {
  ManifestContext c;
  c.schema_json = R"({"type":"struct","schema-id":0,"fields":[]})";
  c.partition_spec_json = "[]";
  c.content = 1;
  auto bytes = EncodeManifest(c, DeleteEntries(), kSync, Codec::kNull);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ManifestContext back;
  auto entries = DecodeManifest(*bytes, &back);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(back.content, 1);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].data_file.content, 1);
  EXPECT_EQ((*entries)[0].data_file.referenced_data_file, "file:/t/data/a.parquet");
  EXPECT_EQ((*entries)[1].data_file.referenced_data_file, std::nullopt);
  EXPECT_EQ((*entries)[1].data_file.value_counts.at(2147483545), 4);
  // An entry whose content is not its manifest's is refused both ways.
  c.content = 0;
  EXPECT_THAT(EncodeManifest(c, DeleteEntries(), kSync, Codec::kNull).status().message(),
              HasSubstr("content 1 in a data manifest"));
}

TEST(ManifestTest, UnknownManifestContentIsRefused) {
  auto bytes = EncodeManifest(PartitionedContext(), {}, kSync, Codec::kNull);
  ASSERT_TRUE(bytes.ok());
  std::string b = *bytes;
  const size_t at = b.find(
      "\x08"
      "data");
  ASSERT_NE(at, std::string::npos);
  // Same length, so the header stays well formed: "data" -> "dele".
  b.replace(at + 1, 4, "dele");
  EXPECT_EQ(DecodeManifest(b, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ManifestListTest, RoundTripPreservesEveryField) {
  const std::vector<ManifestFile> m = ManifestFiles();
  for (Codec codec : {Codec::kNull, Codec::kDeflate}) {
    auto bytes = EncodeManifestList(m, kBig, 41, 7, kSync, codec);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto decoded = DecodeManifestList(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->size(), 2u);
    for (size_t n = 0; n < 2; ++n) {
      const ManifestFile& w = m[n];
      const ManifestFile& g = (*decoded)[n];
      EXPECT_EQ(g.manifest_path, w.manifest_path);
      EXPECT_EQ(g.manifest_length, w.manifest_length);
      EXPECT_EQ(g.partition_spec_id, w.partition_spec_id);
      EXPECT_EQ(g.content, w.content);
      EXPECT_EQ(g.sequence_number, w.sequence_number);
      EXPECT_EQ(g.min_sequence_number, w.min_sequence_number);
      EXPECT_EQ(g.added_snapshot_id, w.added_snapshot_id);
      EXPECT_EQ(g.added_files_count, w.added_files_count);
      EXPECT_EQ(g.existing_files_count, w.existing_files_count);
      EXPECT_EQ(g.deleted_files_count, w.deleted_files_count);
      EXPECT_EQ(g.added_rows_count, w.added_rows_count);
      EXPECT_EQ(g.existing_rows_count, w.existing_rows_count);
      EXPECT_EQ(g.deleted_rows_count, w.deleted_rows_count);
      ASSERT_EQ(g.partitions.size(), w.partitions.size());
      for (size_t i = 0; i < w.partitions.size(); ++i) {
        EXPECT_EQ(g.partitions[i].contains_null, w.partitions[i].contains_null);
        EXPECT_EQ(g.partitions[i].contains_nan, w.partitions[i].contains_nan);
        EXPECT_EQ(g.partitions[i].lower_bound, w.partitions[i].lower_bound);
        EXPECT_EQ(g.partitions[i].upper_bound, w.partitions[i].upper_bound);
      }
    }
    auto file = ReadAvroContainer(*bytes);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->metadata, (std::vector<std::pair<std::string, std::string>>{
                                  {"snapshot-id", "1152921504606846979"},
                                  {"parent-snapshot-id", "41"},
                                  {"sequence-number", "7"},
                                  {"format-version", "2"}}));
  }
  auto first = ReadAvroContainer(*EncodeManifestList({}, 1, std::nullopt, 1, kSync, Codec::kNull));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->metadata[1],
            (std::pair<std::string, std::string>{"parent-snapshot-id", "null"}));
}

// A manifest list as a v1 writer (or another implementation) writes it: other names for
// the counts, no content or sequence numbers, an extra field, no partitions.
TEST(ManifestListTest, DecodesOtherWritersByName) {
  AvroContainerOptions o;
  o.schema_json = R"({"type":"record","name":"manifest_file","fields":[
    {"name":"manifest_path","type":"string","field-id":500},
    {"name":"extra","type":{"type":"map","values":"long"}},
    {"name":"manifest_length","type":"long","field-id":501},
    {"name":"partition_spec_id","type":"int","field-id":502},
    {"name":"added_snapshot_id","type":["null","long"],"field-id":503},
    {"name":"added_data_files_count","type":["null","int"],"field-id":504},
    {"name":"existing_data_files_count","type":["null","int"],"field-id":505}]})";
  o.sync_marker = kSync;
  std::string rec;
  AvroEncoder e(&rec);
  e.String("m.avro");
  e.BlockCount(1);
  e.String("k");
  e.Long(1);
  e.EndBlocks();
  e.Long(99);
  e.Int(0);
  e.UnionIndex(1);
  e.Long(kBig);
  e.UnionIndex(1);
  e.Int(4);
  e.UnionIndex(0);
  auto decoded = DecodeManifestList(*WriteAvroContainer(o, {rec}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ((*decoded)[0].manifest_path, "m.avro");
  EXPECT_EQ((*decoded)[0].manifest_length, 99);
  EXPECT_EQ((*decoded)[0].added_snapshot_id, kBig);
  EXPECT_EQ((*decoded)[0].added_files_count, 4);
  EXPECT_EQ((*decoded)[0].existing_files_count, 0);
  EXPECT_EQ((*decoded)[0].sequence_number, 0);

  // A required field missing: refused, naming it.
  o.schema_json = R"({"type":"record","name":"manifest_file","fields":[
    {"name":"manifest_path","type":"string"}]})";
  rec.clear();
  AvroEncoder(&rec).String("m.avro");
  auto bad = DecodeManifestList(*WriteAvroContainer(o, {rec}));
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("manifest_length"), std::string::npos);
}

// A manifest with metrics as Avro maps (string keys) and a partition defined without
// field ids: decoded by name.
TEST(ManifestTest, DecodesAvroMapsAndExtraFields) {
  AvroContainerOptions o;
  o.schema_json = R"({"type":"record","name":"manifest_entry","fields":[
    {"name":"status","type":"int"},
    {"name":"snapshot_id","type":"long"},
    {"name":"data_file","type":{"type":"record","name":"r2","fields":[
      {"name":"file_path","type":"string"},
      {"name":"file_format","type":"string"},
      {"name":"partition","type":{"type":"record","name":"r102","fields":[
        {"name":"p","type":["null",{"type":"int","logicalType":"date"}]}]}},
      {"name":"record_count","type":"long"},
      {"name":"file_size_in_bytes","type":"long"},
      {"name":"block_size_in_bytes","type":"long"},
      {"name":"value_counts","type":["null",{"type":"map","values":"long"}]}]}}]})";
  o.metadata = {{"schema", "{}"}, {"partition-spec-id", "5"}};
  o.sync_marker = kSync;
  std::string rec;
  AvroEncoder e(&rec);
  e.Int(1);
  e.Long(8);
  e.String("f.parquet");
  e.String("PARQUET");
  e.UnionIndex(1);
  e.Int(19000);
  e.Long(3);
  e.Long(300);
  e.Long(67108864);
  e.UnionIndex(1);
  e.BlockCount(1);
  e.String("4");
  e.Long(3);
  e.EndBlocks();
  ManifestContext c;
  auto decoded = DecodeManifest(*WriteAvroContainer(o, {rec}), &c);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(c.partition_spec_id, 5);
  ASSERT_EQ(c.partition_type.size(), 1u);
  EXPECT_EQ(c.partition_type[0].type.primitive, "date");
  const ManifestEntry& m = (*decoded)[0];
  EXPECT_EQ(m.snapshot_id, 8);
  EXPECT_EQ(m.data_file.partition, (std::vector<PartitionValue>{PV(PK::kInt, 19000)}));
  EXPECT_EQ(m.data_file.value_counts, (std::map<int, int64_t>{{4, 3}}));
  EXPECT_TRUE(m.data_file.lower_bounds.empty());
}

// ---- Samples for the independent decoders (tests/iceberg) ----

// The expected decoding of a sample in a form both peers can produce: integers and doubles
// as decimal strings, bytes as "hex:..", decimals as "dec:<unscaled>", timestamps as
// microseconds, dates as days.
class Expect {
 public:
  void Raw(std::string_view s) { out_.append(s); }
  void Key(std::string_view k) {
    Comma();
    AppendJsonString(k, &out_);
    out_.push_back(':');
    fresh_ = true;
  }
  void Str(std::string_view s) {
    Comma();
    AppendJsonString(s, &out_);
  }
  void Num(int64_t v) { Str(StrCat(v)); }
  void Dbl(double v) { Str(StrCat(v)); }
  void Hex(std::string_view b) { Str(StrCat("hex:", absl::BytesToHexString(std::string(b)))); }
  void Null() {
    Comma();
    out_.append("null");
  }
  void Bool(bool b) {
    Comma();
    out_.append(b ? "true" : "false");
  }
  void Open(char c) {
    Comma();
    out_.push_back(c);
    fresh_ = true;
  }
  void Close(char c) {
    out_.push_back(c);
    fresh_ = false;
  }
  std::string Take() { return std::move(out_); }

 private:
  void Comma() {
    if (!fresh_ && !out_.empty()) out_.push_back(',');
    fresh_ = false;
  }
  std::string out_;
  bool fresh_ = true;
};

void OptNum(Expect* x, std::optional<int64_t> v) {
  if (v) {
    x->Num(*v);
  } else {
    x->Null();
  }
}

template <typename V>
void MapOrNull(Expect* x, const std::map<int, V>& m) {
  if (m.empty()) {
    x->Null();
    return;
  }
  x->Open('[');
  for (const auto& [k, v] : m) {
    x->Open('{');
    x->Key("key");
    x->Num(k);
    x->Key("value");
    if constexpr (std::is_same_v<V, std::string>) {
      x->Hex(v);
    } else {
      x->Num(v);
    }
    x->Close('}');
  }
  x->Close(']');
}

std::string Unscaled(std::string_view be) {
  __int128 v = be.empty() ? 0 : static_cast<int8_t>(be[0]);
  for (size_t i = 1; i < be.size(); ++i) v = v * 256 + static_cast<uint8_t>(be[i]);
  const bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : v;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  return StrCat(neg ? "-" : "", digits);
}

void ExpectManifest(Expect* x, const ManifestContext& c,
                    const std::vector<ManifestEntry>& entries) {
  x->Key("records");
  x->Open('[');
  for (const ManifestEntry& e : entries) {
    const DataFile& f = e.data_file;
    x->Open('{');
    x->Key("status");
    x->Num(e.status);
    x->Key("snapshot_id");
    OptNum(x, e.snapshot_id);
    x->Key("sequence_number");
    OptNum(x, e.sequence_number);
    x->Key("file_sequence_number");
    OptNum(x, e.file_sequence_number);
    x->Key("data_file");
    x->Open('{');
    x->Key("content");
    x->Num(f.content);
    x->Key("file_path");
    x->Str(f.file_path);
    x->Key("file_format");
    x->Str(f.file_format);
    x->Key("partition");
    x->Open('{');
    for (size_t i = 0; i < f.partition.size(); ++i) {
      const PartitionValue& v = f.partition[i];
      x->Key(c.partition_type[i].name == "9-lives" ? "_9_x2Dlives" : c.partition_type[i].name);
      switch (v.kind) {
        case PK::kNull:
          x->Null();
          break;
        case PK::kInt:
        case PK::kLong:
          x->Num(v.i);
          break;
        case PK::kBoolean:
          x->Bool(v.i != 0);
          break;
        case PK::kDouble:
          x->Dbl(v.d);
          break;
        case PK::kString:
          x->Str(v.s);
          break;
        case PK::kBinary:
          x->Hex(v.s);
          break;
        case PK::kDecimal:
          x->Str(StrCat("dec:", Unscaled(v.s)));
          break;
      }
    }
    x->Close('}');
    x->Key("record_count");
    x->Num(f.record_count);
    x->Key("file_size_in_bytes");
    x->Num(f.file_size_in_bytes);
    x->Key("column_sizes");
    MapOrNull(x, f.column_sizes);
    x->Key("value_counts");
    MapOrNull(x, f.value_counts);
    x->Key("null_value_counts");
    MapOrNull(x, f.null_value_counts);
    x->Key("nan_value_counts");
    x->Null();
    x->Key("lower_bounds");
    MapOrNull(x, f.lower_bounds);
    x->Key("upper_bounds");
    MapOrNull(x, f.upper_bounds);
    for (const char* k : {"key_metadata", "split_offsets", "equality_ids"}) {
      x->Key(k);
      x->Null();
    }
    x->Key("sort_order_id");
    OptNum(x, f.sort_order_id);
    x->Key("referenced_data_file");
    if (f.referenced_data_file)
      x->Str(*f.referenced_data_file);
    else
      x->Null();
    x->Close('}');
    x->Close('}');
  }
  x->Close(']');
}

void ExpectManifestList(Expect* x, const std::vector<ManifestFile>& list) {
  x->Key("records");
  x->Open('[');
  for (const ManifestFile& m : list) {
    x->Open('{');
    x->Key("manifest_path");
    x->Str(m.manifest_path);
    const std::pair<const char*, int64_t> nums[] = {
        {"manifest_length", m.manifest_length},
        {"partition_spec_id", m.partition_spec_id},
        {"content", m.content},
        {"sequence_number", m.sequence_number},
        {"min_sequence_number", m.min_sequence_number},
        {"added_snapshot_id", m.added_snapshot_id},
        {"added_files_count", m.added_files_count},
        {"existing_files_count", m.existing_files_count},
        {"deleted_files_count", m.deleted_files_count},
        {"added_rows_count", m.added_rows_count},
        {"existing_rows_count", m.existing_rows_count},
        {"deleted_rows_count", m.deleted_rows_count}};
    for (const auto& [k, v] : nums) {
      x->Key(k);
      x->Num(v);
    }
    x->Key("partitions");
    x->Open('[');
    for (const FieldSummary& s : m.partitions) {
      x->Open('{');
      x->Key("contains_null");
      x->Bool(s.contains_null);
      x->Key("contains_nan");
      if (s.contains_nan) {
        x->Bool(*s.contains_nan);
      } else {
        x->Null();
      }
      for (const auto& [k, v] :
           {std::pair{"lower_bound", &s.lower_bound}, std::pair{"upper_bound", &s.upper_bound}}) {
        x->Key(k);
        if (*v) {
          x->Hex(**v);
        } else {
          x->Null();
        }
      }
      x->Close('}');
    }
    x->Close(']');
    x->Key("key_metadata");
    x->Null();
    x->Close('}');
  }
  x->Close(']');
}

void Metadata(Expect* x, const std::vector<std::pair<std::string, std::string>>& kv) {
  x->Key("metadata");
  x->Open('{');
  for (const auto& [k, v] : kv) {
    x->Key(k);
    x->Str(v);
  }
  x->Close('}');
}

// Writes sample manifests and manifest lists, and samples.json describing what each
// decodes to, into $LAKEHOSE_AVRO_SAMPLES_DIR (tests/iceberg/avro_peers.test.mjs sets it
// and decodes them with avsc and python3-avro). Skipped when the variable is unset.
TEST(PeerSamples, Write) {
  const char* dir = std::getenv("LAKEHOSE_AVRO_SAMPLES_DIR");
  if (!dir) GTEST_SKIP() << "LAKEHOSE_AVRO_SAMPLES_DIR not set";
  Expect x;
  x.Open('[');
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(StrCat(dir, "/", name), std::ios::binary) << bytes;
    ASSERT_TRUE(std::ifstream(StrCat(dir, "/", name)).good());
  };
  const ManifestContext c = PartitionedContext();
  const std::vector<ManifestEntry> entries = PartitionedEntries();
  ManifestContext unpartitioned;
  unpartitioned.schema_json = R"({"type":"struct","schema-id":0,"fields":[]})";
  unpartitioned.partition_spec_json = "[]";
  std::vector<ManifestEntry> plain(2);
  for (int i = 0; i < 2; ++i) {
    plain[i].snapshot_id = kBig + i;
    plain[i].data_file.file_path = StrCat("file:/t/data/", i, ".parquet");
    plain[i].data_file.record_count = 10 + i;
    plain[i].data_file.file_size_in_bytes = 1000 + i;
    plain[i].data_file.lower_bounds = {{1, std::string("\x01\x00\x00\x00", 4)}};
    plain[i].data_file.upper_bounds = {{1, std::string("\x09\x00\x00\x00", 4)}};
  }
  struct Sample {
    std::string name;
    bool list;
    Codec codec;
  };
  // A manifest of 3,000 files: several blocks, over 256 KiB before deflate (icebird's
  // inflater went wrong past 256 KiB of one block's output).
  std::vector<ManifestEntry> many(3000);
  for (size_t i = 0; i < many.size(); ++i) {
    many[i].snapshot_id = kBig;
    many[i].data_file.file_path =
        StrCat("file:/lake/ns/tbl/data/region=EU/_event_time_hour=2023-11-15-00/t-w1-", 1000000 + i,
               "-0a1b2c3d.parquet");
    many[i].data_file.record_count = static_cast<int64_t>(i) + 1;
    many[i].data_file.file_size_in_bytes = 4000 + static_cast<int64_t>(i);
    many[i].data_file.lower_bounds = {{1, std::string("\x01\x00\x00\x00", 4)}};
    many[i].data_file.upper_bounds = {{1, std::string("\x09\x00\x00\x00", 4)}};
  }
  for (const Sample& s : {Sample{"manifest_partitioned.avro", false, Codec::kNull},
                          Sample{"manifest_unpartitioned_deflate.avro", false, Codec::kDeflate},
                          Sample{"manifest_large_deflate.avro", false, Codec::kDeflate},
                          Sample{"manifest_deletes.avro", false, Codec::kNull},
                          Sample{"manifest_list.avro", true, Codec::kNull},
                          Sample{"manifest_list_first_deflate.avro", true, Codec::kDeflate}}) {
    x.Open('{');
    x.Key("file");
    x.Str(s.name);
    x.Key("kind");
    x.Str(s.list ? "manifest_list" : "manifest");
    x.Key("codec");
    x.Str(s.codec == Codec::kDeflate ? "deflate" : "null");
    if (!s.list) {
      const bool part = s.name == "manifest_partitioned.avro";
      const bool deletes = s.name == "manifest_deletes.avro";
      ManifestContext delete_ctx = unpartitioned;
      delete_ctx.content = 1;
      const std::vector<ManifestEntry> delete_entries = DeleteEntries();
      const ManifestContext& ctx = part ? c : deletes ? delete_ctx : unpartitioned;
      const std::vector<ManifestEntry>& es = part      ? entries
                                             : deletes ? delete_entries
                                             : s.name == "manifest_large_deflate.avro" ? many
                                                                                       : plain;
      auto bytes = EncodeManifest(ctx, es, kSync, s.codec);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      write(s.name, *bytes);
      Metadata(&x, {{"schema", ctx.schema_json},
                    {"schema-id", StrCat(ctx.schema_id)},
                    {"partition-spec", ctx.partition_spec_json},
                    {"partition-spec-id", StrCat(ctx.partition_spec_id)},
                    {"format-version", "2"},
                    {"content", ctx.content == 0 ? "data" : "deletes"}});
      x.Key("partition_fields");
      x.Open('[');
      for (const Field& f : ctx.partition_type) {
        x.Open('{');
        x.Key("name");
        x.Str(f.name == "9-lives" ? "_9_x2Dlives" : f.name);
        x.Key("field-id");
        x.Num(f.id);
        x.Key("type");
        x.Str(f.type.primitive);
        x.Key("required");
        x.Bool(f.required);
        x.Close('}');
      }
      x.Close(']');
      ExpectManifest(&x, ctx, es);
    } else {
      const bool first = s.codec == Codec::kDeflate;
      const std::vector<ManifestFile> list =
          first ? std::vector<ManifestFile>{ManifestFiles()[1]} : ManifestFiles();
      const std::optional<int64_t> parent = first ? std::nullopt : std::optional<int64_t>(kBig - 1);
      auto bytes = EncodeManifestList(list, kBig, parent, 7, kSync, s.codec);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      write(s.name, *bytes);
      Metadata(&x, {{"snapshot-id", StrCat(kBig)},
                    {"parent-snapshot-id", parent ? StrCat(*parent) : "null"},
                    {"sequence-number", "7"},
                    {"format-version", "2"}});
      ExpectManifestList(&x, list);
    }
    x.Close('}');
  }
  x.Close(']');
  write("samples.json", x.Take());
  // A position delete file (position_deletes.h), for DuckDB: given out of order and with
  // a repeat, written sorted and distinct.
  absl::StatusOr<PositionDeleteFile> deletes =
      EncodePositionDeletes({{"s3://b/t/data/b.parquet", 7},
                             {"s3://b/t/data/a.parquet", 9},
                             {"s3://b/t/data/a.parquet", 2},
                             {"s3://b/t/data/b.parquet", 7}},
                            {});
  ASSERT_TRUE(deletes.ok()) << deletes.status();
  write("position_deletes.parquet", deletes->bytes);
}

}  // namespace
}  // namespace lakehose::iceberg
