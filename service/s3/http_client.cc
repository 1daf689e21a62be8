#include "service/s3/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/base/strings.h"

namespace lakehose {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State shared with libcurl's callbacks for one exchange.
struct Transfer {
  std::string_view body;
  size_t sent = 0;
  HttpResponse* response = nullptr;
  size_t max_response_bytes = 0;
  bool expect_body = true;  // false for HEAD, whose Content-Length is the object's
  bool too_large = false;
  bool may_resend = true;  // HttpRequest::may_resend
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = std::min(size * nitems, t->body.size() - t->sent);
  std::copy_n(t->body.data() + t->sent, n, buffer);
  t->sent += n;
  return n;
}

// libcurl rewinds the upload when it has to resend it (e.g. a reused connection that the
// server had closed). A request that must not be sent twice refuses once any of its body
// went out: the server may have acted on it (libcurl then fails with
// CURLE_SEND_FAIL_REWIND, UNAVAILABLE: the caller learns that the outcome is unknown).
int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  if (!t->may_resend && t->sent > 0) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nmemb;
  if (t->response->body.size() + n > t->max_response_bytes) {
    t->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  t->response->body.append(ptr, n);
  return n;
}

size_t WriteHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const std::string_view line(buffer, size * nitems);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after 100 Continue): keep only its own
    return line.size();
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name(TrimAsciiWhitespace(line.substr(0, colon)));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t->expect_body && name == "content-length") {
    // Refuse a body announced too large before any of it arrives.
    const std::string_view value = TrimAsciiWhitespace(line.substr(colon + 1));
    uint64_t length = 0;
    if (std::from_chars(value.data(), value.data() + value.size(), length).ec == std::errc() &&
        length > t->max_response_bytes) {
      t->too_large = true;
      return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
    }
  }
  t->response->headers.emplace_back(std::move(name),
                                    std::string(TrimAsciiWhitespace(line.substr(colon + 1))));
  return line.size();
}

absl::Status CurlError(CURLcode code, const char* detail, const Transfer& t) {
  std::string message = StrCat("http: ", curl_easy_strerror(code));
  if (detail[0] != '\0') StrAppend(&message, " (", detail, ")");
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(message);
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SEND_FAIL_REWIND:
      return absl::UnavailableError(message);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return absl::InvalidArgumentError(message);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return absl::FailedPreconditionError(message);
    case CURLE_WRITE_ERROR:
      if (t.too_large) {
        return absl::ResourceExhaustedError(
            StrCat("http: response body exceeds ", t.max_response_bytes, " bytes"));
      }
      return absl::InternalError(message);
    default:
      return absl::InternalError(message);
  }
}

// Owns a curl_slist.
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Slist BuildHeaderList(const HttpHeaders& headers) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    // "Name;" is libcurl's spelling of a header with an empty value.
    const std::string line = value.empty() ? StrCat(name, ";") : StrCat(name, ": ", value);
    list = curl_slist_append(list, line.c_str());
  }
  // No "Expect: 100-continue" round trip: S3 answers errors after the body either way.
  list = curl_slist_append(list, "Expect:");
  return Slist(list);
}

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(const CurlHttpClientOptions& options) : options_(options) {
    GlobalInitOnce();
  }
  ~CurlHttpClient() override {
    absl::MutexLock lock(&mu_);
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    if (request.method.empty() || request.url.empty()) {
      return absl::InvalidArgumentError("http: method and url are required");
    }
    CURL* h = Acquire();
    if (h == nullptr) return absl::InternalError("http: curl_easy_init failed");
    absl::StatusOr<HttpResponse> result = Perform(h, request);
    Release(h);
    return result;
  }

 private:
  absl::StatusOr<HttpResponse> Perform(CURL* h, const HttpRequest& request) {
    HttpResponse response;
    Transfer t{.body = request.body,
               .response = &response,
               .max_response_bytes = request.max_response_bytes > 0 ? request.max_response_bytes
                                                                    : options_.max_response_bytes,
               .expect_body = request.method != "HEAD",
               .may_resend = request.may_resend};
    char error[CURL_ERROR_SIZE] = {0};
    Slist headers = BuildHeaderList(request.headers);
    SetCommonOptions(h, request, &t, error);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    SetMethod(h, request, &t);
    const CURLcode code = curl_easy_perform(h);
    if (code != CURLE_OK) return CurlError(code, error, t);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  void SetCommonOptions(CURL* h, const HttpRequest& request, Transfer* t, char* error) {
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // required with threads
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_peer ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_peer ? 2L : 0L);
    if (request.timeout_ms > 0) {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
    }
    int64_t connect_ms = request.connect_timeout_ms;
    if (request.timeout_ms > 0 && (connect_ms <= 0 || request.timeout_ms < connect_ms)) {
      connect_ms = request.timeout_ms;
    }
    if (connect_ms > 0) {
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_ms));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
  }

  static void SetMethod(CURL* h, const HttpRequest& request, Transfer* t) {
    const std::string& m = request.method;
    if (m == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
      return;
    }
    if (request.body.empty() && m != "PUT" && m != "POST") {
      if (m == "GET") {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
      }
      return;
    }
    // A body (possibly empty for PUT/POST) goes up with Content-Length, read in place.
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &SeekBody);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (m != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
  }

  CURL* Acquire() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  // curl_easy_reset keeps the handle's live connections and TLS session cache.
  void Release(CURL* h) {
    curl_easy_reset(h);
    {
      absl::MutexLock lock(&mu_);
      if (idle_.size() < options_.max_idle_handles) {
        idle_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

  const CurlHttpClientOptions options_;
  absl::Mutex mu_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string_view FindHttpHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

std::string_view HttpResponse::Header(std::string_view name) const {
  return FindHttpHeader(headers, name);
}

std::unique_ptr<HttpClient> NewCurlHttpClient(const CurlHttpClientOptions& options) {
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace lakehose
