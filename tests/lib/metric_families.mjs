// The metric families lakehose's server exports (README "Metrics"), as the
// deploy/ artefacts may use them: THE ONE LIST the deploy tests check the Grafana
// dashboard and the Prometheus alert rules against. Cross-check it with the server's own
// list (LAKEHOSE_METRIC_FAMILIES in service/metrics/metrics.h) when either changes: the ops test
// (tests/ops/prometheus.test.mjs) fails when a real server's scrape and this list differ.
//
// labels: label name -> the values a selector may match (null: any value).
// s3Only: the family has series only once the server has an S3 destination (its
// `destination` label); a server with file destinations only does not export it.
// tableOnly: the family has series only for pipelines with `format: iceberg`.
// catalogOnly: ... and only for those whose table is in a REST catalog.
// currentOnly: ... and only for those whose table is `mode: current`.
// Target labels Prometheus adds (job, instance, and whatever relabelling adds) and `le` on
// histogram buckets are allowed on every family (see TARGET_LABELS below).

const PIPELINE = null;  // configured pipeline names
const RPC = ['Transform', 'Ingest', 'IngestStream', 'Redrive'];
const RESULT = ['ok', 'dropped', 'processing_failed'];
const REJECT_REASON = ['buffer_full', 'disk_full', 'draining', 'busy'];
const FLUSH_REASON = ['size', 'age', 'flush', 'shutdown', 'pressure', 'partition_cap'];
const S3_OPERATION = ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'HeadObject', 'GetObject'];
const S3_OUTCOME = ['ok', 'throttled', 'server_error', 'client_error', 'network_error', 'precondition_failed'];
const DLQ_KIND = ['delivery', 'processing'];
const DESTINATION = null;  // "s3://<bucket>", or "<host:port>/<bucket>" on a custom endpoint
const BREAKER_TO = ['open', 'half_open', 'closed'];
const PROBE_RESULT = ['ok', 'failed', 'inconclusive'];

export const METRIC_FAMILIES = {
  // counters
  lakehose_records_total: { type: 'counter', labels: { pipeline: PIPELINE, rpc: RPC, result: RESULT } },
  lakehose_ingest_rejected_records_total: { type: 'counter', labels: { pipeline: PIPELINE, reason: REJECT_REASON } },
  lakehose_bytes_in_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_bytes_out_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_objects_written_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_flushes_total: { type: 'counter', labels: { pipeline: PIPELINE, reason: FLUSH_REASON } },
  lakehose_delivery_retries_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_s3_requests_total: { type: 'counter', labels: { operation: S3_OPERATION, outcome: S3_OUTCOME } },
  lakehose_s3_retries_total: { type: 'counter', labels: { operation: S3_OPERATION } },
  lakehose_dlq_added_total: { type: 'counter', labels: { pipeline: PIPELINE, kind: DLQ_KIND } },
  lakehose_dlq_redriven_total: { type: 'counter', labels: { pipeline: PIPELINE, kind: DLQ_KIND } },
  lakehose_dlq_purged_total: { type: 'counter', labels: { pipeline: PIPELINE, kind: DLQ_KIND } },
  lakehose_dlq_delivered_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_dlq_expired_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_wal_corrupt_tails_total: { type: 'counter', labels: {} },
  lakehose_destination_outage_seconds_total: { type: 'counter', labels: { destination: DESTINATION }, s3Only: true },
  lakehose_destination_breaker_transitions_total: { type: 'counter', labels: { destination: DESTINATION, to: BREAKER_TO }, s3Only: true },
  lakehose_destination_probes_total: { type: 'counter', labels: { destination: DESTINATION, result: PROBE_RESULT }, s3Only: true },
  lakehose_destination_refused_requests_total: { type: 'counter', labels: { destination: DESTINATION }, s3Only: true },
  lakehose_iceberg_commits_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_commit_conflicts_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_commit_failures_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_schema_updates_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_files_committed_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_records_committed_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_objects_already_committed_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_ttl_deletes_total: { type: 'counter', labels: { pipeline: PIPELINE } },
  lakehose_iceberg_changes_total: { type: 'counter', labels: { pipeline: PIPELINE, result: ['applied', 'stale', 'superseded'] }, tableOnly: true, currentOnly: true },
  lakehose_iceberg_position_deletes_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true, currentOnly: true },
  lakehose_iceberg_index_deltas_replayed_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true, currentOnly: true },
  lakehose_iceberg_catalog_requests_total: { type: 'counter', labels: { pipeline: PIPELINE, result: ['ok', 'error', 'denied'] }, tableOnly: true, catalogOnly: true },
  lakehose_iceberg_commit_unknown_total: { type: 'counter', labels: { pipeline: PIPELINE }, tableOnly: true, catalogOnly: true },
  lakehose_wal_replayed_records_total: { type: 'counter', labels: {} },
  lakehose_wal_damaged_segments_total: { type: 'counter', labels: {} },
  lakehose_wal_records_lost_total: { type: 'counter', labels: {} },
  lakehose_grpc_connections_shed_total: { type: 'counter', labels: {} },
  // gauges
  lakehose_active_partitions: { type: 'gauge', labels: {} },
  lakehose_buffered_bytes: { type: 'gauge', labels: { pipeline: PIPELINE } },
  lakehose_buffered_records: { type: 'gauge', labels: { pipeline: PIPELINE } },
  lakehose_oldest_unflushed_record_age_seconds: { type: 'gauge', labels: { pipeline: PIPELINE } },
  lakehose_buffer_interval_seconds: { type: 'gauge', labels: { pipeline: PIPELINE } },
  lakehose_pending_bytes: { type: 'gauge', labels: {} },
  lakehose_buffer_budget_bytes: { type: 'gauge', labels: {} },
  lakehose_wal_bytes: { type: 'gauge', labels: {} },
  lakehose_wal_disk_free_bytes: { type: 'gauge', labels: {} },
  lakehose_wal_segments_kept_aside: { type: 'gauge', labels: {} },
  lakehose_wal_min_free_bytes: { type: 'gauge', labels: {} },
  lakehose_dlq_depth: { type: 'gauge', labels: { kind: DLQ_KIND } },
  lakehose_dlq_oldest_entry_age_seconds: { type: 'gauge', labels: {} },
  lakehose_dlq_damaged_entries: { type: 'gauge', labels: {} },
  lakehose_dlq_backlog_bytes: { type: 'gauge', labels: {} },
  lakehose_delivery_oldest_sealed_age_seconds: { type: 'gauge', labels: {} },
  lakehose_destination_down: { type: 'gauge', labels: { destination: DESTINATION }, s3Only: true },
  lakehose_destination_outage_seconds: { type: 'gauge', labels: { destination: DESTINATION }, s3Only: true },
  lakehose_iceberg_last_commit_age_seconds: { type: 'gauge', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_iceberg_snapshots: { type: 'gauge', labels: { pipeline: PIPELINE }, tableOnly: true },
  lakehose_build_info: { type: 'gauge', labels: { version: null } },
  lakehose_grpc_listener_accepting: { type: 'gauge', labels: {} },
  lakehose_inflight_bytes: { type: 'gauge', labels: {} },
  // histograms (_bucket, _sum, _count)
  lakehose_request_duration_seconds: { type: 'histogram', labels: { rpc: null } },
  lakehose_request_records: { type: 'histogram', labels: { rpc: null } },
  lakehose_object_bytes: { type: 'histogram', labels: { pipeline: PIPELINE } },
  lakehose_s3_request_duration_seconds: { type: 'histogram', labels: { operation: S3_OPERATION } },
};

// Labels every series may carry besides its own: added by Prometheus (job, instance) or
// by the example relabelling (namespace, pod); `le` is checked separately (buckets only).
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod'];

// Series that are not lakehose's own but that the alert rules may use.
export const PROMETHEUS_SERIES = ['up'];

// Resolves a series name to its family: {family, spec, suffix} or null. A histogram is
// only used through _bucket, _sum and _count.
export function resolveSeries(name) {
  if (METRIC_FAMILIES[name] && METRIC_FAMILIES[name].type !== 'histogram') {
    return { family: name, spec: METRIC_FAMILIES[name], suffix: '' };
  }
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const family = name.slice(0, -suffix.length);
    if (METRIC_FAMILIES[family]?.type === 'histogram') return { family, spec: METRIC_FAMILIES[family], suffix };
  }
  return null;
}

// Strips PromQL string literals ("...", '...', `...`), so names inside label values or
// regexes are not taken for metric names.
function withoutStrings(expr) {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}

// Checks one PromQL expression against the list. Returns a list of problems (empty: ok):
// every `lakehose_*` name must resolve to a listed family; every selector's label
// matchers must name a label of that family (or a target label, or `le` on buckets), and
// equality matchers on enumerated labels must use a listed value.
export function checkExpr(expr) {
  const problems = [];
  const bare = withoutStrings(expr);
  const names = new Set(bare.match(/\blakehose_[a-zA-Z0-9_]*/g) ?? []);
  if (names.size === 0 && !PROMETHEUS_SERIES.some((s) => new RegExp(`\\b${s}\\b`).test(bare))) {
    problems.push('references no lakehose metric');
  }
  for (const name of names) {
    if (!resolveSeries(name)) problems.push(`unknown metric ${name}`);
  }
  // selectors: name{matchers}
  const selector = /\b(lakehose_[a-zA-Z0-9_]*)\s*\{([^}]*)\}/g;
  for (const m of expr.matchAll(selector)) {
    const r = resolveSeries(m[1]);
    if (!r) continue;
    const matcher = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
    for (const mm of m[2].matchAll(matcher)) {
      const [, label, op, value] = mm;
      if (label === 'le' && r.suffix === '_bucket') continue;
      if (TARGET_LABELS.includes(label)) continue;
      if (!(label in r.spec.labels)) {
        problems.push(`${m[1]} has no label ${label}`);
        continue;
      }
      const allowed = r.spec.labels[label];
      if (allowed === null || value.includes('$')) continue;  // any value, or a Grafana variable
      const values = op === '=' || op === '!=' ? [value] : (/^[A-Za-z0-9_|]+$/.test(value) ? value.split('|') : []);
      for (const v of values) {
        if (!allowed.includes(v)) problems.push(`${m[1]}{${label}}: "${v}" is not one of ${allowed.join(', ')}`);
      }
    }
  }
  return problems;
}
