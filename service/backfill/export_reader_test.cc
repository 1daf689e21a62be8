#include "service/backfill/export_reader.h"

#include <string>

#include "core/base/compress.h"
#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/s3/s3_client.h"
#include "testing/fake_object_sink.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;

// An export directory in a fake store, as DynamoDB writes one: gzip data files, their
// counts and MD5s in manifest-files.json, the total in manifest-summary.json.
class FakeExport {
 public:
  void AddFile(const std::string& name, const std::string& lines, int64_t count) {
    const std::string gz = *Compress(Compression::kGzip, -1, lines);
    const std::string key = StrCat("AWSDynamoDB/01700000000000-e1/data/", name);
    ASSERT_TRUE(dir_.Put(StrCat("data/", name), gz, {}).ok());
    StrAppend(&manifest_, "{\"itemCount\":", count, ",\"md5Checksum\":\"", ContentMd5(gz),
              "\",\"etag\":\"x\",\"dataFileS3Key\":\"", key, "\"}\n");
    total_ += count;
  }
  void Finish(std::string_view type = "FULL_EXPORT", int64_t claimed = -1) {
    ASSERT_TRUE(dir_.Put("manifest-files.json", manifest_, {}).ok());
    ASSERT_TRUE(
        dir_.Put(
                "manifest-summary.json",
                StrCat(
                    R"({"exportArn":"arn:aws:dynamodb:us-east-1:1:table/t/export/01700000000000-e1",)",
                    R"("manifestFilesS3Key":"AWSDynamoDB/01700000000000-e1/manifest-files.json",)",
                    R"("itemCount":)", claimed >= 0 ? claimed : total_,
                    R"(,"outputFormat":"DYNAMODB_JSON","exportType":")", type,
                    R"(","exportTime":"2023-11-14T22:13:20Z","exportToTime":"2023-11-14T22:13:20Z"})"),
                {})
            .ok());
  }
  FakeObjectSink& dir() { return dir_; }

 private:
  FakeObjectSink dir_;
  std::string manifest_;
  int64_t total_ = 0;
};

TEST(ExportReader, ReadsEveryFileCheckedAgainstItsManifest) {
  FakeExport e;
  e.AddFile("a.json.gz", "{\"Item\":{\"id\":{\"S\":\"1\"}}}\n{\"Item\":{\"id\":{\"S\":\"2\"}}}\n",
            2);
  e.AddFile("b.json.gz", "{\"Item\":{\"id\":{\"S\":\"3\"}}}\n", 1);
  e.Finish();
  ExportReader reader(e.dir());
  ASSERT_TRUE(reader.Open().ok());
  EXPECT_EQ(reader.summary().item_count, 3);
  ASSERT_EQ(reader.files().size(), 2u);
  absl::StatusOr<std::vector<std::string>> a = reader.ReadFile(0);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_THAT((*a)[1], HasSubstr(R"("eventID":"01700000000000-e1:0:2")"));
  EXPECT_THAT((*a)[1], HasSubstr(R"("NewImage":{"id":{"S":"2"}})"));
  EXPECT_EQ(reader.ReadFile(1)->size(), 1u);
  EXPECT_TRUE(absl::IsOutOfRange(reader.ReadFile(2).status()));
}

TEST(ExportReader, ADamagedFileIsRefusedNamingIt) {
  FakeExport e;
  e.AddFile("a.json.gz", "{\"Item\":{\"id\":{\"S\":\"1\"}}}\n", 1);
  e.Finish();
  std::string bytes = *e.dir().Get("data/a.json.gz");
  bytes[bytes.size() / 2] ^= 0x20;
  ASSERT_TRUE(e.dir().Put("data/a.json.gz", bytes, {}).ok());
  ExportReader reader(e.dir());
  ASSERT_TRUE(reader.Open().ok());
  absl::StatusOr<std::vector<std::string>> r = reader.ReadFile(0);
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("data/a.json.gz: MD5"));
}

TEST(ExportReader, CountsMustAgree) {
  FakeExport short_file;
  short_file.AddFile("a.json.gz", "{\"Item\":{\"id\":{\"S\":\"1\"}}}\n", 2);  // says 2, holds 1
  short_file.Finish();
  ExportReader reader(short_file.dir());
  ASSERT_TRUE(reader.Open().ok());
  EXPECT_THAT(reader.ReadFile(0).status().message(),
              HasSubstr("1 items, manifest-files.json says 2"));

  FakeExport summary_off;
  summary_off.AddFile("a.json.gz", "{\"Item\":{\"id\":{\"S\":\"1\"}}}\n", 1);
  summary_off.Finish("FULL_EXPORT", 5);
  EXPECT_TRUE(absl::IsDataLoss(ExportReader(summary_off.dir()).Open()));
}

TEST(ExportReader, IncrementalLinesAndBadLinesNameTheirFile) {
  FakeExport e;
  e.AddFile("a.json.gz",
            "{\"Metadata\":{\"WriteTimestampMicros\":{\"N\":\"1700000001000000\"}},"
            "\"Keys\":{\"id\":{\"S\":\"1\"}},\"OldImage\":{\"id\":{\"S\":\"1\"}}}\n"
            "{\"Item\":{\"id\":{\"S\":\"2\"}}}\n",
            2);
  e.Finish("INCREMENTAL_EXPORT");
  ExportReader reader(e.dir());
  ASSERT_TRUE(reader.Open().ok());
  absl::StatusOr<std::vector<std::string>> r = reader.ReadFile(0);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("data/a.json.gz: data file 0 line 2: missing"));
}

TEST(ExportReader, NoExportHereSaysWhatToGive) {
  FakeObjectSink empty;
  absl::Status st = ExportReader(empty).Open();
  EXPECT_TRUE(absl::IsNotFound(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("give the export's directory"));
  EXPECT_EQ(ExportReader::RelativeKey("p/AWSDynamoDB/e1/data/x.json.gz"), "data/x.json.gz");
}

}  // namespace
}  // namespace lakehose
