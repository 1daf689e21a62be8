// Accept guard: keeps gRPC's listening socket alive when the process runs short of file
// descriptors, and caps the descriptors incoming connections may take (README "Limits",
// server.limits.max_connections).
//
// Why: in gRPC 1.51 (Debian bookworm) the POSIX TCP server stops re-arming its listener
// after accept4() fails with anything but EAGAIN/ECONNABORTED/EINTR
// (src/core/lib/iomgr/tcp_server_posix.cc, "Failed accept4"): one EMFILE and the port
// never accepts again, even after every descriptor is closed. gRPC 1.51 has no server
// argument to cap connections either (GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS came
// later). So this file defines accept4() itself: the server executable's definition
// takes precedence over glibc's for the calls gRPC's shared library makes (ELF symbol
// interposition), and
//   - a connection whose descriptor number is at or above the ceiling (Linux hands out
//     the lowest free number, so that many descriptors are open) is closed at once and
//     the next pending one tried: the client sees its connection reset, the listener
//     goes on;
//   - EMFILE/ENFILE are never returned: a reserve descriptor is closed to accept the
//     pending connection, which is closed at once (shed), the reserve is reopened, and
//     the caller sees EAGAIN, on which gRPC waits for the next connection.
// Only accept4() on a non-blocking socket is guarded: gRPC's listener is one; the
// /metrics server (civetweb) calls accept() and is untouched, and a blocking caller is
// passed straight through (it must neither get EAGAIN nor block holding the reserve).
// With no ceiling set (0), connections are only shed on EMFILE/ENFILE. A reserve lost
// to another thread between a shed and its reopening is reopened at the next accept.
// This relies on gRPC calling accept4() through the dynamic linker, as 1.51 does: a gRPC
// upgrade must re-check it (and may bring a real connection cap instead).
//
// Thread-safe: the ceiling and counters are atomics; the reserve descriptor is swapped
// under a mutex (only on the rare EMFILE path). Not async-signal-safe: no signal handler
// accepts (the server takes signals with sigwait).
#ifndef LAKEHOSE_SERVICE_RPC_ACCEPT_GUARD_H_
#define LAKEHOSE_SERVICE_RPC_ACCEPT_GUARD_H_

#include <cstdint>

namespace lakehose {

// Sets the descriptor ceiling for accepted connections (0 = none) and opens the reserve
// descriptor if it is not open yet. Called by Server::Start.
void SetAcceptDescriptorCeiling(int ceiling);

// Connections closed by the guard since the process started (over the ceiling, or
// shed on EMFILE/ENFILE).
int64_t AcceptGuardShedConnections();

// Connections the kernel handed to accept4() since the process started (shed ones
// included): the listener probe's evidence that the listener still accepts.
int64_t AcceptGuardAcceptedConnections();

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_ACCEPT_GUARD_H_
