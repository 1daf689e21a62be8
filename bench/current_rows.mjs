// bench/run.sh's current-state rows (issue 17, "Scale"): one stream of DynamoDB changes
// Ingested over gRPC into a `mode: current` Iceberg table, and the same stream into a
// `mode: changelog` table in the same run (the peer: what the key index, the position
// deletes and the ordering cost on top of a change log).
//
//   node bench/current_rows.mjs --server PATH/lakehose-server --cli PATH/lakehose
//        --load PATH/grpc_load --work DIR [--items 1000000] [--changes 5000000]
//        [--only REGEX] [--probes 10] [--commit-interval-s 5] [--streams 4]
//
// The stream (deterministic, seed 17): --items INSERTs of keys item-0000000.., then
// MODIFYs and REMOVEs (and INSERTs of removed keys) of uniformly chosen keys until
// --changes records in all (the INSERTs count). Lambda-shape DynamoDB Streams records,
// StreamViewType NEW_IMAGE, SequenceNumber increasing through the file; 5% of the MODIFYs
// move the item to another region; 30% of the REMOVEs are TTL deletions. About 330 bytes
// a record. The generator keeps each key's state, so it knows how many items are live at
// the end.
//
// The pipeline: input dynamodb-stream, image new, partition key region (the table's
// identity(region) partition), zstd Parquet on the file destination (file-system
// catalog); mode current: identifier [pk], pk declared string, required. Buffers seal at
// 32 MB or 5 s, commits every --commit-interval-s: one snapshot every few seconds, each
// with a few hundred thousand changes.
//
// The client: bench/grpc_load (requests serialised up front, sent as raw bytes), batches of
// 500 in file order, --streams concurrent calls over 2 connections, then Flush (every
// object stored and committed): changes/s is the whole stream acked and committed. Batches
// in flight at once may be applied out of order for a key: the older change is dropped as
// stale (counted); the table's final state is each key's latest change either way.
// Then --probes Flush probes (grpc_load --probes-only): 500 MODIFYs of live keys, newer
// than the whole stream, Ingested and then Flushed, the Flush timed: the latency of a
// small commit against the full index.
//
// Rows (one JSON object per line on stdout; a row that fails prints {"row","error"}):
//   current_table       the stream into the mode: current table
//   current_changelog   the same stream into a mode: changelog table
//   current_compact     maintenance of the table current_table left (selecting it runs
//                       current_table too; described below)
// Each: records (changes sent), bytes, seconds (Ingest of the whole stream + the final
// Flush), flush_seconds, server/client CPU seconds, commits (lakehose_iceberg_commits_total),
// commit_gap_ms (intervals between successive iceberg.committed log lines during the run:
// with commits due every interval, a gap above it is the committer busy on the previous
// commit), commit_publish_ms (log time of iceberg.committed minus the snapshot's
// timestamp-ms: writing the metadata and applying the index after the plan), commit_phases
// (current: per commit of the run, from its files' times: plan, delete files + index delta,
// manifests + metadata, index update), probe_flush_ms,
// table_data_bytes / files, table_delete_bytes / files (position delete files),
// table_metadata_bytes (index deltas apart: index_delta_bytes), position_deletes,
// changes_applied / stale / superseded (metrics), ttl_deletes, index_bytes (du of
// <data_dir>/index/<pipeline> after the server stopped), live_expected, live_in_table.
// Correctness, checked at the end, cheaply: `lakehose table inspect --json`'s records
// (rows in live data files) minus the snapshot's total-position-deletes must equal the
// generator's live items (current), and records must equal the changes sent (changelog);
// every change must be counted applied, stale or superseded. Otherwise the row is an error.
//
// current_compact, after current_table's run (its server stopped, the table as the stream
// and the probes left it; README "Current-state tables", "Maintenance"), in order:
//   1. the table before: the current snapshot's live data files and position delete files
//      (from its manifests; `table inspect --json` for the metadata and the totals);
//      DuckDB (@duckdb/node-api, from tests/node_modules) reads its live rows: one query,
//      read_parquet of the live data files with file_row_number, anti-joined with the
//      delete files' (file_path, pos), as tests/lib/iceberg.mjs's liveRowsWithDuckDB
//      applies them; every column read (count, count of distinct pk, the sum of the rows'
//      hashes as a fingerprint); one untimed read, then the fastest of 5 (and their median);
//   2. `lakehose table compact --json` (default --min-deleted 0.2), wall seconds and its
//      counts; the table and DuckDB's read again (read_ratio = before / after: what the
//      deletes cost a reader); `compact --dry-run --json` must then find nothing to do;
//   3. `lakehose table reindex` (from every snapshot's index delta), timed;
//   4. `lakehose table expire --older-than 0s --retain-last 1 --list --json`, timed, its
//      counts (a checkpoint of the key index first); the files it lists are deleted, as a
//      user would, unless one of them is named by the kept snapshot (its manifest list,
//      manifests, data and delete files, index delta, or the checkpoint);
//   5. `lakehose table reindex` again (from the checkpoint), timed;
//   6. the server again on the rebuilt index: --probes more Flush probes (500 MODIFYs of
//      live keys spread over the key range, so over the rewritten files), timed, then the
//      table read again.
// Reported: compact_seconds, compact (its JSON), compact_rewritten_bytes, before / after
// (data_files, data_rows, data_bytes, delete_files, delete_bytes, position_deletes,
// snapshots), read_before_seconds, read_after_seconds (fastest), read_before/after_median_seconds,
// read_ratio (of the fastest), live_before / after,
// reindex_deltas_seconds (and _snapshots), expire_seconds, expire (its JSON),
// snapshots_after_expire, listed_files_deleted, listed_bytes_deleted,
// reindex_checkpoint_seconds, index_bytes (the index as rebuilt), restart_seconds (the
// server's start on it, to its port files, polled every 50 ms), probe_after_flush_ms,
// live_after_probes. Checked (the row is an error otherwise): DuckDB's live rows and
// distinct keys before, after, and after the probes equal the generator's live items, and
// so does records - total-position-deletes; the fingerprint is the same before and after
// (compaction kept the rows' values); compact's counts agree with the manifests (files
// removed and added, rows kept and dropped, position deletes removed; keys moved = rows
// kept); expire leaves one snapshot and names a checkpoint, lists as many files as it
// counts, none of them one the kept snapshot needs, and reindex then says it
// started from it; every probe is applied and deletes exactly one row (the rebuilt index
// points at the compacted rows).

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { decodeAvro, localPath } from '../tests/lib/iceberg.mjs';

// DuckDB from the suites' node_modules (tests/package.json), as tests/lib does.
const { DuckDBInstance } = createRequire(new URL('../tests/package.json', import.meta.url))('@duckdb/node-api');

const { values: opt } = parseArgs({
  options: {
    server: { type: 'string' }, cli: { type: 'string' }, load: { type: 'string' }, work: { type: 'string' },
    items: { type: 'string', default: '1000000' }, changes: { type: 'string', default: '5000000' },
    only: { type: 'string', default: '.' }, probes: { type: 'string', default: '10' },
    'commit-interval-s': { type: 'string', default: '5' }, streams: { type: 'string', default: '4' },
  },
});
if (!opt.server || !opt.cli || !opt.load || !opt.work) {
  console.error('usage: current_rows.mjs --server PATH --cli PATH --load PATH --work DIR [--items N] [--changes N] [--only REGEX]');
  process.exit(2);
}
const ITEMS = Number(opt.items);
const CHANGES = Number(opt.changes);
const PROBES = Number(opt.probes);
const BATCH = 500;
if (!(ITEMS >= 1 && CHANGES >= ITEMS)) {
  console.error('current_rows.mjs: need 1 <= --items <= --changes');
  process.exit(2);
}
const only = new RegExp(opt.only);
const log = (m) => process.stderr.write(`bench/current_rows: ${m}\n`);
const RUN_MS = 60 * 60_000;  // one row's whole run (Ingest + Flush), at most
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1', 'sa-east-1'];
const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2026-12-07T00:00:00.000';
const T0 = 1_765_000_000;  // the stream's first ApproximateCreationDateTime (s)

// mulberry32: small, fast, the same stream for the same seed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keyOf = (k) => `item-${String(k).padStart(7, '0')}`;
// 21 digits, increasing with i, as DynamoDB's are: compared as numbers.
const seqOf = (i) => `1${String(i).padStart(20, '0')}`;

function record(i, op, k, region, v, ttl) {
  const pk = keyOf(k);
  const t = T0 + Math.floor(i / 1000);
  const keys = `{"pk":{"S":"${pk}"}}`;
  const image = op === 'REMOVE' ? ''
    : `,"NewImage":{"pk":{"S":"${pk}"},"region":{"S":"${region}"},"v":{"N":"${v}"},` +
      `"name":{"S":"name ${v % 997} of ${pk}"},"updatedAt":{"N":"${t * 1000 + (i % 1000)}"}}`;
  const who = ttl ? ',"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}' : '';
  return `{"eventID":"${i.toString(16).padStart(32, '0')}","eventName":"${op}","eventVersion":"1.1",` +
    `"eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":${t},` +
    `"Keys":${keys}${image},"SequenceNumber":"${seqOf(i)}","SizeBytes":${op === 'REMOVE' ? 30 : 120},` +
    `"StreamViewType":"NEW_IMAGE"}${who},"eventSourceARN":"${ARN}"}\n`;
}

// Writes the stream and the probes; returns what the table must hold at the end.
function generate(streamPath, probePath) {
  const next = rng(17);
  const live = new Uint8Array(ITEMS);  // 1 live
  const regionOf = new Uint8Array(ITEMS);
  let liveCount = 0;
  const counts = { INSERT: 0, MODIFY: 0, REMOVE: 0, ttl: 0, moves: 0 };
  const fd = openSync(streamPath, 'w');
  let chunk = '';
  let bytes = 0;
  const out = (s) => {
    chunk += s;
    if (chunk.length > 1 << 20) { bytes += writeSync(fd, chunk); chunk = ''; }
  };
  for (let i = 0; i < CHANGES; i++) {
    if (i < ITEMS) {
      regionOf[i] = i % REGIONS.length;
      live[i] = 1;
      liveCount++;
      counts.INSERT++;
      out(record(i, 'INSERT', i, REGIONS[regionOf[i]], i, false));
      continue;
    }
    const k = Math.floor(next() * ITEMS);
    const r = next();
    if (!live[k]) {
      live[k] = 1;
      liveCount++;
      counts.INSERT++;
      out(record(i, 'INSERT', k, REGIONS[regionOf[k]], i, false));
    } else if (r < 0.9) {
      if (r < 0.045) { regionOf[k] = (regionOf[k] + 1) % REGIONS.length; counts.moves++; }
      counts.MODIFY++;
      out(record(i, 'MODIFY', k, REGIONS[regionOf[k]], i, false));
    } else {
      live[k] = 0;
      liveCount--;
      counts.REMOVE++;
      const ttl = r >= 0.97;
      if (ttl) counts.ttl++;
      out(record(i, 'REMOVE', k, '', 0, ttl));
    }
  }
  bytes += writeSync(fd, chunk);
  closeSync(fd);
  // Probes: PROBES batches of MODIFYs of live keys, newer than the whole stream; the
  // live count does not change.
  let p = '';
  let i = CHANGES;
  for (let k = 0; k < ITEMS && i < CHANGES + PROBES * BATCH; k++) {
    if (!live[k]) continue;
    p += record(i, 'MODIFY', k, REGIONS[regionOf[k]], i, false);
    i++;
  }
  writeFileSync(probePath, p);
  // The probes after compaction (current_compact): as many MODIFYs, newer still, of live
  // keys spread over the key range (so over the rewritten files), each key once.
  const probeRecords = i - CHANGES;
  const stride = Math.max(1, Math.floor(liveCount / Math.max(1, PROBES * BATCH)));
  let q = '';
  for (let k = 0, seen = 0; k < ITEMS && i < CHANGES + 2 * probeRecords; k++) {
    if (!live[k] || seen++ % stride !== 0) continue;
    q += record(i, 'MODIFY', k, REGIONS[regionOf[k]], i, false);
    i++;
  }
  writeFileSync(`${probePath}.after`, q);
  return { live: liveCount, bytes, counts, probeRecords, probeAfterRecords: i - CHANGES - probeRecords };
}

function config(dir, name, mode) {
  const iceberg = mode === 'current'
    ? `{ table: bench.items, mode: current, identifier: [pk], commit_interval_s: ${opt['commit-interval-s']},
                 schema: [{ name: pk, type: string, required: true }] }`
    : `{ table: bench.items, commit_interval_s: ${opt['commit-interval-s']},
                 schema: [{ name: pk, type: string, required: true }] }`;
  const path = join(dir, 'config.yaml');
  writeFileSync(path, `server:
  grpc_listen: 127.0.0.1:0
  metrics_listen: 127.0.0.1:0
  data_dir: ${JSON.stringify(join(dir, 'data'))}
  writer_id: bench
  shutdown_grace_s: 60
  buffer_budget_mb: 512
  limits: { max_message_bytes: 67108864 }
pipelines:
  - name: ${name}
    input: dynamodb-stream
    image: new
    partition_keys:
      region: { attribute: region }
    destination:
      kind: file
      path: ${JSON.stringify(join(dir, 'lake'))}
      format: iceberg
      compression: zstd
      buffering: { size_mb: 32, interval_s: 5 }
      iceberg: ${iceberg}
`);
  return path;
}

// Runs a command to its end; resolves {code, signal, stdout, stderr}.
function run(cmd, args, { timeoutMs = RUN_MS } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolvePromise({ code, signal, stdout, stderr }); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(dir, cfg) {
  // A previous run's port files would name its ports (current_compact starts the server again).
  for (const f of ['port', 'metrics_port']) rmSync(join(dir, f), { force: true });
  const logFd = openSync(join(dir, 'server.log'), 'w');
  const child = spawn(opt.server, ['--config', cfg, '--listen', '127.0.0.1:0', '--port-file', join(dir, 'port'),
    '--metrics-port-file', join(dir, 'metrics_port')], { cwd: dir, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = false;
  const done = new Promise((r) => child.on('exit', () => { exited = true; r(); }));
  for (let n = 0; n < 400 && !exited; n++) {
    try {
      const port = readFileSync(join(dir, 'port'), 'utf8').trim();
      const metrics = readFileSync(join(dir, 'metrics_port'), 'utf8').trim();
      if (port && metrics) return { child, done, port, metrics };
    } catch { /* not yet */ }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start: ${readFileSync(join(dir, 'server.log'), 'utf8').slice(-500)}`);
}

async function stopServer(s) {
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 120_000);
  await s.done;
  clearTimeout(timer);
}

// The pipeline's series of `lakehose_iceberg_*` and `lakehose_ttl_*`: {name or name{result}: value}.
async function scrape(port, pipeline) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = {};
  for (const line of text.split('\n')) {
    const x = /^(lakehose_(?:iceberg|ttl)_\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!x || !x[2].includes(`pipeline="${pipeline}"`)) continue;
    const result = /result="([^"]+)"/.exec(x[2]);
    m[result ? `${x[1]}{${result[1]}}` : x[1]] = Number(x[3]);
  }
  return m;
}

function files(dir) {
  const out = [];
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...files(p));
    } else {
      const st = statSync(p);
      out.push({ path: p, name: e.name, size: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}
const sum = (fs) => fs.reduce((n, f) => n + f.size, 0);
const quantile = (xs, q) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

function emit(row) { process.stdout.write(`${JSON.stringify(row)}\n`); }
function fail(row, error) {
  log(`${row} FAILED: ${error}`);
  emit({ row, error: String(error).replace(/\s+/g, ' ').slice(0, 400) });
}

async function modeRow(row, mode, streamPath, probePath, expect) {
  const dir = join(opt.work, row);
  mkdirSync(dir, { recursive: true });
  const pipeline = mode === 'current' ? 'current' : 'changelog';
  const cfg = config(dir, pipeline, mode);
  log(`${row}: ${CHANGES.toLocaleString()} changes (${ITEMS.toLocaleString()} items) into mode: ${mode}`);
  const server = await startServer(dir, cfg);
  let r;
  let metrics;
  let probe = null;
  let runEndMs;
  try {
    const load = await run(opt.load, ['--target', `127.0.0.1:${server.port}`, '--input', streamPath, '--rpc', 'ingest',
      '--pipeline', pipeline, '--batch', String(BATCH), '--streams', opt.streams, '--channels', '2', '--passes', '1',
      '--flush', '--server-pid', String(server.child.pid)]);
    runEndMs = Date.now();
    if (load.code !== 0) throw new Error(`grpc_load: ${load.stderr.trim().split('\n').at(-1)}`);
    r = JSON.parse(load.stdout);
    metrics = await scrape(server.metrics, pipeline);
    if (PROBES > 0) {
      const p = await run(opt.load, ['--target', `127.0.0.1:${server.port}`, '--input', probePath, '--rpc', 'ingest',
        '--pipeline', pipeline, '--batch', String(BATCH), '--probes-only', '--flush-probes', String(PROBES)]);
      if (p.code !== 0) throw new Error(`flush probes: ${p.stderr.trim().split('\n').at(-1)}`);
      probe = JSON.parse(p.stdout).probe_flush_ms;
    }
  } finally {
    await stopServer(server);
  }
  const after = probe ? expect.probeRecords : 0;

  // The table on disk: data files, position delete files, metadata (index deltas apart).
  const lake = files(join(dir, 'lake'));
  const parquet = lake.filter((f) => f.name.endsWith('.parquet'));
  const deletes = parquet.filter((f) => f.name.includes('-deletes-'));
  const data = parquet.filter((f) => !f.name.includes('-deletes-'));
  const metadata = lake.filter((f) => !f.name.endsWith('.parquet'));
  const deltas = metadata.filter((f) => f.name.startsWith('index-delta-'));
  const index = files(join(dir, 'data', 'index', pipeline));

  const inspect = await run(opt.cli, ['table', 'inspect', '--config', cfg, '--pipeline', pipeline, '--json'],
    { timeoutMs: 300_000 });
  if (inspect.code !== 0) throw new Error(`lakehose table inspect: ${inspect.stderr.trim()}`);
  const table = JSON.parse(inspect.stdout);
  const snaps = new Map(table.snapshots.map((s) => [String(s.snapshot_id), s]));
  const current = snaps.get(String(table.current_snapshot_id));
  const totalDeletes = Number(current?.summary['total-position-deletes'] ?? 0);

  // Commits during the run (before the probes), from the server's log.
  const committed = [];
  for (const line of readFileSync(join(dir, 'server.log'), 'utf8').split('\n')) {
    if (!line.includes('"iceberg.committed"')) continue;
    const e = JSON.parse(line);
    const t = Date.parse(e.time);
    if (t > runEndMs) continue;
    const snap = snaps.get(e.snapshot_id);
    committed.push({ t, publish: snap ? t - snap.timestamp_ms : null, snapshot: e.snapshot_id, version: e.version,
      records: Number(e.records) });
  }
  const gaps = committed.slice(1).map((c, i) => c.t - committed[i].t);
  // Where each commit's time went, from the times its files were written (the end of
  // each write): from the previous commit's end to its first position delete file (the
  // plan: the batch's changes against the key index; when commits run back to back, as
  // under this load, the committer starts the next at once), then the delete files and
  // the index delta, then the manifests and the metadata (the catalog commit), then the
  // key index's update (the iceberg.committed line comes after it).
  const mtime = new Map(lake.map((f) => [f.name, f.mtimeMs]));
  const phases = [];
  for (let i = 0; i < committed.length; i++) {
    const c = committed[i];
    const dels = deletes.filter((f) => f.name.includes(`-deletes-${c.snapshot}-`)).map((f) => f.mtimeMs);
    const delta = mtime.get(`index-delta-${c.snapshot}.bin`);
    const meta = mtime.get(`v${c.version}.metadata.json`);
    if (delta === undefined || meta === undefined) continue;
    const first = dels.length ? Math.min(...dels) : delta;
    phases.push({
      records: c.records,
      plan_ms: i > 0 ? Math.round(first - committed[i - 1].t) : null,
      deletes_and_delta_ms: Math.round(delta - first),
      manifests_and_metadata_ms: Math.round(meta - delta),
      index_apply_ms: Math.round(c.t - meta),
    });
  }
  const publish = committed.map((c) => c.publish).filter((x) => x !== null);

  const out = {
    row, mode, items: ITEMS, records: r.records, bytes: r.bytes, seconds: r.seconds, flush_seconds: r.flush_seconds,
    server_cpu_seconds: r.server_cpu_seconds, client_cpu_seconds: r.client_cpu_seconds,
    server_hwm_kb: r.server_hwm_kb, resource_exhausted: r.resource_exhausted, streams: r.streams, batch: r.batch,
    commit_interval_s: Number(opt['commit-interval-s']),
    commits: metrics.lakehose_iceberg_commits_total ?? null, commits_logged: committed.length,
    commit_gap_ms: { p50: quantile(gaps, 0.5), p90: quantile(gaps, 0.9), max: quantile(gaps, 1) },
    commit_publish_ms: { p50: quantile(publish, 0.5), max: quantile(publish, 1) },
    commit_phases: mode === 'current' ? phases : null,
    probe_flush_ms: probe,
    table_data_bytes: sum(data), table_data_files: data.length,
    table_delete_bytes: sum(deletes), table_delete_files: deletes.length,
    table_metadata_bytes: sum(metadata) - sum(deltas), index_delta_bytes: sum(deltas),
    snapshots: table.snapshots.length,
    position_deletes: metrics.lakehose_iceberg_position_deletes_total ?? null,
    changes_applied: metrics['lakehose_iceberg_changes_total{applied}'] ?? null,
    changes_stale: metrics['lakehose_iceberg_changes_total{stale}'] ?? null,
    changes_superseded: metrics['lakehose_iceberg_changes_total{superseded}'] ?? null,
    ttl_deletes: metrics.lakehose_ttl_deletes_total ?? null,
    index_bytes: mode === 'current' ? sum(index) : null,
    table_records: table.records, total_position_deletes: totalDeletes,
    live_expected: mode === 'current' ? expect.live : CHANGES + after,
    live_in_table: table.records - totalDeletes,
    stream: expect.counts,
  };
  // The cheap end-to-end check: the table holds what the generator says, and every change
  // was accounted for.
  const problems = [];
  if (r.records !== CHANGES) problems.push(`acked ${r.records} of ${CHANGES} changes`);
  if (out.live_in_table !== out.live_expected) {
    problems.push(`table has ${out.live_in_table} live rows (${table.records} records - ${totalDeletes} position deletes), ` +
      `the stream leaves ${out.live_expected}`);
  }
  if (mode === 'current') {
    const counted = out.changes_applied + out.changes_stale + out.changes_superseded;
    // The metrics were read before the probes.
    if (counted !== CHANGES) problems.push(`applied + stale + superseded = ${counted}, ${CHANGES} changes sent`);
    if (totalDeletes !== out.position_deletes + (probe ? after : 0)) {
      problems.push(`snapshot total-position-deletes ${totalDeletes} vs metric ${out.position_deletes} + ${after} probes`);
    }
  }
  if (problems.length) {
    out.error = `CORRECTNESS: ${problems.join('; ')}`;
    log(`${row}: ${out.error}`);
  }
  emit(out);
  return { dir, cfg, pipeline };
}

// ---- current_compact: maintenance of the table current_table left -----------------------

// `lakehose table ...` on the row's table, timed (wall). Resolves {seconds, stdout, json
// (the last stdout line parsed, with --json)}; throws on a failure.
async function cli(t, verb, args, { json = true } = {}) {
  const t0 = process.hrtime.bigint();
  const r = await run(opt.cli, ['table', verb, '--config', t.cfg, '--pipeline', t.pipeline, ...args], { timeoutMs: RUN_MS });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.code !== 0) {
    throw new Error(`lakehose table ${verb} ${args.join(' ')}: exit ${r.code ?? r.signal}: ` +
      `${r.stderr.trim().split('\n').at(-1)}`);
  }
  return { seconds, stdout: r.stdout, json: json ? JSON.parse(r.stdout.trim().split('\n').at(-1)) : null };
}

// The table's current snapshot as `table inspect --json` and its manifests give it: the
// live data files and position delete files (local paths, rows), the summary's totals,
// the snapshots in the metadata.
async function tableState(t) {
  const table = (await cli(t, 'inspect', ['--json'])).json;
  const meta = JSON.parse(readFileSync(localPath(table.metadata_location), 'utf8'));
  const snap = meta.snapshots.find((x) => String(x['snapshot-id']) === String(meta['current-snapshot-id']));
  const data = [];
  const deletes = [];
  // Every file the snapshot needs: its manifest list, manifests, data and delete files,
  // its index delta, and the table's key index checkpoint.
  const named = new Set([snap['manifest-list'], snap.summary['lakehose.index-delta'],
    meta.properties?.['lakehose.index-checkpoint']].filter(Boolean));
  for (const m of (await decodeAvro(localPath(snap['manifest-list']))).records) {
    named.add(m.manifest_path);
    for (const e of (await decodeAvro(localPath(m.manifest_path))).records) {
      if (Number(e.status) === 2) continue;  // DELETED
      const f = {
        path: localPath(e.data_file.file_path), uri: e.data_file.file_path, rows: Number(e.data_file.record_count),
        size: Number(e.data_file.file_size_in_bytes),
      };
      named.add(f.uri);
      if (Number(e.data_file.content) === 0) data.push(f);
      else deletes.push(f);
    }
  }
  const summary = snap.summary;
  return {
    table, data, deletes, named, snapshots: meta.snapshots.length, records: table.records,
    positionDeletes: Number(summary['total-position-deletes'] ?? 0),
    summaryDataFiles: Number(summary['total-data-files'] ?? 0), summaryDeleteFiles: Number(summary['total-delete-files'] ?? 0),
  };
}

// The table's live rows as DuckDB reads them: every live data file (read_parquet, with
// file_row_number) but the rows the live position delete files name (an anti join on
// file_path, pos), as the suites' liveRowsWithDuckDB applies them, in one query. Every
// column is read (a fingerprint: the sum of the rows' hashes, equal iff compaction kept
// the rows' values, with overwhelming odds). One untimed read, then `reads` timed ones,
// rated by the fastest (on a shared machine noise only ever slows a read down): {seconds
// (fastest), median_seconds, rows, keys (distinct pk), fingerprint}.
async function readLive(conn, state, reads = 5) {
  const list = (fs) => `[${fs.map((f) => `'${f.path.replaceAll("'", "''")}'`).join(', ')}]`;
  // A table without delete files: an empty relation of the same columns.
  const dels = state.deletes.length
    ? `SELECT file_path, pos FROM read_parquet(${list(state.deletes)})`
    : 'SELECT NULL::VARCHAR AS file_path, NULL::BIGINT AS pos WHERE false';
  // filename is the local path; the delete files name file:// URIs (no escapes under the
  // bench's work directory: a mismatch would show as too many live rows).
  const sql = `SELECT count(*) AS n, count(DISTINCT pk) AS keys, CAST(sum(hash(t)) AS VARCHAR) AS fp FROM (
      SELECT d.* EXCLUDE (filename, file_row_number)
      FROM read_parquet(${list(state.data)}, filename = true, file_row_number = true, union_by_name = true) d
      ANTI JOIN (${dels}) x ON x.file_path = 'file://' || d.filename AND x.pos = d.file_row_number) t`;
  let got = null;
  const times = [];
  for (let i = 0; i <= reads; i++) {
    const t0 = process.hrtime.bigint();
    got = (await conn.runAndReadAll(sql)).getRowObjectsJson()[0];
    if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return {
    seconds: quantile(times, 0), median_seconds: quantile(times, 0.5), rows: Number(got.n), keys: Number(got.keys),
    fingerprint: got.fp,
  };
}

const shape = (s) => ({
  data_files: s.data.length, data_rows: s.data.reduce((n, f) => n + f.rows, 0), data_bytes: sum(s.data),
  delete_files: s.deletes.length, delete_bytes: sum(s.deletes), position_deletes: s.positionDeletes, snapshots: s.snapshots,
});

// After current_table (server stopped): compact, read before and after, reindex from the
// deltas, expire, reindex from the checkpoint, then the server again with probes.
async function compactRow(row, t, probePath, expect) {
  log(`${row}: compact, expire, reindex of ${t.dir}`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const problems = [];
    const before = await tableState(t);
    const readBefore = await readLive(conn, before);
    const compact = await cli(t, 'compact', ['--json']);
    const after = await tableState(t);
    const readAfter = await readLive(conn, after);
    const c = compact.json;

    for (const [when, s, read] of [['before', before, readBefore], ['after', after, readAfter]]) {
      if (read.rows !== expect.live || read.keys !== expect.live) {
        problems.push(`${when} compaction DuckDB reads ${read.rows} live rows, ${read.keys} keys; ` +
          `the stream leaves ${expect.live}`);
      }
      if (s.records - s.positionDeletes !== expect.live) {
        problems.push(`${when} compaction the table says ${s.records} records - ${s.positionDeletes} position deletes; ` +
          `the stream leaves ${expect.live}`);
      }
      if (s.summaryDataFiles !== s.data.length || s.summaryDeleteFiles !== s.deletes.length) {
        problems.push(`${when} compaction the summary counts ${s.summaryDataFiles} data / ${s.summaryDeleteFiles} ` +
          `delete files, the manifests ${s.data.length} / ${s.deletes.length}`);
      }
    }
    if (readBefore.fingerprint !== readAfter.fingerprint) problems.push('the live rows\' values changed (fingerprint)');
    // The compaction's counts against the manifests before and after.
    const was = new Map(before.data.map((f) => [f.uri, f]));
    const is = new Set(after.data.map((f) => f.uri));
    const removed = before.data.filter((f) => !is.has(f.uri));
    const added = after.data.filter((f) => !was.has(f.uri));
    const removedRows = removed.reduce((n, f) => n + f.rows, 0);
    const want = {
      data_files_rewritten: removed.length, data_files_added: added.length,
      rows_kept: added.reduce((n, f) => n + f.rows, 0), rows_dropped: removedRows - added.reduce((n, f) => n + f.rows, 0),
      position_deletes_removed: before.positionDeletes - after.positionDeletes,
    };
    for (const [k, v] of Object.entries(want)) if (c[k] !== v) problems.push(`compact says ${k} ${c[k]}, the manifests ${v}`);
    if (c.keys_moved !== c.rows_kept) problems.push(`compact moved ${c.keys_moved} keys for ${c.rows_kept} rows kept`);
    // Compacted, the table has no file at the threshold left (the deletes left point into
    // files below it).
    const again = (await cli(t, 'compact', ['--dry-run', '--json'])).json;
    if (again.data_files_rewritten !== 0) {
      problems.push(`compact --dry-run after compact would rewrite ${again.data_files_rewritten} files`);
    }

    const reindexDeltas = await cli(t, 'reindex', [], { json: false });
    const expire = await cli(t, 'expire', ['--older-than', '0s', '--retain-last', '1', '--list', '--json']);
    const expired = await tableState(t);
    // The files --list names (one URI a line before the JSON), deleted as a user would
    // (`xargs rm`) once none of them is one the kept snapshot names: the reindex, the
    // probes and the reads below then fail if one was still needed.
    const listed = expire.stdout.trim().split('\n').slice(0, -1).filter((l) => l.length > 0);
    const stillNamed = listed.filter((u) => expired.named.has(u));
    const outside = listed.filter((u) => !u.startsWith(`${expired.table.location}/`));
    let removedBytes = 0;
    if (listed.length !== expire.json.unreferenced_files) {
      problems.push(`expire --list printed ${listed.length} files, its JSON counts ${expire.json.unreferenced_files}`);
    }
    if (stillNamed.length || outside.length) {
      problems.push(`expire --list names ${stillNamed.length} files the kept snapshot names and ` +
        `${outside.length} outside the table ` +
        `(${[...stillNamed, ...outside].slice(0, 3).join(', ')}); nothing deleted`);
    } else {
      for (const u of listed) {
        const p = localPath(u);
        removedBytes += statSync(p).size;
        rmSync(p);
      }
    }
    if (expired.snapshots !== 1 || expire.json.snapshots_kept !== 1) {
      problems.push(`expire --retain-last 1 kept ${expire.json.snapshots_kept} (the metadata has ${expired.snapshots})`);
    }
    if (expire.json.snapshots_expired !== after.snapshots - 1) {
      problems.push(`expire expired ${expire.json.snapshots_expired} of ${after.snapshots} snapshots`);
    }
    if (!expire.json.checkpoint) problems.push('expire wrote no checkpoint');
    const reindexCheckpoint = await cli(t, 'reindex', [], { json: false });
    const indexBytes = sum(files(join(t.dir, 'data', 'index', t.pipeline)));  // as rebuilt
    if (!/from the checkpoint/.test(reindexCheckpoint.stdout)) {
      problems.push(`reindex after expire: ${reindexCheckpoint.stdout.trim()}`);
    }

    // The index rebuilt from the checkpoint points at the compacted rows: MODIFYs of live
    // keys each delete exactly the key's row (a wrong position would delete another key's
    // row or none), Flushed one batch at a time.
    let probe = null;
    let probed = null;
    let restartSeconds = null;
    if (PROBES > 0 && expect.probeAfterRecords > 0) {
      const t0 = process.hrtime.bigint();
      const server = await startServer(t.dir, t.cfg);
      restartSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let metrics;
      try {
        const p = await run(opt.load, ['--target', `127.0.0.1:${server.port}`, '--input', `${probePath}.after`, '--rpc', 'ingest',
          '--pipeline', t.pipeline, '--batch', String(BATCH), '--probes-only', '--flush-probes',
          String(Math.ceil(expect.probeAfterRecords / BATCH))]);
        if (p.code !== 0) throw new Error(`flush probes after compaction: ${p.stderr.trim().split('\n').at(-1)}`);
        probe = JSON.parse(p.stdout).probe_flush_ms;
        metrics = await scrape(server.metrics, t.pipeline);
      } finally {
        await stopServer(server);
      }
      probed = await tableState(t);
      const read = await readLive(conn, probed, 0);
      probed.read = read;
      const applied = metrics['lakehose_iceberg_changes_total{applied}'] ?? 0;
      if (applied !== expect.probeAfterRecords) problems.push(`probes after: ${applied} applied of ${expect.probeAfterRecords}`);
      if (read.rows !== expect.live || read.keys !== expect.live) {
        problems.push(`probes after: DuckDB reads ${read.rows} live rows, ${read.keys} keys; the stream leaves ${expect.live}`);
      }
      if (probed.positionDeletes !== after.positionDeletes + expect.probeAfterRecords) {
        problems.push(`probes after: ${probed.positionDeletes - after.positionDeletes} position deletes ` +
          `for ${expect.probeAfterRecords} MODIFYs`);
      }
    }

    const out = {
      row, items: ITEMS, records: CHANGES, live_expected: expect.live,
      compact_seconds: compact.seconds, compact: c, compact_rewritten_bytes: sum(removed),
      before: shape(before), after: shape(after),
      read_before_seconds: readBefore.seconds, read_after_seconds: readAfter.seconds,
      read_before_median_seconds: readBefore.median_seconds, read_after_median_seconds: readAfter.median_seconds,
      read_ratio: readAfter.seconds > 0 ? readBefore.seconds / readAfter.seconds : null,
      live_before: readBefore.rows, live_after: readAfter.rows,
      reindex_deltas_seconds: reindexDeltas.seconds, reindex_deltas_snapshots: after.snapshots,
      expire_seconds: expire.seconds, expire: expire.json, snapshots_after_expire: expired.snapshots,
      listed_files_deleted: stillNamed.length || outside.length ? 0 : listed.length, listed_bytes_deleted: removedBytes,
      reindex_checkpoint_seconds: reindexCheckpoint.seconds,
      index_bytes: indexBytes,
      restart_seconds: restartSeconds,
      probe_after_records: probe ? expect.probeAfterRecords : 0, probe_after_flush_ms: probe,
      live_after_probes: probed ? probed.read.rows : null,
    };
    if (problems.length) {
      out.error = `CORRECTNESS: ${problems.join('; ')}`;
      log(`${row}: ${out.error}`);
    }
    emit(out);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function main() {
  const compact = only.test('current_compact');
  // current_compact works on the table current_table leaves: it runs that row too.
  const rows = [['current_changelog', 'changelog'], ['current_table', 'current']]
    .filter(([r]) => only.test(r) || (compact && r === 'current_table'));
  if (rows.length === 0) return;
  mkdirSync(opt.work, { recursive: true });
  const streamPath = join(opt.work, 'stream.jsonl');
  const probePath = join(opt.work, 'probes.jsonl');
  const t0 = Date.now();
  const expect = generate(streamPath, probePath);
  log(`stream: ${CHANGES.toLocaleString()} records, ${(expect.bytes / 1e6).toFixed(0)} MB, ` +
    `${JSON.stringify(expect.counts)}, ${expect.live.toLocaleString()} live at the end ` +
    `(${((Date.now() - t0) / 1000).toFixed(1)} s to generate)`);
  let table = null;
  for (const [row, mode] of rows) {
    try {
      const t = await modeRow(row, mode, streamPath, probePath, expect);
      if (mode === 'current') table = t;
    } catch (e) {
      fail(row, e.message ?? e);
    }
  }
  if (!compact) return;
  try {
    if (!table) throw new Error('current_table left no table');
    await compactRow('current_compact', table, probePath, expect);
  } catch (e) {
    fail('current_compact', e.message ?? e);
  }
}

main().catch((e) => {
  log(e.stack ?? String(e));
  process.exit(1);
});
