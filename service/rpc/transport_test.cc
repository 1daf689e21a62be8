// TLS, mutual TLS and the bearer token end to end in one process: lakehose::Server on a
// free loopback port with certificates made at test time by the openssl command
// (make_certs.sh), called through lakehose::Client.
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "client/client.h"
#include "core/base/strings.h"
#include "core/workload/workload.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "service/rpc/server.h"
#include "service/rpc/server_credentials.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace lakehose {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "b3f1c0de5ec7e7b3f1c0de5ec7e7aa55";

// Certificates shared by every test: making them takes ~0.5 s.
class CertDir {
 public:
  static const std::string& Get() {
    static const TempDir tmp("lakehose-security");  // removed when the process exits
    static const std::string* dir = [] {
      const std::string cmd = StrCat(LAKEHOSE_TESTING_DIR, "/make_certs.sh ", tmp.path());
      if (std::system(cmd.c_str()) != 0) return new std::string();
      tmp.Write("token", StrCat(kToken, "\n"));
      tmp.Write("short-token", "abc\n");
      tmp.Write("garbage.pem", "this is not PEM\n");
      return new std::string(tmp.path());
    }();
    return *dir;
  }
};

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = CertDir::Get();
    ASSERT_FALSE(dir_.empty()) << "make_certs.sh failed (is openssl installed?)";
    auto config = LoadEmbeddedConfig();
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    config_.server.data_dir.clear();        // in-memory delivery
    config_.server.metrics_listen.clear();  // no /metrics port
    config_.pipelines[0]->destination.path = dir_ + "/lake";
  }

  // Starts the server with the security options set on config_.server.
  void Start() {
    auto server = Server::Start(config_, "127.0.0.1:0", clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    target_ = StrCat("127.0.0.1:", server_->port());
  }

  void UseTls(bool mutual) {
    config_.server.tls.cert_file = dir_ + "/server.pem";
    config_.server.tls.key_file = dir_ + "/server.key";
    if (mutual) config_.server.tls.client_ca_file = dir_ + "/ca.pem";
  }

  ClientTlsOptions Tls(const std::string& ca, const std::string& client = "") {
    ClientTlsOptions tls;
    tls.root_certs = Read(dir_ + "/" + ca + ".pem");
    if (!client.empty()) {
      tls.cert_chain = Read(dir_ + "/" + client + ".pem");
      tls.private_key = Read(dir_ + "/" + client + ".key");
    }
    return tls;
  }

  std::unique_ptr<Client> TlsClient(const ClientTlsOptions& tls, const std::string& token = "") {
    ClientOptions options;
    options.timeout = absl::Seconds(10);
    options.bearer_token = token;
    auto client = Client::ConnectTls(target_, tls, options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  std::unique_ptr<Client> PlainClient(const std::string& token = "") {
    ClientOptions options;
    options.timeout = absl::Seconds(10);
    options.bearer_token = token;
    return Client::ConnectInsecure(target_, options);
  }

  static v1::TransformRequest OneRecord() {
    v1::TransformRequest req;
    req.set_pipeline("demo");
    v1::Record* r = req.add_records();
    r->set_record_id("r1");
    WorkloadGenerator gen(Workload::kTransactions, 1);
    gen.Next(r->mutable_data());
    if (r->data().find("\"eventName\":\"REMOVE\"") != std::string::npos)
      gen.Next(r->mutable_data());
    return req;
  }

  static absl::StatusCode CodeOf(const absl::StatusOr<v1::TransformResponse>& r) {
    return r.status().code();
  }

  std::string dir_;
  FakeClock clock_{1700000000000};
  Config config_;
  std::unique_ptr<Server> server_;
  std::string target_;
};

// --- TLS ---

TEST_F(TransportTest, TlsClientWithTheRightCaIsServed) {
  UseTls(false);
  Start();
  auto client = TlsClient(Tls("ca"));
  auto r = client->Transform(OneRecord());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records(0).result(), v1::RecordResult::OK) << r->records(0).error_message();
  auto health = client->CheckHealth("");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthStatus::kServing);
}

TEST_F(TransportTest, TlsClientTrustingAnotherCaRefusesTheServer) {
  UseTls(false);
  Start();
  auto r = TlsClient(Tls("other-ca"))->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(TransportTest, PlaintextClientCannotTalkToATlsServer) {
  UseTls(false);
  Start();
  auto r = PlainClient()->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(PlainClient()->CheckHealth("").ok());
}

TEST_F(TransportTest, TlsClientCannotTalkToAPlaintextServer) {
  Start();
  auto r = TlsClient(Tls("ca"))->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnavailable) << r.status();
}

// --- mutual TLS ---

TEST_F(TransportTest, MutualTlsAcceptsAClientCertificateFromTheClientCa) {
  UseTls(true);
  Start();
  auto r = TlsClient(Tls("ca", "client"))->Transform(OneRecord());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records(0).result(), v1::RecordResult::OK);
}

TEST_F(TransportTest, MutualTlsRefusesAClientWithoutACertificate) {
  UseTls(true);
  Start();
  auto client = TlsClient(Tls("ca"));
  EXPECT_EQ(CodeOf(client->Transform(OneRecord())), absl::StatusCode::kUnavailable);
  // Health is exempt from the token, not from TLS: the handshake comes first.
  EXPECT_FALSE(client->CheckHealth("").ok());
}

TEST_F(TransportTest, MutualTlsRefusesACertificateFromAnotherCa) {
  UseTls(true);
  Start();
  auto r = TlsClient(Tls("ca", "other-client"))->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnavailable) << r.status();
}

// --- bearer token ---

class TokenTest : public TransportTest, public ::testing::WithParamInterface<bool> {
 protected:
  // With TLS (the processor on SslServerCredentials) and without (on gRPC core's
  // insecure credentials): the same check on both paths.
  void SetUp() override {
    TransportTest::SetUp();
    if (HasFatalFailure()) return;
    if (GetParam()) UseTls(true);
    config_.server.auth.token_file = dir_ + "/token";
    Start();
  }
  std::unique_ptr<Client> Connect(const std::string& token) {
    return GetParam() ? TlsClient(Tls("ca", "client"), token) : PlainClient(token);
  }
};

INSTANTIATE_TEST_SUITE_P(Transport, TokenTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "MutualTls" : "Plaintext"; });

TEST_P(TokenTest, RightTokenIsServed) {
  auto r = Connect(kToken)->Transform(OneRecord());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records(0).result(), v1::RecordResult::OK);
}

TEST_P(TokenTest, MissingTokenIsUnauthenticated) {
  auto r = Connect("")->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(r.status().message(), HasSubstr("missing bearer token"));
}

TEST_P(TokenTest, WrongTokenIsUnauthenticated) {
  auto r = Connect("0000000000000000000000000000000000")->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "invalid bearer token");
  // The right token with a character more is just as wrong.
  r = Connect(std::string(kToken) + "0")->Transform(OneRecord());
  EXPECT_EQ(CodeOf(r), absl::StatusCode::kUnauthenticated);
}

TEST_P(TokenTest, EveryServiceNeedsTheTokenAndNothingIsAcceptedWithoutIt) {
  auto client = Connect("");
  v1::IngestRequest ingest;
  ingest.set_pipeline("demo");
  *ingest.mutable_records() = OneRecord().records();
  EXPECT_EQ(client->Ingest(ingest).status().code(), absl::StatusCode::kUnauthenticated);
  auto stream = client->OpenIngestStream(absl::Seconds(10));
  stream->Write(ingest);
  stream->WritesDone();
  v1::IngestResponse response;
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client->Flush("", absl::Seconds(10)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client->ListDeadLetters({}).status().code(), absl::StatusCode::kUnauthenticated);
  v1::PurgeRequest purge;
  purge.set_pipeline("demo");
  purge.set_confirm(true);
  EXPECT_EQ(client->Purge(purge).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(server_->delivery().Stats().buffered_records, 0);

  // The same Ingest with the token is accepted: the refusal above was the token's.
  auto ok = Connect(kToken)->Ingest(ingest);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(server_->delivery().Stats().buffered_records, 1);
}

TEST_P(TokenTest, HealthNeedsNoToken) {
  auto health = Connect("")->CheckHealth("");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthStatus::kServing);
  health = Connect("wrong-wrong-wrong-wrong")->CheckHealth("");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthStatus::kServing);
  health = Connect("")->CheckHealth("no.such.Service");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthStatus::kServiceUnknown);
}

TEST_P(TokenTest, ReflectionNeedsTheToken) {
  // A unary call on the streaming reflection method: the auth filter answers before the
  // method is looked at, so without the token the answer is UNAUTHENTICATED, and with it
  // anything but.
  auto call = [&](const std::string& token) {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (GetParam()) creds = *MakeTlsChannelCredentials(Tls("ca", "client"));
    grpc::GenericStub stub(grpc::CreateChannel(target_, creds));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    grpc::ByteBuffer request, response;
    grpc::Slice empty("", 0);
    request = grpc::ByteBuffer(&empty, 1);
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                   grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
                     std::lock_guard<std::mutex> lock(mu);
                     status = s;
                     done = true;
                     cv.notify_all();
                   });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return status;
  };
  EXPECT_EQ(call("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(call(kToken).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// --- start-up refuses files it cannot use, naming the key and the file ---

TEST_F(TransportTest, StartUpErrorsNameTheKeyAndTheFile) {
  auto error_of = [&](const ServerOptions& options) -> std::string {
    auto c = MakeServerCredentials(options);
    return c.ok() ? "<ok>" : std::string(StatusMessage(c.status()));
  };
  ServerOptions o;
  o.tls.cert_file = dir_ + "/missing.pem";
  o.tls.key_file = dir_ + "/server.key";
  EXPECT_EQ(error_of(o), StrCat("server.tls.cert_file ", dir_,
                                "/missing.pem: cannot read: No such file or directory"));
  o.tls.cert_file = dir_ + "/garbage.pem";
  EXPECT_THAT(error_of(o), HasSubstr(StrCat("server.tls.cert_file ", dir_,
                                            "/garbage.pem: holds no PEM certificate")));
  o.tls.cert_file = dir_ + "/server.pem";
  o.tls.key_file = dir_ + "/server.pem";
  EXPECT_THAT(error_of(o), HasSubstr(StrCat("server.tls.key_file ", dir_,
                                            "/server.pem: holds no unencrypted PEM private key")));
  o.tls.key_file = dir_ + "/client.key";  // a real key, of another certificate
  EXPECT_EQ(
      error_of(o),
      StrCat("server.tls.key_file ", dir_,
             "/client.key: does not belong to the (first) certificate in server.tls.cert_file"));
  o.tls.key_file = dir_ + "/server.key";
  o.tls.client_ca_file = dir_ + "/garbage.pem";
  EXPECT_THAT(error_of(o), HasSubstr("server.tls.client_ca_file"));
  o.tls.client_ca_file = dir_ + "/ca.pem";
  EXPECT_EQ(error_of(o), "<ok>");
  o.auth.token_file = dir_ + "/short-token";
  EXPECT_THAT(error_of(o), HasSubstr(StrCat("server.auth.token_file ", dir_,
                                            "/short-token: holds a token of 3 characters")));
  o.auth.token_file = dir_ + "/no-token";
  EXPECT_THAT(error_of(o), HasSubstr("server.auth.token_file"));
  EXPECT_THAT(error_of(o), HasSubstr("cannot read"));

  // And Server::Start fails with it rather than serving without the token.
  config_.server.auth.token_file = dir_ + "/no-token";
  auto server = Server::Start(config_, "127.0.0.1:0", clock_);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("server.auth.token_file"));
}

TEST_F(TransportTest, AnEncryptedKeyIsRefusedWithoutPrompting) {
  const std::string encrypted = dir_ + "/encrypted.key";
  const std::string cmd =
      StrCat("openssl pkey -in ", dir_, "/server.key -aes256 -passout pass:secret -out ", encrypted,
             " 2>/dev/null");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions o;
  o.tls.cert_file = dir_ + "/server.pem";
  o.tls.key_file = encrypted;
  auto c = MakeServerCredentials(o);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("encrypted keys are not supported"));
}

// --- client-side file errors ---

TEST_F(TransportTest, ClientFileErrorsNameTheFlagAndFile) {
  auto tls = LoadClientTlsFiles(dir_ + "/nope.pem", "", "");
  ASSERT_FALSE(tls.ok());
  EXPECT_THAT(tls.status().message(),
              HasSubstr(StrCat("--tls-ca ", dir_, "/nope.pem: cannot read")));
  tls = LoadClientTlsFiles(dir_ + "/garbage.pem", "", "");
  EXPECT_THAT(tls.status().message(), HasSubstr("holds no PEM certificate"));
  tls = LoadClientTlsFiles(dir_ + "/ca.pem", dir_ + "/client.pem", "");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(MakeTlsChannelCredentials(*tls).status().code(), absl::StatusCode::kInvalidArgument);
  auto token = ReadTokenFile(dir_ + "/token");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, kToken);
  EXPECT_FALSE(ReadTokenFile(dir_ + "/no-token").ok());
  EXPECT_THAT(ReadTokenFile(dir_ + "/garbage.pem").status().message(),
              Not(HasSubstr("this is not")));
}

}  // namespace
}  // namespace lakehose
