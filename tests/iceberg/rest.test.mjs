// lakehose-server committing an Iceberg table through a REST catalog (the fake of
// ../lib/rest_catalog.mjs, strict about the protocol), the files in the verifying S3
// front's bucket (../lib/rest_lake.mjs), as with Amazon S3 Tables:
//
//   1. S3 Tables-like (SigV4 signing name s3tables, the catalog assigning the field ids):
//      four batches (`lakehose send` + `lakehose flush`), the third with new attributes
//      (add-schema + set-current-schema). Every request signed for s3tables and under
//      /v1/<prefix>/, the namespace and table created through the catalog; iceberg-js
//      loads the catalog's metadata; icebird reads the catalog's metadata location: every
//      acked record once; checkTable ({ rest: true }) on a copy of the bucket; every
//      lakehose.objects identity in one snapshot; `lakehose table inspect --json`; metrics.
//   2. Faults on commits (409, 500 after applying, 503, 502, 504, a reset before and after
//      applying, a delay beyond request_timeout_s 2) and on loads: after each, more
//      records: the current snapshot holds every acked record once (its total-records,
//      then the data files at the end), no identity twice, commit_unknown_total counted
//      for 5xx, timeouts and resets (the HTTP client never re-sends a commit on its own),
//      a 409 as a conflict, the front saw no delete of any kind; commits_total and
//      records_committed_total count commits found applied after a lost answer.
//   3. Two servers (w0, w1) on one table for --seconds with Flushes at both at once:
//      every acked record of both once, 409s seen and retried.
//   4. OAuth2 (tokens living 4 s): records over three token lifetimes, tokens refreshed
//      before expiry, a revoked token -> 401 -> a new token; a wrong secret stops
//      start-up naming the client and never the secret; a bearer token file.
//   5. Start-up failures and a missing table: signing name glue against an s3tables
//      catalog; an unreachable catalog (start-up goes on); create.table false with no
//      table (the stores fail naming create.table and are retried; after a SIGKILL and a
//      start with create.table true, every acked record is committed once).
//
//   node tests/iceberg/rest.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--seconds 10] [--keep]
//
// Every server listens on 127.0.0.1 port 0 and is killed in a clean-up; every wait is
// bounded. The catalog runs in this process: nothing here blocks the event loop.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';
import { IcebergRestCatalog } from 'iceberg-js';

import { ServerProcess, WorkDir, exitWhenDone, generate, run, serverEnv, sleep, suiteArgs, tail, withTimeout } from '../lib/harness.mjs';
import { clientsFor, flush, flushRetrying, ingestOnce, startSenders, statusName, waitForReady } from '../lib/grpc.mjs';
import { checkTable, currentRecords, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { describeVerdict, verdict } from '../lib/lake.mjs';
import { parseJson, toJson } from '../lib/rest_catalog.mjs';
import { WAREHOUSE, assertIdentitiesOnce, currentTotalRecords, restConfigYaml, sigv4Auth, sigv4Fetch, startRestLake } from '../lib/rest_lake.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { seconds: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--seconds 10] [--keep]',
});
const SECONDS = Number(args.seconds ?? 10);
if (!(SECONDS > 0)) { console.error('--seconds: > 0'); process.exit(2); }

const PIPELINE = 'tx';
const NS = ['sales'];
const TABLE = 'orders';
const PORT_TIMEOUT_MS = 20_000;
const TOOL_TIMEOUT_MS = 60_000;
const FLUSH_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;
const RPC_DEADLINE_MS = 15_000;
const SUITE_TIMEOUT_MS = 540_000;
const SEND_SUMMARY = /lakehose send: (\d+) records: (\d+) ok, (\d+) dropped, (\d+) failed/;
const S3TABLES = sigv4Auth('s3tables');
const DELETES = ['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload', 'DeleteBucket'];

const work = new WorkDir('lakehose-iceberg-rest-', { keep: args.keep });
let seedBase = 1;
// `records` generated records, their eventIDs distinct from every other call's.
const records = (n) => generate(CLI_BIN, n, (seedBase++) * 1e12 + 15);

// A server on a REST config written to <dir>/<name>.yaml; killed when the suite ends.
function startServer(dir, name, yaml) {
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(configPath, yaml);
  const server = new ServerProcess(SERVER_BIN, { dir, configPath, env: serverEnv(dir), name });
  work.defer(() => server.kill());
  return { server, configPath };
}

// Sends gen's records [from, to) in Ingest batches of 100; every one must be acked.
async function ingest(server, gen, from, to, acked) {
  const clients = clientsFor(server.target);
  try {
    await waitForReady(clients.ingestor, 10_000);
    for (let i = from; i < to; i += 100) {
      const r = await ingestOnce(clients.ingestor, PIPELINE, gen, i, Math.min(to, i + 100), acked, { deadlineMs: RPC_DEADLINE_MS });
      assert.ok(!r.error, `Ingest: ${r.error && `${statusName(r.error.code)} ${r.error.details}`}\n${server.tail()}`);
    }
  } finally {
    clients.close();
  }
}

// Flush through gRPC, retried until it succeeds (a fault may fail one); resolves how many
// Flushes failed first.
async function flushUntilDone(server, timeoutMs = FLUSH_TIMEOUT_MS) {
  const clients = clientsFor(server.target);
  let failed = 0;
  try {
    await flushRetrying(clients.ingestor, PIPELINE, timeoutMs, () => { failed++; });
  } finally {
    clients.close();
  }
  return failed;
}

// One scrape of the server's metrics: value(name, labels) for this pipeline (0 when
// absent). Tried up to three times: the metrics endpoint closes every connection after
// its answer without `Connection: close`, so fetch may send the next scrape on a socket
// being closed ("fetch failed"; see the report).
async function metricsOf(server) {
  let s = null;
  for (let attempt = 1; s === null; attempt++) {
    try {
      s = await server.scrape();
    } catch (err) {
      if (attempt >= 3 || err.message !== 'fetch failed') throw err;
    }
  }
  return (name, labels = {}) => s.value(name, { pipeline: PIPELINE, ...labels }) ?? 0;
}

// A loopback port nothing listens on.
async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// Adds kept-for-a-post-mortem notes to a failure.
const failWith = (fn, context = () => '') => async (t) => {
  try {
    await fn(t);
  } catch (err) {
    work.fail();
    err.message += context();
    throw err;
  }
};

// The third batch's records gain two attributes in every image they have.
const evolved = (line, i) => {
  const r = JSON.parse(line);
  for (const img of [r.dynamodb.NewImage, r.dynamodb.OldImage].filter(Boolean)) {
    Object.assign(img, { loyalty_tier: { S: ['gold', 'silver'][i % 2] }, points: { N: String(i) } });
  }
  return JSON.stringify(r);
};

describe('Iceberg tables through a REST catalog', { timeout: SUITE_TIMEOUT_MS }, () => {
  let duck;
  let conn;
  before(async () => {
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
  });
  after(async () => {
    conn?.closeSync?.();
    duck?.closeSync?.();
    await work.close();
  });

  describe('1. S3 Tables-like: SigV4 s3tables, ids assigned by the catalog, four flushed batches', () => {
    const BATCHES = 4;
    const PER_BATCH = 300;
    const EVOLVED = 2;
    const dir = join(work.path, 'happy');
    const lakeDir = join(dir, 'lake');
    let lake;
    let server;
    let configPath;
    let tableDir;
    const acked = [];
    const context = () => (server ? `\n-- server (tail):\n${server.tail(20)}` : '');

    before(async () => {
      lake = await startRestLake({ dir: join(dir, 's3rver'), auth: S3TABLES, catalog: { reassignIds: true } });
      work.defer(() => lake.close());
      ({ server, configPath } = startServer(dir, 'server', restConfigYaml({
        dataDir: join(dir, 'var'), writerId: 'w0', endpoint: lake.front.endpoint, sizeMb: 16, intervalS: 3600, commitIntervalS: 3600,
        catalog: { uri: lake.cat.url, auth: { sigv4: { service: 's3tables' } } },
      })));
      await server.waitForPort(PORT_TIMEOUT_MS);
      const gen = await records(BATCHES * PER_BATCH);
      for (let b = 0; b < BATCHES; b++) {
        const lines = gen.lines.slice(b * PER_BATCH, (b + 1) * PER_BATCH).map((l, i) => (b === EVOLVED ? evolved(l, i) : l));
        const file = join(dir, `batch-${b}.jsonl`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        const send = await run(CLI_BIN, ['send', '--target', server.target, '--pipeline', PIPELINE, '--input', file, '--batch', '100'], { timeoutMs: TOOL_TIMEOUT_MS });
        const s = SEND_SUMMARY.exec(send.stderr);
        assert.ok(send.code === 0 && s, `lakehose send (batch ${b}) exited ${send.code}:\n${tail(send.stderr)}${context()}`);
        assert.deepEqual(s.slice(1, 5).map(Number), [PER_BATCH, PER_BATCH, 0, 0], `batch ${b}: ${s[0]}`);
        acked.push(...gen.ids.slice(b * PER_BATCH, (b + 1) * PER_BATCH));
        const fl = await run(CLI_BIN, ['flush', '--target', server.target, '--pipeline', PIPELINE], { timeoutMs: FLUSH_TIMEOUT_MS });
        assert.equal(fl.code, 0, `lakehose flush (batch ${b}):\n${tail(fl.stderr)}${context()}`);
        const t = lake.cat.table(NS, TABLE);
        assert.ok(t, `batch ${b}: Flush answered and the catalog has no table ${NS}.${TABLE}`);
        assert.equal(currentTotalRecords(t.metadata), acked.length, `batch ${b}: total-records of the catalog's current snapshot after Flush`);
      }
      ({ tableDir } = await lake.download(lakeDir));
      tableDir = tableDir(NS, TABLE);
    });

    it('every request is SigV4-signed for s3tables under /v1/<prefix>/; the namespace and table were created through the catalog', failWith(async (t) => {
      const { cat } = lake;
      assert.deepEqual(cat.violations, [], 'violations of the REST protocol');
      assert.ok(cat.requests.length > 0, 'no request reached the catalog');
      for (const r of cat.requests) {
        assert.match(r.headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/us-east-1\/s3tables\/aws4_request, ?SignedHeaders=/, `${r.method} ${r.path}: Authorization`);
        assert.notEqual(r.status, 403, `${r.method} ${r.path} refused: the catalog checks every signature`);
        if (r.op === 'config') {
          assert.equal(r.query.warehouse, WAREHOUSE, 'GET /v1/config?warehouse=');
        } else {
          const [, v1, prefix] = r.path.split('/');
          assert.ok(v1 === 'v1' && decodeURIComponent(prefix) === WAREHOUSE, `${r.method} ${r.path} is not under /v1/<prefix>/`);
        }
      }
      const ops = cat.requests.map((r) => `${r.op} ${r.status}`);
      assert.ok(ops.includes('create-namespace 200'), `the namespace was not created (create.namespace defaults to true): ${ops.join(', ')}`);
      assert.ok(ops.includes('create-table 200'), `the table was not created through the catalog: ${ops.join(', ')}`);
      const counts = {};
      for (const o of ops) counts[o] = (counts[o] ?? 0) + 1;
      t.diagnostic(`catalog requests: ${JSON.stringify(counts)}`);
    }, context));

    it('the catalog assigned the ids; the third batch evolved the schema through add-schema and set-current-schema', failWith(async () => {
      const { metadata: m } = lake.cat.table(NS, TABLE);
      const created = lake.cat.requests.find((r) => r.op === 'create-table' && r.status === 200);
      const fieldIds = (s) => s.fields.map((f) => f.id);
      // reassignIds: 1.. breadth first, whatever lakehose proposed.
      assert.deepEqual(fieldIds(m.schemas[0]), m.schemas[0].fields.map((_, i) => i + 1), 'schema 0: the catalog\'s ids');
      assert.deepEqual(m.schemas[0].fields.map((f) => f.name), created.body.schema.fields.map((f) => f.name), 'schema 0: the columns lakehose created');
      const actions = lake.cat.commits(NS, TABLE).map((c) => c.updates.map((u) => u.action));
      assert.ok(actions.some((a) => a.includes('add-schema') && a.includes('set-current-schema')), `no commit with add-schema and set-current-schema: ${JSON.stringify(actions)}`);
      const current = m.schemas.find((s) => s['schema-id'] === m['current-schema-id']);
      assert.notEqual(m['current-schema-id'], 0, 'the current schema is a new one');
      const oldMax = Math.max(...fieldIds(m.schemas[0]));
      for (const name of ['loyalty_tier', 'points']) {
        const f = current.fields.find((x) => x.name === name);
        assert.ok(f && f.id > oldMax && !f.required, `column ${name}: ${JSON.stringify(f)} (old ids end at ${oldMax})`);
      }
      for (const f of m.schemas[0].fields) assert.deepEqual(current.fields.find((x) => x.id === f.id), f, `column ${f.name} kept its id`);
      assert.equal(m.snapshots.length, BATCHES, 'one snapshot per Flush');
    }, context));

    it('iceberg-js, signing with SigV4, loads the table: the catalog\'s metadata and metadata location', failWith(async () => {
      const { metadataLocation, metadata } = lake.cat.table(NS, TABLE);
      let raw = null;
      const signing = sigv4Fetch(S3TABLES.sigv4);
      // Keeps the answer's text too: iceberg-js parses with JSON.parse (63-bit ids rounded).
      const keeping = async (input, init) => {
        const res = await signing(input, init);
        raw = await res.clone().text();
        return res;
      };
      const client = new IcebergRestCatalog({ baseUrl: lake.cat.url, warehouse: WAREHOUSE, fetch: keeping });
      const loaded = await client.loadTableResult({ namespace: NS, name: TABLE });
      assert.equal(loaded['metadata-location'], metadataLocation, 'metadata-location');
      assert.deepEqual(loaded.metadata, JSON.parse(toJson(metadata)), 'iceberg-js: the metadata');
      assert.equal(loaded.metadata.snapshots.length, BATCHES);
      assert.deepEqual(parseJson(raw).metadata, metadata, 'the metadata, ids exact');
      assert.deepEqual(lake.cat.violations, [], 'iceberg-js\'s requests');
    }, context));

    it('icebird reads the catalog\'s metadata location: every acked record exactly once', failWith(async (t) => {
      const { metadataLocation } = lake.cat.table(NS, TABLE);
      assert.ok(metadataLocation.startsWith(`s3://${lake.front.bucket}/wh/sales/orders/metadata/`), metadataLocation);
      const rows = await withTableServer(lakeDir, tableDir, ({ tableUrl }) => readWithIcebird(tableUrl, basename(metadataLocation)));
      const ids = rows.map((r) => r._eventID);
      assert.equal(new Set(ids).size, ids.length, 'icebird: an eventID twice');
      assert.deepEqual([...ids].sort(), [...acked].sort(), 'icebird: the acked eventIDs');
      const withTier = rows.filter((r) => r.loyalty_tier !== null && r.loyalty_tier !== undefined).length;
      assert.ok(withTier > 0, 'icebird: no value in the evolved column loyalty_tier');
      t.diagnostic(`icebird: ${rows.length} rows, ${withTier} with loyalty_tier`);
    }, context));

    it('checkTable on a copy of the bucket; every lakehose.objects identity in one snapshot', failWith(async (t) => {
      const checked = await checkTable(tableDir, conn, { rest: true });
      assert.deepEqual(checked.meta.current, JSON.parse(toJson(lake.cat.table(NS, TABLE).metadata)), 'the last metadata file is the catalog\'s current metadata');
      const recs = await currentRecords(checked, conn);
      const v = verdict(recs, new Set(acked), new Set(acked));
      assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0, describeVerdict(v, recs));
      const n = assertIdentitiesOnce(lake.cat.table(NS, TABLE).metadata);
      for (const s of checked.meta.current.snapshots) assert.equal(s.summary['lakehose.pipeline'], PIPELINE);
      t.diagnostic(`${checked.meta.versions.length} metadata versions, ${recs.files} live data files, ${n} object identities`);
    }, context));

    it('`lakehose table inspect --json` shows the catalog\'s metadata location and the records', failWith(async () => {
      const r = await run(CLI_BIN, ['table', 'inspect', '--config', configPath, '--pipeline', PIPELINE, '--json'], { timeoutMs: TOOL_TIMEOUT_MS, env: serverEnv(dir) });
      assert.equal(r.code, 0, `lakehose table inspect: ${r.stderr}`);
      const j = parseJson(r.stdout);
      const { metadataLocation, metadata } = lake.cat.table(NS, TABLE);
      assert.equal(j.metadata_location, metadataLocation);
      assert.equal(j.records, acked.length, 'records');
      assert.equal(String(j.current_snapshot_id), String(metadata['current-snapshot-id']), 'current_snapshot_id');
    }, context));

    it('metrics: catalog requests ok, none denied; SIGTERM exits 0', failWith(async () => {
      const v = await metricsOf(server);
      assert.ok(v('lakehose_iceberg_catalog_requests_total', { result: 'ok' }) > 0, 'lakehose_iceberg_catalog_requests_total{result="ok"}');
      assert.equal(v('lakehose_iceberg_catalog_requests_total', { result: 'denied' }), 0, 'denied');
      assert.equal(v('lakehose_iceberg_commits_total'), BATCHES, 'lakehose_iceberg_commits_total');
      assert.equal(v('lakehose_iceberg_records_committed_total'), acked.length, 'lakehose_iceberg_records_committed_total');
      assert.equal(v('lakehose_iceberg_commit_unknown_total'), 0, 'lakehose_iceberg_commit_unknown_total');
      assert.deepEqual(await server.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null }, server.tail());
    }, context));
  });

  describe('2. catalog faults on commits and loads (request_timeout_s 2)', () => {
    const PER_STEP = 150;
    const TIMEOUT_S = 2;
    // unknown: the commit's outcome is unknown to lakehose (5xx, no answer, its own
    // timeout), which it counts and resolves by reloading.
    const STEPS = [
      { faults: [{ op: 'commit', kind: '409' }], conflict: true },
      { faults: [{ op: 'commit', kind: '500-after-apply' }], unknown: true },
      { faults: [{ op: 'commit', kind: '503' }], unknown: true },
      { faults: [{ op: 'commit', kind: '502' }], unknown: true },
      { faults: [{ op: 'commit', kind: '504' }], unknown: true },
      { faults: [{ op: 'commit', kind: 'reset-before' }], unknown: true },
      { faults: [{ op: 'commit', kind: 'reset-after-apply' }], unknown: true },
      { faults: [{ op: 'commit', kind: 'delay', ms: (TIMEOUT_S + 2) * 1000 }], unknown: true },
      { faults: [{ op: 'commit', kind: '500-after-apply' }, { op: 'load', kind: '503' }] },
      { faults: [{ op: 'load', kind: 'reset-before' }, { op: 'load', kind: '502' }] },
      { faults: [{ op: 'load', kind: 'delay', ms: (TIMEOUT_S + 1) * 1000 }, { op: 'commit', kind: 'reset-after-apply' }] },
    ];
    const dir = join(work.path, 'faults');
    const lakeDir = join(dir, 'lake');
    let lake;
    let server;
    const acked = new Set();
    const results = [];  // per step: { name, step, unknown, conflicts (metric deltas), seen (the requests) }
    const context = () => (server ? `\n-- server (tail):\n${server.tail(20)}` : '');

    before(async () => {
      lake = await startRestLake({ dir: join(dir, 's3rver'), auth: S3TABLES });
      work.defer(() => lake.close());
      ({ server } = startServer(dir, 'server', restConfigYaml({
        dataDir: join(dir, 'var'), writerId: 'w0', endpoint: lake.front.endpoint, sizeMb: 16, intervalS: 3600, commitIntervalS: 3600,
        catalog: { uri: lake.cat.url, auth: { sigv4: { service: 's3tables' } }, requestTimeoutS: TIMEOUT_S },
      })));
      await server.waitForPort(PORT_TIMEOUT_MS);
    });

    it('after each fault, the next records too: every acked record once in the current snapshot, no identity twice', failWith(async (t) => {
      const { cat } = lake;
      const gen = await records((STEPS.length + 1) * PER_STEP);
      // A first commit with no fault: the table exists.
      await ingest(server, gen, 0, PER_STEP, acked);
      assert.equal(await flushUntilDone(server), 0, 'the first Flush, no fault');
      for (const [i, step] of STEPS.entries()) {
        const name = step.faults.map((f) => `${f.op} ${f.kind}`).join(' + ');
        const v0 = await metricsOf(server);
        const before = { unknown: v0('lakehose_iceberg_commit_unknown_total'), conflicts: v0('lakehose_iceberg_commit_conflicts_total'), requests: cat.requests.length };
        cat.faults.push(...step.faults.map((f) => ({ ...f })));
        await ingest(server, gen, (i + 1) * PER_STEP, (i + 2) * PER_STEP, acked);
        const failedFlushes = await flushUntilDone(server);
        const taken = cat.requests.slice(before.requests).filter((r) => r.fault).map((r) => `${r.fault.op} ${r.fault.kind}`);
        const seen = cat.requests.slice(before.requests).map((r) => `${r.op} ${r.status ?? 'none'}${r.fault ? ` (${r.fault.kind})` : ''}`).join(', ');
        assert.deepEqual(cat.faults, [], `${name}: faults not taken (requests: ${seen})`);
        const { metadata } = cat.table(NS, TABLE);
        assert.equal(currentTotalRecords(metadata), acked.size, `${name}: total-records of the current snapshot`);
        assertIdentitiesOnce(metadata);
        const v = await metricsOf(server);
        const unknown = v('lakehose_iceberg_commit_unknown_total') - before.unknown;
        const conflicts = v('lakehose_iceberg_commit_conflicts_total') - before.conflicts;
        results.push({ name, step, unknown, conflicts, seen });
        assert.deepEqual(cat.violations, [], `${name}: violations`);
        t.diagnostic(`${name}: requests ${seen}; Flushes failed first ${failedFlushes}; unknown +${unknown}, conflicts +${conflicts}; ${metadata.snapshots.length} snapshots`);
      }
    }, context));

    // Counted: commit_unknown_total for every answer that leaves the outcome unknown, and
    // commit_conflicts_total (not unknown) for a 409.
    const countedRight = (r) => {
      if (r.step.unknown) assert.ok(r.unknown >= 1, `${r.name}: lakehose_iceberg_commit_unknown_total did not count the unknown outcome (requests: ${r.seen})`);
      if (r.step.conflict) {
        assert.equal(r.unknown, 0, `${r.name}: a 409 is not an unknown outcome`);
        assert.ok(r.conflicts >= 1, `${r.name}: lakehose_iceberg_commit_conflicts_total did not count the 409`);
      }
    };
    const RESETS = /reset/;
    it('the unknown outcomes of 5xx answers and timeouts are counted (commit_unknown_total), a 409 as a conflict', failWith(async () => {
      assert.equal(results.length, STEPS.length, 'every step ran');
      for (const r of results.filter((x) => !RESETS.test(x.name))) countedRight(r);
    }, context));

    // A commit whose connection is reset (before or after the catalog applied it) is an
    // unknown outcome, resolved by reloading: the HTTP client must not send it again on
    // its own (libcurl would, on a reused connection that died with no answer, and a reset
    // after applying then came back as a 409 for its own change).
    it('a commit whose connection is reset is counted as an unknown outcome', () => {
      assert.equal(results.length, STEPS.length, 'every step ran');
      for (const r of results.filter((x) => RESETS.test(x.name))) countedRight(r);
    });

    let finalMetrics = null;
    it('the data files: every acked record once; the front saw no delete; SIGTERM exits 0', failWith(async (t) => {
      const v = await metricsOf(server);
      finalMetrics = v;
      const stats = lake.front.stats();
      for (const op of DELETES) assert.equal(stats.byOperation[op] ?? 0, 0, `${op} through the front`);
      assert.deepEqual(await server.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null }, server.tail());
      const { tableDir } = await lake.download(lakeDir);
      const checked = await checkTable(tableDir(NS, TABLE), conn, { rest: true, deep: false, python: false });
      const recs = await currentRecords(checked, conn);
      const verdictAll = verdict(recs, acked, acked);
      assert.ok(verdictAll.missing.length === 0 && verdictAll.duplicates.length === 0 && verdictAll.strangers.length === 0, describeVerdict(verdictAll, recs));
      t.diagnostic(`commits ${v('lakehose_iceberg_commits_total')}, unknown ${v('lakehose_iceberg_commit_unknown_total')}, conflicts ${v('lakehose_iceberg_commit_conflicts_total')}, ` +
        `failures ${v('lakehose_iceberg_commit_failures_total')}, catalog requests ok ${v('lakehose_iceberg_catalog_requests_total', { result: 'ok' })} ` +
        `error ${v('lakehose_iceberg_catalog_requests_total', { result: 'error' })}; front ${JSON.stringify(stats.byOperation)}`);
    }, context));

    // A commit whose answer was lost and which the reload found applied is this writer's
    // snapshot like any other, and counted as one.
    it('lakehose_iceberg_commits_total counts every snapshot of the writer, _records_committed_total every record', () => {
      const { metadata } = lake.cat.table(NS, TABLE);
      assert.ok(finalMetrics, 'the metrics were read');
      assert.equal(finalMetrics('lakehose_iceberg_commits_total'), metadata.snapshots.length, 'lakehose_iceberg_commits_total vs the snapshots of w0');
      assert.equal(finalMetrics('lakehose_iceberg_records_committed_total'), acked.size, 'lakehose_iceberg_records_committed_total vs the records');
    });
  });

  describe(`3. two writers on one table for ${SECONDS} s`, () => {
    const WRITERS = 2;
    const PACE_MS = 100;
    const FLUSH_EVERY_MS = 2_000;
    const dir = join(work.path, 'writers');
    const lakeDir = join(dir, 'lake');
    let lake;
    const writers = [];
    const context = () => writers.map((wr) => `\n-- ${wr.id} (tail):\n${wr.server.tail(10)}`).join('');

    it('both complete; every acked record of both once; 409s seen and retried', failWith(async (t) => {
      lake = await startRestLake({ dir: join(dir, 's3rver'), auth: S3TABLES });
      work.defer(() => lake.close());
      for (let w = 0; w < WRITERS; w++) {
        const id = `w${w}`;
        const { server } = startServer(join(dir, id), id, restConfigYaml({
          dataDir: join(dir, id, 'var'), writerId: id, endpoint: lake.front.endpoint, sizeMb: 0.05, intervalS: 1, commitIntervalS: 1,
          catalog: { uri: lake.cat.url, auth: { sigv4: { service: 's3tables' } } },
        }));
        writers.push({ id, server, gen: await records(Math.ceil(SECONDS * 3_000)), acked: new Set(), sent: new Set(), errors: {} });
      }
      for (const wr of writers) {
        await wr.server.waitForPort(PORT_TIMEOUT_MS);
        wr.clients = clientsFor(wr.server.target);
        await waitForReady(wr.clients.ingestor, 10_000);
      }
      const end = Date.now() + SECONDS * 1000;
      const senders = writers.map((wr) => startSenders({
        ingestor: wr.clients.ingestor, pipeline: PIPELINE, gen: wr.gen, acked: wr.acked, sent: wr.sent, batch: 100,
        concurrency: 2, tag: wr.id, deadlineMs: RPC_DEADLINE_MS, until: () => Date.now() >= end,
        onResult: async (r) => {
          if (r.error) wr.errors[statusName(r.error.code)] = (wr.errors[statusName(r.error.code)] ?? 0) + 1;
          await sleep(PACE_MS);
        },
      }));
      // Flushes at both at once: their commits race from the same base.
      const flusher = async () => {
        while (Date.now() + FLUSH_EVERY_MS < end) {
          await sleep(FLUSH_EVERY_MS);
          await Promise.all(writers.map((wr) => flush(wr.clients.ingestor, PIPELINE, RPC_DEADLINE_MS).catch(() => {})));
        }
      };
      await withTimeout(Promise.all([...senders.map((x) => x.done), flusher()]), SECONDS * 1000 + 2 * RPC_DEADLINE_MS, 'the senders to finish');
      await Promise.all(writers.map((wr) => flushRetrying(wr.clients.ingestor, PIPELINE, FLUSH_TIMEOUT_MS)));
      let conflicts = 0;
      for (const wr of writers) {
        const v = await metricsOf(wr.server);
        wr.metrics = { commits: v('lakehose_iceberg_commits_total'), conflicts: v('lakehose_iceberg_commit_conflicts_total'), unknown: v('lakehose_iceberg_commit_unknown_total') };
        conflicts += wr.metrics.conflicts;
        wr.clients.close();
        assert.deepEqual(await wr.server.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null }, `${wr.id} on SIGTERM:\n${wr.server.tail()}`);
      }
      const { cat } = lake;
      const refused = cat.requests.filter((r) => r.op === 'commit' && r.status === 409).length;
      const { metadata } = cat.table(NS, TABLE);
      assertIdentitiesOnce(metadata);
      const { tableDir } = await lake.download(lakeDir);
      const checked = await checkTable(tableDir(NS, TABLE), conn, { rest: true, deep: false, python: false });
      const recs = await currentRecords(checked, conn);
      const acked = new Set(writers.flatMap((wr) => [...wr.acked]));
      const sent = new Set(writers.flatMap((wr) => [...wr.sent]));
      const v = verdict(recs, acked, sent);
      for (const wr of writers) t.diagnostic(`${wr.id}: sent ${wr.sent.size}, acked ${wr.acked.size}, errors ${JSON.stringify(wr.errors)}, metrics ${JSON.stringify(wr.metrics)}`);
      t.diagnostic(`${metadata.snapshots.length} snapshots, ${recs.files} live files, ${recs.lines} rows; commits refused with 409 by the catalog ${refused}; ` +
        `missing ${v.missing.length}, duplicates ${v.duplicates.length}, never sent ${v.strangers.length}, unacked present ${v.unackedPresent}`);
      assert.deepEqual(cat.violations, [], 'violations');
      assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0, describeVerdict(v, recs));
      for (const wr of writers) {
        assert.ok(wr.acked.size > 0, `${wr.id}: nothing acked`);
        assert.ok(metadata.snapshots.some((s) => s.summary['lakehose.writer-id'] === wr.id), `${wr.id}: no snapshot`);
      }
      assert.ok(metadata.snapshots.every((s) => writers.some((wr) => wr.id === s.summary['lakehose.writer-id'])), 'every snapshot is w0\'s or w1\'s');
      assert.ok(refused > 0 && conflicts > 0, `no conflict: the catalog refused ${refused} commits with 409, lakehose_iceberg_commit_conflicts_total ${conflicts}`);
    }, context));
  });

  describe('4. OAuth2 client credentials (tokens living 4 s) and a bearer token file', () => {
    const CLIENT = 'lakehose-writer';
    const SECRET = `oauth-secret-${randomUUID()}`;
    const TTL_S = 4;
    const RUN_MS = 3 * TTL_S * 1000;
    const STEP_MS = 1_500;
    const dir = join(work.path, 'oauth');
    let lake;
    let server;
    const context = () => (server ? `\n-- server (tail):\n${server.tail(20)}` : '');

    before(async () => {
      lake = await startRestLake({ dir: join(dir, 's3rver'), auth: { oauth2: { clientId: CLIENT, clientSecret: SECRET, tokenTtlS: TTL_S } } });
      work.defer(() => lake.close());
    });

    const oauthConfig = (name, secret) => {
      const secretFile = join(dir, `${name}.secret`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
      return restConfigYaml({
        dataDir: join(dir, name, 'var'), writerId: 'w0', endpoint: lake.front.endpoint, sizeMb: 16, intervalS: 3600, commitIntervalS: 3600,
        catalog: { uri: lake.cat.url, auth: { oauth2: { token_uri: lake.cat.tokenUri, client_id: CLIENT, client_secret_file: secretFile } } },
      });
    };

    it(`records committed over ${RUN_MS / 1000} s: tokens refreshed before expiry; a revoked token -> 401 -> a new token`, failWith(async (t) => {
      ({ server } = startServer(join(dir, 'good'), 'good', oauthConfig('good', SECRET)));
      await server.waitForPort(PORT_TIMEOUT_MS);
      const { cat } = lake;
      const gen = await records(2_000);
      const acked = new Set();
      const start = Date.now();
      let next = 0;
      let revokedAt = null;  // index in cat.requests when the tokens were revoked
      const tokensSoFar = () => cat.requests.filter((r) => r.op === 'token' && r.status === 200).length;
      for (let round = 0; Date.now() - start < RUN_MS || revokedAt === null; round++) {
        assert.ok(round < 100, 'bounded rounds');
        const roundStart = Date.now();
        const tokensBefore = tokensSoFar();
        await ingest(server, gen, next, next + 50, acked);
        next += 50;
        await flushUntilDone(server);
        // Revoked right after a round that took a new token: the next round's requests come
        // before lakehose's own refresh (at 80% of the token's life) is due.
        if (revokedAt === null && Date.now() - start > RUN_MS / 2 && tokensSoFar() > tokensBefore) {
          revokedAt = cat.requests.length;
          cat.expireTokens();
        }
        await sleep(Math.max(0, STEP_MS - (Date.now() - roundStart)));
      }
      await ingest(server, gen, next, next + 50, acked);
      await flushUntilDone(server);
      const { metadata } = cat.table(NS, TABLE);
      const early = cat.requests.slice(0, revokedAt);
      const late = cat.requests.slice(revokedAt);
      const show = (list) => list.map((r) => `${r.op} ${r.status}`).join(', ');
      t.diagnostic(`${Date.now() - start} ms, ${acked.size} records; before the revocation: ${early.filter((r) => r.op === 'token').length} token requests; after: ${show(late)}`);
      // The fake records a revoked token's use as a violation: those, and only after the revocation.
      assert.deepEqual(early.flatMap((r) => r.violations), [], 'violations before the revocation');
      const expired = cat.takeViolations();
      assert.ok(expired.every((x) => x.kind === 'auth' && /expired/.test(x.message)), `violations: ${JSON.stringify(expired)}`);
      assert.equal(expired.length, late.filter((r) => r.status === 401).length, 'a violation per 401');
      assert.equal(currentTotalRecords(metadata), acked.size, 'total-records of the current snapshot');
      assertIdentitiesOnce(metadata);
      assert.ok(early.filter((r) => r.op === 'token' && r.status === 200).length >= 2, `one token for ${RUN_MS / 2} ms of ${TTL_S}-second tokens: ${show(early)}`);
      assert.deepEqual(early.filter((r) => r.status === 401).map((r) => `${r.op} ${r.path}`), [], 'a request with an expired token before the revocation (no refresh before expiry)');
      for (const r of cat.requests.filter((x) => x.op !== 'token')) assert.match(r.headers.authorization ?? '', /^Bearer tok-/, `${r.method} ${r.path}: Authorization`);
      const first401 = late.findIndex((r) => r.status === 401);
      assert.ok(first401 >= 0, `no 401 after the tokens were revoked: ${show(late)}`);
      const after401 = late.slice(first401 + 1);
      assert.ok(after401.length >= 2 && after401[0].op === 'token' && after401[0].status === 200 && after401[1].op === late[first401].op && after401[1].status < 300,
        `after the 401: a new token, then the same request again: ${show(late)}`);
      const v = await metricsOf(server);
      assert.equal(v('lakehose_iceberg_records_committed_total'), acked.size, 'lakehose_iceberg_records_committed_total');
    }, context));

    it('a wrong secret stops start-up, naming the client and invalid_client, never the secret', failWith(async () => {
      const wrong = `wrong-secret-${randomUUID()}`;
      const { server: bad } = startServer(join(dir, 'bad'), 'bad', oauthConfig('bad', wrong));
      const exit = await withTimeout(bad.exited, PORT_TIMEOUT_MS, 'the server to exit on a wrong secret');
      assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      assert.ok(bad.output.includes(CLIENT), `the client id is not named:\n${bad.tail()}`);
      assert.match(bad.output, /invalid_client|refused/, 'invalid_client or refused');
      assert.ok(!bad.output.includes(wrong) && !bad.output.includes(SECRET), `a secret in the output:\n${bad.tail()}`);
      assert.ok(lake.cat.requests.some((r) => r.op === 'token' && r.status === 401), 'the token endpoint refused the client');
    }, () => ''));

    it('a bearer token file: every request carries it', failWith(async () => {
      const TOKEN = `static-${randomUUID()}`;
      const bearerLake = await startRestLake({ dir: join(dir, 's3rver-bearer'), auth: { bearer: TOKEN } });
      work.defer(() => bearerLake.close());
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
      const { server: srv } = startServer(join(dir, 'bearer'), 'bearer', restConfigYaml({
        dataDir: join(dir, 'bearer', 'var'), writerId: 'w0', endpoint: bearerLake.front.endpoint, sizeMb: 16, intervalS: 3600, commitIntervalS: 3600,
        catalog: { uri: bearerLake.cat.url, auth: { token_file: tokenFile } },
      }));
      await srv.waitForPort(PORT_TIMEOUT_MS);
      const gen = await records(200);
      const acked = new Set();
      await ingest(srv, gen, 0, 200, acked);
      await flushUntilDone(srv);
      const { cat } = bearerLake;
      assert.deepEqual(cat.violations, [], 'violations');
      assert.equal(currentTotalRecords(cat.table(NS, TABLE).metadata), acked.size, 'total-records');
      for (const r of cat.requests) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, `${r.method} ${r.path}`);
      assert.ok(!srv.output.includes(TOKEN), 'the token in the server output');
      await srv.stop(EXIT_TIMEOUT_MS);
    }, context));
  });

  describe('5. what a user meets: a wrong signing name, an unreachable catalog, create.table false', () => {
    const dir = join(work.path, 'user');
    let lake;
    const config = (name, catalog) => restConfigYaml({
      dataDir: join(dir, name, 'var'), writerId: 'w0', endpoint: lake.front.endpoint, sizeMb: 16, intervalS: 1, commitIntervalS: 1,
      catalog: { uri: lake.cat.url, auth: { sigv4: { service: 's3tables' } }, ...catalog },
    });

    before(async () => {
      lake = await startRestLake({ dir: join(dir, 's3rver'), auth: S3TABLES });
      work.defer(() => lake.close());
    });

    it('signing name glue against an s3tables catalog: start-up fails naming the catalog URI and glue', failWith(async () => {
      const { server } = startServer(join(dir, 'glue'), 'glue', config('glue', { auth: { sigv4: { service: 'glue' } } }));
      const exit = await withTimeout(server.exited, PORT_TIMEOUT_MS, 'the server to exit');
      assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      assert.ok(server.output.includes(lake.cat.url), `the catalog URI is not named:\n${server.tail()}`);
      assert.match(server.output, /glue/, 'the signing name');
      const refused = lake.cat.takeViolations();
      assert.ok(refused.length > 0 && refused.every((x) => x.kind === 'auth' && /not 'glue'/.test(x.message)), `the catalog refused the signature: ${JSON.stringify(refused)}`);
    }));

    it('an unreachable catalog does not stop start-up (iceberg.catalog_unreachable)', failWith(async () => {
      const port = await closedPort();
      const { server } = startServer(join(dir, 'away'), 'away', config('away', { uri: `http://127.0.0.1:${port}` }));
      await server.waitForPort(PORT_TIMEOUT_MS);
      const events = await server.waitForEvent('iceberg.catalog_unreachable', 10_000);
      assert.ok(events.length > 0, `no iceberg.catalog_unreachable:\n${server.tail()}`);
      assert.deepEqual(await server.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null });
    }));

    it('create.table false and no table: records kept (stores fail, naming create.table); all committed once the table may be created', failWith(async (t) => {
      const { server } = startServer(join(dir, 'nocreate'), 'nocreate', config('nocreate', { create: { table: false } }));
      await server.waitForPort(PORT_TIMEOUT_MS);
      const gen = await records(300);
      const acked = new Set();
      await ingest(server, gen, 0, 300, acked);
      // The objects are sealed (interval_s 1) and their stores fail: a REST table's files go
      // where the catalog's table is.
      const failed = await server.waitForEvent('delivery.store_failed', 15_000);
      assert.ok(failed.length > 0, `no delivery.store_failed:\n${server.tail()}`);
      assert.match(failed[0].error, /create\.table is false/, 'the store failure names create.table');
      let retries = 0;
      for (let i = 0; i < 50 && retries === 0; i++) {
        retries = (await metricsOf(server))('lakehose_delivery_retries_total');
        if (retries === 0) await sleep(100);
      }
      assert.ok(retries > 0, 'lakehose_delivery_retries_total');
      assert.equal(lake.cat.table(NS, TABLE), undefined, 'a table was created');
      assert.ok(!lake.cat.requests.some((r) => r.op === 'create-table'), 'a create-table request');
      t.diagnostic(`${failed.length} store failures, lakehose_delivery_retries_total ${retries}, commit failures ${(await metricsOf(server))('lakehose_iceberg_commit_failures_total')}`);
      // SIGKILL: what was acked is in the WAL; the next start (create.table true) commits it.
      await server.kill();
      const { server: again } = startServer(join(dir, 'nocreate'), 'again', config('nocreate', {}));
      await again.waitForPort(PORT_TIMEOUT_MS);
      await flushUntilDone(again);
      const { metadata } = lake.cat.table(NS, TABLE);
      assert.equal(currentTotalRecords(metadata), acked.size, 'total-records after the table could be created');
      assertIdentitiesOnce(metadata);
      assert.deepEqual(lake.cat.violations, [], 'violations');
      assert.deepEqual(await again.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null });
    }));
  });
});
