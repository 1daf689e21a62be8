// `lakehose send`: ingests records through a server's Ingest (or IngestStream), retrying
// while the server pushes back, so that they are delivered to the pipeline's lake.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/connect.h"
#include "client/cli/flags.h"
#include "client/cli/records.h"
#include "core/base/strings.h"
#include "core/transform/batch_io.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose send --target HOST:PORT --pipeline NAME [--input FILE|-] [--batch N]
                     [--stream] [--output FILE|-]

Sends records to a server's Ingest (or, with --stream, IngestStream): each batch is
transformed and its OK records accepted for delivery before the server answers. Input
formats as for `lakehose transform`. A request refused with RESOURCE_EXHAUSTED or
UNAVAILABLE is retried with backoff (up to 2 minutes) once connected; the connection
itself is waited for up to --deadline. Progress on a terminal and a summary on stderr.
)";

constexpr Flag kFlags[] = {
    {.name = "target", .value = "HOST:PORT", .help = "the server (required)"},
    {.name = "pipeline", .value = "NAME", .help = "the pipeline (required)"},
    {.name = "input", .value = "FILE|-", .help = "records to read (default: stdin)"},
    {.name = "batch", .value = "N", .help = "records per request (default 500)"},
    {.name = "stream",
     .type = FlagType::kBool,
     .help = "one IngestStream for all batches instead of one Ingest each"},
    {.name = "output",
     .value = "FILE|-",
     .help = "also write each record's result, as `lakehose transform` does"},
};

// Retries `call` while it fails with RESOURCE_EXHAUSTED or UNAVAILABLE, up to ~2 minutes.
// The first retry of the run is said on stderr (`*announced`), so that a server that went
// away after the connection was made does not look like a hang.
template <typename Call>
auto WithRetry(Call call, bool* announced) -> decltype(call()) {
  auto result = call();
  int64_t delay_ms = 100, waited_ms = 0;
  while (!result.ok() &&
         (result.status().code() == absl::StatusCode::kResourceExhausted ||
          result.status().code() == absl::StatusCode::kUnavailable) &&
         waited_ms < 120000) {
    if (!*announced) {
      *announced = true;
      std::fprintf(stderr, "lakehose send: %s; retrying for up to 2 minutes\n",
                   RpcError(result.status()).c_str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    waited_ms += delay_ms;
    delay_ms = std::min<int64_t>(delay_ms * 2, 2000);
    result = call();
  }
  return result;
}

}  // namespace

int SendCommand(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kUsage, .flags = kFlags, .connection = true}, argc,
                                  argv, 2, &flags))
    return *rc;
  if (!flags.has("target")) return UsageError("--target is required");
  if (!flags.has("pipeline")) return UsageError("--pipeline is required");
  int64_t batch_size = 500;
  if (flags.has("batch") && !ParseCount(flags.get("batch"), 1, &batch_size))
    return UsageError("--batch must be a positive integer");
  auto text = ReadInput(flags.get("input", "-"));
  if (!text.ok()) return Fail(StatusMessage(text.status()));
  auto batch = ParseInputBatch(*text);
  if (!batch.ok()) return Fail(StatusMessage(batch.status()));
  const size_t n = batch->records.size();

  std::vector<v1::IngestRequest> requests;
  for (size_t begin = 0; begin < n; begin += static_cast<size_t>(batch_size)) {
    v1::IngestRequest& request = requests.emplace_back();
    request.set_pipeline(flags.get("pipeline"));
    AddRecords(*batch, begin, std::min(n, begin + static_cast<size_t>(batch_size)),
               request.mutable_records());
  }

  int connect_rc = 0;
  auto client = Connect(flags, &connect_rc);
  if (!client) return connect_rc;
  std::vector<v1::RecordResult> results;
  results.reserve(n);
  const bool progress = isatty(2) && requests.size() > 1;
  size_t sent = 0;
  auto take = [&](v1::IngestResponse& response, size_t expected) -> bool {
    if (static_cast<size_t>(response.records_size()) != expected) return false;
    for (auto& r : *response.mutable_records()) results.push_back(std::move(r));
    sent += expected;
    if (progress) std::fprintf(stderr, "\rsend: %zu/%zu records", sent, n);
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  bool retry_announced = false;
  if (!flags.has("stream")) {
    for (const v1::IngestRequest& request : requests) {
      auto response = WithRetry([&] { return client->Ingest(request); }, &retry_announced);
      if (!response.ok())
        return Fail(
            StrCat("after ", sent, " records were accepted: ", RpcError(response.status())));
      if (!take(*response, request.records_size()))
        return Fail("server answered the wrong number of results");
    }
  } else {
    auto stream = client->OpenIngestStream();
    constexpr size_t kWindow = 8;  // requests in flight
    size_t written = 0, read = 0;
    v1::IngestResponse response;
    bool broken = false;
    while (read < requests.size() && !broken) {
      while (written < requests.size() && written - read < kWindow) {
        if (!stream->Write(requests[written])) {
          broken = true;
          break;
        }
        if (++written == requests.size()) stream->WritesDone();
      }
      if (broken) break;
      if (!stream->Read(&response)) {
        broken = true;
        break;
      }
      if (!take(response, requests[read].records_size()))
        return Fail("server answered the wrong number of results");
      ++read;
    }
    if (broken) {
      while (stream->Read(&response)) {
        if (read < requests.size() && take(response, requests[read].records_size())) ++read;
      }
    }
    const absl::Status status = stream->Finish();
    if (!status.ok() || read < requests.size())
      return Fail(
          StrCat("stream ended after ", sent, " records were accepted: ", RpcError(status)));
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Counts counts;
  if (int rc = WriteResults(results, *batch, {}, flags.get("output"), &counts); rc != 0) return rc;
  PrintSummary("send", n, counts, seconds);
  return 0;
}

}  // namespace lakehose::cli
