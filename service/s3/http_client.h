// HttpClient: the service's one door to HTTP, so S3, STS, container credentials and IMDS
// can be tested against a fake (testing/fake_http_client.h) or a local stub server.
//
//   std::unique_ptr<HttpClient> http = NewCurlHttpClient();
//   HttpRequest req{.method = "GET", .url = "http://127.0.0.1:8080/x", .timeout_ms = 1000};
//   absl::StatusOr<HttpResponse> resp = http->Send(req);
//
// Contract of Send: performs one HTTP exchange, no redirects followed, no retries. Any
// HTTP status (including 4xx/5xx) is a response, not an error. A non-OK status means no
// complete response arrived: UNAVAILABLE when the connection could not be made or broke
// (refused, reset, closed early, DNS, TLS handshake), DEADLINE_EXCEEDED when `timeout_ms`
// passed, INVALID_ARGUMENT for a malformed URL or method, FAILED_PRECONDITION when the
// peer's TLS certificate does not verify, RESOURCE_EXHAUSTED when the response body (or
// its Content-Length) exceeds the limit (HttpRequest::max_response_bytes, else the
// client's), INTERNAL otherwise.
//
// Thread-safety: implementations are thread-safe; Send may be called concurrently.
#ifndef LAKEHOSE_SERVICE_S3_HTTP_CLIENT_H_
#define LAKEHOSE_SERVICE_S3_HTTP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lakehose {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // absolute, already percent-encoded
  // Sent as given. A "Host" header here replaces the one derived from the URL (SigV4 signs
  // Host, so the S3 client passes the exact value it signed).
  HttpHeaders headers;
  // Borrowed: must stay valid until Send returns. Sent with Content-Length.
  std::string_view body;
  // The whole exchange's deadline; 0 = none. Connecting alone is bounded by
  // min(timeout_ms, connect_timeout_ms).
  int64_t timeout_ms = 0;
  int64_t connect_timeout_ms = 10000;
  // Largest response body accepted for this exchange; 0: the client's own limit
  // (CurlHttpClientOptions::max_response_bytes). S3 GetObject raises it to read objects.
  size_t max_response_bytes = 0;
  // Whether the client may send the request again on its own when the connection broke
  // after it was sent but before an answer (libcurl does so on a reused keep-alive
  // connection). False for a request the server may have acted on that must not be
  // repeated (a catalog commit): the exchange then fails UNAVAILABLE instead.
  bool may_resend = true;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased, values trimmed, in arrival order
  std::string body;

  // The first header named `name` (compared case-insensitively), or empty.
  std::string_view Header(std::string_view name) const;
};

// The value of the first of `headers` named `name` (compared case-insensitively), or empty.
std::string_view FindHttpHeader(const HttpHeaders& headers, std::string_view name);

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // See the contract at the top of this file.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct CurlHttpClientOptions {
  // Idle easy handles kept for reuse; each keeps its connections (and TLS sessions) alive,
  // so this bounds the pooled connections too. Default 16.
  size_t max_idle_handles = 16;
  // Largest response body accepted unless the request says otherwise; a larger one fails
  // with RESOURCE_EXHAUSTED (S3 answers that lakehose parses are small). Default 16 MiB.
  size_t max_response_bytes = 16 << 20;
  // Verify TLS peers (never turn off outside a test). Default true.
  bool verify_peer = true;
};

// The libcurl implementation. Initialises libcurl's globals once per process. Thread-safe
// (a mutex-guarded pool of easy handles, one per concurrent Send).
std::unique_ptr<HttpClient> NewCurlHttpClient(const CurlHttpClientOptions& options = {});

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_S3_HTTP_CLIENT_H_
