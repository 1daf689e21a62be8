#include "core/iceberg/avro.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace lakehose::iceberg {
namespace {

using absl::BytesToHexString;

const std::string kSync = "0123456789abcdef";

std::string Hex(void (*write)(AvroEncoder&)) {
  std::string out;
  AvroEncoder e(&out);
  write(e);
  return BytesToHexString(out);
}

// The zigzag varint examples of the Avro specification ("Binary Encoding").
TEST(AvroEncoderTest, ZigzagExamplesFromTheSpec) {
  const std::pair<int64_t, std::string> cases[] = {{0, "00"}, {-1, "01"},  {1, "02"},   {-2, "03"},
                                                   {2, "04"}, {-64, "7f"}, {64, "8001"}};
  for (const auto& [v, hex] : cases) {
    std::string out;
    AvroEncoder(&out).Long(v);
    EXPECT_EQ(BytesToHexString(out), hex) << v;
    out.clear();
    AvroEncoder(&out).Int(static_cast<int32_t>(v));
    EXPECT_EQ(BytesToHexString(out), hex) << v;
  }
  std::string out;
  AvroEncoder(&out).Long(INT64_MAX);
  EXPECT_EQ(BytesToHexString(out), "feffffffffffffffff01");
  out.clear();
  AvroEncoder(&out).Long(INT64_MIN);
  EXPECT_EQ(BytesToHexString(out), "ffffffffffffffffff01");
}

TEST(AvroEncoderTest, PrimitivesAndBlocks) {
  // The spec's example: the string "foo" is 06 66 6f 6f.
  EXPECT_EQ(Hex([](AvroEncoder& e) { e.String("foo"); }), "06666f6f");
  EXPECT_EQ(Hex([](AvroEncoder& e) { e.Bytes(""); }), "00");
  EXPECT_EQ(Hex([](AvroEncoder& e) { e.Fixed("ab"); }), "6162");
  EXPECT_EQ(Hex([](AvroEncoder& e) {
              e.Bool(true);
              e.Bool(false);
              e.Null();
            }),
            "0100");
  EXPECT_EQ(Hex([](AvroEncoder& e) { e.Float(1.0f); }), "0000803f");
  EXPECT_EQ(Hex([](AvroEncoder& e) { e.Double(-2.0); }), "00000000000000c0");
  EXPECT_EQ(Hex([](AvroEncoder& e) {
              e.UnionIndex(1);
              e.Long(3);
            }),
            "0206");
  // The spec's array example: {3, 27} as one block of 2 items: 04 06 36 00.
  EXPECT_EQ(Hex([](AvroEncoder& e) {
              e.BlockCount(2);
              e.Long(3);
              e.Long(27);
              e.EndBlocks();
            }),
            "04063600");
  EXPECT_EQ(Hex([](AvroEncoder& e) {
              e.BlockCount(0);
              e.EndBlocks();
            }),
            "00");
}

constexpr char kAllTypes[] = R"({"type":"record","name":"all","namespace":"t","fields":[
  {"name":"n","type":"null"},
  {"name":"b","type":"boolean"},
  {"name":"i","type":"int","field-id":1},
  {"name":"l","type":{"type":"long","logicalType":"timestamp-micros"}},
  {"name":"f","type":"float"},
  {"name":"d","type":"double"},
  {"name":"by","type":"bytes"},
  {"name":"s","type":"string"},
  {"name":"fx","type":{"type":"fixed","name":"f2","size":2}},
  {"name":"fx2","type":"f2"},
  {"name":"e","type":{"type":"enum","name":"color","symbols":["R","G","B"]}},
  {"name":"a","type":{"type":"array","items":"long","element-id":7}},
  {"name":"m","type":{"type":"map","values":["null","string"]}},
  {"name":"u","type":["null","t.all2"]},
  {"name":"r","type":{"type":"record","name":"all2","fields":[{"name":"x","type":"int"}]}}
]})";

// Note: "u" refers to t.all2 before it is defined: refused; see UnknownNameIsRefused.
constexpr char kAllTypesOrdered[] = R"({"type":"record","name":"all","namespace":"t","fields":[
  {"name":"n","type":"null"},
  {"name":"b","type":"boolean"},
  {"name":"i","type":"int","field-id":1},
  {"name":"l","type":{"type":"long","logicalType":"timestamp-micros"}},
  {"name":"f","type":"float"},
  {"name":"d","type":"double"},
  {"name":"by","type":"bytes"},
  {"name":"s","type":"string"},
  {"name":"fx","type":{"type":"fixed","name":"f2","size":2}},
  {"name":"fx2","type":"f2"},
  {"name":"e","type":{"type":"enum","name":"color","symbols":["R","G","B"]}},
  {"name":"a","type":{"type":"array","items":"long","element-id":7}},
  {"name":"m","type":{"type":"map","values":["null","string"]}},
  {"name":"r","type":{"type":"record","name":"all2","fields":[{"name":"x","type":"int"}]}},
  {"name":"u","type":["null","t.all2"]}
]})";

std::string AllTypesRecord(int64_t seed) {
  std::string out;
  AvroEncoder e(&out);
  e.Null();
  e.Bool(seed % 2 == 0);
  e.Int(static_cast<int32_t>(-seed));
  e.Long((int64_t{1} << 60) + seed);
  e.Float(1.5f);
  e.Double(-0.25);
  e.Bytes(std::string("\0\xff", 2));
  e.String("h\xc3\xa9");
  e.Fixed("xy");
  e.Fixed("zw");
  e.Int(2);  // enum B
  e.BlockCount(2);
  e.Long(seed);
  e.Long(-seed);
  e.EndBlocks();
  e.BlockCount(2);
  e.String("k1");
  e.UnionIndex(0);
  e.String("k2");
  e.UnionIndex(1);
  e.String("v");
  e.EndBlocks();
  e.Int(42);        // r.x
  e.UnionIndex(1);  // u: all2
  e.Int(43);
  return out;
}

void ExpectAllTypes(const AvroValue& r, int64_t seed) {
  using K = AvroValue::Kind;
  ASSERT_EQ(r.kind, K::kRecord);
  ASSERT_EQ(r.fields.size(), 15u);
  EXPECT_EQ(r.fields[0].first, "n");
  EXPECT_TRUE(r.Find("n")->is_null());
  EXPECT_EQ(r.Find("b")->b, seed % 2 == 0);
  EXPECT_EQ(r.Find("i")->l, -seed);
  EXPECT_EQ(r.Find("l")->l, (int64_t{1} << 60) + seed);
  EXPECT_EQ(r.Find("f")->d, 1.5);
  EXPECT_EQ(r.Find("d")->d, -0.25);
  EXPECT_EQ(r.Find("by")->kind, K::kBytes);
  EXPECT_EQ(r.Find("by")->s, std::string("\0\xff", 2));
  EXPECT_EQ(r.Find("s")->kind, K::kString);
  EXPECT_EQ(r.Find("s")->s, "h\xc3\xa9");
  EXPECT_EQ(r.Find("fx")->kind, K::kFixed);
  EXPECT_EQ(r.Find("fx")->s, "xy");
  EXPECT_EQ(r.Find("fx2")->s, "zw");
  EXPECT_EQ(r.Find("e")->kind, K::kEnum);
  EXPECT_EQ(r.Find("e")->l, 2);
  ASSERT_EQ(r.Find("a")->items.size(), 2u);
  EXPECT_EQ(r.Find("a")->items[1].l, -seed);
  const AvroValue* m = r.Find("m");
  ASSERT_EQ(m->kind, K::kMap);
  ASSERT_EQ(m->fields.size(), 2u);
  EXPECT_EQ(m->fields[0].first, "k1");
  EXPECT_TRUE(m->fields[0].second.is_null());
  EXPECT_EQ(m->fields[0].second.union_branch, 0);
  EXPECT_EQ(m->fields[1].second.s, "v");
  EXPECT_EQ(m->fields[1].second.union_branch, 1);
  EXPECT_EQ(r.Find("r")->Find("x")->l, 42);
  EXPECT_EQ(r.Find("u")->union_branch, 1);
  EXPECT_EQ(r.Find("u")->Find("x")->l, 43);
}

TEST(AvroContainerTest, RoundTripEveryTypeBothCodecs) {
  for (auto codec : {AvroContainerOptions::Codec::kNull, AvroContainerOptions::Codec::kDeflate}) {
    AvroContainerOptions o;
    o.schema_json = kAllTypesOrdered;
    o.metadata = {{"k", "v"}, {"empty", ""}};
    o.codec = codec;
    o.sync_marker = kSync;
    o.max_block_records = 3;  // 7 records: blocks of 3, 3, 1
    std::vector<std::string> records;
    for (int i = 0; i < 7; ++i) records.push_back(AllTypesRecord(i));
    auto file = WriteAvroContainer(o, records);
    ASSERT_TRUE(file.ok()) << file.status();
    auto read = ReadAvroContainer(*file);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->schema_json, kAllTypesOrdered);  // verbatim, field ids and all
    EXPECT_EQ(read->metadata, o.metadata);
    ASSERT_EQ(read->records.size(), 7u);
    for (int i = 0; i < 7; ++i) ExpectAllTypes(read->records[i], i);
  }
}

// Blocks end at max_block_bytes (before compression); a larger record is a block alone.
TEST(AvroContainerTest, BlocksAreBoundedInBytes) {
  std::vector<std::string> records;
  for (int i = 0; i < 7; ++i) records.push_back(AllTypesRecord(i));
  auto blocks = [&](int64_t max_bytes) {
    AvroContainerOptions o;
    o.schema_json = kAllTypesOrdered;
    o.sync_marker = kSync;
    o.max_block_bytes = max_bytes;
    auto file = WriteAvroContainer(o, records);
    EXPECT_TRUE(file.ok()) << file.status();
    auto read = ReadAvroContainer(*file);
    EXPECT_TRUE(read.ok() && read->records.size() == 7u);
    size_t markers = 0;
    for (size_t at = file->find(kSync); at != std::string::npos; at = file->find(kSync, at + 1))
      ++markers;
    return static_cast<int>(markers) - 1;  // the header's
  };
  EXPECT_EQ(blocks(1), 7);
  EXPECT_EQ(blocks(1 << 20), 1);
  const int64_t two = static_cast<int64_t>(
      std::max(records[0].size() + records[1].size(), records[2].size() + records[3].size()));
  EXPECT_GE(blocks(two), 4);
  EXPECT_LE(blocks(two), 7);
}

TEST(AvroContainerTest, HeaderLayout) {
  AvroContainerOptions o;
  o.schema_json = "\"long\"";
  o.sync_marker = kSync;
  auto file = WriteAvroContainer(o, {});
  ASSERT_TRUE(file.ok());
  // Magic, a map block of 2 entries, avro.schema, avro.codec "null", end, sync.
  std::string expected("Obj\x01", 4);
  expected +=
      "\x04\x16"
      "avro.schema"
      "\x0c\"long\""
      "\x14"
      "avro.codec"
      "\x08"
      "null";
  expected.push_back('\0');
  expected += kSync;
  EXPECT_EQ(*file, expected);
  auto read = ReadAvroContainer(*file);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());
}

TEST(AvroContainerTest, WriterRefusesWhatReadersRefuse) {
  AvroContainerOptions o;
  o.schema_json = "\"long\"";
  o.sync_marker = "short";
  EXPECT_EQ(WriteAvroContainer(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  o.sync_marker = kSync;
  o.metadata = {{"avro.codec", "x"}};
  EXPECT_EQ(WriteAvroContainer(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  o.metadata.clear();
  o.schema_json = "{\"type\":\"nope\"}";
  EXPECT_EQ(WriteAvroContainer(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  o.schema_json = "\"long\"";
  o.max_block_records = 0;
  EXPECT_EQ(WriteAvroContainer(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AvroContainerTest, UnknownNameIsRefused) {
  // A reference to a type defined later in the schema is not a known name (the spec: a
  // name must be defined before it is used).
  auto parsed = [](const char* schema) {
    AvroContainerOptions o;
    o.schema_json = schema;
    o.sync_marker = kSync;
    return WriteAvroContainer(o, {}).status();
  };
  EXPECT_FALSE(parsed(kAllTypes).ok());
  EXPECT_TRUE(parsed(kAllTypesOrdered).ok());
}

std::string LongsFile(const std::vector<int64_t>& values,
                      AvroContainerOptions::Codec codec = AvroContainerOptions::Codec::kNull) {
  AvroContainerOptions o;
  o.schema_json = "\"long\"";
  o.sync_marker = kSync;
  o.codec = codec;
  std::vector<std::string> records;
  for (int64_t v : values) AvroEncoder(&records.emplace_back()).Long(v);
  return *WriteAvroContainer(o, records);
}

TEST(AvroContainerTest, EveryTruncationIsAnErrorOrAShorterFile) {
  for (auto codec : {AvroContainerOptions::Codec::kNull, AvroContainerOptions::Codec::kDeflate}) {
    AvroContainerOptions o;
    o.schema_json = kAllTypesOrdered;
    o.sync_marker = kSync;
    o.codec = codec;
    o.max_block_records = 2;
    std::vector<std::string> records;
    for (int i = 0; i < 4; ++i) records.push_back(AllTypesRecord(i));
    const std::string file = *WriteAvroContainer(o, records);
    size_t header_only = 0;
    for (size_t n = 0; n < file.size(); ++n) {
      auto read = ReadAvroContainer(std::string_view(file).substr(0, n));
      if (read.ok()) {
        // Only where a block ends: the header alone, or after block 1.
        EXPECT_LT(read->records.size(), 4u) << n;
        ++header_only;
      } else {
        EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << n;
      }
    }
    EXPECT_EQ(header_only, 2u);
  }
}

TEST(AvroContainerTest, BadSyncMarkerNamesTheBlock) {
  std::string file = LongsFile({1, 2, 3});
  file.back() ^= 1;
  auto read = ReadAvroContainer(file);
  ASSERT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("block 0"), std::string::npos) << read.status();
  EXPECT_NE(read.status().message().find("sync marker"), std::string::npos) << read.status();
}

TEST(AvroContainerTest, HugeCountsAreRefusedBeforeAnyAllocation) {
  const std::string good = LongsFile({});
  // A block announcing 2^40 records in 3 bytes.
  std::string file = good;
  AvroEncoder e(&file);
  e.Long(int64_t{1} << 40);
  e.Bytes("\x02\x04\x06");
  file += kSync;
  auto read = ReadAvroContainer(file);
  ASSERT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("count"), std::string::npos) << read.status();

  // An array block announcing 2^50 items.
  AvroContainerOptions o;
  o.schema_json = R"({"type":"array","items":"long"})";
  o.sync_marker = kSync;
  std::string record;
  AvroEncoder(&record).Long(int64_t{1} << 50);
  read = ReadAvroContainer(*WriteAvroContainer(o, {record}));
  ASSERT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("record 0"), std::string::npos) << read.status();

  // An array of nulls takes no bytes: its count is held to the zero-size budget.
  o.schema_json = R"({"type":"array","items":"null"})";
  record.clear();
  AvroEncoder(&record).Long(int64_t{1} << 40);
  read = ReadAvroContainer(*WriteAvroContainer(o, {record}));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  record.clear();
  AvroEncoder r(&record);
  r.BlockCount(1000);
  r.EndBlocks();
  read = ReadAvroContainer(*WriteAvroContainer(o, {record}));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->records[0].items.size(), 1000u);

  // A string longer than the block.
  o.schema_json = "\"string\"";
  record.clear();
  AvroEncoder(&record).Long(1000);
  read = ReadAvroContainer(*WriteAvroContainer(o, {record}));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AvroContainerTest, NegativeBlockCountCarriesASize) {
  AvroContainerOptions o;
  o.schema_json = R"({"type":"array","items":"long"})";
  o.sync_marker = kSync;
  std::string record;
  AvroEncoder e(&record);
  e.Long(-2);  // 2 items, then the block's byte size
  e.Long(2);
  e.Long(5);
  e.Long(-6);
  e.EndBlocks();
  auto read = ReadAvroContainer(*WriteAvroContainer(o, {record}));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->records[0].items.size(), 2u);
  EXPECT_EQ(read->records[0].items[1].l, -6);
}

TEST(AvroContainerTest, RecursionIsBounded) {
  // A record that contains itself directly never ends: the depth limit stops it.
  AvroContainerOptions o;
  o.schema_json = R"({"type":"record","name":"n","fields":[{"name":"next","type":"n"}]})";
  o.sync_marker = kSync;
  auto read = ReadAvroContainer(*WriteAvroContainer(o, {""}));
  ASSERT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("deeper"), std::string::npos) << read.status();

  // A linked list through a union decodes, up to the limit.
  o.schema_json =
      R"({"type":"record","name":"n","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","n"]}]})";
  auto list = [&](int length) {
    std::string rec;
    AvroEncoder e(&rec);
    for (int i = 0; i < length; ++i) {
      e.Long(i);
      e.UnionIndex(i + 1 < length ? 1 : 0);
    }
    return ReadAvroContainer(*WriteAvroContainer(o, {rec}));
  };
  EXPECT_TRUE(list(10).ok());
  EXPECT_EQ(list(1000).status().code(), absl::StatusCode::kInvalidArgument);

  // A schema nested deeper than the limit.
  std::string deep = "\"long\"";
  for (int i = 0; i < 100; ++i) deep = "{\"type\":\"array\",\"items\":" + deep + "}";
  o.schema_json = deep;
  EXPECT_FALSE(WriteAvroContainer(o, {}).ok());
}

TEST(AvroContainerTest, DamagedValues) {
  auto one = [](const char* schema, std::string record) {
    AvroContainerOptions o;
    o.schema_json = schema;
    o.sync_marker = kSync;
    return ReadAvroContainer(*WriteAvroContainer(o, {record})).status();
  };
  EXPECT_FALSE(one("\"boolean\"", "\x02").ok());                // not 0 or 1
  EXPECT_FALSE(one("\"int\"", "\x80\x80\x80\x80\x20").ok());    // beyond int32
  EXPECT_FALSE(one("\"long\"", std::string(11, '\xff')).ok());  // varint over 64 bits
  EXPECT_FALSE(one(R"(["null","long"])", "\x04").ok());         // branch 2 of 2
  EXPECT_FALSE(one(R"({"type":"enum","name":"e","symbols":["a"]})", "\x02").ok());
  EXPECT_FALSE(one("\"double\"", "1234").ok());
  EXPECT_FALSE(one("\"long\"", "\x02\x02").ok());  // a byte left over
  EXPECT_TRUE(one("\"long\"", "\x02").ok());
}

TEST(AvroContainerTest, UnsupportedCodecAndBadMagic) {
  std::string file = LongsFile({1});
  const size_t at = file.find("null");
  file.replace(at, 4, "zstd");
  EXPECT_EQ(ReadAvroContainer(file).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ReadAvroContainer("Obj\x02").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadAvroContainer("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AvroContainerTest, DeflateIsRawDeflate) {
  std::vector<int64_t> values(1000, 7);
  const std::string plain = LongsFile(values);
  const std::string deflated = LongsFile(values, AvroContainerOptions::Codec::kDeflate);
  EXPECT_LT(deflated.size(), plain.size() / 10);
  auto read = ReadAvroContainer(deflated);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->records.size(), 1000u);
  EXPECT_EQ(read->records[999].l, 7);
}

}  // namespace
}  // namespace lakehose::iceberg
