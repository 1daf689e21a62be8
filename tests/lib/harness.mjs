// Shared pieces of the durability tests (crash.test.mjs, faults.test.mjs, disk_full.mjs):
// the server process with its structured log, a Node gRPC client that loads proto/ itself,
// a sender that records which eventIDs were acknowledged, configs, and a lake reader that
// counts every `_eventID` (files directly, S3 through s3rver) and cross-checks with DuckDB.
//
// Every wait here is bounded; nothing is retried silently.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DuckDBInstance } from '@duckdb/node-api';

import { TEST_CREDENTIALS, TEST_REGION, prng, xmlTags } from './s3_front.mjs';

export { TEST_CREDENTIALS, TEST_REGION };

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROTO_DIR = resolve(HERE, '../../proto');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const tail = (s, n = 40) => s.split('\n').slice(-n).join('\n');

// mulberry32 (seeded, so that a run's kill moments can be replayed with --seed): the
// front's own.
export { prng };

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Runs a program to completion, bounded. Resolves {code, signal, stdout (Buffer), stderr}.
export function run(bin, argv, { timeoutMs = 60_000, env } = {}) {
  return new Promise((resolveP, reject) => {
    const child = spawn(bin, argv, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let stderr = '';
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => { stderr += c; if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19)); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} ${argv.join(' ')}: no exit after ${timeoutMs} ms\n${tail(stderr)}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolveP({ code, signal, stdout: Buffer.concat(out), stderr }); });
  });
}

// `lakehose generate`: {lines, ids} (ids[i] is the eventID of lines[i]).
export async function generate(cli, records, seed, workload = 'transactions') {
  const r = await run(cli, ['generate', '--workload', workload, '--records', String(records), '--seed', String(seed)], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `lakehose generate failed: ${r.stderr}`);
  const lines = r.stdout.toString('utf8').split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, records, 'lakehose generate: one line per record');
  const ids = lines.map((l) => JSON.parse(l).eventID);
  for (const id of ids) assert.ok(typeof id === 'string' && id.length > 0, 'generated record without eventID');
  return { lines, ids };
}

// ---- the server ------------------------------------------------------------------------

// lakehose-server: its whole output appended to `logFile`, the JSON log events parsed
// (this.events: [{event, level, ...fields}]), its exit.
export class ServerProcess {
  constructor(bin, { dir, configPath, env, logFile, name = 'server' }) {
    this.name = name;
    this.portFile = join(dir, `${name}.port`);
    this.metricsPortFile = join(dir, `${name}.metrics_port`);
    rmSync(this.portFile, { force: true });
    rmSync(this.metricsPortFile, { force: true });
    this.logFile = logFile ?? join(dir, `${name}.log`);
    this.output = '';
    this.events = [];
    this.exit = null;
    this.startedAt = Date.now();
    this.child = spawn(bin, ['--config', configPath, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0',
      '--metrics-port-file', this.metricsPortFile, '--port-file', this.portFile], {
      cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    appendFileSync(this.logFile, `---- ${new Date().toISOString()} ${name} pid ${this.pid} started\n`);
    let partial = '';
    const keep = (c) => {
      const s = c.toString('utf8');
      appendFileSync(this.logFile, s);
      this.output += s;
      if (this.output.length > 256 * 1024) this.output = this.output.slice(-128 * 1024);
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try { this.events.push(JSON.parse(line)); } catch { /* not a log line */ }
      }
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((r) => {
      // 'close': the process has exited and its output has been read to the end.
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        appendFileSync(this.logFile, `---- ${new Date().toISOString()} ${name} pid ${this.pid} exited ${JSON.stringify(this.exit)}\n`);
        r(this.exit);
      });
      this.child.on('error', (err) => { this.exit = { code: null, signal: null, error: err.message }; r(this.exit); });
    });
  }

  running() { return this.exit === null; }

  tail(n = 40) { return tail(this.output, n); }

  eventsNamed(name) { return this.events.filter((e) => e.event === name); }

  // Resolves the events named `name` once there is one (the log reaches us through a
  // pipe, possibly after the port file), or [] after timeoutMs or when the server exits.
  async waitForEvent(name, timeoutMs = 5_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.eventsNamed(name);
      if (found.length > 0 || Date.now() >= end) return found;
      if (!this.running()) { await sleep(50); return this.eventsNamed(name); }
      await sleep(20);
    }
  }

  async waitForPort(timeoutMs = 20_000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (!this.running()) throw new Error(`lakehose-server exited (${JSON.stringify(this.exit)}) before writing its port file:\n${this.tail()}`);
      if (existsSync(this.portFile)) {
        const m = /^(\d+)\n$/.exec(readFileSync(this.portFile, 'utf8'));
        if (m) {
          this.port = Number(m[1]);
          this.target = `127.0.0.1:${this.port}`;
          // Written before the port file.
          this.metricsPort = Number(readFileSync(this.metricsPortFile, 'utf8').trim());
          this.metricsUrl = `http://127.0.0.1:${this.metricsPort}/metrics`;
          return this.port;
        }
      }
      await sleep(20);
    }
    throw new Error(`no port in ${this.portFile} after ${timeoutMs} ms:\n${this.tail()}`);
  }

  // SIGTERM; resolves the exit, or kills and throws after timeoutMs.
  async stop(timeoutMs = 60_000) {
    if (!this.running()) return this.exit;
    this.child.kill('SIGTERM');
    let timer;
    const r = await Promise.race([this.exited, new Promise((res) => { timer = setTimeout(() => res(null), timeoutMs); })]);
    clearTimeout(timer);
    if (r === null) {
      await this.kill();
      throw new Error(`lakehose-server did not exit within ${timeoutMs} ms of SIGTERM:\n${this.tail()}`);
    }
    return r;
  }

  // One scrape of /metrics: {text, value(name, labels)} where value sums the samples of
  // `name` whose labels include `labels` (an object), or null if there are none.
  async scrape(timeoutMs = 5_000) {
    const res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
    assert.equal(res.status, 200, `GET ${this.metricsUrl}`);
    const text = await res.text();
    return { text, value: (name, labels = {}) => sampleValue(text, name, labels) };
  }

  async kill() {
    if (!this.running()) return this.exit;
    this.child.kill('SIGKILL');
    await withTimeout(this.exited, 10_000, `lakehose-server pid ${this.pid} to die after SIGKILL`);
    return this.exit;
  }
}

// The sum of the samples of `name` (exactly; not its _bucket etc.) whose labels include
// `labels`, in a Prometheus text exposition; null when there is none.
export function sampleValue(text, name, labels = {}) {
  let sum = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = {};
    for (const [, k, v] of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[k] = v;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[4]);
  }
  return sum;
}

// The server's environment: test credentials only, nothing from the user's AWS set-up.
export function serverEnv(dir) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    HOME: dir,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-such-credentials'),
    AWS_CONFIG_FILE: join(dir, 'no-such-config'),
  });
  return env;
}

// A config with one dynamodb-stream pipeline. dest: {kind: 'file', path} or
// {kind: 's3', endpoint, partSizeMb?, retry?: {maxAttempts, baseDelayMs, maxDelayMs}}. server: extra lines under `server:` (already
// indented by two spaces). partitioned: region partitions (default) or one prefix.
export function configYaml({
  dataDir, writerId, pipeline = 'dur', dest, compression = 'gzip', sizeMb = 0.05, intervalS = 1,
  serverLines = [], partitioned = true,
}) {
  const d = dest.kind === 'file'
    ? ['      kind: file', `      path: ${JSON.stringify(dest.path)}`]
    : ['      kind: s3', '      bucket: lake', `      endpoint: ${dest.endpoint}`, '      force_path_style: true', `      region: ${TEST_REGION}`,
      ...(dest.partSizeMb ? [`      part_size_mb: ${dest.partSizeMb}`] : []),
      ...(dest.retry ? [`      retry: { max_attempts: ${dest.retry.maxAttempts}, base_delay_ms: ${dest.retry.baseDelayMs}, max_delay_ms: ${dest.retry.maxDelayMs} }`] : [])];
  return [
    'server:',
    `  data_dir: ${JSON.stringify(dataDir)}`,
    `  writer_id: ${writerId}`,
    ...serverLines,
    'pipelines:',
    `  - name: ${pipeline}`,
    '    input: dynamodb-stream',
    '    image: new-or-old',
    '    metadata: [eventID]',
    ...(partitioned
      ? ['    partition_keys:',
        '      region: { attribute: region, default: unknown }',
        `    prefix: "${pipeline}/region=!{partitionKeyFromLambda:region}/"`]
      : [`    prefix: "${pipeline}/all/"`]),
    `    error_prefix: "${pipeline}-errors/"`,
    '    destination:',
    ...d,
    '      format: jsonl',
    `      compression: ${compression}`,
    `      buffering: { size_mb: ${sizeMb}, interval_s: ${intervalS} }`,
    '',
  ].join('\n');
}

// ---- gRPC ------------------------------------------------------------------------------

const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const CHANNEL_OPTIONS = {
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // Fail fast after a kill: no transparent waiting for a server that is gone.
  'grpc.enable_retries': 0,
};
let lakehosePkg = null;
function pkg() {
  if (!lakehosePkg) {
    const def = protoLoader.loadSync('lakehose/v1/lakehose.proto', { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    lakehosePkg = grpc.loadPackageDefinition(def).lakehose.v1;
  }
  return lakehosePkg;
}

export const statusName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code) ?? String(code);
export { grpc };

// Clients for one server address: {ingestor, transformer, deadLetters, close()}.
export function clientsFor(target) {
  const p = pkg();
  const creds = grpc.credentials.createInsecure();
  const c = {
    ingestor: new p.Ingestor(target, creds, CHANNEL_OPTIONS),
    transformer: new p.Transformer(target, creds, CHANNEL_OPTIONS),
    deadLetters: new p.DeadLetters(target, creds, CHANNEL_OPTIONS),
  };
  c.close = () => { for (const k of ['ingestor', 'transformer', 'deadLetters']) c[k].close(); };
  return c;
}

// A unary call; resolves the response or rejects with the gRPC error (err.code, err.details).
export function unary(client, method, request, ms = 30_000) {
  return new Promise((resolveP, reject) => {
    client[method](request, { deadline: new Date(Date.now() + ms) }, (err, response) => (err ? reject(err) : resolveP(response)));
  });
}

export function waitForReady(client, ms = 10_000) {
  return new Promise((r, j) => client.waitForReady(new Date(Date.now() + ms), (err) => (err ? j(err) : r())));
}

// An Ingest request for records lines[from, to).
export function ingestRequest(pipeline, lines, from, to, tag) {
  const records = [];
  for (let i = from; i < to; i++) records.push({ record_id: `${tag}-${i}`, data: Buffer.from(lines[i]) });
  return { pipeline, records };
}

// Sends one Ingest of ids/lines [from, to); adds the eventIDs of OK results to `acked`.
// Resolves {ok: n} or {error: grpc error}. Checks the response's shape.
export async function ingestOnce(ingestor, pipeline, gen, from, to, acked, { tag = 'r', deadlineMs = 15_000 } = {}) {
  const req = ingestRequest(pipeline, gen.lines, from, to, tag);
  let resp;
  try {
    resp = await unary(ingestor, 'Ingest', req, deadlineMs);
  } catch (err) {
    return { error: err };
  }
  assert.equal(resp.records.length, to - from, 'Ingest: one result per record');
  let ok = 0;
  resp.records.forEach((r, j) => {
    assert.equal(r.record_id, `${tag}-${from + j}`, 'Ingest: results in order');
    if (r.result === 'OK') {
      acked.add(gen.ids[from + j]);
      ok++;
    } else {
      throw new Error(`record ${gen.ids[from + j]}: ${r.result} ${r.error_code} ${r.error_message} (generated records are all OK)`);
    }
  });
  return { ok };
}

// Flush through gRPC; resolves the response or rejects.
export const flush = (ingestor, pipeline, ms = 120_000) => unary(ingestor, 'Flush', { pipeline }, ms);

// ---- the dead-letter queue -------------------------------------------------------------

// Whether this build's CLI has `lakehose dlq` (being written at the time of these tests).
let cliHasDlq = null;
export async function cliDlqAvailable(cli) {
  if (cliHasDlq === null) {
    const r = await run(cli, ['dlq', '--help'], { timeoutMs: 10_000 });
    cliHasDlq = r.code === 0 && !/unknown command/.test(r.stderr);
  }
  return cliHasDlq;
}

// Lists the dead letters: with `lakehose dlq list --target T` when the CLI has it
// (entries: its non-empty, non-header stdout lines), else ListDeadLetters over gRPC.
// Resolves {via, entries: [...], raw}.
export async function dlqList(cli, target, clients) {
  if (await cliDlqAvailable(cli)) {
    const r = await run(cli, ['dlq', 'list', '--target', target], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`lakehose dlq list --target ${target} exited ${r.code}: ${r.stderr}`);
    // A table (header "ID KIND PIPELINE ...", one row per entry) on stdout, and
    // "lakehose dlq list: N entries" on stderr.
    const text = r.stdout.toString('utf8');
    const entries = text.split('\n').filter((l) => l.trim() !== '' && !/^ID\s+KIND\b/.test(l));
    const m = /lakehose dlq list: (\d+) entries/.exec(r.stderr);
    if (m) assert.equal(Number(m[1]), entries.length, `lakehose dlq list: the count on stderr and the table disagree:\n${text}${r.stderr}`);
    return { via: 'cli', entries, raw: text };
  }
  const entries = [];
  let token = '';
  for (let page = 0; page < 1000; page++) {
    const resp = await unary(clients.deadLetters, 'ListDeadLetters', { page_size: 1000, page_token: token }, 30_000);
    entries.push(...resp.entries);
    token = resp.next_page_token;
    if (!token) break;
  }
  return { via: 'grpc', entries, raw: JSON.stringify(entries) };
}

// ---- the lake --------------------------------------------------------------------------

// Every file under `root` (none if it does not exist), sorted.
export function listFiles(root) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

const EXT = { gzip: '.jsonl.gz', zstd: '.jsonl.zst', none: '.jsonl' };

function decompress(compression, buf) {
  if (compression === 'gzip') return zlib.gunzipSync(buf).toString('utf8');
  if (compression === 'zstd') {
    if (!zlib.zstdDecompressSync) throw new Error('this Node has no zstd; the durability tests write gzip');
    return zlib.zstdDecompressSync(buf).toString('utf8');
  }
  return buf.toString('utf8');
}

// Every key of the front's bucket, read from s3rver directly with ListObjects (V1,
// marker = the last key). Not front.listObjects(): that uses ListObjectsV2, and s3rver
// builds V2 continuation tokens with DES, which Node 20's OpenSSL 3 refuses
// (ERR_OSSL_EVP_UNSUPPORTED -> 500) as soon as a listing is truncated (> 1000 keys).
export async function listS3(front) {
  const keys = [];
  let marker = '';
  for (let page = 0; page < 100_000; page++) {
    const url = `${front.s3rverEndpoint}/${front.bucket}?max-keys=1000${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`;
    const r = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    const xml = await r.text();
    if (r.status !== 200) throw new Error(`s3rver ListObjects failed: ${r.status} ${xml.slice(0, 500)}`);
    const got = xmlTags(xml, 'Contents').map((c) => xmlTags(c, 'Key')[0]);
    keys.push(...got);
    if (xmlTags(xml, 'IsTruncated')[0] !== 'true' || got.length === 0) break;
    marker = got[got.length - 1];
  }
  return keys;
}

// Reads every object under <root>/<pipeline>/ : {objects, lines, counts: Map(eventID ->
// times seen), where: Map(eventID -> [keys]), leftovers: [keys of .tmp-* files], root}.
// For S3, `front` is given: the bucket is downloaded into `root` first (s3rver's view).
export async function readLake({ root, pipeline, compression = 'gzip', front = null }) {
  if (front) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const key of await listS3(front)) {
      const dest = join(root, ...key.split('/'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, await front.getObject(key));
    }
  }
  const counts = new Map();
  const where = new Map();
  const leftovers = [];
  const unexpected = [];
  let lines = 0;
  let objects = 0;
  for (const f of listFiles(root)) {
    const key = relative(root, f).split(sep).join('/');
    const base = key.slice(key.lastIndexOf('/') + 1);
    if (base.startsWith('.tmp-')) { leftovers.push(key); continue; }
    if (!key.startsWith(`${pipeline}/`) || !key.endsWith(EXT[compression])) { unexpected.push(key); continue; }
    objects++;
    const text = decompress(compression, readFileSync(f));
    if (text.length === 0) continue;
    assert.ok(text.endsWith('\n'), `${key} does not end with a newline`);
    for (const line of text.slice(0, -1).split('\n')) {
      lines++;
      let doc;
      try { doc = JSON.parse(line); } catch (e) { throw new Error(`${key}: a line that is not JSON: ${line.slice(0, 200)}`); }
      const id = doc._eventID;
      assert.ok(typeof id === 'string', `${key}: a line without _eventID: ${line.slice(0, 200)}`);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (!where.has(id)) where.set(id, []);
      where.get(id).push(key);
    }
  }
  return { root, objects, lines, counts, where, leftovers, unexpected };
}

// DuckDB's view of the same lake (read_json_auto, hive partitioning): total rows,
// distinct _eventIDs, and how many _eventIDs appear more than once.
export async function duckdbCounts(root, pipeline, compression = 'gzip') {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const glob = `${root}/${pipeline}/**/*${EXT[compression]}`.replaceAll("'", "''");
    const src = `read_json_auto('${glob}', hive_partitioning = true, format = 'newline_delimited')`;
    const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
    const [t] = await rows(`SELECT count(*) AS n, count(DISTINCT "_eventID") AS d FROM ${src}`);
    const [dup] = await rows(`SELECT count(*) AS n FROM (SELECT "_eventID" FROM ${src} GROUP BY 1 HAVING count(*) > 1)`);
    const [files] = await rows(`SELECT count(*) AS n FROM glob('${glob}')`);
    return { rows: Number(t.n), distinct: Number(t.d), duplicated: Number(dup.n), files: Number(files.n) };
  } finally {
    conn.closeSync?.();
    instance.closeSync?.();
  }
}

// The verdict on a lake against the acknowledged eventIDs and all eventIDs ever sent.
// Returns {missing: [...], duplicates: [[id, n], ...], strangers: [...], acked, inLake,
// unackedPresent} (strangers: eventIDs never sent at all).
export function verdict(lake, acked, sent) {
  const missing = [];
  for (const id of acked) if (!lake.counts.has(id)) missing.push(id);
  const duplicates = [];
  const strangers = [];
  let unackedPresent = 0;
  for (const [id, n] of lake.counts) {
    if (n > 1) duplicates.push([id, n]);
    if (sent && !sent.has(id)) strangers.push(id);
    if (!acked.has(id)) unackedPresent++;
  }
  return { missing, duplicates, strangers, acked: acked.size, inLake: lake.counts.size, lines: lake.lines, unackedPresent };
}

export function describeVerdict(v, lake, max = 5) {
  const parts = [];
  if (v.missing.length) parts.push(`${v.missing.length} acked eventIDs missing, e.g. ${v.missing.slice(0, max).join(', ')}`);
  if (v.duplicates.length) {
    parts.push(`${v.duplicates.length} eventIDs more than once, e.g. ${v.duplicates.slice(0, max)
      .map(([id, n]) => `${id} x${n} in ${lake.where.get(id).join(' + ')}`).join('; ')}`);
  }
  if (v.strangers.length) parts.push(`${v.strangers.length} eventIDs never sent, e.g. ${v.strangers.slice(0, max).join(', ')}`);
  return parts.join('\n');
}
