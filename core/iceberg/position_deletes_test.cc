#include "core/iceberg/position_deletes.h"

#include <string>
#include <vector>

#include "core/parquet/parquet_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose::iceberg {
namespace {

using ::testing::HasSubstr;

TEST(PositionDeletes, SortedDistinctWithTheSpecsFieldIdsAndMetrics) {
  ParquetOptions o;
  o.codec = ParquetCodec::kZstd;
  absl::StatusOr<PositionDeleteFile> f = EncodePositionDeletes({{"s3://b/t/data/b.parquet", 7},
                                                                {"s3://b/t/data/a.parquet", 9},
                                                                {"s3://b/t/data/a.parquet", 2},
                                                                {"s3://b/t/data/b.parquet", 7}},
                                                               o);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->bytes.substr(0, 4), "PAR1");
  const DataFile& d = f->data_file;
  EXPECT_EQ(d.content, 1);
  EXPECT_EQ(d.file_format, "PARQUET");
  EXPECT_EQ(d.record_count, 3);  // the repeated delete once
  EXPECT_EQ(d.file_size_in_bytes, static_cast<int64_t>(f->bytes.size()));
  EXPECT_EQ(d.value_counts.at(kDeleteFilePathFieldId), 3);
  EXPECT_EQ(d.value_counts.at(kDeletePosFieldId), 3);
  EXPECT_EQ(d.null_value_counts.at(kDeletePosFieldId), 0);
  // pos bounds: 2 and 9, 8 bytes little-endian.
  EXPECT_EQ(d.lower_bounds.at(kDeletePosFieldId), std::string("\x02\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(d.upper_bounds.at(kDeletePosFieldId), std::string("\x09\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(d.referenced_data_file, std::nullopt);  // two data files
  // The Parquet footer names the spec's field ids (Thrift field 9 of SchemaElement).
  EXPECT_NE(f->bytes.find("file_path"), std::string::npos);
}

// Compaction reads delete files back with lakehose's Parquet reader: the deletes, sorted,
// with the spec's field ids and both columns required.
TEST(PositionDeletes, ReadBackByTheParquetReader) {
  ParquetOptions o;
  o.codec = ParquetCodec::kSnappy;
  absl::StatusOr<PositionDeleteFile> f =
      EncodePositionDeletes({{"s3://b/t/data/b.parquet", 7}, {"s3://b/t/data/a.parquet", 9}}, o);
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<ParquetContents> r = ReadParquetFile(f->bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows,
            (std::vector<std::string>{R"({"file_path":"s3://b/t/data/a.parquet","pos":9})",
                                      R"({"file_path":"s3://b/t/data/b.parquet","pos":7})"}));
  ASSERT_EQ(r->columns.size(), 2u);
  EXPECT_EQ(r->columns[0].field_id, kDeleteFilePathFieldId);
  EXPECT_EQ(r->columns[1].field_id, kDeletePosFieldId);
  EXPECT_TRUE(r->columns[0].required);
  EXPECT_TRUE(r->columns[1].required);
}

TEST(PositionDeletes, DecodedBackInFileOrderAndDamageIsDataLoss) {
  absl::StatusOr<PositionDeleteFile> f =
      EncodePositionDeletes({{"s3://b/d/b.parquet", 1}, {"s3://b/d/a.parquet", 5}}, {});
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<std::vector<PositionDelete>> back = DecodePositionDeletes(f->bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0], (PositionDelete{"s3://b/d/a.parquet", 5}));  // sorted when written
  EXPECT_EQ((*back)[1], (PositionDelete{"s3://b/d/b.parquet", 1}));
  // A data file is not a delete file; a damaged one says so, whatever the damage.
  ParquetOptions o;
  o.schema = {{.name = "x", .type = ParquetType::kInt64}};
  absl::StatusOr<std::string> other = EncodeParquet({R"({"x":1})"}, o);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(absl::IsDataLoss(DecodePositionDeletes(*other).status()));
  for (size_t cut : {size_t{0}, size_t{4}, f->bytes.size() / 2, f->bytes.size() - 1})
    EXPECT_TRUE(absl::IsDataLoss(DecodePositionDeletes(f->bytes.substr(0, cut)).status())) << cut;
}

TEST(PositionDeletes, OneDataFileIsReferenced) {
  absl::StatusOr<PositionDeleteFile> f =
      EncodePositionDeletes({{"file:/t/data/a.parquet", 0}, {"file:/t/data/a.parquet", 5}}, {});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->data_file.referenced_data_file, "file:/t/data/a.parquet");
  EXPECT_EQ(f->data_file.record_count, 2);
}

TEST(PositionDeletes, RefusesNothingNegativeAndPathless) {
  EXPECT_THAT(EncodePositionDeletes({}, {}).status().message(), HasSubstr("no deletes"));
  EXPECT_THAT(EncodePositionDeletes({{"f", -1}}, {}).status().message(), HasSubstr("row -1"));
  EXPECT_THAT(EncodePositionDeletes({{"", 1}}, {}).status().message(), HasSubstr("path"));
}

}  // namespace
}  // namespace lakehose::iceberg
