#include "service/iceberg/iceberg_table.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/delivery/delivery_format.h"
#include "core/iceberg/avro.h"
#include "core/iceberg/current_state.h"
#include "core/iceberg/manifest.h"
#include "core/iceberg/metadata_json.h"
#include "core/iceberg/position_deletes.h"
#include "core/iceberg/schema.h"
#include "core/parquet/parquet_writer.h"
#include "service/iceberg/iceberg_table_internal.h"
#include "service/platform/log.h"
#include "simdjson.h"
#include "zlib.h"

namespace lakehose {

using iceberg::DataFile;
using iceberg::Field;
using iceberg::KeyState;
using iceberg::ManifestEntry;
using iceberg::ManifestFile;
using iceberg::PartitionSpec;
using iceberg::PartitionValue;
using iceberg::Schema;
using iceberg::Snapshot;
using iceberg::TableMetadata;
using iceberg::Type;

namespace {

// "a..b,c,dr": identities, runs of consecutive plain sequence numbers as ranges.
std::string EncodeIdentities(std::vector<std::string> ids) {
  std::vector<uint64_t> plain;
  std::vector<std::string> other;
  for (const std::string& id : ids) {
    uint64_t n = 0;
    if (ParseUint64(id, &n))
      plain.push_back(n);
    else
      other.push_back(id);
  }
  std::sort(plain.begin(), plain.end());
  plain.erase(std::unique(plain.begin(), plain.end()), plain.end());
  std::sort(other.begin(), other.end());
  std::string out;
  for (size_t i = 0; i < plain.size();) {
    size_t j = i;
    while (j + 1 < plain.size() && plain[j + 1] == plain[j] + 1) ++j;
    if (!out.empty()) out.push_back(',');
    StrAppend(&out, plain[i]);
    if (j > i) StrAppend(&out, "..", plain[j]);
    i = j + 1;
  }
  for (const std::string& o : other) {
    if (!out.empty()) out.push_back(',');
    out += o;
  }
  return out;
}

// The identities of `wanted` that EncodeIdentities' `text` holds, added to `*found`,
// without expanding its ranges (a writer's history of snapshots names millions of
// objects; a commit asks about a few). False if `text` is malformed.
bool FindIdentities(std::string_view text, const std::set<std::string>& wanted,
                    std::set<std::string>* found) {
  std::vector<uint64_t> plain;  // the wanted plain sequence numbers, sorted
  for (const std::string& id : wanted)
    if (uint64_t n = 0; ParseUint64(id, &n)) plain.push_back(n);
  std::sort(plain.begin(), plain.end());
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (part.empty()) continue;
    const size_t dots = part.find("..");
    if (dots == std::string_view::npos) {
      if (auto it = wanted.find(std::string(part)); it != wanted.end()) found->insert(*it);
      continue;
    }
    uint64_t a = 0, b = 0;
    if (!ParseUint64(part.substr(0, dots), &a) || !ParseUint64(part.substr(dots + 2), &b) || b < a)
      return false;
    for (auto it = std::lower_bound(plain.begin(), plain.end(), a); it != plain.end() && *it <= b;
         ++it)
      found->insert(StrCat(*it));
  }
  return true;
}

const Field* FindField(const Schema& schema, std::string_view name) {
  for (const Field& f : schema.fields)
    if (f.name == name) return &f;
  return nullptr;
}

// Iceberg's partition field names: the source's for identity, else <source>_<transform>.
std::string PartitionFieldName(const std::string& source, const std::string& transform) {
  if (transform == "identity") return source;
  if (transform.rfind("bucket", 0) == 0) return source + "_bucket";
  if (transform.rfind("truncate", 0) == 0) return source + "_trunc";
  return StrCat(source, "_", transform);
}

// The value of a top-level member as a transform's source (Null: absent or null). Times
// are milliseconds since the epoch in documents; a string column takes other scalars as
// their JSON text, as the Parquet writer stores them.
absl::StatusOr<iceberg::SourceValue> SourceOf(simdjson::dom::element v, const Type& type,
                                              std::string_view column) {
  using iceberg::SourceValue;
  const bool string_column = type.primitive == "string";
  switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return SourceValue::Null();
    case simdjson::dom::element_type::STRING: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) break;
      return SourceValue::String(std::string(s));
    }
    case simdjson::dom::element_type::BOOL: {
      bool b = false;
      if (v.get_bool().get(b) != simdjson::SUCCESS) break;
      if (string_column) return SourceValue::String(b ? "true" : "false");
      return SourceValue::Boolean(b);
    }
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: {
      int64_t n = 0;
      if (v.get_int64().get(n) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(StrCat(column, ": number out of range"));
      if (string_column) return SourceValue::String(StrCat(n));
      if (type.primitive == "timestamptz" || type.primitive == "timestamp") {
        if (n > INT64_MAX / 1000 || n < INT64_MIN / 1000)
          return absl::InvalidArgumentError(StrCat(column, ": time out of range"));
        return SourceValue::TimestampMicros(n * 1000);
      }
      if (type.primitive.rfind("decimal", 0) == 0)
        return absl::UnimplementedError(
            StrCat(column, ": partitioning on a decimal column is not supported yet"));
      return SourceValue::Long(n);
    }
    case simdjson::dom::element_type::DOUBLE: {
      if (string_column) return SourceValue::String(simdjson::minify(v));
      double d = 0;
      if (v.get_double().get(d) != simdjson::SUCCESS) break;
      if (type.primitive != "double" && type.primitive != "float")
        return absl::InvalidArgumentError(StrCat(column, ": ", simdjson::minify(v),
                                                 " is not a value of its ", type.primitive,
                                                 " column"));
      return SourceValue::Double(d);
    }
    default:
      if (string_column) return SourceValue::String(simdjson::minify(v));
      break;
  }
  return absl::InvalidArgumentError(
      StrCat(column, ": an object or array cannot be a partition source"));
}

}  // namespace

// The commit data of one TableObject: its data files as manifest entries will hold them.
struct IcebergTable::CommitData {
  std::string identity;  // IcebergTable::ObjectIdentity of its key
  std::vector<DataFile> files;
  // mode: current. The object's changes in its line order: an upsert's row is row `pos`
  // of files[file]; a remove has no row (file -1).
  struct Change {
    std::string key;
    iceberg::ChangeVersion version;
    bool remove = false;
    int file = -1;
    int64_t pos = 0;
  };
  std::vector<Change> changes;
  std::vector<std::string> file_partitions;  // per file: EncodePartition of its values
};

// mode: current: what one try of a commit adds besides the data files.
struct IcebergTable::CurrentCommit {
  std::vector<ManifestEntry> delete_entries;  // position delete files, stored already
  std::vector<iceberg::IndexUpdate> updates;  // the index delta's entries
  std::string delta_uri = std::string(kNoIndexDelta);
  int64_t applied = 0, stale = 0, superseded = 0, position_deletes = 0;
};

IcebergTable::IcebergTable(const PipelineSpec& spec, ObjectSink& sink, Options options)
    : IcebergTable(spec, sink, nullptr, std::move(options)) {}

IcebergTable::IcebergTable(const PipelineSpec& spec, ObjectSink& sink, IcebergCatalog& catalog,
                           Options options)
    : IcebergTable(spec, sink, &catalog, std::move(options)) {}

IcebergTable::IcebergTable(const PipelineSpec& spec, ObjectSink& sink, IcebergCatalog* catalog,
                           Options options)
    : spec_(spec),
      sink_(sink),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : *RealClock::Get()),
      relative_location_(spec.destination.iceberg->RelativeLocation()),
      own_catalog_(catalog ? nullptr
                           : std::make_unique<FileSystemCatalog>(sink, relative_location_, clock_)),
      catalog_(catalog ? *catalog : *own_catalog_) {
  random64_ = options_.random64;
  if (!random64_) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    random64_ = [rng] { return (*rng)(); };
  }
}

std::string IcebergTable::Uri(const std::string& key) const { return TableFileUri(sink_, key); }

std::optional<std::string> IcebergTable::KeyOf(std::string_view uri) const {
  const std::string root = TableFileUri(sink_, "");
  if (uri.substr(0, root.size()) != root) return std::nullopt;
  return std::string(uri.substr(root.size()));
}

std::string IcebergTable::TableKey(std::string_view sub) const {
  return relative_location_.empty() ? std::string(sub) : StrCat(relative_location_, "/", sub);
}

std::string IcebergTable::MetadataKey(std::string_view name) const {
  return TableKey(StrCat("metadata/", name));
}

std::string IcebergTable::RandomHex(int bytes) {
  std::string out;
  absl::MutexLock lock(&mu_);
  while (static_cast<int>(out.size()) < bytes * 2) {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(random64_()));
    out += buf;
  }
  out.resize(static_cast<size_t>(bytes) * 2);
  return out;
}

void IcebergTable::Backoff(int attempt) {
  absl::Duration d = options_.retry_base * (1 << std::min(attempt, 16));
  d = std::min(d, options_.retry_max);
  // Full jitter: writers that lost the same race do not meet again.
  uint64_t r;
  {
    absl::MutexLock lock(&mu_);
    r = random64_();
  }
  d = d * (static_cast<double>(r >> 11) / static_cast<double>(uint64_t{1} << 53));
  if (options_.sleep)
    options_.sleep(d);
  else
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(d));
}

std::optional<std::string> IcebergTable::ObjectIdentity(std::string_view object_key) {
  std::string_view name = object_key.substr(object_key.rfind('/') + 1);
  constexpr std::string_view kExt = ".parquet";
  if (name.size() < kExt.size() || name.substr(name.size() - kExt.size()) != kExt)
    return std::nullopt;
  name.remove_suffix(kExt.size());
  std::string suffix;
  constexpr std::string_view kRejected = "-rejected";
  if (name.size() > kRejected.size() && name.substr(name.size() - kRejected.size()) == kRejected) {
    name.remove_suffix(kRejected.size());
    suffix = "r";
  }
  const size_t dash = name.rfind('-');
  uint64_t n = 0;
  if (dash == std::string_view::npos || !ParseUint64(name.substr(dash + 1), &n))
    return std::nullopt;
  return StrCat(n, suffix);
}

absl::StatusOr<std::optional<IcebergTable::Loaded>> IcebergTable::LoadLatest() {
  return catalog_.Load();
}

absl::StatusOr<std::optional<IcebergTable::Loaded>> IcebergTable::Load() { return LoadLatest(); }

std::shared_ptr<const IcebergTable::Table> IcebergTable::Remember(Loaded loaded) {
  auto t = std::make_shared<Table>();
  t->loaded = std::move(loaded);
  const TableMetadata& m = t->loaded.metadata;
  t->schema = m.CurrentSchema();
  t->spec = m.DefaultSpec();
  if (t->schema) t->schema_json = iceberg::SchemaToJson(*t->schema);
  if (t->schema && t->spec) {
    for (const iceberg::PartitionField& pf : t->spec->fields) {
      const Field* source = nullptr;
      for (const Field& f : t->schema->fields)
        if (f.id == pf.source_id) source = &f;
      t->sources.push_back(source);
      absl::StatusOr<Type> rt = source ? iceberg::TransformResultType(pf.transform, source->type)
                                       : absl::StatusOr<Type>(Type::Primitive("string"));
      t->result_types.push_back(rt.ok() ? *rt : Type::Primitive("string"));
      Field pfield;
      pfield.id = pf.field_id;
      pfield.name = pf.name;
      pfield.type = t->result_types.back();
      t->partition_type.push_back(std::move(pfield));
    }
  }
  absl::MutexLock lock(&mu_);
  // Never go back to an older version (a slow reader's answer).
  if (!table_ || table_->loaded.version <= t->loaded.version) table_ = t;
  stats_.snapshots = static_cast<int64_t>(table_->loaded.metadata.snapshots.size());
  return table_;
}

absl::StatusOr<std::shared_ptr<const IcebergTable::Table>> IcebergTable::EnsureTable(
    const std::vector<std::string_view>* first_lines) {
  {
    absl::MutexLock lock(&mu_);
    if (table_) return table_;
  }
  // One thread at a time finds or creates the table (upload threads encode objects
  // concurrently; they would all try to create it).
  absl::MutexLock schema_lock(&schema_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (table_) return table_;
  }
  ASSIGN_OR_RETURN(std::optional<Loaded> loaded, LoadLatest());
  if (loaded) {
    std::shared_ptr<const Table> t = Remember(*std::move(loaded));
    if (!t->schema || !t->spec)
      return absl::FailedPreconditionError(StrCat(
          catalog_.Name(), ": the table's metadata has no current schema or partition spec"));
    for (size_t i = 0; i < t->sources.size(); ++i)
      if (!t->sources[i])
        return absl::FailedPreconditionError(
            StrCat(catalog_.Name(), ": partition field ", t->spec->fields[i].name,
                   " has a source column the current schema does not have"));
    return t;
  }
  // The first records' columns are in the table from its first version (a first schema
  // change would add a version before any data otherwise).
  std::vector<ParquetColumn> inferred;
  std::vector<iceberg::ColumnPath> all_null;
  if (first_lines != nullptr) {
    std::vector<std::string> null_names;
    ParquetOptions options = spec_.destination.parquet;
    options.schema.clear();
    absl::StatusOr<std::vector<ParquetColumn>> columns =
        InferParquetColumns(*first_lines, options, &null_names);
    if (columns.ok()) inferred = *std::move(columns);  // else the records fail when encoded
    for (std::string& n : null_names) all_null.push_back({std::move(n)});
  }
  return CreateTable(inferred, all_null);
}

// The table property naming the data files' codec (as Iceberg's writers name them), so
// that engines writing to the table (compaction) keep it.
std::string IcebergTable::CodecName() const {
  switch (spec_.destination.parquet.codec) {
    case ParquetCodec::kNone:
      return "uncompressed";
    case ParquetCodec::kSnappy:
      return "snappy";
    case ParquetCodec::kGzip:
      return "gzip";
    case ParquetCodec::kZstd:
      return "zstd";
  }
  return "zstd";
}

absl::StatusOr<std::shared_ptr<const IcebergTable::Table>> IcebergTable::CreateTable(
    const std::vector<ParquetColumn>& inferred, const std::vector<iceberg::ColumnPath>& all_null) {
  const IcebergSpec& t = *spec_.destination.iceberg;
  int last_id = 0;
  Schema schema;
  if (!t.schema.empty()) {
    std::vector<std::string> required;
    for (const ParquetColumn& c : t.schema)
      if (c.required) required.push_back(c.name);
    ASSIGN_OR_RETURN(schema,
                     iceberg::SchemaFromDeclared(t.schema, required, t.identifier, &last_id));
  }
  auto add = [&](std::string_view name, std::string type) {
    if (FindField(schema, name)) return;
    Field f;
    f.id = ++last_id;
    f.name = std::string(name);
    f.type = Type::Primitive(std::move(type));
    schema.fields.push_back(std::move(f));
  };
  // The change-log columns, typed here: inference would call the event time a long.
  add(kIcebergOpColumn, "string");
  add(kIcebergEventTimeColumn, "timestamptz");
  if (spec_.input == InputKind::kDynamoDbStream) add(kIcebergSequenceColumn, "string");
  // Partition sources not declared are strings (partition keys' values are text).
  for (const IcebergPartitionFieldSpec& f : t.partition_spec) add(f.source, "string");
  // Then the first records' other columns, as a schema change would add them.
  if (!inferred.empty()) {
    int new_last = last_id;
    absl::StatusOr<iceberg::FileSchema> first =
        iceberg::ResolveFileSchema(schema, last_id, inferred, &new_last, all_null);
    if (first.ok()) {
      schema = std::move(first->table_schema);
      schema.schema_id = 0;
      last_id = new_last;
    }
  }
  PartitionSpec pspec;
  int pid = 999;
  for (const IcebergPartitionFieldSpec& f : t.partition_spec) {
    const Field* source = FindField(schema, f.source);
    absl::StatusOr<Type> rt = iceberg::TransformResultType(f.transform, source->type);
    if (!rt.ok())
      return absl::InvalidArgumentError(StrCat("destination.iceberg.partition_spec: ", f.transform,
                                               "(", f.source, "): ", StatusMessage(rt.status())));
    iceberg::PartitionField pf;
    pf.source_id = source->id;
    pf.field_id = ++pid;
    pf.name = PartitionFieldName(f.source, f.transform);
    pf.transform = f.transform;
    pspec.fields.push_back(std::move(pf));
  }
  // The table's UUID: random, in the 8-4-4-4-12 form.
  const std::string hex = RandomHex(16);
  const std::string uuid = StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-4", hex.substr(13, 3),
                                  "-a", hex.substr(17, 3), "-", hex.substr(20, 12));
  TableMetadata m = iceberg::NewTableMetadata(
      uuid, catalog_.NewTableLocation(), std::move(schema), std::move(pspec),
      {{"write.format.default", "parquet"}, {"write.parquet.compression-codec", CodecName()}},
      clock_.NowMillis());
  absl::Status st = catalog_.Create(m);
  if (!st.ok() && !absl::IsAlreadyExists(st)) return st;
  if (st.ok())
    Log(LogLevel::kInfo, "iceberg.table_created",
        {{"pipeline", spec_.name}, {"location", catalog_.Name()}});
  // Ours or another writer's: the table now exists.
  ASSIGN_OR_RETURN(std::optional<Loaded> loaded, LoadLatest());
  if (!loaded) return absl::InternalError(StrCat(catalog_.Name(), ": created but not found"));
  return Remember(*std::move(loaded));
}

absl::StatusOr<std::shared_ptr<const IcebergTable::Table>> IcebergTable::EvolveSchema(
    const std::vector<ParquetColumn>& inferred, const std::vector<iceberg::ColumnPath>& all_null) {
  absl::MutexLock schema_lock(&schema_mu_);
  for (int attempt = 0; attempt < options_.max_commit_attempts; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<Loaded> loaded, LoadLatest());
    if (!loaded)
      return absl::FailedPreconditionError(StrCat(catalog_.Name(), ": the table vanished"));
    std::shared_ptr<const Table> t = Remember(*loaded);
    int new_last = 0;
    absl::StatusOr<iceberg::FileSchema> fs = iceberg::ResolveFileSchema(
        *t->schema, t->loaded.metadata.last_column_id, inferred, &new_last, all_null);
    if (!fs.ok() || !fs->table_changed) return t;  // another writer added them
    catalog::TableChange change;
    change.schema = fs->table_schema;
    change.last_column_id = new_last;
    absl::Status st = catalog_.Commit(t->loaded, change);
    if (st.ok()) {
      {
        absl::MutexLock lock(&mu_);
        stats_.schema_updates += 1;
      }
      Log(LogLevel::kInfo, "iceberg.schema_updated",
          {{"pipeline", spec_.name},
           {"columns", StrCat(new_last - t->loaded.metadata.last_column_id)},
           {"version", StrCat(t->loaded.version + 1)}});
      continue;  // reload: the next pass returns the table with it
    }
    if (absl::IsAlreadyExists(st)) {
      absl::MutexLock lock(&mu_);
      stats_.commit_conflicts += 1;
    } else if (!absl::IsUnavailable(st) && !absl::IsDeadlineExceeded(st)) {
      return st;
    }
    Backoff(attempt);
  }
  return absl::UnavailableError(StrCat(catalog_.Name(), ": schema change not committed after ",
                                       options_.max_commit_attempts, " tries"));
}

absl::StatusOr<std::vector<ParquetColumn>> IcebergTable::ResolveColumns(
    const std::vector<ParquetColumn>& inferred, const std::vector<iceberg::ColumnPath>& all_null,
    std::shared_ptr<const Table>* table) {
  // Columns are resolved one by one: a column whose values do not fit its type in the
  // table is declared with the table's type (the records it cannot hold are left out
  // later, SCHEMA_MISMATCH) without keeping the others from being added. New columns
  // (and new members of structs) are committed to the table first, so every field id a
  // file uses is the table's; a second pass then finds nothing new (a third would mean
  // another writer keeps changing the same columns).
  for (int pass = 0; pass < 3; ++pass) {
    const Table& t = **table;
    std::vector<ParquetColumn> columns, to_add;
    for (const ParquetColumn& c : inferred) {
      int new_last = 0;
      absl::StatusOr<iceberg::FileSchema> one = iceberg::ResolveFileSchema(
          *t.schema, t.loaded.metadata.last_column_id, {c}, &new_last, all_null);
      if (one.ok() && one->table_changed) {
        to_add.push_back(c);
      } else if (one.ok()) {
        // Only c's own column: the resolution also lists the table's required columns
        // (for a whole file), which c's would then declare once per column (added once
        // below when the file lacks them).
        for (ParquetColumn& pc : one->parquet_columns)
          if (pc.name == c.name) columns.push_back(std::move(pc));
      } else {
        const Field* f = FindField(*t.schema, c.name);
        if (f == nullptr) return one.status();  // not a mismatch with the table: a bug
        ASSIGN_OR_RETURN(ParquetColumn declared, iceberg::ParquetColumnOf(*f));
        columns.push_back(std::move(declared));
      }
    }
    if (to_add.empty()) return columns;
    ASSIGN_OR_RETURN(*table, EvolveSchema(to_add, all_null));
  }
  return absl::UnavailableError(
      StrCat(catalog_.Name(), ": the table's schema kept changing while these columns were added"));
}

absl::StatusOr<TableObject> IcebergTable::Encode(const std::string& object_key,
                                                 std::string_view body, RejectedRecords* rejected) {
  const RejectedRecords before = rejected != nullptr ? *rejected : RejectedRecords();
  bool mismatch = false;
  absl::StatusOr<TableObject> out = EncodeOnce(object_key, body, rejected, &mismatch);
  if (!mismatch) return out;
  // Records that do not fit a column of the table as this writer last read it: the table
  // may have changed since (a user renamed the column to let them in, then redrove them),
  // so they are tried once more against its latest version.
  absl::StatusOr<std::optional<Loaded>> latest = LoadLatest();
  if (!latest.ok() || !latest->has_value()) return out;
  {
    absl::MutexLock lock(&mu_);
    if (table_ && table_->loaded.version >= (*latest)->version) return out;  // nothing new
  }
  Remember(**std::move(latest));
  if (rejected != nullptr) *rejected = before;
  return EncodeOnce(object_key, body, rejected, &mismatch);
}

absl::StatusOr<TableObject> IcebergTable::EncodeOnce(const std::string& object_key,
                                                     std::string_view body,
                                                     RejectedRecords* rejected, bool* mismatch) {
  const std::optional<std::string> identity = ObjectIdentity(object_key);
  if (!identity)
    return absl::InvalidArgumentError(
        StrCat(object_key, ": not the key of a sealed object of an Iceberg pipeline"));
  const std::vector<std::string_view> lines = SplitJsonLines(body);
  ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, EnsureTable(&lines));

  // Records by partition: each partition's records become one data file.
  simdjson::dom::parser parser;
  std::vector<std::string> group_keys;              // in order of first appearance
  std::map<std::string, size_t> group_of;           // serialized partition -> index
  std::vector<std::vector<PartitionValue>> values;  // per group
  std::vector<std::vector<size_t>> members;         // per group: line indexes
  std::vector<std::string> line_errors(lines.size());
  const bool current = spec_.destination.iceberg->mode == IcebergSpec::Mode::kCurrent;
  // mode: current: each line's change (removes have no row: they are not grouped).
  std::vector<std::optional<CommitData::Change>> line_change(current ? lines.size() : 0);
  const size_t nfields = table->sources.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (current) {
      absl::StatusOr<iceberg::DocumentChange> c =
          iceberg::ReadDocumentChange(lines[i], spec_.destination.iceberg->identifier);
      if (!c.ok()) {
        line_errors[i] = std::string(StatusMessage(c.status()));
        continue;
      }
      line_change[i] = CommitData::Change{.key = std::move(c->key),
                                          .version = std::move(c->version),
                                          .remove = c->remove,
                                          .file = -1,
                                          .pos = 0};
      if (c->remove) continue;
    }
    std::vector<PartitionValue> pv(nfields);
    std::string serialized;
    if (nfields > 0) {
      simdjson::dom::object obj;
      if (parser.parse(lines[i].data(), lines[i].size()).get_object().get(obj) !=
          simdjson::SUCCESS) {
        line_errors[i] = "not a JSON object";
        continue;
      }
      for (size_t f = 0; f < nfields && line_errors[i].empty(); ++f) {
        const Field& source = *table->sources[f];
        simdjson::dom::element v;
        iceberg::SourceValue sv;
        if (obj.at_key(source.name).get(v) == simdjson::SUCCESS) {
          absl::StatusOr<iceberg::SourceValue> got = SourceOf(v, source.type, source.name);
          if (!got.ok()) {
            line_errors[i] = std::string(StatusMessage(got.status()));
            break;
          }
          sv = *std::move(got);
        }
        absl::StatusOr<PartitionValue> p =
            iceberg::ApplyTransform(table->spec->fields[f].transform, source.type, sv);
        if (!p.ok()) {
          line_errors[i] =
              StrCat("partition ", table->spec->fields[f].name, ": ", StatusMessage(p.status()));
          break;
        }
        pv[f] = *std::move(p);
        StrAppend(&serialized, static_cast<int>(pv[f].kind), ":",
                  iceberg::SerializeSingleValue(table->result_types[f], pv[f]), "|", pv[f].s.size(),
                  "\x1f");
      }
      if (!line_errors[i].empty()) continue;
    }
    auto [it, inserted] = group_of.try_emplace(serialized, values.size());
    if (inserted) {
      group_keys.push_back(serialized);
      values.push_back(std::move(pv));
      members.emplace_back();
    }
    members[it->second].push_back(i);
  }

  std::vector<bool> left_out(lines.size(), false);
  auto reject = [&](size_t line, std::string_view why) {
    if (rejected == nullptr) return;
    left_out[line] = true;
    if (rejected->records++ == 0) rejected->reason = StrCat("line ", line + 1, ": ", why);
    StrAppend(&rejected->lines, lines[line], "\n");
  };
  for (size_t i = 0; i < lines.size(); ++i)
    if (!line_errors[i].empty()) {
      if (rejected == nullptr)
        return absl::InvalidArgumentError(StrCat("line ", i + 1, ": ", line_errors[i]));
      reject(i, line_errors[i]);
    }

  // The object's name without directory and extension: each file adds "-<n>".
  std::string_view base = std::string_view(object_key).substr(object_key.rfind('/') + 1);
  base.remove_suffix(std::string_view(".parquet").size());
  auto data = std::make_shared<CommitData>();
  data->identity = *identity;
  TableObject out;
  out.object_key = object_key;
  for (size_t g = 0; g < members.size(); ++g) {
    std::vector<std::string_view> group;
    for (size_t i : members[g]) group.push_back(lines[i]);
    ParquetOptions options = spec_.destination.parquet;
    options.schema.clear();
    std::vector<std::string> null_names;
    ASSIGN_OR_RETURN(std::vector<ParquetColumn> inferred,
                     InferParquetColumns(group, options, &null_names));
    std::vector<iceberg::ColumnPath> all_null;
    for (std::string& n : null_names) all_null.push_back({std::move(n)});
    ASSIGN_OR_RETURN(std::vector<ParquetColumn> columns,
                     ResolveColumns(inferred, all_null, &table));
    // Required columns of the table that the file lacks are declared too: a reader
    // would find them null otherwise, which a required column may not be.
    for (const Field& f : table->schema->fields) {
      if (!f.required) continue;
      bool present = false;
      for (const ParquetColumn& c : columns) present |= c.name == f.name;
      if (present) continue;
      ASSIGN_OR_RETURN(ParquetColumn declared, iceberg::ParquetColumnOf(f));
      columns.push_back(std::move(declared));
    }
    // The file's own columns as its `iceberg.schema` (names to field ids for readers that
    // match by name): not the whole table schema, which grows, so that encoding the same
    // records again after other columns were added gives the same bytes (a re-store after
    // a crash answers "exists" and the committed size must be the stored file's).
    Schema file_schema;
    for (const ParquetColumn& c : columns) {
      const Field* f = FindField(*table->schema, c.name);
      if (f != nullptr) file_schema.fields.push_back(*f);
    }
    options.schema = std::move(columns);
    options.key_value_metadata.emplace_back("iceberg.schema", iceberg::SchemaToJson(file_schema));
    std::vector<ParquetRejectedRecord> file_rejects;
    ASSIGN_OR_RETURN(ParquetFile file, EncodeParquetFileIsolating(group, options, &file_rejects));
    std::vector<bool> file_rejected(group.size(), false);
    for (const ParquetRejectedRecord& r : file_rejects) {
      const size_t line = members[g][r.line];
      const std::string why = StrCat("SCHEMA_MISMATCH: ", r.why.message);
      *mismatch = true;
      if (rejected == nullptr)
        return absl::InvalidArgumentError(StrCat("line ", line + 1, ": ", why));
      reject(line, why);
      file_rejected[r.line] = true;
      if (current) line_change[line].reset();
    }
    if (file.rows == 0) continue;  // every record of the partition was left out
    if (current) {
      // The rows are the group's records that were not left out, in order.
      int64_t pos = 0;
      for (size_t r = 0; r < group.size(); ++r) {
        if (file_rejected[r]) continue;
        CommitData::Change& c = *line_change[members[g][r]];
        c.file = static_cast<int>(data->files.size());
        c.pos = pos++;
      }
      data->file_partitions.push_back(iceberg::EncodePartition(values[g]));
    }
    const std::string path = iceberg::PartitionPath(*table->spec, *table->schema, values[g]);
    // Named by the object and its partition values (CRC-32 of their serialization), not by
    // position: an object encoded again without some records (its dead letter's kept lines,
    // other records left out) names each partition's file the same.
    char tag[9];
    std::snprintf(tag, sizeof(tag), "%08lx",
                  crc32(0L, reinterpret_cast<const Bytef*>(group_keys[g].data()),
                        static_cast<uInt>(group_keys[g].size())));
    TableObject::File f;
    f.key = TableKey(StrCat("data/", path.empty() ? "" : path + "/", base, "-",
                            std::string_view(tag, 8), ".parquet"));
    f.records = file.rows;
    f.size = static_cast<int64_t>(file.bytes.size());
    DataFile df = DataFileOf(file, Uri(f.key), values[g]);
    f.bytes = std::move(file.bytes);
    data->files.push_back(std::move(df));
    out.files.push_back(std::move(f));
  }
  if (rejected != nullptr && rejected->records > 0)
    for (size_t i = 0; i < lines.size(); ++i)
      if (!left_out[i]) StrAppend(&rejected->kept_lines, lines[i], "\n");
  for (size_t i = 0; i < line_change.size(); ++i)
    if (line_change[i] && !left_out[i]) data->changes.push_back(*std::move(line_change[i]));
  // What the commit data keeps until the commit (strings past their inline size too).
  int64_t held = static_cast<int64_t>(sizeof(CommitData));
  for (const CommitData::Change& c : data->changes)
    held += static_cast<int64_t>(sizeof(c) + c.key.size() + c.version.sequence.size());
  for (const DataFile& f : data->files)
    held += static_cast<int64_t>(sizeof(f) + f.file_path.size()) +
            64 * static_cast<int64_t>(f.column_sizes.size() + f.lower_bounds.size());
  for (const std::string& p : data->file_partitions)
    held += static_cast<int64_t>(sizeof(p) + p.size());
  out.held_bytes = held;
  out.commit_data = std::move(data);
  return out;
}

absl::Status IcebergTable::Commit(const std::vector<const TableObject*>& objects) {
  const bool current_mode = spec_.destination.iceberg->mode == IcebergSpec::Mode::kCurrent;
  if (current_mode && options_.key_index == nullptr)
    return absl::FailedPreconditionError(
        StrCat(catalog_.Name(), ": a mode: current table is committed with its key index"));
  std::optional<absl::MutexLock> one_at_a_time;
  if (current_mode) one_at_a_time.emplace(&current_commit_mu_);
  std::vector<const CommitData*> all;
  for (const TableObject* o : objects)
    if (o->commit_data) all.push_back(static_cast<const CommitData*>(o->commit_data.get()));
  std::string manifest_uri;
  int64_t manifest_length = 0;
  std::set<std::string> manifest_for;  // the identities the written manifest holds
  // The identities already in the table at this call's first read of it.
  std::optional<std::set<std::string>> committed_before;
  absl::Status last = absl::OkStatus();
  for (int attempt = 0; attempt < options_.max_commit_attempts; ++attempt) {
    if (attempt > 0) Backoff(attempt - 1);
    absl::StatusOr<std::shared_ptr<const Table>> ensured = EnsureTable();
    if (!ensured.ok()) {
      last = ensured.status();
      if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
      break;
    }
    absl::StatusOr<std::optional<Loaded>> loaded = LoadLatest();
    if (!loaded.ok() || !*loaded) {
      last = loaded.ok()
                 ? absl::FailedPreconditionError(StrCat(catalog_.Name(), ": the table vanished"))
                 : loaded.status();
      if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
      break;
    }
    std::shared_ptr<const Table> table = Remember(**loaded);
    const TableMetadata& current = table->loaded.metadata;
    if (current_mode) {
      // The index must reflect the table as read before anything is planned against it
      // (a crash after a commit, or another lakehose process's commit: a backfill's).
      absl::Status caught = CatchUpIndexTo(current);
      if (!caught.ok()) {
        last = caught;
        if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
        break;
      }
    }
    // What this writer's snapshots hold already (an earlier try whose answer was lost, or a
    // commit before a crash that the WAL did not record).
    std::set<std::string> wanted, committed;
    for (const CommitData* d : all) wanted.insert(d->identity);
    for (const Snapshot& s : current.snapshots) {
      if (s.SummaryValue(std::string(kSummaryWriter)) != options_.writer_id ||
          s.SummaryValue(std::string(kSummaryPipeline)) != spec_.name)
        continue;
      if (std::optional<std::string> ids = s.SummaryValue(std::string(kSummaryObjects)))
        if (!FindIdentities(*ids, wanted, &committed))
          Log(LogLevel::kWarn, "iceberg.summary_unreadable",
              {{"pipeline", spec_.name}, {"snapshot", StrCat(s.snapshot_id)}});
    }
    std::vector<const CommitData*> todo;
    for (const CommitData* d : all)
      if (!committed.count(d->identity)) todo.push_back(d);
    if (!committed_before) {
      // The first read: what is in the table already was committed before this call (a
      // crash between commit and log, replayed), not by it.
      committed_before = committed;
      absl::MutexLock lock(&mu_);
      stats_.objects_already_committed += static_cast<int64_t>(all.size() - todo.size());
    }
    if (todo.empty()) {
      // Objects this call found missing at first and finds committed now: one of its own
      // tries landed though its answer was lost (no answer, a 5xx, a 412 on our own
      // write). That is this call's commit: counted as one.
      int64_t landed_files = 0, landed_records = 0;
      for (const CommitData* d : all) {
        if (committed_before->count(d->identity)) continue;
        for (const DataFile& f : d->files) {
          landed_files += 1;
          landed_records += f.record_count;
        }
      }
      if (landed_files > 0) {
        {
          absl::MutexLock lock(&mu_);
          stats_.commits += 1;
          stats_.files_committed += landed_files;
          stats_.records_committed += landed_records;
          stats_.last_commit_ms = clock_.NowMillis();
        }
        Log(LogLevel::kInfo, "iceberg.committed",
            {{"pipeline", spec_.name},
             {"version", StrCat(table->loaded.version)},
             {"files", StrCat(landed_files)},
             {"records", StrCat(landed_records)},
             {"found", "an earlier try landed though its answer was lost"}});
      }
      // That try never wrote the hint (file-system), so readers that trust it would not
      // see the snapshot.
      catalog_.Settle(table->loaded);
      return absl::OkStatus();
    }
    std::set<std::string> todo_ids;
    int64_t added_records = 0, added_size = 0, added_files = 0;
    std::vector<ManifestEntry> entries;
    for (const CommitData* d : todo) {
      todo_ids.insert(d->identity);
      for (const DataFile& f : d->files) {
        ManifestEntry e;
        e.status = 1;  // ADDED; snapshot id and sequence numbers inherited (null)
        e.data_file = f;
        entries.push_back(std::move(e));
        added_records += f.record_count;
        added_size += f.file_size_in_bytes;
        added_files += 1;
      }
    }
    const int64_t sequence_number = current.last_sequence_number + 1;
    int64_t snapshot_id = 0;
    do {
      absl::MutexLock lock(&mu_);
      // Below 2^53: JavaScript readers (icebird) parse ids as doubles.
      snapshot_id = static_cast<int64_t>(random64_() >> 11);
    } while (snapshot_id == 0 || current.FindSnapshot(snapshot_id) != nullptr);
    // mode: current: this try's plan against the index (which reflects `current` now):
    // each key's newest change becomes its row or its tombstone; the rows it ends, and
    // every row written here that is not its key's newest, are position-deleted in this
    // snapshot (a delete applies to data files of its own sequence number too), so the
    // table never holds two rows of a key. The index's updates go to an index delta the
    // snapshot names, applied to the index once the commit is known.
    CurrentCommit cc;
    if (current_mode) {
      absl::StatusOr<CurrentCommit> prepared = PrepareCurrent(todo, *table, snapshot_id);
      if (!prepared.ok()) {
        last = prepared.status();
        if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
        break;
      }
      cc = *std::move(prepared);
    }
    // The manifest: its entries inherit the snapshot id and sequence number, so one written
    // for these objects serves every retry.
    if (manifest_for != todo_ids && !(current_mode && entries.empty())) {
      absl::StatusOr<ManifestFile> stored = PutManifest(*table, 0, entries);
      if (!stored.ok()) {
        last = stored.status();
        if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
        break;
      }
      manifest_uri = stored->manifest_path;
      manifest_length = stored->manifest_length;
      manifest_for = todo_ids;
    }
    ManifestFile added;
    added.manifest_path = manifest_uri;
    added.manifest_length = manifest_length;
    added.partition_spec_id = table->spec->spec_id;
    added.content = 0;
    added.sequence_number = sequence_number;
    added.min_sequence_number = sequence_number;
    added.added_snapshot_id = snapshot_id;
    added.added_files_count = static_cast<int>(added_files);
    added.added_rows_count = added_records;
    added.partitions = table->PartitionSummaries(entries);
    std::vector<ManifestFile> list;
    if (!entries.empty() || !current_mode) list.push_back(added);
    if (!cc.delete_entries.empty()) {
      absl::StatusOr<ManifestFile> deletes = PutManifest(*table, 1, cc.delete_entries);
      if (!deletes.ok()) {
        last = deletes.status();
        if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
        break;
      }
      deletes->sequence_number = sequence_number;
      deletes->min_sequence_number = sequence_number;
      deletes->added_snapshot_id = snapshot_id;
      deletes->added_files_count = static_cast<int>(cc.delete_entries.size());
      deletes->added_rows_count = cc.position_deletes;
      list.push_back(*std::move(deletes));
    }
    const Snapshot* parent = current.CurrentSnapshot();
    if (parent != nullptr) {
      // The parent's manifest list, by its path: under the destination's root.
      const std::optional<std::string> parent_list = KeyOf(parent->manifest_list);
      if (!parent_list) {
        last = absl::FailedPreconditionError(
            StrCat(parent->manifest_list, ": a manifest list outside ", Uri("")));
        break;
      }
      absl::StatusOr<std::string> bytes = sink_.Get(*parent_list);
      if (!bytes.ok()) {
        last = bytes.status();
        if (absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last)) continue;
        break;
      }
      absl::StatusOr<std::vector<ManifestFile>> parents = iceberg::DecodeManifestList(*bytes);
      if (!parents.ok()) {
        last = absl::DataLossError(
            StrCat(parent->manifest_list, ": ", StatusMessage(parents.status())));
        break;
      }
      for (ManifestFile& m : *parents) list.push_back(std::move(m));
    }
    absl::StatusOr<std::string> list_bytes = iceberg::EncodeManifestList(
        list, snapshot_id, parent ? std::optional<int64_t>(parent->snapshot_id) : std::nullopt,
        sequence_number, RandomHex(8).substr(0, 16),
        iceberg::AvroContainerOptions::Codec::kDeflate);
    if (!list_bytes.ok()) return list_bytes.status();
    const std::string list_key =
        MetadataKey(StrCat("snap-", snapshot_id, "-", attempt + 1, "-", RandomHex(16), ".avro"));
    {
      ObjectMeta meta;
      meta.content_type = "application/octet-stream";
      meta.if_none_match = true;
      absl::Status st = sink_.Put(list_key, *list_bytes, meta);
      if (absl::IsAlreadyExists(st)) st = absl::OkStatus();  // as the manifest's
      if (!st.ok()) {
        last = st;
        if (absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) continue;
        break;
      }
    }
    // Totals on from the parent's (when it kept them).
    auto total = [&](const char* key, int64_t added_now) {
      int64_t before = 0;
      if (parent != nullptr)
        if (std::optional<std::string> v = parent->SummaryValue(key)) {
          uint64_t n = 0;
          if (ParseUint64(*v, &n)) before = static_cast<int64_t>(n);
        }
      return StrCat(before + added_now);
    };
    // The partitions the commit's data and delete files are in.
    std::set<std::string> partitions;
    for (const std::vector<ManifestEntry>* list : {&entries, &cc.delete_entries})
      for (const ManifestEntry& e : *list) {
        std::string p;
        for (size_t f = 0; f < e.data_file.partition.size(); ++f)
          StrAppend(&p,
                    iceberg::SerializeSingleValue(table->result_types[f], e.data_file.partition[f]),
                    "\x1f", static_cast<int>(e.data_file.partition[f].kind), "\x1e");
        partitions.insert(std::move(p));
      }
    const int64_t added_delete_files = static_cast<int64_t>(cc.delete_entries.size());
    Snapshot snap;
    snap.snapshot_id = snapshot_id;
    if (parent != nullptr) snap.parent_snapshot_id = parent->snapshot_id;
    snap.manifest_list = Uri(list_key);
    snap.summary = {
        // overwrite: rows added and deleted (the spec's operation for both).
        {"operation", added_delete_files > 0 ? "overwrite" : "append"},
        {"added-data-files", StrCat(added_files)},
        {"added-records", StrCat(added_records)},
        {"added-files-size", StrCat(added_size)},
        {"changed-partition-count", StrCat(partitions.size())},
        {"total-records", total("total-records", added_records)},
        {"total-files-size", total("total-files-size", added_size)},
        {"total-data-files", total("total-data-files", added_files)},
        {"total-delete-files", total("total-delete-files", added_delete_files)},
        {"total-position-deletes", total("total-position-deletes", cc.position_deletes)},
        {"total-equality-deletes", "0"},
        {std::string(kSummaryWriter), options_.writer_id},
        {std::string(kSummaryPipeline), spec_.name},
        {std::string(kSummaryObjects), EncodeIdentities({todo_ids.begin(), todo_ids.end()})}};
    if (current_mode) {
      if (added_delete_files > 0) {
        snap.summary.insert(snap.summary.begin() + 4,
                            {{"added-delete-files", StrCat(added_delete_files)},
                             {"added-position-delete-files", StrCat(added_delete_files)},
                             {"added-position-deletes", StrCat(cc.position_deletes)}});
      }
      snap.summary.emplace_back(kSummaryIndexDelta, cc.delta_uri);
      snap.summary.emplace_back("lakehose.changes-applied", StrCat(cc.applied));
      snap.summary.emplace_back("lakehose.changes-stale", StrCat(cc.stale));
      snap.summary.emplace_back("lakehose.changes-superseded", StrCat(cc.superseded));
    }
    for (const auto& [k, v] : options_.snapshot_properties) snap.summary.emplace_back(k, v);
    // The commit's time and sequence number (its manifest list has it), and the schema
    // its files were written with: what a catalog records, sent as they are.
    snap.sequence_number = sequence_number;
    snap.timestamp_ms = clock_.NowMillis();
    snap.schema_id = current.current_schema_id;
    catalog::TableChange change;
    change.snapshot = std::move(snap);
    const int64_t version = table->loaded.version + 1;
    absl::Status st = catalog_.Commit(table->loaded, change);
    if (st.ok() && current_mode) {
      // The index follows the table; if this fails the next Commit replays the delta.
      if (absl::Status applied = options_.key_index->Apply(cc.updates, snapshot_id);
          !applied.ok()) {
        absl::MutexLock lock(&mu_);
        stats_.commit_failures += 1;
        return absl::Status(applied.code(),
                            StrCat("iceberg commit to ", catalog_.Name(),
                                   ": committed, but the key index was not updated (the next "
                                   "commit replays it): ",
                                   StatusMessage(applied)));
      }
    }
    if (st.ok()) {
      {
        absl::MutexLock lock(&mu_);
        stats_.changes_applied += cc.applied;
        stats_.changes_stale += cc.stale;
        stats_.changes_superseded += cc.superseded;
        stats_.position_deletes += cc.position_deletes;
        stats_.delete_files += added_delete_files;
        stats_.commits += 1;
        stats_.files_committed += added_files;
        stats_.records_committed += added_records;
        stats_.last_commit_ms = clock_.NowMillis();
        // The table as this commit left it (not read again until the next commit).
        stats_.snapshots = static_cast<int64_t>(current.snapshots.size()) + 1;
      }
      Log(LogLevel::kInfo, "iceberg.committed",
          {{"pipeline", spec_.name},
           {"snapshot_id", StrCat(snapshot_id)},
           {"version", StrCat(version)},
           {"files", StrCat(added_files)},
           {"records", StrCat(added_records)}});
      return absl::OkStatus();
    }
    last = st;
    if (absl::IsAlreadyExists(st)) {
      // Another writer's v<N+1>: reload, rebase, retry.
      absl::MutexLock lock(&mu_);
      stats_.commit_conflicts += 1;
      continue;
    }
    // An unknown outcome (no answer) is resolved by reading the table on the next try.
    if (absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) continue;
    break;
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.commit_failures += 1;
  }
  return absl::Status(last.code() == absl::StatusCode::kAlreadyExists
                          ? absl::StatusCode::kUnavailable
                          : last.code(),
                      StrCat("iceberg commit to ", catalog_.Name(), ": ", StatusMessage(last)));
}

absl::StatusOr<ManifestFile> IcebergTable::PutManifest(const Table& table, int content,
                                                       const std::vector<ManifestEntry>& entries) {
  absl::StatusOr<std::string> manifest =
      iceberg::EncodeManifest(table.ManifestHeader(content), entries, RandomHex(8).substr(0, 16),
                              iceberg::AvroContainerOptions::Codec::kDeflate);
  if (!manifest.ok()) return manifest.status();
  const std::string key = MetadataKey(StrCat(RandomHex(16), "-m", content, ".avro"));
  ObjectMeta meta;
  meta.content_type = "application/octet-stream";
  meta.if_none_match = true;
  // The name is new (128 random bits): "exists" is this write's own earlier attempt,
  // whose answer was lost and which the client retried.
  absl::Status st = sink_.Put(key, *manifest, meta);
  if (!st.ok() && !absl::IsAlreadyExists(st)) return st;
  ManifestFile out;
  out.manifest_path = Uri(key);
  out.manifest_length = static_cast<int64_t>(manifest->size());
  out.partition_spec_id = table.spec->spec_id;
  out.content = content;
  out.partitions = table.PartitionSummaries(entries);
  return out;
}

absl::StatusOr<IcebergTable::CurrentCommit> IcebergTable::PrepareCurrent(
    const std::vector<const CommitData*>& todo, const Table& table, int64_t snapshot_id) {
  KeyIndex& index = *options_.key_index;
  std::vector<iceberg::KeyChange> changes;
  std::vector<std::pair<const CommitData*, const CommitData::Change*>> where;
  for (const CommitData* d : todo)
    for (const CommitData::Change& c : d->changes) {
      changes.push_back({.key = c.key, .version = c.version, .remove = c.remove});
      where.emplace_back(d, &c);
    }
  absl::Status lookup_error = absl::OkStatus();
  const iceberg::ChangePlan plan =
      iceberg::PlanChanges(changes, [&](const std::string& key) -> std::optional<KeyState> {
        absl::StatusOr<std::optional<KeyState>> got = index.Get(key);
        if (got.ok()) return *std::move(got);
        if (lookup_error.ok()) lookup_error = got.status();
        return std::nullopt;
      });
  RETURN_IF_ERROR(lookup_error);

  CurrentCommit out;
  out.applied = static_cast<int64_t>(plan.write.size() + plan.removed.size());
  out.stale = plan.stale;
  out.superseded = plan.superseded;
  // The deletes, by the partition of the rows they delete.
  std::map<std::string, std::vector<iceberg::PositionDelete>> deletes;
  for (const auto& [key, before] : plan.deletes)
    deletes[before.partition].push_back({.file_path = before.file_path, .pos = before.pos});
  std::vector<bool> live(changes.size(), false);
  for (size_t i : plan.write) {
    live[i] = true;
    const auto& [d, c] = where[i];
    out.updates.push_back({.key = c->key,
                           .state = KeyState{.version = c->version,
                                             .live = true,
                                             .file_path = d->files[c->file].file_path,
                                             .pos = c->pos,
                                             .partition = d->file_partitions[c->file]}});
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& [d, c] = where[i];
    if (live[i] || c->remove || c->file < 0) continue;
    // Written, but not its key's newest (stale or superseded): deleted at once.
    deletes[d->file_partitions[c->file]].push_back(
        {.file_path = d->files[c->file].file_path, .pos = c->pos});
  }
  for (const auto& [key, version] : plan.removed)
    out.updates.push_back(
        {.key = key,
         .state = KeyState{
             .version = version, .live = false, .file_path = {}, .pos = 0, .partition = {}}});

  ParquetOptions options = spec_.destination.parquet;
  options.schema.clear();
  options.key_value_metadata.clear();
  int n = 0;
  for (auto& [partition_bytes, list] : deletes) {
    absl::StatusOr<std::vector<PartitionValue>> values = iceberg::DecodePartition(partition_bytes);
    if (!values.ok() || values->size() != table.partition_type.size())
      return absl::DataLossError(StrCat(options_.key_index->dir(),
                                        ": a key's partition is damaged or of another partition "
                                        "spec; rebuild the index with `lakehose table reindex`"));
    ASSIGN_OR_RETURN(iceberg::PositionDeleteFile file,
                     iceberg::EncodePositionDeletes(std::move(list), options));
    const std::string path = iceberg::PartitionPath(*table.spec, *table.schema, *values);
    const std::string key = TableKey(StrCat("data/", path.empty() ? "" : path + "/", spec_.name,
                                            "-deletes-", snapshot_id, "-", n++, ".parquet"));
    ObjectMeta meta;
    meta.content_type = "application/octet-stream";
    meta.if_none_match = true;
    // The name is this try's own (its snapshot id is new): "exists" is a retried write.
    absl::Status st = sink_.Put(key, file.bytes, meta);
    if (!absl::IsAlreadyExists(st)) RETURN_IF_ERROR(st);
    out.position_deletes += file.data_file.record_count;
    ManifestEntry e;
    e.status = 1;  // ADDED; snapshot id and sequence numbers inherited
    e.data_file = std::move(file.data_file);
    e.data_file.file_path = Uri(key);
    e.data_file.partition = *std::move(values);
    out.delete_entries.push_back(std::move(e));
  }
  if (!out.updates.empty()) {
    const std::string key = MetadataKey(StrCat("index-delta-", snapshot_id, ".bin"));
    ObjectMeta meta;
    meta.content_type = "application/octet-stream";
    meta.if_none_match = true;
    absl::Status st = sink_.Put(key, iceberg::EncodeIndexDelta(out.updates), meta);
    if (!absl::IsAlreadyExists(st)) RETURN_IF_ERROR(st);
    out.delta_uri = Uri(key);
  }
  return out;
}

absl::Status IcebergTable::CatchUpIndex() {
  if (options_.key_index == nullptr)
    return absl::FailedPreconditionError(StrCat(catalog_.Name(), ": no key index"));
  absl::MutexLock one_at_a_time(&current_commit_mu_);
  ASSIGN_OR_RETURN(std::optional<Loaded> loaded, LoadLatest());
  if (!loaded) return absl::OkStatus();  // no table yet: nothing to replay
  return CatchUpIndexTo(loaded->metadata);
}

absl::Status IcebergTable::CatchUpIndexTo(const TableMetadata& m) {
  KeyIndex& index = *options_.key_index;
  ASSIGN_OR_RETURN(std::optional<int64_t> applied, index.AppliedSnapshot());
  // An index delta (or checkpoint) the table names, read and checked.
  auto read_delta =
      [&](const std::string& uri) -> absl::StatusOr<std::vector<iceberg::IndexUpdate>> {
    const std::optional<std::string> key = KeyOf(uri);
    if (!key)
      return absl::FailedPreconditionError(StrCat(uri, ": an index delta outside ", Uri("")));
    absl::StatusOr<std::string> bytes = sink_.Get(*key);
    if (!bytes.ok())
      return absl::Status(bytes.status().code(), StrCat(uri, ": ", StatusMessage(bytes.status())));
    absl::StatusOr<std::vector<iceberg::IndexUpdate>> decoded = iceberg::DecodeIndexDelta(*bytes);
    if (!decoded.ok())
      return absl::DataLossError(StrCat(uri, ": ", StatusMessage(decoded.status())));
    return decoded;
  };
  if (!applied) {
    // A new index starts from the table's checkpoint when it has one (`table expire`
    // writes it; the deltas before it may be gone), then replays the snapshots after it.
    std::optional<std::string> uri, at;
    for (const auto& [k, v] : m.properties) {
      if (k == kPropertyCheckpoint) uri = v;
      if (k == kPropertyCheckpointSnapshot) at = v;
    }
    uint64_t id = 0;
    if (uri && at && ParseUint64(*at, &id) && m.FindSnapshot(static_cast<int64_t>(id)) != nullptr) {
      ASSIGN_OR_RETURN(std::vector<iceberg::IndexUpdate> entries, read_delta(*uri));
      RETURN_IF_ERROR(index.Apply(entries, static_cast<int64_t>(id)));
      applied = static_cast<int64_t>(id);
      {
        absl::MutexLock lock(&mu_);
        stats_.index_checkpoint_loaded = static_cast<int64_t>(id);
      }
      Log(LogLevel::kInfo, "iceberg.index_checkpoint_loaded",
          {{"pipeline", spec_.name}, {"snapshot_id", *at}, {"keys", StrCat(entries.size())}});
    }
  }
  // The snapshots after the index's, newest first, by their parents.
  std::vector<const Snapshot*> chain;
  const Snapshot* s = m.CurrentSnapshot();
  while (s != nullptr && !(applied && s->snapshot_id == *applied)) {
    chain.push_back(s);
    if (chain.size() > m.snapshots.size()) break;  // a cycle in damaged metadata
    s = s->parent_snapshot_id ? m.FindSnapshot(*s->parent_snapshot_id) : nullptr;
    if (s == nullptr && chain.back()->parent_snapshot_id) {
      return absl::FailedPreconditionError(
          StrCat(catalog_.Name(), ": snapshot ", *chain.back()->parent_snapshot_id,
                 " is no longer in the table (expired), so the key index in ", index.dir(),
                 " cannot be brought up to date from it; rebuild it with `lakehose table "
                 "reindex` (from the index checkpoint `lakehose table expire` leaves)"));
    }
  }
  if (applied && m.CurrentSnapshot() == nullptr)
    return absl::FailedPreconditionError(
        StrCat(catalog_.Name(), ": the key index in ", index.dir(), " is at snapshot ", *applied,
               " but the table has none (a new table under an old index); rebuild it with "
               "`lakehose table reindex`"));
  if (applied && s == nullptr && !chain.empty())
    return absl::FailedPreconditionError(
        StrCat(catalog_.Name(), ": the key index in ", index.dir(), " is at snapshot ", *applied,
               ", which is not in the table's history (another table, or one replaced); "
               "rebuild it with `lakehose table reindex`"));
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Snapshot& snap = **it;
    const std::optional<std::string> delta = snap.SummaryValue(std::string(kSummaryIndexDelta));
    if (!delta) {
      const std::string by =
          snap.SummaryValue(std::string(kSummaryWriter)).value_or("not lakehose");
      return absl::FailedPreconditionError(
          StrCat(catalog_.Name(), ": snapshot ", snap.snapshot_id, " (operation ",
                 snap.SummaryValue("operation").value_or("?"), ", writer ", by,
                 ") has no lakehose.index-delta: a mode: current table is written by lakehose "
                 "alone, in mode current (a change-log table cannot become one)"));
    }
    std::vector<iceberg::IndexUpdate> updates;
    if (*delta != kNoIndexDelta) {
      ASSIGN_OR_RETURN(updates, read_delta(*delta));
    }
    RETURN_IF_ERROR(index.Apply(updates, snap.snapshot_id));
    {
      absl::MutexLock lock(&mu_);
      stats_.index_deltas_replayed += 1;
    }
    Log(LogLevel::kInfo, "iceberg.index_replayed",
        {{"pipeline", spec_.name},
         {"snapshot_id", StrCat(snap.snapshot_id)},
         {"keys", StrCat(updates.size())}});
  }
  return absl::OkStatus();
}

IcebergTableStats IcebergTable::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace lakehose
