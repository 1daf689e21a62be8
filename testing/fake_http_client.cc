#include "testing/fake_http_client.h"

#include <utility>

namespace lakehose {

std::string_view RecordedHttpRequest::Header(std::string_view name) const {
  return FindHttpHeader(headers, name);
}

absl::StatusOr<HttpResponse> FakeHttpClient::Send(const HttpRequest& request) {
  RecordedHttpRequest recorded{.method = request.method,
                               .url = request.url,
                               .headers = request.headers,
                               .body = std::string(request.body),
                               .timeout_ms = request.timeout_ms};
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(recorded);
    if (!queue_.empty()) {
      absl::StatusOr<HttpResponse> reply = std::move(queue_.front());
      queue_.pop_front();
      return reply;
    }
    handler = handler_;
  }
  // Called without the lock, so a handler may inspect requests() or Push().
  if (handler) return handler(recorded);
  return HttpResponse{.status = 404, .headers = {}, .body = "no scripted reply"};
}

void FakeHttpClient::Push(absl::StatusOr<HttpResponse> reply) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(reply));
}

void FakeHttpClient::Push(int status, std::string body, HttpHeaders headers) {
  Push(HttpResponse{.status = status, .headers = std::move(headers), .body = std::move(body)});
}

void FakeHttpClient::SetHandler(Handler handler) {
  absl::MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

std::vector<RecordedHttpRequest> FakeHttpClient::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

size_t FakeHttpClient::request_count() const {
  absl::MutexLock lock(&mu_);
  return requests_.size();
}

}  // namespace lakehose
