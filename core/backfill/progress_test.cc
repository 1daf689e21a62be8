#include "core/backfill/progress.h"

#include <string>

#include "core/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose::backfill {
namespace {

using ::testing::HasSubstr;

ProgressHeader Header() {
  return {.source = "arn:aws:dynamodb:us-east-1:1:table/t/export/e1",
          .pipeline = "orders",
          .writer_id = "backfill-e1",
          .started_ms = 1700000000000};
}

TEST(Progress, ReadsBackWhatWasWritten) {
  const std::string text =
      StrCat(ProgressHeaderLine(Header()), ProgressUnitLine(3, 500), ProgressUnitLine(0, 7),
             ProgressPageLine(1, 0, 100, R"({"pk":{"S":"a\"b"}})"), ProgressPageLine(1, 1, 50, ""),
             ProgressPageLine(2, 0, 10, R"({"pk":{"S":"z"}})"));
  absl::StatusOr<Progress> p = ParseProgress(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->header.source, Header().source);
  EXPECT_EQ(p->header.writer_id, "backfill-e1");
  EXPECT_EQ(p->header.started_ms, 1700000000000);
  EXPECT_EQ(p->units.size(), 2u);
  EXPECT_EQ(p->units.at(3), 500);
  EXPECT_TRUE(p->segments.at(1).done);
  EXPECT_EQ(p->segments.at(1).pages, 2);
  EXPECT_EQ(p->segments.at(1).records, 150);
  EXPECT_FALSE(p->segments.at(2).done);
  EXPECT_EQ(p->segments.at(2).next_key, R"({"pk":{"S":"z"}})");
  EXPECT_EQ(p->skipped_lines, 0);
}

TEST(Progress, ATornOrDamagedLineIsSkippedAndItsUnitDoneAgain) {
  std::string text = StrCat(ProgressHeaderLine(Header()), ProgressUnitLine(1, 5), "{\"unit\":2,",
                            "\n", ProgressUnitLine(4, 5));
  text += ProgressUnitLine(9, 5);
  text.pop_back();  // torn by a kill: no newline
  absl::StatusOr<Progress> p = ParseProgress(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->units.size(), 2u);
  EXPECT_TRUE(p->units.count(1) && p->units.count(4));
  EXPECT_FALSE(p->units.count(9));
  EXPECT_EQ(p->skipped_lines, 1);
}

TEST(Progress, PagesCountOnlyInOrder) {
  // Page 2 without page 1 (a line lost): not trusted, the segment resumes after page 0.
  const std::string text =
      StrCat(ProgressHeaderLine(Header()), ProgressPageLine(0, 0, 10, R"({"k":{"N":"1"}})"),
             ProgressPageLine(0, 2, 10, R"({"k":{"N":"3"}})"));
  absl::StatusOr<Progress> p = ParseProgress(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->segments.at(0).pages, 1);
  EXPECT_EQ(p->segments.at(0).next_key, R"({"k":{"N":"1"}})");
  EXPECT_EQ(p->skipped_lines, 1);
}

TEST(Progress, RefusesWhatIsNotAProgressFile) {
  EXPECT_THAT(ParseProgress("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(ParseProgress("{\"unit\":1,\"records\":2}\n").status().message(),
              HasSubstr("not a lakehose backfill progress file"));
  EXPECT_THAT(ParseProgress("hello\n").status().message(),
              HasSubstr("not a lakehose backfill progress file"));
}

}  // namespace
}  // namespace lakehose::backfill
