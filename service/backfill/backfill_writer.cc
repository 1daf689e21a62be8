#include "service/backfill/backfill_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "core/base/compress.h"
#include "core/base/strings.h"
#include "core/delivery/delivery_format.h"
#include "service/platform/durable_file.h"

namespace lakehose {

BackfillWriter::BackfillWriter(const PipelineSpec& spec, ObjectSink& sink, TableWriter* table,
                               Options options)
    : spec_(spec), sink_(sink), table_(table), options_(std::move(options)) {}

absl::Status BackfillWriter::Store(const std::string& key, std::string_view body,
                                   const ObjectMeta& meta) {
  absl::Status st = sink_.Put(key, body, meta);
  const bool existing = absl::IsAlreadyExists(st);
  if (!st.ok() && !existing) return st;
  absl::MutexLock lock(&mu_);
  if (existing) {
    ++stats_.objects_existing;
  } else {
    ++stats_.objects_stored;
    stats_.bytes_stored += static_cast<int64_t>(body.size());
  }
  return absl::OkStatus();
}

absl::Status BackfillWriter::WriteUnit(uint64_t unit,
                                       const std::vector<backfill::UnitRecord>& records,
                                       const std::string& what) {
  std::unique_ptr<RecordTransformer> transformer;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      transformer = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!transformer) transformer = std::make_unique<RecordTransformer>(spec_);
  backfill::UnitNaming naming;
  naming.pipeline = spec_.name;
  naming.writer_id = options_.writer_id;
  naming.unit = unit;
  naming.random_string = options_.random_string;
  naming.max_object_bytes = static_cast<size_t>(spec_.destination.buffer_size_mb * 1024 * 1024);
  absl::StatusOr<backfill::UnitObjects> planned =
      backfill::PlanUnitObjects(*transformer, spec_, records, naming);
  {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(transformer));
  }
  if (!planned.ok())
    return absl::Status(planned.status().code(),
                        StrCat(what, ": ", StatusMessage(planned.status())));
  const DestinationSpec& dest = spec_.destination;
  int64_t rejected_records = 0;
  std::vector<std::shared_ptr<TableObject>> to_commit;
  for (const backfill::PlannedObject& o : planned->objects) {
    auto failed = [&](const absl::Status& st) {
      return absl::Status(st.code(),
                          StrCat(what, ": object ", sink_.Uri(o.key), ": ", StatusMessage(st)));
    };
    ObjectMeta meta;
    meta.if_none_match = true;
    // Error documents are objects of their own (JSON Lines) in every format.
    if (table_ != nullptr && !o.error_documents) {
      RejectedRecords rejected;
      absl::StatusOr<TableObject> encoded = table_->Encode(o.key, o.body, &rejected);
      if (!encoded.ok()) return failed(encoded.status());
      if (rejected.records > 0) {
        // Records a column of the table cannot hold (the stream's path sends them to the
        // dead-letter queue): kept as JSON Lines beside the object, never dropped.
        const std::string key =
            StrCat(o.key.substr(0, o.key.size() - std::string_view(".parquet").size()), "-rejected",
                   ObjectExtension(dest.compression));
        absl::StatusOr<std::string> body =
            Compress(dest.compression, dest.compression_level, rejected.lines);
        if (!body.ok()) return failed(body.status());
        ObjectMeta rmeta = meta;
        rmeta.content_encoding = std::string(ContentEncoding(dest.compression));
        if (absl::Status st = Store(key, *body, rmeta); !st.ok()) return failed(st);
        rejected_records += rejected.records;
      }
      if (encoded->files.empty()) continue;
      ObjectMeta fmeta = meta;
      fmeta.content_type = "application/vnd.apache.parquet";
      for (TableObject::File& f : encoded->files) {
        if (absl::Status st = Store(f.key, f.bytes, fmeta); !st.ok()) return failed(st);
        std::string().swap(f.bytes);  // stored: the commit needs only its description
      }
      to_commit.push_back(std::make_shared<TableObject>(*std::move(encoded)));
      continue;
    }
    absl::StatusOr<std::string> body = EncodeObject(dest, o.key, o.body);
    if (!body.ok()) return failed(body.status());
    if (o.key.ends_with(".parquet")) {
      meta.content_type = "application/vnd.apache.parquet";
    } else {
      meta.content_encoding = std::string(ContentEncoding(dest.compression));
    }
    if (absl::Status st = Store(o.key, *body, meta); !st.ok()) return failed(st);
  }
  absl::MutexLock lock(&mu_);
  for (auto& t : to_commit) pending_.push_back(std::move(t));
  ++stats_.units;
  stats_.records_ok += planned->ok - rejected_records;
  stats_.records_failed += planned->failed;
  stats_.records_dropped += planned->dropped;
  stats_.records_rejected += rejected_records;
  return absl::OkStatus();
}

absl::Status BackfillWriter::Commit() {
  if (table_ == nullptr) return absl::OkStatus();
  absl::MutexLock commit(&commit_mu_);
  std::vector<std::shared_ptr<TableObject>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return absl::OkStatus();
  std::vector<const TableObject*> objects;
  objects.reserve(batch.size());
  for (const auto& t : batch) objects.push_back(t.get());
  absl::Status st = table_->Commit(objects);
  absl::MutexLock lock(&mu_);
  if (!st.ok()) {
    // Kept for the next Commit (a commit leaves the table with all of them or none).
    pending_.insert(pending_.begin(), batch.begin(), batch.end());
    return st;
  }
  ++stats_.commits;
  return absl::OkStatus();
}

BackfillStats BackfillWriter::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

// ---- ProgressFile ----------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<ProgressFile>> ProgressFile::Open(
    const std::string& path, const backfill::ProgressHeader& header, backfill::Progress* earlier) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    const int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd < 0) return ErrnoStatus("open", path, errno);
    std::string text;
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(rfd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(rfd);
        return ErrnoStatus("read", path, err);
      }
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    ::close(rfd);
    absl::StatusOr<backfill::Progress> parsed = backfill::ParseProgress(text);
    if (!parsed.ok())
      return absl::FailedPreconditionError(StrCat(path, ": ", StatusMessage(parsed.status()),
                                                  "; remove it or pass another --progress file"));
    const backfill::ProgressHeader& h = parsed->header;
    if (h.source != header.source || h.pipeline != header.pipeline ||
        h.writer_id != header.writer_id)
      return absl::FailedPreconditionError(
          StrCat(path, " is the progress of another backfill (source ", h.source, ", pipeline ",
                 h.pipeline, ", writer ", h.writer_id, "), not of this one (source ", header.source,
                 ", pipeline ", header.pipeline, ", writer ", header.writer_id,
                 "); pass another --progress file"));
    *earlier = *std::move(parsed);
    // A torn last line is completed by the next append's newline rather than joined.
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    auto file = std::unique_ptr<ProgressFile>(new ProgressFile(path, fd));
    if (!text.empty() && text.back() != '\n')
      if (absl::Status st = file->Append("\n"); !st.ok()) return st;
    return file;
  }
  const std::filesystem::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  std::filesystem::create_directories(dir, ec);
  const std::string tmp = StrCat(path, ".tmp");
  if (absl::Status st = WriteSyncedFile(tmp, backfill::ProgressHeaderLine(header)); !st.ok())
    return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename", tmp, errno);
  if (absl::Status st = FsyncDir(dir); !st.ok()) return st;
  *earlier = backfill::Progress{.header = header};
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return std::unique_ptr<ProgressFile>(new ProgressFile(path, fd));
}

ProgressFile::~ProgressFile() { ::close(fd_); }

absl::Status ProgressFile::Append(std::string_view lines) {
  absl::MutexLock lock(&mu_);
  while (!lines.empty()) {
    const ssize_t n = ::write(fd_, lines.data(), lines.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write", path_, errno);
    lines.remove_prefix(static_cast<size_t>(n));
  }
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
  return absl::OkStatus();
}

}  // namespace lakehose
