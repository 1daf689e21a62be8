// `lakehose backfill --export` against DynamoDB exports written by tests/lib/ddb_export.mjs
// (AWS's documented layout, items marshalled by @aws-sdk/util-dynamodb):
//   - a full export of items of every type into a JSON Lines lake: every item once, each
//     value equal to the oracle's (unmarshall with wrapNumbers, tests/lib/ddb_values.mjs),
//     DuckDB counting the same; a second run stores nothing (all "done earlier");
//   - the same export into Parquet, read by DuckDB: every item once;
//   - an incremental export (inserts, updates, deletes) with its write times: INSERT /
//     MODIFY / REMOVE per key, the change's time as the record's;
//   - a damaged data file (a flipped byte, a truncated copy, a line dropped with the MD5
//     fixed) stops the backfill naming the file, and nothing of that file is written;
//     ION refused with how to export as DYNAMODB_JSON; --target refused;
//   - kill -9 during a backfill, three times, then runs to the end: every item exactly
//     once, in a JSON Lines lake and in an Iceberg table (checkTable, DuckDB, icebird).
//
//   node tests/backfill/export.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--items 12000] [--kills 3] [--seed N] [--keep]

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import zlib from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';
import { parse as losslessParse } from 'lossless-json';

import { compareMap } from '../lib/ddb_values.mjs';
import {
  corruptDataFile, dataFileLines, incrementalLines, itemKey, makeItems, oracleOf, rewriteDataFile, truncateDataFile, typedOf, updatedItem,
  writeExport,
} from '../lib/ddb_export.mjs';
import { ServerProcess, WorkDir, exitWhenDone, run, serverEnv, sleep, suiteArgs } from '../lib/harness.mjs';
import { checkTable, currentRecords, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { listFiles, objectKey, readLake } from '../lib/lake.mjs';
import { TEST_REGION, assertFrontAccepted, startS3Front } from '../lib/s3_front.mjs';

exitWhenDone();

const { args, cliBin: CLI, serverBin: SERVER } = suiteArgs({
  options: { items: { type: 'string' }, kills: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--items 12000] [--kills 3] [--seed N] [--keep]',
});
const ITEMS = Number(args.items ?? 12_000);
const KILLS = Number(args.kills ?? 3);
const SEED = Number(args.seed ?? (Date.now() % 1_000_000));
const RUN_MS = 240_000;

const work = new WorkDir('lakehose-backfill-export-', { keep: args.keep });

// A config with one pipeline per case; documents carry _eventID, _eventName, the change's
// time and (stream records) its sequence number.
function configFor(dir, pipelines) {
  mkdirSync(dir, { recursive: true });
  const lines = ['server:', `  data_dir: ${JSON.stringify(join(dir, 'var'))}`, 'pipelines:'];
  for (const p of pipelines) {
    lines.push(`  - name: ${p.name}`, '    image: new-or-old', '    metadata: [eventID, eventName, ApproximateCreationDateTime, SequenceNumber]');
    if (p.format !== 'iceberg') lines.push(`    prefix: "${p.name}/year=!{timestamp:yyyy}/"`, `    error_prefix: "${p.name}-errors/"`);
    lines.push('    destination:', '      kind: file', `      path: ${JSON.stringify(join(dir, 'lake'))}`, `      format: ${p.format}`,
      `      buffering: { size_mb: ${p.sizeMb ?? 0.2}, interval_s: 60 }`);
    if (p.format === 'iceberg') lines.push(`      iceberg: { table: backfill.${p.name} }`);
  }
  const path = join(dir, 'lakehose.yaml');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const backfill = (cfg, pipeline, exportDir, extra = [], timeoutMs = RUN_MS) =>
  run(CLI, ['backfill', '--config', cfg, '--pipeline', pipeline, '--export', exportDir, '--progress-format', 'json', ...extra], { timeoutMs });

const ok = (r, what) => assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr.slice(-3000)}`);

// The documents of a JSON Lines pipeline: {docs: Map(eventID -> doc, lossless), counts}.
function readDocs(lakeDir, pipeline) {
  const docs = new Map();
  const counts = new Map();
  for (const f of listFiles(lakeDir)) {
    const key = objectKey(lakeDir, f);
    // A kill between writing an object's temporary file and linking it in place leaves
    // the hidden .<name>.<pid>-<n>.tmp behind: never an object (readers' globs skip it).
    if (!key.startsWith(`${pipeline}/`) || basename(f).startsWith('.')) continue;
    const text = zlib.gunzipSync(readFileSync(f)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const doc = losslessParse(line);
      const id = String(doc._eventID);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      docs.set(id, doc);
    }
  }
  return { docs, counts };
}

// The expected eventIDs of an export: <export id>:<file index>:<line number>.
function expectedIds(exp) {
  const ids = [];
  exp.files.forEach((f, i) => { for (let n = 1; n <= f.itemCount; n++) ids.push(`${exp.exportId}:${i}:${n}`); });
  return ids;
}

function assertOnce(counts, ids, what) {
  const missing = ids.filter((id) => !counts.has(id));
  const dup = [...counts].filter(([, n]) => n > 1);
  const strangers = [...counts.keys()].filter((id) => !ids.includes(id));
  assert.deepEqual({ missing: missing.slice(0, 5), nMissing: missing.length, dup: dup.slice(0, 5), nDup: dup.length, strangers: strangers.slice(0, 5) },
    { missing: [], nMissing: 0, dup: [], nDup: 0, strangers: [] }, `${what}: every item exactly once`);
}

async function duck(fn) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson(), conn);
  } finally {
    conn.closeSync?.();
    instance.closeSync?.();
  }
}

describe(`lakehose backfill --export (${ITEMS} items, seed ${SEED})`, { timeout: 20 * 60_000 }, () => {
  after(() => work.close());
  const items = makeItems(ITEMS, SEED, { sortKey: true });

  it('a full export into JSON Lines: every item once, every value as the oracle reads it; a second run stores nothing', async () => {
    const dir = join(work.path, 'full');
    const exp = await writeExport(join(dir, 'bucket'), { items, filesCount: 6, emptyFiles: 1, emptyFileForm: 'zero-bytes', gzipMembers: 2, seed: SEED });
    const cfg = configFor(dir, [{ name: 'full', format: 'jsonl' }]);
    const r = await backfill(cfg, 'full', exp.exportDir, ['--json', '--threads', '3']);
    ok(r, 'backfill');
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.items, ITEMS, 'items read');
    assert.equal(summary.records_ok, ITEMS, 'records written');
    assert.equal(summary.units_total, 7, 'data files (one empty)');
    assert.ok(r.stderr.split('\n').some((l) => l.startsWith('{"event":"backfill.progress"')), 'JSON progress lines on stderr');

    const { docs, counts } = readDocs(join(dir, 'lake'), 'full');
    const ids = expectedIds(exp);
    assertOnce(counts, ids, 'the lake');
    // Each document against the oracle's reading of its exported line.
    const mismatches = [];
    for (let f = 0; f < exp.files.length; f++) {
      const lines = exp.files[f].itemCount ? await dataFileLines(exp.exportDir, f) : [];
      lines.forEach((line, i) => {
        const doc = docs.get(`${exp.exportId}:${f}:${i + 1}`);
        const ours = Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_')));
        compareMap(line.Item, oracleOf(line.Item), ours, '', mismatches);
        if (doc._eventName !== 'INSERT') mismatches.push({ path: '_eventName', reason: doc._eventName });
      });
    }
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} values differ from the oracle's`);
    const lake = await readLake({ root: join(dir, 'lake'), pipeline: 'full' });
    assert.deepEqual(lake.unexpected, [], 'only the pipeline\'s objects');
    await duck(async (q) => {
      const [row] = await q(`SELECT count(*) AS n, count(DISTINCT "_eventID") AS d FROM read_json_auto('${join(dir, 'lake')}/full/**/*.jsonl.gz', format = 'newline_delimited', union_by_name = true)`);
      assert.deepEqual([Number(row.n), Number(row.d)], [ITEMS, ITEMS], 'DuckDB: rows and distinct eventIDs');
    });

    const again = await backfill(cfg, 'full', exp.exportDir, ['--json']);
    ok(again, 'the second run');
    const s2 = JSON.parse(again.stdout);
    assert.deepEqual([s2.units_skipped, s2.objects_stored, s2.items], [7, 0, 0], 'the second run: every data file done earlier');
    // Without the progress file the objects are found stored: still nothing twice.
    const third = await backfill(cfg, 'full', exp.exportDir, ['--json', '--progress', join(dir, 'other.progress')]);
    ok(third, 'a run with a new progress file');
    const s3 = JSON.parse(third.stdout);
    assert.equal(s3.objects_stored, 0, 'nothing stored again');
    assert.ok(s3.objects_existing > 0, 'the objects were found stored');
    assertOnce(readDocs(join(dir, 'lake'), 'full').counts, ids, 'the lake after three runs');
  });

  it('an export in S3 (s3rver behind the verifying front, with faults): every item once', async () => {
    const dir = join(work.path, 's3');
    const local = join(dir, 'local');
    const exp = await writeExport(local, { items: items.slice(0, 2000), filesCount: 4, s3Bucket: 'exports', s3Prefix: 'ddb/orders', seed: SEED + 50 });
    const front = await startS3Front({ buckets: ['exports'] });
    work.defer(() => front.close());
    // Uploaded straight to s3rver (it takes unsigned requests); read through the front.
    for (const f of listFiles(local)) {
      const key = objectKey(local, f);
      const res = await fetch(`${front.s3rverEndpoint}/exports/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'PUT', body: readFileSync(f) });
      assert.ok(res.ok, `PUT ${key}: ${res.status}`);
    }
    front.setFaults({ slowDown: 0.1, internalError: 0.05, reset: 0.05, seed: SEED });
    const cfg = configFor(dir, [{ name: 'froms3', format: 'jsonl' }]);
    const prefix = exp.exportDir.slice(local.length + 1);
    const env = serverEnv(dir);
    const r = await run(CLI, ['backfill', '--config', cfg, '--pipeline', 'froms3', '--export', `s3://exports/${prefix}/`,
      '--endpoint', front.endpoint, '--region', TEST_REGION, '--progress-format', 'json', '--json'], { env, timeoutMs: RUN_MS });
    ok(r, 'backfill from S3');
    const st = front.stats();
    assertFrontAccepted(st);
    assert.ok((st.byOperation.GetObject ?? 0) >= 6, `the manifests and data files were read through the front: ${JSON.stringify(st.byOperation)}`);
    assert.equal(JSON.parse(r.stdout).items, 2000);
    assertOnce(readDocs(join(dir, 'lake'), 'froms3').counts, expectedIds(exp), 'the lake');
  });

  it('the same export into Parquet: DuckDB reads every item once', async () => {
    const dir = join(work.path, 'parquet');
    const exp = await writeExport(join(dir, 'bucket'), { items, filesCount: 4, seed: SEED + 1 });
    const cfg = configFor(dir, [{ name: 'pq', format: 'parquet' }]);
    ok(await backfill(cfg, 'pq', exp.exportDir), 'backfill');
    await duck(async (q) => {
      const src = `read_parquet('${join(dir, 'lake')}/pq/**/*.parquet', union_by_name = true)`;
      const [row] = await q(`SELECT count(*) AS n, count(DISTINCT "_eventID") AS d, count(DISTINCT pk || '|' || CAST(sk AS VARCHAR)) AS k FROM ${src}`);
      assert.deepEqual([Number(row.n), Number(row.d), Number(row.k)], [ITEMS, ITEMS, ITEMS], 'rows, distinct eventIDs, distinct keys');
      const ids = new Set((await q(`SELECT "_eventID" AS id FROM ${src}`)).map((x) => x.id));
      for (const id of expectedIds(exp)) assert.ok(ids.has(id), `${id} in the Parquet lake`);
    });
  });

  it('an incremental export: INSERT, MODIFY, REMOVE per key at each write time', async () => {
    const dir = join(work.path, 'incremental');
    const before = items.slice(0, 600);
    const after = [...before.slice(0, 200), ...before.slice(200, 400).map((it, i) => updatedItem(it, SEED + i)), ...items.slice(600, 800)];
    const fromMs = Date.UTC(2026, 0, 2, 2);
    const toMs = Date.UTC(2026, 0, 2, 3);
    const changes = incrementalLines({ before, after, keyNames: ['pk', 'sk'], fromMs, toMs, seed: SEED });
    const exp = await writeExport(join(dir, 'bucket'), { type: 'incremental', lines: changes.lines, filesCount: 3, fromTime: fromMs, toTime: toMs, seed: SEED + 2 });
    const cfg = configFor(dir, [{ name: 'inc', format: 'jsonl' }]);
    ok(await backfill(cfg, 'inc', exp.exportDir), 'backfill');
    const { docs, counts } = readDocs(join(dir, 'lake'), 'inc');
    assertOnce(counts, expectedIds(exp), 'the lake');
    const names = { INSERT: 0, MODIFY: 0, REMOVE: 0 };
    const mismatches = [];
    for (let f = 0; f < exp.files.length; f++) {
      (await dataFileLines(exp.exportDir, f)).forEach((line, i) => {
        const doc = docs.get(`${exp.exportId}:${f}:${i + 1}`);
        const want = line.NewImage ? (line.OldImage ? 'MODIFY' : 'INSERT') : 'REMOVE';
        names[String(doc._eventName)]++;
        assert.equal(doc._eventName, want, `line ${f}:${i + 1}: eventName`);
        // The write time, in ms rounded as the transform rounds fractional seconds.
        const micros = Number(line.Metadata.WriteTimestampMicros.N);
        const ms = Number(String(doc._ApproximateCreationDateTime));
        assert.ok(Math.abs(ms - micros / 1000) <= 0.5 + 1e-6, `line ${f}:${i + 1}: the write time ${micros} us, got ${ms} ms`);
        const image = line.NewImage ?? line.OldImage;
        const ours = Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_')));
        compareMap(image, oracleOf(image), ours, `${f}:${i + 1}`, mismatches);
      });
    }
    assert.deepEqual(mismatches.slice(0, 5), [], 'values as the oracle reads them');
    assert.deepEqual(names, { INSERT: changes.inserted, MODIFY: changes.updated, REMOVE: changes.deleted }, 'the changes');
  });

  it('a damaged data file stops the backfill naming it, with nothing of it written; ION and --target are refused', async () => {
    const dir = join(work.path, 'damaged');
    const cfg = configFor(dir, [{ name: 'dmg', format: 'jsonl' }]);
    const cases = [
      ['a flipped byte', (e) => corruptDataFile(e, 1), /data file 1 .*MD5/s],
      ['a truncated copy', (e) => truncateDataFile(e, 1), /data file 1 .*MD5/s],
      ['a line dropped (MD5 fixed)', async (e) => rewriteDataFile(e, 1, (await dataFileLines(e, 1)).slice(1)), /data file 1 .*items, manifest-files.json says/s],
    ];
    for (const [i, [what, damage, message]] of cases.entries()) {
      const exp = await writeExport(join(dir, `bucket${i}`), { items: items.slice(0, 900), filesCount: 3, seed: SEED + 10 + i });
      await damage(exp.exportDir);
      const r = await backfill(cfg, 'dmg', exp.exportDir, ['--threads', '1']);
      assert.equal(r.code, 1, `${what}: exit 1\n${r.stderr}`);
      assert.match(r.stderr, message, `${what}: the message names the file and the damage`);
      const fileOne = listFiles(join(dir, 'lake')).filter((f) => basename(f).includes(`backfill-${exp.exportId}-00000000020`));
      assert.deepEqual(fileOne, [], `${what}: nothing of data file 1 written`);
    }
    const ion = await writeExport(join(dir, 'ion'), { items: items.slice(0, 10), outputFormat: 'ION', seed: SEED + 20 });
    const r = await backfill(cfg, 'dmg', ion.exportDir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DYNAMODB_JSON/, 'ION: how to export as DYNAMODB_JSON');
    const t = await run(CLI, ['backfill', '--config', cfg, '--pipeline', 'dmg', '--export', ion.exportDir, '--target', '127.0.0.1:1']);
    assert.equal(t.code, 2, '--target: a usage error');
    assert.match(t.stderr, /runs in this process/);
  });

  it('the hand-over: the stream from before the export, the export backfilled, the README\'s view gives the table as it is', async () => {
    const dir = join(work.path, 'handover');
    const cfg = configFor(dir, [{ name: 'orders', format: 'jsonl' }]);
    const T = Date.UTC(2026, 0, 2, 3, 0, 0);  // the export's time
    const min = 60_000;
    const start = items.slice(0, 400);
    // The stream runs from before the export: changes before T (also in the export) and
    // after it (only in the stream). Keys 0-49 change before T; 40-99 after (40-49 both);
    // 100-129 are deleted after T; 30 items are new after T.
    const atT = start.map((it, i) => (i < 50 ? updatedItem(it, SEED + 1000 + i) : it));
    const final = new Map(atT.map((it) => [itemKey(it, ['pk', 'sk']), it]));
    const stream = [];
    let seq = 1000n;
    const record = (eventName, time, keys, newImage, oldImage) => {
      seq += 17n;
      const dynamodb = { ApproximateCreationDateTime: time / 1000, Keys: typedOf(keys), SequenceNumber: String(seq), StreamViewType: 'NEW_AND_OLD_IMAGES' };
      if (newImage) dynamodb.NewImage = typedOf(newImage);
      if (oldImage) dynamodb.OldImage = typedOf(oldImage);
      stream.push({ eventID: `stream-${seq}`, eventName, eventSource: 'aws:dynamodb', awsRegion: 'us-east-1', dynamodb });
    };
    const keysOfItem = (it) => ({ pk: it.pk, sk: it.sk });
    for (let i = 0; i < 50; i++) record('MODIFY', T - 10 * min + i, keysOfItem(start[i]), atT[i], start[i]);
    for (let i = 40; i < 100; i++) {
      const after = updatedItem(atT[i], SEED + 2000 + i);
      record('MODIFY', T + 5 * min + i, keysOfItem(after), after, atT[i]);
      final.set(itemKey(after, ['pk', 'sk']), after);
    }
    for (let i = 100; i < 130; i++) {
      record('REMOVE', T + 6 * min + i, keysOfItem(atT[i]), null, atT[i]);
      final.delete(itemKey(atT[i], ['pk', 'sk']));
    }
    for (const it of makeItems(30, SEED + 3000, { sortKey: true, pkPrefix: 'new' })) {
      record('INSERT', T + 7 * min, keysOfItem(it), it, null);
      final.set(itemKey(it, ['pk', 'sk']), it);
    }
    // (1) The stream into the server.
    const streamFile = join(dir, 'stream.jsonl');
    writeFileSync(streamFile, stream.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const server = new ServerProcess(SERVER, { dir, configPath: cfg, env: serverEnv(dir) });
    try {
      await server.waitForPort();
      ok(await run(CLI, ['send', '--target', server.target, '--pipeline', 'orders', '--input', streamFile]), 'send');
      ok(await run(CLI, ['flush', '--target', server.target, '--pipeline', 'orders']), 'flush');
      await server.stop();
    } finally {
      await server.kill();
    }
    // (2) The export at T, (3) backfilled into the same pipeline.
    const exp = await writeExport(join(dir, 'bucket'), { items: atT, filesCount: 2, exportTime: T, seed: SEED + 40 });
    ok(await backfill(cfg, 'orders', exp.exportDir), 'backfill');
    // (4) The README's view, as written there, over this lake.
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sql = /```sql\n(CREATE VIEW orders_current AS[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(sql, 'the README has the view');
    await duck(async (q) => {
      await q(sql.replace("'lake/orders/**/*.jsonl.gz'", `'${join(dir, 'lake')}/orders/**/*.jsonl.gz'`));
      // DuckDB infers sk (numbers up to 38 digits) as DOUBLE; the four sort keys stay apart.
      const rows = await q('SELECT pk, CAST(sk AS DOUBLE) AS sk, s, "_eventID" AS id FROM orders_current');
      assert.equal(rows.length, final.size, 'one row per key the table holds now');
      const byDouble = new Map([...final.values()].map((it) => [`${it.pk}/${Number(it.sk.value ?? it.sk)}`, it]));
      const mismatches = [];
      for (const row of rows) {
        const want = byDouble.get(`${row.pk}/${Number(row.sk)}`);
        if (!want) mismatches.push(`${row.pk}/${row.sk}: not in the table`);
        else if (row.s !== want.s) mismatches.push(`${row.pk}/${row.sk}: s ${JSON.stringify(row.s)}, the table has ${JSON.stringify(want.s)} (${row.id})`);
      }
      assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} rows differ from the table`);
    });
  });

  for (const format of ['jsonl', 'iceberg']) {
    it(`kill -9 during a backfill (${KILLS} times) into ${format}, then to the end: every item exactly once`, async (t) => {
      const dir = join(work.path, `kill-${format}`);
      const exp = await writeExport(join(dir, 'bucket'), { items, filesCount: 24, seed: SEED + 30 });
      const cfg = configFor(dir, [{ name: `k${format}`, format, sizeMb: 0.05 }]);
      const argv = ['backfill', '--config', cfg, '--pipeline', `k${format}`, '--export', exp.exportDir, '--progress-format', 'json',
        '--progress-interval', '1', '--threads', '2', '--commit-every', '2'];
      const progressPath = join(dir, 'var', 'backfill', `k${format}-backfill-${exp.exportId}.progress`);
      let killed = 0;
      for (let k = 0; k < KILLS; k++) {
        const child = spawn(CLI, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => { err += d; });
        const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
        // Killed once the progress file has recorded ~k/KILLS of the data files, a few
        // ms later (mid-file, mid-store, between a commit and its progress line), or, on
        // the last kill, in start-up.
        const wantUnits = Math.floor(((k + 1) * exp.files.length) / (KILLS + 2));
        const extraMs = (SEED * 7 + k * 331) % 15;
        const deadline = Date.now() + RUN_MS;
        let first = null;
        while (!first && Date.now() < deadline) {
          const text = existsSync(progressPath) ? readFileSync(progressPath, 'utf8') : '';
          const done = text.split('\n').filter((l) => l.startsWith('{"unit"')).length;
          if (done >= wantUnits) break;
          first = await Promise.race([exited, sleep(2).then(() => null)]);
        }
        if (!first) first = await Promise.race([exited, sleep(extraMs).then(() => null)]);
        const wait = `${wantUnits} data files done + ${extraMs} ms`;
        if (first) {
          t.diagnostic(`run ${k} ended before its kill (${JSON.stringify(first)})`);
          break;
        }
        child.kill('SIGKILL');
        await exited;
        killed++;
        t.diagnostic(`run ${k}: killed after ${wait}; ${err.split('\n').filter((l) => l.includes('backfill.progress')).at(-1) ?? 'no progress yet'}`);
      }
      const r = await run(CLI, [...argv, '--json'], { timeoutMs: RUN_MS });
      ok(r, 'the last run');
      const s = JSON.parse(r.stdout);
      assert.equal(killed, KILLS, 'every run was killed before it ended');
      t.diagnostic(`${killed} kills; the last run: ${s.units_skipped} data files done earlier, ${s.objects_existing} objects found stored, ${s.objects_stored} stored, ${s.commits} commits`);
      const ids = expectedIds(exp);
      if (format === 'jsonl') {
        assertOnce(readDocs(join(dir, 'lake'), `k${format}`).counts, ids, 'the lake');
        return;
      }
      const tableDir = join(dir, 'lake', 'backfill', `k${format}`);
      assert.ok(existsSync(join(tableDir, 'metadata')), 'the table exists');
      await duck(async (q, conn) => {
        const checked = await checkTable(tableDir, conn, { deep: false, python: false });
        const recs = await currentRecords(checked, conn);
        assertOnce(recs.counts, ids, 'the table\'s current snapshot');
        for (const snap of checked.meta.current.snapshots) {
          assert.equal(snap.summary['lakehose.backfill.source'], exp.exportArn, 'each snapshot names the export');
          assert.equal(snap.summary['lakehose.writer-id'], `backfill-${exp.exportId}`, 'and the backfill as its writer');
        }
        const version = readFileSync(join(tableDir, 'metadata', 'version-hint.text'), 'utf8').trim();
        const rows = await withTableServer(join(dir, 'lake'), tableDir, ({ tableUrl }) => readWithIcebird(tableUrl, `v${version}.metadata.json`));
        assert.equal(new Set(rows.map((x) => x._eventID)).size, ITEMS, 'icebird: every item');
        assert.equal(rows.length, ITEMS, 'icebird: no row twice');
      });
    });
  }
});
