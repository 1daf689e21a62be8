// A load generator for lakehose-server over gRPC (bench/run.sh's Transform and Ingest
// rows): several concurrent streams, each with one call in flight at a time, batches of
// records read from a file of DynamoDB stream records.
//
//   grpc_load --target HOST:PORT --input RECORDS.jsonl [--rpc transform|ingest]
//             [--pipeline demo] [--batch 500] [--streams 4] [--channels 2]
//             [--seconds 5 | --passes N] [--flush] [--flush-probes N] [--server-pid PID]
//             [--check-every 16]
//
// transform: calls Transform back to back for --seconds (or --passes over the input).
// ingest:    sends every batch of the input --passes times (default 1) with Ingest;
//            RESOURCE_EXHAUSTED answers are counted and the batch is sent again after the
//            pushback; --flush then calls Flush and waits for the objects. With --seconds
//            instead, Ingest runs for that long (the memory benchmark: S3 stalled).
// --flush-probes N: after the run (and its Flush; not counted in its records/s or CPU),
//   N times: Ingest one batch (the input's first, second, ... batch), then Flush, and
//   time the Flush alone: how long a small batch takes to become durable (and, for an
//   Iceberg table, committed). Reported as probe_flush_ms, in order. --probes-only: the
//   probes alone, no run before them.
// --server-pid: samples VmRSS and VmHWM of that process every 50 ms (/proc/PID/status)
//   and reports the CPU seconds it used during the run (/proc/PID/stat), beside the
//   client's own: on a shared machine, CPU per record is the figure that load does not
//   distort.
//
// Requests are serialised once, up front, and sent as raw bytes through the generic
// stub, so the client spends its CPU on the transport, not on building messages (client
// and server share this machine's two cores). One response in --check-every is parsed
// and checked: one result per record, in order, all OK. Prints one JSON object.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base/strings.h"
#include "lakehose/v1/lakehose.grpc.pb.h"
#include "lakehose/v1/lakehose.pb.h"

namespace lakehose {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target, input, rpc = "transform", pipeline = "demo";
  int batch = 500, streams = 4, channels = 2, check_every = 16;
  double seconds = 0;
  int passes = 0;
  bool flush = false;
  int flush_probes = 0;
  bool probes_only = false;
  int server_pid = 0;
};

struct Batch {
  grpc::ByteBuffer bytes;
  int records = 0;
  int64_t data_bytes = 0;
  std::vector<std::string> ids;
};

// VmRSS and VmHWM (kB) of `pid`, or {-1, -1}.
std::pair<int64_t, int64_t> Memory(int pid) {
  std::ifstream f(StrCat("/proc/", pid, "/status"));
  int64_t rss = -1, hwm = -1;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atoll(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::atoll(line.c_str() + 6);
  }
  return {rss, hwm};
}

// CPU seconds (user + system) consumed so far by process `pid` (/proc/PID/stat), or -1.
double ProcessCpuSeconds(int pid) {
  std::ifstream f(StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double OwnCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  std::string s = m.SerializeAsString();
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target")
      o.target = next();
    else if (a == "--input")
      o.input = next();
    else if (a == "--rpc")
      o.rpc = next();
    else if (a == "--pipeline")
      o.pipeline = next();
    else if (a == "--batch")
      o.batch = std::atoi(next().c_str());
    else if (a == "--streams")
      o.streams = std::atoi(next().c_str());
    else if (a == "--channels")
      o.channels = std::atoi(next().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(next().c_str());
    else if (a == "--passes")
      o.passes = std::atoi(next().c_str());
    else if (a == "--flush")
      o.flush = true;
    else if (a == "--flush-probes")
      o.flush_probes = std::max(0, std::atoi(next().c_str()));
    else if (a == "--probes-only")
      o.probes_only = true;
    else if (a == "--server-pid")
      o.server_pid = std::atoi(next().c_str());
    else if (a == "--check-every")
      o.check_every = std::max(1, std::atoi(next().c_str()));
    else {
      std::cerr << "grpc_load: unknown argument " << a
                << " (see the comment at the top of bench/grpc_load.cc)\n";
      return 2;
    }
  }
  if (o.target.empty() || o.input.empty() || (o.rpc != "transform" && o.rpc != "ingest") ||
      o.batch < 1 || o.streams < 1 || o.channels < 1) {
    std::cerr << "usage: grpc_load --target HOST:PORT --input FILE [--rpc transform|ingest] ...\n";
    return 2;
  }
  if (o.seconds <= 0 && o.passes <= 0) {
    if (o.rpc == "transform")
      o.seconds = 5;
    else
      o.passes = 1;
  }

  // Batches, serialised once (IngestRequest and TransformRequest share their wire shape,
  // but each is built as its own type).
  std::vector<Batch> batches;
  {
    std::ifstream f(o.input, std::ios::binary);
    if (!f) {
      std::cerr << "grpc_load: cannot read " << o.input << "\n";
      return 1;
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) lines.push_back(std::move(line));
    for (size_t start = 0; start < lines.size(); start += static_cast<size_t>(o.batch)) {
      v1::TransformRequest t;
      v1::IngestRequest in;
      Batch& b = batches.emplace_back();
      for (size_t i = start; i < std::min(lines.size(), start + static_cast<size_t>(o.batch));
           ++i) {
        const std::string id = StrCat("r", i);
        v1::Record* r = o.rpc == "transform" ? t.add_records() : in.add_records();
        r->set_record_id(id);
        r->set_data(lines[i]);
        b.ids.push_back(id);
        b.data_bytes += static_cast<int64_t>(lines[i].size());
        ++b.records;
      }
      t.set_pipeline(o.pipeline);
      in.set_pipeline(o.pipeline);
      b.bytes = o.rpc == "transform" ? Serialize(t) : Serialize(in);
    }
  }
  if (batches.empty()) {
    std::cerr << "grpc_load: no records in " << o.input << "\n";
    return 1;
  }
  const std::string method =
      o.rpc == "transform" ? "/lakehose.v1.Transformer/Transform" : "/lakehose.v1.Ingestor/Ingest";

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < o.channels; ++c) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(256 << 20);
    args.SetMaxSendMessageSize(256 << 20);
    args.SetInt("lakehose.bench.channel", c);  // distinct args: distinct connections
    channels.push_back(
        grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(10))) {
      std::cerr << "grpc_load: cannot connect to " << o.target << "\n";
      return 1;
    }
  }

  std::atomic<int64_t> records{0}, bytes{0}, calls{0}, exhausted{0}, checked{0};
  std::atomic<bool> failed{false}, stop{false};
  std::atomic<size_t> next_batch{0};
  std::mutex error_mu;
  std::string first_error;
  const size_t total_batches = o.passes > 0 ? batches.size() * static_cast<size_t>(o.passes) : 0;
  auto fail = [&](std::string e) {
    std::lock_guard<std::mutex> l(error_mu);
    if (first_error.empty()) first_error = std::move(e);
    failed = true;
    stop = true;
  };

  // Resident memory of the server: the maximum overall and in each half of a timed run
  // (equal halves mean it stopped growing), and the high-water mark.
  std::atomic<int64_t> max_rss{-1}, max_hwm{-1}, first_half_rss{-1}, second_half_rss{-1};
  const auto sample_start = Clock::now();
  std::thread sampler;
  if (o.server_pid > 0) {
    sampler = std::thread([&] {
      while (!stop) {
        auto [rss, hwm] = Memory(o.server_pid);
        if (rss > max_rss) max_rss = rss;
        if (hwm > max_hwm) max_hwm = hwm;
        const double t = std::chrono::duration<double>(Clock::now() - sample_start).count();
        auto& half = o.seconds > 0 && t >= o.seconds / 2 ? second_half_rss : first_half_rss;
        if (rss > half) half = rss;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }

  const double server_cpu_start = o.server_pid > 0 ? ProcessCpuSeconds(o.server_pid) : 0;
  const double client_cpu_start = OwnCpuSeconds();
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int s = 0; s < (o.probes_only ? 0 : o.streams); ++s) {
    threads.emplace_back([&, s] {
      grpc::GenericStub stub(channels[static_cast<size_t>(s % o.channels)]);
      grpc::CompletionQueue cq;
      int64_t n = 0;
      for (;;) {
        if (stop) return;
        size_t index;
        if (o.passes > 0) {
          index = next_batch++;
          if (index >= total_batches) return;
        } else {
          if (Clock::now() >= deadline) return;
          index = static_cast<size_t>(s) + static_cast<size_t>(n) * static_cast<size_t>(o.streams);
        }
        const Batch& b = batches[index % batches.size()];
        for (int attempt = 0;; ++attempt) {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
          grpc::ByteBuffer response;
          grpc::Status status;
          auto call = stub.PrepareUnaryCall(&ctx, method, b.bytes, &cq);
          call->StartCall();
          call->Finish(&response, &status, reinterpret_cast<void*>(1));
          void* tag;
          bool ok;
          if (!cq.Next(&tag, &ok) || !ok) return fail("completion queue failed");
          ++calls;
          if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
            ++exhausted;
            if (stop || (o.passes == 0 && Clock::now() >= deadline)) return;
            // The server's grpc-retry-pushback-ms; 20 ms when absent.
            int pushback = 20;
            for (const auto& [k, v] : ctx.GetServerTrailingMetadata())
              if (k == "grpc-retry-pushback-ms")
                pushback = std::atoi(std::string(v.data(), v.size()).c_str());
            std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp(pushback, 1, 1000)));
            continue;
          }
          if (!status.ok())
            return fail(StrCat(method, ": ", static_cast<int>(status.error_code()), " ",
                               status.error_message()));
          if (n % o.check_every == 0) {
            std::vector<grpc::Slice> slices;
            (void)response.Dump(&slices);
            std::string raw;
            for (const auto& sl : slices)
              raw.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
            v1::TransformResponse r;  // IngestResponse has the same shape
            if (!r.ParseFromString(raw) || r.records_size() != b.records)
              return fail(StrCat(method, ": response has ", r.records_size(), " results for ",
                                 b.records, " records"));
            for (int i = 0; i < r.records_size(); ++i) {
              const auto& rr = r.records(i);
              if (rr.record_id() != b.ids[static_cast<size_t>(i)] ||
                  rr.result() != v1::RecordResult::OK)
                return fail(StrCat(method, ": record ", b.ids[static_cast<size_t>(i)], ": result ",
                                   static_cast<int>(rr.result()), " ", rr.error_code(), " ",
                                   rr.error_message()));
            }
            ++checked;
          }
          records += b.records;
          bytes += b.data_bytes;
          break;
        }
        ++n;
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t flushed_objects = 0;
  double flush_seconds = -1;
  if (!failed && o.flush && !o.probes_only) {
    const auto flush_start = Clock::now();
    v1::Ingestor::Stub stub(channels[0]);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(600));
    v1::FlushRequest req;
    req.set_pipeline(o.pipeline);
    v1::FlushResponse resp;
    grpc::Status s = stub.Flush(&ctx, req, &resp);
    if (!s.ok()) fail(StrCat("Flush: ", static_cast<int>(s.error_code()), " ", s.error_message()));
    flushed_objects = resp.objects_size();
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    flush_seconds = std::chrono::duration<double>(Clock::now() - flush_start).count();
  }
  const double server_cpu =
      o.server_pid > 0 ? ProcessCpuSeconds(o.server_pid) - server_cpu_start : -1;
  const double client_cpu = OwnCpuSeconds() - client_cpu_start;
  // Flush latency of one small batch, after the run (see --flush-probes).
  std::vector<double> probe_ms;
  if (!failed && o.rpc == "ingest") {
    v1::Ingestor::Stub stub(channels[0]);
    for (int k = 0; k < o.flush_probes && !failed; ++k) {
      const Batch& b = batches[static_cast<size_t>(k) % batches.size()];
      std::vector<grpc::Slice> slices;
      (void)b.bytes.Dump(&slices);
      std::string raw;
      for (const auto& sl : slices)
        raw.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
      v1::IngestRequest req;
      v1::IngestResponse resp;
      if (!req.ParseFromString(raw)) {
        fail("flush probe: cannot parse a batch");
        break;
      }
      grpc::ClientContext ictx;
      ictx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
      grpc::Status s = stub.Ingest(&ictx, req, &resp);
      if (!s.ok()) {
        fail(StrCat("flush probe Ingest: ", static_cast<int>(s.error_code()), " ",
                    s.error_message()));
        break;
      }
      grpc::ClientContext fctx;
      fctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
      v1::FlushRequest freq;
      freq.set_pipeline(o.pipeline);
      v1::FlushResponse fresp;
      const auto t0 = Clock::now();
      s = stub.Flush(&fctx, freq, &fresp);
      probe_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!s.ok())
        fail(StrCat("flush probe Flush: ", static_cast<int>(s.error_code()), " ",
                    s.error_message()));
    }
  }
  stop = true;
  if (sampler.joinable()) sampler.join();
  if (failed) {
    std::cerr << "grpc_load: " << first_error << "\n";
    return 1;
  }
  std::cout << "{\"row\":\"grpc_" << o.rpc << "\",\"records\":" << records << ",\"bytes\":" << bytes
            << ",\"seconds\":" << seconds << ",\"calls\":" << calls
            << ",\"resource_exhausted\":" << exhausted << ",\"checked_responses\":" << checked
            << ",\"streams\":" << o.streams << ",\"batch\":" << o.batch
            << ",\"flushed_objects\":" << flushed_objects << ",\"flush_seconds\":" << flush_seconds
            << ",\"probe_flush_ms\":[";
  for (size_t i = 0; i < probe_ms.size(); ++i) std::cout << (i ? "," : "") << probe_ms[i];
  std::cout << "],\"server_max_rss_kb\":" << max_rss << ",\"server_hwm_kb\":" << max_hwm
            << ",\"server_rss_first_half_max_kb\":" << first_half_rss
            << ",\"server_rss_second_half_max_kb\":" << second_half_rss
            << ",\"server_cpu_seconds\":" << server_cpu << ",\"client_cpu_seconds\":" << client_cpu
            << "}\n";
  return 0;
}

}  // namespace
}  // namespace lakehose

int main(int argc, char** argv) { return lakehose::Main(argc, argv); }
