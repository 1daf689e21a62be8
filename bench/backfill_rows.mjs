// bench/run.sh's backfill rows (issue 16): `lakehose backfill` from a DynamoDB export on
// local disk and from a parallel Scan of dynalite, beside the Node.js and Python peers
// doing the same conversion (bench/peers/backfill_node_peer.mjs, backfill_boto3_peer.py).
//
//   node bench/backfill_rows.mjs --cli PATH/TO/lakehose --work DIR [--items 20000]
//        [--only REGEX] [--python /usr/bin/python3] [--threads 2] [--segments 4]
//
// The items: makeItems(N, 7, {sortKey: true}) of tests/lib/ddb_export.mjs (every DynamoDB
// type, sets, binary, nested maps, 38-digit numbers; ~1.2 KB of DynamoDB JSON each). The
// export: a full export of them in 8 data files (writeExport, AWS's layout). The table:
// the same items loaded into dynalite (in this process) with BatchWriteItem. The pipeline:
// the embedded demo pipeline's keys and metadata (region default "unknown", date and hour
// of `timestamp` else the export/scan time), prefix backfill/..., into a file lake.
//
// Rows (one JSON object per line on stdout; a row that fails prints {"row","error"}):
//   backfill_export               lakehose backfill --export, gzip JSON Lines, --threads T
//   backfill_export_parquet       the same into zstd Parquet
//   backfill_export_node_peer     the Node.js peer, one thread
//   backfill_export_python_peer   the Python peer, one thread
//   backfill_scan                 lakehose backfill --scan of dynalite, S segments, S threads
//   backfill_scan_node_peer       the Node.js peer: S segments at once on one event loop
//   backfill_scan_python_peer     the Python peer: S segments in S threads
// Each row: records (items), bytes (the export's DynamoDB JSON, uncompressed: the same
// items for every row), seconds (wall, from spawn to exit: what a user waits for, start-up
// and imports included), cpu_seconds_process (user + system of the process), out_bytes
// (the lake's size on disk), objects, threads, source; lakehose's rows also elapsed_s (its
// summary's), the peers' convert_seconds (from after their imports to their last object).
// Each run has a lake and a data_dir (progress file) of its own, so nothing is skipped as
// done earlier.

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { makeItems, writeExport } from '../tests/lib/ddb_export.mjs';
import { DDB_CREDENTIALS, DDB_REGION, createTable, loadItems, startDynalite } from '../tests/lib/dynalite.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const TABLE = 'backfill_bench';
const RUN_MS = 10 * 60_000;

const { values: opt } = parseArgs({
  options: {
    cli: { type: 'string' }, work: { type: 'string' }, items: { type: 'string', default: '20000' },
    only: { type: 'string', default: '.' }, python: { type: 'string', default: '/usr/bin/python3' },
    threads: { type: 'string', default: '2' }, segments: { type: 'string', default: '4' },
  },
});
if (!opt.cli || !opt.work) {
  console.error('usage: backfill_rows.mjs --cli PATH --work DIR [--items N] [--only REGEX] [--threads T] [--segments S]');
  process.exit(2);
}
const ITEMS = Number(opt.items);
const THREADS = Number(opt.threads);
const SEGMENTS = Number(opt.segments);
const only = new RegExp(opt.only);
const want = (row) => only.test(row);
const log = (m) => process.stderr.write(`bench/backfill_rows: ${m}\n`);

// The scans' environment: dynalite's credentials and nothing else of AWS's.
const scanEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) scanEnv[k] = v;
Object.assign(scanEnv, {
  AWS_ACCESS_KEY_ID: DDB_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: DDB_CREDENTIALS.secretAccessKey,
  AWS_REGION: DDB_REGION, AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

// Runs a command; resolves {code, signal, stdout, stderr, seconds (wall), cpu (user + sys
// of the command and its children)}. Node does not expose a child's rusage, so the command
// runs under `bash -c '"$@"; times'`, whose last line is the shell's children's times.
function timed(cmd, args, { env = process.env } = {}) {
  return new Promise((resolvePromise) => {
    const start = process.hrtime.bigint();
    const child = spawn('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'bash', cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // `times`: the shell's user/sys, then its children's (the command's), "0m1.234s 0m0.056s".
      const lines = stderr.trimEnd().split('\n');
      const sec = (t) => { const m = /^(\d+)m([\d.]+)s$/.exec(t); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };
      const children = (lines.at(-1) ?? '').split(/\s+/).map(sec);
      resolvePromise({ code, signal, stdout, stderr: lines.slice(0, -2).join('\n'), seconds, cpu: children[0] + children[1] });
    });
  });
}

function duBytes(dir) {
  let n = 0;
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return 0; }
  for (const e of entries) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? duBytes(p) : statSync(p).size;
  }
  return n;
}

function config(dir, format, compression) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'lakehose.yaml');
  writeFileSync(path, `server:
  data_dir: ${JSON.stringify(join(dir, 'var'))}
pipelines:
  - name: backfill
    input: dynamodb-stream
    image: new-or-old
    metadata: [eventID, eventName, ApproximateCreationDateTime]
    numbers: number
    partition_keys:
      region: { attribute: region, default: unknown }
      date:   { timestamp: timestamp, unit: ms, format: "%Y-%m-%d", fallback: approximate_creation_time }
      hour:   { timestamp: timestamp, unit: ms, format: "%H", fallback: approximate_creation_time }
    prefix: "backfill/region=!{partitionKeyFromLambda:region}/date=!{partitionKeyFromLambda:date}/hour=!{partitionKeyFromLambda:hour}/"
    error_prefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    destination:
      kind: file
      path: ${JSON.stringify(join(dir, 'lake'))}
      format: ${format}
      compression: ${compression}
      buffering: { size_mb: 64, interval_s: 60 }
`);
  return path;
}

let sourceBytes = 0;

function emit(row) {
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

function fail(row, error) {
  log(`${row} failed: ${error}`);
  emit({ row, error: String(error).replace(/\s+/g, ' ').slice(0, 300) });
}

// lakehose backfill ... --json: checks the summary's counts, emits the row.
async function lakehoseRow(row, source, format, compression, extra, env) {
  log(row);
  const dir = join(opt.work, row);
  const cfg = config(dir, format, compression);
  const argv = ['backfill', '--config', cfg, '--pipeline', 'backfill', ...extra, '--json', '--progress-format', 'json'];
  const r = await timed(opt.cli, argv, { env });
  if (r.code !== 0) return fail(row, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr.slice(-300)}`);
  const s = JSON.parse(r.stdout);
  if (s.items !== ITEMS || s.records_ok !== ITEMS) return fail(row, `${s.items} items read, ${s.records_ok} written, want ${ITEMS}`);
  emit({
    row, source, records: s.items, bytes: sourceBytes, seconds: r.seconds, cpu_seconds_process: r.cpu,
    elapsed_s: s.elapsed_s, out_bytes: duBytes(join(dir, 'lake')), objects: s.objects_stored,
    threads: extra.includes('--scan') ? SEGMENTS : THREADS,
    ...(s.scan ? { scan: s.scan } : {}),
  });
}

async function peerRow(row, source, cmd, args, env, threads) {
  log(row);
  const out = join(opt.work, row, 'lake');
  const r = await timed(cmd, [...args, '--out', out], { env });
  if (r.code !== 0) return fail(row, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr.slice(-300)}`);
  const p = JSON.parse(r.stdout);
  if (p.records !== ITEMS) return fail(row, `${p.records} items converted, want ${ITEMS}`);
  emit({
    row, source, records: p.records, bytes: sourceBytes, seconds: r.seconds, cpu_seconds_process: r.cpu,
    convert_seconds: p.seconds, out_bytes: duBytes(out), objects: p.objects, threads,
  });
}

async function main() {
  mkdirSync(opt.work, { recursive: true });
  const items = makeItems(ITEMS, 7, { sortKey: true });
  const exp = await writeExport(join(opt.work, 'bucket'), { items, filesCount: 8, seed: 7 });
  sourceBytes = exp.summary.billedSizeBytes;
  log(`${ITEMS} items, export ${exp.exportId}: 8 data files, ${sourceBytes} bytes of DynamoDB JSON`);
  const nodePeer = join(HERE, 'peers', 'backfill_node_peer.mjs');
  const pyPeer = join(HERE, 'peers', 'backfill_boto3_peer.py');

  const exportArgs = ['--export', exp.exportDir, '--threads', String(THREADS)];
  if (want('backfill_export')) await lakehoseRow('backfill_export', 'export', 'jsonl', 'gzip', exportArgs);
  if (want('backfill_export_parquet')) await lakehoseRow('backfill_export_parquet', 'export', 'parquet', 'zstd', exportArgs);
  // [row suffix, interpreter, script] of the peers.
  const peers = [['node_peer', process.execPath, nodePeer], ['python_peer', opt.python, pyPeer]];
  for (const [suffix, cmd, script] of peers) {
    const row = `backfill_export_${suffix}`;
    if (want(row)) await peerRow(row, 'export', cmd, [script, '--export', exp.exportDir], process.env, 1);
  }

  const scanRows = ['backfill_scan', 'backfill_scan_node_peer', 'backfill_scan_python_peer'].filter(want);
  if (scanRows.length === 0) return;
  const ddb = await startDynalite();
  try {
    await createTable(ddb.endpoint, TABLE, ['pk', 'S'], ['sk', 'N']);
    const t0 = Date.now();
    await loadItems(ddb.endpoint, TABLE, items, { concurrency: 8 });
    log(`dynalite: ${ITEMS} items loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const seg = String(SEGMENTS);
    if (want('backfill_scan')) {
      await lakehoseRow('backfill_scan', 'dynalite', 'jsonl', 'gzip',
        ['--scan', '--table', TABLE, '--region', DDB_REGION, '--dynamodb-endpoint', ddb.endpoint,
          '--segments', seg, '--threads', seg], scanEnv);
    }
    for (const [suffix, cmd, script] of peers) {
      const row = `backfill_scan_${suffix}`;
      const argv = [script, '--scan', '--endpoint', ddb.endpoint, '--table', TABLE, '--segments', seg];
      if (want(row)) await peerRow(row, 'dynalite', cmd, argv, scanEnv, SEGMENTS);
    }
  } finally {
    await ddb.close();
  }
}

main().catch((e) => {
  log(e.stack ?? String(e));
  process.exit(1);
});
