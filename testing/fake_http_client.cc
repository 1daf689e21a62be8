#include "testing/fake_http_client.h"

#include <utility>

#include "core/base/strings.h"

namespace lakehose {

std::string_view RecordedHttpRequest::Header(std::string_view name) const {
  return FindHttpHeader(headers, name);
}

absl::StatusOr<HttpResponse> FakeHttpClient::Send(const HttpRequest& request) {
  RecordedHttpRequest recorded{.method = request.method,
                               .url = request.url,
                               .headers = request.headers,
                               .body = std::string(request.body),
                               .timeout_ms = request.timeout_ms,
                               .max_response_bytes = request.max_response_bytes};
  absl::StatusOr<HttpResponse> reply =
      HttpResponse{.status = 404, .headers = {}, .body = "no scripted reply"};
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(recorded);
    if (!queue_.empty()) {
      reply = std::move(queue_.front());
      queue_.pop_front();
    } else {
      handler = handler_;
    }
  }
  // Called without the lock, so a handler may inspect requests() or Push().
  if (handler) reply = handler(recorded);
  if (reply.ok() && request.max_response_bytes > 0 &&
      reply->body.size() > request.max_response_bytes) {
    return absl::ResourceExhaustedError(
        StrCat("http: response body exceeds ", request.max_response_bytes, " bytes"));
  }
  return reply;
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
