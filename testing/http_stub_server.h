// HttpStubServer: a tiny HTTP/1.1 server for tests, in-process, on 127.0.0.1 and an
// ephemeral port. One connection at a time, one request per connection
// ("Connection: close"); requests are bounded (64 KiB of headers, 32 MiB of body, 5 s
// per read) and Stop() ends it promptly (a wake-up pipe, no polling interval).
//
//   HttpStubServer stub([](const StubRequest& r) {
//     return StubResponse{.status = 200, .body = "hello"};
//   });
//   ASSERT_TRUE(stub.Start().ok());
//   ... http://127.0.0.1:<stub.port()>/ ...
//   stub.Stop();  // also done by the destructor
//
// The handler runs on the server's thread. Thread-safe accessors.
#ifndef LAKEHOSE_TESTING_HTTP_STUB_SERVER_H_
#define LAKEHOSE_TESTING_HTTP_STUB_SERVER_H_

#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace lakehose {

struct StubRequest {
  std::string method;
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string_view Header(std::string_view lower_name) const;
  std::string Path() const { return target.substr(0, target.find('?')); }
};

struct StubResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length added if absent
  std::string body;
  bool reset = false;  // close the connection without answering
  bool hang = false;   // never answer; the connection stays open until the client gives up
};

class HttpStubServer {
 public:
  using Handler = std::function<StubResponse(const StubRequest&)>;

  explicit HttpStubServer(Handler handler) : handler_(std::move(handler)) {}
  ~HttpStubServer() { Stop(); }
  HttpStubServer(const HttpStubServer&) = delete;
  HttpStubServer& operator=(const HttpStubServer&) = delete;

  absl::Status Start();
  void Stop();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<StubRequest> requests() const;

 private:
  void Serve();
  void HandleConnection(int fd);
  bool ReadRequest(int fd, StubRequest* request);
  void WaitForPeerClose(int fd);

  const Handler handler_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // Stop() writes to [1]; the server polls [0]
  int port_ = 0;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<StubRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_HTTP_STUB_SERVER_H_
