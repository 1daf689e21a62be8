// The model test of current-state tables (issue 17, `destination.iceberg.mode: current`):
// an Iceberg table with one row per live DynamoDB item, kept with position deletes, must
// equal what a dictionary holds after applying the same changes by the same rule. The
// oracle (a Map) applies each change only if it is newer than the key's version
// (SequenceNumber when both have one, else ApproximateCreationDateTime: in ms, or in whole
// seconds between a record with a SequenceNumber and one without: the README's rule,
// compareVersions); a REMOVE leaves a tombstone with its version; older or equal
// changes are dropped. The changes are generated per key from one history (INSERT,
// MODIFY, REMOVE, TTL REMOVE by dynamodb.amazonaws.com, items moving to another `region`,
// the table's identity partition), half the keys delivered in the Lambda shape
// (SequenceNumber digits crossing from 20 to 21 digits, so that a text comparison would
// fail; the time in seconds), half in the Kinesis Data Streams shape (recordFormat,
// tableName, the time in ms, no SequenceNumber); the delivery reorders neighbours (older
// after newer, in one batch and across batches), duplicates records and replays records
// of earlier rounds. Two tests:
//
//   - file: a config with `input: json` is refused at start (exit 2). Then --rounds
//     rounds of --changes changes, each sent in Ingest batches and followed by a Flush;
//     after each Flush icebird (position deletes applied by file_path) and DuckDB
//     (read_parquet of the live data files and of the position delete files, the deletes
//     applied here) read exactly the oracle's live items, image for image. At rest: each
//     row's _op, _SequenceNumber and _ApproximateCreationDateTime are the applied change's;
//     checkTable decodes every manifest with avsc and python3-avro (delete manifests:
//     content 1, the delete files' columns and field ids); positionDeletes checks each
//     delete against the data file it names (live, a data sequence number at most the
//     delete's, the same partition, a real row); every snapshot has at most one row per
//     key, each an image sent for it; snapshots with changes carry lakehose.index-delta.
//     Maintenance, the server stopped (while it runs, `lakehose table compact` and
//     `expire` exit nonzero and write nothing). `lakehose table compact`, planned here from
//     the table before (the live data files with at least a fraction of their rows deleted,
//     their rows kept and dropped, the delete files naming them wholly or partly): dry runs
//     at the default 0.2 and at --min-deleted 1 report their plans and write nothing; the
//     real run at a threshold that splits the files (about two thirds rewritten) with a
//     small --max-rows (a partition's rows in several files) reports what its dry run
//     reported and its plan; its snapshot is a replace, with lakehose.index-delta,
//     deleted-data-files, deleted-records, removed-delete-files and total-position-deletes
//     down by the deletes of the removed files; exactly the picked files are gone, their
//     live rows in new <pipeline>-compact-<snapshot>-<n>.parquet files of their partitions
//     (at most --max-rows rows each); delete files naming only removed files are gone,
//     those naming some replaced by new ones with exactly the other deletes; its rewritten
//     manifests list each removed file once as DELETED (snapshot_id the compaction's) and
//     the rest as EXISTING with the snapshot id and sequence numbers the parent's view had,
//     written out; the parent's other manifests carried over unchanged; the at-rest checks
//     above (python3-avro too) pass; a second run finds nothing and writes nothing. The
//     server again: a round's changes to moved keys delete their rows in the compaction's
//     files (the key index followed the moved rows), the table is the oracle's. SIGTERM,
//     the index removed and rebuilt by `lakehose table reindex` from every snapshot's
//     delta (the compaction's too). `lakehose table expire --older-than 0s --retain-last
//     1`: its dry run writes nothing and --list prints exactly the files only the expired
//     snapshots named (manifest lists, index deltas, manifests, data and delete files the
//     current snapshot does not list), none deleted; the real run reports the dry run's
//     counts (unreferenced_bytes: of the data, delete and manifest files) and leaves the
//     current snapshot alone, with a key-index checkpoint
//     (metadata/index-checkpoint-<snapshot>.bin) named by the table property
//     lakehose.index-checkpoint; icebird and DuckDB still read the oracle's items. The
//     index removed again and rebuilt by reindex (from the checkpoint: the deltas before
//     it are out of reach), a restart, two more rounds (with replays of old records):
//     still the oracle's items. Last, the counts: the snapshots'
//     lakehose.changes-applied|stale|superseded (read before the expiry too) add up to the
//     records delivered, and /metrics (scraped before the maintenance) says what the
//     snapshots of that server say, some stale, lakehose_iceberg_position_deletes_total
//     the table's position deletes, lakehose_ttl_deletes_total the TTL REMOVE records
//     delivered.
//   - s3: a table keyed by pk and sk (a number: `identifier: [pk, sk]`, several items per
//     pk) on S3 through the verifying front with faults (503, 500, resets before and
//     after the write, latency); --cycles SIGKILL cycles: each start first re-sends
//     every batch not acked before (replays are no-ops by version), Flushes and compares
//     icebird with the oracle of everything sent; then sends new batches (two senders,
//     sometimes a Flush) until SIGKILL 0.5-3 s later while an Ingest is under way (every
//     other cycle as soon as the bucket holds a new metadata version after that, before
//     the server has its answer: between the snapshot and the key index's update; one
//     cycle in seven killed during start-up instead; two such kills must leave an index
//     delta to replay at a start). A last start re-sends, Flushes, and the table
//     (icebird, DuckDB with deletes, checkTable, every snapshot as above) equals the
//     oracle; the snapshots' counts of changes are at least the records sent and at most
//     the sends; SIGTERM exits 0; the front refused no request.
//
//   node tests/iceberg/current.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--rounds 4] [--changes 300] [--keys 150] [--cycles 3] [--batch 40] [--dest file|s3|both]
//        [--seed N] [--budget-s 120] [--keep]
//
// Every loop is bounded in count and time; servers listen on 127.0.0.1 port 0; a failed
// run keeps its directory (server.log of every start, the lake, sent batches).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { killInStartUp } from '../lib/crash.mjs';
import { clientsFor, flushRetrying, statusName, unary, waitForReady } from '../lib/grpc.mjs';
import { ServerProcess, WorkDir, exitWhenDone, run, serverEnv, sleep, suiteArgs, withTimeout } from '../lib/harness.mjs';
import {
  canonical, checkTable, liveRowsWithDuckDB, loadMetadata, localPath, mirrorS3, positionDeletes, readWithIcebird, snapshotManifests, withTableServer,
} from '../lib/iceberg.mjs';
import { downloadBucket } from '../lib/lake.mjs';
import { TEST_REGION, assertFrontAccepted, prng, startS3Front } from '../lib/s3_front.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: {
    rounds: { type: 'string' }, changes: { type: 'string' }, keys: { type: 'string' }, cycles: { type: 'string' },
    batch: { type: 'string' }, dest: { type: 'string' }, seed: { type: 'string' }, 'budget-s': { type: 'string' }, keep: { type: 'boolean' },
  },
  usage: '[--rounds 4] [--changes 300] [--keys 150] [--cycles 3] [--batch 40] [--dest file|s3|both] [--seed N] [--budget-s 120] [--keep]',
});
const ROUNDS = Number(args.rounds ?? 4);
const CHANGES = Number(args.changes ?? 300);
const KEYS = Number(args.keys ?? 150);
const CYCLES = Number(args.cycles ?? 3);
const BATCH = Number(args.batch ?? 40);
const SEED = Number(args.seed ?? (Date.now() % 1_000_000));
const BUDGET_MS = Number(args['budget-s'] ?? 120) * 1000;
const DESTS = (args.dest ?? 'both') === 'both' ? ['file', 's3'] : [args.dest];
for (const [name, v, min] of [['rounds', ROUNDS, 1], ['changes', CHANGES, 10], ['keys', KEYS, 4], ['cycles', CYCLES, 1], ['batch', BATCH, 1], ['budget-s', BUDGET_MS / 1000, 10]]) {
  if (!(Number.isInteger(v) && v >= min)) { console.error(`--${name}: an integer >= ${min}`); process.exit(2); }
}
if (!(Number.isInteger(SEED) && SEED >= 0 && SEED < 1e6) || !DESTS.every((d) => d === 'file' || d === 's3')) {
  console.error('--seed: 0 <= N < 1000000; --dest: file, s3 or both');
  process.exit(2);
}

const PIPELINE = 'items';
const NAMESPACE = 'ns';
const TABLE = 'items';
const REGIONS = ['eu', 'us', 'ap'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const RPC_DEADLINE_MS = 15_000;
const PORT_TIMEOUT_MS = 30_000;
const FLUSH_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 60_000;
const TOOL_TIMEOUT_MS = 120_000;
const RESEND_TIMEOUT_MS = 60_000;
const SETTLE_MS = RPC_DEADLINE_MS + 5_000;
const SEND_PAUSE_MS = 250;
const S3_FAULTS = { slowDown: 0.04, internalError: 0.03, reset: 0.03, resetAfter: 0.04, latencyMs: [0, 20], seed: SEED };

const work = new WorkDir('lakehose-iceberg-current-', { keep: args.keep });

// ---- the model ---------------------------------------------------------------------------

// <0, 0, >0 as version `a` is older than, as old as, or newer than `b` (README "Current-state
// tables", Order): by SequenceNumber when both have one; else by time in ms; a change with
// one against a change without (a stream record against an export's or a scan's row) by
// whole seconds, the one with a sequence number winning within its second. (History gives
// each key one shape, so the last case is not met here: it is the backfill suites'.)
function compareVersions(a, b) {
  if (a.seq !== null && b.seq !== null) return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
  if ((a.seq !== null) !== (b.seq !== null)) {
    const sa = Math.floor(a.timeMs / 1000);
    const sb = Math.floor(b.timeMs / 1000);
    if (sa !== sb) return sa < sb ? -1 : 1;
    return a.seq !== null ? 1 : -1;
  }
  return a.timeMs < b.timeMs ? -1 : a.timeMs > b.timeMs ? 1 : 0;
}

// The dictionary: key -> {version, live, image (plain attributes, values as text), change
// (the one applied last)}.
class Oracle {
  constructor() { this.state = new Map(); }

  // Applies one change; true when applied, false when dropped (older or as old).
  apply(c) {
    const st = this.state.get(c.key);
    if (st && compareVersions(c.version, st.version) <= 0) return false;
    this.state.set(c.key, { version: c.version, live: !c.remove, image: c.remove ? null : c.image, change: c });
    return true;
  }

  live() {
    const out = new Map();
    for (const [k, st] of this.state) if (st.live) out.set(k, st.image);
    return out;
  }

  // key -> the change that wrote each live item's row.
  writers() {
    const out = new Map();
    for (const [k, st] of this.state) if (st.live) out.set(k, st.change);
    return out;
  }
}

// The DynamoDB table's history: each change() is the next change of a random key (INSERT
// when the item does not exist, else MODIFY, REMOVE or a TTL REMOVE), as a stream record of
// the key's shape. Keys of even index are delivered by DynamoDB Streams (Lambda's shape:
// SequenceNumber, time in seconds), odd ones by Kinesis Data Streams (time in ms, no
// SequenceNumber): one shape per key, as one pipeline sees them, so that versions of a key
// are totally ordered and the oracle's result does not depend on delivery order. With
// `composite`, the DynamoDB table has a range key too: pk (S) and sk (N), several items
// per pk; else pk alone.
class History {
  constructor(random, keys, tag, { composite = false } = {}) {
    this.random = random;
    this.keys = keys;
    this.tag = tag;
    this.composite = composite;
    this.items = new Map();  // key -> image of the existing item
    // Sequence numbers from just under 10^20, so that they reach 21 digits mid-run.
    this.seq = 10n ** 20n - 40_000n;
    this.timeMs = 1_767_225_600_000;  // 2026-01-01
    this.n = 0;
  }

  pick(list) { return list[Math.floor(this.random() * list.length)]; }

  change() {
    const k = Math.floor(this.random() * this.keys);
    const ids = this.composite ? { pk: `${this.tag}-${String(k % 16).padStart(4, '0')}`, sk: String(k * 7) } : { pk: `${this.tag}-${String(k).padStart(4, '0')}` };
    const key = keyOf(ids);
    const lambda = k % 2 === 0;
    this.n++;
    this.seq += BigInt(1 + Math.floor(this.random() * 200));
    this.timeMs += 1 + Math.floor(this.random() * 5);
    const old = this.items.get(key) ?? null;
    let eventName;
    let image = null;
    let ttl = false;
    const r = this.random();
    if (!old) eventName = 'INSERT';
    else if (r < 0.6) eventName = 'MODIFY';
    else if (r < 0.8) eventName = 'REMOVE';
    else { eventName = 'REMOVE'; ttl = true; }
    if (eventName !== 'REMOVE') {
      // A MODIFY moves the item to another region (partition) one time in four.
      const region = old && this.random() >= 0.25 ? old.region : this.pick(REGIONS);
      image = { ...ids, region, n: String(this.n), name: this.pick(WORDS) };
      if (this.random() < 0.3) image.note = `${this.pick(WORDS)} ${this.n}`;
      this.items.set(key, image);
    } else {
      this.items.delete(key);
    }
    const version = lambda
      ? { seq: this.seq, timeMs: Math.floor(this.timeMs / 1000) * 1000 }
      : { seq: null, timeMs: this.timeMs };
    const ddb = (img) => Object.fromEntries(Object.entries(img).map(([a, v]) => [a, a === 'n' || a === 'sk' ? { N: v } : { S: v }]));
    const eventID = `${this.tag}-e${this.n}`;
    const dynamodb = {
      ApproximateCreationDateTime: lambda ? Math.floor(this.timeMs / 1000) : this.timeMs,
      Keys: ddb(ids),
      ...(image ? { NewImage: ddb(image) } : {}),
      ...(old ? { OldImage: ddb(old) } : {}),
      ...(lambda ? { SequenceNumber: String(this.seq) } : {}),
      SizeBytes: 120,
      ...(lambda ? { StreamViewType: 'NEW_AND_OLD_IMAGES' } : {}),
    };
    const record = lambda
      ? {
        eventID, eventName, eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: TEST_REGION, dynamodb,
        ...(ttl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
        eventSourceARN: `arn:aws:dynamodb:${TEST_REGION}:123456789012:table/items/stream/2026-01-01T00:00:00.000`,
      }
      : {
        awsRegion: TEST_REGION, eventID, eventName,
        userIdentity: ttl ? { type: 'Service', principalId: 'dynamodb.amazonaws.com' } : null,
        recordFormat: 'application/json', tableName: 'items', dynamodb, eventSource: 'aws:dynamodb',
      };
    return { key, version, op: eventName === 'INSERT' ? 'INSERT' : 'UPDATE', remove: eventName === 'REMOVE', ttl, image, eventID, line: JSON.stringify(record) };
  }

  // The items as DynamoDB holds them now: key -> image.
  truth() { return new Map(this.items); }
}

// A round's delivery of `count` new changes of `history`: neighbours swapped (a change up
// to 8 places later goes first), some records twice (a copy up to 20 places later), some
// records of earlier rounds (`earlier`) replayed. Returns the changes in delivery order;
// the new ones are added to `earlier`.
function deliver(history, count, random, earlier) {
  const fresh = Array.from({ length: count }, () => history.change());
  const out = [...fresh];
  for (let i = 0; i < out.length; i++) {
    if (random() < 0.3) {
      const j = Math.min(out.length - 1, i + 1 + Math.floor(random() * 8));
      [out[i], out[j]] = [out[j], out[i]];
    }
  }
  const withCopies = [];
  const later = [];
  for (let i = 0; i < out.length; i++) {
    withCopies.push(out[i]);
    if (random() < 0.1) later.push({ at: i + Math.floor(random() * 20), c: out[i] });
    for (const l of later.filter((x) => x.at === i)) withCopies.push(l.c);
  }
  for (const l of later.filter((x) => x.at >= out.length)) withCopies.push(l.c);
  if (earlier.length > 0) {
    for (let i = 0, n = Math.floor(count * 0.05); i < n; i++) {
      withCopies.splice(Math.floor(random() * withCopies.length), 0, earlier[Math.floor(random() * earlier.length)]);
    }
  }
  earlier.push(...fresh);
  return withCopies;
}

// Batches of `size` changes each.
const batchesOf = (changes, size) => Array.from({ length: Math.ceil(changes.length / size) }, (_, i) => changes.slice(i * size, (i + 1) * size));

// ---- the table against the oracle --------------------------------------------------------

// An item's key (its attributes pk, and sk when the table has a range key) as the oracle
// keys it.
const keyOf = (item) => (item.sk === undefined ? item.pk : `${item.pk}#${item.sk}`);

// A row's item attributes (columns not beginning with `_`, nulls left out), values as text.
function itemOf(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('_') || v === null || v === undefined) continue;
    out[k] = typeof v === 'object' && !(typeof v === 'bigint') ? JSON.stringify(v) : String(v);
  }
  return out;
}

// Asserts that `rows` (a reader's rows of the table) are exactly the oracle's live items,
// image for image, each once. `who` names the reader.
function assertEqualsOracle(rows, live, who) {
  const got = new Map();
  const twice = [];
  for (const r of rows) {
    const item = itemOf(r);
    if (got.has(keyOf(item))) twice.push(keyOf(item));
    got.set(keyOf(item), item);
  }
  const missing = [...live.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !live.has(k));
  const differ = [...live.keys()].filter((k) => got.has(k) && JSON.stringify(sortKeys(got.get(k))) !== JSON.stringify(sortKeys(live.get(k))));
  const show = (ks, f) => ks.slice(0, 5).map(f).join('; ');
  assert.ok(twice.length === 0 && missing.length === 0 && extra.length === 0 && differ.length === 0, [
    `${who}: the table is not the oracle's ${live.size} live items (${rows.length} rows read):`,
    twice.length ? `  ${twice.length} extra rows of keys already read: ${[...new Set(twice)].slice(0, 5).join(', ')}` : null,
    missing.length ? `  ${missing.length} live items missing: ${show(missing, (k) => `${k} ${JSON.stringify(live.get(k))}`)}` : null,
    extra.length ? `  ${extra.length} rows of items the oracle does not hold: ${show(extra, (k) => JSON.stringify(got.get(k)))}` : null,
    differ.length ? `  ${differ.length} images differ: ${show(differ, (k) => `${JSON.stringify(got.get(k))} != ${JSON.stringify(live.get(k))}`)}` : null,
  ].filter(Boolean).join('\n'));
}

// Every image of `changes` by key, as checkAtRest takes them.
function imagesByKey(changes) {
  const out = new Map();
  for (const c of changes) {
    if (c.remove) continue;
    if (!out.has(c.key)) out.set(c.key, new Set());
    out.get(c.key).add(JSON.stringify(sortKeys(c.image)));
  }
  return out;
}

const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// icebird's rows of the table under `lakeDir`.
const icebirdRows = (lakeDir, tableDir) => withTableServer(lakeDir, tableDir, ({ tableUrl }) => readWithIcebird(tableUrl));

// The whole check of a table at rest (no server writing it): checkTable (avsc on every
// manifest list and manifest, python3-avro when `python`), the position deletes against
// the data files they name, DuckDB's rows with the deletes applied, icebird's rows, each
// equal to the oracle; every snapshot that changed the table names its index updates.
// Every older snapshot too (commits between Flushes hold whatever objects were sealed, so
// no prefix of the stream is known for them): at most one row per key, each an image
// sent for that key (`sentImages`: key -> Set of images as JSON of sorted attributes).
// Returns {line (for the summary), positionDeletes (the current snapshot's delete rows),
// history (lakehose.changes-applied|stale|superseded summed over the snapshots)}.
async function checkAtRest(tableDir, lakeDir, conn, oracle, sentImages, { python, deep, expired = false, deletesLeft = true }) {
  const live = oracle.live();
  const checked = await checkTable(tableDir, conn, { python, deep, expired });
  const m = checked.meta.current;
  const { rows: duckRows, deletes } = await liveRowsWithDuckDB(checked, conn);
  assertEqualsOracle(duckRows, live, 'DuckDB (read_parquet, position deletes applied here)');
  // The row's metadata columns are the change's that wrote it (README: _op, the version).
  const writers = oracle.writers();
  for (const r of duckRows) {
    const c = writers.get(keyOf(itemOf(r)));
    const want = { _op: c.op, _SequenceNumber: c.version.seq === null ? null : String(c.version.seq), _ApproximateCreationDateTime: String(c.version.timeMs) };
    const got = { _op: r._op, _SequenceNumber: r._SequenceNumber ?? null, _ApproximateCreationDateTime: r._ApproximateCreationDateTime === null ? null : String(r._ApproximateCreationDateTime) };
    assert.deepEqual(got, want, `${c.key}: the row's metadata columns are those of ${c.eventID}`);
  }
  assertEqualsOracle(await icebirdRows(lakeDir, tableDir), live, 'icebird');
  for (const s of m.snapshots) {
    const { rows } = await liveRowsWithDuckDB(checked, conn, BigInt(s['snapshot-id']));
    const keys = new Set();
    for (const r of rows) {
      const item = itemOf(r);
      const at = `snapshot ${s['snapshot-id']} (sequence number ${s['sequence-number']})`;
      const key = keyOf(item);
      assert.ok(!keys.has(key), `${at}: key ${key} has two live rows`);
      keys.add(key);
      assert.ok(sentImages.get(key)?.has(JSON.stringify(sortKeys(item))), `${at}: ${JSON.stringify(item)} is no image sent for ${key}`);
    }
  }
  let withDeletes = 0;
  const history = { applied: 0, stale: 0, superseded: 0 };
  for (const s of m.snapshots) {
    const sum = s.summary ?? {};
    const added = Number(sum['added-data-files'] ?? 0) + Number(sum['added-delete-files'] ?? 0);
    if (added > 0) assert.ok(typeof sum['lakehose.index-delta'] === 'string', `snapshot ${s['snapshot-id']} (${sum.operation}) has no lakehose.index-delta: ${JSON.stringify(sum)}`);
    if (Number(sum['added-delete-files'] ?? 0) > 0) withDeletes++;
    for (const k of Object.keys(history)) history[k] += Number(sum[`lakehose.changes-${k}`] ?? 0);
  }
  const current = checked.snapshots.get(BigInt(m['current-snapshot-id']));
  const deleteManifests = [...checked.avroFiles.values()].filter((a) => a.meta.content === 'deletes').length;
  if (deletesLeft) assert.ok(current.deletes.length > 0 && deleteManifests > 0, 'the table has no position delete files, yet the stream modified and removed items');
  const line = `v${checked.meta.hint}, ${m.snapshots.length} snapshots (${withDeletes} adding deletes), ${current.live.length} live data files, ` +
    `${current.deletes.length} delete files (${deleteManifests} delete manifests, ${deletes.rows} position deletes, ${deletes.twice} rows deleted twice), ` +
    `${duckRows.length} rows = ${live.size} live items; the summaries' lakehose.changes-* ${JSON.stringify(history)}`;
  return { line, positionDeletes: deletes.rows, history, checked };
}

// ---- the server --------------------------------------------------------------------------

function configYaml({ dataDir, dest, input = 'dynamodb-stream', composite = false }) {
  const d = dest.kind === 'file'
    ? ['      kind: file', `      path: ${JSON.stringify(dest.path)}`]
    : ['      kind: s3', '      bucket: lake', `      endpoint: ${dest.endpoint}`, '      force_path_style: true', `      region: ${TEST_REGION}`];
  return [
    'server:',
    `  data_dir: ${JSON.stringify(dataDir)}`,
    '  writer_id: cur',
    '  shutdown_grace_s: 30',
    '  dlq: { delivery_retry_budget_s: 2, retry_base_ms: 200, retry_max_ms: 1000 }',
    'pipelines:',
    `  - name: ${PIPELINE}`,
    `    input: ${input}`,
    '    partition_keys:',
    '      region: { attribute: region }',
    '    destination:',
    ...d,
    '      format: iceberg',
    '      buffering: { size_mb: 0.02, interval_s: 1 }',
    '      iceberg:',
    `        table: ${NAMESPACE}.${TABLE}`,
    '        catalog: { kind: filesystem }',
    '        mode: current',
    `        identifier: [${composite ? 'pk, sk' : 'pk'}]`,
    '        schema:',
    '          - { name: pk, type: string, required: true }',
    ...(composite ? ['          - { name: sk, type: int64, required: true }'] : []),
    '        commit_interval_s: 1',
    '',
  ].join('\n');
}

// Sends one batch of changes; resolves true when every record was acknowledged, false on
// a gRPC error (the batch may or may not be in). A record the server refuses is a failed
// assertion: every generated record is valid.
async function sendBatch(ingestor, batch, tag) {
  const req = { pipeline: PIPELINE, records: batch.map((c, i) => ({ record_id: `${tag}-${i}`, data: Buffer.from(c.line) })) };
  let resp;
  try {
    resp = await unary(ingestor, 'Ingest', req, RPC_DEADLINE_MS);
  } catch (err) {
    return { ok: false, error: err };
  }
  assert.equal(resp.records.length, batch.length, 'Ingest: one result per record');
  resp.records.forEach((r, i) => {
    assert.equal(r.result, 'OK', `record ${batch[i].eventID} (${batch[i].line}): ${r.result} ${r.error_code} ${r.error_message}`);
  });
  return { ok: true };
}

// The current-state metrics of the pipeline (0 when absent).
const currentMetrics = async (server) => {
  const s = await server.scrape();
  const v = (result) => s.value('lakehose_iceberg_changes_total', { pipeline: PIPELINE, result }) ?? 0;
  return {
    applied: v('applied'), stale: v('stale'), superseded: v('superseded'),
    positionDeletes: s.value('lakehose_iceberg_position_deletes_total', { pipeline: PIPELINE }) ?? 0,
    deltasReplayed: s.value('lakehose_iceberg_index_deltas_replayed_total', { pipeline: PIPELINE }) ?? 0,
    ttlDeletes: s.value('lakehose_ttl_deletes_total', { pipeline: PIPELINE }) ?? 0,
  };
};

// A test's directory under the suite's, and the paths in it.
function testDir(name) {
  const dir = join(work.path, name);
  mkdirSync(dir, { recursive: true });
  const lakeDir = join(dir, 'lake');
  return {
    dir, lakeDir, dataDir: join(dir, 'var'), tableDir: join(lakeDir, NAMESPACE, TABLE),
    logFile: join(dir, 'server.log'), cfgPath: join(dir, 'lakehose.yaml'),
  };
}

// A test's error, its directory kept, with the server's log named and its last lines.
function failed(err, logFile, server) {
  work.fail();
  err.message += `\n-- server log: ${logFile} (kept)`;
  if (server) err.message += `\n-- last server output:\n${server.tail(30)}`;
  return err;
}

async function closeAll({ conn, duck, server }) {
  conn?.closeSync?.();
  duck?.closeSync?.();
  await server?.kill().catch(() => {});
}

// ---- maintenance: `lakehose table compact` and `lakehose table expire` -------------------

const COMPACT_FIELDS = ['snapshot_id', 'data_files_rewritten', 'data_files_added', 'rows_kept', 'rows_dropped', 'delete_files_removed', 'delete_files_added', 'position_deletes_removed', 'keys_moved'];
const EXPIRE_FIELDS = ['snapshots_expired', 'snapshots_kept', 'checkpoint', 'unreferenced_files', 'unreferenced_bytes'];
// The summary keys a compaction's snapshot carries (README "Current-state tables").
const REPLACE_SUMMARY_KEYS = ['lakehose.index-delta', 'lakehose.writer-id', 'lakehose.pipeline', 'added-data-files', 'deleted-data-files', 'added-records',
  'deleted-records', 'added-delete-files', 'removed-delete-files', 'added-position-deletes', 'removed-position-deletes', 'total-data-files',
  'total-records', 'total-delete-files', 'total-position-deletes'];
// The compaction's default threshold: a file is rewritten when this fraction of its rows
// (or more) is deleted.
const MIN_DELETED = 0.2;

// `lakehose table <verb> --config F --pipeline P ...extra` (the server stopped).
const tableCli = (verb, cfgPath, extra, { env, cwd }) => run(CLI_BIN, ['table', verb, '--config', cfgPath, '--pipeline', PIPELINE, ...extra], { timeoutMs: TOOL_TIMEOUT_MS, env, cwd });

// The same with --json: asserts exit 0 and one JSON object on stdout holding `fields`
// (after the URIs --list prints, given `listed`). Resolves it, snapshot_id as text (ids
// pass 2^53), with `listed`: the URIs.
async function tableJson(verb, cfgPath, extra, { env, cwd, fields, listed = false }) {
  const what = `lakehose table ${verb} ${extra.join(' ')} --json`;
  const res = await tableCli(verb, cfgPath, [...extra, '--json'], { env, cwd });
  assert.equal(res.code, 0, `${what}: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
  const lines = res.stdout.trim().split('\n');
  if (!listed) assert.equal(lines.length, 1, `${what}: one line on stdout:\n${res.stdout}`);
  let out;
  try {
    out = JSON.parse(lines.at(-1).replace(/("snapshot_id"\s*:\s*)(-?\d+)/g, '$1"$2"'));
  } catch (err) {
    assert.fail(`${what}: stdout does not end in one JSON object (${err.message}):\n${res.stdout}`);
  }
  for (const f of fields) assert.ok(f in out, `${what}: no ${f} in ${lines.at(-1)}`);
  if (listed) out.listed = lines.slice(0, -1).filter((l) => l !== '');
  return out;
}

// Every file under `dir` with its size, as text (to compare before and after a command
// that must write nothing).
const listing = (dir) => readdirSync(dir, { recursive: true }).map(String).sort()
  .map((f) => { const st = statSync(join(dir, f)); return st.isFile() ? `${f} ${st.size}` : null; }).filter(Boolean).join('\n');

// A --min-deleted threshold (text) that splits the live data files of `checked`'s current
// snapshot (`deleted`: positionDeletes' map), about two thirds of them picked: midway
// between the deleted fractions of two files, so that no file sits on it. MIN_DELETED
// when all are alike.
function splittingFraction(checked, deleted) {
  const live = checked.snapshots.get(BigInt(checked.meta.current['current-snapshot-id'])).live;
  const r = [...new Set(live.map((f) => (deleted.get(f.path)?.size ?? 0) / f.rows))].filter((x) => x > 0).sort((a, b) => a - b);
  if (r.length < 2) return String(MIN_DELETED);
  const k = Math.max(1, Math.floor(r.length / 3));
  const f = ((r[k - 1] + r[k]) / 2).toFixed(6);
  assert.ok(Number(f) > r[k - 1] && Number(f) < r[k], `threshold ${f} between ${r[k - 1]} and ${r[k]}`);
  return f;
}

// What a compaction of `checked`'s current snapshot (checkTable's result) must do with
// threshold `fraction`: the live data files whose deleted rows are at least that fraction
// of their rows (`picked`), their rows kept and dropped; the live delete files all of whose
// deletes name picked files (`full`) or some (`partial`), the deletes of partial files
// that must remain (`remaining`: "file_path pos"), the deletes naming picked files.
async function compactionPlan(checked, conn, fraction) {
  const sid = BigInt(checked.meta.current['current-snapshot-id']);
  const snap = checked.snapshots.get(sid);
  const { deleted, twice } = await positionDeletes(checked, conn, sid);
  assert.equal(twice, 0, 'no row is deleted twice (the compaction\'s counts assume it)');
  const picked = snap.live.filter((f) => {
    const d = deleted.get(f.path)?.size ?? 0;
    return d > 0 && (d === f.rows || d / f.rows >= fraction);
  });
  const pickedUris = new Set(picked.map((f) => f.entry.data_file.file_path));
  const plan = {
    sid, snap, picked, pickedPaths: new Set(picked.map((f) => f.path)), full: [], partial: [], remaining: new Set(), deletesOfPicked: 0,
    keptOf: new Map(picked.map((f) => [f.path, f.rows - deleted.get(f.path).size])),
    kept: picked.reduce((a, f) => a + f.rows - deleted.get(f.path).size, 0),
    dropped: picked.reduce((a, f) => a + deleted.get(f.path).size, 0),
  };
  for (const del of snap.deletes) {
    const rows = (await conn.runAndReadAll(`SELECT file_path, CAST(pos AS VARCHAR) AS pos FROM read_parquet('${del.path.replaceAll("'", "''")}')`)).getRowObjectsJson();
    const into = rows.filter((r) => pickedUris.has(r.file_path));
    plan.deletesOfPicked += into.length;
    if (into.length === rows.length) plan.full.push(del);
    else if (into.length > 0) {
      plan.partial.push(del);
      for (const r of rows) if (!pickedUris.has(r.file_path)) plan.remaining.add(`${r.file_path} ${r.pos}`);
    }
  }
  // The report --json must print for this plan (data_files_added and delete_files_added
  // are checked against the table the compaction leaves).
  plan.report = {
    data_files_rewritten: picked.length, rows_kept: plan.kept, rows_dropped: plan.dropped, delete_files_removed: plan.full.length + plan.partial.length,
    position_deletes_removed: plan.deletesOfPicked, keys_moved: plan.kept,
  };
  return plan;
}

// The compaction's snapshot (`after`: checkTable's result once it is committed) against
// its `plan` (compactionPlan's, of the snapshot before) and its --json `report`: the
// picked files gone and their live rows in new files of the same partitions (at most
// `maxRows` rows each), the delete files that named them DELETED or replaced by ones with
// the remaining deletes, the other files kept; its manifests: rewritten ones list each removed file once as DELETED (its
// sequence numbers the parent's) and the others as EXISTING with the sequence numbers and
// snapshot ids the parent's view had, written out; manifests with nothing removed carried
// over unchanged; the summary's counts. Resolves {added (the new data files), line}.
async function checkCompaction(plan, after, report, conn, maxRows) {
  const m = after.meta.current;
  const sid = BigInt(m['current-snapshot-id']);
  const s = after.snapshots.get(sid).snapshot;
  const sum = s.summary ?? {};
  assert.equal(report.snapshot_id, String(sid), `compact --json snapshot_id ${report.snapshot_id} is the current snapshot ${sid}`);
  assert.equal(sum.operation, 'replace', `the compaction's snapshot is a replace: ${JSON.stringify(sum)}`);
  assert.equal(String(s['parent-snapshot-id']), String(plan.sid), 'the compaction\'s snapshot follows the one it compacted');
  for (const k of REPLACE_SUMMARY_KEYS) assert.ok(k in sum, `the compaction's summary has ${k}: ${JSON.stringify(sum)}`);
  assert.equal(sum['lakehose.pipeline'], PIPELINE, 'summary lakehose.pipeline');
  for (const [k, want] of Object.entries(plan.report)) assert.equal(report[k], want, `compact --json ${k} (the table before: ${plan.picked.length} files with >= ${MIN_DELETED} of their rows deleted)`);

  // Data files.
  const was = plan.snap;
  const now = after.snapshots.get(sid);
  const paths = (fs) => new Set(fs.map((f) => f.path));
  const [wasLive, nowLive, wasDel, nowDel] = [paths(was.live), paths(now.live), paths(was.deletes), paths(now.deletes)];
  const gone = [...wasLive].filter((p) => !nowLive.has(p)).sort();
  assert.deepEqual(gone, [...plan.pickedPaths].sort(), 'the data files removed are exactly those with enough rows deleted');
  const added = now.live.filter((f) => !wasLive.has(f.path));
  assert.equal(added.length, report.data_files_added, 'compact --json data_files_added is the new data files');
  const name = new RegExp(`/data/region=[^/]+/${PIPELINE}-compact-${sid}-\\d+\\.parquet$`);
  for (const f of added) {
    assert.match(f.path, name, 'a compaction\'s data file: data/<partition>/<pipeline>-compact-<snapshot>-<n>.parquet');
    assert.equal(f.addedBy, sid, `${f.path}: added by the compaction's snapshot`);
  }
  assert.equal(added.reduce((a, f) => a + f.rows, 0), plan.kept, 'the new data files hold the picked files\' live rows');
  // New files per partition and file schema of the picked files' live rows, each of at
  // most maxRows rows: at least as many as the partitions need, at most as many as the
  // partitions and schemas need.
  const partOf = (f) => JSON.stringify(canonical(f.entry.data_file.partition));
  const need = (group) => {
    const rows = new Map();
    for (const f of plan.picked) rows.set(group(f), (rows.get(group(f)) ?? 0) + plan.keptOf.get(f.path));
    return [...rows.values()].reduce((a, n) => a + Math.ceil(n / maxRows), 0);
  };
  const pickedParts = new Set(plan.picked.filter((f) => plan.keptOf.get(f.path) > 0).map(partOf));
  for (const f of added) {
    assert.ok(pickedParts.has(partOf(f)), `${f.path}: a new data file in partition ${partOf(f)}, where no picked file had live rows`);
    assert.ok(f.rows >= 1 && f.rows <= maxRows, `${f.path}: ${f.rows} rows, --max-rows ${maxRows}`);
  }
  const [least, most] = [need(partOf), need((f) => `${partOf(f)} ${JSON.stringify(f.icebergSchema)}`)];
  assert.ok(added.length >= least && added.length <= most, `${added.length} new data files of at most ${maxRows} rows, for ${least} (by partition) to ${most} (by partition and schema)`);

  // Delete files.
  const delGone = [...wasDel].filter((p) => !nowDel.has(p)).sort();
  assert.deepEqual(delGone, [...plan.full, ...plan.partial].map((d) => d.path).sort(), 'the delete files removed are those naming removed data files');
  const delAdded = now.deletes.filter((d) => !wasDel.has(d.path));
  assert.equal(delAdded.length, report.delete_files_added, 'compact --json delete_files_added is the new delete files');
  const left = new Set();
  for (const d of delAdded) {
    assert.equal(d.addedBy, sid, `${d.path}: added by the compaction's snapshot`);
    const rows = (await conn.runAndReadAll(`SELECT file_path, CAST(pos AS VARCHAR) AS pos FROM read_parquet('${d.path.replaceAll("'", "''")}')`)).getRowObjectsJson();
    for (const r of rows) {
      const k = `${r.file_path} ${r.pos}`;
      assert.ok(!left.has(k), `${k}: deleted by two of the compaction's delete files`);
      left.add(k);
    }
  }
  assert.deepEqual([...left].sort(), [...plan.remaining].sort(), 'the new delete files hold exactly the replaced files\' deletes of kept data files');
  const totalBefore = was.deletes.reduce((a, d) => a + d.rows, 0);
  assert.equal(Number(sum['total-position-deletes']), totalBefore - plan.deletesOfPicked, `total-position-deletes: ${totalBefore} less the deletes of removed files`);
  if (plan.deletesOfPicked > 0) assert.ok(Number(sum['total-position-deletes']) < totalBefore, 'total-position-deletes dropped');
  assert.equal(Number(sum['deleted-data-files']), plan.picked.length, 'summary deleted-data-files');
  assert.equal(Number(sum['deleted-records']), plan.picked.reduce((a, f) => a + f.rows, 0), 'summary deleted-records');
  assert.equal(Number(sum['removed-delete-files']), delGone.length, 'summary removed-delete-files');
  assert.match(sum['lakehose.index-delta'], new RegExp(`/metadata/index-delta-${sid}\\.bin$`), 'the compaction\'s index delta (the moved rows) is named by its snapshot');
  assert.ok(existsSync(localPath(sum['lakehose.index-delta'])), 'the compaction\'s index delta is stored');

  // The manifests, against the parent's.
  const wasMan = await snapshotManifests(was.snapshot);
  const nowMan = await snapshotManifests(s);
  const view = new Map();  // local path -> the parent's live entry
  for (const man of wasMan) for (const e of man.entries) if (e.status !== 2) view.set(e.path, e);
  const removedPaths = new Set([...gone, ...delGone]);
  const addedPaths = new Set([...added.map((f) => f.path), ...delAdded.map((d) => d.path)]);
  const deletedEntries = new Map();
  const nowManPaths = new Set(nowMan.map((x) => x.path));
  let rewritten = 0;
  let carried = 0;
  let existing = 0;
  for (const man of nowMan) {
    const where = `the compaction's manifest ${man.path.split(sep).at(-1)}`;
    if (BigInt(man.record.added_snapshot_id) !== sid) {
      const old = wasMan.find((x) => x.path === man.path);
      assert.ok(old, `${where}: a manifest of another snapshot, not listed by the parent`);
      assert.deepEqual(canonical(man.record), canonical(old.record), `${where}: carried over unchanged`);
      for (const e of man.entries) assert.ok(e.status === 2 || !removedPaths.has(e.path), `${where}: lists removed ${e.path} as live`);
      carried++;
      continue;
    }
    if (man.entries.some((e) => e.status !== 1)) rewritten++;
    for (const e of man.entries) {
      const at = `${where}: ${e.path} (status ${e.status})`;
      if (e.status === 1) {
        assert.ok(addedPaths.has(e.path), `${at}: ADDED, yet not a file the compaction wrote`);
        continue;
      }
      const old = view.get(e.path);
      assert.ok(old, `${at}: not live in the parent snapshot`);
      if (e.status === 2) {
        assert.ok(removedPaths.has(e.path), `${at}: DELETED, yet not a file to remove`);
        deletedEntries.set(e.path, (deletedEntries.get(e.path) ?? 0) + 1);
        // The spec: a DELETED entry's snapshot_id is the snapshot that deleted it.
        assert.equal(e.raw.snapshot_id === null ? null : BigInt(e.raw.snapshot_id), sid, `${at}: snapshot_id is the deleting snapshot's`);
      } else {
        assert.ok(!removedPaths.has(e.path), `${at}: EXISTING, yet removed`);
        existing++;
        assert.equal(e.raw.snapshot_id === null ? null : BigInt(e.raw.snapshot_id), old.snapshotId, `${at}: snapshot_id written, the adding snapshot's`);
      }
      assert.equal(e.raw.sequence_number === null ? null : BigInt(e.raw.sequence_number), old.seq, `${at}: sequence_number written, the parent's view's`);
      assert.equal(e.raw.file_sequence_number === null ? null : BigInt(e.raw.file_sequence_number), old.fileSeq, `${at}: file_sequence_number written, the parent's view's`);
    }
  }
  assert.deepEqual([...deletedEntries.keys()].sort(), [...removedPaths].sort(), 'every removed file is a DELETED entry of the compaction\'s manifests');
  assert.ok([...deletedEntries.values()].every((n) => n === 1), 'each removed file DELETED once');
  for (const man of wasMan) {
    const touched = man.entries.some((e) => e.status !== 2 && removedPaths.has(e.path));
    assert.equal(nowManPaths.has(man.path), !touched, `the parent's manifest ${man.path.split(sep).at(-1)}: ${touched ? 'rewritten' : 'carried over'}, it ${touched ? 'lists' : 'lists no'} removed file`);
  }
  const line = `${plan.picked.length} of ${was.live.length} data files rewritten into ${added.length} (${plan.kept} rows kept, ${plan.dropped} dropped), ` +
    `delete files ${plan.full.length} removed + ${plan.partial.length} replaced by ${delAdded.length}, ${rewritten} manifests rewritten (${existing} EXISTING entries), ${carried} carried over, ` +
    `position deletes ${totalBefore} -> ${sum['total-position-deletes']}`;
  return { added, line };
}

// The keys whose rows are in data files `files` (DuckDB: their pk column; the test's table
// has no range key).
async function keysIn(files, conn) {
  const keys = new Set();
  for (const f of files) {
    for (const r of (await conn.runAndReadAll(`SELECT pk FROM read_parquet('${f.path.replaceAll("'", "''")}')`)).getRowObjectsJson()) keys.add(r.pk);
  }
  return keys;
}

// The table after `lakehose table expire --older-than 0s --retain-last 1` (`before`: the
// current metadata before it, `report`: its --json, `listed`: the URIs its dry run's
// --list printed): only the current snapshot left, a key-index checkpoint of it named by
// the table property; the files only the expired snapshots reached (their manifest lists
// and index deltas, the manifests and the data and delete files the current snapshot does
// not list) listed and counted, not deleted. Resolves a line for the summary.
async function checkExpire(tableDir, before, report, listed) {
  const m = loadMetadata(tableDir).current;
  const cur = String(before['current-snapshot-id']);
  assert.equal(String(m['current-snapshot-id']), cur, 'expire keeps the current snapshot');
  assert.deepEqual(m.snapshots.map((s) => String(s['snapshot-id'])), [cur], 'expire --older-than 0s --retain-last 1 leaves the current snapshot alone');
  assert.equal(report.snapshots_expired, before.snapshots.length - 1, 'expire --json snapshots_expired');
  assert.equal(report.snapshots_kept, 1, 'expire --json snapshots_kept');
  const name = `index-checkpoint-${cur}.bin`;
  const checkpoint = join(tableDir, 'metadata', name);
  assert.ok(existsSync(checkpoint) && statSync(checkpoint).size > 0, `the key-index checkpoint ${checkpoint} is written`);
  assert.ok(String(report.checkpoint).endsWith(`metadata/${name}`), `expire --json checkpoint ${report.checkpoint} names metadata/${name}`);
  const prop = m.properties?.['lakehose.index-checkpoint'];
  assert.ok(typeof prop === 'string' && prop.endsWith(`metadata/${name}`), `the table property lakehose.index-checkpoint names it: ${prop}`);
  const kept = new Set();
  const reached = new Map();  // local path -> counted in unreferenced_bytes
  const decoded = new Map();
  for (const s of before.snapshots) {
    const mine = String(s['snapshot-id']) === cur;
    const add = (p, bytes) => (mine ? kept.add(p) : reached.set(p, bytes));
    add(localPath(s['manifest-list']), false);
    for (const man of await snapshotManifests(s, decoded)) {
      add(man.path, true);
      for (const e of man.entries) if (e.status !== 2) add(e.path, true);
    }
    const delta = s.summary?.['lakehose.index-delta'];
    if (delta) add(localPath(delta), false);
  }
  const only = [...reached.keys()].filter((p) => !kept.has(p)).sort();
  assert.deepEqual(listed.map(localPath).sort(), only, 'expire --list: the files only the expired snapshots named');
  for (const p of only) assert.ok(existsSync(p), `expire deleted ${p}: it must only report it`);
  // unreferenced_bytes: of the data, delete and manifest files (the CLI's words), not the
  // manifest lists and index deltas it counts in unreferenced_files.
  const bytes = only.filter((p) => reached.get(p)).reduce((a, p) => a + statSync(p).size, 0);
  assert.deepEqual([report.unreferenced_files, report.unreferenced_bytes], [only.length, bytes], 'expire --json unreferenced_files and _bytes (of data, delete and manifest files)');
  return `expired ${report.snapshots_expired} snapshots, kept 1, checkpoint ${name} (${statSync(checkpoint).size} bytes), ${report.unreferenced_files} unreferenced files (${report.unreferenced_bytes} bytes)`;
}

// lakehose.changes-* of every snapshot in `metadata`, by snapshot id, added to `into`
// (kept across expiry: the final count is over every snapshot the table ever had).
function recordChanges(into, metadata) {
  for (const s of metadata.snapshots) {
    const sum = s.summary ?? {};
    into.set(String(s['snapshot-id']), ['applied', 'stale', 'superseded'].map((k) => Number(sum[`lakehose.changes-${k}`] ?? 0)));
  }
  return into;
}

// ---- the tests ---------------------------------------------------------------------------

describe(`Iceberg current-state table: the model (seed ${SEED})`, { timeout: DESTS.length * (BUDGET_MS + 240_000) }, () => {
  after(() => work.close());

  if (DESTS.includes('file')) it('file: after every Flush icebird and DuckDB read the oracle\'s items; delete manifests; metrics; compact, expire, reindex', async (t) => {
    const started = Date.now();
    const { dir, dataDir, lakeDir, tableDir, logFile, cfgPath } = testDir('file');
    writeFileSync(cfgPath, configYaml({ dataDir, dest: { kind: 'file', path: lakeDir } }));
    const env = serverEnv(dir);
    const random = prng(SEED * 31 + 7);
    const history = new History(random, KEYS, 'f');
    const oracle = new Oracle();
    const earlier = [];
    const note = (s) => { t.diagnostic(s); console.log(s); };
    let delivered = 0;
    let ttlDelivered = 0;  // TTL REMOVE records delivered, copies included
    let expired = false;  // snapshots expired: the table's first parent is gone
    let droppedByOracle = 0;
    let server = null;
    let duck = null;
    let conn = null;
    work.defer(() => server?.kill());
    const startServer = async () => {
      server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
      await server.waitForPort(PORT_TIMEOUT_MS);
      return server;
    };
    // One round: deliver, send batch by batch (each acknowledged before the next), Flush,
    // then the table read by icebird equals the oracle, and (not the last check of the
    // test) DuckDB with the deletes applied.
    const round = async (r) => {
      const changes = deliver(history, CHANGES, random, earlier);
      const clients = clientsFor(server.target);
      try {
        await waitForReady(clients.ingestor, 10_000);
        for (const [i, b] of batchesOf(changes, BATCH).entries()) {
          const res = await sendBatch(clients.ingestor, b, `r${r}b${i}`);
          assert.ok(res.ok, `round ${r} batch ${i}: Ingest failed: ${res.error && `${statusName(res.error.code)} ${res.error.details}`}`);
          for (const c of b) if (!oracle.apply(c)) droppedByOracle++;
          delivered += b.length;
          ttlDelivered += b.filter((c) => c.ttl).length;
        }
        await flushRetrying(clients.ingestor, PIPELINE, FLUSH_TIMEOUT_MS, (err) => note(`flush: ${statusName(err.code)} ${err.details}; retrying`));
      } finally {
        clients.close();
      }
      // The generator's own check: every change was delivered, so the oracle is DynamoDB.
      assertEqualsOracle([...history.truth().values()], oracle.live(), 'the generator (DynamoDB\'s items against the oracle)');
      assertEqualsOracle(await icebirdRows(lakeDir, tableDir), oracle.live(), `icebird after round ${r}'s Flush`);
      const checked = await checkTable(tableDir, conn, { python: false, deep: false, expired });
      const { rows, deletes } = await liveRowsWithDuckDB(checked, conn);
      assertEqualsOracle(rows, oracle.live(), `DuckDB after round ${r}'s Flush`);
      note(`round ${r}: ${changes.length} records delivered (${CHANGES} new changes), ${oracle.live().size} live items, ${Date.now() - started} ms`);
      return { changes, deletes };
    };
    try {
      // input: json has no versions to order changes by: refused when the config is read.
      const jsonCfg = join(dir, 'json.yaml');
      writeFileSync(jsonCfg, configYaml({ dataDir: join(dir, 'json-var'), dest: { kind: 'file', path: join(dir, 'json-lake') }, input: 'json' }));
      const refused = new ServerProcess(SERVER_BIN, { dir, configPath: jsonCfg, env, logFile: join(dir, 'json.log'), name: 'json' });
      const jsonExit = await withTimeout(refused.exited, PORT_TIMEOUT_MS, 'a server on an input: json, mode: current config to exit');
      assert.equal(jsonExit.code, 2, `input: json with mode: current: exit ${JSON.stringify(jsonExit)}\n${refused.tail()}`);
      assert.match(refused.output, /mode/, 'the refusal names the mode');

      duck = await DuckDBInstance.create(':memory:');
      conn = await duck.connect();
      await startServer();
      for (let r = 0; r < ROUNDS; r++) {
        assert.ok(Date.now() - started < BUDGET_MS, `over the time budget of ${BUDGET_MS} ms after ${r} rounds`);
        await round(r);
      }
      // Every change counted once, as applied, stale or superseded; duplicates and replays
      // made some stale.
      const counted = await currentMetrics(server);
      note(`changes counted ${JSON.stringify(counted)}; delivered ${delivered}, dropped by the oracle ${droppedByOracle}`);
      // (Asserted at the end: the table's checks first.)
      const countedDelivered = delivered;
      const countedDropped = droppedByOracle;
      const countedTtl = ttlDelivered;
      // The maintenance commands refuse while a server holds the key index, and change
      // nothing.
      const running = listing(tableDir);
      for (const argv of [['compact'], ['expire', '--older-than', '0s']]) {
        const busy = await tableCli(argv[0], cfgPath, argv.slice(1), { env, cwd: dir });
        assert.notEqual(busy.code, 0, `lakehose table ${argv.join(' ')} while the server runs: exit 0\n${busy.stdout}\n${busy.stderr}`);
      }
      assert.equal(listing(tableDir), running, 'the refused commands wrote nothing to the table');
      const exit = await server.stop(EXIT_TIMEOUT_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
      const first = await checkAtRest(tableDir, lakeDir, conn, oracle, imagesByKey(earlier), { python: true, deep: true });
      note(`at rest: ${first.line}`);
      const changesBySnapshot = recordChanges(new Map(), first.checked.meta.current);

      // Compaction (server stopped): dry runs first (nothing written; the default
      // threshold and --min-deleted 1 against their plans), then the real one at a
      // threshold that splits the files (some rewritten, some kept: delete files naming
      // both are replaced, manifests carried over), its report the dry run's at that
      // threshold, checked against the plan of the table before; a second one finds
      // nothing left to do.
      const unchanged = listing(tableDir);
      const dryCompact = async (extra, p, what) => {
        const got = await tableJson('compact', cfgPath, [...extra, '--dry-run'], { env, cwd: dir, fields: COMPACT_FIELDS });
        assert.equal(got.snapshot_id, '0', `compact ${extra.join(' ')} --dry-run: snapshot_id 0`);
        for (const [k, want] of Object.entries(p.report)) assert.equal(got[k], want, `compact ${extra.join(' ')} --dry-run: ${k} (${what})`);
        return got;
      };
      await dryCompact([], await compactionPlan(first.checked, conn, MIN_DELETED), `the files with >= ${MIN_DELETED} of their rows deleted`);
      await dryCompact(['--min-deleted', '1'], await compactionPlan(first.checked, conn, 1), 'the files with every row deleted');
      const fraction = splittingFraction(first.checked, (await positionDeletes(first.checked, conn)).deleted);
      const plan = await compactionPlan(first.checked, conn, Number(fraction));
      assert.ok(plan.picked.length > 0 && plan.full.length + plan.partial.length > 0, `the rounds left data files with >= ${fraction} of their rows deleted: ${plan.picked.length}`);
      // Small new files, so that a partition's rows go to several (and the key index's
      // moved rows to each).
      const maxRows = Math.max(2, Math.ceil(plan.kept / 6));
      const compactArgs = ['--min-deleted', fraction, '--max-rows', String(maxRows)];
      const dry = await dryCompact(compactArgs, plan, `the files with >= ${fraction} of their rows deleted`);
      assert.equal(listing(tableDir), unchanged, 'compact --dry-run wrote nothing');
      const compacted = await tableJson('compact', cfgPath, compactArgs, { env, cwd: dir, fields: COMPACT_FIELDS });
      for (const k of COMPACT_FIELDS.slice(1)) assert.equal(dry[k], compacted[k], `compact --dry-run reports the ${k} of the real run`);
      const afterCompact = await checkAtRest(tableDir, lakeDir, conn, oracle, imagesByKey(earlier), { python: true, deep: true, deletesLeft: false });
      const { added: compactFiles, line: compactLine } = await checkCompaction(plan, afterCompact.checked, compacted, conn, maxRows);
      note(`compact ${compactArgs.join(' ')}: ${compactLine}; whole table at rest: ${afterCompact.line}`);
      const leftAlone = listing(tableDir);
      const again = await tableJson('compact', cfgPath, compactArgs, { env, cwd: dir, fields: COMPACT_FIELDS });
      assert.deepEqual([again.snapshot_id, again.data_files_rewritten], ['0', 0], `a second compaction finds no file to rewrite: ${JSON.stringify(again)}`);
      assert.equal(listing(tableDir), leftAlone, 'a compaction with nothing to do writes nothing');

      // The server again, on the key index the compaction's delta moved: a change of a key
      // whose row moved deletes its row in the new file (else the old file's row is
      // deleted, which positionDeletes refuses, and the new one stays: two rows).
      const moved = await keysIn(compactFiles, conn);
      await startServer();
      const afterMove = await round(ROUNDS);
      const touched = new Set(afterMove.changes.filter((c) => moved.has(c.key)).map((c) => c.key));
      const compactPaths = new Set(compactFiles.map((f) => f.path));
      const deletedInNew = [...afterMove.deletes.deleted].filter(([p]) => compactPaths.has(p)).reduce((a, [, set]) => a + set.size, 0);
      assert.ok(touched.size > 0 && deletedInNew > 0, `the round after the compaction changed ${touched.size} of the ${moved.size} keys it moved; ${deletedInNew} rows of its files deleted`);
      note(`after compaction: ${touched.size} of ${moved.size} moved keys changed, ${deletedInNew} rows deleted in the compaction's files`);
      const busy = await tableCli('expire', cfgPath, ['--older-than', '0s'], { env, cwd: dir });
      assert.notEqual(busy.code, 0, `lakehose table expire while the server runs: exit 0\n${busy.stdout}\n${busy.stderr}`);
      assert.deepEqual(await server.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
      const beforeExpire = loadMetadata(tableDir).current;
      recordChanges(changesBySnapshot, beforeExpire);
      // The index rebuilt from every snapshot's delta, the compaction's too (its moved rows);
      // the expiry's checkpoint below is of this index, and the last rounds run on it.
      const indexDir = join(dataDir, 'index', PIPELINE);
      const reindex = async (what) => {
        assert.ok(existsSync(indexDir), `the key index is at ${indexDir}`);
        rmSync(indexDir, { recursive: true, force: true });
        const re = await run(CLI_BIN, ['table', 'reindex', '--config', cfgPath, '--pipeline', PIPELINE], { timeoutMs: TOOL_TIMEOUT_MS, env, cwd: dir });
        assert.equal(re.code, 0, `lakehose table reindex (${what}): exit ${re.code}\n${re.stdout}\n${re.stderr}`);
        assert.ok(existsSync(indexDir), `lakehose table reindex rebuilt ${indexDir}`);
        note(`reindex (${what}): ${(re.stdout.trim() || re.stderr.trim()).split('\n').at(-1).slice(0, 300)}`);
      };
      await reindex('from the deltas');

      // Expiry: only the current snapshot left, with a checkpoint of the key index that
      // reindex starts from (the older snapshots' index deltas are out of reach).
      const exArgs = ['--older-than', '0s', '--retain-last', '1'];
      const resting = listing(tableDir);
      const exDry = await tableJson('expire', cfgPath, [...exArgs, '--dry-run', '--list'], { env, cwd: dir, fields: EXPIRE_FIELDS, listed: true });
      assert.equal(listing(tableDir), resting, 'expire --dry-run wrote nothing');
      const ex = await tableJson('expire', cfgPath, exArgs, { env, cwd: dir, fields: EXPIRE_FIELDS });
      for (const k of ['snapshots_expired', 'snapshots_kept', 'unreferenced_files', 'unreferenced_bytes']) assert.equal(exDry[k], ex[k], `expire --dry-run reports the ${k} of the real run`);
      const exLine = await checkExpire(tableDir, beforeExpire, ex, exDry.listed);
      expired = true;
      const atRest = await checkAtRest(tableDir, lakeDir, conn, oracle, imagesByKey(earlier), { python: false, deep: false, expired });
      note(`expire: ${exLine}; at rest: ${atRest.line}`);

      // Reindex again, from the checkpoint (the deltas before it are out of reach), then
      // more changes (with replays of old records) applied on it.
      await reindex('from the checkpoint');
      await startServer();
      for (let r = ROUNDS + 1; r < ROUNDS + 3; r++) await round(r);
      assert.deepEqual(await server.stop(EXIT_TIMEOUT_MS), { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
      const second = await checkAtRest(tableDir, lakeDir, conn, oracle, imagesByKey(earlier), { python: false, deep: false, expired });
      note(`after reindex, at rest: ${second.line}; ${Date.now() - started} ms`);
      // The table's own account: every change delivered in one snapshot's counts (those
      // of snapshots since expired taken before).
      recordChanges(changesBySnapshot, second.checked.meta.current);
      const total = [...changesBySnapshot.values()].reduce((a, c) => a + c[0] + c[1] + c[2], 0);
      assert.equal(total, delivered, `the snapshots' lakehose.changes-* count every change delivered once (${changesBySnapshot.size} snapshots)`);
      // The metrics of the first server, which wrote every snapshot of the first at-rest check.
      assert.ok(counted.stale > 0, `lakehose_iceberg_changes_total{result="stale"} is ${counted.stale} after ${countedDropped} duplicates and replays`);
      assert.equal(counted.applied + counted.stale + counted.superseded, countedDelivered, `every change delivered is counted once: ${JSON.stringify(counted)}`);
      assert.ok(counted.applied <= countedDelivered - countedDropped, `no more changes applied (${counted.applied}) than the oracle applied (${countedDelivered - countedDropped})`);
      assert.deepEqual({ applied: counted.applied, stale: counted.stale, superseded: counted.superseded }, first.history, 'the metrics count what the snapshots\' summaries count');
      assert.equal(counted.positionDeletes, first.positionDeletes, 'lakehose_iceberg_position_deletes_total is the position deletes in the table');
      assert.ok(countedTtl > 0, 'the rounds delivered TTL deletes');
      assert.equal(counted.ttlDeletes, countedTtl, 'lakehose_ttl_deletes_total counts the TTL REMOVE records delivered');
    } catch (err) {
      throw failed(err, logFile, server);
    } finally {
      await closeAll({ conn, duck, server });
    }
  });

  if (DESTS.includes('s3')) it(`s3 with faults: ${CYCLES} SIGKILL cycles, unacked batches re-sent; after each start's Flush and at the end the table is the oracle's`, async (t) => {
    const started = Date.now();
    const { dir, dataDir, lakeDir, tableDir, logFile, cfgPath } = testDir('s3');
    const front = await startS3Front({ s3rverDir: join(dir, 's3rver'), faults: S3_FAULTS });
    work.defer(() => front.close());
    writeFileSync(cfgPath, configYaml({ dataDir, dest: { kind: 's3', endpoint: front.endpoint }, composite: true }));
    const env = serverEnv(dir);
    const random = prng(SEED * 31 + 13);
    const history = new History(random, KEYS, 's', { composite: true });
    const earlier = [];
    const note = (s) => { t.diagnostic(s); console.log(s); };
    // Batches in sending order; `sent`: indexes of batches sent at least once (the oracle
    // applies them: each is re-sent until acknowledged); `pending`: sent, not yet acked.
    const batches = [];
    const sent = new Set();
    const pending = new Set();
    let cursor = 0;
    const tally = { earlyKills: 0, killedAtCommit: 0, flushes: 0, resent: 0, recordsSent: 0, deltasReplayed: 0, errors: {}, diedOnItsOwn: [] };
    // How many metadata versions of the table the bucket holds (the front's record of writes).
    const metadataVersions = () => Object.keys(front.writes()).filter((k) => /\/metadata\/v\d+\.metadata\.json$/.test(k)).length;
    const oracleOfSent = () => {
      const o = new Oracle();
      for (const i of [...sent].sort((a, b) => a - b)) for (const c of batches[i]) o.apply(c);
      return o;
    };
    const compareNow = async (what) => {
      // (Read from s3rver directly: the front's faults are for the server.)
      await downloadBucket(front, lakeDir);
      mirrorS3(`s3://${front.bucket}`, lakeDir);
      assertEqualsOracle(await icebirdRows(lakeDir, tableDir), oracleOfSent().live(), `icebird ${what}`);
    };
    // Every pending batch sent (again, counted in tally.resent unless `fresh`) until
    // acknowledged (bounded by RESEND_TIMEOUT_MS).
    const resend = async (ingestor, cycle, { fresh = false } = {}) => {
      const end = Date.now() + RESEND_TIMEOUT_MS;
      for (const i of [...pending].sort((a, b) => a - b)) {
        for (let attempt = 0; ; attempt++) {
          assert.ok(Date.now() < end, `cycle ${cycle}: batch ${i} not acknowledged within ${RESEND_TIMEOUT_MS} ms of re-sending`);
          tally.recordsSent += batches[i].length;
          const res = await sendBatch(ingestor, batches[i], `c${cycle}re${i}a${attempt}`);
          if (res.ok) { pending.delete(i); if (!fresh) tally.resent++; break; }
          await sleep(200);
        }
      }
    };
    let server = null;
    work.defer(() => server?.kill());
    let duck = null;
    let conn = null;
    try {
      for (let cycle = 0; cycle <= CYCLES; cycle++) {
        assert.ok(Date.now() - started < BUDGET_MS, `over the time budget of ${BUDGET_MS} ms after ${cycle} cycles`);
        const last = cycle === CYCLES;
        // This cycle's new batches: three rounds', sent at a pace (SEND_PAUSE_MS between
        // a sender's batches) that spreads them over the cycle, so that the kill finds
        // batches in flight and commits under way.
        for (const b of batchesOf(deliver(history, 3 * CHANGES, random, earlier), BATCH)) batches.push(b);
        server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
        if (!last && cycle > 0 && random() < 0.15) {
          tally.earlyKills++;
          await killInStartUp(server, random, tally, cycle);
          continue;
        }
        await server.waitForPort(PORT_TIMEOUT_MS);
        const clients = clientsFor(server.target);
        try {
          await waitForReady(clients.ingestor, 10_000);
          await resend(clients.ingestor, cycle);
          await flushRetrying(clients.ingestor, PIPELINE, FLUSH_TIMEOUT_MS, (err) => note(`cycle ${cycle} flush: ${statusName(err.code)} ${err.details}; retrying`));
          tally.flushes++;
          // Index deltas this start replayed (the kill came after a commit, before the index
          // took its delta): not asserted, the kill may also have come after the update.
          tally.deltasReplayed += (await currentMetrics(server)).deltasReplayed;
          if (sent.size > 0) await compareNow(`after start ${cycle}'s re-sending and Flush`);
          if (last) {
            // Everything not yet sent, then a Flush: the end of the stream.
            for (; cursor < batches.length; cursor++) { sent.add(cursor); pending.add(cursor); }
            await resend(clients.ingestor, cycle, { fresh: true });
            await flushRetrying(clients.ingestor, PIPELINE, FLUSH_TIMEOUT_MS, (err) => note(`final flush: ${statusName(err.code)} ${err.details}; retrying`));
            break;
          }
          // New batches from two senders until the kill.
          const killAt = Date.now() + 500 + Math.floor(random() * 2500);
          let stopping = false;
          let inFlight = 0;
          const sender = async (w) => {
            while (!stopping && cursor < batches.length) {
              const i = cursor++;
              sent.add(i);
              pending.add(i);
              inFlight++;
              tally.recordsSent += batches[i].length;
              const res = await sendBatch(clients.ingestor, batches[i], `c${cycle}w${w}b${i}`);
              inFlight--;
              if (res.ok) pending.delete(i);
              else if (!stopping) {
                const name = statusName(res.error.code);
                tally.errors[name] = (tally.errors[name] ?? 0) + 1;
                await sleep(100);
              }
              await sleep(SEND_PAUSE_MS);
            }
          };
          const senders = Promise.all([sender(0), sender(1)]);
          let flusher = null;
          if (random() < 0.5) {
            flusher = sleep(Math.floor(random() * Math.max(0, killAt - Date.now())))
              .then(() => unary(clients.ingestor, 'Flush', { pipeline: PIPELINE }, RPC_DEADLINE_MS)).catch(() => {});
          }
          // The kill at killAt, as soon as an Ingest is under way (within 2 s), so that a
          // batch's fate is unknown: in the WAL or not, it is sent again at the next start.
          // Every other cycle it comes instead as soon as the bucket holds a new
          // metadata version after killAt (within 4 s): the commit is made, and the server,
          // still waiting for the front's answer (0-20 ms of latency), has not applied the
          // index delta: the window that catching up from the table's deltas at the next
          // start must close (lakehose_iceberg_index_deltas_replayed_total counts it).
          await sleep(Math.max(0, killAt - Date.now()));
          if (cycle % 2 === 0) {
            const versions = metadataVersions();
            for (const end = Date.now() + 4_000; metadataVersions() === versions && Date.now() < end;) await sleep(1);
            if (metadataVersions() > versions) tally.killedAtCommit++;
          } else {
            for (const end = Date.now() + 2_000; inFlight === 0 && cursor < batches.length && Date.now() < end;) await sleep(1);
          }
          stopping = true;
          if (!server.running()) tally.diedOnItsOwn.push({ cycle, exit: server.exit, tail: server.tail() });
          await server.kill();
          await withTimeout(Promise.all([senders, flusher]), SETTLE_MS, `cycle ${cycle}: the senders to settle`);
        } finally {
          clients.close();
        }
      }
      const exit = await server.stop(EXIT_TIMEOUT_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
      assert.deepEqual(tally.diedOnItsOwn.map((d) => d.cycle), [], `the server exited on its own: ${JSON.stringify(tally.diedOnItsOwn, null, 1)}`);
      assert.equal(pending.size, 0, 'every batch sent was acknowledged in the end');
      assert.equal(sent.size, batches.length, 'every batch was sent');
      writeFileSync(join(dir, 'sent.jsonl'), `${batches.flat().map((c) => c.line).join('\n')}\n`);

      front.setFaults({});
      await downloadBucket(front, lakeDir);
      mirrorS3(`s3://${front.bucket}`, lakeDir);
      duck = await DuckDBInstance.create(':memory:');
      conn = await duck.connect();
      const final = oracleOfSent();
      const s = front.stats();
      const atRest = await checkAtRest(tableDir, lakeDir, conn, final, imagesByKey(batches.flat()), { python: false, deep: false });
      const summary = [
        `current-state crash test on S3 (seed ${SEED}): ${CYCLES} cycles (${tally.earlyKills} killed in start-up, ${tally.killedAtCommit} as a metadata version was stored), ${batches.length} batches of up to ${BATCH}, ` +
          `${tally.resent} re-sent after a kill, Ingest errors while serving ${JSON.stringify(tally.errors)}, ${Date.now() - started} ms`,
        `  table: ${atRest.line}`,
        `  records sent ${tally.recordsSent} (${batches.flat().length} distinct), index deltas replayed at start ${tally.deltasReplayed}`,
        `  S3 front: ${s.requests} requests, statuses ${JSON.stringify(s.byStatus)}, injected ${JSON.stringify(s.injected)}, rejected ${JSON.stringify(s.rejected)}`,
      ];
      for (const l of summary) note(l);
      assertFrontAccepted(s);
      // Every record in some committed object (each batch was acked in the end), none
      // counted in two snapshots beyond the times it was sent.
      // Kills as a metadata version was stored leave an index behind its table (unless the
      // server got its answer and applied the delta within the front's 0-20 ms): with two
      // such kills, at least one delta is replayed at a start.
      if (tally.killedAtCommit >= 2) assert.ok(tally.deltasReplayed >= 1, `${tally.killedAtCommit} kills as a metadata version was stored, no index delta replayed at a start`);
      const counted = atRest.history.applied + atRest.history.stale + atRest.history.superseded;
      assert.ok(counted >= batches.flat().length && counted <= tally.recordsSent,
        `the snapshots' lakehose.changes-* count ${counted} changes: ${batches.flat().length} distinct records were sent, ${tally.recordsSent} with re-sending`);
    } catch (err) {
      throw failed(err, logFile, server);
    } finally {
      await closeAll({ conn, duck, server });
      await front.close();
    }
  });
});
