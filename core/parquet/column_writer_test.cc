#include "core/parquet/column_writer.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/parquet/encoding.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

using absl::BytesToHexString;

ParquetOptions Uncompressed() {
  ParquetOptions o;
  o.codec = ParquetCodec::kNone;
  return o;
}

// An optional INT64 column holding 7, null, 9: one PLAIN data page v1, worked by hand.
TEST(ColumnWriterTest, PlainPageBytes) {
  const ParquetColumn col{"n", ParquetType::kInt64};
  const Leaf leaf = FlatLeaf(col);
  ChunkValues v;
  v.defined = {1, 0, 1};
  v.ints = {7, 9};
  std::string file = "PAR1";
  ChunkMeta m;
  ASSERT_TRUE(WriteColumnChunk(leaf, v, Uncompressed(), &file, &m).ok());
  EXPECT_EQ(BytesToHexString(file.substr(4)),
            // PageHeader: type DATA_PAGE, uncompressed and compressed size 22 (zigzag 44),
            // data_page_header { num_values 3, encoding PLAIN, RLE, RLE }.
            "1500152c152c2c"
            "150615001506150600"
            "00"
            // Definition levels 1,0,1: length 2, one bit-packed group 0b101.
            "020000000305"
            // The two values, PLAIN.
            "0700000000000000"
            "0900000000000000");
  EXPECT_EQ(m.start, 4);
  EXPECT_EQ(m.data_page_offset, 4);
  EXPECT_EQ(m.dictionary_page_offset, -1);
  EXPECT_FALSE(m.dictionary);
  EXPECT_EQ(m.num_values, 3);
  EXPECT_EQ(m.data_pages, 1);
  EXPECT_EQ(m.uncompressed, 17 + 22);
  EXPECT_EQ(m.compressed, 17 + 22);
  EXPECT_EQ(m.name, "n");
  EXPECT_EQ(m.stats.null_count, 1);
  EXPECT_EQ(m.stats.min, Int64Bytes(7));
}

// A string column with few distinct values: a PLAIN dictionary page, then an
// RLE_DICTIONARY data page of bit-width-prefixed indices.
TEST(ColumnWriterTest, DictionaryPageBytes) {
  const ParquetColumn col{"s", ParquetType::kString};
  ChunkValues v;
  v.defined = {1, 1, 1, 1};
  v.bytes = {"a", "a", "b", "a"};
  std::string file;
  ChunkMeta m;
  ASSERT_TRUE(WriteColumnChunk(FlatLeaf(col), v, Uncompressed(), &file, &m).ok());
  EXPECT_TRUE(m.dictionary);
  EXPECT_EQ(m.dictionary_page_offset, 0);
  EXPECT_EQ(m.data_page_offset, 23);
  EXPECT_EQ(BytesToHexString(file),
            // PageHeader: DICTIONARY_PAGE, sizes 10, dictionary_page_header { 2 values,
            // PLAIN }; then "a", "b".
            "1504151415144c1504150000"
            "00"
            "0100000061"
            "0100000062"
            // PageHeader: DATA_PAGE, sizes 9, { 4 values, RLE_DICTIONARY, RLE, RLE }.
            "1500151215122c"
            "150815101506150600"
            "00"
            // Levels 1,1,1,1; index bit width 1; indices 0,0,1,0.
            "02000000030f"
            "01"
            "0304");
}

TEST(ColumnWriterTest, PagesAreCutByValueBytes) {
  const ParquetColumn col{"n", ParquetType::kInt64, 0, true};
  ChunkValues v;
  v.defined = {1, 1, 1, 1, 1};
  v.ints = {1, 2, 3, 4, 5};
  ParquetOptions o = Uncompressed();
  o.page_bytes = 16;  // two values a page
  std::string file;
  ChunkMeta m;
  ASSERT_TRUE(WriteColumnChunk(FlatLeaf(col), v, o, &file, &m).ok());
  EXPECT_EQ(m.data_pages, 3);
  EXPECT_EQ(m.num_values, 5);
}

TEST(ColumnWriterTest, PagesEndOnlyWhereARecordStarts) {
  // A leaf under a LIST: records of three entries each (rep 0, 1, 1).
  const ParquetColumn list{"l", ParquetType::kList, 0, false, {{"element", ParquetType::kInt64}}};
  ShredNode root;
  std::vector<Leaf> leaves = PlanColumn(list, &root);
  ASSERT_EQ(leaves.size(), 1u);
  ChunkValues v;
  for (int r = 0; r < 4; ++r) {
    for (int i = 0; i < 3; ++i) {
      v.rep.push_back(i == 0 ? 0 : 1);
      v.defined.push_back(3);
      v.ints.push_back(r * 3 + i);
    }
  }
  ParquetOptions o = Uncompressed();
  o.page_bytes = 1;
  std::string file;
  ChunkMeta m;
  ASSERT_TRUE(WriteColumnChunk(leaves[0], v, o, &file, &m).ok());
  EXPECT_EQ(m.data_pages, 4);  // one record a page, however small the target
  EXPECT_EQ(m.num_values, 12);
  EXPECT_EQ(m.name, "l.list.element");
  EXPECT_EQ(m.path, (std::vector<std::string>{"l", "list", "element"}));
}

TEST(ColumnWriterTest, EveryCodecCompressesPages) {
  const ParquetColumn col{"s", ParquetType::kString};
  ChunkValues v;
  const std::string text(1000, 'x');
  const std::string other = text + "y";
  v.defined = {1, 1};
  v.bytes = {text, other};
  for (ParquetCodec c : {ParquetCodec::kSnappy, ParquetCodec::kGzip, ParquetCodec::kZstd}) {
    ParquetOptions o;
    o.codec = c;
    std::string file;
    ChunkMeta m;
    ASSERT_TRUE(WriteColumnChunk(FlatLeaf(col), v, o, &file, &m).ok());
    EXPECT_LT(m.compressed, m.uncompressed);
    EXPECT_EQ(static_cast<int64_t>(file.size()), m.compressed);
  }
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
