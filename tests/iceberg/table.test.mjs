// An Iceberg table written by lakehose-server, read by independent readers. One server on
// a file destination with a `format: iceberg` pipeline (the transactions workload,
// partition keys region + date/hour as the embedded default config has them, so the
// derived spec is identity(region) + hour(_event_time)) gets --records generated records
// in four batches (`lakehose send`), each followed by `lakehose flush` (a commit at
// once), so the table has several snapshots; the third batch carries two attributes the
// others do not have (schema evolution). Then:
//
//   - icebird 0.3.1 reads the current snapshot through a loopback HTTP server over the
//     lake (a fetch shim maps the metadata's file:// URIs to it): exactly the acked
//     records, once each, every value equal to `lakehose transform`'s document (after
//     normalising types: timestamps, decimals at their scale, longs);
//   - time travel: icebird on v<k>.metadata.json (the version each Flush left) returns the
//     records of batches 1..k, no more, no fewer;
//   - checkTable (../lib/iceberg.mjs): every snapshot's manifest list and manifests decoded
//     by avsc (field ids of the spec tables in the header schema, the manifest key-value
//     metadata, counts, sequence numbers and snapshot ids, inheritance) and by Debian's
//     python3-avro (the same header and records), no data file live twice, record counts
//     and file sizes equal to the files', column metrics and bounds equal to the real
//     values, partition values equal to the transforms of every row;
//   - DuckDB: parquet_schema shows a field_id on every column of every data file, and
//     read_parquet's rows of the current snapshot's files are the acked records once each
//     with Transform's values;
//   - schema evolution: the new attributes are new columns (new field ids above the old
//     ones, a new schema id) holding the third batch's values and null for the others;
//     the older versions' schemas do not have them; nothing Transform wrote is dropped;
//   - SCHEMA_MISMATCH: then 20 more records, two with a value the long column `points`
//     cannot hold (a string, a fraction): those two are not in the table but in the
//     dead-letter queue, with an error naming SCHEMA_MISMATCH and the column; the other 18
//     are committed;
//   - the way in: the column renamed as an engine would (a new metadata version, the same
//     field id named points_v1), then `lakehose dlq redrive`: the two records are in the
//     table with `points` a new string column, the earlier rows' values under points_v1;
//   - metrics: commits, records and files committed and the snapshot count as the table
//     says; SIGTERM exits 0 and writes nothing;
//   - the checks can fail: with the server stopped, a data file one byte longer and a
//     manifest list naming a manifest twice are refused by checkTable (then undone).
//
//   node tests/iceberg/table.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//                                     [--records 4000] [--keep]
//
// Every server listens on 127.0.0.1 port 0; every wait is bounded; the server is stopped
// in an after hook.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

import { ServerProcess, WorkDir, exitWhenDone, run, serverEnv, suiteArgs, tail, withNewAttributes } from '../lib/harness.mjs';
import { clientsFor, listDeadLetters } from '../lib/grpc.mjs';
import { configYaml } from '../lib/lake.mjs';
import { checkTable, decodeAvro, loadMetadata, localPath, readWithIcebird, rewriteAvroRecords, valueDiff, valueExpr, withTableServer } from '../lib/iceberg.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { records: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--records 4000] [--keep]',
});
const RECORDS = Number(args.records ?? 4000);
if (!(Number.isInteger(RECORDS) && RECORDS >= 8)) { console.error('--records: an integer >= 8'); process.exit(2); }
const SEED = 14;
const BATCHES = 4;
const EVOLVED_BATCH = 2;  // 0-based: the third batch has the new attributes
const MISMATCH_BATCH = 20;  // records sent after the checks, two of them not fitting a column
const PIPELINE = 'tx';
const NAMESPACE = 'sales';
const TABLE = 'transactions';
const PORT_TIMEOUT_MS = 20_000;
const TOOL_TIMEOUT_MS = 120_000;
const SEND_TIMEOUT_MS = 240_000;
const FLUSH_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 30_000;
const SUITE_TIMEOUT_MS = 540_000;
const SEND_SUMMARY = /lakehose send: (\d+) records: (\d+) ok, (\d+) dropped, (\d+) failed/;
const LOSSLESS = { losslessParse, losslessStringify };

describe(`an Iceberg table (${RECORDS} transactions records in ${BATCHES} flushed batches, seed ${SEED})`, { timeout: SUITE_TIMEOUT_MS }, () => {
  let work;
  let server;
  let conn;
  let duck;
  const batches = [];       // [[eventID]]
  const versionAfter = [];  // the metadata version each batch's Flush left
  const truth = new Map();  // eventID -> Transform's document (lossless)
  let lakeDir;
  let tableDir;
  let table;                // checkTable's result
  let extraLines;           // generated records for the SCHEMA_MISMATCH case
  let mismatchAdded = 0;    // records that case (and the redrive) added to the table
  const badRecords = new Map();  // eventID -> the points value that did not fit

  before(async () => {
    work = new WorkDir('lakehose-iceberg-', { keep: args.keep });
    const dataDir = join(work.path, 'var');
    lakeDir = join(work.path, 'lake');
    tableDir = join(lakeDir, NAMESPACE, TABLE);
    const cfg = join(work.path, 'lakehose.yaml');
    // A long commit interval and large buffers: every commit in this suite is a Flush's.
    writeFileSync(cfg, configYaml({
      dataDir, writerId: 'ice-table', pipeline: PIPELINE, dest: { kind: 'file', path: lakeDir }, sizeMb: 16, intervalS: 3600,
      iceberg: { table: `${NAMESPACE}.${TABLE}`, commitIntervalS: 3600, metadata: ['eventID', 'eventName'] },
    }));

    // The records, batch by batch, and Transform's documents for all of them.
    const gen = await run(CLI_BIN, ['generate', '--workload', 'transactions', '--records', String(RECORDS + MISMATCH_BATCH), '--seed', String(SEED)], { timeoutMs: TOOL_TIMEOUT_MS });
    assert.equal(gen.code, 0, `lakehose generate: ${gen.stderr}`);
    const lines = gen.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, RECORDS + MISMATCH_BATCH);
    extraLines = lines.splice(RECORDS);
    const per = Math.ceil(RECORDS / BATCHES);
    const all = [];
    for (let b = 0; b < BATCHES; b++) {
      const part = lines.slice(b * per, (b + 1) * per).map((l, i) => (b === EVOLVED_BATCH ? withNewAttributes(l, i) : l));
      writeFileSync(join(work.path, `batch-${b}.jsonl`), `${part.join('\n')}\n`);
      batches.push(part.map((l) => JSON.parse(l).eventID));
      all.push(...part);
    }
    writeFileSync(join(work.path, 'all.jsonl'), `${all.join('\n')}\n`);
    const out = join(work.path, 'transform.jsonl');
    const tr = await run(CLI_BIN, ['transform', '--config', cfg, '--pipeline', PIPELINE, '--input', join(work.path, 'all.jsonl'), '--output', out], { timeoutMs: TOOL_TIMEOUT_MS });
    assert.equal(tr.code, 0, `lakehose transform: ${tr.stderr}`);
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      if (line === '') continue;
      const r = losslessParse(line);
      assert.equal(r.result, 'OK', `Transform refused a record: ${line.slice(0, 300)}`);
      truth.set(r.data._eventID, r.data);
    }
    assert.equal(truth.size, RECORDS, 'Transform: one OK document per record, distinct eventIDs');

    // The server: each batch sent, then flushed (a commit), then the version noted.
    server = new ServerProcess(SERVER_BIN, { dir: work.path, configPath: cfg, env: serverEnv(work.path) });
    work.defer(() => server.kill());
    await server.waitForPort(PORT_TIMEOUT_MS);
    for (let b = 0; b < BATCHES; b++) {
      const send = await run(CLI_BIN, ['send', '--target', server.target, '--pipeline', PIPELINE, '--input', join(work.path, `batch-${b}.jsonl`), '--batch', '250'],
        { timeoutMs: SEND_TIMEOUT_MS });
      assert.equal(send.code, 0, `lakehose send (batch ${b}) exited ${send.code}:\n${tail(send.stderr)}\n-- server:\n${server.tail()}`);
      const s = SEND_SUMMARY.exec(send.stderr);
      assert.ok(s, `no summary from lakehose send:\n${tail(send.stderr)}`);
      assert.deepEqual(s.slice(1, 5).map(Number), [batches[b].length, batches[b].length, 0, 0], `batch ${b}: ${s[0]}`);
      const flush = await run(CLI_BIN, ['flush', '--target', server.target, '--pipeline', PIPELINE], { timeoutMs: FLUSH_TIMEOUT_MS });
      assert.equal(flush.code, 0, `lakehose flush (batch ${b}) exited ${flush.code}:\n${tail(flush.stderr)}\n-- server:\n${server.tail()}`);
      const { hint, current } = loadMetadata(tableDir);
      assert.ok(current.snapshots.length > 0, `batch ${b}: Flush answered and the table has no snapshot`);
      assert.ok(b === 0 || hint > versionAfter[b - 1], `batch ${b}: Flush answered and no new metadata version (still v${hint})`);
      versionAfter.push(hint);
    }
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
  });

  after(async () => {
    conn?.closeSync?.();
    duck?.closeSync?.();
    if (server) await server.kill().catch(() => {});
    await work?.close();
  });

  const failWith = (fn) => async (t) => {
    try {
      await fn(t);
    } catch (err) {
      work?.fail();
      if (server) err.message += `\n-- server output (tail):\n${server.tail()}`;
      throw err;
    }
  };

  it('checkTable: every snapshot\'s manifests (avsc and python3-avro), sequence numbers, counts, sizes, bounds and partitions hold', failWith(async (t) => {
    table = await checkTable(tableDir, conn);
    const m = table.meta.current;
    for (const n of table.notes) t.diagnostic(n);
    t.diagnostic(`v${table.meta.hint}: ${m.snapshots.length} snapshots, ${table.files.size} data files, ${table.avroFiles.size} Avro files; versions after each Flush: ${versionAfter.join(', ')}`);
    assert.ok(m.snapshots.length >= BATCHES, `${m.snapshots.length} snapshots for ${BATCHES} flushes`);
    // The derived spec: identity(region), hour(_event_time).
    const spec = m['partition-specs'].find((s) => s['spec-id'] === m['default-spec-id']);
    const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id']);
    const nameOf = (id) => schema.fields.find((f) => f.id === id)?.name;
    assert.deepEqual(spec.fields.map((f) => [nameOf(f['source-id']), f.transform]), [['region', 'identity'], ['_event_time', 'hour']], 'the derived partition spec');
    assert.equal(schema.fields.find((f) => f.name === '_event_time')?.type, 'timestamptz', '_event_time is a timestamptz column');
    for (const c of ['_op', '_SequenceNumber', '_eventID']) assert.ok(nameOf(schema.fields.find((f) => f.name === c)?.id), `column ${c}`);
    const current = table.snapshots.get(BigInt(m['current-snapshot-id']));
    assert.equal(current.live.reduce((a, f) => a + f.rows, 0), RECORDS, 'rows in the current snapshot\'s live files');
    // Every snapshot is one writer's: this server's.
    for (const s of m.snapshots) {
      assert.equal(s.summary['lakehose.writer-id'], 'ice-table');
      assert.equal(s.summary['lakehose.pipeline'], PIPELINE);
    }
  }));

  it('DuckDB reads every live data file: the acked records once each, with Transform\'s values', failWith(async (t) => {
    assert.ok(table, 'checkTable ran');
    const m = table.meta.current;
    const seen = new Set();
    let compared = 0;
    for (const f of table.snapshots.get(BigInt(m['current-snapshot-id'])).live) {
      const cols = f.columns.filter((c) => typeof c.type === 'string');
      const sel = cols.map((c, i) => `${valueExpr(c.type, `"${c.name.replaceAll('"', '""')}"`)} AS c${i}`).join(', ');
      const rows = (await conn.runAndReadAll(`SELECT ${sel} FROM read_parquet('${f.path.replaceAll("'", "''")}')`)).getRowObjectsJson();
      const idCol = cols.findIndex((c) => c.name === '_eventID');
      assert.ok(idCol >= 0, `${f.path}: no _eventID column`);
      for (const r of rows) {
        const id = r[`c${idCol}`];
        const want = truth.get(id);
        assert.ok(want, `${f.path}: a row with _eventID ${id} that was never sent`);
        assert.ok(!seen.has(id), `${f.path}: _eventID ${id} is in the table twice`);
        seen.add(id);
        cols.forEach((c, i) => {
          // The file's own type (a file written before a promotion keeps the narrower one).
          const diff = valueDiff(c.type, r[`c${i}`], want[c.name], LOSSLESS);
          assert.equal(diff, null, `${f.path}: ${id}.${c.name} (${c.type}): ${diff}`);
          compared++;
        });
      }
    }
    assert.equal(seen.size, RECORDS, 'records in the current snapshot\'s files (DuckDB)');
    t.diagnostic(`DuckDB: ${seen.size} rows, ${compared} primitive values equal to Transform's`);
  }));

  it('icebird reads exactly the acked records with Transform\'s values; time travel to each Flush\'s version returns that version\'s records', failWith(async (t) => {
    await withTableServer(lakeDir, tableDir, async ({ tableUrl, http, mapped }) => {
      const m = loadMetadata(tableDir).current;
      const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id']);
      const rows = await readWithIcebird(tableUrl);
      assert.equal(rows.length, RECORDS, 'icebird: rows in the current snapshot');
      const seen = new Set();
      for (const row of rows) {
        const id = row._eventID;
        const want = truth.get(id);
        assert.ok(want, `icebird: a row with _eventID ${id} that was never sent`);
        assert.ok(!seen.has(id), `icebird: _eventID ${id} twice`);
        seen.add(id);
        for (const f of schema.fields) {
          const diff = valueDiff(f.type, row[f.name], want[f.name], LOSSLESS);
          assert.equal(diff, null, `icebird: ${id}.${f.name} (${JSON.stringify(f.type)}): ${diff}`);
        }
      }
      // Nothing Transform wrote is missing from the table's schema.
      const names = new Set(schema.fields.map((f) => f.name));
      for (const [id, doc] of truth) {
        for (const k of Object.keys(doc)) assert.ok(names.has(k), `attribute ${k} of ${id} is not a column of the table`);
      }
      t.diagnostic(`icebird: ${rows.length} rows, ${schema.fields.length} columns each equal to Transform's; ${http.requests} HTTP requests, ${mapped()} file: URLs mapped`);

      // Time travel: v<k> holds batches 0..k.
      for (let b = 0; b < BATCHES; b++) {
        const old = await readWithIcebird(tableUrl, `v${versionAfter[b]}.metadata.json`);
        const want = new Set(batches.slice(0, b + 1).flat());
        const got = old.map((r) => r._eventID);
        assert.equal(new Set(got).size, got.length, `v${versionAfter[b]}: a record twice`);
        assert.equal(got.length, want.size, `v${versionAfter[b]} (after batch ${b}): rows`);
        for (const id of got) assert.ok(want.has(id), `v${versionAfter[b]} (after batch ${b}) has ${id}, sent later`);
      }
      t.diagnostic(`time travel: v${versionAfter.join(', v')} return ${batches.map((_, b) => batches.slice(0, b + 1).flat().length).join(', ')} rows`);
    });
  }));

  it('schema evolution: the new attributes are new columns with new ids, values in the third batch, null elsewhere', failWith(async (t) => {
    const { versions, current: m } = loadMetadata(tableDir);
    const schemaOf = (meta) => meta.schemas.find((s) => s['schema-id'] === meta['current-schema-id']);
    const before = schemaOf(versions[versionAfter[EVOLVED_BATCH - 1] - 1].metadata);
    const now = schemaOf(m);
    for (const c of ['loyalty_tier', 'points']) assert.ok(!before.fields.some((f) => f.name === c), `${c} before the third batch`);
    const added = now.fields.filter((f) => !before.fields.some((o) => o.id === f.id));
    assert.deepEqual(added.map((f) => f.name).sort(), ['loyalty_tier', 'points'], 'the columns the third batch added');
    const oldMax = Math.max(...before.fields.map((f) => f.id));
    for (const f of added) {
      assert.ok(f.id > oldMax, `${f.name}: id ${f.id} is new (the old schema's ids end at ${oldMax})`);
      assert.equal(f.required, false, `${f.name}: an added column is optional`);
    }
    assert.equal(added.find((f) => f.name === 'loyalty_tier').type, 'string');
    assert.equal(added.find((f) => f.name === 'points').type, 'long');
    assert.notEqual(now['schema-id'], before['schema-id'], 'a new schema id');
    for (const f of before.fields) {
      assert.deepEqual(now.fields.find((x) => x.id === f.id), f, `column ${f.name} kept its id and type`);
    }
    // Values: through icebird (the table's view, by field id).
    await withTableServer(lakeDir, tableDir, async ({ tableUrl }) => {
      const rows = await readWithIcebird(tableUrl);
      const evolved = new Set(batches[EVOLVED_BATCH]);
      let withValue = 0;
      for (const r of rows) {
        const want = truth.get(r._eventID);
        if (evolved.has(r._eventID) && want.loyalty_tier !== undefined) {
          // (A KEYS_ONLY REMOVE has no image, so no new attributes either.)
          assert.equal(r.loyalty_tier, want.loyalty_tier, `${r._eventID}: loyalty_tier`);
          assert.equal(r.points, BigInt(want.points.value), `${r._eventID}: points`);
          withValue++;
        } else {
          assert.ok(r.loyalty_tier === null || r.loyalty_tier === undefined, `${r._eventID}: loyalty_tier ${r.loyalty_tier} in a record without it`);
          assert.ok(r.points === null || r.points === undefined, `${r._eventID}: points ${r.points} in a record without it`);
        }
      }
      assert.ok(withValue > evolved.size / 2, `${withValue} of the ${evolved.size} records of the third batch have the new columns`);
      // The version before the change reads without the columns.
      const old = await readWithIcebird(tableUrl, `v${versionAfter[EVOLVED_BATCH - 1]}.metadata.json`);
      assert.ok(old.length > 0 && old.every((r) => !('loyalty_tier' in r) && !('points' in r)), 'the old version has no new columns');
    });
    t.diagnostic(`schema ${before['schema-id']} -> ${now['schema-id']}: added ${added.map((f) => `${f.name}#${f.id}:${f.type}`).join(', ')}`);
  }));

  // After the checks above (it adds a snapshot): a value its column cannot hold, nor be
  // widened to hold (a string and a fraction in the long column `points`).
  it('SCHEMA_MISMATCH: a record whose value does not fit its column goes to the dead-letter queue, the others to the table', failWith(async (t) => {
    const bad = new Map();
    // Both in one partition (the first one's region and timestamp), so that they wait in
    // one dead letter and are redriven together below.
    const first = JSON.parse(extraLines[0]).dynamodb;
    const firstImg = first.NewImage ?? first.OldImage;
    const part = extraLines.map((l, i) => {
      if (i > 1) return l;
      const r = JSON.parse(l);
      const img = r.dynamodb.NewImage ?? r.dynamodb.OldImage;
      if (!img) return l;
      img.points = i === 0 ? { S: 'lots' } : { N: '1.5' };
      if (i === 1 && firstImg) {
        for (const a of ['region', 'timestamp']) {
          if (firstImg[a]) img[a] = firstImg[a];
          else delete img[a];
        }
        r.dynamodb.ApproximateCreationDateTime = first.ApproximateCreationDateTime;
      }
      bad.set(r.eventID, JSON.stringify(img.points));
      badRecords.set(r.eventID, JSON.stringify(img.points));
      return JSON.stringify(r);
    });
    assert.ok(bad.size > 0, 'no record with an image to spoil');
    const file = join(work.path, 'batch-mismatch.jsonl');
    writeFileSync(file, `${part.join('\n')}\n`);
    const send = await run(CLI_BIN, ['send', '--target', server.target, '--pipeline', PIPELINE, '--input', file, '--batch', '250'], { timeoutMs: SEND_TIMEOUT_MS });
    const s = SEND_SUMMARY.exec(send.stderr);
    assert.ok(s, `no summary from lakehose send:\n${tail(send.stderr)}`);
    const failedAtIngest = Number(s[4]);
    // The records are acked at Ingest (the table's schema is known only when the object is
    // encoded): Flush commits the others and says that the rest wait in the DLQ.
    const flush = await run(CLI_BIN, ['flush', '--target', server.target, '--pipeline', PIPELINE], { timeoutMs: FLUSH_TIMEOUT_MS });
    assert.ok(flush.code === 0 || (flush.code === 1 && /SCHEMA_MISMATCH/.test(flush.stderr)), `lakehose flush exited ${flush.code}:\n${tail(flush.stderr)}`);
    const ids = part.map((l) => JSON.parse(l).eventID);
    const good = ids.filter((id) => !bad.has(id));
    // The table: the good ones, not the bad ones.
    await withTableServer(lakeDir, tableDir, async ({ tableUrl }) => {
      const got = new Set((await readWithIcebird(tableUrl)).map((r) => r._eventID));
      for (const id of good) assert.ok(got.has(id), `${id} (a good record of the batch) is not in the table`);
      for (const id of bad.keys()) assert.ok(!got.has(id), `${id} (points ${bad.get(id)}) is in the table`);
      assert.equal(got.size, RECORDS + good.length, 'rows after the batch');
    });
    mismatchAdded = good.length;
    // The dead-letter queue: each bad record (or the object holding it), its error naming
    // SCHEMA_MISMATCH, the column and its type.
    const clients = clientsFor(server.target);
    let entries;
    try {
      entries = await listDeadLetters(clients.deadLetters);
    } finally {
      clients.close();
    }
    const errors = entries.map((e) => `${e.kind} ${e.error_code} ${e.first_error} ${e.last_error}`);
    t.diagnostic(`send: ${s[0]}; flush: exit ${flush.code} ${flush.stderr.trim().slice(0, 300)}; dead letters: ${entries.length}: ${errors.map((e) => e.slice(0, 300)).join(' | ')}`);
    assert.ok(entries.length > 0, `no dead letter for ${bad.size} records that do not fit (failed at Ingest: ${failedAtIngest})`);
    assert.ok(errors.some((e) => /SCHEMA_MISMATCH/.test(e) && /points/.test(e)), `no dead letter says SCHEMA_MISMATCH naming points: ${errors.join(' | ')}`);
    const records = entries.reduce((a, e) => a + (e.kind === 'DELIVERY' ? Number(e.records) : 1), 0);
    assert.equal(records, bad.size, 'records in the dead-letter queue');
  }));

  // The way in for such records: rename the column as an engine would (ALTER TABLE
  // transactions RENAME COLUMN points TO points_v1: a new metadata version whose current
  // schema names the field id otherwise), then redrive: `points` is a new column.
  it('after the column is renamed by another writer, `lakehose dlq redrive` commits the dead-lettered records', failWith(async (t) => {
    assert.ok(badRecords.size > 0, 'the SCHEMA_MISMATCH case ran');
    const { hint, current } = loadMetadata(tableDir);
    const next = structuredClone(current);
    const schema = structuredClone(current.schemas.find((x) => x['schema-id'] === current['current-schema-id']));
    const field = schema.fields.find((f) => f.name === 'points');
    assert.ok(field, 'the table has a column points');
    field.name = 'points_v1';
    schema['schema-id'] = Math.max(...current.schemas.map((x) => x['schema-id'])) + 1;
    next.schemas.push(schema);
    next['current-schema-id'] = schema['schema-id'];
    next['last-updated-ms'] = Date.now();
    next['metadata-log'] = [...(current['metadata-log'] ?? []),
      { 'timestamp-ms': current['last-updated-ms'], 'metadata-file': `${current.location}/metadata/v${hint}.metadata.json` }];
    // Created, never replaced ('wx'), as a catalog's compare-and-swap; then the hint.
    writeFileSync(join(tableDir, 'metadata', `v${hint + 1}.metadata.json`), JSON.stringify(next), { flag: 'wx' });
    writeFileSync(join(tableDir, 'metadata', 'version-hint.text'), String(hint + 1));

    const redrive = await run(CLI_BIN, ['dlq', 'redrive', '--target', server.target, '--pipeline', PIPELINE], { timeoutMs: TOOL_TIMEOUT_MS });
    assert.equal(redrive.code, 0, `lakehose dlq redrive exited ${redrive.code}:\n${redrive.stdout}\n${tail(redrive.stderr)}`);
    const flush = await run(CLI_BIN, ['flush', '--target', server.target, '--pipeline', PIPELINE], { timeoutMs: FLUSH_TIMEOUT_MS });
    assert.equal(flush.code, 0, `lakehose flush exited ${flush.code}:\n${tail(flush.stderr)}`);
    const clients = clientsFor(server.target);
    try {
      assert.deepEqual(await listDeadLetters(clients.deadLetters), [], 'the dead-letter queue after the redrive');
    } finally {
      clients.close();
    }
    const after = loadMetadata(tableDir).current;
    const now = after.schemas.find((x) => x['schema-id'] === after['current-schema-id']);
    const points = now.fields.find((f) => f.name === 'points');
    const v1 = now.fields.find((f) => f.name === 'points_v1');
    assert.ok(points && v1 && v1.id === field.id && points.id !== field.id, `columns after the redrive: ${JSON.stringify(now.fields.map((f) => [f.name, f.id, f.type]))}`);
    await withTableServer(lakeDir, tableDir, async ({ tableUrl }) => {
      const rows = await readWithIcebird(tableUrl);
      const byId = new Map(rows.map((r) => [r._eventID, r]));
      for (const [id, value] of badRecords) {
        const r = byId.get(id);
        assert.ok(r, `${id} (points ${value}) is not in the table after the redrive`);
        assert.equal(String(r.points), String(JSON.parse(value).S ?? JSON.parse(value).N), `${id}: points`);
        assert.ok(r.points_v1 === null || r.points_v1 === undefined, `${id}: points_v1 ${r.points_v1}`);
      }
      const evolved = rows.filter((r) => r.points_v1 !== null && r.points_v1 !== undefined);
      assert.ok(evolved.length > 0 && evolved.every((r) => typeof r.points_v1 === 'bigint'), 'the earlier rows keep their values as points_v1');
      assert.equal(rows.length, RECORDS + mismatchAdded + badRecords.size, 'rows after the redrive');
    });
    mismatchAdded += badRecords.size;
    t.diagnostic(`redrive: ${redrive.stdout.trim().slice(0, 300)}; points is field ${points.id} (${points.type}), points_v1 field ${v1.id}`);
  }));

  it('metrics count the commits and records; SIGTERM exits 0 and writes no new version', failWith(async () => {
    const m = loadMetadata(tableDir).current;
    const scrape = await server.scrape();
    const labels = { pipeline: PIPELINE };
    assert.equal(scrape.value('lakehose_iceberg_commits_total', labels), m.snapshots.length, 'lakehose_iceberg_commits_total');
    assert.equal(scrape.value('lakehose_iceberg_records_committed_total', labels), RECORDS + mismatchAdded, 'lakehose_iceberg_records_committed_total');
    const live = (await checkTable(tableDir, conn, { deep: false, python: false })).snapshots.get(BigInt(m['current-snapshot-id'])).live;
    assert.equal(scrape.value('lakehose_iceberg_files_committed_total', labels), live.length, 'lakehose_iceberg_files_committed_total');
    assert.equal(scrape.value('lakehose_iceberg_commit_failures_total', labels) ?? 0, 0, 'lakehose_iceberg_commit_failures_total');
    assert.equal(scrape.value('lakehose_iceberg_snapshots', labels), m.snapshots.length, 'lakehose_iceberg_snapshots');
    const before = loadMetadata(tableDir).hint;
    const exit = await server.stop(EXIT_TIMEOUT_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
    assert.equal(loadMetadata(tableDir).hint, before, 'a metadata version written at shutdown with nothing to commit');
  }));


  // Last: it tampers with the table (in place: its metadata holds absolute URIs), then
  // puts it back.
  it('the checks can fail: a data file one byte longer, a manifest listed twice', failWith(async () => {
    const m = loadMetadata(tableDir).current;
    const current = m.snapshots.find((s) => String(s['snapshot-id']) === String(m['current-snapshot-id']));
    const untouched = await checkTable(tableDir, conn, { deep: false, python: false });
    const dataFile = untouched.snapshots.get(BigInt(m['current-snapshot-id'])).live[0].path;
    const size = readFileSync(dataFile).length;
    appendFileSync(dataFile, Buffer.from([0]));
    try {
      await assert.rejects(checkTable(tableDir, conn, { deep: false, python: false }), /file_size_in_bytes is the file's size/);
    } finally {
      truncateSync(dataFile, size);
    }
    const listPath = localPath(current['manifest-list']);
    const original = readFileSync(listPath);
    const list = await decodeAvro(listPath);
    rewriteAvroRecords(listPath, [list.records[0], ...list.records], listPath, list.schema);
    try {
      assert.equal((await decodeAvro(listPath)).records.length, list.records.length + 1, 'the rewritten list decodes');
      // manifest_length is in the list, not checked against the list's own size.
      await assert.rejects(checkTable(tableDir, conn, { deep: false, python: false }), /is live twice/);
    } finally {
      writeFileSync(listPath, original);
    }
    await checkTable(tableDir, conn, { deep: false, python: false });
  }));
});
