// FakeObjectSink (testing/fake_object_sink.h): the in-memory sink the delivery engine's
// and the Iceberg writer's tests read back from.
#include "testing/fake_object_sink.h"

#include <string>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(FakeObjectSinkTest, GetReadsWhatPutStoredAndNotFoundOtherwise) {
  FakeObjectSink sink;
  EXPECT_EQ(sink.Get("metadata/version-hint.text").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(sink.Put("metadata/version-hint.text", "1", {}).ok());
  absl::StatusOr<std::string> got = sink.Get("metadata/version-hint.text");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "1");
  // A replacing Put is what the next Get reads.
  ASSERT_TRUE(sink.Put("metadata/version-hint.text", "2", {}).ok());
  EXPECT_EQ(*sink.Get("metadata/version-hint.text"), "2");
  // An empty object is an object.
  ASSERT_TRUE(sink.Put("empty", "", {}).ok());
  got = sink.Get("empty");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "");
  EXPECT_EQ(sink.gets(), 4);
  EXPECT_EQ(sink.puts(), 3);
}

TEST(FakeObjectSinkTest, GetFailuresAreInjectedApartFromPuts) {
  FakeObjectSink sink;
  ASSERT_TRUE(sink.Put("k", "v", {}).ok());
  sink.SetGetFailure(absl::UnavailableError("injected"));
  EXPECT_EQ(sink.Get("k").status(), absl::UnavailableError("injected"));
  EXPECT_EQ(sink.Get("missing").status(), absl::UnavailableError("injected"));
  EXPECT_TRUE(sink.Put("k2", "v2", {}).ok()) << "a Get failure leaves Puts alone";
  sink.SetGetFailure(absl::OkStatus());
  EXPECT_EQ(*sink.Get("k2"), "v2");
  // And a Put failure leaves Gets alone.
  sink.SetFailure(absl::UnavailableError("put down"));
  EXPECT_FALSE(sink.Put("k3", "v3", {}).ok());
  EXPECT_EQ(*sink.Get("k"), "v");
  EXPECT_EQ(sink.Get("k3").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sink.gets(), 5);
}

// The interface's default, for sinks that cannot read back.
TEST(ObjectSinkTest, GetDefaultsToUnimplemented) {
  class WriteOnly : public ObjectSink {
   public:
    absl::Status Put(const std::string&, std::string_view, const ObjectMeta&) override {
      return absl::OkStatus();
    }
    std::string Uri(const std::string& key) const override { return key; }
  } sink;
  EXPECT_EQ(sink.Get("k").status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace lakehose
