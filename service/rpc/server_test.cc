// End to end in one process: lakehose::Server on a free loopback port, called through
// lakehose::Client, on the embedded demo pipeline.
#include "service/rpc/server.h"

#include <string>
#include <vector>

#include "client/client.h"
#include "core/workload/workload.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_clock.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = LoadEmbeddedConfig();
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    config_.server.data_dir.clear();  // in-memory delivery: these tests are about transport
    config_.server.metrics_listen = "127.0.0.1:0";  // tests run in parallel
    auto server = Server::Start(config_, "127.0.0.1:0", clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = Client::ConnectInsecure("127.0.0.1:" + std::to_string(server_->port()));
  }

  v1::TransformRequest Generated(int n, uint64_t seed) {
    v1::TransformRequest req;
    req.set_pipeline("demo");
    WorkloadGenerator gen(Workload::kTransactions, seed);
    for (int i = 0; i < n; ++i) {
      v1::Record* r = req.add_records();
      r->set_record_id("r" + std::to_string(i));
      gen.Next(r->mutable_data());
    }
    return req;
  }

  FakeClock clock_{1700000000000};
  Config config_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ServerTest, EveryRecordIdComesBackOnceInOrder) {
  const v1::TransformRequest req = Generated(1000, 7);
  auto resp = client_->Transform(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->records_size(), 1000);
  for (int i = 0; i < 1000; ++i) {
    const v1::RecordResult& r = resp->records(i);
    EXPECT_EQ(r.record_id(), req.records(i).record_id());
    EXPECT_EQ(r.result(), v1::RecordResult::OK) << r.error_message();
    EXPECT_NE(r.operation(), v1::RecordResult::OPERATION_UNSPECIFIED);
    EXPECT_EQ(r.partition_keys().size(), 3u);
    EXPECT_THAT(r.key_prefix(),
                StartsWith("transactions/region=" + r.partition_keys().at("region") + "/date="));
    EXPECT_THAT(r.data(), StartsWith("{\"_eventID\":"));
  }
}

TEST_F(ServerTest, MalformedRecordFailsAloneNamingThePath) {
  v1::TransformRequest req = Generated(3, 1);
  std::string* data = req.mutable_records(1)->mutable_data();
  const size_t at = data->find("\"amount\":{\"N\":\"");
  ASSERT_NE(at, std::string::npos);
  data->insert(at + 15, "x");
  auto resp = client_->Transform(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->records(0).result(), v1::RecordResult::OK);
  EXPECT_EQ(resp->records(1).result(), v1::RecordResult::PROCESSING_FAILED);
  EXPECT_EQ(resp->records(1).error_code(), "INVALID_NUMBER");
  EXPECT_THAT(resp->records(1).error_message(), HasSubstr("Image.amount"));
  EXPECT_THAT(resp->records(1).key_prefix(), StartsWith("errors/processing-failed/"));
  EXPECT_EQ(resp->records(2).result(), v1::RecordResult::OK);
}

TEST_F(ServerTest, BadRequestsAreInvalidArgumentAndTheServerKeepsServing) {
  struct Case {
    std::string name;
    v1::TransformRequest req;
    std::string message;
  };
  std::vector<Case> cases;
  {
    v1::TransformRequest r = Generated(1, 1);
    r.set_pipeline("nope");
    cases.push_back({"unknown pipeline", r, "unknown pipeline \"nope\""});
  }
  {
    v1::TransformRequest r = Generated(2, 1);
    r.mutable_records(1)->set_record_id("");
    cases.push_back({"empty id", r, "records[1].record_id is empty"});
  }
  {
    v1::TransformRequest r = Generated(2, 1);
    r.mutable_records(1)->set_record_id("r0");
    cases.push_back({"duplicate id", r, "appears more than once"});
  }
  {
    v1::TransformRequest r;
    r.set_pipeline("demo");
    for (int i = 0; i <= config_.server.limits.max_records_per_request; ++i) {
      v1::Record* rec = r.add_records();
      rec->set_record_id(std::to_string(i));
      rec->set_data("{}");
    }
    cases.push_back({"too many records", r, "max_records_per_request"});
  }
  {
    v1::TransformRequest r = Generated(1, 1);
    r.mutable_records(0)->mutable_data()->append(config_.server.limits.max_record_bytes, ' ');
    cases.push_back({"record too large", r, "max_record_bytes"});
  }
  for (const Case& c : cases) {
    auto resp = client_->Transform(c.req);
    EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(resp.status().message()), HasSubstr(c.message)) << c.name;
  }
  auto resp = client_->Transform(Generated(10, 2));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->records_size(), 10);
}

TEST_F(ServerTest, MessageOverTheSizeLimitIsRefused) {
  // Records within their own limit, but 20 MiB in all (the limit is 16 MiB): a reason.
  auto request_of = [&](int records) {
    v1::TransformRequest req;
    req.set_pipeline("demo");
    for (int i = 0; i < records; ++i) {
      v1::Record* r = req.add_records();
      r->set_record_id(std::to_string(i));
      r->set_data(std::string(config_.server.limits.max_record_bytes - 16, ' '));
    }
    return req;
  };
  auto resp = client_->Transform(request_of(20));
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument) << resp.status();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("max_message_bytes"));
  // Past twice the limit gRPC refuses it before reading it.
  resp = client_->Transform(request_of(40));
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kResourceExhausted) << resp.status();
  ASSERT_TRUE(client_->Transform(Generated(1, 3)).ok());
}

TEST_F(ServerTest, ArrivalTimeDefaultsToTheServerClock) {
  v1::TransformRequest req = Generated(1, 5);
  // Break the event-time attribute and its fallback so the error prefix's !{timestamp}
  // shows which arrival time was used.
  req.mutable_records(0)->set_data("not json");
  auto resp = client_->Transform(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  // clock_ is 2023-11-14T22:13:20Z.
  EXPECT_EQ(resp->records(0).key_prefix(), "errors/processing-failed/2023/11/14/");
  req.mutable_records(0)->set_approximate_arrival_timestamp(1500000000000);  // 2017-07-14
  resp = client_->Transform(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->records(0).key_prefix(), "errors/processing-failed/2017/07/14/");
}

TEST_F(ServerTest, DrainingServerAnswersUnavailable) {
  server_->Shutdown(absl::Seconds(1));
  auto resp = client_->Transform(Generated(1, 1));
  EXPECT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
}

}  // namespace
}  // namespace lakehose

namespace lakehose {
namespace {

// Regression: a Server whose Start failed part-way was destroyed with null members and
// crashed (SIGSEGV) instead of reporting the error.
TEST(ServerStartTest, FailureIsReportedNotACrash) {
  auto config = LoadEmbeddedConfig();
  ASSERT_TRUE(config.ok());
  config->server.data_dir.clear();
  config->server.metrics_listen = "127.0.0.1:0";
  FakeClock clock(1700000000000);
  auto bad_listen = Server::Start(*config, "256.1.1.1:0", clock);
  EXPECT_EQ(bad_listen.status().code(), absl::StatusCode::kUnavailable);
  auto bad_sink = Server::Start(*config, "127.0.0.1:0", clock, [](const PipelineSpec&) {
    return absl::StatusOr<std::unique_ptr<ObjectSink>>(absl::InvalidArgumentError("no sink"));
  });
  EXPECT_EQ(bad_sink.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakehose
