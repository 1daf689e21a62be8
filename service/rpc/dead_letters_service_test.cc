// The DeadLetters gRPC service over a real on-disk queue in a temp dir, served on a free
// loopback port and called through lakehose::Client; the store and accept functions are
// fakes the test inspects. Then the same service inside lakehose::Server.
#include "service/rpc/dead_letters_service.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "core/base/strings.h"
#include "core/workload/workload.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "service/config/config_file.h"
#include "service/rpc/server.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kNow = 1700000000000;

std::string ValidRecord(uint64_t seed) {
  WorkloadGenerator gen(Workload::kTransactions, seed);
  std::string data;
  gen.Next(&data);
  return data;
}

DeadLetterQueue::FailedRecord Failed(std::string id, std::string data) {
  return {std::move(id), std::move(data), kNow - 1000, "Decode.InvalidJson", "record is not JSON"};
}

class DeadLettersServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = LoadEmbeddedConfig();
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    config_.server.metrics_listen = "127.0.0.1:0";  // tests run in parallel
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    if (service_) service_->Stop();
    service_.reset();
    dlq_.reset();
  }

  // The service over an on-disk queue (or an in-memory one), behind a gRPC server.
  void Start(bool in_memory = false) {
    if (in_memory) {
      dlq_ = NewInMemoryDeadLetterQueue(clock_);
    } else {
      auto q = OpenDeadLetterQueue(dir_ + "/dlq", clock_);
      ASSERT_TRUE(q.ok()) << q.status();
      dlq_ = *std::move(q);
    }
    processor_ = std::make_unique<RecordProcessor>(config_, clock_);
    service_ = std::make_unique<DeadLettersService>(
        *dlq_, *processor_,
        [this](const std::string& pipeline, const std::string& key, std::string_view body) {
          absl::MutexLock lock(&mu_);
          if (!store_failure_.ok()) return store_failure_;
          stored_[pipeline + ":" + key] = std::string(body);
          return absl::OkStatus();
        },
        [this](const PipelineSpec& spec, std::vector<BufferedLine> lines) {
          absl::MutexLock lock(&mu_);
          if (!accept_failure_.ok()) return accept_failure_;
          for (auto& l : lines) accepted_.push_back({spec.name, std::move(l)});
          return absl::OkStatus();
        });
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
    ASSERT_GT(port, 0);
    client_ = Client::ConnectInsecure(StrCat("127.0.0.1:", port));
  }

  std::vector<std::string> ListIds(const std::string& pipeline = "",
                                   v1::DeadLetter::Kind kind = v1::DeadLetter::KIND_UNSPECIFIED) {
    std::vector<std::string> ids;
    v1::ListDeadLettersRequest req;
    req.set_pipeline(pipeline);
    req.set_kind(kind);
    for (int page = 0; page < 100; ++page) {
      auto resp = client_->ListDeadLetters(req);
      EXPECT_TRUE(resp.ok()) << resp.status();
      if (!resp.ok()) break;
      for (const auto& e : resp->entries()) ids.push_back(e.id());
      if (resp->next_page_token().empty()) break;
      req.set_page_token(resp->next_page_token());
    }
    return ids;
  }

  absl::StatusCode RedriveCode(const v1::RedriveRequest& req) {
    return client_->Redrive(req).status().code();
  }

  FakeClock clock_{kNow};
  Config config_;
  const TempDir tmp_{"dead_letters_service_test"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<DeadLetterQueue> dlq_;
  std::unique_ptr<RecordProcessor> processor_;
  std::unique_ptr<DeadLettersService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Client> client_;

  absl::Mutex mu_;
  absl::Status store_failure_ ABSL_GUARDED_BY(mu_);
  absl::Status accept_failure_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> stored_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, BufferedLine>> accepted_ ABSL_GUARDED_BY(mu_);
};

TEST_F(DeadLettersServiceTest, ListShowsEntriesWithPagingAndFilters) {
  Start();
  auto d = dlq_->AddDelivery(
      {"demo", "t/x.jsonl.gz", "{}\n{}\n", 2, 4, "UNAVAILABLE: a", "UNAVAILABLE: b"});
  ASSERT_TRUE(d.ok());
  auto p = dlq_->AddProcessing("demo", {Failed("r1", "bad 1"), Failed("r2", "bad 2")});
  ASSERT_TRUE(p.ok());
  auto other = dlq_->AddProcessing("other", {Failed("r3", "bad 3"), Failed("r4", "bad 4")});
  ASSERT_TRUE(other.ok());

  v1::ListDeadLettersRequest req;
  req.set_page_size(2);
  auto page1 = client_->ListDeadLetters(req);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->entries_size(), 2);
  EXPECT_EQ(page1->next_page_token(), page1->entries(1).id());
  const v1::DeadLetter& e = page1->entries(0);
  EXPECT_EQ(e.id(), d->id);
  EXPECT_EQ(e.kind(), v1::DeadLetter::DELIVERY);
  EXPECT_EQ(e.pipeline(), "demo");
  EXPECT_EQ(e.attempts(), 4);
  EXPECT_EQ(e.first_error(), "UNAVAILABLE: a");
  EXPECT_EQ(e.last_error(), "UNAVAILABLE: b");
  EXPECT_EQ(e.first_time_ms(), kNow);
  EXPECT_EQ(e.key(), "t/x.jsonl.gz");
  EXPECT_EQ(e.records(), 2);
  EXPECT_EQ(e.bytes(), 6);
  const v1::DeadLetter& q = page1->entries(1);
  EXPECT_EQ(q.kind(), v1::DeadLetter::PROCESSING);
  EXPECT_EQ(q.record_id(), "r1");
  EXPECT_EQ(q.error_code(), "Decode.InvalidJson");
  EXPECT_EQ(q.bytes(), 5);

  req.set_page_token(page1->next_page_token());
  auto page2 = client_->ListDeadLetters(req);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->entries_size(), 2);
  req.set_page_token(page2->next_page_token());
  auto page3 = client_->ListDeadLetters(req);
  ASSERT_TRUE(page3.ok());
  ASSERT_EQ(page3->entries_size(), 1);
  EXPECT_EQ(page3->next_page_token(), "");  // the last page

  EXPECT_THAT(ListIds("other"), ElementsAre((*other)[0].id, (*other)[1].id));
  EXPECT_THAT(ListIds("", v1::DeadLetter::DELIVERY), ElementsAre(d->id));
  EXPECT_THAT(ListIds("demo", v1::DeadLetter::PROCESSING), ElementsAre((*p)[0].id, (*p)[1].id));
  EXPECT_THAT(ListIds("nope"), IsEmpty());

  v1::ListDeadLettersRequest bad;
  bad.set_page_size(-1);
  EXPECT_EQ(client_->ListDeadLetters(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.set_page_size(0);
  bad.set_kind(static_cast<v1::DeadLetter::Kind>(42));
  EXPECT_EQ(client_->ListDeadLetters(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DeadLettersServiceTest, PageSizeDefaultsTo100AndIsCappedAt1000) {
  Start(/*in_memory=*/true);
  std::vector<DeadLetterQueue::FailedRecord> records;
  for (int i = 0; i < 1005; ++i) records.push_back(Failed(StrCat("r", i), "bad"));
  ASSERT_TRUE(dlq_->AddProcessing("demo", records).ok());
  v1::ListDeadLettersRequest req;
  auto def = client_->ListDeadLetters(req);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->entries_size(), 100);
  EXPECT_FALSE(def->next_page_token().empty());
  req.set_page_size(5000);
  auto big = client_->ListDeadLetters(req);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->entries_size(), 1000);
  req.set_page_token(big->next_page_token());
  auto rest = client_->ListDeadLetters(req);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->entries_size(), 5);
  EXPECT_TRUE(rest->next_page_token().empty());
  EXPECT_THAT(ListIds(), SizeIs(1005));
}

TEST_F(DeadLettersServiceTest, RedriveNeedsExactlyOneSelector) {
  Start();
  ASSERT_TRUE(dlq_->AddProcessing("demo", {Failed("r1", "bad")}).ok());
  v1::RedriveRequest none;
  EXPECT_EQ(RedriveCode(none), absl::StatusCode::kInvalidArgument);
  v1::RedriveRequest two;
  two.add_ids("x");
  two.set_all(true);
  EXPECT_EQ(RedriveCode(two), absl::StatusCode::kInvalidArgument);
  v1::RedriveRequest three;
  three.add_ids("x");
  three.set_pipeline("demo");
  three.set_all(true);
  EXPECT_EQ(RedriveCode(three), absl::StatusCode::kInvalidArgument);
  v1::RedriveRequest pipeline_and_all;
  pipeline_and_all.set_pipeline("demo");
  pipeline_and_all.set_all(true);
  auto r = client_->Redrive(pipeline_and_all);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(StatusMessage(r.status())), HasSubstr("exactly one"));
  EXPECT_EQ(dlq_->Get(dlq_->List({}, "", 10)[0].id)->attempts, 1);  // nothing was attempted
}

TEST_F(DeadLettersServiceTest, RedriveDeliveryStoresAndRemovesOrRecordsTheFailure) {
  Start();
  const std::string body = "{\"a\":1}\n{\"b\":2}\n";
  auto d = dlq_->AddDelivery({"demo", "t/obj.jsonl.gz", body, 2, 3, "e1", "e3"});
  ASSERT_TRUE(d.ok());
  {
    absl::MutexLock lock(&mu_);
    store_failure_ = absl::UnavailableError("still down");
  }
  v1::RedriveRequest req;
  req.add_ids(d->id);
  req.add_ids("0000000000000001-d-00000000");  // unknown
  auto r1 = client_->Redrive(req);
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_EQ(r1->results_size(), 2);
  EXPECT_EQ(r1->results(0).id(), "0000000000000001-d-00000000");
  EXPECT_FALSE(r1->results(0).ok());
  EXPECT_THAT(r1->results(0).error(), HasSubstr("no such dead letter"));
  EXPECT_EQ(r1->results(1).id(), d->id);
  EXPECT_FALSE(r1->results(1).ok());
  EXPECT_THAT(r1->results(1).error(), HasSubstr("still down"));
  auto after = dlq_->Get(d->id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->attempts, 4);
  EXPECT_THAT(after->last_error, HasSubstr("still down"));
  EXPECT_EQ(after->next_attempt_ms, d->next_attempt_ms);  // the retry worker's schedule is kept

  {
    absl::MutexLock lock(&mu_);
    store_failure_ = absl::OkStatus();
  }
  v1::RedriveRequest by_pipeline;
  by_pipeline.set_pipeline("demo");
  auto r2 = client_->Redrive(by_pipeline);
  ASSERT_TRUE(r2.ok()) << r2.status();
  ASSERT_EQ(r2->results_size(), 1);
  EXPECT_TRUE(r2->results(0).ok()) << r2->results(0).error();
  EXPECT_FALSE(dlq_->Get(d->id).has_value());
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(stored_.at("demo:t/obj.jsonl.gz"), body);
}

TEST_F(DeadLettersServiceTest, RedriveProcessingRetransformsWithTheCurrentConfig) {
  Start();
  const std::string valid = ValidRecord(11);
  auto p =
      dlq_->AddProcessing("demo", {Failed("still-bad", "not json"), Failed("now-good", valid)});
  ASSERT_TRUE(p.ok());
  const std::string bad_id = (*p)[0].id, good_id = (*p)[1].id;

  // What Transform makes of the valid record, with the stored arrival time.
  v1::TransformRequest treq;
  treq.set_pipeline("demo");
  v1::Record* rec = treq.add_records();
  rec->set_record_id("now-good");
  rec->set_data(valid);
  rec->set_approximate_arrival_timestamp(kNow - 1000);
  google::protobuf::RepeatedPtrField<v1::RecordResult> want;
  ASSERT_TRUE(processor_->Process("demo", treq.records(), treq.ByteSizeLong(), &want).ok());
  ASSERT_EQ(want[0].result(), v1::RecordResult::OK);

  v1::RedriveRequest all;
  all.set_all(true);
  auto r = client_->Redrive(all);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results_size(), 2);
  EXPECT_EQ(r->results(0).id(), bad_id);
  EXPECT_FALSE(r->results(0).ok());
  EXPECT_THAT(r->results(0).error(), HasSubstr("not valid JSON"));
  EXPECT_EQ(r->results(1).id(), good_id);
  EXPECT_TRUE(r->results(1).ok()) << r->results(1).error();

  // The failing one stays, with the new error; the good one was accepted and removed.
  auto bad = dlq_->Get(bad_id);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->attempts, 2);
  EXPECT_THAT(bad->last_error, HasSubstr("redrive:"));
  EXPECT_EQ(bad->first_error, "record is not JSON");
  EXPECT_FALSE(dlq_->Get(good_id).has_value());
  {
    absl::MutexLock lock(&mu_);
    ASSERT_THAT(accepted_, SizeIs(1));
    EXPECT_EQ(accepted_[0].first, "demo");
    EXPECT_EQ(accepted_[0].second.prefix, want[0].key_prefix());
    EXPECT_EQ(accepted_[0].second.line, want[0].data() + "\n");
  }
  EXPECT_THAT(ListIds(), ElementsAre(bad_id));
}

TEST_F(DeadLettersServiceTest, RedriveProcessingNotAcceptedStays) {
  Start();
  auto p = dlq_->AddProcessing("demo", {Failed("a", ValidRecord(1)), Failed("b", ValidRecord(2))});
  ASSERT_TRUE(p.ok());
  {
    absl::MutexLock lock(&mu_);
    accept_failure_ = absl::ResourceExhaustedError("buffer budget spent");
  }
  v1::RedriveRequest req;
  req.set_pipeline("demo");
  auto r = client_->Redrive(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results_size(), 2);
  for (const auto& res : r->results()) {
    EXPECT_FALSE(res.ok());
    EXPECT_THAT(res.error(), HasSubstr("buffer budget spent"));
  }
  EXPECT_THAT(ListIds(), SizeIs(2));

  // A pipeline that is not configured any more: the entry stays, with why.
  auto gone = dlq_->AddProcessing("removed-pipeline", {Failed("c", ValidRecord(3))});
  ASSERT_TRUE(gone.ok());
  v1::RedriveRequest ids;
  ids.add_ids((*gone)[0].id);
  auto r2 = client_->Redrive(ids);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->results_size(), 1);
  EXPECT_FALSE(r2->results(0).ok());
  EXPECT_THAT(r2->results(0).error(), HasSubstr("unknown pipeline"));
  EXPECT_TRUE(dlq_->Get((*gone)[0].id).has_value());
}

TEST_F(DeadLettersServiceTest, PurgeIsExplicitOnly) {
  Start();
  auto a = dlq_->AddProcessing("demo", {Failed("1", "x"), Failed("2", "y"), Failed("3", "z")});
  auto b = dlq_->AddProcessing("other", {Failed("4", "w")});
  ASSERT_TRUE(a.ok() && b.ok());

  v1::PurgeRequest nothing;
  EXPECT_EQ(client_->Purge(nothing).status().code(), absl::StatusCode::kInvalidArgument);
  v1::PurgeRequest confirm_only;
  confirm_only.set_confirm(true);
  EXPECT_EQ(client_->Purge(confirm_only).status().code(), absl::StatusCode::kInvalidArgument);
  v1::PurgeRequest unconfirmed;
  unconfirmed.set_pipeline("demo");
  auto r = client_->Purge(unconfirmed);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(StatusMessage(r.status())), HasSubstr("confirm"));
  v1::PurgeRequest both;
  both.add_ids((*a)[0].id);
  both.set_pipeline("demo");
  both.set_confirm(true);
  EXPECT_EQ(client_->Purge(both).status().code(), absl::StatusCode::kInvalidArgument);
  v1::PurgeRequest unknown;
  unknown.add_ids((*a)[0].id);
  unknown.add_ids("0000000000000001-p-00000000");
  EXPECT_EQ(client_->Purge(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ListIds(), SizeIs(4));  // nothing purged by any of the above

  v1::PurgeRequest by_id;
  by_id.add_ids((*a)[0].id);
  auto r1 = client_->Purge(by_id);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_THAT(r1->purged(), ElementsAre((*a)[0].id));
  v1::PurgeRequest by_pipeline;
  by_pipeline.set_pipeline("demo");
  by_pipeline.set_confirm(true);
  auto r2 = client_->Purge(by_pipeline);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_THAT(r2->purged(), ElementsAre((*a)[1].id, (*a)[2].id));
  EXPECT_THAT(ListIds(), ElementsAre((*b)[0].id));
  // Gone from disk too.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/dlq/" + (*a)[1].id + ".json"));
}

// Damaged entries (a body truncated on disk, a processing body changed): listed with why,
// never redriven (FAILED_PRECONDITION, nothing stored, no attempt recorded), purged by id.
TEST_F(DeadLettersServiceTest, DamagedEntriesAreListedRefusedAndPurgedOnlyExplicitly) {
  Start();
  const std::string body = "{\"a\":1}\n{\"b\":2}\n";
  auto cut = dlq_->AddDelivery({"demo", "t/cut.jsonl.gz", body, 2, 3, "e1", "e3"});
  auto whole = dlq_->AddDelivery({"demo", "t/whole.jsonl.gz", body, 2, 3, "e1", "e3"});
  auto raw = dlq_->AddProcessing("demo", {Failed("r", ValidRecord(3))});
  ASSERT_TRUE(cut.ok() && whole.ok() && raw.ok());
  const std::string raw_id = (*raw)[0].id;
  std::filesystem::resize_file(dir_ + "/dlq/" + cut->id + ".body", body.size() / 2);
  std::ofstream(dir_ + "/dlq/" + raw_id + ".body", std::ios::app) << "more";

  v1::RedriveRequest all;
  all.set_all(true);
  auto r = client_->Redrive(all);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results_size(), 3);
  EXPECT_EQ(r->results(0).id(), cut->id);
  EXPECT_FALSE(r->results(0).ok());
  EXPECT_THAT(r->results(0).error(),
              HasSubstr(StrCat("FAILED_PRECONDITION: dead letter ", cut->id,
                               " is damaged (body: body is 8 bytes, the metadata says 16)")));
  EXPECT_TRUE(r->results(1).ok()) << r->results(1).error();
  EXPECT_EQ(r->results(2).id(), raw_id);
  EXPECT_FALSE(r->results(2).ok());
  EXPECT_THAT(r->results(2).error(), HasSubstr("FAILED_PRECONDITION"));
  {
    absl::MutexLock lock(&mu_);
    EXPECT_THAT(stored_, SizeIs(1));
    EXPECT_EQ(stored_.count("demo:t/whole.jsonl.gz"), 1u);
    EXPECT_THAT(accepted_, IsEmpty());
  }
  EXPECT_EQ(dlq_->Get(cut->id)->attempts, 3);  // no attempt recorded

  v1::ListDeadLettersRequest list;
  auto listed = client_->ListDeadLetters(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->entries_size(), 2);
  EXPECT_EQ(listed->entries(0).id(), cut->id);
  EXPECT_TRUE(listed->entries(0).damaged());
  EXPECT_EQ(listed->entries(0).damage(), "body: body is 8 bytes, the metadata says 16");
  EXPECT_TRUE(listed->entries(1).damaged());
  EXPECT_THAT(listed->entries(1).damage(), HasSubstr("body: body is "));

  // Again by id: still refused.
  v1::RedriveRequest by_id;
  by_id.add_ids(cut->id);
  auto again = client_->Redrive(by_id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(again->results(0).error(), HasSubstr("FAILED_PRECONDITION"));

  v1::PurgeRequest purge;
  purge.add_ids(cut->id);
  auto purged = client_->Purge(purge);
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_THAT(purged->purged(), ElementsAre(cut->id));
  EXPECT_THAT(ListIds(), ElementsAre(raw_id));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/dlq/" + cut->id + ".body"));
}

TEST_F(DeadLettersServiceTest, DrainingAnswersUnavailable) {
  Start();
  service_->StartDraining();
  EXPECT_EQ(client_->ListDeadLetters({}).status().code(), absl::StatusCode::kUnavailable);
  v1::RedriveRequest all;
  all.set_all(true);
  EXPECT_EQ(RedriveCode(all), absl::StatusCode::kUnavailable);
  v1::PurgeRequest purge;
  purge.add_ids("x");
  EXPECT_EQ(client_->Purge(purge).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(DeadLettersServiceTest, ManyConcurrentCallsAllFinish) {
  Start();
  ASSERT_TRUE(dlq_->AddProcessing("demo", {Failed("1", "x")}).ok());
  std::vector<std::thread> callers;
  std::atomic<int> ok{0}, busy{0};
  for (int i = 0; i < 16; ++i) {
    callers.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        v1::RedriveRequest all;
        all.set_all(true);
        auto r = client_->Redrive(all);
        if (r.ok())
          ++ok;
        else if (r.status().code() == absl::StatusCode::kResourceExhausted)
          ++busy;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok + busy, 80);
  EXPECT_GT(ok, 0);
}

// --- inside lakehose::Server -------------------------------------------------------------

TEST(DeadLettersInServerTest, ServerServesTheQueueUnderDataDir) {
  const TempDir tmp("dead_letters_service_test");
  const std::string& dir = tmp.path();
  auto config = LoadEmbeddedConfig();
  ASSERT_TRUE(config.ok());
  config->server.data_dir = dir;
  config->server.metrics_listen = "127.0.0.1:0";
  FakeClock clock(kNow);
  auto make_sink = [](const PipelineSpec&) -> absl::StatusOr<std::unique_ptr<ObjectSink>> {
    return std::unique_ptr<ObjectSink>(std::make_unique<FakeObjectSink>());
  };
  std::string id;
  {
    auto server = Server::Start(*config, "127.0.0.1:0", clock, make_sink);
    ASSERT_TRUE(server.ok()) << server.status();
    auto added = (*server)->dead_letter_queue().AddProcessing("demo", {Failed("r", "not json")});
    ASSERT_TRUE(added.ok());
    id = (*added)[0].id;
    auto client = Client::ConnectInsecure(StrCat("127.0.0.1:", (*server)->port()));
    auto list = client->ListDeadLetters({});
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_EQ(list->entries_size(), 1);
    EXPECT_EQ(list->entries(0).id(), id);
    (*server)->Shutdown(absl::Seconds(5));
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/dlq/" + id + ".json"));
  {
    // After a restart the entry is still there.
    auto server = Server::Start(*config, "127.0.0.1:0", clock, make_sink);
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE((*server)->dead_letter_queue().Get(id).has_value());
  }
}

TEST(DeadLettersInServerTest, UnusableDlqDirectoryStopsStartUp) {
  const TempDir tmp("dead_letters_service_test");
  const std::string& dir = tmp.path();
  std::ofstream(dir + "/dlq") << "a file where the queue's directory should be";
  auto config = LoadEmbeddedConfig();
  ASSERT_TRUE(config.ok());
  config->server.data_dir = dir;
  config->server.metrics_listen = "127.0.0.1:0";
  FakeClock clock(kNow);
  auto server = Server::Start(*config, "127.0.0.1:0", clock, [](const PipelineSpec&) {
    return absl::StatusOr<std::unique_ptr<ObjectSink>>(std::make_unique<FakeObjectSink>());
  });
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(StatusMessage(server.status())), HasSubstr("dead-letter queue"));
}

}  // namespace
}  // namespace lakehose
