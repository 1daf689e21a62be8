// FakeHttpClient: a scripted HttpClient (service/s3/http_client.h) for tests. It records
// every request and answers each with the next queued reply, else with the handler, else
// 404; nothing goes over the network. A reply whose body exceeds the request's
// max_response_bytes (when set) becomes RESOURCE_EXHAUSTED, as the libcurl client's does.
//
//   auto http = std::make_shared<FakeHttpClient>();
//   http->Push(503, "<Error><Code>SlowDown</Code></Error>");
//   http->Push(200);
//   ... code under test sends two requests ...
//   EXPECT_EQ(http->requests().at(1).method, "PUT");
//
// Thread-safe: Send may run on several threads; the handler runs without the lock, so it
// may call requests() or Push().
#ifndef LAKEHOSE_TESTING_FAKE_HTTP_CLIENT_H_
#define LAKEHOSE_TESTING_FAKE_HTTP_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/s3/http_client.h"

namespace lakehose {

// A request as FakeHttpClient saw it (the body copied).
struct RecordedHttpRequest {
  std::string method;
  std::string url;
  HttpHeaders headers;
  std::string body;
  int64_t timeout_ms = 0;
  size_t max_response_bytes = 0;

  std::string_view Header(std::string_view name) const;  // case-insensitive; empty if absent
};

class FakeHttpClient : public HttpClient {
 public:
  using Handler = std::function<absl::StatusOr<HttpResponse>(const RecordedHttpRequest&)>;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  // Queues `reply` for the next request (FIFO, before the handler).
  void Push(absl::StatusOr<HttpResponse> reply);
  void Push(int status, std::string body = "", HttpHeaders headers = {});
  // Answers requests when the queue is empty.
  void SetHandler(Handler handler);

  std::vector<RecordedHttpRequest> requests() const;
  size_t request_count() const;

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<HttpResponse>> queue_ ABSL_GUARDED_BY(mu_);
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedHttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_TESTING_FAKE_HTTP_CLIENT_H_
