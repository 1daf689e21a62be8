// `lakehose backfill --scan` against dynalite (DynamoDB's API, in this process) holding a
// table of items of every type written with @aws-sdk/client-dynamodb (tests/lib/
// dynalite.mjs, ddb_export.mjs's makeItems), behind the front that checks SigV4 and
// injects DynamoDB's throttling and server errors:
//   - 4 segments into a JSON Lines lake, with ProvisionedThroughputExceeded, Throttling,
//     RequestLimitExceeded and InternalServerError injected: every item once, each value
//     equal to the SDK's reading of the same item (unmarshall with wrapNumbers), every
//     injected fault retried and counted (the summary's counts equal the front's);
//   - the same table into Parquet: DuckDB reads every item once; into an Iceberg table:
//     every item once in the current snapshot (checkTable, DuckDB);
//   - kill -9 twice during a scan, then to the end: every item once, and the later runs
//     resumed each segment from the LastEvaluatedKey the progress file kept;
//   - --max-rcu: the read rate over the run stays within the limit (plus one page).
//
//   node tests/backfill/scan.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--items 50000] [--kills 2] [--seed N] [--keep]

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import zlib from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';
import { parse as losslessParse } from 'lossless-json';

import { compareMap } from '../lib/ddb_values.mjs';
import { itemKey, makeItems, oracleOf, toDynamoJson } from '../lib/ddb_export.mjs';
import { DDB_CREDENTIALS, DDB_REGION, createTable, loadItems, scanAll, startDynalite, startDynamoFront } from '../lib/dynalite.mjs';
import { WorkDir, exitWhenDone, run, sleep, suiteArgs } from '../lib/harness.mjs';
import { checkTable, currentRecords } from '../lib/iceberg.mjs';
import { listFiles, objectKey } from '../lib/lake.mjs';

exitWhenDone();

const { args, cliBin: CLI } = suiteArgs({
  options: { items: { type: 'string' }, kills: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--items 50000] [--kills 2] [--seed N] [--keep]',
});
const ITEMS = Number(args.items ?? 50_000);
const KILLS = Number(args.kills ?? 2);
const SEED = Number(args.seed ?? (Date.now() % 1_000_000));
const RUN_MS = 300_000;
const TABLE = 'orders';
const KEYS = ['pk', 'sk'];

const work = new WorkDir('lakehose-backfill-scan-', { keep: args.keep });

// The CLI's environment: the front's credentials and nothing else of AWS's.
const env = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
Object.assign(env, {
  AWS_ACCESS_KEY_ID: DDB_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: DDB_CREDENTIALS.secretAccessKey,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
});

function configFor(dir, name, format) {
  mkdirSync(dir, { recursive: true });
  const iceberg = format === 'iceberg';
  const yaml = [
    'server:', `  data_dir: ${JSON.stringify(join(dir, 'var'))}`, 'pipelines:',
    `  - name: ${name}`, '    metadata: [eventID, eventName]',
    ...(iceberg ? [] : [`    prefix: "${name}/year=!{timestamp:yyyy}/"`]), `    error_prefix: "${name}-errors/"`,
    '    destination:', '      kind: file', `      path: ${JSON.stringify(join(dir, 'lake'))}`, `      format: ${format}`,
    ...(iceberg ? [`      iceberg: { table: backfill.${name} }`] : []),
    '      buffering: { size_mb: 1, interval_s: 60 }', '',
  ].join('\n');
  const path = join(dir, 'lakehose.yaml');
  writeFileSync(path, yaml);
  return path;
}

const scanArgv = (cfg, pipeline, endpoint, extra = []) => [
  'backfill', '--config', cfg, '--pipeline', pipeline, '--scan', '--table', TABLE, '--region', DDB_REGION,
  '--dynamodb-endpoint', endpoint, '--progress-format', 'json', ...extra,
];

const ok = (r, what) => assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr.slice(-3000)}`);

// A JSON Lines pipeline's documents by item key: Map(key -> [doc, ...]) (lossless numbers).
function docsByKey(lakeDir, pipeline) {
  const out = new Map();
  const ids = new Set();
  for (const f of listFiles(lakeDir)) {
    if (!objectKey(lakeDir, f).startsWith(`${pipeline}/`) || basename(f).startsWith('.')) continue;
    for (const line of zlib.gunzipSync(readFileSync(f)).toString('utf8').split('\n')) {
      if (!line) continue;
      const doc = losslessParse(line);
      const k = itemKey(doc, KEYS);
      if (!out.has(k)) out.set(k, []);
      out.get(k).push(doc);
      assert.ok(!ids.has(String(doc._eventID)), `eventID ${doc._eventID} written twice`);
      ids.add(String(doc._eventID));
    }
  }
  return out;
}

function assertEveryItemOnce(byKey, oracle, what) {
  const missing = [...oracle.keys()].filter((k) => !byKey.has(k));
  const dup = [...byKey].filter(([, d]) => d.length > 1).map(([k, d]) => [k, d.length]);
  const strangers = [...byKey.keys()].filter((k) => !oracle.has(k));
  assert.deepEqual({ missing: missing.slice(0, 5), nMissing: missing.length, dup: dup.slice(0, 5), nDup: dup.length, strangers: strangers.slice(0, 5) },
    { missing: [], nMissing: 0, dup: [], nDup: 0, strangers: [] }, `${what}: every item exactly once`);
}

describe(`lakehose backfill --scan (${ITEMS} items, seed ${SEED})`, { timeout: 25 * 60_000 }, () => {
  let ddb;
  let front;
  const oracle = new Map();  // itemKey -> typed item, as DynamoDB (dynalite) answers it
  before(async () => {
    ddb = await startDynalite();
    work.defer(() => ddb.close());
    await createTable(ddb.endpoint, TABLE, ['pk', 'S'], ['sk', 'N']);
    await loadItems(ddb.endpoint, TABLE, makeItems(ITEMS, SEED, { sortKey: true }));
    // The SDK's own reading of the table (directly, no faults) is the oracle.
    const { items } = await scanAll(ddb.endpoint, TABLE, { segments: 4 });
    for (const item of items) {
      const typed = toDynamoJson(item);
      oracle.set(itemKey(oracleOf(typed), KEYS), typed);
    }
    assert.equal(oracle.size, ITEMS, 'the table holds every item');
    front = await startDynamoFront({ target: ddb.endpoint, checkSignature: { ...DDB_CREDENTIALS, region: DDB_REGION } });
    work.defer(() => front.close());
  });
  after(() => work.close());

  it('4 segments into JSON Lines with throttling injected: every item once, values as the SDK reads them, every fault retried and counted', async () => {
    const dir = join(work.path, 'jsonl');
    const cfg = configFor(dir, 'scanned', 'jsonl');
    front.resetStats();
    front.takeScans();
    // Each kind at least once (the script, on the first Scans), then drawn.
    front.setFaults({
      script: ['throughput', 'throttle', 'requestLimit', 'internal', 'none', 'throughput', 'throughput'],
      throughput: 0.06, throttle: 0.06, requestLimit: 0.02, internal: 0.03, seed: SEED,
    });
    const r = await run(CLI, [...scanArgv(cfg, 'scanned', front.endpoint, ['--segments', '4', '--threads', '4', '--json'])], { env, timeoutMs: RUN_MS });
    front.setFaults({});
    ok(r, 'backfill');
    const s = JSON.parse(r.stdout);
    const injected = front.stats().injected;
    const scans = front.takeScans();
    assert.equal(s.items, ITEMS, 'items read');
    assert.equal(s.records_ok, ITEMS, 'records written');
    assert.ok(injected.throughput >= 3 && injected.throttle > 0 && injected.requestLimit > 0 && injected.internal > 0, `faults were injected: ${JSON.stringify(injected)}`);
    assert.equal(s.scan.throttled_retries, injected.throughput + injected.throttle + injected.requestLimit, 'every throttling answer retried and counted');
    assert.equal(s.scan.transient_retries, injected.internal, 'every server error retried and counted');
    assert.deepEqual([...new Set(scans.map((q) => q.segment))].sort(), [0, 1, 2, 3], 'the four segments');
    assert.ok(scans.every((q) => q.totalSegments === 4 && !q.consistentRead), 'TotalSegments 4, eventually consistent');
    assert.ok(scans.every((q) => q.returnConsumedCapacity === 'TOTAL'), 'consumed capacity asked for');

    const byKey = docsByKey(join(dir, 'lake'), 'scanned');
    assertEveryItemOnce(byKey, oracle, 'the lake');
    const mismatches = [];
    for (const [k, [doc]] of byKey) {
      const typed = oracle.get(k);
      const ours = Object.fromEntries(Object.entries(doc).filter(([n]) => !n.startsWith('_')));
      compareMap(typed, oracleOf(typed), ours, k, mismatches);
      if (doc._eventName !== 'INSERT') mismatches.push({ path: k, reason: `eventName ${doc._eventName}` });
    }
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} values differ from the SDK's reading`);
  });

  it('the same table into Parquet: DuckDB reads every item once', async () => {
    const dir = join(work.path, 'parquet');
    const cfg = configFor(dir, 'pq', 'parquet');
    ok(await run(CLI, scanArgv(cfg, 'pq', front.endpoint, ['--segments', '4']), { env, timeoutMs: RUN_MS }), 'backfill');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const src = `read_parquet('${join(dir, 'lake')}/pq/**/*.parquet', union_by_name = true)`;
      const [row] = (await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT "_eventID") AS d, count(DISTINCT pk || '|' || CAST(sk AS VARCHAR)) AS k FROM ${src}`)).getRowObjectsJson();
      assert.deepEqual([Number(row.n), Number(row.d), Number(row.k)], [ITEMS, ITEMS, ITEMS], 'rows, distinct eventIDs, distinct keys');
    } finally {
      conn.closeSync?.();
      instance.closeSync?.();
    }
  });

  it('the same table into an Iceberg table: every item once in the current snapshot, each snapshot naming the scan', async () => {
    const dir = join(work.path, 'iceberg');
    const cfg = configFor(dir, 'ice', 'iceberg');
    const r = await run(CLI, scanArgv(cfg, 'ice', front.endpoint, ['--segments', '4', '--threads', '4', '--commit-every', '8', '--json']), { env, timeoutMs: RUN_MS });
    ok(r, 'backfill');
    const s = JSON.parse(r.stdout);
    assert.ok(s.commits >= 1, 'committed');
    const tableDir = join(dir, 'lake', 'backfill', 'ice');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const checked = await checkTable(tableDir, conn, { deep: false, python: false });
      const recs = await currentRecords(checked, conn);
      assert.equal(recs.lines, ITEMS, 'rows in the current snapshot');
      assert.equal(recs.counts.size, ITEMS, 'distinct eventIDs');
      for (const snap of checked.meta.current.snapshots) {
        assert.match(snap.summary['lakehose.backfill.source'], /^dynamodb:arn:aws:dynamodb:.*:table\/orders\?segments=4&page_items=1000$/, 'the snapshot names the scan');
        assert.equal(snap.summary['lakehose.writer-id'], s.writer_id);
      }
    } finally {
      conn.closeSync?.();
      instance.closeSync?.();
    }
  });

  it(`kill -9 during a scan (${KILLS} times), then to the end: every item once, segments resumed from their LastEvaluatedKey`, async (t) => {
    const dir = join(work.path, 'kill');
    const cfg = configFor(dir, 'killed', 'jsonl');
    // The 4 segments at once, about 4 * (KILLS + 1) pages each: every kill lands inside
    // them (they end together, at the end).
    const pagesPerSegment = 4 * (KILLS + 1);
    const pageItems = Math.max(10, Math.floor(ITEMS / 4 / pagesPerSegment));
    const argv = scanArgv(cfg, 'killed', front.endpoint, ['--segments', '4', '--threads', '4', '--page-items', String(pageItems)]);
    const progressPath = join(dir, 'var', 'backfill', `killed-scan-${TABLE}.progress`);
    front.takeScans();
    const pagesPerRun = 4 * 4;  // a kill every 4 pages of each segment
    const resumedFrom = [];
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(CLI, argv, { env, stdio: ['ignore', 'ignore', 'ignore'] });
      const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
      const want = (k + 1) * pagesPerRun;
      const deadline = Date.now() + RUN_MS;
      let ended = null;
      while (!ended && Date.now() < deadline) {
        const pages = existsSync(progressPath) ? readFileSync(progressPath, 'utf8').split('\n').filter((l) => l.startsWith('{"segment"')).length : 0;
        if (pages >= want) break;
        ended = await Promise.race([exited, sleep(5).then(() => null)]);
      }
      // A few ms more: the kill lands while other pages are being stored.
      if (!ended) ended = await Promise.race([exited, sleep((SEED + 7 * k) % 12).then(() => null)]);
      assert.equal(ended, null, `run ${k} ended before its kill: ${JSON.stringify(ended)}`);
      child.kill('SIGKILL');
      await exited;
      const scans = front.takeScans();
      t.diagnostic(`run ${k}: killed after ${want} pages recorded; ${scans.length} Scan requests`);
      if (k > 0) resumedFrom.push(...scans.filter((q) => q.exclusiveStartKey));
    }
    // Where each segment stopped, as the progress file says (its last page's key).
    const stoppedAt = new Map();
    for (const line of readFileSync(progressPath, 'utf8').split('\n')) {
      if (!line.startsWith('{"segment"')) continue;
      const p = JSON.parse(line);
      stoppedAt.set(p.segment, p.next);
    }
    const r = await run(CLI, [...argv, '--json'], { env, timeoutMs: RUN_MS });
    ok(r, 'the last run');
    const s = JSON.parse(r.stdout);
    const scans = front.takeScans();
    t.diagnostic(`the last run: ${s.units_skipped} pages done earlier, ${s.items_skipped} items, ${s.objects_existing} objects found stored, ${s.objects_stored} stored`);
    assert.ok(s.units_skipped > 0 && s.items_skipped > 0, 'the last run resumed');
    // Each segment's first request of the last run starts at the key its last recorded
    // page ended with (or the segment was done).
    const firstOf = new Map();
    for (const q of scans) if (!firstOf.has(q.segment)) firstOf.set(q.segment, q);
    const midway = [...stoppedAt].filter(([, next]) => next !== null);
    assert.ok(midway.length > 0, `a kill landed inside a segment: ${JSON.stringify([...stoppedAt])}`);
    for (const [segment, next] of midway) {
      assert.deepEqual(firstOf.get(segment)?.exclusiveStartKey, next, `segment ${segment} resumed from the key its last recorded page ended with`);
    }
    for (const [segment, next] of stoppedAt) if (next === null) assert.ok(!firstOf.has(segment), `segment ${segment} was done: not scanned again`);
    assertEveryItemOnce(docsByKey(join(dir, 'lake'), 'killed'), oracle, 'the lake');
  });

  it('--max-rcu: all segments together read no faster than the limit (plus one page each)', async (t) => {
    // A table of its own, small enough that the limit, well under what dynalite serves,
    // decides how long the scan takes.
    const table = 'paced_orders';
    const items = makeItems(3000, SEED + 1, { sortKey: true, pkPrefix: 'paced' });
    await createTable(ddb.endpoint, table, ['pk', 'S'], ['sk', 'N']);
    await loadItems(ddb.endpoint, table, items);
    const dir = join(work.path, 'rate');
    const cfg = configFor(dir, 'paced', 'jsonl');
    const limit = 40;
    front.takeScans();
    const argv = scanArgv(cfg, 'paced', front.endpoint, ['--segments', '4', '--threads', '4', '--page-items', '100', '--max-rcu', String(limit), '--json']);
    argv[argv.indexOf('--table') + 1] = table;
    const r = await run(CLI, argv, { env, timeoutMs: RUN_MS });
    ok(r, 'backfill');
    const s = JSON.parse(r.stdout);
    const scans = front.takeScans().filter((q) => q.status === 200);
    const consumed = scans.reduce((sum, q) => sum + (q.consumedCapacity?.CapacityUnits ?? 0), 0);
    const spanS = (Math.max(...scans.map((q) => q.answeredMs)) - Math.min(...scans.map((q) => q.atMs))) / 1000;
    const biggestPage = Math.max(...scans.map((q) => q.consumedCapacity?.CapacityUnits ?? 0));
    t.diagnostic(`${consumed} read units in ${spanS.toFixed(2)} s (${(consumed / spanS).toFixed(0)}/s) at --max-rcu ${limit}; ${s.scan.rate_waits} waits, ${s.scan.rate_wait_ms} ms`);
    assert.ok(consumed > 3 * limit, `dynalite reported consumed capacity (${consumed} units): enough for the limit to matter`);
    assert.ok(Math.abs(consumed - s.scan.consumed_units) < 1e-6 * consumed + 1e-6, `the summary's consumed units (${s.scan.consumed_units}) are DynamoDB's (${consumed})`);
    assert.ok(s.scan.rate_waits > 0, 'the limit made the scan wait');
    // Over the whole run: the bucket starts with one second's worth, and each of the 4
    // segments may have one page in flight beyond it.
    const allowed = limit * (spanS + 1) + 4 * biggestPage;
    assert.ok(consumed <= allowed, `read ${consumed} units in ${spanS.toFixed(2)} s at --max-rcu ${limit} (allowed ${allowed.toFixed(0)})`);
    const expected = new Map(items.map((item) => [itemKey(item, KEYS), item]));
    const byKey = docsByKey(join(dir, 'lake'), 'paced');
    assertEveryItemOnce(byKey, expected, 'the lake');
  });
});
