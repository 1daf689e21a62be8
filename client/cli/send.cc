// `lakehose send`: ingests records through a server's Ingest (or IngestStream), retrying
// while the server pushes back, so that they are delivered to the pipeline's lake.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
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
The input is streamed, a batch at a time; a damaged event file: the records before the
damage are sent, then the error, exit 1.
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
  InputFile in;
  if (absl::Status s = in.Open(flags.get("input", "-")); !s.ok()) return Fail(StatusMessage(s));
  const size_t batch = static_cast<size_t>(batch_size);

  int connect_rc = 0;
  auto client = Connect(flags, &connect_rc);
  if (!client) return connect_rc;
  // The input is read a chunk at a time and sent a request at a time; a request's records
  // are kept (for --output's Firehose response) only until its answer.
  InputSplitter splitter;
  ResultWriter writer(flags.get("output"));
  absl::Status input_error;
  const bool progress = isatty(2);
  size_t sent = 0;
  BatchFormat format = BatchFormat::kJsonLines;  // the input's, as the reader last said
  auto take = [&](const v1::IngestResponse& response, const v1::IngestRequest& request) -> int {
    if (response.records_size() != request.records_size())
      return Fail("server answered the wrong number of results");
    for (int i = 0; i < response.records_size(); ++i)
      if (int rc = writer.Add(ViewOf(response.records(i), request.records(i).data(), {}), format);
          rc != 0)
        return rc;
    sent += static_cast<size_t>(request.records_size());
    if (progress && sent > batch) std::fprintf(stderr, "\rsend: %zu records", sent);
    return writer.Flush(format);
  };
  // The requests of the records in `pending`: whole batches, and at the end the rest.
  auto requests_of = [&](std::vector<OwnedRecord>* pending, bool at_end) {
    std::vector<v1::IngestRequest> requests;
    size_t begin = 0;
    while (pending->size() - begin >= batch || (at_end && begin < pending->size())) {
      const size_t end = std::min(pending->size(), begin + batch);
      v1::IngestRequest& request = requests.emplace_back();
      request.set_pipeline(flags.get("pipeline"));
      AddRecords(*pending, begin, end, request.mutable_records());
      begin = end;
    }
    pending->erase(pending->begin(), pending->begin() + static_cast<ptrdiff_t>(begin));
    return requests;
  };
  const auto start = std::chrono::steady_clock::now();
  bool retry_announced = false;
  int rc = 0;
  if (!flags.has("stream")) {
    rc = StreamRecords(
        &in, &splitter,
        [&](std::vector<OwnedRecord>* pending, bool at_end, BatchFormat input_format) {
          format = input_format;
          for (const v1::IngestRequest& request : requests_of(pending, at_end)) {
            auto response = WithRetry([&] { return client->Ingest(request); }, &retry_announced);
            if (!response.ok())
              return Fail(
                  StrCat("after ", sent, " records were accepted: ", RpcError(response.status())));
            if (int rc = take(*response, request); rc != 0) return rc;
          }
          return 0;
        },
        &input_error);
  } else {
    auto stream = client->OpenIngestStream();
    constexpr size_t kWindow = 8;  // requests in flight
    constexpr int kStopReading = -1;
    std::deque<v1::IngestRequest> in_flight;
    v1::IngestResponse response;
    bool broken = false;
    // Reads one answer, for the oldest request in flight.
    auto read_one = [&]() -> int {
      if (!stream->Read(&response)) {
        broken = true;
        return 0;
      }
      const int r = take(response, in_flight.front());
      in_flight.pop_front();
      return r;
    };
    rc = StreamRecords(
        &in, &splitter,
        [&](std::vector<OwnedRecord>* pending, bool at_end, BatchFormat input_format) {
          format = input_format;
          for (v1::IngestRequest& request : requests_of(pending, at_end)) {
            while (in_flight.size() >= kWindow && !broken)
              if (int r = read_one(); r != 0) return r;
            // A request that could not be written stays in flight, unanswered: the
            // command fails below, after the answers the server still sends.
            if (broken || !stream->Write(request)) broken = true;
            in_flight.push_back(std::move(request));
            if (broken) return kStopReading;
          }
          return 0;
        },
        &input_error);
    if (rc == kStopReading) rc = 0;
    if (rc == 0) {
      if (!broken) stream->WritesDone();
      while (!broken && !in_flight.empty() && (rc = read_one()) == 0) {
      }
      // After a broken write, the answers the server still sends.
      while (rc == 0 && !in_flight.empty() && stream->Read(&response)) {
        rc = take(response, in_flight.front());
        in_flight.pop_front();
      }
      const absl::Status status = stream->Finish();
      if (rc == 0 && (!status.ok() || !in_flight.empty()))
        rc =
            Fail(StrCat("stream ended after ", sent, " records were accepted: ", RpcError(status)));
    }
  }
  if (progress && sent > batch) std::fprintf(stderr, "\r\033[K");
  if (rc != 0) return rc;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (int rc = writer.Flush(splitter.format().value_or(BatchFormat::kJsonLines), true); rc != 0)
    return rc;
  if (!input_error.ok()) return FailAfterInputError(input_error, splitter.records(), "sent");
  PrintSummary("send", splitter.records(), writer.counts(), seconds);
  return 0;
}

}  // namespace lakehose::cli
