#include "core/iceberg/position_deletes.h"

#include <string>
#include <vector>

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
