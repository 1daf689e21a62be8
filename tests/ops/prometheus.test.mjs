// A real Prometheus (Debian's) scrapes a real lakehose-server on loopback while a Node
// gRPC client sends traffic; the record counters Prometheus stored must equal what the
// client was answered, and `promtool check metrics` must accept a scrape taken after the
// traffic (README "Metrics").
//
//   node prometheus.test.mjs --server PATH --cli PATH
//
// Exits 77 (skipped) when prometheus or promtool is not installed.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

import { ServerProcess, WorkDir, generate, serverEnv, sleep, suiteArgs, tail } from '../lib/harness.mjs';
import { clientsFor, flush, unary, waitForReady } from '../lib/grpc.mjs';
import { configYaml } from '../lib/lake.mjs';
import { METRIC_FAMILIES } from '../lib/metric_families.mjs';

const { serverBin: SERVER, cliBin: CLI } = suiteArgs();

for (const tool of ['prometheus', 'promtool']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.log(`SKIP: ${tool} is not installed (Debian package prometheus)`);
    process.exit(77);
  }
}

function freePort() {
  return new Promise((resolveP, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolveP(port));
    });
  });
}

// `promtool args...` with `input` on stdin; {status, output}.
function promtool(args, input) {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

class PrometheusProcess {
  constructor(dir, configPath, port) {
    this.output = '';
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn('prometheus', [
      `--config.file=${configPath}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
      `--web.console.templates=${join(dir, 'none')}`, `--web.console.libraries=${join(dir, 'none')}`,
    ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c) => { this.output = (this.output + c.toString('utf8')).slice(-64 * 1024); };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((r) => this.child.on('close', (code, signal) => r({ code, signal })));
  }

  async query(expr) {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5_000) });
    const body = await res.json();
    assert.equal(body.status, 'success', `query ${expr}: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  async waitReady(timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      try {
        const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) return;
      } catch { /* not yet listening */ }
      await sleep(200);
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${tail(this.output)}`);
  }

  async stop() {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

const work = new WorkDir('lakehose-prometheus-');  // kept when the test fails
const dir = work.path;
let server = null;
let prometheus = null;
let clients = null;
try {
  const lake = join(dir, 'lake');
  mkdirSync(lake);
  const configPath = join(dir, 'config.yaml');
  // REMOVE events are filtered out: DROPPED results too.
  const yaml = configYaml({ dataDir: join(dir, 'data'), writerId: 'ops', pipeline: 'ops', dest: { kind: 'file', path: lake }, sizeMb: 64, intervalS: 300 })
    .replace('    input: dynamodb-stream\n', '    input: dynamodb-stream\n    filter:\n      event_names: [INSERT, MODIFY]\n');
  writeFileSync(configPath, yaml);
  server = new ServerProcess(SERVER, { dir, configPath, env: serverEnv(dir), name: 'lakehose' });
  await server.waitForPort();

  const promPort = await freePort();
  const promConfig = join(dir, 'prometheus.yml');
  writeFileSync(promConfig, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: lakehose',
    '    static_configs:',
    `      - targets: ["127.0.0.1:${server.metricsPort}"]`,
    '',
  ].join('\n'));
  const checked = promtool(['check', 'config', promConfig]);
  assert.equal(checked.status, 0, `promtool check config:\n${checked.output}`);
  prometheus = new PrometheusProcess(dir, promConfig, promPort);
  await prometheus.waitReady();

  // ---- traffic: Ingest (some records malformed, some filtered out) and Transform ----
  clients = clientsFor(server.target);
  await waitForReady(clients.ingestor);
  const gen = await generate(CLI, 1500, 11);
  const expected = {};  // "rpc result" -> count, from the answers
  let bytesIn = 0;
  const count = (rpc, resp) => {
    for (const r of resp.records) {
      const key = `${rpc} ${r.result.toLowerCase()}`;
      expected[key] = (expected[key] ?? 0) + 1;
    }
  };
  for (let from = 0; from < 1200; from += 300) {
    const records = [];
    for (let i = from; i < from + 300; i++) {
      let data = gen.lines[i];
      if (i % 97 === 0) data = data.replace('"amount":{"N":"', '"amount":{"N":"x');  // fails alone
      bytesIn += Buffer.byteLength(data);
      records.push({ record_id: `i-${i}`, data: Buffer.from(data) });
    }
    count('Ingest', await unary(clients.ingestor, 'Ingest', { pipeline: 'ops', records }));
  }
  const transformRecords = gen.lines.slice(1200).map((l, i) => ({ record_id: `t-${i}`, data: Buffer.from(l) }));
  for (const r of transformRecords) bytesIn += r.data.length;
  count('Transform', await unary(clients.transformer, 'Transform', { pipeline: 'ops', records: transformRecords }));
  assert.ok(expected['Ingest ok'] > 0 && expected['Ingest processing_failed'] > 0 && expected['Ingest dropped'] > 0,
    `the traffic should have every verdict: ${JSON.stringify(expected)}`);
  const flushed = await flush(clients.ingestor, 'ops');
  assert.ok(flushed.objects.length > 0, 'Flush wrote objects');

  // ---- what Prometheus stored equals what was answered ----
  const got = async () => {
    const out = {};
    for (const s of await prometheus.query('sum by (rpc, result) (lakehose_records_total{pipeline="ops"})')) {
      const v = Number(s.value[1]);
      if (v > 0) out[`${s.metric.rpc} ${s.metric.result}`] = v;
    }
    return out;
  };
  let seen = {};
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    seen = await got();
    if (JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(expected).sort())) break;
    await sleep(500);
  }
  assert.deepEqual(seen, expected, 'lakehose_records_total in Prometheus equals the verdicts the client received');
  const scalar = async (expr) => {
    const r = await prometheus.query(expr);
    assert.equal(r.length, 1, `${expr}: one series`);
    return Number(r[0].value[1]);
  };
  // Scrapes after the flush: poll until Prometheus has one.
  const objectsEnd = Date.now() + 30_000;
  let objects = 0;
  while (Date.now() < objectsEnd && (objects = await scalar('sum(lakehose_objects_written_total{pipeline="ops"})')) !== flushed.objects.length) await sleep(500);
  assert.equal(objects, flushed.objects.length, 'lakehose_objects_written_total equals the objects Flush reported');
  const flushedBytes = flushed.objects.reduce((a, o) => a + Number(o.bytes), 0);
  assert.equal(await scalar('sum(lakehose_bytes_out_total{pipeline="ops"})'), flushedBytes, 'bytes out');
  assert.equal(await scalar('sum(lakehose_bytes_in_total{pipeline="ops"})'), bytesIn, 'bytes in');
  assert.equal(await scalar('sum(lakehose_dlq_added_total{pipeline="ops",kind="processing"})'), expected['Ingest processing_failed'], 'failed records in the DLQ');
  assert.equal(await scalar('up{job="lakehose"}'), 1, 'the target is up');
  assert.equal(await scalar('sum(lakehose_request_duration_seconds_count{rpc="Ingest"})'), 4, 'one Ingest latency sample per call');

  // ---- promtool accepts a scrape taken after the traffic ----
  const { text } = await server.scrape();
  const lint = promtool(['check', 'metrics'], text);
  assert.equal(lint.status, 0, `promtool check metrics:\n${lint.output}`);

  // ---- the list the dashboard and alerts are checked against is the server's ----
  const exported = {};
  for (const [, name, type] of text.matchAll(/^# TYPE (lakehose_\S+) (\S+)$/gm)) exported[name] = type;
  // This server writes to a file lake: the per-destination (S3) and table families have no
  // series yet.
  const expectedFamilies = Object.keys(METRIC_FAMILIES).filter((name) => !METRIC_FAMILIES[name].s3Only && !METRIC_FAMILIES[name].tableOnly);
  assert.deepEqual(Object.keys(exported).sort(), expectedFamilies.sort(),
    'the families in tests/lib/metric_families.mjs are exactly those the server exports');
  for (const [name, type] of Object.entries(exported)) assert.equal(type, METRIC_FAMILIES[name].type, `${name}: type`);
  for (const [, series, labels] of text.matchAll(/^(lakehose_[a-z_]+)\{([^}]*)\}/gm)) {
    let family = series;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (!METRIC_FAMILIES[family] && series.endsWith(suffix)) family = series.slice(0, -suffix.length);
    }
    const spec = METRIC_FAMILIES[family];
    for (const [, label, value] of labels.matchAll(/([a-z_]+)="([^"]*)"/g)) {
      if (label === 'le') continue;
      assert.ok(label in spec.labels, `${series} has label ${label}, not in metric_families.mjs`);
      const allowed = spec.labels[label];
      if (allowed !== null && label !== 'pipeline') assert.ok(allowed.includes(value), `${series}{${label}="${value}"}: not in metric_families.mjs`);
    }
  }
  console.log(`ok: Prometheus scraped ${JSON.stringify(expected)}, ${objects} objects; promtool check metrics passed`);
} catch (err) {
  work.fail();
  console.error(err);
  if (server) console.error(`---- server log\n${server.tail(30)}`);
  if (prometheus) console.error(`---- prometheus log\n${tail(prometheus.output, 30)}`);
} finally {
  if (clients) clients.close();
  if (prometheus) await prometheus.stop();
  if (server) await server.stop().catch((e) => { work.fail(); console.error(e); });
  await work.close();
}
process.exit(work.failed ? 1 : 0);
