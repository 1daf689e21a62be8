// `lakehose dlq list|redrive|purge`: a server's dead-letter queue through its
// DeadLetters service.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/common.h"
#include "client/cli/connect.h"
#include "client/cli/flags.h"
#include "core/base/strings.h"

namespace lakehose::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: lakehose dlq <list|redrive|purge> --target HOST:PORT [options]

The server's dead-letter queue: objects whose delivery ran out of its retry budget
(kind delivery; retried in the background until they reach the maximum age) and the raw
input of records that failed processing (kind processing; they wait for a redrive
after the pipeline config is fixed).

  list      show entries, oldest first
  redrive   deliver / re-transform entries now
  purge     delete entries (explicit ids, or a whole pipeline with --yes)

`lakehose dlq <command> --help` for a command's options.
)";

constexpr char kListUsage[] =
    R"(usage: lakehose dlq list --target HOST:PORT [--pipeline P] [--kind delivery|processing]
                        [--limit N]

Prints the dead-letter queue as a table, oldest first: id, kind, pipeline, attempts,
age, next attempt (delivery: when the retry worker tries again, "expired" once past
the maximum age; processing: waits for a redrive) and the last error. An entry whose
files are damaged shows NEXT "damaged" and, instead of the last error, "damaged: " and
why: it is kept and never delivered or redriven; purge it by id once dealt with.
Exits 0 either way; stderr says how many entries are damaged.
)";

constexpr char kRedriveUsage[] =
    R"(usage: lakehose dlq redrive --target HOST:PORT (--id ID ... | --pipeline P | --all)

Redrives entries now: delivery entries are stored again; processing entries are
transformed again with the server's current config and, if they pass now, delivered.
Prints one line per entry: id, then "ok" or "failed" and why (the entry stays).
Exits 1 if any entry failed.
)";

constexpr char kPurgeUsage[] =
    R"(usage: lakehose dlq purge --target HOST:PORT (--id ID ... | --pipeline P --yes)

Deletes entries for good (their data is lost). Prints the ids purged.
)";

constexpr Flag kTarget = {.name = "target", .value = "HOST:PORT", .help = "the server (required)"};
constexpr Flag kListFlags[] = {
    kTarget,
    {.name = "pipeline", .value = "P", .help = "only this pipeline's entries"},
    {.name = "kind", .value = "K", .help = "only delivery or processing entries"},
    {.name = "limit", .value = "N", .help = "at most N entries (default: all)"},
};
constexpr Flag kRedriveFlags[] = {
    kTarget,
    {.name = "id", .value = "ID", .help = "an entry to redrive (repeat for several)"},
    {.name = "pipeline", .value = "P", .help = "every entry of pipeline P"},
    {.name = "all", .type = FlagType::kBool, .help = "every entry"},
};
constexpr Flag kPurgeFlags[] = {
    kTarget,
    {.name = "id",
     .value = "ID",
     .help = "an entry to purge (repeat for several); an unknown id purges nothing"},
    {.name = "pipeline", .value = "P", .help = "every entry of pipeline P (needs --yes)"},
    {.name = "yes", .type = FlagType::kBool, .help = "confirm purging a whole pipeline"},
};

// "42s", "5m", "3h", "2d" (floor; "0s" for anything not positive).
std::string ShortDuration(int64_t ms) {
  const int64_t s = std::max<int64_t>(ms, 0) / 1000;
  if (s < 120) return StrCat(s, "s");
  if (s < 2 * 3600) return StrCat(s / 60, "m");
  if (s < 2 * 86400) return StrCat(s / 3600, "h");
  return StrCat(s / 86400, "d");
}

// One line, at most `max` bytes, not cut inside a UTF-8 character.
std::string OneLine(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (out.size() > max) {
    size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out.append("...");
  }
  return out;
}

int List(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kListUsage, .flags = kListFlags, .connection = true},
                                  argc, argv, 3, &flags))
    return *rc;
  if (!flags.has("target")) return UsageError("--target is required");
  v1::ListDeadLettersRequest request;
  if (flags.has("pipeline")) request.set_pipeline(flags.get("pipeline"));
  if (flags.has("kind")) {
    if (flags.get("kind") == "delivery") {
      request.set_kind(v1::DeadLetter::DELIVERY);
    } else if (flags.get("kind") == "processing") {
      request.set_kind(v1::DeadLetter::PROCESSING);
    } else {
      return UsageError("--kind must be delivery or processing");
    }
  }
  int64_t limit = INT64_MAX;
  if (flags.has("limit") && !ParseCount(flags.get("limit"), 1, &limit))
    return UsageError("--limit must be a positive integer");

  int rc = 0;
  auto client = Connect(flags, &rc);
  if (!client) return rc;
  std::vector<v1::DeadLetter> entries;
  while (static_cast<int64_t>(entries.size()) < limit) {
    request.set_page_size(static_cast<int32_t>(
        std::min<int64_t>(1000, limit - static_cast<int64_t>(entries.size()))));
    auto response = client->ListDeadLetters(request);
    if (!response.ok()) return Fail(RpcError(response.status()));
    for (const v1::DeadLetter& e : response->entries()) entries.push_back(e);
    if (response->next_page_token().empty() || response->entries_size() == 0) break;
    request.set_page_token(response->next_page_token());
  }
  if (static_cast<int64_t>(entries.size()) > limit) entries.resize(static_cast<size_t>(limit));

  const int64_t now = NowMillis();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "KIND", "PIPELINE", "ATTEMPTS", "AGE", "NEXT", "LAST ERROR"});
  int damaged = 0;
  for (const v1::DeadLetter& e : entries) {
    const bool delivery = e.kind() == v1::DeadLetter::DELIVERY;
    std::string next;
    if (e.damaged()) {
      next = "damaged";
      ++damaged;
    } else if (!delivery) {
      next = "redrive";
    } else if (e.expired()) {
      next = "expired";
    } else if (e.next_attempt_ms() <= now) {
      next = "due";
    } else {
      next = StrCat("in ", ShortDuration(e.next_attempt_ms() - now));
    }
    rows.push_back({e.id(), delivery ? "delivery" : "processing", e.pipeline(),
                    StrCat(e.attempts()), ShortDuration(now - e.first_time_ms()), next,
                    e.damaged() ? OneLine(StrCat("damaged: ", e.damage()), 200)
                                : OneLine(e.last_error(), 100)});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c + 1 < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out.append(row[c]);
      if (c + 1 < row.size()) out.append(widths[c] - row[c].size() + 2, ' ');
    }
    out.push_back('\n');
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (damaged > 0) {
    std::fprintf(stderr, "lakehose dlq list: %zu entries, %d damaged\n", entries.size(), damaged);
  } else {
    std::fprintf(stderr, "lakehose dlq list: %zu entries\n", entries.size());
  }
  return 0;
}

int Redrive(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc =
          ParseCommandFlags({.usage = kRedriveUsage, .flags = kRedriveFlags, .connection = true},
                            argc, argv, 3, &flags))
    return *rc;
  if (!flags.has("target")) return UsageError("--target is required");
  const int selectors = flags.has("id") + flags.has("pipeline") + flags.has("all");
  if (selectors != 1) return UsageError("give exactly one of --id, --pipeline or --all");
  v1::RedriveRequest request;
  for (const std::string& id : flags.list("id")) request.add_ids(id);
  if (flags.has("pipeline")) request.set_pipeline(flags.get("pipeline"));
  request.set_all(flags.has("all"));
  int rc = 0;
  auto client = Connect(flags, &rc);
  if (!client) return rc;
  auto response = client->Redrive(request);
  if (!response.ok()) return Fail(RpcError(response.status()));
  int ok = 0, failed = 0;
  for (const v1::RedriveResult& r : response->results()) {
    if (r.ok()) {
      std::printf("%s\tok\n", r.id().c_str());
      ++ok;
    } else {
      std::printf("%s\tfailed\t%s\n", r.id().c_str(), OneLine(r.error(), 1000).c_str());
      ++failed;
    }
  }
  std::fflush(stdout);
  std::fprintf(stderr, "lakehose dlq redrive: %d ok, %d failed\n", ok, failed);
  return failed > 0 ? 1 : 0;
}

int Purge(int argc, char** argv) {
  ParsedFlags flags;
  if (auto rc = ParseCommandFlags({.usage = kPurgeUsage, .flags = kPurgeFlags, .connection = true},
                                  argc, argv, 3, &flags))
    return *rc;
  if (!flags.has("target")) return UsageError("--target is required");
  const bool by_pipeline = flags.has("pipeline");
  if (flags.has("id") == by_pipeline)
    return UsageError("give either --id or --pipeline (not both)");
  if (by_pipeline && !flags.has("yes")) return UsageError("purging a whole pipeline needs --yes");
  v1::PurgeRequest request;
  for (const std::string& id : flags.list("id")) request.add_ids(id);
  if (by_pipeline) {
    request.set_pipeline(flags.get("pipeline"));
    request.set_confirm(true);
  }
  int rc = 0;
  auto client = Connect(flags, &rc);
  if (!client) return rc;
  auto response = client->Purge(request);
  if (!response.ok()) return Fail(RpcError(response.status()));
  for (const std::string& id : response->purged()) std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "lakehose dlq purge: %d entries purged\n", response->purged_size());
  return 0;
}

}  // namespace

int DlqCommand(int argc, char** argv) {
  const std::string sub = argc >= 3 ? argv[2] : "";
  if (sub == "list") return List(argc, argv);
  if (sub == "redrive") return Redrive(argc, argv);
  if (sub == "purge") return Purge(argc, argv);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::string usage = StrCat(kUsage, "\noptions:\n");
    AppendFlagHelp({}, &usage);
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return 0;
  }
  if (sub.empty()) return UsageError("dlq needs a command: list, redrive or purge");
  return UsageError(StrCat("unknown dlq command ", sub));
}

}  // namespace lakehose::cli
