// A `mode: current` Iceberg table seeded by `lakehose backfill`, then continued by the
// stream (README: "Current-state tables", its "Seeding from the table's history, then the
// stream", and "Backfill", its "Hand-over to the stream"), the README's sequence run
// end to end against an oracle (a Map of the DynamoDB table's items, key -> item):
//   - a full export of the table at its time E (tests/lib/ddb_export.mjs) backfilled into
//     a pipeline whose table mirrors the DynamoDB table (identifier [pk, sk], a numeric
//     sort key; partitioned by `region`, which items change): icebird reads the export's
//     items, one row each;
//   - lakehose-server on the same config, then the stream's backlog by Ingest (Lambda
//     shape, ApproximateCreationDateTime in seconds): records from before E (older images
//     of exported items, items inserted before E, a second before E's second) are dropped
//     as stale; items inserted and removed before E, and removes of items gone before E,
//     change nothing; records in E's second but after it win (a stream record wins within
//     its second); later MODIFYs (moving partition), REMOVEs, TTL removes, INSERTs, re-
//     inserts of removed keys and a new attribute are applied; a second Ingest after a
//     Flush with more changes and replays of earlier records (stale);
//   - after each Flush, the table read by icebird and by DuckDB (data files read with
//     read_parquet, the position delete files the manifests list applied by the test
//     itself) is the oracle, image for image (item attributes; not the _ columns), one
//     row per live key;
//   - lakehose_iceberg_changes_total{result="stale"} is the number of records the oracle
//     says are stale (not newer than what their key reflects), and applied + stale +
//     superseded is every record sent;
//   - `lakehose backfill` refuses while the server holds the key index ("stop
//     lakehose-server");
//   - after a restart the key index still reflects it all: the before-E records sent once
//     more are all stale, and the table does not change;
//   - the same sequence seeded from a Scan of dynalite (`--scan`, E the scan's start).
//
//   node tests/backfill/current.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--items 240] [--seed N] [--keep]

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { normaliseDecimal } from '../lib/ddb_values.mjs';
import { itemKey, typedOf, writeExport } from '../lib/ddb_export.mjs';
import { DDB_CREDENTIALS, DDB_REGION, createTable, loadItems, startDynalite } from '../lib/dynalite.mjs';
import { clientsFor, flush, ingestRequest, unary, waitForReady } from '../lib/grpc.mjs';
import { ServerProcess, WorkDir, exitWhenDone, run, serverEnv, suiteArgs } from '../lib/harness.mjs';
import { decodeAvro, localPath, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { prng } from '../lib/s3_front.mjs';

exitWhenDone();

const { args, cliBin: CLI, serverBin: SERVER } = suiteArgs({
  options: { items: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--items 240] [--seed N] [--keep]',
});
const ITEMS = Math.max(240, Number(args.items ?? 240));
const SEED = Number(args.seed ?? (Date.now() % 1_000_000));
const RUN_MS = 60_000;
const KEYS = ['pk', 'sk'];
const PIPELINE = 'items';
const REGIONS = ['eu', 'us', 'ap'];
// A full export's time, with milliseconds: the stream's records of its second say an earlier
// time (rounded down to the second), and win by the README's rule.
const EXPORT_TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 400);

const work = new WorkDir('lakehose-backfill-current-', { keep: args.keep });

function configFor(dir) {
  mkdirSync(dir, { recursive: true });
  const yaml = [
    'server:', `  data_dir: ${JSON.stringify(join(dir, 'var'))}`, 'pipelines:',
    `  - name: ${PIPELINE}`,
    '    input: dynamodb-stream',
    '    partition_keys:',
    '      region: { attribute: region }',
    `    error_prefix: "${PIPELINE}-errors/"`,
    '    destination:', '      kind: file', `      path: ${JSON.stringify(join(dir, 'lake'))}`, '      format: iceberg',
    // Nothing sealed or committed by time while the test runs: each Flush is one commit.
    '      buffering: { size_mb: 16, interval_s: 600 }',
    '      iceberg:',
    '        table: ns.items',
    '        mode: current',
    '        commit_interval_s: 600',
    '        identifier: [pk, sk]',
    '        schema:',
    '          - { name: pk, type: string, required: true }',
    '          - { name: sk, type: int64, required: true }',
    '',
  ].join('\n');
  const path = join(dir, 'lakehose.yaml');
  writeFileSync(path, yaml);
  return path;
}

const ok = (r, what) => assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);

// ---- the DynamoDB table's history ---------------------------------------------------------

// An item (JS values for marshall): key pk (S) + sk (N), region (the partition), s, n (an
// integer), price (two decimals), flag; `note` only on some later items.
function makeItem(rand, pk, sk, extra = {}) {
  let cents = 1 + Math.floor(rand() * 99);
  if (cents % 10 === 0) cents += 1;  // two significant decimals: one decimal(38,2) column
  return {
    pk, sk, region: REGIONS[Math.floor(rand() * REGIONS.length)], s: `s-${Math.floor(rand() * 1e9).toString(36)}`,
    n: Math.floor(rand() * 2_000_000) - 1_000_000, price: Number(`${Math.floor(rand() * 500)}.${String(cents).padStart(2, '0')}`), flag: rand() < 0.5, ...extra,
  };
}

function changed(rand, item, { region = null, extra = {} } = {}) {
  const next = { ...item, s: `${item.s}+${Math.floor(rand() * 1e6).toString(36)}`, n: item.n + 1 + Math.floor(rand() * 100), flag: !item.flag, ...extra };
  if (region) next.region = region;
  return next;
}

const otherRegion = (item) => REGIONS[(REGIONS.indexOf(item.region) + 1) % REGIONS.length];

// The table's history around its export (or scan) time E, independent of E: the items
// the table holds when the stream begins, then its changes in time order, each
// {at (ms from E), op: put|remove, key, item (put), ttl (a TTL remove)}; batch 2 changes
// come after the first Flush. Which keys get what (i: the initial items' index):
//   before E: 0-29 modified (0-9 moving region), 30-39 modified twice, 10 new items,
//     5 inserted and removed, 40-44 removed, 45 modified in the second before E's;
//   E's second, after E: 50 modified (moving region), 51 removed, one new item;
//   after E: 60-79 moved region, 80-99 modified, 100-119 removed, 120-129 TTL-removed,
//     0 modified again, 130 modified then removed, 131 removed then inserted, one of the
//     inserted-and-removed and 40 inserted again, 20 new items with a new attribute;
//   batch 2: 5 of the new items modified, 60 removed, 61 moved again.
const PREVIOUS_SECOND = -0.5;  // a change's `at`: the last ms of the second before E's

function history(seed, n) {
  const rand = prng(seed);
  const initial = [];
  for (let i = 0; i < n; i++) initial.push(makeItem(rand, `item-${String(Math.floor(i / 2)).padStart(4, '0')}`, (i % 2) * 1000 - 7));
  const changes = [];
  const cur = new Map(initial.map((it) => [itemKey(it, KEYS), it]));
  let t = -600_000;
  const put = (item, at = (t += 500), batch = 1) => { changes.push({ at, op: 'put', key: itemKey(item, KEYS), item, batch }); cur.set(itemKey(item, KEYS), item); };
  const remove = (item, { at = (t += 500), ttl = false, batch = 1 } = {}) => { changes.push({ at, op: 'remove', key: itemKey(item, KEYS), item, ttl, batch }); cur.delete(itemKey(item, KEYS)); };
  const now = (i) => cur.get(itemKey(initial[i], KEYS));
  // Before E.
  for (let i = 0; i < 30; i++) put(changed(rand, now(i), { region: i < 10 ? otherRegion(now(i)) : null }));
  for (let i = 30; i < 40; i++) { put(changed(rand, now(i))); put(changed(rand, now(i), { region: otherRegion(now(i)) })); }
  for (let j = 0; j < 10; j++) put(makeItem(rand, `pre-${j}`, j));
  const gone = [];
  for (let j = 0; j < 5; j++) { const it = makeItem(rand, `gone-${j}`, 1); gone.push(it); put(it); }
  for (const it of gone) remove(it);
  for (let i = 40; i < 45; i++) remove(now(i));
  // The last ms of the second before E's (streamOf places it): older than the export.
  put(changed(rand, now(45)), PREVIOUS_SECOND);
  // Just after E, in E's second (the stream says E's second; sequence numbers order them).
  put(changed(rand, now(50), { region: otherRegion(now(50)) }), 0);
  remove(now(51), { at: 0 });
  put(makeItem(rand, 'same-second', 3), 0);
  // After E.
  t = 5_000;
  for (let i = 60; i < 80; i++) put(changed(rand, now(i), { region: otherRegion(now(i)) }));
  for (let i = 80; i < 100; i++) put(changed(rand, now(i)));
  for (let i = 100; i < 120; i++) remove(now(i));
  for (let i = 120; i < 130; i++) remove(now(i), { ttl: true });
  put(changed(rand, now(0), { region: otherRegion(now(0)) }));
  put(changed(rand, now(130)));
  remove(now(130));
  const removed131 = now(131);
  remove(removed131);
  put(makeItem(rand, removed131.pk, removed131.sk));
  put(makeItem(rand, gone[0].pk, gone[0].sk));
  put(makeItem(rand, initial[40].pk, initial[40].sk));
  const post = [];
  for (let j = 0; j < 20; j++) { const it = makeItem(rand, `post-${j}`, -j, { note: `note ${j}` }); post.push(it); put(it); }
  // Batch 2 (after the first Flush).
  t = 400_000;
  for (let j = 0; j < 5; j++) put(changed(rand, cur.get(itemKey(post[j], KEYS))), undefined, 2);
  remove(now(60), { batch: 2 });
  put(changed(rand, now(61), { region: otherRegion(now(61)) }), undefined, 2);
  return { initial, changes };
}

// The table at E (what an export or scan holds) and at the end of each batch.
function statesOf({ initial, changes }) {
  const table = new Map(initial.map((it) => [itemKey(it, KEYS), it]));
  const apply = (c) => (c.op === 'put' ? table.set(c.key, c.item) : table.delete(c.key));
  for (const c of changes) if (c.at < 0) apply(c);
  const atE = new Map(table);
  for (const c of changes) if (c.at >= 0 && c.batch === 1) apply(c);
  const afterBatch1 = new Map(table);
  for (const c of changes) if (c.batch === 2) apply(c);
  return { atE, afterBatch1, final: new Map(table) };
}

// The stream's records for the changes (Lambda shape, NEW_AND_OLD_IMAGES): each
// {record (JSON text), change, version: {seq (BigInt), ms}} in stream order.
function streamOf(changes, initial, exportTime, seed) {
  const table = new Map(initial.map((it) => [itemKey(it, KEYS), it]));
  let seq = 4_000_000_000_000_000_000n + BigInt(seed) * 1_000n;
  return changes.map((c, i) => {
    seq += 100n + BigInt(i % 7);
    const time = c.at === PREVIOUS_SECOND ? Math.floor(exportTime / 1000) * 1000 - 1 : exportTime + c.at;
    const old = table.get(c.key);
    const keys = { pk: c.item.pk, sk: c.item.sk };
    const dynamodb = { ApproximateCreationDateTime: Math.floor(time / 1000), Keys: typedOf(keys), SequenceNumber: String(seq), SizeBytes: 100, StreamViewType: 'NEW_AND_OLD_IMAGES' };
    let eventName;
    if (c.op === 'put') {
      eventName = old ? 'MODIFY' : 'INSERT';
      dynamodb.NewImage = typedOf(c.item);
      if (old) dynamodb.OldImage = typedOf(old);
      table.set(c.key, c.item);
    } else {
      eventName = 'REMOVE';
      dynamodb.OldImage = typedOf(old);
      table.delete(c.key);
    }
    const record = {
      eventID: `${seed}-${i}`, eventName, eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1', dynamodb,
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:111122223333:table/orders/stream/2026-01-01T00:00:00.000',
    };
    if (c.ttl) record.userIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };
    return { record: JSON.stringify(record), change: c, version: { seq, ms: Math.floor(time / 1000) * 1000 } };
  });
}

// The README's order: by SequenceNumber between stream records; a stream record against
// a backfill's change (no sequence number) by whole seconds, the stream record winning
// within its second.
function compareVersions(a, b) {
  if (a.seq !== null && b.seq !== null) return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
  if ((a.seq === null) !== (b.seq === null)) {
    const sa = Math.floor(a.ms / 1000);
    const sb = Math.floor(b.ms / 1000);
    if (sa !== sb) return sa < sb ? -1 : 1;
    return a.seq === null ? -1 : 1;
  }
  return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : 0;
}

// What one commit of `records` (in the order sent) does, as the README says: a change not
// newer than what its key reflects (the key's version before the commit, or a change of
// the commit as new) is stale; one that a newer change of the same commit replaces is
// superseded; the rest are applied. `versions` (key -> version) is updated.
function planCommit(records, versions) {
  const counts = { applied: 0, stale: 0, superseded: 0 };
  const newest = new Map();
  for (const r of records) {
    const key = r.change.key;
    const before = versions.get(key) ?? null;
    const batchNewest = newest.get(key) ?? null;
    const current = batchNewest ?? before;
    if (current && compareVersions(r.version, current) <= 0) {
      if (batchNewest && compareVersions(r.version, current) < 0 && (!before || compareVersions(r.version, before) > 0)) counts.superseded++;
      else counts.stale++;
      continue;
    }
    if (batchNewest) counts.superseded++;
    newest.set(key, r.version);
  }
  for (const [key, v] of newest) versions.set(key, v);
  counts.applied = records.length - counts.stale - counts.superseded;
  return counts;
}

// ---- reading the table ----------------------------------------------------------------------

// The numeric attributes (N in DynamoDB): compared by value, however a reader gives them
// (icebird: BigInt, or a double for a decimal column: 437.09 as 437.09000000000003, so
// fractions are compared to 9 places; DuckDB: text).
const NUMERIC = new Set(['sk', 'n', 'price']);

// A row or an item as {attribute: text}: the item's attributes only (no _ columns), nulls
// (attributes the item does not have) left out.
function imageOf(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('_') || v === null || v === undefined) continue;
    const number = typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(9) : String(v);
    out[k] = NUMERIC.has(k) ? `N:${normaliseDecimal(number)}` : JSON.stringify(v);
  }
  return out;
}

// Every row against the oracle: one per key, each image equal. Returns the mismatches.
function diffRows(rows, oracle, what) {
  const problems = [];
  const seen = new Map();
  for (const row of rows) {
    const key = itemKey({ pk: row.pk, sk: { value: String(row.sk) } }, KEYS);
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const want = oracle.get(key);
    if (!want) { problems.push(`${what}: ${key} is in the table, not in DynamoDB (${JSON.stringify(imageOf(row))})`); continue; }
    const got = imageOf(row);
    const exp = imageOf(want);
    if (JSON.stringify(Object.entries(got).sort()) !== JSON.stringify(Object.entries(exp).sort())) problems.push(`${what}: ${key}: ${JSON.stringify(got)}, DynamoDB has ${JSON.stringify(exp)}`);
  }
  for (const [key, n] of seen) if (n > 1) problems.push(`${what}: ${key}: ${n} rows`);
  for (const key of oracle.keys()) if (!seen.has(key)) problems.push(`${what}: ${key} is missing`);
  return problems;
}

const tableDirOf = (dir) => join(dir, 'lake', 'ns', 'items');

async function icebirdRows(dir) {
  const tableDir = tableDirOf(dir);
  const version = readFileSync(join(tableDir, 'metadata', 'version-hint.text'), 'utf8').trim();
  return withTableServer(join(dir, 'lake'), tableDir, ({ tableUrl }) => readWithIcebird(tableUrl, `v${version}.metadata.json`));
}

// The current snapshot's metadata, data files and position delete files (from its
// manifest list and manifests, decoded with avsc).
async function currentFiles(dir) {
  const tableDir = tableDirOf(dir);
  const version = readFileSync(join(tableDir, 'metadata', 'version-hint.text'), 'utf8').trim();
  const meta = JSON.parse(readFileSync(join(tableDir, 'metadata', `v${version}.metadata.json`), 'utf8'));
  const snap = meta.snapshots.find((s) => String(s['snapshot-id']) === String(meta['current-snapshot-id']));
  const data = [];
  const deletes = [];
  for (const mf of (await decodeAvro(localPath(snap['manifest-list']))).records) {
    for (const e of (await decodeAvro(localPath(mf.manifest_path))).records) {
      if (e.status === 2) continue;  // deleted entries are not live
      (Number(e.data_file.content) === 1 ? deletes : data).push(localPath(e.data_file.file_path));
      assert.notEqual(Number(e.data_file.content), 2, 'no equality deletes');
    }
  }
  return { meta, snap, data, deletes };
}

// DuckDB's reading of the table with the position deletes applied by this test: the data
// files' rows whose (file, position) no delete file lists.
async function duckRows(dir) {
  const { data, deletes } = await currentFiles(dir);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
    const list = (files) => `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;
    const src = `read_parquet(${list(data)}, filename = true, file_row_number = true, union_by_name = true)`;
    const dels = deletes.length ? `read_parquet(${list(deletes)}, union_by_name = true)` : '(SELECT NULL::VARCHAR AS file_path, NULL::BIGINT AS pos WHERE false)';
    // file_path in a delete file is the data file's URI as the manifest has it.
    const rows = await q(`SELECT d.* EXCLUDE (filename, file_row_number) FROM ${src} d
      WHERE NOT EXISTS (SELECT 1 FROM ${dels} x WHERE x.pos = d.file_row_number
                        AND (x.file_path = 'file://' || d.filename OR x.file_path = d.filename))`);
    const [{ n }] = await q(`SELECT count(*) AS n FROM ${dels}`);
    return { rows, deleted: Number(n), files: data.length, deleteFiles: deletes.length };
  } finally {
    conn.closeSync?.();
    instance.closeSync?.();
  }
}

async function assertTable(dir, oracle, what, t) {
  const problems = diffRows(await icebirdRows(dir), oracle, `icebird, ${what}`);
  const duck = await duckRows(dir);
  problems.push(...diffRows(duck.rows, oracle, `DuckDB, ${what}`));
  t.diagnostic(`${what}: ${oracle.size} items; ${duck.files} data files, ${duck.deleteFiles} position delete files (${duck.deleted} rows deleted)`);
  assert.deepEqual(problems.slice(0, 8), [], `${problems.length} differences from DynamoDB`);
  return duck;
}

// ---- the sequence -----------------------------------------------------------------------------

// Seeds the table with `seed()` (a backfill; resolves E), then runs the stream through the
// server and checks the table, the metrics and the backfill's refusal.
async function seedThenStream(t, dir, cfg, hist, seedTable) {
  const states = statesOf(hist);
  const { E, argv, env } = await seedTable();
  await assertTable(dir, states.atE, 'after the backfill', t);
  const afterBackfill = (await currentFiles(dir)).meta.snapshots.length;

  const stream = streamOf(hist.changes, hist.initial, E, SEED);
  const versions = new Map([...states.atE.keys()].map((k) => [k, { seq: null, ms: E }]));
  const batch1 = stream.filter((r) => r.change.batch === 1);
  const beforeE = batch1.filter((r) => r.change.at < 0);
  // Replays: records of batch 1 sent again (a consumer's retry), from before and after E.
  const replays = [...beforeE.slice(0, 3), ...batch1.filter((r) => r.change.at >= 0).slice(0, 4)];
  const batch2 = [...stream.filter((r) => r.change.batch === 2), ...replays];
  const plan1 = planCommit(batch1, versions);
  const plan2 = planCommit(batch2, versions);
  // The before-E records whose key the export already reflects as newer.
  const staleBeforeE = beforeE.filter((r) => states.atE.has(r.change.key) && compareVersions(r.version, { seq: null, ms: E }) <= 0).length;
  t.diagnostic(`${stream.length} stream records: ${beforeE.length} before E (${staleBeforeE} stale), ${batch1.length - beforeE.length} from E on; batch 2: ${batch2.length} (${replays.length} replays); the oracle's commits: ${JSON.stringify(plan1)}, ${JSON.stringify(plan2)}`);
  assert.ok(staleBeforeE > 40 && staleBeforeE < beforeE.length, 'the oracle has stale records and before-E records that are not');
  assert.equal(plan1.stale, staleBeforeE, 'the oracle: the first commit\'s stale records are the before-E records the export reflects');

  const server = new ServerProcess(SERVER, { dir, configPath: cfg, env: serverEnv(dir) });
  work.defer(() => server.kill());
  let clients = null;
  try {
    await server.waitForPort();
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);

    // The backfill refuses while the server holds the index.
    // (The same command as the seeding's: it gets as far as opening the index.)
    const refused = await run(CLI, argv, { env, timeoutMs: RUN_MS });
    assert.equal(refused.code, 1, `a backfill while the server runs: exit 1\n${refused.stderr}`);
    assert.match(refused.stderr, /stop lakehose-server/, 'the message says to stop the server');

    const send = async (records, tag) => {
      for (let from = 0; from < records.length; from += 50) {
        const lines = records.slice(from, from + 50).map((r) => r.record);
        const resp = await unary(clients.ingestor, 'Ingest', ingestRequest(PIPELINE, lines, 0, lines.length, `${tag}${from}`), 30_000);
        const bad = resp.records.filter((r) => r.result !== 'OK');
        assert.deepEqual(bad.slice(0, 3), [], `Ingest ${tag}: every record OK`);
      }
    };
    const metric = async (result) => (await server.scrape()).value('lakehose_iceberg_changes_total', { pipeline: PIPELINE, result }) ?? 0;

    await send(batch1, 'b1-');
    await flush(clients.ingestor, PIPELINE, RUN_MS);
    await assertTable(dir, states.afterBatch1, 'after the first Flush', t);
    assert.equal(await metric('stale'), staleBeforeE, 'stale changes after the first Flush: the before-E records the export reflects');

    await send(batch2, 'b2-');
    await flush(clients.ingestor, PIPELINE, RUN_MS);
    const duck = await assertTable(dir, states.final, 'after the second Flush', t);
    const counts = { applied: await metric('applied'), stale: await metric('stale'), superseded: await metric('superseded') };
    t.diagnostic(`lakehose_iceberg_changes_total: ${JSON.stringify(counts)}`);
    assert.deepEqual(counts, { applied: plan1.applied + plan2.applied, stale: plan1.stale + plan2.stale, superseded: plan1.superseded + plan2.superseded },
      'lakehose_iceberg_changes_total: the oracle\'s (stale: the before-E records and the replays)');
    assert.equal(counts.applied + counts.stale + counts.superseded, batch1.length + batch2.length, 'every record counted once');
    const ttl = (await server.scrape()).value('lakehose_ttl_deletes_total', { pipeline: PIPELINE });
    t.diagnostic(`lakehose_ttl_deletes_total: ${ttl ?? 'not exposed by this server'}`);
    if (ttl !== null) assert.equal(ttl, stream.filter((r) => r.change.ttl).length, 'TTL removes counted (servers that have lakehose_ttl_deletes_total)');
    const deletesMetric = (await server.scrape()).value('lakehose_iceberg_position_deletes_total', { pipeline: PIPELINE });
    assert.equal(deletesMetric, duck.deleted, 'position deletes counted as the table has them');

    // One snapshot per Flush after the backfill's, each naming its index delta.
    const { meta } = await currentFiles(dir);
    const streamSnaps = meta.snapshots.slice(afterBackfill);
    assert.equal(streamSnaps.length, 2, 'one snapshot per Flush');
    for (const s of meta.snapshots) assert.ok(s.summary['lakehose.index-delta'], `snapshot ${s['snapshot-id']} names its index delta`);
    assert.ok(streamSnaps.every((s) => s.summary.operation === 'overwrite'), 'the stream\'s snapshots delete rows: overwrite');
    streamSnaps.forEach((snap, i) => {
      const sum = snap.summary;
      assert.deepEqual({ applied: Number(sum['lakehose.changes-applied']), stale: Number(sum['lakehose.changes-stale']), superseded: Number(sum['lakehose.changes-superseded']) },
        [plan1, plan2][i], `snapshot ${i + 1} of the stream: lakehose.changes-* as the oracle's commit`);
    });
    assert.deepEqual(server.events.filter((e) => e.level !== 'info' && e.level !== 'debug').slice(0, 3), [], 'no warnings or errors logged');
    assert.ok(!existsSync(join(dir, 'lake', `${PIPELINE}-errors`)), 'no error documents');
    assert.equal((await server.stop()).code, 0, 'the server exits 0');
  } finally {
    clients?.close();
    await server.kill();
  }

  // A restart: the key index kept what the backfill and the stream did, so the before-E
  // records sent once more are stale again and the table does not change.
  const again = new ServerProcess(SERVER, { dir, configPath: cfg, env: serverEnv(dir), name: 'server2' });
  work.defer(() => again.kill());
  try {
    await again.waitForPort();
    clients = clientsFor(again.target);
    const resp = await unary(clients.ingestor, 'Ingest', ingestRequest(PIPELINE, beforeE.map((r) => r.record), 0, beforeE.length, 'again-'), 30_000);
    assert.ok(resp.records.every((r) => r.result === 'OK'), 'Ingest after the restart: every record OK');
    await flush(clients.ingestor, PIPELINE, RUN_MS);
    const v = await again.scrape();
    assert.equal(v.value('lakehose_iceberg_changes_total', { pipeline: PIPELINE, result: 'stale' }), beforeE.length, 'after a restart: every before-E record stale');
    assert.equal(v.value('lakehose_iceberg_changes_total', { pipeline: PIPELINE, result: 'applied' }) ?? 0, 0, 'after a restart: nothing applied');
    await assertTable(dir, states.final, 'after a restart and the before-E records again', t);
    assert.equal((await again.stop()).code, 0, 'the restarted server exits 0');
  } finally {
    clients?.close();
    await again.kill();
  }
}

describe(`a mode: current table seeded by lakehose backfill, then the stream (${ITEMS} items, seed ${SEED})`, { timeout: 5 * 60_000 }, () => {
  after(() => work.close());

  it('from an export: the export\'s items, then the stream\'s later changes; older ones stale', async (t) => {
    const dir = join(work.path, 'export');
    const cfg = configFor(dir);
    const hist = history(SEED, ITEMS);
    const { atE } = statesOf(hist);
    await seedThenStream(t, dir, cfg, hist, async () => {
      const exp = await writeExport(join(dir, 'bucket'), { items: [...atE.values()], filesCount: 3, exportTime: EXPORT_TIME, seed: SEED });
      const argv = ['backfill', '--config', cfg, '--pipeline', PIPELINE, '--export', exp.exportDir, '--progress-format', 'json', '--json'];
      const r = await run(CLI, argv, { timeoutMs: RUN_MS });
      ok(r, 'backfill');
      assert.equal(JSON.parse(r.stdout).items, atE.size, 'items read');
      return { E: EXPORT_TIME, argv };
    });
  });

  it('from a Scan of dynalite: the same sequence, E the scan\'s start', async (t) => {
    const dir = join(work.path, 'scan');
    const cfg = configFor(dir);
    const hist = history(SEED + 1, ITEMS);
    const { atE } = statesOf(hist);
    const ddb = await startDynalite();
    work.defer(() => ddb.close());
    await createTable(ddb.endpoint, 'orders', ['pk', 'S'], ['sk', 'N']);
    await loadItems(ddb.endpoint, 'orders', [...atE.values()]);
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: DDB_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: DDB_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config',
    });
    await seedThenStream(t, dir, cfg, hist, async () => {
      const argv = ['backfill', '--config', cfg, '--pipeline', PIPELINE, '--scan', '--table', 'orders', '--region', DDB_REGION,
        '--dynamodb-endpoint', ddb.endpoint, '--segments', '2', '--progress-format', 'json', '--json'];
      const r = await run(CLI, argv, { env, timeoutMs: RUN_MS });
      ok(r, 'backfill --scan');
      const s = JSON.parse(r.stdout);
      assert.equal(s.items, atE.size, 'items scanned');
      const m = /^backfill-scan-orders-(\d+)$/.exec(s.writer_id);
      assert.ok(m, `the writer names the scan's start: ${s.writer_id}`);
      return { E: Number(m[1]), argv, env };
    });
  });
});
