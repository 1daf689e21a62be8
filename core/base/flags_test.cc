#include "core/base/flags.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::string_view kFormats[] = {"json", "text"};
constexpr std::string_view kColours[] = {"red", "green", "blue"};
constexpr Flag kFlags[] = {
    {.name = "target"},
    {.name = "config", .needs = "a file"},
    {.name = "id"},
    {.name = "stream", .type = FlagType::kBool},
    {.name = "print-default-config", .type = FlagType::kStop},
    {.name = "log-format", .choices = kFormats},
    {.name = "colour", .choices = kColours},
};

absl::StatusOr<ParsedFlags> Parse(std::vector<std::string_view> args) {
  return ParseFlags(kFlags, args);
}

TEST(FlagsTest, NothingGiven) {
  auto flags = Parse({});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_FALSE(flags->has("target"));
  EXPECT_EQ(flags->get("target"), "");
  EXPECT_EQ(flags->get("target", "localhost"), "localhost");
  EXPECT_THAT(flags->list("id"), IsEmpty());
  EXPECT_EQ(flags->stopped_at(), "");
}

TEST(FlagsTest, ValueWithEqualsOrAsTheNextArgument) {
  auto flags = Parse({"--target=h:1", "--config", "c.yaml"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->get("target"), "h:1");
  EXPECT_EQ(flags->get("config"), "c.yaml");
}

TEST(FlagsTest, EqualsSplitsAtTheFirstEqualsSign) {
  auto flags = Parse({"--target=a=b"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->get("target"), "a=b");
}

TEST(FlagsTest, EmptyValueCountsAsGiven) {
  for (auto args : {std::vector<std::string_view>{"--target="},
                    std::vector<std::string_view>{"--target", ""}}) {
    auto flags = Parse(args);
    ASSERT_TRUE(flags.ok()) << flags.status();
    EXPECT_TRUE(flags->has("target"));
    EXPECT_EQ(flags->get("target", "fallback"), "");
  }
}

TEST(FlagsTest, NextArgumentIsTheValueEvenWhenItLooksLikeAFlag) {
  auto flags = Parse({"--config", "-", "--target", "--stream"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->get("config"), "-");
  EXPECT_EQ(flags->get("target"), "--stream");
  EXPECT_FALSE(flags->has("stream"));
}

TEST(FlagsTest, Booleans) {
  auto flags = Parse({"--stream"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_TRUE(flags->has("stream"));
  EXPECT_FALSE(flags->has("target"));

  auto again = Parse({"--stream", "--stream"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->has("stream"));

  auto with_value = Parse({"--stream=true"});
  EXPECT_EQ(with_value.status(), absl::InvalidArgumentError("--stream takes no value"));
}

TEST(FlagsTest, RepeatedFlagsKeepEveryValueAndGetReturnsTheLast) {
  auto flags = Parse({"--id", "a", "--id=b", "--target", "x", "--id", "c", "--target", "y"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->list("id"), ElementsAre("a", "b", "c"));
  EXPECT_EQ(flags->get("id"), "c");
  EXPECT_EQ(flags->get("target"), "y");
  EXPECT_THAT(flags->list("target"), ElementsAre("x", "y"));
}

TEST(FlagsTest, UnknownFlagsAndPositionalArguments) {
  EXPECT_EQ(Parse({"--frobnicate"}).status(), absl::NotFoundError("unknown option --frobnicate"));
  EXPECT_EQ(Parse({"--frobnicate=1"}).status(),
            absl::NotFoundError("unknown option --frobnicate=1"));
  EXPECT_EQ(Parse({"--target", "x", "extra"}).status(),
            absl::NotFoundError("unknown option extra"));
  EXPECT_EQ(Parse({"-t"}).status(), absl::NotFoundError("unknown option -t"));
  EXPECT_EQ(Parse({"--"}).status(), absl::NotFoundError("unknown option --"));
  // A prefix of a flag's name is not that flag.
  EXPECT_EQ(Parse({"--targ", "x"}).status(), absl::NotFoundError("unknown option --targ"));
}

TEST(FlagsTest, MissingValues) {
  EXPECT_EQ(Parse({"--target"}).status(), absl::InvalidArgumentError("--target needs a value"));
  EXPECT_EQ(Parse({"--stream", "--config"}).status(),
            absl::InvalidArgumentError("--config needs a file"));
}

TEST(FlagsTest, Choices) {
  auto flags = Parse({"--log-format", "text", "--colour=blue"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->get("log-format"), "text");
  EXPECT_EQ(flags->get("colour"), "blue");

  const absl::Status two = absl::InvalidArgumentError("--log-format must be json or text");
  EXPECT_EQ(Parse({"--log-format", "xml"}).status(), two);
  EXPECT_EQ(Parse({"--log-format="}).status(), two);
  EXPECT_EQ(Parse({"--log-format"}).status(), two);  // missing: the same message
  EXPECT_EQ(Parse({"--colour", "JSON"}).status(),
            absl::InvalidArgumentError("--colour must be red, green or blue"));
}

TEST(FlagsTest, HelpStopsParsing) {
  for (std::string_view help : {"--help", "-h"}) {
    auto flags = Parse({"--target", "x", help, "--frobnicate", "--target", "y"});
    ASSERT_TRUE(flags.ok()) << flags.status();
    EXPECT_EQ(flags->stopped_at(), "help");
    EXPECT_EQ(flags->get("target"), "x");
  }
  // An error before it wins.
  EXPECT_EQ(Parse({"--frobnicate", "--help"}).status(),
            absl::NotFoundError("unknown option --frobnicate"));
  // As a value it is just a value.
  auto value = Parse({"--config", "--help"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->stopped_at(), "");
  EXPECT_EQ(value->get("config"), "--help");
  EXPECT_EQ(Parse({"--help=1"}).status(), absl::InvalidArgumentError("--help takes no value"));
}

TEST(FlagsTest, StopFlags) {
  auto flags = Parse({"--print-default-config", "--frobnicate"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->stopped_at(), "print-default-config");
  EXPECT_FALSE(flags->has("print-default-config"));
}

TEST(FlagsTest, ArgsOfSkipsTheFirstArguments) {
  const char* argv[] = {"lakehose", "dlq", "list", "--target", "x"};
  EXPECT_THAT(ArgsOf(5, argv, 3), ElementsAre("--target", "x"));
  EXPECT_THAT(ArgsOf(2, argv, 3), IsEmpty());
}

// `--help` used to be written by hand for each command, and `lakehose flush --help` had no
// options section; it is now rendered from the flag declarations.
TEST(FlagsTest, AppendFlagHelpListsEveryFlagThenHelp) {
  static constexpr std::string_view kFormats[] = {"json", "text"};
  constexpr Flag kFlags[] = {
      {.name = "target", .value = "HOST:PORT", .help = "the server (required)"},
      {.name = "stream", .type = FlagType::kBool, .help = "one stream"},
      {.name = "log-format", .choices = kFormats, .help = "how to log"},
      {.name = "metrics-port-file", .value = "PATH", .help = "write the port\nonce serving"},
  };
  std::string out;
  AppendFlagHelp(kFlags, &out);
  EXPECT_EQ(out,
            "  --target HOST:PORT   the server (required)\n"
            "  --stream             one stream\n"
            "  --log-format json|text\n"
            "                       how to log\n"
            "  --metrics-port-file PATH\n"
            "                       write the port\n"
            "                       once serving\n"
            "  --help               this text\n");
  out.clear();
  AppendFlagHelp({}, &out);
  EXPECT_EQ(out, "  --help               this text\n");
}

}  // namespace
}  // namespace lakehose
