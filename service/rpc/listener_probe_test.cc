#include "service/rpc/listener_probe.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "service/rpc/accept_guard.h"

namespace lakehose {
namespace {

// A loopback listening socket on a free port; closed on destruction.
struct Listener {
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd, 16), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
  int fd = -1;
  int port = 0;
};

// 127.0.0.1:port.
sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// The regression: a listener that stopped calling accept still completes TCP
// handshakes, so only "was a connection taken off its queue" tells.
TEST(ListenerProbeTest, AListenerThatNeverAcceptsIsReportedNotAccepting) {
  Listener deaf;
  EXPECT_EQ(ListenerProbe::ProbeOnce("127.0.0.1", deaf.port, absl::Milliseconds(200)), false);
}

TEST(ListenerProbeTest, AListenerThatAcceptsIsReportedAccepting) {
  Listener live;
  std::atomic<bool> stop{false};
  std::thread acceptor([&] {
    while (!stop.load()) {
      // accept4 is the guard's (accept_guard.h), which counts what it takes.
      const int c = ::accept4(live.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) ::close(c);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  ::fcntl(live.fd, F_SETFL, O_NONBLOCK);
  EXPECT_EQ(ListenerProbe::ProbeOnce("0.0.0.0", live.port, absl::Seconds(5)), true);
  stop.store(true);
  acceptor.join();
}

TEST(ListenerProbeTest, NothingListeningIsUnknownNotAVerdict) {
  int port = 0;
  {
    Listener gone;
    port = gone.port;
  }
  EXPECT_EQ(ListenerProbe::ProbeOnce("127.0.0.1", port, absl::Milliseconds(200)), std::nullopt);
}

TEST(AcceptGuardTest, ConnectionsAboveTheCeilingAreShed) {
  Listener l;
  ::fcntl(l.fd, F_SETFL, O_NONBLOCK);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(l.port);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const int64_t shed_before = AcceptGuardShedConnections();
  SetAcceptDescriptorCeiling(3);  // every descriptor a test process can get is above it
  errno = 0;
  EXPECT_EQ(::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(AcceptGuardShedConnections(), shed_before + 1);
  SetAcceptDescriptorCeiling(0);
  char byte;
  EXPECT_EQ(::recv(client, &byte, 1, 0), 0);  // the client sees its connection closed
  ::close(client);
}

// The gRPC 1.51 listener death: out of descriptors, accept4 must not answer EMFILE. The
// guard closes its reserve, takes the pending connection with it, closes that (the client
// sees it closed), reopens the reserve and answers EAGAIN; later accepts work as before.
TEST(AcceptGuardTest, OutOfDescriptorsThePendingConnectionIsShedWithTheReserve) {
  Listener l;
  ::fcntl(l.fd, F_SETFL, O_NONBLOCK);
  SetAcceptDescriptorCeiling(0);  // no ceiling; opens the reserve
  sockaddr_in a = Loopback(l.port);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Every descriptor below the lowest free one is open: a soft limit there leaves none.
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit none = saved;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none), 0);
  const int64_t shed_before = AcceptGuardShedConnections();
  errno = 0;
  const int c = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_errno = errno;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(c, -1);
  EXPECT_EQ(accept_errno, EAGAIN) << "not EMFILE, which would stop gRPC's listener";
  EXPECT_EQ(AcceptGuardShedConnections(), shed_before + 1);
  char byte;
  EXPECT_EQ(::recv(client, &byte, 1, 0), 0);  // the client sees its connection closed
  ::close(client);
  // With descriptors again, the next connection is accepted.
  const int second = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(second, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  int taken = -1;
  for (int i = 0; i < 200 && taken < 0; ++i) {  // the connection may take a moment to queue
    taken = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (taken < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(taken, 0);
  if (taken >= 0) ::close(taken);
  ::close(second);
}

// A blocking caller is passed through: it is never answered EAGAIN by the guard.
TEST(AcceptGuardTest, ABlockingListenerIsNotGuarded) {
  Listener l;  // blocking
  sockaddr_in a = Loopback(l.port);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const int64_t shed_before = AcceptGuardShedConnections();
  SetAcceptDescriptorCeiling(3);  // would shed it, were the listener guarded
  const int c = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
  SetAcceptDescriptorCeiling(0);
  EXPECT_GE(c, 0);
  EXPECT_EQ(AcceptGuardShedConnections(), shed_before);
  if (c >= 0) ::close(c);
  ::close(client);
}

}  // namespace
}  // namespace lakehose
