#include "service/rpc/listener_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/time/clock.h"
#include "service/rpc/accept_guard.h"

namespace lakehose {
namespace {

// The address to probe: the listen host, with wildcards replaced by loopback.
bool ResolveProbeAddress(std::string host, int port, sockaddr_storage* out, socklen_t* len) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return false;
  std::memcpy(out, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return true;
}

}  // namespace

ListenerProbe::ListenerProbe(std::string host, int port, absl::Duration interval,
                             absl::Duration timeout, std::function<void(bool)> on_change)
    : host_(std::move(host)),
      port_(port),
      interval_(interval),
      timeout_(timeout),
      on_change_(std::move(on_change)),
      thread_([this] { Run(); }) {}

ListenerProbe::~ListenerProbe() { Stop(); }

void ListenerProbe::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::optional<bool> ListenerProbe::ProbeOnce(const std::string& host, int port,
                                             absl::Duration timeout) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!ResolveProbeAddress(host, port, &addr, &len)) return std::nullopt;
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;  // out of descriptors: nothing can be said
  const int64_t accepted_before = AcceptGuardAcceptedConnections();
  const absl::Time deadline = absl::Now() + timeout;
  std::optional<bool> result = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    result = std::nullopt;  // refused or unreachable: not the failure this probe is for
  } else {
    // Connected, or connecting: a full backlog drops the SYN, which is also "not
    // accepting", but a refusal (nothing listens) is not this probe's business.
    pollfd p{fd, POLLOUT, 0};
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    if (::poll(&p, 1, wait_ms) == 1) {
      int error = 0;
      socklen_t error_len = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len);
      if (error != 0) result = std::nullopt;
    }
    // Then wait for the listener to take a connection off its queue.
    while (result.has_value() && absl::Now() < deadline) {
      if (AcceptGuardAcceptedConnections() != accepted_before) {
        result = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  ::close(fd);
  return result;
}

void ListenerProbe::Run() {
  // Two failed probes in a row before "not accepting": one slow accept under load must
  // not take the server out of rotation.
  constexpr int kFailuresToReport = 2;
  std::optional<bool> reported;
  int failures = 0;
  for (;;) {
    const std::optional<bool> now = ProbeOnce(host_, port_, timeout_);
    if (now.has_value()) {
      failures = *now ? 0 : failures + 1;
      const bool accepting = failures < kFailuresToReport;
      if (accepting != reported && (*now || !accepting)) {
        reported = accepting;
        on_change_(accepting);
      }
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
  }
}

}  // namespace lakehose
