// An Iceberg table in Amazon S3 Tables through its own API (`catalog: { kind: s3tables }`):
// lakehose writes the metadata JSON files itself into the table's warehouse location
// (S3, through the verifying front over s3rver) and moves the table's pointer with
// UpdateTableMetadataLocation, guarded by the version token, against the strict fake
// (../lib/s3tables_api.mjs), which runs in this process and records every request.
//
//   1. One server (writer w0): batches sent with `lakehose send` and committed with
//      `lakehose flush`, the third with two new attributes (schema evolution); the table
//      and its namespace are created by lakehose (CreateTable's 404 -> CreateNamespace).
//   2. Faults on the API, each followed by a batch and a Flush: 409 on the update (a
//      concurrent writer won: reload, rebase, retry), 500 after the update applied and a
//      connection reset after it applied (outcome unknown: reload and find its own
//      snapshot, or send the same update again, which the token refuses if the first
//      applied), 500 and a reset before it applied, 503 on GetTableMetadataLocation, 429
//      and 403 on the update, an update delayed past request_timeout_s (answered after
//      lakehose committed again: 409), an update delayed past the timeout whose reload is
//      delayed longer (applied first: lakehose finds its snapshot); then more batches
//      without faults. SIGTERM: exit 0.
//   3. Two servers (w0 again, and w1) on the same table for --seconds, each fed by gRPC
//      senders, Flushes at both every second: their commits race for the version token.
//   4. Creation, on three more tables: CreateNamespace's answer lost (500) after it
//      applied and CreateTable's (a reset) after it applied; a table another writer
//      created and left without metadata, its warehouse a bucket's root as S3 Tables
//      gives them (checkTable cannot map a bucket's root: icebird and the rest only);
//      two servers creating one table at once.
//
// After 2, after 3 and for each table of 4 (with the servers stopped):
//   - the fake recorded no violation (signatures, paths, bodies, metadata locations under
//     the warehouse, every pointed-at file written before the update);
//   - every metadata location the table pointed at is
//     `<warehouse>/metadata/<NNNNN>-<uuid>.metadata.json`, numbered 0, 1, 2... without a
//     gap, and exists in the bucket;
//   - icebird reads the table through the current metadata location (a local copy of the
//     bucket, served over loopback): every acked record exactly once, nothing never sent;
//     DuckDB over the current snapshot's live files says the same;
//   - checkTable (../lib/iceberg.mjs, { rest: true }) on a copy of the table holding the
//     pointed-at metadata files (the others are attempts that lost a race, which lakehose
//     never deletes); each version's metadata-log names the locations before it, no lost
//     attempt; one table uuid;
//   - the snapshots form one chain of appends and no lakehose.objects identity of a
//     writer is in two of them (checkAppendHistory);
//   - the front saw no delete of any kind and refused nothing but failed preconditions;
//   - after 2: lakehose_iceberg_commit_unknown_total grew by one for each fault that left
//     an update's outcome unknown and by none for the others, the 403 counted as denied,
//     the 409 as a conflict; `lakehose table inspect --json` shows the fake's metadata
//     location, the current snapshot and every acked record;
//   - after 3: both writers committed, and the fake answered 409 to updates no fault
//     caused.
//
//   node tests/iceberg/s3tables.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--seconds 8] [--keep]
//
// Every server listens on 127.0.0.1 port 0; every wait is bounded; the fake and the front
// run in this process, so nothing here blocks the event loop (child processes are async).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { ServerProcess, WorkDir, exitWhenDone, generate, run, serverEnv, sleep, suiteArgs, tail, withNewAttributes, withTimeout } from '../lib/harness.mjs';
import { clientsFor, flush, flushRetrying, startSenders, statusName, waitForReady } from '../lib/grpc.mjs';
import { checkAppendHistory, checkTable, currentRecords, loadMetadata, mirrorS3, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { describeVerdict, downloadBucket, verdict } from '../lib/lake.mjs';
import { TEST_CREDENTIALS, TEST_REGION, assertFrontAccepted, startS3Front } from '../lib/s3_front.mjs';
import { parseJson } from '../lib/rest_catalog.mjs';
import { callS3TablesApi, encodeLabel, startS3TablesApi } from '../lib/s3tables_api.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { seconds: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--seconds 8] [--keep]',
});
const SECONDS = Number(args.seconds ?? 8);
if (!(SECONDS > 0)) { console.error('--seconds: > 0'); process.exit(2); }

const PIPELINE = 'tx';
const NAMESPACE = 'sales';
const NAME = 'orders';
const BUCKET = 'lake';
// The warehouse of one table (sales.refunds) is a bucket's root, as S3 Tables gives them
// (s3://<id>--table-s3): its metadata at metadata/..., its data at data/....
const ROOT_BUCKET = '3f1c2a9e7b4d5c6a8e0f--table-s3';
const TABLE_BUCKET_ARN = 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake';
const REQUEST_TIMEOUT_S = 2;
const BATCH_RECORDS = 300;
const PLAIN_BATCHES = 4;       // step 1
const EVOLVED_BATCH = 2;       // 0-based: the third batch has the new attributes
const AFTER_FAULT_BATCHES = 2; // step 2, after the faults
// Step 2: one fault, then one batch and a Flush. `unknown`: the update's outcome is not
// known to lakehose (applied or not).
const FAULTS = [
  { op: 'update', kind: '409' },
  { op: 'update', kind: '500-after-apply', unknown: true },
  { op: 'update', kind: 'reset-after-apply', unknown: true },
  { op: 'update', kind: '500', unknown: true },
  { op: 'update', kind: 'reset-before', unknown: true },
  { op: 'get', kind: '503' },
  // S3 Tables refuses a throttled request before applying it: a known outcome (tried
  // again), not counted as unknown.
  { op: 'update', kind: '429' },
  // Denied: the commit fails (nothing applied); the Flush may say so; the next one commits.
  { op: 'update', kind: '403', flushMayFail: true },
  // Answered after lakehose gave up, and refused then (lakehose committed again first).
  { op: 'update', kind: 'delay', ms: (REQUEST_TIMEOUT_S + 2) * 1000, unknown: true },
  // Applied after lakehose gave up but before its reload answers (that GET delayed too):
  // the reload shows lakehose its own snapshot.
  { op: 'update', kind: 'delay', ms: REQUEST_TIMEOUT_S * 1000 + 500, unknown: true, reloadDelayMs: 2_000 },
];
const CREATION_BATCHES = 4;    // step 4: one per server
const RACE_RECORDS = Math.ceil(SECONDS * 3_000);  // per writer, more than paced senders send
const RACE_BATCH = 100;
const RACE_PACE_MS = 100;
const PORT_TIMEOUT_MS = 30_000;
const TOOL_TIMEOUT_MS = 120_000;
const FLUSH_TIMEOUT_MS = 60_000;
const RPC_DEADLINE_MS = 15_000;
const EXIT_TIMEOUT_MS = 30_000;
const SUITE_TIMEOUT_MS = 540_000;
const SEND_SUMMARY = /lakehose send: (\d+) records: (\d+) ok, (\d+) dropped, (\d+) failed/;
const METADATA_RE = /^metadata\/(\d{5})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.metadata\.json$/;

// One pipeline writing sales.orders in the S3 Tables table bucket: the files at the
// table's warehouse location through the front, the pointer through the fake API.
function s3tablesConfig({ dataDir, writerId, frontEndpoint, apiUrl, table }) {
  return [
    'server:',
    `  data_dir: ${JSON.stringify(dataDir)}`,
    `  writer_id: ${writerId}`,
    'pipelines:',
    `  - name: ${PIPELINE}`,
    '    input: dynamodb-stream',
    '    image: new-or-old',
    '    metadata: [eventID]',
    '    partition_keys:',
    '      region: { attribute: region, default: unknown }',
    '      date:   { timestamp: timestamp, unit: ms, format: "%Y-%m-%d", fallback: approximate_creation_time }',
    '      hour:   { timestamp: timestamp, unit: ms, format: "%H", fallback: approximate_creation_time }',
    '    destination:',
    '      kind: s3',
    `      endpoint: ${frontEndpoint}`,
    '      force_path_style: true',
    `      region: ${TEST_REGION}`,
    '      format: iceberg',
    '      buffering: { size_mb: 1, interval_s: 1 }',
    '      iceberg:',
    `        table: ${table}`,
    '        commit_interval_s: 1',
    '        catalog:',
    '          kind: s3tables',
    `          warehouse: ${TABLE_BUCKET_ARN}`,
    `          uri: ${apiUrl}`,
    `          request_timeout_s: ${REQUEST_TIMEOUT_S}`,
    '',
  ].join('\n');
}

describe('an Iceberg table in S3 Tables through its own API (CreateTable, GetTableMetadataLocation, UpdateTableMetadataLocation)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let work;
  let front;
  let api;
  let duck;
  let conn;
  const servers = new Map();  // writer id -> { dir, cfg, server }
  // A table this suite writes: what was sent to it and acknowledged.
  const newTarget = (ns, name, bucket = BUCKET) => ({ ns, name, bucket, acked: new Set(), sent: new Set() });
  const main = newTarget(NAMESPACE, NAME);
  let lines;                  // generated records for steps 1 and 2
  let next = 0;               // the next of `lines` to send
  let batchNo = 0;

  const headObject = async (bucket, key) => (await fetch(`${front.s3rverEndpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'HEAD', signal: AbortSignal.timeout(10_000) })).status;
  // The key of an s3:// URI in `bucket` ('' for the bucket's root).
  const keyOf = (uri, bucket = BUCKET) => {
    if (uri === `s3://${bucket}`) return '';
    assert.ok(uri.startsWith(`s3://${bucket}/`), `${uri} is not in the bucket ${bucket}`);
    return uri.slice(`s3://${bucket}/`.length);
  };
  const table = (target = main) => api.table(target.ns, target.name);
  const serverTails = () => [...servers].map(([id, s]) => `\n-- ${id} (tail):\n${s.server?.tail(30) ?? ''}`).join('');

  before(async () => {
    work = new WorkDir('lakehose-s3tables-', { keep: args.keep });
    front = await startS3Front({ buckets: [BUCKET, ROOT_BUCKET], s3rverDir: join(work.path, 's3rver'), log: (l) => console.error(l) });
    api = await startS3TablesApi({
      region: TEST_REGION, credentials: TEST_CREDENTIALS, tableBucketArn: TABLE_BUCKET_ARN,
      warehouseLocation: (ns, name) => (`${ns}.${name}` === 'sales.refunds' ? `s3://${ROOT_BUCKET}` : `s3://${BUCKET}/tables/${randomUUID()}`),
      // lakehose must write a metadata file before pointing the table at it.
      checkMetadataLocation: async (uri) => {
        const bucket = uri.slice('s3://'.length).split('/')[0];
        const status = await headObject(bucket, keyOf(uri, bucket));
        return status === 200 ? null : `HEAD of the object answered ${status}`;
      },
      log: (l) => console.error(l),
    });
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
    const gen = await generate(CLI_BIN, BATCH_RECORDS * (PLAIN_BATCHES + FAULTS.length + AFTER_FAULT_BATCHES + CREATION_BATCHES), 1403);
    lines = gen.lines;
  });

  after(async () => {
    for (const s of servers.values()) await s.server?.kill().catch(() => {});
    // For a post-mortem (kept with --keep or after a failure): every request the fake saw.
    if (api && work) writeFileSync(join(work.path, 'api-requests.json'), JSON.stringify(api.requests, null, 1));
    conn?.closeSync?.();
    duck?.closeSync?.();
    await api?.close();
    await front?.close();
    await work?.close();
  });

  // Each step builds on the one before: after a failure the later ones fail at once
  // (but for `independent` ones).
  let failedStep = null;
  const failWith = (fn, { independent = false } = {}) => async (t) => {
    if (!independent) assert.equal(failedStep, null, `not run: the step "${failedStep}" failed`);
    try {
      await fn(t);
    } catch (err) {
      failedStep = t.name;
      work?.fail();
      err.message += serverTails();
      throw err;
    }
  };

  async function startServer(id, target = main) {
    if (!servers.has(id)) {
      const dir = join(work.path, id);
      mkdirSync(dir, { recursive: true });
      const cfg = join(dir, 'lakehose.yaml');
      writeFileSync(cfg, s3tablesConfig({ dataDir: join(dir, 'var'), writerId: id, frontEndpoint: front.endpoint, apiUrl: api.url, table: `${target.ns}.${target.name}` }));
      servers.set(id, { dir, cfg, server: null });
    }
    const s = servers.get(id);
    s.server = new ServerProcess(SERVER_BIN, { dir: s.dir, configPath: s.cfg, env: serverEnv(s.dir), name: id });
    await s.server.waitForPort(PORT_TIMEOUT_MS);
    return s.server;
  }

  async function stopServer(id) {
    const { server } = servers.get(id);
    const exit = await server.stop(EXIT_TIMEOUT_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, `${id} on SIGTERM:\n${server.tail()}`);
  }

  // The next BATCH_RECORDS records through `lakehose send` (all acked), then `lakehose
  // flush`, into `target`. Resolves the table's history length after the Flush.
  async function sendBatch(server, { evolved = false, target = main, flushMayFail = false } = {}) {
    const b = batchNo++;
    const part = lines.slice(next, next + BATCH_RECORDS).map((l, i) => (evolved ? withNewAttributes(l, i) : l));
    next += part.length;
    assert.equal(part.length, BATCH_RECORDS, 'enough generated records');
    const file = join(work.path, `batch-${b}.jsonl`);
    writeFileSync(file, `${part.join('\n')}\n`);
    const ids = part.map((l) => JSON.parse(l).eventID);
    for (const id of ids) target.sent.add(id);
    const send = await run(CLI_BIN, ['send', '--target', server.target, '--pipeline', PIPELINE, '--input', file, '--batch', '100'], { timeoutMs: TOOL_TIMEOUT_MS });
    assert.equal(send.code, 0, `lakehose send (batch ${b}) exited ${send.code}:\n${tail(send.stderr)}`);
    const s = SEND_SUMMARY.exec(send.stderr);
    assert.ok(s, `no summary from lakehose send:\n${tail(send.stderr)}`);
    assert.deepEqual(s.slice(1, 5).map(Number), [part.length, part.length, 0, 0], `batch ${b}: ${s[0]}`);
    for (const id of ids) target.acked.add(id);
    const flushArgs = ['flush', '--target', server.target, '--pipeline', PIPELINE];
    let f = await run(CLI_BIN, flushArgs, { timeoutMs: FLUSH_TIMEOUT_MS + 10_000 });
    if (f.code !== 0 && flushMayFail) {
      target.flushFailures = [...(target.flushFailures ?? []), tail(f.stderr, 3)];
      f = await run(CLI_BIN, flushArgs, { timeoutMs: FLUSH_TIMEOUT_MS + 10_000 });
    }
    assert.equal(f.code, 0, `lakehose flush (batch ${b}) exited ${f.code}:\n${tail(f.stderr)}`);
    return table(target)?.history.length ?? 0;
  }

  // Everything this suite asserts of the table at rest (servers stopped). `label` names
  // the local copy. Resolves { history, snapshots, orphans }.
  async function verifyTable(t, label, { deep, target = main }) {
    const { acked, sent, bucket } = target;
    assert.deepEqual(api.violations, [], 'the fake S3 Tables API recorded violations');
    const st = table(target);
    assert.ok(st, 'the table exists in the table bucket');
    const wh = st.warehouseLocation;
    assert.ok(st.history.length > 0, 'the table points at a metadata file');
    assert.equal(st.metadataLocation, st.history.at(-1));
    st.history.forEach((loc, i) => {
      assert.ok(loc.startsWith(`${wh}/`), `${loc} is under the warehouse ${wh}`);
      const m = METADATA_RE.exec(loc.slice(wh.length + 1));
      assert.ok(m, `${loc}: not <warehouse>/metadata/<NNNNN>-<uuid>.metadata.json`);
      assert.equal(Number(m[1]), i, `the table's metadata location #${i} is numbered ${m[1]}: ${st.history.join(', ')}`);
    });

    // A copy of the bucket; the metadata files the table never pointed at moved aside.
    const root = join(work.path, `copy-${label}`);
    const ofBucket = bucket === front.bucket ? front : { ...front, bucket, getObject: (key) => front.getObject(key, bucket) };
    const keys = new Set(await downloadBucket(ofBucket, root));
    for (const loc of st.history) assert.ok(keys.has(keyOf(loc, bucket)), `${loc} (pointed at) is not in the bucket`);
    const tableKey = keyOf(wh, bucket);
    const pointed = new Set(st.history.map((loc) => keyOf(loc, bucket)));
    const orphans = [...keys].filter((k) => k.startsWith(`${tableKey ? `${tableKey}/` : ''}metadata/`) && k.endsWith('.metadata.json') && !pointed.has(k));
    const aside = join(work.path, `orphans-${label}`);
    mkdirSync(aside, { recursive: true });
    for (const k of orphans) renameSync(join(root, ...k.split('/')), join(aside, k.split('/').at(-1)));
    mirrorS3(`s3://${bucket}`, root);
    const tableDir = join(root, ...tableKey.split('/').filter(Boolean));

    // checkTable maps the table's location to tableDir through mirrorS3, which maps keys
    // under a bucket, not a bucket's root: for a table there, its metadata alone.
    const checked = tableKey ? await checkTable(tableDir, conn, { rest: true, deep, python: false }) : { meta: loadMetadata(tableDir, { rest: true }) };
    const m = checked.meta.current;
    assert.equal(checked.meta.versions.at(-1).file, st.metadataLocation.split('/').at(-1), 'checkTable read the current metadata location');
    assert.equal(m.location, wh, 'the metadata\'s location is the warehouse location');
    // Each version's metadata-log names the versions the table pointed at before it (the
    // last ones, if trimmed), never an attempt that lost; one table uuid throughout.
    checked.meta.versions.forEach(({ version, metadata }) => {
      const logged = metadata['metadata-log'].map((e) => e['metadata-file']);
      const earlier = st.history.slice(0, version);
      assert.deepEqual(logged, earlier.slice(earlier.length - logged.length), `version ${version}: metadata-log is not the table's earlier locations`);
      assert.ok(version === 0 || logged.length > 0, `version ${version}: empty metadata-log`);
      assert.equal(metadata['table-uuid'], m['table-uuid'], `version ${version}: table-uuid`);
    });

    // (A table at the copy's root is served at "<base>/": icebird appends "/metadata/...".)
    const rows = await withTableServer(root, tableDir, ({ tableUrl }) => readWithIcebird(tableUrl.replace(/\/+$/, ''), st.metadataLocation.split('/').at(-1)));
    const counts = new Map();
    for (const r of rows) counts.set(r._eventID, (counts.get(r._eventID) ?? 0) + 1);
    const where = new Map([...counts.keys()].map((id) => [id, ['(icebird)']]));
    const v = verdict({ counts, where }, acked, sent);
    assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0,
      `icebird: the table does not hold every acked record exactly once:\n${describeVerdict(v, { where })}`);
    if (checked.files) {
      const duckRecs = await currentRecords(checked, conn);
      const dv = verdict(duckRecs, acked, sent);
      assert.ok(dv.missing.length === 0 && dv.duplicates.length === 0 && dv.strangers.length === 0,
        `DuckDB: the table does not hold every acked record exactly once:\n${describeVerdict(dv, duckRecs)}`);
      assert.equal(duckRecs.lines, rows.length, 'DuckDB and icebird read as many rows');
    }

    // One chain of appends, whoever committed them; no object committed twice.
    for (const s of m.snapshots) {
      assert.ok(s.summary['lakehose.writer-id'] && s.summary['lakehose.objects'] !== undefined, `snapshot ${s['snapshot-id']}: summary without lakehose.writer-id or lakehose.objects`);
    }
    checkAppendHistory(m);

    const stats = front.stats();
    const deletes = Object.entries(stats.byOperation).filter(([op]) => /^Delete|^Abort/.test(op));
    assert.deepEqual(deletes, [], 'the front saw deletes');
    assertFrontAccepted(stats);
    t.diagnostic(`${label}: ${st.history.length} metadata versions, ${orphans.length} metadata files not pointed at, ${m.snapshots.length} snapshots, ` +
      `${rows.length} rows (${acked.size} acked, ${v.unackedPresent} unacked present), ${checked.files ? `${checked.files.size} data files` : 'not checkTable\'d (at a bucket\'s root)'}`);
    return { history: st.history, snapshots: m.snapshots, orphans };
  }

  it('one writer creates the table and commits batches, one with new attributes', failWith(async (t) => {
    const server = await startServer('w0');
    let versions = 0;
    for (let b = 0; b < PLAIN_BATCHES; b++) {
      const after = await sendBatch(server, { evolved: b === EVOLVED_BATCH });
      assert.ok(after > versions, `batch ${b}: the Flush answered and the table's pointer did not move (${after} versions)`);
      versions = after;
    }
    const ops = api.requests.map((r) => `${r.op} ${r.status}`);
    assert.ok(api.namespaces().includes(NAMESPACE), 'lakehose created the namespace');
    assert.ok(ops.includes('create-table 200'), `lakehose created the table: ${ops.slice(0, 10).join(', ')}`);
    const md = JSON.parse((await front.getObject(keyOf(table().metadataLocation))).toString('utf8'));
    const schema = md.schemas.find((s) => s['schema-id'] === md['current-schema-id']);
    for (const c of ['loyalty_tier', 'points']) assert.ok(schema.fields.some((f) => f.name === c), `the current schema has the new column ${c}`);
    assert.ok(md.schemas.length >= 2, 'the schema evolved (a second schema)');
    assert.deepEqual(api.violations, []);
    t.diagnostic(`${versions} metadata versions after ${PLAIN_BATCHES} batches; first requests: ${ops.slice(0, 8).join(', ')}`);
  }));

  it('faults on the API (409, outcome unknown, 503, a delay past request_timeout_s), then more batches: exactly once, nothing deleted', failWith(async (t) => {
    const server = servers.get('w0').server;
    const unknownNow = async () => (await server.scrape()).value('lakehose_iceberg_commit_unknown_total', { pipeline: PIPELINE }) ?? 0;
    const unknownBy = [];  // [fault, how many unknown outcomes lakehose counted]
    for (const f of FAULTS) {
      const before = api.requests.length;
      const unknownBefore = await unknownNow();
      api.faults.push({ op: f.op, kind: f.kind, ...(f.ms ? { ms: f.ms } : {}) });
      // reloadDelayMs: once the delayed update has arrived, the next GET is delayed too.
      let watching = f.reloadDelayMs !== undefined;
      const watcher = (async () => {
        for (const end = Date.now() + FLUSH_TIMEOUT_MS; watching && Date.now() < end; await sleep(10)) {
          if (api.requests.slice(before).some((r) => r.fault?.kind === 'delay')) {
            api.faults.push({ op: 'get', kind: 'delay', ms: f.reloadDelayMs });
            return;
          }
        }
      })();
      try {
        await sendBatch(server, { flushMayFail: f.flushMayFail });
      } finally {
        watching = false;
        await watcher;
      }
      assert.equal(api.faults.length, 0, `fault ${f.op} ${f.kind} was not taken by any request: ${api.requests.slice(before).map((r) => `${r.op} ${r.status}`).join(', ')}`);
      if (f.kind === 'delay') {
        // The delayed update answers after lakehose gave up; wait for it before going on.
        const delayed = api.requests.slice(before).find((r) => r.fault?.kind === 'delay');
        const end = Date.now() + f.ms + 5_000;
        while (delayed.status === null && Date.now() < end) await sleep(100);
        assert.notEqual(delayed.status, null, 'the delayed update was answered');
        assert.equal(delayed.status, f.reloadDelayMs === undefined ? 409 : 200,
          f.reloadDelayMs === undefined ? 'the update delayed past the timeout was refused (lakehose committed again before it applied)' : 'the delayed update applied before lakehose\'s reload answered');
      }
      const seen = api.requests.slice(before).map((r) => `${r.op} ${r.status}${r.fault ? ` (${r.fault.kind})` : ''}`);
      unknownBy.push([`${f.op} ${f.kind}`, (await unknownNow()) - unknownBefore]);
      t.diagnostic(`fault ${f.op} ${f.kind}: ${seen.join(', ')}; unknown outcomes counted: ${unknownBy.at(-1)[1]}`);
      if (f.unknown || f.kind === '409') {
        // What follows a refused or unanswered update: the table read again, or (outcome
        // unknown) the same update once more, which the version token makes safe: 409 if
        // the first one applied.
        const i = api.requests.findIndex((r, j) => j >= before && r.fault);
        const faulted = api.requests[i];
        const nextReq = api.requests[i + 1];
        const same = (r) => r?.op === 'update' && r.body?.versionToken === faulted.body.versionToken && r.body?.metadataLocation === faulted.body.metadataLocation;
        assert.ok(nextReq?.op === 'get' || (f.unknown && same(nextReq)), `after ${f.kind} lakehose neither read the table again nor repeated the update: ${nextReq?.op} ${JSON.stringify(nextReq?.body)}`);
      }
    }
    if (main.flushFailures) t.diagnostic(`Flushes that failed (then one succeeded): ${main.flushFailures.join(' | ')}`);
    for (let b = 0; b < AFTER_FAULT_BATCHES; b++) await sendBatch(server);
    // Metrics: each unknown outcome counted once, the denial as denied, the 409 as a
    // conflict.
    const scrape = await server.scrape();
    const v = (name, labels = {}) => scrape.value(name, { pipeline: PIPELINE, ...labels }) ?? 0;
    const metrics = {
      unknown: v('lakehose_iceberg_commit_unknown_total'), conflicts: v('lakehose_iceberg_commit_conflicts_total'),
      denied: v('lakehose_iceberg_catalog_requests_total', { result: 'denied' }), errors: v('lakehose_iceberg_catalog_requests_total', { result: 'error' }),
    };
    t.diagnostic(`metrics: ${JSON.stringify(metrics)}`);
    assert.deepEqual(unknownBy, FAULTS.map((f) => [`${f.op} ${f.kind}`, f.unknown ? 1 : 0]), 'lakehose_iceberg_commit_unknown_total: one per fault that left an update\'s outcome unknown, none for the others');
    assert.ok(metrics.conflicts >= 1, 'lakehose_iceberg_commit_conflicts_total counts the 409');
    assert.equal(metrics.denied, 1, 'lakehose_iceberg_catalog_requests_total{result="denied"}: the 403');
    await stopServer('w0');
    await verifyTable(t, 'faults', { deep: true });

    // `lakehose table inspect` reads the table as the fake has it (no server).
    const { cfg, dir } = servers.get('w0');
    const r = await run(CLI_BIN, ['table', 'inspect', '--config', cfg, '--pipeline', PIPELINE, '--json'], { timeoutMs: TOOL_TIMEOUT_MS, env: serverEnv(dir) });
    assert.equal(r.code, 0, `lakehose table inspect: ${r.stderr}`);
    const j = parseJson(r.stdout);
    assert.equal(j.metadata_location, table().metadataLocation, 'table inspect: metadata_location');
    assert.equal(Number(j.records), main.acked.size, 'table inspect: records');
    const md = parseJson((await front.getObject(keyOf(table().metadataLocation))).toString('utf8'));
    assert.equal(String(j.current_snapshot_id), String(md['current-snapshot-id']), 'table inspect: current_snapshot_id');
  }));

  it(`two writers (w0, w1) on the table for ${SECONDS} s: both commit, every acked record once, 409s seen`, failWith(async (t) => {
    const writers = [];
    const updatesBefore = api.requests.length;
    const snapshotsBefore = new Set(JSON.parse((await front.getObject(keyOf(table().metadataLocation))).toString('utf8')).snapshots.map((s) => String(s['snapshot-id'])));
    for (const [w, id] of ['w0', 'w1'].entries()) {
      const gen = await generate(CLI_BIN, RACE_RECORDS, (w + 1) * 1e12 + 14);
      writers.push({ id, gen, acked: new Set(), sent: new Set(), errors: {} });
    }
    for (const wr of writers) {
      wr.server = await startServer(wr.id);
      wr.clients = clientsFor(wr.server.target);
      await waitForReady(wr.clients.ingestor, 10_000);
    }
    const end = Date.now() + SECONDS * 1000;
    const sendersOf = writers.map((wr) => startSenders({
      ingestor: wr.clients.ingestor, pipeline: PIPELINE, gen: wr.gen, acked: wr.acked, sent: wr.sent, batch: RACE_BATCH,
      concurrency: 2, tag: wr.id, deadlineMs: RPC_DEADLINE_MS, until: () => Date.now() >= end,
      onResult: async (r) => {
        if (r.error) wr.errors[statusName(r.error.code)] = (wr.errors[statusName(r.error.code)] ?? 0) + 1;
        await sleep(RACE_PACE_MS);
      },
    }));
    let rounds = 0;
    const flusher = async () => {
      while (Date.now() + 1_000 < end) {
        await sleep(1_000);
        rounds++;
        await Promise.all(writers.map((wr) => flush(wr.clients.ingestor, PIPELINE, RPC_DEADLINE_MS).catch(() => {})));
      }
    };
    await withTimeout(Promise.all([...sendersOf.map((s) => s.done), flusher()]), SECONDS * 1000 + 2 * RPC_DEADLINE_MS, 'the senders to finish');
    await Promise.all(writers.map((wr) => flushRetrying(wr.clients.ingestor, PIPELINE, FLUSH_TIMEOUT_MS)));
    for (const wr of writers) {
      const scrape = await wr.server.scrape();
      wr.commits = scrape.value('lakehose_iceberg_commits_total', { pipeline: PIPELINE }) ?? 0;
      wr.conflicts = scrape.value('lakehose_iceberg_commit_conflicts_total', { pipeline: PIPELINE }) ?? 0;
      wr.clients.close();
      await stopServer(wr.id);
      for (const id of wr.acked) main.acked.add(id);
      for (const id of wr.sent) main.sent.add(id);
    }
    const race = api.requests.slice(updatesBefore);
    const conflicts = race.filter((r) => r.op === 'update' && r.status === 409 && !r.fault).length;
    for (const wr of writers) t.diagnostic(`${wr.id}: sent ${wr.sent.size}, acked ${wr.acked.size}, errors ${JSON.stringify(wr.errors)}, commits ${wr.commits}, conflicts ${wr.conflicts}`);
    t.diagnostic(`${rounds} flush rounds; the fake answered ${conflicts} updates 409`);
    const { snapshots } = await verifyTable(t, 'writers', { deep: false });
    for (const wr of writers) {
      assert.ok(wr.acked.size > 0, `${wr.id}: nothing acked`);
      const mine = snapshots.filter((s) => s.summary['lakehose.writer-id'] === wr.id && !snapshotsBefore.has(String(s['snapshot-id'])));
      assert.ok(mine.length > 0, `${wr.id}: no snapshot of this step in the table`);
    }
    assert.ok(conflicts > 0, `no update was refused with 409 in ${rounds} rounds of simultaneous Flushes: the race was not exercised`);
  }));

  it('creation: answers lost after CreateNamespace and CreateTable applied, a table created but never given metadata, two writers creating one table', failWith(async (t) => {
    // a) The namespace is missing; CreateNamespace's and CreateTable's answers are lost
    // after they applied: lakehose must take the 409s that follow as done.
    const lost = newTarget('ops', 'returns');
    api.faults.push({ op: 'create-namespace', kind: '500-after-apply' }, { op: 'create-table', kind: 'reset-after-apply' });
    const before = api.requests.length;
    await sendBatch(await startServer('c0', lost), { target: lost });
    assert.equal(api.faults.length, 0, 'the creation faults were taken');
    const faulted = api.requests.slice(before).filter((r) => r.fault).map((r) => `${r.op} ${r.status} ${r.fault.kind}`);
    assert.deepEqual(faulted, ['create-namespace 500 500-after-apply', 'create-table null reset-after-apply']);
    t.diagnostic(`lost answers: ${api.requests.slice(before).map((r) => `${r.op} ${r.status}${r.fault ? ` (${r.fault.kind})` : ''}`).join(', ')}`);
    await stopServer('c0');

    // b) A table that another writer created and stopped before giving it metadata; its
    // warehouse is a bucket's root.
    const bare = newTarget('sales', 'refunds', ROOT_BUCKET);
    const call = (method, path, body) => callS3TablesApi(api.url, method, path, { body, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const arn = encodeLabel(TABLE_BUCKET_ARN);
    const ns = await call('PUT', `/namespaces/${arn}`, { namespace: [bare.ns] });
    assert.ok(ns.status === 200 || ns.status === 409, `CreateNamespace: ${ns.status}`);
    assert.equal((await call('PUT', `/tables/${arn}/${bare.ns}`, { name: bare.name, format: 'ICEBERG' })).status, 200);
    assert.equal(table(bare).metadataLocation, null);
    await sendBatch(await startServer('c1', bare), { target: bare });
    await stopServer('c1');

    // c) Two writers start on a table that does not exist, and commit at once.
    const race = newTarget('race', 'orders');
    const [c2, c3] = await Promise.all([startServer('c2', race), startServer('c3', race)]);
    await Promise.all([sendBatch(c2, { target: race }), sendBatch(c3, { target: race })]);
    await Promise.all([stopServer('c2'), stopServer('c3')]);
    t.diagnostic(`creation race: ${api.requests.filter((r) => r.labels?.namespace === 'race' || (r.op === 'create-namespace' && r.body?.namespace?.[0] === 'race')).map((r) => `${r.op} ${r.status}`).join(', ')}`);

    for (const target of [lost, bare]) await verifyTable(t, `${target.ns}.${target.name}`, { deep: false, target });
    const writersOf = (await verifyTable(t, `${race.ns}.${race.name}`, { deep: false, target: race })).snapshots.map((s) => s.summary['lakehose.writer-id']);
    for (const id of ['c2', 'c3']) assert.ok(writersOf.includes(id), `${id} has no snapshot in race.orders`);
    const answers = {};
    for (const r of api.requests) answers[`${r.op} ${r.status ?? 'no answer'}`] = (answers[`${r.op} ${r.status ?? 'no answer'}`] ?? 0) + 1;
    t.diagnostic(`the API's answers in the whole suite: ${JSON.stringify(answers)}`);
  }, { independent: true }));
});
