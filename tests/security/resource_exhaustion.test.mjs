// Resource exhaustion against the real lakehose-server (README "Limits"): a client that
// opens many Transform streams on one connection and never reads the answers, and more
// idle connections than the process has file descriptors.
//
//   node tests/security/resource_exhaustion.test.mjs --server PATH/TO/lakehose-server \
//        --cli PATH/TO/lakehose [--prlimit PATH/TO/prlimit]
//
// Scaled down so that it runs in seconds: a 32 MB memory quota and 100 streams of 1,000
// records (~1.3 MB each; without the quota the server grew by ~300 MB and kept ~170 MB
// after the client left); a descriptor limit of 80 (util-linux prlimit) and 100 idle
// connections (without the accept guard, gRPC 1.51's port never accepted again).
// The server's memory is its VmRSS in /proc/<pid>/status. Every wait is bounded.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';

import protobuf from 'protobufjs';

import { ServerProcess, WorkDir, generate, sleep, suiteArgs } from '../lib/harness.mjs';
import { PROTO_DIR, clientsFor, grpc, healthCheck, unary } from '../lib/grpc.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({ options: { prlimit: { type: 'string' } }, usage: '[--prlimit PATH]' });
const PRLIMIT = args.prlimit ?? 'prlimit';

const QUOTA_MB = 32;
const STREAMS = 100;
const RECORDS = 1000;
const DESCRIPTOR_LIMIT = 80;
const IDLE_CONNECTIONS = 100;
const MB = 1024 * 1024;

const rssBytes = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

function configYaml(dir, limits) {
  return [
    'server:',
    `  data_dir: ${join(dir, 'data')}`,
    '  limits:',
    ...Object.entries(limits).map(([k, v]) => `    ${k}: ${v}`),
    'pipelines:',
    '  - name: demo',
    '    input: dynamodb-stream',
    '    image: new-or-old',
    '    destination:',
    '      kind: file',
    `      path: ${join(dir, 'lake')}`,
    '',
  ].join('\n');
}

// Every line the server wrote must be a JSON log line (gRPC's own included).
function assertJsonLog(server) {
  for (const line of server.output.split('\n').filter((l) => l.length > 0))
    assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
}

describe('resource exhaustion', { timeout: 170_000 }, () => {
  let work, lines;

  before(async () => {
    work = new WorkDir('lakehose-exhaustion-');
    ({ lines } = await generate(CLI_BIN, RECORDS, 7));
  });

  after(async () => { await work?.close(); });

  it('a client that never reads: memory stays within the quota and is given back when it leaves', async () => {
    const dir = join(work.path, 'noread');
    writeFileSync(join(work.path, 'noread.yaml'), configYaml(dir, { memory_quota_mb: QUOTA_MB }));
    const server = new ServerProcess(SERVER_BIN, { dir: work.path, name: 'noread', configPath: join(work.path, 'noread.yaml') });
    work.defer(() => server.kill());
    await server.waitForPort();

    // Warm up with one call whose answer is read: the baseline includes what any
    // Transform leaves allocated (transformer pools, gRPC's first buffers).
    const records = lines.map((l, i) => ({ record_id: `r${i}`, data: Buffer.from(l) }));
    const clients = clientsFor(server.target);
    try {
      const warm = await unary(clients.transformer, 'Transform', { pipeline: 'demo', records }, 30_000);
      assert.equal(warm.records.length, RECORDS);
    } finally {
      clients.close();
    }
    await sleep(300);
    const baseline = rssBytes(server.pid);

    // One HTTP/2 connection, STREAMS Transform calls, answers never read (paused streams
    // send no WINDOW_UPDATE, so the server can send at most the initial window).
    const root = protobuf.loadSync(join(PROTO_DIR, 'lakehose/v1/lakehose.proto'));
    const message = root.lookupType('lakehose.v1.TransformRequest').encode({
      pipeline: 'demo', records: lines.map((l, i) => ({ recordId: `r${i}`, data: Buffer.from(l) })),
    }).finish();
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    Buffer.from(message).copy(frame, 5);
    const session = http2.connect(`http://${server.target}`, { maxSessionMemory: 1024 });
    session.on('error', () => {});
    const statuses = [];
    for (let i = 0; i < STREAMS; i++) {
      const req = session.request({ ':method': 'POST', ':path': '/lakehose.v1.Transformer/Transform',
        'content-type': 'application/grpc', te: 'trailers' });
      req.pause();
      req.on('error', () => {});
      req.on('response', (h) => statuses.push({ status: h['grpc-status'], message: decodeURIComponent(h['grpc-message'] ?? '') }));
      req.end(frame);
    }
    let peak = baseline;
    for (const end = Date.now() + 6_000; Date.now() < end;) {
      peak = Math.max(peak, rssBytes(server.pid));
      await sleep(50);
    }
    const grown = peak - baseline;
    const refused = statuses.filter((s) => s.status === String(grpc.status.RESOURCE_EXHAUSTED));
    const scrape = await server.scrape();
    const inflight = scrape.value('lakehose_inflight_bytes');
    session.destroy();
    console.error(`# never-reading client: +${(grown / MB).toFixed(1)} MB peak over ${(baseline / MB).toFixed(1)} MB, ` +
        `${refused.length} of ${statuses.length} answered calls refused for the quota, ${inflight} bytes in flight`);

    // Gone: every call is cancelled, its memory freed and handed back.
    let rss = rssBytes(server.pid);
    for (const end = Date.now() + 10_000; Date.now() < end && rss > baseline + QUOTA_MB * MB;) {
      await sleep(100);
      rss = rssBytes(server.pid);
    }
    console.error(`# after the client left: +${((rss - baseline) / MB).toFixed(1)} MB over the baseline`);

    // gRPC's buffers and the answers in flight each have the quota: twice it, and as
    // much again for the heap's slack.
    assert.ok(grown <= 3 * QUOTA_MB * MB, `the server grew by ${(grown / MB).toFixed(0)} MB for a client that never reads (quota ${QUOTA_MB} MB)`);
    assert.ok(inflight > 0 && inflight <= QUOTA_MB * MB, `lakehose_inflight_bytes ${inflight}`);
    assert.ok(refused.length > 0, `no call was refused for the quota: ${JSON.stringify(statuses.slice(0, 5))}`);
    assert.match(refused[0].message, /memory quota .*server\.limits\.memory_quota_mb = 32/);
    assert.ok(rss <= baseline + QUOTA_MB * MB,
        `${((rss - baseline) / MB).toFixed(0)} MB above the baseline stayed after the client left`);

    assert.equal((await server.scrape()).value('lakehose_inflight_bytes'), 0);
    assert.equal(await healthCheck(server.target), 'SERVING');
    assert.deepEqual(await server.stop(30_000), { code: 0, signal: null }, server.tail());
    assertJsonLog(server);
  });

  it('out of descriptors: idle connections past the limit are shed and the port accepts again', async () => {
    const dir = join(work.path, 'fds');
    writeFileSync(join(work.path, 'fds.yaml'), configYaml(dir, { listener_probe_ms: 200 }));
    const server = new ServerProcess(SERVER_BIN, { dir: work.path, name: 'fds', configPath: join(work.path, 'fds.yaml'),
      wrapper: [PRLIMIT, `--nofile=${DESCRIPTOR_LIMIT}:${DESCRIPTOR_LIMIT}`] });
    work.defer(() => server.kill());
    await server.waitForPort();

    // More idle connections than the process has descriptors, each past the HTTP/2
    // preface so that it is a real client that then says nothing.
    const sockets = [];
    for (let i = 0; i < IDLE_CONNECTIONS; i++) {
      const s = net.connect(server.port, '127.0.0.1');
      s.on('error', () => {});
      s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => new Promise((r) => { if (s.readyState === 'open') r(); else { s.once('connect', r); s.once('error', r); } })));
    // Until the server has shed some (a server out of descriptors may not even answer
    // /metrics: then until the bound).
    let shed = 0;
    for (const end = Date.now() + 5_000; Date.now() < end && !(shed > 0);) {
      shed = await server.scrape(1_000).then((m) => m.value('lakehose_grpc_connections_shed_total')).catch(() => 0);
      await sleep(50);
    }
    for (const s of sockets) s.destroy();

    // The port answers again: a new connection gets a health answer.
    let health = null;
    for (let attempt = 0; attempt < 3 && health !== 'SERVING'; attempt++)
      health = await healthCheck(server.target, 3_000).catch((err) => `${err.code} ${err.details}`);
    assert.equal(health, 'SERVING', `the gRPC port no longer accepts after running out of descriptors:\n${server.tail()}`);
    const scrape = await server.scrape();
    assert.ok(scrape.value('lakehose_grpc_connections_shed_total') > 0, 'connections past the ceiling were shed');
    assert.equal(scrape.value('lakehose_grpc_listener_accepting'), 1);
    const [limit] = server.eventsNamed('server.descriptor_limit');
    assert.equal(limit?.soft, String(DESCRIPTOR_LIMIT), JSON.stringify(limit));
    assert.deepEqual(await server.stop(30_000), { code: 0, signal: null }, server.tail());
    assertJsonLog(server);
  });
});
