// Metrics (README.md, "Metrics"): the families and their labels, what the server counts for
// Transform, Ingest, Flush and the DLQ, the gauges a scrape refreshes, and the /metrics
// endpoint itself. A real Prometheus scrapes it in tests/ops/.
#include "service/metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "core/base/strings.h"
#include "core/workload/workload.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_file.h"
#include "service/delivery/object_sink.h"
#include "service/rpc/server.h"
#include "testing/fake_clock.h"
#include "testing/fake_object_sink.h"
#include "testing/http_stub_server.h"
#include "testing/sigv4_check.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kNow = 1700000000000;

// Every family of LAKEHOSE_METRIC_FAMILIES, as exported.
std::set<std::string> DeclaredFamilies() {
  std::set<std::string> names;
#define LAKEHOSE_NAME(member, name, labels, help) names.insert(StrCat("lakehose_", name));
  LAKEHOSE_METRIC_FAMILIES(LAKEHOSE_NAME, LAKEHOSE_NAME, LAKEHOSE_NAME)
#undef LAKEHOSE_NAME
  return names;
}

// "# TYPE name type" lines of an exposition.
std::map<std::string, std::string> Types(const std::string& scrape) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while ((at = scrape.find("# TYPE ", at)) != std::string::npos) {
    const size_t end = scrape.find('\n', at);
    const std::string line = scrape.substr(at + 7, end - at - 7);
    const size_t sp = line.find(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
    at = end;
  }
  return out;
}

// The label values of `label` over the series of `family` in an exposition.
std::set<std::string> LabelValues(const std::string& scrape, const std::string& family,
                                  const std::string& label) {
  std::set<std::string> out;
  size_t at = 0;
  const std::string head = "\n" + family + "{";
  while ((at = scrape.find(head, at)) != std::string::npos) {
    const size_t end = scrape.find('}', at);
    const std::string labels = scrape.substr(at + head.size(), end - at - head.size());
    const size_t l = labels.find(label + "=\"");
    if (l != std::string::npos) {
      const size_t v = l + label.size() + 2;
      out.insert(labels.substr(v, labels.find('"', v) - v));
    }
    at = end;
  }
  return out;
}

Config DemoConfig() {
  auto config = LoadEmbeddedConfig();
  EXPECT_TRUE(config.ok()) << config.status();
  Config c = *std::move(config);
  c.server.data_dir.clear();  // in-memory delivery
  c.server.metrics_listen = "127.0.0.1:0";
  return c;
}

TEST(MetricsTest, EveryDeclaredFamilyIsExportedWithItsType) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  // Per-destination families have series once a destination exists (an S3 sink is made);
  // before that they are not exported at all.
  const std::string before = metrics.Scrape();
  EXPECT_THAT(before, Not(HasSubstr("lakehose_destination_down")));
  metrics.ForDestination("s3://lake");
  // Iceberg families likewise, once a table's writer is read.
  EXPECT_THAT(before, Not(HasSubstr("lakehose_iceberg_commits_total")));
  metrics.RecordTable("demo", TableReading{.commits = 2, .snapshots = 3});
  // A mode: current table's, only for such a table.
  EXPECT_THAT(metrics.Scrape(), Not(HasSubstr("lakehose_iceberg_changes_total")));
  metrics.RecordTable(
      "demo",
      TableReading{
          .commits = 2, .snapshots = 3, .current = true, .changes_applied = 7, .changes_stale = 2});
  // And a REST catalog's, once its counts are read.
  EXPECT_THAT(before, Not(HasSubstr("lakehose_iceberg_catalog_requests_total")));
  metrics.RecordCatalog(
      "demo", CatalogReading{.requests = 5, .failures = 2, .denied = 1, .unknown_commits = 1});
  const std::string scraped = metrics.Scrape();
  EXPECT_THAT(
      scraped,
      HasSubstr("lakehose_iceberg_catalog_requests_total{pipeline=\"demo\",result=\"ok\"} 3"));
  EXPECT_THAT(scraped, HasSubstr("lakehose_iceberg_catalog_requests_total{pipeline=\"demo\","
                                 "result=\"error\"} 1"));
  EXPECT_THAT(scraped, HasSubstr("lakehose_iceberg_commit_unknown_total{pipeline=\"demo\"} 1"));
  EXPECT_THAT(scraped,
              HasSubstr("lakehose_iceberg_changes_total{pipeline=\"demo\",result=\"stale\"} 2"));
  const std::map<std::string, std::string> types = Types(scraped);
  const std::set<std::string> declared = DeclaredFamilies();
  EXPECT_GE(declared.size(), 30u);
  for (const std::string& name : declared) {
    ASSERT_TRUE(types.contains(name)) << name << " is declared but not exported";
    const std::string& type = types.at(name);
    if (type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
    if (name.ends_with("_total")) {
      EXPECT_EQ(type, "counter") << name;
    }
  }
  for (const auto& [name, type] : types)
    EXPECT_TRUE(declared.contains(name)) << name << " is not in the list";
}

TEST(MetricsTest, PipelineLabelsAreTheConfiguredPipelinesOnly) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  EXPECT_EQ(&metrics.ForPipeline("demo"), &metrics.ForPipeline(*config.pipelines[0]));
  EXPECT_EQ(metrics.ForPipeline("demo").name, "demo");
  // Any other name (a dead letter of a pipeline removed from the config) shares one series.
  EXPECT_EQ(metrics.ForPipeline("gone").name, "(unknown)");
  EXPECT_EQ(&metrics.ForPipeline("gone"), &metrics.ForPipeline("also-gone"));
  metrics.ForPipeline("gone").dlq_purged[kDlqDelivery]->Increment();
  EXPECT_EQ(LabelValues(metrics.Scrape(), "lakehose_dlq_purged_total", "pipeline"),
            (std::set<std::string>{"demo", "(unknown)"}));
}

TEST(MetricsTest, RefreshersRunOnScrapeUntilUnregistered) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  int runs = 0;
  {
    Metrics::Registration r = metrics.AddRefresher([&] {
      ++runs;
      metrics.active_partitions().Set(7);
    });
    EXPECT_THAT(metrics.Scrape(), HasSubstr("lakehose_active_partitions 7\n"));
    EXPECT_EQ(runs, 1);
  }
  metrics.Scrape();
  EXPECT_EQ(runs, 1);
}

// The breaker's cumulative counts become counter increments at each scrape; state and
// outage length are gauges. Destinations are labelled by name and kept apart.
TEST(MetricsTest, TableSeriesFollowTheWritersCounts) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  metrics.RecordTable("demo", TableReading{.commits = 3,
                                           .commit_conflicts = 1,
                                           .records_committed = 500,
                                           .last_commit_age_s = 12.5,
                                           .snapshots = 7});
  metrics.RecordTable("demo", TableReading{.commits = 5,
                                           .commit_conflicts = 1,
                                           .records_committed = 900,
                                           .last_commit_age_s = 0.5,
                                           .snapshots = 9});
  const std::string text = metrics.Scrape();
  EXPECT_THAT(text, HasSubstr("lakehose_iceberg_commits_total{pipeline=\"demo\"} 5"));
  EXPECT_THAT(text, HasSubstr("lakehose_iceberg_commit_conflicts_total{pipeline=\"demo\"} 1"));
  EXPECT_THAT(text, HasSubstr("lakehose_iceberg_records_committed_total{pipeline=\"demo\"} 900"));
  EXPECT_THAT(text, HasSubstr("lakehose_iceberg_last_commit_age_seconds{pipeline=\"demo\"} 0.5"));
  EXPECT_THAT(text, HasSubstr("lakehose_iceberg_snapshots{pipeline=\"demo\"} 9"));
}

TEST(MetricsTest, DestinationSeriesFollowTheBreakersReadings) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  DestinationReading r;
  r.state = BreakerState::kOpen;
  r.outage_ms = 7500;
  r.total_outage_ms = 7500;
  r.counts.opened = 1;
  r.counts.waits = 12;
  metrics.RecordDestination("s3://lake", r);
  metrics.RecordDestination("127.0.0.1:9000/lake", DestinationReading{});
  const DestinationMetrics& m = metrics.ForDestination("s3://lake");
  EXPECT_EQ(m.down->Value(), 1);
  EXPECT_DOUBLE_EQ(m.outage_seconds->Value(), 7.5);
  EXPECT_DOUBLE_EQ(m.outage_seconds_total->Value(), 7.5);
  EXPECT_EQ(m.transitions[kBreakerToOpen]->Value(), 1);
  EXPECT_EQ(m.transitions[kBreakerToHalfOpen]->Value(), 0);
  EXPECT_EQ(m.refused->Value(), 12);

  // Two failed probes, one inconclusive, then one that closed it.
  r.state = BreakerState::kClosed;
  r.outage_ms = 0;
  r.total_outage_ms = 61000;
  r.counts.probes = 4;
  r.counts.probes_failed = 2;
  r.counts.probes_inconclusive = 1;
  r.counts.closed = 1;
  metrics.RecordDestination("s3://lake", r);
  EXPECT_EQ(m.down->Value(), 0);
  EXPECT_EQ(m.outage_seconds->Value(), 0);
  EXPECT_DOUBLE_EQ(m.outage_seconds_total->Value(), 61.0);
  EXPECT_EQ(m.transitions[kBreakerToOpen]->Value(), 1 + 2 + 1);
  EXPECT_EQ(m.transitions[kBreakerToHalfOpen]->Value(), 4);
  EXPECT_EQ(m.transitions[kBreakerToClosed]->Value(), 1);
  EXPECT_EQ(m.probes[kProbeOk]->Value(), 1);
  EXPECT_EQ(m.probes[kProbeFailed]->Value(), 2);
  EXPECT_EQ(m.probes[kProbeInconclusive]->Value(), 1);
  // A reading that is not ahead (a clock that stepped back) never lowers a counter.
  r.total_outage_ms = 1000;
  metrics.RecordDestination("s3://lake", r);
  EXPECT_DOUBLE_EQ(m.outage_seconds_total->Value(), 61.0);

  const std::string scrape = metrics.Scrape();
  EXPECT_EQ(LabelValues(scrape, "lakehose_destination_down", "destination"),
            (std::set<std::string>{"s3://lake", "127.0.0.1:9000/lake"}));
  EXPECT_THAT(scrape,
              HasSubstr("lakehose_destination_down{destination=\"127.0.0.1:9000/lake\"} 0\n"));
  EXPECT_THAT(scrape, HasSubstr("lakehose_destination_breaker_transitions_total{destination=\"s3://"
                                "lake\",to=\"half_open\"} 4\n"));
  EXPECT_EQ(&metrics.ForDestination("s3://lake"), &m);
}

TEST(MetricsTest, S3RequestsAreCountedByOperationAndOutcome) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  metrics.ObserveS3Request(S3Operation::kPutObject, S3Outcome::kThrottled, 0.2, /*retry=*/false);
  metrics.ObserveS3Request(S3Operation::kPutObject, S3Outcome::kOk, 0.01, /*retry=*/true);
  metrics.ObserveS3Request(S3Operation::kCompleteMultipartUpload, S3Outcome::kPreconditionFailed,
                           0.01, /*retry=*/false);
  EXPECT_EQ(metrics.s3_requests(S3Operation::kPutObject, S3Outcome::kThrottled).Value(), 1);
  EXPECT_EQ(metrics.s3_requests(S3Operation::kPutObject, S3Outcome::kOk).Value(), 1);
  EXPECT_EQ(metrics.s3_retries(S3Operation::kPutObject).Value(), 1);
  EXPECT_EQ(
      metrics.s3_requests(S3Operation::kCompleteMultipartUpload, S3Outcome::kPreconditionFailed)
          .Value(),
      1);
  const std::string scrape = metrics.Scrape();
  EXPECT_THAT(
      scrape,
      HasSubstr("lakehose_s3_requests_total{operation=\"PutObject\",outcome=\"throttled\"} 1\n"));
  // Only the fixed label values, byte for byte what dashboards and alerts match.
  EXPECT_FALSE(
      LabelValues(scrape, "lakehose_s3_requests_total", "operation").contains("NotAnOperation"));
  const std::set<std::string> operations = {"PutObject",
                                            "CreateMultipartUpload",
                                            "UploadPart",
                                            "CompleteMultipartUpload",
                                            "AbortMultipartUpload",
                                            "HeadObject",
                                            "GetObject"};
  EXPECT_EQ(LabelValues(scrape, "lakehose_s3_requests_total", "operation"), operations);
  EXPECT_EQ(LabelValues(scrape, "lakehose_s3_retries_total", "operation"), operations);
  EXPECT_EQ(LabelValues(scrape, "lakehose_s3_requests_total", "outcome"),
            (std::set<std::string>{"ok", "throttled", "server_error", "client_error",
                                   "network_error", "precondition_failed"}));
}

// A TCP connection to 127.0.0.1:`port` (-1 if it failed), with a receive timeout.
int ConnectLoopback(int port, int timeout_s = 5) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// HTTP GET of `path` on 127.0.0.1:`port`; the whole answer ("" if nothing came within
// `timeout_s` of a read).
std::string HttpGet(int port, const std::string& path, int timeout_s = 5) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  (void)::write(fd, request.data(), request.size());
  std::string out;
  char buf[65536];
  for (int i = 0; i < 10000; ++i) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class ServerMetricsTest : public ::testing::Test {
 protected:
  void Start(Config config) {
    config_ = std::move(config);
    auto server =
        Server::Start(config_, "127.0.0.1:0", clock_,
                      [this](const PipelineSpec& p) -> absl::StatusOr<std::unique_ptr<ObjectSink>> {
                        auto sink = std::make_unique<FakeObjectSink>();
                        sinks_[p.name] = sink.get();
                        return std::unique_ptr<ObjectSink>(std::move(sink));
                      });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = Client::ConnectInsecure(StrCat("127.0.0.1:", server_->port()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(5));
  }

  // `n` transactions records; those at `bad` get an amount that is not a number.
  v1::IngestRequest Records(int n, std::set<int> bad = {}) {
    v1::IngestRequest req;
    req.set_pipeline("demo");
    WorkloadGenerator gen(Workload::kTransactions, 5);
    for (int i = 0; i < n; ++i) {
      v1::Record* r = req.add_records();
      r->set_record_id(StrCat("r", i));
      gen.Next(r->mutable_data());
      if (bad.contains(i)) {
        std::string* data = r->mutable_data();
        const size_t at = data->find("\"amount\":{\"N\":\"");
        data->insert(at + 15, "x");
      }
    }
    return req;
  }
  static int64_t DataBytes(const v1::IngestRequest& req) {
    int64_t n = 0;
    for (const auto& r : req.records()) n += static_cast<int64_t>(r.data().size());
    return n;
  }
  const PipelineMetrics& Demo() { return server_->metrics().ForPipeline("demo"); }

  // DemoConfig with its pipeline writing to bucket "lake" at `endpoint` (one attempt per
  // request), started with the server's real sinks (S3 client, breakers).
  void StartWithS3(Config config, const std::string& endpoint) {
    DestinationSpec& d = config.pipelines.at(0)->destination;
    d.kind = DestinationKind::kS3;
    d.bucket = "lake";
    d.region = "us-east-1";
    d.endpoint = endpoint;
    d.max_attempts = 1;
    config_ = std::move(config);
    auto server = Server::Start(config_, "127.0.0.1:0", clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = Client::ConnectInsecure(StrCat("127.0.0.1:", server_->port()));
  }

  FakeClock clock_{kNow};
  Config config_;
  std::map<std::string, FakeObjectSink*> sinks_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ServerMetricsTest, CountsRecordsBytesObjectsAndFlushes) {
  Start(DemoConfig());
  const v1::IngestRequest ingest = Records(300, {3, 30, 299});
  ASSERT_TRUE(client_->Ingest(ingest).ok());
  v1::TransformRequest transform;
  transform.set_pipeline("demo");
  *transform.mutable_records() = Records(40, {0}).records();
  ASSERT_TRUE(client_->Transform(transform).ok());

  const PipelineMetrics& m = Demo();
  EXPECT_EQ(m.records[kRpcIngest][kResultOk]->Value(), 297);
  EXPECT_EQ(m.records[kRpcIngest][kResultProcessingFailed]->Value(), 3);
  EXPECT_EQ(m.records[kRpcTransform][kResultOk]->Value(), 39);
  EXPECT_EQ(m.records[kRpcTransform][kResultProcessingFailed]->Value(), 1);
  EXPECT_EQ(m.bytes_in->Value(),
            static_cast<double>(DataBytes(ingest) + DataBytes(Records(40, {0}))));
  EXPECT_EQ(m.dlq_added[kDlqProcessing]->Value(), 3);

  // Before the flush: buffered, visible in the gauges a scrape refreshes.
  server_->metrics().Refresh();
  EXPECT_GT(m.buffered_records->Value(), 0);  // 297 records and 3 error documents
  EXPECT_EQ(m.buffered_records->Value(), 300);
  EXPECT_GT(server_->metrics().active_partitions().Value(), 0);
  clock_.AdvanceMillis(5000);
  server_->metrics().Refresh();
  EXPECT_DOUBLE_EQ(m.oldest_unflushed_age->Value(), 5.0);
  server_->metrics().Refresh();
  EXPECT_EQ(server_->metrics().dlq_depth(kDlqProcessing).Value(), 3);

  auto flushed = client_->Flush("", absl::Seconds(20));
  ASSERT_TRUE(flushed.ok()) << flushed.status();
  int64_t stored_bytes = 0;
  for (const auto& o : flushed->objects()) stored_bytes += o.bytes();
  EXPECT_EQ(m.objects_written->Value(), flushed->objects_size());
  EXPECT_EQ(m.flushes[static_cast<int>(FlushReason::kRequested)]->Value(), flushed->objects_size());
  EXPECT_EQ(m.bytes_out->Value(), static_cast<double>(stored_bytes));
  server_->metrics().Refresh();
  EXPECT_EQ(m.buffered_records->Value(), 0);
  EXPECT_EQ(m.buffered_bytes->Value(), 0);
  EXPECT_EQ(m.oldest_unflushed_age->Value(), 0);
  EXPECT_EQ(server_->metrics().pending_bytes().Value(), 0);

  EXPECT_EQ(server_->metrics().request_duration(kRpcIngest).Collect().histogram.sample_count, 1u);
  EXPECT_EQ(server_->metrics().request_records(kRpcIngest).Collect().histogram.sample_sum, 300);
  EXPECT_EQ(server_->metrics().request_duration(kRpcFlush).Collect().histogram.sample_count, 1u);
}

// The real S3 sink of a server (no sink factory given): its requests are counted in the
// metrics and signed with the server's clock, not the system's.
TEST_F(ServerMetricsTest, RealS3SinksAreObservedAndSignWithTheServersClock) {
  HttpStubServer s3([](const StubRequest& r) {
    if (r.method != "PUT") return StubResponse{.status = 400};
    return StubResponse{.status = 200, .headers = {{"ETag", "\"e\""}}};
  });
  ASSERT_TRUE(s3.Start().ok());
  // The server's credentials chain reads the process environment.
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDSERVERCLOCK", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "server-clock-secret", 1);
  StartWithS3(DemoConfig(), s3.url());
  ASSERT_NE(server_, nullptr);

  ASSERT_TRUE(client_->Ingest(Records(20)).ok());
  auto flushed = client_->Flush("", absl::Seconds(20));
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_TRUE(flushed.ok()) << flushed.status();
  ASSERT_GT(flushed->objects_size(), 0);
  const std::vector<StubRequest> seen = s3.requests();
  ASSERT_EQ(seen.size(), static_cast<size_t>(flushed->objects_size()));
  for (const StubRequest& r : seen) {
    EXPECT_EQ(r.Header("x-amz-date"), "20231114T221320Z");  // kNow, the FakeClock
    EXPECT_EQ(CheckS3Signature(r.method, r.target, r.headers, "server-clock-secret", "us-east-1"),
              "")
        << r.target;
  }
  EXPECT_EQ(server_->metrics().s3_requests(S3Operation::kPutObject, S3Outcome::kOk).Value(),
            static_cast<double>(seen.size()));
}

// An S3 destination that answers 503 SlowDown to everything: with
// server.destination_breaker set low, two failed stores open its breaker. The metrics and
// ServerStatus show it down, with the last error, and health stays SERVING (Ingest still
// acknowledges to disk).
TEST_F(ServerMetricsTest, ADownDestinationShowsInMetricsAndServerStatusNotInHealth) {
  HttpStubServer s3([](const StubRequest&) {
    return StubResponse{.status = 503,
                        .headers = {{"Content-Type", "application/xml"}},
                        .body =
                            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                            "</Message></Error>"};
  });
  ASSERT_TRUE(s3.Start().ok());
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDDOWN", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "down-secret", 1);
  Config config = DemoConfig();
  config.server.destination_breaker = {
      .failure_threshold = 2, .min_down_s = 0, .probe_base_ms = 60000, .probe_max_s = 600};
  config.server.delivery_retry_budget_s = 0;  // a failed store goes to the DLQ at once
  StartWithS3(std::move(config), s3.url());
  ASSERT_NE(server_, nullptr);
  const std::string name = StrCat(s3.url().substr(s3.url().find("//") + 2), "/lake");

  server_->metrics().Refresh();
  const DestinationMetrics& m = server_->metrics().ForDestination(name);
  EXPECT_EQ(m.down->Value(), 0) << "known and up from the start";

  // Records of several partitions: at least two objects, two failed PutObjects.
  ASSERT_TRUE(client_->Ingest(Records(50)).ok());
  (void)client_->Flush("", absl::Seconds(20));  // each object ends dead-lettered
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_GE(s3.requests().size(), 2u);
  clock_.AdvanceMillis(3000);
  server_->metrics().Refresh();
  EXPECT_EQ(m.down->Value(), 1);
  EXPECT_DOUBLE_EQ(m.outage_seconds->Value(), 3.0);
  EXPECT_EQ(m.transitions[kBreakerToOpen]->Value(), 1);
  EXPECT_GT(server_->metrics().dlq_depth(kDlqDelivery).Value(), 0);
  EXPECT_GT(server_->metrics().dlq_backlog_bytes().Value(), 0);

  auto status = client_->GetServerStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->destinations_size(), 1);
  const v1::DestinationStatus& ds = status->destinations(0);
  EXPECT_EQ(ds.destination(), name);
  EXPECT_EQ(ds.state(), "open");
  EXPECT_DOUBLE_EQ(ds.outage_seconds(), 3.0);
  EXPECT_THAT(ds.last_error(), HasSubstr("SlowDown"));
  EXPECT_THAT(ds.last_error(), Not(HasSubstr("down-secret")));
  EXPECT_GT(ds.next_probe_in_ms(), 0);
  EXPECT_EQ(status->dlq_delivery_entries(), server_->metrics().dlq_depth(kDlqDelivery).Value());
  EXPECT_EQ(status->dlq_backlog_bytes(), server_->metrics().dlq_backlog_bytes().Value());

  auto health = client_->CheckHealth("");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthStatus::kServing) << "S3 being down is not the server being down";
  // Ingest still acknowledges.
  EXPECT_TRUE(client_->Ingest(Records(5)).ok());
}

TEST(ServerStatusTest, ErrorsAreBoundedAndPrintable) {
  EXPECT_EQ(CleanStatusError("503 SlowDown\r\nRetry"), "503 SlowDown  Retry");
  const std::string long_error = std::string(kMaxStatusErrorBytes - 1, 'x') + "\xc3\xa9tail";
  const std::string cleaned = CleanStatusError(long_error);
  EXPECT_EQ(cleaned, std::string(kMaxStatusErrorBytes - 1, 'x')) << "never half a character";
}

TEST_F(ServerMetricsTest, RefusedIngestsAreCountedByReason) {
  Config config = DemoConfig();
  config.server.buffer_budget_mb = 0.05;  // 52 KB: a few records
  Start(std::move(config));
  sinks_.at("demo")->SetFailure(absl::UnavailableError("S3 is down"));  // nothing drains
  int refused_records = 0;
  for (int i = 0; i < 20; ++i) {
    v1::IngestRequest req = Records(20);
    for (auto& r : *req.mutable_records()) r.set_record_id(StrCat(i, "-", r.record_id()));
    auto resp = client_->Ingest(req);
    if (!resp.ok()) {
      ASSERT_EQ(resp.status().code(), absl::StatusCode::kResourceExhausted) << resp.status();
      refused_records += 20;
    }
  }
  ASSERT_GT(refused_records, 0);
  EXPECT_EQ(Demo().rejected[kRejectBufferFull]->Value(), refused_records);
  EXPECT_EQ(Demo().rejected[kRejectDiskFull]->Value(), 0);
  EXPECT_EQ(Demo().records[kRpcIngest][kResultOk]->Value(), 20 * 20 - refused_records);
}

TEST_F(ServerMetricsTest, RecordsSealedButNotStoredStillCountAsUnflushed) {
  Start(DemoConfig());
  sinks_.at("demo")->SetFailure(absl::UnavailableError("S3 is down"));
  ASSERT_TRUE(client_->Ingest(Records(10)).ok());
  server_->metrics().Refresh();
  EXPECT_EQ(server_->metrics().delivery_oldest_sealed_age().Value(), 0) << "buffered, not sealed";
  clock_.AdvanceMillis(10000);  // buffered 10 s before the seal (under the 60 s interval)
  auto flushed = client_->Flush("", absl::Seconds(20));
  ASSERT_FALSE(flushed.ok());  // sealed, not stored: retried later
  clock_.AdvanceMillis(90000);
  server_->metrics().Refresh();
  EXPECT_EQ(Demo().buffered_records->Value(), 0);
  EXPECT_DOUBLE_EQ(Demo().oldest_unflushed_age->Value(), 100.0);  // from the first record
  // From the seal: how long memory has held it (within the 300 s retry budget).
  EXPECT_DOUBLE_EQ(server_->metrics().delivery_oldest_sealed_age().Value(), 90.0);
  EXPECT_GT(server_->metrics().pending_bytes().Value(), 0);
  EXPECT_GE(Demo().delivery_retries->Value(), 1);
  sinks_.at("demo")->SetFailure(absl::OkStatus());
  ASSERT_TRUE(client_->Flush("", absl::Seconds(20)).ok());
  server_->metrics().Refresh();
  EXPECT_EQ(Demo().oldest_unflushed_age->Value(), 0);
  EXPECT_EQ(server_->metrics().delivery_oldest_sealed_age().Value(), 0);
}

TEST_F(ServerMetricsTest, ServesMetricsOverHttpWithPrometheusText) {
  Start(DemoConfig());
  ASSERT_GT(server_->metrics_port(), 0);
  ASSERT_TRUE(client_->Ingest(Records(10)).ok());
  const std::string answer = HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_THAT(answer, HasSubstr("200 OK"));
  EXPECT_THAT(answer, HasSubstr("Content-Type: text/plain"));
  EXPECT_THAT(
      answer,
      HasSubstr("lakehose_records_total{pipeline=\"demo\",result=\"ok\",rpc=\"Ingest\"} 10\n"));
  // The scrape refreshed the gauges.
  EXPECT_THAT(answer, HasSubstr("lakehose_buffered_records{pipeline=\"demo\"} 10\n"));
  // No partition value ever becomes a label.
  EXPECT_EQ(LabelValues(answer, "lakehose_buffered_records", "pipeline"),
            (std::set<std::string>{"demo", "(unknown)"}));
  EXPECT_EQ(answer.find("region="), std::string::npos);
}

TEST_F(ServerMetricsTest, AMetricsAddressInUseStopsStartUp) {
  Start(DemoConfig());
  Config second = DemoConfig();
  second.server.metrics_listen = StrCat("127.0.0.1:", server_->metrics_port());
  FakeClock clock(kNow);
  auto other = Server::Start(second, "127.0.0.1:0", clock, [](const PipelineSpec&) {
    return absl::StatusOr<std::unique_ptr<ObjectSink>>(std::make_unique<FakeObjectSink>());
  });
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(StatusMessage(other.status())), HasSubstr("server.metrics_listen"));
}

TEST_F(ServerMetricsTest, NoMetricsEndpointWhenTheAddressIsEmpty) {
  Config config = DemoConfig();
  config.server.metrics_listen.clear();
  Start(std::move(config));
  EXPECT_EQ(server_->metrics_port(), 0);
  EXPECT_TRUE(client_->Ingest(Records(3)).ok());
  EXPECT_EQ(Demo().records[kRpcIngest][kResultOk]->Value(), 3);  // still counted
}

// --- The endpoint under slow clients (README "Metrics") ---

// A client that sent the start of a request and then nothing: what held the exposer's one
// worker for 30 s each, so two of them stopped every scrape for a minute.
class HalfRequest {
 public:
  explicit HalfRequest(int port) : fd_(ConnectLoopback(port)) {
    constexpr std::string_view kStart = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (fd_ >= 0) (void)::write(fd_, kStart.data(), kStart.size());
  }
  ~HalfRequest() {
    if (fd_ >= 0) ::close(fd_);
  }
  HalfRequest(const HalfRequest&) = delete;
  HalfRequest& operator=(const HalfRequest&) = delete;
  bool connected() const { return fd_ >= 0; }
  // True once the server closed the connection (read gives end of file), false if it is
  // still open after the receive timeout (5 s).
  bool ClosedByServer() {
    char buf[512];
    for (int i = 0; i < 100; ++i) {
      const ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n == 0) return true;
      if (n < 0) return false;  // timed out (or reset: counted as still holding)
    }
    return false;
  }

 private:
  int fd_;
};

TEST(MetricsExposerTest, HalfRequestsDoNotStopScrapes) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  auto exposer = MetricsExposer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  const int port = (*exposer)->port();
  {
    std::vector<std::unique_ptr<HalfRequest>> slow;
    for (int i = 0; i < 5; ++i) {
      slow.push_back(std::make_unique<HalfRequest>(port));
      ASSERT_TRUE(slow.back()->connected());
    }
    // Answered while the five are connected, well within the request timeout.
    EXPECT_THAT(HttpGet(port, "/metrics", /*timeout_s=*/1), HasSubstr("200 OK"));
    EXPECT_THAT(HttpGet(port, "/metrics", /*timeout_s=*/1), HasSubstr("lakehose_build_info"));
  }
  // And after they are gone.
  EXPECT_THAT(HttpGet(port, "/metrics", /*timeout_s=*/1), HasSubstr("200 OK"));
}

TEST(MetricsExposerTest, AHalfRequestIsClosedAfterTheRequestTimeout) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  MetricsExposerOptions options;
  options.request_timeout_ms = 300;
  auto exposer = MetricsExposer::Start("127.0.0.1:0", metrics, options);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  HalfRequest slow((*exposer)->port());
  ASSERT_TRUE(slow.connected());
  EXPECT_TRUE(slow.ClosedByServer());  // within the 5 s receive timeout, not kept forever
}

TEST(MetricsExposerTest, MoreSlowClientsThanWorkersDelayAScrapeByTheTimeoutOnly) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  MetricsExposerOptions options;
  options.threads = 2;
  options.request_timeout_ms = 300;
  auto exposer = MetricsExposer::Start("127.0.0.1:0", metrics, options);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  const int port = (*exposer)->port();
  std::vector<std::unique_ptr<HalfRequest>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<HalfRequest>(port));
    ASSERT_TRUE(slow.back()->connected());
  }
  // Queued behind two rounds of 300 ms at most.
  EXPECT_THAT(HttpGet(port, "/metrics", /*timeout_s=*/3), HasSubstr("200 OK"));
}

TEST(MetricsExposerTest, OptionsAreValidated) {
  const Config config = DemoConfig();
  Metrics metrics(config);
  MetricsExposerOptions options;
  options.threads = 0;
  auto exposer = MetricsExposer::Start("127.0.0.1:0", metrics, options);
  ASSERT_FALSE(exposer.ok());
  EXPECT_EQ(exposer.status().code(), absl::StatusCode::kInvalidArgument);
  options = MetricsExposerOptions();
  options.request_timeout_ms = 0;
  EXPECT_FALSE(MetricsExposer::Start("127.0.0.1:0", metrics, options).ok());
}

}  // namespace
}  // namespace lakehose
