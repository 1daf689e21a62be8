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
//      then the data files at the end), no identity twice, commit_unknown_total counted,
//      the front saw no delete of any kind.
//   3. Two servers (w0, w1) on one table for --seconds with Flushes at both at once:
//      every acked record of both once, 409s seen and retried.
//   4. OAuth2 (tokens living 4 s): records over three token lifetimes, tokens refreshed
//      before expiry, a revoked token -> 401 -> a new token; a wrong secret stops
//      start-up naming the client and never the secret; a bearer token file.
//   5. Start-up failures and a missing table: signing name glue against an s3tables
//      catalog; an unreachable catalog (start-up goes on); create.table false with no
//      table (records kept, commit failures counted, then committed once the table may be
//      created).
//
//   node tests/iceberg/rest.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--seconds 10] [--keep]
//
// Every server listens on 127.0.0.1 port 0 and is killed in a clean-up; every wait is
// bounded. The catalog runs in this process: nothing here blocks the event loop.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';
import { IcebergRestCatalog } from 'iceberg-js';

import { ServerProcess, WorkDir, generate, run, serverEnv, sleep, suiteArgs, tail, withTimeout } from '../lib/harness.mjs';
import { clientsFor, flush, flushRetrying, ingestOnce, startSenders, statusName, waitForReady } from '../lib/grpc.mjs';
import { checkTable, currentRecords, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { describeVerdict, verdict } from '../lib/lake.mjs';
import { parseJson, toJson } from '../lib/rest_catalog.mjs';
import { WAREHOUSE, assertIdentitiesOnce, currentTotalRecords, restConfigYaml, sigv4Auth, sigv4Fetch, startRestLake } from '../lib/rest_lake.mjs';

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

const metricsOf = async (server) => {
  const s = await server.scrape();
  return (name, labels = {}) => s.value(name, { pipeline: PIPELINE, ...labels }) ?? 0;
};

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
});
