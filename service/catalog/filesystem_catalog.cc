#include "service/catalog/filesystem_catalog.h"

#include <utility>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/iceberg/metadata_json.h"
#include "service/platform/log.h"

namespace lakehose {
namespace {

constexpr std::string_view kVersionHint = "version-hint.text";
// Versions probed past the hint before giving up (a hint this far behind is damage).
constexpr int kMaxVersionProbes = 100000;

}  // namespace

std::string TableFileUri(const ObjectSink& sink, const std::string& key) {
  std::string uri = sink.Uri(key);
  constexpr std::string_view kFile = "file://";
  if (uri.rfind(kFile, 0) != 0) return uri;
  // Partition values in paths are URL-encoded already (PartitionPath): only the sink's
  // own escaping is undone.
  std::string out(kFile);
  for (size_t i = kFile.size(); i < uri.size(); ++i) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : -1;
    };
    if (uri[i] == '%' && i + 2 < uri.size() && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2])));
      i += 2;
    } else {
      out.push_back(uri[i]);
    }
  }
  return out;
}

FileSystemCatalog::FileSystemCatalog(ObjectSink& sink, std::string relative_location,
                                     const Clock& clock)
    : sink_(sink),
      relative_location_(std::move(relative_location)),
      clock_(clock),
      location_(TableFileUri(sink, relative_location_)) {}

std::string FileSystemCatalog::MetadataKey(std::string_view name) const {
  return StrCat(relative_location_, "/metadata/", name);
}

void FileSystemCatalog::WriteHint(int64_t version) {
  // Readers (icebird, DuckDB) open the version the hint names; writers probe past it. A
  // hint cannot be compared-and-swapped: a writer that is behind (another replica wrote a
  // later version and hint meanwhile) leaves it, so it goes back only in a race between
  // this read and the write. Best effort: a lost hint is rewritten by the next commit.
  absl::StatusOr<std::string> current = sink_.Get(MetadataKey(kVersionHint));
  if (current.ok())
    if (absl::StatusOr<int64_t> v = iceberg::ParseVersionHint(*current); v.ok() && *v >= version)
      return;
  ObjectMeta hint;
  hint.content_type = "text/plain";
  (void)sink_.Put(MetadataKey(kVersionHint), StrCat(version), hint);
}

absl::StatusOr<std::optional<LoadedTable>> FileSystemCatalog::Load() {
  int64_t version = 0;
  absl::StatusOr<std::string> hint = sink_.Get(MetadataKey(kVersionHint));
  if (hint.ok()) {
    absl::StatusOr<int64_t> v = iceberg::ParseVersionHint(*hint);
    // A damaged hint is only a hint: the versions are probed from 1.
    if (v.ok() && *v > 0) version = *v;
  } else if (!absl::IsNotFound(hint.status())) {
    return hint.status();
  }
  std::string text;
  if (version > 0) {
    absl::StatusOr<std::string> got = sink_.Get(MetadataKey(iceberg::MetadataFileName(version)));
    if (got.ok()) {
      text = *std::move(got);
    } else if (absl::IsNotFound(got.status())) {
      version = 0;  // a hint ahead of the files: probe from the start
    } else {
      return got.status();
    }
  }
  // Later versions than the hint: a writer stopped before rewriting it, or raced ahead.
  for (int probes = 0; probes < kMaxVersionProbes; ++probes) {
    absl::StatusOr<std::string> next =
        sink_.Get(MetadataKey(iceberg::MetadataFileName(version + 1)));
    if (absl::IsNotFound(next.status())) break;
    if (!next.ok()) return next.status();
    ++version;
    text = *std::move(next);
  }
  if (version == 0) return std::nullopt;
  const std::string uri = TableFileUri(sink_, MetadataKey(iceberg::MetadataFileName(version)));
  absl::StatusOr<iceberg::TableMetadata> parsed = iceberg::ParseTableMetadata(text);
  if (!parsed.ok()) return absl::DataLossError(StrCat(uri, ": ", StatusMessage(parsed.status())));
  LoadedTable loaded;
  loaded.metadata = *std::move(parsed);
  loaded.version = version;
  loaded.metadata_location = uri;
  return std::optional<LoadedTable>(std::move(loaded));
}

absl::Status FileSystemCatalog::PutVersion(int64_t version, const iceberg::TableMetadata& m) {
  ObjectMeta meta;
  meta.content_type = "application/json";
  meta.if_none_match = true;
  RETURN_IF_ERROR(sink_.Put(MetadataKey(iceberg::MetadataFileName(version)),
                            iceberg::TableMetadataToJson(m), meta));
  WriteHint(version);
  return absl::OkStatus();
}

absl::Status FileSystemCatalog::Create(const iceberg::TableMetadata& metadata) {
  return PutVersion(1, metadata);
}

absl::Status FileSystemCatalog::Commit(const LoadedTable& base,
                                       const catalog::TableChange& change) {
  iceberg::TableMetadata next = base.metadata;
  // A snapshot's own timestamp is its commit time; a schema change alone is now.
  const int64_t now_ms = change.snapshot ? change.snapshot->timestamp_ms : clock_.NowMillis();
  RETURN_IF_ERROR(catalog::ApplyTableChange(&next, change, base.metadata_location, now_ms));
  return PutVersion(base.version + 1, next);
}

}  // namespace lakehose
