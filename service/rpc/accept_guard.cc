#include "service/rpc/accept_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace lakehose {
namespace {

std::atomic<int> g_ceiling{0};
std::atomic<int64_t> g_shed{0};
std::atomic<int64_t> g_accepted{0};
std::mutex g_reserve_mu;
int g_reserve = -1;  // guarded by g_reserve_mu
// Set while the reserve is not held (it could not be reopened after a shed: another
// thread took the descriptor first); accept4 then tries again after each accept.
std::atomic<bool> g_reserve_missing{false};

int RawAccept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  const int c = static_cast<int>(::syscall(SYS_accept4, fd, addr, len, flags));
  if (c >= 0) g_accepted.fetch_add(1, std::memory_order_relaxed);
  return c;
}

void OpenReserveLocked() {
  if (g_reserve < 0) g_reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  g_reserve_missing.store(g_reserve < 0, std::memory_order_relaxed);
}

// Out of descriptors: frees the reserve to take one pending connection off `fd`'s queue
// and close it, so that the client hears of it and the queue does not sit there.
// False when there was nothing to shed (or no reserve to shed with).
bool ShedOnePending(int fd) {
  std::lock_guard<std::mutex> lock(g_reserve_mu);
  OpenReserveLocked();  // lost to another thread after an earlier shed: try again
  if (g_reserve < 0) return false;
  ::close(g_reserve);
  g_reserve = -1;
  const int c = RawAccept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) {
    ::close(c);
    g_shed.fetch_add(1, std::memory_order_relaxed);
  }
  OpenReserveLocked();
  return c >= 0;
}

}  // namespace

void SetAcceptDescriptorCeiling(int ceiling) {
  g_ceiling.store(ceiling < 0 ? 0 : ceiling, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(g_reserve_mu);
  OpenReserveLocked();
}

int64_t AcceptGuardShedConnections() { return g_shed.load(std::memory_order_relaxed); }

int64_t AcceptGuardAcceptedConnections() { return g_accepted.load(std::memory_order_relaxed); }

}  // namespace lakehose

// The interposed accept4 (see the header). errno is as glibc's, except that EMFILE and
// ENFILE become EAGAIN once the pending connection has been shed.
extern "C" __attribute__((visibility("default"))) int accept4(int fd, sockaddr* addr,
                                                              socklen_t* len, int flags) {
  // Bounded: each turn takes one connection off the queue, which is finite; the bound
  // only guards against a queue refilled faster than it is drained.
  constexpr int kMaxShedPerCall = 1024;
  // Only a non-blocking listener (gRPC's) is guarded: a blocking caller must not get
  // EAGAIN, nor block in accept4 while holding the reserve.
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_NONBLOCK) == 0) return lakehose::RawAccept4(fd, addr, len, flags);
  for (int turn = 0; turn < kMaxShedPerCall; ++turn) {
    const int c = lakehose::RawAccept4(fd, addr, len, flags);
    if (c < 0) {
      if (errno != EMFILE && errno != ENFILE) return -1;
      if (lakehose::ShedOnePending(fd)) continue;  // the next one may find a descriptor
      errno = EAGAIN;
      return -1;
    }
    if (lakehose::g_reserve_missing.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(lakehose::g_reserve_mu);
      lakehose::OpenReserveLocked();
    }
    const int ceiling = lakehose::g_ceiling.load(std::memory_order_relaxed);
    if (ceiling == 0 || c < ceiling) return c;
    ::close(c);
    lakehose::g_shed.fetch_add(1, std::memory_order_relaxed);
  }
  errno = EAGAIN;
  return -1;
}
