// ListenerProbe: checks, every `interval`, that the gRPC port still accepts connections,
// and reports each change (README "Limits", lakehose_grpc_listener_accepting).
//
// A listener that stopped accepting still completes TCP handshakes (the kernel queues
// them), so a plain connect proves nothing. The probe connects to the port and waits up to
// `timeout` for the accept guard (accept_guard.h) to see the kernel hand a connection to
// accept4(); none (and no other connection accepted meanwhile) means not accepting. It
// sends nothing and closes at once, so it looks like any client that went away. A probe
// that cannot even make a socket (the process is out of descriptors) reports nothing.
//
//   ListenerProbe probe("0.0.0.0", port, absl::Seconds(5), absl::Seconds(2),
//                       [&](bool accepting) { ... });
//   ...
//   probe.Stop();  // or destroy it
//
// Owns one thread. `on_change` runs on it (first with the first result; "not accepting" after two
// failed probes in a row); it must not call Stop. Thread-safe.
#ifndef LAKEHOSE_SERVICE_RPC_LISTENER_PROBE_H_
#define LAKEHOSE_SERVICE_RPC_LISTENER_PROBE_H_

#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace lakehose {

class ListenerProbe {
 public:
  // `host` is the host of the listen address ("0.0.0.0", "[::]" and "" mean loopback).
  ListenerProbe(std::string host, int port, absl::Duration interval, absl::Duration timeout,
                std::function<void(bool accepting)> on_change);
  ~ListenerProbe();

  // Idempotent; returns once the thread has ended.
  void Stop();

  // One probe, on the calling thread: true accepting, false not, nullopt unknown.
  static std::optional<bool> ProbeOnce(const std::string& host, int port, absl::Duration timeout);

 private:
  void Run();

  const std::string host_;
  const int port_;
  const absl::Duration interval_;
  const absl::Duration timeout_;
  const std::function<void(bool)> on_change_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_LISTENER_PROBE_H_
