#include "core/parquet/footer.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace parquet_internal {
namespace {

using absl::BytesToHexString;

std::string Footer(const std::vector<ParquetColumn>& columns, size_t leaves,
                   const std::vector<RowGroupMeta>& groups = {}) {
  std::string file;
  AppendFooter(columns, leaves, groups, 0, {}, ParquetOptions{}, &file);
  return file;
}

// The FileMetaData of a file with one REQUIRED INT64 column "n" and no rows, worked by
// hand from the compact protocol.
TEST(FooterTest, OneColumnNoRows) {
  const std::string f = Footer({{"n", ParquetType::kInt64, 0, true}}, 1);
  const std::string meta =
      "1502"                  // 1: version 1
      "192c"                  // 2: schema, a list of 2 structs
      "4806736368656d61"      //   4: name "schema"
      "150200"                //   5: num_children 1; stop
      "1504"                  //   1: type INT64
      "2500"                  //   3: repetition REQUIRED
      "18016e"                //   4: name "n"
      "00"                    //   stop
      "1600"                  // 3: num_rows 0
      "190c"                  // 4: row_groups, none
      "190c"                  // 5: key_value_metadata, none
      "18086c616b65686f7365"  // 6: created_by "lakehose"
      "191c"                  // 7: column_orders, 1 struct
      "1c0000"                //   1: TYPE_ORDER {}; stop
      "00";                   // stop
  EXPECT_EQ(BytesToHexString(f), meta + "2d000000" + BytesToHexString("PAR1"));
}

// A LIST is three schema elements: the optional LIST group, its repeated group "list",
// the element.
TEST(FooterTest, ListSchemaElements) {
  const ParquetColumn l{"l", ParquetType::kList, 0, false, {{"element", ParquetType::kInt64}}};
  const std::string f = BytesToHexString(Footer({l}, 1));
  const std::string elements =
      "3502"                                     // 3: repetition OPTIONAL
      "18016c"                                   // 4: name "l"
      "1502"                                     // 5: num_children 1
      "1506"                                     // 6: converted_type LIST
      "4c3c0000"                                 // 10: logicalType { 3: LIST {} }
      "00"                                       // stop
      "3504"                                     // 3: repetition REPEATED
      "18046c697374"                             // 4: name "list"
      "1502"                                     // 5: num_children 1
      "00"                                       // stop
      "1504"                                     // 1: type INT64
      "2502"                                     // 3: repetition OPTIONAL
      "1807656c656d656e74"                       // 4: name "element"
      "00";                                      // stop
  EXPECT_NE(f.find("194c"), std::string::npos);  // four schema elements with the root
  EXPECT_NE(f.find(elements), std::string::npos) << f;
}

TEST(FooterTest, DecimalAndTimestampLogicalTypes) {
  const std::string d = BytesToHexString(Footer({{"d", ParquetType::kDecimal, 2}}, 1));
  EXPECT_NE(d.find("150e"      // 1: type FIXED_LEN_BYTE_ARRAY
                   "1520"      // 2: type_length 16
                   "1502"      // 3: repetition OPTIONAL
                   "180164"    // 4: name "d"
                   "250a"      // 6: converted_type DECIMAL
                   "1504"      // 7: scale 2
                   "154c"      // 8: precision 38
                   "2c5c"      // 10: logicalType { 5: DECIMAL {
                   "1504154c"  //   scale 2, precision 38
                   "000000"),  // } } stop
            std::string::npos)
      << d;
  const std::string t = BytesToHexString(Footer({{"t", ParquetType::kTimestampMillis}}, 1));
  EXPECT_NE(t.find("2512"      // 6: converted_type TIMESTAMP_MILLIS
                   "4c"        // 10: logicalType {
                   "8c"        //   8: TIMESTAMP {
                   "11"        //     1: isAdjustedToUTC true
                   "1c1c0000"  //     2: unit { 1: MILLIS {} }
                   "000000"),  // } } stop
            std::string::npos)
      << t;
}

TEST(FooterTest, RowGroupsDescribeTheirChunks) {
  ChunkMeta m;
  m.type = ParquetType::kInt64;
  m.name = "n";
  m.path = {"n"};
  m.num_values = 3;
  m.uncompressed = 39;
  m.compressed = 39;
  m.start = 4;
  m.data_page_offset = 4;
  m.stats.null_count = 1;
  RowGroupMeta rg;
  rg.rows = 3;
  rg.chunks.push_back(m);
  const std::string f = BytesToHexString(Footer({{"n", ParquetType::kInt64}}, 1, {rg}));
  const std::string chunk =
      "2608"  // 2: file_offset 4
      "1c"    // 3: meta_data {
      "1504"  //   1: type INT64
      "1925"  //   2: encodings [2 x i32]
      "0006"  //      PLAIN, RLE
      "1918"  //   3: path_in_schema [1 x binary]
      "016e"  //      "n"
      "1502"  //   4: codec SNAPPY
      "1606"  //   5: num_values 3
      "164e"  //   6: total_uncompressed_size 39
      "164e"  //   7: total_compressed_size 39
      "2608"  //   9: data_page_offset 4
      "3c"    //   12: statistics {
      "3602"  //     3: null_count 1
      "00"    //   }
      "00"    // }
      "00";   // stop
  EXPECT_NE(f.find(chunk), std::string::npos) << f;
  EXPECT_NE(f.find("164e"      // 2: total_byte_size 39
                   "1606"      // 3: num_rows 3
                   "2608"      // 5: file_offset 4
                   "164e"      // 6: total_compressed_size 39
                   "140000"),  // 7: ordinal 0; stop
            std::string::npos)
      << f;
}

}  // namespace
}  // namespace parquet_internal
}  // namespace lakehose
